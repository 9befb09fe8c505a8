/* weft-inspect-views.h: what weft-inspect prints, from a model
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Live commands and `weft-inspect replay` print through these, so a
 * replay prints what the live command printed at that moment.
 */

#pragma once

#include "weft-inspect-model.h"

G_BEGIN_DECLS

typedef struct
{
  guint    width;     /* terminal columns, 0 for no limit */
  guint    height;    /* terminal rows, 0 for no limit */
  gboolean color;
} WeftInspectViewStyle;

void     weft_inspect_view_ps     (WeftInspectModel           *model,
                                   gboolean                    all,
                                   const WeftInspectViewStyle *style,
                                   GString                    *out);
gboolean weft_inspect_view_pstree (WeftInspectModel           *model,
                                   GString                    *out,
                                   GString                    *err);
void     weft_inspect_view_where  (WeftInspectModel           *model,
                                   WeftInspectTask            *task,
                                   GVariant                   *native_frames,
                                   const char                 *native_note,
                                   GString                    *out);

/* `top`: rows sorted by the busy time each task gained since the previous
 * view of the same WeftInspectTop. */
typedef struct _WeftInspectTop WeftInspectTop;

WeftInspectTop *weft_inspect_top_new  (void);
void            weft_inspect_top_view (WeftInspectTop             *self,
                                       WeftInspectModel           *model,
                                       const WeftInspectViewStyle *style,
                                       GString                    *out);
void            weft_inspect_top_free (WeftInspectTop             *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WeftInspectTop, weft_inspect_top_free)

G_END_DECLS
