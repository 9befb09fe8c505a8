/* test-inspect-server.c: org.gnome.Weft.Inspector1 through the real socket
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "weft-test-utils.h"

#include "weft-fiber-backtrace-private.h"
#include "weft-inspect-server-private.h"

#define OBJECT_PATH    "/org/gnome/Weft/Inspector"
#define INTERFACE_NAME "org.gnome.Weft.Inspector1"

static char *runtime_dir;

static GDBusConnection *
connect_to_program (void)
{
  g_autofree char *address = NULL;
  g_autoptr(GError) error = NULL;
  GDBusConnection *connection;

  g_assert_nonnull (weft_inspector_get_socket_path ());
  address = g_strconcat ("unix:path=", weft_inspector_get_socket_path (), NULL);
  connection = g_dbus_connection_new_for_address_sync (address,
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                                                       NULL, NULL, &error);
  g_assert_no_error (error);
  return connection;
}

static void
store_result (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* Calls asynchronously and iterates the test's context meanwhile, which
 * runs the program's side of Cancel and GetBacktrace.
 */
static GVariant *
call_interface (GDBusConnection  *connection,
                const char       *interface_name,
                const char       *method,
                GVariant         *parameters,
                const char       *reply_type,
                GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  g_dbus_connection_call (connection, NULL, OBJECT_PATH, interface_name, method, parameters,
                          reply_type != NULL ? G_VARIANT_TYPE (reply_type) : NULL,
                          G_DBUS_CALL_FLAGS_NONE, 10000, NULL, store_result, &result);
  while (result == NULL)
    g_main_context_iteration (g_main_context_get_thread_default (), TRUE);

  return g_dbus_connection_call_finish (connection, result, error);
}

static GVariant *
call (GDBusConnection  *connection,
      const char       *method,
      GVariant         *parameters,
      const char       *reply_type,
      GError          **error)
{
  return call_interface (connection, INTERFACE_NAME, method, parameters, reply_type, error);
}

static GVariant *
get_snapshot (GDBusConnection *connection)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  GVariant *batch;

  reply = call (connection, "GetSnapshot", NULL, "(a{sv})", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(@a{sv})", &batch);
  return batch;
}

static void
assert_full_batch (GVariant *batch)
{
  const char *keys[] = { "version", "full", "seq", "time", "realtime", "pid", "program",
                         "keep", "dropped", "loops", "tasks", "lints" };
  guint32 version = 0, pid = 0;
  gboolean full = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autoptr(GVariant) value = g_variant_lookup_value (batch, keys[i], NULL);

      if (value == NULL)
        g_error ("the batch has no \"%s\"", keys[i]);
    }
  g_assert_true (g_variant_lookup (batch, "version", "u", &version));
  g_assert_cmpuint (version, ==, 1);
  g_assert_true (g_variant_lookup (batch, "full", "b", &full));
  g_assert_true (full);
  g_assert_true (g_variant_lookup (batch, "pid", "u", &pid));
  g_assert_cmpuint (pid, ==, getpid ());
}

/* The batch's record of task @id, or NULL. */
static GVariant *
find_task (GVariant *batch,
           guint64   id)
{
  g_autoptr(GVariant) tasks = g_variant_lookup_value (batch, "tasks", G_VARIANT_TYPE ("aa{sv}"));
  GVariantIter iter;
  GVariant *task;

  g_assert_nonnull (tasks);
  g_variant_iter_init (&iter, tasks);
  while ((task = g_variant_iter_next_value (&iter)) != NULL)
    {
      guint64 task_id = 0;

      if (g_variant_lookup (task, "id", "t", &task_id) && task_id == id)
        return task;
      g_variant_unref (task);
    }

  return NULL;
}

static void
test_socket (WeftTestLoop  *loop,
             gconstpointer  data)
{
  g_autofree char *folder = g_build_filename (runtime_dir, "weft", NULL);
  g_autofree char *name = g_strdup_printf ("%u", (guint) getpid ());
  g_autofree char *expected = g_build_filename (folder, name, NULL);
  struct stat info;

  g_assert_true (weft_inspector_is_enabled ());
  g_assert_cmpstr (weft_inspector_get_socket_path (), ==, expected);

  g_assert_cmpint (g_stat (folder, &info), ==, 0);
  g_assert_cmpint (info.st_mode & 0777, ==, 0700);
  g_assert_cmpint (g_stat (expected, &info), ==, 0);
  g_assert_true (S_ISSOCK (info.st_mode));
  g_assert_cmpint (info.st_mode & 0777, ==, 0600);
}

static void
test_snapshot (WeftTestLoop  *loop,
               gconstpointer  data)
{
  g_autoptr(GDBusConnection) connection = connect_to_program ();
  g_autoptr(WeftFuture) future = weft_future_new ();
  g_autoptr(WeftTask) task = weft_test_spawn_awaiting_future (KIND_STACKLESS, future);
  g_autoptr(GVariant) batch = NULL;
  g_autoptr(GVariant) record = NULL;
  g_autoptr(GError) error = NULL;
  const char *name = NULL, *state = NULL;

  weft_test_run_until_idle ();

  batch = get_snapshot (connection);
  assert_full_batch (batch);
  record = find_task (batch, weft_task_get_id (task));
  g_assert_nonnull (record);
  g_assert_true (g_variant_lookup (record, "name", "&s", &name));
  g_assert_cmpstr (name, ==, "awaiter");
  g_assert_true (g_variant_lookup (record, "state", "&s", &state));
  g_assert_cmpstr (state, ==, "suspended");

  weft_future_set_int64 (future, 1);
  weft_test_run_until_done (WEFT_FUTURE (task));
}

static void
test_properties (WeftTestLoop  *loop,
                 gconstpointer  data)
{
  g_autoptr(GDBusConnection) connection = connect_to_program ();
  g_autoptr(GVariant) properties = NULL;
  g_autoptr(GVariant) all = NULL;
  g_autoptr(GVariant) xml = NULL;
  g_autoptr(GError) error = NULL;
  guint32 version = 0, pid = 0;
  const char *program = NULL, *text;

  properties = call_interface (connection, "org.freedesktop.DBus.Properties", "GetAll",
                               g_variant_new ("(s)", INTERFACE_NAME), "(a{sv})", &error);
  g_assert_no_error (error);
  g_variant_get (properties, "(@a{sv})", &all);
  g_assert_true (g_variant_lookup (all, "Version", "u", &version));
  g_assert_true (g_variant_lookup (all, "Pid", "u", &pid));
  g_assert_true (g_variant_lookup (all, "Program", "&s", &program));
  g_assert_cmpuint (version, ==, 1);
  g_assert_cmpuint (pid, ==, getpid ());
  g_assert_cmpstr (program, ==, g_get_prgname ());

  xml = call_interface (connection, "org.freedesktop.DBus.Introspectable", "Introspect",
                        NULL, "(s)", &error);
  g_assert_no_error (error);
  g_variant_get (xml, "(&s)", &text);
  g_assert_nonnull (strstr (text, "<method name=\"GetBacktrace\">"));
}

typedef struct
{
  GVariant *batches[64];
  guint     n_batches;
} Batches;

static void
on_batch (GDBusConnection *connection,
          const char      *sender,
          const char      *object_path,
          const char      *interface_name,
          const char      *signal_name,
          GVariant        *parameters,
          gpointer         user_data)
{
  Batches *batches = user_data;

  g_assert_cmpuint (batches->n_batches, <, G_N_ELEMENTS (batches->batches));
  g_variant_get (parameters, "(@a{sv})", &batches->batches[batches->n_batches++]);
}

/* Subscribe: a full batch now, then deltas naming what changed. */
static void
test_subscribe (WeftTestLoop  *loop,
                gconstpointer  data)
{
  g_autoptr(GDBusConnection) connection = connect_to_program ();
  g_autoptr(WeftFuture) future = weft_future_new ();
  g_autoptr(WeftTask) task = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) batch = NULL;
  g_autoptr(GError) error = NULL;
  Batches batches = { 0 };
  gint64 deadline = g_get_monotonic_time () + WEFT_TEST_TIMEOUT * G_USEC_PER_SEC;
  gboolean seen = FALSE, full = TRUE;
  guint subscription;

  subscription = g_dbus_connection_signal_subscribe (connection, NULL, INTERFACE_NAME, "Batch",
                                                     OBJECT_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                                     on_batch, &batches, NULL);
  reply = call (connection, "Subscribe", g_variant_new ("(u)", 20), "(a{sv})", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(@a{sv})", &batch);
  assert_full_batch (batch);

  task = weft_test_spawn_awaiting_future (KIND_STACKLESS, future);
  weft_test_run_until_idle ();

  while (!seen)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (loop->context, TRUE);
      for (guint i = 0; i < batches.n_batches && !seen; i++)
        {
          g_autoptr(GVariant) record = find_task (batches.batches[i], weft_task_get_id (task));

          seen = record != NULL;
          g_assert_true (g_variant_lookup (batches.batches[i], "full", "b", &full));
          g_assert_false (full);
        }
    }

  g_assert_no_error (error);
  g_clear_pointer (&reply, g_variant_unref);
  reply = call (connection, "Unsubscribe", NULL, "()", &error);
  g_assert_no_error (error);
  g_dbus_connection_signal_unsubscribe (connection, subscription);
  for (guint i = 0; i < batches.n_batches; i++)
    g_variant_unref (batches.batches[i]);

  weft_future_set_int64 (future, 1);
  weft_test_run_until_done (WEFT_FUTURE (task));
}

/* Cancel: weft_task_cancel() on the task's own thread. */
static void
test_cancel (WeftTestLoop  *loop,
             gconstpointer  data)
{
  g_autoptr(GDBusConnection) connection = connect_to_program ();
  g_autoptr(WeftFuture) future = weft_future_new ();
  g_autoptr(WeftTask) task = weft_test_spawn_awaiting_future (KIND (data), future);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  const char *outcome;

  weft_test_run_until_idle ();

  reply = call (connection, "Cancel",
                g_variant_new ("(ts)", weft_task_get_id (task), "from a client"), "(s)", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(&s)", &outcome);
  g_assert_cmpstr (outcome, ==, "cancelled");
  g_assert_cmpuint (weft_task_get_cancelling (task), ==, 1);

  weft_test_run_until_done (WEFT_FUTURE (task));
  weft_test_assert_future_cancelled (task, "from a client");

  g_clear_pointer (&reply, g_variant_unref);
  reply = call (connection, "Cancel", g_variant_new ("(ts)", G_MAXUINT64, ""), "(s)", &error);
  g_assert_error (error, WEFT_INSPECT_ERROR, WEFT_INSPECT_ERROR_NO_SUCH_TASK);
  g_assert_null (reply);
}

/* GetBacktrace: only a fiber has a native stack. */
static void
test_backtrace_stackless (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  g_autoptr(GDBusConnection) connection = connect_to_program ();
  g_autoptr(WeftFuture) future = weft_future_new ();
  g_autoptr(WeftTask) task = weft_test_spawn_awaiting_future (KIND_STACKLESS, future);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) frames = NULL;
  g_autoptr(GError) error = NULL;
  const char *note;

  weft_test_run_until_idle ();

  reply = call (connection, "GetBacktrace", g_variant_new ("(t)", weft_task_get_id (task)),
                "(a(tssu)s)", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(@a(tssu)&s)", &frames, &note);
  g_assert_cmpuint (g_variant_n_children (frames), ==, 0);
  g_assert_cmpstr (note, ==, "not a fiber");

  g_clear_pointer (&reply, g_variant_unref);
  reply = call (connection, "GetBacktrace", g_variant_new ("(t)", G_MAXUINT64), "(a(tssu)s)", &error);
  g_assert_error (error, WEFT_INSPECT_ERROR, WEFT_INSPECT_ERROR_NO_SUCH_TASK);

  weft_future_set_int64 (future, 1);
  weft_test_run_until_done (WEFT_FUTURE (task));
}

/* A suspended fiber's frames, or the note saying why there are none. */
static void
test_backtrace_fiber (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  g_autoptr(GDBusConnection) connection = connect_to_program ();
  g_autoptr(WeftFuture) future = weft_future_new ();
  g_autoptr(WeftTask) task = weft_test_spawn_awaiting_future (KIND_FIBER, future);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) frames = NULL;
  g_autoptr(GError) error = NULL;
  const char *note;

  weft_test_run_until_idle ();

  reply = call (connection, "GetBacktrace", g_variant_new ("(t)", weft_task_get_id (task)),
                "(a(tssu)s)", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(@a(tssu)&s)", &frames, &note);
  if (g_str_equal (weft_fiber_backtrace_backend (), "none"))
    {
      g_assert_cmpuint (g_variant_n_children (frames), ==, 0);
      g_assert_cmpstr (note, !=, "");
    }
  else
    {
      gboolean found = FALSE;

      g_assert_cmpstr (note, ==, "");
      for (gsize i = 0; i < g_variant_n_children (frames); i++)
        {
          const char *function;
          guint64 pc;

          g_variant_get_child (frames, i, "(t&ssu)", &pc, &function, NULL, NULL);
          g_assert_cmpuint (pc, !=, 0);
          found |= g_str_equal (function, "weft_test_await_data");
        }
      g_assert_true (found);
    }

  weft_future_set_int64 (future, 1);
  weft_test_run_until_done (WEFT_FUTURE (task));
}

/* Malformed calls get GDBus's errors, and the server goes on answering. */
static void
test_bad_requests (WeftTestLoop  *loop,
                   gconstpointer  data)
{
  g_autoptr(GDBusConnection) connection = connect_to_program ();
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) batch = NULL;
  g_autoptr(GError) error = NULL;

  reply = call (connection, "Cancel", g_variant_new ("(s)", "7"), NULL, &error);
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  reply = call (connection, "GetSnapshot", g_variant_new ("(u)", 7), NULL, &error);
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
  g_clear_error (&error);

  reply = call (connection, "Explode", NULL, NULL, &error);
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD);
  g_clear_error (&error);

  batch = get_snapshot (connection);
  assert_full_batch (batch);
}

/* More connections than the server takes: the extra ones are closed, and
 * the program still answers once they are gone.
 */
static void
test_connection_storm (WeftTestLoop  *loop,
                       gconstpointer  data)
{
  g_autoptr(GPtrArray) connections = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GVariant) batch = NULL;
  gint64 deadline = g_get_monotonic_time () + WEFT_TEST_TIMEOUT * G_USEC_PER_SEC;

  for (guint i = 0; i < 48; i++)
    {
      GDBusConnection *extra = connect_to_program ();

      g_autoptr(GVariant) reply = NULL;
      g_autoptr(GError) error = NULL;

      g_ptr_array_add (connections, extra);
      reply = call (extra, "Subscribe", g_variant_new ("(u)", 20), NULL, &error);
      g_assert_true (reply != NULL || error != NULL);
    }
  g_ptr_array_set_size (connections, 0);

  /* The server notices the closed connections on its own time. */
  while (batch == NULL)
    {
      g_autoptr(GVariant) reply = NULL;
      g_autoptr(GError) error = NULL;

      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_clear_object (&connection);
      connection = connect_to_program ();
      reply = call (connection, "GetSnapshot", NULL, "(a{sv})", &error);
      if (reply == NULL)
        {
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
          g_usleep (10000);
          continue;
        }
      g_variant_get (reply, "(@a{sv})", &batch);
    }

  for (guint i = 0; i < 20; i++)
    {
      g_autoptr(GVariant) reply = NULL;
      g_autoptr(GError) error = NULL;

      reply = call (connection, "GetSnapshot", NULL, "(a{sv})", &error);
      if (reply == NULL)
        g_assert_error (error, WEFT_INSPECT_ERROR, WEFT_INSPECT_ERROR_BUSY);
    }
  g_assert_nonnull (batch);
  assert_full_batch (batch);
}

/* The main loop blocked in a step: the server still answers, and says
 * which task blocks it.
 */
static gpointer
snapshot_from_thread (gpointer user_data)
{
  GMainContext *context = g_main_context_new ();
  GDBusConnection *connection;
  GVariant *batch;

  g_main_context_push_thread_default (context);
  connection = connect_to_program ();
  /* Long enough to count as blocked (16 ms). */
  g_usleep (50000);
  batch = get_snapshot (connection);
  g_object_unref (connection);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);

  return batch;
}

static void
blocking_step (WeftTask     *task,
               WeftFuture   *awaited,
               const GError *error,
               gpointer      user_data)
{
  GVariant **batch = user_data;

  *batch = g_thread_join (g_thread_new ("client", snapshot_from_thread, NULL));
  weft_task_return_void (task);
}

static void
test_blocked (WeftTestLoop  *loop,
              gconstpointer  data)
{
  g_autoptr(GVariant) batch = NULL;
  g_autoptr(GVariant) loops = NULL;
  g_autoptr(WeftTask) task = weft_task_new ("blocker", blocking_step, &batch, NULL);
  gboolean found = FALSE;
  GVariantIter iter;
  GVariant *loop_record;

  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_nonnull (batch);

  loops = g_variant_lookup_value (batch, "loops", G_VARIANT_TYPE ("aa{sv}"));
  g_assert_nonnull (loops);
  g_variant_iter_init (&iter, loops);
  while ((loop_record = g_variant_iter_next_value (&iter)) != NULL)
    {
      guint64 current = 0;
      gboolean blocked = FALSE;

      if (g_variant_lookup (loop_record, "current-task", "t", &current)
          && current == weft_task_get_id (task))
        {
          g_assert_true (g_variant_lookup (loop_record, "blocked", "b", &blocked));
          g_assert_true (blocked);
          found = TRUE;
        }
      g_variant_unref (loop_record);
    }
  g_assert_true (found);
}

/* Disabling removes the socket; enabling again makes a new one. */
static void
test_disable (WeftTestLoop  *loop,
              gconstpointer  data)
{
  g_autofree char *path = g_strdup (weft_inspector_get_socket_path ());
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GVariant) batch = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (path);
  weft_inspector_disable ();
  g_assert_false (weft_inspector_is_enabled ());
  g_assert_null (weft_inspector_get_socket_path ());
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  weft_inspector_disable ();

  g_assert_true (weft_inspector_enable (&error));
  g_assert_no_error (error);
  g_assert_true (weft_inspector_enable (&error));
  g_assert_cmpstr (weft_inspector_get_socket_path (), ==, path);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));

  connection = connect_to_program ();
  batch = get_snapshot (connection);
  assert_full_batch (batch);
}

static void
test_keep_finished (void)
{
  guint keep = weft_inspector_get_keep_finished ();

  weft_inspector_set_keep_finished (3);
  g_assert_cmpuint (weft_inspector_get_keep_finished (), ==, 3);
  weft_inspector_set_keep_finished (keep);
}

static void
remove_runtime_dir (void)
{
  g_autofree char *folder = g_build_filename (runtime_dir, "weft", NULL);

  g_rmdir (folder);
  g_rmdir (runtime_dir);
  g_free (runtime_dir);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  /* Before Weft or GLib read them. */
  runtime_dir = g_dir_make_tmp ("weft-inspect-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv ("XDG_RUNTIME_DIR", runtime_dir, TRUE);
  g_setenv ("WEFT_INSPECT_BUS", "0", TRUE);
  g_unsetenv ("WEFT_INSPECT");

  g_assert_true (weft_inspector_enable (&error));
  g_assert_no_error (error);

  WEFT_TEST_ADD ("/inspect-server/socket", test_socket);
  WEFT_TEST_ADD ("/inspect-server/snapshot", test_snapshot);
  WEFT_TEST_ADD ("/inspect-server/properties", test_properties);
  WEFT_TEST_ADD ("/inspect-server/subscribe", test_subscribe);
  weft_test_add_both_kinds ("inspect-server", "cancel", test_cancel);
  WEFT_TEST_ADD ("/inspect-server/backtrace-stackless", test_backtrace_stackless);
  WEFT_TEST_ADD ("/inspect-server/backtrace-fiber", test_backtrace_fiber);
  WEFT_TEST_ADD ("/inspect-server/bad-requests", test_bad_requests);
  WEFT_TEST_ADD ("/inspect-server/connection-storm", test_connection_storm);
  WEFT_TEST_ADD ("/inspect-server/blocked", test_blocked);
  WEFT_TEST_ADD ("/inspect-server/disable", test_disable);
  g_test_add_func ("/inspect-server/keep-finished", test_keep_finished);

  status = g_test_run ();

  /* As at exit, but checked: the socket goes away. */
  weft_inspector_disable ();
  remove_runtime_dir ();
  return status;
}
