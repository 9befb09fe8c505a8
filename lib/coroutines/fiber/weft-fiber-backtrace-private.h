/* weft-fiber-backtrace-private.h: the native stack of a suspended fiber
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "weft-fiber.h"
#include "weft-fiber-context-private.h"

G_BEGIN_DECLS

/* Called on @fiber's thread while it is suspended. The code addresses of
 * its frames, innermost first, as guint64: the first is where the fiber
 * resumes, the others are return addresses. %G_IO_ERROR_BUSY unless
 * @fiber is suspended; %G_IO_ERROR_NOT_SUPPORTED without libunwind (not
 * built with it, or libunwind.so.8 missing at run time). The first call
 * loads libunwind.
 */
GArray     *weft_fiber_capture_backtrace  (WeftFiber  *fiber,
                                           GError    **error);

/* "libunwind", or "none" when weft_fiber_capture_backtrace() always fails.
 * May load libunwind to find out.
 */
const char *weft_fiber_backtrace_backend  (void);

/* In weft-fiber.c: the context @fiber resumes from, or %NULL unless it
 * is suspended (not started, running or done).
 */
const WeftFiberContext *weft_fiber_peek_suspended_context (WeftFiber *fiber);

G_END_DECLS
