/* weft-demo.c — breakfast, cooked concurrently on one thread
 *
 * The main fiber starts a few cooks, shows what each one is waiting on,
 * cancels the one that takes too long, and collects the rest.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

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
serve (WeftTask *main_task,
       gpointer  user_data)
{
  Toaster toaster = { 0, 3 };
  g_autoptr(WeftTask) coffee = weft_fiber_new ("coffee", brew_coffee, NULL, NULL);
  g_autoptr(WeftTask) toast = weft_task_new ("toast", toast_step, &toaster, NULL);
  g_autoptr(WeftTask) souffle = weft_fiber_new ("souffle", slow_cook, NULL, NULL);
  g_autoptr(GPtrArray) everyone = NULL;
  WeftTask *dishes[] = { coffee, toast };
  g_autoptr(GError) error = NULL;

  weft_task_set_name (main_task, "main");
  say ("breakfast started: three cooks on one thread");
  weft_sleep (0.1, NULL);

  everyone = weft_task_list_all (weft_future_get_context (WEFT_FUTURE (main_task)));
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

  say ("the souffle takes too long: cancelling it");
  weft_task_cancel (souffle, "guests are hungry");
  g_assert_false (weft_await (WEFT_FUTURE (souffle), &error));
  say ("souffle: cancelled=%d, message \"%s\"",
       weft_future_is_cancelled (WEFT_FUTURE (souffle)),
       weft_future_get_cancel_message (WEFT_FUTURE (souffle)));

  for (guint i = 0; i < G_N_ELEMENTS (dishes); i++)
    {
      g_autofree char *dish = weft_await_string (WEFT_FUTURE (dishes[i]), &error);

      say ("served %s", dish);
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

  if (!weft_run (serve, NULL, &served, &error))
    {
      g_printerr ("breakfast failed: %s\n", error->message);
      return 1;
    }

  g_print ("%" G_GINT64_FORMAT " dishes served.\n", g_value_get_int64 (&served));
  return 0;
}
