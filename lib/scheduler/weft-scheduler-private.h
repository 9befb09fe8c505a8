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

/* A timer that, when due, appends @runnable to the ready queue. */
typedef struct
{
  WeftTimer     timer;
  WeftRunnable *runnable;
} WeftScheduledTimer;

/* One per GMainContext: the GSource that owns the ready FIFO, the timers
 * and the registry of unfinished tasks.
 */
typedef struct _WeftScheduler WeftScheduler;

WeftScheduler *weft_scheduler_get_thread_default (void);
WeftScheduler *weft_scheduler_get_for_context    (GMainContext       *context);
WeftScheduler *weft_scheduler_get_running        (void);
GMainContext  *weft_scheduler_get_context        (WeftScheduler      *self);

void           weft_scheduler_push               (WeftScheduler      *self,
                                                  WeftRunnable       *runnable);
void           weft_scheduler_push_chain         (WeftScheduler      *self,
                                                  WeftRunnable       *head,
                                                  WeftRunnable       *tail);
void           weft_scheduler_add_timer          (WeftScheduler      *self,
                                                  WeftScheduledTimer *timer,
                                                  gint64              deadline);
void           weft_scheduler_remove_timer       (WeftScheduler      *self,
                                                  WeftScheduledTimer *timer);
guint          weft_scheduler_run_pass           (WeftScheduler      *self);

gpointer       weft_scheduler_get_current_task   (WeftScheduler      *self);
gpointer       weft_scheduler_swap_current_task  (WeftScheduler      *self,
                                                  gpointer            task);
void           weft_scheduler_register_task      (WeftScheduler      *self,
                                                  GList              *link);
void           weft_scheduler_unregister_task    (WeftScheduler      *self,
                                                  GList              *link);
const GList   *weft_scheduler_peek_tasks         (WeftScheduler      *self);

G_END_DECLS
