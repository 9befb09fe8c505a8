/* weft-bounded-semaphore.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include "sync/weft-semaphore.h"

G_BEGIN_DECLS

#define WEFT_TYPE_BOUNDED_SEMAPHORE (weft_bounded_semaphore_get_type ())

G_DECLARE_FINAL_TYPE (WeftBoundedSemaphore, weft_bounded_semaphore, WEFT, BOUNDED_SEMAPHORE, WeftSemaphore)

WeftSemaphore *weft_bounded_semaphore_new (guint value);

G_END_DECLS
