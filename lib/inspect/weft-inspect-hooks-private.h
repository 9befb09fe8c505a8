/* weft-inspect-hooks-private.h: what the core tells the inspection registry
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every call here is made by the thread that runs the task's context, and
 * only behind WEFT_INSPECTING(): see weft-inspect-registry.c for the
 * threading rules of the records.
 */

#pragma once

#include "weft-context-map-private.h"
#include "weft-inspect-private.h"
#include "weft-scheduler-private.h"
#include "weft-task-group.h"
#include "weft-tls-private.h"

G_BEGIN_DECLS

typedef struct _WeftInspectRecord WeftInspectRecord;
typedef struct _WeftInspectLoop   WeftInspectLoop;

/* A step's own bookkeeping, on the stack of the call that runs it. */
typedef struct
{
  gint64              start;            /* ticks */
  guint64             outer_task;       /* the step this one runs inside, if eager */
  gint64              outer_start;
} WeftInspectStep;

typedef enum
{
  WEFT_INSPECT_SCHEDULED,
  WEFT_INSPECT_RUNNING,
  WEFT_INSPECT_SUSPENDED,
  WEFT_INSPECT_DONE,
  WEFT_INSPECT_FAILED,
  WEFT_INSPECT_CANCELLED,
} WeftInspectState;

/* What a task does between steps, as its task tells its record. */
typedef struct
{
  WeftInspectState     state;
  WeftFuture          *awaited;
  const WeftAwaitSite *site;
  gint64               sleep_deadline_us;
  WeftContextMap      *map;
  guint                cancelling;
} WeftInspectActivity;

typedef enum
{
  WEFT_INSPECT_KIND_FIBER,
  WEFT_INSPECT_KIND_STACKLESS,
  WEFT_INSPECT_KIND_BINDING,
} WeftInspectKind;

/* The return address of the public call creating a task: the outermost
 * entry point sets it, the task's record takes it.
 */
#ifdef WEFT_INSPECT_DISABLED
# define WEFT_INSPECT_MARK_CREATOR() G_STMT_START { } G_STMT_END
#else
extern WEFT_THREAD_LOCAL gpointer weft_inspect_creator;
# define WEFT_INSPECT_MARK_CREATOR()                                    \
  G_STMT_START {                                                        \
    if (WEFT_INSPECTING () && weft_inspect_creator == NULL)             \
      weft_inspect_creator = __builtin_return_address (0);              \
  } G_STMT_END
#endif

extern int weft_inspect_shields_made;

/* Loops: one per scheduler, made with its first recorded task. */
WeftInspectLoop   *weft_scheduler_get_inspect_loop   (WeftScheduler      *scheduler);
WeftInspectLoop   *weft_inspect_loop_new             (GMainContext       *context);
void               weft_inspect_loop_detach          (WeftInspectLoop    *loop);
void               weft_inspect_loop_iterating       (WeftInspectLoop    *loop,
                                                      gint64              now_us,
                                                      gboolean            polling);
gboolean           weft_inspect_loop_recheck_due     (WeftInspectLoop    *loop,
                                                      gint64              now_us);

/* Tasks. */
WeftInspectRecord *weft_inspect_task_started         (WeftTask           *task,
                                                      guint64             id,
                                                      const char         *name,
                                                      guint64             parent,
                                                      WeftInspectLoop    *loop,
                                                      WeftInspectKind     kind,
                                                      gpointer            function);
void               weft_inspect_task_scheduled       (WeftInspectRecord  *record);
void               weft_inspect_task_step_begin      (WeftInspectRecord  *record,
                                                      WeftInspectStep    *step,
                                                      const GError       *error,
                                                      guint               cancelling);
void               weft_inspect_task_step_end        (WeftInspectRecord  *record,
                                                      const WeftInspectStep *step,
                                                      const WeftInspectActivity *activity);
void               weft_inspect_task_adopted         (WeftInspectRecord  *record,
                                                      const WeftInspectActivity *activity);
void               weft_inspect_task_check_wait      (WeftInspectRecord  *record,
                                                      WeftFuture         *awaited);
void               weft_inspect_task_cancel_requested (WeftInspectRecord *record,
                                                      const char         *message,
                                                      guint               cancelling);
void               weft_inspect_task_uncancelled     (WeftInspectRecord  *record,
                                                      guint               cancelling);
void               weft_inspect_task_renamed         (WeftInspectRecord  *record,
                                                      const char         *name);
void               weft_inspect_task_completed       (WeftInspectRecord  *record,
                                                      const GValue       *value,
                                                      const GError       *error,
                                                      guint               cancelling);
void               weft_inspect_task_grouped         (WeftInspectRecord  *record,
                                                      guint64             group,
                                                      guint64             owner);
void               weft_inspect_task_retired         (WeftInspectRecord  *record);
void               weft_inspect_task_finalized       (WeftInspectRecord  *record,
                                                      guint64             id,
                                                      const GError       *unread_error);

/* Owned by the modules that know what their futures wait for; each returns
 * %FALSE if @future is not its kind. Appends task ids to @ids.
 */
gboolean           weft_gather_inspect_tasks         (WeftFuture         *future,
                                                      GArray             *ids,
                                                      guint              *n_children);
gboolean           weft_wait_future_inspect_tasks    (WeftFuture         *future,
                                                      GArray             *ids,
                                                      guint              *n_children);
gboolean           weft_task_group_future_inspect_tasks (WeftFuture      *future,
                                                      GArray             *ids,
                                                      guint              *n_children);
guint64            weft_task_group_inspect_number    (WeftTaskGroup      *group);
void               weft_shield_inspect_note_inner    (WeftFuture         *outer,
                                                      WeftFuture         *inner);
guint64            weft_shield_inspect_inner_task    (WeftFuture         *outer);
gpointer           weft_fiber_inspect_function       (WeftTask           *fiber);
WeftInspectRecord *weft_task_inspect_peek_record     (WeftTask           *task);
void               weft_task_inspect_check_waits     (WeftScheduler      *scheduler);
void               weft_task_inspect_adopt           (WeftScheduler      *scheduler);
const GError      *weft_future_peek_unread_error     (WeftFuture         *future);

G_END_DECLS
