/* test-gather.c — weft_gather_new(): rules GA1–GA8
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-test-utils.h"

/* A stackless twin of weft_test_await_data(): awaits the future in
 * @user_data and raises its error, or returns no value.
 */
/* A child that awaits the future in @user_data and, whatever happens,
 * returns 7: it suppresses cancellation (T10).
 */
static void
suppress_fiber (WeftTask *task,
                gpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  weft_await (user_data, &error);
  weft_task_return_int64 (task, 7);
}

static void
suppress_step (WeftTask     *task,
               WeftFuture   *awaited,
               const GError *error,
               gpointer      user_data)
{
  if (awaited == NULL && error == NULL)
    weft_task_await (task, user_data);
  else
    weft_task_return_int64 (task, 7);
}

static WeftTask *
spawn_suppressor (Kind        kind,
                  WeftFuture *future)
{
  if (kind == KIND_FIBER)
    return weft_fiber_new ("suppressor", suppress_fiber, future, NULL);
  return weft_task_new ("suppressor", suppress_step, future, NULL);
}

static void
assert_result_int (WeftGather *gather,
                   guint       index,
                   gint64      expected)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  g_assert_true (weft_gather_get_result (gather, index, &value, &error));
  g_assert_no_error (error);
  g_assert_true (G_VALUE_HOLDS_INT64 (&value));
  g_assert_cmpint (g_value_get_int64 (&value), ==, expected);
}

static void
assert_gather_error (WeftGather *gather,
                     GQuark      domain,
                     int         code,
                     const char *message)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (weft_future_get_state (WEFT_FUTURE (gather)), ==, WEFT_FUTURE_STATE_FINISHED);
  g_assert_false (weft_future_propagate (WEFT_FUTURE (gather), &error));
  g_assert_error (error, domain, code);
  g_assert_cmpstr (error->message, ==, message);
}

/* GA1, GA2, test_success: results follow argument order, not completion
 * order; the gather finishes one pass after its last child, and the task
 * awaiting it resumes the pass after */
static void
test_success (WeftTestLoop  *loop,
              gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  g_autoptr(WeftFuture) b = weft_future_new ();
  g_autoptr(WeftFuture) c = weft_future_new ();
  WeftFuture *children[] = { a, b, c };
  g_autoptr(WeftGather) gather = weft_gather_new (children, 3, FALSE);
  g_autoptr(WeftTask) task = weft_test_spawn_awaiting_future (KIND (data), WEFT_FUTURE (gather));

  g_assert_true (WEFT_IS_FUTURE (gather));
  g_assert_false (WEFT_IS_TASK (gather));
  g_assert_cmpuint (weft_gather_get_n_results (gather), ==, 3);

  weft_test_pass ();
  g_assert_true (weft_task_get_awaited (task) == WEFT_FUTURE (gather));

  weft_future_set_int64 (b, 2);
  weft_test_pass ();
  weft_future_set_int64 (a, 1);
  weft_test_pass ();
  g_assert_false (weft_future_is_done (WEFT_FUTURE (gather)));

  weft_future_set_int64 (c, 3);
  g_assert_false (weft_future_is_done (WEFT_FUTURE (gather)));
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpint (weft_future_get_state (WEFT_FUTURE (gather)), ==, WEFT_FUTURE_STATE_FINISHED);
  g_assert_false (weft_future_is_done (WEFT_FUTURE (task)));

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_true (weft_future_propagate (WEFT_FUTURE (task), NULL));

  assert_result_int (gather, 0, 1);
  assert_result_int (gather, 1, 2);
  assert_result_int (gather, 2, 3);
  g_assert_true (weft_gather_get_child (gather, 1) == b);
  g_assert_cmpint (weft_future_get_int64 (weft_gather_get_child (gather, 2), NULL), ==, 3);
}

/* GA1, test_duplicate_coroutines: the same future twice is waited on
 * once, and its result is at both positions */
static void
test_duplicate (WeftTestLoop  *loop,
                gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  g_autoptr(WeftFuture) b = weft_future_new ();
  WeftFuture *children[] = { a, b, a };
  g_autoptr(WeftGather) gather = weft_gather_new (children, 3, FALSE);

  weft_future_set_int64 (a, 5);
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_false (weft_future_is_done (WEFT_FUTURE (gather)));

  weft_future_set_int64 (b, 6);
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_true (weft_future_is_done (WEFT_FUTURE (gather)));
  g_assert_cmpuint (weft_gather_get_n_results (gather), ==, 3);
  assert_result_int (gather, 0, 5);
  assert_result_int (gather, 1, 6);
  assert_result_int (gather, 2, 5);
  g_assert_cmpuint (weft_test_run_until_idle (), ==, 0);
}

/* GA1, test_constructor_empty_sequence_use_running_loop: no futures, a
 * gather already finished with no results */
static void
test_empty (WeftTestLoop  *loop,
            gconstpointer  data)
{
  g_autoptr(WeftGather) gather = weft_gather_new (NULL, 0, FALSE);

  g_assert_cmpint (weft_future_get_state (WEFT_FUTURE (gather)), ==, WEFT_FUTURE_STATE_FINISHED);
  g_assert_true (weft_future_propagate (WEFT_FUTURE (gather), NULL));
  g_assert_cmpuint (weft_gather_get_n_results (gather), ==, 0);
  g_assert_true (weft_future_get_context (WEFT_FUTURE (gather)) == loop->context);
}

/* GA1, test_constructor_heterogenous_futures: futures of two contexts */
static void
test_wrong_context (WeftTestLoop  *loop,
                    gconstpointer  data)
{
  g_autoptr(GMainContext) other = g_main_context_new ();
  g_autoptr(WeftFuture) here = weft_future_new ();
  g_autoptr(WeftFuture) there = NULL;
  g_autoptr(WeftGather) gather = NULL;
  WeftFuture *children[2];

  g_main_context_push_thread_default (other);
  there = weft_future_new ();
  g_main_context_pop_thread_default (other);

  children[0] = here;
  children[1] = there;
  gather = weft_gather_new (children, 2, FALSE);
  assert_gather_error (gather, WEFT_ERROR, WEFT_ERROR_WRONG_CONTEXT,
                       "Future 1 of 2 is attached to a different GMainContext");
}

/* GA3, test_one_exception, test_exception_marking: the first error fails
 * the gather at once and the awaiting task raises it; the siblings keep
 * running and a later error is marked retrieved (no warning when freed) */
static void
test_one_exception (WeftTestLoop  *loop,
                    gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  g_autoptr(WeftFuture) b = weft_future_new ();
  g_autoptr(WeftFuture) c = weft_future_new ();
  WeftFuture *children[] = { a, b, c };
  g_autoptr(WeftGather) gather = weft_gather_new (children, 3, FALSE);
  g_autoptr(WeftTask) task = weft_test_spawn_awaiting_future (KIND (data), WEFT_FUTURE (gather));
  g_autoptr(GError) error = NULL;

  weft_test_pass ();
  weft_future_set_error_literal (b, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "b failed");
  weft_test_pass ();
  assert_gather_error (gather, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "b failed");
  g_assert_false (weft_future_is_done (a));
  g_assert_false (weft_future_is_done (c));

  weft_test_pass ();
  g_assert_false (weft_future_propagate (WEFT_FUTURE (task), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);

  /* GA7: done, so cancelling it cancels nothing. */
  g_assert_false (weft_future_cancel (WEFT_FUTURE (gather), NULL));
  g_assert_false (weft_future_is_done (a));

  weft_future_set_error_literal (c, G_IO_ERROR, G_IO_ERROR_FAILED, "c failed late");
  weft_future_set_int64 (a, 1);
  weft_test_run_until_idle ();
  assert_gather_error (gather, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "b failed");
}

/* GA4, test_one_cancellation: a child cancelled from outside fails the
 * gather with its cancellation, but the gather is not cancelled; siblings
 * run on; the awaiting task ends cancelled, its cancelling() count 0 */
static void
test_one_cancellation (WeftTestLoop  *loop,
                       gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  g_autoptr(WeftFuture) b = weft_future_new ();
  WeftFuture *children[] = { a, b };
  g_autoptr(WeftGather) gather = weft_gather_new (children, 2, FALSE);
  g_autoptr(WeftTask) task = weft_test_spawn_awaiting_future (KIND (data), WEFT_FUTURE (gather));

  weft_test_pass ();
  g_assert_true (weft_future_cancel (b, "child msg"));
  g_assert_false (weft_future_is_done (WEFT_FUTURE (gather)));

  weft_test_pass ();
  assert_gather_error (gather, G_IO_ERROR, G_IO_ERROR_CANCELLED, "child msg");
  g_assert_false (weft_future_is_cancelled (WEFT_FUTURE (gather)));
  g_assert_false (weft_future_is_done (a));

  weft_test_pass ();
  weft_test_assert_future_cancelled (task, "child msg");
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 0);

  weft_future_set_int64 (a, 1);
  weft_test_run_until_idle ();
}

/* GA4, test_result_exception_one_cancellation: with return_exceptions each
 * error, cancellations included, takes its child's place */
static void
test_return_exceptions (WeftTestLoop  *loop,
                        gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  g_autoptr(WeftFuture) b = weft_future_new ();
  g_autoptr(WeftFuture) c = weft_future_new ();
  WeftFuture *children[] = { a, b, c };
  g_autoptr(WeftGather) gather = weft_gather_new (children, 3, TRUE);
  g_autoptr(WeftTask) task = weft_test_spawn_awaiting_future (KIND (data), WEFT_FUTURE (gather));
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  weft_test_pass ();
  weft_future_set_error_literal (c, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "c failed");
  weft_future_cancel (b, "b msg");
  weft_test_pass ();
  g_assert_false (weft_future_is_done (WEFT_FUTURE (gather)));

  weft_future_set_int64 (a, 1);
  weft_test_passes (2);
  g_assert_true (weft_future_propagate (WEFT_FUTURE (gather), NULL));
  g_assert_true (weft_future_propagate (WEFT_FUTURE (task), NULL));

  assert_result_int (gather, 0, 1);
  g_assert_false (weft_gather_get_result (gather, 1, &value, &error));
  weft_test_assert_cancelled_error (error, "b msg");
  g_assert_false (G_IS_VALUE (&value));
  g_clear_error (&error);
  g_assert_false (weft_gather_get_result (gather, 2, &value, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

/* GA5, test_cancel_gather_2: cancelling the gather cancels every child and
 * returns TRUE; the gather raises the cancellation once they are done,
 * with return_exceptions too */
static void
test_cancel_gather (WeftTestLoop  *loop,
                    gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  g_autoptr(WeftFuture) b = weft_future_new ();
  WeftFuture *children[] = { a, b };
  g_autoptr(WeftGather) gather = weft_gather_new (children, 2, TRUE);

  g_assert_true (weft_future_cancel (WEFT_FUTURE (gather), "stop"));
  weft_test_assert_future_cancelled (a, "stop");
  weft_test_assert_future_cancelled (b, "stop");
  g_assert_false (weft_future_is_done (WEFT_FUTURE (gather)));

  g_assert_cmpuint (weft_test_pass (), ==, 2);
  assert_gather_error (gather, G_IO_ERROR, G_IO_ERROR_CANCELLED, "stop");
  g_assert_false (weft_future_cancel (WEFT_FUTURE (gather), NULL));
}

/* GA5, test_cancel_gather_1: cancel() on a done gather returns FALSE and
 * keeps its results */
static void
test_cancel_done_gather (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  WeftFuture *children[] = { a };
  g_autoptr(WeftGather) gather = weft_gather_new (children, 1, FALSE);

  weft_future_set_int64 (a, 4);
  weft_test_pass ();
  g_assert_false (weft_future_cancel (WEFT_FUTURE (gather), NULL));
  assert_result_int (gather, 0, 4);
}

/* GA5, GA6, test_cancellation_broadcast: cancelling the task that awaits
 * the gather cancels every child; even though they suppress it and return
 * values, the gather raises the cancellation and the task ends cancelled */
static void
test_cancellation_broadcast (WeftTestLoop  *loop,
                             gconstpointer  data)
{
  g_autoptr(WeftFuture) waiter = weft_future_new ();
  g_autoptr(WeftTask) child1 = spawn_suppressor (KIND (data), waiter);
  g_autoptr(WeftTask) child2 = spawn_suppressor (KIND (data), waiter);
  WeftFuture *children[] = { WEFT_FUTURE (child1), WEFT_FUTURE (child2) };
  g_autoptr(WeftGather) gather = weft_gather_new (children, 2, FALSE);
  g_autoptr(WeftTask) task = weft_test_spawn_awaiting_future (KIND (data), WEFT_FUTURE (gather));

  weft_test_pass ();
  g_assert_true (weft_task_cancel (task, "bye"));
  weft_test_assert_future_cancelled (waiter, "bye");
  g_assert_cmpuint (weft_task_get_cancelling (child1), ==, 1);
  g_assert_cmpuint (weft_task_get_cancelling (child2), ==, 1);

  weft_test_run_until_idle ();
  weft_test_assert_finished_int (child1, 7);
  weft_test_assert_finished_int (child2, 7);
  assert_gather_error (gather, G_IO_ERROR, G_IO_ERROR_CANCELLED, "bye");
  weft_test_assert_future_cancelled (task, "bye");
  g_assert_false (weft_future_cancel (WEFT_FUTURE (gather), NULL));
}

/* GA8: children already done are looked at inside the call; if all are,
 * the gather is returned done, a failure included */
static void
test_all_done_synchronously (WeftTestLoop  *loop,
                             gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  g_autoptr(WeftFuture) b = weft_future_new ();
  g_autoptr(WeftFuture) c = weft_future_new ();
  WeftFuture *ok[] = { a, b, a };
  WeftFuture *failing[] = { a, c };
  g_autoptr(WeftGather) gather = NULL;
  g_autoptr(WeftGather) failed = NULL;

  weft_future_set_int64 (a, 1);
  weft_future_set_int64 (b, 2);
  weft_future_set_error_literal (c, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "c failed");

  gather = weft_gather_new (ok, 3, FALSE);
  g_assert_true (weft_future_is_done (WEFT_FUTURE (gather)));
  assert_result_int (gather, 2, 1);

  failed = weft_gather_new (failing, 2, FALSE);
  assert_gather_error (failed, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "c failed");

  g_assert_cmpuint (weft_test_run_until_idle (), ==, 0);
}

/* GA8: with some children done already, the pending ones are waited on
 * as usual */
static void
test_some_done (WeftTestLoop  *loop,
                gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  g_autoptr(WeftFuture) b = weft_future_new ();
  WeftFuture *children[] = { a, b };
  g_autoptr(WeftGather) gather = NULL;
  g_autoptr(WeftTask) task = NULL;

  weft_future_set_int64 (a, 1);
  gather = weft_gather_new (children, 2, FALSE);
  task = weft_test_spawn_awaiting_future (KIND (data), WEFT_FUTURE (gather));
  weft_test_pass ();
  g_assert_false (weft_future_is_done (WEFT_FUTURE (gather)));

  weft_future_set_int64 (b, 2);
  weft_test_passes (2);
  g_assert_true (weft_future_propagate (WEFT_FUTURE (task), NULL));
  assert_result_int (gather, 0, 1);
  assert_result_int (gather, 1, 2);
}

/* F2: results of a pending gather are not ready */
static void
test_pending_results (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  g_autoptr(WeftFuture) a = weft_future_new ();
  WeftFuture *children[] = { a };
  g_autoptr(WeftGather) gather = weft_gather_new (children, 1, FALSE);
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  g_assert_false (weft_gather_get_result (gather, 0, &value, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_INVALID_STATE);

  /* T5: its outcome is the children's, never set from outside. */
  g_test_expect_message ("Weft", G_LOG_LEVEL_CRITICAL, "*does not support weft_future_set_*");
  weft_future_set_int64 (WEFT_FUTURE (gather), 1);
  g_test_assert_expected_messages ();

  weft_future_set_int64 (a, 1);
  weft_test_run_until_idle ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  weft_test_add_both_kinds ("gather", "success", test_success);
  WEFT_TEST_ADD ("/gather/duplicate", test_duplicate);
  WEFT_TEST_ADD ("/gather/empty", test_empty);
  WEFT_TEST_ADD ("/gather/wrong-context", test_wrong_context);
  weft_test_add_both_kinds ("gather", "one-exception", test_one_exception);
  weft_test_add_both_kinds ("gather", "one-cancellation", test_one_cancellation);
  weft_test_add_both_kinds ("gather", "return-exceptions", test_return_exceptions);
  WEFT_TEST_ADD ("/gather/cancel", test_cancel_gather);
  WEFT_TEST_ADD ("/gather/cancel-done", test_cancel_done_gather);
  weft_test_add_both_kinds ("gather", "cancellation-broadcast", test_cancellation_broadcast);
  WEFT_TEST_ADD ("/gather/all-done-synchronously", test_all_done_synchronously);
  weft_test_add_both_kinds ("gather", "some-done", test_some_done);
  WEFT_TEST_ADD ("/gather/pending-results", test_pending_results);

  return g_test_run ();
}
