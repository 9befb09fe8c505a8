/* weft-fiber-context-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

/* No GLib here, nor in weft-fiber-context.c: the switch is tested alone,
 * cross-compiled and run under qemu.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined (__SANITIZE_ADDRESS__)
# define WEFT_FIBER_ASAN 1
#elif defined (__has_feature)
# if __has_feature (address_sanitizer)
#  define WEFT_FIBER_ASAN 1
# endif
#endif

#if defined (__SANITIZE_THREAD__)
# define WEFT_FIBER_TSAN 1
#elif defined (__has_feature)
# if __has_feature (thread_sanitizer)
#  define WEFT_FIBER_TSAN 1
# endif
#endif

#if defined (WEFT_FIBER_SWITCH_UCONTEXT)
# define WEFT_FIBER_UCONTEXT 1
#elif defined (__ELF__) && defined (__LP64__) && defined (__x86_64__)
# define WEFT_FIBER_X86_64 1
#elif defined (__ELF__) && defined (__LP64__) && defined (__aarch64__)
# define WEFT_FIBER_AARCH64 1
#else
# define WEFT_FIBER_UCONTEXT 1
#endif

#ifdef WEFT_FIBER_UCONTEXT
# include <ucontext.h>
#endif

/* Here rather than in weft-fiber-context.c: weft-fiber-backtrace.c reads
 * a suspended context's registers back from its frame.
 */
#if defined (WEFT_FIBER_X86_64)

/* The frame weft-fiber-switch-x86_64.S pushes, lowest address first. */
typedef struct
{
  uint32_t mxcsr;
  uint16_t x87_control_word;
  uint16_t padding;
  uint64_t r15;
  uint64_t r14;
  uint64_t r13;
  uint64_t r12;
  uint64_t rbx;
  uint64_t rbp;
  void   (*return_address) (void);
} WeftFiberFrame;

_Static_assert (sizeof (WeftFiberFrame) == 64, "out of sync with weft-fiber-switch-x86_64.S");

#elif defined (WEFT_FIBER_AARCH64)

/* The frame weft-fiber-switch-aarch64.S pushes, lowest address first. */
typedef struct
{
  uint64_t x19_x28[10];
  uint64_t x29;
  void   (*x30) (void);
  uint64_t d8_d15[8];
  uint64_t fpcr;
  uint64_t padding;
} WeftFiberFrame;

_Static_assert (sizeof (WeftFiberFrame) == 176, "out of sync with weft-fiber-switch-aarch64.S");

#endif

typedef struct _WeftFiberContext WeftFiberContext;

/*
 * WeftFiberContext:
 *
 * A suspended flow of execution: a fiber, or a thread's own stack while a
 * fiber runs. Everything the ABI asks to preserve across a call lives on
 * the suspended stack itself, so the context only has to remember where
 * that stack stopped.
 *
 * A zero-initialised context stands for the thread's own stack: it becomes
 * valid the first time it is switched away from.
 */
struct _WeftFiberContext
{
  /*< private >*/
  /* Stays first: the assembly reads and writes it at offset 0. While the
   * context is suspended it points at its WeftFiberFrame, or at the
   * ucontext_t that swapcontext() filled.
   */
  void       *sp;

  /* The usable stack, which AddressSanitizer must be told about on every
   * switch. For a thread's own stack, NULL until ASan reports it.
   */
  const void *stack_low;
  size_t      stack_size;

  /* ASan's fake stack (stack-use-after-return frames) while suspended. */
  void       *asan_fake_stack;

  /* ThreadSanitizer's own state for this flow of execution: its shadow
   * call stack, which a switch it is not told about would corrupt. A
   * thread's own stack gets its thread's on the first switch away.
   */
  void       *tsan_fiber;
  int         tsan_fiber_exited;
};

typedef void (*WeftFiberEntry) (void *arg);

void        weft_fiber_context_make        (WeftFiberContext *ctx,
                                            void             *stack_low,
                                            size_t            stack_size,
                                            WeftFiberEntry    entry,
                                            void             *arg);
void        weft_fiber_context_switch      (WeftFiberContext *from,
                                            WeftFiberContext *to);
void        weft_fiber_context_exit        (WeftFiberContext *from,
                                            WeftFiberContext *to) __attribute__ ((__noreturn__));
const char *weft_fiber_context_get_backend (void);

#ifdef __cplusplus
}
#endif
