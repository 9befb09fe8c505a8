/* weft-inspect-server-private.h: the inspector thread and its D-Bus server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Errors of org.gnome.Weft.Inspector1, registered with GDBus so that a
 * client in C gets them back as this domain.
 */
#define WEFT_INSPECT_ERROR (weft_inspect_error_quark ())

typedef enum
{
  WEFT_INSPECT_ERROR_NO_SUCH_TASK,
  WEFT_INSPECT_ERROR_BUSY,
} WeftInspectError;

GQuark      weft_inspect_error_quark            (void);

/* Not thread-safe: weft-inspector.c serializes them. _stop() waits for the
 * thread; with @final, subscribers first get a last batch (at most 200 ms).
 */
gboolean    weft_inspect_server_start           (gboolean   use_session_bus,
                                                 GError   **error);
void        weft_inspect_server_stop            (gboolean   final);
const char *weft_inspect_server_get_socket_path (void);

/* For tests: how long a new peer has to log in, for the connections
 * accepted from now on. Returns the previous value.
 */
guint       weft_inspect_server_set_handshake_timeout (guint timeout_ms);

/* Called whenever a scheduler is created: honours WEFT_INSPECT=1 once. */
void        weft_inspector_autostart            (void);

G_END_DECLS
