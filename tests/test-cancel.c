/* test-cancel.c — task cancellation: rules T6–T14 and the task's GCancellable
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "weft-test-utils.h"

/* Most scenarios run twice, once as a fiber and once as a stackless task,
 * from the same little program: a list of awaits, sleeps and self-cancels
 * that both interpreters below execute identically and log the same way.
 */
typedef enum
{
  OP_AWAIT,             /* await futures[arg] */
  OP_SLEEP,             /* sleep delay */
  OP_READ,              /* start a GIO read with the task's GCancellable into futures[arg] */
  OP_CANCEL_SELF,       /* weft_task_cancel (self, message) */
  OP_UNCANCEL_SELF,     /* weft_task_uncancel (self) */
  OP_RETURN,            /* return arg, or the last awaited integer if arg < 0 */
} OpCode;

typedef enum
{
  RAISE,                /* let the error end the task */
  CATCH,                /* log it and go on */
  CATCH_RETURN,         /* log it and return the value of the RETURN that follows */
} OnError;

typedef struct
{
  OpCode      code;
  int         arg;
  OnError     on_error;
  double      delay;
  const char *message;
} Op;

#define AWAIT(i, on_error)           { OP_AWAIT, (i), (on_error), 0, NULL }
#define AWAIT_OR_RETURN(i, v)        { OP_AWAIT, (i), CATCH_RETURN, 0, NULL }, { OP_RETURN, (v), RAISE, 0, NULL }
#define SLEEP(d, on_error)           { OP_SLEEP, 0, (on_error), (d), NULL }
#define READ(i)                      { OP_READ, (i), RAISE, 0, NULL }
#define CANCEL_SELF(m)               { OP_CANCEL_SELF, 0, RAISE, 0, (m) }
#define UNCANCEL_SELF                { OP_UNCANCEL_SELF, 0, RAISE, 0, NULL }
#define RETURN(v)                    { OP_RETURN, (v), RAISE, 0, NULL }
#define RETURN_LAST                  { OP_RETURN, -1, RAISE, 0, NULL }

/* A GIO read whose GAsyncReadyCallback completes a WeftFuture. */
typedef struct
{
  GInputStream *stream;
  WeftFuture   *future;         /* borrowed from the program */
  char          buffer[16];
  GError       *gio_error;      /* what GIO itself reported */
  gboolean      finished;
} ReadOp;

typedef struct
{
  const Op   *ops;
  WeftFuture *futures[4];
  GString    *log;
  ReadOp     *read;
  guint       pc;
  gint64      last;
  gboolean    started;
} Program;

static void
program_init (Program  *p,
              const Op *ops)
{
  memset (p, 0, sizeof *p);
  p->ops = ops;
  p->log = g_string_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (p->futures); i++)
    p->futures[i] = weft_future_new ();
}

static void
program_clear (Program *p)
{
  for (guint i = 0; i < G_N_ELEMENTS (p->futures); i++)
    g_clear_object (&p->futures[i]);
  g_string_free (p->log, TRUE);
}

static void
log_value (Program    *p,
           WeftFuture *future)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_assert_true (weft_future_get_value (future, &value, NULL));
  if (G_VALUE_HOLDS_INT64 (&value))
    {
      p->last = g_value_get_int64 (&value);
      weft_test_log (p->log, "got:%" G_GINT64_FORMAT, p->last);
    }
  else
    weft_test_log (p->log, "got");
}

/* Returns TRUE if the program goes on after @error. */
static gboolean
handle_error (Program  *p,
              WeftTask *task,
              const Op *op,
              GError   *error)
{
  switch (op->on_error)
    {
    case RAISE:
      weft_test_log (p->log, "raised:%s", error->message);
      weft_task_return_error (task, error);
      return FALSE;

    case CATCH:
      weft_test_log (p->log, "caught:%s", error->message);
      g_error_free (error);
      return TRUE;

    case CATCH_RETURN:
      weft_test_log (p->log, "caught:%s", error->message);
      g_error_free (error);
      p->pc++;  /* the RETURN that follows is the catch clause's */
      weft_task_return_int64 (task, p->ops[p->pc - 1].arg);
      return FALSE;

    default:
      g_assert_not_reached ();
    }
}

static void
read_ready (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  ReadOp *op = user_data;
  g_autoptr(GError) error = NULL;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  op->finished = TRUE;

  if (n < 0)
    {
      op->gio_error = g_error_copy (error);
      if (!weft_future_is_done (op->future))
        weft_future_set_error (op->future, g_steal_pointer (&error));
    }
  else if (!weft_future_is_done (op->future))
    weft_future_set_int64 (op->future, n);
}

static void
start_read (Program  *p,
            WeftTask *task,
            const Op *op)
{
  g_assert_nonnull (p->read);
  p->read->future = p->futures[op->arg];
  g_input_stream_read_async (p->read->stream, p->read->buffer, sizeof p->read->buffer,
                             G_PRIORITY_DEFAULT, weft_task_get_cancellable (task),
                             read_ready, p->read);
  weft_test_log (p->log, "read");
}

/* Runs the ops that do not suspend; returns the one that does, if any. */
static const Op *
run_until_suspension (Program  *p,
                      WeftTask *task)
{
  for (;;)
    {
      const Op *op = &p->ops[p->pc++];

      switch (op->code)
        {
        case OP_CANCEL_SELF:
          weft_test_log (p->log, "cancel-self:%s",
                         weft_task_cancel (task, op->message) ? "true" : "false");
          break;

        case OP_UNCANCEL_SELF:
          weft_test_log (p->log, "uncancel:%u", weft_task_uncancel (task));
          break;

        case OP_READ:
          start_read (p, task, op);
          break;

        case OP_RETURN:
          weft_task_return_int64 (task, op->arg < 0 ? p->last : op->arg);
          return NULL;

        case OP_AWAIT:
        case OP_SLEEP:
          return op;

        default:
          g_assert_not_reached ();
        }
    }
}

static void
program_fiber (WeftTask *task,
               gpointer  user_data)
{
  Program *p = user_data;
  const Op *op;

  p->started = TRUE;
  weft_test_log (p->log, "start");

  while ((op = run_until_suspension (p, task)) != NULL)
    {
      GError *error = NULL;

      if (op->code == OP_AWAIT)
        {
          if (weft_await (p->futures[op->arg], &error))
            log_value (p, p->futures[op->arg]);
        }
      else if (weft_sleep (op->delay, &error))
        weft_test_log (p->log, "woke");

      if (error != NULL && !handle_error (p, task, op, error))
        return;
    }
}

static void
program_step (WeftTask     *task,
              WeftFuture   *awaited,
              const GError *error,
              gpointer      user_data)
{
  Program *p = user_data;
  const Op *op;

  if (!p->started)
    {
      p->started = TRUE;
      g_assert_null (awaited);
      g_assert_no_error (error);
      weft_test_log (p->log, "start");
    }
  else
    {
      /* The outcome of the op that suspended the previous step. */
      op = &p->ops[p->pc - 1];

      if (error != NULL)
        {
          if (!handle_error (p, task, op, g_error_copy (error)))
            return;
        }
      else if (op->code == OP_AWAIT)
        {
          g_assert_true (awaited == p->futures[op->arg]);
          log_value (p, awaited);
        }
      else
        weft_test_log (p->log, "woke");
    }

  op = run_until_suspension (p, task);
  if (op == NULL)
    return;
  if (op->code == OP_AWAIT)
    weft_task_await (task, p->futures[op->arg]);
  else
    weft_task_sleep (task, op->delay);
}

static WeftTask *
program_spawn (Kind     kind,
               Program *p)
{
  if (kind == KIND_FIBER)
    return weft_fiber_new ("prog", program_fiber, p, NULL);
  return weft_task_new ("prog", program_step, p, NULL);
}


/* Cancelled, with @message (NULL: none) both from the getter and the error. */
/* T6, test_cancel: a sleeping task is cancelled one pass after cancel();
 * cancel() on a done task returns FALSE and changes no count */
static void
test_cancel (WeftTestLoop  *loop,
             gconstpointer  data)
{
  static const Op ops[] = { SLEEP (10, RAISE), RETURN (12) };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_true (weft_task_is_suspended (task));

  g_assert_true (weft_task_cancel (task, NULL));
  g_assert_false (weft_future_is_done (WEFT_FUTURE (task)));
  g_assert_false (weft_future_is_cancelled (WEFT_FUTURE (task)));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (p.log->str, ==, "start raised:Operation was cancelled");
  weft_test_assert_future_cancelled (task, NULL);

  g_assert_false (weft_task_cancel (task, "again"));
  g_assert_false (weft_future_cancel (WEFT_FUTURE (task), NULL));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);
  weft_test_assert_future_cancelled (task, NULL);
  g_assert_cmpuint (weft_test_run_until_idle (), ==, 0);

  program_clear (&p);
}

/* T6, T8b, test_cancel_yield: cancelled while scheduled after sleep(0),
 * the error is thrown at that sleep and the second one never happens */
static void
test_cancel_yield (WeftTestLoop  *loop,
                   gconstpointer  data)
{
  static const Op ops[] = { SLEEP (0, RAISE), SLEEP (0, RAISE), RETURN (12) };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);

  weft_test_pass ();
  g_assert_cmpstr (p.log->str, ==, "start");
  g_assert_true (weft_task_cancel (task, NULL));
  g_assert_false (weft_future_is_done (WEFT_FUTURE (task)));

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (p.log->str, ==, "start raised:Operation was cancelled");
  weft_test_assert_future_cancelled (task, NULL);
  g_assert_false (weft_task_cancel (task, NULL));

  program_clear (&p);
}

static gboolean
stack_says (WeftTask   *task,
            const char *state)
{
  g_autofree char *text = weft_task_format_stack (task, 0);
  g_autofree char *needle = g_strdup_printf ("<Task %s ", state);

  return strstr (text, needle) != NULL;
}

/* T6, T7, T8d, T12, test_cancelling: every cancel() of a pending task
 * returns TRUE and counts; the repr says "cancelling"; one delivery, before
 * the body ever runs; the awaited future is never reached */
static void
test_cancelling (WeftTestLoop  *loop,
                 gconstpointer  data)
{
  static const Op ops[] = { AWAIT (0, RAISE), RETURN (1) };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);

  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 0);
  g_assert_true (stack_says (task, "pending"));
  g_assert_true (weft_task_cancel (task, NULL));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);
  g_assert_true (stack_says (task, "cancelling"));
  g_assert_true (weft_task_cancel (task, NULL));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 2);

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (p.log->str, ==, "");
  weft_test_assert_future_cancelled (task, NULL);
  g_assert_true (stack_says (task, "cancelled"));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 2);
  g_assert_false (weft_future_is_done (p.futures[0]));

  g_assert_false (weft_task_cancel (task, NULL));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 2);

  program_clear (&p);
}

/* T7, T10, T13: three cancel() calls while waiting deliver one error, with
 * the first message; the task catches it, and its next await is untouched */
static void
test_coalescing (WeftTestLoop  *loop,
                 gconstpointer  data)
{
  static const Op ops[] = { AWAIT (0, CATCH), AWAIT (1, RAISE), RETURN_LAST };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);
  weft_test_pass ();

  g_assert_true (weft_task_cancel (task, "m1"));
  g_assert_true (weft_task_cancel (task, "m2"));
  g_assert_true (weft_task_cancel (task, "m3"));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 3);
  weft_test_assert_future_cancelled (p.futures[0], "m1");

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (p.log->str, ==, "start caught:m1");
  g_assert_true (weft_task_get_awaited (task) == p.futures[1]);

  /* Nothing else is pending: no second delivery. */
  g_assert_cmpuint (weft_test_run_until_idle (), ==, 0);
  g_assert_false (weft_future_is_done (p.futures[1]));

  weft_future_set_int64 (p.futures[1], 5);
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (p.log->str, ==, "start caught:m1 got:5");
  weft_test_assert_finished_int (task, 5);
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 3);

  program_clear (&p);
}

/* T8a, test_task_cancel_waiter_future: the awaited future is cancelled
 * inside cancel(); the error comes out of the await one pass later */
static void
test_cancel_waiter_future (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  static const Op ops[] = { AWAIT (0, RAISE), RETURN (1) };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);

  weft_test_pass ();
  g_assert_true (weft_task_get_awaited (task) == p.futures[0]);

  g_assert_true (weft_task_cancel (task, NULL));
  g_assert_true (weft_future_is_cancelled (p.futures[0]));
  g_assert_false (weft_future_is_done (WEFT_FUTURE (task)));

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (p.log->str, ==, "start raised:Operation was cancelled");
  weft_test_assert_future_cancelled (task, NULL);
  g_assert_null (weft_task_get_awaited (task));
  g_assert_true (weft_future_is_cancelled (p.futures[0]));

  program_clear (&p);
}

/* T8b, setup of test_uncancel_resets_must_cancel: the awaited future has
 * completed but the task has not resumed yet; cancel() throws the error
 * instead of delivering the value, which is lost */
static void
test_scheduled_result_lost (WeftTestLoop  *loop,
                            gconstpointer  data)
{
  static const Op ops[] = { AWAIT (0, RAISE), RETURN_LAST };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);
  weft_test_pass ();

  weft_future_set_int64 (p.futures[0], 7);
  g_assert_true (weft_task_cancel (task, "late"));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (p.log->str, ==, "start raised:late");
  weft_test_assert_future_cancelled (task, "late");
  weft_test_assert_finished_int (p.futures[0], 7);

  program_clear (&p);
}

/* T8b: the same when the awaited future failed: the cancellation replaces
 * its error (which counts as retrieved: no warning when it is finalized) */
static void
test_scheduled_error_replaced (WeftTestLoop  *loop,
                               gconstpointer  data)
{
  static const Op ops[] = { AWAIT (0, RAISE), RETURN (1) };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);
  weft_test_pass ();

  weft_future_set_error_literal (p.futures[0], G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "missing");
  g_assert_true (weft_task_cancel (task, "late"));

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (p.log->str, ==, "start raised:late");
  weft_test_assert_future_cancelled (task, "late");

  program_clear (&p);
}

/* T8c, test_cancel_at_end: a task that cancels itself and returns before
 * suspending ends cancelled */
static void
test_cancel_at_end (WeftTestLoop  *loop,
                    gconstpointer  data)
{
  static const Op ops[] = { CANCEL_SELF ("at end"), RETURN (12) };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);

  g_assert_false (weft_future_is_cancelled (WEFT_FUTURE (task)));
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (p.log->str, ==, "start cancel-self:true");
  weft_test_assert_future_cancelled (task, "at end");
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);
  g_assert_false (weft_task_cancel (task, NULL));

  program_clear (&p);
}

/* T8c, test_cancel_current_task: a task that cancels itself and then
 * sleeps is cancelled at that sleep, which never happens */
static void
test_cancel_current_task (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  static const Op ops[] = { CANCEL_SELF (NULL), SLEEP (100, RAISE), RETURN (12) };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);

  weft_test_pass ();
  g_assert_cmpstr (p.log->str, ==, "start cancel-self:true");
  g_assert_false (weft_future_is_done (WEFT_FUTURE (task)));

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (p.log->str, ==, "start cancel-self:true raised:Operation was cancelled");
  weft_test_assert_future_cancelled (task, NULL);

  program_clear (&p);
}

/* T8c: after cancelling itself, a task that awaits a done future gets its
 * value without suspending; the first pending future it awaits is
 * cancelled as soon as the step ends */
static void
test_cancel_self_then_await (WeftTestLoop  *loop,
                             gconstpointer  data)
{
  static const Op ops[] = { CANCEL_SELF ("self"), AWAIT (0, RAISE), AWAIT (1, RAISE), RETURN (1) };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  weft_future_set_int64 (p.futures[0], 3);
  task = program_spawn (KIND (data), &p);

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (p.log->str, ==, "start cancel-self:true got:3");
  weft_test_assert_future_cancelled (p.futures[1], "self");
  g_assert_false (weft_future_is_done (WEFT_FUTURE (task)));

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (p.log->str, ==, "start cancel-self:true got:3 raised:self");
  weft_test_assert_future_cancelled (task, "self");

  program_clear (&p);
}

/* T8c: the same with sleep(0): the bare yield reschedules the task, which
 * gets the error when it resumes */
static void
test_cancel_self_then_yield (WeftTestLoop  *loop,
                             gconstpointer  data)
{
  static const Op ops[] = { CANCEL_SELF ("self"), SLEEP (0, CATCH), SLEEP (0, RAISE), RETURN (1) };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (p.log->str, ==, "start cancel-self:true");
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (p.log->str, ==, "start cancel-self:true caught:self");
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (p.log->str, ==, "start cancel-self:true caught:self woke");
  weft_test_assert_finished_int (task, 1);

  program_clear (&p);
}

/* T8d, T13: cancelled before its first step, the body never runs */
static void
test_cancel_before_start (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  static const Op ops[] = { RETURN (12) };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);

  g_assert_true (weft_task_cancel (task, "my message"));
  g_assert_false (weft_future_is_done (WEFT_FUTURE (task)));
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (p.log->str, ==, "");
  g_assert_false (p.started);
  weft_test_assert_future_cancelled (task, "my message");

  program_clear (&p);
}

/* A future that refuses to be cancelled, as CPython allows a Future
 * subclass to. */
#define TEST_TYPE_STUBBORN_FUTURE (test_stubborn_future_get_type ())
G_DECLARE_FINAL_TYPE (TestStubbornFuture, test_stubborn_future, TEST, STUBBORN_FUTURE, WeftFuture)

struct _TestStubbornFuture
{
  WeftFuture parent_instance;
  guint      refused;
};

G_DEFINE_FINAL_TYPE (TestStubbornFuture, test_stubborn_future, WEFT_TYPE_FUTURE)

static gboolean
test_stubborn_future_cancel (WeftFuture *future,
                             const char *message)
{
  TEST_STUBBORN_FUTURE (future)->refused++;
  return FALSE;
}

static void
test_stubborn_future_class_init (TestStubbornFutureClass *klass)
{
  WEFT_FUTURE_CLASS (klass)->cancel = test_stubborn_future_cancel;
}

static void
test_stubborn_future_init (TestStubbornFuture *self)
{
}

/* T6 step 5, T8b, T12: when the awaited future refuses cancel(), the
 * request is kept and thrown when the task resumes, instead of the value;
 * an uncancel() to 0 before that withdraws it */
static void
test_waiter_refuses_cancel (WeftTestLoop  *loop,
                            gconstpointer  data)
{
  static const Op ops[] = { AWAIT (0, RAISE), RETURN_LAST };
  Program kept, withdrawn;
  g_autoptr(WeftTask) a = NULL;
  g_autoptr(WeftTask) b = NULL;

  program_init (&kept, ops);
  program_init (&withdrawn, ops);
  g_object_unref (kept.futures[0]);
  kept.futures[0] = g_object_new (TEST_TYPE_STUBBORN_FUTURE, NULL);
  g_object_unref (withdrawn.futures[0]);
  withdrawn.futures[0] = g_object_new (TEST_TYPE_STUBBORN_FUTURE, NULL);
  a = program_spawn (KIND (data), &kept);
  b = program_spawn (KIND (data), &withdrawn);
  weft_test_pass ();

  g_assert_true (weft_task_cancel (a, "kept"));
  g_assert_true (weft_task_cancel (b, "withdrawn"));
  g_assert_cmpuint (TEST_STUBBORN_FUTURE (kept.futures[0])->refused, ==, 1);
  g_assert_false (weft_future_is_done (kept.futures[0]));
  g_assert_cmpuint (weft_task_uncancel (b), ==, 0);
  g_assert_cmpuint (weft_test_run_until_idle (), ==, 0);
  g_assert_true (weft_task_is_suspended (a));

  weft_future_set_int64 (kept.futures[0], 9);
  weft_future_set_int64 (withdrawn.futures[0], 9);
  g_assert_cmpuint (weft_test_pass (), ==, 2);
  g_assert_cmpstr (kept.log->str, ==, "start raised:kept");
  weft_test_assert_future_cancelled (a, "kept");
  g_assert_cmpstr (withdrawn.log->str, ==, "start got:9");
  weft_test_assert_finished_int (b, 9);

  program_clear (&kept);
  program_clear (&withdrawn);
}

/* T10, test_cancel_task_catching */
static void
test_cancel_task_catching (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  static const Op ops[] = { AWAIT (0, RAISE), AWAIT_OR_RETURN (1, 42) };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);

  weft_test_pass ();
  g_assert_true (weft_task_get_awaited (task) == p.futures[0]);
  weft_future_set_boolean (p.futures[0], TRUE);
  weft_test_pass ();
  g_assert_true (weft_task_get_awaited (task) == p.futures[1]);

  g_assert_true (weft_task_cancel (task, NULL));
  g_assert_true (weft_future_is_cancelled (p.futures[1]));
  weft_test_run_until_idle ();

  g_assert_cmpstr (p.log->str, ==, "start got caught:Operation was cancelled");
  weft_test_assert_finished_int (task, 42);
  g_assert_false (weft_future_is_cancelled (WEFT_FUTURE (task)));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);

  program_clear (&p);
}

/* T10, test_cancel_task_ignoring */
static void
test_cancel_task_ignoring (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  static const Op ops[] = { AWAIT (0, RAISE), AWAIT (1, CATCH), AWAIT (2, RAISE), RETURN_LAST };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);

  weft_test_pass ();
  g_assert_true (weft_task_get_awaited (task) == p.futures[0]);
  weft_future_set_boolean (p.futures[0], TRUE);
  weft_test_pass ();
  g_assert_true (weft_task_get_awaited (task) == p.futures[1]);

  g_assert_true (weft_task_cancel (task, NULL));
  g_assert_true (weft_future_is_cancelled (p.futures[1]));
  weft_test_pass ();
  g_assert_true (weft_task_get_awaited (task) == p.futures[2]);

  weft_future_set_int64 (p.futures[2], 42);
  weft_test_run_until_idle ();
  g_assert_cmpstr (p.log->str, ==, "start got caught:Operation was cancelled got:42");
  weft_test_assert_finished_int (task, 42);
  g_assert_false (weft_future_is_cancelled (p.futures[2]));
  g_assert_false (weft_future_is_cancelled (WEFT_FUTURE (task)));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);

  program_clear (&p);
}

/* T11, test_cancel_inner_future: a third party cancels the awaited future;
 * the task ends cancelled with cancelling() still 0 */
static void
test_cancel_inner_future (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  static const Op ops[] = { AWAIT (0, RAISE), RETURN (12) };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);
  weft_test_pass ();

  g_assert_true (weft_future_cancel (p.futures[0], "inner"));
  weft_test_run_until_idle ();
  g_assert_cmpstr (p.log->str, ==, "start raised:inner");
  weft_test_assert_future_cancelled (p.futures[0], "inner");
  weft_test_assert_future_cancelled (task, "inner");
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 0);

  program_clear (&p);
}

/* T11, T13, test_cancel_both_task_and_inner_future: the inner future is
 * cancelled first, then the task: one delivery, with the future's message */
static void
test_cancel_both_task_and_inner_future (WeftTestLoop  *loop,
                                        gconstpointer  data)
{
  static const Op ops[] = { AWAIT (0, RAISE), RETURN (12) };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);
  weft_test_pass ();

  g_assert_true (weft_future_cancel (p.futures[0], "inner"));
  g_assert_true (weft_task_cancel (task, "outer"));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (p.log->str, ==, "start raised:inner");
  weft_test_assert_future_cancelled (task, "inner");
  g_assert_cmpuint (weft_test_run_until_idle (), ==, 0);

  program_clear (&p);
}

/* T12, test_uncancel_basic */
static void
test_uncancel_basic (WeftTestLoop  *loop,
                     gconstpointer  data)
{
  static const Op ops[] = { SLEEP (10, CATCH), UNCANCEL_SELF, SLEEP (10, RAISE), RETURN (1) };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);
  weft_test_pass ();

  /* Cancel the first sleep. */
  g_assert_true (weft_task_cancel (task, NULL));
  g_assert_true (stack_says (task, "cancelling"));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);
  g_assert_false (weft_future_is_cancelled (WEFT_FUTURE (task)));

  weft_test_pass ();
  g_assert_cmpstr (p.log->str, ==, "start caught:Operation was cancelled uncancel:0");
  g_assert_true (stack_says (task, "pending"));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 0);
  g_assert_false (weft_future_is_done (WEFT_FUTURE (task)));
  g_assert_true (weft_task_is_suspended (task));

  /* Cancel the second sleep. */
  g_assert_true (weft_task_cancel (task, NULL));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);
  g_assert_false (weft_future_is_cancelled (WEFT_FUTURE (task)));

  weft_test_run_until_idle ();
  weft_test_assert_future_cancelled (task, NULL);

  /* After completion, uncancel() changes neither done() nor cancelled(). */
  g_assert_cmpuint (weft_task_uncancel (task), ==, 0);
  g_assert_true (weft_future_is_done (WEFT_FUTURE (task)));
  weft_test_assert_future_cancelled (task, NULL);

  program_clear (&p);
}

/* T12 [3.13+], test_uncancel_resets_must_cancel: an uncancel() that brings
 * the count to 0 withdraws a cancellation not yet delivered */
static void
test_uncancel_resets_must_cancel (WeftTestLoop  *loop,
                                  gconstpointer  data)
{
  static const Op ops[] = { AWAIT (0, RAISE), RETURN (42) };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);
  weft_test_pass ();

  weft_future_set_boolean (p.futures[0], TRUE);  /* the task is now scheduled */
  g_assert_true (weft_task_cancel (task, NULL));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);
  g_assert_cmpuint (weft_task_uncancel (task), ==, 0);
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 0);

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (p.log->str, ==, "start got");
  weft_test_assert_finished_int (task, 42);

  program_clear (&p);
}

/* T12 [3.13+]: the same before the first step: the body runs after all */
static void
test_uncancel_before_start (WeftTestLoop  *loop,
                            gconstpointer  data)
{
  static const Op ops[] = { SLEEP (0, RAISE), RETURN (42) };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);

  g_assert_true (weft_task_cancel (task, "no"));
  g_assert_cmpuint (weft_task_uncancel (task), ==, 0);
  weft_test_run_until_idle ();
  g_assert_cmpstr (p.log->str, ==, "start woke");
  weft_test_assert_finished_int (task, 42);

  program_clear (&p);
}

/* T8c, T12 [3.13+]: a task that cancels itself and uncancels before it
 * suspends is not cancelled at its next await */
static void
test_uncancel_while_running (WeftTestLoop  *loop,
                             gconstpointer  data)
{
  static const Op ops[] = { CANCEL_SELF ("no"), UNCANCEL_SELF, SLEEP (0, RAISE), AWAIT (0, RAISE), RETURN (42) };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);

  weft_test_pass ();
  g_assert_cmpstr (p.log->str, ==, "start cancel-self:true uncancel:0");
  weft_test_pass ();
  g_assert_cmpstr (p.log->str, ==, "start cancel-self:true uncancel:0 woke");
  g_assert_false (weft_future_is_done (p.futures[0]));

  weft_future_set_boolean (p.futures[0], TRUE);
  weft_test_run_until_idle ();
  g_assert_cmpstr (p.log->str, ==, "start cancel-self:true uncancel:0 woke got");
  weft_test_assert_finished_int (task, 42);

  program_clear (&p);
}

/* T12: uncancel() that leaves the count above 0 withdraws nothing */
static void
test_uncancel_partial (WeftTestLoop  *loop,
                       gconstpointer  data)
{
  static const Op ops[] = { SLEEP (0, RAISE), RETURN (42) };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);
  weft_test_pass ();

  g_assert_true (weft_task_cancel (task, "one"));
  g_assert_true (weft_task_cancel (task, "two"));
  g_assert_cmpuint (weft_task_uncancel (task), ==, 1);
  weft_test_pass ();
  g_assert_cmpstr (p.log->str, ==, "start raised:two");
  weft_test_assert_future_cancelled (task, "two");
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);

  program_clear (&p);
}

/* T12: uncancel() never goes below 0, and after the task finished normally
 * it changes nothing either */
static void
test_uncancel_floor (WeftTestLoop  *loop,
                     gconstpointer  data)
{
  static const Op ops[] = { SLEEP (0, RAISE), RETURN (42) };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);

  g_assert_cmpuint (weft_task_uncancel (task), ==, 0);
  g_assert_cmpuint (weft_task_uncancel (task), ==, 0);
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 0);

  /* A cancel() then balances exactly one request. */
  g_assert_true (weft_task_cancel (task, NULL));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);
  g_assert_cmpuint (weft_task_uncancel (task), ==, 0);

  weft_test_run_until_idle ();
  weft_test_assert_finished_int (task, 42);
  g_assert_cmpuint (weft_task_uncancel (task), ==, 0);
  weft_test_assert_finished_int (task, 42);

  program_clear (&p);
}

/* T13: when the first cancel() cancelled the awaited future, later
 * messages do not replace its message */
static void
test_message_first_wins (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  static const Op ops[] = { AWAIT (0, RAISE), RETURN (1) };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);
  weft_test_pass ();

  g_assert_true (weft_task_cancel (task, "m1"));
  g_assert_true (weft_task_cancel (task, "m2"));
  g_assert_true (weft_task_cancel (task, NULL));
  weft_test_run_until_idle ();
  g_assert_cmpstr (p.log->str, ==, "start raised:m1");
  weft_test_assert_future_cancelled (task, "m1");
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 3);

  program_clear (&p);
}

/* T13: when the task was not waiting (not started, or already scheduled by
 * a sleep(0) or a completed future), the last message wins, even none */
static void
test_message_last_wins (WeftTestLoop  *loop,
                        gconstpointer  data)
{
  static const Op ops[] = { SLEEP (0, RAISE), RETURN (1) };
  static const Op await_ops[] = { AWAIT (0, RAISE), RETURN (1) };
  Program unstarted, yielded, scheduled, to_none;
  g_autoptr(WeftTask) a = NULL;
  g_autoptr(WeftTask) b = NULL;
  g_autoptr(WeftTask) c = NULL;
  g_autoptr(WeftTask) d = NULL;

  program_init (&unstarted, ops);
  program_init (&yielded, ops);
  program_init (&scheduled, await_ops);
  program_init (&to_none, await_ops);
  b = program_spawn (KIND (data), &yielded);
  c = program_spawn (KIND (data), &scheduled);
  d = program_spawn (KIND (data), &to_none);
  weft_test_pass ();
  a = program_spawn (KIND (data), &unstarted);

  weft_future_set_boolean (scheduled.futures[0], TRUE);
  weft_future_set_boolean (to_none.futures[0], TRUE);
  g_assert_true (weft_task_cancel (a, "m1"));
  g_assert_true (weft_task_cancel (a, "m2"));
  g_assert_true (weft_task_cancel (b, "m1"));
  g_assert_true (weft_task_cancel (b, "m2"));
  g_assert_true (weft_task_cancel (c, "m1"));
  g_assert_true (weft_task_cancel (c, "m2"));
  g_assert_true (weft_task_cancel (d, "m1"));
  g_assert_true (weft_task_cancel (d, NULL));

  g_assert_cmpuint (weft_test_pass (), ==, 4);
  weft_test_assert_future_cancelled (a, "m2");
  weft_test_assert_future_cancelled (b, "m2");
  weft_test_assert_future_cancelled (c, "m2");
  weft_test_assert_future_cancelled (d, NULL);
  g_assert_cmpstr (unstarted.log->str, ==, "");
  g_assert_cmpstr (yielded.log->str, ==, "start raised:m2");
  g_assert_cmpstr (scheduled.log->str, ==, "start raised:m2");
  g_assert_cmpstr (to_none.log->str, ==, "start raised:Operation was cancelled");

  program_clear (&unstarted);
  program_clear (&yielded);
  program_clear (&scheduled);
  program_clear (&to_none);
}

/* Fiber-only scenarios: tasks awaiting tasks, coroutines calling
 * coroutines. */

typedef struct
{
  GString    *log;
  WeftFuture *future;
  WeftTask   *nested;
  const char *message;
  gint64      value;
  int         proof;
} Nest;

static void
nested_awaits_future (WeftTask *task,
                      gpointer  user_data)
{
  Nest *n = user_data;
  g_autoptr(GError) error = NULL;

  if (!weft_await (n->future, &error))
    weft_task_return_error (task, g_steal_pointer (&error));
}

static void
cancels_self_then_awaits_nested (WeftTask *task,
                                 gpointer  user_data)
{
  Nest *n = user_data;
  g_autoptr(GError) error = NULL;

  n->nested = weft_fiber_new ("nested", nested_awaits_future, n, NULL);
  g_assert_true (weft_sleep (0, NULL));
  g_assert_true (weft_task_is_suspended (n->nested));

  g_assert_true (weft_task_cancel (task, NULL));
  if (!weft_await (WEFT_FUTURE (n->nested), &error))
    weft_task_return_error (task, g_steal_pointer (&error));
}

/* T8c, T9, test_cancel_awaited_task: a task cancelled while running blocks
 * on a task, which is cancelled at once, down to the future it awaits */
static void
test_cancel_awaited_task (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  g_autoptr(WeftFuture) future = weft_future_new ();
  Nest n = { .future = future };
  g_autoptr(WeftTask) task = weft_fiber_new ("outer", cancels_self_then_awaits_nested, &n, NULL);

  weft_test_pass ();    /* outer creates nested and yields */
  weft_test_pass ();    /* nested waits; outer cancels itself and awaits nested */
  g_assert_cmpuint (weft_task_get_cancelling (n.nested), ==, 1);
  g_assert_true (weft_future_is_cancelled (future));
  g_assert_false (weft_future_is_done (WEFT_FUTURE (n.nested)));

  weft_test_run_until_idle ();
  weft_test_assert_future_cancelled (task, NULL);
  weft_test_assert_future_cancelled (n.nested, NULL);
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);
  g_assert_cmpuint (weft_task_get_cancelling (n.nested), ==, 1);

  g_object_unref (n.nested);
}

static void
sleep_long (WeftTask *task,
            gpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  if (!weft_sleep (10, &error))
    weft_task_return_error (task, g_steal_pointer (&error));
}

static void
cancels_unstarted_then_awaits (WeftTask *task,
                               gpointer  user_data)
{
  Nest *n = user_data;
  g_autoptr(GError) error = NULL;

  n->nested = weft_fiber_new ("sleeper", sleep_long, NULL, NULL);
  g_assert_true (weft_task_cancel (n->nested, n->message));

  g_assert_false (weft_await (WEFT_FUTURE (n->nested), &error));
  weft_test_log (n->log, "await:%s", error->message);
  g_clear_error (&error);

  /* asyncio's task.result() after wait(): the same error, F6. */
  g_assert_false (weft_future_propagate (WEFT_FUTURE (n->nested), &error));
  weft_task_return_error (task, g_steal_pointer (&error));
}

/* T8d, T14, test_cancel_with_message_before_starting_task: a task cancelled
 * with a message before it started raises that message to whoever awaits
 * it; letting it escape cancels the awaiter with it */
static void
test_before_start_awaited (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  Nest n = { .log = log, .message = "my message" };
  g_autoptr(WeftTask) task = weft_fiber_new ("outer", cancels_unstarted_then_awaits, &n, NULL);

  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "await:my message");
  weft_test_assert_future_cancelled (n.nested, "my message");
  weft_test_assert_future_cancelled (task, "my message");
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 0);

  g_object_unref (n.nested);
}

static gboolean
inner_coroutine (Nest    *n,
                 GError **error)
{
  if (!weft_await (n->future, error))
    {
      if (g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        n->proof += 1;
      return FALSE;
    }
  g_assert_not_reached ();
  return TRUE;
}

static void
outer_coroutine (WeftTask *task,
                 gpointer  user_data)
{
  Nest *n = user_data;
  g_autoptr(GError) error = NULL;

  if (!inner_coroutine (n, &error))
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      n->proof += 100;
    }
  else
    n->proof += 10;
}

/* T9, test_yield_future_passes_cancel: cancelling outer cancels what inner
 * (a plain function on the fiber) awaits; both see the error, outer
 * swallows it and finishes */
static void
test_yield_future_passes_cancel (WeftTestLoop  *loop,
                                 gconstpointer  data)
{
  g_autoptr(WeftFuture) waiter = weft_future_new ();
  Nest n = { .future = waiter };
  g_autoptr(WeftTask) task = weft_fiber_new ("outer", outer_coroutine, &n, NULL);

  weft_test_pass ();
  g_assert_true (weft_task_cancel (task, NULL));
  weft_test_run_until_idle ();

  g_assert_cmpint (n.proof, ==, 101);
  g_assert_true (weft_future_is_cancelled (waiter));
  g_assert_true (weft_future_propagate (WEFT_FUTURE (task), NULL));
  g_assert_false (weft_future_is_cancelled (WEFT_FUTURE (task)));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);
}

static void
inner_suppresses (WeftTask *task,
                  gpointer  user_data)
{
  Nest *n = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_false (weft_await (n->future, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  weft_test_log (n->log, "inner:caught");
  weft_task_return_int64 (task, 7);
}

static void
outer_awaits_nested (WeftTask *task,
                     gpointer  user_data)
{
  Nest *n = user_data;
  g_autoptr(GError) error = NULL;
  gint64 value;

  n->nested = weft_fiber_new ("inner", inner_suppresses, n, NULL);
  value = weft_await_int64 (WEFT_FUTURE (n->nested), &error);
  g_assert_no_error (error);
  weft_test_log (n->log, "outer:%" G_GINT64_FORMAT, value);
  weft_task_return_int64 (task, value + 1);
}

/* T9: cancelling a task that awaits a task cancels the inner one (its
 * count goes up too); when the inner one suppresses the cancellation and
 * returns a value, the outer await returns it and the outer task is not
 * cancelled */
static void
test_inner_task_suppresses (WeftTestLoop  *loop,
                            gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftFuture) future = weft_future_new ();
  Nest n = { .log = log, .future = future };
  g_autoptr(WeftTask) outer = weft_fiber_new ("outer", outer_awaits_nested, &n, NULL);

  weft_test_pass ();    /* outer creates inner, awaits it */
  weft_test_pass ();    /* inner awaits the future */
  g_assert_true (weft_task_get_awaited (outer) == WEFT_FUTURE (n.nested));
  g_assert_true (weft_task_get_awaited (n.nested) == future);

  g_assert_true (weft_task_cancel (outer, NULL));
  g_assert_cmpuint (weft_task_get_cancelling (outer), ==, 1);
  g_assert_cmpuint (weft_task_get_cancelling (n.nested), ==, 1);
  g_assert_true (weft_future_is_cancelled (future));

  weft_test_pass ();    /* inner catches and returns */
  g_assert_cmpstr (log->str, ==, "inner:caught");
  weft_test_assert_finished_int (n.nested, 7);
  weft_test_pass ();    /* outer resumes with the value */
  g_assert_cmpstr (log->str, ==, "inner:caught outer:7");
  weft_test_assert_finished_int (outer, 8);
  g_assert_cmpuint (weft_task_get_cancelling (outer), ==, 1);
  g_assert_cmpuint (weft_task_get_cancelling (n.nested), ==, 1);

  g_object_unref (n.nested);
}

static void
awaits_task (WeftTask *task,
             gpointer  user_data)
{
  Nest *n = user_data;
  g_autoptr(GError) error = NULL;

  if (!weft_await (WEFT_FUTURE (n->nested), &error))
    {
      weft_test_log (n->log, "%s:%s", weft_task_get_name (task), error->message);
      weft_task_return_error (task, g_steal_pointer (&error));
    }
}

/* T14, T11, T20: awaiting a task that gets cancelled raises its
 * cancellation, message included, and letting it escape cancels the
 * awaiter (whose own count stays 0); awaiting it after it is done raises
 * the same at once */
static void
test_await_cancelled_task (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftTask) sleeper = weft_fiber_new ("sleeper", sleep_long, NULL, NULL);
  Nest n = { .log = log, .nested = sleeper };
  g_autoptr(WeftTask) first = weft_fiber_new ("first", awaits_task, &n, NULL);
  g_autoptr(WeftTask) late = NULL;

  weft_test_pass ();
  g_assert_true (weft_task_cancel (sleeper, "stop"));
  g_assert_false (weft_future_is_done (WEFT_FUTURE (sleeper)));

  weft_test_pass ();    /* sleeper ends cancelled */
  weft_test_assert_future_cancelled (sleeper, "stop");
  g_assert_false (weft_future_is_done (WEFT_FUTURE (first)));
  weft_test_pass ();    /* first resumes with its error */
  g_assert_cmpstr (log->str, ==, "first:stop");
  weft_test_assert_future_cancelled (first, "stop");
  g_assert_cmpuint (weft_task_get_cancelling (first), ==, 0);

  late = weft_fiber_new ("late", awaits_task, &n, NULL);
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (log->str, ==, "first:stop late:stop");
  weft_test_assert_future_cancelled (late, "stop");
}

static void
cancels_sleeper_then_reads_outcome (WeftTask *task,
                                    gpointer  user_data)
{
  Nest *n = user_data;
  g_autoptr(GError) error = NULL;

  n->nested = weft_fiber_new ("sleeper", sleep_long, NULL, NULL);
  g_assert_true (weft_sleep (0, NULL));
  g_assert_true (weft_task_cancel (n->nested, n->message));

  /* wait() does not raise: await a done-callback-completed future. */
  while (!weft_future_is_done (WEFT_FUTURE (n->nested)))
    g_assert_true (weft_sleep (0, NULL));

  /* asyncio's task.exception() raises the CancelledError. */
  error = weft_future_dup_error (WEFT_FUTURE (n->nested));
  weft_task_return_error (task, g_steal_pointer (&error));
}

/* T14, F6, test_cancel_with_message_then_future_result and
 * test_cancel_with_message_then_future_exception: the message (none, an
 * empty one, a text) reaches the reader of the cancelled task's outcome */
static void
test_message_then_result (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  const char *messages[] = { NULL, "", "my message" };

  for (guint i = 0; i < G_N_ELEMENTS (messages); i++)
    {
      Nest n = { .message = messages[i] };
      g_autoptr(WeftTask) task = weft_fiber_new ("outer", cancels_sleeper_then_reads_outcome, &n, NULL);
      g_autoptr(GError) error = NULL;

      weft_test_run_until_idle ();
      weft_test_assert_future_cancelled (n.nested, messages[i]);
      weft_test_assert_future_cancelled (task, messages[i]);

      error = weft_future_dup_error (WEFT_FUTURE (task));
      weft_test_assert_cancelled_error (error, messages[i]);

      g_object_unref (n.nested);
    }
}

/* The task's GCancellable. */

/* T6: the cancellable is cancelled with the task, whether fetched before
 * or after; it stays so once the task is done */
static void
test_cancellable (WeftTestLoop  *loop,
                  gconstpointer  data)
{
  static const Op ops[] = { AWAIT (0, RAISE), RETURN (1) };
  Program before, after;
  g_autoptr(WeftTask) a = NULL;
  g_autoptr(WeftTask) b = NULL;
  GCancellable *cancellable;

  program_init (&before, ops);
  program_init (&after, ops);
  a = program_spawn (KIND (data), &before);
  b = program_spawn (KIND (data), &after);
  weft_test_pass ();

  cancellable = weft_task_get_cancellable (a);
  g_assert_true (G_IS_CANCELLABLE (cancellable));
  g_assert_true (weft_task_get_cancellable (a) == cancellable);
  g_assert_false (g_cancellable_is_cancelled (cancellable));
  g_assert_true (weft_task_cancel (a, NULL));
  g_assert_true (g_cancellable_is_cancelled (cancellable));

  g_assert_true (weft_task_cancel (b, NULL));
  g_assert_true (g_cancellable_is_cancelled (weft_task_get_cancellable (b)));

  weft_test_run_until_idle ();
  weft_test_assert_future_cancelled (a, NULL);
  weft_test_assert_future_cancelled (b, NULL);
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  g_assert_true (g_cancellable_is_cancelled (weft_task_get_cancellable (b)));

  program_clear (&before);
  program_clear (&after);
}

/* T6: cancelled before its first step, the task's cancellable is too */
static void
test_cancellable_before_start (WeftTestLoop  *loop,
                               gconstpointer  data)
{
  static const Op ops[] = { RETURN (1) };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);
  g_assert_false (g_cancellable_is_cancelled (weft_task_get_cancellable (task)));
  g_assert_true (weft_task_cancel (task, NULL));
  g_assert_true (g_cancellable_is_cancelled (weft_task_get_cancellable (task)));

  weft_test_pass ();
  weft_test_assert_future_cancelled (task, NULL);

  program_clear (&p);
}

/* T12: the cancellable is reset when uncancel() brings the count to 0, not
 * before; the task can then use it again */
static void
test_cancellable_reset (WeftTestLoop  *loop,
                        gconstpointer  data)
{
  static const Op ops[] = { AWAIT (0, CATCH), UNCANCEL_SELF, UNCANCEL_SELF, AWAIT (1, RAISE), RETURN_LAST };
  Program p;
  g_autoptr(WeftTask) task = NULL;
  GCancellable *cancellable;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);
  weft_test_pass ();
  cancellable = weft_task_get_cancellable (task);

  g_assert_true (weft_task_cancel (task, NULL));
  g_assert_true (weft_task_cancel (task, NULL));
  g_assert_true (g_cancellable_is_cancelled (cancellable));

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (p.log->str, ==, "start caught:Operation was cancelled uncancel:1 uncancel:0");
  g_assert_false (g_cancellable_is_cancelled (cancellable));
  g_assert_true (weft_task_get_cancellable (task) == cancellable);

  /* And it works again. */
  g_assert_true (weft_task_cancel (task, NULL));
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  weft_test_run_until_idle ();
  weft_test_assert_future_cancelled (task, NULL);

  program_clear (&p);
}

/* T6: a task that ended cancelled has a cancelled cancellable, even when
 * it is fetched only afterwards */
static void
test_cancellable_fetched_after_done (WeftTestLoop  *loop,
                                     gconstpointer  data)
{
  static const Op ops[] = { AWAIT (0, RAISE), RETURN (1) };
  Program p;
  g_autoptr(WeftTask) task = NULL;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);
  weft_test_pass ();
  g_assert_true (weft_task_cancel (task, NULL));
  weft_test_run_until_idle ();
  weft_test_assert_future_cancelled (task, NULL);

  g_assert_true (g_cancellable_is_cancelled (weft_task_get_cancellable (task)));

  program_clear (&p);
}

/* T12: after completion uncancel() changes nothing: the cancellable of a
 * cancelled task stays cancelled when the count drops to 0 */
static void
test_cancellable_uncancel_after_done (WeftTestLoop  *loop,
                                      gconstpointer  data)
{
  static const Op ops[] = { AWAIT (0, RAISE), RETURN (1) };
  Program p;
  g_autoptr(WeftTask) task = NULL;
  GCancellable *cancellable;

  program_init (&p, ops);
  task = program_spawn (KIND (data), &p);
  weft_test_pass ();
  cancellable = weft_task_get_cancellable (task);
  g_assert_true (weft_task_cancel (task, NULL));
  weft_test_run_until_idle ();
  weft_test_assert_future_cancelled (task, NULL);

  g_assert_cmpuint (weft_task_uncancel (task), ==, 0);
  weft_test_assert_future_cancelled (task, NULL);
  g_assert_true (g_cancellable_is_cancelled (cancellable));

  program_clear (&p);
}

/* One end of a connected socket pair, as a GInputStream nobody writes to. */
typedef struct
{
  GSocketConnection *connection;
  int                peer;
} SocketPair;

static void
socket_pair_open (SocketPair *sockets)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  int fds[2];

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM, 0, fds));
  socket = g_socket_new_from_fd (fds[0], &error);
  g_assert_no_error (error);
  sockets->connection = g_socket_connection_factory_create_connection (socket);
  sockets->peer = fds[1];
}

static void
socket_pair_close (SocketPair *sockets)
{
  g_clear_object (&sockets->connection);
  close (sockets->peer);
}

static void
wait_for_read (ReadOp *op)
{
  while (!op->finished)
    g_main_context_iteration (g_main_context_get_thread_default (), TRUE);
}

/* T6, T8a: a GIO read given the task's cancellable aborts with
 * G_IO_ERROR_CANCELLED when the task is cancelled; the future the task
 * awaits is cancelled by the task itself */
static void
test_cancellable_gio (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  static const Op ops[] = { READ (0), AWAIT (0, RAISE), RETURN_LAST };
  Program p;
  SocketPair sockets;
  ReadOp read = { NULL };
  g_autoptr(WeftTask) task = NULL;

  socket_pair_open (&sockets);
  read.stream = g_io_stream_get_input_stream (G_IO_STREAM (sockets.connection));
  program_init (&p, ops);
  p.read = &read;
  task = program_spawn (KIND (data), &p);

  weft_test_pass ();
  g_assert_cmpstr (p.log->str, ==, "start read");
  g_assert_true (weft_task_get_awaited (task) == p.futures[0]);

  /* Nothing to read. */
  for (int i = 0; i < 3; i++)
    g_main_context_iteration (loop->context, FALSE);
  g_assert_false (read.finished);

  g_assert_true (weft_task_cancel (task, "stop reading"));
  g_assert_true (g_cancellable_is_cancelled (weft_task_get_cancellable (task)));
  weft_test_assert_future_cancelled (p.futures[0], "stop reading");

  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_cmpstr (p.log->str, ==, "start read raised:stop reading");
  weft_test_assert_future_cancelled (task, "stop reading");

  wait_for_read (&read);
  g_assert_error (read.gio_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&read.gio_error);

  program_clear (&p);
  socket_pair_close (&sockets);
}

/* T6, T10: cancelled while sleeping, a task that catches the error and
 * then awaits its GIO read gets GIO's own cancellation, through the future
 * the read callback completes */
static void
test_cancellable_gio_error (WeftTestLoop  *loop,
                            gconstpointer  data)
{
  static const Op ops[] = { READ (0), SLEEP (10, CATCH), AWAIT (0, RAISE), RETURN_LAST };
  Program p;
  SocketPair sockets;
  ReadOp read = { NULL };
  g_autoptr(WeftTask) task = NULL;
  g_autofree char *expected = NULL;

  socket_pair_open (&sockets);
  read.stream = g_io_stream_get_input_stream (G_IO_STREAM (sockets.connection));
  program_init (&p, ops);
  p.read = &read;
  task = program_spawn (KIND (data), &p);

  weft_test_pass ();
  g_assert_cmpstr (p.log->str, ==, "start read");
  g_assert_true (weft_task_cancel (task, "wake up"));
  g_assert_false (weft_future_is_done (p.futures[0]));

  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_true (read.finished);
  g_assert_error (read.gio_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  expected = g_strdup_printf ("start read caught:wake up raised:%s", read.gio_error->message);
  g_assert_cmpstr (p.log->str, ==, expected);
  g_assert_true (weft_future_is_cancelled (p.futures[0]));
  g_assert_true (weft_future_is_cancelled (WEFT_FUTURE (task)));
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);
  g_clear_error (&read.gio_error);

  program_clear (&p);
  socket_pair_close (&sockets);
}

static void
add_both (const char *name,
          void      (*func) (WeftTestLoop *, gconstpointer))
{
  weft_test_add_both_kinds ("cancel", name, func);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  add_both ("cancel", test_cancel);
  add_both ("cancel-yield", test_cancel_yield);
  add_both ("cancelling", test_cancelling);
  add_both ("coalescing", test_coalescing);
  add_both ("waiter-future", test_cancel_waiter_future);
  add_both ("scheduled-result-lost", test_scheduled_result_lost);
  add_both ("scheduled-error-replaced", test_scheduled_error_replaced);
  add_both ("cancel-at-end", test_cancel_at_end);
  add_both ("cancel-current-task", test_cancel_current_task);
  add_both ("cancel-self-then-await", test_cancel_self_then_await);
  add_both ("cancel-self-then-yield", test_cancel_self_then_yield);
  add_both ("before-start", test_cancel_before_start);
  add_both ("waiter-refuses-cancel", test_waiter_refuses_cancel);
  add_both ("task-catching", test_cancel_task_catching);
  add_both ("task-ignoring", test_cancel_task_ignoring);
  add_both ("inner-future", test_cancel_inner_future);
  add_both ("both-task-and-inner-future", test_cancel_both_task_and_inner_future);
  add_both ("uncancel-basic", test_uncancel_basic);
  add_both ("uncancel-resets-must-cancel", test_uncancel_resets_must_cancel);
  add_both ("uncancel-before-start", test_uncancel_before_start);
  add_both ("uncancel-while-running", test_uncancel_while_running);
  add_both ("uncancel-partial", test_uncancel_partial);
  add_both ("uncancel-floor", test_uncancel_floor);
  add_both ("message-first-wins", test_message_first_wins);
  add_both ("message-last-wins", test_message_last_wins);
  add_both ("cancellable", test_cancellable);
  add_both ("cancellable-before-start", test_cancellable_before_start);
  add_both ("cancellable-reset", test_cancellable_reset);
  add_both ("cancellable-fetched-after-done", test_cancellable_fetched_after_done);
  add_both ("cancellable-uncancel-after-done", test_cancellable_uncancel_after_done);
  add_both ("cancellable-gio", test_cancellable_gio);
  add_both ("cancellable-gio-error", test_cancellable_gio_error);

  WEFT_TEST_ADD ("/cancel/fiber/cancel-awaited-task", test_cancel_awaited_task);
  WEFT_TEST_ADD ("/cancel/fiber/before-start-awaited", test_before_start_awaited);
  WEFT_TEST_ADD ("/cancel/fiber/yield-future-passes-cancel", test_yield_future_passes_cancel);
  WEFT_TEST_ADD ("/cancel/fiber/inner-task-suppresses", test_inner_task_suppresses);
  WEFT_TEST_ADD ("/cancel/fiber/await-cancelled-task", test_await_cancelled_task);
  WEFT_TEST_ADD ("/cancel/fiber/message-then-result", test_message_then_result);

  return g_test_run ();
}
