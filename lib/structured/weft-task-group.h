/* weft-task-group.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include "core/weft-task.h"
#include "coroutines/weft-fiber.h"

G_BEGIN_DECLS

#define WEFT_TYPE_TASK_GROUP (weft_task_group_get_type ())

G_DECLARE_FINAL_TYPE (WeftTaskGroup, weft_task_group, WEFT, TASK_GROUP, GObject)

WeftTaskGroup *weft_task_group_new                  (GError              **error);
WeftTaskGroup *weft_task_group_new_at               (const WeftAwaitSite  *site,
                                                     GError              **error);

WeftTask      *weft_task_group_create_task_full     (WeftTaskGroup        *self,
                                                     const char           *name,
                                                     WeftContext          *context,
                                                     WeftTaskFlags         flags,
                                                     WeftStepFunc          step,
                                                     gpointer              user_data,
                                                     GDestroyNotify        notify,
                                                     GError              **error);
WeftTask      *weft_task_group_create_fiber_full    (WeftTaskGroup        *self,
                                                     const char           *name,
                                                     WeftContext          *context,
                                                     WeftTaskFlags         flags,
                                                     WeftFiberFunc         func,
                                                     gpointer              user_data,
                                                     GDestroyNotify        notify,
                                                     GError              **error);
WeftTask      *weft_task_group_create_task          (WeftTaskGroup        *self,
                                                     const char           *name,
                                                     WeftStepFunc          step,
                                                     gpointer              user_data,
                                                     GDestroyNotify        notify,
                                                     GError              **error);
WeftTask      *weft_task_group_create_fiber         (WeftTaskGroup        *self,
                                                     const char           *name,
                                                     WeftFiberFunc         func,
                                                     gpointer              user_data,
                                                     GDestroyNotify        notify,
                                                     GError              **error);
gboolean       weft_task_group_add_task             (WeftTaskGroup        *self,
                                                     WeftTask             *task,
                                                     GError              **error);

WeftFuture    *weft_task_group_wait                 (WeftTaskGroup        *self,
                                                     const GError         *body_error);

WeftTask      *weft_task_group_get_parent           (WeftTaskGroup        *self);
guint          weft_task_group_get_n_tasks          (WeftTaskGroup        *self);
guint          weft_task_group_get_n_failures       (WeftTaskGroup        *self);
const GError  *weft_task_group_get_failure          (WeftTaskGroup        *self,
                                                     guint                 index,
                                                     WeftTask            **task);
const char    *weft_task_group_get_failure_name     (WeftTaskGroup        *self,
                                                     guint                 index);

guint          weft_task_group_error_get_n_failures   (const GError *error);
const GError  *weft_task_group_error_get_failure      (const GError *error,
                                                       guint         index,
                                                       WeftTask    **task);
const char    *weft_task_group_error_get_failure_name (const GError *error,
                                                       guint         index);

#ifndef __GI_SCANNER__
# define weft_task_group_new(error) weft_task_group_new_at (WEFT_AWAIT_SITE, (error))
#endif

G_END_DECLS
