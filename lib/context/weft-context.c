/* weft-context.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-context-private.h"
#include "weft-error.h"

/**
 * WeftContext:
 *
 * A set of #WeftContextVar values: Python's contextvars.Context.
 *
 * Every task runs each step in its own context, a copy of its creator's
 * taken when it was created, unless it was given one to share
 * (weft_task_new_full()). Done callbacks run in a copy of the context that
 * was current when they were added. Each thread also has a base context,
 * current outside tasks, callbacks and weft_context_run().
 *
 * A context holds an immutable map: setting a variable replaces the map,
 * never changes it, so a copy shares the map and costs one reference,
 * whatever the number of variables. The map is a hash array mapped trie;
 * a set or a lookup costs O(log32 n).
 *
 * A context is used by one thread at a time.
 */

G_DEFINE_BOXED_TYPE (WeftContext, weft_context, weft_context_ref, weft_context_unref)

WEFT_THREAD_LOCAL WeftContext *weft_context_current;

/* The thread's base context, once created; the GPrivate frees it with the
 * thread, the thread-local finds it without a call.
 */
static WEFT_THREAD_LOCAL WeftContext *thread_base_context;

/* Forgotten first: finalizing its values may read variables. */
static void
base_context_free (gpointer context)
{
  thread_base_context = NULL;
  weft_context_unref (context);
}

static GPrivate base_context = G_PRIVATE_INIT (base_context_free);
static guint64 last_serial;

/**
 * weft_context_new:
 *
 * Creates an empty context: Python's Context().
 *
 * Returns: (transfer full): a context with no variable set
 */
WeftContext *
weft_context_new (void)
{
  WeftContext *self = g_new0 (WeftContext, 1);

  g_atomic_ref_count_init (&self->ref_count);
  return self;
}

/*
 * weft_context_get_current:
 * @create: whether to create the thread's base context if it is current
 *   and does not exist yet
 *
 * Returns: (transfer none) (nullable): the current context; %NULL only if
 *   it is the base context, not created
 */
WeftContext *
weft_context_get_current (gboolean create)
{
  if (G_LIKELY (weft_context_current != NULL))
    {
      if (G_UNLIKELY (weft_context_current->forward != NULL))
        return weft_context_current->forward;
      return weft_context_current;
    }

  if (thread_base_context == NULL && create)
    {
      thread_base_context = weft_context_new ();
      thread_base_context->entered = TRUE;
      g_private_set (&base_context, thread_base_context);
    }
  return thread_base_context;
}

static WeftContextMap *
current_map (void)
{
  WeftContext *current = weft_context_get_current (FALSE);

  return current != NULL ? current->map : NULL;
}

/* Returns: (transfer full) (nullable): the current context's map */
WeftContextMap *
weft_context_capture_map (void)
{
  return weft_context_map_ref (current_map ());
}

/* A context inside another structure, so that making one allocates
 * nothing: a task's own, whose references are references on the task,
 * the stand-in a step of a task without one yet runs in, or a done
 * callback's (@owner %NULL). Stand-ins and a done callback's are on the
 * stack, where nothing outside Weft can reach them. Takes over @map.
 */
void
weft_context_init_embedded (WeftContext    *context,
                            gpointer        owner,
                            WeftContextMap *map)
{
  g_atomic_ref_count_init (&context->ref_count);
  context->entered = FALSE;
  context->owner = owner;
  context->map = map;
  context->serial = 0;
  context->forward = NULL;
}

void
weft_context_clear_embedded (WeftContext *context)
{
  g_clear_pointer (&context->map, weft_context_map_unref);
}

guint64
weft_context_ensure_serial (WeftContext *self)
{
  if (self->serial == 0)
    self->serial = __atomic_add_fetch (&last_serial, 1, __ATOMIC_RELAXED);
  return self->serial;
}

/* Takes over @map. */
void
weft_context_replace_map (WeftContext    *self,
                          WeftContextMap *map)
{
  weft_context_map_unref (self->map);
  self->map = map;
}

/**
 * weft_context_copy_current:
 *
 * Copies the current context: Python's copy_context(). In a task's step,
 * that is the task's context. The copy costs O(1).
 *
 * Run code in the copy with weft_context_run(), in this thread or in
 * another: that code sees the variables set here, and what it sets stays
 * in the copy.
 *
 * Returns: (transfer full): a copy of the current context
 */
WeftContext *
weft_context_copy_current (void)
{
  WeftContext *copy = weft_context_new ();

  copy->map = weft_context_map_ref (current_map ());
  return copy;
}

/**
 * weft_context_copy:
 * @self: a context
 *
 * Copies @self: Python's Context.copy(). The copy costs O(1).
 *
 * Returns: (transfer full): a new context with the same values as @self
 */
WeftContext *
weft_context_copy (WeftContext *self)
{
  WeftContext *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = weft_context_new ();
  copy->map = weft_context_map_ref (self->map);
  return copy;
}

/**
 * weft_context_ref:
 * @self: a context
 *
 * Takes a reference on @self.
 *
 * Returns: (transfer full): @self
 */
WeftContext *
weft_context_ref (WeftContext *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (self->owner != NULL)
    g_object_ref (self->owner);
  else
    g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * weft_context_unref:
 * @self: (transfer full): a context
 *
 * Drops a reference on @self.
 */
void
weft_context_unref (WeftContext *self)
{
  g_return_if_fail (self != NULL);

  if (self->owner != NULL)
    {
      g_object_unref (self->owner);
      return;
    }
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  weft_context_map_unref (self->map);
  g_free (self);
}

/**
 * weft_context_run:
 * @self: a context
 * @func: (scope call) (closure user_data): the function to run in @self
 * @user_data: data for @func
 * @error: return location for a %WEFT_ERROR_CONTEXT_ENTERED error
 *
 * Runs @func with @self as the current context: Python's Context.run().
 * What @func sets is set in @self; the previous context is current again
 * afterwards. A context can be entered only once at a time: running a
 * context that is current, or that a running weft_context_run() or task
 * step entered, fails with %WEFT_ERROR_CONTEXT_ENTERED.
 *
 * As in Python, where @func is a plain function, @func runs to the end
 * without suspending: a fiber's weft_await() or weft_sleep() inside it
 * fails with %WEFT_ERROR_CONTEXT_ENTERED.
 *
 * Returns: %TRUE if @func ran
 */
gboolean
weft_context_run (WeftContext      *self,
                  WeftContextFunc   func,
                  gpointer          user_data,
                  GError          **error)
{
  g_autoptr(WeftContext) hold = NULL;
  WeftContextSwitch saved;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->entered)
    {
      g_set_error (error, WEFT_ERROR, WEFT_ERROR_CONTEXT_ENTERED,
                   "cannot enter context: %p is already entered", (gpointer) self);
      return FALSE;
    }

  hold = weft_context_ref (self);  /* @func may drop the caller's reference */
  weft_context_switch_in (self, &saved);
  func (user_data);
  weft_context_switch_out (self, &saved);

  return TRUE;
}

/**
 * weft_context_get_value:
 * @self: a context
 * @var: a variable
 * @value: (out caller-allocates) (optional): an uninitialized #GValue for
 *   the value
 *
 * Looks @var up in @self: Python's `ctx[var]`. The variable's default
 * does not count: only a value set in @self does.
 *
 * Returns: %TRUE if @var has a value in @self
 */
gboolean
weft_context_get_value (WeftContext    *self,
                        WeftContextVar *var,
                        GValue         *value)
{
  WeftContextEntry *entry;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (WEFT_IS_CONTEXT_VAR (var), FALSE);

  entry = weft_context_map_lookup (self->map, weft_context_var_get_key (var));
  if (entry == NULL)
    return FALSE;
  if (value != NULL)
    {
      g_value_init (value, G_VALUE_TYPE (&entry->value));
      g_value_copy (&entry->value, value);
    }
  return TRUE;
}

/**
 * weft_context_contains:
 * @self: a context
 * @var: a variable
 *
 * Python's `var in ctx`.
 *
 * Returns: %TRUE if @var has a value set in @self
 */
gboolean
weft_context_contains (WeftContext    *self,
                       WeftContextVar *var)
{
  return weft_context_get_value (self, var, NULL);
}

/**
 * weft_context_get_size:
 * @self: a context
 *
 * Python's `len(ctx)`. Counting walks the map: O(n).
 *
 * Returns: how many variables have a value in @self
 */
guint
weft_context_get_size (WeftContext *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return weft_context_map_get_size (self->map);
}

static void
add_var (gpointer entry,
         gpointer vars)
{
  g_ptr_array_add (vars, g_object_ref (((WeftContextEntry *) entry)->var));
}

/**
 * weft_context_list_vars:
 * @self: a context
 *
 * Lists the variables set in @self: Python's `ctx.keys()`. Read their
 * values with weft_context_get_value().
 *
 * Returns: (transfer full) (element-type WeftContextVar): the variables
 *   with a value in @self, in no particular order
 */
GPtrArray *
weft_context_list_vars (WeftContext *self)
{
  GPtrArray *vars;

  g_return_val_if_fail (self != NULL, NULL);

  vars = g_ptr_array_new_with_free_func (g_object_unref);
  weft_context_map_foreach (self->map, add_var, vars);
  return vars;
}
