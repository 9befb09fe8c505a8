/* weft-priority-queue.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-priority-queue.h"
#include "weft-queue-private.h"

/**
 * WeftPriorityQueue:
 *
 * A #WeftQueue that hands out its items lowest priority first: asyncio's
 * PriorityQueue, whose entries are usually `(priority, data)` tuples.
 *
 * The priority is a separate 64-bit integer given to
 * weft_priority_queue_put(); items of equal priority come out in the
 * order they were put (asyncio compares the data next, which C cannot).
 * weft_queue_put() puts with priority 0.
 */

struct _WeftPriorityQueue
{
  WeftQueue parent_instance;
};

G_DEFINE_FINAL_TYPE (WeftPriorityQueue, weft_priority_queue, WEFT_TYPE_QUEUE)

static void
weft_priority_queue_class_init (WeftPriorityQueueClass *klass)
{
}

static void
weft_priority_queue_init (WeftPriorityQueue *self)
{
}

/**
 * weft_priority_queue_new:
 * @maxsize: the most items the queue holds, or 0 for no limit
 *
 * Creates a priority queue that does not own its items.
 *
 * Returns: (transfer full): a new queue
 */
WeftPriorityQueue *
weft_priority_queue_new (guint maxsize)
{
  return weft_priority_queue_new_full (maxsize, NULL);
}

/**
 * weft_priority_queue_new_full: (skip)
 * @maxsize: the most items the queue holds, or 0 for no limit
 * @item_free_func: (nullable): frees the items the queue drops
 *
 * Creates a priority queue that owns its items.
 *
 * Returns: (transfer full): a new queue
 */
WeftPriorityQueue *
weft_priority_queue_new_full (guint          maxsize,
                              GDestroyNotify item_free_func)
{
  WeftPriorityQueue *self = g_object_new (WEFT_TYPE_PRIORITY_QUEUE, NULL);

  weft_queue_setup (WEFT_QUEUE (self), WEFT_QUEUE_ORDER_PRIORITY, maxsize, item_free_func);
  return self;
}

/**
 * weft_priority_queue_put:
 * @self: a priority queue
 * @priority: the item's priority; lower comes out first
 * @item: (transfer full) (nullable): the item
 *
 * weft_queue_put() with a priority.
 *
 * Returns: (transfer full): the future to await
 */
WeftFuture *
weft_priority_queue_put (WeftPriorityQueue *self,
                         gint64             priority,
                         gpointer           item)
{
  g_return_val_if_fail (WEFT_IS_PRIORITY_QUEUE (self), NULL);

  return weft_queue_put_with_priority (WEFT_QUEUE (self), priority, item);
}

/**
 * weft_priority_queue_put_nowait:
 * @self: a priority queue
 * @priority: the item's priority; lower comes out first
 * @item: (nullable): the item; the queue owns it on success
 * @error: return location for an error
 *
 * weft_queue_put_nowait() with a priority.
 *
 * Returns: %TRUE, or %FALSE with %WEFT_ERROR_QUEUE_FULL or
 *   %WEFT_ERROR_QUEUE_SHUT_DOWN, the caller keeping @item
 */
gboolean
weft_priority_queue_put_nowait (WeftPriorityQueue  *self,
                                gint64              priority,
                                gpointer            item,
                                GError            **error)
{
  g_return_val_if_fail (WEFT_IS_PRIORITY_QUEUE (self), FALSE);

  return weft_queue_put_nowait_with_priority (WEFT_QUEUE (self), priority, item, error);
}
