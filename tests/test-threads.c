/* test-threads.c — futures completed and cancelled from other threads, and
 * contexts running tasks on several threads at once
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-test-utils.h"

/* A wakeup lost by the context would block g_main_context_iteration()
 * forever: a watchdog timer on the same context turns that into a failure
 * instead of a hang. */
typedef struct
{
  GSource  *source;
  gboolean  fired;
} Watchdog;

static gboolean
watchdog_fire (gpointer user_data)
{
  Watchdog *watchdog = user_data;

  watchdog->fired = TRUE;
  return G_SOURCE_REMOVE;
}

static void
watchdog_start (Watchdog     *watchdog,
                GMainContext *context,
                guint         seconds)
{
  watchdog->fired = FALSE;
  watchdog->source = g_timeout_source_new_seconds (seconds);
  g_source_set_callback (watchdog->source, watchdog_fire, watchdog, NULL);
  g_source_attach (watchdog->source, context);
}

static void
watchdog_stop (Watchdog *watchdog)
{
  g_source_destroy (watchdog->source);
  g_clear_pointer (&watchdog->source, g_source_unref);
  g_assert_false (watchdog->fired);
}

/* Blocks in the real main loop until @future is done. */
static void
iterate_until_done (GMainContext *context,
                    WeftFuture   *future)
{
  Watchdog watchdog;

  watchdog_start (&watchdog, context, 20);
  while (!weft_future_is_done (future) && !watchdog.fired)
    g_main_context_iteration (context, TRUE);
  watchdog_stop (&watchdog);
}

/* A thread that completes or cancels the futures it is handed. */
typedef enum
{
  JOB_SET,
  JOB_CANCEL,
  JOB_QUIT,
} JobKind;

typedef struct
{
  JobKind     kind;
  WeftFuture *future;
  gint64      value;
  guint       delay_usec;
  int         posted;   /* atomic: GAsyncQueue's hand-off is invisible to ThreadSanitizer */
} Job;

static gpointer
completer_thread (gpointer user_data)
{
  GAsyncQueue *queue = user_data;

  for (;;)
    {
      Job *job = g_async_queue_pop (queue);

      g_assert_true (g_atomic_int_get (&job->posted));
      if (job->kind == JOB_QUIT)
        {
          g_free (job);
          break;
        }
      if (job->delay_usec > 0)
        g_usleep (job->delay_usec);
      if (job->kind == JOB_SET)
        weft_future_set_int64 (job->future, job->value);
      else
        g_assert_true (weft_future_cancel (job->future, "from thread"));
      g_object_unref (job->future);
      g_free (job);
    }

  return NULL;
}

static void
post_job (GAsyncQueue *queue,
          JobKind      kind,
          WeftFuture  *future,
          gint64       value,
          guint        delay_usec)
{
  Job *job = g_new0 (Job, 1);

  job->kind = kind;
  job->future = future != NULL ? g_object_ref (future) : NULL;
  job->value = value;
  job->delay_usec = delay_usec;
  g_atomic_int_set (&job->posted, TRUE);
  g_async_queue_push (queue, job);
}

typedef struct
{
  WeftFuture *future;
  GThread    *resumed_on;
  gint64      value;
} Waiter;

static void
wait_on_future (WeftTask *task,
                gpointer  user_data)
{
  Waiter *w = user_data;
  g_autoptr(GError) error = NULL;

  w->value = weft_await_int64 (w->future, &error);
  w->resumed_on = g_thread_self ();
  g_assert_true (weft_task_get_current () == task);
  if (error != NULL)
    weft_task_return_error (task, g_steal_pointer (&error));
  else
    weft_task_return_int64 (task, w->value);
}

/* F: a future completed from another thread wakes the task waiting on it
 * on the task's own context and thread, also when the context is blocked
 * in poll: once after a delay, then many times racing the poll */
static void
test_wakeup_from_thread (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  GAsyncQueue *queue = g_async_queue_new ();
  GThread *thread = g_thread_new ("completer", completer_thread, queue);

  for (guint round = 0; round < 500; round++)
    {
      g_autoptr(WeftFuture) future = weft_future_new ();
      Waiter w = { .future = future };
      g_autoptr(WeftTask) task = weft_fiber_new ("waiter", wait_on_future, &w, NULL);

      g_assert_cmpuint (weft_test_pass (), ==, 1);
      g_assert_true (weft_task_get_awaited (task) == future);

      /* The first time, make sure the loop is blocked when it happens. */
      post_job (queue, JOB_SET, future, round, round == 0 ? 50000 : 0);
      iterate_until_done (loop->context, WEFT_FUTURE (task));

      g_assert_true (w.resumed_on == g_thread_self ());
      g_assert_cmpint (w.value, ==, round);
      g_assert_cmpint (weft_future_get_int64 (WEFT_FUTURE (task), NULL), ==, round);
    }

  post_job (queue, JOB_QUIT, NULL, 0, 0);
  g_thread_join (thread);
  g_async_queue_unref (queue);
}

typedef struct
{
  GString *log;
  GThread *thread;
  guint    count;
} CallbackRecord;

static void
record_callback (WeftFuture *future,
                 gpointer    user_data)
{
  CallbackRecord *record = user_data;

  g_assert_true (record->thread == NULL || record->thread == g_thread_self ());
  record->thread = g_thread_self ();
  record->count++;
  weft_test_log (record->log, "%s", (const char *) g_object_get_data (G_OBJECT (future), "tag"));
}

typedef struct
{
  WeftFuture     *future;
  CallbackRecord *record;
} LateAdd;

static void
tag_second (WeftFuture *future,
            gpointer    user_data)
{
  CallbackRecord *record = user_data;

  record->count++;
  record->thread = g_thread_self ();
  weft_test_log (record->log, "second");
}

static gpointer
complete_then_add (gpointer user_data)
{
  LateAdd *late = user_data;

  weft_future_set_int64 (late->future, 1);
  weft_future_add_done_callback (late->future, tag_second, late->record, NULL);
  return NULL;
}

/* F7: done callbacks of a future completed on another thread run on the
 * future's context, never in the completing thread, and in order; one
 * added from that thread after completion too */
static void
test_done_callback_thread (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftFuture) future = weft_future_new ();
  CallbackRecord record = { .log = log };
  LateAdd late = { future, &record };
  GThread *thread;

  g_object_set_data (G_OBJECT (future), "tag", "first");
  weft_future_add_done_callback (future, record_callback, &record, NULL);

  thread = g_thread_new ("completer", complete_then_add, &late);
  g_thread_join (thread);
  g_assert_true (weft_future_is_done (future));
  g_assert_cmpuint (record.count, ==, 0);

  g_assert_true (g_main_context_pending (loop->context));
  g_assert_cmpuint (weft_test_pass (), ==, 2);
  g_assert_cmpuint (record.count, ==, 2);
  g_assert_true (record.thread == g_thread_self ());
  g_assert_cmpstr (log->str, ==, "first second");
}

/* T11, F5: a future cancelled from another thread cancels the task that
 * awaits it; the task's own count stays 0 */
static void
test_cancel_from_thread (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  GAsyncQueue *queue = g_async_queue_new ();
  GThread *thread = g_thread_new ("canceller", completer_thread, queue);
  g_autoptr(WeftFuture) future = weft_future_new ();
  Waiter w = { .future = future };
  g_autoptr(WeftTask) task = weft_fiber_new ("waiter", wait_on_future, &w, NULL);
  g_autoptr(GError) error = NULL;

  weft_test_pass ();
  post_job (queue, JOB_CANCEL, future, 0, 20000);
  iterate_until_done (loop->context, WEFT_FUTURE (task));

  g_assert_true (w.resumed_on == g_thread_self ());
  g_assert_true (weft_future_is_cancelled (future));
  g_assert_true (weft_future_is_cancelled (WEFT_FUTURE (task)));
  g_assert_cmpstr (weft_future_get_cancel_message (WEFT_FUTURE (task)), ==, "from thread");
  g_assert_false (weft_future_propagate (WEFT_FUTURE (task), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 0);

  post_job (queue, JOB_QUIT, NULL, 0, 0);
  g_thread_join (thread);
  g_async_queue_unref (queue);
}

#define N_RACED 2000

typedef struct
{
  WeftFuture **futures;
  guint        n;
  gboolean     backwards;
  GCond       *cond;
  GMutex      *mutex;
  gboolean    *go;
  guint        accepted;
} Racer;

static void
racer_wait_for_start (Racer *r)
{
  g_mutex_lock (r->mutex);
  while (!g_atomic_int_get (r->go))
    g_cond_wait (r->cond, r->mutex);
  g_mutex_unlock (r->mutex);
}

static gpointer
cancel_all (gpointer user_data)
{
  Racer *r = user_data;

  racer_wait_for_start (r);
  for (guint i = 0; i < r->n; i++)
    {
      guint index = r->backwards ? r->n - 1 - i : i;

      if (weft_future_cancel (r->futures[index], r->backwards ? "backwards" : "forwards"))
        r->accepted++;
    }
  return NULL;
}

static void
count_callback (WeftFuture *future,
                gpointer    user_data)
{
  CallbackRecord *record = user_data;

  g_assert_true (record->thread == g_thread_self ());
  record->count++;
}

/* F1, F5: two threads cancel the same futures at once: each future is
 * cancelled exactly once, and its callbacks run once, on its context */
static void
test_cancel_race (WeftTestLoop  *loop,
                  gconstpointer  data)
{
  WeftFuture *futures[N_RACED];
  CallbackRecord record = { .thread = g_thread_self () };
  GCond cond;
  GMutex mutex;
  gboolean go = FALSE;
  Racer forwards = { futures, N_RACED, FALSE, &cond, &mutex, &go, 0 };
  Racer backwards = { futures, N_RACED, TRUE, &cond, &mutex, &go, 0 };
  GThread *a, *b;

  g_cond_init (&cond);
  g_mutex_init (&mutex);
  for (guint i = 0; i < N_RACED; i++)
    {
      futures[i] = weft_future_new ();
      weft_future_add_done_callback (futures[i], count_callback, &record, NULL);
    }

  a = g_thread_new ("forwards", cancel_all, &forwards);
  b = g_thread_new ("backwards", cancel_all, &backwards);
  g_mutex_lock (&mutex);
  g_atomic_int_set (&go, TRUE);
  g_cond_broadcast (&cond);
  g_mutex_unlock (&mutex);
  g_thread_join (a);
  g_thread_join (b);

  g_assert_cmpuint (forwards.accepted + backwards.accepted, ==, N_RACED);
  for (guint i = 0; i < N_RACED; i++)
    {
      const char *message = weft_future_get_cancel_message (futures[i]);

      g_assert_true (weft_future_is_cancelled (futures[i]));
      g_assert_true (g_strcmp0 (message, "forwards") == 0 || g_strcmp0 (message, "backwards") == 0);
    }

  g_assert_cmpuint (record.count, ==, 0);
  weft_test_run_until_idle ();
  g_assert_cmpuint (record.count, ==, N_RACED);

  for (guint i = 0; i < N_RACED; i++)
    g_object_unref (futures[i]);
  g_cond_clear (&cond);
  g_mutex_clear (&mutex);
}

#define N_MANY 10000

typedef struct
{
  WeftFuture **futures;
  guint        parity;
  GCond       *cond;
  GMutex      *mutex;
  gboolean    *go;
} Setter;

static gpointer
set_half (gpointer user_data)
{
  Setter *s = user_data;

  g_mutex_lock (s->mutex);
  while (!g_atomic_int_get (s->go))
    g_cond_wait (s->cond, s->mutex);
  g_mutex_unlock (s->mutex);

  for (guint i = s->parity; i < N_MANY; i += 2)
    weft_future_set_int64 (s->futures[i], i);
  return NULL;
}

static void
double_awaited (WeftTask     *task,
                WeftFuture   *awaited,
                const GError *error,
                gpointer      user_data)
{
  WeftFuture *future = user_data;

  if (awaited == NULL)
    {
      weft_task_await (task, future);
      return;
    }
  g_assert_no_error (error);
  g_assert_true (awaited == future);
  weft_task_return_int64 (task, 2 * weft_future_get_int64 (awaited, NULL));
}

typedef struct
{
  WeftTask **tasks;
  gint64     sum;
  guint      awaited;
} Collector;

static void
collect_all (WeftTask *task,
             gpointer  user_data)
{
  Collector *c = user_data;

  for (guint i = 0; i < N_MANY; i++)
    {
      g_autoptr(GError) error = NULL;

      c->sum += weft_await_int64 (WEFT_FUTURE (c->tasks[i]), &error);
      g_assert_no_error (error);
      c->awaited++;
    }
  weft_task_return_int64 (task, c->sum);
}

/* F, T4: 10000 futures completed by two threads at once while the context
 * starts the tasks that wait on them: every wake-up and every callback
 * arrives, once, on the context's thread */
static void
test_many_futures (WeftTestLoop  *loop,
                   gconstpointer  data)
{
  WeftFuture **futures = g_new0 (WeftFuture *, N_MANY);
  WeftTask **tasks = g_new0 (WeftTask *, N_MANY);
  CallbackRecord record = { .thread = g_thread_self () };
  Collector collector = { .tasks = tasks };
  g_autoptr(WeftTask) collect = NULL;
  GCond cond;
  GMutex mutex;
  gboolean go = FALSE;
  Setter even = { futures, 0, &cond, &mutex, &go };
  Setter odd = { futures, 1, &cond, &mutex, &go };
  GThread *a, *b;

  g_cond_init (&cond);
  g_mutex_init (&mutex);
  for (guint i = 0; i < N_MANY; i++)
    {
      futures[i] = weft_future_new ();
      weft_future_add_done_callback (futures[i], count_callback, &record, NULL);
      tasks[i] = weft_task_new (NULL, double_awaited, futures[i], NULL);
    }
  collect = weft_fiber_new ("collector", collect_all, &collector, NULL);

  /* The threads complete while the first steps run: some futures are done
   * before their task looks, some while it starts waiting, some after. */
  a = g_thread_new ("even", set_half, &even);
  b = g_thread_new ("odd", set_half, &odd);
  g_mutex_lock (&mutex);
  g_atomic_int_set (&go, TRUE);
  g_cond_broadcast (&cond);
  g_mutex_unlock (&mutex);

  iterate_until_done (loop->context, WEFT_FUTURE (collect));
  g_thread_join (a);
  g_thread_join (b);
  weft_test_run_until_idle ();

  g_assert_cmpuint (collector.awaited, ==, N_MANY);
  g_assert_cmpint (collector.sum, ==, (gint64) N_MANY * (N_MANY - 1));
  g_assert_cmpint (weft_future_get_int64 (WEFT_FUTURE (collect), NULL), ==, collector.sum);
  g_assert_cmpuint (record.count, ==, N_MANY);
  for (guint i = 0; i < N_MANY; i++)
    {
      g_assert_cmpint (weft_future_get_int64 (WEFT_FUTURE (tasks[i]), NULL), ==, 2 * i);
      g_object_unref (tasks[i]);
      g_object_unref (futures[i]);
    }

  g_free (tasks);
  g_free (futures);
  g_cond_clear (&cond);
  g_mutex_clear (&mutex);
}

/* Two threads, each iterating its own context with its own tasks, at the
 * same time; one finishes a future of the other's context. */
typedef struct
{
  GThread      *thread;
  GMainContext *context;
  guint         steps;
  gboolean      wrong_thread;
} Spinner;

static void
spin (WeftTask *task,
      gpointer  user_data)
{
  Spinner *s = user_data;

  for (guint i = 0; i < 200; i++)
    {
      g_assert_true (weft_sleep (0, NULL));
      if (g_thread_self () != s->thread || g_main_context_get_thread_default () != s->context)
        s->wrong_thread = TRUE;
      s->steps++;
    }
}

typedef struct
{
  WeftFuture *cross;            /* bound to the test's context */
  Spinner     spinners[3];
  gboolean    listed_only_own;
} Worker;

static void
worker_main (WeftTask *task,
             gpointer  user_data)
{
  Worker *w = user_data;
  GMainContext *context = g_main_context_get_thread_default ();
  WeftTask *children[G_N_ELEMENTS (w->spinners)];
  g_autoptr(GPtrArray) listed = NULL;

  g_assert_true (weft_future_get_context (WEFT_FUTURE (task)) == context);

  for (guint i = 0; i < G_N_ELEMENTS (w->spinners); i++)
    {
      w->spinners[i].thread = g_thread_self ();
      w->spinners[i].context = context;
      children[i] = weft_fiber_new ("worker-spinner", spin, &w->spinners[i], NULL);
      g_assert_true (weft_future_get_context (WEFT_FUTURE (children[i])) == context);
    }

  listed = weft_task_list_all (context);
  w->listed_only_own = listed->len == 1 + G_N_ELEMENTS (children);
  for (guint i = 0; i < listed->len; i++)
    if (weft_future_get_context (g_ptr_array_index (listed, i)) != context)
      w->listed_only_own = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (children); i++)
    {
      g_assert_true (weft_await (WEFT_FUTURE (children[i]), NULL));
      g_object_unref (children[i]);
    }

  /* Wake the test thread's task from here. */
  g_assert_true (weft_sleep (0.005, NULL));
  weft_future_set_int64 (w->cross, 99);
  weft_task_return_int64 (task, 7);
}

static gpointer
worker_thread (gpointer user_data)
{
  Worker *w = user_data;
  g_auto(GValue) result = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  g_assert_true (weft_run (worker_main, w, &result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_value_get_int64 (&result), ==, 7);
  return NULL;
}

/* F11, I: a worker thread runs its own context and tasks while the test
 * thread runs its own; tasks stay on their context, and a future finished
 * from the worker wakes the test thread's task */
static void
test_worker_context (WeftTestLoop  *loop,
                     gconstpointer  data)
{
  g_autoptr(WeftFuture) cross = weft_future_new ();
  Worker worker = { .cross = cross };
  Spinner local = { .thread = g_thread_self (), .context = loop->context };
  Waiter w = { .future = cross };
  g_autoptr(WeftTask) spinner = weft_fiber_new ("main-spinner", spin, &local, NULL);
  g_autoptr(WeftTask) waiter = weft_fiber_new ("main-waiter", wait_on_future, &w, NULL);
  g_autoptr(GPtrArray) listed = NULL;
  GThread *thread;

  weft_test_pass ();
  thread = g_thread_new ("worker", worker_thread, &worker);

  iterate_until_done (loop->context, WEFT_FUTURE (spinner));
  iterate_until_done (loop->context, WEFT_FUTURE (waiter));
  g_thread_join (thread);

  g_assert_cmpint (weft_future_get_int64 (WEFT_FUTURE (waiter), NULL), ==, 99);
  g_assert_true (w.resumed_on == g_thread_self ());
  g_assert_cmpuint (local.steps, ==, 200);
  g_assert_false (local.wrong_thread);
  g_assert_true (worker.listed_only_own);
  for (guint i = 0; i < G_N_ELEMENTS (worker.spinners); i++)
    {
      g_assert_cmpuint (worker.spinners[i].steps, ==, 200);
      g_assert_false (worker.spinners[i].wrong_thread);
      g_assert_true (worker.spinners[i].thread != g_thread_self ());
    }

  listed = weft_task_list_all (loop->context);
  g_assert_cmpuint (listed->len, ==, 0);
}

static gpointer
cancel_foreign_task (gpointer data)
{
  return GINT_TO_POINTER (weft_task_cancel (data, "from afar"));
}

static gpointer
cancel_foreign_future (gpointer data)
{
  return GINT_TO_POINTER (weft_future_cancel (data, "from afar"));
}

/* A task belongs to its context's thread: cancelling it from another is a
 * loud programming error, not a silent data race */
static void
test_cancel_task_from_foreign_thread (WeftTestLoop  *loop,
                                      gconstpointer  data)
{
  g_autoptr(WeftFuture) gate = weft_future_new ();
  g_autoptr(WeftTask) task = weft_fiber_new ("homebound", weft_test_await_data, gate, NULL);
  GThread *thread;

  weft_test_pass ();

  g_test_expect_message ("Weft", G_LOG_LEVEL_CRITICAL, "weft_task_cancel: task homebound belongs to the thread*");
  thread = g_thread_new ("canceller", cancel_foreign_task, task);
  g_assert_false (GPOINTER_TO_INT (g_thread_join (thread)));
  g_test_assert_expected_messages ();

  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 0);
  g_assert_false (weft_future_is_cancelled (gate));

  /* The way across threads: a future the task awaits. */
  thread = g_thread_new ("future-canceller", cancel_foreign_future, gate);
  g_assert_true (GPOINTER_TO_INT (g_thread_join (thread)));
  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_true (weft_future_is_cancelled (WEFT_FUTURE (task)));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  WEFT_TEST_ADD ("/threads/wakeup-from-thread", test_wakeup_from_thread);
  WEFT_TEST_ADD ("/threads/done-callback-thread", test_done_callback_thread);
  WEFT_TEST_ADD ("/threads/cancel-from-thread", test_cancel_from_thread);
  WEFT_TEST_ADD ("/threads/cancel-race", test_cancel_race);
  WEFT_TEST_ADD ("/threads/many-futures", test_many_futures);
  WEFT_TEST_ADD ("/threads/worker-context", test_worker_context);
  WEFT_TEST_ADD ("/threads/cancel-task-from-foreign-thread", test_cancel_task_from_foreign_thread);

  return g_test_run ();
}
