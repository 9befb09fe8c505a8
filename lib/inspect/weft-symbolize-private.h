/* weft-symbolize-private.h: code addresses to function, file and line
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char  *function;   /* NULL when unknown */
  char  *file;       /* NULL when unknown */
  guint  line;       /* 0 when unknown */
} WeftSymbol;

/* Thread-safe. With elfutils' libdw: function, file and line from the
 * debug information; without it (not built with it, or libdw.so.1
 * missing at run time), dladdr()'s function name only. The first call,
 * and weft_symbolize_backend()'s, loads libdw.
 * @pc is a return address when @is_return_address, so that the line is
 * the call's, not the next statement's.
 */
void        weft_symbolize         (guint64     pc,
                                    gboolean    is_return_address,
                                    WeftSymbol *symbol);
void        weft_symbol_clear      (WeftSymbol *symbol);
const char *weft_symbolize_backend (void);

G_END_DECLS
