/* test-wait.c — weft_wait_future_new() and weft_as_completed_new(): rules W1–W6
 * and AC1–AC5
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include "weft-test-utils.h"

static gboolean
array_has (GPtrArray  *array,
           WeftFuture *future)
{
  return g_ptr_array_find (array, future, NULL);
}

/* Checks the split: @n_done futures of @futures done, the rest pending. */
static void
assert_split (WeftWaitFuture    *wait,
              WeftFuture **futures,
              guint        n_done,
              guint        n_pending)
{
  GPtrArray *done = weft_wait_future_get_done (wait);
  GPtrArray *pending = weft_wait_future_get_pending (wait);

  g_assert_cmpuint (done->len, ==, n_done);
  g_assert_cmpuint (pending->len, ==, n_pending);
  for (guint i = 0; i < n_done; i++)
    g_assert_true (array_has (done, futures[i]));
  for (guint i = 0; i < n_pending; i++)
    g_assert_true (array_has (pending, futures[n_done + i]));
}

/* W1, test_wait_errors, test_wait_invalid_args: no futures, or a NaN
 * timeout, is an argument error */
static void
test_wait_errors (WeftTestLoop  *loop,
                  gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  WeftFuture *futures[] = { a };
  g_autoptr(WeftWaitFuture) empty = weft_wait_future_new (NULL, 0, -1, WEFT_RETURN_WHEN_ALL_COMPLETED);
  g_autoptr(WeftWaitFuture) nan = weft_wait_future_new (futures, 1, NAN, WEFT_RETURN_WHEN_ALL_COMPLETED);
  g_autoptr(GError) error = NULL;

  g_assert_false (weft_future_propagate (WEFT_FUTURE (empty), &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "Set of Tasks/Futures is empty.");
  g_clear_error (&error);
  g_assert_false (weft_future_propagate (WEFT_FUTURE (nan), &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_INVALID_ARGUMENT);
}

/* W1, W2, test_wait, test_wait_duplicate_coroutines: ALL_COMPLETED waits
 * for every future; duplicates count once */
static void
test_wait_all_completed (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  g_autoptr(WeftFuture) b = weft_future_new ();
  WeftFuture *futures[] = { a, b, a };
  g_autoptr(WeftWaitFuture) wait = weft_wait_future_new (futures, 3, -1, WEFT_RETURN_WHEN_ALL_COMPLETED);
  g_autoptr(WeftTask) task = weft_test_spawn_awaiting_future (KIND (data), WEFT_FUTURE (wait));

  weft_test_pass ();
  weft_future_set_int64 (a, 1);
  weft_test_pass ();
  g_assert_false (weft_future_is_done (WEFT_FUTURE (wait)));

  weft_future_set_int64 (b, 2);
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpint (weft_future_get_state (WEFT_FUTURE (wait)), ==, WEFT_FUTURE_STATE_FINISHED);
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_true (weft_future_propagate (WEFT_FUTURE (task), NULL));
  assert_split (wait, futures, 2, 0);
}

/* W2, test_wait_first_completed: a cancellation counts as completion; the
 * other future is neither cancelled nor waited on any more */
static void
test_wait_first_completed (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  g_autoptr(WeftFuture) b = weft_future_new ();
  WeftFuture *futures[] = { b, a };
  g_autoptr(WeftWaitFuture) wait = weft_wait_future_new (futures, 2, -1, WEFT_RETURN_WHEN_FIRST_COMPLETED);

  weft_future_cancel (b, NULL);
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_true (weft_future_is_done (WEFT_FUTURE (wait)));
  assert_split (wait, futures, 1, 1);
  g_assert_false (weft_future_is_done (a));

  /* Its waiter was withdrawn: completing it queues nothing. */
  weft_future_set_int64 (a, 1);
  g_assert_cmpuint (weft_test_pass (), ==, 0);
}

/* W2, test_wait_first_exception, test_wait_with_exception: a cancellation
 * is no exception, an error is */
static void
test_wait_first_exception (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  g_autoptr(WeftFuture) b = weft_future_new ();
  g_autoptr(WeftFuture) c = weft_future_new ();
  WeftFuture *futures[] = { a, b, c };
  g_autoptr(WeftWaitFuture) wait = weft_wait_future_new (futures, 3, -1, WEFT_RETURN_WHEN_FIRST_EXCEPTION);

  weft_future_cancel (a, NULL);
  weft_future_set_int64 (b, 1);
  weft_test_pass ();
  g_assert_false (weft_future_is_done (WEFT_FUTURE (wait)));

  weft_future_set_error_literal (c, G_IO_ERROR, G_IO_ERROR_FAILED, "c failed");
  weft_test_pass ();
  g_assert_true (weft_future_propagate (WEFT_FUTURE (wait), NULL));
  assert_split (wait, futures, 3, 0);
}

/* W2, test_wait_first_exception_in_wait: without errors FIRST_EXCEPTION is
 * ALL_COMPLETED */
static void
test_wait_first_exception_none (WeftTestLoop  *loop,
                                gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  g_autoptr(WeftFuture) b = weft_future_new ();
  WeftFuture *futures[] = { a, b };
  g_autoptr(WeftWaitFuture) wait = weft_wait_future_new (futures, 2, -1, WEFT_RETURN_WHEN_FIRST_EXCEPTION);

  weft_future_set_int64 (a, 1);
  weft_test_pass ();
  g_assert_false (weft_future_is_done (WEFT_FUTURE (wait)));
  weft_future_set_int64 (b, 1);
  weft_test_pass ();
  assert_split (wait, futures, 2, 0);
}

/* W3, test_wait_with_timeout: the timeout ends the wait without an error
 * and cancels nothing; a zero timeout is due at the next pass */
static void
test_wait_timeout (WeftTestLoop  *loop,
                   gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  g_autoptr(WeftFuture) b = weft_future_new ();
  WeftFuture *futures[] = { a, b };
  g_autoptr(WeftWaitFuture) zero = weft_wait_future_new (futures, 2, 0, WEFT_RETURN_WHEN_ALL_COMPLETED);
  g_autoptr(WeftWaitFuture) later = weft_wait_future_new (futures, 2, 0.01, WEFT_RETURN_WHEN_ALL_COMPLETED);
  g_autoptr(WeftTask) task = weft_test_spawn_awaiting_future (KIND (data), WEFT_FUTURE (later));

  weft_future_set_int64 (a, 1);
  g_assert_false (weft_future_is_done (WEFT_FUTURE (zero)));
  weft_test_pass ();
  g_assert_true (weft_future_propagate (WEFT_FUTURE (zero), NULL));
  assert_split (zero, futures, 1, 1);

  g_assert_false (weft_future_is_done (WEFT_FUTURE (later)));
  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_true (weft_future_propagate (WEFT_FUTURE (task), NULL));
  assert_split (later, futures, 1, 1);
  g_assert_false (weft_future_is_done (b));

  weft_future_set_int64 (b, 2);
  g_assert_cmpuint (weft_test_run_until_idle (), ==, 0);
}

/* W4, test_wait_really_done: the split is taken when the caller looks, so
 * a future that completed since the wait finished counts as done */
static void
test_wait_really_done (WeftTestLoop  *loop,
                       gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  g_autoptr(WeftFuture) b = weft_future_new ();
  WeftFuture *futures[] = { a, b };
  g_autoptr(WeftWaitFuture) wait = weft_wait_future_new (futures, 2, -1, WEFT_RETURN_WHEN_FIRST_COMPLETED);
  g_autoptr(WeftTask) task = weft_test_spawn_awaiting_future (KIND (data), WEFT_FUTURE (wait));

  weft_test_pass ();
  weft_future_set_int64 (a, 1);
  weft_test_pass ();
  g_assert_true (weft_future_is_done (WEFT_FUTURE (wait)));
  weft_future_set_int64 (b, 2);
  weft_test_pass ();
  g_assert_true (weft_future_propagate (WEFT_FUTURE (task), NULL));
  assert_split (wait, futures, 2, 0);
}

/* W5, test_yield_wait_does_not_shield_cancel: cancelling the task that
 * waits cancels the wait and nothing it watches */
static void
test_wait_cancel_caller (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  g_autoptr(WeftFuture) b = weft_future_new ();
  WeftFuture *futures[] = { a, b };
  g_autoptr(WeftWaitFuture) wait = weft_wait_future_new (futures, 2, 10, WEFT_RETURN_WHEN_ALL_COMPLETED);
  g_autoptr(WeftTask) task = weft_test_spawn_awaiting_future (KIND (data), WEFT_FUTURE (wait));

  weft_test_pass ();
  g_assert_true (weft_task_cancel (task, "stop"));
  weft_test_assert_future_cancelled (wait, "stop");
  g_assert_false (weft_future_is_done (a));
  g_assert_false (weft_future_is_done (b));

  weft_test_pass ();
  weft_test_assert_future_cancelled (task, "stop");
  assert_split (wait, futures, 0, 2);

  weft_future_set_int64 (a, 1);
  weft_future_set_int64 (b, 2);
  g_assert_cmpuint (weft_test_run_until_idle (), ==, 0);
}

/* W6: even when everything is done, the wait finishes one pass later */
static void
test_wait_always_suspends (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  WeftFuture *futures[] = { a };
  g_autoptr(WeftWaitFuture) wait = NULL;

  weft_future_set_int64 (a, 1);
  wait = weft_wait_future_new (futures, 1, -1, WEFT_RETURN_WHEN_FIRST_COMPLETED);
  g_assert_false (weft_future_is_done (WEFT_FUTURE (wait)));
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_true (weft_future_is_done (WEFT_FUTURE (wait)));
  assert_split (wait, futures, 1, 0);
}

/* The input a request of as_completed got, checked to be done. */
static WeftFuture *
served (WeftFuture *request)
{
  g_autoptr(GError) error = NULL;
  WeftFuture *input = weft_future_dup_object (request, &error);

  g_assert_no_error (error);
  g_assert_true (WEFT_IS_FUTURE (input));
  g_assert_true (weft_future_is_done (input));
  g_object_unref (input);  /* the iterator keeps it */
  return input;
}

static void
assert_timed_out (WeftFuture *request)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (weft_future_propagate (request, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
}

/* AC1, test_as_completed_duplicate_coroutines: duplicates count once */
static void
test_as_completed_duplicates (WeftTestLoop  *loop,
                              gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  g_autoptr(WeftFuture) b = weft_future_new ();
  WeftFuture *futures[] = { a, b, a };
  g_autoptr(WeftAsCompleted) it = weft_as_completed_new (futures, 3, -1);
  g_autoptr(WeftAsCompleted) empty = weft_as_completed_new (NULL, 0, -1);

  g_assert_cmpuint (weft_as_completed_get_n_left (it), ==, 2);
  g_assert_null (weft_as_completed_next (empty));

  weft_future_set_int64 (a, 1);
  weft_future_set_int64 (b, 2);
  weft_test_run_until_idle ();
}

/* AC3, test_as_completed_same_tasks_in_as_out: the original futures, in
 * completion order, already done; one that completed before next() is
 * served at once */
static void
test_as_completed_order (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  g_autoptr(WeftFuture) b = weft_future_new ();
  g_autoptr(WeftFuture) c = weft_future_new ();
  WeftFuture *futures[] = { a, b, c };
  g_autoptr(WeftAsCompleted) it = weft_as_completed_new (futures, 3, -1);
  g_autoptr(WeftFuture) first = weft_as_completed_next (it);
  g_autoptr(WeftFuture) second = NULL;
  g_autoptr(WeftFuture) third = NULL;

  g_assert_false (weft_future_is_done (first));
  weft_future_set_int64 (b, 2);
  g_assert_false (weft_future_is_done (first));
  weft_test_pass ();
  g_assert_true (served (first) == b);

  weft_future_set_int64 (c, 3);
  weft_future_set_int64 (a, 1);
  weft_test_pass ();
  second = weft_as_completed_next (it);
  g_assert_true (served (second) == c);
  third = weft_as_completed_next (it);
  g_assert_true (served (third) == a);
  g_assert_null (weft_as_completed_next (it));
}

/* AC2, test_as_completed_reverse_wait: the futures handed out are new
 * ones, served in the order they were asked for, whichever is awaited
 * first; a cancelled one gives its turn to the next */
static void
test_as_completed_plain (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  g_autoptr(WeftFuture) b = weft_future_new ();
  g_autoptr(WeftFuture) c = weft_future_new ();
  WeftFuture *futures[] = { a, b, c };
  g_autoptr(WeftAsCompleted) it = weft_as_completed_new (futures, 3, -1);
  g_autoptr(WeftFuture) r1 = weft_as_completed_next (it);
  g_autoptr(WeftFuture) r2 = weft_as_completed_next (it);
  g_autoptr(WeftFuture) r3 = weft_as_completed_next (it);
  g_autoptr(WeftTask) task = weft_test_spawn_awaiting_future (KIND (data), r3);

  g_assert_null (weft_as_completed_next (it));
  g_assert_true (r1 != a && r1 != b && r1 != c);

  weft_test_pass ();
  weft_future_cancel (r1, NULL);
  weft_future_set_int64 (c, 3);
  weft_test_pass ();
  g_assert_true (served (r2) == c);
  g_assert_false (weft_future_is_done (r3));

  weft_future_set_int64 (a, 1);
  weft_test_passes (2);
  g_assert_true (served (r3) == a);
  g_assert_true (weft_future_propagate (WEFT_FUTURE (task), NULL));

  weft_future_set_int64 (b, 2);
  weft_test_run_until_idle ();
}

/* AC4, test_as_completed_with_timeout: after the timeout, what completed
 * first is served first, then every remaining input times out; nothing is
 * cancelled, and what completes later is not seen */
static void
test_as_completed_timeout (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  g_autoptr(WeftFuture) b = weft_future_new ();
  g_autoptr(WeftFuture) c = weft_future_new ();
  WeftFuture *futures[] = { a, b, c };
  g_autoptr(WeftAsCompleted) it = NULL;
  g_autoptr(WeftFuture) r1 = NULL;
  g_autoptr(WeftFuture) r2 = NULL;
  g_autoptr(WeftFuture) r3 = NULL;

  weft_future_set_int64 (a, 1);
  it = weft_as_completed_new (futures, 3, 0);
  r1 = weft_as_completed_next (it);
  g_assert_cmpuint (weft_test_pass (), ==, 2);
  g_assert_true (served (r1) == a);

  r2 = weft_as_completed_next (it);
  assert_timed_out (r2);
  weft_future_set_int64 (b, 2);
  g_assert_cmpuint (weft_test_run_until_idle (), ==, 0);
  r3 = weft_as_completed_next (it);
  assert_timed_out (r3);
  g_assert_null (weft_as_completed_next (it));
  g_assert_false (weft_future_is_done (c));
}

/* AC4, test_as_completed_with_unused_timeout: once every input is served
 * the timer is gone, and with it the iterator's hold on itself */
static void
test_as_completed_unused_timeout (WeftTestLoop  *loop,
                                  gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  WeftFuture *futures[] = { a };
  WeftAsCompleted *it = weft_as_completed_new (futures, 1, 100);
  g_autoptr(WeftFuture) r1 = weft_as_completed_next (it);

  g_object_add_weak_pointer (G_OBJECT (it), (gpointer *) &it);
  g_object_unref (it);
  g_assert_nonnull (it);

  weft_future_set_int64 (a, 1);
  weft_test_pass ();
  g_assert_true (served (r1) == a);
  g_assert_null (it);
}

/* AC5, test_as_completed_resume_iterator: the iterator goes on after a
 * break */
static void
test_as_completed_resume (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  g_autoptr(WeftFuture) b = weft_future_new ();
  WeftFuture *futures[] = { a, b };
  g_autoptr(WeftAsCompleted) it = weft_as_completed_new (futures, 2, -1);
  g_autoptr(WeftFuture) r1 = NULL;
  g_autoptr(WeftFuture) r2 = NULL;

  weft_future_set_int64 (a, 1);
  weft_future_set_int64 (b, 2);
  weft_test_pass ();

  r1 = weft_as_completed_next (it);
  g_assert_true (served (r1) == a);
  g_assert_cmpuint (weft_as_completed_get_n_left (it), ==, 1);

  r2 = weft_as_completed_next (it);
  g_assert_true (served (r2) == b);
  g_assert_null (weft_as_completed_next (it));
}

/* AC3: `async for` as a task body, summing the values in completion order */
typedef struct
{
  WeftAsCompleted *it;
  GString         *log;
  WeftFuture      *request;
} Loop;

static void
log_input (Loop       *l,
           WeftFuture *input)
{
  weft_test_log (l->log, "%" G_GINT64_FORMAT, weft_future_get_int64 (input, NULL));
}

static void
loop_fiber (WeftTask *task,
            gpointer  user_data)
{
  Loop *l = user_data;
  WeftFuture *request;

  while ((request = weft_as_completed_next (l->it)) != NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(WeftFuture) input = weft_await_object (request, &error);

      g_object_unref (request);
      if (input == NULL)
        {
          weft_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      log_input (l, input);
    }
  weft_task_return_void (task);
}

static void
loop_step (WeftTask     *task,
           WeftFuture   *awaited,
           const GError *error,
           gpointer      user_data)
{
  Loop *l = user_data;

  if (error != NULL)
    {
      weft_task_return_error (task, g_error_copy (error));
      return;
    }
  if (awaited != NULL)
    {
      g_autoptr(WeftFuture) input = weft_future_dup_object (awaited, NULL);

      log_input (l, input);
    }

  g_clear_object (&l->request);
  l->request = weft_as_completed_next (l->it);
  if (l->request != NULL)
    weft_task_await (task, l->request);
  else
    weft_task_return_void (task);
}

static void
test_as_completed_loop (WeftTestLoop  *loop,
                        gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  g_autoptr(WeftFuture) b = weft_future_new ();
  WeftFuture *futures[] = { a, b };
  Loop l = { weft_as_completed_new (futures, 2, -1), g_string_new (NULL), NULL };
  g_autoptr(WeftTask) task = NULL;

  task = KIND (data) == KIND_FIBER ? weft_fiber_new ("loop", loop_fiber, &l, NULL)
                                   : weft_task_new ("loop", loop_step, &l, NULL);
  weft_test_pass ();
  weft_future_set_int64 (b, 2);
  weft_test_passes (2);
  g_assert_cmpstr (l.log->str, ==, "2");
  weft_future_set_int64 (a, 1);
  weft_test_passes (2);
  g_assert_cmpstr (l.log->str, ==, "2 1");
  g_assert_true (weft_future_propagate (WEFT_FUTURE (task), NULL));

  g_clear_object (&l.request);
  g_object_unref (l.it);
  g_string_free (l.log, TRUE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  WEFT_TEST_ADD ("/wait/errors", test_wait_errors);
  weft_test_add_both_kinds ("wait", "all-completed", test_wait_all_completed);
  WEFT_TEST_ADD ("/wait/first-completed", test_wait_first_completed);
  WEFT_TEST_ADD ("/wait/first-exception", test_wait_first_exception);
  WEFT_TEST_ADD ("/wait/first-exception-none", test_wait_first_exception_none);
  weft_test_add_both_kinds ("wait", "timeout", test_wait_timeout);
  weft_test_add_both_kinds ("wait", "really-done", test_wait_really_done);
  weft_test_add_both_kinds ("wait", "cancel-caller", test_wait_cancel_caller);
  WEFT_TEST_ADD ("/wait/always-suspends", test_wait_always_suspends);

  WEFT_TEST_ADD ("/as-completed/duplicates", test_as_completed_duplicates);
  WEFT_TEST_ADD ("/as-completed/order", test_as_completed_order);
  weft_test_add_both_kinds ("as-completed", "plain", test_as_completed_plain);
  WEFT_TEST_ADD ("/as-completed/timeout", test_as_completed_timeout);
  WEFT_TEST_ADD ("/as-completed/unused-timeout", test_as_completed_unused_timeout);
  WEFT_TEST_ADD ("/as-completed/resume", test_as_completed_resume);
  weft_test_add_both_kinds ("as-completed", "loop", test_as_completed_loop);

  return g_test_run ();
}
