/* weft-fiber-backtrace.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* A suspended fiber's stack is intact, and the context switch left the
 * callee-saved registers, the stack pointer and the resume address where
 * weft-fiber-context-private.h says. Loaded into a libunwind context, they
 * let libunwind walk the fiber's frames as if it were the running code, by
 * the same DWARF call frame information a debugger uses.
 *
 * libunwind is loaded with dlopen() on the first capture, never linked:
 * linked, its _Unwind_* functions would interpose on libgcc's in every
 * program using Weft, C++ exceptions included. RTLD_LOCAL keeps them out
 * of the global scope; its headers are only needed to build.
 */

#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1   /* REG_RIP and friends */
#endif

#include "weft-config.h"
#include "weft-fiber-backtrace-private.h"

#if defined (HAVE_LIBUNWIND) && defined (__LP64__) && (defined (__x86_64__) || defined (__aarch64__))
# define WEFT_FIBER_BACKTRACE 1
# define UNW_LOCAL_ONLY
# include <libunwind.h>
# include <dlfcn.h>
# include <pthread.h>
# include <string.h>
#endif

/* Deep enough to reach a fiber's entry from any sensible await. */
#define MAX_FRAMES 64

#ifdef WEFT_FIBER_BACKTRACE

/* The library whose unw_*() work on this process, in the names its
 * header gives them for this architecture (_ULx86_64_init_local, ...).
 */
#define LIBUNWIND_SONAME "libunwind.so.8"

static struct
{
  __typeof__ (unw_init_local) *init_local;
  __typeof__ (unw_get_reg)    *get_reg;
  __typeof__ (unw_step)       *step;
  __typeof__ (unw_strerror)   *strerror;
} libunwind;

static gboolean libunwind_loaded;
static char *libunwind_load_error;   /* why not, owned */
static pthread_once_t libunwind_once = PTHREAD_ONCE_INIT;

static gboolean
resolve (void        *library,
         const char  *name,
         void       **function)
{
  *function = dlsym (library, name);
  if (*function != NULL)
    return TRUE;
  libunwind_load_error = g_strdup_printf ("%s lacks %s", LIBUNWIND_SONAME, name);
  return FALSE;
}

static void
load_libunwind (void)
{
  void *library = dlopen (LIBUNWIND_SONAME, RTLD_LOCAL | RTLD_NOW);

  if (library == NULL)
    {
      const char *reason = dlerror ();

      libunwind_load_error = g_strdup (reason != NULL ? reason : "unknown error");
      return;
    }

  if (resolve (library, G_STRINGIFY (unw_init_local), (void **) &libunwind.init_local) &&
      resolve (library, G_STRINGIFY (unw_get_reg), (void **) &libunwind.get_reg) &&
      resolve (library, G_STRINGIFY (unw_step), (void **) &libunwind.step) &&
      resolve (library, G_STRINGIFY (unw_strerror), (void **) &libunwind.strerror))
    {
      libunwind_loaded = TRUE;
      return;
    }

  /* Partly usable is unusable. */
  memset (&libunwind, 0, sizeof libunwind);
  dlclose (library);
}

/* Thread-safe; loads libunwind on the first call only. */
static gboolean
have_libunwind (void)
{
  pthread_once (&libunwind_once, load_libunwind);
  return libunwind_loaded;
}

/* The switch's frame sits below the stack pointer of instrumented code,
 * where AddressSanitizer may have left a dead frame's poison.
 */
#ifdef WEFT_FIBER_ASAN
# define NO_SANITIZE_ADDRESS __attribute__ ((__no_sanitize_address__))
#else
# define NO_SANITIZE_ADDRESS
#endif

NO_SANITIZE_ADDRESS static void
load_registers (const WeftFiberContext *context,
                unw_context_t          *registers)
{
#if defined (WEFT_FIBER_X86_64)
  const WeftFiberFrame *frame = context->sp;
  greg_t *gregs = registers->uc_mcontext.gregs;

  gregs[REG_R15] = frame->r15;
  gregs[REG_R14] = frame->r14;
  gregs[REG_R13] = frame->r13;
  gregs[REG_R12] = frame->r12;
  gregs[REG_RBX] = frame->rbx;
  gregs[REG_RBP] = frame->rbp;
  gregs[REG_RIP] = (guintptr) frame->return_address;
  /* As the switch's ret leaves it. */
  gregs[REG_RSP] = (guintptr) (frame + 1);
#elif defined (WEFT_FIBER_AARCH64)
  const WeftFiberFrame *frame = context->sp;

  for (guint i = 0; i < G_N_ELEMENTS (frame->x19_x28); i++)
    registers->uc_mcontext.regs[19 + i] = frame->x19_x28[i];
  registers->uc_mcontext.regs[29] = frame->x29;
  registers->uc_mcontext.regs[30] = (guintptr) frame->x30;
  registers->uc_mcontext.pc = (guintptr) frame->x30;
  registers->uc_mcontext.sp = (guintptr) (frame + 1);
#elif defined (__x86_64__)   /* WEFT_FIBER_UCONTEXT */
  const ucontext_t *saved = context->sp;
  static const int preserved[] = {
    REG_R15, REG_R14, REG_R13, REG_R12, REG_RBX, REG_RBP, REG_RIP, REG_RSP,
  };

  for (guint i = 0; i < G_N_ELEMENTS (preserved); i++)
    registers->uc_mcontext.gregs[preserved[i]] = saved->uc_mcontext.gregs[preserved[i]];
#else   /* WEFT_FIBER_UCONTEXT on aarch64 */
  const ucontext_t *saved = context->sp;

  for (guint i = 19; i <= 30; i++)
    registers->uc_mcontext.regs[i] = saved->uc_mcontext.regs[i];
  registers->uc_mcontext.pc = saved->uc_mcontext.pc;
  registers->uc_mcontext.sp = saved->uc_mcontext.sp;
#endif
}

static GArray *
capture (WeftFiber  *fiber,
         GError    **error)
{
  const WeftFiberContext *context = weft_fiber_peek_suspended_context (fiber);
  g_autoptr(GArray) pcs = NULL;
  unw_context_t registers = { 0, };
  unw_cursor_t cursor;
  int status;

  if (!have_libunwind ())
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   LIBUNWIND_SONAME " could not be loaded: %s; no native backtraces of fibers",
                   libunwind_load_error);
      return NULL;
    }

  if (context == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                   "task %s is not suspended: only a suspended fiber's stack can be read",
                   weft_task_get_name (WEFT_TASK (fiber)));
      return NULL;
    }

  /* The registers the switch does not preserve are dead in the fiber
   * anyway: zero does for them.
   */
  load_registers (context, &registers);

  pcs = g_array_sized_new (FALSE, FALSE, sizeof (guint64), 16);
  status = libunwind.init_local (&cursor, &registers);
  while (status >= 0 && pcs->len < MAX_FRAMES)
    {
      unw_word_t pc;
      guint64 pc64;

      if (libunwind.get_reg (&cursor, UNW_REG_IP, &pc) < 0 || pc == 0)
        break;
      pc64 = pc;
      g_array_append_val (pcs, pc64);

      /* 0: the outermost frame, whose return address is undefined. */
      status = libunwind.step (&cursor);
      if (status == 0)
        break;
    }

  if (pcs->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "libunwind could not unwind the fiber: %s", libunwind.strerror (status));
      return NULL;
    }
  /* A failed step deep down still leaves the useful innermost frames. */
  return g_steal_pointer (&pcs);
}

#endif

GArray *
weft_fiber_capture_backtrace (WeftFiber  *fiber,
                              GError    **error)
{
  g_return_val_if_fail (WEFT_IS_FIBER (fiber), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

#ifdef WEFT_FIBER_BACKTRACE
  return capture (fiber, error);
#elif defined (HAVE_LIBUNWIND)
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       "native backtraces of fibers are only implemented on x86_64 and aarch64");
  return NULL;
#else
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       "Weft was built without libunwind: no native backtraces of fibers");
  return NULL;
#endif
}

const char *
weft_fiber_backtrace_backend (void)
{
#ifdef WEFT_FIBER_BACKTRACE
  return have_libunwind () ? "libunwind" : "none";
#else
  return "none";
#endif
}
