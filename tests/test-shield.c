/* test-shield.c — weft_shield(): rules SH1–SH5
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include "weft-test-utils.h"

/* Awaits shield(inner); if that raises, logs the error and awaits inner
 * itself (SH4). Returns inner's integer, or raises.
 */
typedef struct
{
  WeftFuture *inner;
  WeftFuture *outer;
  GString    *log;
} Shielded;

static void
shielded_fiber (WeftTask *task,
                gpointer  user_data)
{
  Shielded *s = user_data;
  g_autoptr(GError) error = NULL;
  gint64 value;

  s->outer = weft_shield (s->inner);
  value = weft_await_int64 (s->outer, &error);
  if (error != NULL)
    {
      weft_test_log (s->log, "outer:%s", error->message);
      g_clear_error (&error);
      value = weft_await_int64 (s->inner, &error);
    }
  if (error != NULL)
    weft_task_return_error (task, g_steal_pointer (&error));
  else
    weft_task_return_int64 (task, value);
}

static void
shielded_step (WeftTask     *task,
               WeftFuture   *awaited,
               const GError *error,
               gpointer      user_data)
{
  Shielded *s = user_data;

  if (s->outer == NULL)
    {
      s->outer = weft_shield (s->inner);
      weft_task_await (task, s->outer);
    }
  else if (awaited == s->outer && error != NULL)
    {
      weft_test_log (s->log, "outer:%s", error->message);
      weft_task_await (task, s->inner);
    }
  else if (error != NULL)
    weft_task_return_error (task, g_error_copy (error));
  else
    weft_task_return_int64 (task, weft_future_get_int64 (awaited, NULL));
}

static WeftTask *
spawn_shielded (Kind      kind,
                Shielded *s)
{
  s->log = g_string_new (NULL);
  if (kind == KIND_FIBER)
    return weft_fiber_new ("shielded", shielded_fiber, s, NULL);
  return weft_task_new ("shielded", shielded_step, s, NULL);
}

static void
shielded_clear (Shielded *s)
{
  g_clear_object (&s->outer);
  g_string_free (s->log, TRUE);
}

/* SH1, test_shield_shortcut: a done future is its own shield */
static void
test_shortcut (WeftTestLoop  *loop,
               gconstpointer  data)
{
  g_autoptr(WeftFuture) inner = weft_future_new ();
  g_autoptr(WeftFuture) outer = NULL;

  weft_future_set_int64 (inner, 1);
  outer = weft_shield (inner);
  g_assert_true (outer == inner);
}

/* SH1, test_shield_result: the outer mirrors the value one pass after the
 * inner finishes; the task awaiting it resumes the pass after */
static void
test_result (WeftTestLoop  *loop,
             gconstpointer  data)
{
  g_autoptr(WeftFuture) inner = weft_future_new ();
  Shielded s = { inner };
  g_autoptr(WeftTask) task = spawn_shielded (KIND (data), &s);

  weft_test_pass ();
  g_assert_true (WEFT_IS_FUTURE (s.outer));
  g_assert_true (s.outer != inner);
  g_assert_true (weft_task_get_awaited (task) == s.outer);

  weft_future_set_int64 (inner, 42);
  g_assert_false (weft_future_is_done (s.outer));
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  weft_test_assert_finished_int (s.outer, 42);
  g_assert_false (weft_future_is_done (WEFT_FUTURE (task)));
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  weft_test_assert_finished_int (task, 42);
  g_assert_cmpstr (s.log->str, ==, "");

  shielded_clear (&s);
}

/* SH1, test_shield_exception: the outer mirrors the error */
static void
test_exception (WeftTestLoop  *loop,
                gconstpointer  data)
{
  g_autoptr(WeftFuture) inner = weft_future_new ();
  g_autoptr(WeftFuture) outer = weft_shield (inner);
  g_autoptr(GError) error = NULL;

  weft_future_set_error_literal (inner, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "gone");
  weft_test_pass ();
  g_assert_cmpint (weft_future_get_state (outer), ==, WEFT_FUTURE_STATE_FINISHED);
  g_assert_false (weft_future_propagate (outer, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

/* SH1, test_shield_cancel_inner: cancelling the inner cancels the outer */
static void
test_cancel_inner (WeftTestLoop  *loop,
                   gconstpointer  data)
{
  g_autoptr(WeftFuture) inner = weft_future_new ();
  Shielded s = { inner };
  g_autoptr(WeftTask) task = spawn_shielded (KIND (data), &s);

  weft_test_pass ();
  weft_future_cancel (inner, "inner msg");
  weft_test_pass ();
  weft_test_assert_future_cancelled (s.outer, "inner msg");

  /* The task catches it and awaits inner, done: no suspension. */
  weft_test_pass ();
  g_assert_cmpstr (s.log->str, ==, "outer:inner msg");
  weft_test_assert_future_cancelled (task, "inner msg");

  shielded_clear (&s);
}

/* SH1: an inner that failed with a cancellation error without being
 * cancelled (a gather whose child was cancelled, GA4) is mirrored through
 * set_exception(): the outer raises the error but is not cancelled */
static void
test_inner_fails_with_cancellation (WeftTestLoop  *loop,
                                    gconstpointer  data)
{
  g_autoptr(WeftFuture) child = weft_future_new ();
  g_autoptr(WeftGather) inner = weft_gather_new (&child, 1, FALSE);
  g_autoptr(WeftFuture) outer = weft_shield (WEFT_FUTURE (inner));
  g_autoptr(GError) error = NULL;

  weft_future_cancel (child, "child msg");
  weft_test_run_until_idle ();
  g_assert_false (weft_future_is_cancelled (WEFT_FUTURE (inner)));

  g_assert_cmpint (weft_future_get_state (outer), ==, WEFT_FUTURE_STATE_FINISHED);
  g_assert_false (weft_future_propagate (outer, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (error->message, ==, "child msg");
}

/* SH2, SH4, test_shield_cancel_outer, test_shield_effect: cancelling the
 * task cancels only the outer future; the task catches the cancellation,
 * awaits inner itself and gets its value, its cancelling() count still 1 */
static void
test_cancel_outer (WeftTestLoop  *loop,
                   gconstpointer  data)
{
  g_autoptr(WeftFuture) inner = weft_future_new ();
  Shielded s = { inner };
  g_autoptr(WeftTask) task = spawn_shielded (KIND (data), &s);

  weft_test_pass ();
  g_assert_true (weft_task_cancel (task, "stop"));
  weft_test_assert_future_cancelled (s.outer, "stop");
  g_assert_false (weft_future_is_done (inner));

  weft_test_pass ();
  g_assert_cmpstr (s.log->str, ==, "outer:stop");
  g_assert_true (weft_task_get_awaited (task) == inner);
  g_assert_false (weft_future_is_done (inner));

  weft_future_set_int64 (inner, 9);
  weft_test_run_until_idle ();
  weft_test_assert_finished_int (task, 9);
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);
  weft_test_assert_future_cancelled (s.outer, "stop");

  shielded_clear (&s);
}

/* SH3, test_shield_cancel_outer_result: a value after the outer was
 * cancelled is dropped silently */
static void
test_cancel_outer_result (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  g_autoptr(WeftFuture) inner = weft_future_new ();
  g_autoptr(WeftFuture) outer = weft_shield (inner);

  g_assert_true (weft_future_cancel (outer, NULL));
  g_assert_false (weft_future_is_done (inner));
  weft_future_set_int64 (inner, 1);
  weft_test_run_until_idle ();
  weft_test_assert_future_cancelled (outer, NULL);
}

/* SH3, test_shield_cancel_outer_exception, test_shield_duplicate_log_once:
 * an error after the outer was cancelled is reported once, even through
 * two shields */
static void
test_cancel_outer_exception (WeftTestLoop  *loop,
                             gconstpointer  data)
{
  g_autoptr(WeftFuture) inner = weft_future_new ();
  g_autoptr(WeftFuture) outer1 = weft_shield (inner);
  g_autoptr(WeftFuture) outer2 = weft_shield (inner);

  weft_future_cancel (outer1, NULL);
  weft_future_cancel (outer2, NULL);
  weft_future_set_error_literal (inner, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "late");

  g_test_expect_message ("Weft", G_LOG_LEVEL_WARNING, "g-io-error-quark exception in shielded future *: late");
  weft_test_run_until_idle ();
  g_test_assert_expected_messages ();
}

/* SH5: wait_for(shield(t), timeout) */
typedef struct
{
  WeftFuture *inner;
  WeftFuture *outer;
  double      timeout;
} ShieldedWait;

static WeftFuture *
ref_future (gpointer user_data)
{
  return g_object_ref (user_data);
}

static WeftFuture *
wait_for_shield (gpointer user_data)
{
  ShieldedWait *w = user_data;

  w->outer = weft_shield (w->inner);
  return weft_wait_for (w->outer, w->timeout);
}

/* A caller of @kind awaits wait_for(shield(t), @timeout), t a task of
 * @kind that finishes with 42 once released.
 */
static void
check_wait_for_shield (Kind   kind,
                       double timeout)
{
  g_autoptr(WeftFuture) gate = weft_future_new ();
  g_autoptr(WeftTask) inner = weft_test_spawn_awaiting (kind, ref_future, gate, NULL);
  ShieldedWait w = { WEFT_FUTURE (inner), NULL, timeout };
  g_autoptr(WeftTask) caller = weft_test_spawn_awaiting (kind, wait_for_shield, &w, NULL);
  g_autoptr(GError) error = NULL;

  if (isinf (timeout))
    {
      weft_test_run_until_idle ();
      g_assert_false (weft_future_is_done (WEFT_FUTURE (caller)));
      weft_future_set_int64 (gate, 42);
      weft_test_run_until_idle ();
      weft_test_assert_finished_int (caller, 42);
    }
  else
    {
      /* Only the shield's outer future is cancelled: t goes on. */
      weft_test_run_until_done (WEFT_FUTURE (caller));
      g_assert_false (weft_future_propagate (WEFT_FUTURE (caller), &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
      g_assert_cmpuint (weft_task_get_cancelling (caller), ==, 0);
      weft_test_assert_future_cancelled (w.outer, NULL);
      g_assert_false (weft_future_is_done (WEFT_FUTURE (inner)));
      g_assert_cmpuint (weft_task_get_cancelling (inner), ==, 0);

      weft_future_set_int64 (gate, 42);
      weft_test_run_until_idle ();
    }

  weft_test_assert_finished_int (inner, 42);
  g_assert_cmpuint (weft_task_get_cancelling (inner), ==, 0);
  g_clear_object (&w.outer);
}

/* SH5, test_shielded_timeout: the deadline cancels the shield's outer
 * future, not t, which finishes with its value */
static void
test_wait_for_timeout (WeftTestLoop  *loop,
                       gconstpointer  data)
{
  check_wait_for_shield (KIND (data), 0.01);
}

/* SH5, test_zero_timeout: the same with a timeout of 0, which cancels the
 * outer future inside wait_for() */
static void
test_wait_for_zero_timeout (WeftTestLoop  *loop,
                            gconstpointer  data)
{
  check_wait_for_shield (KIND (data), 0);
}

/* SH5, test_none_timeout: without a deadline, the caller gets t's value */
static void
test_wait_for_no_timeout (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  check_wait_for_shield (KIND (data), INFINITY);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  WEFT_TEST_ADD ("/shield/shortcut", test_shortcut);
  weft_test_add_both_kinds ("shield", "result", test_result);
  WEFT_TEST_ADD ("/shield/exception", test_exception);
  WEFT_TEST_ADD ("/shield/inner-fails-with-cancellation", test_inner_fails_with_cancellation);
  weft_test_add_both_kinds ("shield", "cancel-inner", test_cancel_inner);
  weft_test_add_both_kinds ("shield", "cancel-outer", test_cancel_outer);
  WEFT_TEST_ADD ("/shield/cancel-outer-result", test_cancel_outer_result);
  WEFT_TEST_ADD ("/shield/cancel-outer-exception", test_cancel_outer_exception);
  weft_test_add_both_kinds ("shield", "wait-for-timeout", test_wait_for_timeout);
  weft_test_add_both_kinds ("shield", "wait-for-zero-timeout", test_wait_for_zero_timeout);
  weft_test_add_both_kinds ("shield", "wait-for-no-timeout", test_wait_for_no_timeout);

  return g_test_run ();
}
