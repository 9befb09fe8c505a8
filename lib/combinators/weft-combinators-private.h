/* weft-combinators-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "weft-future-private.h"

G_BEGIN_DECLS

/* A combinator's entry on one input's done list: embedded in an array the
 * combinator owns, so waiting on n futures costs one allocation.
 */
typedef struct
{
  WeftRunnable  runnable;       /* first: the ready queue hands us this */
  gpointer      owner;
  WeftFuture   *future;         /* borrowed from the owner's inputs */
  guint8        queued;         /* off the done list: it will run */
  guint8        settled;        /* the owner is done with this input */
} WeftInputWaiter;

void       weft_input_waiter_init       (WeftInputWaiter   *waiter,
                                         WeftRunnableFunc   run,
                                         gpointer           owner,
                                         WeftFuture        *future);
gboolean   weft_input_waiter_start      (WeftInputWaiter   *waiter,
                                         WeftScheduler     *scheduler);
gboolean   weft_input_waiter_withdraw   (WeftInputWaiter   *waiter);
gboolean   weft_input_failed            (WeftFuture        *future);

GPtrArray *weft_futures_dup_unique      (WeftFuture       **futures,
                                         guint              n_futures);
gboolean   weft_futures_check_context   (WeftFuture       **futures,
                                         guint              n_futures,
                                         WeftScheduler     *scheduler,
                                         GError           **error);
gint64     weft_timeout_to_deadline     (double             timeout);

G_END_DECLS
