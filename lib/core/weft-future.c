/* weft-future.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>
#include <string.h>

#include <gio/gio.h>

#include "weft-context-private.h"
#include "weft-error-private.h"
#include "weft-future-private.h"
#include "weft-inspect-hooks-private.h"
#include "weft-spinlock-private.h"

/**
 * WeftFuture:
 *
 * The outcome of an operation that has not finished yet: asyncio's Future.
 *
 * A future is bound to the thread-default #GMainContext of the thread that
 * created it. It ends with a value (any #GValue), an error, or cancelled
 * (%G_IO_ERROR_CANCELLED). Done callbacks are never called inline: they are
 * queued on the future's context when it completes, in the order they were
 * added. A future may be completed or cancelled from any thread.
 *
 * Tasks await futures; see #WeftTask.
 */

typedef struct _DoneCallback DoneCallback;

struct _DoneCallback
{
  WeftRunnable        runnable;  /* first: the ready queue hands us this */
  WeftFuture         *future;    /* referenced once queued */
  WeftFutureCallback  callback;
  gpointer            user_data;
  GDestroyNotify      notify;
  WeftContextMap     *context_map; /* CV2: what was current when it was added */
};

typedef struct
{
  WeftScheduler  *scheduler;
  WeftRunnable   *done_tail;     /* task wake-ups and DoneCallbacks, in order;
                                  * circular, so the tail also finds the head */
  GValue          value;
  GError         *error;         /* also the cancellation, as G_IO_ERROR_CANCELLED */
  WeftSpinlock    lock;          /* guards state and the done list */
  guint8          state;
  guint8          setters_forbidden : 1;
  gboolean        error_retrieved;  /* atomic: any thread may cancel */
} WeftFuturePrivate;

G_DEFINE_TYPE_WITH_PRIVATE (WeftFuture, weft_future, G_TYPE_OBJECT)

/* A pointer with its destroy notify, so that a value dropped on any path
 * (a task cancelled as it returns, say) still frees what it owns.
 */
typedef struct
{
  gatomicrefcount ref_count;
  gpointer        pointer;
  GDestroyNotify  destroy;
} OwnedPointer;

static OwnedPointer *
owned_pointer_ref (OwnedPointer *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

static void
owned_pointer_unref (OwnedPointer *self)
{
  if (g_atomic_ref_count_dec (&self->ref_count))
    {
      self->destroy (self->pointer);
      g_free (self);
    }
}

static GType owned_pointer_get_type (void);
G_DEFINE_BOXED_TYPE (OwnedPointer, owned_pointer, owned_pointer_ref, owned_pointer_unref)

void
weft_value_init_pointer (GValue         *value,
                         gpointer        pointer,
                         GDestroyNotify  destroy)
{
  OwnedPointer *owned;

  if (destroy == NULL)
    {
      g_value_init (value, G_TYPE_POINTER);
      g_value_set_pointer (value, pointer);
      return;
    }

  owned = g_new (OwnedPointer, 1);
  g_atomic_ref_count_init (&owned->ref_count);
  owned->pointer = pointer;
  owned->destroy = destroy;
  g_value_init (value, owned_pointer_get_type ());
  g_value_take_boxed (value, owned);
}

static inline void
future_lock (WeftFuturePrivate *priv)
{
  weft_spinlock_lock (&priv->lock);
}

static inline void
future_unlock (WeftFuturePrivate *priv)
{
  weft_spinlock_unlock (&priv->lock);
}

/* Fundamental types from G_TYPE_CHAR to G_TYPE_DOUBLE, and pointers; a
 * derived type (an enum of its own, say) has a larger id.
 */
static inline gboolean
value_is_scalar (const GValue *value)
{
  GType type = G_VALUE_TYPE (value);

  return (type >= G_TYPE_CHAR && type <= G_TYPE_DOUBLE) || type == G_TYPE_POINTER;
}

/* Empties @value. Scalars own nothing: unsetting them would only look up
 * their type; and G_IS_VALUE() would take the type lock, where a value in
 * use simply has a type.
 */
static inline void
value_clear (GValue *value)
{
  if (G_VALUE_TYPE (value) == G_TYPE_INVALID)
    return;
  if (!value_is_scalar (value))
    g_value_unset (value);
  memset (value, 0, sizeof *value);
}

static void
done_list_append (WeftRunnable **tail,
                  WeftRunnable  *entry)
{
  if (*tail == NULL)
    entry->next = entry;
  else
    {
      entry->next = (*tail)->next;
      (*tail)->next = entry;
    }
  *tail = entry;
}

/* Empties the list, returning it as a NULL-terminated chain. */
static WeftRunnable *
done_list_take (WeftRunnable **tail,
                WeftRunnable **last)
{
  WeftRunnable *head;

  *last = g_steal_pointer (tail);
  if (*last == NULL)
    return NULL;
  head = (*last)->next;
  (*last)->next = NULL;
  return head;
}

static void
done_callback_run (WeftRunnable *runnable)
{
  DoneCallback *entry = (DoneCallback *) runnable;
  WeftContext context;
  WeftContextSwitch saved;

  /* CV2: in a copy of the context captured when it was added, so that what
   * it sets goes nowhere: the copy lives on this stack, as nothing outside
   * can reach it.
   */
  weft_context_init_embedded (&context, NULL, g_steal_pointer (&entry->context_map));
  weft_context_switch_in (&context, &saved);
  entry->callback (entry->future, entry->user_data);
  weft_context_switch_out (&context, &saved);
  weft_context_clear_embedded (&context);

  if (entry->notify != NULL)
    entry->notify (entry->user_data);
  g_object_unref (entry->future);
  g_free (entry);
}

static void
done_callback_free (DoneCallback *entry)
{
  if (entry->notify != NULL)
    entry->notify (entry->user_data);
  weft_context_map_unref (entry->context_map);
  g_free (entry);
}

static gboolean
weft_future_real_cancel (WeftFuture *self,
                         const char *message)
{
  return weft_future_complete (self, NULL, weft_cancelled_error_new (message));
}

/* Deliberately does not chain up. GObject's dispose destroys signal
 * handlers and clears closures, weak references and weak locations, and
 * g_object_unref() does all of that again itself as soon as dispose
 * returns; the early pass only matters for queued property notifications,
 * and a future has no properties. Futures live for one await, and that
 * early pass (a lock round trip per kind of data) is an eighth of their
 * cost. test-future checks that handlers and weak references still go.
 */
static void
weft_future_dispose (GObject *object)
{
}

static void
weft_future_finalize (GObject *object)
{
  WeftFuture *self = WEFT_FUTURE (object);
  WeftFuturePrivate *priv = weft_future_get_instance_private (self);
  WeftRunnable *entry, *last;

  /* F10: an error nobody looked at is a bug being swallowed. */
  if (priv->state == WEFT_FUTURE_STATE_FINISHED && priv->error != NULL && !g_atomic_int_get (&priv->error_retrieved))
    g_warning ("%s %p finished with an error that was never retrieved: %s",
               G_OBJECT_TYPE_NAME (self), self, priv->error->message);

  /* Only DoneCallbacks can be left: a waiting task holds a reference. */
  entry = done_list_take (&priv->done_tail, &last);
  while (entry != NULL)
    {
      WeftRunnable *next = entry->next;

      done_callback_free ((DoneCallback *) entry);
      entry = next;
    }

  value_clear (&priv->value);
  g_clear_error (&priv->error);
  weft_scheduler_release_context (priv->scheduler);

  G_OBJECT_CLASS (weft_future_parent_class)->finalize (object);
}

static void
weft_future_class_init (WeftFutureClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = weft_future_dispose;
  object_class->finalize = weft_future_finalize;
  klass->cancel = weft_future_real_cancel;
}

static void
weft_future_init (WeftFuture *self)
{
  WeftFuturePrivate *priv = weft_future_get_instance_private (self);

  /* F11: bound at construction to the thread-default context. */
  priv->scheduler = weft_scheduler_get_thread_default ();
  weft_scheduler_hold_context (priv->scheduler);
}

/**
 * weft_future_new:
 *
 * Creates a pending future bound to the thread-default #GMainContext.
 *
 * Returns: (transfer full): a new future
 */
WeftFuture *
weft_future_new (void)
{
  return g_object_new (WEFT_TYPE_FUTURE, NULL);
}

WeftFutureState
weft_future_peek_state (WeftFuture *self)
{
  WeftFuturePrivate *priv = weft_future_get_instance_private (self);

  return __atomic_load_n (&priv->state, __ATOMIC_ACQUIRE);
}

WeftScheduler *
weft_future_get_scheduler (WeftFuture *self)
{
  WeftFuturePrivate *priv = weft_future_get_instance_private (self);

  return priv->scheduler;
}

/* T5: a task's outcome comes from its coroutine, never from outside. */
void
weft_future_forbid_setters (WeftFuture *self)
{
  WeftFuturePrivate *priv = weft_future_get_instance_private (self);

  priv->setters_forbidden = TRUE;
}

/**
 * weft_future_get_context:
 * @self: a future
 *
 * Gets the #GMainContext the future is bound to: its done callbacks and the tasks that wait on it run there.
 *
 * Returns: (transfer none): the #GMainContext the future is bound to
 */
GMainContext *
weft_future_get_context (WeftFuture *self)
{
  g_return_val_if_fail (WEFT_IS_FUTURE (self), NULL);

  return weft_scheduler_get_context (weft_future_get_scheduler (self));
}

/**
 * weft_future_get_state:
 * @self: a future
 *
 * Gets the state of @self.
 *
 * Returns: the state of @self
 */
WeftFutureState
weft_future_get_state (WeftFuture *self)
{
  g_return_val_if_fail (WEFT_IS_FUTURE (self), WEFT_FUTURE_STATE_PENDING);

  return weft_future_peek_state (self);
}

/**
 * weft_future_is_done:
 * @self: a future
 *
 * Tells whether @self finished or was cancelled: asyncio's done().
 *
 * Returns: %TRUE if @self finished or was cancelled
 */
gboolean
weft_future_is_done (WeftFuture *self)
{
  return weft_future_get_state (self) != WEFT_FUTURE_STATE_PENDING;
}

/**
 * weft_future_is_cancelled:
 * @self: a future
 *
 * Tells whether @self was cancelled: asyncio's cancelled().
 *
 * Returns: %TRUE if @self was cancelled
 */
gboolean
weft_future_is_cancelled (WeftFuture *self)
{
  return weft_future_get_state (self) == WEFT_FUTURE_STATE_CANCELLED;
}

/* A thread blocked in weft_future_wait(). It sits in the done list like a
 * task's wake-up, but is woken on the completing thread instead of being
 * queued: the thread that runs the future's context may be busy, or there
 * may be none.
 */
typedef struct
{
  WeftRunnable runnable;
  GMutex       mutex;
  GCond        cond;
  gboolean     woken;   /* atomic, so that ThreadSanitizer sees the hand-off */
} BlockedThread;

static void
blocked_thread_wake (WeftRunnable *runnable)
{
  BlockedThread *blocked = (BlockedThread *) runnable;

  g_mutex_lock (&blocked->mutex);
  g_atomic_int_set (&blocked->woken, TRUE);
  g_cond_signal (&blocked->cond);
  g_mutex_unlock (&blocked->mutex);
}

/* Unlinks the blocked threads from a NULL-terminated done chain, keeping
 * the order of the rest. Returns the new head; @tail follows.
 */
static WeftRunnable *
split_off_blocked_threads (WeftRunnable  *head,
                           WeftRunnable **tail,
                           WeftRunnable **blocked)
{
  WeftRunnable **link = &head;

  *blocked = NULL;
  *tail = NULL;
  for (WeftRunnable *entry = head, *next; entry != NULL; entry = next)
    {
      next = entry->next;
      if (entry->run == blocked_thread_wake)
        {
          entry->next = *blocked;
          *blocked = entry;
          continue;
        }
      *link = entry;
      link = &entry->next;
      *tail = entry;
    }
  *link = NULL;

  return head;
}

/*
 * weft_future_complete:
 * @value: (nullable) (transfer full): the value, moved out of the GValue
 * @error: (nullable) (transfer full): the error; a cancellation error
 *   makes the future cancelled
 *
 * Completes @self and queues its done list on its context, in order.
 *
 * Returns: %FALSE, freeing @value and @error, if @self was already done
 */
static gboolean
complete_in_state (WeftFuture      *self,
                   GValue          *value,
                   GError          *error,
                   WeftFutureState  state)
{
  WeftFuturePrivate *priv = weft_future_get_instance_private (self);
  WeftRunnable *head, *tail, *blocked;

  future_lock (priv);
  if (priv->state != WEFT_FUTURE_STATE_PENDING)
    {
      future_unlock (priv);
      if (value != NULL && G_IS_VALUE (value))
        g_value_unset (value);
      g_clear_error (&error);
      return FALSE;
    }

  if (value != NULL)
    {
      priv->value = *value;
      memset (value, 0, sizeof *value);
    }
  priv->error = error;
  head = done_list_take (&priv->done_tail, &tail);
  __atomic_store_n (&priv->state, state, __ATOMIC_RELEASE);
  future_unlock (priv);

  blocked = NULL;
  if (head != NULL)
    head = split_off_blocked_threads (head, &tail, &blocked);

  /* Queued callbacks may outlive every other reference to the future. */
  for (WeftRunnable *entry = head; entry != NULL; entry = entry->next)
    if (entry->run == done_callback_run)
      ((DoneCallback *) entry)->future = g_object_ref (self);

  if (head != NULL)
    weft_scheduler_push_chain (priv->scheduler, head, tail);
  else
    /* Nothing to queue, yet the context's thread may be iterating until
     * this very future is done, as weft_run_until_complete() does.
     */
    weft_scheduler_wake_if_elsewhere (priv->scheduler);

  /* Last: a woken thread may return and free its waiter at once. */
  while (blocked != NULL)
    {
      WeftRunnable *next = blocked->next;

      blocked->run (blocked);
      blocked = next;
    }

  return TRUE;
}

gboolean
weft_future_complete (WeftFuture *self,
                      GValue     *value,
                      GError     *error)
{
  return complete_in_state (self, value, error,
                            weft_error_is_cancelled (error) ? WEFT_FUTURE_STATE_CANCELLED
                                                            : WEFT_FUTURE_STATE_FINISHED);
}

/*
 * weft_future_fail:
 * @error: (transfer full): the error
 *
 * Finishes @self with @error even when it is a cancellation: asyncio's
 * set_exception(CancelledError()), which leaves cancelled() false (GA4).
 *
 * Returns: %FALSE, freeing @error, if @self was already done
 */
gboolean
weft_future_fail (WeftFuture *self,
                  GError     *error)
{
  return complete_in_state (self, NULL, error, WEFT_FUTURE_STATE_FINISHED);
}

/*
 * weft_future_replace_outcome:
 * @error: (transfer full): the new outcome
 *
 * Replaces the value of a done future that has not been delivered yet
 * with @error: a queue get whose item went back, or was drained, before
 * the task awaiting it resumed. The callbacks already queued read @error.
 */
void
weft_future_replace_outcome (WeftFuture *self,
                             GError     *error)
{
  WeftFuturePrivate *priv = weft_future_get_instance_private (self);

  future_lock (priv);
  g_assert (priv->state != WEFT_FUTURE_STATE_PENDING);
  value_clear (&priv->value);
  g_clear_error (&priv->error);
  priv->error = error;
  g_atomic_int_set (&priv->error_retrieved, FALSE);
  __atomic_store_n (&priv->state,
                    weft_error_is_cancelled (error) ? WEFT_FUTURE_STATE_CANCELLED
                                                    : WEFT_FUTURE_STATE_FINISHED,
                    __ATOMIC_RELEASE);
  future_unlock (priv);
}

/*
 * weft_future_add_waiter:
 *
 * Appends @waiter to the done list: it is queued when @self completes.
 *
 * Returns: %FALSE if @self is already done and @waiter was not added
 */
gboolean
weft_future_add_waiter (WeftFuture   *self,
                        WeftRunnable *waiter)
{
  WeftFuturePrivate *priv = weft_future_get_instance_private (self);

  waiter->next = NULL;

  future_lock (priv);
  if (priv->state != WEFT_FUTURE_STATE_PENDING)
    {
      future_unlock (priv);
      return FALSE;
    }
  done_list_append (&priv->done_tail, waiter);
  future_unlock (priv);

  return TRUE;
}

/*
 * weft_future_remove_waiter:
 *
 * Takes @waiter off the done list, for waiters that stop waiting before
 * the future is done: a combinator's (asyncio's remove_done_callback), a
 * thread whose weft_future_wait() timed out.
 *
 * Returns: %FALSE if @waiter was not there: it has been queued (or run)
 *   since @self completed
 */
gboolean
weft_future_remove_waiter (WeftFuture   *self,
                           WeftRunnable *waiter)
{
  WeftFuturePrivate *priv = weft_future_get_instance_private (self);
  WeftRunnable *prev;
  gboolean found = FALSE;

  future_lock (priv);
  prev = priv->done_tail;
  if (prev != NULL)
    do
      {
        WeftRunnable *entry = prev->next;

        if (entry == waiter)
          {
            if (entry == prev)
              priv->done_tail = NULL;
            else
              {
                prev->next = entry->next;
                if (entry == priv->done_tail)
                  priv->done_tail = prev;
              }
            found = TRUE;
            break;
          }
        prev = entry;
      }
    while (prev != priv->done_tail);
  future_unlock (priv);

  return found;
}

/*
 * Returns: (transfer full) (nullable): a copy of the error @self ended with,
 *   marking it retrieved; %NULL if it ended with a value
 */
GError *
weft_future_take_outcome_error (WeftFuture *self)
{
  WeftFuturePrivate *priv = weft_future_get_instance_private (self);

  if (priv->error == NULL)
    return NULL;
  g_atomic_int_set (&priv->error_retrieved, TRUE);
  return g_error_copy (priv->error);
}

/* The error of a failed future that nobody read, for the inspector. */
const GError *
weft_future_peek_unread_error (WeftFuture *self)
{
  WeftFuturePrivate *priv = weft_future_get_instance_private (self);

  if (weft_future_peek_state (self) != WEFT_FUTURE_STATE_FINISHED ||
      g_atomic_int_get (&priv->error_retrieved))
    return NULL;
  return priv->error;
}

/*
 * weft_future_try_reuse:
 *
 * Makes a done future pending again, so that a waiter can be reused
 * without allocating. Only a future nobody else can see qualifies: the
 * caller holds the only reference, nothing waits on it and nothing holds
 * a weak reference to it.
 *
 * Returns: %TRUE if @self is pending again, with a new reference for the
 *   caller (taken before the reset's stores: it is cheaper that way)
 */
gboolean
weft_future_try_reuse (WeftFuture *self)
{
  WeftFuturePrivate *priv = weft_future_get_instance_private (self);

  /* Weak references, weak pointers and language bindings' data live in
   * the qdata: whoever holds one must not see a done future turn pending.
   */
  if (g_atomic_int_get (&((GObject *) self)->ref_count) != 1 ||
      ((gsize) g_atomic_pointer_get (&((GObject *) self)->qdata) & ~(gsize) G_DATALIST_FLAGS_MASK) != 0 ||
      priv->state == WEFT_FUTURE_STATE_PENDING ||
      priv->done_tail != NULL)
    return FALSE;

  /* The caller's was the only reference: there is no toggle reference to
   * notify, so g_object_ref()'s checks can be skipped.
   */
  g_atomic_int_inc (&((GObject *) self)->ref_count);

  value_clear (&priv->value);
  if (priv->error != NULL)
    g_clear_error (&priv->error);
  priv->error_retrieved = FALSE;
  priv->state = WEFT_FUTURE_STATE_PENDING;

  return TRUE;
}

static GQuark
drop_func_quark (void)
{
  static GQuark quark;

  if (G_UNLIKELY (quark == 0))
    quark = g_quark_from_static_string ("weft-future-drop-func");
  return quark;
}

void
weft_future_type_set_drop_func (GType              type,
                                WeftFutureDropFunc func)
{
  g_type_set_qdata (type, drop_func_quark (), func);
}

void
weft_future_drop_value (WeftFuture *self)
{
  WeftFutureDropFunc func = g_type_get_qdata (G_OBJECT_TYPE (self), drop_func_quark ());

  if (func != NULL)
    func (self);
}

/**
 * weft_future_cancel:
 * @self: a future
 * @message: (nullable): the cancellation message
 *
 * Cancels @self if it is pending, storing @message in the
 * %G_IO_ERROR_CANCELLED error that awaiting it raises, and queues the done
 * callbacks.
 *
 * Returns: %TRUE if @self was pending (for a task: if it accepted the
 *   request); %FALSE if it was already done
 */
gboolean
weft_future_cancel (WeftFuture *self,
                    const char *message)
{
  WeftFuturePrivate *priv;

  g_return_val_if_fail (WEFT_IS_FUTURE (self), FALSE);

  priv = weft_future_get_instance_private (self);

  /* F5: asking to cancel counts as looking at the error. */
  g_atomic_int_set (&priv->error_retrieved, TRUE);

  return WEFT_FUTURE_GET_CLASS (self)->cancel (self, message);
}

/**
 * weft_future_get_cancel_message:
 * @self: a future
 *
 * Gets the message @self was cancelled with.
 *
 * Returns: (nullable): the message @self was cancelled with, or %NULL if it
 *   is not cancelled or was cancelled without one
 */
const char *
weft_future_get_cancel_message (WeftFuture *self)
{
  WeftFuturePrivate *priv;

  g_return_val_if_fail (WEFT_IS_FUTURE (self), NULL);

  priv = weft_future_get_instance_private (self);

  if (!weft_future_is_cancelled (self))
    return NULL;
  return weft_cancelled_error_get_message (priv->error);
}

static gboolean
can_set (WeftFuture *self)
{
  WeftFuturePrivate *priv = weft_future_get_instance_private (self);

  if (priv->setters_forbidden)
    {
      g_critical ("%s does not support weft_future_set_*(): its coroutine sets its outcome",
                  G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }
  if (weft_future_peek_state (self) != WEFT_FUTURE_STATE_PENDING)
    {
      g_critical ("%s %p is already done: its outcome cannot be set again",
                  G_OBJECT_TYPE_NAME (self), self);
      return FALSE;
    }
  return TRUE;
}

/**
 * weft_future_set_value:
 * @self: a pending future
 * @value: the value; copied
 *
 * Finishes @self with @value.
 */
void
weft_future_set_value (WeftFuture   *self,
                       const GValue *value)
{
  GValue copy = G_VALUE_INIT;

  g_return_if_fail (WEFT_IS_FUTURE (self));
  g_return_if_fail (G_IS_VALUE (value));

  if (!can_set (self))
    return;

  g_value_init (&copy, G_VALUE_TYPE (value));
  g_value_copy (value, &copy);
  weft_future_complete (self, &copy, NULL);
}

#define DEFINE_SETTER(name, ctype, gtype, setter)        \
  void                                                   \
  weft_future_set_##name (WeftFuture *self,              \
                          ctype       value)             \
  {                                                      \
    GValue v = G_VALUE_INIT;                             \
                                                         \
    g_return_if_fail (WEFT_IS_FUTURE (self));            \
    if (!can_set (self))                                 \
      return;                                            \
    g_value_init (&v, gtype);                            \
    setter (&v, value);                                  \
    weft_future_complete (self, &v, NULL);               \
  }

/**
 * weft_future_set_boolean:
 * @self: a pending future
 * @value: the value
 *
 * Finishes @self with a boolean.
 */
DEFINE_SETTER (boolean, gboolean, G_TYPE_BOOLEAN, g_value_set_boolean)

/**
 * weft_future_set_int64:
 * @self: a pending future
 * @value: the value
 *
 * Finishes @self with a 64-bit integer.
 */
DEFINE_SETTER (int64, gint64, G_TYPE_INT64, g_value_set_int64)

/**
 * weft_future_set_double:
 * @self: a pending future
 * @value: the value
 *
 * Finishes @self with a double.
 */
DEFINE_SETTER (double, double, G_TYPE_DOUBLE, g_value_set_double)

/**
 * weft_future_set_string:
 * @self: a pending future
 * @value: (nullable): the string; copied
 *
 * Finishes @self with a string.
 */
DEFINE_SETTER (string, const char *, G_TYPE_STRING, g_value_set_string)

/**
 * weft_future_set_object:
 * @self: a pending future
 * @object: (type GObject) (nullable): the object; a reference is taken
 *
 * Finishes @self with an object.
 */
void
weft_future_set_object (WeftFuture *self,
                        gpointer    object)
{
  GValue v = G_VALUE_INIT;

  g_return_if_fail (WEFT_IS_FUTURE (self));
  g_return_if_fail (object == NULL || G_IS_OBJECT (object));

  if (!can_set (self))
    return;
  g_value_init (&v, object != NULL ? G_OBJECT_TYPE (object) : G_TYPE_OBJECT);
  g_value_set_object (&v, object);
  weft_future_complete (self, &v, NULL);
}

/**
 * weft_future_set_boxed:
 * @self: a pending future
 * @boxed_type: a boxed #GType
 * @boxed: (nullable): the boxed value; copied
 *
 * Finishes @self with a boxed value.
 */
void
weft_future_set_boxed (WeftFuture    *self,
                       GType          boxed_type,
                       gconstpointer  boxed)
{
  GValue v = G_VALUE_INIT;

  g_return_if_fail (WEFT_IS_FUTURE (self));
  g_return_if_fail (G_TYPE_IS_BOXED (boxed_type));

  if (!can_set (self))
    return;
  g_value_init (&v, boxed_type);
  g_value_set_boxed (&v, boxed);
  weft_future_complete (self, &v, NULL);
}

/**
 * weft_future_set_pointer: (skip)
 * @self: a pending future
 * @pointer: (nullable): the pointer
 * @destroy: (nullable): frees @pointer when the future is finalized
 *
 * Finishes @self with a pointer it owns.
 */
void
weft_future_set_pointer (WeftFuture     *self,
                         gpointer        pointer,
                         GDestroyNotify  destroy)
{
  GValue v = G_VALUE_INIT;

  g_return_if_fail (WEFT_IS_FUTURE (self));


  if (!can_set (self))
    return;
  weft_value_init_pointer (&v, pointer, destroy);
  weft_future_complete (self, &v, NULL);
}

/**
 * weft_future_set_error:
 * @self: a pending future
 * @error: (transfer full): the error
 *
 * Finishes @self with @error. A %G_IO_ERROR_CANCELLED error cancels it.
 */
void
weft_future_set_error (WeftFuture *self,
                       GError     *error)
{
  g_return_if_fail (WEFT_IS_FUTURE (self));
  g_return_if_fail (error != NULL);

  if (!can_set (self))
    {
      g_error_free (error);
      return;
    }
  weft_future_complete (self, NULL, error);
}

/**
 * weft_future_set_error_literal:
 * @self: a pending future
 * @domain: the error domain
 * @code: the error code
 * @message: the message
 *
 * Finishes @self with a new error: asyncio's set_exception(SomeClass).
 */
void
weft_future_set_error_literal (WeftFuture *self,
                               GQuark      domain,
                               int         code,
                               const char *message)
{
  g_return_if_fail (message != NULL);

  weft_future_set_error (self, g_error_new_literal (domain, code, message));
}

/**
 * weft_future_propagate:
 * @self: a future
 * @error: return location for the future's error
 *
 * Reads the outcome of @self without its value: asyncio's result() for a
 * future whose value does not matter.
 *
 * Returns: %TRUE if @self finished with a value; %FALSE with @error set if
 *   it failed, was cancelled, or is still pending (%WEFT_ERROR_INVALID_STATE)
 */
gboolean
weft_future_propagate (WeftFuture  *self,
                       GError     **error)
{
  WeftFuturePrivate *priv;

  g_return_val_if_fail (WEFT_IS_FUTURE (self), FALSE);

  priv = weft_future_get_instance_private (self);

  if (weft_future_peek_state (self) == WEFT_FUTURE_STATE_PENDING)
    {
      g_set_error_literal (error, WEFT_ERROR, WEFT_ERROR_INVALID_STATE,
                           "Result is not ready.");
      return FALSE;
    }
  if (priv->error != NULL)
    {
      g_atomic_int_set (&priv->error_retrieved, TRUE);
      g_propagate_error (error, g_error_copy (priv->error));
      return FALSE;
    }
  return TRUE;
}

/**
 * weft_future_get_value:
 * @self: a future
 * @value: (out caller-allocates): an uninitialized #GValue that receives a
 *   copy of the value; left unset if the future finished without one
 * @error: return location for the future's error
 *
 * Reads the value of a finished future: asyncio's result().
 *
 * Returns: %TRUE if @self finished with a value, see weft_future_propagate()
 */
gboolean
weft_future_get_value (WeftFuture  *self,
                       GValue      *value,
                       GError     **error)
{
  WeftFuturePrivate *priv;

  g_return_val_if_fail (WEFT_IS_FUTURE (self), FALSE);
  g_return_val_if_fail (value != NULL && !G_IS_VALUE (value), FALSE);

  if (!weft_future_propagate (self, error))
    return FALSE;
  priv = weft_future_get_instance_private (self);
  if (G_IS_VALUE (&priv->value))
    {
      g_value_init (value, G_VALUE_TYPE (&priv->value));
      g_value_copy (&priv->value, value);
    }
  return TRUE;
}

/* The value, checked to hold @type, or NULL with @error set. */
static const GValue *
peek_value_of_type (WeftFuture  *self,
                    GType        type,
                    GError     **error)
{
  WeftFuturePrivate *priv;

  if (!weft_future_propagate (self, error))
    return NULL;
  priv = weft_future_get_instance_private (self);
  if (!G_IS_VALUE (&priv->value) || !g_type_is_a (G_VALUE_TYPE (&priv->value), type))
    {
      g_set_error (error, WEFT_ERROR, WEFT_ERROR_WRONG_TYPE,
                   "The future's value is of type %s, not %s",
                   G_IS_VALUE (&priv->value) ? G_VALUE_TYPE_NAME (&priv->value) : "none",
                   g_type_name (type));
      return NULL;
    }
  return &priv->value;
}

/**
 * weft_future_get_boolean:
 * @self: a future
 * @error: return location for the future's error
 *
 * Reads the value of a future that finished with a boolean.
 *
 * Returns: the boolean value, or %FALSE with @error set
 */
gboolean
weft_future_get_boolean (WeftFuture  *self,
                         GError     **error)
{
  const GValue *v = peek_value_of_type (self, G_TYPE_BOOLEAN, error);

  return v != NULL ? g_value_get_boolean (v) : FALSE;
}

/**
 * weft_future_get_int64:
 * @self: a future
 * @error: return location for the future's error
 *
 * Reads the value of a future that finished with a 64-bit integer.
 *
 * Returns: the integer value, or 0 with @error set
 */
gint64
weft_future_get_int64 (WeftFuture  *self,
                       GError     **error)
{
  const GValue *v = peek_value_of_type (self, G_TYPE_INT64, error);

  return v != NULL ? g_value_get_int64 (v) : 0;
}

/**
 * weft_future_get_double:
 * @self: a future
 * @error: return location for the future's error
 *
 * Reads the value of a future that finished with a double.
 *
 * Returns: the double value, or 0 with @error set
 */
double
weft_future_get_double (WeftFuture  *self,
                        GError     **error)
{
  const GValue *v = peek_value_of_type (self, G_TYPE_DOUBLE, error);

  return v != NULL ? g_value_get_double (v) : 0.;
}

/**
 * weft_future_dup_string:
 * @self: a future
 * @error: return location for the future's error
 *
 * Reads the value of a future that finished with a string.
 *
 * Returns: (transfer full) (nullable): a copy of the string value
 */
char *
weft_future_dup_string (WeftFuture  *self,
                        GError     **error)
{
  const GValue *v = peek_value_of_type (self, G_TYPE_STRING, error);

  return v != NULL ? g_value_dup_string (v) : NULL;
}

/**
 * weft_future_dup_object:
 * @self: a future
 * @error: return location for the future's error
 *
 * Reads the value of a future that finished with an object.
 *
 * Returns: (transfer full) (type GObject) (nullable): the object value
 */
gpointer
weft_future_dup_object (WeftFuture  *self,
                        GError     **error)
{
  const GValue *v = peek_value_of_type (self, G_TYPE_OBJECT, error);

  return v != NULL ? g_value_dup_object (v) : NULL;
}

/**
 * weft_future_dup_boxed: (skip)
 * @self: a future
 * @error: return location for the future's error
 *
 * Reads the value of a future that finished with a boxed value.
 *
 * Returns: (transfer full) (nullable): a copy of the boxed value
 */
gpointer
weft_future_dup_boxed (WeftFuture  *self,
                       GError     **error)
{
  const GValue *v = peek_value_of_type (self, G_TYPE_BOXED, error);

  return v != NULL ? g_value_dup_boxed (v) : NULL;
}

/**
 * weft_future_get_pointer: (skip)
 * @self: a future
 * @error: return location for the future's error
 *
 * Reads the value of a future that finished with a pointer.
 *
 * Returns: (transfer none) (nullable): the pointer value; the future keeps
 *   owning it
 */
gpointer
weft_future_get_pointer (WeftFuture  *self,
                         GError     **error)
{
  WeftFuturePrivate *priv;

  g_return_val_if_fail (WEFT_IS_FUTURE (self), NULL);

  priv = weft_future_get_instance_private (self);

  /* A plain pointer, as a queue item is: no type system round trip. */
  if (G_VALUE_TYPE (&priv->value) == G_TYPE_POINTER &&
      weft_future_peek_state (self) == WEFT_FUTURE_STATE_FINISHED)
    return priv->value.data[0].v_pointer;

  if (G_VALUE_HOLDS (&priv->value, owned_pointer_get_type ()))
    {
      OwnedPointer *owned = g_value_get_boxed (&priv->value);

      return weft_future_propagate (self, error) ? owned->pointer : NULL;
    }
  else
    {
      const GValue *v = peek_value_of_type (self, G_TYPE_POINTER, error);

      return v != NULL ? g_value_get_pointer (v) : NULL;
    }
}

/**
 * weft_future_dup_error:
 * @self: a done future
 *
 * asyncio's exception(): the error @self ended with, marking it retrieved.
 *
 * Returns: (transfer full) (nullable): a copy of the error (the
 *   cancellation error if @self was cancelled), or %NULL if @self finished
 *   with a value
 */
GError *
weft_future_dup_error (WeftFuture *self)
{
  g_return_val_if_fail (WEFT_IS_FUTURE (self), NULL);
  g_return_val_if_fail (weft_future_is_done (self), NULL);

  return weft_future_take_outcome_error (self);
}

/**
 * weft_future_add_done_callback:
 * @self: a future
 * @callback: (scope notified) (closure user_data) (destroy notify): the
 *   callback
 * @user_data: data for @callback
 * @notify: (nullable): frees @user_data after @callback ran or was removed
 *
 * Arranges for @callback to run once @self is done. It is queued on the
 * future's context, never called from inside this function, even when
 * @self is already done. It runs in a copy of the #WeftContext current
 * now: it sees the context variables as they are, and what it sets is
 * not seen outside it.
 */
void
weft_future_add_done_callback (WeftFuture         *self,
                               WeftFutureCallback  callback,
                               gpointer            user_data,
                               GDestroyNotify      notify)
{
  WeftFuturePrivate *priv;
  DoneCallback *entry;

  g_return_if_fail (WEFT_IS_FUTURE (self));
  g_return_if_fail (callback != NULL);

  priv = weft_future_get_instance_private (self);

  entry = g_new0 (DoneCallback, 1);
  entry->runnable.run = done_callback_run;
  entry->callback = callback;
  entry->user_data = user_data;
  entry->notify = notify;
  entry->context_map = weft_context_capture_map ();

  if (!weft_future_add_waiter (self, &entry->runnable))
    {
      entry->future = g_object_ref (self);
      weft_scheduler_push (priv->scheduler, &entry->runnable);
    }
}

/**
 * weft_future_remove_done_callback:
 * @self: a future
 * @callback: (scope call): the callback
 * @user_data: its data
 *
 * Removes every pending registration of @callback with @user_data.
 *
 * Returns: how many were removed
 */
guint
weft_future_remove_done_callback (WeftFuture         *self,
                                  WeftFutureCallback  callback,
                                  gpointer            user_data)
{
  WeftFuturePrivate *priv;
  WeftRunnable *removed = NULL;
  WeftRunnable *entry, *last;
  guint count = 0;

  g_return_val_if_fail (WEFT_IS_FUTURE (self), 0);

  priv = weft_future_get_instance_private (self);

  future_lock (priv);
  entry = done_list_take (&priv->done_tail, &last);
  while (entry != NULL)
    {
      WeftRunnable *next = entry->next;
      DoneCallback *dc = (DoneCallback *) entry;

      if (entry->run == done_callback_run && dc->callback == callback && dc->user_data == user_data)
        {
          entry->next = removed;
          removed = entry;
          count++;
        }
      else
        done_list_append (&priv->done_tail, entry);
      entry = next;
    }
  future_unlock (priv);

  /* Notifies run unlocked: they may touch the future. */
  while (removed != NULL)
    {
      WeftRunnable *next = removed->next;

      done_callback_free ((DoneCallback *) removed);
      removed = next;
    }

  return count;
}

/* Returns %TRUE if woken, %FALSE once @deadline (monotonic; G_MAXINT64 for
 * none) has passed.
 */
static gboolean
blocked_thread_sleep (BlockedThread *blocked,
                      gint64         deadline)
{
  gboolean woken;

  g_mutex_lock (&blocked->mutex);
  while (!(woken = g_atomic_int_get (&blocked->woken)))
    {
      if (deadline == G_MAXINT64)
        g_cond_wait (&blocked->cond, &blocked->mutex);
      else if (!g_cond_wait_until (&blocked->cond, &blocked->mutex, deadline))
        {
          woken = g_atomic_int_get (&blocked->woken);
          break;
        }
    }
  g_mutex_unlock (&blocked->mutex);

  return woken;
}

/**
 * weft_future_wait:
 * @self: a future
 * @timeout: how many seconds to wait at most; negative to wait for as long
 *   as it takes
 * @error: return location for a #GError
 *
 * Blocks the calling thread until @self is done: the waiting half of
 * `concurrent.futures.Future.result(timeout)`, for a thread that does not
 * run the future's #GMainContext, such as a worker waiting on a future
 * returned by weft_run_coroutine_threadsafe(). Read the outcome afterwards
 * with weft_future_propagate() or a getter.
 *
 * The thread that runs the future's context cannot wait for it: the
 * context would never run what completes the future. Tasks await instead.
 *
 * Returns: %TRUE once @self is done; %FALSE with %G_IO_ERROR_TIMED_OUT if
 *   @timeout passed first, or with %WEFT_ERROR_WRONG_CONTEXT, without
 *   blocking, on the thread that runs or owns the future's context
 */
gboolean
weft_future_wait (WeftFuture  *self,
                  double       timeout,
                  GError     **error)
{
  WeftFuturePrivate *priv;
  BlockedThread blocked = { .runnable.run = blocked_thread_wake };
  gint64 deadline = G_MAXINT64;
  gboolean done;

  g_return_val_if_fail (WEFT_IS_FUTURE (self), FALSE);
  g_return_val_if_fail (!isnan (timeout), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  priv = weft_future_get_instance_private (self);

  /* Refused even when @self is already done, so that the mistake does not
   * depend on timing.
   */
  if (weft_scheduler_get_running () == priv->scheduler ||
      g_main_context_is_owner (weft_scheduler_get_context (priv->scheduler)))
    {
      g_set_error (error, WEFT_ERROR, WEFT_ERROR_WRONG_CONTEXT,
                   "Cannot block on a %s from the thread that runs its GMainContext: it would wait for itself",
                   G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  if (timeout >= 0)
    deadline = g_get_monotonic_time () + (gint64) MIN (timeout * G_USEC_PER_SEC, (double) G_MAXINT64 / 2);

  /* Finalizing the future would free the done list, us included. */
  g_object_ref (self);
  g_mutex_init (&blocked.mutex);
  g_cond_init (&blocked.cond);

  done = !weft_future_add_waiter (self, &blocked.runnable) ||
         blocked_thread_sleep (&blocked, deadline);

  /* Timed out, but completion may have unlinked us already: then its
   * wake-up is on its way, and @blocked must outlive it.
   */
  if (!done && !weft_future_remove_waiter (self, &blocked.runnable))
    done = blocked_thread_sleep (&blocked, G_MAXINT64);

  g_cond_clear (&blocked.cond);
  g_mutex_clear (&blocked.mutex);
  g_object_unref (self);

  if (!done)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                 "The future was not done after %g seconds", timeout);
  return done;
}
