/* weft-inspect-model.h: what a client knows of an inspected program
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* One task as the batches describe it (data/org.gnome.Weft.Inspector1.xml,
 * TASK KEYS). Owned by its model; valid until the next batch is applied.
 */
typedef struct _WeftInspectTask WeftInspectTask;

guint64      weft_inspect_task_get_id          (const WeftInspectTask *task);
GVariant    *weft_inspect_task_lookup          (const WeftInspectTask *task,
                                                const char            *key,
                                                const GVariantType    *type);
const char  *weft_inspect_task_get_string      (const WeftInspectTask *task,
                                                const char            *key);
guint64      weft_inspect_task_get_uint64      (const WeftInspectTask *task,
                                                const char            *key);
gint64       weft_inspect_task_get_int64       (const WeftInspectTask *task,
                                                const char            *key);
guint32      weft_inspect_task_get_uint32      (const WeftInspectTask *task,
                                                const char            *key);
gint64       weft_inspect_task_get_duration    (const WeftInspectTask *task,
                                                const char            *key,
                                                gint64                 now);
const char  *weft_inspect_task_get_name        (const WeftInspectTask *task);
const char  *weft_inspect_task_get_state       (const WeftInspectTask *task);
gboolean     weft_inspect_task_is_finished     (const WeftInspectTask *task);
gboolean     weft_inspect_task_get_site        (const WeftInspectTask *task,
                                                const char           **function,
                                                const char           **file,
                                                int                   *line);

#define WEFT_TYPE_INSPECT_MODEL (weft_inspect_model_get_type ())

G_DECLARE_FINAL_TYPE (WeftInspectModel, weft_inspect_model, WEFT, INSPECT_MODEL, GObject)

WeftInspectModel *weft_inspect_model_new          (void);
gboolean          weft_inspect_model_apply        (WeftInspectModel  *self,
                                                   GVariant          *batch,
                                                   GError           **error);

gboolean          weft_inspect_model_has_state    (WeftInspectModel  *self);
guint64           weft_inspect_model_get_seq      (WeftInspectModel  *self);
gint64            weft_inspect_model_get_time     (WeftInspectModel  *self);
gint64            weft_inspect_model_get_realtime (WeftInspectModel  *self);
guint             weft_inspect_model_get_pid      (WeftInspectModel  *self);
const char       *weft_inspect_model_get_program  (WeftInspectModel  *self);
guint             weft_inspect_model_get_keep     (WeftInspectModel  *self);
guint64           weft_inspect_model_get_dropped  (WeftInspectModel  *self);
GVariant         *weft_inspect_model_get_loops    (WeftInspectModel  *self);

WeftInspectTask  *weft_inspect_model_lookup_task  (WeftInspectModel  *self,
                                                   guint64            id);
WeftInspectTask  *weft_inspect_model_find_task    (WeftInspectModel  *self,
                                                   const char        *id_or_name,
                                                   GError           **error);
GPtrArray        *weft_inspect_model_list_tasks   (WeftInspectModel  *self,
                                                   gboolean           include_finished);
GPtrArray        *weft_inspect_model_list_lints   (WeftInspectModel  *self);

/* The await graph over unfinished tasks: a task awaits what its "awaits"
 * names, and a TaskGroup's owner awaits each unfinished child of its group
 * (as TaskGroup.create_task records it in Python 3.14). Arrays of guint64,
 * ascending ids; valid until the next batch.
 */
GArray           *weft_inspect_model_get_awaits      (WeftInspectModel *self,
                                                      guint64           id);
GArray           *weft_inspect_model_get_awaited_by  (WeftInspectModel *self,
                                                      guint64           id);
GPtrArray        *weft_inspect_model_list_roots      (WeftInspectModel *self);
GPtrArray        *weft_inspect_model_find_cycles     (WeftInspectModel *self);

G_END_DECLS
