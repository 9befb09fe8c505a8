/* weft-run-threadsafe.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-error-private.h"
#include "weft-future-private.h"
#include "weft-context.h"
#include "weft-run-threadsafe.h"

/* asyncio.run_coroutine_threadsafe() creates the task on the target loop
 * through call_soon_threadsafe() and chains it to a concurrent future. Here
 * the chained future is a WeftFuture bound to the submitter's context, so
 * that a task of that context can await it and a plain thread can block on
 * it with weft_future_wait(); both directions of the chain are runnables
 * pushed to the target's scheduler, which any thread may do.
 */

#define WEFT_TYPE_CHAINED_FUTURE (weft_chained_future_get_type ())
G_DECLARE_FINAL_TYPE (WeftChainedFuture, weft_chained_future, WEFT, CHAINED_FUTURE, WeftFuture)

struct _WeftChainedFuture
{
  WeftFuture       parent_instance;

  WeftScheduler   *target;          /* its context is held */
  WeftRunnable     create;          /* queued on the target at submission */
  WeftRunnable     cancel;          /* queued on the target when cancelled */
  char            *cancel_message;  /* written before cancel is queued */

  WeftTaskFactory  factory;
  gpointer         factory_data;
  GDestroyNotify   factory_notify;
  WeftContext     *submitter;       /* the submitter's variables, copied */

  WeftTask        *task;            /* only the target's thread touches it */
};

G_DEFINE_FINAL_TYPE (WeftChainedFuture, weft_chained_future, WEFT_TYPE_FUTURE)

static inline WeftChainedFuture *
from_runnable (WeftRunnable *runnable,
               gsize         offset)
{
  return (WeftChainedFuture *) ((guint8 *) runnable - offset);
}

static void
drop_factory (WeftChainedFuture *self)
{
  if (self->factory_notify != NULL)
    self->factory_notify (self->factory_data);
  self->factory_notify = NULL;
  self->factory_data = NULL;
}

/* RC2: on the target's thread, where the task may be cancelled. Queued
 * once, after run_create unless the future was cancelled before run_create
 * started, which then made no task.
 */
static void
run_cancel (WeftRunnable *runnable)
{
  WeftChainedFuture *self = from_runnable (runnable, G_STRUCT_OFFSET (WeftChainedFuture, cancel));

  if (self->task != NULL)
    weft_task_cancel (self->task, self->cancel_message);
  g_object_unref (self);
}

/* RC1, RC3: the task's outcome, cancellation included, becomes ours. */
static void
copy_outcome (WeftFuture *task,
              gpointer    user_data)
{
  WeftChainedFuture *self = user_data;
  GError *error = weft_future_dup_error (task);
  GValue value = G_VALUE_INIT;

  if (error == NULL)
    weft_future_get_value (task, &value, NULL);
  weft_future_complete (WEFT_FUTURE (self), G_IS_VALUE (&value) ? &value : NULL, error);
  g_clear_object (&self->task);
}

typedef struct
{
  WeftChainedFuture  *self;
  WeftTask           *task;
  GError            **error;
} FactoryCall;

static void
call_factory (gpointer data)
{
  FactoryCall *call = data;

  call->task = call->self->factory (call->self->factory_data, call->error);
}

static WeftTask *
make_task (WeftChainedFuture  *self,
           GError            **error)
{
  FactoryCall call = { self, NULL, error };
  GMainContext *context = weft_scheduler_get_context (self->target);
  GMainContext *current = g_main_context_get_thread_default ();
  gboolean push = context != (current != NULL ? current : g_main_context_default ());

  /* A task binds to the thread-default context: make it the target even
   * when the thread iterates it without pushing it.
   */
  if (push)
    g_main_context_push_thread_default (context);
  /* asyncio makes the task inside the submitter's context variables
   * (call_soon_threadsafe() copies them): the task copies those. The copy
   * is ours alone, so entering it cannot fail.
   */
  weft_context_run (self->submitter, call_factory, &call, NULL);
  if (push)
    g_main_context_pop_thread_default (context);

  return call.task;
}

static void
run_create (WeftRunnable *runnable)
{
  WeftChainedFuture *self = from_runnable (runnable, G_STRUCT_OFFSET (WeftChainedFuture, create));
  GError *error = NULL;

  /* Cancelled before the task existed: its body would never have run. */
  if (weft_future_is_cancelled (WEFT_FUTURE (self)))
    {
      drop_factory (self);
      g_object_unref (self);
      return;
    }

  self->task = make_task (self, &error);
  drop_factory (self);

  if (self->task == NULL)
    {
      /* RC4: the error goes to the future, and is reported. */
      if (error == NULL)
        error = g_error_new_literal (WEFT_ERROR, WEFT_ERROR_INVALID_STATE,
                                     "The task factory returned no task and no error");
      g_warning ("weft_run_task_factory_threadsafe: the task factory failed: %s", error->message);
      weft_future_complete (WEFT_FUTURE (self), NULL, error);
    }
  else
    {
      /* Cancelled since the check above: run_cancel is queued behind us. */
      weft_future_add_done_callback (WEFT_FUTURE (self->task), copy_outcome,
                                     g_object_ref (self), g_object_unref);
    }

  g_object_unref (self);
}

static gboolean
weft_chained_future_cancel (WeftFuture *future,
                            const char *message)
{
  WeftChainedFuture *self = WEFT_CHAINED_FUTURE (future);

  if (!WEFT_FUTURE_CLASS (weft_chained_future_parent_class)->cancel (future, message))
    return FALSE;

  /* Pushing publishes the message to the target's thread. */
  self->cancel_message = g_strdup (message);
  g_object_ref (self);
  weft_scheduler_push (self->target, &self->cancel);

  return TRUE;
}

static void
weft_chained_future_finalize (GObject *object)
{
  WeftChainedFuture *self = WEFT_CHAINED_FUTURE (object);

  /* Both runnables and the task's done callback hold a reference: by now
   * the task is gone and the factory dropped.
   */
  g_assert (self->task == NULL);
  drop_factory (self);
  g_clear_pointer (&self->submitter, weft_context_unref);
  g_free (self->cancel_message);
  weft_scheduler_release_context (self->target);

  G_OBJECT_CLASS (weft_chained_future_parent_class)->finalize (object);
}

static void
weft_chained_future_class_init (WeftChainedFutureClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = weft_chained_future_finalize;
  WEFT_FUTURE_CLASS (klass)->cancel = weft_chained_future_cancel;
}

static void
weft_chained_future_init (WeftChainedFuture *self)
{
  self->create.run = run_create;
  self->cancel.run = run_cancel;
}

/**
 * weft_run_task_factory_threadsafe:
 * @context: (nullable): the target context, or %NULL for the global
 *   default one
 * @factory: (scope notified) (closure user_data) (destroy notify): makes
 *   the task, on @context's thread
 * @user_data: data for @factory
 * @notify: (nullable): frees @user_data on @context's thread once
 *   @factory ran, or when it never will
 *
 * The general form of weft_run_coroutine_threadsafe(), for any kind of
 * task: @factory is called from @context's thread to make it. If @factory
 * fails, its error is the future's outcome and is also logged with
 * g_warning(), as asyncio reports a failing task factory to the loop's
 * exception handler.
 *
 * Returns: (transfer full): a future for the task's outcome, bound to the
 *   calling thread's thread-default context
 */
WeftFuture *
weft_run_task_factory_threadsafe (GMainContext    *context,
                                  WeftTaskFactory  factory,
                                  gpointer         user_data,
                                  GDestroyNotify   notify)
{
  WeftChainedFuture *self;

  g_return_val_if_fail (factory != NULL, NULL);

  self = g_object_new (WEFT_TYPE_CHAINED_FUTURE, NULL);
  self->target = weft_scheduler_get_for_context (context);
  weft_scheduler_hold_context (self->target);
  self->factory = factory;
  self->factory_data = user_data;
  self->factory_notify = notify;
  self->submitter = weft_context_copy_current ();

  /* RC1: created in the target's loop, through its inbox when it runs on
   * another thread; the scheduler wakes it.
   */
  g_object_ref (self);
  weft_scheduler_push (self->target, &self->create);

  return WEFT_FUTURE (self);
}

/* The coroutine weft_run_coroutine_threadsafe() and
 * weft_run_fiber_threadsafe() were given, until a task takes it over.
 */
typedef struct
{
  char           *name;
  WeftStepFunc    step;
  WeftFiberFunc   fiber;
  gpointer        user_data;
  GDestroyNotify  notify;
} Coroutine;

static WeftTask *
coroutine_make_task (gpointer   data,
                     GError   **error)
{
  Coroutine *coroutine = data;
  GDestroyNotify notify = g_steal_pointer (&coroutine->notify);

  if (coroutine->step != NULL)
    return weft_task_new (coroutine->name, coroutine->step, coroutine->user_data, notify);
  return weft_fiber_new (coroutine->name, coroutine->fiber, coroutine->user_data, notify);
}

static void
coroutine_free (gpointer data)
{
  Coroutine *coroutine = data;

  if (coroutine->notify != NULL)
    coroutine->notify (coroutine->user_data);
  g_free (coroutine->name);
  g_free (coroutine);
}

static WeftFuture *
submit_coroutine (GMainContext   *context,
                  const char     *name,
                  WeftStepFunc    step,
                  WeftFiberFunc   fiber,
                  gpointer        user_data,
                  GDestroyNotify  notify)
{
  Coroutine *coroutine = g_new0 (Coroutine, 1);

  coroutine->name = g_strdup (name);
  coroutine->step = step;
  coroutine->fiber = fiber;
  coroutine->user_data = user_data;
  coroutine->notify = notify;

  return weft_run_task_factory_threadsafe (context, coroutine_make_task, coroutine, coroutine_free);
}

/**
 * weft_run_coroutine_threadsafe:
 * @context: (nullable): the target context, or %NULL for the global
 *   default one
 * @name: (nullable): the task's name, or %NULL for "Task-N"
 * @step: (scope notified) (closure user_data) (destroy notify): the step
 *   function of the stackless coroutine
 * @user_data: data for @step
 * @notify: (nullable): frees @user_data, on @context's thread
 *
 * asyncio.run_coroutine_threadsafe(): from any thread, runs a stackless
 * task (as weft_task_new() makes) on @context, which another thread runs.
 * The task is created there, in a later pass of @context's loop.
 *
 * The returned future is bound to the calling thread's thread-default
 * context: a task of that context may await it, and a thread that does not
 * run it may block on it with weft_future_wait(). It ends as the task
 * does, cancellation included. Cancelling it, from any thread, cancels it
 * at once and the task on @context's thread; a task not created yet is
 * never created.
 *
 * Returns: (transfer full): a future for the task's outcome
 */
WeftFuture *
weft_run_coroutine_threadsafe (GMainContext   *context,
                               const char     *name,
                               WeftStepFunc    step,
                               gpointer        user_data,
                               GDestroyNotify  notify)
{
  g_return_val_if_fail (step != NULL, NULL);

  return submit_coroutine (context, name, step, NULL, user_data, notify);
}

/**
 * weft_run_fiber_threadsafe:
 * @context: (nullable): the target context, or %NULL for the global
 *   default one
 * @name: (nullable): the task's name, or %NULL for "Task-N"
 * @func: (scope notified) (closure user_data) (destroy notify): the body
 *   of the fiber
 * @user_data: data for @func
 * @notify: (nullable): frees @user_data, on @context's thread
 *
 * weft_run_coroutine_threadsafe() for a fiber, as weft_fiber_new() makes.
 *
 * Returns: (transfer full): a future for the fiber's outcome
 */
WeftFuture *
weft_run_fiber_threadsafe (GMainContext   *context,
                           const char     *name,
                           WeftFiberFunc   func,
                           gpointer        user_data,
                           GDestroyNotify  notify)
{
  g_return_val_if_fail (func != NULL, NULL);

  return submit_coroutine (context, name, NULL, func, user_data, notify);
}
