/* weft.h — asyncio's Coroutines and Tasks, native to GLib
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#define WEFT_INSIDE
# include "core/weft-await-site.h"
# include "core/weft-error.h"
# include "context/weft-context-var.h"
# include "context/weft-context-token.h"
# include "context/weft-context.h"
# include "core/weft-future.h"
# include "gio/weft-gio-future.h"
# include "gio/weft-gio-ops.h"
# include "core/weft-task.h"
# include "core/weft-sleep.h"
# include "core/weft-run.h"
# include "coroutines/weft-fiber.h"
# include "structured/weft-timeout.h"
# include "structured/weft-wait-for.h"
# include "combinators/weft-gather.h"
# include "combinators/weft-shield.h"
# include "combinators/weft-wait-future.h"
# include "combinators/weft-as-completed.h"
# include "structured/weft-task-group.h"
# include "threads/weft-to-thread.h"
# include "threads/weft-run-threadsafe.h"
# include "sync/weft-barrier.h"
# include "sync/weft-bounded-semaphore.h"
# include "sync/weft-condition.h"
# include "sync/weft-event.h"
# include "sync/weft-lifo-queue.h"
# include "sync/weft-lock.h"
# include "sync/weft-priority-queue.h"
# include "sync/weft-queue.h"
# include "sync/weft-semaphore.h"
# include "inspect/weft-inspector.h"
# include "weft-enums.h"
#undef WEFT_INSIDE
