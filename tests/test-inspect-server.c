/* test-inspect-server.c: org.gnome.Weft.Inspector1 through the real socket
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
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

static void
hold_the_loop_step (WeftTask     *task,
                    WeftFuture   *awaited,
                    const GError *error,
                    gpointer      user_data)
{
  g_usleep (20 * 1000);
  weft_task_return_void (task);
}

static gboolean
batch_has_lint (GVariant   *batch,
                const char *kind)
{
  g_autoptr(GVariant) lints = g_variant_lookup_value (batch, "lints", G_VARIANT_TYPE ("aa{sv}"));
  GVariantIter iter;
  GVariant *lint;

  if (lints == NULL)
    return FALSE;
  g_variant_iter_init (&iter, lints);
  while ((lint = g_variant_iter_next_value (&iter)) != NULL)
    {
      const char *lint_kind = "";
      gboolean found = g_variant_lookup (lint, "kind", "&s", &lint_kind) && g_str_equal (lint_kind, kind);

      g_variant_unref (lint);
      if (found)
        return TRUE;
    }
  return FALSE;
}

/* Subscribe: a full batch now, then deltas naming what changed, lints
 * included.
 */
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
  gboolean seen = FALSE, seen_lint = FALSE, full = TRUE;
  guint subscription;

  subscription = g_dbus_connection_signal_subscribe (connection, NULL, INTERFACE_NAME, "Batch",
                                                     OBJECT_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                                     on_batch, &batches, NULL);
  reply = call (connection, "Subscribe", g_variant_new ("(u)", 20), "(a{sv})", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(@a{sv})", &batch);
  assert_full_batch (batch);

  task = weft_test_spawn_awaiting_future (KIND_STACKLESS, future);
  g_object_unref (weft_task_new ("hold-the-loop", hold_the_loop_step, NULL, NULL));
  weft_test_run_until_idle ();

  while (!seen || !seen_lint)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (loop->context, TRUE);
      for (guint i = 0; i < batches.n_batches; i++)
        {
          g_autoptr(GVariant) record = find_task (batches.batches[i], weft_task_get_id (task));

          seen |= record != NULL;
          seen_lint |= batch_has_lint (batches.batches[i], "long-step");
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

/* The login, by hand */

static GSocket *
connect_raw (void)
{
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (weft_inspector_get_socket_path ());
  g_autoptr(GError) error = NULL;
  GSocket *socket;

  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &error);
  g_assert_no_error (error);
  g_socket_set_timeout (socket, (guint) WEFT_TEST_TIMEOUT);
  g_socket_connect (socket, address, NULL, &error);
  g_assert_no_error (error);
  return socket;
}

/* The server may hang up before it has read everything. */
static void
send_raw (GSocket    *socket,
          const char *data,
          gsize       length)
{
  while (length > 0)
    {
      g_autoptr(GError) error = NULL;
      gssize sent = g_socket_send (socket, data, length, NULL, &error);

      if (sent < 0)
        {
          g_assert_false (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));
          return;
        }
      data += sent;
      length -= sent;
    }
}

static void
receive_exactly (GSocket *socket,
                 char    *buffer,
                 gsize    length)
{
  while (length > 0)
    {
      g_autoptr(GError) error = NULL;
      gssize received = g_socket_receive (socket, buffer, length, NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpint (received, >, 0);
      buffer += received;
      length -= received;
    }
}

static char *
receive_line (GSocket *socket)
{
  GString *line = g_string_new (NULL);
  char byte = 0;

  while (!g_str_has_suffix (line->str, "\r\n"))
    {
      receive_exactly (socket, &byte, 1);
      g_string_append_c (line, byte);
    }

  return g_string_free (line, FALSE);
}

/* Everything the server says until it hangs up, which it must do before
 * the socket's timeout.
 */
static char *
receive_until_closed (GSocket *socket)
{
  GString *received = g_string_new (NULL);

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      char buffer[256];
      gssize length = g_socket_receive (socket, buffer, sizeof buffer, NULL, &error);

      if (length < 0)
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
      if (length <= 0)
        break;
      g_string_append_len (received, buffer, length);
    }

  return g_string_free (received, FALSE);
}

static char *
hex_identity (guint uid)
{
  g_autofree char *decimal = g_strdup_printf ("%u", uid);
  GString *hex = g_string_new (NULL);

  for (const char *digit = decimal; *digit != '\0'; digit++)
    g_string_append_printf (hex, "%02x", *digit);
  return g_string_free (hex, FALSE);
}

static void
assert_still_answers (void)
{
  g_autoptr(GDBusConnection) connection = connect_to_program ();
  g_autoptr(GVariant) batch = get_snapshot (connection);

  assert_full_batch (batch);
}

/* A line that never ends: the server hangs up instead of keeping it. */
static void
test_login_long_line (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  g_autoptr(GSocket) socket = connect_raw ();
  g_autofree char *line = g_malloc (64 * 1024);
  g_autofree char *received = NULL;

  memset (line, 'A', 64 * 1024);
  send_raw (socket, "", 1);
  send_raw (socket, line, 64 * 1024);
  received = receive_until_closed (socket);
  g_assert_cmpstr (received, ==, "");

  assert_still_answers ();
}

/* EXTERNAL for another uid is rejected, and retrying has a limit. */
static void
test_login_wrong_uid (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  g_autoptr(GSocket) socket = connect_raw ();
  g_autofree char *identity = hex_identity (getuid () + 1);
  g_autofree char *auth = g_strdup_printf ("AUTH EXTERNAL %s\r\n", identity);
  g_autofree char *reply = NULL;
  g_autofree char *received = NULL;

  send_raw (socket, "", 1);
  send_raw (socket, auth, strlen (auth));
  reply = receive_line (socket);
  g_assert_cmpstr (reply, ==, "REJECTED EXTERNAL\r\n");

  /* Eight lines in all are answered, the ninth is hung up on. */
  for (guint i = 0; i < 8; i++)
    send_raw (socket, auth, strlen (auth));
  received = receive_until_closed (socket);
  g_assert_cmpstr (received, ==,
                   "REJECTED EXTERNAL\r\nREJECTED EXTERNAL\r\nREJECTED EXTERNAL\r\n"
                   "REJECTED EXTERNAL\r\nREJECTED EXTERNAL\r\nREJECTED EXTERNAL\r\n"
                   "REJECTED EXTERNAL\r\n");

  assert_still_answers ();
}

/* A peer that says nothing is dropped at the deadline. */
static void
test_login_silent (WeftTestLoop  *loop,
                   gconstpointer  data)
{
  guint timeout_ms = weft_inspect_server_set_handshake_timeout (100);
  g_autoptr(GSocket) socket = connect_raw ();
  gint64 start = g_get_monotonic_time ();
  g_autofree char *received = NULL;

  received = receive_until_closed (socket);
  g_assert_cmpstr (received, ==, "");
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 100 * 1000 - 10 * 1000);
  weft_inspect_server_set_handshake_timeout (timeout_ms);

  assert_still_answers ();
}

/* A client that sends its whole login and its first call at once (as
 * sd-bus does) gets the answers to both: nothing after BEGIN is lost.
 */
static void
test_login_pipelined (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  g_autoptr(GSocket) socket = connect_raw ();
  g_autoptr(GDBusMessage) call = NULL;
  g_autoptr(GDBusMessage) reply = NULL;
  g_autoptr(GVariant) version = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) request = g_string_new (NULL);
  g_autofree guchar *blob = NULL;
  g_autofree char *data_line = NULL;
  g_autofree char *ok = NULL;
  g_autofree char *fd_reply = NULL;
  g_autofree char *message = NULL;
  guchar header[16];
  gssize needed;
  gsize size;

  call = g_dbus_message_new_method_call (NULL, OBJECT_PATH, "org.freedesktop.DBus.Properties", "Get");
  g_dbus_message_set_body (call, g_variant_new ("(ss)", INTERFACE_NAME, "Version"));
  g_dbus_message_set_serial (call, 1);
  blob = g_dbus_message_to_blob (call, &size, G_DBUS_CAPABILITY_FLAGS_NONE, &error);
  g_assert_no_error (error);

  g_string_append_len (request, "", 1);
  g_string_append (request, "AUTH EXTERNAL\r\nDATA\r\nNEGOTIATE_UNIX_FD\r\nBEGIN\r\n");
  g_string_append_len (request, (const char *) blob, size);
  send_raw (socket, request->str, request->len);

  data_line = receive_line (socket);
  g_assert_cmpstr (data_line, ==, "DATA\r\n");
  ok = receive_line (socket);
  g_assert_true (g_str_has_prefix (ok, "OK "));
  g_assert_cmpuint (strlen (ok), ==, strlen ("OK \r\n") + 32);
  fd_reply = receive_line (socket);
  g_assert_cmpstr (fd_reply, ==, "ERROR\r\n");

  receive_exactly (socket, (char *) header, sizeof header);
  needed = g_dbus_message_bytes_needed (header, sizeof header, &error);
  g_assert_no_error (error);
  g_assert_cmpint (needed, >=, sizeof header);
  message = g_malloc (needed);
  memcpy (message, header, sizeof header);
  receive_exactly (socket, message + sizeof header, needed - sizeof header);
  reply = g_dbus_message_new_from_blob ((guchar *) message, needed, G_DBUS_CAPABILITY_FLAGS_NONE, &error);
  g_assert_no_error (error);

  g_assert_cmpint (g_dbus_message_get_message_type (reply), ==, G_DBUS_MESSAGE_TYPE_METHOD_RETURN);
  g_assert_cmpuint (g_dbus_message_get_reply_serial (reply), ==, 1);
  g_variant_get (g_dbus_message_get_body (reply), "(v)", &version);
  g_assert_cmpuint (g_variant_get_uint32 (version), ==, 1);
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
  WEFT_TEST_ADD ("/inspect-server/login-long-line", test_login_long_line);
  WEFT_TEST_ADD ("/inspect-server/login-wrong-uid", test_login_wrong_uid);
  WEFT_TEST_ADD ("/inspect-server/login-silent", test_login_silent);
  WEFT_TEST_ADD ("/inspect-server/login-pipelined", test_login_pipelined);
  g_test_add_func ("/inspect-server/keep-finished", test_keep_finished);

  status = g_test_run ();

  /* As at exit, but checked: the socket goes away. */
  weft_inspector_disable ();
  remove_runtime_dir ();
  return status;
}
