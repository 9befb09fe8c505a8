/* test-context.c — context variables: rules CV1–CV4, C2, and the
 * persistent map under WeftContext
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-test-script.h"

#include "weft-context-private.h"

/* The thread's base context outlives each test: tests set variables only
 * in contexts of their own, entered with weft_context_run().
 */
typedef void (*Body) (gpointer data);

static void
run_in_fresh_context (Body     body,
                      gpointer data)
{
  g_autoptr(WeftContext) context = weft_context_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (weft_context_run (context, body, data, &error));
  g_assert_no_error (error);
}

static WeftContextVar *
int_var (const char *name,
         gboolean    with_default,
         gint64      default_value)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_INT64);
  g_value_set_int64 (&value, default_value);
  return weft_context_var_new (name, G_TYPE_INT64, with_default ? &value : NULL);
}

static void
check_get_and_default (gpointer data)
{
  g_autoptr(WeftContextVar) with_default = int_var ("with_default", TRUE, 7);
  g_autoptr(WeftContextVar) without = int_var ("without", FALSE, 0);
  g_autoptr(WeftContextToken) token = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;

  g_assert_cmpstr (weft_context_var_get_name (with_default), ==, "with_default");
  g_assert_true (weft_context_var_get_value_type (with_default) == G_TYPE_INT64);
  g_assert_true (weft_context_var_get_default (with_default, NULL));
  g_assert_false (weft_context_var_get_default (without, NULL));

  g_assert_cmpint (weft_context_var_get_int64 (with_default, &error), ==, 7);
  g_assert_no_error (error);

  /* A variable with no value and no default: Python's LookupError. */
  g_assert_false (weft_context_var_get (without, &value, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_LOOKUP);
  g_clear_error (&error);

  token = weft_context_var_set_int64 (without, 3);
  g_assert_true (weft_context_var_get (without, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_value_get_int64 (&value), ==, 3);

  /* The typed getters check the type. */
  g_assert_null (weft_context_var_dup_string (without, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_WRONG_TYPE);
}

/* CV: get() returns the value, else the default, else LookupError */
static void
test_get_and_default (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  run_in_fresh_context (check_get_and_default, NULL);
}

static void
check_set_and_reset (gpointer data)
{
  g_autoptr(WeftContextVar) var = int_var ("var", FALSE, 0);
  g_autoptr(WeftContextVar) other = int_var ("other", FALSE, 0);
  g_autoptr(WeftContextToken) first = NULL;
  g_autoptr(WeftContextToken) second = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GValue) old = G_VALUE_INIT;

  first = weft_context_var_set_int64 (var, 1);
  second = weft_context_var_set_int64 (var, 2);
  g_assert_true (weft_context_token_get_var (first) == var);
  g_assert_false (weft_context_token_get_old_value (first, NULL));  /* Token.MISSING */
  g_assert_true (weft_context_token_get_old_value (second, &old));
  g_assert_cmpint (g_value_get_int64 (&old), ==, 1);

  /* Another variable's token is refused, and stays usable. */
  g_assert_false (weft_context_var_reset (other, second, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_BAD_TOKEN);
  g_clear_error (&error);
  g_assert_cmpint (weft_context_var_get_int64 (var, NULL), ==, 2);

  g_assert_true (weft_context_var_reset (var, second, &error));
  g_assert_no_error (error);
  g_assert_cmpint (weft_context_var_get_int64 (var, NULL), ==, 1);

  /* Reset to "no value": get() raises again. */
  g_assert_true (weft_context_var_reset (var, first, &error));
  g_assert_cmpint (weft_context_var_get_int64 (var, &error), ==, 0);
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_LOOKUP);
  g_clear_error (&error);

  /* A token works once. */
  g_assert_false (weft_context_var_reset (var, first, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_BAD_TOKEN);
}

/* CV: reset() restores the old value or none; a used token, or another
 * variable's, is an error */
static void
test_set_and_reset (WeftTestLoop  *loop,
                    gconstpointer  data)
{
  run_in_fresh_context (check_set_and_reset, NULL);
}

typedef struct
{
  WeftContextVar   *var;
  WeftContextToken *token;
} SetState;

static void
set_and_keep_token (gpointer data)
{
  SetState *state = data;

  state->token = weft_context_var_set_int64 (state->var, 5);
}

static void
reset_here (gpointer data)
{
  SetState *state = data;
  g_autoptr(GError) error = NULL;

  g_assert_false (weft_context_var_reset (state->var, state->token, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_BAD_TOKEN);
}

/* CV: a token made in one context cannot reset in another */
static void
test_reset_other_context (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  g_autoptr(WeftContextVar) var = int_var ("var", FALSE, 0);
  SetState state = { var, NULL };

  run_in_fresh_context (set_and_keep_token, &state);
  run_in_fresh_context (reset_here, &state);
  weft_context_token_unref (state.token);
}

typedef struct
{
  WeftContext    *context;
  WeftContextVar *var;
  WeftContext    *copy;
} RunState;

static void
enter_again (gpointer data)
{
  RunState *state = data;
  g_autoptr(GError) error = NULL;

  g_assert_false (weft_context_run (state->context, enter_again, state, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_CONTEXT_ENTERED);
}

static void
set_then_copy (gpointer data)
{
  RunState *state = data;

  weft_context_token_unref (weft_context_var_set_int64 (state->var, 1));
  state->copy = weft_context_copy_current ();
  weft_context_token_unref (weft_context_var_set_int64 (state->var, 2));
  enter_again (state);
}

static void
set_three (gpointer data)
{
  RunState *state = data;

  g_assert_cmpint (weft_context_var_get_int64 (state->var, NULL), ==, 1);
  weft_context_token_unref (weft_context_var_set_int64 (state->var, 3));
}

/* CV: Context.run() sets into the context it runs; entering an entered
 * context is an error; copy_context() is a snapshot */
static void
test_run_and_copy (WeftTestLoop  *loop,
                   gconstpointer  data)
{
  g_autoptr(WeftContextVar) var = int_var ("var", FALSE, 0);
  g_autoptr(WeftContext) context = weft_context_new ();
  g_autoptr(GPtrArray) vars = NULL;
  RunState state = { context, var, NULL };
  g_auto(GValue) value = G_VALUE_INIT;

  g_assert_true (weft_context_run (context, set_then_copy, &state, NULL));
  g_assert_true (weft_context_get_value (context, var, &value));
  g_assert_cmpint (g_value_get_int64 (&value), ==, 2);
  g_assert_true (weft_context_contains (state.copy, var));

  /* The copy kept the value of its time, and changes on its own. */
  g_assert_true (weft_context_run (state.copy, set_three, &state, NULL));
  g_assert_cmpint (weft_context_get_size (state.copy), ==, 1);
  g_value_unset (&value);
  g_assert_true (weft_context_get_value (state.copy, var, &value));
  g_assert_cmpint (g_value_get_int64 (&value), ==, 3);
  g_value_unset (&value);
  g_assert_true (weft_context_get_value (context, var, &value));
  g_assert_cmpint (g_value_get_int64 (&value), ==, 2);

  vars = weft_context_list_vars (context);
  g_assert_cmpuint (vars->len, ==, 1);
  g_assert_true (g_ptr_array_index (vars, 0) == var);
  weft_context_unref (state.copy);
}

/* Distinct keys over all 32 bits, so that the trie goes all the way down
 * (variables' own keys are small serial numbers). */
static guint32
spread_key (guint index)
{
  return index * 2654435761u;
}

/* The trie against a plain array, with old versions kept and checked: a
 * persistent map never changes once built. */
static void
test_persistent_map (void)
{
  enum { N_KEYS = 3000, N_OPS = 20000, N_SNAPSHOTS = 8 };
  g_autoptr(GObject) owner = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  WeftContextMap *map = NULL;
  WeftContextMap *snapshots[N_SNAPSHOTS] = { NULL };
  gint64 *model = g_new0 (gint64, N_KEYS + 1);
  gint64 *snapshot_models[N_SNAPSHOTS] = { NULL };
  guint size = 0;

  for (guint op = 0; op < N_OPS; op++)
    {
      guint index = (guint) g_rand_int_range (rand, 1, N_KEYS + 1);
      WeftContextMap *next;
      if (g_rand_int_range (rand, 0, 3) > 0)
        {
          g_auto(GValue) value = G_VALUE_INIT;
          WeftContextEntry *entry;

          g_value_init (&value, G_TYPE_INT64);
          g_value_set_int64 (&value, op + 1);
          entry = weft_context_entry_new (owner, spread_key (index), &value);
          next = weft_context_map_insert (map, entry);
          weft_context_entry_unref (entry);
          size += model[index] == 0;
          model[index] = op + 1;
        }
      else
        {
          next = weft_context_map_remove (map, spread_key (index));
          size -= model[index] != 0;
          model[index] = 0;
        }
      weft_context_map_unref (map);
      map = next;

      if (op % (N_OPS / N_SNAPSHOTS) == 0)
        {
          guint i = op / (N_OPS / N_SNAPSHOTS);

          snapshots[i] = weft_context_map_ref (map);
          snapshot_models[i] = g_memdup2 (model, sizeof (gint64) * (N_KEYS + 1));
        }
    }

  g_assert_cmpuint (weft_context_map_get_size (map), ==, size);
  for (guint index = 1; index <= N_KEYS; index++)
    {
      WeftContextEntry *entry = weft_context_map_lookup (map, spread_key (index));

      g_assert_cmpint (entry != NULL ? g_value_get_int64 (&entry->value) : 0, ==, model[index]);
    }
  for (guint i = 0; i < N_SNAPSHOTS; i++)
    {
      for (guint index = 1; index <= N_KEYS; index++)
        {
          WeftContextEntry *entry = weft_context_map_lookup (snapshots[i], spread_key (index));

          g_assert_cmpint (entry != NULL ? g_value_get_int64 (&entry->value) : 0, ==, snapshot_models[i][index]);
        }
      weft_context_map_unref (snapshots[i]);
      g_free (snapshot_models[i]);
    }

  /* Emptied key by key, the map ends as the empty map. */
  for (guint index = 1; index <= N_KEYS; index++)
    {
      WeftContextMap *next = weft_context_map_remove (map, spread_key (index));

      weft_context_map_unref (map);
      map = next;
    }
  g_assert_null (map);
  g_free (model);
}

typedef struct
{
  GPtrArray   *vars;
  WeftTask    *task;
  WeftContext *child_context;
} ManyState;

static void
noop_step (WeftTask     *task,
           WeftFuture   *awaited,
           const GError *error,
           gpointer      user_data)
{
  weft_task_return_void (task);
}

static void
set_many_and_spawn (gpointer data)
{
  ManyState *state = data;

  for (guint i = 0; i < state->vars->len; i++)
    weft_context_token_unref (weft_context_var_set_int64 (g_ptr_array_index (state->vars, i), i));
  state->task = weft_task_new (NULL, noop_step, NULL, NULL);
  state->child_context = weft_context_copy_current ();
}

/* CV1: a task's context is a copy sharing its creator's map, whatever the
 * number of variables: creation costs O(1) */
static void
test_copy_shares_map (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  g_autoptr(GPtrArray) vars = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(WeftContext) context = weft_context_new ();
  ManyState state = { vars, NULL, NULL };
  WeftContext *task_context;

  for (guint i = 0; i < 1000; i++)
    g_ptr_array_add (vars, int_var ("many", FALSE, 0));
  g_assert_true (weft_context_run (context, set_many_and_spawn, &state, NULL));

  task_context = weft_task_get_context (state.task);
  g_assert_true (task_context != context);
  g_assert_true (task_context->map == context->map);
  g_assert_true (state.child_context->map == context->map);
  g_assert_cmpuint (weft_context_get_size (task_context), ==, 1000);

  weft_test_run_until_idle ();
  g_object_unref (state.task);
  weft_context_unref (state.child_context);
}

/* CV1: a task's context is made only when something needs it; what its
 * steps set before and after, and their tokens, stay in that one context.
 */
typedef struct
{
  WeftContextVar   *var;
  WeftContextToken *token;
  WeftContext      *context;
  guint             step;
} LateContextState;

static void
fail_if_run (gpointer data)
{
  g_assert_not_reached ();
}

static void
late_context_step (WeftTask     *task,
                   WeftFuture   *awaited,
                   const GError *error,
                   gpointer      user_data)
{
  LateContextState *state = user_data;
  g_autoptr(GError) run_error = NULL;

  switch (state->step++)
    {
    case 0:
      /* CV1: every step runs in one context, so a token made in one step
       * resets in a later one.
       */
      state->token = weft_context_var_set_int64 (state->var, 1);
      weft_task_yield (task);
      break;

    case 1:
      g_assert_true (weft_context_var_reset (state->var, state->token, NULL));
      g_assert_cmpint (weft_context_var_get_int64 (state->var, NULL), ==, 0);
      weft_context_token_unref (weft_context_var_set_int64 (state->var, 2));

      /* Asked for during a step: the one the step runs in, entered. */
      state->context = weft_task_get_context (task);
      g_assert_true (weft_task_get_context (task) == state->context);
      weft_context_token_unref (weft_context_var_set_int64 (state->var, 3));
      g_assert_true (weft_context_get_value (state->context, state->var, NULL));
      g_assert_cmpuint (weft_context_get_size (state->context), ==, 1);
      g_assert_false (weft_context_run (state->context, fail_if_run, NULL, &run_error));
      g_assert_error (run_error, WEFT_ERROR, WEFT_ERROR_CONTEXT_ENTERED);
      weft_task_yield (task);
      break;

    default:
      g_assert_true (weft_task_get_context (task) == state->context);
      g_assert_cmpint (weft_context_var_get_int64 (state->var, NULL), ==, 3);
      weft_task_return_void (task);
      break;
    }
}

static void
test_task_context_made_late (WeftTestLoop  *loop,
                             gconstpointer  data)
{
  g_autoptr(WeftContextVar) var = int_var ("late", TRUE, 0);
  LateContextState state = { var, NULL, NULL, 0 };
  g_autoptr(WeftTask) task = weft_task_new (NULL, late_context_step, &state, NULL);
  g_auto(GValue) value = G_VALUE_INIT;

  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_true (weft_future_propagate (WEFT_FUTURE (task), NULL));
  g_assert_cmpuint (state.step, ==, 3);

  /* Between steps, the context is no longer entered. */
  g_assert_true (weft_context_get_value (state.context, var, &value));
  g_assert_cmpint (g_value_get_int64 (&value), ==, 3);
  g_assert_cmpint (weft_context_var_get_int64 (var, NULL), ==, 0);
  weft_context_token_unref (state.token);
}

static const WeftTestOp parent_ops[] = {
  { OP_SET, 1 }, { OP_SPAWN }, { OP_SET, 2 }, { OP_LOG }, { OP_YIELD }, { OP_YIELD }, { OP_LOG }, { OP_END },
};
static const WeftTestOp child_ops[] = {
  { OP_LOG }, { OP_SET, 3 }, { OP_LOG }, { OP_END },
};

/* CV1 (test_context_1, test_context_3): the child sees the parent's
 * values at its creation, not later ones, and its own sets stay its own */
static void
test_task_copies_context (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  g_autoptr(WeftContextVar) var = int_var ("var", FALSE, 0);
  g_autoptr(GString) log = g_string_new (NULL);
  WeftTestScript child = { "c", child_ops, KIND (data), log, var };
  WeftTestScript parent = { "p", parent_ops, KIND (data), log, var, NULL, &child };
  g_autoptr(WeftTask) task = weft_test_script_start (&parent, NULL, WEFT_TASK_FLAGS_NONE);
  g_auto(GValue) value = G_VALUE_INIT;

  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (log->str, ==, "p=2");
  g_assert_cmpuint (weft_test_pass (), ==, 2);
  g_assert_cmpstr (log->str, ==, "p=2 c=1 c=3");
  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "p=2 c=1 c=3 p=2");

  /* get_context(): each task's own, with its last values. */
  g_assert_true (weft_context_get_value (weft_task_get_context (parent.spawned), var, &value));
  g_assert_cmpint (g_value_get_int64 (&value), ==, 3);
  g_value_unset (&value);
  g_assert_true (weft_context_get_value (weft_task_get_context (task), var, &value));
  g_assert_cmpint (g_value_get_int64 (&value), ==, 2);

  weft_test_script_clear (&parent);
}

static const WeftTestOp shared_first_ops[] = {
  { OP_LOG }, { OP_SET, 1 }, { OP_YIELD }, { OP_LOG }, { OP_END },
};
static const WeftTestOp shared_second_ops[] = {
  { OP_LOG }, { OP_SET, 2 }, { OP_END },
};

/* C2, CV3 (test_context_5, test_context_6): tasks given one context share
 * it, and what they set shows through it afterwards */
static void
test_shared_context (WeftTestLoop  *loop,
                     gconstpointer  data)
{
  g_autoptr(WeftContextVar) var = int_var ("var", FALSE, 0);
  g_autoptr(WeftContext) context = weft_context_new ();
  g_autoptr(GString) log = g_string_new (NULL);
  WeftTestScript first = { "a", shared_first_ops, KIND (data), log, var };
  WeftTestScript second = { "b", shared_second_ops, KIND (data), log, var };
  g_autoptr(WeftTask) a = weft_test_script_start (&first, context, WEFT_TASK_FLAGS_NONE);
  g_autoptr(WeftTask) b = weft_test_script_start (&second, context, WEFT_TASK_FLAGS_NONE);
  g_auto(GValue) value = G_VALUE_INIT;

  g_assert_true (weft_task_get_context (a) == context);
  g_assert_true (weft_task_get_context (b) == context);
  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "a=unset b=1 a=2");
  g_assert_true (weft_context_get_value (context, var, &value));
  g_assert_cmpint (g_value_get_int64 (&value), ==, 2);
}

static const WeftTestOp sets_four_ops[] = { { OP_SET, 4 }, { OP_END } };

static void
read_four (gpointer data)
{
  g_assert_cmpint (weft_context_var_get_int64 (data, NULL), ==, 4);
}

/* CV, Task.get_context(): a task's context is an ordinary Context: it can
 * be kept after the task and run later */
static void
test_task_context_outlives_task (WeftTestLoop  *loop,
                                 gconstpointer  data)
{
  g_autoptr(WeftContextVar) var = int_var ("var", FALSE, 0);
  WeftTestScript script = { "t", sets_four_ops, KIND (data), NULL, var };
  WeftTask *task = weft_test_script_start (&script, NULL, WEFT_TASK_FLAGS_NONE);
  g_autoptr(WeftContext) context = weft_context_ref (weft_task_get_context (task));
  GWeakRef task_ref;

  weft_test_run_until_idle ();
  g_weak_ref_init (&task_ref, task);
  g_object_unref (task);

  g_assert_true (weft_context_run (context, read_four, var, NULL));
  g_assert_cmpuint (weft_context_get_size (context), ==, 1);
  g_clear_pointer (&context, weft_context_unref);
  g_assert_null (g_weak_ref_get (&task_ref));
  g_weak_ref_clear (&task_ref);
}

typedef struct
{
  WeftContextVar *var;
  WeftFuture     *future;
  GString        *log;
} CallbackState;

static void
log_and_set (WeftFuture *future,
             gpointer    user_data)
{
  CallbackState *state = user_data;

  weft_test_log (state->log, "callback=%" G_GINT64_FORMAT,
                 weft_context_var_get_int64 (state->var, NULL));
  weft_context_token_unref (weft_context_var_set_int64 (state->var, 9));
}

static void
add_callback_between_sets (gpointer data)
{
  CallbackState *state = data;

  weft_context_token_unref (weft_context_var_set_int64 (state->var, 5));
  weft_future_add_done_callback (state->future, log_and_set, state, NULL);
  weft_context_token_unref (weft_context_var_set_int64 (state->var, 6));
}

/* CV2 (test_context_2): a done callback runs in a copy of the context of
 * its registration: later sets are not seen, its own sets go nowhere */
static void
test_callback_context (WeftTestLoop  *loop,
                       gconstpointer  data)
{
  g_autoptr(WeftContextVar) var = int_var ("var", TRUE, -1);
  g_autoptr(WeftContext) context = weft_context_new ();
  g_autoptr(WeftFuture) future = weft_future_new ();
  g_autoptr(GString) log = g_string_new (NULL);
  CallbackState state = { var, future, log };
  g_auto(GValue) value = G_VALUE_INIT;

  g_assert_true (weft_context_run (context, add_callback_between_sets, &state, NULL));
  weft_future_set_boolean (future, TRUE);
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "callback=5");

  g_assert_true (weft_context_get_value (context, var, &value));
  g_assert_cmpint (g_value_get_int64 (&value), ==, 6);
  g_assert_cmpint (weft_context_var_get_int64 (var, NULL), ==, -1);  /* not in the base context either */
}

static void
fiber_adds_callback (WeftTask *task,
                     gpointer  user_data)
{
  CallbackState *state = user_data;

  add_callback_between_sets (state);
  weft_sleep (0, NULL);
  weft_sleep (0, NULL);
  weft_test_log (state->log, "task=%" G_GINT64_FORMAT, weft_context_var_get_int64 (state->var, NULL));
}

/* CV2: the same from a task: the callback's set does not leak into it */
static void
test_callback_context_in_task (WeftTestLoop  *loop,
                               gconstpointer  data)
{
  g_autoptr(WeftContextVar) var = int_var ("var", TRUE, -1);
  g_autoptr(WeftFuture) future = weft_future_new ();
  g_autoptr(GString) log = g_string_new (NULL);
  CallbackState state = { var, future, log };
  g_autoptr(WeftTask) task = weft_fiber_new (NULL, fiber_adds_callback, &state, NULL);

  weft_test_pass ();
  weft_future_set_boolean (future, TRUE);
  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "callback=5 task=6");
}

typedef struct
{
  WeftContext    *context;
  WeftContextVar *var;
  gint64          seen;
} ThreadState;

static void
read_and_set (gpointer data)
{
  ThreadState *state = data;

  state->seen = weft_context_var_get_int64 (state->var, NULL);
  weft_context_token_unref (weft_context_var_set_int64 (state->var, 8));
}

static gpointer
thread_runs_copy (gpointer data)
{
  ThreadState *state = data;

  g_assert_true (weft_context_run (state->context, read_and_set, state, NULL));
  return NULL;
}

static void
set_and_run_thread (gpointer data)
{
  ThreadState *state = data;

  weft_context_token_unref (weft_context_var_set_int64 (state->var, 4));
  state->context = weft_context_copy_current ();
  g_thread_join (g_thread_new ("copy", thread_runs_copy, state));
  g_assert_cmpint (weft_context_var_get_int64 (state->var, NULL), ==, 4);
}

/* CV4, TH1: what to_thread needs: a copy of the caller's context, run in
 * another thread, sees the caller's values and keeps its sets */
static void
test_copy_runs_in_thread (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  g_autoptr(WeftContextVar) var = int_var ("var", FALSE, 0);
  ThreadState state = { NULL, var, 0 };

  run_in_fresh_context (set_and_run_thread, &state);
  g_assert_cmpint (state.seen, ==, 4);
  g_assert_cmpint (weft_context_get_size (state.context), ==, 1);
  weft_context_unref (state.context);
}

typedef struct
{
  WeftContextVar *var;
  WeftContext    *inner;
  gboolean        slept;
  GError         *sleep_error;
  gint64          after_sleep;
  WeftTask       *fiber;
} SuspendState;

static void
sleep_inside_run (gpointer data)
{
  SuspendState *state = data;

  weft_context_token_unref (weft_context_var_set_int64 (state->var, 1));
  state->slept = weft_sleep (0, &state->sleep_error);
  state->after_sleep = weft_context_var_get_int64 (state->var, NULL);
}

static void
fiber_sleeps_inside_run (WeftTask *task,
                         gpointer  user_data)
{
  SuspendState *state = user_data;
  g_auto(GValue) value = G_VALUE_INIT;

  g_assert_true (weft_context_run (state->inner, sleep_inside_run, state, NULL));

  /* Back in the fiber's own context, in this step and the next. */
  weft_context_token_unref (weft_context_var_set_int64 (state->var, 2));
  g_assert_true (weft_sleep (0, NULL));
  g_assert_cmpint (weft_context_var_get_int64 (state->var, NULL), ==, 2);
  g_assert_true (weft_context_get_value (weft_task_get_context (task), state->var, &value));
  g_assert_cmpint (g_value_get_int64 (&value), ==, 2);
}

static void
spawn_eager_fiber (WeftTask     *task,
                   WeftFuture   *awaited,
                   const GError *error,
                   gpointer      user_data)
{
  SuspendState *state = user_data;

  state->fiber = weft_fiber_new_full ("suspends", NULL, WEFT_TASK_FLAGS_EAGER_START,
                                      fiber_sleeps_inside_run, state, NULL);
  weft_task_return_void (task);
}

/* Python's Context.run() takes a plain function, which cannot suspend: a
 * fiber cannot suspend inside weft_context_run() either, since its next
 * step enters the fiber's context again, not the one it ran. Started
 * eagerly, its first step's context lived on its creator's stack.
 */
static void
test_fiber_cannot_suspend_in_run (WeftTestLoop  *loop,
                                  gconstpointer  data)
{
  g_autoptr(WeftContextVar) var = int_var ("var", TRUE, 0);
  g_autoptr(WeftContext) inner = weft_context_new ();
  SuspendState state = { var, inner, FALSE, NULL, -1, NULL };
  g_autoptr(WeftTask) spawner = weft_task_new (NULL, spawn_eager_fiber, &state, NULL);
  g_autoptr(WeftTask) fiber = NULL;
  g_auto(GValue) value = G_VALUE_INIT;

  weft_test_run_until_done (WEFT_FUTURE (spawner));
  fiber = g_steal_pointer (&state.fiber);
  g_assert_nonnull (fiber);
  weft_test_run_until_done (WEFT_FUTURE (fiber));
  g_assert_true (weft_future_propagate (WEFT_FUTURE (fiber), NULL));

  g_assert_false (state.slept);
  g_assert_error (state.sleep_error, WEFT_ERROR, WEFT_ERROR_CONTEXT_ENTERED);
  g_clear_error (&state.sleep_error);
  g_assert_cmpint (state.after_sleep, ==, 1);
  g_assert_true (weft_context_get_value (inner, var, &value));
  g_assert_cmpint (g_value_get_int64 (&value), ==, 1);
}

typedef struct
{
  WeftContextVar *object_var;
  WeftContextVar *int_var;
  gint64          seen;
} ThreadExitState;

static void
read_on_finalize (gpointer  data,
                  GObject  *where_the_object_was)
{
  ThreadExitState *state = data;

  state->seen = weft_context_var_get_int64 (state->int_var, NULL);
}

static gpointer
set_in_base_context_and_exit (gpointer data)
{
  ThreadExitState *state = data;
  GObject *object = g_object_new (G_TYPE_OBJECT, NULL);

  g_object_weak_ref (object, read_on_finalize, state);
  weft_context_token_unref (weft_context_var_set_object (state->object_var, object));
  weft_context_token_unref (weft_context_var_set_int64 (state->int_var, 5));
  g_object_unref (object);
  return NULL;
}

/* A thread's base context goes with the thread; a value's finalizer that
 * reads a variable then finds none, not the context being freed. */
static void
test_base_context_freed_with_thread (void)
{
  g_autoptr(WeftContextVar) object_var = weft_context_var_new ("object", G_TYPE_OBJECT, NULL);
  g_autoptr(WeftContextVar) later = int_var ("later", TRUE, -1);
  ThreadExitState state = { object_var, NULL, 0 };

  /* The int's entry must outlive the object's as the map is freed, slot
   * by slot in key order, so that a read would find it there.
   */
  while ((weft_context_var_get_key (later) & 31) < (weft_context_var_get_key (object_var) & 31))
    {
      g_object_unref (later);
      later = int_var ("later", TRUE, -1);
    }
  state.int_var = later;

  g_thread_join (g_thread_new ("exits", set_in_base_context_and_exit, &state));
  g_assert_cmpint (state.seen, ==, -1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  WEFT_TEST_ADD ("/context/var/get-and-default", test_get_and_default);
  WEFT_TEST_ADD ("/context/var/set-and-reset", test_set_and_reset);
  WEFT_TEST_ADD ("/context/var/reset-other-context", test_reset_other_context);
  WEFT_TEST_ADD ("/context/run-and-copy", test_run_and_copy);
  g_test_add_func ("/context/persistent-map", test_persistent_map);
  WEFT_TEST_ADD ("/context/copy-shares-map", test_copy_shares_map);
  WEFT_TEST_ADD ("/context/task-context-made-late", test_task_context_made_late);
  weft_test_add_both_kinds ("context", "task-copies-context", test_task_copies_context);
  weft_test_add_both_kinds ("context", "shared-context", test_shared_context);
  weft_test_add_both_kinds ("context", "task-context-outlives-task", test_task_context_outlives_task);
  WEFT_TEST_ADD ("/context/callback-context", test_callback_context);
  WEFT_TEST_ADD ("/context/callback-context-in-task", test_callback_context_in_task);
  WEFT_TEST_ADD ("/context/copy-runs-in-thread", test_copy_runs_in_thread);
  WEFT_TEST_ADD ("/context/fiber-cannot-suspend-in-run", test_fiber_cannot_suspend_in_run);
  g_test_add_func ("/context/base-context-freed-with-thread", test_base_context_freed_with_thread);

  return g_test_run ();
}
