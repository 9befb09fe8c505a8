/* weft-task-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "weft-task.h"

G_BEGIN_DECLS

WeftTask   *weft_task_construct        (GType          task_type);
void        weft_task_start            (WeftTask      *self,
                                        WeftContext   *context,
                                        WeftTaskFlags  flags);
gboolean    weft_task_is_stepping      (WeftTask *self);
gboolean    weft_task_is_in_step_context (WeftTask *self);
const char *weft_task_peek_name        (WeftTask *self);
void        weft_task_recancel_after_resume (WeftTask *self);

/* Two futures the synchronization primitives reuse as the task's waiters,
 * so that a wait allocates nothing once they exist. Two, because the step
 * that resumes from one still holds it while it starts the next wait.
 */
#define WEFT_TASK_N_WAIT_SLOTS 2

WeftFuture **weft_task_get_wait_slots  (WeftTask *self);

G_END_DECLS
