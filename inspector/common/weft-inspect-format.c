/* weft-inspect-format.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <sys/ioctl.h>
#include <unistd.h>

#include "weft-inspect-format.h"

/* Returns: (transfer full): @us the way a person reads it: "850µs",
 * "1.2ms", "153ms", "3.40s", "2m05s", "1h02m" */
char *
weft_inspect_format_duration (gint64 us)
{
  if (us < 0)
    us = 0;
  if (us < 1000)
    return g_strdup_printf ("%dµs", (int) us);
  if (us < 100000)
    return g_strdup_printf ("%.1fms", us / 1000.0);
  if (us < G_USEC_PER_SEC)
    return g_strdup_printf ("%dms", (int) (us / 1000));
  if (us < 60 * G_USEC_PER_SEC)
    return g_strdup_printf ("%.2fs", us / (double) G_USEC_PER_SEC);
  if (us < 3600 * (gint64) G_USEC_PER_SEC)
    return g_strdup_printf ("%dm%02ds", (int) (us / (60 * G_USEC_PER_SEC)),
                            (int) (us / G_USEC_PER_SEC % 60));
  return g_strdup_printf ("%" G_GINT64_FORMAT "h%02dm", us / (3600 * (gint64) G_USEC_PER_SEC),
                          (int) (us / (60 * G_USEC_PER_SEC) % 60));
}

/* Returns: (transfer full): "function file:line", "function" without a
 * file, "" without a function */
char *
weft_inspect_format_site (const char *function,
                          const char *file,
                          int         line)
{
  if (function == NULL || *function == '\0')
    return g_strdup ("");
  if (file == NULL || *file == '\0')
    return g_strdup (function);
  return g_strdup_printf ("%s %s:%d", function, file, line);
}

/* Returns: whether @fd is a terminal; its size is then in @columns, @rows */
gboolean
weft_inspect_terminal_size (int    fd,
                            guint *columns,
                            guint *rows)
{
  struct winsize size = { 0 };

  if (!isatty (fd))
    return FALSE;
  if (ioctl (fd, TIOCGWINSZ, &size) != 0)
    size.ws_col = size.ws_row = 0;
  *columns = size.ws_col;
  *rows = size.ws_row;
  return TRUE;
}

typedef struct
{
  char             *header;
  WeftInspectAlign  align;
  guint             min_width;
  guint             width;
} Column;

struct _WeftInspectTable
{
  GArray    *columns;
  GPtrArray *rows;      /* char ** of columns->len cells */
};

static guint
text_width (const char *text)
{
  return g_utf8_strlen (text, -1);
}

WeftInspectTable *
weft_inspect_table_new (const char * const *headers)
{
  WeftInspectTable *self = g_new0 (WeftInspectTable, 1);

  self->columns = g_array_new (FALSE, TRUE, sizeof (Column));
  self->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  for (guint i = 0; headers[i] != NULL; i++)
    {
      Column column = { g_strdup (headers[i]), WEFT_INSPECT_ALIGN_LEFT, 0, text_width (headers[i]) };

      g_array_append_val (self->columns, column);
    }
  return self;
}

/* @min_width: how narrow the column may get to fit; 0 keeps it whole */
void
weft_inspect_table_set_column (WeftInspectTable *self,
                               guint             column,
                               WeftInspectAlign  align,
                               guint             min_width)
{
  Column *c = &g_array_index (self->columns, Column, column);

  c->align = align;
  c->min_width = min_width;
}

void
weft_inspect_table_add_row (WeftInspectTable   *self,
                            const char * const *cells)
{
  char **row = g_new0 (char *, self->columns->len + 1);

  for (guint i = 0; i < self->columns->len; i++)
    {
      Column *c = &g_array_index (self->columns, Column, i);

      row[i] = g_strdup (cells[i] ? cells[i] : "");
      c->width = MAX (c->width, text_width (row[i]));
    }
  g_ptr_array_add (self->rows, row);
}

guint
weft_inspect_table_get_n_rows (WeftInspectTable *self)
{
  return self->rows->len;
}

static void
shrink_to (WeftInspectTable *self,
           guint            *widths,
           guint             max_width)
{
  guint total = 2 * (self->columns->len - 1);

  for (guint i = 0; i < self->columns->len; i++)
    total += widths[i];

  while (total > max_width)
    {
      guint widest = G_MAXUINT, slack = 0;

      for (guint i = 0; i < self->columns->len; i++)
        {
          Column *c = &g_array_index (self->columns, Column, i);

          if (c->min_width > 0 && widths[i] > c->min_width && widths[i] - c->min_width > slack)
            {
              widest = i;
              slack = widths[i] - c->min_width;
            }
        }
      if (widest == G_MAXUINT)
        return;
      widths[widest]--;
      total--;
    }
}

static void
append_cell (GString          *out,
             const char       *text,
             guint             width,
             WeftInspectAlign  align,
             gboolean          last)
{
  guint length = text_width (text);
  guint padding;

  if (length > width)
    {
      const char *end = g_utf8_offset_to_pointer (text, width - 1);

      g_string_append_len (out, text, end - text);
      g_string_append (out, "…");
      return;
    }

  padding = width - length;
  if (align == WEFT_INSPECT_ALIGN_RIGHT)
    {
      for (guint i = 0; i < padding; i++)
        g_string_append_c (out, ' ');
      g_string_append (out, text);
    }
  else
    {
      g_string_append (out, text);
      if (!last)
        for (guint i = 0; i < padding; i++)
          g_string_append_c (out, ' ');
    }
}

static void
append_row (WeftInspectTable *self,
            GString          *out,
            const char      **cells,
            const guint      *widths)
{
  guint n = self->columns->len;

  for (guint i = 0; i < n; i++)
    {
      Column *c = &g_array_index (self->columns, Column, i);

      if (i > 0)
        g_string_append (out, "  ");
      append_cell (out, cells[i], widths[i], c->align, i == n - 1);
    }
  while (out->len > 0 && out->str[out->len - 1] == ' ')
    g_string_truncate (out, out->len - 1);
  g_string_append_c (out, '\n');
}

/* @max_width: 0 for no limit */
void
weft_inspect_table_format (WeftInspectTable *self,
                           GString          *out,
                           guint             max_width,
                           gboolean          bold_header)
{
  g_autofree guint *widths = g_new (guint, self->columns->len);
  g_autofree const char **headers = g_new (const char *, self->columns->len);

  for (guint i = 0; i < self->columns->len; i++)
    {
      widths[i] = g_array_index (self->columns, Column, i).width;
      headers[i] = g_array_index (self->columns, Column, i).header;
    }
  if (max_width > 0)
    shrink_to (self, widths, max_width);

  if (bold_header)
    g_string_append (out, "\033[1m");
  append_row (self, out, headers, widths);
  if (bold_header)
    g_string_insert (out, out->len - 1, "\033[0m");

  for (guint i = 0; i < self->rows->len; i++)
    append_row (self, out, self->rows->pdata[i], widths);
}

void
weft_inspect_table_free (WeftInspectTable *self)
{
  for (guint i = 0; i < self->columns->len; i++)
    g_free (g_array_index (self->columns, Column, i).header);
  g_array_unref (self->columns);
  g_ptr_array_unref (self->rows);
  g_free (self);
}
