/* weft-symbolize.c: TEMP stub until part D lands: dladdr() names only
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE
#include <dlfcn.h>

#include "weft-symbolize-private.h"

void
weft_symbolize (guint64     pc,
                gboolean    is_return_address,
                WeftSymbol *symbol)
{
  Dl_info info;

  symbol->function = NULL;
  symbol->file = NULL;
  symbol->line = 0;
  if (dladdr (GSIZE_TO_POINTER (pc - (is_return_address ? 1 : 0)), &info) && info.dli_sname != NULL)
    symbol->function = g_strdup (info.dli_sname);
}

void
weft_symbol_clear (WeftSymbol *symbol)
{
  g_clear_pointer (&symbol->function, g_free);
  g_clear_pointer (&symbol->file, g_free);
  symbol->line = 0;
}

const char *
weft_symbolize_backend (void)
{
  return "dladdr";
}
