/* test-gio.c — GIO operations as futures: rule F12 in GLib terms
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <sys/socket.h>
#include <unistd.h>

#include "weft-test-utils.h"

static void
load_file (WeftTask *task,
           gpointer  user_data)
{
  GFile *file = user_data;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(WeftFuture) op = weft_future_new_wrapping (cancellable);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;

  g_file_load_contents_async (file, cancellable, weft_future_async_ready_callback, g_object_ref (op));
  result = weft_await_object (op, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_load_contents_finish (file, result, &contents, NULL, NULL, &error));
  weft_task_return_string (task, contents);
}

/* F12: a wrapped GIO operation delivers its result through the future */
static void
test_wrap_result (WeftTestLoop  *loop,
                  gconstpointer  data)
{
  g_autoptr(GFileIOStream) stream = NULL;
  g_autoptr(GFile) file = g_file_new_tmp ("weft-XXXXXX.txt", &stream, NULL);
  g_autoptr(WeftTask) task = NULL;
  g_autofree char *contents = NULL;

  g_assert_true (g_file_replace_contents (file, "woven", 5, NULL, FALSE, 0, NULL, NULL, NULL));
  task = weft_fiber_new (NULL, load_file, file, NULL);
  weft_test_run_until_done (WEFT_FUTURE (task));
  contents = weft_future_dup_string (WEFT_FUTURE (task), NULL);
  g_assert_cmpstr (contents, ==, "woven");
  g_file_delete (file, NULL, NULL);
}

typedef struct
{
  GSocketConnection *connection;
  GCancellable      *cancellable;
  WeftFuture        *op;
  char               buffer[16];
} Reader;

static void
read_forever (WeftTask *task,
              gpointer  user_data)
{
  Reader *reader = user_data;
  GInputStream *input = g_io_stream_get_input_stream (G_IO_STREAM (reader->connection));
  g_autoptr(GError) error = NULL;

  g_input_stream_read_async (input, reader->buffer, sizeof reader->buffer, G_PRIORITY_DEFAULT,
                             reader->cancellable, weft_future_async_ready_callback,
                             g_object_ref (reader->op));
  g_assert_null (weft_await_object (reader->op, &error));
  weft_task_return_error (task, g_steal_pointer (&error));
}

static GSocketConnection *
open_silent_socket (int *peer)
{
  g_autoptr(GSocket) socket = NULL;
  int fds[2];

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM, 0, fds));
  socket = g_socket_new_from_fd (fds[0], NULL);
  g_assert_nonnull (socket);
  *peer = fds[1];
  return g_socket_connection_factory_create_connection (socket);
}

/* F12: cancelling the task cancels the future it awaits (T8a), and the
 * wrapper cancels the GIO operation itself */
static void
test_wrap_cancel_reaches_operation (WeftTestLoop  *loop,
                                    gconstpointer  data)
{
  Reader reader = { 0, };
  g_autoptr(WeftTask) task = NULL;
  g_autoptr(GError) error = NULL;
  gpointer op_alive;
  int peer;

  reader.connection = open_silent_socket (&peer);
  reader.cancellable = g_cancellable_new ();
  reader.op = weft_future_new_wrapping (reader.cancellable);
  op_alive = reader.op;
  g_object_add_weak_pointer (G_OBJECT (reader.op), &op_alive);

  task = weft_fiber_new (NULL, read_forever, &reader, NULL);
  weft_test_pass ();
  g_assert_true (weft_task_is_suspended (task));

  g_assert_true (weft_task_cancel (task, "stop reading"));
  g_assert_true (weft_future_is_cancelled (reader.op));
  g_assert_true (g_cancellable_is_cancelled (reader.cancellable));

  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_false (weft_future_propagate (WEFT_FUTURE (task), &error));
  weft_test_assert_cancelled_error (error, "stop reading");

  /* The read ends too, with GIO's cancellation, and lets go of the future. */
  g_clear_object (&reader.op);
  while (op_alive != NULL)
    g_main_context_iteration (loop->context, TRUE);

  g_object_unref (reader.connection);
  g_object_unref (reader.cancellable);
  close (peer);
}

static void
return_at_once (GObject      *source,
                GCancellable *cancellable,
                GAsyncReadyCallback callback,
                gpointer      user_data)
{
  g_autoptr(GTask) op = g_task_new (source, cancellable, callback, user_data);

  g_task_return_boolean (op, TRUE);
}

/* F12: an operation that already finished keeps its result; only the
 * wrapper is cancelled, and the late result is dropped quietly */
static void
test_wrap_cancel_after_completion (WeftTestLoop  *loop,
                                   gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  WeftFuture *op = weft_future_new_wrapping (cancellable);
  gpointer op_alive = op;

  g_object_add_weak_pointer (G_OBJECT (op), &op_alive);
  return_at_once (NULL, cancellable, weft_future_async_ready_callback, g_object_ref (op));

  /* The operation is over; its callback waits for the main loop. */
  g_assert_false (weft_future_is_done (op));
  g_assert_true (weft_future_cancel (op, NULL));
  g_object_unref (op);

  while (op_alive != NULL)
    g_main_context_iteration (loop->context, TRUE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  WEFT_TEST_ADD ("/gio/wrap-result", test_wrap_result);
  WEFT_TEST_ADD ("/gio/wrap-cancel-reaches-operation", test_wrap_cancel_reaches_operation);
  WEFT_TEST_ADD ("/gio/wrap-cancel-after-completion", test_wrap_cancel_after_completion);

  return g_test_run ();
}
