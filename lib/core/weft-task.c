/* weft-task.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <stdio.h>

#include "weft-context-private.h"
#include "weft-error-private.h"
#include "weft-future-private.h"
#include "weft-inspect-hooks-private.h"
#include "weft-task-private.h"

/**
 * WeftTask:
 *
 * A coroutine scheduled on a #GMainContext: asyncio's Task.
 *
 * A task is a #WeftFuture whose outcome is its coroutine's. Creating one
 * queues its first step on the thread-default context; steps run from that
 * context's single Weft source, in FIFO order. Each step runs until the
 * coroutine awaits a future, yields, sleeps or returns.
 *
 * Two coroutine kinds share this type: stackless tasks, whose step is a
 * function called again after every await (weft_task_new(), or a subclass
 * overriding #WeftTaskClass.step, which is how language bindings drive
 * their own coroutines), and fibers (#WeftFiber), plain C functions on
 * their own stack.
 *
 * Cancellation follows asyncio: weft_task_cancel() counts requests and
 * delivers one %G_IO_ERROR_CANCELLED at the current or next await, by
 * cancelling the awaited future; weft_task_uncancel() withdraws a request.
 * The task's #GCancellable is cancelled with it, so GIO calls given it
 * abort.
 *
 * A task belongs to the thread that iterates its context: step, cancel and
 * uncancel it there. (Plain futures may be completed and cancelled from
 * any thread.)
 *
 * The context holds a reference on every unfinished task: a task runs to
 * completion even when nothing else references it.
 *
 * Every step runs in the task's #WeftContext: a copy of the context
 * current at creation, or the one given to weft_task_new_full(), shared.
 *
 * An eager task (%WEFT_TASK_FLAGS_EAGER_START, or any task created while
 * weft_task_set_eager_start_default() is on) runs its first step inside
 * the call that creates it, as the current task. If that step returns, the
 * task is done before it is ever queued; if it awaits, it goes on as any
 * other task.
 */

typedef enum
{
  TASK_SCHEDULED,
  TASK_RUNNING,
  TASK_WAITING,
  TASK_SLEEPING,
  TASK_DONE,
} TaskState;

/* What the current step asked for when it ends. */
typedef enum
{
  REQUEST_NONE,
  REQUEST_AWAIT,
  REQUEST_YIELD,
  REQUEST_SLEEP,
  REQUEST_RETURN,
} StepRequest;

/* What most tasks never need, allocated by the first that does: every
 * byte inside the task is paid by every task, suspended or not.
 */
typedef struct
{
  GError               *resume_error;   /* raised at the next step instead of a result */
  GDestroyNotify        func_notify;    /* frees the step function's data */
  char                 *name;
  char                 *cancel_message;
  GCancellable         *cancellable;
  WeftContext          *context;        /* the one given to weft_task_start(), or own_context */
  WeftContext           own_context;    /* made once something needs the task's as an object */
  WeftFuture           *wait_slots[WEFT_TASK_N_WAIT_SLOTS];
  WeftInspectRecord    *record;         /* see inspect_record() */
} TaskExtras;

typedef struct
{
  WeftTimedRunnable     runnable;       /* first: the ready queue hands us this */
  WeftLink              link;           /* in the scheduler's registry */
  WeftStepFunc          func;
  gpointer              func_data;
  WeftFuture           *awaited;        /* asyncio's _fut_waiter, kept until the next step */
  const WeftAwaitSite  *site;
  /* CV1: most tasks only ever need their context's map, a copy of the
   * creator's: each step runs in a stand-in on the stack that takes it
   * over, and the task keeps a #WeftContext in its extras only once one
   * is asked for (weft_task_get_context(), a token), or given.
   */
  union {
    WeftContextMap     *context_map;    /* between steps */
    WeftContext        *stand_in;       /* while in_stand_in */
  };
  TaskExtras           *extras;         /* NULL until needed; see peek_extras() */
  guint64               id;
  guint                 num_cancels_requested;
  guint8                state;
  guint8                request;
  guint8                must_cancel : 1;
  guint8                must_cancel_after_resume : 1;
  guint8                started : 1;
  guint8                start_deferred : 1;  /* weft_task_start() comes after construction */
  guint8                has_context : 1;     /* steps run in extras->context */
  guint8                in_stand_in : 1;     /* a step runs in stand_in */
  guint8                inspected : 1;       /* it had an inspection record */
} WeftTaskPrivate;

G_DEFINE_TYPE_WITH_PRIVATE (WeftTask, weft_task, WEFT_TYPE_FUTURE)

static guint64 last_task_id;

/* Set by weft_task_construct() for the one task it is constructing. */
static WEFT_THREAD_LOCAL gboolean defer_next_start;
static WEFT_THREAD_LOCAL GType class_made;  /* by weft_task_construct() */

static inline WeftTask *
task_from_private (WeftTaskPrivate *priv)
{
  return (WeftTask *) G_STRUCT_MEMBER_P (priv, -WeftTask_private_offset);
}

/* A task in its scheduler's registry. */
static inline WeftTaskPrivate *
private_from_link (const WeftLink *link)
{
  return G_STRUCT_MEMBER_P (link, -G_STRUCT_OFFSET (WeftTaskPrivate, link));
}

static inline WeftScheduler *
task_scheduler (WeftTask *self)
{
  return weft_future_get_scheduler (WEFT_FUTURE (self));
}

/* While inspecting, a task without extras keeps its record in their
 * place, tagged in the low bit: a record forces no allocation on the task,
 * nor a byte more in it.
 */
#define RECORD_TAG ((gsize) 1)

static inline TaskExtras *
peek_extras (WeftTaskPrivate *priv)
{
  return G_LIKELY (((gsize) priv->extras & RECORD_TAG) == 0) ? priv->extras : NULL;
}

/* The task's inspection record, from its start while inspecting until the
 * step that finished it is over; NULL otherwise.
 */
static inline WeftInspectRecord *
peek_record (WeftTaskPrivate *priv)
{
  gsize bits = (gsize) priv->extras;

  if (bits & RECORD_TAG)
    return (WeftInspectRecord *) (bits & ~RECORD_TAG);
  return bits != 0 ? priv->extras->record : NULL;
}

static void
set_record (WeftTaskPrivate   *priv,
            WeftInspectRecord *record)
{
  if (peek_extras (priv) != NULL)
    priv->extras->record = record;
  else
    priv->extras = record != NULL ? (TaskExtras *) ((gsize) record | RECORD_TAG) : NULL;
}

static TaskExtras *
task_extras (WeftTaskPrivate *priv)
{
  if (G_UNLIKELY (peek_extras (priv) == NULL))
    {
      TaskExtras *extras = g_new0 (TaskExtras, 1);

      extras->record = peek_record (priv);
      priv->extras = extras;
    }
  return priv->extras;
}

static inline const char *
peek_cancel_message (WeftTaskPrivate *priv)
{
  TaskExtras *extras = peek_extras (priv);

  return extras != NULL ? extras->cancel_message : NULL;
}

/* The task's inspection record; NULL unless it started while inspecting. */
static inline WeftInspectRecord *
inspect_record (WeftTaskPrivate *priv)
{
#ifdef WEFT_INSPECT_DISABLED
  return NULL;
#else
  return WEFT_INSPECTING () ? peek_record (priv) : NULL;
#endif
}

/* Gives the task its own #WeftContext, from what its steps ran in so far. */
static WeftContext *
make_own_context (WeftTask        *self,
                  WeftTaskPrivate *priv,
                  WeftContextMap  *map,
                  guint64          serial)
{
  TaskExtras *extras = task_extras (priv);

  weft_context_init_embedded (&extras->own_context, self, map);
  extras->own_context.serial = serial;
  extras->context = &extras->own_context;
  priv->has_context = TRUE;
  return extras->context;
}

static void
schedule (WeftTask *self)
{
  WeftTaskPrivate *priv = weft_task_get_instance_private (self);
  WeftInspectRecord *record = inspect_record (priv);

  priv->state = TASK_SCHEDULED;
  if (G_UNLIKELY (record != NULL))
    weft_inspect_task_scheduled (record);
  weft_scheduler_push (task_scheduler (self), &priv->runnable.runnable);
}

/* Ends the task and takes it off the registry. The registry's reference
 * is dropped by task_step() once the step is over, so a step never runs on
 * a finalized task and no step needs a reference of its own.
 */
static void
task_complete (WeftTask *self,
               GValue   *value,
               GError   *error)
{
  WeftTaskPrivate *priv = weft_task_get_instance_private (self);

  /* T3: returning while a cancellation is pending ends the task cancelled. */
  if (error == NULL && priv->must_cancel)
    {
      if (value != NULL && G_IS_VALUE (value))
        g_value_unset (value);
      value = NULL;
      error = weft_cancelled_error_new (peek_cancel_message (priv));
    }
  priv->must_cancel = FALSE;
  priv->state = TASK_DONE;
  priv->request = REQUEST_RETURN;

  {
    WeftInspectRecord *record = inspect_record (priv);

    if (G_UNLIKELY (record != NULL))
      weft_inspect_task_completed (record, value, error, priv->num_cancels_requested);
  }

  /* A done task waits no more: its wait futures let go of the primitives
   * they hold now, as asyncio's finished coroutine does, not when the
   * task is finalized.
   */
  if (G_UNLIKELY (peek_extras (priv) != NULL))
    for (guint i = 0; i < WEFT_TASK_N_WAIT_SLOTS; i++)
      g_clear_object (&priv->extras->wait_slots[i]);

  weft_future_complete (WEFT_FUTURE (self), value, error);
  weft_scheduler_unregister_task (task_scheduler (self), &priv->link);
}

static void
resume_with_error (WeftTask *self,
                   GError   *error)
{
  TaskExtras *extras = task_extras (weft_task_get_instance_private (self));

  g_clear_error (&extras->resume_error);
  extras->resume_error = error;
  schedule (self);
}

static void
wait_for_awaited (WeftTask *self)
{
  WeftTaskPrivate *priv = weft_task_get_instance_private (self);
  WeftFuture *future = priv->awaited;

  if (future == WEFT_FUTURE (self))
    {
      g_clear_object (&priv->awaited);
      resume_with_error (self, g_error_new (WEFT_ERROR, WEFT_ERROR_AWAIT_SELF,
                                            "Task cannot await on itself: %s",
                                            weft_task_get_name (self)));
      return;
    }

  if (weft_future_get_scheduler (future) != task_scheduler (self))
    {
      g_clear_object (&priv->awaited);
      resume_with_error (self, g_error_new (WEFT_ERROR, WEFT_ERROR_WRONG_CONTEXT,
                                            "Task %s got a future attached to a different GMainContext",
                                            weft_task_get_name (self)));
      return;
    }

  if (!weft_future_add_waiter (future, &priv->runnable.runnable))
    {
      /* Completed from another thread since the step looked. */
      schedule (self);
      return;
    }

  priv->state = TASK_WAITING;

  /* T8c: a cancellation requested while running lands on what it awaits. */
  if (priv->must_cancel && weft_future_cancel (future, peek_cancel_message (priv)))
    priv->must_cancel = FALSE;
}

static void
start_sleeping (WeftTask *self)
{
  WeftTaskPrivate *priv = weft_task_get_instance_private (self);

  if (priv->must_cancel)
    {
      priv->must_cancel = FALSE;
      resume_with_error (self, weft_cancelled_error_new (peek_cancel_message (priv)));
      return;
    }

  priv->state = TASK_SLEEPING;
  weft_scheduler_add_timer (task_scheduler (self), &priv->runnable, priv->runnable.timer.deadline);
}

static void
finish_step (WeftTask *self)
{
  WeftTaskPrivate *priv = weft_task_get_instance_private (self);

  switch ((StepRequest) priv->request)
    {
    case REQUEST_RETURN:
      break;

    case REQUEST_NONE:
      task_complete (self, NULL,
                     g_error_new (WEFT_ERROR, WEFT_ERROR_BAD_YIELD,
                                  "Task %s got bad yield: its step neither returned, awaited, yielded nor slept",
                                  weft_task_get_name (self)));
      break;

    case REQUEST_YIELD:
      schedule (self);
      break;

    case REQUEST_SLEEP:
      start_sleeping (self);
      break;

    case REQUEST_AWAIT:
      wait_for_awaited (self);
      break;

    default:
      g_assert_not_reached ();
    }
}

/* What the resumed await raises: the awaited future's error, replaced by
 * the cancellation if one is pending (T8b) unless it is one already (T13).
 */
static GError *
take_resume_error (WeftTask   *self,
                   WeftFuture *awaited)
{
  WeftTaskPrivate *priv = weft_task_get_instance_private (self);
  GError *error = NULL;

  if (G_UNLIKELY (peek_extras (priv) != NULL))
    error = g_steal_pointer (&priv->extras->resume_error);

  if (error == NULL && awaited != NULL)
    error = weft_future_take_outcome_error (awaited);

  if (priv->must_cancel)
    {
      priv->must_cancel = FALSE;
      if (error == NULL && awaited != NULL)
        weft_future_drop_value (awaited);
      if (!weft_error_is_cancelled (error))
        {
          g_clear_error (&error);
          error = weft_cancelled_error_new (peek_cancel_message (priv));
        }
    }

  if (priv->must_cancel_after_resume)
    {
      priv->must_cancel_after_resume = FALSE;
      priv->must_cancel = TRUE;
      if (peek_extras (priv) != NULL)
        g_clear_pointer (&priv->extras->cancel_message, g_free);
    }

  return error;
}

static void
run_step (WeftTask     *self,
          WeftFuture   *awaited,
          const GError *error)
{
  WeftTaskPrivate *priv = weft_task_get_instance_private (self);
  WeftScheduler *scheduler = task_scheduler (self);
  WeftContext stand_in;
  WeftContext *context;
  WeftContextSwitch saved_context;
  gpointer previous;

  priv->state = TASK_RUNNING;
  priv->request = REQUEST_NONE;

  if (G_LIKELY (!priv->has_context))
    {
      weft_context_init_embedded (&stand_in, self, priv->context_map);
      priv->stand_in = &stand_in;
      priv->in_stand_in = TRUE;
      context = &stand_in;
    }
  else
    context = priv->extras->context;

  /* CV1: every step runs in the task's own context. */
  previous = weft_scheduler_swap_current_task (scheduler, self);
  weft_context_switch_in (context, &saved_context);
  WEFT_TASK_GET_CLASS (self)->step (self, awaited, error);
  weft_context_switch_out (context, &saved_context);
  weft_scheduler_swap_current_task (scheduler, previous);

  if (context == &stand_in)
    {
      priv->in_stand_in = FALSE;
      if (stand_in.forward != NULL)
        stand_in.forward->entered = FALSE;  /* made during the step */
      else if (G_UNLIKELY (stand_in.serial != 0))
        make_own_context (self, priv, stand_in.map, stand_in.serial);  /* a token names it */
      else
        priv->context_map = stand_in.map;
    }
}

static WeftContextMap *
peek_context_map (WeftTaskPrivate *priv)
{
  return priv->has_context ? priv->extras->context->map : priv->context_map;
}

/* What the task does between steps, for its inspection record; running
 * or done, it does nothing more to tell.
 */
static void
inspect_activity (WeftTaskPrivate     *priv,
                  WeftInspectActivity *activity)
{
  activity->state = WEFT_INSPECT_DONE;
  activity->awaited = NULL;
  activity->site = priv->site;
  activity->sleep_deadline_us = priv->runnable.timer.deadline;
  activity->map = NULL;
  activity->cancelling = priv->num_cancels_requested;

  switch ((TaskState) priv->state)
    {
    case TASK_SCHEDULED:
      activity->state = WEFT_INSPECT_SCHEDULED;
      break;
    case TASK_WAITING:
      activity->state = WEFT_INSPECT_SUSPENDED;
      activity->awaited = priv->awaited;
      break;
    case TASK_SLEEPING:
      activity->state = WEFT_INSPECT_SUSPENDED;
      break;
    case TASK_RUNNING:
    case TASK_DONE:
    default:
      return;
    }
  activity->map = peek_context_map (priv);
}

static void
inspect_step_end (WeftTaskPrivate       *priv,
                  WeftInspectRecord     *record,
                  const WeftInspectStep *step)
{
  WeftInspectActivity activity;

  inspect_activity (priv, &activity);
  weft_inspect_task_step_end (record, step, &activity);
}

static void
task_step (WeftRunnable *runnable)
{
  WeftTaskPrivate *priv = (WeftTaskPrivate *) runnable;
  WeftTask *self = task_from_private (priv);
  WeftFuture *awaited = g_steal_pointer (&priv->awaited);
  GError *error = take_resume_error (self, awaited);
  WeftInspectRecord *record = inspect_record (priv);
  WeftInspectStep inspect_step;

  /* T8d: an error thrown before the first step ends the task unrun. */
  if (!priv->started && error != NULL)
    task_complete (self, NULL, g_steal_pointer (&error));
  else
    {
      if (G_UNLIKELY (record != NULL))
        weft_inspect_task_step_begin (record, &inspect_step, error, priv->num_cancels_requested);
      run_step (self, awaited, error);

      /* F9: awaiting a future that is already done does not suspend. */
      while (priv->request == REQUEST_AWAIT &&
             weft_future_peek_state (priv->awaited) != WEFT_FUTURE_STATE_PENDING)
        {
          g_clear_object (&awaited);
          g_clear_error (&error);
          awaited = g_steal_pointer (&priv->awaited);
          error = weft_future_take_outcome_error (awaited);
          run_step (self, awaited, error);
        }

      finish_step (self);
      if (G_UNLIKELY (record != NULL))
        inspect_step_end (priv, record, &inspect_step);
    }

  /* Its record is the registry's from now on. */
  if (G_UNLIKELY (record != NULL) && priv->state == TASK_DONE)
    {
      set_record (priv, NULL);
      weft_inspect_task_retired (record);
    }

  g_clear_object (&awaited);
  g_clear_error (&error);
  priv->started = TRUE;  /* read only at the top of the next step */

  if (priv->state == TASK_DONE)
    g_object_unref (self);
}

/* A task's state belongs to the thread that runs its context. */
static gboolean
check_own_thread (WeftTask   *self,
                  const char *what)
{
  if (G_LIKELY (!weft_scheduler_is_foreign_thread (task_scheduler (self))))
    return TRUE;

  g_critical ("%s: task %s belongs to the thread that runs its GMainContext; "
              "use weft_future_cancel() on a future it awaits, or a future of that "
              "context, to reach it from another thread",
              what, weft_task_get_name (self));
  return FALSE;
}

static gboolean
weft_task_real_cancel (WeftFuture *future,
                       const char *message)
{
  WeftTask *self = WEFT_TASK (future);
  WeftTaskPrivate *priv = weft_task_get_instance_private (self);
  WeftInspectRecord *record;
  gboolean delivered = FALSE;

  if (!check_own_thread (self, "weft_task_cancel"))
    return FALSE;

  if (priv->state == TASK_DONE)
    return FALSE;

  priv->num_cancels_requested++;
  record = inspect_record (priv);
  if (G_UNLIKELY (record != NULL))
    weft_inspect_task_cancel_requested (record, message, priv->num_cancels_requested);

  /* T6 step 4: cancel what the task waits on; the error comes out of it. */
  if (priv->state == TASK_WAITING)
    delivered = weft_future_cancel (priv->awaited, message);
  else if (priv->state == TASK_SLEEPING && weft_timer_is_armed (&priv->runnable.timer))
    {
      weft_scheduler_remove_timer (task_scheduler (self), &priv->runnable);
      resume_with_error (self, weft_cancelled_error_new (message));
      delivered = TRUE;
    }

  if (!delivered)
    {
      priv->must_cancel = TRUE;
      if (message != NULL || peek_extras (priv) != NULL)
        {
          TaskExtras *extras = task_extras (priv);

          g_free (extras->cancel_message);
          extras->cancel_message = g_strdup (message);
        }
    }

  if (peek_extras (priv) != NULL && priv->extras->cancellable != NULL)
    g_cancellable_cancel (priv->extras->cancellable);

  return TRUE;
}

static void
weft_task_real_step (WeftTask     *self,
                     WeftFuture   *awaited,
                     const GError *error)
{
  WeftTaskPrivate *priv = weft_task_get_instance_private (self);

  if (priv->func != NULL)
    priv->func (self, awaited, error, priv->func_data);
}

/* E2: asyncio's "the loop is running": this thread is inside a pass of
 * the scheduler, or dispatches a source (a GTK signal handler, say) while
 * it owns the context.
 */
static gboolean
is_dispatching (WeftScheduler *scheduler)
{
  return weft_scheduler_get_running () == scheduler ||
         (g_main_depth () > 0 && g_main_context_is_owner (weft_scheduler_get_context (scheduler)));
}

/* E2: eager only where asked, and only while the context is dispatched.
 * A context already entered (the creator's own, shared) cannot be entered
 * again for the eager step: that task starts lazily.
 */
static gboolean
starts_eagerly (WeftTask      *self,
                WeftScheduler *scheduler,
                WeftTaskFlags  flags)
{
  WeftTaskPrivate *priv = weft_task_get_instance_private (self);

  if (flags & WEFT_TASK_FLAGS_LAZY_START)
    return FALSE;
  if (!(flags & WEFT_TASK_FLAGS_EAGER_START) && !weft_scheduler_get_eager_start (scheduler))
    return FALSE;
  if (priv->has_context && priv->extras->context->entered)
    return FALSE;
  return is_dispatching (scheduler);
}

static void
inspect_start (WeftTask        *self,
               WeftTaskPrivate *priv,
               WeftScheduler   *scheduler)
{
  WeftInspectKind kind = WEFT_INSPECT_KIND_BINDING;
  gpointer function = NULL;
  WeftTask *parent = weft_task_get_current ();

  if (WEFT_IS_FIBER (self))
    {
      kind = WEFT_INSPECT_KIND_FIBER;
      function = weft_fiber_inspect_function (self);
    }
  else if (WEFT_TASK_GET_CLASS (self)->step == weft_task_real_step)
    {
      kind = WEFT_INSPECT_KIND_STACKLESS;
      function = (gpointer) priv->func;
    }
  set_record (priv, weft_inspect_task_started (self, priv->id, weft_task_peek_name (self),
                                               parent != NULL ? weft_task_get_id (parent) : 0,
                                               weft_scheduler_get_inspect_loop (scheduler),
                                               kind, function));
  priv->inspected = TRUE;
}

/*
 * weft_task_start:
 * @context: (nullable): the context to share, or %NULL for a copy of the
 *   current one
 *
 * Registers the task and runs or queues its first step.
 */
void
weft_task_start (WeftTask      *self,
                 WeftContext   *context,
                 WeftTaskFlags  flags)
{
  WeftTaskPrivate *priv = weft_task_get_instance_private (self);
  WeftScheduler *scheduler = task_scheduler (self);

  /* C2, CV1: a given context is shared; otherwise a copy, O(1). */
  if (context != NULL)
    {
      task_extras (priv)->context = weft_context_ref (context);
      priv->has_context = TRUE;
    }
  else if (G_UNLIKELY (priv->has_context))  /* asked for before the start */
    weft_context_replace_map (priv->extras->context, weft_context_capture_map ());
  else
    priv->context_map = weft_context_capture_map ();

  /* T1: registered (I2: for the eager step too), with the registry's
   * reference, which task_step() drops once the task is done.
   */
  weft_scheduler_register_task (scheduler, &priv->link);
  g_object_ref (self);

  if (WEFT_INSPECTING ())
    inspect_start (self, priv, scheduler);

  /* E3, E4: the eager step is an ordinary step, run now. */
  if (starts_eagerly (self, scheduler, flags))
    task_step (&priv->runnable.runnable);
  else
    schedule (self);
}

/*
 * weft_task_construct:
 *
 * Constructs a task of @task_type without starting it, so that its
 * creator can fill it in first and then call weft_task_start().
 */
WeftTask *
weft_task_construct (GType task_type)
{
  /* The class first: a class_init that made a task would take the flag.
   * Classes of static types live on, so the reference is kept; looking
   * it up costs more than a spawn can afford, hence the one-entry cache.
   */
  if (G_UNLIKELY (task_type != class_made))
    {
      if (g_type_class_peek (task_type) == NULL)
        g_type_class_ref (task_type);
      class_made = task_type;
    }

  defer_next_start = TRUE;
  return g_object_new (task_type, NULL);
}

static void
weft_task_constructed (GObject *object)
{
  WeftTask *self = WEFT_TASK (object);
  WeftTaskPrivate *priv = weft_task_get_instance_private (self);

  G_OBJECT_CLASS (weft_task_parent_class)->constructed (object);

  /* Built with g_object_new(): nothing is left to fill in, but the
   * subclass's own construction may not be over, so never eager.
   */
  if (!priv->start_deferred)
    weft_task_start (self, NULL, WEFT_TASK_FLAGS_LAZY_START);
}

static void
task_extras_free (TaskExtras *extras)
{
  g_clear_error (&extras->resume_error);
  g_free (extras->name);
  g_free (extras->cancel_message);
  g_clear_object (&extras->cancellable);
  if (extras->context == &extras->own_context)
    weft_context_clear_embedded (&extras->own_context);
  else
    g_clear_pointer (&extras->context, weft_context_unref);
  for (guint i = 0; i < WEFT_TASK_N_WAIT_SLOTS; i++)
    g_clear_object (&extras->wait_slots[i]);
  g_free (extras);
}

static void
weft_task_finalize (GObject *object)
{
  WeftTask *self = WEFT_TASK (object);
  WeftTaskPrivate *priv = weft_task_get_instance_private (self);

  if (G_UNLIKELY (priv->inspected))
    {
      weft_inspect_task_finalized (peek_record (priv), priv->id,
                                   weft_future_peek_unread_error (WEFT_FUTURE (self)));
      set_record (priv, NULL);
    }
  if (peek_extras (priv) != NULL && priv->extras->func_notify != NULL)
    priv->extras->func_notify (priv->func_data);
  g_clear_object (&priv->awaited);
  if (!priv->has_context)
    g_clear_pointer (&priv->context_map, weft_context_map_unref);
  g_clear_pointer (&priv->extras, task_extras_free);

  G_OBJECT_CLASS (weft_task_parent_class)->finalize (object);
}

static void
weft_task_class_init (WeftTaskClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  WeftFutureClass *future_class = WEFT_FUTURE_CLASS (klass);

  object_class->constructed = weft_task_constructed;
  object_class->finalize = weft_task_finalize;
  future_class->cancel = weft_task_real_cancel;
  klass->step = weft_task_real_step;
}

static void
weft_task_init (WeftTask *self)
{
  WeftTaskPrivate *priv = weft_task_get_instance_private (self);

  priv->runnable.runnable.run = task_step;
  priv->id = __atomic_add_fetch (&last_task_id, 1, __ATOMIC_RELAXED);

  /* Taken here, before a subclass's init could construct another task. */
  priv->start_deferred = defer_next_start;
  defer_next_start = FALSE;
  weft_future_forbid_setters (WEFT_FUTURE (self));
}

/**
 * weft_task_new:
 * @name: (nullable): the task's name, or %NULL for "Task-N"
 * @step: (scope notified) (closure user_data) (destroy notify): the step
 *   function of the stackless coroutine
 * @user_data: data for @step
 * @notify: (nullable): frees @user_data when the task is finalized
 *
 * Creates a stackless task and queues its first step on the thread-default
 * #GMainContext: asyncio's create_task(). @step is called once per step;
 * see #WeftTaskClass.step. The task runs in a copy of the current
 * #WeftContext, and starts eagerly if the #GMainContext's default says so;
 * see weft_task_new_full().
 *
 * Returns: (transfer full): the new task
 */
WeftTask *
weft_task_new (const char     *name,
               WeftStepFunc    step,
               gpointer        user_data,
               GDestroyNotify  notify)
{
  WEFT_INSPECT_MARK_CREATOR ();
  return weft_task_new_full (name, NULL, WEFT_TASK_FLAGS_NONE, step, user_data, notify);
}

/* Known flags, and not both ways of starting at once. */
static gboolean
check_flags (WeftTaskFlags flags)
{
  const WeftTaskFlags both = WEFT_TASK_FLAGS_EAGER_START | WEFT_TASK_FLAGS_LAZY_START;

  return (flags & ~both) == 0 && (flags & both) != both;
}

/**
 * weft_task_new_full:
 * @name: (nullable): the task's name, or %NULL for "Task-N"
 * @context: (nullable): the #WeftContext to run in, shared; %NULL for a
 *   copy of the current one
 * @flags: how the task starts
 * @step: (scope notified) (closure user_data) (destroy notify): the step
 *   function of the stackless coroutine
 * @user_data: data for @step
 * @notify: (nullable): frees @user_data when the task is finalized
 *
 * Creates a stackless task: asyncio's create_task(coro, name=, context=,
 * eager_start=).
 *
 * The task runs every step in @context, which it shares: what it sets
 * there can be read from @context afterwards. Without one, it runs in a
 * copy of the current context, made in O(1).
 *
 * With %WEFT_TASK_FLAGS_EAGER_START, or with %WEFT_TASK_FLAGS_NONE while
 * the #GMainContext's default is eager, and if this thread is dispatching
 * that context (in a task step, a done callback, or any source's callback,
 * such as a GTK signal handler, while it owns the context), the first step
 * runs before this returns, as the current task: if it returns, the task comes back done and was never
 * queued. Otherwise, and with %WEFT_TASK_FLAGS_LAZY_START, the first step
 * is queued.
 *
 * Returns: (transfer full): the new task
 */
WeftTask *
weft_task_new_full (const char     *name,
                    WeftContext    *context,
                    WeftTaskFlags   flags,
                    WeftStepFunc    step,
                    gpointer        user_data,
                    GDestroyNotify  notify)
{
  WeftTask *self;
  WeftTaskPrivate *priv;

  g_return_val_if_fail (step != NULL, NULL);
  WEFT_INSPECT_MARK_CREATOR ();
  g_return_val_if_fail (check_flags (flags), NULL);

  self = weft_task_construct (WEFT_TYPE_TASK);
  priv = weft_task_get_instance_private (self);
  priv->func = step;
  priv->func_data = user_data;
  if (notify != NULL)
    task_extras (priv)->func_notify = notify;
  if (name != NULL)
    task_extras (priv)->name = g_strdup (name);
  weft_task_start (self, context, flags);

  return self;
}

/**
 * weft_task_new_for_type:
 * @task_type: a #WeftTask subclass that implements #WeftTaskClass.step
 * @name: (nullable): the task's name, or %NULL for "Task-N"
 * @context: (nullable): the #WeftContext to run in, shared; %NULL for a
 *   copy of the current one
 * @flags: how the task starts
 *
 * Creates a task of a subclass, as weft_task_new_full() creates a
 * stackless one: the counterpart of asyncio's
 * create_eager_task_factory(custom_task_constructor). A subclass created
 * with g_object_new() always starts lazily, in a copy of the current
 * context: its construction may not be over when #GObject.constructed
 * runs.
 *
 * Returns: (transfer full): the new task
 */
WeftTask *
weft_task_new_for_type (GType          task_type,
                        const char    *name,
                        WeftContext   *context,
                        WeftTaskFlags  flags)
{
  WeftTask *self;

  g_return_val_if_fail (g_type_is_a (task_type, WEFT_TYPE_TASK), NULL);
  WEFT_INSPECT_MARK_CREATOR ();
  g_return_val_if_fail (!G_TYPE_IS_ABSTRACT (task_type), NULL);
  g_return_val_if_fail (check_flags (flags), NULL);

  self = weft_task_construct (task_type);
  if (name != NULL)
    weft_task_set_name (self, name);
  weft_task_start (self, context, flags);

  return self;
}

/**
 * weft_task_set_eager_start_default:
 * @context: (nullable): a #GMainContext, or %NULL for the global default
 *   one
 * @eager_start: whether tasks start eagerly by default
 *
 * Makes tasks created on @context with %WEFT_TASK_FLAGS_NONE start
 * eagerly, or lazily again: asyncio's
 * `loop.set_task_factory(asyncio.eager_task_factory)` and
 * `loop.set_task_factory(None)`. The per-task flags
 * %WEFT_TASK_FLAGS_EAGER_START and %WEFT_TASK_FLAGS_LAZY_START override
 * it. Call it from the thread that runs @context.
 */
void
weft_task_set_eager_start_default (GMainContext *context,
                                   gboolean      eager_start)
{
  weft_scheduler_set_eager_start (weft_scheduler_get_for_context (context), eager_start);
}

/**
 * weft_task_get_eager_start_default:
 * @context: (nullable): a #GMainContext, or %NULL for the global default
 *   one
 *
 * Tells whether tasks created on @context start eagerly by default; see
 * weft_task_set_eager_start_default().
 *
 * Returns: %TRUE if they do
 */
gboolean
weft_task_get_eager_start_default (GMainContext *context)
{
  return weft_scheduler_get_eager_start (weft_scheduler_get_for_context (context));
}

/**
 * weft_task_get_context:
 * @self: a task
 *
 * Gets the context the task's steps run in: asyncio's Task.get_context().
 * Unless the task was given one, the context lives inside the task: a
 * reference on it is a reference on the task.
 *
 * Returns: (transfer none): the task's #WeftContext
 */
WeftContext *
weft_task_get_context (WeftTask *self)
{
  WeftTaskPrivate *priv;

  g_return_val_if_fail (WEFT_IS_TASK (self), NULL);

  priv = weft_task_get_instance_private (self);
  if (priv->has_context)
    return priv->extras->context;

  /* Made now; during a step, its stand-in forwards to it from here on. */
  if (priv->in_stand_in)
    {
      WeftContext *stand_in = priv->stand_in;
      WeftContext *context = make_own_context (self, priv, g_steal_pointer (&stand_in->map),
                                               stand_in->serial);

      context->entered = stand_in->entered;
      stand_in->forward = context;
      return context;
    }
  return make_own_context (self, priv, g_steal_pointer (&priv->context_map), 0);
}

gboolean
weft_task_is_stepping (WeftTask *self)
{
  WeftTaskPrivate *priv = weft_task_get_instance_private (self);

  return priv->state == TASK_RUNNING;
}

/* Whether the current context is the one the running step entered, not
 * one entered since with weft_context_run(): a fiber suspending there
 * would come back in a later step's context, with the run's saved
 * context pointing at a stand-in that is gone.
 */
gboolean
weft_task_is_in_step_context (WeftTask *self)
{
  WeftTaskPrivate *priv = weft_task_get_instance_private (self);

  return weft_context_current == (priv->in_stand_in ? priv->stand_in : priv->extras->context);
}

/* The name as set, NULL for "Task-N": formatting one on every step would
 * cost more than the step.
 */
const char *
weft_task_peek_name (WeftTask *self)
{
  WeftTaskPrivate *priv = weft_task_get_instance_private (self);

  TaskExtras *extras = peek_extras (priv);

  return extras != NULL ? extras->name : NULL;
}

/* G10: a TaskGroup that raises while its parent is being cancelled calls
 * uncancel() then cancel() on the parent, which is running its __aexit__:
 * the count is unchanged and the next await raises. A Weft parent waits on
 * the group's future instead, so the request must skip the outcome of that
 * future and wait for the await after it.
 */
void
weft_task_recancel_after_resume (WeftTask *self)
{
  WeftTaskPrivate *priv = weft_task_get_instance_private (self);

  priv->must_cancel_after_resume = TRUE;
}

WeftFuture **
weft_task_get_wait_slots (WeftTask *self)
{
  WeftTaskPrivate *priv = weft_task_get_instance_private (self);

  return task_extras (priv)->wait_slots;
}

static gboolean
check_can_request (WeftTask   *self,
                   const char *what)
{
  WeftTaskPrivate *priv = weft_task_get_instance_private (self);

  if (priv->state != TASK_RUNNING)
    {
      g_critical ("%s: task %s is not running its step", what, weft_task_get_name (self));
      return FALSE;
    }
  if (priv->request != REQUEST_NONE)
    {
      g_critical ("%s: task %s already ended this step", what, weft_task_get_name (self));
      return FALSE;
    }
  return TRUE;
}

/* Takes @future. */
static void
await_future (WeftTask            *self,
              WeftFuture          *future,
              const WeftAwaitSite *site)
{
  WeftTaskPrivate *priv = weft_task_get_instance_private (self);

  if (!check_can_request (self, "weft_task_await"))
    {
      g_object_unref (future);
      return;
    }

  priv->request = REQUEST_AWAIT;
  priv->awaited = future;
  priv->site = site;
}

/**
 * weft_task_await_at:
 * @self: the running task
 * @future: the future to wait for
 * @site: (nullable): where the await is, for the task's stack
 *
 * Ends the step: the task resumes when @future is done, at once if it
 * already is. The next step receives @future and its error, if any.
 * weft_task_await() captures @site itself.
 */
void
weft_task_await_at (WeftTask            *self,
                    WeftFuture          *future,
                    const WeftAwaitSite *site)
{
  g_return_if_fail (WEFT_IS_TASK (self));
  g_return_if_fail (WEFT_IS_FUTURE (future));

  await_future (self, g_object_ref (future), site);
}

/**
 * weft_task_await_take_at:
 * @self: the running task
 * @future: (transfer full): the future to wait for
 * @site: (nullable): where the await is, for the task's stack
 *
 * Like weft_task_await_at(), but takes the caller's reference on @future:
 * awaiting a future made for the occasion, such as weft_event_wait()'s or
 * weft_sleep_future_new()'s, is then one call,
 * `weft_task_await_take (task, weft_event_wait (event))`, and costs no
 * reference count round trip. weft_task_await_take() captures @site
 * itself.
 */
void
weft_task_await_take_at (WeftTask            *self,
                         WeftFuture          *future,
                         const WeftAwaitSite *site)
{
  g_return_if_fail (WEFT_IS_FUTURE (future));

  if (G_UNLIKELY (!WEFT_IS_TASK (self)))
    {
      g_critical ("weft_task_await_take: %p is not a WeftTask", self);
      g_object_unref (future);
      return;
    }

  await_future (self, future, site);
}

/**
 * weft_task_await:
 * @self: the running task
 * @future: the future to wait for
 *
 * Ends the step until @future is done; see weft_task_await_at().
 */
void
(weft_task_await) (WeftTask   *self,
                   WeftFuture *future)
{
  weft_task_await_at (self, future, NULL);
}

/**
 * weft_task_await_take:
 * @self: the running task
 * @future: (transfer full): the future to wait for
 *
 * Ends the step until @future is done, taking the caller's reference; see
 * weft_task_await_take_at().
 */
void
(weft_task_await_take) (WeftTask   *self,
                        WeftFuture *future)
{
  weft_task_await_take_at (self, future, NULL);
}

/**
 * weft_task_yield:
 * @self: the running task
 *
 * Ends the step and queues the next one behind everything already ready:
 * asyncio's bare yield, `await sleep(0)`.
 */
void
weft_task_yield (WeftTask *self)
{
  WeftTaskPrivate *priv;

  g_return_if_fail (WEFT_IS_TASK (self));

  if (!check_can_request (self, "weft_task_yield"))
    return;

  priv = weft_task_get_instance_private (self);
  priv->request = REQUEST_YIELD;
}

/**
 * weft_task_sleep_at:
 * @self: the running task
 * @delay: seconds to sleep; 0 or less is one yield
 * @site: (nullable): where the sleep is, for the task's stack
 *
 * Ends the step for @delay seconds. Sleeping allocates nothing: the task
 * itself sits on its context's timer heap. A NaN @delay raises
 * %WEFT_ERROR_INVALID_ARGUMENT at the next step.
 */
void
weft_task_sleep_at (WeftTask            *self,
                    double               delay,
                    const WeftAwaitSite *site)
{
  WeftTaskPrivate *priv;

  g_return_if_fail (WEFT_IS_TASK (self));

  if (!check_can_request (self, "weft_task_sleep"))
    return;

  priv = weft_task_get_instance_private (self);
  priv->site = site;

  if (isnan (delay))
    {
      TaskExtras *extras = task_extras (priv);

      priv->request = REQUEST_YIELD;
      g_clear_error (&extras->resume_error);
      extras->resume_error = g_error_new_literal (WEFT_ERROR, WEFT_ERROR_INVALID_ARGUMENT,
                                                "Invalid delay: NaN (not a number)");
      return;
    }
  if (delay <= 0)
    {
      priv->request = REQUEST_YIELD;
      return;
    }

  priv->request = REQUEST_SLEEP;
  priv->runnable.timer.deadline = g_get_monotonic_time () + (gint64) MIN (delay * G_USEC_PER_SEC, (double) G_MAXINT64 / 2);
}

/**
 * weft_task_sleep:
 * @self: the running task
 * @delay: seconds to sleep
 *
 * Ends the step for @delay seconds; see weft_task_sleep_at().
 */
void
(weft_task_sleep) (WeftTask *self,
                   double    delay)
{
  weft_task_sleep_at (self, delay, NULL);
}

static void
return_value (WeftTask   *self,
              GValue     *value,
              GError     *error,
              const char *what)
{
  if (!check_can_request (self, what))
    {
      if (value != NULL && G_IS_VALUE (value))
        g_value_unset (value);
      g_clear_error (&error);
      return;
    }
  task_complete (self, value, error);
}

/**
 * weft_task_return_value:
 * @self: the running task
 * @value: the value; copied
 *
 * Finishes the task with @value.
 */
void
weft_task_return_value (WeftTask     *self,
                        const GValue *value)
{
  GValue copy = G_VALUE_INIT;

  g_return_if_fail (WEFT_IS_TASK (self));
  g_return_if_fail (G_IS_VALUE (value));

  g_value_init (&copy, G_VALUE_TYPE (value));
  g_value_copy (value, &copy);
  return_value (self, &copy, NULL, "weft_task_return_value");
}

/**
 * weft_task_return_void:
 * @self: the running task
 *
 * Finishes the task with no value.
 */
void
weft_task_return_void (WeftTask *self)
{
  g_return_if_fail (WEFT_IS_TASK (self));

  return_value (self, NULL, NULL, "weft_task_return_void");
}

#define DEFINE_RETURN(name, ctype, gtype, setter)                     \
  void                                                                \
  weft_task_return_##name (WeftTask *self,                            \
                           ctype     value)                           \
  {                                                                   \
    GValue v = G_VALUE_INIT;                                          \
                                                                      \
    g_return_if_fail (WEFT_IS_TASK (self));                           \
    g_value_init (&v, gtype);                                         \
    setter (&v, value);                                               \
    return_value (self, &v, NULL, "weft_task_return_" #name);         \
  }

/**
 * weft_task_return_boolean:
 * @self: the running task
 * @value: the value
 *
 * Finishes the task with a boolean.
 */
DEFINE_RETURN (boolean, gboolean, G_TYPE_BOOLEAN, g_value_set_boolean)

/**
 * weft_task_return_int64:
 * @self: the running task
 * @value: the value
 *
 * Finishes the task with a 64-bit integer.
 */
DEFINE_RETURN (int64, gint64, G_TYPE_INT64, g_value_set_int64)

/**
 * weft_task_return_double:
 * @self: the running task
 * @value: the value
 *
 * Finishes the task with a double.
 */
DEFINE_RETURN (double, double, G_TYPE_DOUBLE, g_value_set_double)

/**
 * weft_task_return_string:
 * @self: the running task
 * @value: (nullable): the string; copied
 *
 * Finishes the task with a string.
 */
DEFINE_RETURN (string, const char *, G_TYPE_STRING, g_value_set_string)

/**
 * weft_task_return_object:
 * @self: the running task
 * @object: (type GObject) (nullable): the object; a reference is taken
 *
 * Finishes the task with an object.
 */
void
weft_task_return_object (WeftTask *self,
                         gpointer  object)
{
  GValue v = G_VALUE_INIT;

  g_return_if_fail (WEFT_IS_TASK (self));
  g_return_if_fail (object == NULL || G_IS_OBJECT (object));

  g_value_init (&v, object != NULL ? G_OBJECT_TYPE (object) : G_TYPE_OBJECT);
  g_value_set_object (&v, object);
  return_value (self, &v, NULL, "weft_task_return_object");
}

/**
 * weft_task_return_boxed:
 * @self: the running task
 * @boxed_type: a boxed #GType
 * @boxed: (nullable): the value; copied
 *
 * Finishes the task with a boxed value.
 */
void
weft_task_return_boxed (WeftTask      *self,
                        GType          boxed_type,
                        gconstpointer  boxed)
{
  GValue v = G_VALUE_INIT;

  g_return_if_fail (WEFT_IS_TASK (self));
  g_return_if_fail (G_TYPE_IS_BOXED (boxed_type));

  g_value_init (&v, boxed_type);
  g_value_set_boxed (&v, boxed);
  return_value (self, &v, NULL, "weft_task_return_boxed");
}

/**
 * weft_task_return_pointer: (skip)
 * @self: the running task
 * @pointer: (nullable): the pointer
 * @destroy: (nullable): frees @pointer with the task
 *
 * Finishes the task with a pointer it owns.
 */
void
weft_task_return_pointer (WeftTask       *self,
                          gpointer        pointer,
                          GDestroyNotify  destroy)
{
  GValue v = G_VALUE_INIT;

  g_return_if_fail (WEFT_IS_TASK (self));

  weft_value_init_pointer (&v, pointer, destroy);
  return_value (self, &v, NULL, "weft_task_return_pointer");
}

/**
 * weft_task_return_error:
 * @self: the running task
 * @error: (transfer full): the error
 *
 * Finishes the task with @error. A %G_IO_ERROR_CANCELLED error ends it
 * cancelled, whether or not weft_task_cancel() was called, as a coroutine
 * that lets CancelledError escape does.
 */
void
weft_task_return_error (WeftTask *self,
                        GError   *error)
{
  g_return_if_fail (WEFT_IS_TASK (self));
  g_return_if_fail (error != NULL);

  return_value (self, NULL, error, "weft_task_return_error");
}

/**
 * weft_task_cancel:
 * @self: a task
 * @message: (nullable): the cancellation message
 *
 * Requests cancellation; see weft_future_cancel(). The request is counted
 * (weft_task_get_cancelling()) and the %G_IO_ERROR_CANCELLED error is
 * raised at the task's current or next await: the future it waits on is
 * cancelled now. The task may handle the error and go on.
 *
 * Returns: %TRUE unless the task is done
 */
gboolean
weft_task_cancel (WeftTask   *self,
                  const char *message)
{
  g_return_val_if_fail (WEFT_IS_TASK (self), FALSE);

  return weft_future_cancel (WEFT_FUTURE (self), message);
}

/**
 * weft_task_get_cancelling:
 * @self: a task
 *
 * Counts the task's cancellation requests: asyncio's cancelling().
 *
 * Returns: the number of cancellation requests not yet withdrawn by
 *   weft_task_uncancel()
 */
guint
weft_task_get_cancelling (WeftTask *self)
{
  WeftTaskPrivate *priv;

  g_return_val_if_fail (WEFT_IS_TASK (self), 0);

  priv = weft_task_get_instance_private (self);
  return priv->num_cancels_requested;
}

/**
 * weft_task_uncancel:
 * @self: a task
 *
 * Withdraws one cancellation request. When none is left, a cancellation
 * not yet delivered is dropped and, if the task is still running, its
 * #GCancellable is reset.
 *
 * Returns: the number of requests left
 */
guint
weft_task_uncancel (WeftTask *self)
{
  WeftTaskPrivate *priv;
  WeftInspectRecord *record;

  g_return_val_if_fail (WEFT_IS_TASK (self), 0);

  if (!check_own_thread (self, "weft_task_uncancel"))
    return 0;

  priv = weft_task_get_instance_private (self);
  record = inspect_record (priv);
  if (G_UNLIKELY (record != NULL) && priv->num_cancels_requested > 0)
    weft_inspect_task_uncancelled (record, priv->num_cancels_requested - 1);
  if (priv->num_cancels_requested > 0 && --priv->num_cancels_requested == 0)
    {
      priv->must_cancel = FALSE;
      /* T12: once the task is over, uncancel changes nothing visible. */
      if (peek_extras (priv) != NULL && priv->extras->cancellable != NULL && priv->state != TASK_DONE)
        g_cancellable_reset (priv->extras->cancellable);
    }
  return priv->num_cancels_requested;
}

/**
 * weft_task_get_cancellable:
 * @self: a task
 *
 * The task's #GCancellable, cancelled whenever the task is: pass it to GIO
 * calls so they abort with the task. It is created on first use.
 *
 * Returns: (transfer none): the cancellable
 */
GCancellable *
weft_task_get_cancellable (WeftTask *self)
{
  WeftTaskPrivate *priv;
  TaskExtras *extras;

  g_return_val_if_fail (WEFT_IS_TASK (self), NULL);

  priv = weft_task_get_instance_private (self);
  extras = task_extras (priv);
  if (extras->cancellable == NULL)
    {
      extras->cancellable = g_cancellable_new ();
      if (priv->num_cancels_requested > 0 || weft_future_is_cancelled (WEFT_FUTURE (self)))
        g_cancellable_cancel (extras->cancellable);
    }
  return extras->cancellable;
}

/**
 * weft_task_get_id:
 * @self: a task
 *
 * Gets the task's number.
 *
 * Returns: the task's number, unique in the process and increasing
 */
guint64
weft_task_get_id (WeftTask *self)
{
  WeftTaskPrivate *priv;

  g_return_val_if_fail (WEFT_IS_TASK (self), 0);

  priv = weft_task_get_instance_private (self);
  return priv->id;
}

/**
 * weft_task_get_name:
 * @self: a task
 *
 * Gets the task's name.
 *
 * Returns: the task's name; "Task-N" unless one was given
 */
const char *
weft_task_get_name (WeftTask *self)
{
  WeftTaskPrivate *priv;
  TaskExtras *extras;

  g_return_val_if_fail (WEFT_IS_TASK (self), NULL);

  priv = weft_task_get_instance_private (self);
  extras = task_extras (priv);
  if (extras->name == NULL)
    extras->name = g_strdup_printf ("Task-%" G_GUINT64_FORMAT, priv->id);
  return extras->name;
}

/**
 * weft_task_set_name:
 * @self: a task
 * @name: (nullable): the new name, or %NULL for "Task-N"
 *
 * Renames the task.
 */
void
weft_task_set_name (WeftTask   *self,
                    const char *name)
{
  WeftTaskPrivate *priv;
  WeftInspectRecord *record;
  TaskExtras *extras;

  g_return_if_fail (WEFT_IS_TASK (self));

  priv = weft_task_get_instance_private (self);
  if (name == NULL && peek_extras (priv) == NULL)
    return;
  extras = task_extras (priv);
  g_free (extras->name);
  extras->name = g_strdup (name);
  record = inspect_record (priv);
  if (G_UNLIKELY (record != NULL) && priv->state != TASK_DONE)
    weft_inspect_task_renamed (record, name);
}

/**
 * weft_task_is_suspended:
 * @self: a task
 *
 * Tells whether the task waits on a future or sleeps.
 *
 * Returns: %TRUE if the task waits on a future or sleeps
 */
gboolean
weft_task_is_suspended (WeftTask *self)
{
  WeftTaskPrivate *priv;

  g_return_val_if_fail (WEFT_IS_TASK (self), FALSE);

  priv = weft_task_get_instance_private (self);
  return priv->state == TASK_WAITING || priv->state == TASK_SLEEPING;
}

/**
 * weft_task_get_awaited:
 * @self: a task
 *
 * Gets the future the task is suspended on, if any.
 *
 * Returns: (transfer none) (nullable): the future the task waits on
 */
WeftFuture *
weft_task_get_awaited (WeftTask *self)
{
  WeftTaskPrivate *priv;

  g_return_val_if_fail (WEFT_IS_TASK (self), NULL);

  priv = weft_task_get_instance_private (self);
  return priv->state == TASK_WAITING ? priv->awaited : NULL;
}

/**
 * weft_task_get_stack:
 * @self: a task
 * @limit: how many frames to keep at most, or 0 for all
 *
 * asyncio's get_stack(). For a suspended task: its await site, then the
 * await site of each task it waits on, down the chain (oldest first). For a
 * task that failed: the await site where the error reached it. Otherwise,
 * and for a task that finished or was cancelled: no frames. @limit keeps
 * the newest frames of a stack and the oldest of a failure.
 *
 * Returns: (transfer container) (element-type WeftAwaitSite): the frames
 */
GPtrArray *
weft_task_get_stack (WeftTask *self,
                     int       limit)
{
  WeftTaskPrivate *priv;
  GPtrArray *frames;
  g_autoptr(GPtrArray) visited = NULL;

  g_return_val_if_fail (WEFT_IS_TASK (self), NULL);

  priv = weft_task_get_instance_private (self);
  frames = g_ptr_array_new ();

  if (priv->state == TASK_DONE)
    {
      if (weft_future_get_state (WEFT_FUTURE (self)) == WEFT_FUTURE_STATE_FINISHED &&
          priv->site != NULL && !weft_future_propagate (WEFT_FUTURE (self), NULL))
        g_ptr_array_add (frames, (gpointer) priv->site);
      return frames;
    }

  visited = g_ptr_array_new ();
  for (WeftTask *task = self; task != NULL && !g_ptr_array_find (visited, task, NULL);)
    {
      WeftTaskPrivate *p = weft_task_get_instance_private (task);
      WeftFuture *awaited = weft_task_get_awaited (task);

      if (!weft_task_is_suspended (task) || p->site == NULL)
        break;
      g_ptr_array_add (visited, task);
      g_ptr_array_add (frames, (gpointer) p->site);
      task = awaited != NULL && WEFT_IS_TASK (awaited) ? WEFT_TASK (awaited) : NULL;
    }

  if (limit > 0 && frames->len > (guint) limit)
    g_ptr_array_remove_range (frames, 0, frames->len - limit);

  return frames;
}

static const char *
describe_state (WeftTask *self)
{
  switch (weft_future_get_state (WEFT_FUTURE (self)))
    {
    case WEFT_FUTURE_STATE_CANCELLED:
      return "cancelled";
    case WEFT_FUTURE_STATE_FINISHED:
      return "finished";
    case WEFT_FUTURE_STATE_PENDING:
    default:
      return weft_task_get_cancelling (self) > 0 ? "cancelling" : "pending";
    }
}

/**
 * weft_task_format_stack:
 * @self: a task
 * @limit: as for weft_task_get_stack()
 *
 * Formats the task's stack the way weft_task_print_stack() prints it.
 *
 * Returns: (transfer full): the text weft_task_print_stack() prints
 */
char *
weft_task_format_stack (WeftTask *self,
                        int       limit)
{
  g_autoptr(GPtrArray) frames = NULL;
  GString *out;
  gboolean failed;

  g_return_val_if_fail (WEFT_IS_TASK (self), NULL);

  frames = weft_task_get_stack (self, limit);
  out = g_string_new (NULL);
  failed = weft_future_is_done (WEFT_FUTURE (self));

  if (frames->len == 0)
    g_string_append (out, "No stack for ");
  else
    g_string_append (out, failed ? "Traceback for " : "Stack for ");
  g_string_append_printf (out, "<Task %s name='%s'>", describe_state (self), weft_task_get_name (self));
  g_string_append (out, frames->len == 0 ? "\n" : " (most recent call last):\n");

  for (guint i = 0; i < frames->len; i++)
    {
      const WeftAwaitSite *site = g_ptr_array_index (frames, i);

      g_string_append_printf (out, "  File \"%s\", line %d, in %s\n",
                              site->file, site->line, site->function);
    }

  return g_string_free (out, FALSE);
}

/**
 * weft_task_print_stack:
 * @self: a task
 * @limit: as for weft_task_get_stack()
 *
 * Prints the task's stack to standard output, as asyncio's print_stack().
 */
void
weft_task_print_stack (WeftTask *self,
                       int       limit)
{
  g_autofree char *text = NULL;

  g_return_if_fail (WEFT_IS_TASK (self));

  text = weft_task_format_stack (self, limit);
  fputs (text, stdout);
  fflush (stdout);
}

/**
 * weft_task_get_current:
 *
 * Gets the task whose step is running: asyncio's current_task().
 *
 * Returns: (transfer none) (nullable): the task whose step is running on
 *   this thread, or %NULL outside a step (in a done callback, say)
 */
WeftTask *
weft_task_get_current (void)
{
  WeftScheduler *scheduler = weft_scheduler_get_running ();

  return scheduler != NULL ? weft_scheduler_get_current_task (scheduler) : NULL;
}

/**
 * weft_task_list_all:
 * @context: (nullable): a context, or %NULL for the global default one
 *
 * asyncio's all_tasks().
 *
 * The context owns its tasks until they finish: take a reference on those
 * you keep past the next pass.
 *
 * Returns: (transfer container) (element-type WeftTask): the unfinished
 *   tasks of @context, oldest first
 */
GPtrArray *
weft_task_list_all (GMainContext *context)
{
  WeftScheduler *scheduler = weft_scheduler_get_for_context (context);
  GPtrArray *tasks = g_ptr_array_new ();

  for (const WeftLink *link = weft_scheduler_peek_tasks (scheduler); link != NULL; link = link->next)
    {
      WeftTaskPrivate *priv = private_from_link (link);

      g_ptr_array_add (tasks, task_from_private (priv));
    }

  return tasks;
}

WeftInspectRecord *
weft_task_inspect_peek_record (WeftTask *task)
{
  WeftTaskPrivate *priv = weft_task_get_instance_private (task);

  return peek_record (priv);
}

/* On the scheduler's thread, at its first iteration while recording: its
 * tasks from before get records of what they do now. One in the middle
 * of a step, under a nested main loop, is left out.
 */
void
weft_task_inspect_adopt (WeftScheduler *scheduler)
{
  for (const WeftLink *link = weft_scheduler_peek_tasks (scheduler); link != NULL; link = link->next)
    {
      WeftTaskPrivate *priv = private_from_link (link);
      WeftInspectActivity activity;

      inspect_activity (priv, &activity);
      if (priv->inspected || activity.state == WEFT_INSPECT_DONE)
        continue;
      inspect_start (task_from_private (priv), priv, scheduler);
      weft_inspect_task_adopted (peek_record (priv), &activity);
    }
}

/* On the scheduler's thread, now and then: waits that became orphaned. */
void
weft_task_inspect_check_waits (WeftScheduler *scheduler)
{
  for (const WeftLink *link = weft_scheduler_peek_tasks (scheduler); link != NULL; link = link->next)
    {
      WeftTaskPrivate *priv = private_from_link (link);

      if (priv->state == TASK_WAITING && peek_record (priv) != NULL)
        weft_inspect_task_check_wait (peek_record (priv), priv->awaited);
    }
}
