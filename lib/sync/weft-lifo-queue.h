/* weft-lifo-queue.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include "sync/weft-queue.h"

G_BEGIN_DECLS

#define WEFT_TYPE_LIFO_QUEUE (weft_lifo_queue_get_type ())

G_DECLARE_FINAL_TYPE (WeftLifoQueue, weft_lifo_queue, WEFT, LIFO_QUEUE, WeftQueue)

WeftQueue *weft_lifo_queue_new       (guint          maxsize);
WeftQueue *weft_lifo_queue_new_full  (guint          maxsize,
                                      GDestroyNotify item_free_func);

G_END_DECLS
