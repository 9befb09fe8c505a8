/* weft-queue.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-error-private.h"
#include "weft-event.h"
#include "weft-queue-private.h"
#include "weft-waiter-private.h"

/**
 * WeftQueue:
 *
 * A first-in, first-out queue for tasks: asyncio's Queue.
 *
 * Items are pointers. weft_queue_put() and weft_queue_get() give futures
 * that wait while the queue is full or empty; the `_nowait` variants fail
 * instead, with %WEFT_ERROR_QUEUE_FULL or %WEFT_ERROR_QUEUE_EMPTY.
 * Waiting tasks are served in the order they came: an item put while
 * tasks wait goes straight to the first of them, and a get that makes
 * room moves the first waiting put's item in. As in asyncio, an item
 * handed to a waiting get counts in weft_queue_get_size() and
 * weft_queue_is_full() until the task awaiting it resumes, and an
 * immediate shutdown before then drains it (the get then fails with
 * %WEFT_ERROR_QUEUE_SHUT_DOWN). Unlike asyncio, the item is reserved for
 * that get: weft_queue_get_nowait() and new gets do not take it, so
 * weft_queue_get_nowait() may fail with %WEFT_ERROR_QUEUE_EMPTY while
 * weft_queue_is_empty() is %FALSE.
 *
 * A get waiter that is cancelled takes nothing; one that was handed an
 * item but is cancelled before it resumes puts the item back at the head
 * of the queue, for the next getter: no item is lost, and its future then
 * reads cancelled rather than holding the item. A put waiter that is
 * cancelled before its item went in frees the item. Unlike asyncio, a put
 * whose item was moved in (a get made room) stays done even if its task
 * is cancelled before it resumes: the item may already have been taken.
 *
 * weft_queue_shutdown() (Python 3.13) makes puts fail with
 * %WEFT_ERROR_QUEUE_SHUT_DOWN, and gets too once the queue is empty; an
 * immediate shutdown also drops the items left.
 *
 * weft_queue_task_done() and weft_queue_join() count the items not yet
 * processed, as in asyncio.
 *
 * The queue owns the items it holds: those it drops are freed with the
 * function given to weft_queue_new_full(). A get passes ownership of its
 * item to the task that awaits it, and a put gives its item to the queue
 * (freed on failure). A queue belongs to the thread that runs its
 * #GMainContext.
 */

typedef struct
{
  gpointer item;
  gint64   priority;
  guint64  seq;
} Entry;

typedef struct
{
  WeftWaitList    getters;
  WeftWaitList    putters;
  Entry          *entries;       /* a ring (FIFO), a stack (LIFO) or a heap */
  gsize           capacity;      /* a power of two, or 0 */
  gsize           first;         /* of the ring */
  gsize           length;
  guint           maxsize;       /* 0: unbounded */
  guint64         next_seq;
  guint           unfinished;
  guint           reserved;      /* items handed to getters not resumed yet */
  WeftEvent      *finished;
  GDestroyNotify  item_free_func;
  WeftQueueOrder  order;
  gboolean        shut_down;
  gboolean        drained;       /* shut down immediately */
} WeftQueuePrivate;

G_DEFINE_TYPE_WITH_PRIVATE (WeftQueue, weft_queue, G_TYPE_OBJECT)

/* Storage */

static inline gboolean
entry_before (const Entry *a,
              const Entry *b)
{
  return a->priority < b->priority || (a->priority == b->priority && a->seq < b->seq);
}

static void
heap_sift_up (Entry *heap,
              gsize  i)
{
  Entry entry = heap[i];

  while (i > 0 && entry_before (&entry, &heap[(i - 1) / 2]))
    {
      heap[i] = heap[(i - 1) / 2];
      i = (i - 1) / 2;
    }
  heap[i] = entry;
}

static void
heap_sift_down (Entry *heap,
                gsize  length,
                gsize  i)
{
  Entry entry = heap[i];

  for (;;)
    {
      gsize child = 2 * i + 1;

      if (child >= length)
        break;
      if (child + 1 < length && entry_before (&heap[child + 1], &heap[child]))
        child++;
      if (!entry_before (&heap[child], &entry))
        break;
      heap[i] = heap[child];
      i = child;
    }
  heap[i] = entry;
}

static void
store_reserve (WeftQueuePrivate *priv)
{
  gsize capacity;
  Entry *entries;

  if (priv->length < priv->capacity)
    return;

  capacity = MAX (priv->capacity * 2, 8);
  entries = g_new (Entry, capacity);
  for (gsize i = 0; i < priv->length; i++)
    entries[i] = priv->entries[(priv->first + i) & (priv->capacity - 1)];
  g_free (priv->entries);
  priv->entries = entries;
  priv->capacity = capacity;
  priv->first = 0;
}

static void
store_push (WeftQueuePrivate *priv,
            const Entry      *entry)
{
  store_reserve (priv);
  switch (priv->order)
    {
    case WEFT_QUEUE_ORDER_FIFO:
      priv->entries[(priv->first + priv->length) & (priv->capacity - 1)] = *entry;
      break;
    case WEFT_QUEUE_ORDER_LIFO:
      priv->entries[priv->length] = *entry;
      break;
    case WEFT_QUEUE_ORDER_PRIORITY:
      priv->entries[priv->length] = *entry;
      heap_sift_up (priv->entries, priv->length);
      break;
    default:
      g_assert_not_reached ();
    }
  priv->length++;
}

/* Puts back an entry that was the next one out. */
static void
store_push_front (WeftQueuePrivate *priv,
                  const Entry      *entry)
{
  if (priv->order != WEFT_QUEUE_ORDER_FIFO)
    {
      store_push (priv, entry);
      return;
    }
  store_reserve (priv);
  priv->first = (priv->first - 1) & (priv->capacity - 1);
  priv->entries[priv->first] = *entry;
  priv->length++;
}

static Entry
store_pop (WeftQueuePrivate *priv)
{
  Entry entry;

  g_assert (priv->length > 0);

  priv->length--;
  switch (priv->order)
    {
    case WEFT_QUEUE_ORDER_FIFO:
      entry = priv->entries[priv->first];
      priv->first = (priv->first + 1) & (priv->capacity - 1);
      break;
    case WEFT_QUEUE_ORDER_LIFO:
      entry = priv->entries[priv->length];
      break;
    case WEFT_QUEUE_ORDER_PRIORITY:
      entry = priv->entries[0];
      priv->entries[0] = priv->entries[priv->length];
      if (priv->length > 0)
        heap_sift_down (priv->entries, priv->length, 0);
      break;
    default:
      g_assert_not_reached ();
    }
  return entry;
}

/* Queueing logic */

static inline gboolean
is_full (WeftQueuePrivate *priv)
{
  return priv->maxsize > 0 && priv->length + priv->reserved >= priv->maxsize;
}

static void
free_item (WeftQueuePrivate *priv,
           gpointer          item)
{
  if (priv->item_free_func != NULL && item != NULL)
    priv->item_free_func (item);
}

static GError *
shut_down_error (void)
{
  return g_error_new_literal (WEFT_ERROR, WEFT_ERROR_QUEUE_SHUT_DOWN, "Queue is shut down");
}

/* Hands @entry to @getter, remembering it in case the getter's task drops
 * it.
 */
static void
serve (WeftWaiter  *getter,
       const Entry *entry)
{
  getter->item = entry->item;
  getter->number = entry->priority;
  getter->seq = entry->seq;
  weft_waiter_wake_pointer (getter, entry->item);
}

/* Its getter is about to resume: asyncio's get() takes the item out of
 * the queue only now, so until then it counts in qsize() and full(), and
 * an immediate shutdown drains it.
 */
static void
reserved_item_taken (WeftRunnable *runnable)
{
  WeftWaiter *getter = G_STRUCT_MEMBER_P (runnable, -G_STRUCT_OFFSET (WeftWaiter, resumed));
  WeftQueuePrivate *priv = weft_queue_get_instance_private (getter->owner);

  getter->reserved = FALSE;
  if (priv->drained)
    {
      free_item (priv, getter->item);
      getter->ops = NULL;
      weft_future_replace_outcome ((WeftFuture *) getter, shut_down_error ());
    }
  else
    priv->reserved--;
  g_object_unref (getter);
}

/* Wakes a waiting getter with @entry, which stays reserved in the queue
 * until the getter resumes: the runnable is queued ahead of its task.
 */
static void
serve_waiting (WeftQueuePrivate *priv,
               WeftWaiter       *getter,
               const Entry      *entry)
{
  priv->reserved++;
  getter->reserved = TRUE;
  getter->resumed.run = reserved_item_taken;
  weft_scheduler_push (weft_future_get_scheduler ((WeftFuture *) getter),
                       &g_object_ref (getter)->resumed);
  serve (getter, entry);
}

/* The body of asyncio's put_nowait(), once the checks passed. */
static void
add_item (WeftQueuePrivate *priv,
          gpointer          item,
          gint64            priority)
{
  Entry entry = { item, priority, priv->next_seq++ };

  if (priv->unfinished++ == 0)
    weft_event_clear (priv->finished);

  /* Getters wait only on an empty queue: the item is theirs. */
  if (priv->getters.head != NULL)
    serve_waiting (priv, priv->getters.head, &entry);
  else
    store_push (priv, &entry);
}

/* A get made room: the waiting puts' items go in, oldest first. */
static void
admit_putters (WeftQueuePrivate *priv)
{
  while (priv->putters.head != NULL && !is_full (priv))
    {
      WeftWaiter *putter = priv->putters.head;

      add_item (priv, putter->item, putter->number);
      weft_waiter_wake (putter, NULL, NULL);
    }
}

static gpointer
take_item (WeftQueuePrivate *priv,
           Entry            *entry)
{
  *entry = store_pop (priv);
  admit_putters (priv);
  return entry->item;
}

static void
finish_item (WeftQueuePrivate *priv)
{
  if (priv->unfinished > 0 && --priv->unfinished == 0)
    weft_event_set (priv->finished);
}

/* The get's future no longer holds the item: nobody may read it there. */
static void
getter_dropped (WeftWaiter *getter)
{
  WeftQueuePrivate *priv = weft_queue_get_instance_private (getter->owner);
  Entry entry = { getter->item, getter->number, getter->seq };

  weft_future_replace_outcome ((WeftFuture *) getter, weft_cancelled_error_new (NULL));
  if (priv->drained)
    {
      /* Drained by an immediate shutdown, as it would have been in the queue. */
      free_item (priv, entry.item);
      finish_item (priv);
      return;
    }
  store_push_front (priv, &entry);
  while (priv->getters.head != NULL && priv->length > 0)
    {
      Entry next = store_pop (priv);

      serve_waiting (priv, priv->getters.head, &next);
    }
}

static void
putter_cancelled (WeftWaiter *putter)
{
  free_item (weft_queue_get_instance_private (putter->owner), putter->item);
}

static const WeftWaiterOps getter_ops = {
  .dropped = getter_dropped,
};

static const WeftWaiterOps putter_ops = {
  .cancelled = putter_cancelled,
};

static void
weft_queue_finalize (GObject *object)
{
  WeftQueuePrivate *priv = weft_queue_get_instance_private (WEFT_QUEUE (object));

  while (priv->length > 0)
    free_item (priv, store_pop (priv).item);
  for (WeftWaiter *putter = priv->putters.head; putter != NULL; putter = putter->next)
    free_item (priv, putter->item);
  weft_wait_list_detach_all (&priv->putters);
  weft_wait_list_detach_all (&priv->getters);
  g_free (priv->entries);
  g_clear_object (&priv->finished);

  G_OBJECT_CLASS (weft_queue_parent_class)->finalize (object);
}

static void
weft_queue_class_init (WeftQueueClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = weft_queue_finalize;
}

static void
weft_queue_init (WeftQueue *self)
{
  WeftQueuePrivate *priv = weft_queue_get_instance_private (self);

  priv->finished = weft_event_new ();
  weft_event_set (priv->finished);
}

void
weft_queue_setup (WeftQueue      *self,
                  WeftQueueOrder  order,
                  guint           maxsize,
                  GDestroyNotify  item_free_func)
{
  WeftQueuePrivate *priv = weft_queue_get_instance_private (self);

  priv->order = order;
  priv->maxsize = maxsize;
  priv->item_free_func = item_free_func;
}

/**
 * weft_queue_new:
 * @maxsize: the most items the queue holds, or 0 for no limit
 *
 * Creates a FIFO queue that does not own its items.
 *
 * Returns: (transfer full): a new queue
 */
WeftQueue *
weft_queue_new (guint maxsize)
{
  return weft_queue_new_full (maxsize, NULL);
}

/**
 * weft_queue_new_full: (skip)
 * @maxsize: the most items the queue holds, or 0 for no limit
 * @item_free_func: (nullable): frees the items the queue drops
 *
 * Creates a FIFO queue that owns its items.
 *
 * Returns: (transfer full): a new queue
 */
WeftQueue *
weft_queue_new_full (guint          maxsize,
                     GDestroyNotify item_free_func)
{
  WeftQueue *self = g_object_new (WEFT_TYPE_QUEUE, NULL);

  weft_queue_setup (self, WEFT_QUEUE_ORDER_FIFO, maxsize, item_free_func);
  return self;
}

/**
 * weft_queue_get_maxsize:
 * @self: a queue
 *
 * asyncio's maxsize.
 *
 * Returns: the most items the queue holds, or 0 for no limit
 */
guint
weft_queue_get_maxsize (WeftQueue *self)
{
  WeftQueuePrivate *priv;

  g_return_val_if_fail (WEFT_IS_QUEUE (self), 0);

  priv = weft_queue_get_instance_private (self);
  return priv->maxsize;
}

/**
 * weft_queue_get_size:
 * @self: a queue
 *
 * asyncio's qsize().
 *
 * Returns: the number of items in the queue
 */
guint
weft_queue_get_size (WeftQueue *self)
{
  WeftQueuePrivate *priv;

  g_return_val_if_fail (WEFT_IS_QUEUE (self), 0);

  priv = weft_queue_get_instance_private (self);
  return priv->length + priv->reserved;
}

/**
 * weft_queue_is_empty:
 * @self: a queue
 *
 * asyncio's empty().
 *
 * Returns: %TRUE if the queue holds no item
 */
gboolean
weft_queue_is_empty (WeftQueue *self)
{
  return weft_queue_get_size (self) == 0;
}

/**
 * weft_queue_is_full:
 * @self: a queue
 *
 * asyncio's full().
 *
 * Returns: %TRUE if the queue holds @maxsize items
 */
gboolean
weft_queue_is_full (WeftQueue *self)
{
  g_return_val_if_fail (WEFT_IS_QUEUE (self), FALSE);

  return is_full (weft_queue_get_instance_private (self));
}

WeftFuture *
weft_queue_put_with_priority (WeftQueue *self,
                              gint64     priority,
                              gpointer   item)
{
  WeftQueuePrivate *priv = weft_queue_get_instance_private (self);
  WeftWaiter *waiter = weft_waiter_borrow (self, &putter_ops);

  if (priv->shut_down)
    {
      free_item (priv, item);
      weft_waiter_wake (waiter, NULL, shut_down_error ());
    }
  else if (is_full (priv))
    {
      waiter->item = item;
      waiter->number = priority;
      weft_wait_list_push (&priv->putters, waiter);
    }
  else
    {
      add_item (priv, item, priority);
      weft_waiter_wake (waiter, NULL, NULL);
    }
  return (WeftFuture *) waiter;
}

gboolean
weft_queue_put_nowait_with_priority (WeftQueue  *self,
                                     gint64      priority,
                                     gpointer    item,
                                     GError    **error)
{
  WeftQueuePrivate *priv = weft_queue_get_instance_private (self);

  if (priv->shut_down)
    {
      g_propagate_error (error, shut_down_error ());
      return FALSE;
    }
  if (is_full (priv))
    {
      g_set_error_literal (error, WEFT_ERROR, WEFT_ERROR_QUEUE_FULL, "Queue is full");
      return FALSE;
    }
  add_item (priv, item, priority);
  return TRUE;
}

/**
 * weft_queue_put:
 * @self: a queue
 * @item: (transfer full) (nullable): the item
 *
 * asyncio's put(): a future that finishes, without a value, once @item is
 * in the queue, at once if there is room. It fails with
 * %WEFT_ERROR_QUEUE_SHUT_DOWN if the queue is or gets shut down first, and
 * the queue then frees @item. Await it at once; cancelling it (or the
 * task awaiting it) withdraws @item if it is not in yet.
 *
 * Returns: (transfer full): the future to await
 */
WeftFuture *
weft_queue_put (WeftQueue *self,
                gpointer   item)
{
  g_return_val_if_fail (WEFT_IS_QUEUE (self), NULL);

  return weft_queue_put_with_priority (self, 0, item);
}

/**
 * weft_queue_put_nowait:
 * @self: a queue
 * @item: (nullable): the item; the queue owns it on success
 * @error: return location for an error
 *
 * asyncio's put_nowait(): puts @item without waiting.
 *
 * Returns: %TRUE, or %FALSE with %WEFT_ERROR_QUEUE_FULL or
 *   %WEFT_ERROR_QUEUE_SHUT_DOWN, the caller keeping @item
 */
gboolean
weft_queue_put_nowait (WeftQueue  *self,
                       gpointer    item,
                       GError    **error)
{
  g_return_val_if_fail (WEFT_IS_QUEUE (self), FALSE);

  return weft_queue_put_nowait_with_priority (self, 0, item, error);
}

/**
 * weft_queue_get:
 * @self: a queue
 *
 * asyncio's get(): a future that finishes with the next item as its
 * pointer value (weft_future_get_pointer(); the awaiting task owns it),
 * at once if the queue is not empty. It fails with
 * %WEFT_ERROR_QUEUE_SHUT_DOWN if the queue is shut down and empty. Await
 * it at once; cancelling it (or the task awaiting it) takes nothing from
 * the queue.
 *
 * Returns: (transfer full): the future to await
 */
WeftFuture *
weft_queue_get (WeftQueue *self)
{
  WeftQueuePrivate *priv;
  WeftWaiter *waiter;

  g_return_val_if_fail (WEFT_IS_QUEUE (self), NULL);

  priv = weft_queue_get_instance_private (self);
  waiter = weft_waiter_borrow (self, &getter_ops);

  if (priv->length > 0)
    {
      Entry entry;

      take_item (priv, &entry);
      serve (waiter, &entry);
    }
  else if (priv->shut_down)
    weft_waiter_wake (waiter, NULL, shut_down_error ());
  else
    weft_wait_list_push (&priv->getters, waiter);

  return (WeftFuture *) waiter;
}

/**
 * weft_queue_get_nowait:
 * @self: a queue
 * @error: return location for an error
 *
 * asyncio's get_nowait(): takes the next item without waiting.
 *
 * Returns: (transfer full) (nullable): the item, or %NULL with
 *   %WEFT_ERROR_QUEUE_EMPTY, or %WEFT_ERROR_QUEUE_SHUT_DOWN if the queue
 *   is also shut down
 */
gpointer
weft_queue_get_nowait (WeftQueue  *self,
                       GError    **error)
{
  WeftQueuePrivate *priv;
  Entry entry;

  g_return_val_if_fail (WEFT_IS_QUEUE (self), NULL);

  priv = weft_queue_get_instance_private (self);
  if (priv->length == 0)
    {
      if (priv->shut_down)
        g_propagate_error (error, shut_down_error ());
      else
        g_set_error_literal (error, WEFT_ERROR, WEFT_ERROR_QUEUE_EMPTY, "Queue is empty");
      return NULL;
    }
  return take_item (priv, &entry);
}

/**
 * weft_queue_task_done:
 * @self: a queue
 * @error: return location for an error
 *
 * asyncio's task_done(): tells the queue one item taken from it was
 * processed. When every item put was, weft_queue_join() futures finish.
 *
 * Returns: %TRUE, or %FALSE with %WEFT_ERROR_INVALID_STATE if called more
 *   times than items were put (asyncio's ValueError)
 */
gboolean
weft_queue_task_done (WeftQueue  *self,
                      GError    **error)
{
  WeftQueuePrivate *priv;

  g_return_val_if_fail (WEFT_IS_QUEUE (self), FALSE);

  priv = weft_queue_get_instance_private (self);
  if (priv->unfinished == 0)
    {
      g_set_error_literal (error, WEFT_ERROR, WEFT_ERROR_INVALID_STATE,
                           "task_done() called too many times");
      return FALSE;
    }
  if (--priv->unfinished == 0)
    weft_event_set (priv->finished);
  return TRUE;
}

/**
 * weft_queue_join:
 * @self: a queue
 *
 * asyncio's join(): a future that finishes, without a value, once every
 * item put was processed (see weft_queue_task_done()); already finished if
 * none is outstanding.
 *
 * Returns: (transfer full): the future to await
 */
WeftFuture *
weft_queue_join (WeftQueue *self)
{
  WeftQueuePrivate *priv;

  g_return_val_if_fail (WEFT_IS_QUEUE (self), NULL);

  priv = weft_queue_get_instance_private (self);
  return weft_event_wait (priv->finished);
}

/**
 * weft_queue_shutdown:
 * @self: a queue
 * @immediate: also drop the items left, as processed
 *
 * asyncio's shutdown() (3.13): from now on puts fail with
 * %WEFT_ERROR_QUEUE_SHUT_DOWN, and so do gets once the queue is empty.
 * Waiting puts and gets fail now. With @immediate the items left are
 * freed and count as processed, which may finish weft_queue_join().
 */
void
weft_queue_shutdown (WeftQueue *self,
                     gboolean   immediate)
{
  WeftQueuePrivate *priv;

  g_return_if_fail (WEFT_IS_QUEUE (self));

  priv = weft_queue_get_instance_private (self);
  priv->shut_down = TRUE;

  if (immediate)
    {
      /* The reserved items too: their getters get QueueShutDown instead
       * when they resume, as asyncio's find the queue empty.
       */
      priv->drained = TRUE;
      priv->unfinished -= MIN (priv->unfinished, priv->reserved);
      priv->reserved = 0;
      while (priv->length > 0)
        {
          free_item (priv, store_pop (priv).item);
          if (priv->unfinished > 0)
            priv->unfinished--;
        }
      if (priv->unfinished == 0)
        weft_event_set (priv->finished);
    }

  while (priv->getters.head != NULL)
    weft_waiter_wake (priv->getters.head, NULL, shut_down_error ());
  while (priv->putters.head != NULL)
    {
      WeftWaiter *putter = priv->putters.head;

      free_item (priv, putter->item);
      weft_waiter_wake (putter, NULL, shut_down_error ());
    }
}
