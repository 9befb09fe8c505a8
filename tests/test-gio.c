/* test-gio.c — any GIO operation as a future: rule F12 in GLib terms
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <sys/socket.h>
#include <unistd.h>

#include "weft-test-utils.h"

static GCancellable *
cancellable_of (WeftFuture *op)
{
  return weft_gio_future_get_cancellable (WEFT_GIO_FUTURE (op));
}

static GFile *
new_file_with (const char *contents)
{
  g_autoptr(GFileIOStream) stream = NULL;
  g_autoptr(GFile) file = g_file_new_tmp ("weft-XXXXXX.txt", &stream, NULL);

  g_assert_nonnull (file);
  g_assert_true (g_file_replace_contents (file, contents, strlen (contents), NULL, FALSE, 0, NULL, NULL, NULL));
  return g_steal_pointer (&file);
}

/* Iterates the whole main context, GIO's sources included, until the
 * object behind @alive is finalized.
 */
static void
run_until_finalized (gpointer *alive)
{
  while (*alive != NULL)
    g_main_context_iteration (g_main_context_get_thread_default (), TRUE);
}

static WeftFuture *
start_load_contents (gpointer user_data)
{
  WeftFuture *op = weft_gio_future_new ();

  g_file_load_contents_async (user_data, cancellable_of (op), weft_gio_future_ready, g_object_ref (op));
  return op;
}

/* F12: the future's value is the operation's GAsyncResult, for its finish
 * function */
static void
test_async_result (WeftTestLoop  *loop,
                   gconstpointer  data)
{
  g_autoptr(GFile) file = new_file_with ("woven");
  g_autoptr(WeftTask) task = weft_test_spawn_awaiting (KIND (data), start_load_contents, file, NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;

  weft_test_run_until_done (WEFT_FUTURE (task));
  result = weft_future_dup_object (WEFT_FUTURE (task), &error);
  g_assert_no_error (error);
  g_assert_true (G_IS_ASYNC_RESULT (result));
  g_assert_true (g_file_load_contents_finish (file, result, &contents, NULL, NULL, &error));
  g_assert_cmpstr (contents, ==, "woven");
  g_file_delete (file, NULL, NULL);
}

static WeftFuture *
start_read_file (gpointer user_data)
{
  WeftFuture *op = weft_gio_future_new_finish (G_TYPE_FILE_INPUT_STREAM, (WeftGioFinishFunc) g_file_read_finish);

  g_file_read_async (user_data, G_PRIORITY_DEFAULT, cancellable_of (op), weft_gio_future_ready, g_object_ref (op));
  return op;
}

/* F12: with a pointer finish function, the value is what it returns */
static void
test_finish_pointer (WeftTestLoop  *loop,
                     gconstpointer  data)
{
  g_autoptr(GFile) file = new_file_with ("woven");
  g_autoptr(WeftTask) task = weft_test_spawn_awaiting (KIND (data), start_read_file, file, NULL);
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GError) error = NULL;
  char buffer[8] = { 0, };

  weft_test_run_until_done (WEFT_FUTURE (task));
  stream = weft_future_dup_object (WEFT_FUTURE (task), &error);
  g_assert_no_error (error);
  g_assert_true (G_IS_FILE_INPUT_STREAM (stream));
  g_assert_cmpint (g_input_stream_read (G_INPUT_STREAM (stream), buffer, sizeof buffer, NULL, &error), ==, 5);
  g_assert_cmpstr (buffer, ==, "woven");
  g_file_delete (file, NULL, NULL);
}

static WeftFuture *
start_delete (gpointer user_data)
{
  WeftFuture *op = weft_gio_future_new_boolean ((WeftGioFinishBooleanFunc) g_file_delete_finish);

  g_file_delete_async (user_data, G_PRIORITY_DEFAULT, cancellable_of (op), weft_gio_future_ready, g_object_ref (op));
  return op;
}

/* F12: a boolean finish function gives the value, or its error */
static void
test_finish_boolean (WeftTestLoop  *loop,
                     gconstpointer  data)
{
  g_autoptr(GFile) file = new_file_with ("woven");
  g_autoptr(WeftTask) deleted = weft_test_spawn_awaiting (KIND (data), start_delete, file, NULL);
  g_autoptr(WeftTask) missing = NULL;
  g_autoptr(GError) error = NULL;

  weft_test_run_until_done (WEFT_FUTURE (deleted));
  g_assert_true (weft_future_get_boolean (WEFT_FUTURE (deleted), &error));
  g_assert_no_error (error);
  g_assert_false (g_file_query_exists (file, NULL));

  missing = weft_test_spawn_awaiting (KIND (data), start_delete, file, NULL);
  weft_test_run_until_done (WEFT_FUTURE (missing));
  g_assert_false (weft_future_propagate (WEFT_FUTURE (missing), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

typedef struct
{
  GSocketConnection *connection;
  int                peer;
  char               buffer[16];
} Socket;

static void
socket_open (Socket *socket_)
{
  g_autoptr(GSocket) socket = NULL;
  int fds[2];

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM, 0, fds));
  socket = g_socket_new_from_fd (fds[0], NULL);
  g_assert_nonnull (socket);
  socket_->peer = fds[1];
  socket_->connection = g_socket_connection_factory_create_connection (socket);
}

static void
socket_close (Socket *socket_)
{
  g_clear_object (&socket_->connection);
  close (socket_->peer);
}

static WeftFuture *
start_read (gpointer user_data)
{
  Socket *socket_ = user_data;
  GInputStream *input = g_io_stream_get_input_stream (G_IO_STREAM (socket_->connection));
  WeftFuture *op = weft_gio_future_new_size ((WeftGioFinishSizeFunc) g_input_stream_read_finish);

  g_input_stream_read_async (input, socket_->buffer, sizeof socket_->buffer, G_PRIORITY_DEFAULT,
                             cancellable_of (op), weft_gio_future_ready, g_object_ref (op));
  return op;
}

/* F12: a gssize finish function gives an int64 */
static void
test_finish_size (WeftTestLoop  *loop,
                  gconstpointer  data)
{
  Socket socket_ = { 0, };
  g_autoptr(WeftTask) task = NULL;

  socket_open (&socket_);
  g_assert_cmpint (write (socket_.peer, "woven", 5), ==, 5);
  task = weft_test_spawn_awaiting (KIND (data), start_read, &socket_, NULL);
  weft_test_run_until_done (WEFT_FUTURE (task));
  weft_test_assert_finished_int (task, 5);
  g_assert_cmpmem (socket_.buffer, 5, "woven", 5);
  socket_close (&socket_);
}

/* F12, T8a: cancelling the task cancels the future it awaits, which
 * cancels the operation; the await raises at once, and the operation's
 * late completion finds its future alive and is dropped */
static void
test_cancel_reaches_operation (WeftTestLoop  *loop,
                               gconstpointer  data)
{
  Socket socket_ = { 0, };
  g_autoptr(WeftTask) task = NULL;
  g_autoptr(GError) error = NULL;
  WeftFuture *op = NULL;
  gpointer op_alive;

  socket_open (&socket_);
  task = weft_test_spawn_awaiting (KIND (data), start_read, &socket_, &op);
  weft_test_pass ();
  g_assert_true (weft_task_is_suspended (task));
  op_alive = op;
  g_object_add_weak_pointer (G_OBJECT (op), &op_alive);

  g_assert_true (weft_task_cancel (task, "stop reading"));
  g_assert_true (weft_future_is_cancelled (op));
  g_assert_true (g_cancellable_is_cancelled (cancellable_of (op)));

  /* Ready-queue passes only: GIO's callback has not run, and need not. */
  weft_test_run_until_idle ();
  g_assert_true (weft_future_is_done (WEFT_FUTURE (task)));
  g_assert_false (weft_future_propagate (WEFT_FUTURE (task), &error));
  weft_test_assert_cancelled_error (error, "stop reading");

  /* The read ends too, with GIO's cancellation, and lets go of the future. */
  g_clear_object (&op);
  g_assert_nonnull (op_alive);
  run_until_finalized (&op_alive);
  socket_close (&socket_);
}

static WeftFuture *
cancel_self_then_read (gpointer user_data)
{
  g_assert_true (weft_task_cancel (weft_task_get_current (), "early"));
  return start_read (user_data);
}

/* T8c: a task cancelled while running cancels the operation it then awaits */
static void
test_cancel_before_await (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  Socket socket_ = { 0, };
  g_autoptr(WeftTask) task = NULL;
  g_autoptr(WeftFuture) op = NULL;
  g_autoptr(GError) error = NULL;
  gpointer op_alive;

  socket_open (&socket_);
  task = weft_test_spawn_awaiting (KIND (data), cancel_self_then_read, &socket_, &op);
  weft_test_pass ();
  g_assert_true (weft_future_is_cancelled (op));
  g_assert_true (g_cancellable_is_cancelled (cancellable_of (op)));

  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_false (weft_future_propagate (WEFT_FUTURE (task), &error));
  weft_test_assert_cancelled_error (error, "early");

  op_alive = op;
  g_object_add_weak_pointer (G_OBJECT (op), &op_alive);
  g_clear_object (&op);
  run_until_finalized (&op_alive);
  socket_close (&socket_);
}

typedef struct
{
  Socket        socket;
  WeftFuture   *gate;
  WeftFuture   *read;
  GCancellable *cancellable;  /* what the read was given */
} Bystander;

static void
read_then_await_gate (WeftTask *task,
                      gpointer  user_data)
{
  Bystander *bystander = user_data;
  GInputStream *input = g_io_stream_get_input_stream (G_IO_STREAM (bystander->socket.connection));
  g_autoptr(GError) error = NULL;

  bystander->read = weft_gio_future_new_size ((WeftGioFinishSizeFunc) g_input_stream_read_finish);
  if (bystander->cancellable == NULL)
    bystander->cancellable = cancellable_of (bystander->read);
  g_input_stream_read_async (input, bystander->socket.buffer, sizeof bystander->socket.buffer,
                             G_PRIORITY_DEFAULT, bystander->cancellable,
                             weft_gio_future_ready, g_object_ref (bystander->read));
  if (!weft_await (bystander->gate, &error))
    weft_task_return_error (task, g_steal_pointer (&error));
}

/* T6: the cancellation reaches the future the task awaits, not another
 * operation it started: that one goes on, as an un-awaited asyncio future
 * would */
static void
test_cancel_spares_other_operations (WeftTestLoop  *loop,
                                     gconstpointer  data)
{
  Bystander bystander = { .gate = weft_future_new () };
  g_autoptr(WeftTask) task = NULL;

  socket_open (&bystander.socket);
  task = weft_fiber_new (NULL, read_then_await_gate, &bystander, NULL);
  weft_test_pass ();
  g_assert_true (weft_task_cancel (task, NULL));
  weft_test_run_until_done (WEFT_FUTURE (task));
  g_assert_true (weft_future_is_cancelled (bystander.gate));
  g_assert_false (g_cancellable_is_cancelled (cancellable_of (bystander.read)));

  g_assert_cmpint (write (bystander.socket.peer, "woven", 5), ==, 5);
  weft_test_run_until_done (bystander.read);
  weft_test_assert_finished_int (bystander.read, 5);

  g_object_unref (bystander.read);
  g_object_unref (bystander.gate);
  socket_close (&bystander.socket);
}

/* The task's own cancellable, given to the operation instead, ends it with
 * the task whatever the task awaits */
static void
test_task_cancellable_ends_operation (WeftTestLoop  *loop,
                                      gconstpointer  data)
{
  Bystander bystander = { .gate = weft_future_new () };
  g_autoptr(WeftTask) task = NULL;
  g_autoptr(GError) error = NULL;

  socket_open (&bystander.socket);
  task = weft_fiber_new (NULL, read_then_await_gate, &bystander, NULL);
  bystander.cancellable = weft_task_get_cancellable (task);
  weft_test_pass ();
  g_assert_true (weft_task_cancel (task, NULL));
  weft_test_run_until_done (WEFT_FUTURE (task));

  weft_test_run_until_done (bystander.read);
  g_assert_false (weft_future_propagate (bystander.read, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  g_object_unref (bystander.read);
  g_object_unref (bystander.gate);
  socket_close (&bystander.socket);
}

static void
return_at_once (GObject             *source,
                GCancellable        *cancellable,
                GAsyncReadyCallback  callback,
                gpointer             user_data)
{
  g_autoptr(GTask) op = g_task_new (source, cancellable, callback, user_data);

  g_task_return_boolean (op, TRUE);
}

static gboolean
propagate_boolean (GObject       *source,
                   GAsyncResult  *result,
                   GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* F12: an operation that already finished keeps its result; only the
 * future is cancelled, and the late result is dropped quietly */
static void
test_cancel_after_completion (WeftTestLoop  *loop,
                              gconstpointer  data)
{
  WeftFuture *op = weft_gio_future_new_boolean (propagate_boolean);
  gpointer op_alive = op;

  g_object_add_weak_pointer (G_OBJECT (op), &op_alive);
  return_at_once (NULL, cancellable_of (op), weft_gio_future_ready, g_object_ref (op));

  /* The operation is over; its callback waits for the main loop. */
  g_assert_false (weft_future_is_done (op));
  g_assert_true (weft_future_cancel (op, NULL));
  g_object_unref (op);

  run_until_finalized (&op_alive);
}

/* F12: a future completed by the binding path, the complete() method */
static void
test_complete_method (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  g_autoptr(WeftFuture) op = weft_gio_future_new ();
  g_autoptr(GTask) result = g_task_new (NULL, NULL, NULL, NULL);
  g_autoptr(GAsyncResult) value = NULL;

  weft_gio_future_complete (WEFT_GIO_FUTURE (op), NULL, G_ASYNC_RESULT (result));
  value = weft_future_dup_object (op, NULL);
  g_assert_true (value == G_ASYNC_RESULT (result));

  /* Done already: a second outcome is dropped without a critical. */
  weft_gio_future_complete (WEFT_GIO_FUTURE (op), NULL, G_ASYNC_RESULT (result));
  g_task_return_boolean (result, TRUE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  weft_test_add_both_kinds ("gio", "async-result", test_async_result);
  weft_test_add_both_kinds ("gio", "finish-pointer", test_finish_pointer);
  weft_test_add_both_kinds ("gio", "finish-boolean", test_finish_boolean);
  weft_test_add_both_kinds ("gio", "finish-size", test_finish_size);
  weft_test_add_both_kinds ("gio", "cancel-reaches-operation", test_cancel_reaches_operation);
  weft_test_add_both_kinds ("gio", "cancel-before-await", test_cancel_before_await);
  WEFT_TEST_ADD ("/gio/cancel-spares-other-operations", test_cancel_spares_other_operations);
  WEFT_TEST_ADD ("/gio/task-cancellable-ends-operation", test_task_cancellable_ends_operation);
  WEFT_TEST_ADD ("/gio/cancel-after-completion", test_cancel_after_completion);
  WEFT_TEST_ADD ("/gio/complete-method", test_complete_method);

  return g_test_run ();
}
