/* test-inspect-registry.c: the live records of tasks, as batches show them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include <string.h>

#include "weft-test-utils.h"
#include "weft-inspect-private.h"

/* Functions the batches name: not static, and the test is linked with
 * -rdynamic, so that even dladdr() finds them.
 */
void inspect_test_fiber_body   (WeftTask *task, gpointer user_data);
void inspect_test_waiting_step (WeftTask *task, WeftFuture *awaited, const GError *error, gpointer user_data);
WeftTask *inspect_test_spawn   (Kind kind, const char *name, WeftFuture *future);

static GVariant *
full_batch (void)
{
  g_autoptr(WeftInspectCollector) collector = weft_inspect_collector_new ();

  return g_variant_ref_sink (weft_inspect_collector_full (collector));
}

/* The task @id of @batch, or NULL. */
static GVariant *
find_task (GVariant *batch,
           guint64   id)
{
  g_autoptr(GVariant) tasks = g_variant_lookup_value (batch, "tasks", G_VARIANT_TYPE ("aa{sv}"));

  for (gsize i = 0; i < g_variant_n_children (tasks); i++)
    {
      g_autoptr(GVariant) task = g_variant_get_child_value (tasks, i);
      guint64 task_id = 0;

      g_variant_lookup (task, "id", "t", &task_id);
      if (task_id == id)
        return g_steal_pointer (&task);
    }
  return NULL;
}

static GVariant *
find_task_of (GVariant *batch,
              WeftTask *task)
{
  GVariant *found = find_task (batch, weft_task_get_id (task));

  g_assert_nonnull (found);
  return found;
}

static char *
task_string (GVariant   *task,
             const char *key)
{
  char *value = NULL;

  g_assert_true (g_variant_lookup (task, key, "s", &value));
  return value;
}

static guint64
task_u64 (GVariant   *task,
          const char *key)
{
  guint64 value = 0;

  g_assert_true (g_variant_lookup (task, key, "t", &value));
  return value;
}

static void
assert_task_string (WeftTask   *task,
                    const char *key,
                    const char *expected)
{
  g_autoptr(GVariant) batch = full_batch ();
  g_autoptr(GVariant) record = find_task_of (batch, task);
  g_autofree char *value = task_string (record, key);

  g_assert_cmpstr (value, ==, expected);
}

/* The ids in @task's "awaits", sorted. */
static GArray *
task_awaits (GVariant *task)
{
  g_autoptr(GVariant) awaits = g_variant_lookup_value (task, "awaits", G_VARIANT_TYPE ("at"));
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (guint64));
  gsize n;
  const guint64 *data = g_variant_get_fixed_array (awaits, &n, sizeof (guint64));

  g_array_append_vals (ids, data, n);
  return ids;
}

/* A lint of @kind for @task in @batch, or NULL. */
static GVariant *
find_lint (GVariant   *batch,
           const char *kind,
           WeftTask   *task)
{
  g_autoptr(GVariant) lints = g_variant_lookup_value (batch, "lints", G_VARIANT_TYPE ("aa{sv}"));

  for (gsize i = 0; i < g_variant_n_children (lints); i++)
    {
      g_autoptr(GVariant) lint = g_variant_get_child_value (lints, i);
      g_autofree char *lint_kind = NULL;
      guint64 id = 0;

      g_variant_lookup (lint, "kind", "s", &lint_kind);
      g_variant_lookup (lint, "task", "t", &id);
      if (g_str_equal (lint_kind, kind) && id == weft_task_get_id (task))
        return g_steal_pointer (&lint);
    }
  return NULL;
}

static void
assert_lint (const char *kind,
             WeftTask   *task)
{
  g_autoptr(GVariant) batch = full_batch ();
  g_autoptr(GVariant) lint = find_lint (batch, kind, task);

  g_assert_nonnull (lint);
}

/* Bodies ---------------------------------------------------------------- */

void
inspect_test_fiber_body (WeftTask *task,
                         gpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  if (!weft_await (user_data, &error))
    weft_task_return_error (task, g_steal_pointer (&error));
  else
    weft_task_return_int64 (task, 42);
}

void
inspect_test_waiting_step (WeftTask     *task,
                           WeftFuture   *awaited,
                           const GError *error,
                           gpointer      user_data)
{
  if (error != NULL)
    weft_task_return_error (task, g_error_copy (error));
  else if (awaited == NULL)
    weft_task_await (task, user_data);
  else
    weft_task_return_int64 (task, 42);
}

/* Not a tail call: created-at is then a line of this function. */
G_GNUC_NO_INLINE WeftTask *
inspect_test_spawn (Kind        kind,
                    const char *name,
                    WeftFuture *future)
{
  WeftTask *task;

  if (kind == KIND_FIBER)
    task = weft_fiber_new (name, inspect_test_fiber_body, future, NULL);
  else
    task = weft_task_new (name, inspect_test_waiting_step, future, NULL);
  g_assert_nonnull (task);
  return task;
}

/* Tests ---------------------------------------------------------------- */

static void
return_step (WeftTask     *task,
             WeftFuture   *awaited,
             const GError *error,
             gpointer      user_data)
{
  weft_task_return_void (task);
}

static void
sleep_step (WeftTask     *task,
            WeftFuture   *awaited,
            const GError *error,
            gpointer      user_data)
{
  if (error != NULL)
    weft_task_return_error (task, g_error_copy (error));
  else
    weft_task_sleep (task, 3600);
}

/* Registered first: nothing is recorded before the registry starts; then
 * the tasks from before get records at their loop's next iteration, of
 * what they do by then.
 */
static void
test_off_then_adopted (WeftTestLoop  *loop,
                       gconstpointer  data)
{
  g_autoptr(WeftFuture) future = weft_future_new ();
  g_autoptr(WeftTask) waiting = inspect_test_spawn (KIND_STACKLESS, "waiting", future);
  g_autoptr(WeftTask) sleeping = weft_task_new ("sleeping", sleep_step, NULL, NULL);
  g_autoptr(WeftTask) scheduled = NULL;
  g_autoptr(GVariant) batch = NULL;
  g_autoptr(GVariant) tasks = NULL;

  weft_test_pass ();
  scheduled = weft_task_new ("scheduled", return_step, NULL, NULL);
  batch = full_batch ();
  tasks = g_variant_lookup_value (batch, "tasks", G_VARIANT_TYPE ("aa{sv}"));
  g_assert_cmpuint (g_variant_n_children (tasks), ==, 0);
  g_clear_pointer (&batch, g_variant_unref);

  weft_inspect_registry_start ();
  g_main_context_iteration (loop->context, FALSE);   /* runs the scheduled one too */
  assert_task_string (waiting, "state", "suspended");
  assert_task_string (waiting, "awaited", "WeftFuture");
  assert_task_string (sleeping, "state", "suspended");
  assert_task_string (scheduled, "state", "done");

  weft_future_set_int64 (future, 1);
  weft_test_run_until_done (WEFT_FUTURE (waiting));
  weft_task_cancel (sleeping, NULL);
  weft_test_run_until_done (WEFT_FUTURE (sleeping));
  assert_task_string (waiting, "state", "done");
  assert_task_string (sleeping, "state", "cancelled");
}

/* Every other test records from its very first task. */
static void
inspect_setup (WeftTestLoop  *loop,
               gconstpointer  data)
{
  weft_inspect_registry_start ();
  weft_test_loop_setup (loop, data);
}

#define INSPECT_TEST_ADD(path, func, kind) \
  g_test_add (path, WeftTestLoop, GINT_TO_POINTER (kind), inspect_setup, func, weft_test_loop_teardown)

static void
test_life (WeftTestLoop  *loop,
           gconstpointer  data)
{
  g_autoptr(WeftFuture) future = weft_future_new ();
  g_autoptr(WeftTask) task = inspect_test_spawn (KIND (data), "life", future);
  g_autoptr(GVariant) batch = NULL;
  g_autoptr(GVariant) record = NULL;
  g_autofree char *function = NULL;
  g_autofree char *created_at = NULL;
  const char *site_function = NULL;
  const char *site_file = NULL;
  gint32 site_line = 0;
  guint64 steps = 0;

  assert_task_string (task, "state", "scheduled");
  assert_task_string (task, "name", "life");
  assert_task_string (task, "kind", KIND (data) == KIND_FIBER ? "fiber" : "stackless");

  batch = full_batch ();
  record = find_task_of (batch, task);
  function = task_string (record, "function");
  g_assert_cmpstr (function, ==, KIND (data) == KIND_FIBER ? "inspect_test_fiber_body"
                                                           : "inspect_test_waiting_step");
  /* With dladdr the file is unknown; the function, the caller, is not. */
  created_at = task_string (record, "created-at");
  g_test_message ("created-at: %s", created_at);
  g_assert_true (g_str_has_prefix (created_at, "inspect_test_spawn") ||
                 strstr (created_at, "test-inspect-registry.c:") != NULL);
  g_assert_cmpuint (task_u64 (record, "parent"), ==, 0);
  g_clear_pointer (&record, g_variant_unref);
  g_clear_pointer (&batch, g_variant_unref);

  weft_test_pass ();
  assert_task_string (task, "state", "suspended");
  assert_task_string (task, "awaited", "WeftFuture");

  batch = full_batch ();
  record = find_task_of (batch, task);
  g_assert_true (g_variant_lookup (record, "site", "(&s&si)", &site_function, &site_file, &site_line));
  g_assert_cmpstr (site_function, ==, KIND (data) == KIND_FIBER ? "inspect_test_fiber_body"
                                                                : "inspect_test_waiting_step");
  g_assert_true (g_str_has_suffix (site_file, "test-inspect-registry.c"));
  g_assert_cmpint (site_line, >, 0);
  g_clear_pointer (&record, g_variant_unref);
  g_clear_pointer (&batch, g_variant_unref);

  weft_future_set_int64 (future, 7);
  weft_test_run_until_done (WEFT_FUTURE (task));
  weft_test_assert_finished_int (task, 42);

  batch = full_batch ();
  record = find_task_of (batch, task);
  g_assert_true (g_variant_lookup (record, "steps", "t", &steps));
  g_assert_cmpuint (steps, ==, 2);
  g_clear_pointer (&function, g_free);
  function = task_string (record, "state");
  g_assert_cmpstr (function, ==, "done");
  g_clear_pointer (&function, g_free);
  function = task_string (record, "result");
  g_assert_cmpstr (function, ==, "42");
}

static void
yield_three_times (WeftTask     *task,
                   WeftFuture   *awaited,
                   const GError *error,
                   gpointer      user_data)
{
  int *count = user_data;

  if ((*count)++ < 3)
    weft_task_yield (task);
  else
    weft_task_return_void (task);
}

static void
test_timing (WeftTestLoop  *loop,
             gconstpointer  data)
{
  int count = 0;
  g_autoptr(WeftTask) task = weft_task_new ("yielder", yield_three_times, &count, NULL);
  g_autoptr(GVariant) batch = NULL;
  g_autoptr(GVariant) record = NULL;
  g_autoptr(GVariant) histogram = NULL;
  const guint32 *buckets;
  gsize n_buckets;
  guint64 sum = 0;
  gint64 busy = -1, longest = -1, waiting = -1;

  weft_test_run_until_done (WEFT_FUTURE (task));
  batch = full_batch ();
  record = find_task_of (batch, task);

  g_assert_cmpuint (task_u64 (record, "steps"), ==, 4);
  histogram = g_variant_lookup_value (record, "histogram", G_VARIANT_TYPE ("au"));
  buckets = g_variant_get_fixed_array (histogram, &n_buckets, sizeof (guint32));
  g_assert_cmpuint (n_buckets, ==, 8);
  for (gsize i = 0; i < n_buckets; i++)
    sum += buckets[i];
  g_assert_cmpuint (sum, ==, 4);
  g_assert_true (g_variant_lookup (record, "busy-us", "x", &busy));
  g_assert_true (g_variant_lookup (record, "longest-step-us", "x", &longest));
  g_assert_true (g_variant_lookup (record, "waiting-us", "x", &waiting));
  g_assert_cmpint (busy, >=, longest);
  g_assert_cmpint (longest, >=, 0);
  g_assert_cmpint (waiting, >=, 0);
}

/* A parent with a group of two tasks, waiting on the group. */
typedef struct
{
  WeftFuture    *gate;
  WeftTaskGroup *group;
  WeftTask      *children[2];
} GroupTest;

static void
group_parent_step (WeftTask     *task,
                   WeftFuture   *awaited,
                   const GError *error,
                   gpointer      user_data)
{
  GroupTest *test = user_data;

  if (awaited != NULL)
    {
      weft_task_return_void (task);
      return;
    }
  test->group = weft_task_group_new (NULL);
  for (guint i = 0; i < 2; i++)
    test->children[i] = g_object_ref (weft_task_group_create_task (test->group, NULL,
                                                                   inspect_test_waiting_step,
                                                                   test->gate, NULL, NULL));
  weft_task_await_take (task, weft_task_group_wait (test->group, NULL));
}

static void
test_group (WeftTestLoop  *loop,
            gconstpointer  data)
{
  GroupTest test = { weft_future_new (), NULL, { NULL, NULL } };
  g_autoptr(WeftTask) parent = weft_task_new ("parent", group_parent_step, &test, NULL);
  g_autoptr(GVariant) batch = NULL;
  g_autoptr(GVariant) record = NULL;
  g_autoptr(GArray) awaits = NULL;
  guint64 group;

  weft_test_pass ();
  weft_test_pass ();
  batch = full_batch ();

  record = find_task_of (batch, parent);
  awaits = task_awaits (record);
  g_assert_cmpuint (awaits->len, ==, 2);
  g_assert_cmpuint (g_array_index (awaits, guint64, 0), ==, weft_task_get_id (test.children[0]));
  g_assert_cmpuint (g_array_index (awaits, guint64, 1), ==, weft_task_get_id (test.children[1]));
  g_clear_pointer (&record, g_variant_unref);

  record = find_task_of (batch, test.children[0]);
  group = task_u64 (record, "group");
  g_assert_cmpuint (group, >, 0);
  g_assert_cmpuint (task_u64 (record, "group-owner"), ==, weft_task_get_id (parent));
  g_assert_cmpuint (task_u64 (record, "parent"), ==, weft_task_get_id (parent));
  g_clear_pointer (&record, g_variant_unref);
  record = find_task_of (batch, test.children[1]);
  g_assert_cmpuint (task_u64 (record, "group"), ==, group);

  weft_future_set_int64 (test.gate, 1);
  weft_test_run_until_done (WEFT_FUTURE (parent));
  g_object_unref (test.children[0]);
  g_object_unref (test.children[1]);
  g_object_unref (test.group);
  g_object_unref (test.gate);
}

static void
test_awaits_task_and_gather (WeftTestLoop  *loop,
                             gconstpointer  data)
{
  g_autoptr(WeftFuture) gate = weft_future_new ();
  g_autoptr(WeftTask) b = inspect_test_spawn (KIND_STACKLESS, "b", gate);
  g_autoptr(WeftTask) d = inspect_test_spawn (KIND_FIBER, "d", gate);
  g_autoptr(WeftTask) a = inspect_test_spawn (KIND_STACKLESS, "a", WEFT_FUTURE (b));
  WeftFuture *children[] = { WEFT_FUTURE (b), WEFT_FUTURE (d) };
  g_autoptr(WeftGather) gather = weft_gather_new (children, 2, FALSE);
  g_autoptr(WeftTask) c = inspect_test_spawn (KIND_FIBER, "c", WEFT_FUTURE (gather));
  g_autoptr(GVariant) batch = NULL;
  g_autoptr(GVariant) record = NULL;
  g_autoptr(GArray) awaits = NULL;
  g_autofree char *awaited = NULL;

  weft_test_pass ();
  batch = full_batch ();

  record = find_task_of (batch, a);
  awaits = task_awaits (record);
  g_assert_cmpuint (awaits->len, ==, 1);
  g_assert_cmpuint (g_array_index (awaits, guint64, 0), ==, weft_task_get_id (b));
  awaited = task_string (record, "awaited");
  {
    g_autofree char *expected = g_strdup_printf ("Task 'b' (%" G_GUINT64_FORMAT ")", weft_task_get_id (b));

    g_assert_cmpstr (awaited, ==, expected);
  }
  g_clear_pointer (&record, g_variant_unref);
  g_clear_pointer (&awaits, g_array_unref);
  g_clear_pointer (&awaited, g_free);

  record = find_task_of (batch, c);
  awaits = task_awaits (record);
  g_assert_cmpuint (awaits->len, ==, 2);
  g_assert_cmpuint (g_array_index (awaits, guint64, 0), ==, weft_task_get_id (b));
  g_assert_cmpuint (g_array_index (awaits, guint64, 1), ==, weft_task_get_id (d));
  awaited = task_string (record, "awaited");
  g_assert_cmpstr (awaited, ==, "WeftGather of 2");

  weft_future_set_int64 (gate, 1);
  weft_test_run_until_done (WEFT_FUTURE (c));
  weft_test_run_until_done (WEFT_FUTURE (a));
}

static void
cancel_step (WeftTask     *task,
             WeftFuture   *awaited,
             const GError *error,
             gpointer      user_data)
{
  weft_task_cancel (user_data, "stop");
  weft_task_return_void (task);
}

static void
test_cancel (WeftTestLoop  *loop,
             gconstpointer  data)
{
  g_autoptr(WeftFuture) future = weft_future_new ();
  g_autoptr(WeftTask) task = inspect_test_spawn (KIND (data), "victim", future);
  g_autoptr(WeftTask) canceller = NULL;
  g_autoptr(GVariant) batch = NULL;
  g_autoptr(GVariant) record = NULL;
  g_autoptr(GVariant) requests = NULL;
  guint64 requester = 0;
  gint64 time_us = 0;
  const char *message = NULL;
  guint32 cancelling = 0;

  weft_test_pass ();
  canceller = weft_task_new ("canceller", cancel_step, task, NULL);
  weft_test_pass ();

  batch = full_batch ();
  record = find_task_of (batch, task);
  g_assert_true (g_variant_lookup (record, "cancelling", "u", &cancelling));
  g_assert_cmpuint (cancelling, ==, 1);
  requests = g_variant_lookup_value (record, "cancel-requests", G_VARIANT_TYPE ("a(txs)"));
  g_assert_cmpuint (g_variant_n_children (requests), ==, 1);
  g_variant_get_child (requests, 0, "(tx&s)", &requester, &time_us, &message);
  g_assert_cmpuint (requester, ==, weft_task_get_id (canceller));
  g_assert_cmpint (time_us, >, 0);
  g_assert_cmpstr (message, ==, "stop");
  g_clear_pointer (&record, g_variant_unref);
  g_clear_pointer (&batch, g_variant_unref);

  weft_test_run_until_done (WEFT_FUTURE (task));
  weft_test_assert_future_cancelled (task, "stop");
  batch = full_batch ();
  record = find_task_of (batch, task);
  g_assert_cmpuint (task_u64 (record, "cancelled-by"), ==, weft_task_get_id (canceller));
  assert_task_string (task, "state", "cancelled");
}

static void
context_step (WeftTask     *task,
              WeftFuture   *awaited,
              const GError *error,
              gpointer      user_data)
{
  GValue value = G_VALUE_INIT;

  if (error != NULL)
    {
      weft_task_return_error (task, g_error_copy (error));
      return;
    }
  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, "alice");
  weft_context_token_unref (weft_context_var_set (user_data, &value));
  g_value_unset (&value);
  weft_task_await_take (task, weft_sleep_future_new (3600, NULL));
}

static void
test_context_values (WeftTestLoop  *loop,
                     gconstpointer  data)
{
  g_autoptr(WeftContextVar) var = weft_context_var_new ("user", G_TYPE_STRING, NULL);
  g_autoptr(WeftTask) task = weft_task_new ("ctx", context_step, var, NULL);
  g_autoptr(GVariant) batch = NULL;
  g_autoptr(GVariant) record = NULL;
  g_autoptr(GVariant) context = NULL;
  const char *name = NULL, *value = NULL;

  weft_test_pass ();
  batch = full_batch ();
  record = find_task_of (batch, task);
  context = g_variant_lookup_value (record, "context", G_VARIANT_TYPE ("a(ss)"));
  g_assert_cmpuint (g_variant_n_children (context), ==, 1);
  g_variant_get_child (context, 0, "(&s&s)", &name, &value);
  g_assert_cmpstr (name, ==, "user");
  g_assert_cmpstr (value, ==, "\"alice\"");

  weft_task_cancel (task, NULL);
  weft_test_run_until_done (WEFT_FUTURE (task));
}

static void
fail_step (WeftTask     *task,
           WeftFuture   *awaited,
           const GError *error,
           gpointer      user_data)
{
  weft_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "boom"));
}

static void
test_error (WeftTestLoop  *loop,
            gconstpointer  data)
{
  g_autoptr(WeftTask) task = weft_task_new ("failing", fail_step, NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = g_strdup_printf ("g-io-error-quark %d: boom", G_IO_ERROR_FAILED);

  weft_test_run_until_done (WEFT_FUTURE (task));
  assert_task_string (task, "state", "failed");
  assert_task_string (task, "error", expected);
  g_assert_false (weft_future_propagate (WEFT_FUTURE (task), &error));
}

static void
long_step (WeftTask     *task,
           WeftFuture   *awaited,
           const GError *error,
           gpointer      user_data)
{
  g_usleep (20000);
  weft_task_return_void (task);
}

static void
long_then_yield (WeftTask     *task,
                 WeftFuture   *awaited,
                 const GError *error,
                 gpointer      user_data)
{
  gboolean *yielded = user_data;

  if (*yielded)
    {
      weft_task_return_void (task);
      return;
    }
  g_usleep (20000);
  *yielded = TRUE;
  weft_task_yield (task);
}

/* The step's own time is busy, not waiting to run. */
static void
test_busy_not_waiting (WeftTestLoop  *loop,
                       gconstpointer  data)
{
  gboolean yielded = FALSE;
  g_autoptr(WeftTask) task = weft_task_new ("busy", long_then_yield, &yielded, NULL);
  g_autoptr(GVariant) batch = NULL;
  g_autoptr(GVariant) record = NULL;
  gint64 busy = 0, waiting = 0;

  weft_test_run_until_done (WEFT_FUTURE (task));
  batch = full_batch ();
  record = find_task_of (batch, task);
  g_assert_true (g_variant_lookup (record, "busy-us", "x", &busy));
  g_assert_true (g_variant_lookup (record, "waiting-us", "x", &waiting));
  g_assert_cmpint (busy, >=, 20000);
  g_assert_cmpint (waiting, <, 20000);
}

static void
test_lint_long_step (WeftTestLoop  *loop,
                     gconstpointer  data)
{
  g_autoptr(WeftTask) task = weft_task_new ("slow", long_step, NULL, NULL);
  g_autoptr(GVariant) batch = NULL;
  g_autoptr(GVariant) lint = NULL;
  gint64 worst = 0;
  guint32 count = 0;

  weft_test_run_until_done (WEFT_FUTURE (task));
  batch = full_batch ();
  lint = find_lint (batch, "long-step", task);
  g_assert_nonnull (lint);
  g_assert_true (g_variant_lookup (lint, "worst-us", "x", &worst));
  g_assert_true (g_variant_lookup (lint, "count", "u", &count));
  g_assert_cmpint (worst, >=, 20000);
  g_assert_cmpuint (count, ==, 1);
}

static void
orphan_step (WeftTask     *task,
             WeftFuture   *awaited,
             const GError *error,
             gpointer      user_data)
{
  if (awaited == NULL)
    weft_task_await_take (task, weft_future_new ());
  else
    weft_task_return_error (task, g_error_copy (error));
}

static void
test_lint_orphaned_await (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  g_autoptr(WeftTask) task = weft_task_new ("orphan", orphan_step, NULL, NULL);

  weft_test_pass ();
  assert_lint ("orphaned-await", task);

  weft_task_cancel (task, NULL);
  weft_test_run_until_done (WEFT_FUTURE (task));
}

static void
swallow_step (WeftTask     *task,
              WeftFuture   *awaited,
              const GError *error,
              gpointer      user_data)
{
  if (awaited == NULL)
    weft_task_await (task, user_data);
  else
    weft_task_return_void (task);   /* the cancellation is dropped */
}

static void
test_lint_swallowed_cancel (WeftTestLoop  *loop,
                            gconstpointer  data)
{
  g_autoptr(WeftFuture) future = weft_future_new ();
  g_autoptr(WeftTask) task = weft_task_new ("swallower", swallow_step, future, NULL);

  weft_test_pass ();
  weft_task_cancel (task, NULL);
  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_false (weft_future_is_cancelled (WEFT_FUTURE (task)));
  assert_lint ("swallowed-cancel", task);
}

static void
test_lint_unread_error (WeftTestLoop  *loop,
                        gconstpointer  data)
{
  WeftTask *task = weft_task_new ("unread", fail_step, NULL, NULL);
  g_autoptr(WeftTask) marker = weft_task_new ("marker", long_step, NULL, NULL);
  guint64 id = weft_task_get_id (task);
  g_autoptr(GVariant) batch = NULL;
  g_autoptr(GVariant) lints = NULL;
  gboolean found = FALSE;

  weft_test_run_until_done (WEFT_FUTURE (task));
  g_test_expect_message ("Weft", G_LOG_LEVEL_WARNING, "*never retrieved*boom*");
  g_object_unref (task);
  g_test_assert_expected_messages ();

  batch = full_batch ();
  lints = g_variant_lookup_value (batch, "lints", G_VARIANT_TYPE ("aa{sv}"));
  for (gsize i = 0; i < g_variant_n_children (lints); i++)
    {
      g_autoptr(GVariant) lint = g_variant_get_child_value (lints, i);
      const char *kind = NULL;
      guint64 task_id = 0;

      g_variant_lookup (lint, "kind", "&s", &kind);
      g_variant_lookup (lint, "task", "t", &task_id);
      found |= g_str_equal (kind, "unread-error") && task_id == id;
    }
  g_assert_true (found);
  weft_test_run_until_done (WEFT_FUTURE (marker));
}

static void
test_lint_pending_at_exit (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  g_autoptr(WeftFuture) future = weft_future_new ();
  g_autoptr(WeftTask) task = inspect_test_spawn (KIND_STACKLESS, "lingering", future);

  weft_test_pass ();
  weft_inspect_registry_note_exit ();
  assert_lint ("pending-at-exit", task);

  weft_future_set_int64 (future, 1);
  weft_test_run_until_done (WEFT_FUTURE (task));
}

static WeftTask *
run_one (void)
{
  WeftTask *task = weft_task_new (NULL, return_step, NULL, NULL);

  weft_test_run_until_done (WEFT_FUTURE (task));
  return task;
}

static gboolean
has_id (GVariant *list,
        guint64   id)
{
  gsize n;
  const guint64 *ids = g_variant_get_fixed_array (list, &n, sizeof (guint64));

  for (gsize i = 0; i < n; i++)
    if (ids[i] == id)
      return TRUE;
  return FALSE;
}

static guint64
batch_dropped (GVariant *batch)
{
  guint64 dropped = 0;

  g_assert_true (g_variant_lookup (batch, "dropped", "t", &dropped));
  return dropped;
}

static void
test_keep_and_delta (WeftTestLoop  *loop,
                     gconstpointer  data)
{
  g_autoptr(WeftInspectCollector) collector = weft_inspect_collector_new ();
  g_autoptr(WeftTask) dummy = NULL;
  g_autoptr(WeftTask) t1 = NULL, t2 = NULL, t3 = NULL, t4 = NULL;
  g_autoptr(GVariant) removed = NULL;
  GVariant *batch;
  guint64 dropped;
  guint keep = weft_inspect_registry_get_keep ();
  guint32 kept = 0;

  weft_inspect_registry_set_keep (2);
  dummy = run_one ();   /* evicts all but the last two */
  batch = g_variant_ref_sink (weft_inspect_collector_delta (collector));
  g_assert_true (g_variant_lookup (batch, "keep", "u", &kept));
  g_assert_cmpuint (kept, ==, 2);
  dropped = batch_dropped (batch);
  g_variant_unref (batch);

  t1 = run_one ();
  batch = g_variant_ref_sink (weft_inspect_collector_delta (collector));
  {
    g_autoptr(GVariant) record = find_task (batch, weft_task_get_id (t1));
    g_autoptr(GVariant) dummy_record = find_task (batch, weft_task_get_id (dummy));
    g_autofree char *state = NULL;

    g_assert_nonnull (record);
    state = task_string (record, "state");
    g_assert_cmpstr (state, ==, "done");
    /* The dummy did not change since the last delta. */
    g_assert_null (dummy_record);
  }
  g_variant_unref (batch);

  t2 = run_one ();
  t3 = run_one ();
  t4 = run_one ();
  batch = g_variant_ref_sink (weft_inspect_collector_delta (collector));
  removed = g_variant_lookup_value (batch, "removed", G_VARIANT_TYPE ("at"));
  g_assert_true (has_id (removed, weft_task_get_id (t1)));
  g_assert_true (has_id (removed, weft_task_get_id (dummy)));
  g_assert_false (has_id (removed, weft_task_get_id (t2)));   /* never sent */
  g_assert_cmpuint (batch_dropped (batch), ==, dropped + 1);  /* t2 */
  g_variant_unref (find_task_of (batch, t3));
  g_variant_unref (find_task_of (batch, t4));
  g_variant_unref (batch);

  weft_inspect_registry_set_keep (keep);
}

/* A task that finished in its first step keeps that step's timing in a
 * record of its own; the timing stays the same once the record grows.
 */
static void
assert_one_step (WeftTask *task)
{
  g_autoptr(GVariant) batch = full_batch ();
  g_autoptr(GVariant) record = find_task_of (batch, task);
  g_autoptr(GVariant) histogram = g_variant_lookup_value (record, "histogram", G_VARIANT_TYPE ("au"));
  const guint32 *buckets;
  gsize n_buckets;
  guint64 sum = 0;
  gint64 busy = -1, longest = -1;

  g_assert_cmpuint (task_u64 (record, "steps"), ==, 1);
  buckets = g_variant_get_fixed_array (histogram, &n_buckets, sizeof (guint32));
  for (gsize i = 0; i < n_buckets; i++)
    sum += buckets[i];
  g_assert_cmpuint (sum, ==, 1);
  g_assert_true (g_variant_lookup (record, "busy-us", "x", &busy));
  g_assert_true (g_variant_lookup (record, "longest-step-us", "x", &longest));
  g_assert_cmpint (longest, ==, busy);
}

static void
test_one_step_timing (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  g_autoptr(WeftTask) task = run_one ();

  assert_one_step (task);
  weft_task_set_name (task, "renamed after");
  assert_one_step (task);
}

static guint
count_kept (GVariant      *batch,
            const guint64 *ids,
            guint          n_ids,
            guint         *first_kept)
{
  guint kept = 0;

  *first_kept = n_ids;
  for (guint i = n_ids; i-- > 0;)
    {
      g_autoptr(GVariant) record = find_task (batch, ids[i]);

      if (record != NULL)
        {
          kept++;
          *first_kept = i;
        }
    }
  return kept;
}

/* The oldest finished tasks leave in batches: at least @keep stay, the
 * newest, and at most an eighth more.
 */
static void
test_keep_in_batches (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  guint keep = weft_inspect_registry_get_keep ();
  guint64 ids[100];
  g_autoptr(GVariant) batch = NULL;
  guint first_kept, kept;

  weft_inspect_registry_set_keep (32);
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_autoptr(WeftTask) task = run_one ();

      ids[i] = weft_task_get_id (task);
    }

  batch = full_batch ();
  kept = count_kept (batch, ids, G_N_ELEMENTS (ids), &first_kept);
  g_assert_cmpuint (kept, >=, 32);
  g_assert_cmpuint (kept, <=, 32 + 32 / 8);
  g_assert_cmpuint (first_kept, ==, G_N_ELEMENTS (ids) - kept);   /* the newest */

  weft_inspect_registry_set_keep (keep);
}

/* Threads that come and go, each with its own context: only the four
 * contexts gone most recently keep their finished tasks.
 */
static gpointer
one_task_thread (gpointer data)
{
  GMainContext *context = g_main_context_new ();
  WeftTask *task;
  guint64 id;

  g_main_context_push_thread_default (context);
  task = run_one ();
  id = weft_task_get_id (task);
  g_object_unref (task);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return GSIZE_TO_POINTER (id);
}

static void
test_dead_loops_let_go (WeftTestLoop  *loop,
                        gconstpointer  data)
{
  guint64 ids[6];
  g_autoptr(GVariant) batch = NULL;
  guint first_kept;

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    ids[i] = GPOINTER_TO_SIZE (g_thread_join (g_thread_new ("comes-and-goes", one_task_thread, NULL)));

  batch = full_batch ();
  g_assert_cmpuint (count_kept (batch, ids, G_N_ELEMENTS (ids), &first_kept), ==, 4);
  g_assert_cmpuint (first_kept, ==, 2);
}

/* A delta after a change carries the id and the keys that changed only. */
static void
test_delta_changed_keys (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  g_autoptr(WeftInspectCollector) collector = weft_inspect_collector_new ();
  g_autoptr(WeftFuture) future = weft_future_new ();
  g_autoptr(WeftTask) task = inspect_test_spawn (KIND_STACKLESS, "delta", future);
  g_autoptr(GVariant) first = NULL;
  g_autoptr(GVariant) second = NULL;
  g_autoptr(GVariant) record = NULL;
  g_autofree char *name = NULL;

  weft_test_pass ();
  first = g_variant_ref_sink (weft_inspect_collector_delta (collector));
  g_clear_pointer (&record, g_variant_unref);
  record = find_task_of (first, task);
  g_assert_true (g_variant_lookup (record, "name", "s", &name));   /* new: every key */
  g_clear_pointer (&record, g_variant_unref);

  weft_task_set_name (task, "renamed");
  second = g_variant_ref_sink (weft_inspect_collector_delta (collector));
  record = find_task_of (second, task);
  g_clear_pointer (&name, g_free);
  name = task_string (record, "name");
  g_assert_cmpstr (name, ==, "renamed");
  g_assert_false (g_variant_lookup (record, "state", "s", NULL));
  g_assert_false (g_variant_lookup (record, "kind", "s", NULL));
  g_assert_false (g_variant_lookup (record, "function", "s", NULL));

  weft_future_set_int64 (future, 1);
  weft_test_run_until_done (WEFT_FUTURE (task));
}

/* A suspended task that did nothing since the last delta is not in the
 * next one: its idle time is sent as of "since-us".
 */
static void
test_delta_quiet_task (WeftTestLoop  *loop,
                       gconstpointer  data)
{
  g_autoptr(WeftInspectCollector) collector = weft_inspect_collector_new ();
  g_autoptr(WeftFuture) future = weft_future_new ();
  g_autoptr(WeftTask) task = inspect_test_spawn (KIND_STACKLESS, "quiet", future);
  g_autoptr(GVariant) first = NULL;
  g_autoptr(GVariant) second = NULL;
  g_autoptr(GVariant) record = NULL;
  gint64 since = 0, idle = -1;

  weft_test_pass ();
  first = g_variant_ref_sink (weft_inspect_collector_delta (collector));
  record = find_task_of (first, task);
  g_assert_true (g_variant_lookup (record, "since-us", "x", &since));
  g_assert_true (g_variant_lookup (record, "idle-us", "x", &idle));
  g_assert_cmpint (since, >, 0);
  g_assert_cmpint (idle, ==, 0);   /* suspended since its first step */

  g_usleep (2000);
  second = g_variant_ref_sink (weft_inspect_collector_delta (collector));
  g_assert_null (find_task (second, weft_task_get_id (task)));

  weft_future_set_int64 (future, 1);
  weft_test_run_until_done (WEFT_FUTURE (task));
}

/* invoke_on_task from another thread runs on the task's thread. */
typedef struct
{
  WeftTestGate  gate;
  guint64       id;
  GThread      *ran_on;
  WeftTask     *task;
  gboolean      accepted;
  gboolean      freed;
} InvokeTest;

static void
invoked (WeftTask *task,
         gpointer  user_data)
{
  InvokeTest *test = user_data;

  test->ran_on = g_thread_self ();
  test->task = task != NULL ? g_object_ref (task) : NULL;
}

static void
invoke_freed (gpointer user_data)
{
  InvokeTest *test = user_data;

  test->freed = TRUE;
}

static gpointer
invoke_thread (gpointer data)
{
  InvokeTest *test = data;

  test->accepted = weft_inspect_invoke_on_task (test->id, invoked, test, invoke_freed);
  weft_test_gate_add (&test->gate, 1);
  return NULL;
}

static void
test_invoke_on_task (WeftTestLoop  *loop,
                     gconstpointer  data)
{
  g_autoptr(WeftFuture) future = weft_future_new ();
  g_autoptr(WeftTask) task = inspect_test_spawn (KIND_FIBER, "target", future);
  InvokeTest test = { .id = weft_task_get_id (task) };
  GThread *thread;
  gboolean accepted;

  weft_test_gate_init (&test.gate);
  weft_test_pass ();
  thread = g_thread_new ("invoker", invoke_thread, &test);
  g_assert_true (weft_test_gate_wait (&test.gate, 1, WEFT_TEST_TIMEOUT));
  g_thread_join (thread);
  g_assert_true (test.accepted);
  g_assert_null (test.ran_on);

  while (test.ran_on == NULL)
    g_main_context_iteration (loop->context, TRUE);
  g_assert_true (test.ran_on == g_thread_self ());
  g_assert_true (test.task == task);
  g_assert_true (test.freed);
  g_clear_object (&test.task);

  /* No unfinished task has that id: refused, data freed. */
  weft_future_set_int64 (future, 1);
  weft_test_run_until_done (WEFT_FUTURE (task));
  test.freed = FALSE;
  accepted = weft_inspect_invoke_on_task (test.id, invoked, &test, invoke_freed);
  g_assert_false (accepted);
  g_assert_true (test.freed);
  weft_test_gate_clear (&test.gate);
}

/* A collector on another thread while tasks run, as the inspector thread
 * does; and the loop it sees blocked by a long step.
 */
typedef struct
{
  WeftTestGate  gate;
  guint64       blocking_id;
  GVariant     *blocked_batch;
  int           stop;
  guint         n_batches;
} CollectorTest;

static gpointer
collector_thread (gpointer data)
{
  CollectorTest *test = data;
  g_autoptr(WeftInspectCollector) collector = weft_inspect_collector_new ();

  /* The blocking step has begun: it waits for us. */
  g_assert_true (weft_test_gate_wait (&test->gate, 1, WEFT_TEST_TIMEOUT));
  g_usleep (20000);
  test->blocked_batch = g_variant_ref_sink (weft_inspect_collector_full (collector));
  weft_test_gate_add (&test->gate, 1);

  while (!__atomic_load_n (&test->stop, __ATOMIC_ACQUIRE))
    {
      g_variant_unref (g_variant_ref_sink (weft_inspect_collector_delta (collector)));
      g_variant_unref (g_variant_ref_sink (weft_inspect_collector_full (collector)));
      test->n_batches++;
    }
  return NULL;
}

static void
blocking_step (WeftTask     *task,
               WeftFuture   *awaited,
               const GError *error,
               gpointer      user_data)
{
  CollectorTest *test = user_data;

  weft_test_gate_add (&test->gate, 1);
  g_assert_true (weft_test_gate_wait (&test->gate, 2, WEFT_TEST_TIMEOUT));
  weft_task_return_void (task);
}

static void
busy_step (WeftTask     *task,
           WeftFuture   *awaited,
           const GError *error,
           gpointer      user_data)
{
  int *count = user_data;

  if (error != NULL)
    weft_task_return_error (task, g_error_copy (error));
  else if ((*count)++ % 3 == 2)
    weft_task_return_int64 (task, *count);
  else if (*count % 2 == 0)
    weft_task_yield (task);
  else
    weft_task_sleep (task, 0.0001);
}

static void
test_concurrent_collector (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  CollectorTest test = { 0, };
  g_autoptr(WeftTask) blocker = NULL;
  g_autoptr(GVariant) loops = NULL;
  g_autoptr(GPtrArray) tasks = g_ptr_array_new_with_free_func (g_object_unref);
  int counts[200] = { 0, };
  GThread *thread;
  gboolean seen_blocked = FALSE;

  weft_test_gate_init (&test.gate);
  blocker = weft_task_new ("blocker", blocking_step, &test, NULL);
  test.blocking_id = weft_task_get_id (blocker);
  thread = g_thread_new ("collector", collector_thread, &test);
  weft_test_run_until_done (WEFT_FUTURE (blocker));

  loops = g_variant_lookup_value (test.blocked_batch, "loops", G_VARIANT_TYPE ("aa{sv}"));
  for (gsize i = 0; i < g_variant_n_children (loops); i++)
    {
      g_autoptr(GVariant) status = g_variant_get_child_value (loops, i);
      guint64 current = 0;
      gint64 step_us = 0;
      gboolean blocked = FALSE;

      g_variant_lookup (status, "current-task", "t", &current);
      g_variant_lookup (status, "step-us", "x", &step_us);
      g_variant_lookup (status, "blocked", "b", &blocked);
      if (current == test.blocking_id)
        {
          g_assert_cmpint (step_us, >=, 16000);
          g_assert_true (blocked);
          seen_blocked = TRUE;
        }
    }
  g_assert_true (seen_blocked);

  for (guint i = 0; i < G_N_ELEMENTS (counts); i++)
    g_ptr_array_add (tasks, weft_task_new (NULL, busy_step, &counts[i], NULL));
  for (guint i = 0; i < tasks->len; i++)
    {
      if (i % 10 == 0)
        weft_task_cancel (tasks->pdata[i], "enough");
      weft_test_run_until_done (tasks->pdata[i]);
    }

  __atomic_store_n (&test.stop, 1, __ATOMIC_RELEASE);
  g_thread_join (thread);
  g_variant_unref (test.blocked_batch);
  weft_test_gate_clear (&test.gate);
}

int
main (int   argc,
      char *argv[])
{
#ifdef WEFT_INSPECT_DISABLED
  printf ("1..0 # SKIP built with -Dinspect=disabled\n");
  return 0;
#endif

  g_test_init (&argc, &argv, NULL);

  WEFT_TEST_ADD ("/inspect-registry/off-then-adopted", test_off_then_adopted);
  INSPECT_TEST_ADD ("/inspect-registry/fiber/life", test_life, KIND_FIBER);
  INSPECT_TEST_ADD ("/inspect-registry/stackless/life", test_life, KIND_STACKLESS);
  INSPECT_TEST_ADD ("/inspect-registry/timing", test_timing, KIND_STACKLESS);
  INSPECT_TEST_ADD ("/inspect-registry/busy-not-waiting", test_busy_not_waiting, KIND_STACKLESS);
  INSPECT_TEST_ADD ("/inspect-registry/group", test_group, KIND_STACKLESS);
  INSPECT_TEST_ADD ("/inspect-registry/awaits-task-and-gather", test_awaits_task_and_gather, KIND_STACKLESS);
  INSPECT_TEST_ADD ("/inspect-registry/fiber/cancel", test_cancel, KIND_FIBER);
  INSPECT_TEST_ADD ("/inspect-registry/stackless/cancel", test_cancel, KIND_STACKLESS);
  INSPECT_TEST_ADD ("/inspect-registry/context-values", test_context_values, KIND_STACKLESS);
  INSPECT_TEST_ADD ("/inspect-registry/error", test_error, KIND_STACKLESS);
  INSPECT_TEST_ADD ("/inspect-registry/lint/long-step", test_lint_long_step, KIND_STACKLESS);
  INSPECT_TEST_ADD ("/inspect-registry/lint/orphaned-await", test_lint_orphaned_await, KIND_STACKLESS);
  INSPECT_TEST_ADD ("/inspect-registry/lint/swallowed-cancel", test_lint_swallowed_cancel, KIND_STACKLESS);
  INSPECT_TEST_ADD ("/inspect-registry/lint/unread-error", test_lint_unread_error, KIND_STACKLESS);
  INSPECT_TEST_ADD ("/inspect-registry/lint/pending-at-exit", test_lint_pending_at_exit, KIND_STACKLESS);
  INSPECT_TEST_ADD ("/inspect-registry/keep-and-delta", test_keep_and_delta, KIND_STACKLESS);
  INSPECT_TEST_ADD ("/inspect-registry/delta-changed-keys", test_delta_changed_keys, KIND_STACKLESS);
  INSPECT_TEST_ADD ("/inspect-registry/invoke-on-task", test_invoke_on_task, KIND_STACKLESS);
  INSPECT_TEST_ADD ("/inspect-registry/concurrent-collector", test_concurrent_collector, KIND_STACKLESS);
  INSPECT_TEST_ADD ("/inspect-registry/delta-quiet-task", test_delta_quiet_task, KIND_STACKLESS);
  INSPECT_TEST_ADD ("/inspect-registry/one-step-timing", test_one_step_timing, KIND_STACKLESS);
  INSPECT_TEST_ADD ("/inspect-registry/keep-in-batches", test_keep_in_batches, KIND_STACKLESS);
  INSPECT_TEST_ADD ("/inspect-registry/dead-loops-let-go", test_dead_loops_let_go, KIND_STACKLESS);


  return g_test_run ();
}
