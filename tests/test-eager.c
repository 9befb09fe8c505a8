/* test-eager.c — eager tasks and the per-context eager default: rules
 * E1–E8 (E9 needs TaskGroup), with I2 and C1
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-test-script.h"

/* Eager starts happen only while the context is dispatched (E2), so every
 * scenario runs from a driver task's hook, inside a pass.
 */
static const WeftTestOp driver_ops[] = { { OP_HOOK }, { OP_END } };

static void
run_driver (Kind          kind,
            WeftTestHook  hook,
            gpointer      hook_data)
{
  WeftTestScript driver = { "driver", driver_ops, kind, NULL };
  g_autoptr(WeftTask) task = NULL;

  driver.hook = hook;
  driver.hook_data = hook_data;
  task = weft_test_script_start (&driver, NULL, WEFT_TASK_FLAGS_LAZY_START);
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_true (weft_future_is_done (WEFT_FUTURE (task)));
  g_assert_true (weft_future_propagate (WEFT_FUTURE (task), NULL));
}

static gboolean
is_listed (WeftTask *task)
{
  g_autoptr(GPtrArray) all = weft_task_list_all (weft_future_get_context (WEFT_FUTURE (task)));

  return g_ptr_array_find (all, task, NULL);
}

typedef struct
{
  GString        *log;
  WeftTestScript *child;
  WeftFuture     *future;
} Scenario;

static void
spawn_eager (WeftTestScript *driver,
             WeftTask       *task)
{
  Scenario *scenario = driver->hook_data;

  driver->spawned = weft_test_script_start (scenario->child, NULL, WEFT_TASK_FLAGS_EAGER_START);
  /* E2: the creator is the current task again. */
  g_assert_true (weft_task_get_current () == task);
}

static void
check_listed_and_current (WeftTestScript *script,
                          WeftTask       *task)
{
  /* I2: a task in its eager step is among the context's tasks. */
  g_assert_true (is_listed (task));
  g_assert_true (weft_task_get_current () == task);
}

static const WeftTestOp returns_at_once_ops[] = {
  { OP_LOG_CURRENT }, { OP_HOOK }, { OP_RETURN, 42 },
};

/* E2, E3, E5, I2 (test_eager_completion, test_current_task,
 * test_all_tasks_with_eager_completion,
 * test_cancellation_after_eager_completion): the first step runs inside
 * creation as the current task; a task that returns there is done, was
 * never queued, is no longer listed, and refuses cancellation */
static void
test_eager_completion (WeftTestLoop  *loop,
                       gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  WeftTestScript child = { "child", returns_at_once_ops, KIND (data), log };
  Scenario scenario = { log, &child };
  WeftTestScript driver = { "driver", driver_ops, KIND (data), log };
  g_autoptr(WeftTask) task = NULL;

  child.hook = check_listed_and_current;
  driver.hook = spawn_eager;
  driver.hook_data = &scenario;
  task = weft_test_script_start (&driver, NULL, WEFT_TASK_FLAGS_NONE);

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (log->str, ==, "child:current=child");
  weft_test_assert_finished_int (driver.spawned, 42);
  g_assert_false (is_listed (driver.spawned));
  g_assert_false (weft_task_cancel (driver.spawned, "late"));
  g_assert_cmpuint (weft_test_pass (), ==, 0);  /* nothing was queued */
  weft_test_script_clear (&driver);
}

static const WeftTestOp first_step_ops[] = { { OP_MARK, 0 }, { OP_END } };

/* E2 (test_eager_start_true_with_default_factory): outside a dispatch of
 * the context, eager_start is ignored and the task is queued */
static void
test_eager_needs_running_context (WeftTestLoop  *loop,
                                  gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  WeftTestScript child = { "a", first_step_ops, KIND (data), log };
  g_autoptr(WeftTask) task = weft_test_script_start (&child, NULL, WEFT_TASK_FLAGS_EAGER_START);

  g_assert_cmpstr (log->str, ==, "");
  g_assert_false (weft_future_is_done (WEFT_FUTURE (task)));
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (log->str, ==, "a0");
}

static gboolean
spawn_from_idle (gpointer data)
{
  WeftTestScript *script = data;

  script->spawned = weft_test_script_start (script, NULL, WEFT_TASK_FLAGS_EAGER_START);
  return G_SOURCE_REMOVE;
}

/* E2: a plain GLib callback (a GTK signal handler, say) dispatched by the
 * context counts as "the loop is running" */
static void
test_eager_from_glib_callback (WeftTestLoop  *loop,
                               gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  WeftTestScript child = { "a", first_step_ops, KIND (data), log };
  g_autoptr(GSource) idle = g_idle_source_new ();

  g_source_set_callback (idle, spawn_from_idle, &child, NULL);
  g_source_attach (idle, loop->context);
  while (child.spawned == NULL)
    g_main_context_iteration (loop->context, TRUE);
  g_assert_cmpstr (log->str, ==, "a0");
  g_assert_true (weft_future_is_done (WEFT_FUTURE (child.spawned)));
  weft_test_script_clear (&child);
}

static const WeftTestOp yields_ops[] = { { OP_MARK, 0 }, { OP_YIELD }, { OP_MARK, 1 }, { OP_END } };
static const WeftTestOp later_ops[] = { { OP_MARK, 0 }, { OP_END } };

typedef struct
{
  WeftTestScript *eager;
  WeftTestScript *lazy;
  WeftTask       *tasks[2];
} OrderScenario;

static void
spawn_eager_then_lazy (WeftTestScript *driver,
                       WeftTask       *task)
{
  OrderScenario *scenario = driver->hook_data;

  scenario->tasks[0] = weft_test_script_start (scenario->eager, NULL, WEFT_TASK_FLAGS_EAGER_START);
  g_assert_cmpstr (driver->log->str, ==, "a0");
  g_assert_true (is_listed (scenario->tasks[0]));
  scenario->tasks[1] = weft_test_script_start (scenario->lazy, NULL, WEFT_TASK_FLAGS_NONE);
}

/* E4 (test_block_after_eager_step, test_all_tasks_with_blocking): a task
 * that yields in its eager step is queued then, so it resumes before a
 * task created after it starts */
static void
test_yield_in_eager_step (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  WeftTestScript eager = { "a", yields_ops, KIND (data), log };
  WeftTestScript lazy = { "b", later_ops, KIND (data), log };
  WeftTestScript driver = { "driver", driver_ops, KIND (data), log };
  OrderScenario scenario = { &eager, &lazy };
  g_autoptr(WeftTask) task = NULL;

  driver.hook = spawn_eager_then_lazy;
  driver.hook_data = &scenario;
  task = weft_test_script_start (&driver, NULL, WEFT_TASK_FLAGS_NONE);

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (log->str, ==, "a0");
  g_assert_cmpuint (weft_test_pass (), ==, 2);
  g_assert_cmpstr (log->str, ==, "a0 a1 b0");
  g_assert_true (weft_future_is_done (WEFT_FUTURE (scenario.tasks[0])));
  g_object_unref (scenario.tasks[0]);
  g_object_unref (scenario.tasks[1]);
}

static void
complete_future (WeftTestScript *script,
                 WeftTask       *task)
{
  weft_future_set_int64 (script->future, 7);
}

static const WeftTestOp completes_then_awaits_ops[] = {
  { OP_HOOK }, { OP_AWAIT }, { OP_RETURN, 1 },
};

static void
spawn_and_check_future (WeftTestScript *driver,
                        WeftTask       *task)
{
  Scenario *scenario = driver->hook_data;

  spawn_eager (driver, task);
  /* E3: what the eager step did is visible at once. */
  weft_test_assert_finished_int (scenario->future, 7);
  weft_test_assert_finished_int (driver->spawned, 1);
}

/* E3, F9 (test_await_future_during_eager_step): a future completed in the
 * eager step is done for the creator, and awaiting a done future does not
 * suspend the eager step */
static void
test_future_during_eager_step (WeftTestLoop  *loop,
                               gconstpointer  data)
{
  g_autoptr(WeftFuture) future = weft_future_new ();
  WeftTestScript child = { "child", completes_then_awaits_ops, KIND (data), NULL, NULL, future };
  Scenario scenario = { NULL, &child, future };
  WeftTestScript driver = { "driver", driver_ops, KIND (data) };
  g_autoptr(WeftTask) task = NULL;

  child.hook = complete_future;
  driver.hook = spawn_and_check_future;
  driver.hook_data = &scenario;
  task = weft_test_script_start (&driver, NULL, WEFT_TASK_FLAGS_NONE);
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_true (weft_future_propagate (WEFT_FUTURE (task), NULL));
  weft_test_script_clear (&driver);
}

static const WeftTestOp fails_ops[] = { { OP_FAIL } };

static void
spawn_failing (WeftTestScript *driver,
               WeftTask       *task)
{
  g_autoptr(GError) error = NULL;

  spawn_eager (driver, task);
  g_assert_false (weft_future_propagate (WEFT_FUTURE (driver->spawned), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  weft_test_script_clear (driver);
}

/* E3: an error in the eager step ends the task, not its creator */
static void
test_error_in_eager_step (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  WeftTestScript child = { "child", fails_ops, KIND (data) };
  Scenario scenario = { NULL, &child };

  run_driver (KIND (data), spawn_failing, &scenario);
}

static const WeftTestOp blocks_ops[] = { { OP_MARK, 0 }, { OP_AWAIT }, { OP_MARK, 1 }, { OP_END } };

static void
spawn_blocking (WeftTestScript *driver,
                WeftTask       *task)
{
  Scenario *scenario = driver->hook_data;

  scenario->child->spawned = weft_test_script_start (scenario->child, NULL, WEFT_TASK_FLAGS_EAGER_START);
  g_assert_cmpstr (scenario->log->str, ==, "a0");
  g_assert_true (weft_task_is_suspended (scenario->child->spawned));
  g_assert_true (weft_task_get_awaited (scenario->child->spawned) == scenario->future);
}

/* E4, E5 (test_cancellation_after_eager_step_blocks): a task blocked after
 * its eager step is an ordinary task: listed, and cancelled normally,
 * message included */
static void
test_cancel_after_eager_step (WeftTestLoop  *loop,
                              gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftFuture) future = weft_future_new ();
  WeftTestScript child = { "a", blocks_ops, KIND (data), log, NULL, future };
  Scenario scenario = { log, &child, future };
  WeftTask *task;

  run_driver (KIND (data), spawn_blocking, &scenario);
  task = child.spawned;
  g_assert_true (is_listed (task));
  g_assert_true (weft_task_cancel (task, "stop"));
  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "a0");
  weft_test_assert_future_cancelled (task, "stop");
  weft_test_assert_future_cancelled (future, "stop");
  weft_test_script_clear (&child);
}

static const WeftTestOp parent_ops[] = {
  { OP_SET, 1 }, { OP_SPAWN }, { OP_LOG }, { OP_END },
};
static const WeftTestOp child_ops[] = {
  { OP_LOG }, { OP_SET, 2 }, { OP_LOG }, { OP_END },
};

/* E6, CV4 (test_context_vars): the eager step runs in the task's own copy
 * of the context */
static void
test_eager_context (WeftTestLoop  *loop,
                    gconstpointer  data)
{
  g_autoptr(WeftContextVar) var = weft_context_var_new ("var", G_TYPE_INT64, NULL);
  g_autoptr(GString) log = g_string_new (NULL);
  WeftTestScript child = { "c", child_ops, KIND (data), log, var };
  WeftTestScript parent = { "p", parent_ops, KIND (data), log, var, NULL, &child };
  g_autoptr(WeftTask) task = NULL;

  parent.child_flags = WEFT_TASK_FLAGS_EAGER_START;
  task = weft_test_script_start (&parent, NULL, WEFT_TASK_FLAGS_NONE);
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (log->str, ==, "c=1 c=2 p=1");
  g_assert_true (weft_future_is_done (WEFT_FUTURE (parent.spawned)));
  weft_test_script_clear (&parent);
}

typedef struct
{
  GString *log;
  Kind     kind;
} DefaultScenario;

static void
spawn_with_flags (DefaultScenario *scenario,
                  const char      *name,
                  WeftTaskFlags    flags,
                  gboolean         expect_eager)
{
  WeftTestScript child = { name, first_step_ops, scenario->kind, scenario->log };
  g_autoptr(WeftTask) task = NULL;
  g_autofree char *first_step = g_strconcat (name, "0", NULL);

  g_string_truncate (scenario->log, 0);
  task = weft_test_script_start (&child, NULL, flags);
  g_assert_cmpstr (scenario->log->str, ==, expect_eager ? first_step : "");
  g_assert_cmpint (weft_future_is_done (WEFT_FUTURE (task)), ==, expect_eager);
  if (!expect_eager)
    {
      /* Run it now, while its script is still on this stack. */
      g_assert_true (weft_future_cancel (WEFT_FUTURE (task), NULL));
    }
}

static void
spawn_under_defaults (WeftTestScript *driver,
                      WeftTask       *task)
{
  DefaultScenario *scenario = driver->hook_data;
  GMainContext *context = weft_future_get_context (WEFT_FUTURE (task));

  /* E7: the per-task flags win over the context's default. */
  g_assert_false (weft_task_get_eager_start_default (context));
  spawn_with_flags (scenario, "lazy", WEFT_TASK_FLAGS_NONE, FALSE);
  spawn_with_flags (scenario, "eager", WEFT_TASK_FLAGS_EAGER_START, TRUE);

  /* E1: the eager default, loop.set_task_factory(eager_task_factory). */
  weft_task_set_eager_start_default (context, TRUE);
  g_assert_true (weft_task_get_eager_start_default (context));
  spawn_with_flags (scenario, "default", WEFT_TASK_FLAGS_NONE, TRUE);
  spawn_with_flags (scenario, "forced-lazy", WEFT_TASK_FLAGS_LAZY_START, FALSE);
  weft_task_set_eager_start_default (context, FALSE);
}

/* E1, E7 (test_eager_task_factory_set, test_eager_start_false,
 * test_eager_start_true_with_default_factory): the context's eager
 * default, and the per-task override both ways */
static void
test_eager_default (WeftTestLoop  *loop,
                    gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  DefaultScenario scenario = { log, KIND (data) };

  run_driver (KIND (data), spawn_under_defaults, &scenario);
  /* The lazy ones were cancelled before their first step: T8d. */
  weft_test_run_until_idle ();
}

enum { TREE_WIDTH = 5, TREE_DEPTH = 4 };

typedef struct
{
  Kind      kind;
  guint     depth;
  guint     next;
  guint    *created;
  WeftTask *children[TREE_WIDTH];
} TreeNode;

static WeftTask *spawn_tree_node (Kind   kind,
                                  guint  depth,
                                  guint *created);

static void
tree_node_free (gpointer data)
{
  TreeNode *node = data;

  for (guint i = 0; i < TREE_WIDTH; i++)
    g_clear_object (&node->children[i]);
  g_free (node);
}

static void
tree_node_spawn_children (TreeNode *node)
{
  (*node->created)++;
  if (node->depth < TREE_DEPTH)
    for (guint i = 0; i < TREE_WIDTH; i++)
      node->children[i] = spawn_tree_node (node->kind, node->depth + 1, node->created);
}

static void
tree_node_step (WeftTask     *task,
                WeftFuture   *awaited,
                const GError *error,
                gpointer      user_data)
{
  TreeNode *node = user_data;

  if (awaited == NULL)
    tree_node_spawn_children (node);
  if (node->depth < TREE_DEPTH && node->next < TREE_WIDTH)
    {
      weft_task_await (task, WEFT_FUTURE (node->children[node->next++]));
      return;
    }
  weft_task_return_void (task);
}

static void
tree_node_fiber (WeftTask *task,
                 gpointer  user_data)
{
  TreeNode *node = user_data;

  tree_node_spawn_children (node);
  if (node->depth < TREE_DEPTH)
    for (guint i = 0; i < TREE_WIDTH; i++)
      g_assert_true (weft_await (WEFT_FUTURE (node->children[i]), NULL));
}

static WeftTask *
spawn_tree_node (Kind   kind,
                 guint  depth,
                 guint *created)
{
  TreeNode *node = g_new0 (TreeNode, 1);

  node->kind = kind;
  node->depth = depth;
  node->created = created;
  if (kind == KIND_FIBER)
    return weft_fiber_new (NULL, tree_node_fiber, node, tree_node_free);
  return weft_task_new (NULL, tree_node_step, node, tree_node_free);
}

typedef struct
{
  guint     created;
  WeftTask *root;
} TreeScenario;

static void
spawn_tree (WeftTestScript *driver,
            WeftTask       *task)
{
  TreeScenario *scenario = driver->hook_data;

  weft_task_set_eager_start_default (weft_future_get_context (WEFT_FUTURE (task)), TRUE);
  scenario->root = spawn_tree_node (driver->kind, 0, &scenario->created);
  weft_task_set_eager_start_default (weft_future_get_context (WEFT_FUTURE (task)), FALSE);
}

/* E8 (test_awaitables_chain, test_recursive_gather): under the eager
 * default, a tree of tasks that never block completes inside the root's
 * creation: 781 tasks for width 5 and depth 4, none queued */
static void
test_eager_tree_schedules_nothing (WeftTestLoop  *loop,
                                   gconstpointer  data)
{
  TreeScenario scenario = { 0, NULL };

  run_driver (KIND (data), spawn_tree, &scenario);
  g_assert_cmpuint (scenario.created, ==, 781);
  g_assert_true (weft_future_propagate (WEFT_FUTURE (scenario.root), NULL));
  g_assert_cmpuint (weft_test_pass (), ==, 0);
  g_object_unref (scenario.root);
}

static void
spawn_in_shared_context (WeftTestScript *driver,
                         WeftTask       *task)
{
  Scenario *scenario = driver->hook_data;

  scenario->child->spawned = weft_test_script_start (scenario->child, weft_task_get_context (task),
                                                     WEFT_TASK_FLAGS_EAGER_START);
  g_assert_cmpstr (scenario->log->str, ==, "");
}

/* E2, C2: a task given its creator's own context cannot enter it while the
 * creator runs in it (Context.run would raise): it starts lazily instead */
static void
test_eager_in_entered_context (WeftTestLoop  *loop,
                               gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  WeftTestScript child = { "a", first_step_ops, KIND (data), log };
  Scenario scenario = { log, &child };

  run_driver (KIND (data), spawn_in_shared_context, &scenario);
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (log->str, ==, "a0");
  weft_test_script_clear (&child);
}

/* A task subclass: create_eager_task_factory(custom_task_constructor). */
#define TEST_TYPE_ANSWER (test_answer_get_type ())
G_DECLARE_FINAL_TYPE (TestAnswer, test_answer, TEST, ANSWER, WeftTask)

struct _TestAnswer
{
  WeftTask parent_instance;
};

G_DEFINE_FINAL_TYPE (TestAnswer, test_answer, WEFT_TYPE_TASK)

static void
test_answer_step (WeftTask     *task,
                  WeftFuture   *awaited,
                  const GError *error,
                  gpointer      user_data)
{
  weft_task_return_int64 (task, 42);
}

static void
test_answer_class_init (TestAnswerClass *klass)
{
  WEFT_TASK_CLASS (klass)->step = (gpointer) test_answer_step;
}

static void
test_answer_init (TestAnswer *self)
{
}

static void
spawn_subclasses (WeftTestScript *driver,
                  WeftTask       *task)
{
  g_autoptr(WeftTask) eager = weft_task_new_for_type (TEST_TYPE_ANSWER, "answer", NULL,
                                                      WEFT_TASK_FLAGS_EAGER_START);
  g_autoptr(WeftTask) plain = g_object_new (TEST_TYPE_ANSWER, NULL);

  g_assert_cmpstr (weft_task_get_name (eager), ==, "answer");
  weft_test_assert_finished_int (eager, 42);
  g_assert_false (weft_future_is_done (WEFT_FUTURE (plain)));  /* g_object_new(): lazy */
  driver->hook_data = g_steal_pointer (&plain);
}

/* E1: a subclass started eagerly with weft_task_new_for_type() */
static void
test_eager_subclass (WeftTestLoop  *loop,
                     gconstpointer  data)
{
  WeftTestScript driver = { "driver", driver_ops, KIND_STACKLESS };
  g_autoptr(WeftTask) task = NULL;
  g_autoptr(WeftTask) plain = NULL;

  driver.hook = spawn_subclasses;
  task = weft_test_script_start (&driver, NULL, WEFT_TASK_FLAGS_NONE);
  weft_test_pass ();
  plain = driver.hook_data;
  weft_test_pass ();
  weft_test_assert_finished_int (plain, 42);
}

/* A subclass whose class_init makes a task: the class is made inside the
 * g_object_new() of its first instance, after weft_task_new_for_type()
 * has asked for a deferred start.
 */
#define TEST_TYPE_SPAWNER (test_spawner_get_type ())
G_DECLARE_FINAL_TYPE (TestSpawner, test_spawner, TEST, SPAWNER, WeftTask)

struct _TestSpawner
{
  WeftTask parent_instance;
};

G_DEFINE_FINAL_TYPE (TestSpawner, test_spawner, WEFT_TYPE_TASK)

static guint class_init_task_steps;
static guint spawner_steps;

static void
count_class_init_task_step (WeftTask     *task,
                            WeftFuture   *awaited,
                            const GError *error,
                            gpointer      user_data)
{
  class_init_task_steps++;
  weft_task_return_void (task);
}

static void
test_spawner_step (WeftTask     *task,
                   WeftFuture   *awaited,
                   const GError *error)
{
  spawner_steps++;
  weft_task_return_void (task);
}

static void
test_spawner_class_init (TestSpawnerClass *klass)
{
  WEFT_TASK_CLASS (klass)->step = test_spawner_step;
  g_object_unref (weft_task_new_full ("made-in-class-init", NULL, WEFT_TASK_FLAGS_NONE,
                                      count_class_init_task_step, NULL, NULL));
}

static void
test_spawner_init (TestSpawner *self)
{
}

/* Each task starts once: the deferred start of weft_task_new_for_type()
 * is not taken by a task that the new type's class_init makes.
 */
static void
test_task_made_in_class_init (WeftTestLoop  *loop,
                              gconstpointer  data)
{
  g_autoptr(WeftTask) spawner = weft_task_new_for_type (TEST_TYPE_SPAWNER, NULL, NULL,
                                                        WEFT_TASK_FLAGS_NONE);

  weft_test_run_until_idle ();
  g_assert_cmpuint (class_init_task_steps, ==, 1);
  g_assert_cmpuint (spawner_steps, ==, 1);
  g_assert_true (weft_future_is_done (WEFT_FUTURE (spawner)));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  WEFT_TEST_ADD ("/eager/task-made-in-class-init", test_task_made_in_class_init);

  weft_test_add_both_kinds ("eager", "completion", test_eager_completion);
  weft_test_add_both_kinds ("eager", "needs-running-context", test_eager_needs_running_context);
  weft_test_add_both_kinds ("eager", "from-glib-callback", test_eager_from_glib_callback);
  weft_test_add_both_kinds ("eager", "yield-in-eager-step", test_yield_in_eager_step);
  weft_test_add_both_kinds ("eager", "future-during-eager-step", test_future_during_eager_step);
  weft_test_add_both_kinds ("eager", "error-in-eager-step", test_error_in_eager_step);
  weft_test_add_both_kinds ("eager", "cancel-after-eager-step", test_cancel_after_eager_step);
  weft_test_add_both_kinds ("eager", "context", test_eager_context);
  weft_test_add_both_kinds ("eager", "default", test_eager_default);
  weft_test_add_both_kinds ("eager", "tree-schedules-nothing", test_eager_tree_schedules_nothing);
  weft_test_add_both_kinds ("eager", "in-entered-context", test_eager_in_entered_context);
  WEFT_TEST_ADD ("/eager/subclass", test_eager_subclass);

  return g_test_run ();
}
