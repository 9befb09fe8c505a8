/* test-gio-ops.c — the ready-made GIO operations, on real files, sockets,
 * processes and D-Bus peers; each is cancelled with the task awaiting it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gio/gunixsocketaddress.h>

#include "weft-test-utils.h"

/* A temporary directory, removed with what is in it. */
static char *
make_tmp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("weft-gio-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
remove_tmp_dir (const char *dir)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_assert_no_errno (g_unlink (path));
    }
  g_assert_no_errno (g_rmdir (dir));
}

static void
run_until_finalized (gpointer *alive)
{
  while (*alive != NULL)
    g_main_context_iteration (g_main_context_get_thread_default (), TRUE);
}

/* Cancels @task while it awaits @op, and checks the cancellation reaches
 * the operation's cancellable and comes out of the await at once, before
 * GIO's own callback has run: *@op_alive then watches for the operation to
 * end and let go of the future, which the caller waits for.
 */
static void
cancel_awaited (WeftTask    *task,
                WeftFuture **op,
                gpointer    *op_alive,
                const char  *message)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (weft_task_is_suspended (task));
  g_assert_true (weft_task_get_awaited (task) == *op);
  *op_alive = *op;
  g_object_add_weak_pointer (G_OBJECT (*op), op_alive);

  g_assert_true (weft_task_cancel (task, message));
  g_assert_true (weft_future_is_cancelled (*op));
  g_assert_true (g_cancellable_is_cancelled (weft_gio_future_get_cancellable (WEFT_GIO_FUTURE (*op))));

  /* Ready-queue passes only: the task does not wait for GIO to wind down. */
  weft_test_run_until_idle ();
  g_assert_false (weft_future_propagate (WEFT_FUTURE (task), &error));
  weft_test_assert_cancelled_error (error, message);

  g_clear_object (op);
  g_assert_nonnull (*op_alive);
}

/* Files */

typedef struct
{
  GFile  *file;
  GBytes *contents;
} FileJob;

static WeftFuture *
start_replace (gpointer user_data)
{
  FileJob *job = user_data;

  return weft_file_replace_contents (job->file, job->contents, NULL, FALSE, G_FILE_CREATE_NONE);
}

static WeftFuture *
start_load (gpointer user_data)
{
  FileJob *job = user_data;

  return weft_file_load_contents (job->file);
}

/* F12: replace gives the new etag, load gives the bytes */
static void
test_file_replace_then_load (WeftTestLoop  *loop,
                             gconstpointer  data)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "woven.txt", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GBytes) contents = g_bytes_new_static ("woven", 5);
  FileJob job = { file, contents };
  g_autoptr(WeftTask) replace = weft_test_spawn_awaiting (KIND (data), start_replace, &job, NULL);
  g_autoptr(WeftTask) load = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GBytes) loaded = NULL;
  g_autofree char *etag = NULL;
  g_autoptr(GError) error = NULL;

  weft_test_run_until_done (WEFT_FUTURE (replace));
  etag = weft_future_dup_string (WEFT_FUTURE (replace), &error);
  g_assert_no_error (error);
  info = g_file_query_info (file, G_FILE_ATTRIBUTE_ETAG_VALUE, G_FILE_QUERY_INFO_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (etag, ==, g_file_info_get_etag (info));

  load = weft_test_spawn_awaiting (KIND (data), start_load, &job, NULL);
  weft_test_run_until_done (WEFT_FUTURE (load));
  loaded = weft_future_dup_boxed (WEFT_FUTURE (load), &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (loaded, contents));

  remove_tmp_dir (dir);
}

/* F12: loading a missing file fails with GIO's error */
static void
test_file_load_missing (WeftTestLoop  *loop,
                        gconstpointer  data)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "missing", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  FileJob job = { file, NULL };
  g_autoptr(WeftTask) load = weft_test_spawn_awaiting (KIND (data), start_load, &job, NULL);
  g_autoptr(GError) error = NULL;

  weft_test_run_until_done (WEFT_FUTURE (load));
  g_assert_false (weft_future_propagate (WEFT_FUTURE (load), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  remove_tmp_dir (dir);
}

/* Opens @path, a FIFO, for writing once a reader has it open: a reader
 * blocked in open() is enough, and the writer lets it through.
 */
static int
open_fifo_writer (const char *path)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  int fd;

  while ((fd = open (path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
    {
      g_assert_cmpint (errno, ==, ENXIO);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (1000);
    }
  return fd;
}

/* T8a: cancelling the task cancels a load still under way (a FIFO it has
 * just opened), and the await does not wait for it */
static void
test_file_load_cancelled (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "fifo", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  FileJob job = { file, NULL };
  g_autoptr(WeftTask) load = NULL;
  WeftFuture *op = NULL;
  gpointer op_alive;
  int writer;

  g_assert_no_errno (mkfifo (path, 0600));
  load = weft_test_spawn_awaiting (KIND (data), start_load, &job, &op);
  weft_test_pass ();
  writer = open_fifo_writer (path);

  cancel_awaited (load, &op, &op_alive, "stop loading");
  /* With no writer left, whatever GIO still reads ends at once. */
  close (writer);
  run_until_finalized (&op_alive);
  remove_tmp_dir (dir);
}

/* Sockets */

static WeftFuture *
start_connect (gpointer user_data)
{
  return weft_socket_client_connect (NULL, user_data);
}

/* Connects to @address, where @listener listens, and checks the two ends
 * talk to each other.
 */
static void
check_connect (Kind              kind,
               GSocketListener  *listener,
               GSocketAddress   *address)
{
  g_autoptr(WeftTask) task = weft_test_spawn_awaiting (kind, start_connect, address, NULL);
  g_autoptr(GSocketConnection) client = NULL;
  g_autoptr(GSocketConnection) server = NULL;
  g_autoptr(GError) error = NULL;
  char buffer[8] = { 0, };

  weft_test_run_until_done (WEFT_FUTURE (task));
  client = weft_future_dup_object (WEFT_FUTURE (task), &error);
  g_assert_no_error (error);
  g_assert_true (G_IS_SOCKET_CONNECTION (client));

  /* The connection is established: accepting it does not block. */
  server = g_socket_listener_accept (listener, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (client)),
                                            "woven", 5, NULL, NULL, &error));
  g_assert_true (g_input_stream_read_all (g_io_stream_get_input_stream (G_IO_STREAM (server)),
                                          buffer, 5, NULL, NULL, &error));
  g_assert_cmpstr (buffer, ==, "woven");
}

/* F12: a TCP connection on the loopback */
static void
test_socket_connect_tcp (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_socket_listener_add_address (listener, any_port, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                                NULL, &address, &error));
  check_connect (KIND (data), listener, address);
}

/* F12: a Unix socket in a temporary directory */
static void
test_socket_connect_unix (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "socket", NULL);
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (path);
  g_autoptr(GError) error = NULL;

  g_assert_true (g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
                                                NULL, NULL, &error));
  check_connect (KIND (data), listener, address);
  g_socket_listener_close (listener);
  remove_tmp_dir (dir);
}

/* T8a: a connection attempt to a loopback listener whose accept queue is
 * full never completes (the kernel drops the SYNs); cancelling the task
 * aborts it */
static void
test_socket_connect_cancelled (WeftTestLoop  *loop,
                               gconstpointer  data)
{
  g_autoptr(GSocket) listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) queued = NULL;
  g_autoptr(WeftTask) task = NULL;
  g_autoptr(GError) error = NULL;
  WeftFuture *op = NULL;
  gpointer op_alive;

  g_assert_true (g_socket_bind (listener, any_port, FALSE, &error));
  g_socket_set_listen_backlog (listener, 0);
  g_assert_true (g_socket_listen (listener, &error));
  address = g_socket_get_local_address (listener, &error);
  queued = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, &error);
  g_assert_no_error (error);

  task = weft_test_spawn_awaiting (KIND (data), start_connect, address, &op);
  weft_test_pass ();
  cancel_awaited (task, &op, &op_alive, "hang up");
  run_until_finalized (&op_alive);
}

/* Subprocesses */

static WeftFuture *
start_wait (gpointer user_data)
{
  return weft_subprocess_wait (user_data);
}

static WeftFuture *
start_wait_check (gpointer user_data)
{
  return weft_subprocess_wait_check (user_data);
}

static GSubprocess *
spawn (const char * const *argv)
{
  g_autoptr(GError) error = NULL;
  GSubprocess *subprocess = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_NONE, &error);

  g_assert_no_error (error);
  return subprocess;
}

static void
check_return_code (Kind                kind,
                   const char * const *argv,
                   gint64              expected)
{
  g_autoptr(GSubprocess) subprocess = spawn (argv);
  g_autoptr(WeftTask) task = weft_test_spawn_awaiting (kind, start_wait, subprocess, NULL);

  weft_test_run_until_done (WEFT_FUTURE (task));
  weft_test_assert_finished_int (task, expected);
}

/* F12: wait gives asyncio's returncode: the exit status, or minus the
 * signal */
static void
test_subprocess_wait (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  check_return_code (KIND (data), (const char * const[]) { "/bin/true", NULL }, 0);
  check_return_code (KIND (data), (const char * const[]) { "/bin/sh", "-c", "exit 3", NULL }, 3);
  check_return_code (KIND (data), (const char * const[]) { "/bin/sh", "-c", "kill -TERM $$", NULL }, -SIGTERM);
}

/* F12: wait_check fails with the exit status */
static void
test_subprocess_wait_check (WeftTestLoop  *loop,
                            gconstpointer  data)
{
  g_autoptr(GSubprocess) ok = spawn ((const char * const[]) { "/bin/true", NULL });
  g_autoptr(GSubprocess) failing = spawn ((const char * const[]) { "/bin/sh", "-c", "exit 3", NULL });
  g_autoptr(WeftTask) ok_task = weft_test_spawn_awaiting (KIND (data), start_wait_check, ok, NULL);
  g_autoptr(WeftTask) failing_task = weft_test_spawn_awaiting (KIND (data), start_wait_check, failing, NULL);
  g_autoptr(GError) error = NULL;

  weft_test_run_until_done (WEFT_FUTURE (ok_task));
  g_assert_true (weft_future_get_boolean (WEFT_FUTURE (ok_task), &error));
  g_assert_no_error (error);

  weft_test_run_until_done (WEFT_FUTURE (failing_task));
  g_assert_false (weft_future_propagate (WEFT_FUTURE (failing_task), &error));
  g_assert_error (error, G_SPAWN_EXIT_ERROR, 3);
}

/* T8a: cancelling a task that waits for a process kills the process */
static void
test_subprocess_cancelled (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  g_autoptr(GSubprocess) sleeper = spawn ((const char * const[]) { "sleep", "1000", NULL });
  g_autoptr(WeftTask) task = NULL;
  g_autoptr(GError) error = NULL;
  WeftFuture *op = NULL;
  gpointer op_alive;

  task = weft_test_spawn_awaiting (KIND (data), start_wait, sleeper, &op);
  weft_test_pass ();
  cancel_awaited (task, &op, &op_alive, "enough");

  /* Killed, not merely left behind: a plain wait returns at once. */
  g_assert_true (g_subprocess_wait (sleeper, NULL, &error));
  g_assert_true (g_subprocess_get_if_signaled (sleeper));
  g_assert_cmpint (g_subprocess_get_term_sig (sleeper), ==, SIGKILL);
  run_until_finalized (&op_alive);
}

/* D-Bus, peer to peer over a socket pair: no bus daemon */

static const char peer_xml[] =
  "<node>"
  "  <interface name='org.weft.Test'>"
  "    <method name='Echo'><arg type='s' direction='in'/><arg type='s' direction='out'/></method>"
  "    <method name='Fail'/>"
  "    <method name='Hang'/>"
  "  </interface>"
  "</node>";

typedef struct
{
  GDBusConnection       *server;
  GDBusConnection       *client;
  guint                  registration;
  GDBusMethodInvocation *hanging;
  const char            *method;
} Peer;

static void
handle_method_call (GDBusConnection       *connection,
                    const char            *sender,
                    const char            *object_path,
                    const char            *interface_name,
                    const char            *method_name,
                    GVariant              *parameters,
                    GDBusMethodInvocation *invocation,
                    gpointer               user_data)
{
  Peer *peer = user_data;

  if (g_str_equal (method_name, "Echo"))
    g_dbus_method_invocation_return_value (invocation, parameters);
  else if (g_str_equal (method_name, "Fail"))
    g_dbus_method_invocation_return_error_literal (invocation, G_DBUS_ERROR, G_DBUS_ERROR_FAILED, "as asked");
  else
    peer->hanging = invocation;  /* the handler owns it until it replies */
}

static void
connection_ready (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GDBusConnection **connection = user_data;
  g_autoptr(GError) error = NULL;

  *connection = g_dbus_connection_new_finish (result, &error);
  g_assert_no_error (error);
}

static GIOStream *
socket_stream (int fd)
{
  g_autoptr(GSocket) socket = g_socket_new_from_fd (fd, NULL);

  g_assert_nonnull (socket);
  return G_IO_STREAM (g_socket_connection_factory_create_connection (socket));
}

static void
peer_open (Peer *peer)
{
  static const GDBusInterfaceVTable vtable = { handle_method_call, NULL, NULL, { 0 } };
  g_autoptr(GDBusNodeInfo) node = g_dbus_node_info_new_for_xml (peer_xml, NULL);
  g_autofree char *guid = g_dbus_generate_guid ();
  g_autoptr(GIOStream) server_stream = NULL;
  g_autoptr(GIOStream) client_stream = NULL;
  g_autoptr(GError) error = NULL;
  int fds[2];

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
  server_stream = socket_stream (fds[0]);
  client_stream = socket_stream (fds[1]);

  /* Both ends authenticate together, so neither can be made synchronously. */
  g_dbus_connection_new (server_stream, guid, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_SERVER,
                         NULL, NULL, connection_ready, &peer->server);
  g_dbus_connection_new (client_stream, NULL, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                         NULL, NULL, connection_ready, &peer->client);
  while (peer->server == NULL || peer->client == NULL)
    g_main_context_iteration (g_main_context_get_thread_default (), TRUE);

  peer->registration = g_dbus_connection_register_object (peer->server, "/org/weft/Test", node->interfaces[0],
                                                          &vtable, peer, NULL, &error);
  g_assert_no_error (error);
}

static void
peer_close (Peer *peer)
{
  g_dbus_connection_unregister_object (peer->server, peer->registration);
  /* Closing one end closes the other. */
  g_assert_true (g_dbus_connection_close_sync (peer->client, NULL, NULL));
  g_clear_object (&peer->client);
  g_clear_object (&peer->server);
}

static WeftFuture *
start_call (gpointer user_data)
{
  Peer *peer = user_data;

  return weft_dbus_connection_call (peer->client, NULL, "/org/weft/Test", "org.weft.Test", peer->method,
                                    g_str_equal (peer->method, "Echo") ? g_variant_new ("(s)", "woven") : NULL,
                                    NULL, G_DBUS_CALL_FLAGS_NONE, -1);
}

/* F12: a method call gives the reply, or the peer's error */
static void
test_dbus_call (WeftTestLoop  *loop,
                gconstpointer  data)
{
  Peer peer = { 0, };
  g_autoptr(WeftTask) echo = NULL;
  g_autoptr(WeftTask) fail = NULL;
  g_auto(GValue) reply = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  const char *text;

  peer_open (&peer);
  peer.method = "Echo";
  echo = weft_test_spawn_awaiting (KIND (data), start_call, &peer, NULL);
  weft_test_run_until_done (WEFT_FUTURE (echo));
  g_assert_true (weft_future_get_value (WEFT_FUTURE (echo), &reply, &error));
  g_assert_no_error (error);
  g_assert_true (G_VALUE_HOLDS_VARIANT (&reply));
  g_variant_get (g_value_get_variant (&reply), "(&s)", &text);
  g_assert_cmpstr (text, ==, "woven");

  peer.method = "Fail";
  fail = weft_test_spawn_awaiting (KIND (data), start_call, &peer, NULL);
  weft_test_run_until_done (WEFT_FUTURE (fail));
  g_assert_false (weft_future_propagate (WEFT_FUTURE (fail), &error));
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_FAILED);

  peer_close (&peer);
}

/* T8a: cancelling the task stops waiting for a reply the peer holds back;
 * a reply sent after that is dropped */
static void
test_dbus_call_cancelled (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  Peer peer = { .method = "Hang" };
  g_autoptr(WeftTask) task = NULL;
  WeftFuture *op = NULL;
  gpointer op_alive;

  peer_open (&peer);
  task = weft_test_spawn_awaiting (KIND (data), start_call, &peer, &op);
  while (peer.hanging == NULL)
    g_main_context_iteration (loop->context, TRUE);

  cancel_awaited (task, &op, &op_alive, "no answer");
  run_until_finalized (&op_alive);

  g_dbus_method_invocation_return_value (g_steal_pointer (&peer.hanging), NULL);
  peer_close (&peer);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  weft_test_add_both_kinds ("gio-ops", "file-replace-then-load", test_file_replace_then_load);
  weft_test_add_both_kinds ("gio-ops", "file-load-missing", test_file_load_missing);
  weft_test_add_both_kinds ("gio-ops", "file-load-cancelled", test_file_load_cancelled);
  weft_test_add_both_kinds ("gio-ops", "socket-connect-tcp", test_socket_connect_tcp);
  weft_test_add_both_kinds ("gio-ops", "socket-connect-unix", test_socket_connect_unix);
  weft_test_add_both_kinds ("gio-ops", "socket-connect-cancelled", test_socket_connect_cancelled);
  weft_test_add_both_kinds ("gio-ops", "process-wait", test_subprocess_wait);
  weft_test_add_both_kinds ("gio-ops", "process-wait-check", test_subprocess_wait_check);
  weft_test_add_both_kinds ("gio-ops", "process-cancelled", test_subprocess_cancelled);
  weft_test_add_both_kinds ("gio-ops", "dbus-call", test_dbus_call);
  weft_test_add_both_kinds ("gio-ops", "dbus-call-cancelled", test_dbus_call_cancelled);

  return g_test_run ();
}
