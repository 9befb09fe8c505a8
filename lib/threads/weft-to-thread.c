/* weft-to-thread.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-error-private.h"
#include "weft-future-private.h"
#include "weft-gio-future.h"
#include "weft-context.h"
#include "weft-to-thread.h"

/* asyncio.to_thread() runs the function in the loop's default executor, a
 * ThreadPoolExecutor. Ours is a GThreadPool of our own rather than the pool
 * behind g_task_run_in_thread(): the worker completes the future itself, so
 * the outcome reaches the caller's context with one wake-up and no GSource,
 * and blocking user code cannot starve the GIO operations that share
 * GTask's pool.
 */

typedef struct
{
  WeftThreadFunc  func;
  gpointer        user_data;
  GDestroyNotify  notify;
  WeftFuture     *future;       /* completed by the worker */
  GCancellable   *cancellable;  /* cancelled with the future */
  WeftContext    *context;      /* TH1: a copy of the caller's variables */
  WeftScheduler  *scheduler;    /* the caller's, counting the job as background work */
  int             published;    /* atomic; see weft_to_thread() */
} Job;

/* The notify comes last: once it runs, the worker is done with everything,
 * and weft_run(), as shutdown_default_executor(), may return.
 */
static void
job_free (Job *job)
{
  GDestroyNotify notify = job->notify;
  gpointer user_data = job->user_data;
  WeftScheduler *scheduler = job->scheduler;

  g_object_unref (job->future);
  g_object_unref (job->cancellable);
  weft_context_unref (job->context);
  g_free (job);
  if (notify != NULL)
    notify (user_data);

  weft_scheduler_end_background (scheduler);
  weft_scheduler_release_context (scheduler);
}

typedef struct
{
  Job       *job;
  GValue    *result;
  GError   **error;
  gboolean   succeeded;
} Call;

static void
call_func (gpointer data)
{
  Call *call = data;
  Job *job = call->job;

  call->succeeded = job->func (job->cancellable, call->result, job->user_data, call->error);
}

/* The copy is the job's alone, so entering it cannot fail. */
static gboolean
job_call (Job     *job,
          GValue  *result,
          GError **error)
{
  Call call = { job, result, error, FALSE };

  weft_context_run (job->context, call_func, &call, NULL);
  return call.succeeded;
}

static void
run_job (gpointer data,
         gpointer pool_data)
{
  Job *job = data;
  GValue result = G_VALUE_INIT;
  GError *error = NULL;

  /* Pairs with the release in weft_to_thread(): GThreadPool's hand-off is
   * invisible to ThreadSanitizer, since GLib is not instrumented.
   */
  (void) __atomic_load_n (&job->published, __ATOMIC_ACQUIRE);

  /* TH2: cancelled before a worker got to it, it does not run at all, as
   * a concurrent future cancelled while queued.
   */
  if (g_cancellable_is_cancelled (job->cancellable))
    {
      job_free (job);
      return;
    }

  if (job_call (job, &result, &error))
    {
      if (G_UNLIKELY (error != NULL))
        {
          g_critical ("weft_to_thread: the function returned TRUE but set an error: %s", error->message);
          g_clear_error (&error);
        }
    }
  else
    {
      if (G_IS_VALUE (&result))
        g_value_unset (&result);
      if (G_UNLIKELY (error == NULL))
        {
          g_critical ("weft_to_thread: the function returned FALSE without setting an error");
          error = g_error_new_literal (WEFT_ERROR, WEFT_ERROR_INVALID_STATE,
                                       "The thread function failed without an error");
        }
    }

  /* TH2: if the wait was abandoned, the outcome is dropped and freed here. */
  weft_future_complete (job->future, G_IS_VALUE (&result) ? &result : NULL, error);
  job_free (job);
}

static GThreadPool *
get_default_pool (void)
{
  static GThreadPool *pool;

  if (g_once_init_enter (&pool))
    {
      /* ThreadPoolExecutor's default size. */
      int max_threads = MIN (32, (int) g_get_num_processors () + 4);

      g_once_init_leave (&pool, g_thread_pool_new (run_job, NULL, max_threads, FALSE, NULL));
    }
  return pool;
}

/**
 * weft_to_thread:
 * @func: (scope notified) (closure user_data) (destroy notify): the
 *   blocking function
 * @user_data: data for @func
 * @notify: (nullable): frees @user_data on the worker thread once @func
 *   returned, or if it never ran
 *
 * asyncio.to_thread(): runs @func on a worker thread and returns a future,
 * bound to the thread-default #GMainContext, for its outcome: the value it
 * set, or its error.
 *
 * Cancelling the future (as cancelling the task that awaits it does)
 * abandons the wait at once: the future is cancelled, the #GCancellable
 * given to @func is cancelled so that it may stop early, and whatever it
 * returns afterwards is dropped. A thread cannot be interrupted: @func runs
 * on until it returns. If it had not started yet, it does not run.
 *
 * The worker threads are shared by the whole process: at most 32, or the
 * number of processors plus 4 if that is fewer, as in asyncio's default
 * executor. weft_run() does not return before the jobs started from its
 * context are over, @notify included, as asyncio.run() shuts the default
 * executor down.
 *
 * Returns: (transfer full): a future for @func's outcome
 */
WeftFuture *
weft_to_thread (WeftThreadFunc  func,
                gpointer        user_data,
                GDestroyNotify  notify)
{
  g_autoptr(GError) error = NULL;
  WeftFuture *future;
  Job *job;

  g_return_val_if_fail (func != NULL, NULL);

  job = g_new0 (Job, 1);
  job->func = func;
  job->user_data = user_data;
  job->notify = notify;
  /* A GIO future's own cancellable is cancelled with it: the function
   * gets it as its GCancellable, and the worker completes the future. */
  job->future = weft_gio_future_new ();
  job->cancellable = g_object_ref (weft_gio_future_get_cancellable (WEFT_GIO_FUTURE (job->future)));
  future = g_object_ref (job->future);
  job->context = weft_context_copy_current ();
  job->scheduler = weft_future_get_scheduler (future);
  weft_scheduler_hold_context (job->scheduler);
  weft_scheduler_begin_background (job->scheduler);
  __atomic_store_n (&job->published, TRUE, __ATOMIC_RELEASE);

  /* Cannot fail: pools that are not exclusive start threads lazily. */
  g_thread_pool_push (get_default_pool (), job, &error);
  g_assert_no_error (error);

  return future;
}
