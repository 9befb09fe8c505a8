/* weft-lock-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "weft-lock.h"
#include "weft-waiter-private.h"

G_BEGIN_DECLS

G_GNUC_INTERNAL
void weft_lock_enqueue    (WeftLock   *self,
                           WeftWaiter *waiter);
G_GNUC_INTERNAL
void weft_lock_hand_over  (WeftLock   *self);

G_END_DECLS
