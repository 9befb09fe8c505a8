/* weft-sleep.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include "weft-future.h"

G_BEGIN_DECLS

WeftFuture *weft_sleep_future_new (double        delay,
                                   const GValue *result);

G_END_DECLS
