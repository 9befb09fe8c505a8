/* weft-fiber.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include "core/weft-task.h"

G_BEGIN_DECLS

#define WEFT_TYPE_FIBER (weft_fiber_get_type ())

G_DECLARE_FINAL_TYPE (WeftFiber, weft_fiber, WEFT, FIBER, WeftTask)

/**
 * WeftFiberFunc:
 * @task: the task the fiber runs
 * @user_data: the data given to weft_fiber_new()
 *
 * The body of a fiber: a plain C function that runs on its own stack and
 * suspends in weft_await() and friends. It finishes the task with a
 * `weft_task_return_*()` call; returning without one finishes it with no
 * value.
 */
typedef void (*WeftFiberFunc) (WeftTask *task,
                               gpointer  user_data);

WeftTask  *weft_fiber_new                    (const char          *name,
                                              WeftFiberFunc        func,
                                              gpointer             user_data,
                                              GDestroyNotify       notify);
WeftTask  *weft_fiber_new_full               (const char          *name,
                                              WeftContext         *context,
                                              WeftTaskFlags        flags,
                                              WeftFiberFunc        func,
                                              gpointer             user_data,
                                              GDestroyNotify       notify);
void       weft_fiber_set_default_stack_size (gsize                stack_size);
gsize      weft_fiber_get_default_stack_size (void);

gboolean   weft_await_at                     (const WeftAwaitSite *site,
                                              WeftFuture          *future,
                                              GError             **error);
gboolean   weft_await_value_at               (const WeftAwaitSite *site,
                                              WeftFuture          *future,
                                              GValue              *value,
                                              GError             **error);
gboolean   weft_await_boolean_at             (const WeftAwaitSite *site,
                                              WeftFuture          *future,
                                              GError             **error);
gint64     weft_await_int64_at               (const WeftAwaitSite *site,
                                              WeftFuture          *future,
                                              GError             **error);
double     weft_await_double_at              (const WeftAwaitSite *site,
                                              WeftFuture          *future,
                                              GError             **error);
char      *weft_await_string_at              (const WeftAwaitSite *site,
                                              WeftFuture          *future,
                                              GError             **error);
gpointer   weft_await_object_at              (const WeftAwaitSite *site,
                                              WeftFuture          *future,
                                              GError             **error);
gpointer   weft_await_boxed_at               (const WeftAwaitSite *site,
                                              WeftFuture          *future,
                                              GError             **error);
gpointer   weft_await_pointer_at             (const WeftAwaitSite *site,
                                              WeftFuture          *future,
                                              GError             **error);
gboolean   weft_sleep_at                     (const WeftAwaitSite *site,
                                              double               delay,
                                              GError             **error);

#ifndef __GI_SCANNER__
# define weft_await(future, error)          weft_await_at (WEFT_AWAIT_SITE, (future), (error))
# define weft_await_value(future, v, error) weft_await_value_at (WEFT_AWAIT_SITE, (future), (v), (error))
# define weft_await_boolean(future, error)  weft_await_boolean_at (WEFT_AWAIT_SITE, (future), (error))
# define weft_await_int64(future, error)    weft_await_int64_at (WEFT_AWAIT_SITE, (future), (error))
# define weft_await_double(future, error)   weft_await_double_at (WEFT_AWAIT_SITE, (future), (error))
# define weft_await_string(future, error)   weft_await_string_at (WEFT_AWAIT_SITE, (future), (error))
# define weft_await_object(future, error)   weft_await_object_at (WEFT_AWAIT_SITE, (future), (error))
# define weft_await_boxed(future, error)    weft_await_boxed_at (WEFT_AWAIT_SITE, (future), (error))
# define weft_await_pointer(future, error)  weft_await_pointer_at (WEFT_AWAIT_SITE, (future), (error))
# define weft_sleep(delay, error)           weft_sleep_at (WEFT_AWAIT_SITE, (delay), (error))
#endif

G_END_DECLS
