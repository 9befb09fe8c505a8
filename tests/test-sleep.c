/* test-sleep.c — weft_sleep(), weft_task_sleep() and sleep futures: rule S1
 * (with T6, T8, T13 where a sleep is what gets cancelled)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include "weft-test-utils.h"


/* asyncio's loop.call_soon(): a done callback on a done future is queued
 * at once (F7). @then, if set, is call_soon()ed by the callback itself. */
typedef struct
{
  GString    *log;
  const char *tag;
  const char *then;
} Soon;

static void call_soon (GString    *log,
                       const char *tag,
                       const char *then);

static void
soon_callback (WeftFuture *future,
               gpointer    user_data)
{
  Soon *soon = user_data;

  weft_test_log (soon->log, "%s", soon->tag);
  if (soon->then != NULL)
    call_soon (soon->log, soon->then, NULL);
}

static void
call_soon (GString    *log,
           const char *tag,
           const char *then)
{
  g_autoptr(WeftFuture) done = weft_future_new ();
  Soon *soon = g_new0 (Soon, 1);

  soon->log = log;
  soon->tag = tag;
  soon->then = then;
  weft_future_set_boolean (done, TRUE);
  weft_future_add_done_callback (done, soon_callback, soon, g_free);
}

/* A task that sleeps for each of @delays in turn, as a fiber or as a
 * stackless task, logging "<name>:woke" or the error of each sleep. */
typedef struct
{
  GString      *log;
  const char   *name;
  const double *delays;
  guint         n_delays;
  gboolean      catch_errors;
  gboolean      call_soon_first;
  guint         index;
  gboolean      started;
} Sleeper;

/* Returns TRUE if the task goes on after @error. */
static gboolean
sleeper_handle_error (Sleeper      *s,
                      WeftTask     *task,
                      const GError *error)
{
  if (s->catch_errors)
    {
      weft_test_log (s->log, "%s:caught:%s", s->name, error->message);
      return TRUE;
    }
  weft_test_log (s->log, "%s:raised:%s", s->name, error->message);
  weft_task_return_error (task, g_error_copy (error));
  return FALSE;
}

static void
sleeper_begin (Sleeper *s)
{
  s->started = TRUE;
  if (s->call_soon_first)
    call_soon (s->log, "cb1", "cb2");
  weft_test_log (s->log, "%s:sleep", s->name);
}

static void
sleeper_fiber (WeftTask *task,
               gpointer  user_data)
{
  Sleeper *s = user_data;

  sleeper_begin (s);
  for (; s->index < s->n_delays; s->index++)
    {
      g_autoptr(GError) error = NULL;

      if (weft_sleep (s->delays[s->index], &error))
        weft_test_log (s->log, "%s:woke", s->name);
      else if (!sleeper_handle_error (s, task, error))
        return;
    }
  weft_task_return_int64 (task, s->index);
}

static void
sleeper_step (WeftTask     *task,
              WeftFuture   *awaited,
              const GError *error,
              gpointer      user_data)
{
  Sleeper *s = user_data;

  g_assert_null (awaited);

  if (!s->started)
    sleeper_begin (s);
  else
    {
      if (error == NULL)
        weft_test_log (s->log, "%s:woke", s->name);
      else if (!sleeper_handle_error (s, task, error))
        return;
      s->index++;
    }

  if (s->index < s->n_delays)
    weft_task_sleep (task, s->delays[s->index]);
  else
    weft_task_return_int64 (task, s->index);
}

static WeftTask *
sleeper_spawn (Kind     kind,
               Sleeper *s)
{
  if (kind == KIND_FIBER)
    return weft_fiber_new (s->name, sleeper_fiber, s, NULL);
  return weft_task_new (s->name, sleeper_step, s, NULL);
}

/* The timeout GLib would poll the context with: -1 when no source wants
 * a wakeup, 0 when something is ready. Only asked when nothing is ready,
 * so that no source is left marked ready behind the loop's back. */
static int
context_timeout (GMainContext *context)
{
  GPollFD fds[16];
  int priority;
  int timeout = -2;

  g_assert_true (g_main_context_acquire (context));
  g_assert_false (g_main_context_prepare (context, &priority));
  g_main_context_query (context, G_MAXINT, &timeout, fds, G_N_ELEMENTS (fds));
  g_main_context_release (context);

  return timeout;
}

/* S1, SleepTests::test_sleep_zero: sleep(0) (and a negative delay) is one
 * pass: what was queued before runs first, and what that queues runs
 * after the task resumed */
static void
test_sleep_zero (WeftTestLoop  *loop,
                 gconstpointer  data)
{
  static const double zero[] = { 0 };
  static const double negative[] = { -1 };
  const double *cases[] = { zero, negative };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GString) log = g_string_new (NULL);
      Sleeper s = { .log = log, .name = "t", .delays = cases[i], .n_delays = 1, .call_soon_first = TRUE };
      g_autoptr(WeftTask) task = sleeper_spawn (KIND (data), &s);

      g_assert_cmpuint (weft_test_pass (), ==, 1);
      g_assert_cmpstr (log->str, ==, "t:sleep");
      g_assert_cmpuint (weft_test_pass (), ==, 2);
      g_assert_cmpstr (log->str, ==, "t:sleep cb1 t:woke");
      weft_test_assert_finished_int (task, 1);
      g_assert_cmpuint (weft_test_pass (), ==, 1);
      g_assert_cmpstr (log->str, ==, "t:sleep cb1 t:woke cb2");
      g_assert_cmpuint (weft_test_pass (), ==, 0);
    }
}

/* S1: n sleep(0)s take n passes, no more */
static void
test_sleep_zero_passes (WeftTestLoop  *loop,
                        gconstpointer  data)
{
  static const double zeros[] = { 0, 0, 0, 0, 0 };
  g_autoptr(GString) log = g_string_new (NULL);
  Sleeper s = { .log = log, .name = "t", .delays = zeros, .n_delays = G_N_ELEMENTS (zeros) };
  g_autoptr(WeftTask) task = sleeper_spawn (KIND (data), &s);

  g_assert_cmpuint (weft_test_run_until_idle (), ==, 1 + G_N_ELEMENTS (zeros));
  weft_test_assert_finished_int (task, G_N_ELEMENTS (zeros));
}

/* S1, test_sleep: a positive delay waits on a timer, not on passes */
static void
test_sleep_timer (WeftTestLoop  *loop,
                  gconstpointer  data)
{
  static const double delay[] = { 0.05 };
  g_autoptr(GString) log = g_string_new (NULL);
  Sleeper s = { .log = log, .name = "t", .delays = delay, .n_delays = 1 };
  gint64 start = g_get_monotonic_time ();
  g_autoptr(WeftTask) task = sleeper_spawn (KIND (data), &s);

  g_assert_cmpuint (weft_test_run_until_idle (), ==, 1);
  g_assert_cmpstr (log->str, ==, "t:sleep");
  g_assert_true (weft_task_is_suspended (task));
  g_assert_null (weft_task_get_awaited (task));
  g_assert_cmpint (context_timeout (loop->context), >, 0);

  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 50000);
  g_assert_cmpstr (log->str, ==, "t:sleep t:woke");
  weft_test_assert_finished_int (task, 1);
  g_assert_cmpint (context_timeout (loop->context), ==, -1);
}

/* S1, M2: sleepers wake in deadline order, whatever order they slept in */
static void
test_sleep_deadline_order (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  static const double d30[] = { 0.03 }, d10[] = { 0.01 }, d20[] = { 0.02 };
  g_autoptr(GString) log = g_string_new (NULL);
  Sleeper a = { .log = log, .name = "a", .delays = d30, .n_delays = 1 };
  Sleeper b = { .log = log, .name = "b", .delays = d10, .n_delays = 1 };
  Sleeper c = { .log = log, .name = "c", .delays = d20, .n_delays = 1 };
  g_autoptr(WeftTask) ta = sleeper_spawn (KIND (data), &a);
  g_autoptr(WeftTask) tb = sleeper_spawn (KIND (data), &b);
  g_autoptr(WeftTask) tc = sleeper_spawn (KIND (data), &c);

  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "a:sleep b:sleep c:sleep");

  weft_test_run_until_done (WEFT_FUTURE (ta));
  weft_test_run_until_done (WEFT_FUTURE (tb));
  weft_test_run_until_done (WEFT_FUTURE (tc));
  g_assert_cmpstr (log->str, ==, "a:sleep b:sleep c:sleep b:woke c:woke a:woke");
}

/* S1, T6, T8a, test_task_cancel_sleeping_task, test_sleep_cancel:
 * cancelling a sleeping task disarms its timer; the task is cancelled one
 * pass later and nothing is left armed on the context */
static void
test_cancel_sleeping (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  static const double delay[] = { 5000 };
  g_autoptr(GString) log = g_string_new (NULL);
  Sleeper s = { .log = log, .name = "t", .delays = delay, .n_delays = 1 };
  g_autoptr(WeftTask) task = sleeper_spawn (KIND (data), &s);
  int timeout;

  weft_test_pass ();
  timeout = context_timeout (loop->context);
  g_assert_cmpint (timeout, >, 4000 * 1000);
  g_assert_cmpint (timeout, <=, 5000 * 1000 + 1);

  g_assert_true (weft_task_cancel (task, NULL));
  g_assert_false (weft_future_is_done (WEFT_FUTURE (task)));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (log->str, ==, "t:sleep t:raised:Operation was cancelled");
  weft_test_assert_future_cancelled (task, NULL);
  g_assert_cmpint (context_timeout (loop->context), ==, -1);
  g_assert_false (g_main_context_pending (loop->context));
}

/* S1: once cancelled, the sleep's deadline passing wakes nothing */
static void
test_cancel_then_deadline_passes (WeftTestLoop  *loop,
                                  gconstpointer  data)
{
  static const double delay[] = { 0.005 };
  g_autoptr(GString) log = g_string_new (NULL);
  Sleeper s = { .log = log, .name = "t", .delays = delay, .n_delays = 1 };
  g_autoptr(WeftTask) task = sleeper_spawn (KIND (data), &s);

  weft_test_pass ();
  g_assert_true (weft_task_cancel (task, "early"));
  g_usleep (20000);

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpuint (weft_test_pass (), ==, 0);
  g_assert_cmpstr (log->str, ==, "t:sleep t:raised:early");
  weft_test_assert_future_cancelled (task, "early");
  g_assert_cmpint (context_timeout (loop->context), ==, -1);
}

/* S1, T10: a task that catches the cancellation of its sleep can sleep
 * again, on a timer that works */
static void
test_sleep_after_cancelled_sleep (WeftTestLoop  *loop,
                                  gconstpointer  data)
{
  static const double delays[] = { 5000, 0.01 };
  g_autoptr(GString) log = g_string_new (NULL);
  Sleeper s = { .log = log, .name = "t", .delays = delays, .n_delays = 2, .catch_errors = TRUE };
  g_autoptr(WeftTask) task = sleeper_spawn (KIND (data), &s);

  weft_test_pass ();
  g_assert_true (weft_task_cancel (task, NULL));
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "t:sleep t:caught:Operation was cancelled");
  g_assert_true (weft_task_is_suspended (task));
  g_assert_cmpint (context_timeout (loop->context), >=, 0);

  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_cmpstr (log->str, ==, "t:sleep t:caught:Operation was cancelled t:woke");
  weft_test_assert_finished_int (task, 2);
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);
}

/* T13, T7: cancel(m1) lands on the sleep; a cancel(m2) before the task
 * resumes does not change the message, nor add a second delivery */
static void
test_cancel_message_first_wins (WeftTestLoop  *loop,
                                gconstpointer  data)
{
  static const double delays[] = { 5000, 0 };
  g_autoptr(GString) log = g_string_new (NULL);
  Sleeper s = { .log = log, .name = "t", .delays = delays, .n_delays = 2, .catch_errors = TRUE };
  g_autoptr(WeftTask) task = sleeper_spawn (KIND (data), &s);

  weft_test_pass ();
  g_assert_true (weft_task_cancel (task, "m1"));
  g_assert_true (weft_task_cancel (task, "m2"));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 2);

  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "t:sleep t:caught:m1 t:woke");
  weft_test_assert_finished_int (task, 2);
}

/* T13: the same when the error escapes: the task ends with m1 */
static void
test_cancel_message_first_wins_raised (WeftTestLoop  *loop,
                                       gconstpointer  data)
{
  static const double delay[] = { 5000 };
  g_autoptr(GString) log = g_string_new (NULL);
  Sleeper s = { .log = log, .name = "t", .delays = delay, .n_delays = 1 };
  g_autoptr(WeftTask) task = sleeper_spawn (KIND (data), &s);

  weft_test_pass ();
  g_assert_true (weft_task_cancel (task, "m1"));
  g_assert_true (weft_task_cancel (task, "m2"));
  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "t:sleep t:raised:m1");
  weft_test_assert_future_cancelled (task, "m1");
}

/* T12: an uncancel() after the cancellation reached the sleep does not
 * take it back: like asyncio's cancelled sleep future, it is delivered */
static void
test_uncancel_after_delivery (WeftTestLoop  *loop,
                              gconstpointer  data)
{
  static const double delays[] = { 5000 };
  g_autoptr(GString) log = g_string_new (NULL);
  Sleeper s = { .log = log, .name = "t", .delays = delays, .n_delays = 1, .catch_errors = TRUE };
  g_autoptr(WeftTask) task = sleeper_spawn (KIND (data), &s);

  weft_test_pass ();
  g_assert_true (weft_task_cancel (task, "sent"));
  g_assert_cmpuint (weft_task_uncancel (task), ==, 0);
  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "t:sleep t:caught:sent");
  weft_test_assert_finished_int (task, 1);
  g_assert_cmpint (context_timeout (loop->context), ==, -1);
}

/* T8b: a sleeper whose deadline has passed but which has not resumed yet
 * (an earlier sleeper runs first in the same pass and cancels it) gets the
 * cancellation instead of waking, with the last message */
typedef struct
{
  Sleeper   sleeper;
  WeftTask *victim;
} Canceller;

static void
cancel_victim (WeftTask *task,
               gpointer  user_data)
{
  Canceller *c = user_data;

  g_assert_true (weft_sleep (0.001, NULL));
  weft_test_log (c->sleeper.log, "c:woke");
  g_assert_true (weft_task_cancel (c->victim, "m1"));
  g_assert_true (weft_task_cancel (c->victim, "m2"));
}

static void
test_cancel_due_sleeper (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  static const double delay[] = { 0.002 };
  g_autoptr(GString) log = g_string_new (NULL);
  Canceller c = { .sleeper = { .log = log } };
  g_autoptr(WeftTask) canceller = weft_fiber_new ("c", cancel_victim, &c, NULL);
  Sleeper s = { .log = log, .name = "t", .delays = delay, .n_delays = 1 };
  g_autoptr(WeftTask) task = sleeper_spawn (KIND (data), &s);

  c.victim = task;
  g_assert_cmpuint (weft_test_pass (), ==, 2);
  g_usleep (20000);

  g_assert_cmpuint (weft_test_pass (), ==, 2);
  g_assert_cmpstr (log->str, ==, "t:sleep c:woke t:raised:m2");
  weft_test_assert_future_cancelled (task, "m2");
  g_assert_true (weft_future_propagate (WEFT_FUTURE (canceller), NULL));
}

/* S1 [3.13+], test_sleep_when_delay_is_nan: a NaN delay raises
 * WEFT_ERROR_INVALID_ARGUMENT; a fiber gets it at once, without
 * suspending, a stackless task at its next step */
static void
test_sleep_nan (WeftTestLoop  *loop,
                gconstpointer  data)
{
  static const double delay[] = { NAN };
  g_autoptr(GString) log = g_string_new (NULL);
  Sleeper s = { .log = log, .name = "t", .delays = delay, .n_delays = 1 };
  g_autoptr(WeftTask) task = sleeper_spawn (KIND (data), &s);
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  if (KIND (data) == KIND_STACKLESS)
    {
      g_assert_false (weft_future_is_done (WEFT_FUTURE (task)));
      g_assert_cmpuint (weft_test_pass (), ==, 1);
    }
  g_assert_true (weft_future_is_done (WEFT_FUTURE (task)));
  g_assert_false (weft_future_propagate (WEFT_FUTURE (task), &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_INVALID_ARGUMENT);
  g_assert_false (weft_future_is_cancelled (WEFT_FUTURE (task)));
  g_assert_cmpint (context_timeout (loop->context), ==, -1);
}

/* S1: the NaN error can be caught like any other */
static void
test_sleep_nan_caught (WeftTestLoop  *loop,
                       gconstpointer  data)
{
  static const double delays[] = { NAN, 0 };
  g_autoptr(GString) log = g_string_new (NULL);
  Sleeper s = { .log = log, .name = "t", .delays = delays, .n_delays = 2, .catch_errors = TRUE };
  g_autoptr(WeftTask) task = sleeper_spawn (KIND (data), &s);

  weft_test_run_until_idle ();
  g_assert_true (g_str_has_prefix (log->str, "t:sleep t:caught:"));
  g_assert_true (g_str_has_suffix (log->str, " t:woke"));
  weft_test_assert_finished_int (task, 2);
}

/* S1: weft_sleep_future_new (delay, value) finishes with the value once the
 * timer fires, and not before */
static void
test_sleep_future_value (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_auto(GValue) out = G_VALUE_INIT;
  g_autoptr(WeftFuture) future = NULL;
  g_autoptr(WeftFuture) empty = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  g_value_init (&value, G_TYPE_INT64);
  g_value_set_int64 (&value, 5);
  future = weft_sleep_future_new (0.05, &value);
  empty = weft_sleep_future_new (0.05, NULL);
  g_value_set_int64 (&value, 6);        /* the future holds a copy */

  g_assert_cmpuint (weft_test_run_until_idle (), ==, 0);
  g_assert_false (weft_future_is_done (future));
  g_assert_cmpint (context_timeout (loop->context), >, 0);

  weft_test_run_until_done (future);
  weft_test_run_until_done (empty);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 50000);
  weft_test_assert_finished_int (future, 5);

  g_assert_true (weft_future_get_value (empty, &out, &error));
  g_assert_no_error (error);
  g_assert_false (G_IS_VALUE (&out));
}

/* S1: a zero (or negative) delay fires at the next pass */
static void
test_sleep_future_zero (WeftTestLoop  *loop,
                        gconstpointer  data)
{
  g_autoptr(WeftFuture) zero = weft_sleep_future_new (0, NULL);
  g_autoptr(WeftFuture) negative = weft_sleep_future_new (-3, NULL);

  g_assert_false (weft_future_is_done (zero));
  g_assert_false (weft_future_is_done (negative));
  g_assert_cmpuint (weft_test_pass (), ==, 2);
  g_assert_true (weft_future_propagate (zero, NULL));
  g_assert_true (weft_future_propagate (negative, NULL));
  g_assert_cmpint (context_timeout (loop->context), ==, -1);
}

static void
await_sleep_future (WeftTask *task,
                    gpointer  user_data)
{
  g_autoptr(WeftFuture) future = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, "rested");
  future = weft_sleep_future_new (0.05, &value);

  text = weft_await_string (future, &error);
  if (text == NULL)
    weft_task_return_error (task, g_steal_pointer (&error));
  else
    weft_task_return_string (task, text);
}

/* S1: a task awaits a sleep future and gets its value */
static void
test_await_sleep_future (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  g_autoptr(WeftTask) task = weft_fiber_new (NULL, await_sleep_future, NULL, NULL);
  g_autofree char *text = NULL;

  weft_test_run_until_idle ();
  g_assert_false (weft_future_is_done (WEFT_FUTURE (task)));
  weft_test_run_until_done (WEFT_FUTURE (task));
  text = weft_future_dup_string (WEFT_FUTURE (task), NULL);
  g_assert_cmpstr (text, ==, "rested");
}

static void
record_done (WeftFuture *future,
             gpointer    user_data)
{
  (*(guint *) user_data)++;
}

/* S1, F5: cancelling a sleep future cancels it, with its message, disarms
 * its timer and lets it go: the timer's reference is dropped */
static void
test_cancel_sleep_future (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  WeftFuture *future = weft_sleep_future_new (5000, NULL);
  guint called = 0;

  g_object_add_weak_pointer (G_OBJECT (future), (gpointer *) &future);
  weft_future_add_done_callback (future, record_done, &called, NULL);
  g_assert_cmpint (context_timeout (loop->context), >, 4000 * 1000);

  g_assert_true (weft_future_cancel (future, "bye"));
  g_assert_false (weft_future_cancel (future, "again"));
  weft_test_assert_future_cancelled (future, "bye");
  g_assert_cmpuint (called, ==, 0);

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpuint (called, ==, 1);
  g_assert_cmpint (context_timeout (loop->context), ==, -1);

  g_object_unref (future);
  g_assert_null (future);
}

/* A sleep future nobody references any more still fires, then goes away */
static void
test_sleep_future_unreferenced (WeftTestLoop  *loop,
                                gconstpointer  data)
{
  WeftFuture *future = weft_sleep_future_new (0.005, NULL);
  WeftFuture *watch = future;

  g_object_add_weak_pointer (G_OBJECT (future), (gpointer *) &watch);
  g_object_unref (future);
  g_assert_nonnull (watch);

  while (watch != NULL)
    g_main_context_iteration (loop->context, TRUE);
  g_assert_cmpint (context_timeout (loop->context), ==, -1);
}

/* S1: a NaN delay is a programming error for a sleep future */
static void
test_sleep_future_nan (WeftTestLoop  *loop,
                       gconstpointer  data)
{
  g_test_expect_message ("Weft", G_LOG_LEVEL_CRITICAL, "*isnan*");
  g_assert_null (weft_sleep_future_new (NAN, NULL));
  g_test_assert_expected_messages ();
}

static void
add_both (const char *name,
          void      (*func) (WeftTestLoop *, gconstpointer))
{
  weft_test_add_both_kinds ("sleep", name, func);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  add_both ("zero", test_sleep_zero);
  add_both ("zero-passes", test_sleep_zero_passes);
  add_both ("timer", test_sleep_timer);
  add_both ("deadline-order", test_sleep_deadline_order);
  add_both ("cancel-sleeping", test_cancel_sleeping);
  add_both ("cancel-then-deadline-passes", test_cancel_then_deadline_passes);
  add_both ("sleep-after-cancelled-sleep", test_sleep_after_cancelled_sleep);
  add_both ("cancel-message-first-wins", test_cancel_message_first_wins);
  add_both ("cancel-message-first-wins-raised", test_cancel_message_first_wins_raised);
  add_both ("uncancel-after-delivery", test_uncancel_after_delivery);
  add_both ("cancel-due-sleeper", test_cancel_due_sleeper);
  add_both ("nan", test_sleep_nan);
  add_both ("nan-caught", test_sleep_nan_caught);

  WEFT_TEST_ADD ("/sleep/future/value", test_sleep_future_value);
  WEFT_TEST_ADD ("/sleep/future/zero", test_sleep_future_zero);
  WEFT_TEST_ADD ("/sleep/future/awaited", test_await_sleep_future);
  WEFT_TEST_ADD ("/sleep/future/cancel", test_cancel_sleep_future);
  WEFT_TEST_ADD ("/sleep/future/unreferenced", test_sleep_future_unreferenced);
  WEFT_TEST_ADD ("/sleep/future/nan", test_sleep_future_nan);

  return g_test_run ();
}
