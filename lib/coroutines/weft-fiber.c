/* weft-fiber.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include "weft-error.h"
#include "weft-fiber.h"
#include "weft-fiber-backtrace-private.h"
#include "weft-fiber-context-private.h"
#include "weft-future-private.h"
#include "weft-inspect-hooks-private.h"
#include "weft-stack-private.h"
#include "weft-task-private.h"
#include "weft-tls-private.h"

/**
 * WeftFiber:
 *
 * A task whose coroutine is a plain C function running on its own stack.
 *
 * The function suspends in weft_await() and friends, which return the
 * awaited value or error when the task resumes. A fiber is a #WeftTask like
 * any other: its step switches to the fiber's stack and back.
 *
 * Stacks are mapped with a guard page below them, so an overflow dies with
 * a message naming the task instead of corrupting memory, and pooled per
 * thread for reuse. Only the pages a fiber touches use memory. Linux limits
 * a process to vm.max_map_count mappings (65530 by default), which allows
 * about 32 thousand fibers suspended at once; past that, creating a stack
 * fails with %WEFT_ERROR_FIBER_STACK.
 */

#define DEFAULT_STACK_SIZE (256 * 1024)

struct _WeftFiber
{
  WeftTask          parent_instance;
  WeftFiberFunc     func;
  gpointer          user_data;
  GDestroyNotify    notify;
  WeftStack         stack;
  WeftFiberContext  context;
  WeftFiberContext  caller;
  const GError     *resume_error;   /* borrowed from the step that resumed us */
  guint             finished : 1;
};

G_DEFINE_FINAL_TYPE (WeftFiber, weft_fiber, WEFT_TYPE_TASK)

static gsize default_stack_size = DEFAULT_STACK_SIZE;

/* The fiber whose stack this thread runs on: an eager fiber starts on its
 * creator's.
 */
static WEFT_THREAD_LOCAL WeftFiber *running_fiber;

static void
fiber_main (void *data)
{
  WeftFiber *self = data;
  WeftTask *task = WEFT_TASK (self);

  /* weft_task_new_for_type (WEFT_TYPE_FIBER, ...) makes a fiber with no body. */
  if (self->func != NULL)
    self->func (task, self->user_data);
  if (!weft_future_is_done (WEFT_FUTURE (self)))
    weft_task_return_void (task);

  self->finished = TRUE;
  weft_fiber_context_exit (&self->context, &self->caller);
}

static gboolean
ensure_stack (WeftFiber *self)
{
  GError *error = NULL;

  if (self->stack.low != NULL)
    return TRUE;

  if (!weft_stack_acquire (&self->stack, default_stack_size, &error))
    {
      weft_task_return_error (WEFT_TASK (self), error);
      return FALSE;
    }
  weft_fiber_context_make (&self->context, self->stack.low, self->stack.size, fiber_main, self);
  return TRUE;
}

static void
weft_fiber_step (WeftTask     *task,
                 WeftFuture   *awaited,
                 const GError *error)
{
  WeftFiber *self = WEFT_FIBER (task);
  WeftFiber *outer;

  if (!ensure_stack (self))
    return;

  outer = running_fiber;
  running_fiber = self;
  self->resume_error = error;
  weft_stack_guard_enter (&self->stack, weft_task_peek_name (task), weft_task_get_id (task));
  weft_fiber_context_switch (&self->caller, &self->context);
  self->resume_error = NULL;
  running_fiber = outer;

  /* Back on the stack of the fiber whose step created us eagerly, if any. */
  if (outer != NULL)
    weft_stack_guard_enter (&outer->stack, weft_task_peek_name (WEFT_TASK (outer)),
                            weft_task_get_id (WEFT_TASK (outer)));
  else
    weft_stack_guard_leave ();

  /* The stack goes back to the pool as soon as the fiber is over. */
  if (self->finished)
    weft_stack_release (&self->stack);
}

static void
weft_fiber_finalize (GObject *object)
{
  WeftFiber *self = WEFT_FIBER (object);

  if (self->stack.low != NULL)
    weft_stack_release (&self->stack);
  if (self->notify != NULL)
    self->notify (self->user_data);

  G_OBJECT_CLASS (weft_fiber_parent_class)->finalize (object);
}

static void
weft_fiber_class_init (WeftFiberClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = weft_fiber_finalize;
  WEFT_TASK_CLASS (klass)->step = weft_fiber_step;
}

static void
weft_fiber_init (WeftFiber *self)
{
}

const WeftFiberContext *
weft_fiber_peek_suspended_context (WeftFiber *fiber)
{
  /* Not started yet, or its stack is already back in the pool. */
  if (fiber->stack.low == NULL || fiber->finished)
    return NULL;
  /* In a step: running, or in the step of a fiber it started eagerly;
   * either way its saved context is stale.
   */
  if (weft_task_is_stepping (WEFT_TASK (fiber)))
    return NULL;
  return &fiber->context;
}

/**
 * weft_fiber_new:
 * @name: (nullable): the task's name, or %NULL for "Task-N"
 * @func: (scope notified) (closure user_data) (destroy notify): the body
 * @user_data: data for @func
 * @notify: (nullable): frees @user_data when the task is finalized
 *
 * Creates a fiber task and queues its first step on the thread-default
 * #GMainContext, or runs it at once if that context's default is eager
 * (see weft_fiber_new_full()). The stack is allocated when the fiber first
 * runs.
 *
 * Returns: (transfer full): the new task
 */
WeftTask *
weft_fiber_new (const char     *name,
                WeftFiberFunc   func,
                gpointer        user_data,
                GDestroyNotify  notify)
{
  WEFT_INSPECT_MARK_CREATOR ();
  return weft_fiber_new_full (name, NULL, WEFT_TASK_FLAGS_NONE, func, user_data, notify);
}

/**
 * weft_fiber_new_full:
 * @name: (nullable): the task's name, or %NULL for "Task-N"
 * @context: (nullable): the #WeftContext to run in, shared; %NULL for a
 *   copy of the current one
 * @flags: how the task starts
 * @func: (scope notified) (closure user_data) (destroy notify): the body
 * @user_data: data for @func
 * @notify: (nullable): frees @user_data when the task is finalized
 *
 * Creates a fiber task, with a context and start flags as
 * weft_task_new_full() does: asyncio's create_task(coro, name=, context=,
 * eager_start=). An eager fiber runs on its own stack up to its first
 * suspension before this returns.
 *
 * Returns: (transfer full): the new task
 */
WeftTask *
weft_fiber_new_full (const char     *name,
                     WeftContext    *context,
                     WeftTaskFlags   flags,
                     WeftFiberFunc   func,
                     gpointer        user_data,
                     GDestroyNotify  notify)
{
  WeftFiber *self;

  g_return_val_if_fail (func != NULL, NULL);
  WEFT_INSPECT_MARK_CREATOR ();

  self = WEFT_FIBER (weft_task_construct (WEFT_TYPE_FIBER));
  self->func = func;
  self->user_data = user_data;
  self->notify = notify;
  if (name != NULL)
    weft_task_set_name (WEFT_TASK (self), name);
  weft_task_start (WEFT_TASK (self), context, flags);

  return WEFT_TASK (self);
}

gpointer
weft_fiber_inspect_function (WeftTask *fiber)
{
  return (gpointer) WEFT_FIBER (fiber)->func;
}

/**
 * weft_fiber_set_default_stack_size:
 * @stack_size: bytes of stack for fibers that start from now on
 *
 * Sets the stack size of new fibers, 256 KiB by default: enough for GTK and
 * Pango code. Memory is only used as a fiber touches it.
 */
void
weft_fiber_set_default_stack_size (gsize stack_size)
{
  g_return_if_fail (stack_size >= 16 * 1024);

  default_stack_size = stack_size;
}

/**
 * weft_fiber_get_default_stack_size:
 *
 * Gets the stack size that new fibers get.
 *
 * Returns: the stack size of new fibers, in bytes
 */
gsize
weft_fiber_get_default_stack_size (void)
{
  return default_stack_size;
}

/* The fiber whose stack we are on, or NULL with @error set. */
static WeftFiber *
get_running_fiber (const char  *what,
                   GError     **error)
{
  WeftTask *task = weft_task_get_current ();

  if (task == NULL || !WEFT_IS_FIBER (task))
    {
      g_set_error (error, WEFT_ERROR, WEFT_ERROR_NOT_IN_TASK,
                   "%s() must be called from a fiber; stackless tasks use weft_task_await()",
                   what);
      return NULL;
    }
  if (weft_future_is_done (WEFT_FUTURE (task)))
    {
      g_set_error (error, WEFT_ERROR, WEFT_ERROR_INVALID_STATE,
                   "%s(): task %s has already returned", what, weft_task_get_name (task));
      return NULL;
    }
  g_assert (weft_task_is_stepping (task));
  /* Python's Context.run() takes a function, which cannot await. */
  if (!weft_task_is_in_step_context (task))
    {
      g_set_error (error, WEFT_ERROR, WEFT_ERROR_CONTEXT_ENTERED,
                   "%s() cannot suspend task %s inside weft_context_run()",
                   what, weft_task_get_name (task));
      return NULL;
    }
  return WEFT_FIBER (task);
}

/* Back to the scheduler until the task is resumed; then the await's outcome. */
static gboolean
suspend (WeftFiber  *self,
         GError    **error)
{
  weft_fiber_context_switch (&self->context, &self->caller);

  if (self->resume_error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->resume_error));
      return FALSE;
    }
  return TRUE;
}

/**
 * weft_await_at: (skip)
 * @site: (nullable): where the await is; weft_await() passes its own
 * @future: the future to wait for
 * @error: return location for the future's error
 *
 * Suspends the running fiber until @future is done. An already done future
 * returns at once, without suspending. If the task is cancelled meanwhile,
 * this returns %G_IO_ERROR_CANCELLED.
 *
 * Returns: %TRUE if @future finished with a value
 */
gboolean
weft_await_at (const WeftAwaitSite  *site,
               WeftFuture           *future,
               GError              **error)
{
  WeftFiber *self;

  g_return_val_if_fail (WEFT_IS_FUTURE (future), FALSE);

  self = get_running_fiber ("weft_await", error);
  if (self == NULL)
    return FALSE;

  if (weft_future_is_done (future))
    return weft_future_propagate (future, error);

  weft_task_await_at (WEFT_TASK (self), future, site);
  return suspend (self, error);
}

/**
 * weft_await_value_at: (skip)
 * @site: (nullable): where the await is
 * @future: the future to wait for
 * @value: (out caller-allocates): an uninitialized #GValue for the value
 * @error: return location for the future's error
 *
 * weft_await_at(), then weft_future_get_value().
 *
 * Returns: %TRUE if @future finished with a value
 */
gboolean
weft_await_value_at (const WeftAwaitSite  *site,
                     WeftFuture           *future,
                     GValue               *value,
                     GError              **error)
{
  return weft_await_at (site, future, error) &&
         weft_future_get_value (future, value, error);
}

#define DEFINE_TYPED_AWAIT(ctype, name, getter, fallback)                  \
  ctype                                                                     \
  weft_await_##name##_at (const WeftAwaitSite  *site,                       \
                          WeftFuture           *future,                     \
                          GError              **error)                      \
  {                                                                         \
    if (!weft_await_at (site, future, error))                               \
      return fallback;                                                      \
    return getter (future, error);                                          \
  }

/**
 * weft_await_boolean_at: (skip)
 * @site: (nullable): where the await is
 * @future: the future to wait for
 * @error: return location for the future's error
 *
 * Awaits @future, as weft_await_at() does, and reads its boolean value.
 *
 * Returns: the boolean value, or %FALSE with @error set
 */
DEFINE_TYPED_AWAIT (gboolean, boolean, weft_future_get_boolean, FALSE)

/**
 * weft_await_int64_at: (skip)
 * @site: (nullable): where the await is
 * @future: the future to wait for
 * @error: return location for the future's error
 *
 * Awaits @future, as weft_await_at() does, and reads its integer value.
 *
 * Returns: the integer value, or 0 with @error set
 */
DEFINE_TYPED_AWAIT (gint64, int64, weft_future_get_int64, 0)

/**
 * weft_await_double_at: (skip)
 * @site: (nullable): where the await is
 * @future: the future to wait for
 * @error: return location for the future's error
 *
 * Awaits @future, as weft_await_at() does, and reads its double value.
 *
 * Returns: the double value, or 0 with @error set
 */
DEFINE_TYPED_AWAIT (double, double, weft_future_get_double, 0.)

/**
 * weft_await_string_at: (skip)
 * @site: (nullable): where the await is
 * @future: the future to wait for
 * @error: return location for the future's error
 *
 * Awaits @future, as weft_await_at() does, and reads its string value.
 *
 * Returns: (transfer full) (nullable): a copy of the string value
 */
DEFINE_TYPED_AWAIT (char *, string, weft_future_dup_string, NULL)

/**
 * weft_await_object_at: (skip)
 * @site: (nullable): where the await is
 * @future: the future to wait for
 * @error: return location for the future's error
 *
 * Awaits @future, as weft_await_at() does, and reads its object value.
 *
 * Returns: (transfer full) (nullable): the object value
 */
DEFINE_TYPED_AWAIT (gpointer, object, weft_future_dup_object, NULL)

/**
 * weft_await_boxed_at: (skip)
 * @site: (nullable): where the await is
 * @future: the future to wait for
 * @error: return location for the future's error
 *
 * Awaits @future, as weft_await_at() does, and reads its boxed value.
 *
 * Returns: (transfer full) (nullable): a copy of the boxed value
 */
DEFINE_TYPED_AWAIT (gpointer, boxed, weft_future_dup_boxed, NULL)

/**
 * weft_await_pointer_at: (skip)
 * @site: (nullable): where the await is
 * @future: the future to wait for
 * @error: return location for the future's error
 *
 * Awaits @future, as weft_await_at() does, and reads its pointer value.
 *
 * Returns: (transfer none) (nullable): the pointer value, owned by @future
 */
DEFINE_TYPED_AWAIT (gpointer, pointer, weft_future_get_pointer, NULL)

/**
 * weft_sleep_at: (skip)
 * @site: (nullable): where the sleep is; weft_sleep() passes its own
 * @delay: seconds; 0 or less yields for exactly one pass of the ready queue
 * @error: return location for an error
 *
 * Suspends the running fiber for @delay seconds: asyncio's sleep(). No
 * future is created; the task sits on the context's timer heap.
 *
 * Returns: %TRUE, or %FALSE with %G_IO_ERROR_CANCELLED if the task was
 *   cancelled, or %WEFT_ERROR_INVALID_ARGUMENT if @delay is NaN
 */
gboolean
weft_sleep_at (const WeftAwaitSite  *site,
               double                delay,
               GError              **error)
{
  WeftFiber *self;

  self = get_running_fiber ("weft_sleep", error);
  if (self == NULL)
    return FALSE;

  if (isnan (delay))
    {
      g_set_error_literal (error, WEFT_ERROR, WEFT_ERROR_INVALID_ARGUMENT,
                           "Invalid delay: NaN (not a number)");
      return FALSE;
    }

  weft_task_sleep_at (WEFT_TASK (self), delay, site);
  return suspend (self, error);
}
