/* weft-error.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include <glib.h>

G_BEGIN_DECLS

/**
 * WEFT_ERROR:
 *
 * The error domain of Weft's own errors. Cancellation is reported as
 * %G_IO_ERROR_CANCELLED and timeouts as %G_IO_ERROR_TIMED_OUT, as in GIO.
 */
#define WEFT_ERROR (weft_error_quark ())

/**
 * WeftError:
 * @WEFT_ERROR_INVALID_STATE: the operation does not fit the future's state,
 *   such as reading the value of a pending future (asyncio's InvalidStateError)
 * @WEFT_ERROR_NOT_IN_TASK: awaiting outside a task, or a fiber-only call made
 *   outside a fiber
 * @WEFT_ERROR_AWAIT_SELF: a task awaited itself
 * @WEFT_ERROR_WRONG_CONTEXT: a task awaited a future bound to another
 *   #GMainContext, or weft_future_wait() was called on the thread that runs
 *   the future's context
 * @WEFT_ERROR_BAD_YIELD: a step of a stackless task ended without returning,
 *   awaiting or yielding
 * @WEFT_ERROR_INVALID_ARGUMENT: an argument is out of range, such as a NaN delay
 * @WEFT_ERROR_WRONG_TYPE: the future's value is not of the requested type
 * @WEFT_ERROR_FIBER_STACK: no stack could be allocated for a fiber
 * @WEFT_ERROR_TASK_GROUP: tasks of a #WeftTaskGroup failed (asyncio's
 *   ExceptionGroup): weft_task_group_error_get_failure() lists what each
 *   task raised, the group's own body last
 * @WEFT_ERROR_LOOKUP: a #WeftContextVar has no value in the current context
 *   and no default (Python's LookupError)
 * @WEFT_ERROR_BAD_TOKEN: weft_context_var_reset() got a token already used,
 *   made by another variable, or made in another context
 * @WEFT_ERROR_CONTEXT_ENTERED: weft_context_run() on a context that is
 *   already entered, or a fiber awaiting inside weft_context_run()
 * @WEFT_ERROR_QUEUE_EMPTY: weft_queue_get_nowait() on an empty queue
 *   (asyncio's QueueEmpty)
 * @WEFT_ERROR_QUEUE_FULL: weft_queue_put_nowait() on a full queue
 *   (asyncio's QueueFull)
 * @WEFT_ERROR_QUEUE_SHUT_DOWN: putting into a queue that was shut down, or
 *   getting from one that is also empty (asyncio's QueueShutDown)
 * @WEFT_ERROR_BROKEN_BARRIER: the barrier was aborted or reset while the
 *   task waited, or is broken (asyncio's BrokenBarrierError)
 *
 * Error codes of the %WEFT_ERROR domain.
 */
typedef enum
{
  WEFT_ERROR_INVALID_STATE,
  WEFT_ERROR_NOT_IN_TASK,
  WEFT_ERROR_AWAIT_SELF,
  WEFT_ERROR_WRONG_CONTEXT,
  WEFT_ERROR_BAD_YIELD,
  WEFT_ERROR_INVALID_ARGUMENT,
  WEFT_ERROR_WRONG_TYPE,
  WEFT_ERROR_FIBER_STACK,
  WEFT_ERROR_TASK_GROUP,
  WEFT_ERROR_LOOKUP,
  WEFT_ERROR_BAD_TOKEN,
  WEFT_ERROR_CONTEXT_ENTERED,
  WEFT_ERROR_QUEUE_EMPTY,
  WEFT_ERROR_QUEUE_FULL,
  WEFT_ERROR_QUEUE_SHUT_DOWN,
  WEFT_ERROR_BROKEN_BARRIER,
} WeftError;

GQuark weft_error_quark (void);

G_END_DECLS
