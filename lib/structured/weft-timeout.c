/* weft-timeout.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <math.h>

#include <gio/gio.h>

#include "weft-error-private.h"
#include "weft-future-private.h"
#include "weft-task.h"
#include "weft-timeout.h"

/**
 * WeftTimeout:
 *
 * A deadline for a block of a task: asyncio's `timeout()` / `timeout_at()`
 * context manager.
 *
 * C has no `async with`, and a stackless task's block spans several steps,
 * so the block is bracketed by two calls made from the task itself:
 *
 * |[<!-- language="C" -->
 * // async with asyncio.timeout(0.5):
 * //     v = await fut
 * g_autoptr(WeftTimeout) t = weft_timeout_new (0.5);  // deadline fixed here
 *
 * if (!weft_timeout_enter (t, &error))      // binds to the running task
 *   return ...;
 * v = weft_await_int64 (fut, &error);       // the block
 * weft_timeout_leave (t, &error);           // the block's error in, the
 *                                           // block's outcome out
 * if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
 *   ...
 * ]|
 *
 * When the deadline passes, the task is cancelled (weft_task_cancel()); the
 * %G_IO_ERROR_CANCELLED error surfaces at the block's current or next
 * await. weft_timeout_leave() turns that error, and only that one, into
 * %G_IO_ERROR_TIMED_OUT: a cancellation that also came from elsewhere (the
 * task's cancelling count is above its value at entry once the timeout's
 * own request is withdrawn), any other error, and a normal exit pass
 * through unchanged. Nested timeouts that expire together convert once, at
 * the outermost.
 *
 * A stackless task keeps the timeout in its state and calls
 * weft_timeout_leave() in the step that ends the block, passing the error
 * its step received (copied) or %NULL.
 *
 * Times are seconds on the clock of weft_get_time(); %INFINITY means
 * "never" (asyncio's `None`). The timeout waits on its context's timer
 * heap: arming and disarming it allocate nothing.
 */

typedef enum
{
  STATE_CREATED,
  STATE_ENTERED,
  STATE_EXPIRING,
  STATE_EXPIRED,
  STATE_EXITED,
} TimeoutState;

static const char * const state_names[] = {
  "created", "active", "expiring", "expired", "finished",
};

struct _WeftTimeout
{
  GObject            parent_instance;
  WeftTimedRunnable  handler;       /* on the timer heap or the ready queue */
  WeftTask          *task;          /* while entered */
  double             when;          /* INFINITY: never */
  guint              cancelling;    /* the task's count at entry */
  guint8             state;
  guint              queued : 1;    /* the handler is on the heap or the ready
                                     * queue, and holds a reference */
  guint              armed : 1;     /* the handler fires when it runs */
};

G_DEFINE_FINAL_TYPE (WeftTimeout, weft_timeout, G_TYPE_OBJECT)

static inline WeftTimeout *
timeout_from_handler (WeftRunnable *runnable)
{
  return G_STRUCT_MEMBER_P (runnable, -G_STRUCT_OFFSET (WeftTimeout, handler.runnable));
}

static inline WeftScheduler *
timeout_scheduler (WeftTimeout *self)
{
  return weft_future_get_scheduler (WEFT_FUTURE (self->task));
}

/* A past time, even -INFINITY, is due at once; a finite future one never
 * reaches the heap's "unarmed" sentinel values.
 */
static gint64
when_to_usec (double when)
{
  return (gint64) CLAMP (when * G_USEC_PER_SEC, (double) G_MININT64 / 2, (double) G_MAXINT64 / 2);
}

static void
queue_handler (WeftTimeout *self)
{
  gint64 deadline = when_to_usec (self->when);

  /* TO2: a deadline already passed is asyncio's call_soon(), so it runs
   * before a task step queued after it (TO3: even a sleep(0) is cut). */
  if (deadline <= g_get_monotonic_time ())
    weft_scheduler_push (timeout_scheduler (self), &self->handler.runnable);
  else
    weft_scheduler_add_timer (timeout_scheduler (self), &self->handler, deadline);
}

/* The handler may already sit in the ready queue, where it cannot be
 * taken out: it is only disarmed there, and looks at the deadline again
 * when it runs.
 */
static void
disarm (WeftTimeout *self)
{
  self->armed = FALSE;
  if (weft_timer_is_armed (&self->handler.timer))
    {
      weft_scheduler_remove_timer (timeout_scheduler (self), &self->handler);
      self->queued = FALSE;
      g_object_unref (self);
    }
}

static void
arm (WeftTimeout *self)
{
  disarm (self);
  if (isinf (self->when) && self->when > 0)
    return;

  self->armed = TRUE;
  if (self->queued)
    return;
  self->queued = TRUE;
  g_object_ref (self);
  queue_handler (self);
}

/* TO3: asyncio's _on_timeout. */
static void
on_timeout (WeftRunnable *runnable)
{
  WeftTimeout *self = timeout_from_handler (runnable);

  self->queued = FALSE;
  if (self->armed)
    {
      if (when_to_usec (self->when) > g_get_monotonic_time ())
        {
          /* Rescheduled later while queued to fire. */
          self->queued = TRUE;
          queue_handler (self);
          return;
        }
      self->armed = FALSE;
      self->state = STATE_EXPIRING;
      weft_task_cancel (self->task, NULL);
    }
  g_object_unref (self);
}

static void
weft_timeout_dispose (GObject *object)
{
  WeftTimeout *self = WEFT_TIMEOUT (object);

  /* Entered and never left: the task cannot be cancelled by us any more. */
  g_clear_object (&self->task);

  G_OBJECT_CLASS (weft_timeout_parent_class)->dispose (object);
}

static void
weft_timeout_class_init (WeftTimeoutClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = weft_timeout_dispose;
}

static void
weft_timeout_init (WeftTimeout *self)
{
  self->handler.runnable.run = on_timeout;
  self->when = INFINITY;
}

/**
 * weft_get_time:
 *
 * The clock of timeouts and timers: g_get_monotonic_time() in seconds,
 * asyncio's `loop.time()`. Use it to compute the deadline of
 * weft_timeout_new_at().
 *
 * Returns: the current time, in seconds
 */
double
weft_get_time (void)
{
  return g_get_monotonic_time () / (double) G_USEC_PER_SEC;
}

/**
 * weft_timeout_new:
 * @delay: seconds from now; %INFINITY for no deadline; 0 or less for a
 *   deadline already passed
 *
 * asyncio's `timeout(delay)`: the deadline is weft_get_time() + @delay,
 * computed now, not when the timeout is entered.
 *
 * Returns: (transfer full): a timeout, to enter with weft_timeout_enter()
 */
WeftTimeout *
weft_timeout_new (double delay)
{
  g_return_val_if_fail (!isnan (delay), NULL);

  return weft_timeout_new_at (weft_get_time () + delay);
}

/**
 * weft_timeout_new_at:
 * @when: a deadline on the clock of weft_get_time(), or %INFINITY for none
 *
 * asyncio's `timeout_at(when)`.
 *
 * Returns: (transfer full): a timeout, to enter with weft_timeout_enter()
 */
WeftTimeout *
weft_timeout_new_at (double when)
{
  WeftTimeout *self;

  g_return_val_if_fail (!isnan (when), NULL);

  self = g_object_new (WEFT_TYPE_TIMEOUT, NULL);
  self->when = when;
  return self;
}

/**
 * weft_timeout_enter:
 * @self: a timeout, not entered yet
 * @error: return location for an error
 *
 * Starts the block the timeout guards: asyncio's `async with` entry. It
 * binds @self to the running task and records the task's cancelling
 * count. A deadline already passed cancels the task at the next pass.
 *
 * Every successful call must be paired with weft_timeout_leave() in the
 * same task.
 *
 * Returns: %TRUE if entered; %FALSE with %WEFT_ERROR_INVALID_STATE if
 *   @self was entered before, or %WEFT_ERROR_NOT_IN_TASK outside a task
 */
gboolean
weft_timeout_enter (WeftTimeout  *self,
                    GError      **error)
{
  WeftTask *task;

  g_return_val_if_fail (WEFT_IS_TIMEOUT (self), FALSE);

  if (self->state != STATE_CREATED)
    {
      g_set_error_literal (error, WEFT_ERROR, WEFT_ERROR_INVALID_STATE,
                           "Timeout has already been entered");
      return FALSE;
    }

  task = weft_task_get_current ();
  if (task == NULL)
    {
      g_set_error_literal (error, WEFT_ERROR, WEFT_ERROR_NOT_IN_TASK,
                           "Timeout should be used inside a task");
      return FALSE;
    }

  self->state = STATE_ENTERED;
  self->task = g_object_ref (task);
  self->cancelling = weft_task_get_cancelling (task);
  arm (self);

  return TRUE;
}

/* TO4: asyncio's __aexit__. Returns TRUE if @body_error is the timeout's
 * own cancellation, to be raised as G_IO_ERROR_TIMED_OUT.
 */
static gboolean
leave (WeftTimeout  *self,
       const GError *body_error)
{
  gboolean timed_out = FALSE;

  disarm (self);

  if (self->state == STATE_EXPIRING)
    {
      self->state = STATE_EXPIRED;
      /* TO5, TO9: uncancel once, unconditionally; only if no other
       * cancellation is left beyond those at entry is it ours. */
      timed_out = weft_task_uncancel (self->task) <= self->cancelling &&
                  weft_error_is_cancelled (body_error);
    }
  else
    self->state = STATE_EXITED;

  g_clear_object (&self->task);

  return timed_out;
}

static GError *
timed_out_error_new (void)
{
  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "Timeout was reached");
}

static gboolean
check_can_leave (WeftTimeout *self)
{
  if (self->state == STATE_ENTERED || self->state == STATE_EXPIRING)
    return TRUE;

  g_critical ("weft_timeout_leave: the timeout is %s, not entered", state_names[self->state]);
  return FALSE;
}

/**
 * weft_timeout_leave: (skip)
 * @self: an entered timeout
 * @error: (inout) (optional): on entry, the error the block ended with, or
 *   %NULL if it ended normally; on return, the error the block raises
 *
 * Ends the block: asyncio's `async with` exit. Unlike other #GError
 * arguments, *@error may be set on entry: it is the block's outcome.
 *
 * If the deadline passed and *@error is the resulting cancellation (and no
 * other cancellation is pending on the task), *@error is replaced by
 * %G_IO_ERROR_TIMED_OUT and the task's cancelling count is back to its
 * value at entry. Any other error, or none, is left alone: a block that
 * handled the cancellation ends normally, with weft_timeout_is_expired()
 * %TRUE. Bindings use weft_timeout_leave_with().
 *
 * Returns: %TRUE if the block ends without an error
 */
gboolean
weft_timeout_leave (WeftTimeout  *self,
                    GError      **error)
{
  g_return_val_if_fail (WEFT_IS_TIMEOUT (self), FALSE);

  if (!check_can_leave (self))
    return error == NULL || *error == NULL;

  if (leave (self, error != NULL ? *error : NULL))
    {
      g_clear_error (error);
      *error = timed_out_error_new ();
    }

  return error == NULL || *error == NULL;
}

/**
 * weft_timeout_leave_with: (rename-to weft_timeout_leave)
 * @self: an entered timeout
 * @body_error: (nullable): the error the block ended with, or %NULL if it
 *   ended normally
 * @error: return location for the error the block raises
 *
 * weft_timeout_leave() for bindings, which cannot pass an error in: sets
 * @error to %G_IO_ERROR_TIMED_OUT if @body_error is the timeout's own
 * cancellation, to a copy of @body_error otherwise.
 *
 * Returns: %TRUE if the block ends without an error
 */
gboolean
weft_timeout_leave_with (WeftTimeout   *self,
                         const GError  *body_error,
                         GError       **error)
{
  g_return_val_if_fail (WEFT_IS_TIMEOUT (self), FALSE);

  if (!check_can_leave (self))
    return body_error == NULL;

  if (leave (self, body_error))
    g_propagate_error (error, timed_out_error_new ());
  else if (body_error != NULL)
    g_propagate_error (error, g_error_copy (body_error));

  return body_error == NULL;
}

/**
 * weft_timeout_get_when:
 * @self: a timeout
 *
 * asyncio's `Timeout.when()`.
 *
 * Returns: the deadline on the clock of weft_get_time(), %INFINITY if none
 */
double
weft_timeout_get_when (WeftTimeout *self)
{
  g_return_val_if_fail (WEFT_IS_TIMEOUT (self), INFINITY);

  return self->when;
}

/**
 * weft_timeout_reschedule:
 * @self: an entered timeout
 * @when: the new deadline on the clock of weft_get_time(), %INFINITY for
 *   none; a time already passed cancels the task at the next pass
 * @error: return location for an error
 *
 * asyncio's `Timeout.reschedule()`: replaces the deadline of an active
 * timeout.
 *
 * Returns: %TRUE if rescheduled; %FALSE with %WEFT_ERROR_INVALID_STATE if
 *   @self is not entered, or already expired or left
 */
gboolean
weft_timeout_reschedule (WeftTimeout  *self,
                         double        when,
                         GError      **error)
{
  g_return_val_if_fail (WEFT_IS_TIMEOUT (self), FALSE);
  g_return_val_if_fail (!isnan (when), FALSE);

  /* TO7 */
  if (self->state == STATE_CREATED)
    {
      g_set_error_literal (error, WEFT_ERROR, WEFT_ERROR_INVALID_STATE,
                           "Timeout has not been entered");
      return FALSE;
    }
  if (self->state != STATE_ENTERED)
    {
      g_set_error (error, WEFT_ERROR, WEFT_ERROR_INVALID_STATE,
                   "Cannot change state of %s Timeout", state_names[self->state]);
      return FALSE;
    }

  self->when = when;
  arm (self);
  return TRUE;
}

/**
 * weft_timeout_is_expired:
 * @self: a timeout
 *
 * asyncio's `Timeout.expired()`.
 *
 * Returns: %TRUE once the deadline has passed and the task was cancelled
 *   for it, even if the block then handled the cancellation
 */
gboolean
weft_timeout_is_expired (WeftTimeout *self)
{
  g_return_val_if_fail (WEFT_IS_TIMEOUT (self), FALSE);

  return self->state == STATE_EXPIRING || self->state == STATE_EXPIRED;
}

/**
 * weft_timeout_to_string:
 * @self: a timeout
 *
 * asyncio's `repr()` of a timeout: `<Timeout [active] when=12.346>`,
 * `<Timeout [active] when=None>` without a deadline, or the state alone:
 * `<Timeout [created]>`, `[expiring]`, `[expired]`, `[finished]`.
 *
 * Returns: (transfer full): the description
 */
char *
weft_timeout_to_string (WeftTimeout *self)
{
  char when[G_ASCII_DTOSTR_BUF_SIZE];

  g_return_val_if_fail (WEFT_IS_TIMEOUT (self), NULL);

  if (self->state != STATE_ENTERED)
    return g_strdup_printf ("<Timeout [%s]>", state_names[self->state]);

  if (isinf (self->when) && self->when > 0)
    g_strlcpy (when, "None", sizeof when);
  else
    g_ascii_formatd (when, sizeof when, "%.3f", self->when);
  return g_strdup_printf ("<Timeout [active] when=%s>", when);
}
