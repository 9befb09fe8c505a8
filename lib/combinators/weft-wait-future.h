/* weft-wait-future.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include "core/weft-future.h"

G_BEGIN_DECLS

/**
 * WeftReturnWhen:
 * @WEFT_RETURN_WHEN_FIRST_COMPLETED: when any future is done, cancelled
 *   included: asyncio's FIRST_COMPLETED
 * @WEFT_RETURN_WHEN_FIRST_EXCEPTION: when any future fails (a cancellation
 *   does not count), or else when all are done: asyncio's FIRST_EXCEPTION
 * @WEFT_RETURN_WHEN_ALL_COMPLETED: when all futures are done: asyncio's
 *   ALL_COMPLETED
 *
 * When weft_wait_future_new() finishes.
 */
typedef enum
{
  WEFT_RETURN_WHEN_FIRST_COMPLETED,
  WEFT_RETURN_WHEN_FIRST_EXCEPTION,
  WEFT_RETURN_WHEN_ALL_COMPLETED,
} WeftReturnWhen;

#define WEFT_TYPE_WAIT_FUTURE (weft_wait_future_get_type ())

G_DECLARE_FINAL_TYPE (WeftWaitFuture, weft_wait_future, WEFT, WAIT_FUTURE, WeftFuture)

WeftWaitFuture  *weft_wait_future_new         (WeftFuture     **futures,
                                  guint            n_futures,
                                  double           timeout,
                                  WeftReturnWhen   return_when);
GPtrArray *weft_wait_future_get_done    (WeftWaitFuture        *self);
GPtrArray *weft_wait_future_get_pending (WeftWaitFuture        *self);

G_END_DECLS
