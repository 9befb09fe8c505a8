/* weft-gather.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (WEFT_INSIDE) && !defined (WEFT_COMPILATION)
# error "Only <weft.h> can be included directly."
#endif

#include "core/weft-future.h"

G_BEGIN_DECLS

#define WEFT_TYPE_GATHER (weft_gather_get_type ())

G_DECLARE_FINAL_TYPE (WeftGather, weft_gather, WEFT, GATHER, WeftFuture)

WeftGather *weft_gather_new           (WeftFuture  **futures,
                                       guint         n_futures,
                                       gboolean      return_exceptions);
guint       weft_gather_get_n_results (WeftGather   *self);
gboolean    weft_gather_get_result    (WeftGather   *self,
                                       guint         index,
                                       GValue       *value,
                                       GError      **error);
WeftFuture *weft_gather_get_child     (WeftGather   *self,
                                       guint         index);

G_END_DECLS
