/* test-fiber.c — fibers: typed awaits, errors outside fibers, stacks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-test-utils.h"

typedef struct
{
  WeftFuture *b, *i, *d, *s, *o, *x, *p, *v;
} Futures;

static void
await_every_type (WeftTask *task,
                  gpointer  user_data)
{
  Futures *f = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *string = NULL;
  g_autoptr(GObject) object = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_auto(GValue) value = G_VALUE_INIT;

  g_assert_true (weft_await_boolean (f->b, &error));
  g_assert_cmpint (weft_await_int64 (f->i, &error), ==, -9);
  g_assert_cmpfloat (weft_await_double (f->d, &error), ==, 0.25);
  string = weft_await_string (f->s, &error);
  object = weft_await_object (f->o, &error);
  bytes = weft_await_boxed (f->x, &error);
  g_assert_cmpstr (weft_await_pointer (f->p, &error), ==, "pointer");
  g_assert_true (weft_await_value (f->v, &value, &error));
  g_assert_no_error (error);

  g_assert_cmpstr (string, ==, "string");
  g_assert_true (G_IS_OBJECT (object));
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 7);
  g_assert_cmpuint (g_value_get_uchar (&value), ==, 200);
  weft_task_return_boolean (task, TRUE);
}

/* F9, T4: each typed await suspends until its future is set, then returns
 * the value in the next pass */
static void
test_typed_awaits (WeftTestLoop  *loop,
                   gconstpointer  data)
{
  Futures f;
  WeftFuture **all = (WeftFuture **) &f;
  g_autoptr(WeftTask) task = NULL;
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(GBytes) bytes = g_bytes_new_static ("boxed", 7);
  g_auto(GValue) value = G_VALUE_INIT;
  guint n = sizeof f / sizeof *all;

  for (guint k = 0; k < n; k++)
    all[k] = weft_future_new ();
  task = weft_fiber_new (NULL, await_every_type, &f, NULL);

  weft_test_pass ();
  g_assert_true (weft_task_is_suspended (task));
  g_assert_true (weft_task_get_awaited (task) == f.b);

  weft_future_set_boolean (f.b, TRUE);
  weft_future_set_int64 (f.i, -9);
  weft_future_set_double (f.d, 0.25);
  weft_future_set_string (f.s, "string");
  weft_future_set_object (f.o, object);
  weft_future_set_boxed (f.x, G_TYPE_BYTES, bytes);
  weft_future_set_pointer (f.p, g_strdup ("pointer"), g_free);
  g_value_init (&value, G_TYPE_UCHAR);
  g_value_set_uchar (&value, 200);
  weft_future_set_value (f.v, &value);

  /* Only the first await suspended: the rest were done already. */
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_true (weft_future_get_boolean (WEFT_FUTURE (task), NULL));

  for (guint k = 0; k < n; k++)
    g_object_unref (all[k]);
}

static void
await_and_return_error (WeftTask *task,
                        gpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (weft_await_int64 (user_data, &error), ==, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  weft_task_return_error (task, g_steal_pointer (&error));
}

/* F2, T3: an awaited error comes back as that GError and can be raised */
static void
test_await_error (WeftTestLoop  *loop,
                  gconstpointer  data)
{
  g_autoptr(WeftFuture) future = weft_future_new ();
  g_autoptr(WeftTask) task = weft_fiber_new (NULL, await_and_return_error, future, NULL);
  g_autoptr(GError) error = NULL;

  weft_test_pass ();
  weft_future_set_error_literal (future, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "slow");
  weft_test_pass ();
  g_assert_false (weft_future_propagate (WEFT_FUTURE (task), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpstr (error->message, ==, "slow");
}

static void
await_from_stackless (WeftTask     *task,
                      WeftFuture   *awaited,
                      const GError *error,
                      gpointer      user_data)
{
  g_autoptr(GError) local_error = NULL;

  g_assert_false (weft_await (user_data, &local_error));
  g_assert_error (local_error, WEFT_ERROR, WEFT_ERROR_NOT_IN_TASK);
  g_clear_error (&local_error);
  g_assert_false (weft_sleep (1, &local_error));
  g_assert_error (local_error, WEFT_ERROR, WEFT_ERROR_NOT_IN_TASK);
  weft_task_return_void (task);
}

/* Awaiting outside a fiber is an error, never a crash */
static void
test_await_outside_fiber (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  g_autoptr(WeftFuture) future = weft_future_new ();
  g_autoptr(WeftTask) stackless = weft_task_new (NULL, await_from_stackless, future, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_false (weft_await (future, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_NOT_IN_TASK);

  weft_test_pass ();
  g_assert_true (weft_future_propagate (WEFT_FUTURE (stackless), NULL));
  g_assert_false (weft_future_is_done (future));
}

static void
return_then_await (WeftTask *task,
                   gpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  weft_task_return_int64 (task, 1);
  g_assert_false (weft_await (user_data, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_INVALID_STATE);
}

/* A fiber that has returned cannot suspend any more */
static void
test_await_after_return (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  g_autoptr(WeftFuture) future = weft_future_new ();
  g_autoptr(WeftTask) task = weft_fiber_new (NULL, return_then_await, future, NULL);

  weft_test_pass ();
  g_assert_cmpint (weft_future_get_int64 (WEFT_FUTURE (task), NULL), ==, 1);
}

typedef struct
{
  WeftFuture *tick;
  GString    *log;
  int         id;
} Player;

static void
player (WeftTask *task,
        gpointer  user_data)
{
  Player *self = user_data;

  for (int round = 0; round < 3; round++)
    {
      weft_test_log (self->log, "%d.%d", self->id, round);
      g_assert_true (weft_sleep (0, NULL));
    }
}

/* S1, T4: fibers interleave one pass at a time, each on its own stack */
static void
test_interleaving (WeftTestLoop  *loop,
                   gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  Player players[3] = { { NULL, log, 0 }, { NULL, log, 1 }, { NULL, log, 2 } };
  WeftTask *tasks[3];

  for (int i = 0; i < 3; i++)
    tasks[i] = weft_fiber_new (NULL, player, &players[i], NULL);

  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "0.0 1.0 2.0 0.1 1.1 2.1 0.2 1.2 2.2");

  for (int i = 0; i < 3; i++)
    {
      g_assert_true (weft_future_is_done (WEFT_FUTURE (tasks[i])));
      g_object_unref (tasks[i]);
    }
}

static guint64 recurse (guint depth);

/* Called through a volatile pointer so the compiler cannot turn the
 * recursion into a loop.
 */
static guint64 (* volatile recurse_again) (guint depth) = recurse;

static guint64
recurse (guint depth)
{
  volatile char frame[256];

  frame[0] = (char) depth;
  if (depth == 0)
    return frame[0];
  return recurse_again (depth - 1) + frame[0];
}

static void
deep_recursion (WeftTask *task,
                gpointer  user_data)
{
  /* Tens of KiB of frames (more under AddressSanitizer): fits the default,
   * across a suspension.
   */
  g_assert_true (weft_sleep (0, NULL));
  weft_task_return_int64 (task, (gint64) recurse (200));
}

/* The default stack is large enough for deep call chains */
static void
test_deep_stack (WeftTestLoop  *loop,
                 gconstpointer  data)
{
  g_autoptr(WeftTask) task = weft_fiber_new (NULL, deep_recursion, NULL, NULL);

  g_assert_cmpuint (weft_fiber_get_default_stack_size (), >=, 128 * 1024);
  weft_test_run_until_idle ();
  g_assert_cmpint (weft_future_get_int64 (WEFT_FUTURE (task), NULL), >, 0);
}

static void
overflow (WeftTask *task,
          gpointer  user_data)
{
  recurse (G_MAXUINT);
}

/* A stack overflow dies with a message that names the task */
static void
test_stack_overflow (WeftTestLoop  *loop,
                     gconstpointer  data)
{
  if (g_test_subprocess ())
    {
      g_autoptr(WeftTask) task = weft_fiber_new ("runaway", overflow, NULL, NULL);

      weft_test_pass ();
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*stack overflow in task 'runaway'*");
}

static void
count_to (WeftTask *task,
          gpointer  user_data)
{
  WeftFuture *gate = user_data;
  g_autoptr(GError) error = NULL;

  weft_task_return_int64 (task, weft_await_int64 (gate, &error) + 1);
}

/* Many suspended fibers at once, all resumed by one future */
static void
test_many_fibers (WeftTestLoop  *loop,
                  gconstpointer  data)
{
  g_autoptr(WeftFuture) gate = weft_future_new ();
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  gint64 sum = 0;

  for (guint i = 0; i < 2000; i++)
    g_ptr_array_add (tasks, weft_fiber_new (NULL, count_to, gate, NULL));
  weft_test_pass ();
  weft_future_set_int64 (gate, 1);
  weft_test_pass ();

  for (guint i = 0; i < tasks->len; i++)
    sum += weft_future_get_int64 (g_ptr_array_index (tasks, i), NULL);
  g_assert_cmpint (sum, ==, 2 * 2000);
}

static void
stack_size_roundtrip (void)
{
  gsize saved = weft_fiber_get_default_stack_size ();

  weft_fiber_set_default_stack_size (64 * 1024);
  g_assert_cmpuint (weft_fiber_get_default_stack_size (), ==, 64 * 1024);

  g_test_expect_message ("Weft", G_LOG_LEVEL_CRITICAL, "*stack_size*");
  weft_fiber_set_default_stack_size (100);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (weft_fiber_get_default_stack_size (), ==, 64 * 1024);

  weft_fiber_set_default_stack_size (saved);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  WEFT_TEST_ADD ("/fiber/typed-awaits", test_typed_awaits);
  WEFT_TEST_ADD ("/fiber/await-error", test_await_error);
  WEFT_TEST_ADD ("/fiber/await-outside-fiber", test_await_outside_fiber);
  WEFT_TEST_ADD ("/fiber/await-after-return", test_await_after_return);
  WEFT_TEST_ADD ("/fiber/interleaving", test_interleaving);
  WEFT_TEST_ADD ("/fiber/deep-stack", test_deep_stack);
  WEFT_TEST_ADD ("/fiber/stack-overflow", test_stack_overflow);
  WEFT_TEST_ADD ("/fiber/many-fibers", test_many_fibers);
  g_test_add_func ("/fiber/stack-size", stack_size_roundtrip);

  return g_test_run ();
}
