/* weft-to-thread.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include <gio/gio.h>

#include "core/weft-future.h"

G_BEGIN_DECLS

/**
 * WeftThreadFunc:
 * @cancellable: cancelled when the future weft_to_thread() returned is
 *   cancelled: check it to stop early
 * @result: (out caller-allocates): an uninitialized #GValue; set it to the
 *   function's value, or leave it unset for none
 * @user_data: the data given to weft_to_thread()
 * @error: return location for the function's error
 *
 * A blocking function run on a worker thread by weft_to_thread().
 *
 * Returns: %TRUE on success, %FALSE with @error set on failure
 */
typedef gboolean (*WeftThreadFunc) (GCancellable  *cancellable,
                                    GValue        *result,
                                    gpointer       user_data,
                                    GError       **error);

WeftFuture *weft_to_thread (WeftThreadFunc  func,
                            gpointer        user_data,
                            GDestroyNotify  notify);

G_END_DECLS
