/* weft-condition.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-condition.h"
#include "weft-error-private.h"
#include "weft-lock-private.h"

/**
 * WeftCondition:
 *
 * A condition variable for tasks: asyncio's Condition.
 *
 * Tasks hold the condition's lock (weft_condition_get_lock()) around
 * weft_condition_wait() and the notify calls. weft_condition_wait()
 * releases the lock and gives a future that finishes once the task was
 * notified and holds the lock again.
 *
 * As in asyncio, the lock is held again however the wait ends: a task
 * cancelled while waiting first gets the lock back, then its future is
 * cancelled. A cancelled waiter passes its notification on to the next
 * waiter, so none is lost (a spurious wake-up may result, which condition
 * variables allow).
 *
 * The lock is acquired and released through the #WeftLock functions:
 * asyncio's Condition.acquire(), release() and locked().
 */

struct _WeftCondition
{
  GObject       parent_instance;
  WeftLock     *lock;
  WeftWaitList  waiters;   /* notified waiters move to the lock's list */
};

G_DEFINE_FINAL_TYPE (WeftCondition, weft_condition, G_TYPE_OBJECT)

/* Sends @waiter, off the condition's list, to reacquire the lock. */
static void
reacquire (WeftCondition *self,
           WeftWaiter    *waiter)
{
  g_object_ref (waiter);
  weft_wait_list_remove (waiter);
  weft_waiter_hold_owner (waiter);
  weft_lock_enqueue (self->lock, waiter);
  g_object_unref (waiter);
}

static void
notify_waiters (WeftCondition *self,
                guint          n)
{
  for (guint i = 0; i < n && self->waiters.head != NULL; i++)
    reacquire (self, self->waiters.head);
}

/* asyncio's wait() catches the CancelledError and reacquires the lock
 * before raising it (the most recent one): the cancellation is held back
 * until the lock is granted, then it cancels the future.
 */
static gboolean
condition_waiter_cancel (WeftWaiter *waiter,
                         const char *message)
{
  WeftCondition *self = waiter->owner;
  gboolean first = !waiter->cancel_requested;

  waiter->cancel_requested = TRUE;
  g_free (waiter->cancel_message);
  waiter->cancel_message = g_strdup (message);

  if (waiter->list == &self->waiters)
    reacquire (self, waiter);

  /* Whether or not it had been notified, pass a notification on. */
  if (first)
    notify_waiters (self, 1);

  return TRUE;
}

/* Notified and holding the lock, but cancelled before it resumed: it keeps
 * the lock, as asyncio's wait() does, and passes the notification on.
 */
static void
condition_waiter_dropped (WeftWaiter *waiter)
{
  notify_waiters (waiter->owner, 1);
}

static const WeftWaiterOps condition_waiter_ops = {
  .cancel = condition_waiter_cancel,
  .dropped = condition_waiter_dropped,
};

static void
weft_condition_finalize (GObject *object)
{
  WeftCondition *self = WEFT_CONDITION (object);

  weft_wait_list_detach_all (&self->waiters);
  g_clear_object (&self->lock);

  G_OBJECT_CLASS (weft_condition_parent_class)->finalize (object);
}

static void
weft_condition_class_init (WeftConditionClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = weft_condition_finalize;
}

static void
weft_condition_init (WeftCondition *self)
{
}

/**
 * weft_condition_new:
 * @lock: (nullable): the lock to use, or %NULL for a new one
 *
 * Creates a condition variable.
 *
 * Returns: (transfer full): a new condition
 */
WeftCondition *
weft_condition_new (WeftLock *lock)
{
  WeftCondition *self;

  g_return_val_if_fail (lock == NULL || WEFT_IS_LOCK (lock), NULL);

  self = g_object_new (WEFT_TYPE_CONDITION, NULL);
  self->lock = lock != NULL ? g_object_ref (lock) : weft_lock_new ();
  return self;
}

/**
 * weft_condition_get_lock:
 * @self: a condition
 *
 * Gets the condition's lock; acquire and release it with the #WeftLock
 * functions.
 *
 * Returns: (transfer none): the lock
 */
WeftLock *
weft_condition_get_lock (WeftCondition *self)
{
  g_return_val_if_fail (WEFT_IS_CONDITION (self), NULL);

  return self->lock;
}

/**
 * weft_condition_wait:
 * @self: a condition whose lock the caller holds
 * @error: return location for an error
 *
 * asyncio's wait(): releases the lock and gives a future that finishes,
 * without a value, once the caller was notified and holds the lock again.
 * If the wait is cancelled the future is cancelled, but only once the
 * lock is held again. Await the future at once.
 *
 * Returns: (transfer full) (nullable): the future to await, or %NULL with
 *   %WEFT_ERROR_INVALID_STATE if the lock is not locked
 */
WeftFuture *
weft_condition_wait (WeftCondition  *self,
                     GError        **error)
{
  WeftWaiter *waiter;

  g_return_val_if_fail (WEFT_IS_CONDITION (self), NULL);

  if (!weft_lock_is_locked (self->lock))
    {
      g_set_error_literal (error, WEFT_ERROR, WEFT_ERROR_INVALID_STATE,
                           "cannot wait on un-acquired lock");
      return NULL;
    }

  waiter = weft_waiter_borrow (self, &condition_waiter_ops);
  weft_wait_list_push (&self->waiters, waiter);
  weft_lock_hand_over (self->lock);

  return (WeftFuture *) waiter;
}

static gboolean
check_locked (WeftCondition  *self,
              GError        **error)
{
  if (weft_lock_is_locked (self->lock))
    return TRUE;
  g_set_error_literal (error, WEFT_ERROR, WEFT_ERROR_INVALID_STATE,
                       "cannot notify on un-acquired lock");
  return FALSE;
}

/**
 * weft_condition_notify:
 * @self: a condition whose lock the caller holds
 * @n: how many waiters to wake at most
 * @error: return location for an error
 *
 * Wakes the first @n waiting tasks; each resumes once it gets the lock.
 *
 * Returns: %TRUE, or %FALSE with %WEFT_ERROR_INVALID_STATE if the lock is
 *   not locked
 */
gboolean
weft_condition_notify (WeftCondition  *self,
                       guint           n,
                       GError        **error)
{
  g_return_val_if_fail (WEFT_IS_CONDITION (self), FALSE);

  if (!check_locked (self, error))
    return FALSE;
  notify_waiters (self, n);
  return TRUE;
}

/**
 * weft_condition_notify_all:
 * @self: a condition whose lock the caller holds
 * @error: return location for an error
 *
 * Wakes every waiting task; see weft_condition_notify().
 *
 * Returns: %TRUE, or %FALSE with %WEFT_ERROR_INVALID_STATE if the lock is
 *   not locked
 */
gboolean
weft_condition_notify_all (WeftCondition  *self,
                           GError        **error)
{
  g_return_val_if_fail (WEFT_IS_CONDITION (self), FALSE);

  if (!check_locked (self, error))
    return FALSE;
  notify_waiters (self, self->waiters.length);
  return TRUE;
}
