/* weft-gio-ops.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include <gio/gio.h>

#include "core/weft-future.h"

G_BEGIN_DECLS

WeftFuture *weft_file_load_contents     (GFile               *file);
WeftFuture *weft_file_replace_contents  (GFile               *file,
                                         GBytes              *contents,
                                         const char          *etag,
                                         gboolean             make_backup,
                                         GFileCreateFlags     flags);
WeftFuture *weft_socket_client_connect  (GSocketClient       *client,
                                         GSocketConnectable  *connectable);
WeftFuture *weft_subprocess_wait        (GSubprocess         *subprocess);
WeftFuture *weft_subprocess_wait_check  (GSubprocess         *subprocess);
WeftFuture *weft_dbus_connection_call   (GDBusConnection     *connection,
                                         const char          *bus_name,
                                         const char          *object_path,
                                         const char          *interface_name,
                                         const char          *method_name,
                                         GVariant            *parameters,
                                         const GVariantType  *reply_type,
                                         GDBusCallFlags       flags,
                                         int                  timeout_msec);

G_END_DECLS
