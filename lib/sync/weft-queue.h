/* weft-queue.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include "core/weft-future.h"

G_BEGIN_DECLS

#define WEFT_TYPE_QUEUE (weft_queue_get_type ())

G_DECLARE_DERIVABLE_TYPE (WeftQueue, weft_queue, WEFT, QUEUE, GObject)

/**
 * WeftQueueClass:
 * @parent_class: the parent class
 *
 * The class of #WeftQueue.
 */
struct _WeftQueueClass
{
  GObjectClass parent_class;

  /*< private >*/
  gpointer padding[4];
};

WeftQueue  *weft_queue_new            (guint            maxsize);
WeftQueue  *weft_queue_new_full       (guint            maxsize,
                                       GDestroyNotify   item_free_func);
guint       weft_queue_get_maxsize    (WeftQueue       *self);
guint       weft_queue_get_size       (WeftQueue       *self);
gboolean    weft_queue_is_empty       (WeftQueue       *self);
gboolean    weft_queue_is_full        (WeftQueue       *self);
WeftFuture *weft_queue_put            (WeftQueue       *self,
                                       gpointer         item);
gboolean    weft_queue_put_nowait     (WeftQueue       *self,
                                       gpointer         item,
                                       GError         **error);
WeftFuture *weft_queue_get            (WeftQueue       *self);
gpointer    weft_queue_get_nowait     (WeftQueue       *self,
                                       GError         **error);
gboolean    weft_queue_task_done      (WeftQueue       *self,
                                       GError         **error);
WeftFuture *weft_queue_join           (WeftQueue       *self);
void        weft_queue_shutdown       (WeftQueue       *self,
                                       gboolean         immediate);

G_END_DECLS
