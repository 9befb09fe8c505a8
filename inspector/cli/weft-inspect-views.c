/* weft-inspect-views.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-inspect-format.h"
#include "weft-inspect-views.h"

#define BOLD   "\033[1m"
#define YELLOW "\033[33m"
#define RED    "\033[31m"
#define RESET  "\033[0m"

static const char *
colored (const WeftInspectViewStyle *style,
         const char                 *code)
{
  return style != NULL && style->color ? code : "";
}

static const char *
task_name (WeftInspectModel *model,
           guint64           id)
{
  WeftInspectTask *task = weft_inspect_model_lookup_task (model, id);

  return task != NULL ? weft_inspect_task_get_name (task) : NULL;
}

/* "7 'name'", or "7" for a task the program no longer keeps */
static void
append_task_ref (GString          *out,
                 WeftInspectModel *model,
                 guint64           id)
{
  const char *name = task_name (model, id);

  g_string_append_printf (out, "%" G_GUINT64_FORMAT, id);
  if (name != NULL)
    g_string_append_printf (out, " '%s'", name);
}

static void
append_duration (GString *out,
                 gint64   us)
{
  g_autofree char *text = weft_inspect_format_duration (us);

  g_string_append (out, text);
}

/* "sleep 2.000 s" as the program describes it, or the ids it awaits */
static char *
describe_awaits (WeftInspectTask *task)
{
  const char *awaited = weft_inspect_task_get_string (task, "awaited");
  GVariant *awaits = weft_inspect_task_lookup (task, "awaits", G_VARIANT_TYPE ("at"));
  GString *text;
  const guint64 *ids;
  gsize n = 0;

  if (*awaited != '\0' || awaits == NULL)
    return g_strdup (awaited);

  text = g_string_new (NULL);
  ids = g_variant_get_fixed_array (awaits, &n, sizeof (guint64));
  for (gsize i = 0; i < n; i++)
    g_string_append_printf (text, "%s%" G_GUINT64_FORMAT, i ? ", " : "", ids[i]);
  return g_string_free (text, FALSE);
}

static char *
task_site (WeftInspectTask *task)
{
  const char *function, *file;
  int line;

  weft_inspect_task_get_site (task, &function, &file, &line);
  return weft_inspect_format_site (function, file, line);
}

static gboolean
loop_is_main (GVariant *loop,
              guint     n_loops)
{
  const char *thread = "";

  g_variant_lookup (loop, "thread", "&s", &thread);
  return n_loops == 1 || *thread == '\0' || g_str_equal (thread, "main");
}

/* "main loop blocked for 1.234s by task 7 'name'", one per blocked loop */
static void
append_blocked_loops (WeftInspectModel           *model,
                      const WeftInspectViewStyle *style,
                      GString                    *out)
{
  GVariant *loops = weft_inspect_model_get_loops (model);
  guint n_loops = loops != NULL ? g_variant_n_children (loops) : 0;

  for (guint i = 0; i < n_loops; i++)
    {
      g_autoptr(GVariant) loop = g_variant_get_child_value (loops, i);
      gboolean blocked = FALSE;
      guint64 current = 0;
      gint64 step_us = 0, since_us = 0;
      const char *thread = "";

      g_variant_lookup (loop, "blocked", "b", &blocked);
      if (!blocked)
        continue;
      g_variant_lookup (loop, "current-task", "t", &current);
      g_variant_lookup (loop, "step-us", "x", &step_us);
      g_variant_lookup (loop, "since-iteration-us", "x", &since_us);
      g_variant_lookup (loop, "thread", "&s", &thread);

      g_string_append (out, colored (style, RED));
      if (loop_is_main (loop, n_loops))
        g_string_append (out, "main loop");
      else
        g_string_append_printf (out, "loop of thread '%s'", thread);
      g_string_append_printf (out, " blocked for %.3fs ",
                              (current != 0 ? step_us : since_us) / (double) G_USEC_PER_SEC);
      if (current != 0)
        {
          g_string_append (out, "by task ");
          append_task_ref (out, model, current);
        }
      else
        g_string_append (out, "not in a task step");
      g_string_append_printf (out, "%s\n", colored (style, RESET));
    }
}

/* "lint: KIND task ID 'NAME': MESSAGE" */
static void
append_lints (WeftInspectModel           *model,
              const WeftInspectViewStyle *style,
              GString                    *out)
{
  g_autoptr(GPtrArray) lints = weft_inspect_model_list_lints (model);

  for (guint i = 0; i < lints->len; i++)
    {
      const char *kind = "", *message = "";
      guint64 task = 0;

      g_variant_lookup (lints->pdata[i], "kind", "&s", &kind);
      g_variant_lookup (lints->pdata[i], "task", "t", &task);
      g_variant_lookup (lints->pdata[i], "message", "&s", &message);

      g_string_append_printf (out, "%slint: %s task ", colored (style, YELLOW), kind);
      append_task_ref (out, model, task);
      g_string_append_printf (out, ": %s%s\n", message, colored (style, RESET));
    }
}

void
weft_inspect_view_ps (WeftInspectModel           *model,
                      gboolean                    all,
                      const WeftInspectViewStyle *style,
                      GString                    *out)
{
  static const char * const headers[] = {
    "ID", "NAME", "STATE", "CANCELLING", "FUNCTION", "AWAIT SITE", "AWAITS",
    "BUSY", "IDLE", "STEPS", NULL
  };
  g_autoptr(WeftInspectTable) table = weft_inspect_table_new (headers);
  g_autoptr(GPtrArray) tasks = weft_inspect_model_list_tasks (model, all);
  gint64 now = weft_inspect_model_get_time (model);

  for (guint column = 0; column < G_N_ELEMENTS (headers) - 1; column++)
    {
      static const guint min_widths[] = { 0, 8, 0, 0, 10, 14, 10, 0, 0, 0 };
      gboolean numeric = column == 0 || column == 3 || column >= 7;

      weft_inspect_table_set_column (table, column,
                                     numeric ? WEFT_INSPECT_ALIGN_RIGHT : WEFT_INSPECT_ALIGN_LEFT,
                                     min_widths[column]);
    }

  for (guint i = 0; i < tasks->len; i++)
    {
      WeftInspectTask *task = tasks->pdata[i];
      g_autofree char *id = g_strdup_printf ("%" G_GUINT64_FORMAT, weft_inspect_task_get_id (task));
      g_autofree char *cancelling = g_strdup_printf ("%u", weft_inspect_task_get_uint32 (task, "cancelling"));
      g_autofree char *site = task_site (task);
      g_autofree char *awaits = describe_awaits (task);
      g_autofree char *busy = weft_inspect_format_duration (weft_inspect_task_get_duration (task, "busy-us", now));
      g_autofree char *idle = weft_inspect_format_duration (weft_inspect_task_get_duration (task, "idle-us", now));
      g_autofree char *steps = g_strdup_printf ("%" G_GUINT64_FORMAT, weft_inspect_task_get_uint64 (task, "steps"));
      const char *row[] = {
        id, weft_inspect_task_get_name (task), weft_inspect_task_get_state (task), cancelling,
        weft_inspect_task_get_string (task, "function"), site, awaits, busy, idle, steps,
      };

      weft_inspect_table_add_row (table, row);
    }

  weft_inspect_table_format (table, out, style->width, style->color);
  append_blocked_loops (model, style, out);
  append_lints (model, style, out);
}

/* pstree, as asyncio.tools.build_async_tree: task nodes, and below a task
 * the await-site frame where it waits on the tasks under that frame. A
 * task awaited by several tasks appears under each of them.
 */
typedef struct _TreeNode TreeNode;
struct _TreeNode
{
  char      *label;
  GPtrArray *children;      /* TreeNode, not owned */
};

typedef struct
{
  GPtrArray  *nodes;        /* owns every TreeNode */
  GHashTable *task_nodes;   /* guint64 * → TreeNode */
  GHashTable *frame_nodes;  /* "parent pointer\nlabel" → TreeNode */
} Tree;

static TreeNode *
tree_node_new (Tree       *tree,
               const char *label)
{
  TreeNode *node = g_new0 (TreeNode, 1);

  node->label = g_strdup (label);
  node->children = g_ptr_array_new ();
  g_ptr_array_add (tree->nodes, node);
  return node;
}

static void
tree_node_free (TreeNode *node)
{
  g_free (node->label);
  g_ptr_array_unref (node->children);
  g_free (node);
}

static TreeNode *
tree_task_node (Tree             *tree,
                WeftInspectModel *model,
                guint64           id)
{
  TreeNode *node = g_hash_table_lookup (tree->task_nodes, &id);
  WeftInspectTask *task;

  if (node == NULL)
    {
      g_autofree char *label = NULL;

      task = weft_inspect_model_lookup_task (model, id);
      label = g_strdup_printf ("(T) %s", weft_inspect_task_get_name (task));
      node = tree_node_new (tree, label);
      g_hash_table_insert (tree->task_nodes, g_memdup2 (&id, sizeof id), node);
    }
  return node;
}

static TreeNode *
tree_frame_node (Tree            *tree,
                 TreeNode        *parent,
                 WeftInspectTask *task)
{
  g_autofree char *site = task_site (task);
  g_autofree char *label = NULL;
  char *key;
  TreeNode *node;

  if (*site == '\0')
    return parent;

  label = g_strconcat (" ", site, NULL);
  key = g_strdup_printf ("%p\n%s", (void *) parent, label);
  node = g_hash_table_lookup (tree->frame_nodes, key);
  if (node == NULL)
    {
      node = tree_node_new (tree, label);
      g_ptr_array_add (parent->children, node);
      g_hash_table_insert (tree->frame_nodes, key, node);
    }
  else
    g_free (key);
  return node;
}

static void
tree_render (TreeNode   *node,
             const char *prefix,
             gboolean    last,
             GString    *out)
{
  g_autofree char *child_prefix = g_strconcat (prefix, last ? "    " : "│   ", NULL);

  g_string_append_printf (out, "%s%s%s\n", prefix, last ? "└── " : "├── ", node->label);
  for (guint i = 0; i < node->children->len; i++)
    tree_render (node->children->pdata[i], child_prefix, i == node->children->len - 1, out);
}

static void
append_cycles (WeftInspectModel *model,
               GPtrArray        *cycles,
               GString          *err)
{
  g_string_append (err, "ERROR: await-graph contains cycles - cannot print a tree!\n\n");
  for (guint i = 0; i < cycles->len; i++)
    {
      GArray *cycle = cycles->pdata[i];

      g_string_append (err, "cycle: ");
      for (guint j = 0; j < cycle->len; j++)
        {
          guint64 id = g_array_index (cycle, guint64, j);
          const char *name = task_name (model, id);

          if (j > 0)
            g_string_append (err, " → ");
          if (name != NULL)
            g_string_append (err, name);
          else
            g_string_append_printf (err, "%" G_GUINT64_FORMAT, id);
        }
      g_string_append_c (err, '\n');
    }
}

/**
 * weft_inspect_view_pstree:
 *
 * Returns: %FALSE if the await graph has a cycle; @err then says which
 */
gboolean
weft_inspect_view_pstree (WeftInspectModel *model,
                          GString          *out,
                          GString          *err)
{
  g_autoptr(GPtrArray) cycles = weft_inspect_model_find_cycles (model);
  g_autoptr(GPtrArray) tasks = NULL;
  g_autoptr(GPtrArray) roots = NULL;
  Tree tree;

  if (cycles->len > 0)
    {
      append_cycles (model, cycles, err);
      return FALSE;
    }

  tree.nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) tree_node_free);
  tree.task_nodes = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  tree.frame_nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  /* Edges in the order asyncio.tools meets them: by awaited task, then by
   * awaiting task. */
  tasks = weft_inspect_model_list_tasks (model, FALSE);
  for (guint i = 0; i < tasks->len; i++)
    {
      WeftInspectTask *child = tasks->pdata[i];
      guint64 child_id = weft_inspect_task_get_id (child);
      GArray *awaiters = weft_inspect_model_get_awaited_by (model, child_id);

      for (guint j = 0; j < awaiters->len; j++)
        {
          guint64 parent_id = g_array_index (awaiters, guint64, j);
          WeftInspectTask *parent = weft_inspect_model_lookup_task (model, parent_id);
          TreeNode *frame = tree_frame_node (&tree, tree_task_node (&tree, model, parent_id), parent);
          TreeNode *node = tree_task_node (&tree, model, child_id);

          if (!g_ptr_array_find (frame->children, node, NULL))
            g_ptr_array_add (frame->children, node);
        }
    }

  /* Tasks that await no task show where they wait. */
  for (guint i = 0; i < tasks->len; i++)
    {
      WeftInspectTask *task = tasks->pdata[i];
      guint64 id = weft_inspect_task_get_id (task);

      if (weft_inspect_model_get_awaits (model, id)->len == 0)
        tree_frame_node (&tree, tree_task_node (&tree, model, id), task);
    }

  roots = weft_inspect_model_list_roots (model);
  for (guint i = 0; i < roots->len; i++)
    tree_render (tree_task_node (&tree, model, weft_inspect_task_get_id (roots->pdata[i])),
                 "", TRUE, out);

  g_hash_table_unref (tree.frame_nodes);
  g_hash_table_unref (tree.task_nodes);
  g_ptr_array_unref (tree.nodes);
  return TRUE;
}

static void
append_field (GString    *out,
              const char *label,
              const char *value)
{
  g_string_append_printf (out, "  %-13s%s\n", label, value);
}

static void
append_task_list (GString          *out,
                  WeftInspectModel *model,
                  const char       *label,
                  const guint64    *ids,
                  gsize             n)
{
  g_autoptr(GString) value = g_string_new (NULL);

  for (gsize i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append (value, ", ");
      append_task_ref (value, model, ids[i]);
    }
  append_field (out, label, n > 0 ? value->str : "nothing");
}

static void
append_stack (GString          *out,
              WeftInspectModel *model,
              WeftInspectTask  *task)
{
  g_autoptr(GPtrArray) chain = g_ptr_array_new ();
  const char *function, *file;
  int line;

  if (g_str_equal (weft_inspect_task_get_state (task), "failed") &&
      weft_inspect_task_get_site (task, NULL, NULL, NULL))
    {
      g_string_append (out, "Traceback (most recent call last):\n");
      g_ptr_array_add (chain, task);
    }
  else
    {
      /* As weft_task_get_stack(): the task's await site, then those of the
       * task it awaits, down the chain. */
      for (WeftInspectTask *t = task; t != NULL && !g_ptr_array_find (chain, t, NULL);)
        {
          GVariant *awaits = weft_inspect_task_lookup (t, "awaits", G_VARIANT_TYPE ("at"));

          if (!g_str_equal (weft_inspect_task_get_state (t), "suspended") ||
              !weft_inspect_task_get_site (t, NULL, NULL, NULL))
            break;
          g_ptr_array_add (chain, t);
          t = NULL;
          if (awaits != NULL && g_variant_n_children (awaits) == 1)
            {
              guint64 next;

              g_variant_get_child (awaits, 0, "t", &next);
              t = weft_inspect_model_lookup_task (model, next);
            }
        }
      g_string_append (out, chain->len > 0 ? "Await-site chain (most recent call last):\n"
                                           : "Await-site chain: none\n");
    }

  for (guint i = 0; i < chain->len; i++)
    {
      weft_inspect_task_get_site (chain->pdata[i], &function, &file, &line);
      g_string_append_printf (out, "  File \"%s\", line %d, in %s\n", file, line, function);
    }
}

static void
append_native_stack (GString    *out,
                     GVariant   *frames,
                     const char *note)
{
  GVariantIter iter;
  guint64 pc;
  const char *function, *file;
  guint32 line;
  guint n = 0;

  g_string_append (out, "Native stack (innermost first):\n");
  if (frames != NULL)
    {
      g_variant_iter_init (&iter, frames);
      while (g_variant_iter_next (&iter, "(t&s&su)", &pc, &function, &file, &line))
        {
          g_string_append_printf (out, "  #%u 0x%016" G_GINT64_MODIFIER "x %s", n++, pc,
                                  *function ? function : "??");
          if (*file != '\0')
            g_string_append_printf (out, " (%s:%u)", file, line);
          g_string_append_c (out, '\n');
        }
    }
  if (note != NULL && *note != '\0')
    g_string_append_printf (out, "  (%s)\n", note);
}

static void
append_histogram (GString         *out,
                  WeftInspectTask *task)
{
  static const char * const buckets[] = {
    "<16µs", "<64µs", "<256µs", "<1ms", "<4ms", "<16ms", "<64ms", "≥64ms"
  };
  GVariant *histogram = weft_inspect_task_lookup (task, "histogram", G_VARIANT_TYPE ("au"));
  g_autoptr(GString) value = g_string_new (NULL);
  const guint32 *counts;
  gsize n = 0;

  if (histogram == NULL)
    return;
  counts = g_variant_get_fixed_array (histogram, &n, sizeof (guint32));
  for (gsize i = 0; i < n && i < G_N_ELEMENTS (buckets); i++)
    g_string_append_printf (value, "%s%s %u", i ? "  " : "", buckets[i], counts[i]);
  append_field (out, "histogram", value->str);
}

/**
 * weft_inspect_view_where:
 * @native_frames: (nullable): GetBacktrace's frames, a(tssu)
 * @native_note: (nullable): GetBacktrace's note, or why there is none;
 *   %NULL with no frames leaves the native stack out
 */
void
weft_inspect_view_where (WeftInspectModel *model,
                         WeftInspectTask  *task,
                         GVariant         *native_frames,
                         const char       *native_note,
                         GString          *out)
{
  guint64 id = weft_inspect_task_get_id (task);
  gint64 now = weft_inspect_model_get_time (model);
  gint64 created = weft_inspect_task_get_int64 (task, "created-us");
  guint64 parent = weft_inspect_task_get_uint64 (task, "parent");
  guint64 group = weft_inspect_task_get_uint64 (task, "group");
  GArray *awaits = weft_inspect_model_get_awaits (model, id);
  GArray *awaited_by = weft_inspect_model_get_awaited_by (model, id);
  GVariant *requests = weft_inspect_task_lookup (task, "cancel-requests", G_VARIANT_TYPE ("a(txs)"));
  GVariant *context = weft_inspect_task_lookup (task, "context", G_VARIANT_TYPE ("a(ss)"));
  guint64 cancelled_by = weft_inspect_task_get_uint64 (task, "cancelled-by");
  g_autoptr(GString) value = g_string_new (NULL);
  const char *created_at = weft_inspect_task_get_string (task, "created-at");
  const char *text;
  guint64 steps;

  g_string_append (out, "Task ");
  append_task_ref (out, model, id);
  g_string_append_c (out, '\n');
  append_field (out, "state", weft_inspect_task_get_state (task));
  append_field (out, "kind", weft_inspect_task_get_string (task, "kind"));
  append_field (out, "function", weft_inspect_task_get_string (task, "function"));
  append_field (out, "created at", *created_at ? created_at : "unknown");

  g_string_truncate (value, 0);
  append_duration (value, now - created);
  g_string_append (value, " ago");
  append_field (out, "created", value->str);

  g_string_truncate (value, 0);
  if (parent != 0)
    append_task_ref (value, model, parent);
  append_field (out, "parent", parent != 0 ? value->str : "none");

  g_string_truncate (value, 0);
  if (group != 0)
    {
      g_string_append_printf (value, "%" G_GUINT64_FORMAT ", owned by ", group);
      append_task_ref (value, model, weft_inspect_task_get_uint64 (task, "group-owner"));
    }
  append_field (out, "group", group != 0 ? value->str : "none");

  append_task_list (out, model, "awaits", (guint64 *) awaits->data, awaits->len);
  append_task_list (out, model, "awaited by", (guint64 *) awaited_by->data, awaited_by->len);
  text = weft_inspect_task_get_string (task, "awaited");
  if (*text != '\0')
    append_field (out, "waiting on", text);
  g_string_printf (value, "%u", weft_inspect_task_get_uint32 (task, "cancelling"));
  append_field (out, "cancelling", value->str);

  append_stack (out, model, task);
  if (native_frames != NULL || native_note != NULL)
    append_native_stack (out, native_frames, native_note);

  if (requests != NULL && g_variant_n_children (requests) > 0)
    {
      GVariantIter iter;
      guint64 by;
      gint64 time;
      const char *message;

      g_string_append (out, "Cancel requests:\n");
      g_variant_iter_init (&iter, requests);
      while (g_variant_iter_next (&iter, "(tx&s)", &by, &time, &message))
        {
          g_string_append (out, "  ");
          append_duration (out, now - time);
          g_string_append (out, " ago by ");
          if (by != 0)
            {
              g_string_append (out, "task ");
              append_task_ref (out, model, by);
            }
          else
            g_string_append (out, "a client or code outside tasks");
          if (*message != '\0')
            g_string_append_printf (out, ": \"%s\"", message);
          g_string_append_c (out, '\n');
        }
    }

  if (context != NULL && g_variant_n_children (context) > 0)
    {
      GVariantIter iter;
      const char *name, *text_value;

      g_string_append (out, "Context:\n");
      g_variant_iter_init (&iter, context);
      while (g_variant_iter_next (&iter, "(&s&s)", &name, &text_value))
        g_string_append_printf (out, "  %s = %s\n", name, text_value);
    }

  g_string_append (out, "Timing:\n");
  g_string_truncate (value, 0);
  append_duration (value, weft_inspect_task_get_duration (task, "busy-us", now));
  steps = weft_inspect_task_get_uint64 (task, "steps");
  g_string_append_printf (value, " in %" G_GUINT64_FORMAT " step%s, longest ",
                          steps, steps == 1 ? "" : "s");
  append_duration (value, weft_inspect_task_get_int64 (task, "longest-step-us"));
  append_field (out, "busy", value->str);
  g_string_truncate (value, 0);
  append_duration (value, weft_inspect_task_get_duration (task, "waiting-us", now));
  append_field (out, "waiting", value->str);
  g_string_truncate (value, 0);
  append_duration (value, weft_inspect_task_get_duration (task, "idle-us", now));
  append_field (out, "idle", value->str);
  append_histogram (out, task);

  if (weft_inspect_task_is_finished (task))
    {
      g_string_truncate (value, 0);
      append_duration (value, now - weft_inspect_task_get_int64 (task, "finished-us"));
      g_string_append (value, " ago");
      g_string_append (out, "Outcome:\n");
      append_field (out, "finished", value->str);
      text = weft_inspect_task_get_string (task, "result");
      if (weft_inspect_task_lookup (task, "result", G_VARIANT_TYPE_STRING) != NULL)
        append_field (out, "result", text);
      text = weft_inspect_task_get_string (task, "error");
      if (*text != '\0')
        append_field (out, "error", text);
      if (cancelled_by != 0)
        {
          g_string_truncate (value, 0);
          append_task_ref (value, model, cancelled_by);
          append_field (out, "cancelled by", value->str);
        }
    }
}

struct _WeftInspectTop
{
  GHashTable *previous_busy;   /* guint64 * → gint64 * */
  gint64      previous_time;
};

WeftInspectTop *
weft_inspect_top_new (void)
{
  WeftInspectTop *self = g_new0 (WeftInspectTop, 1);

  self->previous_busy = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  return self;
}

void
weft_inspect_top_free (WeftInspectTop *self)
{
  g_hash_table_unref (self->previous_busy);
  g_free (self);
}

typedef struct
{
  WeftInspectTask *task;
  gint64           busy;
  gint64           recent;
} TopRow;

static int
compare_top_rows (gconstpointer a,
                  gconstpointer b)
{
  const TopRow *ra = a, *rb = b;
  guint64 ia = weft_inspect_task_get_id (ra->task), ib = weft_inspect_task_get_id (rb->task);

  if (ra->recent != rb->recent)
    return ra->recent > rb->recent ? -1 : 1;
  if (ra->busy != rb->busy)
    return ra->busy > rb->busy ? -1 : 1;
  return ia < ib ? -1 : ia > ib;
}

static void
append_top_header (WeftInspectModel           *model,
                   const WeftInspectViewStyle *style,
                   GPtrArray                  *all,
                   GString                    *out)
{
  guint running = 0, scheduled = 0, suspended = 0, finished = 0;
  GVariant *loops = weft_inspect_model_get_loops (model);
  gboolean blocked = FALSE;

  for (guint i = 0; i < all->len; i++)
    {
      const char *state = weft_inspect_task_get_state (all->pdata[i]);

      if (g_str_equal (state, "running"))
        running++;
      else if (g_str_equal (state, "scheduled"))
        scheduled++;
      else if (g_str_equal (state, "suspended"))
        suspended++;
      else
        finished++;
    }

  g_string_append_printf (out, "%s%s%s (pid %u)  tasks: %u (%u running, %u scheduled, %u suspended), "
                          "%u finished kept",
                          colored (style, BOLD), weft_inspect_model_get_program (model),
                          colored (style, RESET), weft_inspect_model_get_pid (model),
                          running + scheduled + suspended, running, scheduled, suspended, finished);
  if (weft_inspect_model_get_dropped (model) > 0)
    g_string_append_printf (out, ", %" G_GUINT64_FORMAT " events dropped",
                            weft_inspect_model_get_dropped (model));

  for (guint i = 0; loops != NULL && i < g_variant_n_children (loops); i++)
    {
      g_autoptr(GVariant) loop = g_variant_get_child_value (loops, i);
      gboolean b = FALSE;

      g_variant_lookup (loop, "blocked", "b", &b);
      blocked |= b;
    }
  g_string_append_printf (out, "  loops: %u%s\n", loops != NULL ? (guint) g_variant_n_children (loops) : 0,
                          blocked ? "" : ", none blocked");
  append_blocked_loops (model, style, out);
}

void
weft_inspect_top_view (WeftInspectTop             *self,
                       WeftInspectModel           *model,
                       const WeftInspectViewStyle *style,
                       GString                    *out)
{
  static const char * const headers[] = {
    "ID", "NAME", "STATE", "BUSY%", "RECENT", "BUSY", "STEPS", "FUNCTION", "AWAITS", NULL
  };
  g_autoptr(WeftInspectTable) table = weft_inspect_table_new (headers);
  g_autoptr(GPtrArray) all = weft_inspect_model_list_tasks (model, TRUE);
  g_autoptr(GArray) rows = g_array_new (FALSE, FALSE, sizeof (TopRow));
  gint64 now = weft_inspect_model_get_time (model);
  gint64 interval = self->previous_time > 0 ? now - self->previous_time : 0;
  guint max_rows = style->height > 6 ? style->height - 6 : G_MAXUINT;

  for (guint i = 0; i < all->len; i++)
    {
      WeftInspectTask *task = all->pdata[i];
      guint64 id = weft_inspect_task_get_id (task);
      gint64 busy = weft_inspect_task_get_duration (task, "busy-us", now);
      gint64 *previous = g_hash_table_lookup (self->previous_busy, &id);
      TopRow row = { task, busy, previous != NULL ? busy - *previous : busy };

      if (!weft_inspect_task_is_finished (task))
        g_array_append_val (rows, row);
    }
  g_array_sort (rows, compare_top_rows);

  g_hash_table_remove_all (self->previous_busy);
  for (guint i = 0; i < all->len; i++)
    {
      guint64 id = weft_inspect_task_get_id (all->pdata[i]);
      gint64 busy = weft_inspect_task_get_duration (all->pdata[i], "busy-us", now);

      g_hash_table_insert (self->previous_busy, g_memdup2 (&id, sizeof id), g_memdup2 (&busy, sizeof busy));
    }
  self->previous_time = now;

  for (guint column = 0; column < G_N_ELEMENTS (headers) - 1; column++)
    {
      static const guint min_widths[] = { 0, 8, 0, 0, 0, 0, 0, 10, 10 };
      gboolean numeric = column == 0 || (column >= 3 && column <= 6);

      weft_inspect_table_set_column (table, column,
                                     numeric ? WEFT_INSPECT_ALIGN_RIGHT : WEFT_INSPECT_ALIGN_LEFT,
                                     min_widths[column]);
    }

  for (guint i = 0; i < rows->len && i < max_rows; i++)
    {
      TopRow *row = &g_array_index (rows, TopRow, i);
      g_autofree char *id = g_strdup_printf ("%" G_GUINT64_FORMAT, weft_inspect_task_get_id (row->task));
      g_autofree char *percent = interval > 0 ? g_strdup_printf ("%.1f", 100.0 * row->recent / interval)
                                              : g_strdup ("-");
      g_autofree char *recent = interval > 0 ? weft_inspect_format_duration (row->recent) : g_strdup ("-");
      g_autofree char *busy = weft_inspect_format_duration (row->busy);
      g_autofree char *steps = g_strdup_printf ("%" G_GUINT64_FORMAT, weft_inspect_task_get_uint64 (row->task, "steps"));
      g_autofree char *awaits = describe_awaits (row->task);
      const char *cells[] = {
        id, weft_inspect_task_get_name (row->task), weft_inspect_task_get_state (row->task),
        percent, recent, busy, steps, weft_inspect_task_get_string (row->task, "function"), awaits,
      };

      weft_inspect_table_add_row (table, cells);
    }

  append_top_header (model, style, all, out);
  weft_inspect_table_format (table, out, style->width, style->color);
  if (rows->len > max_rows)
    g_string_append_printf (out, "… %u more\n", rows->len - max_rows);
  append_lints (model, style, out);
}
