/* test-run.c — weft_run() and weft_run_until_complete(): asyncio.run
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-test-utils.h"

static void
answer (WeftTask *task,
        gpointer  user_data)
{
  g_assert_true (weft_sleep (0.001, NULL));
  weft_task_return_string (task, "answer");
}

/* asyncio.run: the main coroutine runs on a fresh context to completion */
static void
test_run_value (void)
{
  GMainContext *outer = g_main_context_get_thread_default ();
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  g_assert_true (weft_run (answer, NULL, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (g_value_get_string (&value), ==, "answer");
  g_assert_true (g_main_context_get_thread_default () == outer);
}

static void
fail (WeftTask *task,
      gpointer  user_data)
{
  weft_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_BUSY, "busy"));
}

static void
test_run_error (void)
{
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;

  g_assert_false (weft_run (fail, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_clear_error (&error);

  g_assert_false (weft_run (fail, NULL, &value, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_assert_false (G_IS_VALUE (&value));
}

typedef struct
{
  gboolean cancelled;
  gboolean cleaned_up;
} Leftover;

static void
linger (WeftTask *task,
        gpointer  user_data)
{
  Leftover *state = user_data;
  g_autoptr(GError) error = NULL;

  if (!weft_sleep (3600, &error))
    {
      state->cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      /* Cleanup may still await: the leftover is waited for, not dropped. */
      weft_task_uncancel (task);
      state->cleaned_up = weft_sleep (0, NULL);
      weft_task_return_error (task, g_steal_pointer (&error));
    }
}

static void
spawn_and_leave (WeftTask *task,
                 gpointer  user_data)
{
  g_object_unref (weft_fiber_new ("leftover", linger, user_data, NULL));
  g_assert_true (weft_sleep (0, NULL));
}

/* asyncio.run cancels the tasks main left behind, and waits for them */
static void
test_run_cancels_leftovers (void)
{
  Leftover state = { FALSE, FALSE };

  g_assert_true (weft_run (spawn_and_leave, &state, NULL, NULL));
  g_assert_true (state.cancelled);
  g_assert_true (state.cleaned_up);
}

static void
nested_run (WeftTask *task,
            gpointer  user_data)
{
  g_test_expect_message ("Weft", G_LOG_LEVEL_CRITICAL, "*weft_task_get_current () == NULL*");
  g_assert_false (weft_run (answer, NULL, NULL, NULL));
  g_test_assert_expected_messages ();
}

/* weft_run from inside a task is refused, as asyncio.run is in a running loop */
static void
test_run_nested (void)
{
  g_assert_true (weft_run (nested_run, NULL, NULL, NULL));
}

/* run_until_complete drives the future's own context */
static void
test_run_until_complete (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  g_autoptr(WeftTask) task = weft_fiber_new (NULL, answer, NULL, NULL);
  g_autoptr(WeftFuture) failed = weft_future_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (weft_run_until_complete (WEFT_FUTURE (task), &error));
  g_assert_no_error (error);

  weft_future_set_error_literal (failed, G_IO_ERROR, G_IO_ERROR_FAILED, "no");
  g_assert_false (weft_run_until_complete (failed, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/run/value", test_run_value);
  g_test_add_func ("/run/error", test_run_error);
  g_test_add_func ("/run/cancels-leftovers", test_run_cancels_leftovers);
  g_test_add_func ("/run/nested", test_run_nested);
  WEFT_TEST_ADD ("/run/until-complete", test_run_until_complete);

  return g_test_run ();
}
