/* weft-event.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include "core/weft-future.h"

G_BEGIN_DECLS

#define WEFT_TYPE_EVENT (weft_event_get_type ())

G_DECLARE_FINAL_TYPE (WeftEvent, weft_event, WEFT, EVENT, GObject)

WeftEvent  *weft_event_new     (void);
gboolean    weft_event_is_set  (WeftEvent *self);
void        weft_event_set     (WeftEvent *self);
void        weft_event_clear   (WeftEvent *self);
WeftFuture *weft_event_wait    (WeftEvent *self);

G_END_DECLS
