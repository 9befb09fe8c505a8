/* weft-context-token.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include "weft-context-var.h"

G_BEGIN_DECLS

#define WEFT_TYPE_CONTEXT_TOKEN (weft_context_token_get_type ())

GType             weft_context_token_get_type      (void) G_GNUC_CONST;

WeftContextToken *weft_context_token_ref           (WeftContextToken *self);
void              weft_context_token_unref         (WeftContextToken *self);
WeftContextVar   *weft_context_token_get_var       (WeftContextToken *self);
gboolean          weft_context_token_get_old_value (WeftContextToken *self,
                                                    GValue           *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WeftContextToken, weft_context_token_unref)

G_END_DECLS
