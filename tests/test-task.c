/* test-task.c — WeftTask scheduling and outcomes: rules T1–T5, T20, F9, C1
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-test-utils.h"

static void
log_and_return (WeftTask *task,
                gpointer  user_data)
{
  weft_test_log (user_data, "%s", weft_task_get_name (task));
}

static void
log_callback (WeftFuture *future,
              gpointer    user_data)
{
  GString *log = g_object_get_data (G_OBJECT (future), "log");

  weft_test_log (log, "%s", (const char *) user_data);
}

/* T1: tasks start in creation order, after what was already queued, and
 * nothing runs before the loop gets there */
static void
test_fifo_start (WeftTestLoop  *loop,
                 gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftFuture) done = weft_future_new ();
  g_autoptr(WeftTask) a = NULL;
  g_autoptr(WeftTask) b = NULL;
  g_autoptr(WeftTask) c = NULL;

  g_object_set_data (G_OBJECT (done), "log", log);
  weft_future_set_boolean (done, TRUE);
  weft_future_add_done_callback (done, log_callback, "callback", NULL);

  a = weft_fiber_new ("a", log_and_return, log, NULL);
  b = weft_fiber_new ("b", log_and_return, log, NULL);
  c = weft_fiber_new ("c", log_and_return, log, NULL);
  g_assert_cmpstr (log->str, ==, "");
  g_assert_false (weft_future_is_done (WEFT_FUTURE (a)));

  g_assert_cmpuint (weft_test_pass (), ==, 4);
  g_assert_cmpstr (log->str, ==, "callback a b c");
  g_assert_true (weft_future_is_done (WEFT_FUTURE (c)));
}

static void
check_current (WeftTask *task,
               gpointer  user_data)
{
  g_assert_true (weft_task_get_current () == task);
  weft_sleep (0, NULL);
  g_assert_true (weft_task_get_current () == task);
}

static void
record_current (WeftFuture *future,
                gpointer    user_data)
{
  *(WeftTask **) user_data = weft_task_get_current ();
}

/* T2, I1: the current task is the one being stepped, and none outside */
static void
test_current_task (WeftTestLoop  *loop,
                   gconstpointer  data)
{
  g_autoptr(WeftTask) a = weft_fiber_new (NULL, check_current, NULL, NULL);
  g_autoptr(WeftTask) b = weft_fiber_new (NULL, check_current, NULL, NULL);
  WeftTask *in_callback = (WeftTask *) 0x1;

  g_assert_null (weft_task_get_current ());
  weft_future_add_done_callback (WEFT_FUTURE (a), record_current, &in_callback, NULL);
  weft_test_run_until_idle ();
  g_assert_null (weft_task_get_current ());
  g_assert_null (in_callback);
  g_assert_true (weft_future_is_done (WEFT_FUTURE (b)));
}

static void
return_int (WeftTask *task,
            gpointer  user_data)
{
  weft_task_return_int64 (task, GPOINTER_TO_INT (user_data));
}

static void
return_error (WeftTask *task,
              gpointer  user_data)
{
  weft_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "missing"));
}

static void
return_cancelled (WeftTask *task,
                  gpointer  user_data)
{
  weft_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "by hand"));
}

/* T3: return → finished with the value; an error → finished with it; a
 * cancellation error → cancelled, though nobody called cancel() */
static void
test_step_outcomes (WeftTestLoop  *loop,
                    gconstpointer  data)
{
  g_autoptr(WeftTask) value = weft_fiber_new (NULL, return_int, GINT_TO_POINTER (7), NULL);
  g_autoptr(WeftTask) failing = weft_fiber_new (NULL, return_error, NULL, NULL);
  g_autoptr(WeftTask) cancelling = weft_fiber_new (NULL, return_cancelled, NULL, NULL);
  g_autoptr(GError) error = NULL;

  weft_test_pass ();

  g_assert_cmpint (weft_future_get_int64 (WEFT_FUTURE (value), &error), ==, 7);
  g_assert_no_error (error);

  g_assert_cmpint (weft_future_get_state (WEFT_FUTURE (failing)), ==, WEFT_FUTURE_STATE_FINISHED);
  g_assert_false (weft_future_propagate (WEFT_FUTURE (failing), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (weft_future_is_cancelled (WEFT_FUTURE (cancelling)));
  g_assert_cmpuint (weft_task_get_cancelling (cancelling), ==, 0);
  g_assert_cmpstr (weft_future_get_cancel_message (WEFT_FUTURE (cancelling)), ==, "by hand");
}

static void
await_self (WeftTask *task,
            gpointer  user_data)
{
  weft_test_await_data (task, task);
}

/* T3: a task awaiting itself gets WEFT_ERROR_AWAIT_SELF at its next step */
static void
test_await_self (WeftTestLoop  *loop,
                 gconstpointer  data)
{
  g_autoptr(WeftTask) task = weft_fiber_new (NULL, await_self, NULL, NULL);
  g_autoptr(GError) error = NULL;

  weft_test_pass ();
  g_assert_false (weft_future_is_done (WEFT_FUTURE (task)));
  weft_test_pass ();
  g_assert_false (weft_future_propagate (WEFT_FUTURE (task), &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_AWAIT_SELF);
}

/* T3: a future of another context is refused at the next step */
static void
test_await_other_context (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  g_autoptr(GMainContext) other = g_main_context_new ();
  g_autoptr(WeftFuture) foreign = NULL;
  g_autoptr(WeftTask) task = NULL;
  g_autoptr(GError) error = NULL;

  g_main_context_push_thread_default (other);
  foreign = weft_future_new ();
  g_main_context_pop_thread_default (other);

  task = weft_fiber_new (NULL, weft_test_await_data, foreign, NULL);
  weft_test_run_until_idle ();
  g_assert_false (weft_future_propagate (WEFT_FUTURE (task), &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_WRONG_CONTEXT);
  g_assert_false (weft_future_is_done (foreign));
}

static void
step_does_nothing (WeftTask     *task,
                   WeftFuture   *awaited,
                   const GError *error,
                   gpointer      user_data)
{
}

/* T3: a step that neither awaits, yields nor returns is a bad yield */
static void
test_bad_yield (WeftTestLoop  *loop,
                gconstpointer  data)
{
  g_autoptr(WeftTask) task = weft_task_new (NULL, step_does_nothing, NULL, NULL);
  g_autoptr(GError) error = NULL;

  weft_test_pass ();
  g_assert_false (weft_future_propagate (WEFT_FUTURE (task), &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_BAD_YIELD);
}

typedef struct
{
  GString    *log;
  WeftFuture *future;
  int         steps;
} StepState;

static void
stackless_waiter (WeftTask     *task,
                  WeftFuture   *awaited,
                  const GError *error,
                  gpointer      user_data)
{
  StepState *state = user_data;

  if (state->steps++ == 0)
    {
      weft_test_log (state->log, "%s:wait", weft_task_get_name (task));
      weft_task_await (task, state->future);
      return;
    }

  g_assert_true (awaited == state->future);
  g_assert_no_error (error);
  weft_test_log (state->log, "%s:%" G_GINT64_FORMAT, weft_task_get_name (task),
                 weft_future_get_int64 (awaited, NULL));
  weft_task_return_void (task);
}

/* T4: waiters resume the pass after the future completes, in the order they
 * started waiting; a callback added after completion runs after them */
static void
test_wakeup_order (WeftTestLoop  *loop,
                   gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftFuture) future = weft_future_new ();
  StepState sa = { log, future, 0 }, sb = { log, future, 0 }, sc = { log, future, 0 };
  g_autoptr(WeftTask) a = weft_task_new ("a", stackless_waiter, &sa, NULL);
  g_autoptr(WeftTask) b = weft_task_new ("b", stackless_waiter, &sb, NULL);
  g_autoptr(WeftTask) c = weft_task_new ("c", stackless_waiter, &sc, NULL);

  g_object_set_data (G_OBJECT (future), "log", log);
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "a:wait b:wait c:wait");
  g_assert_true (weft_task_is_suspended (a));
  g_assert_true (weft_task_get_awaited (a) == future);

  weft_future_set_int64 (future, 5);
  weft_future_add_done_callback (future, log_callback, "after", NULL);
  g_assert_cmpstr (log->str, ==, "a:wait b:wait c:wait");

  g_assert_cmpuint (weft_test_pass (), ==, 4);
  g_assert_cmpstr (log->str, ==, "a:wait b:wait c:wait a:5 b:5 c:5 after");
}

static void
inner_returns (WeftTask *task,
               gpointer  user_data)
{
  weft_task_return_int64 (task, 11);
}

static void
outer_awaits_task (WeftTask *task,
                   gpointer  user_data)
{
  g_autoptr(WeftTask) inner = weft_fiber_new ("inner", inner_returns, NULL, NULL);
  g_autoptr(GError) error = NULL;
  gint64 value = weft_await_int64 (WEFT_FUTURE (inner), &error);

  g_assert_no_error (error);
  weft_task_return_int64 (task, value + 1);
}

/* T4: awaiting a task costs one extra pass per level of nesting */
static void
test_await_task_timing (WeftTestLoop  *loop,
                        gconstpointer  data)
{
  g_autoptr(WeftTask) outer = weft_fiber_new ("outer", outer_awaits_task, NULL, NULL);

  weft_test_pass ();    /* outer creates inner and waits */
  weft_test_pass ();    /* inner returns, waking outer */
  g_assert_false (weft_future_is_done (WEFT_FUTURE (outer)));
  weft_test_pass ();    /* outer resumes */
  g_assert_cmpint (weft_future_get_int64 (WEFT_FUTURE (outer), NULL), ==, 12);
}

static void
await_done_future (WeftTask *task,
                   gpointer  user_data)
{
  g_autoptr(WeftFuture) done = weft_future_new ();
  g_autoptr(GError) error = NULL;

  weft_future_set_int64 (done, 3);
  weft_task_return_int64 (task, weft_await_int64 (done, &error));
}

typedef struct
{
  WeftFuture *done;
  int         steps;
} DoneAwaitState;

static void
stackless_await_done (WeftTask     *task,
                      WeftFuture   *awaited,
                      const GError *error,
                      gpointer      user_data)
{
  DoneAwaitState *state = user_data;

  if (state->steps++ == 0)
    weft_task_await (task, state->done);
  else
    weft_task_return_int64 (task, weft_future_get_int64 (awaited, NULL));
}

/* F9: awaiting a done future returns without suspending, for both kinds */
static void
test_await_done_no_suspension (WeftTestLoop  *loop,
                               gconstpointer  data)
{
  g_autoptr(WeftFuture) done = weft_future_new ();
  DoneAwaitState state = { done, 0 };
  g_autoptr(WeftTask) fiber = weft_fiber_new (NULL, await_done_future, NULL, NULL);
  g_autoptr(WeftTask) stackless = NULL;

  weft_future_set_int64 (done, 4);
  stackless = weft_task_new (NULL, stackless_await_done, &state, NULL);

  g_assert_cmpuint (weft_test_pass (), ==, 2);
  g_assert_cmpint (weft_future_get_int64 (WEFT_FUTURE (fiber), NULL), ==, 3);
  g_assert_cmpint (weft_future_get_int64 (WEFT_FUTURE (stackless), NULL), ==, 4);
  g_assert_cmpint (state.steps, ==, 2);
}

/* T5: a task's outcome cannot be set from outside */
static void
test_task_set_methods (WeftTestLoop  *loop,
                       gconstpointer  data)
{
  g_autoptr(WeftTask) task = weft_fiber_new (NULL, return_int, GINT_TO_POINTER (1), NULL);

  g_test_expect_message ("Weft", G_LOG_LEVEL_CRITICAL, "*does not support weft_future_set*");
  weft_future_set_int64 (WEFT_FUTURE (task), 2);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Weft", G_LOG_LEVEL_CRITICAL, "*does not support weft_future_set*");
  weft_future_set_error (WEFT_FUTURE (task), g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "no"));
  g_test_assert_expected_messages ();

  weft_test_pass ();
  g_assert_cmpint (weft_future_get_int64 (WEFT_FUTURE (task), NULL), ==, 1);
}

static void
return_without_value (WeftTask *task,
                      gpointer  user_data)
{
}

/* T20: a finished task can be awaited again and again, same outcome */
static void
await_many_times (WeftTask *task,
                  gpointer  user_data)
{
  WeftFuture *finished = user_data;

  for (int i = 0; i < 3; i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (weft_await (finished, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
      g_assert_cmpstr (error->message, ==, "missing");
    }
}

static void
test_await_finished_task (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  g_autoptr(WeftTask) failing = weft_fiber_new (NULL, return_error, NULL, NULL);
  g_autoptr(WeftTask) empty = weft_fiber_new (NULL, return_without_value, NULL, NULL);
  g_autoptr(WeftTask) awaiter = NULL;
  g_auto(GValue) value = G_VALUE_INIT;

  weft_test_pass ();
  awaiter = weft_fiber_new (NULL, await_many_times, failing, NULL);
  weft_test_run_until_idle ();
  g_assert_true (weft_future_propagate (WEFT_FUTURE (awaiter), NULL));

  /* A fiber that returns without a value finished with none. */
  g_assert_true (weft_future_get_value (WEFT_FUTURE (empty), &value, NULL));
  g_assert_false (G_IS_VALUE (&value));
}

static void
yield_then_return (WeftTask     *task,
                   WeftFuture   *awaited,
                   const GError *error,
                   gpointer      user_data)
{
  int *steps = user_data;

  if ((*steps)++ < 2)
    weft_task_yield (task);
  else
    weft_task_return_int64 (task, *steps);
}

/* T3: a bare yield reschedules the step behind what is ready */
static void
test_stackless_yield (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  int steps = 0;
  g_autoptr(WeftTask) task = weft_task_new (NULL, yield_then_return, &steps, NULL);

  weft_test_pass ();
  g_assert_cmpint (steps, ==, 1);
  weft_test_pass ();
  g_assert_cmpint (steps, ==, 2);
  weft_test_pass ();
  g_assert_cmpint (weft_future_get_int64 (WEFT_FUTURE (task), NULL), ==, 3);
}

static void
free_marker (gpointer data)
{
  *(gboolean *) data = TRUE;
}

/* T19, in GLib terms: the context owns a task until it finishes, so a
 * pending task is never destroyed; dropping every reference to it does not
 * stop it, and its data is freed after */
static void
test_fire_and_forget (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  gboolean freed = FALSE;

  g_object_unref (weft_fiber_new (NULL, return_without_value, &freed, free_marker));
  g_assert_false (freed);
  weft_test_pass ();
  g_assert_true (freed);
}

/* weft_task_await_take(): the task owns the future it awaits, so a future
 * made for the await goes as soon as the task is done with it.
 */
static void
await_taken_step (WeftTask     *task,
                  WeftFuture   *awaited,
                  const GError *error,
                  gpointer      user_data)
{
  GWeakRef *taken = user_data;

  if (awaited == NULL)
    {
      WeftFuture *future = weft_future_new ();

      g_weak_ref_set (taken, future);
      weft_task_await_take (task, future);
      /* Misuse: the step already ended; the future is still released. */
      g_test_expect_message ("Weft", G_LOG_LEVEL_CRITICAL, "*already ended this step*");
      weft_task_await_take (task, weft_future_new ());
      g_test_assert_expected_messages ();
      return;
    }

  weft_task_return_int64 (task, weft_future_get_int64 (awaited, NULL));
}

static void
test_await_take (WeftTestLoop  *loop,
                 gconstpointer  data)
{
  GWeakRef taken;
  g_autoptr(WeftTask) task = NULL;
  g_autoptr(GObject) alive = NULL;

  g_weak_ref_init (&taken, NULL);
  task = weft_task_new (NULL, await_taken_step, &taken, NULL);
  weft_test_pass ();

  alive = g_weak_ref_get (&taken);
  g_assert_nonnull (alive);      /* held by the suspended task alone */
  weft_future_set_int64 (WEFT_FUTURE (alive), 5);
  g_clear_object (&alive);

  weft_test_run_until_done (WEFT_FUTURE (task));
  weft_test_assert_finished_int (task, 5);
  g_assert_null (g_weak_ref_get (&taken));
  g_weak_ref_clear (&taken);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  WEFT_TEST_ADD ("/task/fifo-start", test_fifo_start);
  WEFT_TEST_ADD ("/task/current-task", test_current_task);
  WEFT_TEST_ADD ("/task/step-outcomes", test_step_outcomes);
  WEFT_TEST_ADD ("/task/await-self", test_await_self);
  WEFT_TEST_ADD ("/task/await-other-context", test_await_other_context);
  WEFT_TEST_ADD ("/task/bad-yield", test_bad_yield);
  WEFT_TEST_ADD ("/task/wakeup-order", test_wakeup_order);
  WEFT_TEST_ADD ("/task/await-task-timing", test_await_task_timing);
  WEFT_TEST_ADD ("/task/await-done-no-suspension", test_await_done_no_suspension);
  WEFT_TEST_ADD ("/task/set-methods", test_task_set_methods);
  WEFT_TEST_ADD ("/task/await-finished-task", test_await_finished_task);
  WEFT_TEST_ADD ("/task/stackless-yield", test_stackless_yield);
  WEFT_TEST_ADD ("/task/fire-and-forget", test_fire_and_forget);
  WEFT_TEST_ADD ("/task/await-take", test_await_take);

  return g_test_run ();
}
