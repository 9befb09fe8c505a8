/* weft-gio.h
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

WeftFuture *weft_future_new_wrapping          (GCancellable *cancellable);
void        weft_future_async_ready_callback  (GObject      *source_object,
                                               GAsyncResult *result,
                                               gpointer      user_data);

G_END_DECLS
