/* weft-inspect-private.h: what the rest of Weft sees of live inspection
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "weft-task.h"

G_BEGIN_DECLS

/* Nonzero once recording started. Every hook in a hot path sits behind
 * WEFT_INSPECTING(), so a program that never inspects pays one
 * predictable branch; a build with -Dinspect=disabled pays nothing.
 */
#ifdef WEFT_INSPECT_DISABLED
# define WEFT_INSPECTING() 0
#else
extern int weft_inspect_on;
# define WEFT_INSPECTING() G_UNLIKELY (__atomic_load_n (&weft_inspect_on, __ATOMIC_ACQUIRE))
#endif

/* The registry: a record per task, written by the task's own thread,
 * read by the inspector thread.
 */
void      weft_inspect_registry_start     (void);
void      weft_inspect_registry_set_keep  (guint keep_finished);
guint     weft_inspect_registry_get_keep  (void);
void      weft_inspect_registry_note_exit (void);
const char *weft_inspect_program_name   (void);

/* Turns the registry into batches (data/org.gnome.Weft.Inspector1.xml).
 * One collector per stream of deltas; used by the inspector thread.
 */
typedef struct _WeftInspectCollector WeftInspectCollector;

WeftInspectCollector *weft_inspect_collector_new   (void);
void                  weft_inspect_collector_free  (WeftInspectCollector *self);
GVariant             *weft_inspect_collector_full  (WeftInspectCollector *self);
GVariant             *weft_inspect_collector_delta (WeftInspectCollector *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WeftInspectCollector, weft_inspect_collector_free)

/* Calls @func on the thread that runs task @task_id's context, with the
 * task, or with %NULL if it is gone by then. From any thread.
 *
 * Returns: %FALSE if no unfinished task has that id (@notify is called).
 */
typedef void (*WeftInspectTaskFunc) (WeftTask *task,
                                     gpointer  user_data);

gboolean  weft_inspect_invoke_on_task     (guint64              task_id,
                                           WeftInspectTaskFunc  func,
                                           gpointer             user_data,
                                           GDestroyNotify       notify);

G_END_DECLS
