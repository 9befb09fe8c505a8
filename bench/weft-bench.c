/* weft-bench.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* One measurement per process: run-bench calls
 *
 *   weft-bench --workload WORKLOAD --impl IMPL [--n N]
 *
 * and this program prints exactly one line
 *
 *   workload=W impl=I n=N ns_per_op=F cpu_s=F maxrss_kb=K [extras]
 *
 * so that maxrss_kb belongs to that measurement alone.  `--list` prints the
 * workload/impl pairs this build supports, one "WORKLOAD IMPL DEFAULT_N" per
 * line.
 *
 * Built with -DWEFT_BENCH_NO_WEFT it only has the GLib peers and the GObject
 * floor, so the harness can be checked without the library.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <gio/gio.h>

#ifndef WEFT_BENCH_NO_WEFT
# include <weft.h>
#endif

#define SLEEPER_SEED 42

/* Result of one measurement */

typedef struct
{
  const char *workload;
  const char *impl;
  gint64      n;
  gint64      wall_ns;          /* the measured phase */
  gboolean    print_wall;
  gboolean    have_late;
  double      mean_late_ms;
  gboolean    have_bytes;
  double      bytes_per_task;
  gint64      rounds;           /* n per round; 0: one round */
  gboolean    have_client;
  gint64      client_batches;   /* what an attached inspector received */
  gint64      client_bytes;     /* during the measurement */
  char       *extras;           /* " key=value…" of the workload's own */
  char       *failure;          /* set when the run went wrong */
} BenchResult;

typedef void (*BenchFunc) (BenchResult *result);

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);

  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

/* Resident set size in bytes, from /proc/self/statm (second field, pages) */
static gint64
read_rss_bytes (void)
{
  FILE *f;
  long size = 0;
  long resident = 0;

  f = fopen ("/proc/self/statm", "r");
  if (f == NULL)
    return -1;

  if (fscanf (f, "%ld %ld", &size, &resident) != 2)
    resident = -1;

  fclose (f);

  if (resident < 0)
    return -1;

  return (gint64) resident * sysconf (_SC_PAGESIZE);
}

static void
bench_fail (BenchResult *result,
            const char  *format,
            ...) G_GNUC_PRINTF (2, 3);

static void
bench_fail (BenchResult *result,
            const char  *format,
            ...)
{
  va_list args;

  if (result->failure != NULL)
    return;

  va_start (args, format);
  result->failure = g_strdup_vprintf (format, args);
  va_end (args);
}

/* The reason goes last on the line and must stay one token-ish: spaces are
 * replaced so that `key=value` parsing still works.
 */
static char *
sanitize_reason (const char *reason)
{
  char *copy = g_strdup (reason);

  for (char *p = copy; *p != '\0'; p++)
    if (g_ascii_isspace (*p))
      *p = '_';

  return copy;
}

static void
print_result (const BenchResult *result)
{
  struct rusage usage;
  double cpu_s;
  GString *line;

  getrusage (RUSAGE_SELF, &usage);
  cpu_s = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6
        + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;

  line = g_string_new (NULL);
  g_string_append_printf (line, "workload=%s impl=%s n=%" G_GINT64_FORMAT,
                          result->workload, result->impl, result->n);

  if (result->failure != NULL)
    {
      g_autofree char *reason = sanitize_reason (result->failure);

      g_string_append_printf (line, " failed=1 reason=%s", reason);
    }
  else
    {
      gint64 ops = result->n * MAX (result->rounds, 1);

      g_string_append_printf (line, " ns_per_op=%.2f cpu_s=%.3f maxrss_kb=%ld",
                              ops > 0 ? (double) result->wall_ns / ops : 0.0,
                              cpu_s, usage.ru_maxrss);
      if (result->rounds > 0)
        g_string_append_printf (line, " rounds=%" G_GINT64_FORMAT, result->rounds);
      if (result->print_wall)
        g_string_append_printf (line, " wall_s=%.3f", result->wall_ns / 1e9);
      if (result->have_late)
        g_string_append_printf (line, " mean_late_ms=%.3f", result->mean_late_ms);
      if (result->have_bytes)
        g_string_append_printf (line, " bytes_per_task=%.1f", result->bytes_per_task);
      if (result->have_client)
        g_string_append_printf (line, " client_batches=%" G_GINT64_FORMAT " client_bytes=%" G_GINT64_FORMAT,
                                result->client_batches, result->client_bytes);
      if (result->extras != NULL)
        g_string_append (line, result->extras);
    }

  printf ("%s\n", line->str);
  fflush (stdout);
  g_string_free (line, TRUE);
}

/* Shared counters; every measurement is its own process. */
static gint64 remaining;
static gint64 late_sum_us;
static gint64 n_cancelled;

static void
iterate_while_remaining (void)
{
  while (remaining > 0)
    g_main_context_iteration (NULL, TRUE);
}

static double *
make_sleeper_delays (gint64 n)
{
  GRand *rand = g_rand_new_with_seed (SLEEPER_SEED);
  double *delays = g_new (double, n);

  for (gint64 i = 0; i < n; i++)
    delays[i] = g_rand_double (rand);   /* uniform in [0, 1) */

  g_rand_free (rand);

  return delays;
}

/* ---------------------------------------------------------------------- */
/* gobject-floor: the cost of the smallest GObject's life cycle           */

#define BENCH_TYPE_OBJECT (bench_object_get_type ())

G_DECLARE_FINAL_TYPE (BenchObject, bench_object, BENCH, OBJECT, GObject)

struct _BenchObject
{
  GObject parent_instance;
};

G_DEFINE_FINAL_TYPE (BenchObject, bench_object, G_TYPE_OBJECT)

static void
bench_object_class_init (BenchObjectClass *klass)
{
}

static void
bench_object_init (BenchObject *self)
{
}

static void
bench_gobject_floor (BenchResult *result)
{
  gint64 start;

  /* Register the type and warm the allocator outside the measurement */
  g_object_unref (g_object_new (BENCH_TYPE_OBJECT, NULL));

  start = now_ns ();
  for (gint64 i = 0; i < result->n; i++)
    {
      GObject *object = g_object_new (BENCH_TYPE_OBJECT, NULL);

      g_object_unref (object);
    }
  result->wall_ns = now_ns () - start;
}

/* ---------------------------------------------------------------------- */
/* spawn: n trivial units of work, created up front, then run to the end  */

static gboolean
spawn_idle_cb (gpointer user_data)
{
  remaining--;

  return G_SOURCE_REMOVE;
}

static void
bench_spawn_glib_idle (BenchResult *result)
{
  gint64 start;

  remaining = result->n;

  start = now_ns ();
  for (gint64 i = 0; i < result->n; i++)
    g_idle_add (spawn_idle_cb, NULL);
  iterate_while_remaining ();
  result->wall_ns = now_ns () - start;
}

static void
spawn_gtask_done (GObject      *source_object,
                  GAsyncResult *res,
                  gpointer      user_data)
{
  g_task_propagate_pointer (G_TASK (res), NULL);
  remaining--;
}

/* The GLib way to express "an operation that completes at once": a GTask
 * returned straight away from the initiating code.  g_task_return_pointer()
 * is not being called from a source of the task's context, so GTask defers
 * the callback to an idle source of that context: the result is delivered
 * through the main loop, one GTask and one idle GSource per item, as any
 * GIO async call that finishes immediately does.
 */
static void
bench_spawn_gtask (BenchResult *result)
{
  gint64 start;

  remaining = result->n;

  g_object_unref (g_task_new (NULL, NULL, NULL, NULL));

  start = now_ns ();
  for (gint64 i = 0; i < result->n; i++)
    {
      GTask *task = g_task_new (NULL, NULL, spawn_gtask_done, NULL);

      g_task_return_pointer (task, NULL, NULL);
      g_object_unref (task);
    }
  iterate_while_remaining ();
  result->wall_ns = now_ns () - start;
}

/* ---------------------------------------------------------------------- */
/* pingpong: two parties, one message each way per round trip             */

static gint64 pingpong_rounds;
static gint64 pingpong_done;

static gboolean pingpong_ping_cb (gpointer user_data);

static gboolean
pingpong_pong_cb (gpointer user_data)
{
  pingpong_done++;
  if (pingpong_done < pingpong_rounds)
    g_idle_add (pingpong_ping_cb, NULL);

  return G_SOURCE_REMOVE;
}

static gboolean
pingpong_ping_cb (gpointer user_data)
{
  g_idle_add (pingpong_pong_cb, NULL);

  return G_SOURCE_REMOVE;
}

static void
bench_pingpong_glib_idle (BenchResult *result)
{
  gint64 start;

  pingpong_rounds = result->n;
  pingpong_done = 0;

  start = now_ns ();
  g_idle_add (pingpong_ping_cb, NULL);
  while (pingpong_done < pingpong_rounds)
    g_main_context_iteration (NULL, TRUE);
  result->wall_ns = now_ns () - start;
}

/* ---------------------------------------------------------------------- */
/* sleepers: n timers with random delays in [0, 1)                        */

typedef struct
{
  double delay;                 /* seconds */
  gint64 intended_us;           /* monotonic deadline */
  gboolean sleeping;
} Sleeper;

static gboolean
sleeper_timeout_cb (gpointer user_data)
{
  Sleeper *sleeper = user_data;

  late_sum_us += g_get_monotonic_time () - sleeper->intended_us;
  remaining--;

  return G_SOURCE_REMOVE;
}

static Sleeper *
make_sleepers (gint64 n)
{
  double *delays = make_sleeper_delays (n);
  Sleeper *sleepers = g_new0 (Sleeper, n);

  for (gint64 i = 0; i < n; i++)
    sleepers[i].delay = delays[i];

  g_free (delays);

  return sleepers;
}

static void
finish_sleepers (BenchResult *result,
                 gint64       start)
{
  result->wall_ns = now_ns () - start;
  result->print_wall = TRUE;
  result->have_late = TRUE;
  result->mean_late_ms = (double) late_sum_us / result->n / 1000.0;
}

static void
bench_sleepers_glib_timeout (BenchResult *result)
{
  Sleeper *sleepers = make_sleepers (result->n);
  gint64 start;

  remaining = result->n;
  late_sum_us = 0;

  start = now_ns ();
  for (gint64 i = 0; i < result->n; i++)
    {
      Sleeper *sleeper = &sleepers[i];
      GSource *source;
      guint interval_ms;

      /* Round up to whole milliseconds, GLib's unit, so that a timeout is
       * never asked to fire before the intended deadline.
       */
      interval_ms = (guint) (sleeper->delay * 1000.0);
      if (interval_ms < sleeper->delay * 1000.0)
        interval_ms++;
      sleeper->intended_us = g_get_monotonic_time () + (gint64) (sleeper->delay * G_USEC_PER_SEC);

      source = g_timeout_source_new (interval_ms);
      g_source_set_callback (source, sleeper_timeout_cb, sleeper, NULL);
      g_source_attach (source, NULL);
      g_source_unref (source);
    }
  iterate_while_remaining ();
  finish_sleepers (result, start);

  g_free (sleepers);
}

/* ---------------------------------------------------------------------- */
/* cancel-fanout: n pending operations, all cancelled at once             */

typedef struct
{
  GTask        *task;
  GCancellable *cancellable;
  gulong        handler;
} CancelItem;

static void
cancel_item_cancelled_cb (GCancellable *cancellable,
                          gpointer      user_data)
{
  CancelItem *item = user_data;

  /* Completes with G_IO_ERROR_CANCELLED; we are not in a source of the
   * task's context, so the callback comes from an idle of the main loop.
   */
  g_task_return_error_if_cancelled (item->task);
}

static void
cancel_item_done_cb (GObject      *source_object,
                     GAsyncResult *res,
                     gpointer      user_data)
{
  CancelItem *item = user_data;
  g_autoptr(GError) error = NULL;

  g_task_propagate_pointer (G_TASK (res), &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    n_cancelled++;

  g_cancellable_disconnect (item->cancellable, item->handler);
  g_clear_object (&item->cancellable);
  g_clear_object (&item->task);
  remaining--;
}

static void
bench_cancel_fanout_gtask_cancellable (BenchResult *result)
{
  CancelItem *items = g_new0 (CancelItem, result->n);
  gint64 start;

  remaining = result->n;
  n_cancelled = 0;

  for (gint64 i = 0; i < result->n; i++)
    {
      CancelItem *item = &items[i];

      item->cancellable = g_cancellable_new ();
      item->task = g_task_new (NULL, item->cancellable, cancel_item_done_cb, item);
      item->handler = g_cancellable_connect (item->cancellable,
                                             G_CALLBACK (cancel_item_cancelled_cb),
                                             item, NULL);
    }

  /* Nothing runs until cancelled: let the loop settle anyway */
  while (g_main_context_iteration (NULL, FALSE))
    ;

  start = now_ns ();
  for (gint64 i = 0; i < result->n; i++)
    g_cancellable_cancel (items[i].cancellable);
  iterate_while_remaining ();
  result->wall_ns = now_ns () - start;

  if (n_cancelled != result->n)
    bench_fail (result, "only %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " tasks were cancelled",
                n_cancelled, result->n);

  g_free (items);
}

/* ---------------------------------------------------------------------- */
/* memory: RSS per pending operation                                       */

static void
memory_gtask_done (GObject      *source_object,
                   GAsyncResult *res,
                   gpointer      user_data)
{
}

/* A pending GTask is GLib's "suspended operation awaiting a result"; it is
 * its own future, so one object per item.
 */
static void
bench_memory_gtask (BenchResult *result)
{
  GTask **tasks;
  gint64 before, after, start;

  g_object_unref (g_task_new (NULL, NULL, NULL, NULL));

  before = read_rss_bytes ();
  start = now_ns ();

  tasks = g_new (GTask *, result->n);
  for (gint64 i = 0; i < result->n; i++)
    tasks[i] = g_task_new (NULL, NULL, memory_gtask_done, NULL);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  result->wall_ns = now_ns () - start;
  after = read_rss_bytes ();

  result->have_bytes = TRUE;
  result->bytes_per_task = (double) (after - before) / result->n;

  /* The process exits right after printing; the tasks are left pending. */
}

/* ---------------------------------------------------------------------- */
/* Weft                                                                    */

#ifndef WEFT_BENCH_NO_WEFT

static gint64 started;
static WeftTask **watched_tasks;
static gint64 n_watched_tasks;
static BenchResult *watched_result;

/* Tasks that finish with an unexpected error (say, a fiber that got no
 * stack) would make the wait loops spin forever: look for them now and then
 * and give up with the error.
 */
static gboolean
watchdog_cb (gpointer user_data)
{
  for (gint64 i = 0; i < n_watched_tasks; i++)
    {
      WeftTask *task = watched_tasks[i];
      g_autoptr(GError) error = NULL;

      if (task == NULL || !weft_future_is_done (WEFT_FUTURE (task)))
        continue;
      if (weft_future_is_cancelled (WEFT_FUTURE (task)))
        continue;

      error = weft_future_dup_error (WEFT_FUTURE (task));
      if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          bench_fail (watched_result, "task %" G_GINT64_FORMAT " failed: %s (%s %d)",
                      i, error->message, g_quark_to_string (error->domain), error->code);
          print_result (watched_result);
          exit (1);
        }
    }

  return G_SOURCE_CONTINUE;
}

static guint
watch_tasks (BenchResult *result,
             WeftTask   **tasks,
             gint64       n)
{
  watched_tasks = tasks;
  n_watched_tasks = n;
  watched_result = result;

  return g_timeout_add_seconds (2, watchdog_cb, NULL);
}

static void
unwatch_tasks (guint id)
{
  g_source_remove (id);
  watched_tasks = NULL;
  n_watched_tasks = 0;
  watched_result = NULL;
}

/* Errors that did not stop the run but make the numbers suspect */
static void
check_tasks (BenchResult *result,
             WeftTask   **tasks,
             gint64       n,
             gboolean     cancelled_expected)
{
  for (gint64 i = 0; i < n && result->failure == NULL; i++)
    {
      WeftFuture *future = WEFT_FUTURE (tasks[i]);
      g_autoptr(GError) error = NULL;

      if (!weft_future_is_done (future))
        {
          bench_fail (result, "task %" G_GINT64_FORMAT " is not done", i);
          break;
        }
      if (cancelled_expected)
        {
          if (!weft_future_is_cancelled (future))
            bench_fail (result, "task %" G_GINT64_FORMAT " is done but not cancelled", i);
          continue;
        }
      error = weft_future_dup_error (future);
      if (error != NULL)
        bench_fail (result, "task %" G_GINT64_FORMAT " failed: %s", i, error->message);
    }
}

static void
unref_tasks (WeftTask **tasks,
             gint64     n)
{
  for (gint64 i = 0; i < n; i++)
    g_clear_object (&tasks[i]);
  g_free (tasks);
}

static void
warm_up_weft (void)
{
  g_type_ensure (WEFT_TYPE_FUTURE);
  g_type_ensure (WEFT_TYPE_TASK);
  g_type_ensure (WEFT_TYPE_FIBER);
  g_object_unref (weft_future_new ());
}

/* spawn */

static void
spawn_step (WeftTask     *task,
            WeftFuture   *awaited,
            const GError *error,
            gpointer      user_data)
{
  remaining--;
  weft_task_return_void (task);
}

static void
spawn_fiber (WeftTask *task,
             gpointer  user_data)
{
  remaining--;
}

static void
bench_spawn_weft (BenchResult *result,
                  gboolean     fiber)
{
  WeftTask **tasks = g_new0 (WeftTask *, result->n);
  gint64 start;
  guint watchdog;

  warm_up_weft ();
  remaining = result->n;
  watchdog = watch_tasks (result, tasks, result->n);

  start = now_ns ();
  for (gint64 i = 0; i < result->n; i++)
    {
      if (fiber)
        tasks[i] = weft_fiber_new (NULL, spawn_fiber, NULL, NULL);
      else
        tasks[i] = weft_task_new (NULL, spawn_step, NULL, NULL);
    }
  iterate_while_remaining ();
  result->wall_ns = now_ns () - start;

  unwatch_tasks (watchdog);
  /* The last steps have run; let the tasks settle before checking */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  check_tasks (result, tasks, result->n, FALSE);
  unref_tasks (tasks, result->n);
}

static void
bench_spawn_weft_stackless (BenchResult *result)
{
  bench_spawn_weft (result, FALSE);
}

static void
bench_spawn_weft_fiber (BenchResult *result)
{
  bench_spawn_weft (result, TRUE);
}

/* pingpong
 *
 * Each side owns the slot it receives on.  Before handing a message over,
 * the sender has already put a fresh future in its own slot, so the reply
 * always lands in a new future; the receiver of the last message does not
 * replace its slot.  The first slot of the pong side is made up front, so
 * the order in which the two tasks first run does not matter.
 */

typedef struct
{
  gint64      rounds;
  gint64      ping_count;      /* replies received by ping */
  gint64      pong_count;      /* messages received by pong */
  WeftFuture *ping_slot;       /* ping awaits this */
  WeftFuture *pong_slot;       /* pong awaits this */
  gint64      mismatches;
  GError     *error;
} PingPong;

/* What every pingpong variant checks once its two tasks are done. */
static void
report_pingpong (BenchResult  *result,
                 const GError *error,
                 gint64        mismatches,
                 gint64        rounds,
                 gint64        ping_count,
                 gint64        pong_count)
{
  if (error != NULL)
    bench_fail (result, "pingpong failed: %s", error->message);
  else if (mismatches != 0)
    bench_fail (result, "%" G_GINT64_FORMAT " replies did not match", mismatches);
  else if (ping_count != rounds || pong_count != rounds)
    bench_fail (result, "only %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " round trips",
                ping_count, pong_count);
}

static void
ping_step (WeftTask     *task,
           WeftFuture   *awaited,
           const GError *error,
           gpointer      user_data)
{
  PingPong *pp = user_data;

  if (error != NULL)
    {
      g_set_error_literal (&pp->error, error->domain, error->code, error->message);
      weft_task_return_error (task, g_error_copy (error));
      return;
    }

  if (awaited != NULL)
    {
      if (weft_future_get_int64 (awaited, NULL) != pp->ping_count)
        pp->mismatches++;
      pp->ping_count++;
      g_clear_object (&pp->ping_slot);
    }

  if (pp->ping_count == pp->rounds)
    {
      weft_task_return_void (task);
      return;
    }

  pp->ping_slot = weft_future_new ();
  weft_future_set_int64 (pp->pong_slot, pp->ping_count);
  weft_task_await (task, pp->ping_slot);
}

static void
pong_step (WeftTask     *task,
           WeftFuture   *awaited,
           const GError *error,
           gpointer      user_data)
{
  PingPong *pp = user_data;

  if (error != NULL)
    {
      g_set_error_literal (&pp->error, error->domain, error->code, error->message);
      weft_task_return_error (task, g_error_copy (error));
      return;
    }

  if (awaited != NULL)
    {
      gint64 value = weft_future_get_int64 (awaited, NULL);

      g_clear_object (&pp->pong_slot);
      pp->pong_count++;
      if (pp->pong_count < pp->rounds)
        pp->pong_slot = weft_future_new ();

      weft_future_set_int64 (pp->ping_slot, value);

      if (pp->pong_count == pp->rounds)
        {
          weft_task_return_void (task);
          return;
        }
    }

  weft_task_await (task, pp->pong_slot);
}

static void
ping_fiber (WeftTask *task,
            gpointer  user_data)
{
  PingPong *pp = user_data;

  for (gint64 i = 0; i < pp->rounds; i++)
    {
      GError *error = NULL;
      gint64 value;

      pp->ping_slot = weft_future_new ();
      weft_future_set_int64 (pp->pong_slot, i);
      value = weft_await_int64 (pp->ping_slot, &error);
      g_clear_object (&pp->ping_slot);
      if (error != NULL)
        {
          pp->error = g_error_copy (error);
          weft_task_return_error (task, error);
          return;
        }
      if (value != i)
        pp->mismatches++;
      pp->ping_count++;
    }
}

static void
pong_fiber (WeftTask *task,
            gpointer  user_data)
{
  PingPong *pp = user_data;

  for (gint64 i = 0; i < pp->rounds; i++)
    {
      GError *error = NULL;
      gint64 value;

      value = weft_await_int64 (pp->pong_slot, &error);
      g_clear_object (&pp->pong_slot);
      if (error != NULL)
        {
          pp->error = g_error_copy (error);
          weft_task_return_error (task, error);
          return;
        }
      pp->pong_count++;
      if (i + 1 < pp->rounds)
        pp->pong_slot = weft_future_new ();
      weft_future_set_int64 (pp->ping_slot, value);
    }
}

static void
bench_pingpong_weft (BenchResult *result,
                     gboolean     fiber)
{
  PingPong pp = { 0, };
  WeftTask **tasks = g_new0 (WeftTask *, 2);
  gint64 start;
  guint watchdog;

  warm_up_weft ();
  pp.rounds = result->n;
  pp.pong_slot = weft_future_new ();
  watchdog = watch_tasks (result, tasks, 2);

  start = now_ns ();
  if (fiber)
    {
      tasks[0] = weft_fiber_new ("ping", ping_fiber, &pp, NULL);
      tasks[1] = weft_fiber_new ("pong", pong_fiber, &pp, NULL);
    }
  else
    {
      tasks[0] = weft_task_new ("ping", ping_step, &pp, NULL);
      tasks[1] = weft_task_new ("pong", pong_step, &pp, NULL);
    }
  while (!weft_future_is_done (WEFT_FUTURE (tasks[0])) ||
         !weft_future_is_done (WEFT_FUTURE (tasks[1])))
    g_main_context_iteration (NULL, TRUE);
  result->wall_ns = now_ns () - start;

  unwatch_tasks (watchdog);

  report_pingpong (result, pp.error, pp.mismatches, pp.rounds, pp.ping_count, pp.pong_count);
  check_tasks (result, tasks, 2, FALSE);

  g_clear_error (&pp.error);
  g_clear_object (&pp.ping_slot);
  g_clear_object (&pp.pong_slot);
  unref_tasks (tasks, 2);
}

static void
bench_pingpong_weft_stackless (BenchResult *result)
{
  bench_pingpong_weft (result, FALSE);
}

static void
bench_pingpong_weft_fiber (BenchResult *result)
{
  bench_pingpong_weft (result, TRUE);
}

/* sleepers: the deadline is taken right before the task suspends, as the
 * asyncio and Node peers do.
 */

static void
sleeper_step (WeftTask     *task,
              WeftFuture   *awaited,
              const GError *error,
              gpointer      user_data)
{
  Sleeper *sleeper = user_data;

  if (!sleeper->sleeping)
    {
      sleeper->sleeping = TRUE;
      sleeper->intended_us = g_get_monotonic_time () + (gint64) (sleeper->delay * G_USEC_PER_SEC);
      weft_task_sleep (task, sleeper->delay);
      return;
    }

  late_sum_us += g_get_monotonic_time () - sleeper->intended_us;
  remaining--;

  if (error != NULL)
    weft_task_return_error (task, g_error_copy (error));
  else
    weft_task_return_void (task);
}

static void
sleeper_fiber (WeftTask *task,
               gpointer  user_data)
{
  Sleeper *sleeper = user_data;
  GError *error = NULL;

  sleeper->sleeping = TRUE;
  sleeper->intended_us = g_get_monotonic_time () + (gint64) (sleeper->delay * G_USEC_PER_SEC);
  weft_sleep (sleeper->delay, &error);

  late_sum_us += g_get_monotonic_time () - sleeper->intended_us;
  remaining--;

  if (error != NULL)
    weft_task_return_error (task, error);
}

static void
bench_sleepers_weft (BenchResult *result,
                     gboolean     fiber)
{
  Sleeper *sleepers = make_sleepers (result->n);
  WeftTask **tasks = g_new0 (WeftTask *, result->n);
  gint64 start;
  guint watchdog;

  warm_up_weft ();
  remaining = result->n;
  late_sum_us = 0;
  watchdog = watch_tasks (result, tasks, result->n);

  start = now_ns ();
  for (gint64 i = 0; i < result->n; i++)
    {
      if (fiber)
        tasks[i] = weft_fiber_new (NULL, sleeper_fiber, &sleepers[i], NULL);
      else
        tasks[i] = weft_task_new (NULL, sleeper_step, &sleepers[i], NULL);
    }
  iterate_while_remaining ();
  finish_sleepers (result, start);

  unwatch_tasks (watchdog);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  check_tasks (result, tasks, result->n, FALSE);
  unref_tasks (tasks, result->n);
  g_free (sleepers);
}

static void
bench_sleepers_weft_stackless (BenchResult *result)
{
  bench_sleepers_weft (result, FALSE);
}

static void
bench_sleepers_weft_fiber (BenchResult *result)
{
  bench_sleepers_weft (result, TRUE);
}

/* cancel-fanout and memory: each task awaits its own future, which nobody
 * completes.  A first step with neither @awaited nor @error is the start.
 */

static void
waiter_step (WeftTask     *task,
             WeftFuture   *awaited,
             const GError *error,
             gpointer      user_data)
{
  WeftFuture *future = user_data;

  if (awaited == NULL && error == NULL)
    {
      started++;
      weft_task_await (task, future);
      return;
    }

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    n_cancelled++;
  remaining--;

  /* Let the cancellation propagate, as a coroutine that does not catch
   * CancelledError would.
   */
  if (error != NULL)
    weft_task_return_error (task, g_error_copy (error));
  else
    weft_task_return_void (task);
}

static void
waiter_fiber (WeftTask *task,
              gpointer  user_data)
{
  WeftFuture *future = user_data;
  GError *error = NULL;

  started++;
  weft_await (future, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    n_cancelled++;
  remaining--;

  if (error != NULL)
    weft_task_return_error (task, error);
}

/* Starts a waiter on each of @futures and lets all of them suspend. */
static void
spawn_waiters_on (WeftTask   **tasks,
                  WeftFuture **futures,
                  gint64       n,
                  gboolean     fiber)
{
  started = 0;

  for (gint64 i = 0; i < n; i++)
    {
      if (fiber)
        tasks[i] = weft_fiber_new (NULL, waiter_fiber, futures[i], NULL);
      else
        tasks[i] = weft_task_new (NULL, waiter_step, futures[i], NULL);
    }

  while (started < n)
    g_main_context_iteration (NULL, TRUE);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
bench_cancel_fanout_weft (BenchResult *result,
                          gboolean     fiber)
{
  WeftTask **tasks = g_new0 (WeftTask *, result->n);
  WeftFuture **futures = g_new0 (WeftFuture *, result->n);
  gint64 start;
  guint watchdog;

  warm_up_weft ();
  remaining = result->n;
  n_cancelled = 0;
  watchdog = watch_tasks (result, tasks, result->n);

  for (gint64 i = 0; i < result->n; i++)
    futures[i] = weft_future_new ();
  spawn_waiters_on (tasks, futures, result->n, fiber);

  start = now_ns ();
  for (gint64 i = 0; i < result->n; i++)
    weft_task_cancel (tasks[i], NULL);
  iterate_while_remaining ();
  result->wall_ns = now_ns () - start;

  unwatch_tasks (watchdog);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  if (n_cancelled != result->n)
    bench_fail (result, "only %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " tasks saw the cancellation",
                n_cancelled, result->n);
  check_tasks (result, tasks, result->n, TRUE);

  unref_tasks (tasks, result->n);
  for (gint64 i = 0; i < result->n; i++)
    g_object_unref (futures[i]);
  g_free (futures);
}

static void
bench_cancel_fanout_weft_stackless (BenchResult *result)
{
  bench_cancel_fanout_weft (result, FALSE);
}

static void
bench_cancel_fanout_weft_fiber (BenchResult *result)
{
  bench_cancel_fanout_weft (result, TRUE);
}

static void
bench_memory_weft (BenchResult *result,
                   gboolean     fiber)
{
  WeftTask **tasks;
  WeftFuture **futures;
  WeftFuture *shared;
  gint64 before, after, start;
  guint watchdog;

  warm_up_weft ();
  /* One task through its whole life first, so that the first-use costs of
   * the scheduler (its source, queues, a fiber stack pool) are not charged
   * to the tasks being measured.
   */
  {
    WeftTask *task;

    remaining = 1;
    task = fiber ? weft_fiber_new (NULL, spawn_fiber, NULL, NULL)
                 : weft_task_new (NULL, spawn_step, NULL, NULL);
    iterate_while_remaining ();
    while (g_main_context_iteration (NULL, FALSE))
      ;
    g_object_unref (task);
  }

  /* What a suspended task costs: they all await one future, so the
   * future's own size is not charged to them, nor are the arrays the
   * bench keeps (filled before the first reading).
   */
  tasks = g_new (WeftTask *, result->n);
  memset (tasks, 0, result->n * sizeof *tasks);
  futures = g_new (WeftFuture *, result->n);
  shared = weft_future_new ();
  for (gint64 i = 0; i < result->n; i++)
    futures[i] = g_object_ref (shared);

  before = read_rss_bytes ();
  start = now_ns ();
  watchdog = watch_tasks (result, tasks, result->n);
  spawn_waiters_on (tasks, futures, result->n, fiber);

  result->wall_ns = now_ns () - start;
  after = read_rss_bytes ();
  unwatch_tasks (watchdog);

  result->have_bytes = TRUE;
  result->bytes_per_task = (double) (after - before) / result->n;

  /* The process exits right after printing; the tasks stay suspended. */
}

static void
bench_memory_weft_stackless (BenchResult *result)
{
  bench_memory_weft (result, FALSE);
}

static void
bench_memory_weft_fiber (BenchResult *result)
{
  bench_memory_weft (result, TRUE);
}

/* gather-done: one gather over n futures that are all done already, which
 * GA8 completes inside the call; its results are the children's, read in
 * place, so nothing is copied.
 */
static void
bench_gather_done_weft (BenchResult *result)
{
  WeftFuture **futures = g_new (WeftFuture *, result->n);
  WeftGather *gather;
  gint64 start, sum = 0;

  warm_up_weft ();
  g_type_ensure (WEFT_TYPE_GATHER);
  for (gint64 i = 0; i < result->n; i++)
    {
      futures[i] = weft_future_new ();
      weft_future_set_int64 (futures[i], i);
    }

  start = now_ns ();
  gather = weft_gather_new (futures, result->n, FALSE);
  result->wall_ns = now_ns () - start;

  if (!weft_future_is_done (WEFT_FUTURE (gather)))
    bench_fail (result, "the gather of done futures is not done");
  for (gint64 i = 0; i < result->n && result->failure == NULL; i++)
    sum += weft_future_get_int64 (weft_gather_get_child (gather, i), NULL);
  if (sum != result->n * (result->n - 1) / 2)
    bench_fail (result, "the gather's results do not add up");

  g_object_unref (gather);
  for (gint64 i = 0; i < result->n; i++)
    g_object_unref (futures[i]);
  g_free (futures);
}

/* taskgroup-fail: a TaskGroup of n tasks, one of which fails at once;
 * the others wait on one future that never completes until the group
 * cancels them (one future, so that its cost is not charged to them).
 * Measured: the whole life of the tasks in the group: creating them, the
 * failure, the cancellations, the group error that collects the failure.
 */

typedef struct
{
  gint64         n;
  WeftTaskGroup *group;
  WeftFuture    *shared;
  WeftFuture    *done;
  gint64         start;
  gint64         wall_ns;
  guint          n_failures;
} TaskGroupFail;

static void
failing_step (WeftTask     *task,
              WeftFuture   *awaited,
              const GError *error,
              gpointer      user_data)
{
  weft_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "boom"));
}

static void
taskgroup_fail_parent_step (WeftTask     *task,
                            WeftFuture   *awaited,
                            const GError *error,
                            gpointer      user_data)
{
  TaskGroupFail *bench = user_data;

  if (bench->group == NULL)
    {
      bench->start = now_ns ();
      bench->group = weft_task_group_new (NULL);
      for (gint64 i = 1; i < bench->n; i++)
        weft_task_group_create_task (bench->group, NULL, waiter_step, bench->shared, NULL, NULL);
      weft_task_group_create_task (bench->group, NULL, failing_step, NULL, NULL, NULL);
      bench->done = weft_task_group_wait (bench->group, NULL);
      weft_task_await (task, bench->done);
      return;
    }

  bench->wall_ns = now_ns () - bench->start;
  bench->n_failures = weft_task_group_error_get_n_failures (error);
  weft_task_return_void (task);
}

static void
bench_taskgroup_fail_weft_stackless (BenchResult *result)
{
  TaskGroupFail bench = { .n = result->n };
  WeftTask *parent;

  warm_up_weft ();
  bench.shared = weft_future_new ();
  started = 0;
  n_cancelled = 0;
  remaining = result->n - 1;

  parent = weft_task_new (NULL, taskgroup_fail_parent_step, &bench, NULL);
  while (!weft_future_is_done (WEFT_FUTURE (parent)))
    g_main_context_iteration (NULL, TRUE);
  result->wall_ns = bench.wall_ns;

  if (bench.n_failures != 1)
    bench_fail (result, "the group error lists %u failures, not 1", bench.n_failures);
  else if (n_cancelled != result->n - 1 || remaining != 0)
    bench_fail (result, "only %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " tasks were cancelled",
                n_cancelled, result->n - 1);

  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&bench.done);
  g_clear_object (&bench.group);
  g_clear_object (&bench.shared);
  g_object_unref (parent);
}

/* pingpong-event: the same round trips through two reused events; the
 * message travels in a shared variable. Waiting on an event reuses the
 * task's wait future, so nothing is allocated per round trip.
 */

typedef struct
{
  gint64     rounds;
  gint64     ping_count;
  gint64     pong_count;
  gint64     message;
  gint64     reply;
  WeftEvent *ping_event;       /* ping waits on it */
  WeftEvent *pong_event;       /* pong waits on it */
  gint64     mismatches;
  GError    *error;
} EventPingPong;

/* Ends @task with @error, if any, keeping the first one for the report. */
static gboolean
pingpong_failed (GError       **first_error,
                 WeftTask      *task,
                 const GError  *error)
{
  if (error == NULL)
    return FALSE;
  if (*first_error == NULL)
    *first_error = g_error_copy (error);
  weft_task_return_error (task, g_error_copy (error));
  return TRUE;
}

static void
event_ping_step (WeftTask     *task,
                 WeftFuture   *awaited,
                 const GError *error,
                 gpointer      user_data)
{
  EventPingPong *pp = user_data;

  if (pingpong_failed (&pp->error, task, error))
    return;

  if (awaited != NULL)
    {
      weft_event_clear (pp->ping_event);
      if (pp->reply != pp->ping_count)
        pp->mismatches++;
      pp->ping_count++;
    }

  if (pp->ping_count == pp->rounds)
    {
      weft_task_return_void (task);
      return;
    }

  pp->message = pp->ping_count;
  weft_event_set (pp->pong_event);
  weft_task_await_take (task, weft_event_wait (pp->ping_event));
}

static void
event_pong_step (WeftTask     *task,
                 WeftFuture   *awaited,
                 const GError *error,
                 gpointer      user_data)
{
  EventPingPong *pp = user_data;

  if (pingpong_failed (&pp->error, task, error))
    return;

  if (awaited != NULL)
    {
      weft_event_clear (pp->pong_event);
      pp->reply = pp->message;
      pp->pong_count++;
      weft_event_set (pp->ping_event);
      if (pp->pong_count == pp->rounds)
        {
          weft_task_return_void (task);
          return;
        }
    }

  weft_task_await_take (task, weft_event_wait (pp->pong_event));
}

static gboolean
event_fiber_wait (EventPingPong *pp,
                  WeftTask      *task,
                  WeftEvent     *event)
{
  g_autoptr(WeftFuture) future = weft_event_wait (event);
  g_autoptr(GError) error = NULL;

  if (!weft_await (future, &error))
    {
      pingpong_failed (&pp->error, task, error);
      return FALSE;
    }
  weft_event_clear (event);
  return TRUE;
}

static void
event_ping_fiber (WeftTask *task,
                  gpointer  user_data)
{
  EventPingPong *pp = user_data;

  for (gint64 i = 0; i < pp->rounds; i++)
    {
      pp->message = i;
      weft_event_set (pp->pong_event);
      if (!event_fiber_wait (pp, task, pp->ping_event))
        return;
      if (pp->reply != i)
        pp->mismatches++;
      pp->ping_count++;
    }
}

static void
event_pong_fiber (WeftTask *task,
                  gpointer  user_data)
{
  EventPingPong *pp = user_data;

  for (gint64 i = 0; i < pp->rounds; i++)
    {
      if (!event_fiber_wait (pp, task, pp->pong_event))
        return;
      pp->reply = pp->message;
      pp->pong_count++;
      weft_event_set (pp->ping_event);
    }
}

static void
run_pingpong_pair (BenchResult *result,
                   WeftTask   **tasks)
{
  gint64 start;
  guint watchdog;

  watchdog = watch_tasks (result, tasks, 2);
  start = now_ns ();
  while (!weft_future_is_done (WEFT_FUTURE (tasks[0])) ||
         !weft_future_is_done (WEFT_FUTURE (tasks[1])))
    g_main_context_iteration (NULL, TRUE);
  result->wall_ns = now_ns () - start;
  unwatch_tasks (watchdog);
}

static void
bench_pingpong_event_weft (BenchResult *result,
                           gboolean     fiber)
{
  EventPingPong pp = { 0, };
  WeftTask **tasks = g_new0 (WeftTask *, 2);

  warm_up_weft ();
  pp.rounds = result->n;
  pp.ping_event = weft_event_new ();
  pp.pong_event = weft_event_new ();

  if (fiber)
    {
      tasks[0] = weft_fiber_new ("ping", event_ping_fiber, &pp, NULL);
      tasks[1] = weft_fiber_new ("pong", event_pong_fiber, &pp, NULL);
    }
  else
    {
      tasks[0] = weft_task_new ("ping", event_ping_step, &pp, NULL);
      tasks[1] = weft_task_new ("pong", event_pong_step, &pp, NULL);
    }
  run_pingpong_pair (result, tasks);

  report_pingpong (result, pp.error, pp.mismatches, pp.rounds, pp.ping_count, pp.pong_count);
  check_tasks (result, tasks, 2, FALSE);

  g_clear_error (&pp.error);
  g_object_unref (pp.ping_event);
  g_object_unref (pp.pong_event);
  unref_tasks (tasks, 2);
}

static void
bench_pingpong_event_weft_stackless (BenchResult *result)
{
  bench_pingpong_event_weft (result, FALSE);
}

static void
bench_pingpong_event_weft_fiber (BenchResult *result)
{
  bench_pingpong_event_weft (result, TRUE);
}

/* pingpong-queue: the same round trips through two unbounded queues, the
 * message being the item. A get reuses the task's wait future.
 */

typedef struct
{
  gint64     rounds;
  gint64     ping_count;
  gint64     pong_count;
  WeftQueue *ping_queue;       /* ping gets from it */
  WeftQueue *pong_queue;       /* pong gets from it */
  gint64     mismatches;
  GError    *error;
} QueuePingPong;

static void
queue_ping_step (WeftTask     *task,
                 WeftFuture   *awaited,
                 const GError *error,
                 gpointer      user_data)
{
  QueuePingPong *pp = user_data;

  if (pingpong_failed (&pp->error, task, error))
    return;

  if (awaited != NULL)
    {
      if (GPOINTER_TO_SIZE (weft_future_get_pointer (awaited, NULL)) != (gsize) pp->ping_count)
        pp->mismatches++;
      pp->ping_count++;
    }

  if (pp->ping_count == pp->rounds)
    {
      weft_task_return_void (task);
      return;
    }

  weft_queue_put_nowait (pp->pong_queue, GSIZE_TO_POINTER (pp->ping_count), NULL);
  weft_task_await_take (task, weft_queue_get (pp->ping_queue));
}

static void
queue_pong_step (WeftTask     *task,
                 WeftFuture   *awaited,
                 const GError *error,
                 gpointer      user_data)
{
  QueuePingPong *pp = user_data;

  if (pingpong_failed (&pp->error, task, error))
    return;

  if (awaited != NULL)
    {
      weft_queue_put_nowait (pp->ping_queue, weft_future_get_pointer (awaited, NULL), NULL);
      pp->pong_count++;
      if (pp->pong_count == pp->rounds)
        {
          weft_task_return_void (task);
          return;
        }
    }

  weft_task_await_take (task, weft_queue_get (pp->pong_queue));
}

static gboolean
queue_fiber_get (QueuePingPong *pp,
                 WeftTask      *task,
                 WeftQueue     *queue,
                 gpointer      *item)
{
  g_autoptr(WeftFuture) future = weft_queue_get (queue);
  g_autoptr(GError) error = NULL;

  *item = weft_await_pointer (future, &error);
  if (error != NULL)
    {
      pingpong_failed (&pp->error, task, error);
      return FALSE;
    }
  return TRUE;
}

static void
queue_ping_fiber (WeftTask *task,
                  gpointer  user_data)
{
  QueuePingPong *pp = user_data;

  for (gint64 i = 0; i < pp->rounds; i++)
    {
      gpointer reply;

      weft_queue_put_nowait (pp->pong_queue, GSIZE_TO_POINTER (i), NULL);
      if (!queue_fiber_get (pp, task, pp->ping_queue, &reply))
        return;
      if (GPOINTER_TO_SIZE (reply) != (gsize) i)
        pp->mismatches++;
      pp->ping_count++;
    }
}

static void
queue_pong_fiber (WeftTask *task,
                  gpointer  user_data)
{
  QueuePingPong *pp = user_data;

  for (gint64 i = 0; i < pp->rounds; i++)
    {
      gpointer message;

      if (!queue_fiber_get (pp, task, pp->pong_queue, &message))
        return;
      weft_queue_put_nowait (pp->ping_queue, message, NULL);
      pp->pong_count++;
    }
}

static void
bench_pingpong_queue_weft (BenchResult *result,
                           gboolean     fiber)
{
  QueuePingPong pp = { 0, };
  WeftTask **tasks = g_new0 (WeftTask *, 2);

  warm_up_weft ();
  pp.rounds = result->n;
  pp.ping_queue = weft_queue_new (0);
  pp.pong_queue = weft_queue_new (0);

  if (fiber)
    {
      tasks[0] = weft_fiber_new ("ping", queue_ping_fiber, &pp, NULL);
      tasks[1] = weft_fiber_new ("pong", queue_pong_fiber, &pp, NULL);
    }
  else
    {
      tasks[0] = weft_task_new ("ping", queue_ping_step, &pp, NULL);
      tasks[1] = weft_task_new ("pong", queue_pong_step, &pp, NULL);
    }
  run_pingpong_pair (result, tasks);

  report_pingpong (result, pp.error, pp.mismatches, pp.rounds, pp.ping_count, pp.pong_count);
  check_tasks (result, tasks, 2, FALSE);

  g_clear_error (&pp.error);
  g_object_unref (pp.ping_queue);
  g_object_unref (pp.pong_queue);
  unref_tasks (tasks, 2);
}

static void
bench_pingpong_queue_weft_stackless (BenchResult *result)
{
  bench_pingpong_queue_weft (result, FALSE);
}

static void
bench_pingpong_queue_weft_fiber (BenchResult *result)
{
  bench_pingpong_queue_weft (result, TRUE);
}

#endif /* !WEFT_BENCH_NO_WEFT */

/* ---------------------------------------------------------------------- */
/* to-thread: round trips to a worker thread, one after the other: hand a
 * trivial function to a thread pool and get its value back on the loop
 * (asyncio.to_thread) */

static gint64 to_thread_sum;

static void
to_thread_gtask_func (GTask        *task,
                      gpointer      source_object,
                      gpointer      task_data,
                      GCancellable *cancellable)
{
  g_task_return_int (task, GPOINTER_TO_INT (task_data) + 1);
}

static void to_thread_gtask_next (void);

static void
to_thread_gtask_done (GObject      *source_object,
                      GAsyncResult *res,
                      gpointer      user_data)
{
  to_thread_sum += g_task_propagate_int (G_TASK (res), NULL);
  if (--remaining > 0)
    to_thread_gtask_next ();
}

static void
to_thread_gtask_next (void)
{
  GTask *task = g_task_new (NULL, NULL, to_thread_gtask_done, NULL);

  g_task_set_task_data (task, GINT_TO_POINTER (1), NULL);
  g_task_run_in_thread (task, to_thread_gtask_func);
  g_object_unref (task);
}

/* The GLib way: g_task_run_in_thread(), the result delivered by an idle
 * source of the caller's context.
 */
static void
bench_to_thread_gtask_thread (BenchResult *result)
{
  gint64 start;

  remaining = result->n;
  to_thread_sum = 0;

  start = now_ns ();
  to_thread_gtask_next ();
  iterate_while_remaining ();
  result->wall_ns = now_ns () - start;

  if (to_thread_sum != 2 * result->n)
    bench_fail (result, "sum %" G_GINT64_FORMAT " instead of %" G_GINT64_FORMAT, to_thread_sum, 2 * result->n);
}

#ifndef WEFT_BENCH_NO_WEFT

static gboolean
to_thread_weft_func (GCancellable  *cancellable,
                     GValue        *value,
                     gpointer       user_data,
                     GError       **error)
{
  g_value_init (value, G_TYPE_INT64);
  g_value_set_int64 (value, GPOINTER_TO_INT (user_data) + 1);
  return TRUE;
}

static void
to_thread_step (WeftTask     *task,
                WeftFuture   *awaited,
                const GError *error,
                gpointer      user_data)
{
  if (error != NULL)
    {
      weft_task_return_error (task, g_error_copy (error));
      return;
    }
  if (awaited != NULL)
    {
      to_thread_sum += weft_future_get_int64 (awaited, NULL);
      remaining--;
    }
  if (remaining > 0)
    {
      g_autoptr(WeftFuture) future = weft_to_thread (to_thread_weft_func, GINT_TO_POINTER (1), NULL);

      weft_task_await (task, future);
    }
  else
    weft_task_return_void (task);
}

static void
to_thread_fiber (WeftTask *task,
                 gpointer  user_data)
{
  while (remaining > 0)
    {
      g_autoptr(WeftFuture) future = weft_to_thread (to_thread_weft_func, GINT_TO_POINTER (1), NULL);
      g_autoptr(GError) error = NULL;

      to_thread_sum += weft_await_int64 (future, &error);
      if (error != NULL)
        {
          weft_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      remaining--;
    }
}

static void
bench_to_thread_weft (BenchResult *result,
                      gboolean     fiber)
{
  g_autoptr(WeftTask) task = NULL;
  gint64 start;
  guint watchdog;

  warm_up_weft ();
  remaining = result->n;
  to_thread_sum = 0;

  start = now_ns ();
  if (fiber)
    task = weft_fiber_new (NULL, to_thread_fiber, NULL, NULL);
  else
    task = weft_task_new (NULL, to_thread_step, NULL, NULL);
  watchdog = watch_tasks (result, &task, 1);
  iterate_while_remaining ();
  result->wall_ns = now_ns () - start;
  unwatch_tasks (watchdog);

  while (!weft_future_is_done (WEFT_FUTURE (task)))
    g_main_context_iteration (NULL, TRUE);
  check_tasks (result, &task, 1, FALSE);
  if (to_thread_sum != 2 * result->n)
    bench_fail (result, "sum %" G_GINT64_FORMAT " instead of %" G_GINT64_FORMAT, to_thread_sum, 2 * result->n);
}

static void
bench_to_thread_weft_stackless (BenchResult *result)
{
  bench_to_thread_weft (result, FALSE);
}

static void
bench_to_thread_weft_fiber (BenchResult *result)
{
  bench_to_thread_weft (result, TRUE);
}

/* inspect-spawn, inspect-pingpong: what live inspection costs spawn and
 * pingpong. The impl names the coroutine kind and the mode:
 *   -off       built with inspection, never enabled: the one branch per hook
 *   -on        weft_inspector_enable() in this process, no client
 *   -attached  on, and `weft-inspect record PID /dev/stdout` subscribed for
 *              the whole measurement, its output read and dropped by a thread
 *   -disabled  built with -Dinspect=disabled (run-bench takes these from a
 *              second build): the hooks compile to nothing
 *
 * One round of either is shorter than the client's 100 ms batch interval,
 * so every mode runs the same number of rounds, each a whole spawn or
 * pingpong of n, and an attached client gets many batches meanwhile.
 */

#define INSPECT_SPAWN_ROUNDS 50
#define INSPECT_PINGPONG_ROUNDS 2

typedef struct
{
  GSubprocess *process;
  GThread     *reader;
  GMutex       lock;
  GCond        changed;
  guint8       magic[8];
  gint64       bytes;
  gint64       batches;        /* frames read whole */
  gint64       frame_end;      /* where the frame being read ends */
  gboolean     in_frame;
  guint8       prefix[4];      /* the next frame's length, as read so far */
  guint        n_prefix;
  gint64       start_bytes;    /* when the measurement began */
  gint64       start_batches;
  gboolean     ended;
} InspectClient;

/* The stream is "WEFTREC1", then frames: a guint32 LE length, the batch.
 * Called under the lock with @data, the next @n bytes of the stream.
 */
static void
count_frames (InspectClient *client,
              const guint8  *data,
              gssize         n)
{
  gint64 base = client->bytes;
  gint64 offset = base;

  for (;;)
    {
      if (client->in_frame && offset >= client->frame_end)
        {
          client->batches++;
          client->in_frame = FALSE;
        }
      if (offset >= base + n)
        break;
      if (offset < (gint64) sizeof client->magic)
        {
          client->magic[offset] = data[offset - base];
          offset++;
          continue;
        }
      if (offset < client->frame_end)
        {
          offset = MIN (client->frame_end, base + n);
          continue;
        }
      client->prefix[client->n_prefix++] = data[offset++ - base];
      if (client->n_prefix == sizeof client->prefix)
        {
          client->frame_end = offset + (client->prefix[0] | client->prefix[1] << 8 |
                                        client->prefix[2] << 16 | (guint32) client->prefix[3] << 24);
          client->in_frame = TRUE;
          client->n_prefix = 0;
        }
    }
  client->bytes += n;
}

static gpointer
read_inspect_client (gpointer data)
{
  InspectClient *client = data;
  GInputStream *output = g_subprocess_get_stdout_pipe (client->process);
  guint8 buffer[65536];
  gssize n;

  while ((n = g_input_stream_read (output, buffer, sizeof buffer, NULL, NULL)) > 0)
    {
      g_mutex_lock (&client->lock);
      count_frames (client, buffer, n);
      g_cond_broadcast (&client->changed);
      g_mutex_unlock (&client->lock);
    }

  g_mutex_lock (&client->lock);
  client->ended = TRUE;
  g_cond_broadcast (&client->changed);
  g_mutex_unlock (&client->lock);

  return NULL;
}

static gboolean
attach_inspect_client (InspectClient *client,
                       BenchResult   *result)
{
  const char *cli = g_getenv ("WEFT_BENCH_INSPECT_CLI");
  g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());
  g_autoptr(GError) error = NULL;
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  gboolean subscribed;

  if (cli == NULL)
    {
      bench_fail (result, "WEFT_BENCH_INSPECT_CLI does not name weft-inspect");
      return FALSE;
    }

  client->frame_end = sizeof client->magic;
  client->process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                                      cli, "record", pid, "/dev/stdout", NULL);
  if (client->process == NULL)
    {
      bench_fail (result, "could not start %s: %s", cli, error->message);
      return FALSE;
    }
  client->reader = g_thread_new ("bench-inspect-client", read_inspect_client, client);

  g_mutex_lock (&client->lock);
  while (client->batches == 0 && !client->ended &&
         g_cond_wait_until (&client->changed, &client->lock, deadline))
    ;
  subscribed = client->batches > 0 &&
               memcmp (client->magic, "WEFTREC1", sizeof client->magic) == 0;
  client->start_bytes = client->bytes;
  client->start_batches = client->batches;
  g_mutex_unlock (&client->lock);

  if (!subscribed)
    bench_fail (result, "weft-inspect record sent no first batch within 10 s");

  return subscribed;
}

static void
detach_inspect_client (InspectClient *client,
                       BenchResult   *result)
{
  if (client->process == NULL)
    return;

  g_mutex_lock (&client->lock);
  if (client->ended)
    bench_fail (result, "weft-inspect record left during the measurement");
  result->have_client = TRUE;
  result->client_batches = client->batches - client->start_batches;
  result->client_bytes = client->bytes - client->start_bytes;
  g_mutex_unlock (&client->lock);

  g_subprocess_send_signal (client->process, SIGTERM);
  g_subprocess_wait (client->process, NULL, NULL);
  if (client->reader != NULL)
    g_thread_join (client->reader);

  g_clear_object (&client->process);
}

static void
run_rounds (BenchResult *result,
            BenchFunc    func,
            gint64       rounds)
{
  gint64 wall_ns = 0;

  for (gint64 i = 0; i < rounds && result->failure == NULL; i++)
    {
      func (result);
      wall_ns += result->wall_ns;
    }
  result->wall_ns = wall_ns;
  result->rounds = rounds;
}

static void
bench_inspect (BenchResult *result,
               BenchFunc    stackless,
               BenchFunc    fiber,
               gint64       rounds)
{
  InspectClient client = { 0, };
  gboolean attached = g_str_has_suffix (result->impl, "-attached");
  gboolean on = attached || g_str_has_suffix (result->impl, "-on");
  BenchFunc func = g_str_has_prefix (result->impl, "weft-fiber") ? fiber : stackless;
  g_autoptr(GError) error = NULL;

  g_mutex_init (&client.lock);
  g_cond_init (&client.changed);

  if (on && !weft_inspector_enable (&error))
    bench_fail (result, "weft_inspector_enable: %s", error->message);
  else if (!attached || attach_inspect_client (&client, result))
    run_rounds (result, func, rounds);

  detach_inspect_client (&client, result);
  g_mutex_clear (&client.lock);
  g_cond_clear (&client.changed);
}

static void
bench_inspect_spawn (BenchResult *result)
{
  bench_inspect (result, bench_spawn_weft_stackless, bench_spawn_weft_fiber,
                 INSPECT_SPAWN_ROUNDS);
}

static void
bench_inspect_pingpong (BenchResult *result)
{
  bench_inspect (result, bench_pingpong_weft_stackless, bench_pingpong_weft_fiber,
                 INSPECT_PINGPONG_ROUNDS);
}

#ifndef WEFT_BENCH_INSPECT_DISABLED

/* inspect-collect: what one full snapshot of n suspended tasks costs a
 * client, and how long it stalls the loop that owns them. A ticker task
 * yields on that loop all along and keeps the longest gap between two of
 * its steps while another thread takes the snapshot:
 *   collect   weft_inspect_collector_full(), the registry's own work
 *   snapshot  GetSnapshot through the inspector's socket, as a client sees it
 *   ps        `weft-inspect ps PID > /dev/null`, process start-up included
 *   base      nothing: the ticker's gaps on this machine, for comparison
 * Each is done COLLECT_REPEATS times: the fastest time, the worst stall.
 */

#define COLLECT_REPEATS 3
#define COLLECT_BASE_US (200 * 1000)

typedef struct _WeftInspectCollector WeftInspectCollector;

extern WeftInspectCollector *weft_inspect_collector_new  (void);
extern void                  weft_inspect_collector_free (WeftInspectCollector *self);
extern GVariant             *weft_inspect_collector_full (WeftInspectCollector *self);

typedef struct
{
  gint64   last_ns;
  gint64   max_gap_ns;
  gboolean stop;
} Ticker;

static void
ticker_step (WeftTask     *task,
             WeftFuture   *awaited,
             const GError *error,
             gpointer      user_data)
{
  Ticker *ticker = user_data;
  gint64 now = now_ns ();

  if (ticker->last_ns != 0)
    ticker->max_gap_ns = MAX (ticker->max_gap_ns, now - ticker->last_ns);
  ticker->last_ns = now;

  if (ticker->stop)
    weft_task_return_void (task);
  else
    weft_task_yield (task);
}

typedef struct _CollectJob CollectJob;

typedef gboolean (*CollectFunc) (CollectJob *job);

struct _CollectJob
{
  CollectFunc      func;
  const char      *cli;         /* ps */
  gint64           bytes;       /* of the batch */
  gint64           elapsed_ns;  /* set by func: what it timed */
  gint64           best_ns;     /* over the repeats */
  gint64           worst_gap_ns;
  char            *failure;
  int              done;
};

static gboolean
collect_in_process (CollectJob *job)
{
  gint64 start = now_ns ();
  WeftInspectCollector *collector = weft_inspect_collector_new ();
  GVariant *batch = g_variant_ref_sink (weft_inspect_collector_full (collector));

  job->elapsed_ns = now_ns () - start;
  job->bytes = g_variant_get_size (batch);
  g_variant_unref (batch);
  weft_inspect_collector_free (collector);
  return TRUE;
}

/* In a process of its own, as a client's would be: in this one, the
 * client's connection and the inspector's would share GDBus's one worker
 * thread. Only the call is timed, not the connection.
 */
static gboolean
collect_through_socket (CollectJob *job)
{
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                              "/proc/self/exe", "--snapshot-client",
                              weft_inspector_get_socket_path (), NULL);
  if (process == NULL || !g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error))
    job->failure = g_strdup_printf ("snapshot client: %s", error->message);
  else if (out == NULL ||
           sscanf (out, "ns=%" G_GINT64_FORMAT " bytes=%" G_GINT64_FORMAT,
                   &job->elapsed_ns, &job->bytes) != 2)
    job->failure = g_strdup ("snapshot client: no answer");
  return job->failure == NULL;
}

/* Its failure (the CLI gives up on a call after 5 s) is a result, not the
 * bench's: "exit-STATUS", "signal-N" or why it did not start.
 */
static gboolean
collect_with_cli (CollectJob *job)
{
  g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start = now_ns ();

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error,
                              job->cli, "ps", pid, NULL);
  if (process == NULL || !g_subprocess_wait (process, NULL, &error))
    job->failure = g_strdup_printf ("weft-inspect ps: %s", error->message);
  else if (!g_subprocess_get_if_exited (process))
    job->failure = g_strdup_printf ("signal-%d", g_subprocess_get_term_sig (process));
  else if (g_subprocess_get_exit_status (process) != 0)
    job->failure = g_strdup_printf ("exit-%d", g_subprocess_get_exit_status (process));
  job->elapsed_ns = now_ns () - start;
  return job->failure == NULL;
}

static gboolean
collect_nothing (CollectJob *job)
{
  g_usleep (COLLECT_BASE_US);
  job->elapsed_ns = COLLECT_BASE_US * 1000;
  return TRUE;
}

static gpointer
run_collect_job (gpointer data)
{
  CollectJob *job = data;

  job->func (job);
  g_atomic_int_set (&job->done, 1);
  g_main_context_wakeup (NULL);
  return NULL;
}

/* Runs @job on a thread COLLECT_REPEATS times while the ticker steps on
 * this one: keeps the fastest run and the ticker's worst gap. Stops at the
 * first failure, left in job->failure.
 */
static gboolean
measure_collect (CollectJob *job,
                 Ticker     *ticker)
{
  job->best_ns = G_MAXINT64;
  job->worst_gap_ns = 0;

  for (int i = 0; i < COLLECT_REPEATS && job->failure == NULL; i++)
    {
      GThread *thread;

      ticker->last_ns = 0;
      ticker->max_gap_ns = 0;
      g_atomic_int_set (&job->done, 0);
      thread = g_thread_new ("bench-collect", run_collect_job, job);
      while (!g_atomic_int_get (&job->done))
        g_main_context_iteration (NULL, TRUE);
      g_thread_join (thread);

      job->best_ns = MIN (job->best_ns, job->elapsed_ns);
      job->worst_gap_ns = MAX (job->worst_gap_ns, ticker->max_gap_ns);
    }

  return job->failure == NULL;
}

static void
append_ps (GString          *extras,
           const CollectJob *ps)
{
  if (ps->cli == NULL)
    return;
  if (ps->failure != NULL)
    {
      g_autofree char *reason = sanitize_reason (ps->failure);

      g_string_append_printf (extras, " ps_failed=%s", reason);
    }
  else
    g_string_append_printf (extras, " ps_ms=%.2f", ps->best_ns / 1e6);
  g_string_append_printf (extras, " ps_stall_us=%.0f", ps->worst_gap_ns / 1e3);
}

static void
measure_collects (BenchResult *result,
                  Ticker      *ticker)
{
  CollectJob base = { collect_nothing, };
  CollectJob collect = { collect_in_process, };
  CollectJob snapshot = { collect_through_socket, };
  CollectJob ps = { collect_with_cli, g_getenv ("WEFT_BENCH_INSPECT_CLI"), };
  GString *extras;

  measure_collect (&base, ticker);
  measure_collect (&collect, ticker);
  if (!measure_collect (&snapshot, ticker))
    {
      bench_fail (result, "%s", snapshot.failure);
      g_free (snapshot.failure);
      return;
    }
  if (ps.cli != NULL)
    measure_collect (&ps, ticker);

  result->wall_ns = snapshot.best_ns;
  extras = g_string_new (NULL);
  g_string_append_printf (extras, " collect_ms=%.2f snapshot_ms=%.2f snapshot_bytes=%" G_GINT64_FORMAT,
                          collect.best_ns / 1e6, snapshot.best_ns / 1e6, snapshot.bytes);
  g_string_append_printf (extras, " max_stall_us=%.0f",
                          MAX (MAX (collect.worst_gap_ns, snapshot.worst_gap_ns), ps.worst_gap_ns) / 1e3);
  g_string_append_printf (extras, " base_stall_us=%.0f collect_stall_us=%.0f snapshot_stall_us=%.0f",
                          base.worst_gap_ns / 1e3, collect.worst_gap_ns / 1e3, snapshot.worst_gap_ns / 1e3);
  append_ps (extras, &ps);
  result->extras = g_string_free (extras, FALSE);
  g_free (ps.failure);
}

static void
collect_waiter_step (WeftTask     *task,
                     WeftFuture   *awaited,
                     const GError *error,
                     gpointer      user_data)
{
  if (error != NULL)
    weft_task_return_error (task, g_error_copy (error));
  else if (awaited != NULL)
    weft_task_return_void (task);
  else
    {
      remaining--;
      weft_task_await (task, user_data);
    }
}

static void
collect_waiter_fiber (WeftTask *task,
                      gpointer  user_data)
{
  GError *error = NULL;

  remaining--;
  if (!weft_await (user_data, &error))
    weft_task_return_error (task, error);
}

static void
bench_inspect_collect (BenchResult *result)
{
  gboolean fiber = g_str_has_prefix (result->impl, "weft-fiber");
  gint64 n_tasks = result->n + 1;       /* and the ticker */
  WeftTask **tasks = g_new0 (WeftTask *, n_tasks);
  g_autoptr(WeftFuture) gate = weft_future_new ();
  g_autoptr(GError) error = NULL;
  Ticker ticker = { 0, };
  guint watchdog;

  if (!weft_inspector_enable (&error))
    {
      bench_fail (result, "weft_inspector_enable: %s", error->message);
      g_free (tasks);
      return;
    }

  warm_up_weft ();
  remaining = result->n;
  watchdog = watch_tasks (result, tasks, result->n);
  for (gint64 i = 0; i < result->n; i++)
    {
      if (fiber)
        tasks[i] = weft_fiber_new (NULL, collect_waiter_fiber, gate, NULL);
      else
        tasks[i] = weft_task_new (NULL, collect_waiter_step, gate, NULL);
    }
  iterate_while_remaining ();
  /* Its scan of every task would stall the ticker */
  unwatch_tasks (watchdog);

  tasks[result->n] = weft_task_new ("ticker", ticker_step, &ticker, NULL);
  measure_collects (result, &ticker);

  ticker.stop = TRUE;
  weft_future_set_int64 (gate, 0);
  for (gint64 i = 0; i < n_tasks; i++)
    while (!weft_future_is_done (WEFT_FUTURE (tasks[i])))
      g_main_context_iteration (NULL, TRUE);
  check_tasks (result, tasks, n_tasks, FALSE);
  unref_tasks (tasks, n_tasks);
}

#endif /* !WEFT_BENCH_INSPECT_DISABLED */

#endif /* !WEFT_BENCH_NO_WEFT */

/* ---------------------------------------------------------------------- */

typedef struct
{
  const char *workload;
  const char *impl;
  gint64      default_n;
  BenchFunc   func;
} BenchEntry;

static const BenchEntry entries[] = {
  { "gobject-floor", "gobject", 1000000, bench_gobject_floor },

  { "spawn", "glib-idle", 100000, bench_spawn_glib_idle },
  { "spawn", "gtask", 100000, bench_spawn_gtask },
  { "pingpong", "glib-idle", 1000000, bench_pingpong_glib_idle },
  { "sleepers", "glib-timeout", 100000, bench_sleepers_glib_timeout },
  { "sleepers-1m", "glib-timeout", 1000000, bench_sleepers_glib_timeout },
  { "cancel-fanout", "gtask-cancellable", 100000, bench_cancel_fanout_gtask_cancellable },
  { "memory", "gtask", 100000, bench_memory_gtask },

#ifndef WEFT_BENCH_NO_WEFT
  { "spawn", "weft-stackless", 100000, bench_spawn_weft_stackless },
  { "spawn", "weft-fiber", 100000, bench_spawn_weft_fiber },
  { "pingpong", "weft-stackless", 1000000, bench_pingpong_weft_stackless },
  { "pingpong", "weft-fiber", 1000000, bench_pingpong_weft_fiber },
  { "sleepers", "weft-stackless", 100000, bench_sleepers_weft_stackless },
  { "sleepers", "weft-fiber", 100000, bench_sleepers_weft_fiber },
  { "sleepers-1m", "weft-stackless", 1000000, bench_sleepers_weft_stackless },
  { "cancel-fanout", "weft-stackless", 100000, bench_cancel_fanout_weft_stackless },
  { "cancel-fanout", "weft-fiber", 100000, bench_cancel_fanout_weft_fiber },
  { "memory", "weft-stackless", 100000, bench_memory_weft_stackless },
  { "memory", "weft-fiber", 20000, bench_memory_weft_fiber },
  { "gather-done", "weft", 100000, bench_gather_done_weft },
  { "taskgroup-fail", "weft-stackless", 100000, bench_taskgroup_fail_weft_stackless },
#endif

  { "to-thread", "gtask-thread", 20000, bench_to_thread_gtask_thread },
#ifndef WEFT_BENCH_NO_WEFT
  { "to-thread", "weft-stackless", 20000, bench_to_thread_weft_stackless },
  { "to-thread", "weft-fiber", 20000, bench_to_thread_weft_fiber },
  { "pingpong-event", "weft-stackless", 1000000, bench_pingpong_event_weft_stackless },
  { "pingpong-event", "weft-fiber", 1000000, bench_pingpong_event_weft_fiber },
  { "pingpong-queue", "weft-stackless", 1000000, bench_pingpong_queue_weft_stackless },
  { "pingpong-queue", "weft-fiber", 1000000, bench_pingpong_queue_weft_fiber },
# ifdef WEFT_BENCH_INSPECT_DISABLED
  { "inspect-spawn", "weft-stackless-disabled", 100000, bench_inspect_spawn },
  { "inspect-spawn", "weft-fiber-disabled", 100000, bench_inspect_spawn },
  { "inspect-pingpong", "weft-stackless-disabled", 1000000, bench_inspect_pingpong },
  { "inspect-pingpong", "weft-fiber-disabled", 1000000, bench_inspect_pingpong },
# else
  { "inspect-spawn", "weft-stackless-off", 100000, bench_inspect_spawn },
  { "inspect-spawn", "weft-stackless-on", 100000, bench_inspect_spawn },
  { "inspect-spawn", "weft-stackless-attached", 100000, bench_inspect_spawn },
  { "inspect-spawn", "weft-fiber-off", 100000, bench_inspect_spawn },
  { "inspect-spawn", "weft-fiber-on", 100000, bench_inspect_spawn },
  { "inspect-spawn", "weft-fiber-attached", 100000, bench_inspect_spawn },
  { "inspect-pingpong", "weft-stackless-off", 1000000, bench_inspect_pingpong },
  { "inspect-pingpong", "weft-stackless-on", 1000000, bench_inspect_pingpong },
  { "inspect-pingpong", "weft-stackless-attached", 1000000, bench_inspect_pingpong },
  { "inspect-pingpong", "weft-fiber-off", 1000000, bench_inspect_pingpong },
  { "inspect-pingpong", "weft-fiber-on", 1000000, bench_inspect_pingpong },
  { "inspect-pingpong", "weft-fiber-attached", 1000000, bench_inspect_pingpong },
  { "inspect-collect", "weft-stackless", 100000, bench_inspect_collect },
  { "inspect-collect", "weft-fiber", 20000, bench_inspect_collect },
# endif
#endif
};

/* inspect-collect's client: one GetSnapshot call to the inspector at
 * @socket_path, timed; prints "ns=N bytes=B".
 */
static int
snapshot_client (const char *socket_path)
{
  g_autofree char *escaped = g_dbus_address_escape_value (socket_path);
  g_autofree char *address = g_strconcat ("unix:path=", escaped, NULL);
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) batch = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  connection = g_dbus_connection_new_for_address_sync (address,
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                                                       NULL, NULL, &error);
  if (connection == NULL)
    {
      g_printerr ("weft-bench: %s\n", error->message);
      return 1;
    }
  start = now_ns ();
  reply = g_dbus_connection_call_sync (connection, NULL, "/org/gnome/Weft/Inspector",
                                       "org.gnome.Weft.Inspector1", "GetSnapshot", NULL,
                                       G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NONE,
                                       -1, NULL, &error);
  if (reply == NULL)
    {
      g_printerr ("weft-bench: GetSnapshot: %s\n", error->message);
      return 1;
    }
  batch = g_variant_get_child_value (reply, 0);
  printf ("ns=%" G_GINT64_FORMAT " bytes=%" G_GSIZE_FORMAT "\n",
          now_ns () - start, g_variant_get_size (batch));
  return 0;
}

static gint64
quick_divisor (void)
{
  const char *quick = g_getenv ("WEFT_BENCH_QUICK");

  return (quick != NULL && g_strcmp0 (quick, "0") != 0 && *quick != '\0') ? 10 : 1;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *workload = NULL;
  g_autofree char *impl = NULL;
  g_autofree char *snapshot_socket = NULL;
  gint64 n = -1;
  gboolean list = FALSE;
  const BenchEntry *entry = NULL;
  BenchResult result = { 0, };
  GOptionEntry options[] = {
    { "workload", 'w', 0, G_OPTION_ARG_STRING, &workload, "Workload to run", "NAME" },
    { "impl", 'i', 0, G_OPTION_ARG_STRING, &impl, "Implementation to run", "NAME" },
    { "n", 'n', 0, G_OPTION_ARG_INT64, &n, "Number of operations (default: per workload)", "N" },
    { "list", 'l', 0, G_OPTION_ARG_NONE, &list, "List the workload/impl pairs and their default n", NULL },
    { "snapshot-client", 0, 0, G_OPTION_ARG_FILENAME, &snapshot_socket,
      "Time one GetSnapshot call to the inspector at SOCKET (inspect-collect's client)", "SOCKET" },
    { NULL }
  };

  context = g_option_context_new ("- Weft benchmarks, one measurement per run");
  g_option_context_add_main_entries (context, options, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("weft-bench: %s\n", error->message);
      return 2;
    }

  if (snapshot_socket != NULL)
    return snapshot_client (snapshot_socket);

  if (list)
    {
      for (gsize i = 0; i < G_N_ELEMENTS (entries); i++)
        printf ("%s %s %" G_GINT64_FORMAT "\n", entries[i].workload, entries[i].impl,
                MAX (entries[i].default_n / quick_divisor (), 1));
      return 0;
    }

  if (workload == NULL || impl == NULL)
    {
      g_printerr ("weft-bench: --workload and --impl are required (see --list)\n");
      return 2;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (entries); i++)
    if (g_str_equal (entries[i].workload, workload) && g_str_equal (entries[i].impl, impl))
      entry = &entries[i];

  if (entry == NULL)
    {
      printf ("workload=%s impl=%s skipped=1 reason=not-in-this-build\n", workload, impl);
      return 3;
    }

  if (n <= 0)
    n = MAX (entry->default_n / quick_divisor (), 1);

#ifndef WEFT_BENCH_NO_WEFT
  /* Records every task, as a program run with WEFT_INSPECT=1 does. */
  if (g_getenv ("WEFT_BENCH_INSPECT") != NULL)
    {
      extern void weft_inspect_registry_start (void);

      weft_inspect_registry_start ();
    }
#endif

  result.workload = entry->workload;
  result.impl = entry->impl;
  result.n = n;

  entry->func (&result);
  print_result (&result);
  g_free (result.extras);

  return result.failure != NULL ? 1 : 0;
}
