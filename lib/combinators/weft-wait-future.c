/* weft-wait-future.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include "weft-combinators-private.h"
#include "weft-inspect-hooks-private.h"
#include "weft-error.h"
#include "weft-wait-future.h"

/**
 * WeftWaitFuture:
 *
 * A future that finishes when some of a set of futures are done, or after
 * a timeout: asyncio's wait().
 *
 * It always finishes without a value, never with a timeout error, and it
 * never cancels the futures it watches, not even when it is itself
 * cancelled (because the task awaiting it was). Once it is done,
 * weft_wait_future_get_done() and weft_wait_future_get_pending() split the futures, as
 * asyncio's `(done, pending)`; the split is taken when one of them is
 * first called, so a future that completed in the same pass counts as
 * done.
 *
 * |[<!-- language="C" -->
 * g_autoptr(WeftWaitFuture) w = weft_wait_future_new (futures, n, 5.0, WEFT_RETURN_WHEN_FIRST_COMPLETED);
 *
 * if (!weft_await (WEFT_FUTURE (w), &error))
 *   return;
 * done = weft_wait_future_get_done (w);
 * ]|
 * From Python: `done, pending = w.get_done(), w.get_pending()`.
 *
 * Like a task, it belongs to the thread that runs its #GMainContext:
 * cancel it there.
 */

struct _WeftWaitFuture
{
  WeftFuture         parent_instance;

  GPtrArray         *futures;       /* distinct, referenced */
  WeftInputWaiter   *waiters;       /* one per future */
  WeftTimedRunnable  timeout;
  GPtrArray         *done;          /* the split, once asked for */
  GPtrArray         *pending;
  guint              n_left;        /* futures not seen done yet */
  guint              n_outstanding; /* waiters that will still run, plus the
                                     * armed timer; a self-reference while > 0 */
  guint8             return_when;
};

G_DEFINE_FINAL_TYPE (WeftWaitFuture, weft_wait_future, WEFT_TYPE_FUTURE)

static inline WeftScheduler *
wait_scheduler (WeftWaitFuture *self)
{
  return weft_future_get_scheduler (WEFT_FUTURE (self));
}

static void
drop_outstanding (WeftWaitFuture *self)
{
  if (--self->n_outstanding == 0)
    g_object_unref (self);
}

/* Called on completion or cancellation: nothing of ours stays queued on
 * the futures or the timer heap longer than needed.
 */
static void
stop_watching (WeftWaitFuture *self)
{
  guint withdrawn = 0;

  if (weft_timer_is_armed (&self->timeout.timer))
    {
      weft_scheduler_remove_timer (wait_scheduler (self), &self->timeout);
      withdrawn++;
    }
  for (guint i = 0; i < self->futures->len; i++)
    if (!self->waiters[i].settled && weft_input_waiter_withdraw (&self->waiters[i]))
      {
        self->waiters[i].settled = TRUE;
        withdrawn++;
      }

  /* The last one must not finalize us under our caller's feet. */
  g_object_ref (self);
  while (withdrawn-- > 0)
    drop_outstanding (self);
  g_object_unref (self);
}

static void
release (WeftWaitFuture *self)
{
  if (weft_future_complete (WEFT_FUTURE (self), NULL, NULL))
    stop_watching (self);
}

static void
waiter_run (WeftRunnable *runnable)
{
  WeftInputWaiter *waiter = (WeftInputWaiter *) runnable;
  WeftWaitFuture *self = waiter->owner;
  WeftFuture *future = waiter->future;

  waiter->settled = TRUE;

  if (weft_future_peek_state (WEFT_FUTURE (self)) == WEFT_FUTURE_STATE_PENDING)
    {
      gboolean release_now = --self->n_left == 0;

      /* W2: a cancellation is no exception. */
      if (self->return_when == WEFT_RETURN_WHEN_FIRST_COMPLETED)
        release_now = TRUE;
      else if (self->return_when == WEFT_RETURN_WHEN_FIRST_EXCEPTION &&
               weft_future_peek_state (future) == WEFT_FUTURE_STATE_FINISHED &&
               weft_input_failed (future))
        release_now = TRUE;

      if (release_now)
        release (self);
    }

  drop_outstanding (self);
}

/* W3: the timeout only ends the wait early. */
static void
timeout_run (WeftRunnable *runnable)
{
  WeftWaitFuture *self = G_STRUCT_MEMBER_P (runnable, -G_STRUCT_OFFSET (WeftWaitFuture, timeout));

  g_object_ref (self);
  drop_outstanding (self);
  release (self);
  g_object_unref (self);
}

/* W5: cancelling the wait leaves the futures alone. */
static gboolean
weft_wait_future_cancel (WeftFuture *future,
                  const char *message)
{
  WeftWaitFuture *self = WEFT_WAIT_FUTURE (future);

  if (!WEFT_FUTURE_CLASS (weft_wait_future_parent_class)->cancel (future, message))
    return FALSE;
  stop_watching (self);
  return TRUE;
}

static void
weft_wait_future_finalize (GObject *object)
{
  WeftWaitFuture *self = WEFT_WAIT_FUTURE (object);

  g_clear_pointer (&self->futures, g_ptr_array_unref);
  g_clear_pointer (&self->done, g_ptr_array_unref);
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  g_free (self->waiters);

  G_OBJECT_CLASS (weft_wait_future_parent_class)->finalize (object);
}

static void
weft_wait_future_class_init (WeftWaitFutureClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  WeftFutureClass *future_class = WEFT_FUTURE_CLASS (klass);

  object_class->finalize = weft_wait_future_finalize;
  future_class->cancel = weft_wait_future_cancel;
}

static void
weft_wait_future_init (WeftWaitFuture *self)
{
  self->timeout.runnable.run = timeout_run;
  weft_future_forbid_setters (WEFT_FUTURE (self));
}

static void
start_watching (WeftWaitFuture *self,
                double    timeout)
{
  WeftScheduler *scheduler = wait_scheduler (self);
  guint n = self->futures->len;

  self->waiters = g_new (WeftInputWaiter, n);
  self->n_left = n;
  self->n_outstanding = n;
  g_object_ref (self);

  /* W6: even a done future is seen through the ready queue, so the wait
   * always suspends at least one pass.
   */
  for (guint i = 0; i < n; i++)
    {
      weft_input_waiter_init (&self->waiters[i], waiter_run, self,
                              g_ptr_array_index (self->futures, i));
      weft_input_waiter_start (&self->waiters[i], scheduler);
    }

  if (timeout >= 0)
    {
      self->n_outstanding++;
      weft_scheduler_add_timer (scheduler, &self->timeout, weft_timeout_to_deadline (timeout));
    }
}

/**
 * weft_wait_future_new:
 * @futures: (array length=n_futures): the futures to watch; duplicates
 *   count once
 * @n_futures: the number of @futures, at least 1
 * @timeout: the most seconds to wait, or a negative number to wait
 *   without limit
 * @return_when: when to finish
 *
 * Creates a future that finishes when @return_when says, or once
 * @timeout has passed: asyncio's wait(). See #WeftWaitFuture.
 *
 * It fails with %WEFT_ERROR_INVALID_ARGUMENT if @futures is empty or
 * @timeout is NaN, and with %WEFT_ERROR_WRONG_CONTEXT if a future is bound
 * to another #GMainContext than the thread-default one.
 *
 * Returns: (transfer full): the wait future
 */
WeftWaitFuture *
weft_wait_future_new (WeftFuture     **futures,
               guint            n_futures,
               double           timeout,
               WeftReturnWhen   return_when)
{
  WeftWaitFuture *self;
  GError *error = NULL;

  g_return_val_if_fail (futures != NULL || n_futures == 0, NULL);
  g_return_val_if_fail (return_when <= WEFT_RETURN_WHEN_ALL_COMPLETED, NULL);
  for (guint i = 0; i < n_futures; i++)
    g_return_val_if_fail (WEFT_IS_FUTURE (futures[i]), NULL);

  self = g_object_new (WEFT_TYPE_WAIT_FUTURE, NULL);
  self->return_when = return_when;
  self->futures = weft_futures_dup_unique (futures, n_futures);

  /* W1 */
  if (n_futures == 0)
    error = g_error_new_literal (WEFT_ERROR, WEFT_ERROR_INVALID_ARGUMENT,
                                 "Set of Tasks/Futures is empty.");
  else if (isnan (timeout))
    error = g_error_new_literal (WEFT_ERROR, WEFT_ERROR_INVALID_ARGUMENT,
                                 "Invalid timeout: NaN (not a number)");
  else
    weft_futures_check_context (futures, n_futures, wait_scheduler (self), &error);

  if (error != NULL)
    weft_future_fail (WEFT_FUTURE (self), error);
  else
    start_watching (self, timeout);

  return self;
}

/* W4: done is what is done when the caller looks. */
static void
split (WeftWaitFuture *self)
{
  if (self->done != NULL)
    return;

  self->done = g_ptr_array_new_with_free_func (g_object_unref);
  self->pending = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < self->futures->len; i++)
    {
      WeftFuture *future = g_ptr_array_index (self->futures, i);

      g_ptr_array_add (weft_future_peek_state (future) != WEFT_FUTURE_STATE_PENDING ? self->done : self->pending,
                       g_object_ref (future));
    }
}

/**
 * weft_wait_future_get_done:
 * @self: a done wait
 *
 * Gets the futures that were done when the wait was over: asyncio's
 * `done` set.
 *
 * Returns: (transfer none) (element-type WeftFuture): the done futures, in
 *   no particular order
 */
GPtrArray *
weft_wait_future_get_done (WeftWaitFuture *self)
{
  g_return_val_if_fail (WEFT_IS_WAIT_FUTURE (self), NULL);
  g_return_val_if_fail (weft_future_is_done (WEFT_FUTURE (self)), NULL);

  split (self);
  return self->done;
}

/**
 * weft_wait_future_get_pending:
 * @self: a done wait
 *
 * Gets the futures that were still pending when the wait was over:
 * asyncio's `pending` set.
 *
 * Returns: (transfer none) (element-type WeftFuture): the pending futures,
 *   in no particular order
 */
GPtrArray *
weft_wait_future_get_pending (WeftWaitFuture *self)
{
  g_return_val_if_fail (WEFT_IS_WAIT_FUTURE (self), NULL);
  g_return_val_if_fail (weft_future_is_done (WEFT_FUTURE (self)), NULL);

  split (self);
  return self->pending;
}

/* For the inspector, on the wait's thread: the tasks it waits for. */
gboolean
weft_wait_future_inspect_tasks (WeftFuture *future,
                                GArray     *ids,
                                guint      *n_children)
{
  WeftWaitFuture *self;

  if (!WEFT_IS_WAIT_FUTURE (future))
    return FALSE;
  self = WEFT_WAIT_FUTURE (future);
  for (guint i = 0; i < self->futures->len; i++)
    {
      WeftFuture *child = self->futures->pdata[i];

      if (WEFT_IS_TASK (child) && !weft_future_is_done (child))
        {
          guint64 id = weft_task_get_id (WEFT_TASK (child));

          g_array_append_val (ids, id);
        }
    }
  *n_children = self->futures->len;
  return TRUE;
}
