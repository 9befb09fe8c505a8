/* weft-future-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "weft-future.h"
#include "weft-scheduler-private.h"

G_BEGIN_DECLS

WeftScheduler *weft_future_get_scheduler    (WeftFuture   *self);
WeftFutureState weft_future_peek_state      (WeftFuture   *self);
void           weft_future_forbid_setters   (WeftFuture   *self);
gboolean       weft_future_complete         (WeftFuture   *self,
                                             GValue       *value,
                                             GError       *error);
gboolean       weft_future_fail             (WeftFuture   *self,
                                             GError       *error);
void           weft_future_replace_outcome  (WeftFuture   *self,
                                             GError       *error);
gboolean       weft_future_add_waiter       (WeftFuture   *self,
                                             WeftRunnable *waiter);
gboolean       weft_future_remove_waiter    (WeftFuture   *self,
                                             WeftRunnable *waiter);
GError        *weft_future_take_outcome_error (WeftFuture *self);
void           weft_value_init_pointer      (GValue         *value,
                                             gpointer        pointer,
                                             GDestroyNotify  destroy);

gboolean       weft_future_try_reuse        (WeftFuture   *self);

/* Called when a task drops the value of the future it awaited because a
 * cancellation is delivered instead (T8b). A future type that hands
 * something over with its value (a lock, a queue item) sets one, so the
 * hand-over is undone rather than lost.
 */
typedef void (*WeftFutureDropFunc) (WeftFuture *self);

void           weft_future_type_set_drop_func (GType              type,
                                               WeftFutureDropFunc func);
void           weft_future_drop_value       (WeftFuture   *self);

G_END_DECLS
