/* test-inspect-model.c: the client model, its await graph and record files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <glib/gstdio.h>

#include "weft-inspect-model.h"
#include "weft-inspect-record.h"

static GVariant *
task_keys (guint64     id,
           const char *name,
           const char *state)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "id", "t", id);
  g_variant_dict_insert (&dict, "name", "s", name);
  g_variant_dict_insert (&dict, "state", "s", state);
  return g_variant_dict_end (&dict);
}

static GVariant *
with_awaits (GVariant      *task,
             const guint64 *ids,
             gsize          n)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, task);
  g_variant_unref (g_variant_ref_sink (task));
  g_variant_dict_insert_value (&dict, "awaits",
                               g_variant_new_fixed_array (G_VARIANT_TYPE_UINT64, ids, n, sizeof (guint64)));
  return g_variant_dict_end (&dict);
}

static GVariant *
in_group (GVariant *task,
          guint64   group,
          guint64   owner)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, task);
  g_variant_unref (g_variant_ref_sink (task));
  g_variant_dict_insert (&dict, "group", "t", group);
  g_variant_dict_insert (&dict, "group-owner", "t", owner);
  return g_variant_dict_end (&dict);
}

static GVariant *
lint (const char *kind,
      guint64     task,
      guint32     count)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "kind", "s", kind);
  g_variant_dict_insert (&dict, "task", "t", task);
  g_variant_dict_insert (&dict, "message", "s", "something happened");
  g_variant_dict_insert (&dict, "count", "u", count);
  g_variant_dict_insert (&dict, "first-us", "x", (gint64) task);
  return g_variant_dict_end (&dict);
}

/* A batch; @tasks, @lints: NULL-terminated arrays of floating a{sv} */
static GVariant *
batch (gboolean       full,
       guint64        seq,
       GVariant     **tasks,
       const guint64 *removed,
       gsize          n_removed,
       GVariant     **lints)
{
  GVariantBuilder list;
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "version", "u", 1);
  g_variant_dict_insert (&dict, "full", "b", full);
  g_variant_dict_insert (&dict, "seq", "t", seq);
  g_variant_dict_insert (&dict, "time", "x", (gint64) (1000000 + seq * 100000));
  if (full)
    {
      g_variant_dict_insert (&dict, "pid", "u", 4242);
      g_variant_dict_insert (&dict, "program", "s", "test-program");
    }

  g_variant_builder_init (&list, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; tasks != NULL && tasks[i] != NULL; i++)
    g_variant_builder_add_value (&list, tasks[i]);
  g_variant_dict_insert_value (&dict, "tasks", g_variant_builder_end (&list));

  g_variant_dict_insert_value (&dict, "removed",
                               g_variant_new_fixed_array (G_VARIANT_TYPE_UINT64, removed, n_removed, sizeof (guint64)));

  g_variant_builder_init (&list, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; lints != NULL && lints[i] != NULL; i++)
    g_variant_builder_add_value (&list, lints[i]);
  g_variant_dict_insert_value (&dict, "lints", g_variant_builder_end (&list));

  return g_variant_ref_sink (g_variant_dict_end (&dict));
}

static void
apply (WeftInspectModel *model,
       GVariant         *b)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (weft_inspect_model_apply (model, b, &error));
  g_assert_no_error (error);
  g_variant_unref (b);
}

static void
assert_ids (GArray        *ids,
            const guint64 *expected,
            gsize          n)
{
  g_assert_cmpuint (ids->len, ==, n);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpuint (g_array_index (ids, guint64, i), ==, expected[i]);
}

static GVariant *
with_times (GVariant *task,
            gint64    since_us,
            gint64    busy_us,
            gint64    idle_us)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, task);
  g_variant_unref (g_variant_ref_sink (task));
  g_variant_dict_insert (&dict, "since-us", "x", since_us);
  g_variant_dict_insert (&dict, "busy-us", "x", busy_us);
  g_variant_dict_insert (&dict, "idle-us", "x", idle_us);
  return g_variant_dict_end (&dict);
}

/* Times come as of "since-us": the current state's goes on from there,
 * the others stay; without "since-us" (older recordings), as sent.
 */
static void
test_model_durations (void)
{
  g_autoptr(WeftInspectModel) model = weft_inspect_model_new ();
  GVariant *tasks[] = {
    with_times (task_keys (1, "sleeper", "suspended"), 900000, 300, 5000),
    with_times (task_keys (2, "worker", "running"), 1000000, 700, 0),
    task_keys (3, "old", "suspended"),
    NULL
  };
  WeftInspectTask *sleeper, *worker, *old;

  apply (model, batch (TRUE, 1, tasks, NULL, 0, NULL));   /* time 1.1 s */
  sleeper = weft_inspect_model_lookup_task (model, 1);
  worker = weft_inspect_model_lookup_task (model, 2);
  old = weft_inspect_model_lookup_task (model, 3);
  g_assert_cmpint (weft_inspect_task_get_duration (sleeper, "idle-us", 1100000), ==, 5000 + 200000);
  g_assert_cmpint (weft_inspect_task_get_duration (sleeper, "busy-us", 1100000), ==, 300);
  g_assert_cmpint (weft_inspect_task_get_duration (worker, "busy-us", 1100000), ==, 700 + 100000);
  g_assert_cmpint (weft_inspect_task_get_duration (worker, "idle-us", 1100000), ==, 0);
  g_assert_cmpint (weft_inspect_task_get_duration (old, "idle-us", 1100000), ==, 0);
}

/* A full batch sets the program's state; a delta merges only the keys it
 * carries, drops "removed" tasks and replaces lints by (kind, task). */
static void
test_model_delta (void)
{
  g_autoptr(WeftInspectModel) model = weft_inspect_model_new ();
  g_autoptr(GPtrArray) tasks = NULL;
  g_autoptr(GPtrArray) lints = NULL;
  g_autoptr(GError) error = NULL;
  GVariant *full_tasks[] = { task_keys (1, "main", "suspended"), task_keys (2, "child", "running"),
                             task_keys (3, "old", "done"), NULL };
  GVariant *full_lints[] = { lint ("long-step", 2, 1), NULL };
  GVariantDict change;
  GVariant *delta_tasks[2];
  GVariant *delta_lints[] = { lint ("long-step", 2, 5), lint ("unread-error", 3, 1), NULL };
  const guint64 removed[] = { 3 };
  WeftInspectTask *task;
  guint32 count;

  /* A delta before any full batch has nothing to apply to. */
  {
    g_autoptr(GVariant) early = batch (FALSE, 0, NULL, NULL, 0, NULL);

    g_assert_false (weft_inspect_model_apply (model, early, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_clear_error (&error);
  }

  apply (model, batch (TRUE, 1, full_tasks, NULL, 0, full_lints));
  g_assert_cmpuint (weft_inspect_model_get_pid (model), ==, 4242);
  g_assert_cmpstr (weft_inspect_model_get_program (model), ==, "test-program");
  tasks = weft_inspect_model_list_tasks (model, FALSE);
  g_assert_cmpuint (tasks->len, ==, 2);
  g_clear_pointer (&tasks, g_ptr_array_unref);
  tasks = weft_inspect_model_list_tasks (model, TRUE);
  g_assert_cmpuint (tasks->len, ==, 3);
  g_assert_cmpuint (weft_inspect_task_get_id (tasks->pdata[2]), ==, 3);

  g_variant_dict_init (&change, NULL);
  g_variant_dict_insert (&change, "id", "t", (guint64) 2);
  g_variant_dict_insert (&change, "state", "s", "suspended");
  g_variant_dict_insert (&change, "steps", "t", (guint64) 7);
  delta_tasks[0] = g_variant_dict_end (&change);
  delta_tasks[1] = NULL;
  apply (model, batch (FALSE, 2, delta_tasks, removed, 1, delta_lints));

  g_assert_cmpuint (weft_inspect_model_get_seq (model), ==, 2);
  task = weft_inspect_model_lookup_task (model, 2);
  g_assert_nonnull (task);
  g_assert_cmpstr (weft_inspect_task_get_name (task), ==, "child");   /* kept */
  g_assert_cmpstr (weft_inspect_task_get_state (task), ==, "suspended");
  g_assert_cmpuint (weft_inspect_task_get_uint64 (task, "steps"), ==, 7);
  g_assert_null (weft_inspect_model_lookup_task (model, 3));
  g_assert_cmpstr (weft_inspect_model_get_program (model), ==, "test-program");

  lints = weft_inspect_model_list_lints (model);
  g_assert_cmpuint (lints->len, ==, 2);
  g_assert_true (g_variant_lookup (lints->pdata[0], "count", "u", &count));
  g_assert_cmpuint (count, ==, 5);
  g_clear_pointer (&lints, g_ptr_array_unref);

  /* A new full batch forgets what the previous one said. */
  {
    GVariant *only[] = { task_keys (9, "new", "scheduled"), NULL };

    apply (model, batch (TRUE, 3, only, NULL, 0, NULL));
  }
  g_clear_pointer (&tasks, g_ptr_array_unref);
  tasks = weft_inspect_model_list_tasks (model, TRUE);
  g_assert_cmpuint (tasks->len, ==, 1);
  lints = weft_inspect_model_list_lints (model);
  g_assert_cmpuint (lints->len, ==, 0);
}

/* Ids or exact names; among tasks of one name, the unfinished one. */
static void
test_model_find (void)
{
  g_autoptr(WeftInspectModel) model = weft_inspect_model_new ();
  g_autoptr(GError) error = NULL;
  GVariant *tasks[] = { task_keys (1, "worker", "done"), task_keys (2, "worker", "suspended"),
                        task_keys (3, "dup", "running"), task_keys (4, "dup", "running"),
                        task_keys (5, "1", "running"), NULL };

  apply (model, batch (TRUE, 1, tasks, NULL, 0, NULL));
  g_assert_cmpuint (weft_inspect_task_get_id (weft_inspect_model_find_task (model, "worker", NULL)), ==, 2);
  g_assert_cmpuint (weft_inspect_task_get_id (weft_inspect_model_find_task (model, "1", NULL)), ==, 1);
  g_assert_cmpuint (weft_inspect_task_get_id (weft_inspect_model_find_task (model, "4", NULL)), ==, 4);
  g_assert_null (weft_inspect_model_find_task (model, "dup", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_null (weft_inspect_model_find_task (model, "nobody", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

/* The await graph as 3.14's capture_call_graph sees it: "awaits" (gather
 * children here), and a TaskGroup's owner awaiting its unfinished
 * children; finished tasks are not in it. */
static void
test_model_graph (void)
{
  g_autoptr(WeftInspectModel) model = weft_inspect_model_new ();
  g_autoptr(GPtrArray) roots = NULL;
  g_autoptr(GPtrArray) cycles = NULL;
  const guint64 gathered[] = { 4, 5, 6 };
  GVariant *tasks[] = {
    task_keys (1, "main", "suspended"),
    in_group (task_keys (2, "a", "suspended"), 1, 1),
    in_group (with_awaits (task_keys (3, "b", "suspended"), gathered, 3), 1, 1),
    task_keys (4, "g1", "suspended"),
    task_keys (5, "g2", "scheduled"),
    task_keys (6, "g3", "done"),
    in_group (task_keys (7, "finished child", "cancelled"), 1, 1),
    task_keys (8, "alone", "running"),
    NULL
  };

  apply (model, batch (TRUE, 1, tasks, NULL, 0, NULL));
  assert_ids (weft_inspect_model_get_awaits (model, 1), (guint64[]) { 2, 3 }, 2);
  assert_ids (weft_inspect_model_get_awaits (model, 3), (guint64[]) { 4, 5 }, 2);
  assert_ids (weft_inspect_model_get_awaited_by (model, 4), (guint64[]) { 3 }, 1);
  assert_ids (weft_inspect_model_get_awaited_by (model, 2), (guint64[]) { 1 }, 1);
  assert_ids (weft_inspect_model_get_awaited_by (model, 1), NULL, 0);
  assert_ids (weft_inspect_model_get_awaits (model, 99), NULL, 0);

  roots = weft_inspect_model_list_roots (model);
  g_assert_cmpuint (roots->len, ==, 2);
  g_assert_cmpuint (weft_inspect_task_get_id (roots->pdata[0]), ==, 1);
  g_assert_cmpuint (weft_inspect_task_get_id (roots->pdata[1]), ==, 8);

  cycles = weft_inspect_model_find_cycles (model);
  g_assert_cmpuint (cycles->len, ==, 0);
}

/* Cycles come out as asyncio.tools._find_cycles gives them: the path from
 * the first task met on the cycle, back to it. */
static void
test_model_cycles (void)
{
  g_autoptr(WeftInspectModel) model = weft_inspect_model_new ();
  g_autoptr(GPtrArray) cycles = NULL;
  g_autoptr(GPtrArray) roots = NULL;
  GVariant *tasks[] = {
    with_awaits (task_keys (1, "Task-1", "suspended"), (guint64[]) { 2 }, 1),
    with_awaits (task_keys (2, "Task-2", "suspended"), (guint64[]) { 3 }, 1),
    with_awaits (task_keys (3, "Task-3", "suspended"), (guint64[]) { 2 }, 1),
    with_awaits (task_keys (4, "self", "suspended"), (guint64[]) { 4 }, 1),
    NULL
  };

  apply (model, batch (TRUE, 1, tasks, NULL, 0, NULL));
  cycles = weft_inspect_model_find_cycles (model);
  g_assert_cmpuint (cycles->len, ==, 2);
  assert_ids (cycles->pdata[0], (guint64[]) { 2, 3, 2 }, 3);
  assert_ids (cycles->pdata[1], (guint64[]) { 4, 4 }, 2);

  roots = weft_inspect_model_list_roots (model);
  g_assert_cmpuint (roots->len, ==, 1);
}

/* What the writer writes, the reader reads back, byte for byte; a frame cut
 * short ends the record; anything else is not a record. */
static void
test_record_round_trip (void)
{
  g_autofree char *dir = g_dir_make_tmp ("weft-record-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "rec", NULL);
  g_autoptr(WeftInspectRecordWriter) writer = NULL;
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_autoptr(GPtrArray) read = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length;
  GVariant *tasks[] = { task_keys (1, "main", "suspended"), NULL };
  GVariant *delta[] = { task_keys (1, "main", "running"), NULL };

  g_ptr_array_add (written, batch (TRUE, 1, tasks, NULL, 0, NULL));
  g_ptr_array_add (written, batch (FALSE, 2, delta, (guint64[]) { 7 }, 1, NULL));
  g_ptr_array_add (written, batch (FALSE, 3, NULL, NULL, 0, NULL));

  writer = weft_inspect_record_writer_new (path, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < written->len; i++)
    {
      g_assert_true (weft_inspect_record_writer_append (writer, written->pdata[i], &error));
      g_assert_no_error (error);
    }
  g_assert_cmpuint (weft_inspect_record_writer_get_count (writer), ==, 3);
  g_assert_true (weft_inspect_record_writer_close (writer, &error));

  read = weft_inspect_record_read (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (read->len, ==, 3);
  for (guint i = 0; i < read->len; i++)
    g_assert_true (g_variant_equal (read->pdata[i], written->pdata[i]));

  /* The file starts with the magic and a little-endian length. */
  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  g_assert_cmpmem (contents, 8, "WEFTREC1", 8);
  g_assert_cmpuint ((guint8) contents[8] | (guint8) contents[9] << 8 | (guint8) contents[10] << 16 |
                    (guint) (guint8) contents[11] << 24,
                    ==, g_variant_get_size (written->pdata[0]));

  /* Cut in the middle of the last frame. */
  g_assert_true (g_file_set_contents (path, contents, length - 3, NULL));
  g_clear_pointer (&read, g_ptr_array_unref);
  read = weft_inspect_record_read (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (read->len, ==, 2);

  g_assert_true (g_file_set_contents (path, "WEFTREC0", 8, NULL));
  g_assert_null (weft_inspect_record_read (path, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);

  /* A record must start with a full batch. */
  g_clear_pointer (&writer, weft_inspect_record_writer_free);
  writer = weft_inspect_record_writer_new (path, &error);
  g_assert_true (weft_inspect_record_writer_append (writer, written->pdata[1], &error));
  g_assert_true (weft_inspect_record_writer_close (writer, &error));
  g_assert_null (weft_inspect_record_read (path, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);

  g_unlink (path);
  g_rmdir (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/inspect-model/delta", test_model_delta);
  g_test_add_func ("/inspect-model/durations", test_model_durations);
  g_test_add_func ("/inspect-model/find", test_model_find);
  g_test_add_func ("/inspect-model/graph", test_model_graph);
  g_test_add_func ("/inspect-model/cycles", test_model_cycles);
  g_test_add_func ("/inspect-record/round-trip", test_record_round_trip);

  return g_test_run ();
}
