/* weft-symbolize.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* With libdw, one Dwfl session describes this process's modules; it is
 * built on first use and reported again when an address falls outside
 * every module, as code loaded by dlopen() since does. Reading debug
 * information is slow and libdw is not thread-safe, so lookups are
 * serialized and their results kept by address.
 *
 * libdw is loaded with dlopen() on the first lookup, never linked: it
 * would bring libelf, liblzma, libbz2… into every program using Weft at
 * startup, for the few that are ever inspected. Its headers are only
 * needed to build. Without it, dladdr() names exported functions.
 */

#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1   /* dladdr() */
#endif

#include "weft-config.h"
#include "weft-symbolize-private.h"

#include <dlfcn.h>
#include <pthread.h>

#ifdef HAVE_LIBDW
# include <dwarf.h>
# include <elfutils/libdwfl.h>
# include <unistd.h>
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

#define LIBDW_SONAME "libdw.so.1"

#define LIBDW_FUNCTIONS(F) \
  F (dwfl_begin) \
  F (dwfl_errmsg) \
  F (dwfl_linux_proc_find_elf) \
  F (dwfl_standard_find_debuginfo) \
  F (dwfl_report_begin) \
  F (dwfl_linux_proc_report) \
  F (dwfl_report_end) \
  F (dwfl_addrmodule) \
  F (dwfl_module_addrdie) \
  F (dwfl_module_addrname) \
  F (dwfl_module_getsrc) \
  F (dwfl_lineinfo) \
  F (dwarf_getscopes) \
  F (dwarf_tag) \
  F (dwarf_diename)

typedef struct
{
#define DECLARE_POINTER(name) __typeof__ (name) *name;
  LIBDW_FUNCTIONS (DECLARE_POINTER)
#undef DECLARE_POINTER
} LibdwFunctions;

static LibdwFunctions libdw;   /* all set, or all NULL */
static pthread_once_t libdw_once = PTHREAD_ONCE_INIT;

static Dwfl_Callbacks dwfl_callbacks;   /* dwfl_begin() keeps a pointer */
static Dwfl *dwfl;                      /* non-NULL once libdw is usable */
static gboolean dwfl_reported;          /* under the lock */

static gboolean
resolve_libdw (void *library)
{
  static const struct
  {
    const char *name;
    gsize       offset;
  } functions[] = {
#define FUNCTION_ENTRY(name) { #name, G_STRUCT_OFFSET (LibdwFunctions, name) },
    LIBDW_FUNCTIONS (FUNCTION_ENTRY)
#undef FUNCTION_ENTRY
  };
  LibdwFunctions resolved;

  for (guint i = 0; i < G_N_ELEMENTS (functions); i++)
    {
      void *function = dlsym (library, functions[i].name);

      if (function == NULL)
        {
          g_debug ("weft: %s lacks %s: symbolizing with dladdr()", LIBDW_SONAME, functions[i].name);
          return FALSE;
        }
      *(void **) G_STRUCT_MEMBER_P (&resolved, functions[i].offset) = function;
    }

  libdw = resolved;
  return TRUE;
}

static void
load_libdw (void)
{
  void *library = dlopen (LIBDW_SONAME, RTLD_LOCAL | RTLD_NOW);

  if (library == NULL)
    {
      const char *reason = dlerror ();

      g_debug ("weft: %s could not be loaded: %s: symbolizing with dladdr()",
               LIBDW_SONAME, reason != NULL ? reason : "unknown error");
      return;
    }
  if (!resolve_libdw (library))
    {
      dlclose (library);
      return;
    }

  dwfl_callbacks.find_elf = libdw.dwfl_linux_proc_find_elf;
  dwfl_callbacks.find_debuginfo = libdw.dwfl_standard_find_debuginfo;
  dwfl = libdw.dwfl_begin (&dwfl_callbacks);
  if (dwfl == NULL)
    g_debug ("weft: libdw failed: %s: symbolizing with dladdr()", libdw.dwfl_errmsg (-1));
}

/* Thread-safe; loads libdw on the first call only. */
static gboolean
have_libdw (void)
{
  pthread_once (&libdw_once, load_libdw);
  return dwfl != NULL;
}

static void
report_modules (void)
{
  libdw.dwfl_report_begin (dwfl);
  libdw.dwfl_linux_proc_report (dwfl, getpid ());
  libdw.dwfl_report_end (dwfl, NULL, NULL);
}

static Dwfl_Module *
find_module (Dwarf_Addr address)
{
  Dwfl_Module *module;

  if (!dwfl_reported)
    {
      report_modules ();
      dwfl_reported = TRUE;
    }

  module = libdw.dwfl_addrmodule (dwfl, address);
  if (module == NULL)
    {
      report_modules ();
      module = libdw.dwfl_addrmodule (dwfl, address);
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

  cu_die = libdw.dwfl_module_addrdie (module, address, &bias);
  if (cu_die != NULL)
    {
      n_scopes = libdw.dwarf_getscopes (cu_die, address - bias, &scopes);
      for (int i = 0; i < n_scopes && name == NULL; i++)
        {
          int tag = libdw.dwarf_tag (&scopes[i]);

          if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine)
            name = libdw.dwarf_diename (&scopes[i]);
        }
      free (scopes);
    }

  /* No debug information: the symbol table still knows. */
  if (name == NULL)
    name = libdw.dwfl_module_addrname (module, address);
  return name;
}

static void
lookup_libdw (guint64     address,
              WeftSymbol *symbol)
{
  Dwfl_Module *module = find_module (address);
  Dwfl_Line *line;
  int line_number;
  const char *file;

  if (module == NULL)
    return;

  symbol->function = g_strdup (find_function (module, address));

  line = libdw.dwfl_module_getsrc (module, address);
  if (line == NULL)
    return;
  file = libdw.dwfl_lineinfo (line, NULL, &line_number, NULL, NULL, NULL);
  if (file != NULL && line_number > 0)
    {
      symbol->file = g_strdup (file);
      symbol->line = line_number;
    }
}

#endif /* HAVE_LIBDW */

static void
lookup_dladdr (guint64     address,
               WeftSymbol *symbol)
{
  Dl_info info;

  if (dladdr ((gpointer) (guintptr) address, &info) != 0)
    symbol->function = g_strdup (info.dli_sname);
}

static void
lookup (guint64     address,
        WeftSymbol *symbol)
{
#ifdef HAVE_LIBDW
  if (have_libdw ())
    {
      lookup_libdw (address, symbol);
      return;
    }
#endif
  lookup_dladdr (address, symbol);
}

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
  if (have_libdw ())
    return "libdw";
#endif
  return "dladdr";
}
