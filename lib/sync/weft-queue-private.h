/* weft-queue-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "weft-queue.h"

G_BEGIN_DECLS

/* Which item a get takes. */
typedef enum
{
  WEFT_QUEUE_ORDER_FIFO,
  WEFT_QUEUE_ORDER_LIFO,
  WEFT_QUEUE_ORDER_PRIORITY,   /* lowest priority first; FIFO among equals */
} WeftQueueOrder;

G_GNUC_INTERNAL
void        weft_queue_setup        (WeftQueue       *self,
                                     WeftQueueOrder   order,
                                     guint            maxsize,
                                     GDestroyNotify   item_free_func);
G_GNUC_INTERNAL
WeftFuture *weft_queue_put_with_priority (WeftQueue  *self,
                                          gint64      priority,
                                          gpointer    item);
G_GNUC_INTERNAL
gboolean    weft_queue_put_nowait_with_priority (WeftQueue  *self,
                                                 gint64      priority,
                                                 gpointer    item,
                                                 GError    **error);

G_END_DECLS
