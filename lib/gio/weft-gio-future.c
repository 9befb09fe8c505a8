/* weft-gio-future.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-error-private.h"
#include "weft-future-private.h"
#include "weft-gio-future-private.h"

/**
 * WeftGioFuture:
 *
 * A future that stands for one GIO asynchronous operation, an `*_async()`
 * and `*_finish()` pair: asyncio's wrap_future() (F12) in GIO's terms.
 *
 * The future owns a #GCancellable for the operation. Cancelling the future
 * cancels it, and so the operation; and since cancelling a task cancels
 * the future it awaits (T8a), cancelling the task aborts the operation it
 * waits on, while the await raises %G_IO_ERROR_CANCELLED at once, without
 * waiting for the operation to wind down. The callback holds its own
 * reference on the future, so an operation that ends after the task moved
 * on finds the future still alive; its result, or its cancellation error,
 * is then dropped.
 *
 * A cancellable per operation, rather than the task's
 * (weft_task_get_cancellable()), keeps asyncio's rules: a shielded
 * operation (SH) survives the task's cancellation, and a task that caught
 * a cancellation (T10) can still start new operations. Pass the task's
 * cancellable to the `*_async()` call instead when the operation should end
 * with the task even while the task awaits something else.
 *
 * With a finish function the future's value is the operation's result:
 *
 * |[<!-- language="C" -->
 * g_autoptr(WeftFuture) op = weft_gio_future_new_size ((WeftGioFinishSizeFunc) g_input_stream_read_finish);
 *
 * g_input_stream_read_async (input, buffer, size, G_PRIORITY_DEFAULT,
 *                            weft_gio_future_get_cancellable (WEFT_GIO_FUTURE (op)),
 *                            weft_gio_future_ready, g_object_ref (op));
 * n_read = weft_await_int64 (op, &error);
 * ]|
 *
 * Without one (weft_gio_future_new()), its value is the #GAsyncResult and
 * the caller calls the `*_finish()` function after the await: the form for
 * `*_finish()` functions with out parameters, and for language bindings,
 * which pass weft_gio_future_complete() as the callback.
 */

/* Where the operation's callback stands, for weft_run(), which must not
 * return while a callback is still to come to its context: GIO would hold
 * the future, the GTask, its source object and the context until it ran.
 */
typedef enum
{
  OPERATION_UNKNOWN,  /* no operation known to report back */
  OPERATION_STARTED,  /* weft_gio_future_ready() will be called */
  OPERATION_AWAITED,  /* cancelled first: counted as background work */
  OPERATION_REPORTED,
} OperationState;

typedef enum
{
  FINISH_NONE,
  FINISH_POINTER,
  FINISH_BOOLEAN,
  FINISH_SIZE,
} FinishKind;

struct _WeftGioFuture
{
  WeftFuture    parent_instance;
  GCancellable *cancellable;
  GCallback     finish;
  GType         result_type;
  FinishKind    finish_kind;
  int           operation;  /* atomic OperationState */
};

G_DEFINE_FINAL_TYPE (WeftGioFuture, weft_gio_future, WEFT_TYPE_FUTURE)

static gboolean
weft_gio_future_cancel (WeftFuture *future,
                        const char *message)
{
  WeftGioFuture *self = WEFT_GIO_FUTURE (future);

  if (!WEFT_FUTURE_CLASS (weft_gio_future_parent_class)->cancel (future, message))
    return FALSE;

  /* Before cancelling: the callback may come at once. */
  if (g_atomic_int_compare_and_exchange (&self->operation, OPERATION_STARTED, OPERATION_AWAITED))
    weft_scheduler_begin_background (weft_future_get_scheduler (future));

  /* After the future, so that the operation's own cancellation, if its
   * callback ran synchronously, finds the future already done.
   */
  g_cancellable_cancel (self->cancellable);
  return TRUE;
}

/* The future holds its context, so its scheduler is alive here. */
static void
operation_reported (WeftGioFuture *self)
{
  if (g_atomic_int_exchange (&self->operation, OPERATION_REPORTED) == OPERATION_AWAITED)
    weft_scheduler_end_background (weft_future_get_scheduler (WEFT_FUTURE (self)));
}

static void
weft_gio_future_finalize (GObject *object)
{
  WeftGioFuture *self = WEFT_GIO_FUTURE (object);

  /* A callback that dropped the future without completing it. */
  operation_reported (self);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (weft_gio_future_parent_class)->finalize (object);
}

static void
weft_gio_future_class_init (WeftGioFutureClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = weft_gio_future_finalize;
  WEFT_FUTURE_CLASS (klass)->cancel = weft_gio_future_cancel;
}

static void
weft_gio_future_init (WeftGioFuture *self)
{
  self->cancellable = g_cancellable_new ();
}

static WeftFuture *
gio_future_new (FinishKind kind,
                GCallback  finish,
                GType      result_type)
{
  WeftGioFuture *self = g_object_new (WEFT_TYPE_GIO_FUTURE, NULL);

  self->finish_kind = kind;
  self->finish = finish;
  self->result_type = result_type;
  return WEFT_FUTURE (self);
}

/**
 * weft_gio_future_new:
 *
 * Creates a future for a GIO operation whose value will be the operation's
 * #GAsyncResult, for the caller to pass to the operation's `*_finish()`
 * function once the await returns:
 *
 * |[<!-- language="C" -->
 * g_autoptr(WeftFuture) op = weft_gio_future_new ();
 * g_autoptr(GAsyncResult) result = NULL;
 *
 * g_file_load_contents_async (file, weft_gio_future_get_cancellable (WEFT_GIO_FUTURE (op)),
 *                             weft_gio_future_ready, g_object_ref (op));
 * result = weft_await_object (op, &error);
 * if (result == NULL || !g_file_load_contents_finish (file, result, &contents, &length, NULL, &error))
 *   …
 * ]|
 *
 * From a language binding, pass the future's weft_gio_future_complete()
 * method as the operation's callback.
 *
 * Returns: (transfer full) (type WeftGioFuture): a pending future
 */
WeftFuture *
weft_gio_future_new (void)
{
  return gio_future_new (FINISH_NONE, NULL, G_TYPE_INVALID);
}

/**
 * weft_gio_future_new_finish: (skip)
 * @result_type: the type of what @finish returns: an object or interface
 *   type, a boxed type, %G_TYPE_VARIANT or %G_TYPE_STRING
 * @finish: the operation's `*_finish()` function
 *
 * Creates a future for a GIO operation whose `*_finish()` function returns
 * a pointer it hands over: the future's value is that pointer, held in a
 * #GValue of @result_type, or the function's error.
 *
 * Returns: (transfer full): a pending future
 */
WeftFuture *
weft_gio_future_new_finish (GType             result_type,
                            WeftGioFinishFunc finish)
{
  GType fundamental = G_TYPE_FUNDAMENTAL (result_type);

  g_return_val_if_fail (finish != NULL, NULL);
  g_return_val_if_fail (fundamental == G_TYPE_OBJECT ||
                        (fundamental == G_TYPE_INTERFACE && g_type_is_a (result_type, G_TYPE_OBJECT)) ||
                        fundamental == G_TYPE_BOXED ||
                        fundamental == G_TYPE_VARIANT ||
                        fundamental == G_TYPE_STRING, NULL);

  return gio_future_new (FINISH_POINTER, G_CALLBACK (finish), result_type);
}

/**
 * weft_gio_future_new_boolean: (skip)
 * @finish: the operation's `*_finish()` function
 *
 * Creates a future for a GIO operation whose `*_finish()` function returns
 * a #gboolean: the future's value is that boolean, or the function's error.
 *
 * Returns: (transfer full): a pending future
 */
WeftFuture *
weft_gio_future_new_boolean (WeftGioFinishBooleanFunc finish)
{
  g_return_val_if_fail (finish != NULL, NULL);

  return gio_future_new (FINISH_BOOLEAN, G_CALLBACK (finish), G_TYPE_BOOLEAN);
}

/**
 * weft_gio_future_new_size: (skip)
 * @finish: the operation's `*_finish()` function
 *
 * Creates a future for a GIO operation whose `*_finish()` function returns
 * a #gssize, such as a byte count: the future's value is that number as a
 * #gint64, or the function's error.
 *
 * Returns: (transfer full): a pending future
 */
WeftFuture *
weft_gio_future_new_size (WeftGioFinishSizeFunc finish)
{
  g_return_val_if_fail (finish != NULL, NULL);

  return gio_future_new (FINISH_SIZE, G_CALLBACK (finish), G_TYPE_INT64);
}

/*
 * weft_gio_future_ref_for_ready:
 * @op: a GIO future whose operation is being started, with
 *   weft_gio_future_ready() as its callback
 *
 * Tells @op that its operation will report back to it, on the context the
 * future belongs to: if @op is cancelled before then, weft_run() waits for
 * the report instead of leaving it pending on a context nobody iterates.
 *
 * Returns: (transfer full): a reference on @op, the callback's user data
 */
gpointer
weft_gio_future_ref_for_ready (WeftFuture *op)
{
  WeftGioFuture *self = WEFT_GIO_FUTURE (op);

  g_atomic_int_set (&self->operation, OPERATION_STARTED);
  return g_object_ref (self);
}

/**
 * weft_gio_future_get_cancellable:
 * @self: a GIO future
 *
 * The #GCancellable to pass to the operation's `*_async()` function. The
 * future cancels it when it is cancelled.
 *
 * Returns: (transfer none): the operation's cancellable
 */
GCancellable *
weft_gio_future_get_cancellable (WeftGioFuture *self)
{
  g_return_val_if_fail (WEFT_IS_GIO_FUTURE (self), NULL);

  return self->cancellable;
}

static void
take_pointer (GValue   *value,
              GType     type,
              gpointer  pointer)
{
  g_value_init (value, type);
  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_OBJECT:
    case G_TYPE_INTERFACE:
      g_value_take_object (value, pointer);
      break;
    case G_TYPE_BOXED:
      g_value_take_boxed (value, pointer);
      break;
    case G_TYPE_VARIANT:
      g_value_take_variant (value, pointer);
      break;
    case G_TYPE_STRING:
      g_value_take_string (value, pointer);
      break;
    default:
      g_assert_not_reached ();
    }
}

/**
 * weft_gio_future_complete:
 * @self: a GIO future
 * @source: (nullable): the operation's source object
 * @result: the operation's result
 *
 * Finishes @self with the operation's outcome: its `*_finish()` function's
 * result or error, or @result itself for a future made with
 * weft_gio_future_new(). If @self is already done (it was cancelled while
 * the operation ended), the outcome is dropped.
 *
 * Language bindings pass this method as the operation's callback, e.g.
 * `file.load_contents_async(op.get_cancellable(), op.complete)` in Python.
 */
void
weft_gio_future_complete (WeftGioFuture *self,
                          GObject       *source,
                          GAsyncResult  *result)
{
  GValue value = G_VALUE_INIT;
  GError *error = NULL;

  g_return_if_fail (WEFT_IS_GIO_FUTURE (self));
  g_return_if_fail (G_IS_ASYNC_RESULT (result));

  /* A cancelled future still finishes the operation, so that a result
   * that owns resources (a connection, a stream) is freed now.
   */
  switch (self->finish_kind)
    {
    case FINISH_NONE:
      g_value_init (&value, G_OBJECT_TYPE (result));
      g_value_set_object (&value, result);
      break;

    case FINISH_POINTER:
      {
        gpointer pointer = ((WeftGioFinishFunc) self->finish) (source, result, &error);

        if (error == NULL)
          take_pointer (&value, self->result_type, pointer);
      }
      break;

    case FINISH_BOOLEAN:
      {
        gboolean ok = ((WeftGioFinishBooleanFunc) self->finish) (source, result, &error);

        g_value_init (&value, G_TYPE_BOOLEAN);
        g_value_set_boolean (&value, ok);
      }
      break;

    case FINISH_SIZE:
      {
        gssize size = ((WeftGioFinishSizeFunc) self->finish) (source, result, &error);

        g_value_init (&value, G_TYPE_INT64);
        g_value_set_int64 (&value, size);
      }
      break;

    default:
      g_assert_not_reached ();
    }

  if (error != NULL && G_IS_VALUE (&value))
    g_value_unset (&value);

  weft_future_complete (WEFT_FUTURE (self), error != NULL ? NULL : &value, error);
  operation_reported (self);
}

/**
 * weft_gio_future_ready: (skip)
 * @source: (nullable): the operation's source object
 * @result: the operation's result
 * @user_data: (transfer full): a #WeftGioFuture; the callback consumes the
 *   reference
 *
 * The #GAsyncReadyCallback to pass to the operation's `*_async()` function,
 * with a reference on the future as its user data: it calls
 * weft_gio_future_complete() and drops that reference.
 */
void
weft_gio_future_ready (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(WeftGioFuture) self = user_data;

  weft_gio_future_complete (self, source, result);
}
