/* weft-scheduler-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "weft-timer-heap-private.h"

G_BEGIN_DECLS

typedef struct _WeftRunnable WeftRunnable;
typedef void (*WeftRunnableFunc) (WeftRunnable *runnable);

/* An entry of the ready queue. It is embedded in its owner (a task, a done
 * callback), so scheduling one allocates nothing.
 */
struct _WeftRunnable
{
  WeftRunnable     *next;
  WeftRunnableFunc  run;
};

/* A runnable that can also wait on the timer heap: once due, it is
 * appended to the ready queue.
 */
typedef struct
{
  WeftRunnable runnable;
  WeftTimer    timer;
} WeftTimedRunnable;

/* An intrusive link in the registry of unfinished tasks. */
typedef struct _WeftLink WeftLink;

struct _WeftLink
{
  WeftLink *prev;
  WeftLink *next;
};

/* One per GMainContext: the GSource that owns the ready FIFO, the timers
 * and the registry of unfinished tasks.
 */
typedef struct _WeftScheduler WeftScheduler;

WeftScheduler *weft_scheduler_get_thread_default (void);
WeftScheduler *weft_scheduler_get_for_context    (GMainContext       *context);
WeftScheduler *weft_scheduler_get_running        (void);
gboolean       weft_scheduler_is_foreign_thread  (WeftScheduler      *self);
void           weft_scheduler_wake_if_elsewhere  (WeftScheduler      *self);
GMainContext  *weft_scheduler_get_context        (WeftScheduler      *self);
void           weft_scheduler_hold_context       (WeftScheduler      *self);
void           weft_scheduler_release_context    (WeftScheduler      *self);
void           weft_scheduler_begin_background   (WeftScheduler      *self);
void           weft_scheduler_end_background     (WeftScheduler      *self);
gboolean       weft_scheduler_has_background     (WeftScheduler      *self);

void           weft_scheduler_push               (WeftScheduler      *self,
                                                  WeftRunnable       *runnable);
void           weft_scheduler_push_chain         (WeftScheduler      *self,
                                                  WeftRunnable       *head,
                                                  WeftRunnable       *tail);
void           weft_scheduler_add_timer          (WeftScheduler      *self,
                                                  WeftTimedRunnable  *timed,
                                                  gint64              deadline);
void           weft_scheduler_remove_timer       (WeftScheduler      *self,
                                                  WeftTimedRunnable  *timed);
guint          weft_scheduler_run_pass           (WeftScheduler      *self);

gpointer       weft_scheduler_get_current_task   (WeftScheduler      *self);
gpointer       weft_scheduler_swap_current_task  (WeftScheduler      *self,
                                                  gpointer            task);
void           weft_scheduler_register_task      (WeftScheduler      *self,
                                                  WeftLink           *link);
void           weft_scheduler_unregister_task    (WeftScheduler      *self,
                                                  WeftLink           *link);
const WeftLink *weft_scheduler_peek_tasks        (WeftScheduler      *self);
gboolean       weft_scheduler_get_eager_start    (WeftScheduler      *self);
void           weft_scheduler_set_eager_start    (WeftScheduler      *self,
                                                  gboolean            eager_start);

G_END_DECLS
