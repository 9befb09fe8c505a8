/* weft-context-var.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-context-private.h"
#include "weft-error.h"

/**
 * WeftContextVar:
 *
 * A variable whose value depends on the current #WeftContext: Python's
 * contextvars.ContextVar. Values are #GValues of the variable's type.
 *
 * A task sees the values its creator had when it created it; what it sets
 * stays in its own context. Create variables once, at the top level:
 * contexts keep a reference on every variable they hold a value for.
 */

struct _WeftContextVar
{
  GObject   parent_instance;
  char     *name;
  GType     value_type;
  guint32   key;
  gboolean  has_default;
  GValue    default_value;
};

G_DEFINE_FINAL_TYPE (WeftContextVar, weft_context_var, G_TYPE_OBJECT)

static guint32 last_key;

static void
weft_context_var_finalize (GObject *object)
{
  WeftContextVar *self = WEFT_CONTEXT_VAR (object);

  g_free (self->name);
  if (self->has_default)
    g_value_unset (&self->default_value);

  G_OBJECT_CLASS (weft_context_var_parent_class)->finalize (object);
}

static void
weft_context_var_class_init (WeftContextVarClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = weft_context_var_finalize;
}

static void
weft_context_var_init (WeftContextVar *self)
{
  self->key = __atomic_add_fetch (&last_key, 1, __ATOMIC_RELAXED);
  g_assert (self->key != 0);  /* four billion variables: keys must stay unique */
}

/**
 * weft_context_var_new:
 * @name: the variable's name, for debugging
 * @value_type: the #GType of its values
 * @default_value: (nullable): the value weft_context_var_get() returns
 *   where none is set, or %NULL for none; copied
 *
 * Creates a context variable: Python's ContextVar(name, default=...).
 *
 * Returns: (transfer full): a new variable
 */
WeftContextVar *
weft_context_var_new (const char   *name,
                      GType         value_type,
                      const GValue *default_value)
{
  WeftContextVar *self;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (G_TYPE_IS_VALUE_TYPE (value_type), NULL);
  g_return_val_if_fail (default_value == NULL ||
                        g_value_type_compatible (G_VALUE_TYPE (default_value), value_type), NULL);

  self = g_object_new (WEFT_TYPE_CONTEXT_VAR, NULL);
  self->name = g_strdup (name);
  self->value_type = value_type;
  if (default_value != NULL)
    {
      self->has_default = TRUE;
      g_value_init (&self->default_value, G_VALUE_TYPE (default_value));
      g_value_copy (default_value, &self->default_value);
    }
  return self;
}

guint32
weft_context_var_get_key (WeftContextVar *self)
{
  return self->key;
}

/**
 * weft_context_var_get_name:
 * @self: a variable
 *
 * Python's ContextVar.name.
 *
 * Returns: the variable's name
 */
const char *
weft_context_var_get_name (WeftContextVar *self)
{
  g_return_val_if_fail (WEFT_IS_CONTEXT_VAR (self), NULL);

  return self->name;
}

/**
 * weft_context_var_get_value_type:
 * @self: a variable
 *
 * Gets the type of the variable's values.
 *
 * Returns: the #GType given to weft_context_var_new()
 */
GType
weft_context_var_get_value_type (WeftContextVar *self)
{
  g_return_val_if_fail (WEFT_IS_CONTEXT_VAR (self), G_TYPE_INVALID);

  return self->value_type;
}

/**
 * weft_context_var_get_default:
 * @self: a variable
 * @value: (out caller-allocates) (optional): an uninitialized #GValue for
 *   the default
 *
 * Gets the variable's default value.
 *
 * Returns: %FALSE if the variable has no default
 */
gboolean
weft_context_var_get_default (WeftContextVar *self,
                              GValue         *value)
{
  g_return_val_if_fail (WEFT_IS_CONTEXT_VAR (self), FALSE);

  if (!self->has_default)
    return FALSE;
  if (value != NULL)
    {
      g_value_init (value, G_VALUE_TYPE (&self->default_value));
      g_value_copy (&self->default_value, value);
    }
  return TRUE;
}

/**
 * weft_context_var_get:
 * @self: a variable
 * @value: (out caller-allocates): an uninitialized #GValue for the value
 * @error: return location for a %WEFT_ERROR_LOOKUP error
 *
 * Reads the variable in the current context: Python's ContextVar.get().
 * Without a value set there, this is the default; without a default, a
 * %WEFT_ERROR_LOOKUP error (Python's LookupError).
 *
 * Returns: %TRUE if @value was set
 */
gboolean
weft_context_var_get (WeftContextVar  *self,
                      GValue          *value,
                      GError         **error)
{
  WeftContext *current;
  const GValue *found = NULL;

  g_return_val_if_fail (WEFT_IS_CONTEXT_VAR (self), FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  current = weft_context_get_current (FALSE);
  if (current != NULL)
    {
      WeftContextEntry *entry = weft_context_map_lookup (current->map, self->key);

      if (entry != NULL)
        found = &entry->value;
    }
  if (found == NULL && self->has_default)
    found = &self->default_value;

  if (found == NULL)
    {
      g_set_error (error, WEFT_ERROR, WEFT_ERROR_LOOKUP,
                   "Context variable %s has no value", self->name);
      return FALSE;
    }

  g_value_init (value, G_VALUE_TYPE (found));
  g_value_copy (found, value);
  return TRUE;
}

/**
 * weft_context_var_set:
 * @self: a variable
 * @value: the new value, of the variable's type; copied
 *
 * Sets the variable in the current context: Python's ContextVar.set(). In
 * a task's step, only that task's context changes; outside, the thread's
 * current one.
 *
 * Returns: (transfer full): a token to restore the previous value with
 *   weft_context_var_reset()
 */
WeftContextToken *
weft_context_var_set (WeftContextVar *self,
                      const GValue   *value)
{
  WeftContext *current;
  WeftContextEntry *entry;
  WeftContextToken *token;

  g_return_val_if_fail (WEFT_IS_CONTEXT_VAR (self), NULL);
  g_return_val_if_fail (G_IS_VALUE (value), NULL);
  g_return_val_if_fail (g_value_type_compatible (G_VALUE_TYPE (value), self->value_type), NULL);

  current = weft_context_get_current (TRUE);
  token = weft_context_token_new (self, weft_context_map_lookup (current->map, self->key),
                                  weft_context_ensure_serial (current));

  entry = weft_context_entry_new (self, self->key, value);
  weft_context_replace_map (current, weft_context_map_insert (current->map, entry));
  weft_context_entry_unref (entry);

  return token;
}

/**
 * weft_context_var_reset:
 * @self: a variable
 * @token: what weft_context_var_set() returned
 * @error: return location for a %WEFT_ERROR_BAD_TOKEN error
 *
 * Gives the variable back, in the current context, the value it had
 * before the set that returned @token, or no value if it had none: Python's
 * ContextVar.reset(). A token works once, with its own variable, in the
 * context its set changed; otherwise this fails with %WEFT_ERROR_BAD_TOKEN
 * and changes nothing.
 *
 * Returns: %TRUE if the variable was reset
 */
gboolean
weft_context_var_reset (WeftContextVar    *self,
                        WeftContextToken  *token,
                        GError           **error)
{
  WeftContext *current;
  WeftContextEntry *old;
  WeftContextMap *map;

  g_return_val_if_fail (WEFT_IS_CONTEXT_VAR (self), FALSE);
  g_return_val_if_fail (token != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  current = weft_context_get_current (TRUE);

  /* The order of Python's checks, which decides the error reported. */
  if (weft_context_token_is_used (token))
    {
      g_set_error (error, WEFT_ERROR, WEFT_ERROR_BAD_TOKEN,
                   "Token for %s has already been used once", self->name);
      return FALSE;
    }
  if (weft_context_token_get_var (token) != self)
    {
      g_set_error (error, WEFT_ERROR, WEFT_ERROR_BAD_TOKEN,
                   "Token was created by a different ContextVar than %s", self->name);
      return FALSE;
    }
  if (weft_context_token_get_context_serial (token) != weft_context_ensure_serial (current))
    {
      g_set_error (error, WEFT_ERROR, WEFT_ERROR_BAD_TOKEN,
                   "Token for %s was created in a different Context", self->name);
      return FALSE;
    }

  old = weft_context_token_peek_old (token);
  if (old != NULL)
    map = weft_context_map_insert (current->map, old);
  else
    map = weft_context_map_remove (current->map, self->key);
  weft_context_replace_map (current, map);
  weft_context_token_mark_used (token);

  return TRUE;
}

static gboolean
get_typed (WeftContextVar  *self,
           GType            type,
           GValue          *value,
           GError         **error)
{
  if (!weft_context_var_get (self, value, error))
    return FALSE;
  if (!G_VALUE_HOLDS (value, type))
    {
      g_set_error (error, WEFT_ERROR, WEFT_ERROR_WRONG_TYPE,
                   "Context variable %s holds a %s, not a %s",
                   self->name, G_VALUE_TYPE_NAME (value), g_type_name (type));
      g_value_unset (value);
      return FALSE;
    }
  return TRUE;
}

#define DEFINE_TYPED_GET(ctype, name, gtype, getter, fallback)          \
  ctype                                                                 \
  weft_context_var_##name (WeftContextVar  *self,                       \
                           GError         **error)                      \
  {                                                                     \
    g_auto(GValue) value = G_VALUE_INIT;                                \
                                                                        \
    if (!get_typed (self, gtype, &value, error))                        \
      return fallback;                                                  \
    return getter (&value);                                             \
  }

#define DEFINE_TYPED_SET(ctype, name, gtype, setter)                    \
  WeftContextToken *                                                    \
  weft_context_var_set_##name (WeftContextVar *self,                    \
                               ctype           value)                   \
  {                                                                     \
    g_auto(GValue) v = G_VALUE_INIT;                                    \
                                                                        \
    g_return_val_if_fail (WEFT_IS_CONTEXT_VAR (self), NULL);            \
    g_value_init (&v, gtype);                                           \
    setter (&v, value);                                                 \
    return weft_context_var_set (self, &v);                             \
  }

/**
 * weft_context_var_get_boolean:
 * @self: a variable of type %G_TYPE_BOOLEAN
 * @error: return location for a %WEFT_ERROR_LOOKUP or
 *   %WEFT_ERROR_WRONG_TYPE error
 *
 * weft_context_var_get() for a boolean.
 *
 * Returns: the value, or %FALSE with @error set
 */
DEFINE_TYPED_GET (gboolean, get_boolean, G_TYPE_BOOLEAN, g_value_get_boolean, FALSE)

/**
 * weft_context_var_get_int64:
 * @self: a variable of type %G_TYPE_INT64
 * @error: return location for a %WEFT_ERROR_LOOKUP or
 *   %WEFT_ERROR_WRONG_TYPE error
 *
 * weft_context_var_get() for a 64-bit integer.
 *
 * Returns: the value, or 0 with @error set
 */
DEFINE_TYPED_GET (gint64, get_int64, G_TYPE_INT64, g_value_get_int64, 0)

/**
 * weft_context_var_get_double:
 * @self: a variable of type %G_TYPE_DOUBLE
 * @error: return location for a %WEFT_ERROR_LOOKUP or
 *   %WEFT_ERROR_WRONG_TYPE error
 *
 * weft_context_var_get() for a double.
 *
 * Returns: the value, or 0 with @error set
 */
DEFINE_TYPED_GET (double, get_double, G_TYPE_DOUBLE, g_value_get_double, 0.)

/**
 * weft_context_var_dup_string:
 * @self: a variable of type %G_TYPE_STRING
 * @error: return location for a %WEFT_ERROR_LOOKUP or
 *   %WEFT_ERROR_WRONG_TYPE error
 *
 * weft_context_var_get() for a string.
 *
 * Returns: (transfer full) (nullable): a copy of the value, or %NULL with
 *   @error set
 */
DEFINE_TYPED_GET (char *, dup_string, G_TYPE_STRING, g_value_dup_string, NULL)

/**
 * weft_context_var_dup_object:
 * @self: a variable of an object type
 * @error: return location for a %WEFT_ERROR_LOOKUP or
 *   %WEFT_ERROR_WRONG_TYPE error
 *
 * weft_context_var_get() for an object.
 *
 * Returns: (transfer full) (type GObject) (nullable): the object, or %NULL
 *   with @error set
 */
DEFINE_TYPED_GET (gpointer, dup_object, G_TYPE_OBJECT, g_value_dup_object, NULL)

/**
 * weft_context_var_set_boolean:
 * @self: a variable of type %G_TYPE_BOOLEAN
 * @value: the value
 *
 * weft_context_var_set() for a boolean.
 *
 * Returns: (transfer full): the token for weft_context_var_reset()
 */
DEFINE_TYPED_SET (gboolean, boolean, G_TYPE_BOOLEAN, g_value_set_boolean)

/**
 * weft_context_var_set_int64:
 * @self: a variable of type %G_TYPE_INT64
 * @value: the value
 *
 * weft_context_var_set() for a 64-bit integer.
 *
 * Returns: (transfer full): the token for weft_context_var_reset()
 */
DEFINE_TYPED_SET (gint64, int64, G_TYPE_INT64, g_value_set_int64)

/**
 * weft_context_var_set_double:
 * @self: a variable of type %G_TYPE_DOUBLE
 * @value: the value
 *
 * weft_context_var_set() for a double.
 *
 * Returns: (transfer full): the token for weft_context_var_reset()
 */
DEFINE_TYPED_SET (double, double, G_TYPE_DOUBLE, g_value_set_double)

/**
 * weft_context_var_set_string:
 * @self: a variable of type %G_TYPE_STRING
 * @value: (nullable): the value; copied
 *
 * weft_context_var_set() for a string.
 *
 * Returns: (transfer full): the token for weft_context_var_reset()
 */
DEFINE_TYPED_SET (const char *, string, G_TYPE_STRING, g_value_set_string)

/**
 * weft_context_var_set_object:
 * @self: a variable of an object type
 * @value: (type GObject) (nullable): the object; referenced
 *
 * weft_context_var_set() for an object.
 *
 * Returns: (transfer full): the token for weft_context_var_reset()
 */
WeftContextToken *
weft_context_var_set_object (WeftContextVar *self,
                             gpointer        value)
{
  g_auto(GValue) v = G_VALUE_INIT;

  g_return_val_if_fail (WEFT_IS_CONTEXT_VAR (self), NULL);
  g_return_val_if_fail (value == NULL || G_IS_OBJECT (value), NULL);

  g_value_init (&v, value != NULL ? G_OBJECT_TYPE (value) : self->value_type);
  g_value_set_object (&v, value);
  return weft_context_var_set (self, &v);
}
