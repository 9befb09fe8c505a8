/* TEMP collector stub: stands in for part A's registry until it lands.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <unistd.h>

#include "weft-inspect-private.h"

int weft_inspect_on;
static guint keep = 256;
static guint64 seq;

struct _WeftInspectCollector
{
  int unused;
};

void
weft_inspect_registry_start (void)
{
  g_atomic_int_set (&weft_inspect_on, 1);
}

void
weft_inspect_registry_set_keep (guint keep_finished)
{
  g_atomic_int_set (&keep, keep_finished);
}

guint
weft_inspect_registry_get_keep (void)
{
  return g_atomic_int_get (&keep);
}

void
weft_inspect_registry_note_exit (void)
{
}

WeftInspectCollector *
weft_inspect_collector_new (void)
{
  return g_new0 (WeftInspectCollector, 1);
}

void
weft_inspect_collector_free (WeftInspectCollector *self)
{
  g_free (self);
}

static GVariant *
batch (gboolean full)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "version", "u", 1);
  g_variant_dict_insert (&dict, "full", "b", full);
  g_variant_dict_insert (&dict, "seq", "t", (guint64) g_atomic_pointer_add (&seq, 1));
  g_variant_dict_insert (&dict, "time", "x", g_get_monotonic_time ());
  g_variant_dict_insert (&dict, "realtime", "x", g_get_real_time ());
  if (full)
    {
      g_variant_dict_insert (&dict, "pid", "u", (guint32) getpid ());
      g_variant_dict_insert (&dict, "program", "s", g_get_prgname () ? g_get_prgname () : "");
    }
  g_variant_dict_insert (&dict, "keep", "u", weft_inspect_registry_get_keep ());
  g_variant_dict_insert (&dict, "dropped", "t", (guint64) 0);
  g_variant_dict_insert_value (&dict, "loops", g_variant_new_array (G_VARIANT_TYPE_VARDICT, NULL, 0));
  g_variant_dict_insert_value (&dict, "tasks", g_variant_new_array (G_VARIANT_TYPE_VARDICT, NULL, 0));
  if (!full)
    g_variant_dict_insert_value (&dict, "removed", g_variant_new_array (G_VARIANT_TYPE_UINT64, NULL, 0));
  g_variant_dict_insert_value (&dict, "lints", g_variant_new_array (G_VARIANT_TYPE_VARDICT, NULL, 0));

  return g_variant_dict_end (&dict);
}

GVariant *
weft_inspect_collector_full (WeftInspectCollector *self)
{
  return batch (TRUE);
}

GVariant *
weft_inspect_collector_delta (WeftInspectCollector *self)
{
  return batch (FALSE);
}

gboolean
weft_inspect_invoke_on_task (guint64              task_id,
                             WeftInspectTaskFunc  func,
                             gpointer             user_data,
                             GDestroyNotify       notify)
{
  if (notify != NULL)
    notify (user_data);
  return FALSE;
}
