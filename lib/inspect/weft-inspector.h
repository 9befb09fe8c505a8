/* weft-inspector.h: serving live introspection to other processes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include <glib.h>

G_BEGIN_DECLS

gboolean    weft_inspector_enable             (GError **error);
void        weft_inspector_disable            (void);
gboolean    weft_inspector_is_enabled         (void);
const char *weft_inspector_get_socket_path    (void);
void        weft_inspector_set_keep_finished  (guint    n);
guint       weft_inspector_get_keep_finished  (void);

G_END_DECLS
