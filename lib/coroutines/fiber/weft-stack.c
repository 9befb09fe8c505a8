/* weft-stack.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Fiber stacks: guarded anonymous mappings, kept in a small pool per
 * thread, and a SIGSEGV/SIGBUS handler that turns a fault in a guard into a
 * message naming the task that overflowed.
 */

#include "weft-config.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef HAVE_VALGRIND_VALGRIND_H
# include <valgrind/valgrind.h>
#endif

#include "weft-error.h"
#include "weft-fiber-context-private.h"
#include "weft-stack-private.h"
#include "../../weft-tls-private.h"

#ifdef WEFT_FIBER_ASAN
# include <sanitizer/asan_interface.h>
#endif

#ifndef MAP_NORESERVE
# define MAP_NORESERVE 0
#endif
#ifndef MAP_STACK
# define MAP_STACK 0
#endif

/* Stacks kept per thread for the next fibers; more are unmapped. */
#define POOL_MAX 64

/* Signal frames land on fiber stacks too, and they are large with AVX-512
 * or SVE state in them.
 */
#define MIN_STACK_SIZE (16 * 1024)

/* Larger than a page: a function with a big frame moves the stack pointer
 * past a single guard page and into whatever is mapped below (typically
 * another fiber's stack) without faulting. An inaccessible region costs
 * address space only.
 */
#define GUARD_SIZE (64 * 1024)

/* The fault handler runs on it; a chained handler might need more than
 * ours does.
 */
#define ALTSTACK_SIZE (64 * 1024)

/* Linux's default vm.max_map_count. */
#define DEFAULT_MAX_MAP_COUNT 65530

typedef struct
{
  WeftStack pool[POOL_MAX];
  guint     n_pooled;
  WeftStack altstack;
} WeftStackThread;

/* What the fault handler knows about the fiber running on this thread.
 * guard_low is written last and cleared first, so that the handler never
 * acts on a half-written record.
 */
typedef struct
{
  uintptr_t   guard_low;
  uintptr_t   guard_high;
  size_t      size;
  const char *task_name;
  guint64     task_id;
} WeftStackGuard;

static void weft_stack_thread_free (gpointer data);

static GPrivate thread_key = G_PRIVATE_INIT (weft_stack_thread_free);

/* Read by the fault handler, on any thread that faults. Initial-exec TLS is
 * a fixed offset from the thread pointer, whereas the general model may
 * allocate on first access from a thread when the library was dlopen()ed,
 * which a signal handler must not do.
 */
static WEFT_THREAD_LOCAL WeftStackGuard current_guard;

static WEFT_THREAD_LOCAL gboolean thread_guarded;

static struct sigaction previous_segv_action;
static struct sigaction previous_bus_action;

static size_t
weft_stack_page_size (void)
{
  return (size_t) sysconf (_SC_PAGESIZE);
}

static size_t
weft_stack_round_to_pages (size_t size)
{
  size_t page_size = weft_stack_page_size ();

  return (size + page_size - 1) & ~(page_size - 1);
}

/**
 * weft_stack_get_guard_size:
 *
 * Returns: the size of the inaccessible region below every stack, in bytes
 */
size_t
weft_stack_get_guard_size (void)
{
  return weft_stack_round_to_pages (GUARD_SIZE);
}

static guint64
weft_stack_read_max_map_count (void)
{
  g_autofree char *contents = NULL;

  if (!g_file_get_contents ("/proc/sys/vm/max_map_count", &contents, NULL, NULL))
    return 0;

  return g_ascii_strtoull (contents, NULL, 10);
}

static void
weft_stack_set_enomem_error (GError **error,
                             size_t   size)
{
#ifdef __linux__
  guint64 max_map_count = weft_stack_read_max_map_count ();
  g_autofree char *limit = NULL;

  if (max_map_count != 0)
    limit = g_strdup_printf ("currently %" G_GUINT64_FORMAT, max_map_count);
  else
    limit = g_strdup_printf ("%d by default", DEFAULT_MAX_MAP_COUNT);

  g_set_error (error, WEFT_ERROR, WEFT_ERROR_FIBER_STACK,
               "Could not allocate a fiber stack of %" G_GSIZE_FORMAT " bytes: %s. "
               "Linux limits the number of memory mappings per process "
               "(vm.max_map_count, %s) and every fiber stack takes two of them, "
               "its stack and its guard page, so no more than about "
               "%" G_GUINT64_FORMAT " fibers can be suspended at once. "
               "Raise the limit as root, for instance with "
               "sysctl -w vm.max_map_count=262144 (in /etc/sysctl.d/ to keep it), "
               "or reduce the number of simultaneously suspended fibers.",
               size, g_strerror (ENOMEM), limit,
               (max_map_count != 0 ? max_map_count : DEFAULT_MAX_MAP_COUNT) / 2);
#else
  g_set_error (error, WEFT_ERROR, WEFT_ERROR_FIBER_STACK,
               "Could not allocate a fiber stack of %" G_GSIZE_FORMAT " bytes: %s. "
               "Reduce the number of simultaneously suspended fibers, "
               "or their stack size.",
               size, g_strerror (ENOMEM));
#endif
}

/**
 * weft_stack_set_error:
 * @error: return location for a #GError
 * @size: the stack size that was asked for
 * @errsv: the errno of the failed call
 *
 * Sets @error to the %WEFT_ERROR_FIBER_STACK error for a failed stack
 * allocation. Running out of memory mappings is the usual way to run out of
 * stacks, so %ENOMEM explains that limit and how to raise it.
 */
void
weft_stack_set_error (GError **error,
                      size_t   size,
                      int      errsv)
{
  if (errsv == ENOMEM)
    weft_stack_set_enomem_error (error, size);
  else
    g_set_error (error, WEFT_ERROR, WEFT_ERROR_FIBER_STACK,
                 "Could not allocate a fiber stack of %" G_GSIZE_FORMAT " bytes: %s",
                 size, g_strerror (errsv));
}

/* @size is a multiple of the page size. */
static gboolean
weft_stack_map (WeftStack  *stack,
                size_t      size,
                GError    **error)
{
  size_t guard_size = weft_stack_get_guard_size ();
  size_t map_size = guard_size + size;
  char *base;

  base = mmap (NULL, map_size, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (base == MAP_FAILED)
    {
      weft_stack_set_error (error, size, errno);
      return FALSE;
    }

  /* This splits the mapping in two, hence two entries per stack against
   * vm.max_map_count.
   */
  if (mprotect (base, guard_size, PROT_NONE) != 0)
    {
      int errsv = errno;

      munmap (base, map_size);
      weft_stack_set_error (error, size, errsv);
      return FALSE;
    }

  *stack = (WeftStack) {
    .low = base + guard_size,
    .size = size,
    .map_base = base,
    .map_size = map_size,
  };

  return TRUE;
}

static void
weft_stack_unmap (WeftStack *stack)
{
#ifdef WEFT_FIBER_ASAN
  /* Frames of dead fibers are still poisoned, and whatever gets mapped
   * here next must not inherit that.
   */
  ASAN_UNPOISON_MEMORY_REGION (stack->low, stack->size);
#endif

  munmap (stack->map_base, stack->map_size);
  *stack = (WeftStack) { 0 };
}

static void
weft_stack_discard (WeftStack *stack)
{
#ifdef HAVE_VALGRIND_VALGRIND_H
  VALGRIND_STACK_DEREGISTER (stack->valgrind_id);
#endif

  weft_stack_unmap (stack);
}

static WeftStackThread *
weft_stack_thread_get (void)
{
  WeftStackThread *self = g_private_get (&thread_key);

  if (G_UNLIKELY (self == NULL))
    {
      self = g_new0 (WeftStackThread, 1);
      g_private_set (&thread_key, self);
    }

  return self;
}

static void
weft_stack_thread_drop_altstack (WeftStackThread *self)
{
  stack_t current;

  if (self->altstack.map_base == NULL)
    return;

  if (sigaltstack (NULL, &current) == 0 && current.ss_sp == self->altstack.low)
    {
      stack_t disabled = { .ss_flags = SS_DISABLE };

      sigaltstack (&disabled, NULL);
    }

  weft_stack_unmap (&self->altstack);
}

static void
weft_stack_thread_free (gpointer data)
{
  WeftStackThread *self = data;

  for (guint i = 0; i < self->n_pooled; i++)
    weft_stack_discard (&self->pool[i]);

  weft_stack_thread_drop_altstack (self);

  /* Should a fiber run on this thread again during its teardown, it gets
   * a fresh altstack.
   */
  thread_guarded = FALSE;

  g_free (self);
}

static gboolean
weft_stack_pool_take (WeftStackThread *self,
                      size_t           size,
                      WeftStack       *stack)
{
  /* The most recently released stack first: its pages are the likeliest
   * to be resident and in cache.
   */
  for (guint i = self->n_pooled; i > 0; i--)
    {
      if (self->pool[i - 1].size != size)
        continue;

      *stack = self->pool[i - 1];
      memmove (&self->pool[i - 1], &self->pool[i], (self->n_pooled - i) * sizeof (WeftStack));
      self->n_pooled--;

      return TRUE;
    }

  return FALSE;
}

/**
 * weft_stack_acquire:
 * @stack: (out caller-allocates): the stack
 * @size: the usable size wanted, in bytes
 * @error: return location for a #GError
 *
 * Provides a stack of at least @size bytes (rounded up to whole pages, and
 * to 16 KiB at least) with a PROT_NONE guard below it: one this thread
 * released before, or a fresh mapping.
 *
 * Returns: %TRUE on success; %FALSE with @error set to
 *   %WEFT_ERROR_FIBER_STACK otherwise
 */
gboolean
weft_stack_acquire (WeftStack  *stack,
                    size_t      size,
                    GError    **error)
{
  g_return_val_if_fail (stack != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (size > G_MAXSIZE / 2)
    {
      weft_stack_set_error (error, size, EOVERFLOW);
      return FALSE;
    }

  size = weft_stack_round_to_pages (MAX (size, MIN_STACK_SIZE));

  if (weft_stack_pool_take (weft_stack_thread_get (), size, stack))
    return TRUE;

  if (!weft_stack_map (stack, size, error))
    return FALSE;

#ifdef HAVE_VALGRIND_VALGRIND_H
  /* Valgrind's "highest addressable byte" is inclusive. */
  stack->valgrind_id = VALGRIND_STACK_REGISTER (stack->low, (char *) stack->low + stack->size - 1);
#endif

  return TRUE;
}

/**
 * weft_stack_release:
 * @stack: a stack from weft_stack_acquire(), or a zero-filled one
 *
 * Gives @stack back, to this thread's pool or to the system when the pool
 * is full, and clears it. No fiber may run on it anymore.
 */
void
weft_stack_release (WeftStack *stack)
{
  WeftStackThread *self;

  g_return_if_fail (stack != NULL);

  if (stack->map_base == NULL)
    return;

  self = weft_stack_thread_get ();

  if (self->n_pooled < POOL_MAX)
    self->pool[self->n_pooled++] = *stack;
  else
    weft_stack_discard (stack);

  *stack = (WeftStack) { 0 };
}

/**
 * weft_stack_get_n_pooled:
 *
 * Returns: the number of stacks kept for reuse by the calling thread
 */
guint
weft_stack_get_n_pooled (void)
{
  WeftStackThread *self = g_private_get (&thread_key);

  return self != NULL ? self->n_pooled : 0;
}

/* Async-signal-safe formatting: no stdio, no allocation. */

typedef struct
{
  char   text[512];
  size_t len;
} WeftStackMessage;

/* Truncates to @max bytes, keeping room for the rest of the message. */
static void
weft_stack_message_append (WeftStackMessage *message,
                           const char       *text,
                           size_t            max)
{
  for (size_t i = 0; i < max && text[i] != '\0' && message->len < sizeof message->text; i++)
    message->text[message->len++] = text[i];
}

static void
weft_stack_message_append_number (WeftStackMessage *message,
                                  guint64           number)
{
  char digits[21];
  size_t i = sizeof digits - 1;

  digits[i] = '\0';
  do
    {
      digits[--i] = '0' + number % 10;
      number /= 10;
    }
  while (number != 0);

  weft_stack_message_append (message, &digits[i], G_MAXSIZE);
}

G_NORETURN static void
weft_stack_report_overflow (void)
{
  WeftStackMessage message = { .len = 0 };
  size_t written = 0;

  weft_stack_message_append (&message, "Weft: stack overflow in task '", G_MAXSIZE);
  if (current_guard.task_name != NULL)
    weft_stack_message_append (&message, current_guard.task_name, 256);
  else
    {
      weft_stack_message_append (&message, "Task-", G_MAXSIZE);
      weft_stack_message_append_number (&message, current_guard.task_id);
    }
  weft_stack_message_append (&message, "' (fiber stack of ", G_MAXSIZE);
  weft_stack_message_append_number (&message, current_guard.size);
  weft_stack_message_append (&message, " bytes); raise it with weft_fiber_set_default_stack_size()\n", G_MAXSIZE);

  /* A single write, so that other threads' output does not interleave. */
  while (written < message.len)
    {
      ssize_t n = write (STDERR_FILENO, message.text + written, message.len - written);

      if (n > 0)
        written += n;
      else if (n < 0 && errno != EINTR)
        break;
    }

  abort ();
}

static void
weft_stack_chain_fault (int        signo,
                        siginfo_t *info,
                        void      *ucontext)
{
  const struct sigaction *previous = signo == SIGBUS ? &previous_bus_action : &previous_segv_action;

  if (previous->sa_flags & SA_SIGINFO)
    {
      previous->sa_sigaction (signo, info, ucontext);
      return;
    }

  if (previous->sa_handler != SIG_DFL && previous->sa_handler != SIG_IGN)
    {
      previous->sa_handler (signo);
      return;
    }

  /* Step aside: returning runs the faulting instruction again, which now
   * meets the default action, and a core dump shows where it really
   * happened. A signal sent with kill() does not come back by itself.
   */
  sigaction (signo, previous, NULL);
  if (info->si_code <= 0)
    raise (signo);
}

static void
weft_stack_on_fault (int        signo,
                     siginfo_t *info,
                     void      *ucontext)
{
  uintptr_t guard_low = __atomic_load_n (&current_guard.guard_low, __ATOMIC_RELAXED);
  uintptr_t address = (uintptr_t) info->si_addr;
  int saved_errno = errno;

  __atomic_signal_fence (__ATOMIC_ACQUIRE);

  /* A positive si_code means the kernel reports a fault, rather than
   * someone sending the signal.
   */
  if (info->si_code > 0 &&
      guard_low != 0 &&
      address >= guard_low &&
      address < current_guard.guard_high)
    weft_stack_report_overflow ();

  weft_stack_chain_fault (signo, info, ucontext);

  /* The interrupted code may be in the middle of reading it. */
  errno = saved_errno;
}

static void
weft_stack_install_handler (int               signo,
                            struct sigaction *previous)
{
  struct sigaction action = { .sa_flags = SA_SIGINFO | SA_ONSTACK };

  action.sa_sigaction = weft_stack_on_fault;
  sigemptyset (&action.sa_mask);

  /* Learn the previous handler before ours can run and need it. */
  if (sigaction (signo, NULL, previous) != 0 ||
      sigaction (signo, &action, NULL) != 0)
    g_warning ("Could not install the handler that reports fiber stack overflows: %s",
               g_strerror (errno));
}

static void
weft_stack_thread_ensure_altstack (WeftStackThread *self)
{
  g_autoptr(GError) error = NULL;
  size_t size = ALTSTACK_SIZE;
  stack_t current;
  stack_t ours;

  /* One that the application or another runtime set up serves our handler
   * as well.
   */
  if (sigaltstack (NULL, &current) == 0 && !(current.ss_flags & SS_DISABLE))
    return;

#ifdef _SC_SIGSTKSZ
  if (sysconf (_SC_SIGSTKSZ) > 0)
    size = MAX (size, (size_t) sysconf (_SC_SIGSTKSZ));
#endif

  if (!weft_stack_map (&self->altstack, weft_stack_round_to_pages (size), &error))
    {
      g_warning ("Fiber stack overflows on this thread will crash without a message: %s",
                 error->message);
      return;
    }

  ours = (stack_t) { .ss_sp = self->altstack.low, .ss_size = self->altstack.size };
  if (sigaltstack (&ours, NULL) != 0)
    {
      g_warning ("Fiber stack overflows on this thread will crash without a message: "
                 "sigaltstack() failed: %s", g_strerror (errno));
      weft_stack_unmap (&self->altstack);
    }
}

static void
weft_stack_guard_init_thread (void)
{
  static gsize handlers_installed = 0;

  if (g_once_init_enter (&handlers_installed))
    {
      weft_stack_install_handler (SIGSEGV, &previous_segv_action);
      weft_stack_install_handler (SIGBUS, &previous_bus_action);
      g_once_init_leave (&handlers_installed, 1);
    }

  /* An overflowing fiber has no stack left to run the handler on. */
  weft_stack_thread_ensure_altstack (weft_stack_thread_get ());

  thread_guarded = TRUE;
}

/**
 * weft_stack_guard_enter:
 * @stack: the stack of the fiber about to run
 * @task_name: (nullable): the name of its task, which must stay valid until
 *   weft_stack_guard_leave()
 * @task_id: the id of the task, named "Task-<id>" if @task_name is %NULL
 *
 * Tells the fault handler which fiber runs on this thread from now on, so
 * that a fault in the guard of @stack aborts with a message naming the task
 * instead of a bare segmentation fault. Called before every switch to a
 * fiber; cheap after the first time on each thread.
 */
void
weft_stack_guard_enter (const WeftStack *stack,
                        const char      *task_name,
                        guint64          task_id)
{
  g_return_if_fail (stack != NULL);

  if (G_UNLIKELY (!thread_guarded))
    weft_stack_guard_init_thread ();

  weft_stack_guard_leave ();

  current_guard.guard_high = (uintptr_t) stack->low;
  current_guard.size = stack->size;
  current_guard.task_name = task_name;
  current_guard.task_id = task_id;

  __atomic_signal_fence (__ATOMIC_RELEASE);
  __atomic_store_n (&current_guard.guard_low, (uintptr_t) stack->map_base, __ATOMIC_RELAXED);
}

/**
 * weft_stack_guard_leave:
 *
 * Tells the fault handler that no fiber runs on this thread anymore.
 */
void
weft_stack_guard_leave (void)
{
  __atomic_store_n (&current_guard.guard_low, 0, __ATOMIC_RELAXED);
  __atomic_signal_fence (__ATOMIC_SEQ_CST);
}
