/* weft-timeout.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include <glib-object.h>

G_BEGIN_DECLS

#define WEFT_TYPE_TIMEOUT (weft_timeout_get_type ())

G_DECLARE_FINAL_TYPE (WeftTimeout, weft_timeout, WEFT, TIMEOUT, GObject)

double       weft_get_time            (void);

WeftTimeout *weft_timeout_new         (double         delay);
WeftTimeout *weft_timeout_new_at      (double         when);

gboolean     weft_timeout_enter       (WeftTimeout   *self,
                                       GError       **error);
gboolean     weft_timeout_leave       (WeftTimeout   *self,
                                       GError       **error);
gboolean     weft_timeout_leave_with  (WeftTimeout   *self,
                                       const GError  *body_error,
                                       GError       **error);

double       weft_timeout_get_when    (WeftTimeout   *self);
gboolean     weft_timeout_reschedule  (WeftTimeout   *self,
                                       double         when,
                                       GError       **error);
gboolean     weft_timeout_is_expired  (WeftTimeout   *self);
char        *weft_timeout_to_string   (WeftTimeout   *self);

G_END_DECLS
