/* weft-as-completed.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include <gio/gio.h>

#include "weft-as-completed.h"
#include "weft-combinators-private.h"

/**
 * WeftAsCompleted:
 *
 * Hands out futures in the order they complete: asyncio's as_completed().
 *
 * Each call to weft_as_completed_next() returns a new future that
 * finishes, with the next input future to complete as its value (an
 * object), once that input is done: awaiting it is asyncio 3.13's
 * `async for f in as_completed(...)`, and the value is the original future,
 * already done. The futures returned are served in the order they were
 * asked for, whichever is awaited first, as in the plain-iterator form.
 *
 * After the timeout, every input not handed out yet is served as a
 * %G_IO_ERROR_TIMED_OUT error instead; the inputs are not cancelled.
 * weft_as_completed_next() returns %NULL once it has returned one future
 * per distinct input, and the iterator can be resumed after any number of
 * futures were taken.
 *
 * |[<!-- language="C" -->
 * g_autoptr(WeftAsCompleted) it = weft_as_completed_new (futures, n, 10.0);
 * WeftFuture *next;
 *
 * while ((next = weft_as_completed_next (it)) != NULL)
 *   {
 *     g_autoptr(WeftFuture) f = weft_await_object (next, &error);
 *
 *     g_object_unref (next);
 *     if (f == NULL)
 *       break;
 *     use (weft_future_get_int64 (f, NULL));
 *   }
 * ]|
 */

struct _WeftAsCompleted
{
  GObject            parent_instance;

  WeftScheduler     *scheduler;
  GPtrArray         *futures;       /* distinct, referenced */
  WeftInputWaiter   *waiters;       /* one per future */
  GQueue             completed;     /* done inputs not served yet (referenced);
                                     * NULL for a timeout */
  GQueue             requests;      /* futures returned by next(), pending */
  WeftTimedRunnable  timeout;
  guint              n_left;        /* next() calls that will not return NULL */
  guint              n_watching;    /* waiters on the inputs' done lists */
  guint              n_outstanding; /* waiters and the timer, queued or armed:
                                     * a self-reference while > 0 */
};

G_DEFINE_FINAL_TYPE (WeftAsCompleted, weft_as_completed, G_TYPE_OBJECT)

static void
drop_outstanding (WeftAsCompleted *self)
{
  if (--self->n_outstanding == 0)
    g_object_unref (self);
}

/* Completes @request with @input, or a timeout when @input is NULL. */
static gboolean
serve (WeftFuture *request,
       WeftFuture *input)
{
  GValue value = G_VALUE_INIT;

  if (input == NULL)
    return weft_future_complete (request, NULL,
                                 g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                                      "Timed out waiting for the next future to complete"));

  g_value_init (&value, WEFT_TYPE_FUTURE);
  g_value_set_object (&value, input);
  return weft_future_complete (request, &value, NULL);
}

/* Hands @input (referenced, or NULL for a timeout) to the oldest request
 * still waiting (a cancelled one waits no more), or keeps it for the next.
 */
static void
deliver (WeftAsCompleted *self,
         WeftFuture      *input)
{
  WeftFuture *request;

  while ((request = g_queue_pop_head (&self->requests)) != NULL)
    {
      gboolean served = serve (request, input);

      g_object_unref (request);
      if (served)
        {
          g_clear_object (&input);
          return;
        }
    }
  g_queue_push_tail (&self->completed, input);
}

static void
waiter_run (WeftRunnable *runnable)
{
  WeftInputWaiter *waiter = (WeftInputWaiter *) runnable;
  WeftAsCompleted *self = waiter->owner;

  /* Settled already if the timeout came first. */
  if (!waiter->settled)
    {
      waiter->settled = TRUE;
      self->n_watching--;
      deliver (self, g_object_ref (waiter->future));

      if (self->n_watching == 0 && weft_timer_is_armed (&self->timeout.timer))
        {
          weft_scheduler_remove_timer (self->scheduler, &self->timeout);
          self->n_outstanding--;  /* not the last: this waiter's is left */
        }
    }
  drop_outstanding (self);
}

/* AC4: what is still pending is served as a timeout, and stays running. */
static void
timeout_run (WeftRunnable *runnable)
{
  WeftAsCompleted *self = G_STRUCT_MEMBER_P (runnable, -G_STRUCT_OFFSET (WeftAsCompleted, timeout));
  guint withdrawn = 0;

  g_object_ref (self);

  for (guint i = 0; i < self->futures->len; i++)
    {
      WeftInputWaiter *waiter = &self->waiters[i];

      /* As asyncio, an input whose completion is queued but not seen yet
       * times out too.
       */
      if (waiter->settled)
        continue;
      waiter->settled = TRUE;
      self->n_watching--;
      deliver (self, NULL);
      if (weft_input_waiter_withdraw (waiter))
        withdrawn++;
    }

  while (withdrawn-- > 0)
    drop_outstanding (self);
  drop_outstanding (self);
  g_object_unref (self);
}

static void
unref_if_set (gpointer object)
{
  if (object != NULL)
    g_object_unref (object);
}

static void
weft_as_completed_finalize (GObject *object)
{
  WeftAsCompleted *self = WEFT_AS_COMPLETED (object);

  g_queue_clear_full (&self->completed, unref_if_set);
  g_queue_clear_full (&self->requests, g_object_unref);
  g_clear_pointer (&self->futures, g_ptr_array_unref);
  g_free (self->waiters);
  weft_scheduler_release_context (self->scheduler);

  G_OBJECT_CLASS (weft_as_completed_parent_class)->finalize (object);
}

static void
weft_as_completed_class_init (WeftAsCompletedClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = weft_as_completed_finalize;
}

static void
weft_as_completed_init (WeftAsCompleted *self)
{
  self->scheduler = weft_scheduler_get_thread_default ();
  weft_scheduler_hold_context (self->scheduler);
  self->timeout.runnable.run = timeout_run;
  g_queue_init (&self->completed);
  g_queue_init (&self->requests);
}

/**
 * weft_as_completed_new:
 * @futures: (array length=n_futures): the futures to watch; duplicates
 *   count once
 * @n_futures: the number of @futures
 * @timeout: seconds after which the futures not handed out yet are served
 *   as %G_IO_ERROR_TIMED_OUT, or a negative number for no limit
 *
 * Starts watching @futures, which must be bound to the thread-default
 * #GMainContext: asyncio's as_completed(). See #WeftAsCompleted.
 *
 * Returns: (transfer full): the iterator
 */
WeftAsCompleted *
weft_as_completed_new (WeftFuture **futures,
                       guint        n_futures,
                       double       timeout)
{
  WeftAsCompleted *self;
  guint n;

  g_return_val_if_fail (futures != NULL || n_futures == 0, NULL);
  g_return_val_if_fail (!isnan (timeout), NULL);
  for (guint i = 0; i < n_futures; i++)
    g_return_val_if_fail (WEFT_IS_FUTURE (futures[i]), NULL);
  g_return_val_if_fail (weft_futures_check_context (futures, n_futures,
                                                    weft_scheduler_get_thread_default (), NULL),
                        NULL);

  self = g_object_new (WEFT_TYPE_AS_COMPLETED, NULL);
  self->futures = weft_futures_dup_unique (futures, n_futures);
  n = self->futures->len;
  self->waiters = g_new (WeftInputWaiter, n);
  self->n_left = n;
  if (n == 0)
    return self;

  self->n_watching = n;
  self->n_outstanding = n;
  g_object_ref (self);

  /* Done inputs are seen through the ready queue, like asyncio's
   * add_done_callback().
   */
  for (guint i = 0; i < n; i++)
    {
      weft_input_waiter_init (&self->waiters[i], waiter_run, self,
                              g_ptr_array_index (self->futures, i));
      weft_input_waiter_start (&self->waiters[i], self->scheduler);
    }

  if (timeout >= 0)
    {
      self->n_outstanding++;
      weft_scheduler_add_timer (self->scheduler, &self->timeout, weft_timeout_to_deadline (timeout));
    }

  return self;
}

/**
 * weft_as_completed_next:
 * @self: an iterator
 *
 * Asks for the next input to complete: asyncio's `__anext__()`, or
 * `__next__()` of the plain iterator.
 *
 * The future returned finishes with the input future as its value (read
 * it with weft_future_dup_object() or weft_await_object()), or fails with
 * %G_IO_ERROR_TIMED_OUT after the timeout. It is already done when an
 * input completed before the call. Cancelling it gives up this turn only:
 * the input it would have got goes to the next request.
 *
 * Returns: (transfer full) (nullable): a new future, or %NULL once every
 *   input has been asked for
 */
WeftFuture *
weft_as_completed_next (WeftAsCompleted *self)
{
  WeftFuture *request;

  g_return_val_if_fail (WEFT_IS_AS_COMPLETED (self), NULL);

  if (self->n_left == 0)
    return NULL;
  self->n_left--;

  request = weft_future_new ();
  if (!g_queue_is_empty (&self->completed))
    {
      g_autoptr(WeftFuture) input = g_queue_pop_head (&self->completed);

      serve (request, input);
    }
  else
    g_queue_push_tail (&self->requests, g_object_ref (request));

  return request;
}

/**
 * weft_as_completed_get_n_left:
 * @self: an iterator
 *
 * Gets how many more times weft_as_completed_next() returns a future.
 *
 * Returns: the number of inputs not asked for yet
 */
guint
weft_as_completed_get_n_left (WeftAsCompleted *self)
{
  g_return_val_if_fail (WEFT_IS_AS_COMPLETED (self), 0);

  return self->n_left;
}
