/* weft-waiter-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "weft-future-private.h"

G_BEGIN_DECLS

/* The future a task awaits while it waits on a synchronization primitive.
 *
 * A waiter sits in its primitive's FIFO through links of its own, so
 * queueing one allocates nothing, and inside a task it is one of the
 * task's two reusable wait slots, so in the steady state no wait allocates
 * at all. Waking a waiter completes it, which queues the waiting task.
 *
 * A primitive is driven from the thread that runs its context, as asyncio's
 * are: waiters are woken and cancelled there.
 */

#define WEFT_TYPE_WAITER (weft_waiter_get_type ())

G_DECLARE_FINAL_TYPE (WeftWaiter, weft_waiter, WEFT, WAITER, WeftFuture)

typedef struct _WeftWaitList WeftWaitList;

/* A FIFO of waiters. The list holds a reference on each waiter, except on
 * those a task's wait slot keeps alive.
 */
struct _WeftWaitList
{
  WeftWaiter *head;
  WeftWaiter *tail;
  guint       length;
};

typedef struct
{
  /* Takes over the cancellation of a linked waiter (a Condition waiter
   * must get its lock back before it may end); %NULL: the waiter is
   * cancelled, unlinked, then @cancelled is called.
   */
  gboolean (*cancel)    (WeftWaiter *waiter,
                         const char *message);
  /* A pending waiter was cancelled and taken off its list. */
  void     (*cancelled) (WeftWaiter *waiter);
  /* The waiter was woken, but its task is being cancelled instead of
   * resuming with the value (T8b): undo what the wake-up handed over.
   */
  void     (*dropped)   (WeftWaiter *waiter);
} WeftWaiterOps;

struct _WeftWaiter
{
  WeftFuture           parent_instance;
  WeftWaiter          *prev;
  WeftWaiter          *next;
  WeftWaitList        *list;             /* the list it waits in, or NULL */
  const WeftWaiterOps *ops;
  gpointer             owner;            /* the primitive; referenced while holds_owner */
  gpointer             item;             /* a queue item travelling with it */
  gint64               number;           /* a priority, a barrier index */
  guint64              seq;              /* a queue item's arrival order */
  WeftRunnable         resumed;          /* runs just before the tasks it woke resume */
  char                *cancel_message;   /* a cancellation held back by @ops->cancel */
  guint                cancel_requested : 1;
  guint                in_slot : 1;      /* a task's wait slot owns it */
  guint                holds_owner : 1;
  guint                reserved : 1;     /* a queue item counts in the queue until @resumed */
};

/* Internal: calls between the primitives' files skip the PLT. */
G_GNUC_INTERNAL
WeftWaiter *weft_waiter_borrow        (gpointer             owner,
                                       const WeftWaiterOps *ops);
G_GNUC_INTERNAL
void        weft_waiter_wake          (WeftWaiter          *self,
                                       GValue              *value,
                                       GError              *error);
G_GNUC_INTERNAL
void        weft_waiter_wake_pointer  (WeftWaiter          *self,
                                       gpointer             pointer);
G_GNUC_INTERNAL
void        weft_waiter_wake_int64    (WeftWaiter          *self,
                                       gint64               number);
G_GNUC_INTERNAL
void        weft_waiter_hold_owner    (WeftWaiter          *self);
G_GNUC_INTERNAL
gboolean    weft_waiter_cancel_default (WeftWaiter         *self,
                                        const char         *message);

G_GNUC_INTERNAL
void        weft_wait_list_push       (WeftWaitList        *list,
                                       WeftWaiter          *waiter);
G_GNUC_INTERNAL
void        weft_wait_list_remove     (WeftWaiter          *waiter);
G_GNUC_INTERNAL
void        weft_wait_list_detach_all (WeftWaitList        *list);

static inline gboolean
weft_wait_list_is_empty (const WeftWaitList *list)
{
  return list->head == NULL;
}

G_END_DECLS
