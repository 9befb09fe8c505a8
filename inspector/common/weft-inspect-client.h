/* weft-inspect-client.h: talking to org.gnome.Weft.Inspector1
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define WEFT_INSPECT_OBJECT_PATH "/org/gnome/Weft/Inspector"
#define WEFT_INSPECT_INTERFACE   "org.gnome.Weft.Inspector1"
#define WEFT_INSPECT_ERROR_NO_SUCH_TASK WEFT_INSPECT_INTERFACE ".Error.NoSuchTask"
#define WEFT_INSPECT_ERROR_BUSY         WEFT_INSPECT_INTERFACE ".Error.Busy"

typedef void (*WeftInspectBatchFunc) (GVariant *batch,
                                      gpointer  user_data);

char            *weft_inspect_socket_dir          (void);
char            *weft_inspect_socket_path         (const char            *pid_or_path);
GArray          *weft_inspect_list_pids           (void);

GDBusConnection *weft_inspect_connect             (const char            *pid_or_path,
                                                   GCancellable          *cancellable,
                                                   GError               **error);
GVariant        *weft_inspect_get_snapshot        (GDBusConnection       *connection,
                                                   GError               **error);
GVariant        *weft_inspect_subscribe           (GDBusConnection       *connection,
                                                   guint                  interval_ms,
                                                   WeftInspectBatchFunc   func,
                                                   gpointer               user_data,
                                                   guint                 *subscription_id,
                                                   GError               **error);
GVariant        *weft_inspect_get_backtrace       (GDBusConnection       *connection,
                                                   guint64                task_id,
                                                   char                 **note,
                                                   GError               **error);
char            *weft_inspect_cancel              (GDBusConnection       *connection,
                                                   guint64                task_id,
                                                   const char            *message,
                                                   GError               **error);

G_END_DECLS
