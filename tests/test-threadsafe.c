/* test-threadsafe.c — weft_run_coroutine_threadsafe(): rules RC1–RC4;
 * weft_future_wait(); tasks on several threads at once
 *
 * Real threads, each running its own context, but every hand-off is waited
 * for on a gate or a future: no test sleeps and hopes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "weft-test-utils.h"

/* A thread running weft_run() until told to stop: the loop that
 * coroutines are submitted to.
 */
typedef struct
{
  GThread      *thread;
  GMainContext *context;
  WeftFuture   *stop;           /* bound to context */
  WeftTestGate  ready;
} LoopThread;

static void
loop_main (WeftTask *task,
           gpointer  user_data)
{
  LoopThread *loop = user_data;

  loop->context = g_main_context_get_thread_default ();
  loop->stop = weft_future_new ();
  weft_test_gate_add (&loop->ready, 1);
  g_assert_true (weft_await (loop->stop, NULL));
}

static gpointer
loop_thread_run (gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (weft_run (loop_main, user_data, NULL, &error));
  g_assert_no_error (error);
  return NULL;
}

static void
loop_thread_start (LoopThread *loop)
{
  weft_test_gate_init (&loop->ready);
  loop->thread = g_thread_new ("loop", loop_thread_run, loop);
  g_assert_true (weft_test_gate_wait (&loop->ready, 1, WEFT_TEST_TIMEOUT));
}

static void
loop_thread_stop (LoopThread *loop)
{
  weft_future_set_boolean (loop->stop, TRUE);
  g_thread_join (loop->thread);
  g_object_unref (loop->stop);
  weft_test_gate_clear (&loop->ready);
}

/* A coroutine to submit: sleeps a few times, then returns value or fails,
 * recording where it ran.
 */
typedef struct
{
  gint64        value;
  gboolean      fail;
  guint         steps;
  GThread      *thread;
  GMainContext *context;
  gboolean      was_cancelled;
  WeftTestGate  started;
  WeftTestGate  freed;
  gboolean      wait_forever;   /* on a future of the task's own context */
  WeftFuture   *gate;
} Job;

static void
job_init (Job *job)
{
  memset (job, 0, sizeof *job);
  weft_test_gate_init (&job->started);
  weft_test_gate_init (&job->freed);
}

static void
job_clear (Job *job)
{
  g_clear_object (&job->gate);
  weft_test_gate_clear (&job->started);
  weft_test_gate_clear (&job->freed);
}

static void
job_freed (gpointer user_data)
{
  Job *job = user_data;

  weft_test_gate_add (&job->freed, 1);
}

static void
job_start (Job *job)
{
  job->thread = g_thread_self ();
  job->context = g_main_context_get_thread_default ();
  if (job->wait_forever)
    job->gate = weft_future_new ();
  weft_test_gate_add (&job->started, 1);
}

static void
job_fiber (WeftTask *task,
           gpointer  user_data)
{
  Job *job = user_data;
  g_autoptr(GError) error = NULL;

  job_start (job);
  for (guint i = 0; i < job->steps; i++)
    g_assert_true (weft_sleep (0, NULL));
  if (job->gate != NULL && !weft_await (job->gate, &error))
    {
      job->was_cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      weft_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (job->fail)
    weft_task_return_error (task, g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no %" G_GINT64_FORMAT, job->value));
  else
    weft_task_return_int64 (task, job->value);
}

static void
job_step (WeftTask     *task,
          WeftFuture   *awaited,
          const GError *error,
          gpointer      user_data)
{
  Job *job = user_data;

  if (job->thread == NULL)
    job_start (job);
  if (error != NULL)
    {
      job->was_cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      weft_task_return_error (task, g_error_copy (error));
    }
  else if (job->steps > 0)
    {
      job->steps--;
      weft_task_yield (task);
    }
  else if (job->gate != NULL && awaited != job->gate)
    weft_task_await (task, job->gate);
  else if (job->fail)
    weft_task_return_error (task, g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no %" G_GINT64_FORMAT, job->value));
  else
    weft_task_return_int64 (task, job->value);
}

static WeftFuture *
submit (Kind          kind,
        GMainContext *context,
        Job          *job)
{
  if (kind == KIND_FIBER)
    return weft_run_fiber_threadsafe (context, "submitted", job_fiber, job, job_freed);
  return weft_run_coroutine_threadsafe (context, "submitted", job_step, job, job_freed);
}

/* RC1: the task runs on the target context's thread, and its value is the
 * outcome of the returned future, which a task of the submitting thread
 * awaits */
static void
test_result (WeftTestLoop  *loop,
             gconstpointer  data)
{
  LoopThread target;
  Job job;
  g_autoptr(WeftFuture) future = NULL;
  g_autoptr(WeftTask) task = NULL;
  WeftTestAwait await;

  loop_thread_start (&target);
  job_init (&job);
  job.value = 17;
  job.steps = 3;

  future = submit (KIND (data), target.context, &job);
  g_assert_true (weft_future_get_context (future) == loop->context);
  await = (WeftTestAwait) { .future = future };
  task = weft_test_spawn_awaiter (KIND (data), &await);
  weft_test_run_until_done (WEFT_FUTURE (task));

  weft_test_assert_finished_int (future, 17);
  weft_test_assert_finished_int (task, 17);
  g_assert_true (await.resumed_on == g_thread_self ());

  loop_thread_stop (&target);
  g_assert_true (job.thread == target.thread);
  g_assert_true (job.context == target.context);
  g_assert_cmpint (weft_test_gate_get (&job.freed), ==, 1);
  job_clear (&job);
}

/* RC1: the task's error is copied to the returned future */
static void
test_error (WeftTestLoop  *loop,
            gconstpointer  data)
{
  LoopThread target;
  Job job;
  g_autoptr(WeftFuture) future = NULL;
  g_autoptr(GError) error = NULL;

  loop_thread_start (&target);
  job_init (&job);
  job.value = 3;
  job.fail = TRUE;

  future = submit (KIND (data), target.context, &job);
  weft_test_run_until_done (future);
  g_assert_false (weft_future_propagate (future, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "no 3");

  loop_thread_stop (&target);
  job_clear (&job);
}

typedef struct
{
  GMainContext *target;
  Kind          kind;
  Job           job;
  gint64        result;
  GError       *error;
  gboolean      had_context;
} PlainThread;

static gpointer
plain_thread_submit_and_wait (gpointer user_data)
{
  PlainThread *plain = user_data;
  g_autoptr(WeftFuture) future = NULL;

  plain->had_context = g_main_context_get_thread_default () != NULL;
  future = submit (plain->kind, plain->target, &plain->job);
  if (weft_future_wait (future, WEFT_TEST_TIMEOUT, &plain->error))
    plain->result = weft_future_get_int64 (future, &plain->error);
  return NULL;
}

/* RC1: a plain thread, running no loop, submits and blocks on the future
 * with a timeout, as on concurrent.futures.Future.result(timeout) */
static void
test_plain_thread_waits (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  LoopThread target;
  PlainThread plain = { .kind = KIND (data) };

  loop_thread_start (&target);
  job_init (&plain.job);
  plain.job.value = 99;
  plain.job.steps = 2;
  plain.target = target.context;

  g_thread_join (g_thread_new ("plain", plain_thread_submit_and_wait, &plain));
  g_assert_no_error (plain.error);
  g_assert_cmpint (plain.result, ==, 99);
  g_assert_false (plain.had_context);
  g_assert_true (plain.job.thread == target.thread);

  loop_thread_stop (&target);
  job_clear (&plain.job);
}

static void
count_own_tasks (WeftTask *task,
                 gpointer  user_data)
{
  g_autoptr(GPtrArray) tasks = weft_task_list_all (g_main_context_get_thread_default ());

  weft_task_return_int64 (task, tasks->len);
}

typedef struct
{
  GMainContext *target;
  Kind          kind;
  Job          *job;
  GError       *timeout_error;
  gboolean      cancelled;
  gboolean      cancelled_at_once;
  gint64        tasks_left;
} Canceller;

static gpointer
plain_thread_submit_and_cancel (gpointer user_data)
{
  Canceller *c = user_data;
  g_autoptr(WeftFuture) future = submit (c->kind, c->target, c->job);
  g_autoptr(WeftFuture) count = NULL;

  /* RC2 (test_run_coroutine_threadsafe_with_timeout): result(timeout=0),
   * then cancel(). */
  g_assert_true (weft_test_gate_wait (&c->job->started, 1, WEFT_TEST_TIMEOUT));
  g_assert_false (weft_future_wait (future, 0, &c->timeout_error));
  c->cancelled = weft_future_cancel (future, "from the thread");
  c->cancelled_at_once = weft_future_is_cancelled (future);

  /* The task saw it and ended; then none but weft_run()'s main task and
   * the counter is left pending. */
  g_assert_true (weft_test_gate_wait (&c->job->freed, 1, WEFT_TEST_TIMEOUT));
  count = weft_run_fiber_threadsafe (c->target, "count", count_own_tasks, NULL, NULL);
  g_assert_true (weft_future_wait (count, WEFT_TEST_TIMEOUT, NULL));
  c->tasks_left = weft_future_get_int64 (count, NULL);
  return NULL;
}

/* RC2: cancelling the returned future from another thread cancels it at
 * once, and cancels the task in its loop; no task is left pending */
static void
test_cancel_from_thread (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  LoopThread target;
  Job job;
  Canceller c = { .kind = KIND (data), .job = &job };

  loop_thread_start (&target);
  job_init (&job);
  job.wait_forever = TRUE;
  c.target = target.context;

  g_thread_join (g_thread_new ("canceller", plain_thread_submit_and_cancel, &c));
  g_assert_error (c.timeout_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&c.timeout_error);
  g_assert_true (c.cancelled);
  g_assert_true (c.cancelled_at_once);
  g_assert_true (job.was_cancelled);
  g_assert_cmpint (c.tasks_left, ==, 2);

  loop_thread_stop (&target);
  job_clear (&job);
}

/* RC2: a task awaiting the returned future is cancelled: the cancellation
 * reaches the task in the other loop */
static void
test_cancel_awaiting_task (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  LoopThread target;
  Job job;
  g_autoptr(WeftFuture) future = NULL;
  g_autoptr(WeftTask) task = NULL;
  WeftTestAwait await;

  loop_thread_start (&target);
  job_init (&job);
  job.wait_forever = TRUE;

  future = submit (KIND (data), target.context, &job);
  await = (WeftTestAwait) { .future = future };
  task = weft_test_spawn_awaiter (KIND (data), &await);
  weft_test_pass ();
  g_assert_true (weft_test_gate_wait (&job.started, 1, WEFT_TEST_TIMEOUT));

  g_assert_true (weft_task_cancel (task, "stop"));
  weft_test_assert_future_cancelled (future, "stop");
  weft_test_run_until_done (WEFT_FUTURE (task));
  weft_test_assert_future_cancelled (task, "stop");

  g_assert_true (weft_test_gate_wait (&job.freed, 1, WEFT_TEST_TIMEOUT));
  g_assert_true (job.was_cancelled);

  loop_thread_stop (&target);
  job_clear (&job);
}

/* RC2: cancelled before the target's loop created the task: the task is
 * never created, and the coroutine's data is freed */
static void
test_cancel_before_creation (WeftTestLoop  *loop,
                             gconstpointer  data)
{
  g_autoptr(GMainContext) target = g_main_context_new ();
  g_autoptr(WeftFuture) future = NULL;
  Job job;

  job_init (&job);
  future = submit (KIND (data), target, &job);
  g_assert_true (weft_future_cancel (future, NULL));
  weft_test_assert_future_cancelled (future, NULL);

  while (weft_run_pass (target) > 0)
    ;
  g_assert_cmpint (weft_test_gate_get (&job.started), ==, 0);
  g_assert_cmpint (weft_test_gate_get (&job.freed), ==, 1);
  job_clear (&job);
}

static void
cancel_self_step (WeftTask     *task,
                  WeftFuture   *awaited,
                  const GError *error,
                  gpointer      user_data)
{
  WeftFuture **never = user_data;

  if (error != NULL)
    {
      weft_task_return_error (task, g_error_copy (error));
      return;
    }
  *never = weft_future_new ();
  weft_task_cancel (task, "inside");
  weft_task_await (task, *never);
}

/* RC3 (test_run_coroutine_threadsafe_task_cancelled): a task cancelled in
 * its loop makes the returned future cancelled */
static void
test_cancelled_in_loop (WeftTestLoop  *loop,
                        gconstpointer  data)
{
  LoopThread target;
  WeftFuture *never = NULL;
  g_autoptr(WeftFuture) future = NULL;

  loop_thread_start (&target);
  future = weft_run_coroutine_threadsafe (target.context, NULL, cancel_self_step, &never, NULL);
  weft_test_run_until_done (future);
  weft_test_assert_future_cancelled (future, "inside");

  loop_thread_stop (&target);
  g_clear_object (&never);
}

static WeftTask *
failing_factory (gpointer   user_data,
                 GError   **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "no tasks today");
  return NULL;
}

static void
count_freed (gpointer user_data)
{
  (*(int *) user_data)++;
}

/* RC4 (test_run_coroutine_threadsafe_task_factory_exception): a failing
 * factory's error is set on the future and reported */
static void
test_factory_fails (WeftTestLoop  *loop,
                    gconstpointer  data)
{
  g_autoptr(GMainContext) target = g_main_context_new ();
  g_autoptr(WeftFuture) future = NULL;
  g_autoptr(GError) error = NULL;
  int freed = 0;

  future = weft_run_task_factory_threadsafe (target, failing_factory, &freed, count_freed);
  g_assert_false (weft_future_is_done (future));

  g_test_expect_message ("Weft", G_LOG_LEVEL_WARNING, "*task factory failed: no tasks today");
  weft_run_pass (target);
  g_test_assert_expected_messages ();

  g_assert_cmpint (freed, ==, 1);
  g_assert_false (weft_future_propagate (future, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
}

static void
bound_task_fiber (WeftTask *task,
                  gpointer  user_data)
{
  weft_task_return_boolean (task, weft_future_get_context (WEFT_FUTURE (task)) == user_data);
}

static WeftTask *
fiber_factory (gpointer   user_data,
               GError   **error)
{
  return weft_fiber_new ("made", bound_task_fiber, user_data, NULL);
}

/* RC1: the task is bound to the target context even when its thread
 * iterates it without making it the thread-default context */
static void
test_factory_binds_to_target (WeftTestLoop  *loop,
                              gconstpointer  data)
{
  g_autoptr(GMainContext) target = g_main_context_new ();
  g_autoptr(WeftFuture) future = NULL;

  future = weft_run_task_factory_threadsafe (target, fiber_factory, target, NULL);
  while (!weft_future_is_done (future))
    g_main_context_iteration (target, TRUE);
  g_assert_true (weft_future_get_boolean (future, NULL));
}

/* RC1 with CV1: the task is made in a copy of the submitter's context
 * variables */
static WeftContextVar *request_id;

static void
read_and_set_request_id (WeftTask *task,
                         gpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  gint64 seen = weft_context_var_get_int64 (request_id, &error);

  g_assert_no_error (error);
  weft_context_token_unref (weft_context_var_set_int64 (request_id, seen + 1));
  weft_task_return_int64 (task, seen);
}

typedef struct
{
  GMainContext *target;
  WeftFuture   *future;
} Submission;

static void
submit_in_context (gpointer user_data)
{
  Submission *submission = user_data;

  weft_context_token_unref (weft_context_var_set_int64 (request_id, 5));
  submission->future = weft_run_fiber_threadsafe (submission->target, "reader",
                                                  read_and_set_request_id, NULL, NULL);
}

static void
test_submitter_context_copied (WeftTestLoop  *loop,
                               gconstpointer  data)
{
  g_autoptr(GMainContext) target = g_main_context_new ();
  g_autoptr(WeftContext) context = weft_context_new ();
  Submission submission = { target, NULL };
  g_autoptr(WeftFuture) future = NULL;
  g_auto(GValue) after = G_VALUE_INIT;

  request_id = weft_context_var_new ("request-id", G_TYPE_INT64, NULL);
  g_assert_true (weft_context_run (context, submit_in_context, &submission, NULL));
  future = submission.future;

  while (!weft_future_is_done (future))
    g_main_context_iteration (target, TRUE);

  weft_test_assert_finished_int (future, 5);
  g_assert_true (weft_context_get_value (context, request_id, &after));
  g_assert_cmpint (g_value_get_int64 (&after), ==, 5);
  g_clear_object (&request_id);
}

static void
wait_in_task (WeftTask *task,
              gpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (weft_future_wait (user_data, 1, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_WRONG_CONTEXT);
}

/* weft_future_wait() refuses, without blocking, on the thread that runs
 * the future's context, even for a future that is done */
static void
test_wait_wrong_context (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  g_autoptr(WeftFuture) pending = weft_future_new ();
  g_autoptr(WeftFuture) done = weft_future_new ();
  g_autoptr(WeftTask) a = weft_fiber_new (NULL, wait_in_task, pending, NULL);
  g_autoptr(WeftTask) b = weft_fiber_new (NULL, wait_in_task, done, NULL);
  g_autoptr(GError) error = NULL;

  weft_future_set_int64 (done, 1);
  weft_test_run_until_idle ();
  g_assert_true (weft_future_propagate (WEFT_FUTURE (a), NULL));
  g_assert_true (weft_future_propagate (WEFT_FUTURE (b), NULL));

  /* Owning the context counts too. */
  g_assert_true (g_main_context_acquire (loop->context));
  g_assert_false (weft_future_wait (pending, -1, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_WRONG_CONTEXT);
  g_main_context_release (loop->context);
}

typedef struct
{
  WeftFuture   *future;
  double        timeout;
  WeftTestGate  about_to_wait;
  gboolean      done;
  GError       *error;
} Blocker;

static gpointer
block_on_future (gpointer user_data)
{
  Blocker *b = user_data;

  weft_test_gate_add (&b->about_to_wait, 1);
  b->done = weft_future_wait (b->future, b->timeout, &b->error);
  return NULL;
}

/* weft_future_wait() times out with G_IO_ERROR_TIMED_OUT on a pending
 * future, and returns once another thread completes it */
static void
test_wait (WeftTestLoop  *loop,
           gconstpointer  data)
{
  g_autoptr(WeftFuture) future = weft_future_new ();
  Blocker b = { .future = future, .timeout = 0.01 };
  GThread *thread;

  weft_test_gate_init (&b.about_to_wait);
  g_thread_join (g_thread_new ("blocker", block_on_future, &b));
  g_assert_false (b.done);
  g_assert_error (b.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_clear_error (&b.error);

  b.timeout = -1;
  thread = g_thread_new ("blocker", block_on_future, &b);
  g_assert_true (weft_test_gate_wait (&b.about_to_wait, 2, WEFT_TEST_TIMEOUT));
  weft_future_set_int64 (future, 5);
  g_thread_join (thread);
  g_assert_true (b.done);
  g_assert_no_error (b.error);

  weft_test_gate_clear (&b.about_to_wait);
}

/* Timing out while another thread completes the future: either outcome is
 * right, but the waiter must never be woken after it returned */
static void
test_wait_timeout_race (WeftTestLoop  *loop,
                        gconstpointer  data)
{
  for (guint i = 0; i < 200; i++)
    {
      g_autoptr(WeftFuture) future = weft_future_new ();
      Blocker b = { .future = future, .timeout = 0.0001 * (i % 5) };
      GThread *thread;

      weft_test_gate_init (&b.about_to_wait);
      thread = g_thread_new ("blocker", block_on_future, &b);
      g_assert_true (weft_test_gate_wait (&b.about_to_wait, 1, WEFT_TEST_TIMEOUT));
      weft_future_set_int64 (future, i);
      g_thread_join (thread);
      if (b.done)
        g_assert_no_error (b.error);
      else
        g_assert_error (b.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
      g_clear_error (&b.error);
      weft_test_gate_clear (&b.about_to_wait);
    }
}

/* N threads, each running its own context with many tasks; each submits
 * tasks to the next thread's context and awaits them; the last to finish
 * completes every thread's `all_done` future from its own thread. */
#define N_THREADS 4
#define N_SUBMITTED 50

typedef struct _Ring Ring;

typedef struct
{
  Ring         *ring;
  guint         index;
  GThread      *handle;         /* the test thread's, to join */
  GThread      *thread;         /* the member's own */
  GMainContext *context;
  WeftFuture   *all_done;       /* bound to context */
  gint64        sum;
  guint         wrong_place;
} Member;

struct _Ring
{
  Member        members[N_THREADS];
  WeftTestGate  ready;
  int           finished;       /* atomic */
};

typedef struct
{
  Member *runs_on;
  gint64  value;
} Piece;

static void
piece_fiber (WeftTask *task,
             gpointer  user_data)
{
  Piece *piece = user_data;

  for (guint i = 0; i < 3; i++)
    g_assert_true (weft_sleep (0, NULL));
  if (g_thread_self () != piece->runs_on->thread ||
      g_main_context_get_thread_default () != piece->runs_on->context)
    weft_task_return_int64 (task, -1);
  else
    weft_task_return_int64 (task, piece->value);
}

static void
member_main (WeftTask *task,
             gpointer  user_data)
{
  Member *m = user_data;
  Ring *ring = m->ring;
  Member *next;
  WeftFuture *futures[N_SUBMITTED];
  Piece pieces[N_SUBMITTED];

  m->thread = g_thread_self ();
  m->context = g_main_context_get_thread_default ();
  m->all_done = weft_future_new ();
  weft_test_gate_add (&ring->ready, 1);
  g_assert_true (weft_test_gate_wait (&ring->ready, N_THREADS, WEFT_TEST_TIMEOUT));
  next = &ring->members[(m->index + 1) % N_THREADS];

  for (guint i = 0; i < N_SUBMITTED; i++)
    {
      pieces[i] = (Piece) { next, m->index * 1000 + i };
      futures[i] = weft_run_fiber_threadsafe (next->context, NULL, piece_fiber, &pieces[i], NULL);
    }
  for (guint i = 0; i < N_SUBMITTED; i++)
    {
      g_autoptr(GError) error = NULL;
      gint64 value = weft_await_int64 (futures[i], &error);

      g_assert_no_error (error);
      if (value != pieces[i].value)
        m->wrong_place++;
      m->sum += value;
      g_object_unref (futures[i]);
    }

  /* The others may still need this loop: stay until everyone is done. */
  if (g_atomic_int_add (&ring->finished, 1) == N_THREADS - 1)
    for (guint i = 0; i < N_THREADS; i++)
      weft_future_set_boolean (ring->members[i].all_done, TRUE);
  g_assert_true (weft_await (m->all_done, NULL));
}

static gpointer
member_thread (gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (weft_run (member_main, user_data, NULL, &error));
  g_assert_no_error (error);
  return NULL;
}

/* RC1 across N loops at once: cross-thread submission and completion */
static void
test_ring (WeftTestLoop  *loop,
           gconstpointer  data)
{
  Ring ring = { 0 };

  weft_test_gate_init (&ring.ready);
  for (guint i = 0; i < N_THREADS; i++)
    {
      ring.members[i].ring = &ring;
      ring.members[i].index = i;
      ring.members[i].handle = g_thread_new ("member", member_thread, &ring.members[i]);
    }
  for (guint i = 0; i < N_THREADS; i++)
    {
      Member *m = &ring.members[i];

      g_thread_join (m->handle);
      g_assert_cmpuint (m->wrong_place, ==, 0);
      g_assert_cmpint (m->sum, ==, N_SUBMITTED * i * 1000 + N_SUBMITTED * (N_SUBMITTED - 1) / 2);
      g_object_unref (m->all_done);
    }
  weft_test_gate_clear (&ring.ready);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  weft_test_add_both_kinds ("threadsafe", "result", test_result);
  weft_test_add_both_kinds ("threadsafe", "error", test_error);
  weft_test_add_both_kinds ("threadsafe", "plain-thread-waits", test_plain_thread_waits);
  weft_test_add_both_kinds ("threadsafe", "cancel-from-thread", test_cancel_from_thread);
  weft_test_add_both_kinds ("threadsafe", "cancel-awaiting-task", test_cancel_awaiting_task);
  weft_test_add_both_kinds ("threadsafe", "cancel-before-creation", test_cancel_before_creation);
  WEFT_TEST_ADD ("/threadsafe/cancelled-in-loop", test_cancelled_in_loop);
  WEFT_TEST_ADD ("/threadsafe/factory-fails", test_factory_fails);
  WEFT_TEST_ADD ("/threadsafe/factory-binds-to-target", test_factory_binds_to_target);
  WEFT_TEST_ADD ("/threadsafe/submitter-context-copied", test_submitter_context_copied);
  WEFT_TEST_ADD ("/threadsafe/wait-wrong-context", test_wait_wrong_context);
  WEFT_TEST_ADD ("/threadsafe/wait", test_wait);
  WEFT_TEST_ADD ("/threadsafe/wait-timeout-race", test_wait_timeout_race);
  WEFT_TEST_ADD ("/threadsafe/ring", test_ring);

  return g_test_run ();
}
