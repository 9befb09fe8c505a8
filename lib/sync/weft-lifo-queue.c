/* weft-lifo-queue.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-lifo-queue.h"
#include "weft-queue-private.h"

/**
 * WeftLifoQueue:
 *
 * A #WeftQueue that hands out the most recently put item first: asyncio's
 * LifoQueue.
 */

struct _WeftLifoQueue
{
  WeftQueue parent_instance;
};

G_DEFINE_FINAL_TYPE (WeftLifoQueue, weft_lifo_queue, WEFT_TYPE_QUEUE)

static void
weft_lifo_queue_class_init (WeftLifoQueueClass *klass)
{
}

static void
weft_lifo_queue_init (WeftLifoQueue *self)
{
}

/**
 * weft_lifo_queue_new:
 * @maxsize: the most items the queue holds, or 0 for no limit
 *
 * Creates a LIFO queue that does not own its items.
 *
 * Returns: (transfer full): a new #WeftLifoQueue
 */
WeftQueue *
weft_lifo_queue_new (guint maxsize)
{
  return weft_lifo_queue_new_full (maxsize, NULL);
}

/**
 * weft_lifo_queue_new_full: (skip)
 * @maxsize: the most items the queue holds, or 0 for no limit
 * @item_free_func: (nullable): frees the items the queue drops
 *
 * Creates a LIFO queue that owns its items.
 *
 * Returns: (transfer full): a new #WeftLifoQueue
 */
WeftQueue *
weft_lifo_queue_new_full (guint          maxsize,
                          GDestroyNotify item_free_func)
{
  WeftQueue *self = g_object_new (WEFT_TYPE_LIFO_QUEUE, NULL);

  weft_queue_setup (self, WEFT_QUEUE_ORDER_LIFO, maxsize, item_free_func);
  return self;
}
