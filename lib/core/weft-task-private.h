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
const char *weft_task_peek_name        (WeftTask *self);
void        weft_task_recancel_after_resume (WeftTask *self);

G_END_DECLS
