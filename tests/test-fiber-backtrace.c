/* test-fiber-backtrace.c — a suspended fiber's native stack, symbolized
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1   /* RTLD_NEXT, RTLD_DEFAULT, dladdr() */
#endif

#include <dlfcn.h>

#include "weft-config.h"
#include "weft-test-utils.h"
#include "weft-fiber-backtrace-private.h"
#include "weft-symbolize-private.h"

#define LIBUNWIND_SONAME "libunwind.so.8"
#define LIBDW_SONAME "libdw.so.1"

/* Set in a subprocess to play a machine without libunwind and libdw. */
static gboolean refuse_libraries;

/* Interposes on libc's for Weft's calls: the executable comes first. */
void *
dlopen (const char *filename,
        int         flags)
{
  static void *(*real_dlopen) (const char *, int);

  if (refuse_libraries &&
      (g_strcmp0 (filename, LIBUNWIND_SONAME) == 0 || g_strcmp0 (filename, LIBDW_SONAME) == 0))
    return NULL;

  if (real_dlopen == NULL)
    real_dlopen = (void *(*) (const char *, int)) dlsym (RTLD_NEXT, "dlopen");
  return real_dlopen (filename, flags);
}

static gboolean
is_loaded (const char *soname)
{
  void *library = dlopen (soname, RTLD_NOLOAD | RTLD_LAZY);

  if (library == NULL)
    return FALSE;
  dlclose (library);
  return TRUE;
}

static gboolean
have_libunwind (void)
{
  return g_str_equal (weft_fiber_backtrace_backend (), "libunwind");
}

static gboolean
have_libdw (void)
{
  return g_str_equal (weft_symbolize_backend (), "libdw");
}

/* Not inlined, and not a tail call: it must have a frame of its own. */
static G_GNUC_NO_INLINE gboolean
await_in_named_function (WeftFuture *pending)
{
  g_autoptr(GError) error = NULL;
  gboolean done;

  done = weft_await (pending, &error);
  g_assert_no_error (error);
  return done;
}

static void
backtrace_fiber_body (WeftTask *task,
                      gpointer  user_data)
{
  gboolean done = await_in_named_function (user_data);

  weft_task_return_boolean (task, done);
}

/* Without libunwind every capture says so, whatever the fiber's state. */
static void
assert_capture_fails (WeftTask     *fiber,
                      int           code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) pcs = weft_fiber_capture_backtrace (WEFT_FIBER (fiber), &error);
  int expected = have_libunwind () ? code : G_IO_ERROR_NOT_SUPPORTED;

  g_assert_null (pcs);
  g_assert_error (error, G_IO_ERROR, expected);
}

static gboolean
str_ends_with (const char *string,
               const char *suffix)
{
  return string != NULL && g_str_has_suffix (string, suffix);
}

/* The stack of a fiber suspended in an await names the function that
 * awaits, at the line of the await, and the fiber's body below it.
 */
static void
test_capture_suspended (WeftTestLoop  *loop,
                        gconstpointer  data)
{
  g_autoptr(WeftFuture) pending = weft_future_new ();
  g_autoptr(WeftTask) fiber = weft_fiber_new ("backtraced", backtrace_fiber_body, pending, NULL);
  g_autoptr(GPtrArray) sites = NULL;
  g_autoptr(GArray) pcs = NULL;
  g_autoptr(GError) error = NULL;
  const WeftAwaitSite *site;
  gboolean found_await = FALSE;
  gboolean found_body = FALSE;
  gboolean found_await_at = FALSE;

  weft_test_pass ();
  g_assert_true (weft_task_is_suspended (fiber));

  pcs = weft_fiber_capture_backtrace (WEFT_FIBER (fiber), &error);
  if (!have_libunwind ())
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
      g_assert_null (pcs);
      g_test_message ("built without libunwind: %s", error->message);
      goto finish;
    }
  g_assert_no_error (error);
  g_assert_nonnull (pcs);
  g_assert_cmpuint (pcs->len, >=, 3);
  g_assert_cmpuint (pcs->len, <=, 64);

  sites = weft_task_get_stack (fiber, 1);
  g_assert_cmpuint (sites->len, ==, 1);
  site = g_ptr_array_index (sites, 0);

  for (guint i = 0; i < pcs->len; i++)
    {
      guint64 pc = g_array_index (pcs, guint64, i);
      WeftSymbol symbol = { NULL, };

      g_assert_cmpuint (pc, !=, 0);
      weft_symbolize (pc, i > 0, &symbol);
      g_test_message ("#%u 0x%" G_GINT64_MODIFIER "x %s (%s:%u)", i, pc,
                      symbol.function, symbol.file, symbol.line);

      if (g_strcmp0 (symbol.function, "await_in_named_function") == 0)
        {
          g_assert_false (found_await);
          found_await = TRUE;
          if (have_libdw ())
            {
              g_assert_true (str_ends_with (symbol.file, "test-fiber-backtrace.c"));
              g_assert_cmpuint (symbol.line, ==, site->line);
            }
        }
      else if (g_strcmp0 (symbol.function, "backtrace_fiber_body") == 0)
        {
          g_assert_true (found_await);
          found_body = TRUE;
          if (have_libdw ())
            g_assert_true (str_ends_with (symbol.file, "test-fiber-backtrace.c"));
        }
      else if (g_strcmp0 (symbol.function, "weft_await_at") == 0)
        {
          g_assert_false (found_await);
          found_await_at = TRUE;
        }
      weft_symbol_clear (&symbol);
    }

  /* dladdr() only knows exported functions: the library's, not the test's. */
  if (have_libdw ())
    {
      g_assert_true (found_await);
      g_assert_true (found_body);
    }
  else
    g_assert_true (found_await_at);

  /* Capturing leaves the fiber as it was. */
  g_assert_true (weft_task_is_suspended (fiber));

finish:
  weft_future_set_boolean (pending, TRUE);
  weft_test_run_until_done (WEFT_FUTURE (fiber));
  g_assert_true (weft_future_get_boolean (WEFT_FUTURE (fiber), NULL));
}

static void
capture_self (WeftTask *task,
              gpointer  user_data)
{
  assert_capture_fails (task, G_IO_ERROR_BUSY);
}

/* Only a suspended fiber's stack holds still: not one that has not
 * started, is running, or is done.
 */
static void
test_capture_busy (WeftTestLoop  *loop,
                   gconstpointer  data)
{
  g_autoptr(WeftTask) fiber = weft_fiber_new (NULL, capture_self, NULL, NULL);

  assert_capture_fails (fiber, G_IO_ERROR_BUSY);
  weft_test_run_until_done (WEFT_FUTURE (fiber));
  g_assert_true (weft_future_is_done (WEFT_FUTURE (fiber)));
  assert_capture_fails (fiber, G_IO_ERROR_BUSY);
}

/* A code address of this program, and the return address convention. */
static void
test_symbolize_function (void)
{
  WeftSymbol symbol = { NULL, };
  WeftSymbol again = { NULL, };
  guint64 pc = (guintptr) await_in_named_function;

  g_test_message ("backend %s", weft_symbolize_backend ());

  /* The library's functions are exported: every backend names them. */
  weft_symbolize ((guintptr) weft_fiber_new, FALSE, &symbol);
  g_assert_cmpstr (symbol.function, ==, "weft_fiber_new");
  if (have_libdw ())
    {
      g_assert_true (str_ends_with (symbol.file, "weft-fiber.c"));
      g_assert_cmpuint (symbol.line, >, 0);
    }
  weft_symbol_clear (&symbol);
  g_assert_null (symbol.function);
  g_assert_null (symbol.file);
  g_assert_cmpuint (symbol.line, ==, 0);

  if (!have_libdw ())
    return;

  weft_symbolize (pc, FALSE, &symbol);
  g_assert_cmpstr (symbol.function, ==, "await_in_named_function");
  g_assert_true (str_ends_with (symbol.file, "test-fiber-backtrace.c"));
  g_assert_cmpuint (symbol.line, >, 0);

  /* From the cache, the same. */
  weft_symbolize (pc, FALSE, &again);
  g_assert_cmpstr (again.function, ==, symbol.function);
  g_assert_cmpstr (again.file, ==, symbol.file);
  g_assert_cmpuint (again.line, ==, symbol.line);
  weft_symbol_clear (&again);

  /* A return address just past the function's entry is a call from it. */
  weft_symbolize (pc + 1, TRUE, &again);
  g_assert_cmpstr (again.function, ==, "await_in_named_function");
  weft_symbol_clear (&again);
  weft_symbol_clear (&symbol);
}

/* Nothing there: no name, no file, no crash. */
static void
test_symbolize_unknown (void)
{
  WeftSymbol symbol = { NULL, };

  weft_symbolize (16, FALSE, &symbol);
  g_assert_null (symbol.function);
  g_assert_null (symbol.file);
  g_assert_cmpuint (symbol.line, ==, 0);
}

static gpointer
symbolize_repeatedly (gpointer data)
{
  for (guint i = 0; i < 200; i++)
    {
      WeftSymbol symbol = { NULL, };

      weft_symbolize ((guintptr) weft_fiber_new + i % 8, FALSE, &symbol);
      g_assert_cmpstr (symbol.function, ==, "weft_fiber_new");
      weft_symbol_clear (&symbol);
    }
  return NULL;
}

/* Thread-safe: the inspector thread symbolizes while others may. */
static void
test_symbolize_threads (void)
{
  GThread *threads[4];

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("symbolize", symbolize_repeatedly, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
}

/* Neither library is linked: a program that never asks for a backtrace
 * does not load them, and loaded, libunwind's _Unwind_* stay its own.
 */
static void
test_loaded_lazily (void)
{
  gboolean with_libunwind, with_libdw;
  void *unwind_raise;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_passed ();
      return;
    }

  g_assert_false (is_loaded (LIBUNWIND_SONAME));
  g_assert_false (is_loaded (LIBDW_SONAME));

  /* The backends load what they report. */
  with_libunwind = have_libunwind ();
  with_libdw = have_libdw ();
  g_test_message ("backends: %s, %s", weft_fiber_backtrace_backend (), weft_symbolize_backend ());
  g_assert_cmpint (is_loaded (LIBUNWIND_SONAME), ==, with_libunwind);
  g_assert_cmpint (is_loaded (LIBDW_SONAME), ==, with_libdw);

  /* RTLD_LOCAL: nothing of libunwind's is in the global scope. */
  g_assert_null (dlsym (RTLD_DEFAULT, "__libunwind_Unwind_RaiseException"));
  unwind_raise = dlsym (RTLD_DEFAULT, "_Unwind_RaiseException");
  if (unwind_raise != NULL)
    {
      Dl_info info;

      g_assert_cmpint (dladdr (unwind_raise, &info), !=, 0);
      g_test_message ("_Unwind_RaiseException from %s", info.dli_fname);
      g_assert_null (strstr (info.dli_fname, "libunwind"));
    }
}

/* Built with both, run where neither can be loaded: said, not fatal. */
static void
test_libraries_missing (WeftTestLoop  *loop,
                        gconstpointer  data)
{
  g_autoptr(WeftFuture) pending = NULL;
  g_autoptr(WeftTask) fiber = NULL;
  g_autoptr(GArray) pcs = NULL;
  g_autoptr(GError) error = NULL;
  WeftSymbol symbol = { NULL, };

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_passed ();
      return;
    }

  refuse_libraries = TRUE;
  g_assert_cmpstr (weft_fiber_backtrace_backend (), ==, "none");
  g_assert_cmpstr (weft_symbolize_backend (), ==, "dladdr");

  pending = weft_future_new ();
  fiber = weft_fiber_new ("backtraced", backtrace_fiber_body, pending, NULL);
  weft_test_pass ();
  g_assert_true (weft_task_is_suspended (fiber));
  pcs = weft_fiber_capture_backtrace (WEFT_FIBER (fiber), &error);
  g_assert_null (pcs);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_test_message ("%s", error->message);
#if defined (HAVE_LIBUNWIND) && defined (__LP64__) && (defined (__x86_64__) || defined (__aarch64__))
  g_assert_true (g_str_has_prefix (error->message, LIBUNWIND_SONAME " could not be loaded: "));
#endif

  weft_symbolize ((guintptr) weft_fiber_new, FALSE, &symbol);
  g_assert_cmpstr (symbol.function, ==, "weft_fiber_new");
  g_assert_null (symbol.file);
  weft_symbol_clear (&symbol);

  weft_future_set_boolean (pending, TRUE);
  weft_test_run_until_done (WEFT_FUTURE (fiber));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  WEFT_TEST_ADD ("/fiber-backtrace/capture-suspended", test_capture_suspended);
  WEFT_TEST_ADD ("/fiber-backtrace/capture-busy", test_capture_busy);
  g_test_add_func ("/fiber-backtrace/symbolize-function", test_symbolize_function);
  g_test_add_func ("/fiber-backtrace/symbolize-unknown", test_symbolize_unknown);
  g_test_add_func ("/fiber-backtrace/symbolize-threads", test_symbolize_threads);
  g_test_add_func ("/fiber-backtrace/loaded-lazily", test_loaded_lazily);
  WEFT_TEST_ADD ("/fiber-backtrace/libraries-missing", test_libraries_missing);

  return g_test_run ();
}
