/* weft-task-group.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-error-private.h"
#include "weft-future-private.h"
#include "weft-inspect-hooks-private.h"
#include "weft-scheduler-private.h"
#include "weft-task-group.h"
#include "weft-task-private.h"

/**
 * WeftTaskGroup:
 *
 * asyncio's TaskGroup: tasks that a parent task waits for together, and
 * that fail together.
 *
 * `async with TaskGroup() as tg:` is written
 *
 * |[<!-- language="C" -->
 * g_autoptr(GError) body_error = NULL;
 * g_autoptr(GError) error = NULL;
 * g_autoptr(WeftTaskGroup) group = weft_task_group_new (&error);  // __aenter__
 * g_autoptr(WeftFuture) done = NULL;
 *
 * if (group == NULL)
 *   {
 *     weft_task_return_error (task, g_steal_pointer (&error));
 *     return;
 *   }
 * weft_task_group_create_fiber (group, "fetch", fetch, url, NULL, NULL);
 * weft_await (other_future, &body_error);    // the body; an error ends it
 *
 * done = weft_task_group_wait (group, body_error);   // __aexit__
 * if (!weft_await (done, &error))                    // or weft_task_await()
 *   ...   // G_IO_ERROR_CANCELLED, or WEFT_ERROR_TASK_GROUP
 * ]|
 *
 * weft_task_group_new() binds the group to the running task, its parent.
 * Tasks are created into it with weft_task_group_create_task(),
 * weft_task_group_create_fiber(), their `_full` forms that also take a
 * #WeftContext and #WeftTaskFlags (G13), or added with
 * weft_task_group_add_task().
 * The body ends by calling weft_task_group_wait() with the error that ended
 * it, if any, and awaiting the future it returns: that future completes
 * once every task of the group is done, tasks added meanwhile included.
 *
 * The first task that fails cancels the others and, once, the parent, so
 * the body stops at its current or next await. Every failure is kept:
 * the future then fails with %WEFT_ERROR_TASK_GROUP, whose failures
 * (weft_task_group_error_get_failure()) name the task that raised each
 * error, in the order the failures were seen, the body's own error last.
 * Tasks that end cancelled are not failures. If the parent is cancelled
 * from outside, the group cancels its tasks, waits for them, and the
 * future raises %G_IO_ERROR_CANCELLED, unless some task failed. The
 * parent's weft_task_get_cancelling() count is kept as asyncio 3.13 keeps
 * it: the group's own cancellation is withdrawn when the wait ends, and an
 * outside one raised together with a group error is delivered again at the
 * parent's next await.
 *
 * Cancelling the parent while it awaits the group's future does not cancel
 * that future: it makes the group cancel its tasks, as asyncio's
 * __aexit__ does when it catches CancelledError.
 *
 * The group holds its parent only until it is finished, and its failures
 * hold no task: a task, stackless or not, may keep its group, or the group
 * error it returns, for as long as it lives.
 *
 * A group that is never waited for is a bug: when its parent finishes, a
 * critical names the group. A task that fails after its parent finished
 * is reported with a warning (asyncio's exception handler).
 *
 * Like its parent, a group, and the future weft_task_group_wait() returns,
 * belong to the thread that runs its #GMainContext. asyncio's special case for KeyboardInterrupt and
 * SystemExit (G7) has no #GError counterpart.
 */

struct _WeftTaskGroup
{
  GObject              parent_instance;

  WeftTask            *parent;          /* until finished: its data may hold the group */
  GWeakRef             parent_ref;      /* for messages and late cancellations */
  WeftScheduler       *scheduler;       /* the parent's, context held; NULL if not entered */
  const WeftAwaitSite *site;            /* where it was created, for messages */
  GPtrArray           *children;        /* Child, in no order */
  GPtrArray           *failures;        /* Failure, in the order they were seen */
  WeftFuture          *future;          /* the wait's, until it completes */
  GError              *body_error;
  GError              *propagated_cancellation;  /* asyncio's propagate_cancellation_error */
  WeftRunnable         cancel_wakeup;   /* the parent's cancellation, caught by the wait */
  char                *cancel_message;
  guint                exiting : 1;
  guint                aborting : 1;
  guint                parent_cancel_requested : 1;
  guint                finished : 1;
  guint                cancel_wakeup_queued : 1;
  guint64              inspect_number;  /* 0 until a task joins while inspecting */
};

G_DEFINE_FINAL_TYPE (WeftTaskGroup, weft_task_group, G_TYPE_OBJECT)

/* A task of the group; its runnable is on the task's done list, so
 * noticing that a task is done allocates nothing more.
 */
typedef struct
{
  WeftRunnable   runnable;              /* first: the ready queue hands us this */
  WeftTaskGroup *group;
  WeftTask      *task;
  guint          index;                 /* in group->children */
} Child;

/* Weak: the task's data, or the task's own outcome, may hold the failure. */
typedef struct
{
  GWeakRef  task;
  char     *task_name;              /* as it was when the task failed */
  GError   *error;
} Failure;

/* The future weft_task_group_wait() returns. */
typedef struct
{
  WeftFuture     parent_instance;
  WeftTaskGroup *group;
} WeftTaskGroupFuture;

typedef WeftFutureClass WeftTaskGroupFutureClass;

static GType weft_task_group_future_get_type (void);
G_DEFINE_FINAL_TYPE (WeftTaskGroupFuture, weft_task_group_future, WEFT_TYPE_FUTURE)

static void finish (WeftTaskGroup *self);

static void
add_failure (WeftTaskGroup *self,
             WeftTask      *task,
             GError        *error)
{
  Failure *failure = g_new (Failure, 1);

  g_weak_ref_init (&failure->task, task);
  failure->task_name = g_strdup (weft_task_get_name (task));
  failure->error = error;
  g_ptr_array_add (self->failures, failure);
}

static void
failure_free (gpointer data)
{
  Failure *failure = data;

  g_weak_ref_clear (&failure->task);
  g_free (failure->task_name);
  g_error_free (failure->error);
  g_free (failure);
}

/* For messages: "TaskGroup 0x… of task 'main' (file.c:12)". */
static char *
describe (WeftTaskGroup *self)
{
  g_autoptr(WeftTask) parent = g_weak_ref_get (&self->parent_ref);
  GString *text = g_string_new (NULL);

  g_string_append_printf (text, "TaskGroup %p", self);
  if (parent != NULL)
    g_string_append_printf (text, " of task '%s'", weft_task_get_name (parent));
  if (self->site != NULL)
    g_string_append_printf (text, " (%s:%d)", self->site->file, self->site->line);
  return g_string_free (text, FALSE);
}

static gboolean
weft_task_group_future_cancel (WeftFuture *future,
                               const char *message)
{
  WeftTaskGroup *group = ((WeftTaskGroupFuture *) future)->group;

  /* Cancelled after the outcome was settled but before the parent resumed:
   * asyncio's __aexit__, still aborting, would catch this CancelledError,
   * then raise its group error and re-arm the cancellation (G10). Without
   * a group error, the cancellation replaces the outcome, as it would in
   * asyncio (T8b).
   */
  if (weft_future_is_done (future))
    {
      g_autoptr(WeftTask) parent = NULL;

      if (group->failures->len == 0)
        return FALSE;
      parent = g_weak_ref_get (&group->parent_ref);    /* the future may outlive it */
      if (parent == NULL || weft_task_get_awaited (parent) != future)
        return FALSE;
      weft_task_recancel_after_resume (parent);
      return TRUE;
    }

  /* Several cancellations before the wait resumes are one CancelledError,
   * with the first message (T7, T13).
   */
  if (!group->cancel_wakeup_queued)
    {
      group->cancel_wakeup_queued = TRUE;
      group->cancel_message = g_strdup (message);
      weft_scheduler_push (group->scheduler, &group->cancel_wakeup);
      g_object_ref (group);
    }
  return TRUE;
}

static void
weft_task_group_future_finalize (GObject *object)
{
  g_object_unref (((WeftTaskGroupFuture *) object)->group);

  G_OBJECT_CLASS (weft_task_group_future_parent_class)->finalize (object);
}

static void
weft_task_group_future_class_init (WeftTaskGroupFutureClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = weft_task_group_future_finalize;
  klass->cancel = weft_task_group_future_cancel;
}

static void
weft_task_group_future_init (WeftTaskGroupFuture *self)
{
  weft_future_forbid_setters (WEFT_FUTURE (self));
}

/* G5, G8: cancel every task not done yet. */
static void
abort_children (WeftTaskGroup *self)
{
  self->aborting = TRUE;

  for (guint i = 0; i < self->children->len; i++)
    {
      Child *child = g_ptr_array_index (self->children, i);

      if (weft_future_peek_state (WEFT_FUTURE (child->task)) == WEFT_FUTURE_STATE_PENDING)
        weft_task_cancel (child->task, NULL);
    }
}

/* asyncio's __aexit__ catching the CancelledError of its
 * `await self._on_completed_fut`, one pass after the parent was cancelled.
 */
static void
cancel_wakeup_run (WeftRunnable *runnable)
{
  WeftTaskGroup *self = G_STRUCT_MEMBER_P (runnable, -G_STRUCT_OFFSET (WeftTaskGroup, cancel_wakeup));

  self->cancel_wakeup_queued = FALSE;

  if (!self->finished)
    {
      if (!self->aborting)
        {
          g_clear_error (&self->propagated_cancellation);
          self->propagated_cancellation = weft_cancelled_error_new (self->cancel_message);
          abort_children (self);
        }
      if (self->children->len == 0)
        finish (self);
    }

  g_clear_pointer (&self->cancel_message, g_free);
  g_object_unref (self);
}

static GError *
group_error_new (WeftTaskGroup *self)
{
  const guint shown = 3;
  guint n = self->failures->len;
  GString *message = g_string_new ("unhandled errors in a TaskGroup");
  GError *error;

  g_string_append_printf (message, " (%u sub-exception%s)", n, n == 1 ? "" : "s");
  for (guint i = 0; i < MIN (n, shown); i++)
    {
      Failure *failure = g_ptr_array_index (self->failures, i);

      g_string_append_printf (message, "%s %s: %s", i == 0 ? ":" : ";",
                              failure->task_name, failure->error->message);
    }
  if (n > shown)
    g_string_append (message, "; …");

  error = g_error_new_literal (WEFT_ERROR, WEFT_ERROR_TASK_GROUP, message->str);
  weft_error_take_failures (error, g_ptr_array_ref (self->failures));
  g_string_free (message, TRUE);

  return error;
}

/* G10: keep an outside cancellation of the parent alive past the group
 * error, for its next await.
 */
static void
recancel_parent (WeftTaskGroup *self)
{
  if (weft_task_get_awaited (self->parent) == self->future)
    weft_task_recancel_after_resume (self->parent);
  else
    {
      weft_task_uncancel (self->parent);
      weft_task_cancel (self->parent, NULL);
    }
}

/* The end of asyncio's _aexit(), once no task is left. */
static void
finish (WeftTaskGroup *self)
{
  GError *outcome = NULL;

  self->finished = TRUE;

  /* G10: the group's own cancellation of the parent is withdrawn; what is
   * left came from outside.
   */
  if (self->parent_cancel_requested && weft_task_uncancel (self->parent) == 0)
    g_clear_error (&self->propagated_cancellation);

  /* G8, G9: errors of tasks beat the cancellation. */
  if (self->propagated_cancellation != NULL && self->failures->len == 0)
    outcome = g_steal_pointer (&self->propagated_cancellation);
  else
    {
      if (self->body_error != NULL && !weft_error_is_cancelled (self->body_error))
        add_failure (self, self->parent, g_steal_pointer (&self->body_error));
      if (self->failures->len > 0)
        {
          if (weft_task_get_cancelling (self->parent) > 0)
            recancel_parent (self);
          outcome = group_error_new (self);
        }
    }

  g_clear_error (&self->propagated_cancellation);
  g_clear_error (&self->body_error);
  weft_future_complete (self->future, NULL, outcome);
  g_clear_object (&self->future);

  /* No task is left to cancel the parent, nor will be: the parent may now
   * keep the group, or the group error, as long as it likes.
   */
  g_clear_object (&self->parent);
}

/* G5, G6, G14: asyncio's _on_task_done() for a task that failed. */
static void
record_failure (WeftTaskGroup *self,
                WeftTask      *task,
                GError        *error)
{
  add_failure (self, task, error);

  if (weft_future_is_done (WEFT_FUTURE (self->parent)))
    {
      g_autofree char *group = describe (self);

      g_warning ("Task %s has errored out but its parent task %s is already completed "
                 "(%s): %s", weft_task_get_name (task), weft_task_get_name (self->parent),
                 group, error->message);
      return;
    }

  if (!self->aborting && !self->parent_cancel_requested)
    {
      abort_children (self);
      self->parent_cancel_requested = TRUE;
      weft_task_cancel (self->parent, NULL);
    }
}

static void
child_done_run (WeftRunnable *runnable)
{
  Child *child = (Child *) runnable;
  WeftTaskGroup *self = child->group;
  WeftTask *task = child->task;

  g_ptr_array_steal_index_fast (self->children, child->index);
  if (child->index < self->children->len)
    ((Child *) g_ptr_array_index (self->children, child->index))->index = child->index;

  /* G4: a cancelled task is not a failure. */
  if (weft_future_peek_state (WEFT_FUTURE (task)) != WEFT_FUTURE_STATE_CANCELLED)
    {
      GError *error = weft_future_take_outcome_error (WEFT_FUTURE (task));

      if (error != NULL)
        record_failure (self, task, error);
    }

  /* A cancellation queued for the wait came first: as asyncio's __aexit__
   * catches it before it sees the group empty, it finishes the group.
   */
  if (self->future != NULL && self->children->len == 0 && !self->cancel_wakeup_queued)
    finish (self);

  g_object_unref (task);
  g_free (child);
  g_object_unref (self);
}

static void
adopt (WeftTaskGroup *self,
       WeftTask      *task)
{
  Child *child = g_new (Child, 1);

  child->runnable.run = child_done_run;
  child->group = g_object_ref (self);
  child->task = task;
  child->index = self->children->len;
  g_ptr_array_add (self->children, child);

  if (WEFT_INSPECTING () && weft_task_inspect_peek_record (task) != NULL)
    weft_inspect_task_grouped (weft_task_inspect_peek_record (task),
                               weft_task_group_inspect_number (self),
                               self->parent != NULL ? weft_task_get_id (self->parent) : 0);

  /* G11, E9: a task that is already done (one that finished during an
   * eager start) is still seen in a later pass, never inside its creation.
   */
  if (!weft_future_add_waiter (WEFT_FUTURE (task), &child->runnable))
    weft_scheduler_push (self->scheduler, &child->runnable);
}

/* G1, G2. */
static gboolean
check_can_create (WeftTaskGroup  *self,
                  GError        **error)
{
  g_autofree char *group = NULL;
  const char *problem;

  if (self->scheduler == NULL)
    problem = "has not been entered: it was not created in a task";
  else if (self->exiting && self->children->len == 0)
    problem = "is finished";
  else if (self->aborting)
    problem = "is shutting down";
  else
    return TRUE;

  group = describe (self);
  g_set_error (error, WEFT_ERROR, WEFT_ERROR_INVALID_STATE, "%s %s", group, problem);
  return FALSE;
}

static void
parent_done (WeftFuture *parent,
             gpointer    user_data)
{
  WeftTaskGroup *self = user_data;
  g_autofree char *group = describe (self);

  g_critical ("%s was never waited for: call weft_task_group_wait() and await its "
              "future before the task returns", group);
}

static void
weft_task_group_constructed (GObject *object)
{
  WeftTaskGroup *self = WEFT_TASK_GROUP (object);
  WeftTask *parent = weft_task_get_current ();

  G_OBJECT_CLASS (weft_task_group_parent_class)->constructed (object);

  if (parent == NULL)
    return;

  self->parent = g_object_ref (parent);
  g_weak_ref_set (&self->parent_ref, parent);
  self->scheduler = weft_future_get_scheduler (WEFT_FUTURE (parent));
  weft_scheduler_hold_context (self->scheduler);
  weft_future_add_done_callback (WEFT_FUTURE (parent), parent_done,
                                 g_object_ref (self), g_object_unref);
}

static void
weft_task_group_finalize (GObject *object)
{
  WeftTaskGroup *self = WEFT_TASK_GROUP (object);

  g_assert (self->children->len == 0);
  g_ptr_array_unref (self->children);
  g_ptr_array_unref (self->failures);
  g_clear_error (&self->body_error);
  g_clear_error (&self->propagated_cancellation);
  g_clear_object (&self->parent);
  g_weak_ref_clear (&self->parent_ref);
  if (self->scheduler != NULL)
    weft_scheduler_release_context (self->scheduler);

  G_OBJECT_CLASS (weft_task_group_parent_class)->finalize (object);
}

static void
weft_task_group_class_init (WeftTaskGroupClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = weft_task_group_constructed;
  object_class->finalize = weft_task_group_finalize;
}

static void
weft_task_group_init (WeftTaskGroup *self)
{
  self->children = g_ptr_array_new ();
  self->failures = g_ptr_array_new_with_free_func (failure_free);
  g_weak_ref_init (&self->parent_ref, NULL);
  self->cancel_wakeup.run = cancel_wakeup_run;
}

/**
 * weft_task_group_new_at:
 * @site: (nullable): where the group is created, for messages;
 *   weft_task_group_new() passes its own
 * @error: return location for an error
 *
 * Creates a task group whose parent is the running task: asyncio's
 * `async with TaskGroup() as tg`. Creating binds it, so a group is
 * entered exactly once (G1).
 *
 * Returns: (transfer full) (nullable): the new group, or %NULL with
 *   %WEFT_ERROR_NOT_IN_TASK outside a task's step
 */
WeftTaskGroup *
weft_task_group_new_at (const WeftAwaitSite  *site,
                        GError              **error)
{
  WeftTaskGroup *self;

  if (weft_task_get_current () == NULL)
    {
      g_set_error_literal (error, WEFT_ERROR, WEFT_ERROR_NOT_IN_TASK,
                           "TaskGroup cannot determine the parent task: create it in a task's step");
      return NULL;
    }

  self = g_object_new (WEFT_TYPE_TASK_GROUP, NULL);
  self->site = site;
  return self;
}

/**
 * weft_task_group_new:
 * @error: return location for an error
 *
 * Creates a task group whose parent is the running task; see
 * weft_task_group_new_at(). In C this is a macro that records where the
 * group was created.
 *
 * Returns: (transfer full) (nullable): the new group, or %NULL with
 *   %WEFT_ERROR_NOT_IN_TASK outside a task's step
 */
WeftTaskGroup *
(weft_task_group_new) (GError **error)
{
  return weft_task_group_new_at (NULL, error);
}

/* G2: a refused task is never created, so its body never runs, not even
 * an eager first step; its data is freed, as asyncio closes the coroutine.
 */
static gboolean
check_can_create_or_free (WeftTaskGroup   *self,
                          gpointer         user_data,
                          GDestroyNotify   notify,
                          GError         **error)
{
  if (check_can_create (self, error))
    return TRUE;

  if (notify != NULL)
    notify (user_data);
  return FALSE;
}

/**
 * weft_task_group_create_task_full:
 * @self: a task group
 * @name: (nullable): the task's name, or %NULL for "Task-N"
 * @context: (nullable): the #WeftContext the task runs in, shared; %NULL
 *   for a copy of the current one
 * @flags: how the task starts, as for weft_task_new_full()
 * @step: (scope notified) (closure user_data) (destroy notify): the step
 *   function, as for weft_task_new()
 * @user_data: data for @step
 * @notify: (nullable): frees @user_data
 * @error: return location for an error
 *
 * Creates a stackless task in the group: asyncio's
 * `TaskGroup.create_task(coro, name=, context=)`, with the task's
 * eager_start= as @flags. The task is made by weft_task_new_full().
 *
 * The group is refused new tasks once its wait has ended ("is finished")
 * and once it is cancelling its tasks ("is shutting down"). The task is
 * then not created, so not even an eager first step runs, and @user_data
 * is freed at once, as asyncio closes the coroutine.
 *
 * A task that starts eagerly runs its first step before it joins the
 * group. If it is done by then, the group still sees its outcome in a
 * later pass: a failure cancels the parent at its next await, never
 * inside this call (asyncio gh-128550).
 *
 * Returns: (transfer none) (nullable): the task, owned by the group until
 *   it is done; or %NULL with %WEFT_ERROR_INVALID_STATE
 */
WeftTask *
weft_task_group_create_task_full (WeftTaskGroup   *self,
                                  const char      *name,
                                  WeftContext     *context,
                                  WeftTaskFlags    flags,
                                  WeftStepFunc     step,
                                  gpointer         user_data,
                                  GDestroyNotify   notify,
                                  GError         **error)
{
  WeftTask *task;

  g_return_val_if_fail (WEFT_IS_TASK_GROUP (self), NULL);
  g_return_val_if_fail (step != NULL, NULL);
  WEFT_INSPECT_MARK_CREATOR ();

  if (!check_can_create_or_free (self, user_data, notify, error))
    return NULL;

  task = weft_task_new_full (name, context, flags, step, user_data, notify);
  if (task != NULL)     /* NULL only after a critical about @flags */
    adopt (self, task);
  return task;
}

/**
 * weft_task_group_create_fiber_full:
 * @self: a task group
 * @name: (nullable): the task's name, or %NULL for "Task-N"
 * @context: (nullable): the #WeftContext the task runs in, shared; %NULL
 *   for a copy of the current one
 * @flags: how the task starts, as for weft_fiber_new_full()
 * @func: (scope notified) (closure user_data) (destroy notify): the body,
 *   as for weft_fiber_new()
 * @user_data: data for @func
 * @notify: (nullable): frees @user_data
 * @error: return location for an error
 *
 * Creates a fiber task in the group, made by weft_fiber_new_full(); see
 * weft_task_group_create_task_full().
 *
 * Returns: (transfer none) (nullable): the task, owned by the group until
 *   it is done; or %NULL with %WEFT_ERROR_INVALID_STATE
 */
WeftTask *
weft_task_group_create_fiber_full (WeftTaskGroup   *self,
                                   const char      *name,
                                   WeftContext     *context,
                                   WeftTaskFlags    flags,
                                   WeftFiberFunc    func,
                                   gpointer         user_data,
                                   GDestroyNotify   notify,
                                   GError         **error)
{
  WeftTask *task;

  g_return_val_if_fail (WEFT_IS_TASK_GROUP (self), NULL);
  g_return_val_if_fail (func != NULL, NULL);
  WEFT_INSPECT_MARK_CREATOR ();

  if (!check_can_create_or_free (self, user_data, notify, error))
    return NULL;

  task = weft_fiber_new_full (name, context, flags, func, user_data, notify);
  adopt (self, task);
  return task;
}

/**
 * weft_task_group_create_task:
 * @self: a task group
 * @name: (nullable): the task's name, or %NULL for "Task-N"
 * @step: (scope notified) (closure user_data) (destroy notify): the step
 *   function, as for weft_task_new()
 * @user_data: data for @step
 * @notify: (nullable): frees @user_data
 * @error: return location for an error
 *
 * Creates a stackless task in the group, in a copy of the current context
 * and started as the #GMainContext's default says: asyncio's
 * `TaskGroup.create_task(coro, name=)`. See
 * weft_task_group_create_task_full().
 *
 * Returns: (transfer none) (nullable): the task, owned by the group until
 *   it is done; or %NULL with %WEFT_ERROR_INVALID_STATE
 */
WeftTask *
weft_task_group_create_task (WeftTaskGroup   *self,
                             const char      *name,
                             WeftStepFunc     step,
                             gpointer         user_data,
                             GDestroyNotify   notify,
                             GError         **error)
{
  WEFT_INSPECT_MARK_CREATOR ();
  return weft_task_group_create_task_full (self, name, NULL, WEFT_TASK_FLAGS_NONE,
                                           step, user_data, notify, error);
}

/**
 * weft_task_group_create_fiber:
 * @self: a task group
 * @name: (nullable): the task's name, or %NULL for "Task-N"
 * @func: (scope notified) (closure user_data) (destroy notify): the body,
 *   as for weft_fiber_new()
 * @user_data: data for @func
 * @notify: (nullable): frees @user_data
 * @error: return location for an error
 *
 * Creates a fiber task in the group, in a copy of the current context and
 * started as the #GMainContext's default says; see
 * weft_task_group_create_task_full().
 *
 * Returns: (transfer none) (nullable): the task, owned by the group until
 *   it is done; or %NULL with %WEFT_ERROR_INVALID_STATE
 */
WeftTask *
weft_task_group_create_fiber (WeftTaskGroup   *self,
                              const char      *name,
                              WeftFiberFunc    func,
                              gpointer         user_data,
                              GDestroyNotify   notify,
                              GError         **error)
{
  WEFT_INSPECT_MARK_CREATOR ();
  return weft_task_group_create_fiber_full (self, name, NULL, WEFT_TASK_FLAGS_NONE,
                                            func, user_data, notify, error);
}

/**
 * weft_task_group_add_task:
 * @self: a task group
 * @task: a task of the group's #GMainContext, created by any means
 * @error: return location for an error
 *
 * Puts a task created elsewhere (a #WeftTask subclass made with
 * weft_task_new_for_type(), say) in the group, as if created by
 * weft_task_group_create_task_full(). Prefer that function for the
 * group's own tasks: it refuses before creating, so a refused eager task
 * never runs, and the group owns the task it returns.
 * A task that is already done still counts: its failure, if any, is seen
 * in a later pass, so the parent is cancelled at its next await, not
 * inside this call (asyncio gh-128550).
 *
 * When the group refuses it (see weft_task_group_create_task()), @task is
 * cancelled, as asyncio closes the coroutine.
 *
 * Returns: %TRUE if @task joined the group; %FALSE with
 *   %WEFT_ERROR_INVALID_STATE, or %WEFT_ERROR_WRONG_CONTEXT if @task
 *   belongs to another #GMainContext
 */
gboolean
weft_task_group_add_task (WeftTaskGroup  *self,
                          WeftTask       *task,
                          GError        **error)
{
  g_return_val_if_fail (WEFT_IS_TASK_GROUP (self), FALSE);
  g_return_val_if_fail (WEFT_IS_TASK (task), FALSE);

  if (!check_can_create (self, error))
    {
      weft_task_cancel (task, NULL);
      return FALSE;
    }

  if (weft_future_get_scheduler (WEFT_FUTURE (task)) != self->scheduler)
    {
      g_autofree char *group = describe (self);

      g_set_error (error, WEFT_ERROR, WEFT_ERROR_WRONG_CONTEXT,
                   "Task %s belongs to another GMainContext than %s",
                   weft_task_get_name (task), group);
      return FALSE;
    }

  adopt (self, g_object_ref (task));
  return TRUE;
}

/**
 * weft_task_group_wait:
 * @self: a task group
 * @body_error: (nullable): the error that ended the group's body, if any;
 *   copied
 *
 * Ends the group's body: asyncio's `__aexit__`. Call it once, from the
 * parent task, and await the returned future with weft_await() or
 * weft_task_await().
 *
 * If @body_error is set, the group's tasks are cancelled. The future
 * completes once every task of the group is done, including tasks created
 * meanwhile; it is already done if none is left. It fails with
 * %WEFT_ERROR_TASK_GROUP if a task failed or @body_error is not a
 * cancellation (G6, G9), and with %G_IO_ERROR_CANCELLED if the parent was
 * cancelled from outside (G8, G10); otherwise it finishes with no value.
 * Cancelling the parent while it awaits the future cancels the group's
 * tasks and is reported when they are done.
 *
 * Returns: (transfer full): the future the parent awaits
 */
WeftFuture *
weft_task_group_wait (WeftTaskGroup *self,
                      const GError  *body_error)
{
  WeftTaskGroupFuture *future;

  g_return_val_if_fail (WEFT_IS_TASK_GROUP (self), NULL);
  g_return_val_if_fail (self->scheduler != NULL, NULL);
  g_return_val_if_fail (!self->exiting, NULL);
  g_return_val_if_fail (weft_task_get_current () == self->parent, NULL);

  self->exiting = TRUE;
  weft_future_remove_done_callback (WEFT_FUTURE (self->parent), parent_done, self);

  future = g_object_new (weft_task_group_future_get_type (), NULL);
  future->group = g_object_ref (self);
  self->future = g_object_ref (WEFT_FUTURE (future));

  if (body_error != NULL)
    {
      self->body_error = g_error_copy (body_error);
      if (weft_error_is_cancelled (body_error))
        self->propagated_cancellation = g_error_copy (body_error);
      if (!self->aborting)
        abort_children (self);
    }

  if (self->children->len == 0)
    finish (self);

  return WEFT_FUTURE (future);
}

/**
 * weft_task_group_get_parent:
 * @self: a task group
 *
 * Gets the task the group was created in, while the group holds it: until
 * the group is finished, that is until the future of
 * weft_task_group_wait() completes. The group then lets go of its parent,
 * so that the parent may keep the group without the two keeping each
 * other alive.
 *
 * Returns: (transfer none) (nullable): the parent task; %NULL once the
 *   group is finished, or if the group was not created in a task
 */
WeftTask *
weft_task_group_get_parent (WeftTaskGroup *self)
{
  g_return_val_if_fail (WEFT_IS_TASK_GROUP (self), NULL);

  return self->parent;
}

/**
 * weft_task_group_get_n_tasks:
 * @self: a task group
 *
 * Counts the group's tasks whose completion the group has not processed
 * yet.
 *
 * Returns: the number of tasks the group still waits for
 */
guint
weft_task_group_get_n_tasks (WeftTaskGroup *self)
{
  g_return_val_if_fail (WEFT_IS_TASK_GROUP (self), 0);

  return self->children->len;
}

static Failure *
get_failure (GPtrArray *failures,
             guint      index)
{
  g_return_val_if_fail (failures != NULL && index < failures->len, NULL);

  return g_ptr_array_index (failures, index);
}

static const GError *
get_failure_error (GPtrArray  *failures,
                   guint       index,
                   WeftTask  **task)
{
  Failure *failure = get_failure (failures, index);

  if (task != NULL)
    *task = failure != NULL ? g_weak_ref_get (&failure->task) : NULL;
  return failure != NULL ? failure->error : NULL;
}

static const char *
get_failure_name (GPtrArray *failures,
                  guint      index)
{
  Failure *failure = get_failure (failures, index);

  return failure != NULL ? failure->task_name : NULL;
}

/**
 * weft_task_group_get_n_failures:
 * @self: a task group
 *
 * Counts the failures the group has seen so far; once its wait is over,
 * the body's error too. They are those of the %WEFT_ERROR_TASK_GROUP
 * error, readable here from bindings, where errors lose their list.
 *
 * Returns: the number of failures
 */
guint
weft_task_group_get_n_failures (WeftTaskGroup *self)
{
  g_return_val_if_fail (WEFT_IS_TASK_GROUP (self), 0);

  return self->failures->len;
}

/**
 * weft_task_group_get_failure:
 * @self: a task group
 * @index: which failure, from 0
 * @task: (out) (optional) (transfer full) (nullable): the task that raised
 *   it: a task of the group, or the parent for the body's error; %NULL if
 *   that task has been finalized
 *
 * Gets one failure the group has seen; see weft_task_group_get_n_failures().
 *
 * Failures do not keep their task alive: a task may keep its group, or
 * return a group error that names itself. Once the task is gone,
 * weft_task_group_get_failure_name() still names it.
 *
 * Returns: (transfer none): the error
 */
const GError *
weft_task_group_get_failure (WeftTaskGroup  *self,
                             guint           index,
                             WeftTask      **task)
{
  g_return_val_if_fail (WEFT_IS_TASK_GROUP (self), NULL);

  return get_failure_error (self->failures, index, task);
}

/**
 * weft_task_group_get_failure_name:
 * @self: a task group
 * @index: which failure, from 0
 *
 * Gets the name of the task that raised one failure the group has seen,
 * as it was when the task failed; see weft_task_group_get_failure().
 *
 * Returns: (transfer none): the task's name
 */
const char *
weft_task_group_get_failure_name (WeftTaskGroup *self,
                                  guint          index)
{
  g_return_val_if_fail (WEFT_IS_TASK_GROUP (self), NULL);

  return get_failure_name (self->failures, index);
}

/**
 * weft_task_group_error_get_n_failures:
 * @error: an error
 *
 * Counts the errors a %WEFT_ERROR_TASK_GROUP error gathers, as an
 * ExceptionGroup's exceptions. A failure may itself be a group error: an
 * inner group's (G12).
 *
 * Returns: the number of failures, 0 if @error is not a group error
 */
guint
weft_task_group_error_get_n_failures (const GError *error)
{
  GPtrArray *failures = weft_error_peek_failures (error);

  return failures != NULL ? failures->len : 0;
}

/**
 * weft_task_group_error_get_failure:
 * @error: a %WEFT_ERROR_TASK_GROUP error
 * @index: which failure, from 0
 * @task: (out) (optional) (transfer full) (nullable): the task that raised
 *   it: a task of the group, or the group's parent for the body's error;
 *   %NULL if that task has been finalized
 *
 * Gets one of the errors a group error gathers, in the order the group
 * saw them; the body's error comes last.
 *
 * The error does not keep the tasks alive, so that a parent may return
 * its group's error as its own outcome; once a task is gone,
 * weft_task_group_error_get_failure_name() still names it.
 *
 * Returns: (transfer none): the error, owned by @error
 */
const GError *
weft_task_group_error_get_failure (const GError  *error,
                                   guint          index,
                                   WeftTask     **task)
{
  return get_failure_error (weft_error_peek_failures (error), index, task);
}

/**
 * weft_task_group_error_get_failure_name:
 * @error: a %WEFT_ERROR_TASK_GROUP error
 * @index: which failure, from 0
 *
 * Gets the name of the task that raised one of the errors a group error
 * gathers, as it was when the task failed; see
 * weft_task_group_error_get_failure().
 *
 * Returns: (transfer none): the task's name, owned by @error
 */
const char *
weft_task_group_error_get_failure_name (const GError *error,
                                        guint         index)
{
  return get_failure_name (weft_error_peek_failures (error), index);
}

guint64
weft_task_group_inspect_number (WeftTaskGroup *self)
{
  static guint64 last_number;

  if (self->inspect_number == 0)
    self->inspect_number = __atomic_add_fetch (&last_number, 1, __ATOMIC_RELAXED);
  return self->inspect_number;
}

/* For the inspector, on the group's thread: while its parent waits on
 * the group, it awaits every task of the group.
 */
gboolean
weft_task_group_future_inspect_tasks (WeftFuture *future,
                                      GArray     *ids,
                                      guint      *n_children)
{
  WeftTaskGroup *self;

  if (G_OBJECT_TYPE (future) != weft_task_group_future_get_type ())
    return FALSE;
  self = ((WeftTaskGroupFuture *) future)->group;
  for (guint i = 0; i < self->children->len; i++)
    {
      Child *child = self->children->pdata[i];
      guint64 id = weft_task_get_id (child->task);

      g_array_append_val (ids, id);
    }
  *n_children = self->children->len;
  return TRUE;
}
