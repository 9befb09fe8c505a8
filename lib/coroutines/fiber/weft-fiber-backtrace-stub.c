/* TEMP backtrace stub: stands in for part D until it lands.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-fiber-backtrace-private.h"

GArray *
weft_fiber_capture_backtrace (WeftFiber  *fiber,
                              GError    **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       "built without libunwind");
  return NULL;
}

const char *
weft_fiber_backtrace_backend (void)
{
  return "none";
}
