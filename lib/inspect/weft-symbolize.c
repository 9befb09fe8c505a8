/* weft-symbolize.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* With libdw, one Dwfl session describes this process's modules; it is
 * built on first use and reported again when an address falls outside
 * every module, as code loaded by dlopen() since does. Reading debug
 * information is slow and libdw is not thread-safe, so lookups are
 * serialized and their results kept by address.
 */

#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1   /* dladdr() */
#endif

#include "weft-config.h"
#include "weft-symbolize-private.h"

#include <pthread.h>

#ifdef HAVE_LIBDW
# include <dwarf.h>
# include <elfutils/libdwfl.h>
# include <unistd.h>
#else
# include <dlfcn.h>
#endif

/* Plenty for the code a program runs; past it the cache starts over. */
#define CACHE_MAX 4096

typedef struct
{
  guint64    address;   /* the key: the address looked up */
  WeftSymbol symbol;
} CacheEntry;

/* A pthread mutex, which ThreadSanitizer sees, unlike GLib's futex-based
 * GMutex; not a spinlock: a lookup can take milliseconds.
 */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *cache;   /* &CacheEntry.address → CacheEntry, owned */

static void
cache_entry_free (gpointer data)
{
  CacheEntry *entry = data;

  weft_symbol_clear (&entry->symbol);
  g_free (entry);
}

#ifdef HAVE_LIBDW

static Dwfl *dwfl;

static const Dwfl_Callbacks dwfl_callbacks = {
  .find_elf = dwfl_linux_proc_find_elf,
  .find_debuginfo = dwfl_standard_find_debuginfo,
};

static void
report_modules (void)
{
  dwfl_report_begin (dwfl);
  dwfl_linux_proc_report (dwfl, getpid ());
  dwfl_report_end (dwfl, NULL, NULL);
}

static Dwfl_Module *
find_module (Dwarf_Addr address)
{
  Dwfl_Module *module;

  if (dwfl == NULL)
    {
      dwfl = dwfl_begin (&dwfl_callbacks);
      if (dwfl == NULL)
        return NULL;
      report_modules ();
    }

  module = dwfl_addrmodule (dwfl, address);
  if (module == NULL)
    {
      report_modules ();
      module = dwfl_addrmodule (dwfl, address);
    }
  return module;
}

/* The function whose code is at @address, an inlined one included, so
 * that it agrees with the line table's file and line.
 */
static const char *
find_function (Dwfl_Module *module,
               Dwarf_Addr   address)
{
  const char *name = NULL;
  Dwarf_Die *cu_die;
  Dwarf_Die *scopes = NULL;
  Dwarf_Addr bias;
  int n_scopes;

  cu_die = dwfl_module_addrdie (module, address, &bias);
  if (cu_die != NULL)
    {
      n_scopes = dwarf_getscopes (cu_die, address - bias, &scopes);
      for (int i = 0; i < n_scopes && name == NULL; i++)
        {
          int tag = dwarf_tag (&scopes[i]);

          if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine)
            name = dwarf_diename (&scopes[i]);
        }
      free (scopes);
    }

  /* No debug information: the symbol table still knows. */
  if (name == NULL)
    name = dwfl_module_addrname (module, address);
  return name;
}

static void
lookup (guint64     address,
        WeftSymbol *symbol)
{
  Dwfl_Module *module = find_module (address);
  Dwfl_Line *line;
  int line_number;
  const char *file;

  if (module == NULL)
    return;

  symbol->function = g_strdup (find_function (module, address));

  line = dwfl_module_getsrc (module, address);
  if (line == NULL)
    return;
  file = dwfl_lineinfo (line, NULL, &line_number, NULL, NULL, NULL);
  if (file != NULL && line_number > 0)
    {
      symbol->file = g_strdup (file);
      symbol->line = line_number;
    }
}

#else /* !HAVE_LIBDW */

static void
lookup (guint64     address,
        WeftSymbol *symbol)
{
  Dl_info info;

  if (dladdr ((gpointer) (guintptr) address, &info) != 0)
    symbol->function = g_strdup (info.dli_sname);
}

#endif

void
weft_symbolize (guint64     pc,
                gboolean    is_return_address,
                WeftSymbol *symbol)
{
  /* The call is the instruction before the return address, and may be a
   * function's last one.
   */
  guint64 address = is_return_address && pc > 0 ? pc - 1 : pc;
  CacheEntry *entry;

  g_return_if_fail (symbol != NULL);

  pthread_mutex_lock (&lock);

  if (cache == NULL)
    cache = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, cache_entry_free);

  entry = g_hash_table_lookup (cache, &address);
  if (entry == NULL)
    {
      if (g_hash_table_size (cache) >= CACHE_MAX)
        g_hash_table_remove_all (cache);

      entry = g_new0 (CacheEntry, 1);
      entry->address = address;
      lookup (address, &entry->symbol);
      g_hash_table_insert (cache, &entry->address, entry);
    }

  symbol->function = g_strdup (entry->symbol.function);
  symbol->file = g_strdup (entry->symbol.file);
  symbol->line = entry->symbol.line;

  pthread_mutex_unlock (&lock);
}

void
weft_symbol_clear (WeftSymbol *symbol)
{
  g_return_if_fail (symbol != NULL);

  g_clear_pointer (&symbol->function, g_free);
  g_clear_pointer (&symbol->file, g_free);
  symbol->line = 0;
}

const char *
weft_symbolize_backend (void)
{
#ifdef HAVE_LIBDW
  return "libdw";
#else
  return "dladdr";
#endif
}
