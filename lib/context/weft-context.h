/* weft-context.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include <glib-object.h>

#include "weft-context-var.h"

G_BEGIN_DECLS

#define WEFT_TYPE_CONTEXT (weft_context_get_type ())

typedef struct _WeftContext WeftContext;

/**
 * WeftContextFunc:
 * @user_data: the data given to weft_context_run()
 *
 * A function run inside a #WeftContext.
 */
typedef void (*WeftContextFunc) (gpointer user_data);

GType           weft_context_get_type        (void) G_GNUC_CONST;

WeftContext    *weft_context_new             (void);
WeftContext    *weft_context_copy_current    (void);
WeftContext    *weft_context_copy            (WeftContext      *self);
WeftContext    *weft_context_ref             (WeftContext      *self);
void            weft_context_unref           (WeftContext      *self);

gboolean        weft_context_run             (WeftContext      *self,
                                              WeftContextFunc   func,
                                              gpointer          user_data,
                                              GError          **error);

gboolean        weft_context_get_value       (WeftContext      *self,
                                              WeftContextVar   *var,
                                              GValue           *value);
gboolean        weft_context_contains        (WeftContext      *self,
                                              WeftContextVar   *var);
guint           weft_context_get_size        (WeftContext      *self);
GPtrArray      *weft_context_list_vars       (WeftContext      *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WeftContext, weft_context_unref)

G_END_DECLS
