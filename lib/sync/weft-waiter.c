/* weft-waiter.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "weft-error-private.h"
#include "weft-task-private.h"
#include "weft-waiter-private.h"

G_DEFINE_FINAL_TYPE (WeftWaiter, weft_waiter, WEFT_TYPE_FUTURE)

static void
unlink_waiter (WeftWaiter *self)
{
  WeftWaitList *list = self->list;

  if (self->prev != NULL)
    self->prev->next = self->next;
  else
    list->head = self->next;
  if (self->next != NULL)
    self->next->prev = self->prev;
  else
    list->tail = self->prev;
  list->length--;
  self->prev = self->next = NULL;
  self->list = NULL;
}

void
weft_wait_list_push (WeftWaitList *list,
                     WeftWaiter   *waiter)
{
  g_assert (waiter->list == NULL);

  if (!waiter->in_slot)
    g_object_ref (waiter);
  waiter->list = list;
  waiter->next = NULL;
  waiter->prev = list->tail;
  if (list->tail != NULL)
    list->tail->next = waiter;
  else
    list->head = waiter;
  list->tail = waiter;
  list->length++;
}

/* Drops the list's reference: the caller must hold one of its own. */
void
weft_wait_list_remove (WeftWaiter *waiter)
{
  if (waiter->list == NULL)
    return;
  unlink_waiter (waiter);
  if (!waiter->in_slot)
    g_object_unref (waiter);
}

/* For a primitive going away: its waiters stay pending, as a coroutine
 * waiting on an Event nobody can set any more does.
 */
void
weft_wait_list_detach_all (WeftWaitList *list)
{
  while (list->head != NULL)
    {
      WeftWaiter *waiter = list->head;

      unlink_waiter (waiter);
      waiter->owner = NULL;
      waiter->ops = NULL;
      if (!waiter->in_slot)
        g_object_unref (waiter);
    }
}

/* Keeps @self's primitive alive while it may still be called back about
 * @self once off its list: to take back what it handed over (T8b), or for
 * a Condition waiter queued on the lock. Only its waiting list refers to
 * the primitive otherwise, while asyncio's waiting coroutine holds it.
 * A task's wait slot keeps the reference for its next wait on the same
 * primitive, so that waits in a loop do not pay for it each time.
 */
void
weft_waiter_hold_owner (WeftWaiter *self)
{
  if (self->holds_owner)
    return;
  g_object_ref (self->owner);
  self->holds_owner = TRUE;
}

static void
release_owner (WeftWaiter *self)
{
  if (!self->holds_owner)
    return;
  self->holds_owner = FALSE;
  g_object_unref (self->owner);
}

/* Takes @self off its list, if any, and completes it with @value or
 * @error (both taken).
 */
void
weft_waiter_wake (WeftWaiter *self,
                  GValue     *value,
                  GError     *error)
{
  gboolean list_ref = self->list != NULL && !self->in_slot;

  if (self->list != NULL)
    {
      /* Its task may resume after the primitive's last reference went,
       * and drop the hand-over (T8b). A waiter done at once never
       * suspends its task, so it is never dropped.
       */
      if (error == NULL && self->ops != NULL && self->ops->dropped != NULL)
        weft_waiter_hold_owner (self);
      unlink_waiter (self);
    }
  weft_future_complete ((WeftFuture *) self, value, error);
  if (list_ref)
    g_object_unref (self);
}

/* Scalars own nothing: filling the GValue by hand spares g_value_init()'s
 * type checks on the hot path.
 */
void
weft_waiter_wake_pointer (WeftWaiter *self,
                          gpointer    pointer)
{
  GValue value = G_VALUE_INIT;

  value.g_type = G_TYPE_POINTER;
  value.data[0].v_pointer = pointer;
  weft_waiter_wake (self, &value, NULL);
}

void
weft_waiter_wake_int64 (WeftWaiter *self,
                        gint64      number)
{
  GValue value = G_VALUE_INIT;

  value.g_type = G_TYPE_INT64;
  value.data[0].v_int64 = number;
  weft_waiter_wake (self, &value, NULL);
}

/* Cancels @self and takes it off its list, then tells its primitive. */
gboolean
weft_waiter_cancel_default (WeftWaiter *self,
                            const char *message)
{
  const WeftWaiterOps *ops = self->ops;

  if (!weft_future_complete (WEFT_FUTURE (self), NULL, weft_cancelled_error_new (message)))
    return FALSE;

  if (self->list != NULL)
    {
      g_object_ref (self);
      weft_wait_list_remove (self);
      if (ops != NULL && ops->cancelled != NULL)
        ops->cancelled (self);
      g_object_unref (self);
    }
  return TRUE;
}

static gboolean
weft_waiter_cancel (WeftFuture *future,
                    const char *message)
{
  WeftWaiter *self = (WeftWaiter *) future;

  if (self->list != NULL && self->ops != NULL && self->ops->cancel != NULL)
    return self->ops->cancel (self, message);
  return weft_waiter_cancel_default (self, message);
}

static void
weft_waiter_dropped (WeftFuture *future)
{
  WeftWaiter *self = (WeftWaiter *) future;
  const WeftWaiterOps *ops = self->ops;

  /* Once: another task awaiting the same future must not hand it back
   * again.
   */
  self->ops = NULL;
  if (ops != NULL && ops->dropped != NULL)
    ops->dropped (self);
}

static void
weft_waiter_finalize (GObject *object)
{
  WeftWaiter *self = (WeftWaiter *) object;

  /* A task that ended without awaiting the wait it started. */
  if (self->list != NULL)
    {
      const WeftWaiterOps *ops = self->ops;

      unlink_waiter (self);
      if (ops != NULL && ops->cancelled != NULL)
        ops->cancelled (self);
    }
  g_free (self->cancel_message);
  release_owner (self);

  G_OBJECT_CLASS (weft_waiter_parent_class)->finalize (object);
}

static void
weft_waiter_class_init (WeftWaiterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  WeftFutureClass *future_class = WEFT_FUTURE_CLASS (klass);

  object_class->finalize = weft_waiter_finalize;
  future_class->cancel = weft_waiter_cancel;
  weft_future_type_set_drop_func (WEFT_TYPE_WAITER, weft_waiter_dropped);
}

static void
weft_waiter_init (WeftWaiter *self)
{
  /* Only its primitive completes it. */
  weft_future_forbid_setters (WEFT_FUTURE (self));
}

static void
prepare (WeftWaiter          *self,
         gpointer             owner,
         const WeftWaiterOps *ops)
{
  if (owner != self->owner)
    release_owner (self);
  self->owner = owner;
  self->ops = ops;
  self->item = NULL;
  self->number = 0;
  self->seq = 0;
  self->cancel_requested = FALSE;
  g_clear_pointer (&self->cancel_message, g_free);
}

/*
 * weft_waiter_borrow:
 *
 * Gets a pending waiter for @owner: inside a task, one of the task's wait
 * slots made pending again if nothing but the task holds it; otherwise a
 * new one. Reuse never shows: a waiter anyone else still references is
 * left alone. The slot keeps its own reference.
 *
 * Returns: (transfer full): a pending waiter
 */
/* A new waiter for a wait slot: the slot's reference, and the caller's. */
static WeftWaiter *
new_slot_waiter (void)
{
  WeftWaiter *waiter = g_object_new (WEFT_TYPE_WAITER, NULL);

  waiter->in_slot = TRUE;
  return g_object_ref (waiter);
}

WeftWaiter *
weft_waiter_borrow (gpointer             owner,
                    const WeftWaiterOps *ops)
{
  WeftTask *task = weft_task_get_current ();
  WeftFuture **slots;
  WeftWaiter *waiter = NULL;

  if (task == NULL)
    {
      waiter = g_object_new (WEFT_TYPE_WAITER, NULL);
      prepare (waiter, owner, ops);
      return waiter;
    }

  slots = weft_task_get_wait_slots (task);
  for (guint i = 0; i < WEFT_TASK_N_WAIT_SLOTS && waiter == NULL; i++)
    {
      if (slots[i] == NULL)
        slots[i] = (WeftFuture *) new_slot_waiter ();
      else if (!weft_future_try_reuse (slots[i]))
        continue;
      waiter = (WeftWaiter *) slots[i];
    }

  /* Every slot is still held elsewhere: replace the oldest. */
  if (waiter == NULL)
    {
      WeftWaiter *evicted = (WeftWaiter *) slots[0];

      /* A linked waiter's list takes over the slot's reference. */
      evicted->in_slot = FALSE;
      if (evicted->list == NULL)
        g_object_unref (evicted);
      memmove (slots, slots + 1, (WEFT_TASK_N_WAIT_SLOTS - 1) * sizeof *slots);
      waiter = new_slot_waiter ();
      slots[WEFT_TASK_N_WAIT_SLOTS - 1] = (WeftFuture *) waiter;
    }

  prepare (waiter, owner, ops);
  return waiter;
}
