/* weft-inspect-registry.c: the live record of every task, for inspectors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * THREADING RULES
 *
 * A task's record (WeftInspectRecord) is written only by the thread that
 * runs the task's context, its owner, and read by collectors on the
 * inspector thread while the program runs. Collectors never touch a live
 * WeftTask or any GObject: only records.
 *
 *  - Fields set before a record is linked into its loop (id, kind,
 *    function, created-at, parent...) never change: the release store
 *    that links it publishes them.
 *  - Numeric fields that change (state, timing, counts, group, awaited
 *    task) are single-writer: the owner stores them with relaxed atomics,
 *    collectors load them with relaxed atomics. A collector may see a
 *    step half-recorded; the next batch sees the rest. Every change bumps
 *    "version", so collectors skip records that did not change.
 *  - Strings and lists (name, site, awaits of a combinator, cancel
 *    requests, context values, result, error) are replaced, never edited,
 *    under the loop's spinlock; collectors copy them under it.
 *  - Each context has a WeftInspectLoop (one per scheduler) holding its
 *    records in creation order. The owner alone links a record, at the
 *    task's start, with release stores and no lock: collectors walk the
 *    list up to the tail they saw first. Records are unlinked under the
 *    loop lock only, when a finishing task evicts its loop's oldest
 *    finished records past the keep limit, in batches. Each loop keeps its
 *    own last finished records in a queue of the owner's; a dead loop's
 *    are evicted by whoever detaches the loop that makes it one dead loop
 *    too many. Collectors hold a loop's lock while they copy its records,
 *    so a record they see is never freed under them.
 *  - Records live in chunks their loop owns, recycled through the loop's
 *    free list, the owner's but for a dead loop; the loop's list is their
 *    only owner.
 *    A task reaches its record through its extras pointer until the step
 *    that finished it is over (weft_inspect_task_retired()); from then on
 *    only the list holds it, and eviction puts it back on the free list.
 *    Strings and lists live in a cold part made on first need, freed with
 *    the record. A loop lives while its scheduler does, or its list is not
 *    empty, or an invocation is on its way to it.
 *  - The registry mutex guards the list of loops, the lints and the symbol
 *    cache. Lock order: registry, then a loop. The owner takes the registry
 *    mutex only for a lint, which is rare.
 *  - Hot paths take no lock: a step costs two readings of the CPU's
 *    counter and relaxed stores, a spawn one reading outside a step; a
 *    finish takes its loop's lock once per batch of evictions.
 */

#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "weft-context-var.h"
#include "weft-error-private.h"
#include "weft-future-private.h"
#include "weft-inspect-hooks-private.h"
#include "weft-spinlock-private.h"
#include "weft-symbolize-private.h"
#include "weft-task-private.h"

int weft_inspect_on;
WEFT_THREAD_LOCAL gpointer weft_inspect_creator;

#define N_BUCKETS 8
#define N_CANCEL_REQUESTS 8
#define LONG_STEP_US 16000
#define BLOCKED_US 16000
#define MAX_LINTS 1024
#define RECHECK_US G_USEC_PER_SEC
#define DEFAULT_KEEP 256
#define EVICT_BATCH 64
#define DEAD_LOOPS_KEPT 4

#define LOAD(p) __atomic_load_n (&(p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n (&(p), (v), __ATOMIC_RELAXED)
#define ADD(p, v) STORE (p, LOAD (p) + (v))   /* single writer */
#define LOAD_ACQUIRE(p) __atomic_load_n (&(p), __ATOMIC_ACQUIRE)
#define STORE_RELEASE(p, v) __atomic_store_n (&(p), (v), __ATOMIC_RELEASE)

typedef struct
{
  guint64  task;
  gint64   time_us;
  char    *message;
} CancelRequest;

/* Records are carved out of chunks owned by their loop and recycled
 * through its free list: both under the loop lock that links and unlinks
 * them anyway, so a spawn allocates nothing most of the time. Chunks
 * double up to a thousand records and have their pages populated at once
 * where the kernel can: faulting them in one by one cost a burst of
 * spawns more than the recording itself. (On the heap, not mapped, so
 * that leak checkers still see what records point to.)
 */
#define FIRST_CHUNK_RECORDS 32
#define MAX_CHUNK_RECORDS 1024

typedef struct _RecordChunk RecordChunk;

struct _WeftInspectLoop
{
  gatomicrefcount     ref_count;        /* the scheduler's, the list's while not empty,
                                         * and one per invocation */
  WeftSpinlock        lock;
  WeftInspectLoop    *prev;             /* registry list, under the registry mutex */
  WeftInspectLoop    *next;
  guint64             number;
  GMainContext       *context;          /* borrowed: alive while a task of ours is unfinished */
  int                 alive;            /* the scheduler exists */

  /* Written by the thread dispatching the context. */
  gpointer            thread;           /* pthread_t of the last dispatcher */
  guint64             current_task;
  gint64              step_start;       /* ticks */
  gint64              iteration_us;
  int                 polling;
  guint               n_unfinished;
  gint64              last_tick;        /* the last clock reading of a step */
  gint64              last_recheck_us;
  guint64             dropped;          /* finished records evicted before a batch saw them */

  /* The owner's own: the finished records kept, oldest first. */
  WeftInspectRecord  *finished_head;
  WeftInspectRecord  *finished_tail;
  guint               n_finished;

  /* Under the lock. */
  char               *thread_name;
  WeftInspectRecord  *head;             /* every record kept, oldest first */
  WeftInspectRecord  *tail;
  WeftInspectRecord  *free_records;     /* through next */
  RecordChunk        *chunks;
};

/* What a task that finishes in its first step never needs: the timing
 * of later steps, waits, strings, lists, groups, cancellations. Made on
 * first need under the loop lock, which publishes it; freed with the
 * record. Every byte of a record costs a burst of spawns about a third
 * of a nanosecond per task, most of it the kernel's, giving fresh pages.
 */
typedef struct
{
  /* Single writer, relaxed atomics. */
  guint64             steps;
  gint64              idle;             /* ticks */
  gint64              longest;
  guint32             histogram[N_BUCKETS];
  guint64             awaits_task;
  GType               awaited_type;
  guint               awaited_n;
  gint64              sleep_until_us;   /* monotonic; 0 unless sleeping */
  guint64             group;
  guint64             group_owner;
  guint64             cancelled_by;

  /* The owner's own. */
  guint64             last_requester;
  const WeftAwaitSite *site_seen;
  WeftContextMap     *map_seen;

  /* Under the loop lock. */
  char               *name;
  char               *site_function;
  char               *site_file;
  int                 site_line;
  GArray             *awaits;           /* guint64; through a combinator */
  GArray             *cancel_requests;  /* CancelRequest */
  GPtrArray          *context;          /* name, value, name, value... */
  char               *result;
  char               *error;
} RecordCold;

/* Owned by its loop's list: the task points to it until the step that
 * finished it is over (or, unfinished, until its finalization).
 */
struct _WeftInspectRecord
{
  WeftInspectRecord  *prev;             /* under the loop lock */
  WeftInspectRecord  *next;             /* also the loop's free list */
  WeftInspectLoop    *loop;
  RecordCold         *cold;             /* set under the loop lock */

  /* Set before the record is linked. */
  guint64             id;
  union {
    WeftTask         *task;             /* for the owner only, while unfinished */
    WeftInspectRecord *finished_next;   /* then, in the loop's finished queue */
  };
  gpointer            function;         /* a binding's: its GType */
  gpointer            created_pc;
  gint64              created_ticks;
  guint64             parent;

  /* Single writer, relaxed atomics. */
  gint64              state_since;      /* ticks */
  gint64              busy;
  gint64              waiting;
  guint               version;
  guint               cancelling;
  guint8              state;
  guint8              seen;             /* by some batch */
  guint8              ran;              /* its first step ended; see record_cold() */

  guint8              kind;             /* set before the record is linked */

  /* The owner's own. */
  guint8              cancel_caught;
  guint8              orphan_reported;
};

struct _RecordChunk
{
  RecordChunk       *next;
  guint              n_records;
  WeftInspectRecord  records[];
};

typedef struct
{
  char    *kind;
  guint64  task;
  char    *message;
  guint    count;
  gint64   first_us;
  gint64   last_us;
  gint64   worst_us;
  guint    version;
} Lint;

static pthread_mutex_t registry_mutex = PTHREAD_MUTEX_INITIALIZER;
static WeftInspectLoop *loops;            /* under the mutex */
static guint64 last_loop_number;
static GPtrArray *lints;                  /* Lint, under the mutex */
static GHashTable *lint_index;            /* "kind/task" → Lint */
static GHashTable *symbols;               /* pc → char *, under the mutex */
static guint keep = DEFAULT_KEEP;         /* atomic */
static guint64 dropped;                   /* by loops freed, under the mutex */
static guint64 last_seq;                  /* atomic */
int weft_inspect_shields_made;            /* atomic: a shield noted its inner task */

/* The clock ----------------------------------------------------------- */

/* Steps read the CPU's counter where it runs at a constant rate, which
 * costs a few nanoseconds; g_get_monotonic_time() elsewhere. Ticks become
 * the monotonic clock's microseconds only when a batch is made.
 */
static gboolean use_tsc;
static gint64 tsc_origin;
static gint64 mono_origin;
static double ticks_per_us = 1.0;
static gint64 long_step_ticks = LONG_STEP_US;
static gint64 bucket_limits[N_BUCKETS - 1];   /* ticks: 16 µs, then ×4 */

static inline gint64
clock_ticks (void)
{
#if defined(__x86_64__)
  if (G_LIKELY (use_tsc))
    return (gint64) __builtin_ia32_rdtsc ();
#endif
  return g_get_monotonic_time ();
}

static inline gint64
ticks_to_us (gint64 ticks)
{
  return use_tsc ? (gint64) (ticks / ticks_per_us) : ticks;
}

/* A point in time, not a duration. */
static inline gint64
tick_time_to_us (gint64 ticks)
{
  return use_tsc ? mono_origin + (gint64) ((ticks - tsc_origin) / ticks_per_us) : ticks;
}

static G_GNUC_UNUSED void
set_bucket_limits (void)
{
  gint64 limit_us = 16;

  for (guint i = 0; i < N_BUCKETS - 1; i++, limit_us *= 4)
    bucket_limits[i] = use_tsc ? (gint64) (limit_us * ticks_per_us) : limit_us;
}

static G_GNUC_UNUSED void
calibrate_clock (void)
{
#if defined(__x86_64__)
  g_autofree char *cpuinfo = NULL;
  gint64 mono_end, tsc_end;

  if (!g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL) ||
      strstr (cpuinfo, " constant_tsc") == NULL || strstr (cpuinfo, " nonstop_tsc") == NULL)
    return;

  mono_origin = g_get_monotonic_time ();
  tsc_origin = (gint64) __builtin_ia32_rdtsc ();
  do
    mono_end = g_get_monotonic_time ();
  while (mono_end - mono_origin < 2000);
  tsc_end = (gint64) __builtin_ia32_rdtsc ();

  ticks_per_us = (double) (tsc_end - tsc_origin) / (double) (mono_end - mono_origin);
  if (ticks_per_us < 1.0)
    return;
  long_step_ticks = (gint64) (LONG_STEP_US * ticks_per_us);
  use_tsc = TRUE;
#endif
}

/* Registry ------------------------------------------------------------- */

void
weft_inspect_registry_start (void)
{
#ifndef WEFT_INSPECT_DISABLED
  pthread_mutex_lock (&registry_mutex);
  if (lints == NULL)
    {
      calibrate_clock ();
      set_bucket_limits ();
      lints = g_ptr_array_new ();
      lint_index = g_hash_table_new (g_str_hash, g_str_equal);
      symbols = g_hash_table_new_full (NULL, NULL, NULL, g_free);
    }
  pthread_mutex_unlock (&registry_mutex);
  __atomic_store_n (&weft_inspect_on, 1, __ATOMIC_RELEASE);
#endif
}

void
weft_inspect_registry_set_keep (guint keep_finished)
{
  __atomic_store_n (&keep, keep_finished, __ATOMIC_RELAXED);
}

guint
weft_inspect_registry_get_keep (void)
{
  return __atomic_load_n (&keep, __ATOMIC_RELAXED);
}

static void
bump (WeftInspectRecord *record)
{
  ADD (record->version, 1);
}

/* Lints ----------------------------------------------------------------- */

static const char *
state_name (int state)
{
  static const char *const names[] = {
    "scheduled", "running", "suspended", "done", "failed", "cancelled",
  };

  return names[state];
}

/* Takes @message. */
static void
add_lint (const char *kind,
          guint64     task,
          char       *message,
          gint64      time_us,
          gint64      worst_us)
{
  g_autofree char *key = g_strdup_printf ("%s/%" G_GUINT64_FORMAT, kind, task);
  Lint *lint;

  pthread_mutex_lock (&registry_mutex);
  lint = lints != NULL ? g_hash_table_lookup (lint_index, key) : NULL;
  if (lint == NULL && lints != NULL && lints->len < MAX_LINTS)
    {
      lint = g_new0 (Lint, 1);
      lint->kind = g_strdup (kind);
      lint->task = task;
      lint->first_us = time_us;
      g_ptr_array_add (lints, lint);
      g_hash_table_insert (lint_index, g_steal_pointer (&key), lint);
    }
  if (lint != NULL)
    {
      g_free (lint->message);
      lint->message = g_steal_pointer (&message);
      lint->count++;
      lint->last_us = time_us;
      lint->worst_us = MAX (lint->worst_us, worst_us);
      lint->version++;
    }
  else
    dropped++;
  pthread_mutex_unlock (&registry_mutex);
  g_free (message);
}

/* Loops ----------------------------------------------------------------- */

static WeftInspectLoop *
loop_ref (WeftInspectLoop *loop)
{
  g_atomic_ref_count_inc (&loop->ref_count);
  return loop;
}

static void
loop_unref (WeftInspectLoop *loop)
{
  if (!g_atomic_ref_count_dec (&loop->ref_count))
    return;

  pthread_mutex_lock (&registry_mutex);
  if (loop->prev != NULL)
    loop->prev->next = loop->next;
  else
    loops = loop->next;
  if (loop->next != NULL)
    loop->next->prev = loop->prev;
  dropped += loop->dropped;
  pthread_mutex_unlock (&registry_mutex);

  while (loop->chunks != NULL)
    {
      RecordChunk *chunk = loop->chunks;

      loop->chunks = chunk->next;
      g_aligned_free (chunk);
    }
  g_free (loop->thread_name);
  g_free (loop);
}

WeftInspectLoop *
weft_inspect_loop_new (GMainContext *context)
{
  WeftInspectLoop *loop = g_new0 (WeftInspectLoop, 1);

  g_atomic_ref_count_init (&loop->ref_count);
  loop->context = context;
  loop->alive = TRUE;
  loop->last_recheck_us = g_get_monotonic_time ();   /* the first recheck a second from now */

  pthread_mutex_lock (&registry_mutex);
  loop->number = ++last_loop_number;
  loop->next = loops;
  if (loops != NULL)
    loops->prev = loop;
  loops = loop;
  pthread_mutex_unlock (&registry_mutex);

  return loop;
}

static void evict_finished (WeftInspectLoop *loop,
                            guint            n);

/* A dead loop's finished records stay for inspectors to see, but only
 * the newest few dead loops keep theirs: threads that come and go with
 * a context each must not add up.
 */
void
weft_inspect_loop_detach (WeftInspectLoop *loop)
{
  WeftInspectLoop *oldest_dead = NULL;
  guint n_dead = 0;

  weft_spinlock_lock (&loop->lock);
  STORE (loop->alive, FALSE);
  weft_spinlock_unlock (&loop->lock);

  pthread_mutex_lock (&registry_mutex);
  for (WeftInspectLoop *l = loops; l != NULL && oldest_dead == NULL; l = l->next)
    if (!LOAD (l->alive) && LOAD (l->n_finished) > 0 && ++n_dead > DEAD_LOOPS_KEPT)
      oldest_dead = loop_ref (l);
  pthread_mutex_unlock (&registry_mutex);

  if (oldest_dead != NULL)
    {
      evict_finished (oldest_dead, G_MAXUINT);
      loop_unref (oldest_dead);
    }
  loop_unref (loop);
}

/* Called when the loop iterates: from prepare (@polling: it is about to
 * wait) and dispatch.
 */
void
weft_inspect_loop_iterating (WeftInspectLoop *loop,
                             gint64           now_us,
                             gboolean         polling)
{
  gpointer thread = (gpointer) pthread_self ();

  STORE (loop->iteration_us, now_us);
  STORE (loop->polling, polling);

  if (G_UNLIKELY (LOAD (loop->thread) != thread))
    {
      char name[64] = "";
      char *old;

      pthread_getname_np (pthread_self (), name, sizeof name);
      STORE (loop->thread, thread);
      weft_spinlock_lock (&loop->lock);
      old = loop->thread_name;
      loop->thread_name = g_strdup (name);
      weft_spinlock_unlock (&loop->lock);
      g_free (old);
    }
}

gboolean
weft_inspect_loop_recheck_due (WeftInspectLoop *loop,
                               gint64           now_us)
{
  if (now_us - LOAD (loop->last_recheck_us) < RECHECK_US)
    return FALSE;
  STORE (loop->last_recheck_us, now_us);
  return TRUE;
}

/* Records ---------------------------------------------------------------- */

static void
cancel_request_clear (gpointer data)
{
  g_free (((CancelRequest *) data)->message);
}

static void
record_cold_free (RecordCold *cold)
{
  if (cold == NULL)
    return;
  g_free (cold->name);
  g_free (cold->site_function);
  g_free (cold->site_file);
  g_clear_pointer (&cold->awaits, g_array_unref);
  g_clear_pointer (&cold->cancel_requests, g_array_unref);
  g_clear_pointer (&cold->context, g_ptr_array_unref);
  g_clear_pointer (&cold->map_seen, weft_context_map_unref);
  g_free (cold->result);
  g_free (cold->error);
  g_free (cold);
}

/* The owner's, as is the free list: only a dead loop's records go back
 * to it from other threads.
 */
static WeftInspectRecord *
record_alloc (WeftInspectLoop *loop)
{
  WeftInspectRecord *record = loop->free_records;

  if (G_UNLIKELY (record == NULL))
    {
      guint n = loop->chunks != NULL ? MIN (loop->chunks->n_records * 2, MAX_CHUNK_RECORDS)
                                     : FIRST_CHUNK_RECORDS;
      gsize page = (gsize) sysconf (_SC_PAGESIZE);
      gsize size = (sizeof (RecordChunk) + n * sizeof (WeftInspectRecord) + page - 1) / page * page;
      RecordChunk *chunk = g_aligned_alloc (1, size, page);

#ifdef MADV_POPULATE_WRITE
      madvise (chunk, size, MADV_POPULATE_WRITE);   /* before Linux 5.14: faulted on use */
#endif
      chunk->next = loop->chunks;
      chunk->n_records = n;
      loop->chunks = chunk;
      for (guint i = n; i-- > 0;)
        {
          chunk->records[i].next = record;
          record = &chunk->records[i];
        }
    }
  loop->free_records = record->next;
  memset (record, 0, sizeof *record);
  return record;
}

/* Under the loop lock: unlinks @record and gives it back to the loop.
 * Returns its cold part, for the caller to free once the lock is
 * released, and in @emptied whether the loop's list let go of the loop:
 * the caller then unrefs the loop, after the lock.
 */
static RecordCold *
unlink_record (WeftInspectLoop   *loop,
               WeftInspectRecord *record,
               gboolean          *emptied)
{
  RecordCold *cold = record->cold;

  if (record->prev != NULL)
    STORE (record->prev->next, record->next);
  else
    STORE (loop->head, record->next);
  if (record->next != NULL)
    record->next->prev = record->prev;
  else
    STORE (loop->tail, record->prev);
  record->next = loop->free_records;
  loop->free_records = record;
  *emptied = loop->head == NULL;
  return cold;
}

static guint
bucket_of (gint64 duration)
{
  guint bucket = 0;

  while (bucket < N_BUCKETS - 1 && duration >= bucket_limits[bucket])
    bucket++;
  return bucket;
}

/* The timing of a task's one and only step, which its record keeps
 * alone as busy time.
 */
static void
one_step_timing (gint64   busy,
                 guint64 *steps,
                 gint64  *longest,
                 guint32 *histogram)
{
  *steps = 1;
  *longest = busy;
  histogram[bucket_of (busy)] = 1;
}

/* The owner's: made under the loop lock, which publishes it. A task
 * that finished in its first step kept that step's timing in the record
 * alone: it moves over.
 */
static RecordCold *
record_cold (WeftInspectRecord *record)
{
  if (G_UNLIKELY (record->cold == NULL))
    {
      RecordCold *cold = g_new0 (RecordCold, 1);

      if (record->ran)
        one_step_timing (record->busy, &cold->steps, &cold->longest, cold->histogram);
      weft_spinlock_lock (&record->loop->lock);
      record->cold = cold;
      weft_spinlock_unlock (&record->loop->lock);
    }
  return record->cold;
}

WeftInspectRecord *
weft_inspect_task_started (WeftTask        *task,
                           guint64          id,
                           const char      *name,
                           guint64          parent,
                           WeftInspectLoop *loop,
                           WeftInspectKind  kind,
                           gpointer         function)
{
  WeftInspectRecord *record;
  RecordCold *cold = NULL;
  /* Inside a step, the step's reading will do. */
  gint64 now = LOAD (loop->current_task) != 0 ? LOAD (loop->last_tick) : clock_ticks ();

  if (G_UNLIKELY (name != NULL))
    {
      cold = g_new0 (RecordCold, 1);
      cold->name = g_strdup (name);
    }

  ADD (loop->n_unfinished, 1);
  record = record_alloc (loop);
  record->loop = loop;
  record->cold = cold;
  record->id = id;
  record->task = task;
  record->kind = kind;
  record->function = kind == WEFT_INSPECT_KIND_BINDING ? GSIZE_TO_POINTER (G_OBJECT_TYPE (task)) : function;
  record->created_pc = weft_inspect_creator;
  record->created_ticks = now;
  record->parent = parent;
  record->state = WEFT_INSPECT_SCHEDULED;
  record->state_since = now;

  /* Published: collectors see every field above once they see it. */
  record->prev = loop->tail;
  if (loop->tail != NULL)
    STORE_RELEASE (loop->tail->next, record);
  else
    {
      loop_ref (loop);   /* a list with records holds its loop */
      STORE_RELEASE (loop->head, record);
    }
  STORE_RELEASE (loop->tail, record);
  weft_inspect_creator = NULL;

  return record;
}

static void
settle_state_time (WeftInspectRecord *record,
                   gint64             now)
{
  gint64 spent = MAX (now - record->state_since, 0);

  if (record->state == WEFT_INSPECT_SCHEDULED)
    ADD (record->waiting, spent);
  else if (record->state == WEFT_INSPECT_SUSPENDED)
    ADD (record->cold->idle, spent);   /* suspended, it has one */
  STORE (record->state_since, now);
}

/* Reuses the loop's last reading: scheduling reads no clock. */
void
weft_inspect_task_scheduled (WeftInspectRecord *record)
{
  gint64 now = MAX (LOAD (record->loop->last_tick), record->state_since);

  if (record->state == WEFT_INSPECT_SCHEDULED)
    return;
  settle_state_time (record, now);
  STORE (record->state, WEFT_INSPECT_SCHEDULED);
  bump (record);
}

void
weft_inspect_task_step_begin (WeftInspectRecord *record,
                              WeftInspectStep   *step,
                              const GError      *error,
                              guint              cancelling)
{
  WeftInspectLoop *loop = record->loop;
  gint64 now = clock_ticks ();

  settle_state_time (record, now);
  STORE (record->state, WEFT_INSPECT_RUNNING);
  step->start = now;
  step->outer_task = LOAD (loop->current_task);
  step->outer_start = LOAD (loop->step_start);
  STORE (loop->step_start, now);
  STORE (loop->current_task, record->id);
  STORE (loop->last_tick, now);

  /* A cancellation delivered while requests stand: if the task goes on
   * past the next await without uncancel, it swallowed it.
   */
  if (G_UNLIKELY (error != NULL) && cancelling > 0 && weft_error_is_cancelled (error))
    record->cancel_caught = 1;
  bump (record);
}

static void
note_long_step (WeftInspectRecord *record,
                gint64             duration_us,
                gint64             now_us)
{
  char *message = g_strdup_printf ("a step held its main loop for %.1f ms (over 16 ms: a dropped frame)",
                                   duration_us / 1000.);

  add_lint ("long-step", record->id, message, now_us, duration_us);
}

static void
set_string (WeftInspectRecord  *record,
            char              **field,
            char               *value)
{
  char *old;

  weft_spinlock_lock (&record->loop->lock);
  old = *field;
  *field = value;
  weft_spinlock_unlock (&record->loop->lock);
  g_free (old);
}

static void
note_awaits (WeftInspectRecord *record,
             WeftFuture        *awaited)
{
  g_autoptr(GArray) ids = NULL;
  GArray *old;
  guint64 task = 0;
  guint n = 0;

  /* Plain futures first: most waits are on one, and only a shield's
   * (a plain future too) leads to a task.
   */
  if (awaited == NULL)
    ;
  else if (G_OBJECT_TYPE (awaited) == WEFT_TYPE_FUTURE)
    task = G_UNLIKELY (__atomic_load_n (&weft_inspect_shields_made, __ATOMIC_RELAXED))
           ? weft_shield_inspect_inner_task (awaited) : 0;
  else if (WEFT_IS_TASK (awaited))
    task = weft_task_get_id (WEFT_TASK (awaited));
  else if ((ids = g_array_new (FALSE, FALSE, sizeof (guint64))),
           !weft_gather_inspect_tasks (awaited, ids, &n) &&
           !weft_wait_future_inspect_tasks (awaited, ids, &n) &&
           !weft_task_group_future_inspect_tasks (awaited, ids, &n))
    g_clear_pointer (&ids, g_array_unref);

  STORE (record->cold->awaits_task, task);
  STORE (record->cold->awaited_type, awaited != NULL ? G_OBJECT_TYPE (awaited) : 0);
  STORE (record->cold->awaited_n, n);

  if (ids == NULL && record->cold->awaits == NULL)
    return;
  weft_spinlock_lock (&record->loop->lock);
  old = record->cold->awaits;
  record->cold->awaits = g_steal_pointer (&ids);
  weft_spinlock_unlock (&record->loop->lock);
  g_clear_pointer (&old, g_array_unref);
}

static void
add_context_value (gpointer data,
                   gpointer user_data)
{
  WeftContextEntry *entry = data;
  GPtrArray *pairs = user_data;

  g_ptr_array_add (pairs, g_strdup (weft_context_var_get_name (entry->var)));
  g_ptr_array_add (pairs, g_strdup_value_contents (&entry->value));
}

/* The map is persistent: a different pointer is a different content. */
static void
note_context (WeftInspectRecord *record,
              WeftContextMap    *map)
{
  RecordCold *cold = record_cold (record);
  GPtrArray *pairs, *old;

  if (map == cold->map_seen)
    return;
  g_clear_pointer (&cold->map_seen, weft_context_map_unref);
  cold->map_seen = map != NULL ? weft_context_map_ref (map) : NULL;

  pairs = g_ptr_array_new_with_free_func (g_free);
  weft_context_map_foreach (map, add_context_value, pairs);

  weft_spinlock_lock (&record->loop->lock);
  old = cold->context;
  cold->context = pairs;
  weft_spinlock_unlock (&record->loop->lock);
  g_clear_pointer (&old, g_ptr_array_unref);
}

static void
note_site (WeftInspectRecord   *record,
           const WeftAwaitSite *site)
{
  RecordCold *cold = record_cold (record);
  char *old_function, *old_file;

  cold->site_seen = site;
  weft_spinlock_lock (&record->loop->lock);
  old_function = cold->site_function;
  old_file = cold->site_file;
  cold->site_function = g_strdup (site->function);
  cold->site_file = g_strdup (site->file);
  cold->site_line = site->line;
  weft_spinlock_unlock (&record->loop->lock);
  g_free (old_function);
  g_free (old_file);
}

static void
note_caught_cancel (WeftInspectRecord *record,
                    guint              cancelling,
                    gint64             now)
{
  if (cancelling == 0)
    record->cancel_caught = 0;
  else if (++record->cancel_caught > 2)
    {
      record->cancel_caught = 0;
      add_lint ("swallowed-cancel", record->id,
                g_strdup ("caught a cancellation and went on without weft_task_uncancel()"),
                tick_time_to_us (now), 0);
    }
}

static void
note_step_timing (RecordCold *cold,
                  gint64      duration)
{
  ADD (cold->steps, 1);
  ADD (cold->histogram[bucket_of (duration)], 1);
  if (duration > cold->longest)
    STORE (cold->longest, duration);
}

/* What a step (or adoption) left the task doing: waits, sleeps, sites
 * and context values.
 */
static void
note_activity (WeftInspectRecord         *record,
               const WeftInspectActivity *activity,
               gint64                     now)
{
  WeftInspectState state = activity->state;
  WeftFuture *awaited = activity->awaited;

  if (state == WEFT_INSPECT_SUSPENDED || state == WEFT_INSPECT_SCHEDULED)
    {
      /* The collector turns the deadline into the sleep from now on. */
      STORE (record->cold->sleep_until_us, state == WEFT_INSPECT_SUSPENDED && awaited == NULL
                                           ? activity->sleep_deadline_us : 0);
      if (activity->site != NULL && activity->site != record->cold->site_seen)
        note_site (record, activity->site);
      if (awaited != NULL || LOAD (record->cold->awaited_type) != 0)
        note_awaits (record, state == WEFT_INSPECT_SUSPENDED ? awaited : NULL);
      record->orphan_reported = FALSE;
      if (awaited != NULL)
        weft_inspect_task_check_wait (record, awaited);
      if (G_UNLIKELY (record->cancel_caught > 0))
        note_caught_cancel (record, activity->cancelling, now);
    }

  if (activity->map != NULL || (record->cold != NULL && record->cold->map_seen != NULL))
    note_context (record, activity->map);
}

void
weft_inspect_task_step_end (WeftInspectRecord         *record,
                            const WeftInspectStep     *step,
                            const WeftInspectActivity *activity)
{
  WeftInspectLoop *loop = record->loop;
  gint64 now = clock_ticks ();
  gint64 duration = MAX (now - step->start, 0);

  ADD (record->busy, duration);
  if (record->cold == NULL && record->state < WEFT_INSPECT_DONE)
    record_cold (record);   /* it lives on */
  if (record->cold != NULL)
    note_step_timing (record->cold, duration);
  else
    STORE (record->ran, 1);

  STORE (loop->current_task, step->outer_task);
  STORE (loop->step_start, step->outer_start);
  STORE (loop->last_tick, now);

  /* A task that completed during the step stays so; one that yielded
   * waits to run from now, not from when the step began.
   */
  if (record->state < WEFT_INSPECT_DONE)
    {
      STORE (record->state, activity->state);
      STORE (record->state_since, now);
    }

  note_activity (record, activity, now);
  if (G_UNLIKELY (duration > long_step_ticks))
    note_long_step (record, ticks_to_us (duration), tick_time_to_us (now));

  bump (record);
}

/* A task from before recording began: what it does now, as if a step
 * had just left it so.
 */
void
weft_inspect_task_adopted (WeftInspectRecord         *record,
                           const WeftInspectActivity *activity)
{
  record_cold (record);
  STORE (record->cancelling, activity->cancelling);
  STORE (record->state, activity->state);
  note_activity (record, activity, LOAD (record->state_since));
  bump (record);
}

/* orphaned-await: a plain future held by nothing but this task's wait
 * can never be completed.
 */
void
weft_inspect_task_check_wait (WeftInspectRecord *record,
                              WeftFuture        *awaited)
{
  if (record->orphan_reported || G_OBJECT_TYPE (awaited) != WEFT_TYPE_FUTURE)
    return;
  if (g_atomic_int_get ((int *) &G_OBJECT (awaited)->ref_count) != 1)
    return;

  record->orphan_reported = TRUE;
  add_lint ("orphaned-await", record->id,
            g_strdup ("waits on a WeftFuture nothing else references: nothing can complete it"),
            g_get_monotonic_time (), 0);
}

void
weft_inspect_task_cancel_requested (WeftInspectRecord *record,
                                    const char        *message,
                                    guint              cancelling)
{
  RecordCold *cold = record_cold (record);
  WeftTask *requester = weft_task_get_current ();
  CancelRequest request;

  request.task = requester != NULL ? weft_task_get_id (requester) : 0;
  request.time_us = g_get_monotonic_time ();
  request.message = g_strdup (message);
  cold->last_requester = request.task;
  STORE (record->cancelling, cancelling);

  weft_spinlock_lock (&record->loop->lock);
  if (cold->cancel_requests == NULL)
    {
      cold->cancel_requests = g_array_new (FALSE, FALSE, sizeof (CancelRequest));
      g_array_set_clear_func (cold->cancel_requests, cancel_request_clear);
    }
  if (cold->cancel_requests->len == N_CANCEL_REQUESTS)
    g_array_remove_index (cold->cancel_requests, 0);
  g_array_append_val (cold->cancel_requests, request);
  weft_spinlock_unlock (&record->loop->lock);
  bump (record);
}

void
weft_inspect_task_uncancelled (WeftInspectRecord *record,
                               guint              cancelling)
{
  STORE (record->cancelling, cancelling);
  if (cancelling == 0)
    record->cancel_caught = 0;
  bump (record);
}

void
weft_inspect_task_renamed (WeftInspectRecord *record,
                           const char        *name)
{
  RecordCold *cold = record_cold (record);

  set_string (record, &cold->name, g_strdup (name));
  bump (record);
}

void
weft_inspect_task_grouped (WeftInspectRecord *record,
                           guint64            group,
                           guint64            owner)
{
  RecordCold *cold = record_cold (record);

  STORE (cold->group, group);
  STORE (cold->group_owner, owner);
  bump (record);
}

static char *
format_error (const GError *error)
{
  return g_strdup_printf ("%s %d: %s", g_quark_to_string (error->domain), error->code, error->message);
}

void
weft_inspect_task_completed (WeftInspectRecord *record,
                             const GValue      *value,
                             const GError      *error,
                             guint              cancelling)
{
  gint64 now = MAX (LOAD (record->loop->last_tick), record->state_since);
  gboolean cancelled = error != NULL && weft_error_is_cancelled (error);
  int state = cancelled ? WEFT_INSPECT_CANCELLED : error != NULL ? WEFT_INSPECT_FAILED : WEFT_INSPECT_DONE;

  if (record->state != WEFT_INSPECT_RUNNING)
    settle_state_time (record, now);
  STORE (record->state, state);
  STORE (record->state_since, now);      /* the finishing time, from now on */
  STORE (record->cancelling, cancelling);
  if (record->cold != NULL)
    {
      STORE (record->cold->awaits_task, 0);
      STORE (record->cold->awaited_type, 0);
      STORE (record->cold->sleep_until_us, 0);
      if (cancelled)
        STORE (record->cold->cancelled_by, record->cold->last_requester);
    }

  if (error != NULL && !cancelled)
    set_string (record, &record_cold (record)->error, format_error (error));
  else if (value != NULL && G_IS_VALUE (value))
    set_string (record, &record_cold (record)->result, g_strdup_value_contents (value));
  if (record->cold != NULL)
    g_clear_pointer (&record->cold->map_seen, weft_context_map_unref);
  bump (record);

  /* A failure may legitimately carry a cancellation (a task group's). */
  if (state == WEFT_INSPECT_DONE && cancelling > 0)
    add_lint ("swallowed-cancel", record->id,
              g_strdup_printf ("returned with %u cancellation request%s standing: "
                               "a cancellation was swallowed without weft_task_uncancel()",
                               cancelling, cancelling == 1 ? "" : "s"),
              tick_time_to_us (now), 0);
}

/* After unlink_record(), once the loop lock is released. */
static void
release_unlinked (WeftInspectLoop *loop,
                  RecordCold      *cold,
                  gboolean         emptied)
{
  record_cold_free (cold);
  if (emptied)
    loop_unref (loop);
}

/* Evicts up to @n of @loop's oldest finished records, under one
 * acquisition of its lock per batch: by the owner, or by anyone once the
 * loop is dead.
 */
static void
evict_finished (WeftInspectLoop *loop,
                guint            n)
{
  gboolean emptied = FALSE;

  while (n > 0 && !emptied)
    {
      RecordCold *colds[EVICT_BATCH];
      guint n_colds = 0, n_evicted = 0;

      weft_spinlock_lock (&loop->lock);
      for (; n_evicted < MIN (n, EVICT_BATCH) && loop->finished_head != NULL; n_evicted++)
        {
          WeftInspectRecord *oldest = loop->finished_head;

          loop->finished_head = oldest->finished_next;
          if (!LOAD (oldest->seen))
            ADD (loop->dropped, 1);
          if (oldest->cold != NULL)
            colds[n_colds++] = oldest->cold;
          unlink_record (loop, oldest, &emptied);
        }
      if (loop->finished_head == NULL)
        loop->finished_tail = NULL;
      ADD (loop->n_finished, -n_evicted);
      weft_spinlock_unlock (&loop->lock);

      while (n_colds > 0)
        record_cold_free (colds[--n_colds]);
      n = n_evicted < MIN (n, EVICT_BATCH) ? 0 : n - n_evicted;
    }
  if (emptied)
    loop_unref (loop);
}

/* Once the step that finished the task is over: the record joins its
 * loop's last finished ones, and the task forgets it. The oldest past the
 * limit go in batches, so the loop keeps up to an eighth more.
 */
void
weft_inspect_task_retired (WeftInspectRecord *record)
{
  WeftInspectLoop *loop = record->loop;
  guint limit = weft_inspect_registry_get_keep ();

  /* Only finalizing a task its context dropped unfinished writes this
   * elsewhere, when the loop is gone.
   */
  ADD (loop->n_unfinished, -1);
  record->finished_next = NULL;
  if (loop->finished_tail != NULL)
    loop->finished_tail->finished_next = record;
  else
    loop->finished_head = record;
  loop->finished_tail = record;
  ADD (loop->n_finished, 1);

  if (loop->n_finished > limit + MIN (limit / 8, EVICT_BATCH - 1))
    evict_finished (loop, loop->n_finished - limit);
}

/* Any thread: the task's last reference. @record is the unfinished
 * task's, or %NULL once retired.
 */
void
weft_inspect_task_finalized (WeftInspectRecord *record,
                             guint64            id,
                             const GError      *unread_error)
{
  if (unread_error != NULL)
    add_lint ("unread-error", id,
              g_strdup_printf ("failed and nobody read its error: %s", unread_error->message),
              g_get_monotonic_time (), 0);

  /* Never finished: it leaves with its task. */
  if (record != NULL)
    {
      WeftInspectLoop *loop = record->loop;
      RecordCold *cold;
      gboolean emptied;

      __atomic_sub_fetch (&loop->n_unfinished, 1, __ATOMIC_RELAXED);
      weft_spinlock_lock (&loop->lock);
      cold = unlink_record (loop, record, &emptied);
      weft_spinlock_unlock (&loop->lock);
      release_unlinked (loop, cold, emptied);
    }
}

void
weft_inspect_registry_note_exit (void)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func (g_free);

  if (!__atomic_load_n (&weft_inspect_on, __ATOMIC_RELAXED))
    return;

  pthread_mutex_lock (&registry_mutex);
  for (WeftInspectLoop *loop = loops; loop != NULL; loop = loop->next)
    {
      weft_spinlock_lock (&loop->lock);
      for (WeftInspectRecord *r = LOAD_ACQUIRE (loop->head); r != NULL; r = LOAD_ACQUIRE (r->next))
        {
          int state = LOAD (r->state);

          if (state >= WEFT_INSPECT_DONE)
            continue;
          g_ptr_array_add (found, g_strdup_printf ("%" G_GUINT64_FORMAT, r->id));
          const char *name = r->cold != NULL ? r->cold->name : NULL;

          g_ptr_array_add (found, name != NULL ? g_strdup (name)
                                                  : g_strdup_printf ("Task-%" G_GUINT64_FORMAT, r->id));
          g_ptr_array_add (found, g_strdup (state_name (state)));
        }
      weft_spinlock_unlock (&loop->lock);
    }
  pthread_mutex_unlock (&registry_mutex);

  for (guint i = 0; i < found->len; i += 3)
    {
      const char *id = found->pdata[i], *name = found->pdata[i + 1], *state = found->pdata[i + 2];
      char *message = g_strdup_printf ("still %s when the program exited", state);

      g_printerr ("weft-inspect: pending-at-exit task %s '%s': %s\n", id, name, message);
      add_lint ("pending-at-exit", g_ascii_strtoull (id, NULL, 10), message,
                g_get_monotonic_time (), 0);
    }
}

/* Collectors --------------------------------------------------------------- */

/* A record as a collector copied it. */
typedef struct
{
  guint64          id;
  WeftInspectKind  kind;
  gpointer         function;
  gpointer         created_pc;
  gint64           created_ticks;
  guint64          parent;
  guint            version;
  int              state;
  guint64          group;
  guint64          group_owner;
  guint64          cancelled_by;
  guint            cancelling;
  guint64          steps;
  gint64           busy;
  gint64           waiting;
  gint64           idle;
  gint64           longest;
  guint32          histogram[N_BUCKETS];
  gint64           state_since;
  guint64          awaits_task;
  GType            awaited_type;
  guint            awaited_n;
  gint64           sleep_until_us;
  char            *name;
  char            *site_function;
  char            *site_file;
  int              site_line;
  GArray          *awaits;
  GArray          *cancel_requests;
  GPtrArray       *context;
  char            *result;
  char            *error;
} Snapshot;

static void
snapshot_free (gpointer data)
{
  Snapshot *s = data;

  g_free (s->name);
  g_free (s->site_function);
  g_free (s->site_file);
  g_clear_pointer (&s->awaits, g_array_unref);
  g_clear_pointer (&s->cancel_requests, g_array_unref);
  g_clear_pointer (&s->context, g_ptr_array_unref);
  g_free (s->result);
  g_free (s->error);
  g_free (s);
}

static GArray *
copy_cancel_requests (GArray *requests)
{
  GArray *copy;

  if (requests == NULL)
    return NULL;
  copy = g_array_sized_new (FALSE, FALSE, sizeof (CancelRequest), requests->len);
  g_array_set_clear_func (copy, cancel_request_clear);
  for (guint i = 0; i < requests->len; i++)
    {
      CancelRequest request = g_array_index (requests, CancelRequest, i);

      request.message = g_strdup (request.message);
      g_array_append_val (copy, request);
    }
  return copy;
}

/* Under the loop lock: copies, nothing more. */
static Snapshot *
snapshot_record (WeftInspectRecord *r)
{
  Snapshot *s = g_new0 (Snapshot, 1);

  s->id = r->id;
  s->kind = r->kind;
  s->function = r->function;
  s->created_pc = r->created_pc;
  s->created_ticks = r->created_ticks;
  s->parent = r->parent;
  s->version = LOAD (r->version);
  s->state = LOAD (r->state);
  s->cancelling = LOAD (r->cancelling);
  s->busy = LOAD (r->busy);
  s->waiting = LOAD (r->waiting);
  s->state_since = LOAD (r->state_since);
  if (r->cold == NULL && LOAD (r->ran))
    one_step_timing (s->busy, &s->steps, &s->longest, s->histogram);
  if (r->cold != NULL)
    {
      RecordCold *c = r->cold;

      s->steps = LOAD (c->steps);
      s->idle = LOAD (c->idle);
      s->longest = LOAD (c->longest);
      for (guint i = 0; i < N_BUCKETS; i++)
        s->histogram[i] = LOAD (c->histogram[i]);
      s->awaits_task = LOAD (c->awaits_task);
      s->awaited_type = LOAD (c->awaited_type);
      s->awaited_n = LOAD (c->awaited_n);
      s->sleep_until_us = LOAD (c->sleep_until_us);

      s->group = LOAD (c->group);
      s->group_owner = LOAD (c->group_owner);
      s->cancelled_by = LOAD (c->cancelled_by);
      s->name = g_strdup (c->name);
      s->site_function = g_strdup (c->site_function);
      s->site_file = g_strdup (c->site_file);
      s->site_line = c->site_line;
      s->awaits = c->awaits != NULL ? g_array_copy (c->awaits) : NULL;
      s->cancel_requests = copy_cancel_requests (c->cancel_requests);
      if (c->context != NULL)
        {
          s->context = g_ptr_array_new_full (c->context->len, g_free);
          for (guint i = 0; i < c->context->len; i++)
            g_ptr_array_add (s->context, g_strdup (c->context->pdata[i]));
        }
      s->result = g_strdup (c->result);
      s->error = g_strdup (c->error);
    }
  STORE (r->seen, TRUE);
  return s;
}

/* Under the loop lock, which holds off unlinking but not the owner
 * appending: up to the last record there was when it began.
 */
static void
snapshot_records (WeftInspectLoop *loop,
                  GPtrArray       *tasks)
{
  WeftInspectRecord *last = LOAD_ACQUIRE (loop->tail);

  for (WeftInspectRecord *r = last != NULL ? LOAD_ACQUIRE (loop->head) : NULL; r != NULL;
       r = r != last ? LOAD_ACQUIRE (r->next) : NULL)
    g_ptr_array_add (tasks, snapshot_record (r));
}

typedef struct
{
  guint64  number;
  char    *thread;
  guint64  current_task;
  gint64   step_start;
  gint64   iteration_us;
  gboolean polling;
  guint    n_unfinished;
} LoopSnapshot;

typedef struct
{
  GPtrArray *loops;     /* LoopSnapshot */
  GPtrArray *tasks;     /* Snapshot, loop by loop, oldest first */
  GHashTable *by_id;    /* id → Snapshot */
  GPtrArray *lints;     /* Lint copies */
  gint64     now_ticks;
} State;

static void
loop_snapshot_free (gpointer data)
{
  LoopSnapshot *l = data;

  g_free (l->thread);
  g_free (l);
}

static void
lint_free (gpointer data)
{
  Lint *lint = data;

  g_free (lint->kind);
  g_free (lint->message);
  g_free (lint);
}

static void
state_clear (State *state)
{
  g_ptr_array_unref (state->loops);
  g_ptr_array_unref (state->tasks);
  g_hash_table_unref (state->by_id);
  g_ptr_array_unref (state->lints);
}

static void
take_state (State *state)
{
  state->loops = g_ptr_array_new_with_free_func (loop_snapshot_free);
  state->tasks = g_ptr_array_new_with_free_func (snapshot_free);
  state->by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  state->lints = g_ptr_array_new_with_free_func (lint_free);

  pthread_mutex_lock (&registry_mutex);
  state->now_ticks = clock_ticks ();
  for (WeftInspectLoop *loop = loops; loop != NULL; loop = loop->next)
    {
      LoopSnapshot *l = g_new0 (LoopSnapshot, 1);
      gboolean alive;

      weft_spinlock_lock (&loop->lock);
      alive = LOAD (loop->alive);
      l->number = loop->number;
      l->thread = g_strdup (loop->thread_name != NULL ? loop->thread_name : "");
      snapshot_records (loop, state->tasks);
      weft_spinlock_unlock (&loop->lock);

      l->current_task = LOAD (loop->current_task);
      l->step_start = LOAD (loop->step_start);
      l->iteration_us = LOAD (loop->iteration_us);
      l->polling = LOAD (loop->polling);
      l->n_unfinished = LOAD (loop->n_unfinished);
      if (alive && (LOAD (loop->head) != NULL || l->n_unfinished > 0))
        g_ptr_array_add (state->loops, l);
      else
        loop_snapshot_free (l);
    }
  for (guint i = 0; lints != NULL && i < lints->len; i++)
    {
      Lint *lint = g_memdup2 (lints->pdata[i], sizeof (Lint));

      lint->kind = g_strdup (lint->kind);
      lint->message = g_strdup (lint->message);
      g_ptr_array_add (state->lints, lint);
    }
  pthread_mutex_unlock (&registry_mutex);

  for (guint i = 0; i < state->tasks->len; i++)
    {
      Snapshot *s = state->tasks->pdata[i];

      g_hash_table_insert (state->by_id, &s->id, s);
    }
}

/* pc → text, symbolized once per address on the inspector thread. */
static char *
symbolize (gpointer pc,
           gboolean is_return_address,
           gboolean with_line)
{
  gpointer key = GSIZE_TO_POINTER (GPOINTER_TO_SIZE (pc) | (with_line ? 1 : 0));
  WeftSymbol symbol = { NULL, NULL, 0 };
  const char *cached;
  char *text;

  if (pc == NULL)
    return g_strdup ("");

  pthread_mutex_lock (&registry_mutex);
  cached = symbols != NULL ? g_hash_table_lookup (symbols, key) : NULL;
  text = g_strdup (cached);
  pthread_mutex_unlock (&registry_mutex);
  if (text != NULL)
    return text;

  weft_symbolize (GPOINTER_TO_SIZE (pc), is_return_address, &symbol);
  if (with_line)
    {
      g_autofree char *base = symbol.file != NULL ? g_path_get_basename (symbol.file) : NULL;

      text = base != NULL ? g_strdup_printf ("%s:%u", base, symbol.line)
                          : symbol.function != NULL ? g_strdup_printf ("%s+?", symbol.function)
                                                    : g_strdup ("");
    }
  else
    text = g_strdup (symbol.function != NULL ? symbol.function : "");
  weft_symbol_clear (&symbol);

  pthread_mutex_lock (&registry_mutex);
  if (symbols != NULL)
    g_hash_table_replace (symbols, key, g_strdup (text));
  pthread_mutex_unlock (&registry_mutex);
  return text;
}

static char *
task_name (const Snapshot *s)
{
  return s->name != NULL ? g_strdup (s->name) : g_strdup_printf ("Task-%" G_GUINT64_FORMAT, s->id);
}

static char *
describe_awaited (const State    *state,
                  const Snapshot *s)
{
  const Snapshot *task;

  if (s->state != WEFT_INSPECT_SUSPENDED)
    return g_strdup ("");
  if (s->awaited_type == 0)
    return g_strdup_printf ("sleep %.3f s", MAX (s->sleep_until_us - tick_time_to_us (s->state_since), 0)
                                            / (double) G_USEC_PER_SEC);
  if (s->awaited_n > 0)
    return g_strdup_printf ("%s of %u", g_type_name (s->awaited_type), s->awaited_n);
  if (s->awaits_task != 0 && g_type_is_a (s->awaited_type, WEFT_TYPE_TASK))
    {
      task = g_hash_table_lookup (state->by_id, &s->awaits_task);
      if (task != NULL)
        {
          g_autofree char *name = task_name (task);

          return g_strdup_printf ("Task '%s' (%" G_GUINT64_FORMAT ")", name, s->awaits_task);
        }
      return g_strdup_printf ("Task (%" G_GUINT64_FORMAT ")", s->awaits_task);
    }
  return g_strdup (g_type_name (s->awaited_type));
}

static const char *
kind_name (WeftInspectKind kind)
{
  switch (kind)
    {
    case WEFT_INSPECT_KIND_FIBER:
      return "fiber";
    case WEFT_INSPECT_KIND_STACKLESS:
      return "stackless";
    case WEFT_INSPECT_KIND_BINDING:
    default:
      return "binding";
    }
}

/* Every key of a task, in the XML's order. */
static GPtrArray *
task_entries (const State    *state,
              const Snapshot *s)
{
  GPtrArray *entries = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  GVariantBuilder builder;
  char *text;

#define ADD_ENTRY(key, value) \
  g_ptr_array_add (entries, g_variant_ref_sink (g_variant_new_dict_entry (g_variant_new_string (key), \
                                                                          g_variant_new_variant (value))))

  ADD_ENTRY ("id", g_variant_new_uint64 (s->id));
  text = task_name (s);
  ADD_ENTRY ("name", g_variant_new_take_string (text));
  ADD_ENTRY ("state", g_variant_new_string (state_name (s->state)));
  ADD_ENTRY ("kind", g_variant_new_string (kind_name (s->kind)));
  text = s->kind == WEFT_INSPECT_KIND_BINDING ? g_strdup (g_type_name (GPOINTER_TO_SIZE (s->function)))
                                              : symbolize (s->function, FALSE, FALSE);
  ADD_ENTRY ("function", g_variant_new_take_string (text));
  ADD_ENTRY ("created-at", g_variant_new_take_string (symbolize (s->created_pc, TRUE, TRUE)));
  ADD_ENTRY ("created-us", g_variant_new_int64 (tick_time_to_us (s->created_ticks)));
  ADD_ENTRY ("parent", g_variant_new_uint64 (s->parent));
  ADD_ENTRY ("group", g_variant_new_uint64 (s->group));
  ADD_ENTRY ("group-owner", g_variant_new_uint64 (s->group_owner));
  ADD_ENTRY ("site", g_variant_new ("(ssi)", s->site_function != NULL ? s->site_function : "",
                                    s->site_file != NULL ? s->site_file : "", s->site_line));

  if (s->state == WEFT_INSPECT_SUSPENDED && s->awaits != NULL)
    ADD_ENTRY ("awaits", g_variant_new_fixed_array (G_VARIANT_TYPE_UINT64, s->awaits->data,
                                                    s->awaits->len, sizeof (guint64)));
  else
    ADD_ENTRY ("awaits", g_variant_new_fixed_array (G_VARIANT_TYPE_UINT64, &s->awaits_task,
                                                    s->state == WEFT_INSPECT_SUSPENDED && s->awaits_task != 0,
                                                    sizeof (guint64)));
  ADD_ENTRY ("awaited", g_variant_new_take_string (describe_awaited (state, s)));
  ADD_ENTRY ("cancelling", g_variant_new_uint32 (s->cancelling));

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(txs)"));
  for (guint i = 0; s->cancel_requests != NULL && i < s->cancel_requests->len; i++)
    {
      CancelRequest *request = &g_array_index (s->cancel_requests, CancelRequest, i);

      g_variant_builder_add (&builder, "(txs)", request->task, request->time_us,
                             request->message != NULL ? request->message : "");
    }
  ADD_ENTRY ("cancel-requests", g_variant_builder_end (&builder));
  ADD_ENTRY ("cancelled-by", g_variant_new_uint64 (s->cancelled_by));
  ADD_ENTRY ("since-us", g_variant_new_int64 (tick_time_to_us (s->state_since)));
  ADD_ENTRY ("busy-us", g_variant_new_int64 (ticks_to_us (s->busy)));
  ADD_ENTRY ("waiting-us", g_variant_new_int64 (ticks_to_us (s->waiting)));
  ADD_ENTRY ("idle-us", g_variant_new_int64 (ticks_to_us (s->idle)));
  ADD_ENTRY ("steps", g_variant_new_uint64 (s->steps));
  ADD_ENTRY ("longest-step-us", g_variant_new_int64 (ticks_to_us (s->longest)));
  ADD_ENTRY ("histogram", g_variant_new_fixed_array (G_VARIANT_TYPE_UINT32, s->histogram,
                                                     N_BUCKETS, sizeof (guint32)));

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ss)"));
  for (guint i = 0; s->context != NULL && i + 1 < s->context->len; i += 2)
    g_variant_builder_add (&builder, "(ss)", s->context->pdata[i], s->context->pdata[i + 1]);
  ADD_ENTRY ("context", g_variant_builder_end (&builder));

  ADD_ENTRY ("result", g_variant_new_string (s->result != NULL ? s->result : ""));
  ADD_ENTRY ("error", g_variant_new_string (s->error != NULL ? s->error : ""));
  ADD_ENTRY ("finished-us", g_variant_new_int64 (s->state >= WEFT_INSPECT_DONE
                                                 ? tick_time_to_us (s->state_since) : 0));
#undef ADD_ENTRY

  return entries;
}

static GVariant *
dict_of_entries (GPtrArray *entries)
{
  return g_variant_new_array (G_VARIANT_TYPE ("{sv}"), (GVariant **) entries->pdata, entries->len);
}

static GVariant *
lint_variant (const Lint *lint)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "kind", "s", lint->kind);
  g_variant_dict_insert (&dict, "task", "t", lint->task);
  g_variant_dict_insert (&dict, "message", "s", lint->message != NULL ? lint->message : "");
  g_variant_dict_insert (&dict, "count", "u", lint->count);
  g_variant_dict_insert (&dict, "first-us", "x", lint->first_us);
  g_variant_dict_insert (&dict, "last-us", "x", lint->last_us);
  g_variant_dict_insert (&dict, "worst-us", "x", lint->worst_us);
  return g_variant_dict_end (&dict);
}

static GVariant *
loops_variant (const State *state)
{
  GVariantBuilder builder;
  gint64 now_us = g_get_monotonic_time ();

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < state->loops->len; i++)
    {
      LoopSnapshot *l = state->loops->pdata[i];
      gint64 step_us = l->current_task != 0 ? ticks_to_us (MAX (state->now_ticks - l->step_start, 0)) : 0;
      gint64 since = l->iteration_us != 0 ? MAX (now_us - l->iteration_us, 0) : 0;
      GVariantDict dict;

      g_variant_dict_init (&dict, NULL);
      g_variant_dict_insert (&dict, "id", "t", l->number);
      g_variant_dict_insert (&dict, "thread", "s", l->thread);
      g_variant_dict_insert (&dict, "current-task", "t", l->current_task);
      g_variant_dict_insert (&dict, "step-us", "x", step_us);
      g_variant_dict_insert (&dict, "since-iteration-us", "x", since);
      g_variant_dict_insert (&dict, "blocked", "b",
                             step_us > BLOCKED_US || (!l->polling && since > BLOCKED_US));
      g_variant_dict_insert (&dict, "tasks", "u", l->n_unfinished);
      g_variant_builder_add_value (&builder, g_variant_dict_end (&dict));
    }
  return g_variant_builder_end (&builder);
}

/* Python and gjs programs rarely set a prgname: the executable names them
 * then, as the XML promises.
 */
const char *
weft_inspect_program_name (void)
{
  static char *name;

  if (g_once_init_enter (&name))
    {
      g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
      const char *prgname = g_get_prgname ();

      g_once_init_leave (&name,
                         prgname != NULL ? g_strdup (prgname)
                         : exe != NULL ? g_path_get_basename (exe)
                         : g_strdup (""));
    }

  return name;
}

static guint64
count_dropped (void)
{
  guint64 total;

  pthread_mutex_lock (&registry_mutex);
  total = dropped;
  for (WeftInspectLoop *loop = loops; loop != NULL; loop = loop->next)
    total += LOAD (loop->dropped);
  pthread_mutex_unlock (&registry_mutex);
  return total;
}

static void
begin_batch (GVariantDict *dict,
             gboolean      full)
{
  g_variant_dict_init (dict, NULL);
  g_variant_dict_insert (dict, "version", "u", 1);
  g_variant_dict_insert (dict, "full", "b", full);
  g_variant_dict_insert (dict, "seq", "t", __atomic_add_fetch (&last_seq, 1, __ATOMIC_RELAXED));
  g_variant_dict_insert (dict, "time", "x", g_get_monotonic_time ());
  g_variant_dict_insert (dict, "realtime", "x", g_get_real_time ());
  if (full)
    {
      g_variant_dict_insert (dict, "pid", "u", (guint32) getpid ());
      g_variant_dict_insert (dict, "program", "s", weft_inspect_program_name ());
    }
  g_variant_dict_insert (dict, "keep", "u", weft_inspect_registry_get_keep ());
  g_variant_dict_insert (dict, "dropped", "t", count_dropped ());
}

/* What a collector last sent of a task: its version and a hash of each
 * key's value, in task_entries()' order. A hundred thousand tasks cost a
 * few hundred bytes each, not a table of values each.
 */
typedef struct
{
  guint       version;
  guint       n_keys;
  guint64     hashes[];
} Sent;

static guint64
entry_hash (GVariant *entry)
{
  const guint8 *data = g_variant_get_data (entry);
  gsize size = g_variant_get_size (entry);
  guint64 hash = 14695981039346656037ULL;   /* FNV-1a */

  for (gsize i = 0; i < size; i++)
    hash = (hash ^ data[i]) * 1099511628211ULL;
  return hash;
}

struct _WeftInspectCollector
{
  GHashTable *sent;          /* id → Sent */
  GHashTable *lints_sent;    /* "kind/task" → version */
};

WeftInspectCollector *
weft_inspect_collector_new (void)
{
  WeftInspectCollector *self = g_new0 (WeftInspectCollector, 1);

  self->sent = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  self->lints_sent = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return self;
}

void
weft_inspect_collector_free (WeftInspectCollector *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->sent);
  g_hash_table_unref (self->lints_sent);
  g_free (self);
}

GVariant *
weft_inspect_collector_full (WeftInspectCollector *self)
{
  GVariantBuilder tasks, lint_list;
  GVariantDict batch;
  State state;

  g_return_val_if_fail (self != NULL, NULL);

  take_state (&state);
  begin_batch (&batch, TRUE);
  g_variant_dict_insert_value (&batch, "loops", loops_variant (&state));

  g_variant_builder_init (&tasks, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < state.tasks->len; i++)
    {
      g_autoptr(GPtrArray) entries = task_entries (&state, state.tasks->pdata[i]);

      g_variant_builder_add_value (&tasks, dict_of_entries (entries));
    }
  g_variant_dict_insert_value (&batch, "tasks", g_variant_builder_end (&tasks));

  g_variant_builder_init (&lint_list, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < state.lints->len; i++)
    g_variant_builder_add_value (&lint_list, lint_variant (state.lints->pdata[i]));
  g_variant_dict_insert_value (&batch, "lints", g_variant_builder_end (&lint_list));

  state_clear (&state);
  return g_variant_dict_end (&batch);
}

/* The keys of @s that changed since @sent (every key if %NULL), with its
 * id first. Returns the updated @sent.
 */
static GVariant *
task_delta (const State    *state,
            const Snapshot *s,
            Sent          **sent)
{
  g_autoptr(GPtrArray) entries = task_entries (state, s);
  g_autoptr(GPtrArray) changed = g_ptr_array_new ();
  gboolean fresh = *sent == NULL;

  /* Every task has every key, always in the same order. */
  if (fresh)
    {
      *sent = g_malloc (sizeof (Sent) + entries->len * sizeof (guint64));
      (*sent)->n_keys = entries->len;
    }
  g_assert (entries->len == (*sent)->n_keys);
  for (guint i = 0; i < entries->len; i++)
    {
      guint64 hash = entry_hash (entries->pdata[i]);

      if (fresh || i == 0 || (*sent)->hashes[i] != hash)
        g_ptr_array_add (changed, entries->pdata[i]);
      (*sent)->hashes[i] = hash;
    }
  (*sent)->version = s->version;
  return g_variant_new_array (G_VARIANT_TYPE ("{sv}"), (GVariant **) changed->pdata, changed->len);
}

GVariant *
weft_inspect_collector_delta (WeftInspectCollector *self)
{
  GVariantBuilder tasks, removed, lint_list;
  GVariantDict batch;
  GHashTableIter iter;
  gpointer key, value;
  State state;

  g_return_val_if_fail (self != NULL, NULL);

  take_state (&state);
  begin_batch (&batch, FALSE);
  g_variant_dict_insert_value (&batch, "loops", loops_variant (&state));

  g_variant_builder_init (&tasks, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < state.tasks->len; i++)
    {
      Snapshot *s = state.tasks->pdata[i];
      Sent *sent = g_hash_table_lookup (self->sent, &s->id);

      /* Times are sent as of "since-us": a task that did nothing since
       * the last batch is not in this one.
       */
      gboolean fresh = sent == NULL;
      GVariant *delta;

      if (!fresh && sent->version == s->version)
        continue;
      delta = task_delta (&state, s, &sent);
      if (fresh)
        g_hash_table_insert (self->sent, g_memdup2 (&s->id, sizeof s->id), sent);

      if (g_variant_n_children (delta) > 1)
        g_variant_builder_add_value (&tasks, delta);
      else
        g_variant_unref (g_variant_ref_sink (delta));
    }
  g_variant_dict_insert_value (&batch, "tasks", g_variant_builder_end (&tasks));

  g_variant_builder_init (&removed, G_VARIANT_TYPE ("at"));
  g_hash_table_iter_init (&iter, self->sent);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_hash_table_contains (state.by_id, key))
      {
        g_variant_builder_add (&removed, "t", *(guint64 *) key);
        g_hash_table_iter_remove (&iter);
      }
  g_variant_dict_insert_value (&batch, "removed", g_variant_builder_end (&removed));

  g_variant_builder_init (&lint_list, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < state.lints->len; i++)
    {
      Lint *lint = state.lints->pdata[i];
      char *lint_key = g_strdup_printf ("%s/%" G_GUINT64_FORMAT, lint->kind, lint->task);
      gpointer version;

      if (g_hash_table_lookup_extended (self->lints_sent, lint_key, NULL, &version) &&
          GPOINTER_TO_UINT (version) == lint->version)
        {
          g_free (lint_key);
          continue;
        }
      g_hash_table_replace (self->lints_sent, lint_key, GUINT_TO_POINTER (lint->version));
      g_variant_builder_add_value (&lint_list, lint_variant (lint));
    }
  g_variant_dict_insert_value (&batch, "lints", g_variant_builder_end (&lint_list));

  state_clear (&state);
  return g_variant_dict_end (&batch);
}

/* Invoking on a task's thread ---------------------------------------------- */

typedef struct
{
  guint64              id;
  WeftInspectLoop     *loop;
  WeftInspectTaskFunc  func;
  gpointer             user_data;
  GDestroyNotify       notify;
  int                  published;  /* GLib's hand-off is invisible to ThreadSanitizer */
} Invocation;

static Invocation *
invocation_receive (gpointer data)
{
  Invocation *invocation = data;

  g_assert (__atomic_load_n (&invocation->published, __ATOMIC_ACQUIRE));
  return invocation;
}

static void
invocation_free (gpointer data)
{
  Invocation *invocation = invocation_receive (data);

  if (invocation->notify != NULL)
    invocation->notify (invocation->user_data);
  loop_unref (invocation->loop);
  g_free (invocation);
}

/* On the task's thread: its record's task pointer is only read here. */
static gboolean
invocation_run (gpointer data)
{
  Invocation *invocation = invocation_receive (data);
  WeftInspectLoop *loop = invocation->loop;
  g_autoptr(WeftTask) task = NULL;

  weft_spinlock_lock (&loop->lock);
  for (WeftInspectRecord *r = loop->head; r != NULL; r = r->next)
    if (r->id == invocation->id)
      {
        if (LOAD (r->state) < WEFT_INSPECT_DONE && r->task != NULL)
          task = g_object_ref (r->task);
        break;
      }
  weft_spinlock_unlock (&loop->lock);

  invocation->func (task, invocation->user_data);
  return G_SOURCE_REMOVE;
}

gboolean
weft_inspect_invoke_on_task (guint64              task_id,
                             WeftInspectTaskFunc  func,
                             gpointer             user_data,
                             GDestroyNotify       notify)
{
  WeftInspectLoop *found = NULL;
  GMainContext *context = NULL;
  Invocation *invocation;
  GSource *source;

  g_return_val_if_fail (func != NULL, FALSE);

  pthread_mutex_lock (&registry_mutex);
  for (WeftInspectLoop *loop = loops; loop != NULL && found == NULL; loop = loop->next)
    {
      weft_spinlock_lock (&loop->lock);
      for (WeftInspectRecord *r = LOAD_ACQUIRE (loop->head); r != NULL; r = LOAD_ACQUIRE (r->next))
        if (r->id == task_id)
          {
            /* An unfinished task holds its context: it is alive. */
            if (LOAD (r->state) < WEFT_INSPECT_DONE)
              {
                found = loop_ref (loop);
                context = g_main_context_ref (loop->context);
              }
            break;
          }
      weft_spinlock_unlock (&loop->lock);
    }
  pthread_mutex_unlock (&registry_mutex);

  if (found == NULL)
    {
      if (notify != NULL)
        notify (user_data);
      return FALSE;
    }

  invocation = g_new0 (Invocation, 1);
  invocation->id = task_id;
  invocation->loop = found;
  invocation->func = func;
  invocation->user_data = user_data;
  invocation->notify = notify;
  __atomic_store_n (&invocation->published, 1, __ATOMIC_RELEASE);

  /* A source, not g_main_context_invoke(): that would run here if nobody
   * owns the context right now.
   */
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_HIGH);
  g_source_set_static_name (source, "[weft] inspector invocation");
  g_source_set_callback (source, invocation_run, invocation, invocation_free);
  g_source_attach (source, context);
  g_source_unref (source);
  g_main_context_unref (context);
  return TRUE;
}
