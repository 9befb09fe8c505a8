/* weft-run.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-error-private.h"
#include "weft-future-private.h"
#include "weft-run.h"
#include "weft-task.h"

/**
 * weft_run_pass:
 * @context: (nullable): a context, or %NULL for the global default one
 *
 * Runs exactly one pass of @context's ready queue, after moving the due
 * timers into it: one iteration of asyncio's loop. Everything queued while
 * the pass runs waits for the next one. Tests drive the loop with it. It
 * cannot be called from a task or callback of @context itself.
 *
 * Returns: how many task steps and callbacks ran
 */
guint
weft_run_pass (GMainContext *context)
{
  WeftScheduler *scheduler = weft_scheduler_get_for_context (context);

  /* Callbacks are never dispatched re-entrantly, from a step of their own. */
  g_return_val_if_fail (weft_scheduler_get_running () != scheduler, 0);

  return weft_scheduler_run_pass (scheduler);
}

static void
iterate_until_done (WeftFuture *future)
{
  GMainContext *context = weft_future_get_context (future);

  while (!weft_future_is_done (future))
    g_main_context_iteration (context, TRUE);
}

/**
 * weft_run_until_complete:
 * @future: a future
 * @error: return location for the future's error
 *
 * Iterates the future's #GMainContext until @future is done, then reads its
 * outcome as weft_future_propagate() does. Not for use from inside a task.
 *
 * Returns: %TRUE if @future finished with a value
 */
gboolean
weft_run_until_complete (WeftFuture  *future,
                         GError     **error)
{
  g_return_val_if_fail (WEFT_IS_FUTURE (future), FALSE);
  g_return_val_if_fail (weft_task_get_current () == NULL, FALSE);

  iterate_until_done (future);

  return weft_future_propagate (future, error);
}

/* asyncio.run() cancels what the main task left behind and waits for it. */
static void
cancel_leftovers (GMainContext *context)
{
  g_autoptr(GPtrArray) tasks = weft_task_list_all (context);

  /* Cancelling lets them finish, and the context then lets go of them. */
  for (guint i = 0; i < tasks->len; i++)
    g_object_ref (g_ptr_array_index (tasks, i));
  g_ptr_array_set_free_func (tasks, g_object_unref);

  for (guint i = 0; i < tasks->len; i++)
    weft_task_cancel (g_ptr_array_index (tasks, i), NULL);

  for (guint i = 0; i < tasks->len; i++)
    {
      WeftFuture *task = g_ptr_array_index (tasks, i);
      g_autoptr(GError) error = NULL;

      if (!weft_run_until_complete (task, &error) && !weft_error_is_cancelled (error))
        g_warning ("Task %s failed while weft_run() cancelled it: %s",
                   weft_task_get_name (WEFT_TASK (task)), error->message);
    }
}

/* asyncio.run() then waits for the default executor's jobs. Here that is
 * everything counted as background work: the to_thread() jobs, and the GIO
 * callbacks still owed to futures cancelled while their operation ran,
 * which only an iteration of this context can deliver. Only the count ends
 * the wait, not an idle context, so a source that is always ready cannot
 * keep weft_run() from returning.
 */
static void
wait_for_background (GMainContext *context)
{
  WeftScheduler *scheduler = weft_scheduler_get_for_context (context);

  while (weft_scheduler_has_background (scheduler))
    g_main_context_iteration (context, TRUE);
}

/**
 * weft_run:
 * @func: (scope call): the main fiber
 * @user_data: data for @func
 * @result: (out caller-allocates) (optional): an uninitialized #GValue
 *   for the main fiber's value
 * @error: return location for its error
 *
 * asyncio.run(): runs @func as a fiber on a fresh #GMainContext, pushed as
 * the thread-default one, until it finishes; then cancels the tasks it left
 * behind, waits for them and drops the context.
 *
 * Before it returns, as asyncio.run() shuts the default executor down, it
 * also waits for what was started from the context and still has to end
 * there: the weft_to_thread() jobs, which run to the end, and the
 * callbacks of the GIO operations whose future was cancelled (the
 * functions of weft-gio-ops.h), so that the operation, its source object
 * and the context are freed rather than left pending.
 *
 * In a GTK application there is no need for it: tasks run on the default
 * main context that #GApplication iterates.
 *
 * Returns: %TRUE if @func finished with a value (or none), %FALSE with
 *   @error set if it failed or was cancelled
 */
gboolean
weft_run (WeftFiberFunc   func,
          gpointer        user_data,
          GValue         *result,
          GError        **error)
{
  g_autoptr(GMainContext) context = NULL;
  g_autoptr(WeftTask) main_task = NULL;
  gboolean ok;

  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (weft_task_get_current () == NULL, FALSE);

  context = g_main_context_new ();
  g_main_context_push_thread_default (context);

  main_task = weft_fiber_new (NULL, func, user_data, NULL);
  iterate_until_done (WEFT_FUTURE (main_task));
  if (result != NULL)
    ok = weft_future_get_value (WEFT_FUTURE (main_task), result, error);
  else
    ok = weft_future_propagate (WEFT_FUTURE (main_task), error);

  cancel_leftovers (context);
  wait_for_background (context);

  g_main_context_pop_thread_default (context);

  return ok;
}
