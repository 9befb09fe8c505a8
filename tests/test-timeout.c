/* test-timeout.c — WeftTimeout (rules TO1–TO10) and weft_wait_for() (WF1–WF5)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include "weft-test-utils.h"

/* The timeout GLib would poll the context with: -1 when nothing is armed. */
static int
context_timeout (GMainContext *context)
{
  GPollFD fds[16];
  int priority;
  int timeout = -2;

  g_assert_true (g_main_context_acquire (context));
  g_main_context_prepare (context, &priority);
  g_main_context_query (context, G_MAXINT, &timeout, fds, G_N_ELEMENTS (fds));
  g_main_context_release (context);

  return timeout;
}

static void
assert_timed_out (gpointer future)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (weft_future_get_state (future), ==, WEFT_FUTURE_STATE_FINISHED);
  g_assert_false (weft_future_propagate (future, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
}

/* One `async with timeout:` block, as a fiber or a stackless task:
 *
 *     async with b.timeout:
 *         await b.awaited          # or sleep(b.sleep), or nothing
 *     # (errors of the block caught if b.catch_cancelled)
 *     return 1
 *
 * It logs "enter", "caught" and "leave:<outcome>".
 */
typedef enum
{
  BODY_AWAIT,
  BODY_SLEEP,
  BODY_NOTHING,
} BodyKind;

typedef struct
{
  GString     *log;
  WeftTimeout *timeout;
  BodyKind     body;
  WeftFuture  *awaited;
  double       sleep;
  gboolean     catch_cancelled;
  gboolean     started;
} Block;

static void
block_log_outcome (Block        *b,
                   const GError *error)
{
  if (error == NULL)
    weft_test_log (b->log, "leave:ok");
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    weft_test_log (b->log, "leave:timed-out");
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    weft_test_log (b->log, "leave:cancelled");
  else
    weft_test_log (b->log, "leave:%s", error->message);
}

/* The end of the block, shared by both kinds; takes @error. */
static void
block_finish (Block    *b,
              WeftTask *task,
              GError   *error)
{
  if (error != NULL && b->catch_cancelled && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      weft_test_log (b->log, "caught");
      g_clear_error (&error);
    }

  weft_timeout_leave (b->timeout, &error);
  block_log_outcome (b, error);
  if (error != NULL)
    weft_task_return_error (task, error);
  else
    weft_task_return_int64 (task, 1);
}

static gboolean
block_enter (Block    *b,
             WeftTask *task)
{
  GError *error = NULL;

  b->started = TRUE;
  if (!weft_timeout_enter (b->timeout, &error))
    {
      weft_task_return_error (task, error);
      return FALSE;
    }
  weft_test_log (b->log, "enter");
  return TRUE;
}

static void
block_fiber (WeftTask *task,
             gpointer  user_data)
{
  Block *b = user_data;
  GError *error = NULL;

  if (!block_enter (b, task))
    return;

  if (b->body == BODY_AWAIT)
    weft_await (b->awaited, &error);
  else if (b->body == BODY_SLEEP)
    weft_sleep (b->sleep, &error);

  block_finish (b, task, error);
}

static void
block_step (WeftTask     *task,
            WeftFuture   *awaited,
            const GError *error,
            gpointer      user_data)
{
  Block *b = user_data;

  if (!b->started)
    {
      if (!block_enter (b, task))
        return;
      if (b->body == BODY_AWAIT)
        {
          weft_task_await (task, b->awaited);
          return;
        }
      if (b->body == BODY_SLEEP)
        {
          weft_task_sleep (task, b->sleep);
          return;
        }
    }

  block_finish (b, task, error != NULL ? g_error_copy (error) : NULL);
}

static WeftTask *
block_spawn (Kind   kind,
             Block *b)
{
  if (kind == KIND_FIBER)
    return weft_fiber_new ("block", block_fiber, b, NULL);
  return weft_task_new ("block", block_step, b, NULL);
}

/* TO1, TO3, TO4, TO9, test_timeout_basic: the deadline cancels what the
 * block awaits; the block raises G_IO_ERROR_TIMED_OUT, the timeout is
 * expired and the task's cancelling count is back to 0 */
static void
test_basic (WeftTestLoop  *loop,
            gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftFuture) never = weft_future_new ();
  g_autoptr(WeftTimeout) timeout = weft_timeout_new (0.01);
  Block b = { .log = log, .timeout = timeout, .body = BODY_AWAIT, .awaited = never };
  g_autoptr(WeftTask) task = block_spawn (KIND (data), &b);

  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "enter");
  g_assert_false (weft_timeout_is_expired (timeout));
  g_assert_cmpint (context_timeout (loop->context), >=, 0);

  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_cmpstr (log->str, ==, "enter leave:timed-out");
  assert_timed_out (task);
  weft_test_assert_future_cancelled (never, NULL);
  g_assert_true (weft_timeout_is_expired (timeout));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 0);
  g_assert_cmpint (context_timeout (loop->context), ==, -1);
}

/* TO1, test_timeout_at_basic: timeout_at() takes a deadline on the clock of
 * weft_get_time() */
static void
test_at_basic (WeftTestLoop  *loop,
               gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftFuture) never = weft_future_new ();
  double when = weft_get_time () + 0.01;
  g_autoptr(WeftTimeout) timeout = weft_timeout_new_at (when);
  Block b = { .log = log, .timeout = timeout, .body = BODY_AWAIT, .awaited = never };
  g_autoptr(WeftTask) task = block_spawn (KIND (data), &b);

  g_assert_cmpfloat (weft_timeout_get_when (timeout), ==, when);
  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_cmpfloat (weft_get_time (), >=, when);
  assert_timed_out (task);
  g_assert_cmpfloat (weft_timeout_get_when (timeout), ==, when);
}

/* TO1: the deadline is fixed when the timeout is created, not entered */
static void
test_deadline_at_creation (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  double before = weft_get_time ();
  g_autoptr(WeftTimeout) timeout = weft_timeout_new (10);
  double after = weft_get_time ();
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftFuture) value = weft_future_new ();
  Block b = { .log = log, .timeout = timeout, .body = BODY_AWAIT, .awaited = value };
  g_autoptr(WeftTask) task = NULL;

  g_usleep (20000);
  task = block_spawn (KIND (data), &b);
  weft_test_pass ();
  g_assert_cmpfloat (weft_timeout_get_when (timeout), >=, before + 10);
  g_assert_cmpfloat (weft_timeout_get_when (timeout), <=, after + 10);

  weft_future_set_int64 (value, 5);
  weft_test_run_until_idle ();
  weft_test_assert_finished_int (task, 1);
  g_assert_false (weft_timeout_is_expired (timeout));
}

/* TO1, test_timeout_disabled, test_timeout_at_disabled: INFINITY (asyncio's
 * None) never fires and arms no timer */
static void
test_disabled (WeftTestLoop  *loop,
               gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftFuture) value = weft_future_new ();
  g_autoptr(WeftTimeout) timeout = KIND (data) == KIND_FIBER ? weft_timeout_new (INFINITY)
                                                             : weft_timeout_new_at (INFINITY);
  Block b = { .log = log, .timeout = timeout, .body = BODY_AWAIT, .awaited = value };
  g_autoptr(WeftTask) task = block_spawn (KIND (data), &b);
  g_autofree char *text = NULL;

  weft_test_pass ();
  g_assert_cmpint (context_timeout (loop->context), ==, -1);
  g_assert_true (isinf (weft_timeout_get_when (timeout)));
  text = weft_timeout_to_string (timeout);
  g_assert_cmpstr (text, ==, "<Timeout [active] when=None>");

  weft_future_set_int64 (value, 5);
  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "enter leave:ok");
  weft_test_assert_finished_int (task, 1);
  g_assert_false (weft_timeout_is_expired (timeout));
}

/* TO4, O(log n) removal: leaving early takes the timer off the heap at
 * once, so the context has nothing left to wake up for */
static void
test_leave_disarms (WeftTestLoop  *loop,
                    gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftFuture) value = weft_future_new ();
  WeftTimeout *timeout = weft_timeout_new (5000);
  Block b = { .log = log, .timeout = timeout, .body = BODY_AWAIT, .awaited = value };
  g_autoptr(WeftTask) task = block_spawn (KIND (data), &b);
  int armed;

  weft_test_pass ();
  armed = context_timeout (loop->context);
  g_assert_cmpint (armed, >, 4000 * 1000);
  g_assert_cmpint (armed, <=, 5000 * 1000 + 1);

  weft_future_set_int64 (value, 5);
  weft_test_run_until_idle ();
  weft_test_assert_finished_int (task, 1);
  g_assert_cmpint (context_timeout (loop->context), ==, -1);

  /* and the timer's reference on the timeout went with it */
  g_object_add_weak_pointer (G_OBJECT (timeout), (gpointer *) &timeout);
  g_object_unref (timeout);
  g_assert_null (timeout);
}

/* TO2, test_timeout_double_enter, test_timeout_already_entered: a timeout
 * is entered once; entering it again, even after leaving, is an error */
static void
enter_twice (WeftTask *task,
             gpointer  user_data)
{
  WeftTimeout *timeout = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (weft_timeout_enter (timeout, &error));
  g_assert_false (weft_timeout_enter (timeout, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_INVALID_STATE);
  g_assert_cmpstr (error->message, ==, "Timeout has already been entered");
  g_clear_error (&error);

  g_assert_true (weft_timeout_leave (timeout, &error));
  g_assert_false (weft_timeout_enter (timeout, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_INVALID_STATE);
  weft_task_return_int64 (task, 1);
}

static void
test_double_enter (WeftTestLoop  *loop,
                   gconstpointer  data)
{
  g_autoptr(WeftTimeout) timeout = weft_timeout_new (10);
  g_autoptr(WeftTask) task = weft_fiber_new (NULL, enter_twice, timeout, NULL);

  weft_test_run_until_idle ();
  weft_test_assert_finished_int (task, 1);
  g_assert_cmpint (context_timeout (loop->context), ==, -1);
}

/* TO2, test_timeout_without_task: entering outside a task is an error,
 * and leaves the timeout unentered */
static void
test_without_task (WeftTestLoop  *loop,
                   gconstpointer  data)
{
  g_autoptr(WeftTimeout) timeout = weft_timeout_new (10);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  g_assert_false (weft_timeout_enter (timeout, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_NOT_IN_TASK);
  g_assert_cmpstr (error->message, ==, "Timeout should be used inside a task");
  text = weft_timeout_to_string (timeout);
  g_assert_cmpstr (text, ==, "<Timeout [created]>");
  g_assert_cmpint (context_timeout (loop->context), ==, -1);
}

/* TO3, test_timeout_zero_sleep_zero, test_timeout_in_the_past_sleep_zero:
 * a deadline already passed cuts even a sleep(0): the expiry is queued
 * before the task's next step */
static void
test_zero_sleep_zero (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  WeftTimeout *timeouts[] = { weft_timeout_new (0), weft_timeout_new_at (weft_get_time () - 10),
                              weft_timeout_new (-INFINITY) };

  for (guint i = 0; i < G_N_ELEMENTS (timeouts); i++)
    {
      g_autoptr(GString) log = g_string_new (NULL);
      g_autoptr(WeftTimeout) timeout = timeouts[i];
      Block b = { .log = log, .timeout = timeout, .body = BODY_SLEEP, .sleep = 0 };
      g_autoptr(WeftTask) task = block_spawn (KIND (data), &b);

      g_assert_cmpuint (weft_test_pass (), ==, 1);
      g_assert_cmpstr (log->str, ==, "enter");
      g_assert_cmpuint (weft_test_pass (), ==, 2);   /* the expiry, then the task */
      g_assert_cmpstr (log->str, ==, "enter leave:timed-out");
      assert_timed_out (task);
      g_assert_true (weft_timeout_is_expired (timeout));
      g_assert_cmpuint (weft_task_get_cancelling (task), ==, 0);
    }
}

/* TO3, test_timeout_zero: timeout(0) around a sleep that would be long */
static void
test_zero_long_sleep (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftTimeout) timeout = weft_timeout_new (0);
  Block b = { .log = log, .timeout = timeout, .body = BODY_SLEEP, .sleep = 5000 };
  g_autoptr(WeftTask) task = block_spawn (KIND (data), &b);

  weft_test_run_until_idle ();
  assert_timed_out (task);
  g_assert_cmpint (context_timeout (loop->context), ==, -1);
}

/* TO6: a deadline already passed never fires in a block that does not
 * suspend: its queued expiry is disarmed on the way out */
static void
test_past_deadline_without_suspension (WeftTestLoop  *loop,
                                       gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftTimeout) timeout = weft_timeout_new (-1);
  Block b = { .log = log, .timeout = timeout, .body = BODY_NOTHING };
  g_autoptr(WeftTask) task = block_spawn (KIND (data), &b);
  g_autofree char *text = NULL;

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (log->str, ==, "enter leave:ok");
  weft_test_assert_finished_int (task, 1);

  g_assert_cmpuint (weft_test_pass (), ==, 1);   /* the disarmed expiry */
  g_assert_cmpuint (weft_test_pass (), ==, 0);
  g_assert_false (weft_timeout_is_expired (timeout));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 0);
  text = weft_timeout_to_string (timeout);
  g_assert_cmpstr (text, ==, "<Timeout [finished]>");
}

/* TO4, test_foreign_exception_passed: another error leaves the block as
 * it is, and the timeout does not expire */
static void
test_foreign_error_passed (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftFuture) failing = weft_future_new ();
  g_autoptr(WeftTimeout) timeout = weft_timeout_new (10);
  Block b = { .log = log, .timeout = timeout, .body = BODY_AWAIT, .awaited = failing };
  g_autoptr(WeftTask) task = block_spawn (KIND (data), &b);
  g_autoptr(GError) error = NULL;

  weft_test_pass ();
  weft_future_set_error_literal (failing, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "boom");
  weft_test_run_until_idle ();

  g_assert_cmpstr (log->str, ==, "enter leave:boom");
  g_assert_false (weft_future_propagate (WEFT_FUTURE (task), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_false (weft_timeout_is_expired (timeout));
  g_assert_cmpint (context_timeout (loop->context), ==, -1);
}

/* A task that awaits @pending, and on cancellation fails with "other" or
 * returns 42, or re-raises it after two sleep(0)s. */
typedef enum
{
  ON_CANCEL_FAIL,
  ON_CANCEL_RETURN,
  ON_CANCEL_LINGER,
} OnCancel;

typedef struct
{
  GString    *log;
  WeftFuture *pending;
  OnCancel    on_cancel;
} Stubborn;

static void
stubborn_fiber (WeftTask *task,
                gpointer  user_data)
{
  Stubborn *s = user_data;
  GError *error = NULL;

  if (weft_await (s->pending, &error))
    {
      weft_task_return_int64 (task, 7);
      return;
    }
  weft_test_log (s->log, "inner:%s", error->message);
  switch (s->on_cancel)
    {
    case ON_CANCEL_FAIL:
      g_clear_error (&error);
      weft_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "other"));
      break;
    case ON_CANCEL_RETURN:
      g_clear_error (&error);
      weft_task_return_int64 (task, 42);
      break;
    case ON_CANCEL_LINGER:
      g_assert_true (weft_sleep (0, NULL));
      g_assert_true (weft_sleep (0, NULL));
      weft_test_log (s->log, "inner:exits");
      weft_task_return_error (task, error);
      break;
    }
}

/* TO4, test_foreign_exception_on_timeout: the block's awaited task answers
 * the timeout's cancellation with another error, which passes; the
 * timeout is expired all the same */
static void
test_foreign_error_on_timeout (WeftTestLoop  *loop,
                               gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftFuture) never = weft_future_new ();
  Stubborn s = { .log = log, .pending = never, .on_cancel = ON_CANCEL_FAIL };
  g_autoptr(WeftTask) inner = weft_fiber_new ("inner", stubborn_fiber, &s, NULL);
  g_autoptr(WeftTimeout) timeout = weft_timeout_new (0.01);
  Block b = { .log = log, .timeout = timeout, .body = BODY_AWAIT, .awaited = WEFT_FUTURE (inner) };
  g_autoptr(WeftTask) task = block_spawn (KIND (data), &b);
  g_autoptr(GError) error = NULL;

  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_cmpstr (log->str, ==, "enter inner:Operation was cancelled leave:other");
  g_assert_false (weft_future_propagate (WEFT_FUTURE (task), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_true (weft_timeout_is_expired (timeout));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 0);
}

/* TO4, T10: a block that handles the timeout's cancellation ends normally,
 * expired, with the task's count restored */
static void
test_cancellation_caught (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftTimeout) timeout = weft_timeout_new (0.01);
  Block b = { .log = log, .timeout = timeout, .body = BODY_SLEEP, .sleep = 5000, .catch_cancelled = TRUE };
  g_autoptr(WeftTask) task = block_spawn (KIND (data), &b);

  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_cmpstr (log->str, ==, "enter caught leave:ok");
  weft_test_assert_finished_int (task, 1);
  g_assert_true (weft_timeout_is_expired (timeout));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 0);
}

/* TO4, test_foreign_cancel_doesnt_timeout_if_not_expired: a cancellation
 * from elsewhere passes, and the timeout does not expire */
static void
test_foreign_cancel (WeftTestLoop  *loop,
                     gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftTimeout) timeout = weft_timeout_new (10);
  Block b = { .log = log, .timeout = timeout, .body = BODY_SLEEP, .sleep = 5000 };
  g_autoptr(WeftTask) task = block_spawn (KIND (data), &b);

  weft_test_pass ();
  g_assert_true (weft_task_cancel (task, "stop"));
  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "enter leave:cancelled");
  weft_test_assert_future_cancelled (task, "stop");
  g_assert_false (weft_timeout_is_expired (timeout));
  g_assert_cmpint (context_timeout (loop->context), ==, -1);
}

/* TO4, TO9, test_cancel_in_timeout_after_cancellation: the deadline passes
 * and the task is cancelled from elsewhere too: the count stays above the
 * entry value, so the cancellation passes, unconverted */
static void
test_expired_and_foreign_cancel (WeftTestLoop  *loop,
                                 gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftTimeout) timeout = weft_timeout_new (0);
  Block b = { .log = log, .timeout = timeout, .body = BODY_SLEEP, .sleep = 5000 };
  g_autoptr(WeftTask) task = block_spawn (KIND (data), &b);

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpuint (weft_test_pass (), ==, 1);   /* the expiry cancels the sleep */
  g_assert_true (weft_timeout_is_expired (timeout));
  g_assert_true (weft_task_cancel (task, "also"));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 2);

  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "enter leave:cancelled");
  g_assert_true (weft_future_is_cancelled (WEFT_FUTURE (task)));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);
}

/* TO9, test_timeout_after_cancellation: a task cancelled before the block
 * (and that handled it without uncancel()) still gets its timeout: the
 * comparison is with the count at entry */
static void
cancelled_then_timeout (WeftTask *task,
                        gpointer  user_data)
{
  g_autoptr(WeftTimeout) timeout = weft_timeout_new (0.01);
  GError *error = NULL;

  g_assert_false (weft_sleep (5000, &error));
  weft_test_assert_cancelled_error (error, NULL);
  g_clear_error (&error);
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);

  g_assert_true (weft_timeout_enter (timeout, NULL));
  g_assert_false (weft_sleep (5000, &error));
  g_assert_false (weft_timeout_leave (timeout, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);

  /* and the task goes on awaiting */
  g_assert_true (weft_sleep (0, &error));
  weft_task_return_int64 (task, 1);
}

static void
test_after_cancellation (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  g_autoptr(WeftTask) task = weft_fiber_new (NULL, cancelled_then_timeout, NULL, NULL);

  weft_test_pass ();
  weft_task_cancel (task, NULL);
  weft_test_run_until_done (WEFT_FUTURE (task));
  weft_test_assert_finished_int (task, 1);
}

/* TO5, test_nested_timeouts: two nested timeouts expiring in the same pass:
 * the inner one lets the cancellation through, the outer one converts */
typedef struct
{
  GString     *log;
  WeftTimeout *outer;
  WeftTimeout *inner;
} Nested;

static void
nested_fiber (WeftTask *task,
              gpointer  user_data)
{
  Nested *n = user_data;
  GError *error = NULL;

  g_assert_true (weft_timeout_enter (n->outer, NULL));
  g_assert_true (weft_timeout_enter (n->inner, NULL));
  weft_sleep (5000, &error);
  weft_timeout_leave (n->inner, &error);
  weft_test_log (n->log, "inner:%s", error != NULL ? error->message : "ok");
  weft_timeout_leave (n->outer, &error);
  weft_test_log (n->log, "outer:%s", error != NULL ? error->message : "ok");

  if (error != NULL)
    weft_task_return_error (task, error);
}

static void
test_nested (WeftTestLoop  *loop,
             gconstpointer  data)
{
  double when = weft_get_time () + 0.01;
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftTimeout) outer = weft_timeout_new_at (when);
  g_autoptr(WeftTimeout) inner = weft_timeout_new_at (when);
  Nested n = { .log = log, .outer = outer, .inner = inner };
  g_autoptr(WeftTask) task = weft_fiber_new (NULL, nested_fiber, &n, NULL);

  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_cmpstr (log->str, ==, "inner:Operation was cancelled outer:Timeout was reached");
  assert_timed_out (task);
  g_assert_true (weft_timeout_is_expired (outer));
  g_assert_true (weft_timeout_is_expired (inner));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 0);
}

/* TO5, test_nested_timeouts (inner first): only the inner one expires; it
 * converts, and the outer one passes the timeout on untouched */
static void
test_nested_inner_first (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftTimeout) outer = weft_timeout_new (10);
  g_autoptr(WeftTimeout) inner = weft_timeout_new (0.01);
  Nested n = { .log = log, .outer = outer, .inner = inner };
  g_autoptr(WeftTask) task = weft_fiber_new (NULL, nested_fiber, &n, NULL);

  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_cmpstr (log->str, ==, "inner:Timeout was reached outer:Timeout was reached");
  g_assert_false (weft_timeout_is_expired (outer));
  g_assert_true (weft_timeout_is_expired (inner));
  g_assert_cmpint (context_timeout (loop->context), ==, -1);
}

/* TO7, test_reschedule, test_timeout_not_entered, test_timeout_expired,
 * test_timeout_finished, test_timeout_expiring: reschedule() only while
 * active; to INFINITY disarms, to the past fires at the next pass */
static void
reschedule_fiber (WeftTask *task,
                  gpointer  user_data)
{
  GString *log = user_data;
  g_autoptr(WeftTimeout) timeout = weft_timeout_new (0.01);
  g_autoptr(WeftTimeout) fresh = weft_timeout_new (10);
  GError *error = NULL;

  g_assert_false (weft_timeout_reschedule (fresh, 1, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_INVALID_STATE);
  weft_test_log (log, "%s", error->message);
  g_clear_error (&error);

  /* disarmed: the 0.01 s deadline passes without effect */
  g_assert_true (weft_timeout_enter (timeout, NULL));
  g_assert_true (weft_timeout_reschedule (timeout, INFINITY, NULL));
  g_assert_true (isinf (weft_timeout_get_when (timeout)));
  g_assert_true (weft_sleep (0.03, NULL));
  g_assert_false (weft_timeout_is_expired (timeout));

  /* moved into the past: fires at the next pass, cutting a sleep(0) */
  g_assert_true (weft_timeout_reschedule (timeout, weft_get_time () - 1, NULL));
  g_assert_false (weft_sleep (0, &error));
  weft_test_assert_cancelled_error (error, NULL);
  g_assert_true (weft_timeout_is_expired (timeout));

  g_assert_false (weft_timeout_reschedule (timeout, 1, NULL));
  weft_timeout_leave (timeout, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);

  g_assert_false (weft_timeout_reschedule (timeout, 1, &error));
  weft_test_log (log, "%s", error->message);
  g_clear_error (&error);

  g_assert_true (weft_timeout_enter (fresh, NULL));
  g_assert_true (weft_timeout_leave (fresh, NULL));
  g_assert_false (weft_timeout_reschedule (fresh, 1, &error));
  weft_test_log (log, "%s", error->message);
  g_clear_error (&error);
}

static void
test_reschedule (WeftTestLoop  *loop,
                 gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftTask) task = weft_fiber_new (NULL, reschedule_fiber, log, NULL);

  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_true (weft_future_propagate (WEFT_FUTURE (task), NULL));
  g_assert_cmpstr (log->str, ==,
                   "Timeout has not been entered "
                   "Cannot change state of expired Timeout "
                   "Cannot change state of finished Timeout");
  g_assert_cmpint (context_timeout (loop->context), ==, -1);
}

/* TO7: rescheduling to a later deadline while the expiry is already queued
 * to run (the old deadline passed in this pass) waits for the new one */
static void
reschedule_later_fiber (WeftTask *task,
                        gpointer  user_data)
{
  g_autoptr(WeftTimeout) timeout = weft_timeout_new (-1);
  GError *error = NULL;

  g_assert_true (weft_timeout_enter (timeout, NULL));   /* expiry queued */
  g_assert_true (weft_timeout_reschedule (timeout, weft_get_time () + 1000, NULL));
  g_assert_true (weft_sleep (0, NULL));
  g_assert_false (weft_timeout_is_expired (timeout));

  /* the queued expiry went back to the heap, whence it is moved again */
  g_assert_true (weft_timeout_reschedule (timeout, weft_get_time () + 0.01, NULL));
  g_assert_false (weft_sleep (5000, &error));
  g_assert_true (weft_timeout_is_expired (timeout));
  g_assert_false (weft_timeout_leave (timeout, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&error);
}

static void
test_reschedule_while_queued (WeftTestLoop  *loop,
                              gconstpointer  data)
{
  g_autoptr(WeftTask) task = weft_fiber_new (NULL, reschedule_later_fiber, NULL, NULL);

  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_true (weft_future_propagate (WEFT_FUTURE (task), NULL));
  g_assert_cmpint (context_timeout (loop->context), ==, -1);
}

/* TO8, test_repr_active, test_repr_expired, test_repr_finished */
static void
repr_fiber (WeftTask *task,
            gpointer  user_data)
{
  GString *log = user_data;
  g_autoptr(WeftTimeout) timeout = weft_timeout_new_at (weft_get_time () + 1000);
  g_autoptr(WeftTimeout) expiring = weft_timeout_new (0);
  g_autofree char *active = NULL;
  GError *error = NULL;
  char *text;

  g_assert_true (weft_timeout_enter (timeout, NULL));
  active = weft_timeout_to_string (timeout);
  g_assert_true (g_str_has_prefix (active, "<Timeout [active] when="));
  g_assert_true (weft_timeout_reschedule (timeout, 12.3456, NULL));
  text = weft_timeout_to_string (timeout);
  weft_test_log (log, "%s", text);
  g_free (text);
  weft_timeout_leave (timeout, NULL);
  text = weft_timeout_to_string (timeout);
  weft_test_log (log, "%s", text);
  g_free (text);

  g_assert_true (weft_timeout_enter (expiring, NULL));
  weft_sleep (0, &error);
  text = weft_timeout_to_string (expiring);
  weft_test_log (log, "%s", text);
  g_free (text);
  weft_timeout_leave (expiring, &error);
  text = weft_timeout_to_string (expiring);
  weft_test_log (log, "%s", text);
  g_free (text);
  g_clear_error (&error);
}

static void
test_repr (WeftTestLoop  *loop,
           gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftTask) task = weft_fiber_new (NULL, repr_fiber, log, NULL);

  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_true (weft_future_propagate (WEFT_FUTURE (task), NULL));
  g_assert_cmpstr (log->str, ==,
                   "<Timeout [active] when=12.346> <Timeout [finished]> "
                   "<Timeout [expiring]> <Timeout [expired]>");
}

/* TO4 for bindings: weft_timeout_leave_with() takes the block's error as
 * an argument and sets @error to what the block raises */
static void
leave_with_fiber (WeftTask *task,
                  gpointer  user_data)
{
  g_autoptr(WeftTimeout) expired = weft_timeout_new (0);
  g_autoptr(WeftTimeout) passing = weft_timeout_new (10);
  g_autoptr(GError) body = NULL;
  g_autoptr(GError) raised = NULL;
  g_autoptr(GError) other = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "other");

  g_assert_true (weft_timeout_enter (expired, NULL));
  g_assert_false (weft_sleep (0, &body));
  g_assert_false (weft_timeout_leave_with (expired, body, &raised));
  g_assert_error (raised, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  weft_test_assert_cancelled_error (body, NULL);
  g_clear_error (&raised);

  g_assert_true (weft_timeout_enter (passing, NULL));
  g_assert_false (weft_timeout_leave_with (passing, other, &raised));
  g_assert_error (raised, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_true (raised != other);
}

static void
test_leave_with (WeftTestLoop  *loop,
                 gconstpointer  data)
{
  g_autoptr(WeftTask) task = weft_fiber_new (NULL, leave_with_fiber, NULL, NULL);

  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_true (weft_future_propagate (WEFT_FUTURE (task), NULL));
}

/* wait_for: a caller that awaits what weft_wait_for() returns and finishes
 * with its value, as a fiber or a stackless task */
typedef struct
{
  WeftFuture *inner;
  double      timeout;
  WeftFuture *waiter;
} Caller;

static void
caller_finish (WeftTask   *task,
               WeftFuture *waiter)
{
  g_auto(GValue) value = G_VALUE_INIT;
  GError *error = NULL;

  if (!weft_future_get_value (waiter, &value, &error))
    weft_task_return_error (task, error);
  else
    weft_task_return_value (task, &value);
}

static void
caller_fiber (WeftTask *task,
              gpointer  user_data)
{
  Caller *c = user_data;
  GError *error = NULL;

  c->waiter = weft_wait_for (c->inner, c->timeout);
  if (!weft_await (c->waiter, &error))
    weft_task_return_error (task, error);
  else
    caller_finish (task, c->waiter);
}

static void
caller_step (WeftTask     *task,
             WeftFuture   *awaited,
             const GError *error,
             gpointer      user_data)
{
  Caller *c = user_data;

  if (c->waiter == NULL)
    {
      c->waiter = weft_wait_for (c->inner, c->timeout);
      weft_task_await (task, c->waiter);
    }
  else if (error != NULL)
    weft_task_return_error (task, g_error_copy (error));
  else
    caller_finish (task, c->waiter);
}

static WeftTask *
caller_spawn (Kind    kind,
              Caller *c)
{
  if (kind == KIND_FIBER)
    return weft_fiber_new ("caller", caller_fiber, c, NULL);
  return weft_task_new ("caller", caller_step, c, NULL);
}

/* WF1, test_wait_for: the inner value passes through, as a GValue of any
 * type, and the deadline's timer goes with the wait */
static void
test_wait_for_value (WeftTestLoop  *loop,
                     gconstpointer  data)
{
  g_autoptr(WeftFuture) inner = weft_future_new ();
  Caller c = { .inner = inner, .timeout = 10 };
  g_autoptr(WeftTask) task = caller_spawn (KIND (data), &c);
  g_autoptr(WeftFuture) strings = weft_future_new ();
  Caller s = { .inner = strings, .timeout = INFINITY };
  g_autoptr(WeftTask) string_task = caller_spawn (KIND (data), &s);
  g_autofree char *text = NULL;

  weft_test_run_until_idle ();
  g_assert_true (WEFT_IS_TASK (c.waiter));
  g_assert_cmpint (context_timeout (loop->context), >, 9000);
  weft_future_set_int64 (inner, 5);
  weft_future_set_string (strings, "five");
  weft_test_run_until_idle ();

  weft_test_assert_finished_int (task, 5);
  weft_test_assert_finished_int (c.waiter, 5);
  text = weft_future_dup_string (WEFT_FUTURE (string_task), NULL);
  g_assert_cmpstr (text, ==, "five");
  g_assert_cmpint (context_timeout (loop->context), ==, -1);
  g_clear_object (&c.waiter);
  g_clear_object (&s.waiter);
}

/* WF1, test_asyncio_wait_for_timeout: the deadline cancels the inner task;
 * the caller gets G_IO_ERROR_TIMED_OUT and is not itself cancelled */
static void
test_wait_for_timeout (WeftTestLoop  *loop,
                       gconstpointer  data)
{
  g_autoptr(WeftFuture) never = weft_future_new ();
  g_autoptr(WeftTask) inner = weft_fiber_new ("inner", weft_test_await_data, never, NULL);
  Caller c = { .inner = WEFT_FUTURE (inner), .timeout = 0.01 };
  g_autoptr(WeftTask) task = caller_spawn (KIND (data), &c);

  weft_test_run_until_done (WEFT_FUTURE (task));
  assert_timed_out (task);
  weft_test_assert_future_cancelled (inner, NULL);
  weft_test_assert_future_cancelled (never, NULL);
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 0);
  g_clear_object (&c.waiter);
}

/* WF1, test_wait_for_waits_for_task_cancellation: after the deadline, the
 * wait goes on until the inner task has finished */
static void
test_wait_for_waits_for_inner (WeftTestLoop  *loop,
                               gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftFuture) never = weft_future_new ();
  Stubborn s = { .log = log, .pending = never, .on_cancel = ON_CANCEL_LINGER };
  g_autoptr(WeftTask) inner = weft_fiber_new ("inner", stubborn_fiber, &s, NULL);
  Caller c = { .inner = WEFT_FUTURE (inner), .timeout = 0.01 };
  g_autoptr(WeftTask) task = caller_spawn (KIND (data), &c);

  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_cmpstr (log->str, ==, "inner:Operation was cancelled inner:exits");
  assert_timed_out (task);
  weft_test_assert_future_cancelled (inner, NULL);
  g_clear_object (&c.waiter);
}

/* WF2, test_wait_for_cancel_suppressed: an inner task that handles the
 * cancellation and returns a value wins over the timeout */
static void
test_wait_for_inner_suppresses (WeftTestLoop  *loop,
                                gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftFuture) never = weft_future_new ();
  Stubborn s = { .log = log, .pending = never, .on_cancel = ON_CANCEL_RETURN };
  g_autoptr(WeftTask) inner = weft_fiber_new ("inner", stubborn_fiber, &s, NULL);
  Caller c = { .inner = WEFT_FUTURE (inner), .timeout = 0.01 };
  g_autoptr(WeftTask) task = caller_spawn (KIND (data), &c);

  weft_test_run_until_done (WEFT_FUTURE (task));
  weft_test_assert_finished_int (task, 42);
  g_assert_cmpstr (log->str, ==, "inner:Operation was cancelled");
  g_clear_object (&c.waiter);
}

/* WF2, test_wait_for_reraises_exception_during_cancellation: another error
 * raised by the inner task while cancelled propagates */
static void
test_wait_for_inner_fails (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftFuture) never = weft_future_new ();
  Stubborn s = { .log = log, .pending = never, .on_cancel = ON_CANCEL_FAIL };
  g_autoptr(WeftTask) inner = weft_fiber_new ("inner", stubborn_fiber, &s, NULL);
  Caller c = { .inner = WEFT_FUTURE (inner), .timeout = 0.01 };
  g_autoptr(WeftTask) task = caller_spawn (KIND (data), &c);
  g_autoptr(GError) error = NULL;

  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_false (weft_future_propagate (WEFT_FUTURE (task), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "other");
  g_clear_object (&c.waiter);
}

/* WF3, test_wait_for_timeout_less_then_0_or_0_future_done: a done future
 * gives its outcome at once, whatever the timeout */
static void
test_wait_for_done (WeftTestLoop  *loop,
                    gconstpointer  data)
{
  static const double timeouts[] = { 0, -1, -INFINITY, 10, INFINITY };

  for (guint i = 0; i < G_N_ELEMENTS (timeouts); i++)
    {
      g_autoptr(WeftFuture) done = weft_future_new ();
      g_autoptr(WeftFuture) waiter = NULL;

      weft_future_set_int64 (done, 3);
      waiter = weft_wait_for (done, timeouts[i]);
      weft_test_assert_finished_int (waiter, 3);
      g_assert_cmpuint (weft_test_pass (), ==, 0);
    }
}

/* WF3, test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started:
 * with timeout 0 a task not started yet is cancelled before it runs; the
 * outcome is the timeout */
static void
not_run (WeftTask *task,
         gpointer  user_data)
{
  g_assert_not_reached ();
}

static void
test_wait_for_zero_not_started (WeftTestLoop  *loop,
                                gconstpointer  data)
{
  static const double timeouts[] = { 0, -1, -INFINITY };

  for (guint i = 0; i < G_N_ELEMENTS (timeouts); i++)
    {
      g_autoptr(WeftTask) inner = weft_fiber_new ("inner", not_run, NULL, NULL);
      g_autoptr(WeftFuture) waiter = weft_wait_for (WEFT_FUTURE (inner), timeouts[i]);

      g_assert_true (weft_task_get_cancelling (inner) == 1);
      weft_test_run_until_idle ();
      weft_test_assert_future_cancelled (inner, NULL);
      assert_timed_out (waiter);
    }
}

/* WF3, test_wait_for_timeout_less_then_0_or_0: an inner task that answers
 * the cancellation with a value gives that value; the caller waits for it */
static void
test_wait_for_zero_inner_returns (WeftTestLoop  *loop,
                                  gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftFuture) never = weft_future_new ();
  Stubborn s = { .log = log, .pending = never, .on_cancel = ON_CANCEL_RETURN };
  g_autoptr(WeftTask) inner = weft_fiber_new ("inner", stubborn_fiber, &s, NULL);
  Caller c = { .inner = WEFT_FUTURE (inner), .timeout = 0 };
  g_autoptr(WeftTask) task = NULL;

  weft_test_pass ();                     /* the inner task is waiting */
  task = caller_spawn (KIND (data), &c);
  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "inner:Operation was cancelled");
  weft_test_assert_finished_int (task, 42);
  g_clear_object (&c.waiter);
}

/* WF4, test_cancel_wait_for, test_asyncio_wait_for_cancelled: cancelling the
 * caller cancels the inner task, and the caller ends cancelled */
static void
test_wait_for_caller_cancelled (WeftTestLoop  *loop,
                                gconstpointer  data)
{
  static const double timeouts[] = { 10, INFINITY };

  for (guint i = 0; i < G_N_ELEMENTS (timeouts); i++)
    {
      g_autoptr(WeftFuture) never = weft_future_new ();
      g_autoptr(WeftTask) inner = weft_fiber_new ("inner", weft_test_await_data, never, NULL);
      Caller c = { .inner = WEFT_FUTURE (inner), .timeout = timeouts[i] };
      g_autoptr(WeftTask) task = caller_spawn (KIND (data), &c);

      weft_test_run_until_idle ();
      g_assert_true (weft_task_cancel (task, "stop"));
      weft_test_run_until_idle ();
      weft_test_assert_future_cancelled (task, "stop");
      g_assert_true (weft_future_is_cancelled (WEFT_FUTURE (inner)));
      g_assert_cmpint (context_timeout (loop->context), ==, -1);
      g_clear_object (&c.waiter);
    }
}

/* WF4, test_cancel_blocking_wait_for: an inner task that lingers after the
 * cancellation is waited for before the caller ends */
static void
test_wait_for_caller_cancelled_waits (WeftTestLoop  *loop,
                                      gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftFuture) never = weft_future_new ();
  Stubborn s = { .log = log, .pending = never, .on_cancel = ON_CANCEL_LINGER };
  g_autoptr(WeftTask) inner = weft_fiber_new ("inner", stubborn_fiber, &s, NULL);
  Caller c = { .inner = WEFT_FUTURE (inner), .timeout = INFINITY };
  g_autoptr(WeftTask) task = caller_spawn (KIND (data), &c);

  weft_test_run_until_idle ();
  g_assert_true (weft_task_cancel (task, NULL));
  weft_test_passes (2);
  g_assert_cmpstr (log->str, ==, "inner:Operation was cancelled");
  g_assert_false (weft_future_is_done (WEFT_FUTURE (task)));
  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "inner:Operation was cancelled inner:exits");
  weft_test_assert_future_cancelled (task, NULL);
  g_clear_object (&c.waiter);
}

/* WF4: the returned future cancelled before its first step still cancels
 * what it was to wait for */
static void
test_wait_for_cancelled_at_once (WeftTestLoop  *loop,
                                 gconstpointer  data)
{
  g_autoptr(WeftFuture) never = weft_future_new ();
  g_autoptr(WeftFuture) waiter = weft_wait_for (never, 10);

  g_assert_true (weft_future_cancel (waiter, "now"));
  weft_test_assert_future_cancelled (never, "now");
  weft_test_run_until_idle ();
  weft_test_assert_future_cancelled (waiter, "now");
  g_assert_cmpint (context_timeout (loop->context), ==, -1);
}

/* WF5, test_wait_for_race_condition: the inner future completing in the
 * pass where the deadline also passes gives its value, not the timeout */
static void
test_wait_for_race (WeftTestLoop  *loop,
                    gconstpointer  data)
{
  g_autoptr(WeftFuture) inner = weft_future_new ();
  g_autoptr(WeftFuture) waiter = weft_wait_for (inner, 0.01);

  g_assert_cmpuint (weft_test_pass (), ==, 1);   /* waits on @inner */
  g_usleep (20000);                              /* the deadline passes */
  weft_future_set_int64 (inner, 9);              /* and @inner completes */
  weft_test_run_until_idle ();
  weft_test_assert_finished_int (waiter, 9);
  g_assert_cmpuint (weft_task_get_cancelling (WEFT_TASK (waiter)), ==, 0);
  g_assert_cmpint (context_timeout (loop->context), ==, -1);
}

/* TO4: leaving a timeout that is not entered is a programming error, and
 * leaves the block's error alone; so is a NaN delay */
static void
test_misuse (WeftTestLoop  *loop,
             gconstpointer  data)
{
  g_autoptr(WeftTimeout) timeout = weft_timeout_new (10);
  g_autoptr(WeftFuture) future = weft_future_new ();
  GError *error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "body");

  g_test_expect_message ("Weft", G_LOG_LEVEL_CRITICAL, "*created, not entered*");
  g_assert_false (weft_timeout_leave (timeout, &error));
  g_test_assert_expected_messages ();
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_clear_error (&error);

  g_test_expect_message ("Weft", G_LOG_LEVEL_CRITICAL, "*isnan*");
  g_assert_null (weft_timeout_new (NAN));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Weft", G_LOG_LEVEL_CRITICAL, "*isnan*");
  g_assert_null (weft_wait_for (future, NAN));
  g_test_assert_expected_messages ();
}

/* TO10: a TaskGroup inside a timeout:
 *
 *     async with timeout(0):
 *         async with TaskGroup() as tg:
 *             tg.create_task(child())  # cancelled, raises "cleanup failed";
 *                                      # or raises "failed" at once
 *             await never              # if g.body_awaits
 *     await sleep(0)
 */
typedef struct
{
  GString       *log;
  WeftTimeout   *timeout;
  WeftFuture    *never;
  gboolean       body_awaits;
  gboolean       child_fails_at_once;
  WeftTaskFlags  child_flags;
  WeftTaskGroup *group;
  WeftFuture    *waited;
  guint          stage;
} GroupBlock;

static void
cleanup_fails_step (WeftTask     *task,
                    WeftFuture   *awaited,
                    const GError *error,
                    gpointer      user_data)
{
  GroupBlock *g = user_data;

  if (g->child_fails_at_once)
    weft_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "failed"));
  else if (awaited == NULL && error == NULL)
    weft_task_await (task, g->never);
  else
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      weft_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "cleanup failed"));
    }
}

static void
group_block_log (GroupBlock   *g,
                 const char   *what,
                 const GError *error)
{
  if (error == NULL)
    weft_test_log (g->log, "%s:ok", what);
  else if (g_error_matches (error, WEFT_ERROR, WEFT_ERROR_TASK_GROUP) &&
           weft_task_group_error_get_n_failures (error) == 1)
    weft_test_log (g->log, "%s:group(%s)", what,
                   weft_task_group_error_get_failure (error, 0, NULL)->message);
  else
    weft_test_log (g->log, "%s:%s", what, error->message);
}

static void
group_block_start (GroupBlock *g)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (weft_timeout_enter (g->timeout, &error));
  g->group = weft_task_group_new (&error);
  g_assert_no_error (error);
  g_assert_nonnull (weft_task_group_create_task_full (g->group, "child", NULL, g->child_flags,
                                                      cleanup_fails_step, g, NULL, &error));
}

/* The group's outcome out of the timeout; takes @error. */
static void
group_block_leave (GroupBlock *g,
                   WeftTask   *task,
                   GError     *error)
{
  weft_timeout_leave (g->timeout, &error);
  group_block_log (g, "leave", error);
  weft_test_log (g->log, "cancelling=%u", weft_task_get_cancelling (task));
  g_clear_error (&error);
}

static void
group_block_fiber (WeftTask *task,
                   gpointer  user_data)
{
  GroupBlock *g = user_data;
  g_autoptr(GError) body_error = NULL;
  GError *error = NULL;

  group_block_start (g);
  if (g->body_awaits)
    {
      weft_await (g->never, &body_error);
      group_block_log (g, "body", body_error);
    }
  g->waited = weft_task_group_wait (g->group, body_error);
  weft_await (g->waited, &error);
  group_block_leave (g, task, g_steal_pointer (&error));

  weft_sleep (0, &error);
  group_block_log (g, "next", error);
  g_clear_error (&error);
}

static void
group_block_step (WeftTask     *task,
                  WeftFuture   *awaited,
                  const GError *error,
                  gpointer      user_data)
{
  GroupBlock *g = user_data;

  switch (g->stage++)
    {
    case 0:
      group_block_start (g);
      if (g->body_awaits)
        {
          weft_task_await (task, g->never);
          return;
        }
      g->stage++;
      error = NULL;
      G_GNUC_FALLTHROUGH;
    case 1:
      if (g->body_awaits)
        group_block_log (g, "body", error);
      g->waited = weft_task_group_wait (g->group, error);
      weft_task_await (task, g->waited);
      return;
    case 2:
      group_block_leave (g, task, error != NULL ? g_error_copy (error) : NULL);
      weft_task_sleep (task, 0);
      return;
    default:
      group_block_log (g, "next", error);
      weft_task_return_void (task);
    }
}

static void
check_group_in_timeout (Kind           kind,
                        gboolean       body_awaits,
                        gboolean       child_fails_at_once,
                        WeftTaskFlags  child_flags,
                        const char    *expected_log)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftFuture) never = weft_future_new ();
  g_autoptr(WeftTimeout) timeout = weft_timeout_new (0);
  GroupBlock g = { log, timeout, never, body_awaits, child_fails_at_once, child_flags };
  g_autoptr(WeftTask) task = NULL;

  if (kind == KIND_FIBER)
    task = weft_fiber_new ("block", group_block_fiber, &g, NULL);
  else
    task = weft_task_new ("block", group_block_step, &g, NULL);
  weft_test_run_until_idle ();

  g_assert_cmpstr (log->str, ==, expected_log);
  g_assert_true (weft_timeout_is_expired (timeout));
  g_assert_true (weft_future_propagate (WEFT_FUTURE (task), NULL));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 0);
  g_assert_cmpint (context_timeout (weft_future_get_context (WEFT_FUTURE (task))), ==, -1);
  g_clear_object (&g.group);
  g_clear_object (&g.waited);
}

/* TO10, test_timeout_taskgroup: the deadline cancels the group's body; the
 * child then fails: the group's error comes out of the timeout unchanged,
 * the group's re-armed cancellation is withdrawn with the timeout's, and
 * the next await is not cancelled */
static void
test_task_group_body (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  check_group_in_timeout (KIND (data), TRUE, FALSE, WEFT_TASK_FLAGS_NONE,
                          "body:Operation was cancelled leave:group(cleanup failed) cancelling=0 next:ok");
}

/* TO10: the same when the deadline passes while the parent waits for the
 * group */
static void
test_task_group_wait (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  check_group_in_timeout (KIND (data), FALSE, FALSE, WEFT_TASK_FLAGS_NONE,
                          "leave:group(cleanup failed) cancelling=0 next:ok");
}

/* TO10: the same when the deadline and a child's own failure come in the
 * same pass: the group's own cancellation of the parent and the timeout's
 * are both withdrawn */
static void
test_task_group_failure (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  check_group_in_timeout (KIND (data), FALSE, TRUE, WEFT_TASK_FLAGS_NONE,
                          "leave:group(failed) cancelling=0 next:ok");
}

/* TO10, E9: the same with a child that fails in its eager step: the group
 * cancels the parent in the pass the deadline passes, after the timeout */
static void
test_task_group_eager_failure (WeftTestLoop  *loop,
                               gconstpointer  data)
{
  check_group_in_timeout (KIND (data), FALSE, TRUE, WEFT_TASK_FLAGS_EAGER_START,
                          "leave:group(failed) cancelling=0 next:ok");
}

static void
add_both (const char *name,
          void      (*func) (WeftTestLoop *, gconstpointer))
{
  weft_test_add_both_kinds ("timeout", name, func);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  add_both ("basic", test_basic);
  add_both ("at-basic", test_at_basic);
  add_both ("deadline-at-creation", test_deadline_at_creation);
  add_both ("disabled", test_disabled);
  add_both ("leave-disarms", test_leave_disarms);
  add_both ("zero-sleep-zero", test_zero_sleep_zero);
  add_both ("zero-long-sleep", test_zero_long_sleep);
  add_both ("past-deadline-without-suspension", test_past_deadline_without_suspension);
  add_both ("foreign-error-passed", test_foreign_error_passed);
  add_both ("foreign-error-on-timeout", test_foreign_error_on_timeout);
  add_both ("cancellation-caught", test_cancellation_caught);
  add_both ("foreign-cancel", test_foreign_cancel);
  add_both ("expired-and-foreign-cancel", test_expired_and_foreign_cancel);
  add_both ("task-group-body", test_task_group_body);
  add_both ("task-group-wait", test_task_group_wait);
  add_both ("task-group-failure", test_task_group_failure);
  add_both ("task-group-eager-failure", test_task_group_eager_failure);
  WEFT_TEST_ADD ("/timeout/double-enter", test_double_enter);
  WEFT_TEST_ADD ("/timeout/without-task", test_without_task);
  WEFT_TEST_ADD ("/timeout/after-cancellation", test_after_cancellation);
  WEFT_TEST_ADD ("/timeout/nested", test_nested);
  WEFT_TEST_ADD ("/timeout/nested-inner-first", test_nested_inner_first);
  WEFT_TEST_ADD ("/timeout/reschedule", test_reschedule);
  WEFT_TEST_ADD ("/timeout/reschedule-while-queued", test_reschedule_while_queued);
  WEFT_TEST_ADD ("/timeout/repr", test_repr);
  WEFT_TEST_ADD ("/timeout/leave-with", test_leave_with);
  WEFT_TEST_ADD ("/timeout/misuse", test_misuse);

  weft_test_add_both_kinds ("wait-for", "value", test_wait_for_value);
  weft_test_add_both_kinds ("wait-for", "timeout", test_wait_for_timeout);
  weft_test_add_both_kinds ("wait-for", "waits-for-inner", test_wait_for_waits_for_inner);
  weft_test_add_both_kinds ("wait-for", "inner-suppresses", test_wait_for_inner_suppresses);
  weft_test_add_both_kinds ("wait-for", "inner-fails", test_wait_for_inner_fails);
  weft_test_add_both_kinds ("wait-for", "zero-inner-returns", test_wait_for_zero_inner_returns);
  weft_test_add_both_kinds ("wait-for", "caller-cancelled", test_wait_for_caller_cancelled);
  weft_test_add_both_kinds ("wait-for", "caller-cancelled-waits", test_wait_for_caller_cancelled_waits);
  WEFT_TEST_ADD ("/wait-for/done", test_wait_for_done);
  WEFT_TEST_ADD ("/wait-for/zero-not-started", test_wait_for_zero_not_started);
  WEFT_TEST_ADD ("/wait-for/cancelled-at-once", test_wait_for_cancelled_at_once);
  WEFT_TEST_ADD ("/wait-for/race", test_wait_for_race);

  return g_test_run ();
}
