/* test-fiber-switch.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The bare context switch, without GLib, so that it can also be
 * cross-compiled and run under qemu (see run-aarch64.sh). Speaks TAP.
 */

#include <fenv.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <unwind.h>

#include "weft-fiber-context-private.h"

#ifdef WEFT_FIBER_ASAN
# include <sanitizer/asan_interface.h>
#endif

/* Optional, since the cross toolchain has no Valgrind headers. */
#if defined (__has_include)
# if __has_include (<valgrind/valgrind.h>)
#  include <valgrind/valgrind.h>
#  define HAVE_VALGRIND 1
# endif
#endif

/* Roomy, since ASan's frames are large; untouched pages cost nothing. */
#define STACK_SIZE      (1024 * 1024)
#define DEEP_STACK_SIZE (32 * 1024 * 1024)

static int n_failed_checks;

#define check(expr)                                                     \
  do                                                                    \
    {                                                                   \
      if (!(expr))                                                      \
        {                                                               \
          n_failed_checks++;                                            \
          printf ("# %s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
        }                                                               \
    }                                                                   \
  while (0)

/* A minimal fiber on top of the context switch: what the library does,
 * without tasks around it.
 */
typedef struct _Fiber Fiber;
typedef void (*FiberFunc) (Fiber *fiber,
                           void  *data);

struct _Fiber
{
  WeftFiberContext  context;
  WeftFiberContext *resumer;    /* where fiber_yield() goes */
  FiberFunc         func;
  void             *data;
  char             *map;
  size_t            map_size;
  unsigned int      valgrind_id;
  int               finished;
};

static size_t
page_size (void)
{
  return (size_t) sysconf (_SC_PAGESIZE);
}

static void
fiber_main (void *arg)
{
  Fiber *fiber = arg;

  fiber->func (fiber, fiber->data);
  fiber->finished = 1;
  weft_fiber_context_exit (&fiber->context, fiber->resumer);
}

static Fiber *
fiber_new_sized (FiberFunc func,
                 void     *data,
                 size_t    stack_size)
{
  Fiber *fiber = calloc (1, sizeof *fiber);

  fiber->func = func;
  fiber->data = data;
  fiber->map_size = stack_size + page_size ();
  fiber->map = mmap (NULL, fiber->map_size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (fiber->map == MAP_FAILED)
    {
      perror ("mmap");
      abort ();
    }

  /* So that an overflow crashes rather than scribbles. */
  if (mprotect (fiber->map, page_size (), PROT_NONE) != 0)
    abort ();

#ifdef HAVE_VALGRIND
  fiber->valgrind_id = VALGRIND_STACK_REGISTER (fiber->map + page_size (),
                                                fiber->map + fiber->map_size - 1);
#endif

  weft_fiber_context_make (&fiber->context, fiber->map + page_size (), stack_size,
                           fiber_main, fiber);

  return fiber;
}

static Fiber *
fiber_new (FiberFunc  func,
           void      *data)
{
  return fiber_new_sized (func, data, STACK_SIZE);
}

static void
fiber_free (Fiber *fiber)
{
#ifdef WEFT_FIBER_ASAN
  /* Dead frames stay poisoned, and the addresses will be mapped again. */
  ASAN_UNPOISON_MEMORY_REGION (fiber->map + page_size (), fiber->map_size - page_size ());
#endif
#ifdef HAVE_VALGRIND
  VALGRIND_STACK_DEREGISTER (fiber->valgrind_id);
#endif
  munmap (fiber->map, fiber->map_size);
  free (fiber);
}

static void
fiber_resume (Fiber            *fiber,
              WeftFiberContext *from)
{
  fiber->resumer = from;
  weft_fiber_context_switch (from, &fiber->context);
}

static void
fiber_yield (Fiber *fiber)
{
  weft_fiber_context_switch (&fiber->context, fiber->resumer);
}

/* Main and a fiber take turns. */

static void
ping_pong_body (Fiber *fiber,
                void  *data)
{
  int *counter = data;

  for (int i = 0; i < 1000; i++)
    {
      *counter += 1;
      fiber_yield (fiber);
    }
}

static void
test_ping_pong (void)
{
  WeftFiberContext self = { 0 };
  int counter = 0;
  Fiber *fiber = fiber_new (ping_pong_body, &counter);

  for (int i = 0; i < 1000; i++)
    {
      fiber_resume (fiber, &self);
      check (counter == i + 1);
      check (!fiber->finished);
    }

  fiber_resume (fiber, &self);
  check (fiber->finished);
  check (counter == 1000);

  fiber_free (fiber);
}

/* Main runs three fibers in turn, like a scheduler. */

#define N_ROUNDS 50

typedef struct
{
  char  *log;
  size_t len;
} Log;

static void
log_append (Log        *log,
            const char *text)
{
  size_t n = strlen (text);

  memcpy (log->log + log->len, text, n + 1);
  log->len += n;
}

typedef struct
{
  Log        *log;
  const char *name;
} RoundRobinData;

static void
round_robin_body (Fiber *fiber,
                  void  *data)
{
  RoundRobinData *rr = data;

  for (int i = 0; i < N_ROUNDS; i++)
    {
      log_append (rr->log, rr->name);
      fiber_yield (fiber);
    }
}

static void
test_round_robin (void)
{
  WeftFiberContext self = { 0 };
  char buffer[4 * N_ROUNDS + 2] = "";
  char expected[4 * N_ROUNDS + 2] = "";
  Log log = { buffer, 0 };
  RoundRobinData data[3] = { { &log, "A" }, { &log, "B" }, { &log, "C" } };
  Fiber *fibers[3];

  for (int f = 0; f < 3; f++)
    fibers[f] = fiber_new (round_robin_body, &data[f]);

  for (int i = 0; i < N_ROUNDS + 1; i++)
    {
      for (int f = 0; f < 3; f++)
        fiber_resume (fibers[f], &self);
      log_append (&log, "|");
    }

  for (int i = 0; i < N_ROUNDS; i++)
    strcat (expected, "ABC|");
  strcat (expected, "|");
  check (strcmp (buffer, expected) == 0);

  for (int f = 0; f < 3; f++)
    {
      check (fibers[f]->finished);
      fiber_free (fibers[f]);
    }
}

/* Values kept in callee-saved registers survive switches, both in main and
 * in the fiber. churn() keeps more integers and doubles alive across each
 * pause than there are callee-saved registers, so the compiler fills all
 * of them and spills the rest.
 */

typedef void (*PauseFunc) (void *data);

static void
pause_not (void *data)
{
}

__attribute__ ((noinline)) static double
churn (PauseFunc  pause,
       void      *data,
       uint64_t   seed)
{
  uint64_t a = seed, b = seed * 3 + 1, c = seed ^ 0x5555, d = seed + 17;
  uint64_t e = seed * 11, f = ~seed, g = seed << 7, h = seed * seed + 3;
  uint64_t i = seed + 101, j = seed * 29, k = seed ^ 0xfeed, l = seed + 1000;
  double x0 = seed * 0.5, x1 = seed * 0.25, x2 = seed + 0.125, x3 = seed - 3.5;
  double x4 = seed * 1.5, x5 = seed + 2.75, x6 = seed * 0.1, x7 = seed * 3.0;

  for (int round = 0; round < 100; round++)
    {
      pause (data);

      a = a * 6364136223846793005u + b;
      b ^= c >> 3;
      c += d * 7;
      d = (d << 5) | (e >> 59);
      e -= f;
      f ^= g * 13;
      g += h;
      h = (h ^ a) * 31;
      i += j;
      j ^= k << 2;
      k = k * 5 + l;
      l ^= a >> 7;

      x0 = x0 * 0.999 + x1;
      x1 = x1 * 0.5 + x2;
      x2 = x2 * 0.75 - x3;
      x3 = x3 * 0.25 + x4;
      x4 = x4 * 0.125 + x5;
      x5 = x5 * 0.875 - x6;
      x6 = x6 * 0.625 + x7;
      x7 = x7 * 0.375 + x0;
    }

  return (double) (a ^ b ^ c ^ d ^ e ^ f ^ g ^ h ^ i ^ j ^ k ^ l)
         + x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7;
}

typedef struct
{
  Fiber            *fiber;
  WeftFiberContext *self;
} ResumeData;

static void
pause_by_resuming (void *data)
{
  ResumeData *resume = data;

  if (!resume->fiber->finished)
    fiber_resume (resume->fiber, resume->self);
}

static void
pause_by_yielding (void *data)
{
  fiber_yield (data);
}

static void
churn_body (Fiber *fiber,
            void  *data)
{
  double *result = data;

  *result = churn (pause_by_yielding, fiber, 2);
}

static void
test_callee_saved (void)
{
  WeftFiberContext self = { 0 };
  double in_fiber = 0, in_main;
  Fiber *fiber = fiber_new (churn_body, &in_fiber);
  ResumeData resume = { fiber, &self };

  in_main = churn (pause_by_resuming, &resume, 1);
  check (!fiber->finished);
  fiber_resume (fiber, &self);
  check (fiber->finished);

  check (in_main == churn (pause_not, NULL, 1));
  check (in_fiber == churn (pause_not, NULL, 2));

  fiber_free (fiber);
}

/* Floating-point modes belong to each context. */

static double
one_third (void)
{
  volatile double one = 1.0, three = 3.0;

  return one / three;
}

#ifdef __x86_64__
static long double
one_third_x87 (void)
{
  volatile long double one = 1.0L, three = 3.0L;

  return one / three;
}

static unsigned int
sse_rounding (void)
{
  unsigned int mxcsr;

  __asm__ volatile ("stmxcsr %0" : "=m" (mxcsr));
  return (mxcsr >> 13) & 3;
}
#endif

static void
fp_modes_body (Fiber *fiber,
               void  *data)
{
  double *upward = data;

  /* A fiber starts with its creator's modes. */
  check (fegetround () == FE_DOWNWARD);

  fesetround (FE_UPWARD);
  *upward = one_third ();
  fiber_yield (fiber);

  check (fegetround () == FE_UPWARD);
  check (one_third () == *upward);
#ifdef __x86_64__
  check (sse_rounding () == 2);
#endif

  fesetround (FE_TOWARDZERO);
  fiber_yield (fiber);
  check (fegetround () == FE_TOWARDZERO);
}

static void
test_fp_modes (void)
{
  WeftFiberContext self = { 0 };
  double downward, upward = 0;
#ifdef __x86_64__
  long double downward_x87;
#endif
  Fiber *fiber;

  fesetround (FE_DOWNWARD);
  downward = one_third ();
#ifdef __x86_64__
  downward_x87 = one_third_x87 ();
#endif
  fiber = fiber_new (fp_modes_body, &upward);

  for (int i = 0; i < 3; i++)
    {
      fiber_resume (fiber, &self);
      check (fegetround () == FE_DOWNWARD);
      check (one_third () == downward);
#ifdef __x86_64__
      check (sse_rounding () == 1);
      check (one_third_x87 () == downward_x87);
#endif
    }

  check (fiber->finished);
  fesetround (FE_TONEAREST);

#ifdef HAVE_VALGRIND
  /* Valgrind's SSE emulation ignores the rounding mode. */
  if (!RUNNING_ON_VALGRIND)
#endif
    check (upward > downward);

  fiber_free (fiber);
}

/* A deep call chain on a fiber stack survives a round trip to main. */

#define RECURSION_DEPTH 50000

__attribute__ ((noinline)) static unsigned long
recurse (Fiber    *fiber,
         unsigned  depth)
{
  volatile unsigned char frame[48];

  frame[0] = depth & 0xff;
  frame[47] = depth >> 8;

  if (depth == 0)
    {
      fiber_yield (fiber);
      return 1;
    }

  /* Used after the call, so it cannot become a tail call. */
  return recurse (fiber, depth - 1) + frame[0] + ((unsigned) frame[47] << 8);
}

static void
deep_body (Fiber *fiber,
           void  *data)
{
  unsigned long *sum = data;

  *sum = recurse (fiber, RECURSION_DEPTH);
}

static void
test_deep_recursion (void)
{
  WeftFiberContext self = { 0 };
  unsigned long sum = 0, expected = 1;
  Fiber *fiber = fiber_new_sized (deep_body, &sum, DEEP_STACK_SIZE);

  for (unsigned depth = 1; depth <= RECURSION_DEPTH; depth++)
    expected += depth;

  fiber_resume (fiber, &self);
  check (!fiber->finished);

  /* Main's own stack, in use meanwhile, is not the fiber's. */
  check (churn (pause_not, NULL, 3) == churn (pause_not, NULL, 3));

  fiber_resume (fiber, &self);
  check (fiber->finished);
  check (sum == expected);

  fiber_free (fiber);
}

/* The stack is aligned as the ABI wants it at a call. */

__attribute__ ((noinline)) static int
frame_is_aligned (void)
{
  _Alignas (16) volatile unsigned char vector[16];

  vector[0] = 1;

  return ((uintptr_t) __builtin_frame_address (0) % 16) == 0
         && ((uintptr_t) vector % 16) == 0;
}

static void
alignment_body (Fiber *fiber,
                void  *data)
{
  int *aligned = data;

  *aligned = frame_is_aligned ();
  fiber_yield (fiber);
  *aligned = *aligned && frame_is_aligned ();
}

static void
test_alignment (void)
{
  WeftFiberContext self = { 0 };

  /* Shift the top of the stack by every multiple of 8 within 16. */
  for (size_t shift = 0; shift < 32; shift += 8)
    {
      int aligned = 0;
      Fiber *fiber = fiber_new (alignment_body, &aligned);

      weft_fiber_context_make (&fiber->context, fiber->map + page_size (), STACK_SIZE - shift,
                               fiber_main, fiber);

      fiber_resume (fiber, &self);
      check (aligned);
      fiber_resume (fiber, &self);
      check (fiber->finished);
      check (aligned);

      fiber_free (fiber);
    }
}

/* Fibers switch to each other directly, and start each other. */

typedef struct
{
  Log   *log;
  Fiber *peer;
} PeerData;

static void
nested_body (Fiber *fiber,
             void  *data)
{
  Log *log = data;

  log_append (log, "c1 ");
  fiber_yield (fiber);
  log_append (log, "c2 ");
}

static void
passing_body (Fiber *fiber,
              void  *data)
{
  PeerData *peer = data;
  Fiber *nested;

  log_append (peer->log, "a1 ");
  weft_fiber_context_switch (&fiber->context, &peer->peer->context);
  log_append (peer->log, "a2 ");

  nested = fiber_new (nested_body, peer->log);
  fiber_resume (nested, &fiber->context);
  log_append (peer->log, "a3 ");
  fiber_resume (nested, &fiber->context);
  check (nested->finished);
  fiber_free (nested);

  log_append (peer->log, "a4 ");
}

static void
passed_to_body (Fiber *fiber,
                void  *data)
{
  Log *log = data;

  log_append (log, "b1 ");
  fiber_yield (fiber);
  log_append (log, "b2 ");
}

static void
test_fiber_to_fiber (void)
{
  WeftFiberContext self = { 0 };
  char buffer[128] = "";
  Log log = { buffer, 0 };
  PeerData data = { &log, NULL };
  Fiber *a = fiber_new (passing_body, &data);
  Fiber *b = fiber_new (passed_to_body, &log);

  data.peer = b;
  b->resumer = &self;

  fiber_resume (a, &self);
  log_append (&log, "m ");
  fiber_resume (a, &self);
  fiber_resume (b, &self);

  check (a->finished);
  check (b->finished);
  check (strcmp (buffer, "a1 b1 m a2 c1 a3 c2 a4 b2 ") == 0);

  fiber_free (a);
  fiber_free (b);
}

/* A stack serves fiber after fiber. Under ASan, each exit frees the dead
 * fiber's fake stack.
 */

static void
short_lived_body (Fiber *fiber,
                  void  *data)
{
  int *count = data;
  volatile char scratch[256];

  memset ((char *) scratch, *count & 0xff, sizeof scratch);
  fiber_yield (fiber);
  *count += 1 + (scratch[17] != (char) (*count & 0xff));
}

static void
test_stack_reuse (void)
{
  WeftFiberContext self = { 0 };
  int count = 0;
  Fiber *fiber = fiber_new (short_lived_body, &count);

  for (int i = 0; i < 1000; i++)
    {
      fiber->finished = 0;
      weft_fiber_context_make (&fiber->context, fiber->map + page_size (), STACK_SIZE,
                               fiber_main, fiber);
      fiber_resume (fiber, &self);
      fiber_resume (fiber, &self);
      check (fiber->finished);
    }

  check (count == 1000);

  fiber_free (fiber);
}

/* Unwinders stop cleanly at the first frame of a fiber instead of reading
 * past the top of its stack.
 */

typedef struct
{
  int n_frames;
} UnwindState;

static _Unwind_Reason_Code
count_frame (struct _Unwind_Context *context,
             void                   *data)
{
  UnwindState *state = data;

  if (++state->n_frames > 100)
    return _URC_NORMAL_STOP;

  return _URC_NO_REASON;
}

__attribute__ ((noinline)) static int
unwind_from_here (int *n_frames)
{
  UnwindState state = { 0 };
  _Unwind_Reason_Code reason = _Unwind_Backtrace (count_frame, &state);

  *n_frames = state.n_frames;
  return reason;
}

static void
unwind_body (Fiber *fiber,
             void  *data)
{
  int *n_frames = data;

  check (unwind_from_here (n_frames) == _URC_END_OF_STACK);
}

static void
test_unwind (void)
{
  WeftFiberContext self = { 0 };
  int n_frames = 0;
  Fiber *fiber = fiber_new (unwind_body, &n_frames);

  fiber_resume (fiber, &self);
  check (fiber->finished);

  /* unwind_from_here, unwind_body, fiber_main and the start of the fiber:
   * a handful, whatever the compiler inlines.
   */
  printf ("# %d frames unwound in the fiber\n", n_frames);
  check (n_frames >= 3 && n_frames <= 12);

  fiber_free (fiber);
}

/* Another thread has its own stack for the zero context to stand for. */

static void *
ping_pong_thread (void *data)
{
  test_ping_pong ();
  return NULL;
}

static void
test_other_thread (void)
{
  pthread_t thread;

  check (pthread_create (&thread, NULL, ping_pong_thread, NULL) == 0);
  check (pthread_join (thread, NULL) == 0);
}

/* Many fibers alive at once. */

typedef struct
{
  unsigned long total;
  unsigned int  id;
} CounterData;

static void
counter_body (Fiber *fiber,
              void  *data)
{
  CounterData *counter = data;

  for (unsigned int round = 0; round < 100; round++)
    {
      counter->total += counter->id * round;
      fiber_yield (fiber);
    }
}

static void
test_many_fibers (void)
{
  enum { N_FIBERS = 200 };
  WeftFiberContext self = { 0 };
  CounterData counters[N_FIBERS];
  Fiber *fibers[N_FIBERS];
  int n_alive = N_FIBERS;

  for (int f = 0; f < N_FIBERS; f++)
    {
      counters[f] = (CounterData) { 0, f };
      fibers[f] = fiber_new_sized (counter_body, &counters[f], 64 * 1024);
    }

  while (n_alive > 0)
    for (int f = 0; f < N_FIBERS; f++)
      if (!fibers[f]->finished)
        {
          fiber_resume (fibers[f], &self);
          n_alive -= fibers[f]->finished;
        }

  for (int f = 0; f < N_FIBERS; f++)
    {
      check (counters[f].total == (unsigned long) f * (99 * 100 / 2));
      fiber_free (fibers[f]);
    }
}

static const struct
{
  const char *name;
  void      (*func) (void);
} tests[] = {
  { "ping-pong between main and a fiber", test_ping_pong },
  { "round robin over three fibers", test_round_robin },
  { "callee-saved registers survive switches", test_callee_saved },
  { "floating-point modes are per context", test_fp_modes },
  { "deep recursion on a fiber stack", test_deep_recursion },
  { "16-byte stack alignment in a fiber", test_alignment },
  { "fibers switch to and start each other", test_fiber_to_fiber },
  { "a stack is reused by fiber after fiber", test_stack_reuse },
  { "unwinding stops at the start of a fiber", test_unwind },
  { "fibers on another thread", test_other_thread },
  { "two hundred fibers alive at once", test_many_fibers },
};

int
main (void)
{
  int n_failed_tests = 0;
  size_t n_tests = sizeof tests / sizeof tests[0];

  /* TAP lines must not sit in a buffer if a test crashes. */
  setvbuf (stdout, NULL, _IOLBF, 0);

  printf ("# switch backend: %s\n", weft_fiber_context_get_backend ());
  printf ("1..%zu\n", n_tests);

  for (size_t t = 0; t < n_tests; t++)
    {
      int failed_before = n_failed_checks;

      tests[t].func ();

      if (n_failed_checks == failed_before)
        printf ("ok %zu - %s\n", t + 1, tests[t].name);
      else
        {
          printf ("not ok %zu - %s\n", t + 1, tests[t].name);
          n_failed_tests++;
        }
    }

  return n_failed_tests == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
