/* weft-semaphore-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "weft-semaphore.h"

G_BEGIN_DECLS

G_GNUC_INTERNAL
void weft_semaphore_setup (WeftSemaphore *self,
                           guint          value,
                           gboolean       bounded);

G_END_DECLS
