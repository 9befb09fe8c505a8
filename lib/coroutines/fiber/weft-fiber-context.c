/* weft-fiber-context.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The machine-independent half of the fiber context switch.
 *
 * On x86_64 and aarch64 the switch itself is a few lines of assembly
 * (weft-fiber-switch-*.S) that push the callee-saved registers on the stack
 * being left and pop them from the stack being entered; this file builds the
 * frame a fresh stack starts from. Elsewhere, or when meson is configured
 * with -Dfiber_switch=ucontext, swapcontext() does the work: it is correct
 * everywhere but makes a system call per switch for the signal mask.
 *
 * Both ways, the raw switch returns, on the side being resumed, the context
 * that was left. AddressSanitizer needs it to learn the bounds of a thread's
 * own stack, which nobody else knows.
 */

#include "weft-fiber-context-private.h"
#include "../../weft-tls-private.h"

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef WEFT_FIBER_ASAN
# include <sanitizer/asan_interface.h>
# include <sanitizer/common_interface_defs.h>
/* Between start_switch_fiber and finish_switch_fiber ASan's idea of the
 * current stack is in flux, so the code around the switch must not touch
 * instrumented stack frames (nor the fake stack).
 */
# define WEFT_FIBER_NO_ASAN __attribute__ ((__no_sanitize_address__))
#else
# define WEFT_FIBER_NO_ASAN
#endif

#ifdef WEFT_FIBER_TSAN
# include <sanitizer/tsan_interface.h>

static inline void
weft_fiber_context_tsan_switch (WeftFiberContext *from,
                                WeftFiberContext *to)
{
  /* Every time: a context may be iterated by different threads in turn. */
  from->tsan_fiber = __tsan_get_current_fiber ();
  __tsan_switch_to_fiber (to->tsan_fiber, 0);
}

/* Back from a switch: a fiber that exited can be forgotten now that it
 * is not the current one.
 */
static inline void
weft_fiber_context_tsan_reap (WeftFiberContext *origin)
{
  if (origin->tsan_fiber_exited)
    {
      __tsan_destroy_fiber (origin->tsan_fiber);
      origin->tsan_fiber = NULL;
      origin->tsan_fiber_exited = 0;
    }
}
#else
# define weft_fiber_context_tsan_switch(from, to) ((void) 0)
# define weft_fiber_context_tsan_reap(origin) ((void) (origin))
#endif

#define WEFT_FIBER_HIDDEN __attribute__ ((__visibility__ ("hidden")))

/* Reached from the assembly (or the ucontext start routine) as the first
 * function on a fresh stack, with the context that switched to it.
 */
void weft_fiber_context_boot (WeftFiberContext *origin,
                              WeftFiberEntry    entry,
                              void             *arg) WEFT_FIBER_HIDDEN __attribute__ ((__noreturn__, __used__));

#ifndef WEFT_FIBER_UCONTEXT

WeftFiberContext *weft_fiber_context_switch_raw (WeftFiberContext *from,
                                                 WeftFiberContext *to) WEFT_FIBER_HIDDEN;
void              weft_fiber_context_trampoline (void) WEFT_FIBER_HIDDEN;

#endif

#if defined (WEFT_FIBER_X86_64)

static void *
weft_fiber_context_prepare (void           *stack_low,
                            uintptr_t       top,
                            WeftFiberEntry  entry,
                            void           *arg)
{
  WeftFiberFrame *frame = (WeftFiberFrame *) top - 1;
  uint32_t mxcsr;
  uint16_t x87_control_word;

  /* Like a new thread, a fiber starts with its creator's floating-point
   * modes; only the exception flags are left behind.
   */
  __asm__ volatile ("stmxcsr %0" : "=m" (mxcsr));
  __asm__ volatile ("fnstcw %0" : "=m" (x87_control_word));

  /* The trampoline takes entry and arg from r12 and r13. rbp is zero so
   * that frame-pointer walkers stop at the first frame, and top stays
   * 16-byte aligned so that the trampoline's call leaves the stack as the
   * ABI wants it at a function's entry.
   */
  *frame = (WeftFiberFrame) {
    .mxcsr = mxcsr & ~UINT32_C (0x3f),
    .x87_control_word = x87_control_word,
    .r12 = (uintptr_t) entry,
    .r13 = (uintptr_t) arg,
    .rbp = 0,
    .return_address = weft_fiber_context_trampoline,
  };

  return frame;
}

#elif defined (WEFT_FIBER_AARCH64)

static void *
weft_fiber_context_prepare (void           *stack_low,
                            uintptr_t       top,
                            WeftFiberEntry  entry,
                            void           *arg)
{
  WeftFiberFrame *frame = (WeftFiberFrame *) top - 1;
  uint64_t fpcr;

  /* Like a new thread, a fiber starts with its creator's rounding mode. */
  __asm__ volatile ("mrs %0, fpcr" : "=r" (fpcr));

  /* The trampoline takes entry and arg from x19 and x20; x29 = 0 ends the
   * frame record chain.
   */
  *frame = (WeftFiberFrame) {
    .x19_x28 = { (uintptr_t) entry, (uintptr_t) arg },
    .x29 = 0,
    .x30 = weft_fiber_context_trampoline,
    .fpcr = fpcr,
  };

  return frame;
}

#else /* WEFT_FIBER_UCONTEXT */

/* Kept at the top of a fiber's stack until its first switch. */
typedef struct
{
  ucontext_t      ucontext;
  WeftFiberEntry  entry;
  void           *arg;
} WeftFiberBoot;

/* Hands the context being left to the side being resumed, which the
 * assembly does in a register.
 */
static WEFT_THREAD_LOCAL WeftFiberContext *switch_origin;

WEFT_FIBER_NO_ASAN static WeftFiberContext *
weft_fiber_context_switch_raw (WeftFiberContext *from,
                               WeftFiberContext *to)
{
  ucontext_t here;

  /* ASan's swapcontext() interceptor clears the shadow of the stack that
   * the target ucontext names; for a suspended context that stack is
   * busy, not fresh, so it names none.
   */
  here.uc_stack.ss_sp = NULL;
  here.uc_stack.ss_size = 0;

  from->sp = &here;
  switch_origin = from;

  if (swapcontext (&here, to->sp) != 0)
    abort ();

  return switch_origin;
}

/* makecontext() only passes ints. */
static void
weft_fiber_context_ucontext_start (unsigned int boot_low,
                                   unsigned int boot_high)
{
  WeftFiberBoot *boot = (WeftFiberBoot *) (uintptr_t) (((uint64_t) boot_high << 32) | boot_low);

  weft_fiber_context_boot (switch_origin, boot->entry, boot->arg);
}

static void *
weft_fiber_context_prepare (void           *stack_low,
                            uintptr_t       top,
                            WeftFiberEntry  entry,
                            void           *arg)
{
  WeftFiberBoot *boot = (WeftFiberBoot *) ((top - sizeof (WeftFiberBoot)) & ~(uintptr_t) 15);
  uint64_t address = (uintptr_t) boot;

  /* getcontext() also gives the fiber its creator's floating-point modes
   * and signal mask.
   */
  if (getcontext (&boot->ucontext) != 0)
    abort ();

  boot->ucontext.uc_link = NULL;
  boot->ucontext.uc_stack.ss_sp = stack_low;
  boot->ucontext.uc_stack.ss_size = (uintptr_t) boot - (uintptr_t) stack_low;
  boot->entry = entry;
  boot->arg = arg;

  makecontext (&boot->ucontext, (void (*) (void)) weft_fiber_context_ucontext_start, 2,
               (unsigned int) (address & 0xffffffff), (unsigned int) (address >> 32));

  return &boot->ucontext;
}

#endif

#ifdef WEFT_FIBER_ASAN

WEFT_FIBER_NO_ASAN static inline void
weft_fiber_context_asan_start (void                   **fake_stack_save,
                               const WeftFiberContext  *to)
{
  __sanitizer_start_switch_fiber (fake_stack_save, to->stack_low, to->stack_size);
}

WEFT_FIBER_NO_ASAN static inline void
weft_fiber_context_asan_finish (void             *fake_stack,
                                WeftFiberContext *origin)
{
  const void *origin_low;
  size_t origin_size;

  __sanitizer_finish_switch_fiber (fake_stack, &origin_low, &origin_size);

  /* Only a thread's own stack is unknown, and ASan knows it. */
  if (origin->stack_low == NULL)
    {
      origin->stack_low = origin_low;
      origin->stack_size = origin_size;
    }
}

#else

# define weft_fiber_context_asan_start(fake_stack_save, to) ((void) 0)
# define weft_fiber_context_asan_finish(fake_stack, origin) ((void) (origin))

#endif

WEFT_FIBER_NO_ASAN void
weft_fiber_context_boot (WeftFiberContext *origin,
                         WeftFiberEntry    entry,
                         void             *arg)
{
  static const char message[] = "Weft: a fiber entry returned instead of calling weft_fiber_context_exit()\n";

  /* A fresh fiber has no fake stack to get back. */
  weft_fiber_context_asan_finish (NULL, origin);

  entry (arg);

  /* There is no caller to return to. */
  (void) !write (STDERR_FILENO, message, sizeof message - 1);
  abort ();
}

/**
 * weft_fiber_context_make:
 * @ctx: the context to prepare
 * @stack_low: the lowest address of the fiber's stack
 * @stack_size: the usable size of the stack, in bytes
 * @entry: the function the fiber runs
 * @arg: the argument for @entry
 *
 * Prepares @ctx so that the first switch to it calls @entry with @arg on the
 * stack [@stack_low, @stack_low + @stack_size). @entry must not return: it
 * ends with weft_fiber_context_exit().
 *
 * The stack may be one that a finished fiber used before.
 */
void
weft_fiber_context_make (WeftFiberContext *ctx,
                         void             *stack_low,
                         size_t            stack_size,
                         WeftFiberEntry    entry,
                         void             *arg)
{
  uintptr_t top = ((uintptr_t) stack_low + stack_size) & ~(uintptr_t) 15;

#ifdef WEFT_FIBER_ASAN
  /* A fiber that died left its frames' redzones poisoned behind it. */
  ASAN_UNPOISON_MEMORY_REGION (stack_low, stack_size);
#endif

  ctx->stack_low = stack_low;
  ctx->stack_size = stack_size;
  ctx->asan_fake_stack = NULL;
#ifdef WEFT_FIBER_TSAN
  ctx->tsan_fiber = __tsan_create_fiber (0);
  ctx->tsan_fiber_exited = 0;
#endif
  ctx->sp = weft_fiber_context_prepare (stack_low, top, entry, arg);
}

/**
 * weft_fiber_context_switch:
 * @from: where to save the current execution
 * @to: the context to resume
 *
 * Saves the current execution into @from and resumes @to; returns when
 * something switches back to @from. @from may be a zero-initialised context
 * for the thread's own stack.
 */
WEFT_FIBER_NO_ASAN void
weft_fiber_context_switch (WeftFiberContext *from,
                           WeftFiberContext *to)
{
  WeftFiberContext *origin;

  weft_fiber_context_asan_start (&from->asan_fake_stack, to);
  weft_fiber_context_tsan_switch (from, to);
  origin = weft_fiber_context_switch_raw (from, to);
  weft_fiber_context_asan_finish (from->asan_fake_stack, origin);
  weft_fiber_context_tsan_reap (origin);
}

/**
 * weft_fiber_context_exit:
 * @from: the context of the fiber that ends
 * @to: the context to resume
 *
 * Leaves the current fiber for good and resumes @to. Once @to runs, the
 * fiber's stack and @from may be reused or freed.
 */
WEFT_FIBER_NO_ASAN void
weft_fiber_context_exit (WeftFiberContext *from,
                         WeftFiberContext *to)
{
  /* No place to save the fake stack tells ASan to free it. */
  weft_fiber_context_asan_start (NULL, to);
#ifdef WEFT_FIBER_TSAN
  from->tsan_fiber_exited = 1;
#endif
  weft_fiber_context_tsan_switch (from, to);
  weft_fiber_context_switch_raw (from, to);

  abort ();
}

/**
 * weft_fiber_context_get_backend:
 *
 * Returns: how contexts are switched: "x86_64", "aarch64" or "ucontext"
 */
const char *
weft_fiber_context_get_backend (void)
{
#if defined (WEFT_FIBER_X86_64)
  return "x86_64";
#elif defined (WEFT_FIBER_AARCH64)
  return "aarch64";
#else
  return "ucontext";
#endif
}
