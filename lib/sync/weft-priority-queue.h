/* weft-priority-queue.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include "sync/weft-queue.h"

G_BEGIN_DECLS

#define WEFT_TYPE_PRIORITY_QUEUE (weft_priority_queue_get_type ())

G_DECLARE_FINAL_TYPE (WeftPriorityQueue, weft_priority_queue, WEFT, PRIORITY_QUEUE, WeftQueue)

WeftPriorityQueue *weft_priority_queue_new          (guint               maxsize);
WeftPriorityQueue *weft_priority_queue_new_full     (guint               maxsize,
                                                     GDestroyNotify      item_free_func);
WeftFuture        *weft_priority_queue_put          (WeftPriorityQueue  *self,
                                                     gint64              priority,
                                                     gpointer            item);
gboolean           weft_priority_queue_put_nowait   (WeftPriorityQueue  *self,
                                                     gint64              priority,
                                                     gpointer            item,
                                                     GError            **error);

G_END_DECLS
