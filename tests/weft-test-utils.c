/* weft-test-utils.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-test-utils.h"

void
weft_test_loop_setup (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  loop->context = g_main_context_new ();
  g_main_context_push_thread_default (loop->context);
}

void
weft_test_loop_teardown (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  g_autoptr(GPtrArray) leftovers = weft_task_list_all (loop->context);

  /* A test that leaves tasks behind would leak the context: say so. */
  for (guint i = 0; i < leftovers->len; i++)
    g_test_message ("task %s still pending at teardown",
                    weft_task_get_name (g_ptr_array_index (leftovers, i)));
  g_assert_cmpuint (leftovers->len, ==, 0);

  g_main_context_pop_thread_default (loop->context);
  g_main_context_unref (loop->context);
}

/* Exactly one pass of the ready queue: one asyncio loop iteration. */
guint
weft_test_pass (void)
{
  return weft_run_pass (g_main_context_get_thread_default ());
}

void
weft_test_passes (guint n)
{
  for (guint i = 0; i < n; i++)
    weft_test_pass ();
}

/* Passes until one runs nothing. Returns how many passes ran something. */
guint
weft_test_run_until_idle (void)
{
  guint passes = 0;

  while (weft_test_pass () > 0)
    passes++;
  return passes;
}

/* Iterates the real main loop, timers included, until @future is done. */
void
weft_test_run_until_done (WeftFuture *future)
{
  while (!weft_future_is_done (future))
    g_main_context_iteration (g_main_context_get_thread_default (), TRUE);
}

void
weft_test_log (GString    *log,
               const char *format,
               ...)
{
  va_list args;

  if (log->len > 0)
    g_string_append_c (log, ' ');
  va_start (args, format);
  g_string_append_vprintf (log, format, args);
  va_end (args);
}

/* Adds @func as /@prefix/fiber/@name and /@prefix/stackless/@name; the test
 * reads its kind with KIND (data).
 */
void
weft_test_add_both_kinds (const char *prefix,
                          const char *name,
                          void      (*func) (WeftTestLoop *, gconstpointer))
{
  static const char * const kind_names[N_KINDS] = { "fiber", "stackless" };

  for (Kind kind = 0; kind < N_KINDS; kind++)
    {
      g_autofree char *path = g_strdup_printf ("/%s/%s/%s", prefix, kind_names[kind], name);

      g_test_add (path, WeftTestLoop, GINT_TO_POINTER (kind),
                  weft_test_loop_setup, func, weft_test_loop_teardown);
    }
}

void
weft_test_assert_cancelled_error (const GError *error,
                                  const char   *message)
{
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (error->message, ==, message != NULL ? message : "Operation was cancelled");
}

void
weft_test_assert_future_cancelled (gpointer    future,
                                   const char *message)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (weft_future_get_state (future), ==, WEFT_FUTURE_STATE_CANCELLED);
  g_assert_true (weft_future_is_cancelled (future));
  g_assert_cmpstr (weft_future_get_cancel_message (future), ==, message);
  g_assert_false (weft_future_propagate (future, &error));
  weft_test_assert_cancelled_error (error, message);
}

void
weft_test_assert_finished_int (gpointer future,
                               gint64   expected)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (weft_future_get_state (future), ==, WEFT_FUTURE_STATE_FINISHED);
  g_assert_cmpint (weft_future_get_int64 (future, &error), ==, expected);
  g_assert_no_error (error);
}

void
weft_test_await_data (WeftTask *task,
                      gpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  if (!weft_await (user_data, &error))
    weft_task_return_error (task, g_steal_pointer (&error));
}

static void
await_data_step (WeftTask     *task,
                 WeftFuture   *awaited,
                 const GError *error,
                 gpointer      user_data)
{
  if (awaited == NULL && error == NULL)
    weft_task_await (task, user_data);
  else if (error != NULL)
    weft_task_return_error (task, g_error_copy (error));
  else
    weft_task_return_void (task);
}

WeftTask *
weft_test_spawn_awaiting_future (Kind        kind,
                                 WeftFuture *future)
{
  if (kind == KIND_FIBER)
    return weft_fiber_new ("awaiter", weft_test_await_data, future, NULL);
  return weft_task_new ("awaiter", await_data_step, future, NULL);
}

typedef struct
{
  WeftTestStartFunc  start;
  gpointer           user_data;
  WeftFuture       **started;
} Awaiting;

static WeftFuture *
awaiting_start (Awaiting *awaiting)
{
  WeftFuture *future = awaiting->start (awaiting->user_data);

  if (awaiting->started != NULL)
    *awaiting->started = g_object_ref (future);
  return future;
}

static void
return_outcome (WeftTask     *task,
                WeftFuture   *future,
                const GError *error)
{
  g_auto(GValue) value = G_VALUE_INIT;

  if (error != NULL)
    weft_task_return_error (task, g_error_copy (error));
  else if (weft_future_get_value (future, &value, NULL) && G_IS_VALUE (&value))
    weft_task_return_value (task, &value);
  else
    weft_task_return_void (task);
}

static void
awaiting_fiber (WeftTask *task,
                gpointer  user_data)
{
  g_autoptr(WeftFuture) future = awaiting_start (user_data);
  g_autoptr(GError) error = NULL;

  weft_await (future, &error);
  return_outcome (task, future, error);
}

static void
awaiting_step (WeftTask     *task,
               WeftFuture   *awaited,
               const GError *error,
               gpointer      user_data)
{
  g_autoptr(WeftFuture) future = NULL;

  if (awaited == NULL && error == NULL)
    {
      future = awaiting_start (user_data);
      weft_task_await (task, future);
    }
  else
    return_outcome (task, awaited, error);
}

WeftTask *
weft_test_spawn_awaiting (Kind                kind,
                          WeftTestStartFunc   start,
                          gpointer            user_data,
                          WeftFuture        **started)
{
  Awaiting *awaiting = g_new (Awaiting, 1);

  *awaiting = (Awaiting) { start, user_data, started };
  if (kind == KIND_FIBER)
    return weft_fiber_new (NULL, awaiting_fiber, awaiting, g_free);
  return weft_task_new (NULL, awaiting_step, awaiting, g_free);
}

void
weft_test_gate_init (WeftTestGate *gate)
{
  pthread_condattr_t attr;

  pthread_mutex_init (&gate->mutex, NULL);
  pthread_condattr_init (&attr);
  pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
  pthread_cond_init (&gate->cond, &attr);
  pthread_condattr_destroy (&attr);
  gate->count = 0;
}

void
weft_test_gate_clear (WeftTestGate *gate)
{
  pthread_cond_destroy (&gate->cond);
  pthread_mutex_destroy (&gate->mutex);
}

void
weft_test_gate_add (WeftTestGate *gate,
                    int           n)
{
  pthread_mutex_lock (&gate->mutex);
  gate->count += n;
  pthread_cond_broadcast (&gate->cond);
  pthread_mutex_unlock (&gate->mutex);
}

int
weft_test_gate_get (WeftTestGate *gate)
{
  int count;

  pthread_mutex_lock (&gate->mutex);
  count = gate->count;
  pthread_mutex_unlock (&gate->mutex);
  return count;
}

gboolean
weft_test_gate_wait (WeftTestGate *gate,
                     int           count,
                     double        timeout)
{
  struct timespec deadline;
  gboolean reached;

  clock_gettime (CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += (time_t) timeout;
  deadline.tv_nsec += (long) ((timeout - (time_t) timeout) * 1e9);
  if (deadline.tv_nsec >= 1000000000L)
    {
      deadline.tv_sec++;
      deadline.tv_nsec -= 1000000000L;
    }

  pthread_mutex_lock (&gate->mutex);
  while (gate->count < count &&
         pthread_cond_timedwait (&gate->cond, &gate->mutex, &deadline) == 0)
    ;
  reached = gate->count >= count;
  pthread_mutex_unlock (&gate->mutex);

  return reached;
}

static void
await_fiber (WeftTask *task,
             gpointer  user_data)
{
  WeftTestAwait *await = user_data;
  g_autoptr(GError) error = NULL;
  gint64 value = weft_await_int64 (await->future, &error);

  await->resumed_on = g_thread_self ();
  if (error != NULL)
    weft_task_return_error (task, g_steal_pointer (&error));
  else
    weft_task_return_int64 (task, value);
}

static void
await_step (WeftTask     *task,
            WeftFuture   *awaited,
            const GError *error,
            gpointer      user_data)
{
  WeftTestAwait *await = user_data;
  g_autoptr(GError) type_error = NULL;
  gint64 value;

  if (awaited == NULL && error == NULL)
    {
      weft_task_await (task, await->future);
      return;
    }

  await->resumed_on = g_thread_self ();
  if (error != NULL)
    {
      weft_task_return_error (task, g_error_copy (error));
      return;
    }
  value = weft_future_get_int64 (awaited, &type_error);
  if (type_error != NULL)
    weft_task_return_error (task, g_steal_pointer (&type_error));
  else
    weft_task_return_int64 (task, value);
}

WeftTask *
weft_test_spawn_awaiter (Kind           kind,
                         WeftTestAwait *await)
{
  if (kind == KIND_FIBER)
    return weft_fiber_new ("awaiter", await_fiber, await, NULL);
  return weft_task_new ("awaiter", await_step, await, NULL);
}
