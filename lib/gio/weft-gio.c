/* weft-gio.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-gio.h"

/* asyncio's wrap_future() (F12), in GIO's terms: the wrapped operation is
 * any *_async() call, its cancellation is its GCancellable, and its result
 * is the GAsyncResult handed to the ready callback.
 */

#define WEFT_TYPE_WRAPPING_FUTURE (weft_wrapping_future_get_type ())
G_DECLARE_FINAL_TYPE (WeftWrappingFuture, weft_wrapping_future, WEFT, WRAPPING_FUTURE, WeftFuture)

struct _WeftWrappingFuture
{
  WeftFuture    parent_instance;
  GCancellable *cancellable;
};

G_DEFINE_FINAL_TYPE (WeftWrappingFuture, weft_wrapping_future, WEFT_TYPE_FUTURE)

static gboolean
weft_wrapping_future_cancel (WeftFuture *future,
                             const char *message)
{
  WeftWrappingFuture *self = WEFT_WRAPPING_FUTURE (future);

  if (!WEFT_FUTURE_CLASS (weft_wrapping_future_parent_class)->cancel (future, message))
    return FALSE;

  /* After the wrapper, so that the operation's own cancellation, if its
   * callback ran synchronously, finds the wrapper already done.
   */
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  return TRUE;
}

static void
weft_wrapping_future_finalize (GObject *object)
{
  WeftWrappingFuture *self = WEFT_WRAPPING_FUTURE (object);

  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (weft_wrapping_future_parent_class)->finalize (object);
}

static void
weft_wrapping_future_class_init (WeftWrappingFutureClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = weft_wrapping_future_finalize;
  WEFT_FUTURE_CLASS (klass)->cancel = weft_wrapping_future_cancel;
}

static void
weft_wrapping_future_init (WeftWrappingFuture *self)
{
}

/**
 * weft_future_new_wrapping:
 * @cancellable: (nullable): the #GCancellable of the operation to wrap
 *
 * Creates a future that stands for a GIO operation, as asyncio's
 * wrap_future() does for a concurrent future: cancelling the future
 * cancels @cancellable, and so the operation. Pass the future (with a
 * reference for it) as the user data of weft_future_async_ready_callback()
 * when starting the operation:
 *
 * |[<!-- language="C" -->
 * g_autoptr(GCancellable) cancellable = g_cancellable_new ();
 * g_autoptr(WeftFuture) op = weft_future_new_wrapping (cancellable);
 * g_autoptr(GAsyncResult) result = NULL;
 *
 * g_file_load_contents_async (file, cancellable,
 *                             weft_future_async_ready_callback,
 *                             g_object_ref (op));
 * result = weft_await_object (op, &error);
 * if (result == NULL || !g_file_load_contents_finish (file, result, &contents, &length, NULL, &error))
 *   …
 * ]|
 *
 * If the operation already finished when the future is cancelled, the
 * operation keeps its result and only the future is cancelled: the result
 * is dropped when the callback delivers it.
 *
 * Returns: (transfer full): a pending future
 */
WeftFuture *
weft_future_new_wrapping (GCancellable *cancellable)
{
  WeftWrappingFuture *self;

  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);

  self = g_object_new (WEFT_TYPE_WRAPPING_FUTURE, NULL);
  g_set_object (&self->cancellable, cancellable);

  return WEFT_FUTURE (self);
}

/**
 * weft_future_async_ready_callback: (skip)
 * @source_object: (nullable): the operation's source object
 * @result: the operation's result
 * @user_data: (transfer full): a #WeftFuture; the callback consumes the
 *   reference
 *
 * A #GAsyncReadyCallback that finishes the future in @user_data with
 * @result (an object value, for the operation's `*_finish()` function),
 * unless the future is already done.
 */
void
weft_future_async_ready_callback (GObject      *source_object,
                                  GAsyncResult *result,
                                  gpointer      user_data)
{
  g_autoptr(WeftFuture) future = user_data;

  /* Cancelled while the operation finished: the result goes unused. */
  if (!weft_future_is_done (future))
    weft_future_set_object (future, result);
}
