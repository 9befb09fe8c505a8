/* weft.h — asyncio's Coroutines and Tasks, native to GLib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#define WEFT_INSIDE
# include "core/weft-await-site.h"
# include "core/weft-error.h"
# include "core/weft-future.h"
# include "gio/weft-gio.h"
# include "core/weft-task.h"
# include "core/weft-sleep.h"
# include "core/weft-run.h"
# include "coroutines/weft-fiber.h"
# include "sync/weft-barrier.h"
# include "sync/weft-bounded-semaphore.h"
# include "sync/weft-condition.h"
# include "sync/weft-event.h"
# include "sync/weft-lifo-queue.h"
# include "sync/weft-lock.h"
# include "sync/weft-priority-queue.h"
# include "sync/weft-queue.h"
# include "sync/weft-semaphore.h"
# include "weft-enums.h"
#undef WEFT_INSIDE
