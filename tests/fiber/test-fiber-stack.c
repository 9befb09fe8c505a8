/* test-fiber-stack.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib.h>

#include "weft-error.h"
#include "weft-fiber-context-private.h"
#include "weft-stack-private.h"

#define STACK_SIZE (64 * 1024)

static size_t
page_size (void)
{
  return (size_t) sysconf (_SC_PAGESIZE);
}

/* Expected crashes in subprocesses should not litter core files. */
static void
disable_core_dumps (void)
{
  struct rlimit none = { 0, 0 };

  setrlimit (RLIMIT_CORE, &none);
}

/* Finds the line of /proc/self/maps starting at @start. */
static gboolean
find_mapping (const void  *start,
              const void **end,
              char         perms[5])
{
  g_autofree char *maps = NULL;
  g_auto(GStrv) lines = NULL;

  g_assert_true (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
  lines = g_strsplit (maps, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      unsigned long line_start, line_end;
      char line_perms[5];

      if (sscanf (lines[i], "%lx-%lx %4s", &line_start, &line_end, line_perms) != 3)
        continue;

      if (line_start == (unsigned long) start)
        {
          if (end != NULL)
            *end = (const void *) line_end;
          if (perms != NULL)
            memcpy (perms, line_perms, 5);
          return TRUE;
        }
    }

  return FALSE;
}

static void
test_acquire (void)
{
  g_autoptr(GError) error = NULL;
  WeftStack stack;

  g_assert_true (weft_stack_acquire (&stack, STACK_SIZE, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (stack.size, ==, STACK_SIZE);
  g_assert_cmpuint (stack.map_size, ==, stack.size + weft_stack_get_guard_size ());
  g_assert_true ((char *) stack.low == (char *) stack.map_base + weft_stack_get_guard_size ());
  g_assert_cmpuint (weft_stack_get_guard_size () % page_size (), ==, 0);
  g_assert_cmpuint (weft_stack_get_guard_size (), >=, page_size ());

  /* All of it is usable. */
  memset (stack.low, 0xaa, stack.size);

  weft_stack_release (&stack);
  g_assert_null (stack.map_base);
}

static void
test_rounding (void)
{
  g_autoptr(GError) error = NULL;
  WeftStack tiny, odd;

  g_assert_true (weft_stack_acquire (&tiny, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (tiny.size, >=, 16 * 1024);
  g_assert_cmpuint (tiny.size % page_size (), ==, 0);

  g_assert_true (weft_stack_acquire (&odd, STACK_SIZE + 1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (odd.size, ==, STACK_SIZE + page_size ());

  weft_stack_release (&tiny);
  weft_stack_release (&odd);

  g_assert_false (weft_stack_acquire (&odd, G_MAXSIZE - 1, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_FIBER_STACK);
}

static void
test_pool_reuse (void)
{
  g_autoptr(GError) error = NULL;
  WeftStack first, again, other;
  void *first_low;
  guint n_pooled;

  g_assert_true (weft_stack_acquire (&first, STACK_SIZE, &error));
  first_low = first.low;
  n_pooled = weft_stack_get_n_pooled ();
  weft_stack_release (&first);
  g_assert_cmpuint (weft_stack_get_n_pooled (), ==, n_pooled + 1);

  /* A different size does not take it... */
  g_assert_true (weft_stack_acquire (&other, 2 * STACK_SIZE, &error));
  g_assert_true (other.low != first_low);
  g_assert_cmpuint (weft_stack_get_n_pooled (), ==, n_pooled + 1);

  /* ...the same size does. */
  g_assert_true (weft_stack_acquire (&again, STACK_SIZE, &error));
  g_assert_no_error (error);
  g_assert_true (again.low == first_low);
  g_assert_cmpuint (weft_stack_get_n_pooled (), ==, n_pooled);

  weft_stack_release (&again);
  weft_stack_release (&other);
}

static void
test_pool_bound (void)
{
  g_autoptr(GError) error = NULL;
  WeftStack stacks[100];

  for (guint i = 0; i < G_N_ELEMENTS (stacks); i++)
    g_assert_true (weft_stack_acquire (&stacks[i], 3 * STACK_SIZE, &error));

  for (guint i = 0; i < G_N_ELEMENTS (stacks); i++)
    weft_stack_release (&stacks[i]);

  g_assert_cmpuint (weft_stack_get_n_pooled (), ==, 64);

  /* The ones beyond the bound went back to the system. */
  for (guint i = 0; i < G_N_ELEMENTS (stacks); i++)
    g_assert_true (stacks[i].map_base == NULL);
}

static gpointer
pool_thread (gpointer data)
{
  WeftStack *stacks = data;
  g_autoptr(GError) error = NULL;

  WeftStack copies[3];

  for (guint i = 0; i < 3; i++)
    {
      g_assert_true (weft_stack_acquire (&stacks[i], STACK_SIZE, &error));
      copies[i] = stacks[i];
    }

  /* The caller keeps the addresses to look for after the thread is gone. */
  for (guint i = 0; i < 3; i++)
    weft_stack_release (&copies[i]);

  /* Sets up this thread's signal stack too. */
  weft_stack_guard_enter (&stacks[0], "thread", 1);
  weft_stack_guard_leave ();

  g_assert_cmpuint (weft_stack_get_n_pooled (), ==, 3);

  return NULL;
}

static void
test_pool_thread_exit (void)
{
  WeftStack stacks[3];
  guint n_pooled = weft_stack_get_n_pooled ();
  GThread *thread;

  thread = g_thread_new ("pool", pool_thread, stacks);
  g_thread_join (thread);

  for (guint i = 0; i < G_N_ELEMENTS (stacks); i++)
    {
      g_assert_false (find_mapping (stacks[i].map_base, NULL, NULL));
      g_assert_false (find_mapping (stacks[i].low, NULL, NULL));
    }

  /* Other threads' pools are their own. */
  g_assert_cmpuint (weft_stack_get_n_pooled (), ==, n_pooled);
}

static void
test_guard_protection (void)
{
  g_autoptr(GError) error = NULL;
  WeftStack stack;
  const void *end;
  char perms[5];

  g_assert_true (weft_stack_acquire (&stack, STACK_SIZE, &error));

  g_assert_true (find_mapping (stack.map_base, &end, perms));
  g_assert_true (end == stack.low);
  g_assert_cmpstr (perms, ==, "---p");

  g_assert_true (find_mapping (stack.low, &end, perms));
  g_assert_true (end == (char *) stack.low + stack.size);
  g_assert_cmpstr (perms, ==, "rw-p");

  weft_stack_release (&stack);
}

static void
test_guard_fault (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      WeftStack stack;

      disable_core_dumps ();
      g_assert_true (weft_stack_acquire (&stack, STACK_SIZE, &error));

      ((volatile char *) stack.low)[-1] = 1;
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
}

/* A fiber that recurses until it runs off its stack. */

typedef struct
{
  WeftStack         stack;
  WeftFiberContext  thread;
  WeftFiberContext  fiber;
  const char       *name;
  guint64           id;
  size_t            frame_size;
} Overflow;

static volatile unsigned long never = G_MAXULONG;

static unsigned long
recurse (unsigned long depth)
{
  volatile char frame[256];

  frame[0] = depth & 0xff;
  if (depth == never)
    return 0;

  /* Used after the call, so it cannot become a loop. */
  return recurse (depth + 1) + frame[0];
}

static unsigned long
recurse_big (unsigned long depth)
{
  volatile char frame[8 * 1024];

  /* Touches only the end of the frame, the way a big frame that never
   * gets filled steps over a guard page.
   */
  frame[0] = depth & 0xff;
  if (depth == never)
    return 0;

  return recurse_big (depth + 1) + frame[0];
}

static void
overflow_entry (void *data)
{
  Overflow *overflow = data;

  if (overflow->frame_size > 256)
    recurse_big (0);
  else
    recurse (0);

  weft_fiber_context_exit (&overflow->fiber, &overflow->thread);
}

static void
run_overflow (const char *name,
              guint64     id,
              size_t      frame_size)
{
  g_autoptr(GError) error = NULL;
  Overflow overflow = { .name = name, .id = id, .frame_size = frame_size };

  disable_core_dumps ();

  g_assert_true (weft_stack_acquire (&overflow.stack, STACK_SIZE, &error));
  weft_fiber_context_make (&overflow.fiber, overflow.stack.low, overflow.stack.size,
                           overflow_entry, &overflow);

  weft_stack_guard_enter (&overflow.stack, name, id);
  weft_fiber_context_switch (&overflow.thread, &overflow.fiber);
  weft_stack_guard_leave ();
}

static void
test_overflow_named (void)
{
  if (g_test_subprocess ())
    {
      run_overflow ("deep-thought", 42, 256);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*Weft: stack overflow in task 'deep-thought' (fiber stack of 65536 bytes); "
                             "raise it with weft_fiber_set_default_stack_size()*");
}

static void
test_overflow_unnamed (void)
{
  if (g_test_subprocess ())
    {
      run_overflow (NULL, 42, 256);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*stack overflow in task 'Task-42' (fiber stack of 65536 bytes)*");
}

static void
test_overflow_big_frames (void)
{
  if (g_test_subprocess ())
    {
      run_overflow ("big-frames", 7, 8 * 1024);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*stack overflow in task 'big-frames'*");
}

/* Faults that are not overflows go to whoever handled them before. */

static void
previous_handler (int signo)
{
  static const char message[] = "previous handler ran\n";

  (void) !write (STDERR_FILENO, message, sizeof message - 1);
  _exit (3);
}

static void
null_entry (void *data)
{
  Overflow *overflow = data;

  *(volatile int *) (uintptr_t) overflow->id = 1;

  weft_fiber_context_exit (&overflow->fiber, &overflow->thread);
}

static void
run_null_write (void)
{
  g_autoptr(GError) error = NULL;
  Overflow overflow = { .id = 0 };

  disable_core_dumps ();

  g_assert_true (weft_stack_acquire (&overflow.stack, STACK_SIZE, &error));
  weft_fiber_context_make (&overflow.fiber, overflow.stack.low, overflow.stack.size,
                           null_entry, &overflow);

  weft_stack_guard_enter (&overflow.stack, "careless", 1);
  weft_fiber_context_switch (&overflow.thread, &overflow.fiber);
  weft_stack_guard_leave ();
}

static void
test_other_fault (void)
{
  if (g_test_subprocess ())
    {
      run_null_write ();
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr_unmatched ("*stack overflow*");
}

static void
test_other_fault_chained (void)
{
  if (g_test_subprocess ())
    {
      /* Installed before Weft's, which comes with the first guard. */
      signal (SIGSEGV, previous_handler);
      run_null_write ();
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*previous handler ran*");
  g_test_trap_assert_stderr_unmatched ("*stack overflow*");
}

/* Running out of stacks. */

static guint64
read_max_map_count (void)
{
  g_autofree char *contents = NULL;

  if (!g_file_get_contents ("/proc/sys/vm/max_map_count", &contents, NULL, NULL))
    return 0;

  return g_ascii_strtoull (contents, NULL, 10);
}

static void
test_enomem_message (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *current = NULL;
  guint64 max_map_count = read_max_map_count ();

  weft_stack_set_error (&error, STACK_SIZE, ENOMEM);
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_FIBER_STACK);
  g_test_message ("%s", error->message);

  g_assert_nonnull (strstr (error->message, "65536 bytes"));
#ifdef __linux__
  g_assert_nonnull (strstr (error->message, "vm.max_map_count"));
  g_assert_nonnull (strstr (error->message, "sysctl"));
  g_assert_nonnull (strstr (error->message, "suspended fibers"));
  if (max_map_count != 0)
    {
      current = g_strdup_printf ("currently %" G_GUINT64_FORMAT, max_map_count);
      g_assert_nonnull (strstr (error->message, current));
    }
#endif
  g_clear_error (&error);

  weft_stack_set_error (&error, STACK_SIZE, EACCES);
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_FIBER_STACK);
  g_assert_null (strstr (error->message, "vm.max_map_count"));
}

/* The real thing: as many stacks as the mapping limit allows. */
static void
test_enomem_map_count (void)
{
  guint64 max_map_count = read_max_map_count ();

#ifdef WEFT_FIBER_ASAN
  g_test_skip ("AddressSanitizer's allocator needs mappings of its own");
  return;
#endif

  if (max_map_count == 0 || max_map_count > 300000)
    {
      g_test_skip ("Needs vm.max_map_count at a modest value");
      return;
    }

  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      WeftStack stack;
      guint64 n_stacks = 0;

      while (n_stacks <= max_map_count && weft_stack_acquire (&stack, STACK_SIZE, &error))
        n_stacks++;

      g_assert_error (error, WEFT_ERROR, WEFT_ERROR_FIBER_STACK);
      g_printerr ("%" G_GUINT64_FORMAT " stacks: %s\n", n_stacks, error->message);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*stacks: Could not allocate a fiber stack*vm.max_map_count*");
}

static rlim_t
read_address_space_size (void)
{
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "\nVmSize:");
  g_assert_nonnull (line);

  return g_ascii_strtoull (line + strlen ("\nVmSize:"), NULL, 10) * 1024;
}

static void
test_enomem_address_space (void)
{
#ifdef WEFT_FIBER_ASAN
  g_test_skip ("AddressSanitizer's shadow memory does not fit an address space limit");
  return;
#endif

  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      struct rlimit limit;
      WeftStack stack;

      /* Leave room for small allocations, not for the stack. */
      g_assert_cmpint (getrlimit (RLIMIT_AS, &limit), ==, 0);
      limit.rlim_cur = read_address_space_size () + 16 * 1024 * 1024;
      g_assert_cmpint (setrlimit (RLIMIT_AS, &limit), ==, 0);

      g_assert_false (weft_stack_acquire (&stack, 64 * 1024 * 1024, &error));
      g_assert_error (error, WEFT_ERROR, WEFT_ERROR_FIBER_STACK);
      g_printerr ("%s\n", error->message);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*Could not allocate a fiber stack of 67108864 bytes*vm.max_map_count*");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/fiber/stack/acquire", test_acquire);
  g_test_add_func ("/fiber/stack/rounding", test_rounding);
  g_test_add_func ("/fiber/stack/pool-reuse", test_pool_reuse);
  g_test_add_func ("/fiber/stack/pool-bound", test_pool_bound);
  g_test_add_func ("/fiber/stack/pool-thread-exit", test_pool_thread_exit);
  g_test_add_func ("/fiber/stack/guard-protection", test_guard_protection);
  g_test_add_func ("/fiber/stack/guard-fault", test_guard_fault);
  g_test_add_func ("/fiber/stack/overflow-named", test_overflow_named);
  g_test_add_func ("/fiber/stack/overflow-unnamed", test_overflow_unnamed);
  g_test_add_func ("/fiber/stack/overflow-big-frames", test_overflow_big_frames);
  g_test_add_func ("/fiber/stack/other-fault", test_other_fault);
  g_test_add_func ("/fiber/stack/other-fault-chained", test_other_fault_chained);
  g_test_add_func ("/fiber/stack/enomem-message", test_enomem_message);
  g_test_add_func ("/fiber/stack/enomem-map-count", test_enomem_map_count);
  g_test_add_func ("/fiber/stack/enomem-address-space", test_enomem_address_space);

  return g_test_run ();
}
