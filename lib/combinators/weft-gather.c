/* weft-gather.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <gio/gio.h>

#include "weft-combinators-private.h"
#include "weft-inspect-hooks-private.h"
#include "weft-error-private.h"
#include "weft-gather.h"

/**
 * WeftGather:
 *
 * A future that waits for several futures: asyncio's gather().
 *
 * It finishes once every child is done, and its results are the
 * children's, in argument order, read with weft_gather_get_result() (a
 * #GValue) or through weft_gather_get_child() and the typed getters of
 * #WeftFuture. The gather itself finishes without a value.
 *
 * Without return_exceptions the first child to fail or be cancelled fails
 * the gather at once with that error; the other children keep running.
 * With it, a child's error takes its place among the results, and
 * weft_gather_get_result() raises it for that index alone.
 *
 * Cancelling the gather cancels every child; once they are all done, the
 * gather raises %G_IO_ERROR_CANCELLED, whatever they did with the request.
 * As in asyncio, a gather that fails this way, or because a child was
 * cancelled, is finished with the cancellation error, not cancelled:
 * weft_future_is_cancelled() stays %FALSE.
 *
 * Like a task, a gather belongs to the thread that runs its #GMainContext:
 * cancel it there (its children may be completed from any thread).
 *
 * Children already done are looked at inside weft_gather_new(): if all
 * are, the gather is returned done. The same future given twice is waited
 * on once, and its result appears at both positions.
 *
 * In C:
 * |[<!-- language="C" -->
 * WeftFuture *parts[] = { a, b, c };
 * g_autoptr(WeftGather) all = weft_gather_new (parts, G_N_ELEMENTS (parts), FALSE);
 *
 * if (!weft_await (WEFT_FUTURE (all), &error))
 *   return;
 * for (guint i = 0; i < weft_gather_get_n_results (all); i++)
 *   total += weft_future_get_int64 (weft_gather_get_child (all, i), NULL);
 * ]|
 * From Python, the results are
 * `[g.get_result(i) for i in range(g.get_n_results())]`.
 */

struct _WeftGather
{
  WeftFuture       parent_instance;

  WeftFuture     **children;        /* in argument order, referenced */
  guint            n_children;
  WeftInputWaiter *waiters;         /* one per distinct pending child */
  guint            n_waiting;       /* waiters that have not run; we hold a
                                     * reference on ourselves while > 0 */
  char            *cancel_message;
  guint            return_exceptions : 1;
  guint            cancel_requested : 1;
};

G_DEFINE_FINAL_TYPE (WeftGather, weft_gather, WEFT_TYPE_FUTURE)

static inline gboolean
gather_is_done (WeftGather *self)
{
  return weft_future_peek_state (WEFT_FUTURE (self)) != WEFT_FUTURE_STATE_PENDING;
}

/* asyncio's _done_callback, minus the counting. */
static void
child_done (WeftGather *self,
            WeftFuture *child)
{
  if (weft_future_peek_state (child) == WEFT_FUTURE_STATE_FINISHED &&
      G_LIKELY (!weft_input_failed (child)))
    return;

  /* GA3: later failures are retrieved, and ignored. */
  if (gather_is_done (self) || self->return_exceptions)
    return;

  /* GA3, GA4: the first failure or cancellation fails the gather. */
  weft_future_fail (WEFT_FUTURE (self), weft_future_dup_error (child));
}

static void
all_children_done (WeftGather *self)
{
  if (gather_is_done (self))
    return;

  /* GA5: a requested cancellation wins, even over values. */
  if (self->cancel_requested)
    weft_future_fail (WEFT_FUTURE (self), weft_cancelled_error_new (self->cancel_message));
  else
    weft_future_complete (WEFT_FUTURE (self), NULL, NULL);
}

static void
waiter_run (WeftRunnable *runnable)
{
  WeftInputWaiter *waiter = (WeftInputWaiter *) runnable;
  WeftGather *self = waiter->owner;

  child_done (self, waiter->future);
  if (--self->n_waiting == 0)
    {
      all_children_done (self);
      g_object_unref (self);
    }
}

static gboolean
weft_gather_cancel (WeftFuture *future,
                    const char *message)
{
  WeftGather *self = WEFT_GATHER (future);
  gboolean any = FALSE;

  /* GA5, GA7 */
  if (gather_is_done (self))
    return FALSE;

  for (guint i = 0; i < self->n_children; i++)
    any |= weft_future_cancel (self->children[i], message);

  if (any)
    {
      self->cancel_requested = TRUE;
      g_free (self->cancel_message);
      self->cancel_message = g_strdup (message);
    }
  return any;
}

static void
weft_gather_finalize (GObject *object)
{
  WeftGather *self = WEFT_GATHER (object);

  for (guint i = 0; i < self->n_children; i++)
    g_object_unref (self->children[i]);
  g_free (self->children);
  g_free (self->waiters);
  g_free (self->cancel_message);

  G_OBJECT_CLASS (weft_gather_parent_class)->finalize (object);
}

static void
weft_gather_class_init (WeftGatherClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  WeftFutureClass *future_class = WEFT_FUTURE_CLASS (klass);

  object_class->finalize = weft_gather_finalize;
  future_class->cancel = weft_gather_cancel;
}

static void
weft_gather_init (WeftGather *self)
{
  weft_future_forbid_setters (WEFT_FUTURE (self));
}

/* Waits on each distinct pending child once; returns how many it waits on. */
static guint
wait_for_pending (WeftGather  *self,
                  WeftFuture **pending,
                  guint        n_pending)
{
  g_autoptr(GPtrArray) unique = weft_futures_dup_unique (pending, n_pending);
  guint n = 0;

  self->waiters = g_new (WeftInputWaiter, unique->len);
  for (guint i = 0; i < unique->len; i++)
    {
      WeftInputWaiter *waiter = &self->waiters[n];

      weft_input_waiter_init (waiter, waiter_run, self, g_ptr_array_index (unique, i));
      if (weft_future_add_waiter (waiter->future, &waiter->runnable))
        n++;
      else
        child_done (self, waiter->future);  /* completed from another thread */
    }

  return n;
}

/**
 * weft_gather_new:
 * @futures: (array length=n_futures): the futures to wait for
 * @n_futures: the number of @futures; 0 gives a gather already finished
 *   with no results
 * @return_exceptions: whether a child's error is one of the results
 *   rather than the gather's own error
 *
 * Creates a future that waits for all of @futures: asyncio's gather(). See
 * #WeftGather for the outcome. Futures bound to another #GMainContext than
 * the thread-default one fail it with %WEFT_ERROR_WRONG_CONTEXT.
 *
 * Returns: (transfer full): the gather future, already done if every
 *   child is
 */
WeftGather *
weft_gather_new (WeftFuture **futures,
                 guint        n_futures,
                 gboolean     return_exceptions)
{
  WeftGather *self;
  g_autofree WeftFuture **pending = NULL;
  guint n_pending = 0;
  GError *error = NULL;

  g_return_val_if_fail (futures != NULL || n_futures == 0, NULL);
  for (guint i = 0; i < n_futures; i++)
    g_return_val_if_fail (WEFT_IS_FUTURE (futures[i]), NULL);

  self = g_object_new (WEFT_TYPE_GATHER, NULL);
  self->return_exceptions = !!return_exceptions;

  if (!weft_futures_check_context (futures, n_futures,
                                   weft_future_get_scheduler (WEFT_FUTURE (self)), &error))
    {
      weft_future_fail (WEFT_FUTURE (self), error);
      return self;
    }

  self->children = g_new (WeftFuture *, n_futures);
  self->n_children = n_futures;

  /* GA8: what is done already is looked at now. */
  for (guint i = 0; i < n_futures; i++)
    {
      WeftFuture *child = g_object_ref (futures[i]);

      self->children[i] = child;
      if (weft_future_peek_state (child) != WEFT_FUTURE_STATE_PENDING)
        child_done (self, child);
      else
        {
          if (pending == NULL)
            pending = g_new (WeftFuture *, n_futures - i);
          pending[n_pending++] = child;
        }
    }

  if (n_pending > 0)
    self->n_waiting = wait_for_pending (self, pending, n_pending);

  if (self->n_waiting > 0)
    g_object_ref (self);
  else
    all_children_done (self);

  return self;
}

/**
 * weft_gather_get_n_results:
 * @self: a gather
 *
 * Gets the number of results: the number of futures given to
 * weft_gather_new(), duplicates included.
 *
 * Returns: the number of results
 */
guint
weft_gather_get_n_results (WeftGather *self)
{
  g_return_val_if_fail (WEFT_IS_GATHER (self), 0);

  return self->n_children;
}

/**
 * weft_gather_get_child:
 * @self: a gather
 * @index: a position in the futures given to weft_gather_new()
 *
 * Gets the future at @index, to read its value with the typed getters of
 * #WeftFuture once the gather has finished.
 *
 * Returns: (transfer none): the future at @index
 */
WeftFuture *
weft_gather_get_child (WeftGather *self,
                       guint       index)
{
  g_return_val_if_fail (WEFT_IS_GATHER (self), NULL);
  g_return_val_if_fail (index < self->n_children, NULL);

  return self->children[index];
}

/**
 * weft_gather_get_result:
 * @self: a gather
 * @index: a position in the futures given to weft_gather_new()
 * @value: (out caller-allocates): an uninitialized #GValue that receives a
 *   copy of the result at @index; left unset if that child finished
 *   without a value
 * @error: return location for an error
 *
 * Reads the result at @index: asyncio's `(await gather(...))[index]`.
 *
 * Returns: (skip): %TRUE with @value set; %FALSE with @error set to the
 *   gather's own error if it failed, was cancelled or is still pending
 *   (%WEFT_ERROR_INVALID_STATE), or, with return_exceptions, to the error
 *   of the child at @index
 */
gboolean
weft_gather_get_result (WeftGather  *self,
                        guint        index,
                        GValue      *value,
                        GError     **error)
{
  g_return_val_if_fail (WEFT_IS_GATHER (self), FALSE);
  g_return_val_if_fail (index < self->n_children, FALSE);
  g_return_val_if_fail (value != NULL && !G_IS_VALUE (value), FALSE);

  if (!weft_future_propagate (WEFT_FUTURE (self), error))
    return FALSE;
  return weft_future_get_value (self->children[index], value, error);
}

/* For the inspector, on the gather's thread: the tasks it waits for. */
gboolean
weft_gather_inspect_tasks (WeftFuture *future,
                           GArray     *ids,
                           guint      *n_children)
{
  WeftGather *self;

  if (!WEFT_IS_GATHER (future))
    return FALSE;
  self = WEFT_GATHER (future);
  for (guint i = 0; i < self->n_children; i++)
    if (WEFT_IS_TASK (self->children[i]) && !weft_future_is_done (self->children[i]))
      {
        guint64 id = weft_task_get_id (WEFT_TASK (self->children[i]));

        g_array_append_val (ids, id);
      }
  *n_children = self->n_children;
  return TRUE;
}
