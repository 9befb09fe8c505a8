/* weft-run-threadsafe.h
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

/**
 * WeftTaskFactory:
 * @user_data: the data given to weft_run_task_factory_threadsafe()
 * @error: return location for the reason no task could be made
 *
 * Makes the task that weft_run_task_factory_threadsafe() submits. It runs
 * on the thread of the target #GMainContext, which is then the
 * thread-default context, so the task it makes (weft_task_new(),
 * weft_fiber_new(), or a subclass of #WeftTask) is bound to it.
 *
 * Returns: (transfer full) (nullable): the new task, or %NULL with @error set
 */
typedef WeftTask *(*WeftTaskFactory) (gpointer   user_data,
                                      GError   **error);

WeftFuture *weft_run_coroutine_threadsafe    (GMainContext    *context,
                                              const char      *name,
                                              WeftStepFunc     step,
                                              gpointer         user_data,
                                              GDestroyNotify   notify);
WeftFuture *weft_run_fiber_threadsafe        (GMainContext    *context,
                                              const char      *name,
                                              WeftFiberFunc    func,
                                              gpointer         user_data,
                                              GDestroyNotify   notify);
WeftFuture *weft_run_task_factory_threadsafe (GMainContext    *context,
                                              WeftTaskFactory  factory,
                                              gpointer         user_data,
                                              GDestroyNotify   notify);

G_END_DECLS
