/* weft-combinators.c — what gather, wait and as_completed share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include "weft-combinators-private.h"
#include "weft-error.h"

/* Below this, comparing with every earlier future beats hashing. */
#define LINEAR_DEDUP_MAX 16

/*
 * Returns: (transfer full) (element-type WeftFuture): the distinct futures
 *   of @futures in first-seen order, referenced: asyncio's set(fs)
 */
GPtrArray *
weft_futures_dup_unique (WeftFuture **futures,
                         guint        n_futures)
{
  GPtrArray *unique = g_ptr_array_new_full (n_futures, g_object_unref);
  g_autoptr(GHashTable) seen = NULL;

  if (n_futures > LINEAR_DEDUP_MAX)
    seen = g_hash_table_new (NULL, NULL);

  for (guint i = 0; i < n_futures; i++)
    {
      gboolean duplicate = FALSE;

      if (seen != NULL)
        duplicate = !g_hash_table_add (seen, futures[i]);
      else
        for (guint j = 0; j < unique->len && !duplicate; j++)
          duplicate = g_ptr_array_index (unique, j) == (gpointer) futures[i];

      if (!duplicate)
        g_ptr_array_add (unique, g_object_ref (futures[i]));
    }

  return unique;
}

/* GA1, W1: every input belongs to the caller's context. */
gboolean
weft_futures_check_context (WeftFuture    **futures,
                            guint           n_futures,
                            WeftScheduler  *scheduler,
                            GError        **error)
{
  for (guint i = 0; i < n_futures; i++)
    if (weft_future_get_scheduler (futures[i]) != scheduler)
      {
        g_set_error (error, WEFT_ERROR, WEFT_ERROR_WRONG_CONTEXT,
                     "Future %u of %u is attached to a different GMainContext",
                     i, n_futures);
        return FALSE;
      }
  return TRUE;
}

void
weft_input_waiter_init (WeftInputWaiter  *waiter,
                        WeftRunnableFunc  run,
                        gpointer          owner,
                        WeftFuture       *future)
{
  waiter->runnable.run = run;
  waiter->owner = owner;
  waiter->future = future;
  waiter->queued = FALSE;
  waiter->settled = FALSE;
}

/*
 * Puts @waiter on its future's done list or, if the future is done
 * already, on the ready queue of @scheduler: like add_done_callback(), it
 * never runs inline.
 *
 * Returns: %TRUE if it went on the done list
 */
gboolean
weft_input_waiter_start (WeftInputWaiter *waiter,
                         WeftScheduler   *scheduler)
{
  if (weft_future_add_waiter (waiter->future, &waiter->runnable))
    return TRUE;
  waiter->queued = TRUE;
  weft_scheduler_push (scheduler, &waiter->runnable);
  return FALSE;
}

/*
 * Takes @waiter off its future's done list.
 *
 * Returns: %TRUE if it was there; %FALSE if it is queued and will still run
 */
gboolean
weft_input_waiter_withdraw (WeftInputWaiter *waiter)
{
  if (waiter->queued)
    return FALSE;
  waiter->queued = !weft_future_remove_waiter (waiter->future, &waiter->runnable);
  return !waiter->queued;
}

/* Whether a done input failed (a cancellation included), marking its
 * error retrieved as asyncio's exception() does.
 */
gboolean
weft_input_failed (WeftFuture *future)
{
  return !weft_future_propagate (future, NULL);
}

/* The monotonic deadline @timeout seconds (≥ 0) from now, capped. */
gint64
weft_timeout_to_deadline (double timeout)
{
  return g_get_monotonic_time () + (gint64) MIN (timeout * G_USEC_PER_SEC, (double) G_MAXINT64 / 2);
}
