/* weft-semaphore.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include "core/weft-future.h"

G_BEGIN_DECLS

#define WEFT_TYPE_SEMAPHORE (weft_semaphore_get_type ())

G_DECLARE_DERIVABLE_TYPE (WeftSemaphore, weft_semaphore, WEFT, SEMAPHORE, GObject)

/**
 * WeftSemaphoreClass:
 * @parent_class: the parent class
 *
 * The class of #WeftSemaphore.
 */
struct _WeftSemaphoreClass
{
  GObjectClass parent_class;

  /*< private >*/
  gpointer padding[4];
};

WeftSemaphore *weft_semaphore_new          (guint           value);
guint          weft_semaphore_get_value    (WeftSemaphore  *self);
gboolean       weft_semaphore_is_locked    (WeftSemaphore  *self);
gboolean       weft_semaphore_try_acquire  (WeftSemaphore  *self);
WeftFuture    *weft_semaphore_acquire      (WeftSemaphore  *self);
gboolean       weft_semaphore_release      (WeftSemaphore  *self,
                                            GError        **error);

G_END_DECLS
