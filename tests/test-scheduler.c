/* test-scheduler.c — the per-context scheduler as seen by the main loop: M1
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-test-utils.h"

static gboolean
do_nothing (gpointer data)
{
  return G_SOURCE_REMOVE;
}

static void
finish_at_once (WeftTask *task,
                gpointer  user_data)
{
}

static void
sleep_a_while (WeftTask *task,
               gpointer  user_data)
{
  weft_sleep (3600, NULL);
}

/* However many tasks and sleepers, a context has one Weft source */
static void
test_one_source_per_context (WeftTestLoop  *loop,
                             gconstpointer  data)
{
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  guint first, last, found = 0;

  first = g_idle_add (do_nothing, NULL);
  for (guint i = 0; i < 200; i++)
    {
      g_ptr_array_add (tasks, weft_fiber_new (NULL, finish_at_once, NULL, NULL));
      g_ptr_array_add (tasks, weft_fiber_new (NULL, sleep_a_while, NULL, NULL));
    }
  weft_test_pass ();
  last = g_idle_add (do_nothing, NULL);

  for (guint id = first; id <= last; id++)
    {
      GSource *source = g_main_context_find_source_by_id (loop->context, id);

      if (source != NULL && g_strcmp0 (g_source_get_name (source), "WeftScheduler") == 0)
        found++;
    }
  g_assert_cmpuint (found, ==, 1);

  for (guint i = 0; i < tasks->len; i++)
    weft_task_cancel (g_ptr_array_index (tasks, i), NULL);
  weft_test_run_until_idle ();
  g_source_remove (first);
  g_source_remove (last);
}

typedef struct
{
  gboolean idle_ran;
  guint    yields_after_idle;
  guint    yields;
} Busy;

static void
yield_until_idle (WeftTask     *task,
                  WeftFuture   *awaited,
                  const GError *error,
                  gpointer      user_data)
{
  Busy *busy = user_data;

  if (busy->idle_ran || ++busy->yields == 50 * 1000 * 1000)
    {
      busy->yields_after_idle = busy->yields;
      weft_task_return_void (task);
      return;
    }
  weft_task_yield (task);
}

static gboolean
note_idle (gpointer user_data)
{
  ((Busy *) user_data)->idle_ran = TRUE;
  return G_SOURCE_REMOVE;
}

/* A task that never stops yielding still lets lower-priority sources (an
 * idle here; GTK's redraw in an application) run after each slice */
static void
test_busy_tasks_do_not_starve_the_loop (WeftTestLoop  *loop,
                                        gconstpointer  data)
{
  Busy busy = { FALSE, 0, 0 };
  g_autoptr(WeftTask) task = weft_task_new ("busy", yield_until_idle, &busy, NULL);
  g_autoptr(GSource) idle = g_idle_source_new ();

  g_source_set_priority (idle, G_PRIORITY_DEFAULT_IDLE);
  g_source_set_callback (idle, note_idle, &busy, NULL);
  g_source_attach (idle, loop->context);

  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_true (busy.idle_ran);
  g_assert_cmpuint (busy.yields_after_idle, <, 50 * 1000 * 1000);
}

static void
yield_ten_times (WeftTask *task,
                 gpointer  user_data)
{
  for (int i = 0; i < 10; i++)
    weft_sleep (0, NULL);
}

/* M1 passes are batched: one main loop iteration runs many of them */
static void
test_dispatch_runs_passes (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  g_autoptr(WeftTask) task = weft_fiber_new (NULL, yield_ten_times, NULL, NULL);

  g_assert_true (g_main_context_iteration (loop->context, FALSE));
  g_assert_true (weft_future_is_done (WEFT_FUTURE (task)));
}

static void
quit_after_sleeping (WeftTask *task,
                     gpointer  user_data)
{
  g_assert_true (weft_sleep (0.001, NULL));
  g_main_loop_quit (user_data);
}

/* As in a GTK application: no weft_run(), just the context's main loop */
static void
test_plain_main_loop (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  g_autoptr(GMainLoop) main_loop = g_main_loop_new (loop->context, FALSE);
  g_autoptr(WeftTask) task = weft_fiber_new (NULL, quit_after_sleeping, main_loop, NULL);

  g_main_loop_run (main_loop);
  g_assert_true (weft_future_propagate (WEFT_FUTURE (task), NULL));
}

static void
run_pass_from_inside (WeftTask *task,
                      gpointer  user_data)
{
  g_test_expect_message ("Weft", G_LOG_LEVEL_CRITICAL, "*weft_scheduler_get_running () != scheduler*");
  g_assert_cmpuint (weft_run_pass (user_data), ==, 0);
  g_test_assert_expected_messages ();
}

/* Never re-entrant: a step cannot run a pass of its own context */
static void
test_no_reentrant_pass (WeftTestLoop  *loop,
                        gconstpointer  data)
{
  g_autoptr(WeftTask) task = weft_fiber_new (NULL, run_pass_from_inside, loop->context, NULL);
  g_autoptr(WeftTask) bystander = weft_fiber_new (NULL, finish_at_once, NULL, NULL);

  g_assert_cmpuint (weft_test_pass (), ==, 2);
  g_assert_true (weft_future_is_done (WEFT_FUTURE (task)));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  WEFT_TEST_ADD ("/scheduler/one-source-per-context", test_one_source_per_context);
  WEFT_TEST_ADD ("/scheduler/busy-tasks-do-not-starve-the-loop", test_busy_tasks_do_not_starve_the_loop);
  WEFT_TEST_ADD ("/scheduler/dispatch-runs-passes", test_dispatch_runs_passes);
  WEFT_TEST_ADD ("/scheduler/plain-main-loop", test_plain_main_loop);
  WEFT_TEST_ADD ("/scheduler/no-reentrant-pass", test_no_reentrant_pass);

  return g_test_run ();
}
