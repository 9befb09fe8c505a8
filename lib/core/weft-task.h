/* weft-task.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include <gio/gio.h>

#include "context/weft-context.h"
#include "weft-await-site.h"
#include "weft-future.h"

G_BEGIN_DECLS

#define WEFT_TYPE_TASK (weft_task_get_type ())

G_DECLARE_DERIVABLE_TYPE (WeftTask, weft_task, WEFT, TASK, WeftFuture)

/**
 * WeftTaskClass:
 * @parent_class: the parent class
 * @step: runs the coroutine until it next awaits, yields or returns
 *
 * The class of #WeftTask. A coroutine kind is a subclass that implements
 * @step; #WeftFiber is one.
 *
 * @step receives @awaited, the future whose completion resumed the task
 * (%NULL on the first step and after a yield), and @error, the error the
 * await raises (%NULL when it returns normally): the awaited future's error,
 * or %G_IO_ERROR_CANCELLED when the task is being cancelled. A step must end
 * with exactly one of weft_task_await(), weft_task_yield(), weft_task_sleep()
 * or a `weft_task_return_*()` call.
 */
struct _WeftTaskClass
{
  WeftFutureClass parent_class;

  void (*step) (WeftTask     *self,
                WeftFuture   *awaited,
                const GError *error);

  /*< private >*/
  gpointer padding[8];
};

/**
 * WeftStepFunc:
 * @task: the task being stepped
 * @awaited: (nullable): the future whose completion resumed @task
 * @error: (nullable): the error raised at the await, or %NULL
 * @user_data: the data given to weft_task_new()
 *
 * One step of a stackless coroutine; see #WeftTaskClass.step.
 */
typedef void (*WeftStepFunc) (WeftTask     *task,
                              WeftFuture   *awaited,
                              const GError *error,
                              gpointer      user_data);

/**
 * WeftTaskFlags:
 * @WEFT_TASK_FLAGS_NONE: start as the #GMainContext's default says; see
 *   weft_task_set_eager_start_default()
 * @WEFT_TASK_FLAGS_EAGER_START: run the first step inside the creating
 *   call, if the context is being dispatched (asyncio's eager_start=True)
 * @WEFT_TASK_FLAGS_LAZY_START: queue the first step, whatever the
 *   context's default (asyncio's eager_start=False)
 *
 * How a task starts.
 */
typedef enum /*< flags >*/
{
  WEFT_TASK_FLAGS_NONE        = 0,
  WEFT_TASK_FLAGS_EAGER_START = 1 << 0,
  WEFT_TASK_FLAGS_LAZY_START  = 1 << 1,
} WeftTaskFlags;

WeftTask       *weft_task_new                (const char          *name,
                                              WeftStepFunc         step,
                                              gpointer             user_data,
                                              GDestroyNotify       notify);
WeftTask       *weft_task_new_full           (const char          *name,
                                              WeftContext         *context,
                                              WeftTaskFlags        flags,
                                              WeftStepFunc         step,
                                              gpointer             user_data,
                                              GDestroyNotify       notify);
WeftTask       *weft_task_new_for_type       (GType                task_type,
                                              const char          *name,
                                              WeftContext         *context,
                                              WeftTaskFlags        flags);
void            weft_task_set_eager_start_default (GMainContext   *context,
                                              gboolean             eager_start);
gboolean        weft_task_get_eager_start_default (GMainContext   *context);
WeftContext    *weft_task_get_context        (WeftTask            *self);

void            weft_task_await              (WeftTask            *self,
                                              WeftFuture          *future);
void            weft_task_await_at           (WeftTask            *self,
                                              WeftFuture          *future,
                                              const WeftAwaitSite *site);
void            weft_task_await_take         (WeftTask            *self,
                                              WeftFuture          *future);
void            weft_task_await_take_at      (WeftTask            *self,
                                              WeftFuture          *future,
                                              const WeftAwaitSite *site);
void            weft_task_yield              (WeftTask            *self);
void            weft_task_sleep              (WeftTask            *self,
                                              double               delay);
void            weft_task_sleep_at           (WeftTask            *self,
                                              double               delay,
                                              const WeftAwaitSite *site);

void            weft_task_return_value       (WeftTask            *self,
                                              const GValue        *value);
void            weft_task_return_void        (WeftTask            *self);
void            weft_task_return_boolean     (WeftTask            *self,
                                              gboolean             value);
void            weft_task_return_int64       (WeftTask            *self,
                                              gint64               value);
void            weft_task_return_double      (WeftTask            *self,
                                              double               value);
void            weft_task_return_string      (WeftTask            *self,
                                              const char          *value);
void            weft_task_return_object      (WeftTask            *self,
                                              gpointer             object);
void            weft_task_return_boxed       (WeftTask            *self,
                                              GType                boxed_type,
                                              gconstpointer        boxed);
void            weft_task_return_pointer     (WeftTask            *self,
                                              gpointer             pointer,
                                              GDestroyNotify       destroy);
void            weft_task_return_error       (WeftTask            *self,
                                              GError              *error);

gboolean        weft_task_cancel             (WeftTask            *self,
                                              const char          *message);
guint           weft_task_get_cancelling     (WeftTask            *self);
guint           weft_task_uncancel           (WeftTask            *self);
GCancellable   *weft_task_get_cancellable    (WeftTask            *self);

guint64         weft_task_get_id             (WeftTask            *self);
const char     *weft_task_get_name           (WeftTask            *self);
void            weft_task_set_name           (WeftTask            *self,
                                              const char          *name);
gboolean        weft_task_is_suspended       (WeftTask            *self);
WeftFuture     *weft_task_get_awaited        (WeftTask            *self);

GPtrArray      *weft_task_get_stack          (WeftTask            *self,
                                              int                  limit);
char           *weft_task_format_stack       (WeftTask            *self,
                                              int                  limit);
void            weft_task_print_stack        (WeftTask            *self,
                                              int                  limit);

WeftTask       *weft_task_get_current        (void);
GPtrArray      *weft_task_list_all           (GMainContext        *context);

#ifndef __GI_SCANNER__
# define weft_task_await(self, future) \
  weft_task_await_at ((self), (future), WEFT_AWAIT_SITE)
# define weft_task_await_take(self, future) \
  weft_task_await_take_at ((self), (future), WEFT_AWAIT_SITE)
# define weft_task_sleep(self, delay) \
  weft_task_sleep_at ((self), (delay), WEFT_AWAIT_SITE)
#endif

G_END_DECLS
