/* weft-shield.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include "core/weft-future.h"

G_BEGIN_DECLS

WeftFuture *weft_shield (WeftFuture *inner);

G_END_DECLS
