/* weft-context-token.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-context-private.h"

/**
 * WeftContextToken:
 *
 * What weft_context_var_set() returns, to undo the set with
 * weft_context_var_reset(): Python's contextvars.Token. A token can be
 * used once, with its own variable, in the context it was made in.
 */

struct _WeftContextToken
{
  gatomicrefcount   ref_count;
  gboolean          used;
  WeftContextVar   *var;
  WeftContextEntry *old_entry;      /* NULL: the variable had no value (Token.MISSING) */
  guint64           context_serial;
};

G_DEFINE_BOXED_TYPE (WeftContextToken, weft_context_token, weft_context_token_ref, weft_context_token_unref)

WeftContextToken *
weft_context_token_new (WeftContextVar   *var,
                        WeftContextEntry *old_entry,
                        guint64           context_serial)
{
  WeftContextToken *self = g_new0 (WeftContextToken, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->var = g_object_ref (var);
  self->old_entry = old_entry != NULL ? weft_context_entry_ref (old_entry) : NULL;
  self->context_serial = context_serial;
  return self;
}

WeftContextEntry *
weft_context_token_peek_old (WeftContextToken *self)
{
  return self->old_entry;
}

guint64
weft_context_token_get_context_serial (WeftContextToken *self)
{
  return self->context_serial;
}

gboolean
weft_context_token_is_used (WeftContextToken *self)
{
  return self->used;
}

void
weft_context_token_mark_used (WeftContextToken *self)
{
  self->used = TRUE;
}

/**
 * weft_context_token_ref:
 * @self: a token
 *
 * Takes a reference on @self.
 *
 * Returns: (transfer full): @self
 */
WeftContextToken *
weft_context_token_ref (WeftContextToken *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * weft_context_token_unref:
 * @self: (transfer full): a token
 *
 * Drops a reference on @self.
 */
void
weft_context_token_unref (WeftContextToken *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_clear_pointer (&self->old_entry, weft_context_entry_unref);
  g_object_unref (self->var);
  g_free (self);
}

/**
 * weft_context_token_get_var:
 * @self: a token
 *
 * Python's Token.var.
 *
 * Returns: (transfer none): the variable whose set made @self
 */
WeftContextVar *
weft_context_token_get_var (WeftContextToken *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->var;
}

/**
 * weft_context_token_get_old_value:
 * @self: a token
 * @value: (out caller-allocates) (optional): an uninitialized #GValue for
 *   the old value
 *
 * Python's Token.old_value: the variable's value before the set.
 *
 * Returns: %FALSE if the variable had no value then (Token.MISSING)
 */
gboolean
weft_context_token_get_old_value (WeftContextToken *self,
                                  GValue           *value)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (self->old_entry == NULL)
    return FALSE;
  if (value != NULL)
    {
      g_value_init (value, G_VALUE_TYPE (&self->old_entry->value));
      g_value_copy (&self->old_entry->value, value);
    }
  return TRUE;
}
