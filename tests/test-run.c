/* test-run.c — weft_run() and weft_run_until_complete(): asyncio.run
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-test-utils.h"

static void
answer (WeftTask *task,
        gpointer  user_data)
{
  g_assert_true (weft_sleep (0.001, NULL));
  weft_task_return_string (task, "answer");
}

/* asyncio.run: the main coroutine runs on a fresh context to completion */
static void
test_run_value (void)
{
  GMainContext *outer = g_main_context_get_thread_default ();
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  g_assert_true (weft_run (answer, NULL, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (g_value_get_string (&value), ==, "answer");
  g_assert_true (g_main_context_get_thread_default () == outer);
}

static void
fail (WeftTask *task,
      gpointer  user_data)
{
  weft_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_BUSY, "busy"));
}

static void
test_run_error (void)
{
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;

  g_assert_false (weft_run (fail, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_clear_error (&error);

  g_assert_false (weft_run (fail, NULL, &value, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_assert_false (G_IS_VALUE (&value));
}

typedef struct
{
  gboolean cancelled;
  gboolean cleaned_up;
} Leftover;

static void
linger (WeftTask *task,
        gpointer  user_data)
{
  Leftover *state = user_data;
  g_autoptr(GError) error = NULL;

  if (!weft_sleep (3600, &error))
    {
      state->cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      /* Cleanup may still await: the leftover is waited for, not dropped. */
      weft_task_uncancel (task);
      state->cleaned_up = weft_sleep (0, NULL);
      weft_task_return_error (task, g_steal_pointer (&error));
    }
}

static void
spawn_and_leave (WeftTask *task,
                 gpointer  user_data)
{
  g_object_unref (weft_fiber_new ("leftover", linger, user_data, NULL));
  g_assert_true (weft_sleep (0, NULL));
}

/* asyncio.run cancels the tasks main left behind, and waits for them */
static void
test_run_cancels_leftovers (void)
{
  Leftover state = { FALSE, FALSE };

  g_assert_true (weft_run (spawn_and_leave, &state, NULL, NULL));
  g_assert_true (state.cancelled);
  g_assert_true (state.cleaned_up);
}

static void
nested_run (WeftTask *task,
            gpointer  user_data)
{
  g_test_expect_message ("Weft", G_LOG_LEVEL_CRITICAL, "*weft_task_get_current () == NULL*");
  g_assert_false (weft_run (answer, NULL, NULL, NULL));
  g_test_assert_expected_messages ();
}

/* weft_run from inside a task is refused, as asyncio.run is in a running loop */
static void
test_run_nested (void)
{
  g_assert_true (weft_run (nested_run, NULL, NULL, NULL));
}

/* run_until_complete drives the future's own context */
static void
test_run_until_complete (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  g_autoptr(WeftTask) task = weft_fiber_new (NULL, answer, NULL, NULL);
  g_autoptr(WeftFuture) failed = weft_future_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (weft_run_until_complete (WEFT_FUTURE (task), &error));
  g_assert_no_error (error);

  weft_future_set_error_literal (failed, G_IO_ERROR, G_IO_ERROR_FAILED, "no");
  g_assert_false (weft_run_until_complete (failed, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
}

/* Finalization may happen on GLib's worker thread, which reaps children:
 * the gate is a pthread one, which ThreadSanitizer sees.
 */
static void
mark_finalized (gpointer  data,
                GObject  *where_the_object_was)
{
  weft_test_gate_add (data, 1);
}

typedef struct
{
  GSubprocess *sleeper;
  GWeakRef     op;
} AbandonedWait;

static void
abandon_wait (WeftTask *task,
              gpointer  user_data)
{
  AbandonedWait *wait = user_data;
  g_autoptr(WeftFuture) op = weft_subprocess_wait (wait->sleeper);
  g_autoptr(WeftFuture) timeout = weft_wait_for (op, 0.01);
  g_autoptr(GError) error = NULL;

  g_weak_ref_set (&wait->op, op);

  /* The main fiber ends in the pass that cancels the wait: GIO's own
   * report of the cancellation has not come yet. */
  g_assert_false (weft_await (timeout, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_true (weft_future_is_cancelled (op));
}

/* asyncio.run closes its loop only once nothing is pending on it: the
 * callback GIO still owes a cancelled operation runs before weft_run
 * returns, and frees the future, the GTask and its source object. */
static void
test_run_waits_for_cancelled_gio (void)
{
  const char * const argv[] = { "sleep", "1000", NULL };
  WeftTestGate sleeper_finalized;
  AbandonedWait wait = { 0 };
  g_autoptr(GError) error = NULL;

  weft_test_gate_init (&sleeper_finalized);
  wait.sleeper = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_NONE, &error);
  g_assert_no_error (error);
  g_object_weak_ref (G_OBJECT (wait.sleeper), mark_finalized, &sleeper_finalized);

  g_assert_true (weft_run (abandon_wait, &wait, NULL, NULL));
  g_assert_null (g_weak_ref_get (&wait.op));

  /* GLib's worker drops its own reference once it reaped the killed child. */
  g_clear_object (&wait.sleeper);
  g_assert_true (weft_test_gate_wait (&sleeper_finalized, 1, WEFT_TEST_TIMEOUT));
  weft_test_gate_clear (&sleeper_finalized);
}

typedef struct
{
  WeftTestGate gate;     /* opened once the main fiber is over */
  int  jobs_notified;    /* atomic */
} Jobs;

static gboolean
job_after_gate (GCancellable  *cancellable,
                GValue        *result,
                gpointer       user_data,
                GError       **error)
{
  Jobs *jobs = user_data;

  g_assert_true (weft_test_gate_wait (&jobs->gate, 1, WEFT_TEST_TIMEOUT));

  /* Still busy while weft_run winds down: without waiting, it would be gone. */
  g_usleep (20 * 1000);
  return TRUE;
}

static void
job_notified (gpointer user_data)
{
  Jobs *jobs = user_data;

  g_atomic_int_inc (&jobs->jobs_notified);
}

static void
open_gate_when_cancelled (WeftTask *task,
                          gpointer  user_data)
{
  Jobs *jobs = user_data;

  g_assert_false (weft_sleep (3600, NULL));
  weft_test_gate_add (&jobs->gate, 1);
}

static void
start_jobs (WeftTask *task,
            gpointer  user_data)
{
  Jobs *jobs = user_data;
  g_autoptr(WeftFuture) abandoned = weft_to_thread (job_after_gate, jobs, job_notified);
  g_autoptr(WeftFuture) timeout = weft_wait_for (abandoned, 0.001);
  g_autoptr(GError) error = NULL;

  g_object_unref (weft_to_thread (job_after_gate, jobs, job_notified));
  g_object_unref (weft_fiber_new ("gatekeeper", open_gate_when_cancelled, jobs, NULL));

  g_assert_false (weft_await (timeout, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
}

/* asyncio.run shuts the default executor down: the to_thread jobs started
 * in the run, awaited or not, cancelled or not, are over when it returns. */
static void
test_run_waits_for_to_thread (void)
{
  Jobs jobs = { 0 };

  weft_test_gate_init (&jobs.gate);
  g_assert_true (weft_run (start_jobs, &jobs, NULL, NULL));
  g_assert_cmpint (g_atomic_int_get (&jobs.jobs_notified), ==, 2);
  weft_test_gate_clear (&jobs.gate);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/run/value", test_run_value);
  g_test_add_func ("/run/error", test_run_error);
  g_test_add_func ("/run/cancels-leftovers", test_run_cancels_leftovers);
  g_test_add_func ("/run/nested", test_run_nested);
  g_test_add_func ("/run/waits-for-cancelled-gio", test_run_waits_for_cancelled_gio);
  g_test_add_func ("/run/waits-for-to-thread", test_run_waits_for_to_thread);
  WEFT_TEST_ADD ("/run/until-complete", test_run_until_complete);

  return g_test_run ();
}
