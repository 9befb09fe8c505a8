/* weft-context-var.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include <glib-object.h>

G_BEGIN_DECLS

#define WEFT_TYPE_CONTEXT_VAR (weft_context_var_get_type ())

G_DECLARE_FINAL_TYPE (WeftContextVar, weft_context_var, WEFT, CONTEXT_VAR, GObject)

typedef struct _WeftContextToken WeftContextToken;

WeftContextVar   *weft_context_var_new            (const char        *name,
                                                   GType              value_type,
                                                   const GValue      *default_value);
const char       *weft_context_var_get_name       (WeftContextVar    *self);
GType             weft_context_var_get_value_type (WeftContextVar    *self);
gboolean          weft_context_var_get_default    (WeftContextVar    *self,
                                                   GValue            *value);

gboolean          weft_context_var_get            (WeftContextVar    *self,
                                                   GValue            *value,
                                                   GError           **error);
WeftContextToken *weft_context_var_set            (WeftContextVar    *self,
                                                   const GValue      *value);
gboolean          weft_context_var_reset          (WeftContextVar    *self,
                                                   WeftContextToken  *token,
                                                   GError           **error);

gboolean          weft_context_var_get_boolean    (WeftContextVar    *self,
                                                   GError           **error);
gint64            weft_context_var_get_int64      (WeftContextVar    *self,
                                                   GError           **error);
double            weft_context_var_get_double     (WeftContextVar    *self,
                                                   GError           **error);
char             *weft_context_var_dup_string     (WeftContextVar    *self,
                                                   GError           **error);
gpointer          weft_context_var_dup_object     (WeftContextVar    *self,
                                                   GError           **error);
WeftContextToken *weft_context_var_set_boolean    (WeftContextVar    *self,
                                                   gboolean           value);
WeftContextToken *weft_context_var_set_int64      (WeftContextVar    *self,
                                                   gint64             value);
WeftContextToken *weft_context_var_set_double     (WeftContextVar    *self,
                                                   double             value);
WeftContextToken *weft_context_var_set_string     (WeftContextVar    *self,
                                                   const char        *value);
WeftContextToken *weft_context_var_set_object     (WeftContextVar    *self,
                                                   gpointer           value);

G_END_DECLS
