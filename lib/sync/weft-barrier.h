/* weft-barrier.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include "core/weft-future.h"

G_BEGIN_DECLS

#define WEFT_TYPE_BARRIER (weft_barrier_get_type ())

G_DECLARE_FINAL_TYPE (WeftBarrier, weft_barrier, WEFT, BARRIER, GObject)

WeftBarrier *weft_barrier_new            (guint        parties);
WeftFuture  *weft_barrier_wait           (WeftBarrier *self);
void         weft_barrier_reset          (WeftBarrier *self);
void         weft_barrier_abort          (WeftBarrier *self);
guint        weft_barrier_get_parties    (WeftBarrier *self);
guint        weft_barrier_get_n_waiting  (WeftBarrier *self);
gboolean     weft_barrier_is_broken      (WeftBarrier *self);

G_END_DECLS
