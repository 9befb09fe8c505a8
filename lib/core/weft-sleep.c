/* weft-sleep.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include "weft-error.h"
#include "weft-future-private.h"
#include "weft-sleep.h"

/* A future completed by a timer: asyncio's sleep(delay, result) as an
 * object that can be handed around and awaited. Tasks that only want to
 * sleep use weft_sleep() or weft_task_sleep(), which need no future.
 */

#define WEFT_TYPE_SLEEP_FUTURE (weft_sleep_future_get_type ())
G_DECLARE_FINAL_TYPE (WeftSleepFuture, weft_sleep_future, WEFT, SLEEP_FUTURE, WeftFuture)

struct _WeftSleepFuture
{
  WeftFuture          parent_instance;
  WeftTimedRunnable   runnable;
  GValue              result;
};

G_DEFINE_FINAL_TYPE (WeftSleepFuture, weft_sleep_future, WEFT_TYPE_FUTURE)

static void
weft_sleep_future_fire (WeftRunnable *runnable)
{
  WeftSleepFuture *self = G_STRUCT_MEMBER_P (runnable, -G_STRUCT_OFFSET (WeftSleepFuture, runnable.runnable));

  weft_future_complete (WEFT_FUTURE (self), &self->result, NULL);
  g_object_unref (self);
}

/* S1: cancelling the sleep disarms its timer at once. */
static gboolean
weft_sleep_future_cancel (WeftFuture *future,
                          const char *message)
{
  WeftSleepFuture *self = WEFT_SLEEP_FUTURE (future);

  if (!WEFT_FUTURE_CLASS (weft_sleep_future_parent_class)->cancel (future, message))
    return FALSE;

  if (weft_timer_is_armed (&self->runnable.timer))
    {
      weft_scheduler_remove_timer (weft_future_get_scheduler (future), &self->runnable);
      g_object_unref (self);
    }
  return TRUE;
}

static void
weft_sleep_future_finalize (GObject *object)
{
  WeftSleepFuture *self = WEFT_SLEEP_FUTURE (object);

  if (G_IS_VALUE (&self->result))
    g_value_unset (&self->result);

  G_OBJECT_CLASS (weft_sleep_future_parent_class)->finalize (object);
}

static void
weft_sleep_future_class_init (WeftSleepFutureClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = weft_sleep_future_finalize;
  WEFT_FUTURE_CLASS (klass)->cancel = weft_sleep_future_cancel;
}

static void
weft_sleep_future_init (WeftSleepFuture *self)
{
  self->runnable.runnable.run = weft_sleep_future_fire;
}

/**
 * weft_sleep_future_new:
 * @delay: seconds until the future finishes
 * @result: (nullable): the value it finishes with; copied
 *
 * asyncio's `sleep(delay, result)` as a future: it finishes with @result
 * after @delay seconds, measured from now. Cancelling it disarms the timer.
 * Cancel it from its context's thread.
 *
 * Returns: (transfer full): the future, or %NULL if @delay is NaN
 */
WeftFuture *
weft_sleep_future_new (double        delay,
                       const GValue *result)
{
  WeftSleepFuture *self;
  gint64 deadline;

  g_return_val_if_fail (!isnan (delay), NULL);
  g_return_val_if_fail (result == NULL || G_IS_VALUE (result), NULL);

  self = g_object_new (WEFT_TYPE_SLEEP_FUTURE, NULL);
  if (result != NULL)
    {
      g_value_init (&self->result, G_VALUE_TYPE (result));
      g_value_copy (result, &self->result);
    }

  deadline = g_get_monotonic_time () + (gint64) CLAMP (delay * G_USEC_PER_SEC, 0, (double) G_MAXINT64 / 2);
  weft_scheduler_add_timer (weft_future_get_scheduler (WEFT_FUTURE (self)),
                            &self->runnable, deadline);
  g_object_ref (self); /* held by the armed timer */

  return WEFT_FUTURE (self);
}
