/* weft-gio-ops.c — the GIO operations a GTK program awaits first
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-gio-future-private.h"
#include "weft-gio-ops.h"

/* Each function starts its operation at once, from the thread-default
 * context, and returns the future standing for it: like a task created
 * eagerly, the operation runs whether or not anyone awaits the future yet.
 */

static GCancellable *
cancellable_of (WeftFuture *op)
{
  return weft_gio_future_get_cancellable (WEFT_GIO_FUTURE (op));
}

static gpointer
load_bytes_finish (GObject       *source,
                   GAsyncResult  *result,
                   GError       **error)
{
  return g_file_load_bytes_finish (G_FILE (source), result, NULL, error);
}

/**
 * weft_file_load_contents:
 * @file: the file to read
 *
 * Starts reading the whole of @file, as g_file_load_bytes_async() does.
 * Cancelling the future cancels the read.
 *
 * Returns: (transfer full): a future for the contents, a #GBytes
 */
WeftFuture *
weft_file_load_contents (GFile *file)
{
  WeftFuture *op;

  g_return_val_if_fail (G_IS_FILE (file), NULL);

  op = weft_gio_future_new_finish (G_TYPE_BYTES, load_bytes_finish);
  g_file_load_bytes_async (file, cancellable_of (op), weft_gio_future_ready, weft_gio_future_ref_for_ready (op));
  return op;
}

static gpointer
replace_contents_finish (GObject       *source,
                         GAsyncResult  *result,
                         GError       **error)
{
  char *new_etag = NULL;

  if (!g_file_replace_contents_finish (G_FILE (source), result, &new_etag, error))
    return NULL;
  return new_etag;
}

/**
 * weft_file_replace_contents:
 * @file: the file to write
 * @contents: the new contents
 * @etag: (nullable): the entity tag @file must still have, or %NULL
 * @make_backup: whether to keep a backup of the old contents
 * @flags: how to create the file
 *
 * Starts replacing the contents of @file with @contents, as
 * g_file_replace_contents_bytes_async() does. Cancelling the future
 * cancels the write, which leaves the old contents in place.
 *
 * Returns: (transfer full): a future for the new entity tag, a string, or
 *   %NULL when the backend has none
 */
WeftFuture *
weft_file_replace_contents (GFile            *file,
                            GBytes           *contents,
                            const char       *etag,
                            gboolean          make_backup,
                            GFileCreateFlags  flags)
{
  WeftFuture *op;

  g_return_val_if_fail (G_IS_FILE (file), NULL);
  g_return_val_if_fail (contents != NULL, NULL);

  op = weft_gio_future_new_finish (G_TYPE_STRING, replace_contents_finish);
  g_file_replace_contents_bytes_async (file, contents, etag, make_backup, flags,
                                       cancellable_of (op), weft_gio_future_ready, weft_gio_future_ref_for_ready (op));
  return op;
}

/**
 * weft_socket_client_connect:
 * @client: (nullable): the client whose settings to use, or %NULL for
 *   default ones
 * @connectable: where to connect: a #GInetSocketAddress, a
 *   #GNetworkAddress, a #GUnixSocketAddress…
 *
 * Starts connecting to @connectable, as g_socket_client_connect_async()
 * does. Cancelling the future aborts the connection attempt.
 *
 * Returns: (transfer full): a future for the #GSocketConnection
 */
WeftFuture *
weft_socket_client_connect (GSocketClient      *client,
                            GSocketConnectable *connectable)
{
  g_autoptr(GSocketClient) default_client = NULL;
  WeftFuture *op;

  g_return_val_if_fail (client == NULL || G_IS_SOCKET_CLIENT (client), NULL);
  g_return_val_if_fail (G_IS_SOCKET_CONNECTABLE (connectable), NULL);

  if (client == NULL)
    client = default_client = g_socket_client_new ();

  op = weft_gio_future_new_finish (G_TYPE_SOCKET_CONNECTION,
                                   (WeftGioFinishFunc) g_socket_client_connect_finish);
  g_socket_client_connect_async (client, connectable, cancellable_of (op),
                                 weft_gio_future_ready, weft_gio_future_ref_for_ready (op));
  return op;
}

static void
force_exit (GCancellable *cancellable,
            GSubprocess  *subprocess)
{
  g_subprocess_force_exit (subprocess);
}

/* GIO's wait only stops waiting when cancelled; a task that gives up on
 * its child must not leave it running, so the future kills it too.
 */
static WeftFuture *
wait_for_subprocess (GSubprocess *subprocess,
                     WeftFuture  *op)
{
  g_cancellable_connect (cancellable_of (op), G_CALLBACK (force_exit),
                         g_object_ref (subprocess), g_object_unref);
  g_subprocess_wait_async (subprocess, cancellable_of (op), weft_gio_future_ready, weft_gio_future_ref_for_ready (op));
  return op;
}

/* asyncio's returncode: the exit status, or minus the signal that ended
 * the process.
 */
static gssize
returncode_finish (GObject       *source,
                   GAsyncResult  *result,
                   GError       **error)
{
  GSubprocess *subprocess = G_SUBPROCESS (source);

  if (!g_subprocess_wait_finish (subprocess, result, error))
    return -1;
  if (g_subprocess_get_if_signaled (subprocess))
    return -g_subprocess_get_term_sig (subprocess);
  return g_subprocess_get_exit_status (subprocess);
}

/**
 * weft_subprocess_wait:
 * @subprocess: a subprocess
 *
 * Starts waiting for @subprocess to end, as asyncio's Process.wait() does.
 * Cancelling the future kills the process (g_subprocess_force_exit()).
 *
 * Returns: (transfer full): a future for the return code, a #gint64: the
 *   exit status, or the negated number of the signal that ended the process
 */
WeftFuture *
weft_subprocess_wait (GSubprocess *subprocess)
{
  g_return_val_if_fail (G_IS_SUBPROCESS (subprocess), NULL);

  return wait_for_subprocess (subprocess, weft_gio_future_new_size (returncode_finish));
}

/**
 * weft_subprocess_wait_check:
 * @subprocess: a subprocess
 *
 * Starts waiting for @subprocess to end, as g_subprocess_wait_check_async()
 * does: the future fails with the %G_SPAWN_EXIT_ERROR of a non-zero exit
 * status, or an error saying which signal ended the process. Cancelling the
 * future kills the process (g_subprocess_force_exit()).
 *
 * Returns: (transfer full): a future for %TRUE once the process exited
 *   successfully
 */
WeftFuture *
weft_subprocess_wait_check (GSubprocess *subprocess)
{
  g_return_val_if_fail (G_IS_SUBPROCESS (subprocess), NULL);

  return wait_for_subprocess (subprocess,
                              weft_gio_future_new_boolean ((WeftGioFinishBooleanFunc) g_subprocess_wait_check_finish));
}

/**
 * weft_dbus_connection_call:
 * @connection: a D-Bus connection
 * @bus_name: (nullable): the unique or well-known name of the peer, or
 *   %NULL on a peer-to-peer connection
 * @object_path: the path of the remote object
 * @interface_name: the D-Bus interface of the method
 * @method_name: the method to call
 * @parameters: (nullable): a tuple of the method's parameters, or %NULL;
 *   consumed if floating
 * @reply_type: (nullable): the type the reply must have, or %NULL
 * @flags: flags for the call
 * @timeout_msec: the timeout in milliseconds, -1 for the default, or
 *   %G_MAXINT for none
 *
 * Starts a method call, as g_dbus_connection_call() does. Cancelling the
 * future stops waiting for the reply; the peer may still have run the
 * method.
 *
 * Returns: (transfer full): a future for the reply, a #GVariant tuple
 */
WeftFuture *
weft_dbus_connection_call (GDBusConnection    *connection,
                           const char         *bus_name,
                           const char         *object_path,
                           const char         *interface_name,
                           const char         *method_name,
                           GVariant           *parameters,
                           const GVariantType *reply_type,
                           GDBusCallFlags      flags,
                           int                 timeout_msec)
{
  WeftFuture *op;

  g_return_val_if_fail (G_IS_DBUS_CONNECTION (connection), NULL);

  op = weft_gio_future_new_finish (G_TYPE_VARIANT, (WeftGioFinishFunc) g_dbus_connection_call_finish);
  g_dbus_connection_call (connection, bus_name, object_path, interface_name, method_name,
                          parameters, reply_type, flags, timeout_msec,
                          cancellable_of (op), weft_gio_future_ready, weft_gio_future_ref_for_ready (op));
  return op;
}
