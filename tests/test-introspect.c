/* test-introspect.c — names, all tasks, stacks: rules T16, T18, I1, I2
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-test-utils.h"

static void
nothing (WeftTask *task,
         gpointer  user_data)
{
}

/* T16: default names are Task-N, unique and increasing; set_name renames */
static void
test_names (WeftTestLoop  *loop,
            gconstpointer  data)
{
  g_autoptr(WeftTask) a = weft_fiber_new (NULL, nothing, NULL, NULL);
  g_autoptr(WeftTask) b = weft_fiber_new (NULL, nothing, NULL, NULL);
  g_autoptr(WeftTask) named = weft_fiber_new ("named", nothing, NULL, NULL);
  g_autofree char *expected = g_strdup_printf ("Task-%" G_GUINT64_FORMAT, weft_task_get_id (a));

  g_assert_cmpstr (weft_task_get_name (a), ==, expected);
  g_assert_true (g_str_has_prefix (weft_task_get_name (b), "Task-"));
  g_assert_cmpuint (weft_task_get_id (b), >, weft_task_get_id (a));
  g_assert_cmpstr (weft_task_get_name (named), ==, "named");

  weft_task_set_name (a, "renamed");
  g_assert_cmpstr (weft_task_get_name (a), ==, "renamed");
  weft_task_set_name (a, NULL);
  g_assert_cmpstr (weft_task_get_name (a), ==, expected);

  weft_test_pass ();
}

/* I2: all tasks are the unfinished ones of that context, oldest first */
static void
test_all_tasks (WeftTestLoop  *loop,
                gconstpointer  data)
{
  g_autoptr(WeftFuture) gate = weft_future_new ();
  g_autoptr(WeftTask) quick = weft_fiber_new (NULL, nothing, NULL, NULL);
  g_autoptr(WeftTask) slow = weft_fiber_new (NULL, weft_test_await_data, gate, NULL);
  g_autoptr(GPtrArray) before = weft_task_list_all (loop->context);
  g_autoptr(GPtrArray) after = NULL;
  g_autoptr(GPtrArray) elsewhere = NULL;
  g_autoptr(GMainContext) other = g_main_context_new ();

  g_assert_cmpuint (before->len, ==, 2);
  g_assert_true (g_ptr_array_index (before, 0) == quick);
  g_assert_true (g_ptr_array_index (before, 1) == slow);

  weft_test_pass ();
  after = weft_task_list_all (loop->context);
  g_assert_cmpuint (after->len, ==, 1);
  g_assert_true (g_ptr_array_index (after, 0) == slow);

  elsewhere = weft_task_list_all (other);
  g_assert_cmpuint (elsewhere->len, ==, 0);

  weft_future_set_boolean (gate, TRUE);
  weft_test_pass ();
}

static void
inner_waits (WeftTask *task,
             gpointer  user_data)
{
  weft_test_await_data (task, user_data);
}

static void
outer_waits_for_inner (WeftTask *task,
                       gpointer  user_data)
{
  g_autoptr(WeftTask) inner = weft_fiber_new ("inner", inner_waits, user_data, NULL);
  g_autoptr(GError) error = NULL;

  if (!weft_await (WEFT_FUTURE (inner), &error))
    weft_task_return_error (task, g_steal_pointer (&error));
}

/* T18: a suspended task's stack is its await site, then the await sites
 * down the chain of tasks it waits on, with file, line and function */
static void
test_stack_of_suspended_task (WeftTestLoop  *loop,
                              gconstpointer  data)
{
  g_autoptr(WeftFuture) gate = weft_future_new ();
  g_autoptr(WeftTask) outer = weft_fiber_new ("outer", outer_waits_for_inner, gate, NULL);
  g_autoptr(GPtrArray) frames = NULL;
  g_autoptr(GPtrArray) limited = NULL;
  g_autofree char *text = NULL;
  const WeftAwaitSite *site;

  frames = weft_task_get_stack (outer, 0);
  g_assert_cmpuint (frames->len, ==, 0);
  g_clear_pointer (&frames, g_ptr_array_unref);

  weft_test_passes (2);
  frames = weft_task_get_stack (outer, 0);
  g_assert_cmpuint (frames->len, ==, 2);

  site = g_ptr_array_index (frames, 0);
  g_assert_cmpstr (site->function, ==, "outer_waits_for_inner");
  g_assert_true (g_str_has_suffix (site->file, "test-introspect.c"));
  g_assert_cmpint (site->line, >, 0);
  site = g_ptr_array_index (frames, 1);
  g_assert_cmpstr (site->function, ==, "weft_test_await_data");

  /* limit keeps the newest frames of a stack. */
  limited = weft_task_get_stack (outer, 1);
  g_assert_cmpuint (limited->len, ==, 1);
  g_assert_true (g_ptr_array_index (limited, 0) == site);

  text = weft_task_format_stack (outer, 0);
  g_assert_true (g_str_has_prefix (text, "Stack for <Task pending name='outer'> (most recent call last):\n"));
  g_assert_nonnull (strstr (text, ", in outer_waits_for_inner\n"));
  g_assert_nonnull (strstr (text, ", in weft_test_await_data\n"));

  weft_future_set_boolean (gate, TRUE);
  weft_test_run_until_idle ();

  /* T18: a task that finished has no stack. */
  g_clear_pointer (&frames, g_ptr_array_unref);
  frames = weft_task_get_stack (outer, 0);
  g_assert_cmpuint (frames->len, ==, 0);
  g_clear_pointer (&text, g_free);
  text = weft_task_format_stack (outer, 0);
  g_assert_cmpstr (text, ==, "No stack for <Task finished name='outer'>\n");
}

/* T18: a failed task gives where the error reached it */
static void
test_stack_of_failed_task (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  g_autoptr(WeftFuture) gate = weft_future_new ();
  g_autoptr(WeftTask) task = weft_fiber_new ("failing", weft_test_await_data, gate, NULL);
  g_autoptr(GPtrArray) frames = NULL;
  g_autofree char *text = NULL;

  weft_test_pass ();
  weft_future_set_error_literal (gate, G_IO_ERROR, G_IO_ERROR_FAILED, "x");
  weft_test_pass ();

  frames = weft_task_get_stack (task, 0);
  g_assert_cmpuint (frames->len, ==, 1);
  g_assert_cmpstr (((WeftAwaitSite *) g_ptr_array_index (frames, 0))->function, ==, "weft_test_await_data");
  text = weft_task_format_stack (task, 0);
  g_assert_true (g_str_has_prefix (text, "Traceback for <Task finished name='failing'>"));
  g_assert_false (weft_future_propagate (WEFT_FUTURE (task), NULL));
}

/* T18: print_stack writes to standard output */
static void
test_print_stack (WeftTestLoop  *loop,
                  gconstpointer  data)
{
  if (g_test_subprocess ())
    {
      g_autoptr(WeftFuture) gate = weft_future_new ();
      g_autoptr(WeftTask) task = weft_fiber_new ("printed", weft_test_await_data, gate, NULL);

      weft_test_pass ();
      weft_task_print_stack (task, 0);
      weft_future_cancel (gate, NULL);
      weft_test_pass ();
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("Stack for <Task pending name='printed'> (most recent call last):\n"
                             "  File \"*weft-test-utils.c\", line *, in weft_test_await_data\n");
}

/* T12, T17: a pending task with cancel requests reads "cancelling" */
static void
test_state_in_description (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  g_autoptr(WeftFuture) gate = weft_future_new ();
  g_autoptr(WeftTask) task = weft_fiber_new ("t", weft_test_await_data, gate, NULL);
  g_autofree char *pending = NULL;
  g_autofree char *cancelled = NULL;

  weft_test_pass ();
  weft_task_cancel (task, NULL);
  pending = weft_task_format_stack (task, 0);
  g_assert_true (g_str_has_prefix (pending, "Stack for <Task cancelling name='t'>"));
  weft_test_pass ();
  cancelled = weft_task_format_stack (task, 0);
  g_assert_cmpstr (cancelled, ==, "No stack for <Task cancelled name='t'>\n");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  WEFT_TEST_ADD ("/introspect/names", test_names);
  WEFT_TEST_ADD ("/introspect/all-tasks", test_all_tasks);
  WEFT_TEST_ADD ("/introspect/stack-of-suspended-task", test_stack_of_suspended_task);
  WEFT_TEST_ADD ("/introspect/stack-of-failed-task", test_stack_of_failed_task);
  WEFT_TEST_ADD ("/introspect/print-stack", test_print_stack);
  WEFT_TEST_ADD ("/introspect/state-in-description", test_state_in_description);

  return g_test_run ();
}
