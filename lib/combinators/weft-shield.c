/* weft-shield.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-combinators-private.h"
#include "weft-inspect-hooks-private.h"
#include "weft-shield.h"

/* SH3: shielding the same future twice does not report its error twice. */
static void
report_late_error (WeftFuture *inner)
{
  GQuark reported = g_quark_from_static_string ("weft-shield-reported");
  g_autoptr(GError) error = NULL;

  if (g_object_get_qdata (G_OBJECT (inner), reported) != NULL)
    return;
  g_object_set_qdata (G_OBJECT (inner), reported, GINT_TO_POINTER (TRUE));

  error = weft_future_dup_error (inner);
  g_warning ("%s exception in shielded future %p: %s",
             g_quark_to_string (error->domain), inner, error->message);
}

static void
inner_done (WeftFuture *inner,
            gpointer    user_data)
{
  WeftFuture *outer = user_data;
  GValue value = G_VALUE_INIT;

  /* SH3: the outer was cancelled first; a value is dropped silently. */
  if (weft_future_peek_state (outer) != WEFT_FUTURE_STATE_PENDING)
    {
      if (weft_future_peek_state (inner) == WEFT_FUTURE_STATE_FINISHED &&
          weft_input_failed (inner))
        report_late_error (inner);
      return;
    }

  /* SH1: the outer mirrors the inner, cancellation included; an inner
   * that failed with a cancellation error, not cancelled, is not either.
   */
  if (weft_future_peek_state (inner) == WEFT_FUTURE_STATE_CANCELLED)
    weft_future_complete (outer, NULL, weft_future_dup_error (inner));
  else if (!weft_future_get_value (inner, &value, NULL))
    weft_future_fail (outer, weft_future_dup_error (inner));
  else
    weft_future_complete (outer, G_IS_VALUE (&value) ? &value : NULL, NULL);
}

/**
 * weft_shield:
 * @inner: the future to protect from cancellation
 *
 * Protects @inner from cancellation: asyncio's shield().
 *
 * Returns an outer future that mirrors @inner's value, error or
 * cancellation, one pass after @inner is done. Cancelling the outer
 * future, directly or by cancelling the task that awaits it, does not
 * cancel @inner, which keeps running; its outcome is then dropped, except
 * an error, which is reported once with g_warning() since nobody else will
 * see it. A task that caught the cancellation can still await @inner.
 *
 * Returns: (transfer full): @inner itself if it is already done, otherwise
 *   a new outer future
 */
WeftFuture *
weft_shield (WeftFuture *inner)
{
  WeftFuture *outer;

  g_return_val_if_fail (WEFT_IS_FUTURE (inner), NULL);

  /* SH1: the shortcut. */
  if (weft_future_peek_state (inner) != WEFT_FUTURE_STATE_PENDING)
    return g_object_ref (inner);

  outer = weft_future_new ();
  if (WEFT_INSPECTING ())
    weft_shield_inspect_note_inner (outer, inner);
  weft_future_add_done_callback (inner, inner_done, g_object_ref (outer), g_object_unref);

  return outer;
}

/* The shielded task, by id: the outer must not keep the inner alive. */
void
weft_shield_inspect_note_inner (WeftFuture *outer,
                                WeftFuture *inner)
{
  guint64 *id;

  if (!WEFT_IS_TASK (inner))
    return;
  __atomic_store_n (&weft_inspect_shields_made, 1, __ATOMIC_RELAXED);
  id = g_new (guint64, 1);
  *id = weft_task_get_id (WEFT_TASK (inner));
  g_object_set_data_full (G_OBJECT (outer), "weft-shield-inner-task", id, g_free);
}

guint64
weft_shield_inspect_inner_task (WeftFuture *outer)
{
  guint64 *id = g_object_get_data (G_OBJECT (outer), "weft-shield-inner-task");

  return id != NULL ? *id : 0;
}
