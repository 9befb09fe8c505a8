/* weft-lock.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include "core/weft-future.h"

G_BEGIN_DECLS

#define WEFT_TYPE_LOCK (weft_lock_get_type ())

G_DECLARE_FINAL_TYPE (WeftLock, weft_lock, WEFT, LOCK, GObject)

WeftLock   *weft_lock_new          (void);
gboolean    weft_lock_is_locked    (WeftLock  *self);
gboolean    weft_lock_try_acquire  (WeftLock  *self);
WeftFuture *weft_lock_acquire      (WeftLock  *self);
gboolean    weft_lock_release      (WeftLock  *self,
                                    GError   **error);

G_END_DECLS
