/* weft-event.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-event.h"
#include "weft-waiter-private.h"

/**
 * WeftEvent:
 *
 * A flag tasks can wait for: asyncio's Event.
 *
 * weft_event_wait() gives a future that finishes once the event is set;
 * weft_event_set() wakes every waiting task, in the order they started
 * waiting, and weft_event_clear() resets the flag.
 *
 * Like every Weft synchronization primitive, an event belongs to the
 * thread that runs its #GMainContext. Inside a task, waiting allocates
 * nothing once the task has waited before: the future is one the task
 * reuses.
 */

struct _WeftEvent
{
  GObject       parent_instance;
  WeftWaitList  waiters;
  gboolean      is_set;
};

G_DEFINE_FINAL_TYPE (WeftEvent, weft_event, G_TYPE_OBJECT)

static void
weft_event_finalize (GObject *object)
{
  WeftEvent *self = WEFT_EVENT (object);

  weft_wait_list_detach_all (&self->waiters);

  G_OBJECT_CLASS (weft_event_parent_class)->finalize (object);
}

static void
weft_event_class_init (WeftEventClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = weft_event_finalize;
}

static void
weft_event_init (WeftEvent *self)
{
}

/**
 * weft_event_new:
 *
 * Creates an event that is not set.
 *
 * Returns: (transfer full): a new event
 */
WeftEvent *
weft_event_new (void)
{
  return g_object_new (WEFT_TYPE_EVENT, NULL);
}

/**
 * weft_event_is_set:
 * @self: an event
 *
 * asyncio's is_set().
 *
 * Returns: %TRUE if the event is set
 */
gboolean
weft_event_is_set (WeftEvent *self)
{
  g_return_val_if_fail (WEFT_IS_EVENT (self), FALSE);

  return self->is_set;
}

/**
 * weft_event_set:
 * @self: an event
 *
 * Sets the event and wakes every task waiting for it, in the order they
 * started waiting. Tasks that wait from now on until weft_event_clear()
 * do not suspend.
 */
void
weft_event_set (WeftEvent *self)
{
  g_return_if_fail (WEFT_IS_EVENT (self));

  if (self->is_set)
    return;

  self->is_set = TRUE;
  while (self->waiters.head != NULL)
    weft_waiter_wake (self->waiters.head, NULL, NULL);
}

/**
 * weft_event_clear:
 * @self: an event
 *
 * Resets the event: waiting suspends again until weft_event_set().
 */
void
weft_event_clear (WeftEvent *self)
{
  g_return_if_fail (WEFT_IS_EVENT (self));

  self->is_set = FALSE;
}

/**
 * weft_event_wait:
 * @self: an event
 *
 * asyncio's wait(): a future that finishes, without a value, once the
 * event is set. It is already finished if the event is set, so awaiting
 * it does not suspend. Await it at once: the wait is queued by this call.
 * Cancelling the future (or the task awaiting it) withdraws the wait.
 *
 * Returns: (transfer full): the future to await
 */
WeftFuture *
weft_event_wait (WeftEvent *self)
{
  WeftWaiter *waiter;

  g_return_val_if_fail (WEFT_IS_EVENT (self), NULL);

  waiter = weft_waiter_borrow (self, NULL);
  if (self->is_set)
    weft_future_complete ((WeftFuture *) waiter, NULL, NULL);
  else
    weft_wait_list_push (&self->waiters, waiter);

  return (WeftFuture *) waiter;
}
