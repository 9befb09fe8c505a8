/* weft-inspect-client.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include "weft-inspect-client.h"

/* A program blocked in a step still answers: the inspector has its own
 * thread. Only a stopped or dead program makes a call wait this long, or
 * a whole batch of a hundred thousand tasks, which takes seconds to make.
 */
#define CALL_TIMEOUT_MS 5000
#define BATCH_CALL_TIMEOUT_MS 60000

/* Returns: (transfer full): $XDG_RUNTIME_DIR/weft */
char *
weft_inspect_socket_dir (void)
{
  return g_build_filename (g_get_user_runtime_dir (), "weft", NULL);
}

static gboolean
is_pid (const char *text)
{
  return g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT, NULL, NULL);
}

/* Returns: (transfer full): the socket of process @pid_or_path, or the
 * path itself when it is not a number */
char *
weft_inspect_socket_path (const char *pid_or_path)
{
  g_autofree char *dir = NULL;

  if (!is_pid (pid_or_path))
    return g_strdup (pid_or_path);
  dir = weft_inspect_socket_dir ();
  return g_build_filename (dir, pid_or_path, NULL);
}

static gboolean
process_exists (guint64 pid)
{
  return kill ((pid_t) pid, 0) == 0 || errno == EPERM;
}

static int
compare_pids (gconstpointer a,
              gconstpointer b)
{
  guint ia = *(const guint *) a, ib = *(const guint *) b;

  return ia < ib ? -1 : ia > ib;
}

/* Returns: (transfer full) (element-type guint): the pids with a socket
 * whose process still runs, ascending; stale sockets are skipped */
GArray *
weft_inspect_list_pids (void)
{
  GArray *pids = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autofree char *path = weft_inspect_socket_dir ();
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      guint64 pid;

      if (g_ascii_string_to_unsigned (name, 10, 1, G_MAXINT, &pid, NULL) &&
          process_exists (pid))
        {
          guint value = (guint) pid;

          g_array_append_val (pids, value);
        }
    }
  g_array_sort (pids, compare_pids);
  return pids;
}

/**
 * weft_inspect_connect:
 * @pid_or_path: a process id, or the path of an inspector socket
 *
 * Opens a peer-to-peer D-Bus connection to a program's inspector.
 *
 * Returns: (transfer full): the connection, or %NULL with a message a
 *   user understands
 */
GDBusConnection *
weft_inspect_connect (const char    *pid_or_path,
                      GCancellable  *cancellable,
                      GError       **error)
{
  g_autofree char *path = weft_inspect_socket_path (pid_or_path);
  g_autofree char *escaped = NULL;
  g_autofree char *address = NULL;
  g_autoptr(GError) local_error = NULL;
  GDBusConnection *connection;

  if (is_pid (pid_or_path) &&
      !process_exists (g_ascii_strtoull (pid_or_path, NULL, 10)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "no process %s", pid_or_path);
      return NULL;
    }
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      if (is_pid (pid_or_path))
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                     "process %s is not inspectable (no %s; run it with WEFT_INSPECT=1 "
                     "or call weft_inspector_enable())", pid_or_path, path);
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                     "%s: no such socket", path);
      return NULL;
    }

  escaped = g_dbus_address_escape_value (path);
  address = g_strconcat ("unix:path=", escaped, NULL);
  connection = g_dbus_connection_new_for_address_sync (address,
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                                                       NULL, cancellable, &local_error);
  if (connection == NULL)
    {
      g_set_error (error, local_error->domain, local_error->code,
                   "cannot connect to %s: %s", path, local_error->message);
      return NULL;
    }
  return connection;
}

/* The program's NoSuchTask and Busy errors become G_IO_ERROR_NOT_FOUND
 * and G_IO_ERROR_BUSY; messages lose their D-Bus prefix.
 */
static GVariant *
call (GDBusConnection     *connection,
      const char          *method,
      GVariant            *parameters,
      const GVariantType  *reply_type,
      GError             **error)
{
  GVariant *reply;

  reply = g_dbus_connection_call_sync (connection, NULL, WEFT_INSPECT_OBJECT_PATH,
                                       WEFT_INSPECT_INTERFACE, method, parameters,
                                       reply_type, G_DBUS_CALL_FLAGS_NONE,
                                       reply_type != NULL && g_variant_type_equal (reply_type, G_VARIANT_TYPE ("(a{sv})"))
                                       ? BATCH_CALL_TIMEOUT_MS : CALL_TIMEOUT_MS,
                                       NULL, error);
  if (reply == NULL && error != NULL)
    {
      g_autofree char *name = g_dbus_error_get_remote_error (*error);

      g_dbus_error_strip_remote_error (*error);
      if (g_strcmp0 (name, WEFT_INSPECT_ERROR_NO_SUCH_TASK) == 0)
        {
          (*error)->domain = G_IO_ERROR;
          (*error)->code = G_IO_ERROR_NOT_FOUND;
        }
      else if (g_strcmp0 (name, WEFT_INSPECT_ERROR_BUSY) == 0)
        {
          (*error)->domain = G_IO_ERROR;
          (*error)->code = G_IO_ERROR_BUSY;
        }
    }
  return reply;
}

/* Returns: (transfer full): a full batch */
GVariant *
weft_inspect_get_snapshot (GDBusConnection  *connection,
                           GError          **error)
{
  g_autoptr(GVariant) reply = call (connection, "GetSnapshot", NULL,
                                    G_VARIANT_TYPE ("(a{sv})"), error);

  return reply != NULL ? g_variant_get_child_value (reply, 0) : NULL;
}

typedef struct
{
  WeftInspectBatchFunc func;
  gpointer             user_data;
} BatchHandler;

static void
on_batch (GDBusConnection *connection,
          const char      *sender,
          const char      *object_path,
          const char      *interface,
          const char      *signal,
          GVariant        *parameters,
          gpointer         user_data)
{
  BatchHandler *handler = user_data;
  g_autoptr(GVariant) batch = NULL;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(a{sv})")))
    return;
  batch = g_variant_get_child_value (parameters, 0);
  handler->func (batch, handler->user_data);
}

/**
 * weft_inspect_subscribe:
 * @func: called with each Batch signal, on the thread-default main context
 * @subscription_id: (out): for g_dbus_connection_signal_unsubscribe()
 *
 * Listens to Batch signals, then subscribes, so no delta is missed.
 *
 * Returns: (transfer full): the full batch the deltas apply to
 */
GVariant *
weft_inspect_subscribe (GDBusConnection       *connection,
                        guint                  interval_ms,
                        WeftInspectBatchFunc   func,
                        gpointer               user_data,
                        guint                 *subscription_id,
                        GError               **error)
{
  g_autoptr(GVariant) reply = NULL;
  BatchHandler *handler = g_new (BatchHandler, 1);
  guint id;

  handler->func = func;
  handler->user_data = user_data;
  id = g_dbus_connection_signal_subscribe (connection, NULL, WEFT_INSPECT_INTERFACE, "Batch",
                                           WEFT_INSPECT_OBJECT_PATH, NULL,
                                           G_DBUS_SIGNAL_FLAGS_NONE, on_batch, handler, g_free);

  reply = call (connection, "Subscribe", g_variant_new ("(u)", interval_ms),
                G_VARIANT_TYPE ("(a{sv})"), error);
  if (reply == NULL)
    {
      g_dbus_connection_signal_unsubscribe (connection, id);
      return NULL;
    }
  *subscription_id = id;
  return g_variant_get_child_value (reply, 0);
}

/* Returns: (transfer full): the frames, a(tssu), innermost first */
GVariant *
weft_inspect_get_backtrace (GDBusConnection  *connection,
                            guint64           task_id,
                            char            **note,
                            GError          **error)
{
  g_autoptr(GVariant) reply = call (connection, "GetBacktrace", g_variant_new ("(t)", task_id),
                                    G_VARIANT_TYPE ("(a(tssu)s)"), error);
  GVariant *frames;

  if (reply == NULL)
    return NULL;
  g_variant_get (reply, "(@a(tssu)s)", &frames, note);
  return frames;
}

/* Returns: (transfer full): "cancelled", "done" or "queued" */
char *
weft_inspect_cancel (GDBusConnection  *connection,
                     guint64           task_id,
                     const char       *message,
                     GError          **error)
{
  g_autoptr(GVariant) reply = call (connection, "Cancel",
                                    g_variant_new ("(ts)", task_id, message ? message : ""),
                                    G_VARIANT_TYPE ("(s)"), error);
  char *outcome;

  if (reply == NULL)
    return NULL;
  g_variant_get (reply, "(s)", &outcome);
  return outcome;
}
