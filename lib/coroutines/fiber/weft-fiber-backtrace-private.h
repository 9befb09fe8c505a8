/* weft-fiber-backtrace-private.h: a suspended fiber's native stack
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "weft-fiber.h"

G_BEGIN_DECLS

GArray     *weft_fiber_capture_backtrace (WeftFiber  *fiber,
                                          GError    **error);
const char *weft_fiber_backtrace_backend (void);

G_END_DECLS
