/* weft-barrier.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-barrier.h"
#include "weft-error-private.h"
#include "weft-waiter-private.h"

/**
 * WeftBarrier:
 *
 * A meeting point for a fixed number of tasks: asyncio's Barrier.
 *
 * Each party calls weft_barrier_wait(); when the last one arrives, all of
 * them resume, each with its arrival index (0 for the first) as the
 * future's 64-bit integer value. The barrier then drains: tasks arriving
 * before every released party has resumed wait for the next round.
 *
 * weft_barrier_reset() and weft_barrier_abort() make the parties waiting
 * fail with %WEFT_ERROR_BROKEN_BARRIER; after an abort the barrier stays
 * broken (every wait fails) until it is reset. A waiting party that is
 * cancelled leaves the barrier, as in asyncio.
 *
 * A barrier belongs to the thread that runs its #GMainContext.
 */

typedef enum
{
  STATE_FILLING,
  STATE_DRAINING,
  STATE_RESETTING,
  STATE_BROKEN,
} BarrierState;

struct _WeftBarrier
{
  GObject        parent_instance;
  WeftRunnable   drain;           /* runs once the released parties resumed */
  WeftScheduler *scheduler;
  WeftWaitList   filling;         /* arrived, waiting for the others */
  WeftWaitList   blocked;         /* arrived while draining or resetting */
  guint          parties;
  guint          count;           /* parties inside, as asyncio's _count */
  guint          leaving;         /* released but not resumed yet */
  BarrierState   state;
  gboolean       drain_queued;
};

G_DEFINE_FINAL_TYPE (WeftBarrier, weft_barrier, G_TYPE_OBJECT)

static void admit (WeftBarrier *self,
                   WeftWaiter  *waiter);

static GError *
broken_error (const char *message)
{
  return g_error_new_literal (WEFT_ERROR, WEFT_ERROR_BROKEN_BARRIER, message);
}

/* asyncio's _exit(): the last party out ends the draining or resetting,
 * and the tasks blocked meanwhile come in.
 */
static void
leave (WeftBarrier *self)
{
  WeftWaitList blocked;

  if (self->count > 0)
    return;
  if (self->state == STATE_DRAINING || self->state == STATE_RESETTING)
    self->state = STATE_FILLING;

  blocked = self->blocked;
  self->blocked = (WeftWaitList) { NULL, };
  for (WeftWaiter *waiter = blocked.head; waiter != NULL;)
    {
      WeftWaiter *next = waiter->next;

      waiter->list = NULL;
      waiter->prev = waiter->next = NULL;
      admit (self, waiter);
      if (!waiter->in_slot)
        g_object_unref (waiter);   /* the old list's reference */
      waiter = next;
    }
}

static void
drain (WeftRunnable *runnable)
{
  WeftBarrier *self = G_STRUCT_MEMBER_P (runnable, -G_STRUCT_OFFSET (WeftBarrier, drain));

  self->drain_queued = FALSE;
  self->count -= self->leaving;
  self->leaving = 0;
  leave (self);
  g_object_unref (self);
}

/* Releases the filling parties, with their index or @message as a broken
 * barrier error. They leave when they resume: a pass later.
 */
static void
release_filling (WeftBarrier *self,
                 const char  *message)
{
  while (self->filling.head != NULL)
    {
      WeftWaiter *waiter = self->filling.head;

      self->leaving++;
      if (message != NULL)
        weft_waiter_wake (waiter, NULL, broken_error (message));
      else
        weft_waiter_wake_int64 (waiter, waiter->number);
    }

  if (self->leaving > 0 && !self->drain_queued)
    {
      self->drain_queued = TRUE;
      weft_scheduler_push (self->scheduler, &self->drain);
      g_object_ref (self);
    }
}

/* asyncio's wait(): _block(), then either _release() or _wait(). */
static void
admit (WeftBarrier *self,
       WeftWaiter  *waiter)
{
  guint index;

  if (self->state == STATE_DRAINING || self->state == STATE_RESETTING)
    {
      waiter->number = -1;
      weft_wait_list_push (&self->blocked, waiter);
      return;
    }
  if (self->state == STATE_BROKEN)
    {
      weft_waiter_wake (waiter, NULL, broken_error ("Barrier aborted"));
      return;
    }

  index = self->count++;
  if (index + 1 < self->parties)
    {
      waiter->number = index;
      weft_wait_list_push (&self->filling, waiter);
      return;
    }

  self->state = STATE_DRAINING;
  release_filling (self, NULL);
  weft_waiter_wake_int64 (waiter, index);
  self->count--;
  leave (self);
}

/* A filling party that is cancelled leaves; a blocked one never came in. */
static void
barrier_waiter_cancelled (WeftWaiter *waiter)
{
  WeftBarrier *self = waiter->owner;

  if (waiter->number >= 0)
    {
      self->count--;
      leave (self);
    }
}

static const WeftWaiterOps barrier_waiter_ops = {
  .cancelled = barrier_waiter_cancelled,
};

static void
weft_barrier_finalize (GObject *object)
{
  WeftBarrier *self = WEFT_BARRIER (object);

  weft_wait_list_detach_all (&self->filling);
  weft_wait_list_detach_all (&self->blocked);
  weft_scheduler_release_context (self->scheduler);

  G_OBJECT_CLASS (weft_barrier_parent_class)->finalize (object);
}

static void
weft_barrier_class_init (WeftBarrierClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = weft_barrier_finalize;
}

static void
weft_barrier_init (WeftBarrier *self)
{
  self->drain.run = drain;
  self->scheduler = weft_scheduler_get_thread_default ();
  weft_scheduler_hold_context (self->scheduler);
}

/**
 * weft_barrier_new:
 * @parties: how many tasks meet at the barrier; at least 1
 *
 * Creates a barrier bound to the thread-default #GMainContext.
 *
 * Returns: (transfer full): a new barrier
 */
WeftBarrier *
weft_barrier_new (guint parties)
{
  WeftBarrier *self;

  g_return_val_if_fail (parties >= 1, NULL);

  self = g_object_new (WEFT_TYPE_BARRIER, NULL);
  self->parties = parties;
  return self;
}

/**
 * weft_barrier_wait:
 * @self: a barrier
 *
 * asyncio's wait(): a future that finishes with the caller's arrival index
 * (a 64-bit integer) once all parties arrived, or fails with
 * %WEFT_ERROR_BROKEN_BARRIER if the barrier is or gets broken or reset.
 * The last party's future is already finished. Await it at once;
 * cancelling it (or the task awaiting it) leaves the barrier.
 *
 * Returns: (transfer full): the future to await
 */
WeftFuture *
weft_barrier_wait (WeftBarrier *self)
{
  WeftWaiter *waiter;

  g_return_val_if_fail (WEFT_IS_BARRIER (self), NULL);

  waiter = weft_waiter_borrow (self, &barrier_waiter_ops);
  admit (self, waiter);
  return (WeftFuture *) waiter;
}

/**
 * weft_barrier_reset:
 * @self: a barrier
 *
 * Returns the barrier to its empty state; the parties waiting fail with
 * %WEFT_ERROR_BROKEN_BARRIER. Also repairs a broken barrier.
 */
void
weft_barrier_reset (WeftBarrier *self)
{
  g_return_if_fail (WEFT_IS_BARRIER (self));

  if (self->count > 0)
    {
      self->state = STATE_RESETTING;
      release_filling (self, "Abort or reset of barrier");
    }
  else
    {
      self->state = STATE_FILLING;
      leave (self);
    }
}

/**
 * weft_barrier_abort:
 * @self: a barrier
 *
 * Breaks the barrier: the parties waiting, and every later wait, fail with
 * %WEFT_ERROR_BROKEN_BARRIER until weft_barrier_reset().
 */
void
weft_barrier_abort (WeftBarrier *self)
{
  g_return_if_fail (WEFT_IS_BARRIER (self));

  self->state = STATE_BROKEN;
  release_filling (self, "Abort or reset of barrier");
  while (self->blocked.head != NULL)
    weft_waiter_wake (self->blocked.head, NULL, broken_error ("Barrier aborted"));
}

/**
 * weft_barrier_get_parties:
 * @self: a barrier
 *
 * asyncio's parties.
 *
 * Returns: the number of parties
 */
guint
weft_barrier_get_parties (WeftBarrier *self)
{
  g_return_val_if_fail (WEFT_IS_BARRIER (self), 0);

  return self->parties;
}

/**
 * weft_barrier_get_n_waiting:
 * @self: a barrier
 *
 * asyncio's n_waiting.
 *
 * Returns: the number of parties waiting while the barrier fills, 0
 *   otherwise
 */
guint
weft_barrier_get_n_waiting (WeftBarrier *self)
{
  g_return_val_if_fail (WEFT_IS_BARRIER (self), 0);

  return self->state == STATE_FILLING ? self->count : 0;
}

/**
 * weft_barrier_is_broken:
 * @self: a barrier
 *
 * asyncio's broken.
 *
 * Returns: %TRUE if the barrier was aborted and not reset since
 */
gboolean
weft_barrier_is_broken (WeftBarrier *self)
{
  g_return_val_if_fail (WEFT_IS_BARRIER (self), FALSE);

  return self->state == STATE_BROKEN;
}
