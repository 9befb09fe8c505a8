/* weft-as-completed.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include "core/weft-future.h"

G_BEGIN_DECLS

#define WEFT_TYPE_AS_COMPLETED (weft_as_completed_get_type ())

G_DECLARE_FINAL_TYPE (WeftAsCompleted, weft_as_completed, WEFT, AS_COMPLETED, GObject)

WeftAsCompleted *weft_as_completed_new         (WeftFuture      **futures,
                                                guint             n_futures,
                                                double            timeout);
WeftFuture      *weft_as_completed_next        (WeftAsCompleted  *self);
guint            weft_as_completed_get_n_left  (WeftAsCompleted  *self);

G_END_DECLS
