/* weft-semaphore.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-error-private.h"
#include "weft-semaphore-private.h"
#include "weft-waiter-private.h"

/**
 * WeftSemaphore:
 *
 * A counter of available slots for tasks: asyncio's Semaphore.
 *
 * weft_semaphore_acquire() takes a slot, waiting for one if none is free;
 * weft_semaphore_release() gives it back. Waiting tasks get slots in the
 * order they asked: a release hands its slot straight to the first
 * waiter, so the value only grows when nobody waits.
 *
 * Cancelling a waiting task withdraws its request; a slot handed to a
 * task that is cancelled before it resumes goes to the next waiter.
 *
 * A semaphore belongs to the thread that runs its #GMainContext.
 */

typedef struct
{
  WeftWaitList waiters;
  guint        value;
  guint        bound;
  gboolean     bounded;
} WeftSemaphorePrivate;

G_DEFINE_TYPE_WITH_PRIVATE (WeftSemaphore, weft_semaphore, G_TYPE_OBJECT)

/* asyncio's _wake_up_next(), for every free slot. */
static void
wake_up_waiters (WeftSemaphorePrivate *priv)
{
  while (priv->value > 0 && priv->waiters.head != NULL)
    {
      priv->value--;
      weft_waiter_wake (priv->waiters.head, NULL, NULL);
    }
}

static void
semaphore_waiter_dropped (WeftWaiter *waiter)
{
  WeftSemaphorePrivate *priv = weft_semaphore_get_instance_private (waiter->owner);

  priv->value++;
  wake_up_waiters (priv);
}

static const WeftWaiterOps semaphore_waiter_ops = {
  .dropped = semaphore_waiter_dropped,
};

static void
weft_semaphore_finalize (GObject *object)
{
  WeftSemaphorePrivate *priv = weft_semaphore_get_instance_private (WEFT_SEMAPHORE (object));

  weft_wait_list_detach_all (&priv->waiters);

  G_OBJECT_CLASS (weft_semaphore_parent_class)->finalize (object);
}

static void
weft_semaphore_class_init (WeftSemaphoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = weft_semaphore_finalize;
}

static void
weft_semaphore_init (WeftSemaphore *self)
{
}

/* @bounded: releasing above @value is an error (BoundedSemaphore). */
void
weft_semaphore_setup (WeftSemaphore *self,
                      guint          value,
                      gboolean       bounded)
{
  WeftSemaphorePrivate *priv = weft_semaphore_get_instance_private (self);

  priv->value = value;
  priv->bound = value;
  priv->bounded = bounded;
}

/**
 * weft_semaphore_new:
 * @value: the number of free slots
 *
 * Creates a semaphore.
 *
 * Returns: (transfer full): a new semaphore
 */
WeftSemaphore *
weft_semaphore_new (guint value)
{
  WeftSemaphore *self = g_object_new (WEFT_TYPE_SEMAPHORE, NULL);

  weft_semaphore_setup (self, value, FALSE);
  return self;
}

/**
 * weft_semaphore_get_value:
 * @self: a semaphore
 *
 * Gets the number of free slots.
 *
 * Returns: the number of free slots
 */
guint
weft_semaphore_get_value (WeftSemaphore *self)
{
  WeftSemaphorePrivate *priv;

  g_return_val_if_fail (WEFT_IS_SEMAPHORE (self), 0);

  priv = weft_semaphore_get_instance_private (self);
  return priv->value;
}

/**
 * weft_semaphore_is_locked:
 * @self: a semaphore
 *
 * asyncio's locked().
 *
 * Returns: %TRUE if acquiring now would wait
 */
gboolean
weft_semaphore_is_locked (WeftSemaphore *self)
{
  return weft_semaphore_get_value (self) == 0;
}

/**
 * weft_semaphore_try_acquire:
 * @self: a semaphore
 *
 * Takes a free slot without suspending, if there is one.
 *
 * Returns: %TRUE if a slot was taken
 */
gboolean
weft_semaphore_try_acquire (WeftSemaphore *self)
{
  WeftSemaphorePrivate *priv;

  g_return_val_if_fail (WEFT_IS_SEMAPHORE (self), FALSE);

  priv = weft_semaphore_get_instance_private (self);
  if (priv->value == 0)
    return FALSE;
  priv->value--;
  return TRUE;
}

/**
 * weft_semaphore_acquire:
 * @self: a semaphore
 *
 * asyncio's acquire(): a future that finishes, without a value, once the
 * caller has a slot. With a free slot it is taken now and the future is
 * already finished, so awaiting it does not suspend. Await the future at
 * once; cancelling it (or the task awaiting it) withdraws the request.
 *
 * Returns: (transfer full): the future to await
 */
WeftFuture *
weft_semaphore_acquire (WeftSemaphore *self)
{
  WeftWaiter *waiter;

  g_return_val_if_fail (WEFT_IS_SEMAPHORE (self), NULL);

  waiter = weft_waiter_borrow (self, &semaphore_waiter_ops);
  if (weft_semaphore_try_acquire (self))
    weft_future_complete ((WeftFuture *) waiter, NULL, NULL);
  else
    {
      WeftSemaphorePrivate *priv = weft_semaphore_get_instance_private (self);

      weft_wait_list_push (&priv->waiters, waiter);
    }
  return (WeftFuture *) waiter;
}

/**
 * weft_semaphore_release:
 * @self: a semaphore
 * @error: return location for an error
 *
 * Gives a slot back, to the first waiting task if any.
 *
 * Returns: %TRUE, or %FALSE with %WEFT_ERROR_INVALID_STATE if @self is a
 *   #WeftBoundedSemaphore already at its initial value (asyncio's
 *   ValueError)
 */
gboolean
weft_semaphore_release (WeftSemaphore  *self,
                        GError        **error)
{
  WeftSemaphorePrivate *priv;

  g_return_val_if_fail (WEFT_IS_SEMAPHORE (self), FALSE);

  priv = weft_semaphore_get_instance_private (self);
  if (priv->bounded && priv->value >= priv->bound)
    {
      g_set_error_literal (error, WEFT_ERROR, WEFT_ERROR_INVALID_STATE,
                           "BoundedSemaphore released too many times");
      return FALSE;
    }
  priv->value++;
  wake_up_waiters (priv);
  return TRUE;
}
