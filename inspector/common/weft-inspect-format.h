/* weft-inspect-format.h: text shared by the inspector's views
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

char    *weft_inspect_format_duration (gint64      us);
char    *weft_inspect_format_site     (const char *function,
                                       const char *file,
                                       int         line);
gboolean weft_inspect_terminal_size   (int         fd,
                                       guint      *columns,
                                       guint      *rows);

typedef enum
{
  WEFT_INSPECT_ALIGN_LEFT,
  WEFT_INSPECT_ALIGN_RIGHT,
} WeftInspectAlign;

/* Columns two spaces apart, each as wide as its widest cell; to fit a
 * width, the columns given a minimum shrink (widest first) and their cells
 * end in "…".
 */
typedef struct _WeftInspectTable WeftInspectTable;

WeftInspectTable *weft_inspect_table_new        (const char * const *headers);
void              weft_inspect_table_set_column (WeftInspectTable   *self,
                                                 guint               column,
                                                 WeftInspectAlign    align,
                                                 guint               min_width);
void              weft_inspect_table_add_row    (WeftInspectTable   *self,
                                                 const char * const *cells);
guint             weft_inspect_table_get_n_rows (WeftInspectTable   *self);
void              weft_inspect_table_format     (WeftInspectTable   *self,
                                                 GString            *out,
                                                 guint               max_width,
                                                 gboolean            bold_header);
void              weft_inspect_table_free       (WeftInspectTable   *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WeftInspectTable, weft_inspect_table_free)

G_END_DECLS
