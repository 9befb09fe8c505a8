/* weft-inspect-model.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "weft-inspect-model.h"

/**
 * WeftInspectModel:
 *
 * The state of one inspected program, rebuilt from the batches it sends:
 * a full batch replaces everything, a delta merges the keys it carries
 * into the tasks it names, drops the "removed" ones and replaces lints by
 * (kind, task). Live clients and replays apply the same batches, so they
 * show the same state.
 */

struct _WeftInspectTask
{
  guint64     id;
  GHashTable *keys;     /* key → GVariant */
};

struct _WeftInspectModel
{
  GObject     parent_instance;

  gboolean    has_state;
  guint64     seq;
  gint64      time;
  gint64      realtime;
  guint       pid;
  char       *program;
  guint       keep;
  guint64     dropped;
  GVariant   *loops;

  GHashTable *tasks;    /* &task->id → WeftInspectTask */
  GHashTable *lints;    /* "kind\ntask" → a{sv} */

  /* The await graph, derived on first use after each batch. */
  GHashTable *awaits;       /* &task->id → GArray of guint64 */
  GHashTable *awaited_by;
  GArray     *no_edges;
};

G_DEFINE_FINAL_TYPE (WeftInspectModel, weft_inspect_model, G_TYPE_OBJECT)

static WeftInspectTask *
task_new (guint64 id)
{
  WeftInspectTask *task = g_new0 (WeftInspectTask, 1);

  task->id = id;
  task->keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify) g_variant_unref);
  return task;
}

static void
task_free (WeftInspectTask *task)
{
  g_hash_table_unref (task->keys);
  g_free (task);
}

guint64
weft_inspect_task_get_id (const WeftInspectTask *task)
{
  return task->id;
}

/* Returns: (transfer none) (nullable): the value of @key if it has @type */
GVariant *
weft_inspect_task_lookup (const WeftInspectTask *task,
                          const char            *key,
                          const GVariantType    *type)
{
  GVariant *value = g_hash_table_lookup (task->keys, key);

  if (value == NULL || (type != NULL && !g_variant_is_of_type (value, type)))
    return NULL;
  return value;
}

const char *
weft_inspect_task_get_string (const WeftInspectTask *task,
                              const char            *key)
{
  GVariant *value = weft_inspect_task_lookup (task, key, G_VARIANT_TYPE_STRING);

  return value != NULL ? g_variant_get_string (value, NULL) : "";
}

guint64
weft_inspect_task_get_uint64 (const WeftInspectTask *task,
                              const char            *key)
{
  GVariant *value = weft_inspect_task_lookup (task, key, G_VARIANT_TYPE_UINT64);

  return value != NULL ? g_variant_get_uint64 (value) : 0;
}

gint64
weft_inspect_task_get_int64 (const WeftInspectTask *task,
                             const char            *key)
{
  GVariant *value = weft_inspect_task_lookup (task, key, G_VARIANT_TYPE_INT64);

  return value != NULL ? g_variant_get_int64 (value) : 0;
}

/* "busy-us", "waiting-us" or "idle-us" as of @now, the program's
 * monotonic time: each is sent as of "since-us", when the task entered
 * its state, and the state's own one goes on growing from there.
 */
gint64
weft_inspect_task_get_duration (const WeftInspectTask *task,
                                const char            *key,
                                gint64                 now)
{
  static const char * const states[][2] = {
    { "running", "busy-us" }, { "scheduled", "waiting-us" }, { "suspended", "idle-us" },
  };
  GVariant *since = weft_inspect_task_lookup (task, "since-us", G_VARIANT_TYPE_INT64);
  const char *state = weft_inspect_task_get_state (task);
  gint64 value = weft_inspect_task_get_int64 (task, key);

  for (guint i = 0; since != NULL && i < G_N_ELEMENTS (states); i++)
    if (g_str_equal (state, states[i][0]) && g_str_equal (key, states[i][1]))
      value += MAX (now - g_variant_get_int64 (since), 0);
  return value;
}

guint32
weft_inspect_task_get_uint32 (const WeftInspectTask *task,
                              const char            *key)
{
  GVariant *value = weft_inspect_task_lookup (task, key, G_VARIANT_TYPE_UINT32);

  return value != NULL ? g_variant_get_uint32 (value) : 0;
}

const char *
weft_inspect_task_get_name (const WeftInspectTask *task)
{
  return weft_inspect_task_get_string (task, "name");
}

const char *
weft_inspect_task_get_state (const WeftInspectTask *task)
{
  return weft_inspect_task_get_string (task, "state");
}

gboolean
weft_inspect_task_is_finished (const WeftInspectTask *task)
{
  const char *state = weft_inspect_task_get_state (task);

  return g_str_equal (state, "done") || g_str_equal (state, "failed") ||
         g_str_equal (state, "cancelled");
}

/* Returns: whether the task has an await site with a function name */
gboolean
weft_inspect_task_get_site (const WeftInspectTask *task,
                            const char           **function,
                            const char           **file,
                            int                   *line)
{
  GVariant *site = weft_inspect_task_lookup (task, "site", G_VARIANT_TYPE ("(ssi)"));
  const char *f = "", *fl = "";
  gint32 l = 0;

  if (site != NULL)
    g_variant_get (site, "(&s&si)", &f, &fl, &l);
  if (function != NULL)
    *function = f;
  if (file != NULL)
    *file = fl;
  if (line != NULL)
    *line = l;
  return *f != '\0';
}

static void
weft_inspect_model_invalidate_graph (WeftInspectModel *self)
{
  g_clear_pointer (&self->awaits, g_hash_table_unref);
  g_clear_pointer (&self->awaited_by, g_hash_table_unref);
}

static void
weft_inspect_model_finalize (GObject *object)
{
  WeftInspectModel *self = WEFT_INSPECT_MODEL (object);

  weft_inspect_model_invalidate_graph (self);
  g_hash_table_unref (self->tasks);
  g_hash_table_unref (self->lints);
  g_array_unref (self->no_edges);
  g_clear_pointer (&self->loops, g_variant_unref);
  g_free (self->program);

  G_OBJECT_CLASS (weft_inspect_model_parent_class)->finalize (object);
}

static void
weft_inspect_model_class_init (WeftInspectModelClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = weft_inspect_model_finalize;
}

static void
weft_inspect_model_init (WeftInspectModel *self)
{
  self->tasks = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                       (GDestroyNotify) task_free);
  self->lints = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) g_variant_unref);
  self->no_edges = g_array_new (FALSE, FALSE, sizeof (guint64));
  self->program = g_strdup ("");
  self->keep = 256;
}

WeftInspectModel *
weft_inspect_model_new (void)
{
  return g_object_new (WEFT_TYPE_INSPECT_MODEL, NULL);
}

static void
merge_task (WeftInspectModel *self,
            GVariant         *keys)
{
  WeftInspectTask *task;
  GVariantIter iter;
  const char *key;
  GVariant *value;
  guint64 id;

  if (!g_variant_lookup (keys, "id", "t", &id))
    return;

  task = g_hash_table_lookup (self->tasks, &id);
  if (task == NULL)
    {
      task = task_new (id);
      g_hash_table_insert (self->tasks, &task->id, task);
    }

  g_variant_iter_init (&iter, keys);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    g_hash_table_insert (task->keys, g_strdup (key), value);
}

static void
merge_lint (WeftInspectModel *self,
            GVariant         *lint)
{
  const char *kind = "";
  guint64 task = 0;
  GVariant *old;
  char *key;
  g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);
  GVariantIter iter;
  const char *name;
  GVariant *value;

  g_variant_lookup (lint, "kind", "&s", &kind);
  g_variant_lookup (lint, "task", "t", &task);
  key = g_strdup_printf ("%s\n%" G_GUINT64_FORMAT, kind, task);

  old = g_hash_table_lookup (self->lints, key);
  if (old != NULL)
    {
      g_variant_iter_init (&iter, old);
      while (g_variant_iter_next (&iter, "{&sv}", &name, &value))
        g_variant_dict_insert_value (&dict, name, g_steal_pointer (&value));
    }
  g_variant_iter_init (&iter, lint);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &value))
    g_variant_dict_insert_value (&dict, name, g_steal_pointer (&value));

  g_hash_table_insert (self->lints, key, g_variant_ref_sink (g_variant_dict_end (&dict)));
}

/**
 * weft_inspect_model_apply:
 * @self: a model
 * @batch: an a{sv} batch
 * @error: set when @batch is not a batch, or a delta comes before any full
 *   batch
 *
 * Applies a batch. Unknown keys are kept, so newer programs work with
 * older clients.
 */
gboolean
weft_inspect_model_apply (WeftInspectModel  *self,
                          GVariant          *batch,
                          GError           **error)
{
  g_autoptr(GVariant) tasks = NULL;
  g_autoptr(GVariant) removed = NULL;
  g_autoptr(GVariant) lints = NULL;
  g_autoptr(GVariant) loops = NULL;
  gboolean full = FALSE;
  const char *program;
  guint32 version = 0;
  GVariantIter iter;
  GVariant *child;

  g_return_val_if_fail (WEFT_IS_INSPECT_MODEL (self), FALSE);

  if (!g_variant_is_of_type (batch, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "a batch is an a{sv}, not %s", g_variant_get_type_string (batch));
      return FALSE;
    }
  if (g_variant_lookup (batch, "version", "u", &version) && version != 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "batch version %u is not supported", version);
      return FALSE;
    }
  g_variant_lookup (batch, "full", "b", &full);
  if (!full && !self->has_state)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "a delta batch came before any full batch");
      return FALSE;
    }

  weft_inspect_model_invalidate_graph (self);
  if (full)
    {
      g_hash_table_remove_all (self->tasks);
      g_hash_table_remove_all (self->lints);
      self->has_state = TRUE;
    }

  g_variant_lookup (batch, "seq", "t", &self->seq);
  g_variant_lookup (batch, "time", "x", &self->time);
  g_variant_lookup (batch, "realtime", "x", &self->realtime);
  g_variant_lookup (batch, "pid", "u", &self->pid);
  g_variant_lookup (batch, "keep", "u", &self->keep);
  g_variant_lookup (batch, "dropped", "t", &self->dropped);
  if (g_variant_lookup (batch, "program", "&s", &program))
    {
      g_free (self->program);
      self->program = g_strdup (program);
    }

  loops = g_variant_lookup_value (batch, "loops", G_VARIANT_TYPE ("aa{sv}"));
  if (loops != NULL)
    {
      g_clear_pointer (&self->loops, g_variant_unref);
      self->loops = g_steal_pointer (&loops);
    }

  tasks = g_variant_lookup_value (batch, "tasks", G_VARIANT_TYPE ("aa{sv}"));
  if (tasks != NULL)
    {
      g_variant_iter_init (&iter, tasks);
      while ((child = g_variant_iter_next_value (&iter)) != NULL)
        {
          merge_task (self, child);
          g_variant_unref (child);
        }
    }

  removed = g_variant_lookup_value (batch, "removed", G_VARIANT_TYPE ("at"));
  if (removed != NULL)
    {
      gsize n;
      const guint64 *ids = g_variant_get_fixed_array (removed, &n, sizeof (guint64));

      for (gsize i = 0; i < n; i++)
        g_hash_table_remove (self->tasks, &ids[i]);
    }

  lints = g_variant_lookup_value (batch, "lints", G_VARIANT_TYPE ("aa{sv}"));
  if (lints != NULL)
    {
      g_variant_iter_init (&iter, lints);
      while ((child = g_variant_iter_next_value (&iter)) != NULL)
        {
          merge_lint (self, child);
          g_variant_unref (child);
        }
    }

  return TRUE;
}

gboolean
weft_inspect_model_has_state (WeftInspectModel *self)
{
  return self->has_state;
}

guint64
weft_inspect_model_get_seq (WeftInspectModel *self)
{
  return self->seq;
}

gint64
weft_inspect_model_get_time (WeftInspectModel *self)
{
  return self->time;
}

gint64
weft_inspect_model_get_realtime (WeftInspectModel *self)
{
  return self->realtime;
}

guint
weft_inspect_model_get_pid (WeftInspectModel *self)
{
  return self->pid;
}

const char *
weft_inspect_model_get_program (WeftInspectModel *self)
{
  return self->program;
}

guint
weft_inspect_model_get_keep (WeftInspectModel *self)
{
  return self->keep;
}

guint64
weft_inspect_model_get_dropped (WeftInspectModel *self)
{
  return self->dropped;
}

/* Returns: (transfer none) (nullable): the last "loops", aa{sv} */
GVariant *
weft_inspect_model_get_loops (WeftInspectModel *self)
{
  return self->loops;
}

WeftInspectTask *
weft_inspect_model_lookup_task (WeftInspectModel *self,
                                guint64           id)
{
  return g_hash_table_lookup (self->tasks, &id);
}

static int
compare_tasks (gconstpointer a,
               gconstpointer b)
{
  const WeftInspectTask *ta = *(WeftInspectTask **) a;
  const WeftInspectTask *tb = *(WeftInspectTask **) b;

  return ta->id < tb->id ? -1 : ta->id > tb->id;
}

/* Returns: (transfer container): tasks by ascending id */
GPtrArray *
weft_inspect_model_list_tasks (WeftInspectModel *self,
                               gboolean          include_finished)
{
  GPtrArray *list = g_ptr_array_new ();
  GHashTableIter iter;
  WeftInspectTask *task;

  g_hash_table_iter_init (&iter, self->tasks);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &task))
    if (include_finished || !weft_inspect_task_is_finished (task))
      g_ptr_array_add (list, task);
  g_ptr_array_sort (list, compare_tasks);
  return list;
}

/**
 * weft_inspect_model_find_task:
 * @id_or_name: a task id, or a task's exact name
 *
 * An id wins over a name; among tasks of that name, the unfinished one.
 *
 * Returns: (transfer none) (nullable): the task, or %NULL with
 *   %G_IO_ERROR_NOT_FOUND, or %G_IO_ERROR_EXISTS when the name is ambiguous
 */
WeftInspectTask *
weft_inspect_model_find_task (WeftInspectModel  *self,
                              const char        *id_or_name,
                              GError           **error)
{
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) named = g_ptr_array_new ();
  g_autoptr(GString) ids = NULL;
  WeftInspectTask *task;
  guint64 id;

  if (g_ascii_string_to_unsigned (id_or_name, 10, 1, G_MAXUINT64, &id, NULL) &&
      (task = weft_inspect_model_lookup_task (self, id)) != NULL)
    return task;

  all = weft_inspect_model_list_tasks (self, TRUE);
  for (guint i = 0; i < all->len; i++)
    if (g_str_equal (weft_inspect_task_get_name (all->pdata[i]), id_or_name))
      g_ptr_array_add (named, all->pdata[i]);

  if (named->len > 1)
    {
      guint unfinished = 0;

      for (guint i = 0; i < named->len; i++)
        if (!weft_inspect_task_is_finished (named->pdata[i]))
          named->pdata[unfinished++] = named->pdata[i];
      if (unfinished > 0)
        g_ptr_array_set_size (named, unfinished);
    }

  if (named->len == 1)
    return named->pdata[0];
  if (named->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "no task with id or name '%s'", id_or_name);
      return NULL;
    }

  ids = g_string_new (NULL);
  for (guint i = 0; i < named->len; i++)
    g_string_append_printf (ids, "%s%" G_GUINT64_FORMAT, i ? ", " : "",
                            weft_inspect_task_get_id (named->pdata[i]));
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
               "%u tasks are named '%s' (ids %s): give an id", named->len, id_or_name, ids->str);
  return NULL;
}

static gint64
lint_int64 (GVariant   *lint,
            const char *key)
{
  gint64 value = 0;

  g_variant_lookup (lint, key, "x", &value);
  return value;
}

static int
compare_lints (gconstpointer a,
               gconstpointer b)
{
  GVariant *la = *(GVariant **) a, *lb = *(GVariant **) b;
  gint64 fa = lint_int64 (la, "first-us"), fb = lint_int64 (lb, "first-us");
  guint64 ta = 0, tb = 0;
  const char *ka = "", *kb = "";

  if (fa != fb)
    return fa < fb ? -1 : 1;
  g_variant_lookup (la, "task", "t", &ta);
  g_variant_lookup (lb, "task", "t", &tb);
  if (ta != tb)
    return ta < tb ? -1 : 1;
  g_variant_lookup (la, "kind", "&s", &ka);
  g_variant_lookup (lb, "kind", "&s", &kb);
  return strcmp (ka, kb);
}

/* Returns: (transfer container) (element-type GVariant): the lints (a{sv}),
 * oldest first */
GPtrArray *
weft_inspect_model_list_lints (WeftInspectModel *self)
{
  GPtrArray *list = g_ptr_array_sized_new (g_hash_table_size (self->lints));
  GHashTableIter iter;
  GVariant *lint;

  g_hash_table_iter_init (&iter, self->lints);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &lint))
    g_ptr_array_add (list, lint);
  g_ptr_array_sort (list, compare_lints);
  return list;
}

static int
compare_ids (gconstpointer a,
             gconstpointer b)
{
  guint64 ia = *(const guint64 *) a, ib = *(const guint64 *) b;

  return ia < ib ? -1 : ia > ib;
}

static GArray *
edges_for (GHashTable *map,
           guint64    *id)
{
  GArray *edges = g_hash_table_lookup (map, id);

  if (edges == NULL)
    {
      edges = g_array_new (FALSE, FALSE, sizeof (guint64));
      g_hash_table_insert (map, id, edges);
    }
  return edges;
}

static void
add_edge (WeftInspectModel *self,
          WeftInspectTask  *awaiter,
          WeftInspectTask  *awaited)
{
  GArray *out = edges_for (self->awaits, &awaiter->id);

  for (guint i = 0; i < out->len; i++)
    if (g_array_index (out, guint64, i) == awaited->id)
      return;
  g_array_append_val (out, awaited->id);
  g_array_append_val (edges_for (self->awaited_by, &awaited->id), awaiter->id);
}

static void
sort_edges (GHashTable *map)
{
  GHashTableIter iter;
  GArray *edges;

  g_hash_table_iter_init (&iter, map);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &edges))
    g_array_sort (edges, compare_ids);
}

static void
ensure_graph (WeftInspectModel *self)
{
  g_autoptr(GPtrArray) tasks = NULL;

  if (self->awaits != NULL)
    return;

  self->awaits = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                        (GDestroyNotify) g_array_unref);
  self->awaited_by = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                            (GDestroyNotify) g_array_unref);

  tasks = weft_inspect_model_list_tasks (self, FALSE);
  for (guint i = 0; i < tasks->len; i++)
    {
      WeftInspectTask *task = tasks->pdata[i];
      GVariant *awaits = weft_inspect_task_lookup (task, "awaits", G_VARIANT_TYPE ("at"));
      guint64 group = weft_inspect_task_get_uint64 (task, "group");
      WeftInspectTask *other;

      if (awaits != NULL)
        {
          gsize n;
          const guint64 *ids = g_variant_get_fixed_array (awaits, &n, sizeof (guint64));

          for (gsize j = 0; j < n; j++)
            if ((other = weft_inspect_model_lookup_task (self, ids[j])) != NULL &&
                !weft_inspect_task_is_finished (other))
              add_edge (self, task, other);
        }

      if (group != 0 &&
          (other = weft_inspect_model_lookup_task (self, weft_inspect_task_get_uint64 (task, "group-owner"))) != NULL &&
          !weft_inspect_task_is_finished (other))
        add_edge (self, other, task);
    }

  sort_edges (self->awaits);
  sort_edges (self->awaited_by);
}

static GArray *
graph_edges (WeftInspectModel *self,
             GHashTable       *map,
             guint64           id)
{
  GArray *edges = g_hash_table_lookup (map, &id);

  return edges != NULL ? edges : self->no_edges;
}

/* Returns: (transfer none): the ids @id awaits */
GArray *
weft_inspect_model_get_awaits (WeftInspectModel *self,
                               guint64           id)
{
  ensure_graph (self);
  return graph_edges (self, self->awaits, id);
}

/* Returns: (transfer none): the ids of the tasks that await @id */
GArray *
weft_inspect_model_get_awaited_by (WeftInspectModel *self,
                                   guint64           id)
{
  ensure_graph (self);
  return graph_edges (self, self->awaited_by, id);
}

/* Returns: (transfer container): unfinished tasks awaited by nobody, by id */
GPtrArray *
weft_inspect_model_list_roots (WeftInspectModel *self)
{
  GPtrArray *roots = weft_inspect_model_list_tasks (self, FALSE);
  guint n = 0;

  ensure_graph (self);
  for (guint i = 0; i < roots->len; i++)
    {
      WeftInspectTask *task = roots->pdata[i];
      GArray *by = g_hash_table_lookup (self->awaited_by, &task->id);

      if (by == NULL || by->len == 0)
        roots->pdata[n++] = task;
    }
  g_ptr_array_set_size (roots, n);
  return roots;
}

enum { WHITE, GREY, BLACK };

static void
find_cycles_from (WeftInspectModel *self,
                  guint64           id,
                  GHashTable       *colour,
                  GArray           *path,
                  GPtrArray        *cycles)
{
  GArray *next = g_hash_table_lookup (self->awaits, &id);
  WeftInspectTask *task = weft_inspect_model_lookup_task (self, id);

  g_hash_table_insert (colour, &task->id, GINT_TO_POINTER (GREY));
  g_array_append_val (path, id);

  for (guint i = 0; next != NULL && i < next->len; i++)
    {
      guint64 w = g_array_index (next, guint64, i);

      switch (GPOINTER_TO_INT (g_hash_table_lookup (colour, &w)))
        {
        case WHITE:
          find_cycles_from (self, w, colour, path, cycles);
          break;
        case GREY:
          {
            GArray *cycle = g_array_new (FALSE, FALSE, sizeof (guint64));
            guint start = path->len;

            while (g_array_index (path, guint64, start - 1) != w)
              start--;
            g_array_append_vals (cycle, &g_array_index (path, guint64, start - 1),
                                 path->len - start + 1);
            g_array_append_val (cycle, w);
            g_ptr_array_add (cycles, cycle);
          }
          break;
        default:
          break;
        }
    }

  g_hash_table_insert (colour, &task->id, GINT_TO_POINTER (BLACK));
  g_array_set_size (path, path->len - 1);
}

/**
 * weft_inspect_model_find_cycles:
 *
 * A depth-first search for back edges, as asyncio.tools does, visiting
 * tasks and their awaits by ascending id.
 *
 * Returns: (transfer full) (element-type GArray): each cycle as the ids
 *   along it, the first repeated at the end; empty when there is none
 */
GPtrArray *
weft_inspect_model_find_cycles (WeftInspectModel *self)
{
  GPtrArray *cycles = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  g_autoptr(GHashTable) colour = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GArray) path = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr(GPtrArray) tasks = weft_inspect_model_list_tasks (self, FALSE);

  ensure_graph (self);
  for (guint i = 0; i < tasks->len; i++)
    {
      WeftInspectTask *task = tasks->pdata[i];

      if (g_hash_table_lookup (colour, &task->id) == NULL)
        find_cycles_from (self, task->id, colour, path, cycles);
    }
  return cycles;
}
