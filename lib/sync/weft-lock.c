/* weft-lock.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-error-private.h"
#include "weft-lock-private.h"

/**
 * WeftLock:
 *
 * A mutual exclusion lock for tasks: asyncio's Lock.
 *
 * weft_lock_acquire() gives a future that finishes once the caller holds
 * the lock; weft_lock_try_acquire() takes a free lock without a future.
 * Waiting tasks get the lock in the order they asked for it: a release
 * hands the lock straight to the first of them, so a task that asks later
 * never overtakes one that waits (weft_lock_is_locked() stays %TRUE
 * meanwhile, where asyncio's locked() is briefly %FALSE).
 *
 * Cancelling a waiting task withdraws its request. If the task was
 * already handed the lock but is cancelled before it resumes, the lock
 * goes to the next waiter: it is never lost. That guarantee rests on the
 * task that asked awaiting the future itself: a future handed to
 * something else (weft_gather_new(), say) that ends up never read after
 * the lock was granted leaves the lock held. asyncio wraps such an
 * acquire in a task of its own; in C, create a task that acquires.
 *
 * A lock belongs to the thread that runs its #GMainContext; it is not a
 * #GMutex and is not thread-safe.
 */

struct _WeftLock
{
  GObject       parent_instance;
  WeftWaitList  waiters;
  gboolean      locked;
};

G_DEFINE_FINAL_TYPE (WeftLock, weft_lock, G_TYPE_OBJECT)

static void
lock_waiter_dropped (WeftWaiter *waiter)
{
  weft_lock_hand_over (waiter->owner);
}

static const WeftWaiterOps lock_waiter_ops = {
  .dropped = lock_waiter_dropped,
};

/* Gives the lock to @waiter: a Condition waiter whose cancellation was held
 * back until it got the lock raises it now.
 */
static void
grant (WeftWaiter *waiter)
{
  GError *error = NULL;

  if (waiter->cancel_requested)
    error = weft_cancelled_error_new (waiter->cancel_message);
  weft_waiter_wake (waiter, NULL, error);
}

/* Releases the lock: to the first waiter if there is one. */
void
weft_lock_hand_over (WeftLock *self)
{
  if (self->waiters.head != NULL)
    grant (self->waiters.head);
  else
    self->locked = FALSE;
}

/* Acquires the lock for @waiter: at once if it is free, else in turn. */
void
weft_lock_enqueue (WeftLock   *self,
                   WeftWaiter *waiter)
{
  if (!self->locked)
    {
      self->locked = TRUE;
      grant (waiter);
    }
  else
    weft_wait_list_push (&self->waiters, waiter);
}

static void
weft_lock_finalize (GObject *object)
{
  WeftLock *self = WEFT_LOCK (object);

  weft_wait_list_detach_all (&self->waiters);

  G_OBJECT_CLASS (weft_lock_parent_class)->finalize (object);
}

static void
weft_lock_class_init (WeftLockClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = weft_lock_finalize;
}

static void
weft_lock_init (WeftLock *self)
{
}

/**
 * weft_lock_new:
 *
 * Creates an unlocked lock.
 *
 * Returns: (transfer full): a new lock
 */
WeftLock *
weft_lock_new (void)
{
  return g_object_new (WEFT_TYPE_LOCK, NULL);
}

/**
 * weft_lock_is_locked:
 * @self: a lock
 *
 * asyncio's locked().
 *
 * Returns: %TRUE if a task holds the lock
 */
gboolean
weft_lock_is_locked (WeftLock *self)
{
  g_return_val_if_fail (WEFT_IS_LOCK (self), FALSE);

  return self->locked;
}

/**
 * weft_lock_try_acquire:
 * @self: a lock
 *
 * Takes the lock if it is free, without suspending: the path asyncio's
 * acquire() takes when it does not need to wait.
 *
 * Returns: %TRUE if the caller now holds the lock
 */
gboolean
weft_lock_try_acquire (WeftLock *self)
{
  g_return_val_if_fail (WEFT_IS_LOCK (self), FALSE);

  if (self->locked)
    return FALSE;
  self->locked = TRUE;
  return TRUE;
}

/**
 * weft_lock_acquire:
 * @self: a lock
 *
 * asyncio's acquire(): a future that finishes, without a value, once the
 * caller holds the lock. If the lock is free it is taken now and the
 * future is already finished, so awaiting it does not suspend. Await the
 * future at once: the request is queued by this call. Cancelling the
 * future (or the task awaiting it) withdraws the request.
 *
 * Returns: (transfer full): the future to await
 */
WeftFuture *
weft_lock_acquire (WeftLock *self)
{
  WeftWaiter *waiter;

  g_return_val_if_fail (WEFT_IS_LOCK (self), NULL);

  waiter = weft_waiter_borrow (self, &lock_waiter_ops);
  weft_lock_enqueue (self, waiter);

  return (WeftFuture *) waiter;
}

/**
 * weft_lock_release:
 * @self: a lock
 * @error: return location for an error
 *
 * Releases the lock, handing it to the first waiting task if any.
 *
 * Returns: %TRUE, or %FALSE with %WEFT_ERROR_INVALID_STATE if the lock was
 *   not locked (asyncio's RuntimeError)
 */
gboolean
weft_lock_release (WeftLock  *self,
                   GError   **error)
{
  g_return_val_if_fail (WEFT_IS_LOCK (self), FALSE);

  if (!self->locked)
    {
      g_set_error_literal (error, WEFT_ERROR, WEFT_ERROR_INVALID_STATE,
                           "Lock is not acquired.");
      return FALSE;
    }
  weft_lock_hand_over (self);
  return TRUE;
}
