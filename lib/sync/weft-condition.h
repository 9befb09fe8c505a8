/* weft-condition.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include "sync/weft-lock.h"

G_BEGIN_DECLS

#define WEFT_TYPE_CONDITION (weft_condition_get_type ())

G_DECLARE_FINAL_TYPE (WeftCondition, weft_condition, WEFT, CONDITION, GObject)

WeftCondition *weft_condition_new         (WeftLock       *lock);
WeftLock      *weft_condition_get_lock    (WeftCondition  *self);
WeftFuture    *weft_condition_wait        (WeftCondition  *self,
                                           GError        **error);
gboolean       weft_condition_notify      (WeftCondition  *self,
                                           guint           n,
                                           GError        **error);
gboolean       weft_condition_notify_all  (WeftCondition  *self,
                                           GError        **error);

G_END_DECLS
