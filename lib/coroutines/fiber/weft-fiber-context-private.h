/* weft-fiber-context-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

/* No GLib here, nor in weft-fiber-context.c: the switch is tested alone,
 * cross-compiled and run under qemu.
 */

#include <stddef.h>

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
  /* Stays first: the assembly reads and writes it at offset 0. */
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
