/* test-to-thread.c — weft_to_thread(): rules TH1 and TH2
 *
 * Real worker threads, but every hand-off is waited for on a gate: no test
 * sleeps and hopes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "weft-test-utils.h"

/* What a thread function saw and did; the test owns it. */
typedef struct
{
  gint64        value;          /* returned, or the error code if fail */
  gboolean      fail;
  gboolean      set_no_value;
  WeftTestGate  started;        /* +1 when the function starts */
  WeftTestGate  release;        /* the function waits for 1 here, if wait */
  WeftTestGate  freed;          /* +1 when its user data is freed */
  gboolean      wait;
  int           calls;          /* atomic */
  GThread      *thread;         /* written by the worker before `freed` */
  gboolean      was_cancelled;  /* the cancellable, once released */
  GObject      *object;         /* returned as the value, if set */
} Work;

static void
work_init (Work *work)
{
  memset (work, 0, sizeof *work);
  weft_test_gate_init (&work->started);
  weft_test_gate_init (&work->release);
  weft_test_gate_init (&work->freed);
}

static void
work_clear (Work *work)
{
  weft_test_gate_clear (&work->started);
  weft_test_gate_clear (&work->release);
  weft_test_gate_clear (&work->freed);
}

static gboolean
work_func (GCancellable  *cancellable,
           GValue        *result,
           gpointer       user_data,
           GError       **error)
{
  Work *work = user_data;

  g_atomic_int_inc (&work->calls);
  work->thread = g_thread_self ();
  g_assert_true (G_IS_CANCELLABLE (cancellable));
  weft_test_gate_add (&work->started, 1);

  if (work->wait)
    {
      g_assert_true (weft_test_gate_wait (&work->release, 1, WEFT_TEST_TIMEOUT));
      work->was_cancelled = g_cancellable_is_cancelled (cancellable);
    }

  if (work->fail)
    {
      g_set_error (error, G_IO_ERROR, (int) work->value, "failed with %" G_GINT64_FORMAT, work->value);
      return FALSE;
    }
  if (work->object != NULL)
    {
      g_value_init (result, G_TYPE_OBJECT);
      g_value_take_object (result, g_steal_pointer (&work->object));
    }
  else if (!work->set_no_value)
    {
      g_value_init (result, G_TYPE_INT64);
      g_value_set_int64 (result, work->value);
    }
  return TRUE;
}

static void
work_freed (gpointer user_data)
{
  Work *work = user_data;

  weft_test_gate_add (&work->freed, 1);
}

/* TH1: the function runs once, on another thread, and its value is the
 * outcome of the awaited future */
static void
test_value (WeftTestLoop  *loop,
            gconstpointer  data)
{
  Work work;
  g_autoptr(WeftFuture) future = NULL;
  g_autoptr(WeftTask) task = NULL;
  WeftTestAwait await;

  work_init (&work);
  work.value = 42;
  future = weft_to_thread (work_func, &work, work_freed);
  await = (WeftTestAwait) { .future = future };
  task = weft_test_spawn_awaiter (KIND (data), &await);

  g_assert_true (weft_future_get_context (future) == loop->context);
  weft_test_run_until_done (WEFT_FUTURE (task));

  weft_test_assert_finished_int (task, 42);
  weft_test_assert_finished_int (future, 42);
  g_assert_true (await.resumed_on == g_thread_self ());

  g_assert_true (weft_test_gate_wait (&work.freed, 1, WEFT_TEST_TIMEOUT));
  g_assert_cmpint (g_atomic_int_get (&work.calls), ==, 1);
  g_assert_true (work.thread != g_thread_self ());
  g_assert_cmpint (weft_test_gate_get (&work.freed), ==, 1);
  work_clear (&work);
}

/* TH1: the function's error is the error the await raises */
static void
test_error (WeftTestLoop  *loop,
            gconstpointer  data)
{
  Work work;
  g_autoptr(WeftFuture) future = NULL;
  g_autoptr(WeftTask) task = NULL;
  g_autoptr(GError) error = NULL;
  WeftTestAwait await;

  work_init (&work);
  work.fail = TRUE;
  work.value = G_IO_ERROR_PERMISSION_DENIED;
  future = weft_to_thread (work_func, &work, work_freed);
  await = (WeftTestAwait) { .future = future };
  task = weft_test_spawn_awaiter (KIND (data), &await);

  weft_test_run_until_done (WEFT_FUTURE (task));

  g_assert_cmpint (weft_future_get_state (WEFT_FUTURE (task)), ==, WEFT_FUTURE_STATE_FINISHED);
  g_assert_false (weft_future_propagate (WEFT_FUTURE (task), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_assert_cmpstr (error->message, ==, "failed with 14");

  g_assert_true (weft_test_gate_wait (&work.freed, 1, WEFT_TEST_TIMEOUT));
  g_assert_cmpint (g_atomic_int_get (&work.calls), ==, 1);
  work_clear (&work);
}

/* TH1: a function that sets no value finishes the future with none */
static void
test_no_value (WeftTestLoop  *loop,
               gconstpointer  data)
{
  Work work;
  g_autoptr(WeftFuture) future = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  work_init (&work);
  work.set_no_value = TRUE;
  future = weft_to_thread (work_func, &work, work_freed);
  weft_test_run_until_done (future);

  g_assert_true (weft_future_get_value (future, &value, &error));
  g_assert_no_error (error);
  g_assert_false (G_IS_VALUE (&value));
  g_assert_true (weft_test_gate_wait (&work.freed, 1, WEFT_TEST_TIMEOUT));
  work_clear (&work);
}

#define N_CONCURRENT 4

typedef struct
{
  WeftTestGate *meeting;
  WeftTestGate *freed;
  gint64        index;
} Meeter;

static void
meeter_freed (gpointer user_data)
{
  Meeter *meeter = user_data;

  weft_test_gate_add (meeter->freed, 1);
}

/* Returns only once all N_CONCURRENT functions are running at once. */
static gboolean
meet_func (GCancellable  *cancellable,
           GValue        *result,
           gpointer       user_data,
           GError       **error)
{
  Meeter *meeter = user_data;

  weft_test_gate_add (meeter->meeting, 1);
  g_assert_true (weft_test_gate_wait (meeter->meeting, N_CONCURRENT, WEFT_TEST_TIMEOUT));
  g_value_init (result, G_TYPE_INT64);
  g_value_set_int64 (result, meeter->index * 10);
  return TRUE;
}

/* TH1 (test_to_thread_concurrent): calls run on threads of their own, at
 * the same time */
static void
test_concurrent (WeftTestLoop  *loop,
                 gconstpointer  data)
{
  WeftTestGate meeting, freed;
  Meeter meeters[N_CONCURRENT];
  WeftFuture *futures[N_CONCURRENT];

  weft_test_gate_init (&meeting);
  weft_test_gate_init (&freed);
  for (guint i = 0; i < N_CONCURRENT; i++)
    {
      meeters[i] = (Meeter) { &meeting, &freed, i };
      futures[i] = weft_to_thread (meet_func, &meeters[i], meeter_freed);
    }
  for (guint i = 0; i < N_CONCURRENT; i++)
    {
      weft_test_run_until_done (futures[i]);
      weft_test_assert_finished_int (futures[i], i * 10);
      g_object_unref (futures[i]);
    }
  g_assert_true (weft_test_gate_wait (&freed, N_CONCURRENT, WEFT_TEST_TIMEOUT));
  weft_test_gate_clear (&freed);
  weft_test_gate_clear (&meeting);
}

/* TH2: cancelling the awaiting task cancels the future at once (T8a) and
 * abandons the wait; the function, still running, sees its cancellable
 * cancelled, and its late outcome is dropped */
static void
test_cancel_cooperative (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  Work work;
  g_autoptr(WeftFuture) future = NULL;
  g_autoptr(WeftTask) task = NULL;
  WeftTestAwait await;

  work_init (&work);
  work.wait = TRUE;
  work.value = 5;
  future = weft_to_thread (work_func, &work, work_freed);
  await = (WeftTestAwait) { .future = future };
  task = weft_test_spawn_awaiter (KIND (data), &await);

  weft_test_pass ();
  g_assert_true (weft_task_get_awaited (task) == future);
  g_assert_true (weft_test_gate_wait (&work.started, 1, WEFT_TEST_TIMEOUT));

  g_assert_true (weft_task_cancel (task, "enough"));
  weft_test_assert_future_cancelled (future, "enough");

  weft_test_pass ();
  weft_test_assert_future_cancelled (task, "enough");

  /* The thread runs on to the end, after the task is over. */
  g_assert_cmpint (weft_test_gate_get (&work.freed), ==, 0);
  weft_test_gate_add (&work.release, 1);
  g_assert_true (weft_test_gate_wait (&work.freed, 1, WEFT_TEST_TIMEOUT));
  g_assert_true (work.was_cancelled);
  g_assert_cmpint (g_atomic_int_get (&work.calls), ==, 1);
  weft_test_assert_future_cancelled (future, "enough");
  g_assert_cmpuint (weft_test_run_until_idle (), ==, 0);
  work_clear (&work);
}

static void
object_finalized (gpointer  data,
                  GObject  *where_the_object_was)
{
  weft_test_gate_add (data, 1);
}

/* TH2: a function that ignores the cancellation finishes later; its value
 * is dropped and freed, and the cancelled future keeps its state */
static void
test_cancel_drops_late_value (WeftTestLoop  *loop,
                              gconstpointer  data)
{
  Work work;
  WeftTestGate finalized;
  g_autoptr(WeftFuture) future = NULL;
  g_autoptr(WeftTask) task = NULL;
  WeftTestAwait await;

  work_init (&work);
  weft_test_gate_init (&finalized);
  work.wait = TRUE;
  work.object = g_object_new (G_TYPE_OBJECT, NULL);
  g_object_weak_ref (work.object, object_finalized, &finalized);

  future = weft_to_thread (work_func, &work, work_freed);
  await = (WeftTestAwait) { .future = future };
  task = weft_test_spawn_awaiter (KIND (data), &await);
  weft_test_pass ();
  g_assert_true (weft_test_gate_wait (&work.started, 1, WEFT_TEST_TIMEOUT));

  g_assert_true (weft_task_cancel (task, NULL));
  weft_test_run_until_done (WEFT_FUTURE (task));
  weft_test_assert_future_cancelled (task, NULL);

  weft_test_gate_add (&work.release, 1);
  g_assert_true (weft_test_gate_wait (&work.freed, 1, WEFT_TEST_TIMEOUT));
  g_assert_true (weft_test_gate_wait (&finalized, 1, WEFT_TEST_TIMEOUT));
  weft_test_assert_future_cancelled (future, NULL);

  weft_test_gate_clear (&finalized);
  work_clear (&work);
}

/* TH2: a call cancelled while it waits for a free worker never runs, as a
 * queued concurrent future that is cancelled; its data is still freed */
static void
test_cancel_before_start (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  /* The pool's size: ThreadPoolExecutor's default. */
  guint n_workers = MIN (32, g_get_num_processors () + 4);
  g_autofree Work *blockers = g_new (Work, n_workers);
  g_autofree WeftFuture **futures = g_new (WeftFuture *, n_workers);
  g_autoptr(WeftFuture) queued = NULL;
  Work work;

  for (guint i = 0; i < n_workers; i++)
    {
      work_init (&blockers[i]);
      blockers[i].wait = TRUE;
      blockers[i].value = i;
      futures[i] = weft_to_thread (work_func, &blockers[i], work_freed);
    }
  for (guint i = 0; i < n_workers; i++)
    g_assert_true (weft_test_gate_wait (&blockers[i].started, 1, WEFT_TEST_TIMEOUT));

  /* Every worker is busy: this one waits in the queue. */
  work_init (&work);
  queued = weft_to_thread (work_func, &work, work_freed);
  g_assert_true (weft_future_cancel (queued, "never mind"));
  weft_test_assert_future_cancelled (queued, "never mind");

  for (guint i = 0; i < n_workers; i++)
    weft_test_gate_add (&blockers[i].release, 1);
  g_assert_true (weft_test_gate_wait (&work.freed, 1, WEFT_TEST_TIMEOUT));
  g_assert_cmpint (g_atomic_int_get (&work.calls), ==, 0);

  for (guint i = 0; i < n_workers; i++)
    {
      weft_test_run_until_done (futures[i]);
      weft_test_assert_finished_int (futures[i], i);
      g_object_unref (futures[i]);
      g_assert_true (weft_test_gate_wait (&blockers[i].freed, 1, WEFT_TEST_TIMEOUT));
      work_clear (&blockers[i]);
    }
  work_clear (&work);
}

/* TH1: the function runs in a copy of the caller's context variables:
 * it sees their values, and what it sets stays in its copy.
 */
static WeftContextVar *request_id;

static gboolean
read_and_set_request_id (GCancellable  *cancellable,
                         GValue        *result,
                         gpointer       user_data,
                         GError       **error)
{
  gint64 seen = weft_context_var_get_int64 (request_id, error);

  if (seen == 0)
    return FALSE;
  weft_context_token_unref (weft_context_var_set_int64 (request_id, seen + 1));
  g_value_init (result, G_TYPE_INT64);
  g_value_set_int64 (result, seen);
  return TRUE;
}

static void
submit_in_context (gpointer user_data)
{
  WeftFuture **future = user_data;

  weft_context_token_unref (weft_context_var_set_int64 (request_id, 7));
  *future = weft_to_thread (read_and_set_request_id, NULL, NULL);
}

static void
test_context_copied (WeftTestLoop  *loop,
                     gconstpointer  data)
{
  g_autoptr(WeftContext) context = weft_context_new ();
  g_autoptr(WeftFuture) future = NULL;
  g_auto(GValue) after = G_VALUE_INIT;

  request_id = weft_context_var_new ("request-id", G_TYPE_INT64, NULL);
  g_assert_true (weft_context_run (context, submit_in_context, &future, NULL));

  weft_test_run_until_done (future);

  weft_test_assert_finished_int (future, 7);
  g_assert_true (weft_context_get_value (context, request_id, &after));
  g_assert_cmpint (g_value_get_int64 (&after), ==, 7);
  g_clear_object (&request_id);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  weft_test_add_both_kinds ("to-thread", "value", test_value);
  weft_test_add_both_kinds ("to-thread", "error", test_error);
  WEFT_TEST_ADD ("/to-thread/no-value", test_no_value);
  WEFT_TEST_ADD ("/to-thread/concurrent", test_concurrent);
  weft_test_add_both_kinds ("to-thread", "cancel-cooperative", test_cancel_cooperative);
  weft_test_add_both_kinds ("to-thread", "cancel-drops-late-value", test_cancel_drops_late_value);
  WEFT_TEST_ADD ("/to-thread/cancel-before-start", test_cancel_before_start);
  WEFT_TEST_ADD ("/to-thread/context-copied", test_context_copied);

  return g_test_run ();
}
