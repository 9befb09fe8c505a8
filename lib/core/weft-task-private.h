/* weft-task-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "weft-task.h"

G_BEGIN_DECLS

gboolean  weft_task_is_stepping      (WeftTask *self);
gboolean  weft_task_has_started      (WeftTask *self);
void      weft_task_finish_step      (WeftTask *self);

G_END_DECLS
