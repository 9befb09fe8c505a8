/* weft-wait-for.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include <gio/gio.h>

#include "weft-future-private.h"
#include "weft-task.h"
#include "weft-timeout.h"
#include "weft-wait-for.h"

/* asyncio 3.12+'s wait_for(), whose positive-timeout path is literally
 *
 *     async with timeout(timeout):
 *         return await fut
 *
 * here a task doing the same with a WeftTimeout. The timeout is
 * created by weft_wait_for() itself, so its deadline counts from the call,
 * and it binds to that task: its expiry cancels the task, which cancels
 * @future (T9), and the task's outcome is @future's once it has finished.
 */

#define WEFT_TYPE_WAIT_FOR_TASK (weft_wait_for_task_get_type ())
G_DECLARE_FINAL_TYPE (WeftWaitForTask, weft_wait_for_task, WEFT, WAIT_FOR_TASK, WeftTask)

struct _WeftWaitForTask
{
  WeftTask     parent_instance;
  WeftFuture  *inner;
  WeftTimeout *timeout;
  gboolean     entered;
};

G_DEFINE_FINAL_TYPE (WeftWaitForTask, weft_wait_for_task, WEFT_TYPE_TASK)

static void
return_outcome (WeftTask   *task,
                WeftFuture *inner)
{
  g_auto(GValue) value = G_VALUE_INIT;
  GError *error = NULL;

  if (!weft_future_get_value (inner, &value, &error))
    weft_task_return_error (task, error);
  else if (G_IS_VALUE (&value))
    weft_task_return_value (task, &value);
  else
    weft_task_return_void (task);
}

static void
weft_wait_for_task_step (WeftTask     *task,
                         WeftFuture   *awaited,
                         const GError *error)
{
  WeftWaitForTask *self = WEFT_WAIT_FOR_TASK (task);
  GError *outcome;

  if (!self->entered)
    {
      /* Inside a task and never entered before: entering cannot fail. */
      self->entered = weft_timeout_enter (self->timeout, NULL);
      g_assert (self->entered);
      weft_task_await (task, self->inner);
      return;
    }

  /* WF1, WF2: the error @inner ended with, or the one raised instead of
   * its value (T8b), turns into a timeout only if it is the timeout's. */
  outcome = error != NULL ? g_error_copy (error) : NULL;
  if (!weft_timeout_leave (self->timeout, &outcome))
    weft_task_return_error (task, outcome);
  else
    return_outcome (task, self->inner);
}

/* WF4: cancelled before its first step, the task ends unrun (T8d), but
 * what it was to wait for is cancelled all the same.
 */
static gboolean
weft_wait_for_task_cancel (WeftFuture *future,
                           const char *message)
{
  WeftWaitForTask *self = WEFT_WAIT_FOR_TASK (future);

  if (!WEFT_FUTURE_CLASS (weft_wait_for_task_parent_class)->cancel (future, message))
    return FALSE;

  if (!self->entered)
    weft_future_cancel (self->inner, message);
  return TRUE;
}

static void
weft_wait_for_task_finalize (GObject *object)
{
  WeftWaitForTask *self = WEFT_WAIT_FOR_TASK (object);

  g_clear_object (&self->inner);
  g_clear_object (&self->timeout);

  G_OBJECT_CLASS (weft_wait_for_task_parent_class)->finalize (object);
}

static void
weft_wait_for_task_class_init (WeftWaitForTaskClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = weft_wait_for_task_finalize;
  WEFT_FUTURE_CLASS (klass)->cancel = weft_wait_for_task_cancel;
  WEFT_TASK_CLASS (klass)->step = weft_wait_for_task_step;
}

static void
weft_wait_for_task_init (WeftWaitForTask *self)
{
}

/* WF3, asyncio's _cancel_and_wait(): once @inner has finished, @result
 * gets its outcome, a cancellation becoming the timeout. If @result was
 * cancelled first (the caller was: WF4), @inner is left to itself.
 */
static void
release_waiter (WeftFuture *inner,
                gpointer    user_data)
{
  WeftFuture *result = user_data;
  g_auto(GValue) value = G_VALUE_INIT;
  GError *error = NULL;

  if (weft_future_is_cancelled (inner))
    error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "Timeout was reached");
  else
    weft_future_get_value (inner, &value, &error);

  weft_future_complete (result, G_IS_VALUE (&value) ? &value : NULL, error);
}

/**
 * weft_wait_for:
 * @future: the future or task to wait for
 * @timeout: seconds from now; %INFINITY to wait without a deadline
 *
 * asyncio's `wait_for(aw, timeout)` (3.12+ semantics), as a future the
 * caller awaits: it finishes with @future's value or error, or with
 * %G_IO_ERROR_TIMED_OUT if the deadline passes first.
 *
 * When the deadline passes, @future is cancelled and the returned future
 * still waits until @future has finished: if @future handles the
 * cancellation and finishes with a value, or with another error, that is
 * the outcome instead of the timeout. Cancelling the returned future (as
 * cancelling the task awaiting it does) cancels @future too, waits for it
 * the same way and ends with its outcome: cancelled, unless @future
 * handled the cancellation.
 *
 * With @timeout 0 or less, @future is cancelled now, in this call, so a
 * task created in the same step never runs; the returned future ends with
 * @future's outcome once it has finished, %G_IO_ERROR_TIMED_OUT if that
 * is a cancellation. Cancelling this returned future does not wait.
 *
 * If @future is already done, it is returned itself: awaiting it gives its
 * outcome without suspending. Otherwise the deadline counts from this call
 * and, for a positive @timeout, the returned future is a #WeftTask:
 * awaiting it costs one pass more than in asyncio, where wait_for() runs
 * inside the caller's task.
 *
 * Returns: (transfer full): the future to await
 */
WeftFuture *
weft_wait_for (WeftFuture *future,
               double      timeout)
{
  WeftWaitForTask *task;
  WeftFuture *result;

  g_return_val_if_fail (WEFT_IS_FUTURE (future), NULL);
  g_return_val_if_fail (!isnan (timeout), NULL);

  /* WF3: a done future gives its outcome at once, whatever the timeout. */
  if (weft_future_is_done (future))
    return g_object_ref (future);

  if (timeout <= 0)
    {
      result = weft_future_new ();
      weft_future_cancel (future, NULL);
      weft_future_add_done_callback (future, release_waiter,
                                     g_object_ref (result), g_object_unref);
      return result;
    }

  task = g_object_new (WEFT_TYPE_WAIT_FOR_TASK, NULL);
  task->inner = g_object_ref (future);
  task->timeout = weft_timeout_new (timeout);
  weft_task_set_name (WEFT_TASK (task), "wait_for");

  return WEFT_FUTURE (task);
}
