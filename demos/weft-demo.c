/* weft-demo.c — breakfast, cooked concurrently on one thread
 *
 * The main fiber starts a few cooks in a task group, shows what each one
 * is waiting on, gives up on the one that takes too long (a timeout), and
 * collects the rest when the table is set (an event). Meanwhile it asks
 * `weft-inspect` to draw its own task tree from outside, through the
 * inspector it serves.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <unistd.h>

#include <weft.h>

static gint64 start_time;

static void
say (const char *format,
     ...) G_GNUC_PRINTF (1, 2);

static void
say (const char *format,
     ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  g_print ("[%5.2f s] %-8s %s\n",
           (g_get_monotonic_time () - start_time) / (double) G_USEC_PER_SEC,
           weft_task_get_current () ? weft_task_get_name (weft_task_get_current ()) : "",
           text);
}

/* A fiber: plain C on its own stack, suspending in weft_sleep(). */
static void
brew_coffee (WeftTask *task,
             gpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  say ("grinding beans");
  if (!weft_sleep (0.3, &error))
    {
      weft_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  say ("pouring water");
  if (!weft_sleep (0.4, &error))
    {
      weft_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  weft_task_return_string (task, "coffee");
}

/* A stackless task: a state machine resumed once per step. */
typedef struct
{
  int slices_done;
  int slices_wanted;
} Toaster;

static void
toast_step (WeftTask     *task,
            WeftFuture   *awaited,
            const GError *error,
            gpointer      user_data)
{
  Toaster *toaster = user_data;

  if (error != NULL)
    {
      weft_task_return_error (task, g_error_copy (error));
      return;
    }
  if (toaster->slices_done == toaster->slices_wanted)
    {
      weft_task_return_string (task, "toast");
      return;
    }
  say ("toasting slice %d", ++toaster->slices_done);
  weft_task_sleep (task, 0.2);
}

static void
slow_cook (WeftTask *task,
           gpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  say ("starting a souffle (forty minutes)");
  if (!weft_sleep (40 * 60, &error))
    {
      say ("interrupted: %s", error->message);
      weft_task_return_error (task, g_steal_pointer (&error));
    }
}

static void
set_table (WeftTask *task,
           gpointer  user_data)
{
  say ("setting the table");
  if (weft_sleep (0.5, NULL))
    {
      say ("table set");
      weft_event_set (user_data);
    }
}

/* What each cook is waiting on: the await sites of its stack. */
static void
show_stacks (WeftTask *main_task)
{
  g_autoptr(GPtrArray) everyone = weft_task_list_all (weft_future_get_context (WEFT_FUTURE (main_task)));

  say ("%u tasks are running; where the cooks wait:", everyone->len);
  for (guint i = 0; i < everyone->len; i++)
    {
      WeftTask *cook = g_ptr_array_index (everyone, i);
      g_autofree char *stack = NULL;
      g_auto(GStrv) lines = NULL;

      if (cook == main_task)
        continue;
      stack = weft_task_format_stack (cook, 0);
      lines = g_strsplit (g_strchomp (stack), "\n", -1);
      for (guint l = 0; lines[l] != NULL; l++)
        g_print ("            %s\n", lines[l]);
    }
}

/* The same tasks seen from another process: weft-inspect attaches to the
 * inspector this program serves, while the main task awaits it.
 */
static void
show_tree_from_outside (void)
{
  g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());
  g_autoptr(GSubprocess) inspect = NULL;
  g_autoptr(GError) error = NULL;

  if (!weft_inspector_is_enabled ())
    return;

  inspect = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error,
                              WEFT_INSPECT_PROGRAM, "pstree", pid, NULL);
  if (inspect == NULL)
    {
      say ("no view from outside: %s", error->message);
      return;
    }

  say ("the same tasks, as `weft-inspect pstree %s` sees them:", pid);
  if (!weft_await (weft_subprocess_wait_check (inspect), &error))
    say ("weft-inspect: %s", error->message);
}

static void
serve (WeftTask *main_task,
       gpointer  user_data)
{
  Toaster toaster = { 0, 3 };
  g_autoptr(WeftEvent) table_set = weft_event_new ();
  g_autoptr(WeftTaskGroup) kitchen = NULL;
  g_autoptr(WeftTask) souffle = NULL;
  g_autoptr(WeftFuture) souffle_in_time = NULL;
  g_autoptr(WeftFuture) kitchen_done = NULL;
  g_autoptr(WeftFuture) ready = NULL;
  WeftTask *dishes[2];
  g_autoptr(GError) error = NULL;

  weft_task_set_name (main_task, "main");
  say ("breakfast started: four cooks on one thread");

  /* asyncio's `async with TaskGroup() as kitchen:`. Made in a task and
   * not yet waited for, the group cannot refuse: no error to check.
   */
  kitchen = weft_task_group_new (NULL);
  dishes[0] = g_object_ref (weft_task_group_create_fiber (kitchen, "coffee", brew_coffee, NULL, NULL, NULL));
  dishes[1] = g_object_ref (weft_task_group_create_task (kitchen, "toast", toast_step, &toaster, NULL, NULL));
  weft_task_group_create_fiber (kitchen, "waiter", set_table, table_set, NULL, NULL);
  souffle = weft_fiber_new ("souffle", slow_cook, NULL, NULL);

  weft_sleep (0.1, NULL);
  show_stacks (main_task);
  show_tree_from_outside ();

  say ("the souffle gets 0.05 s more");
  souffle_in_time = weft_wait_for (WEFT_FUTURE (souffle), 0.05);
  if (!weft_await (souffle_in_time, &error))
    say ("souffle: %s (cancelled=%d)", error->message,
         weft_future_is_cancelled (WEFT_FUTURE (souffle)));
  g_clear_error (&error);

  ready = weft_event_wait (table_set);
  weft_await (ready, NULL);

  kitchen_done = weft_task_group_wait (kitchen, NULL);
  if (!weft_await (kitchen_done, &error))
    {
      weft_task_return_error (main_task, g_steal_pointer (&error));
      return;
    }

  for (guint i = 0; i < G_N_ELEMENTS (dishes); i++)
    {
      g_autofree char *dish = weft_future_dup_string (WEFT_FUTURE (dishes[i]), NULL);

      say ("served %s", dish);
      g_object_unref (dishes[i]);
    }

  weft_task_return_int64 (main_task, G_N_ELEMENTS (dishes));
}

int
main (int   argc,
      char *argv[])
{
  g_auto(GValue) served = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  start_time = g_get_monotonic_time ();

  /* Before the first task: the inspector records tasks created from now on. */
  if (!weft_inspector_enable (&error))
    {
      g_printerr ("no inspector: %s\n", error->message);
      g_clear_error (&error);
    }

  if (!weft_run (serve, NULL, &served, &error))
    {
      g_printerr ("breakfast failed: %s\n", error->message);
      return 1;
    }

  g_print ("%" G_GINT64_FORMAT " dishes served.\n", g_value_get_int64 (&served));
  return 0;
}
