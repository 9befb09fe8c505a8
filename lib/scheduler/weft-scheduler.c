/* weft-scheduler.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "weft-inspect-hooks-private.h"
#include "weft-inspect-server-private.h"
#include "weft-scheduler-private.h"
#include "weft-spinlock-private.h"
#include "weft-tls-private.h"

/* The scheduler is a single GSource per GMainContext. GMainContext walks
 * every attached source on every iteration, so sources per task or per
 * timer would make each iteration O(tasks); here an iteration costs the
 * same with one task or a million.
 *
 * The ready queue belongs to the thread that dispatches the context and is
 * used without locks. Other threads (completing a future) append to a
 * locked inbox and wake the context; the inbox is drained at the start of
 * every pass, the way asyncio appends I/O callbacks before running a pass.
 */

/* How long one dispatch may run passes before giving the main loop back,
 * so that a GTK application keeps drawing under load.
 */
#define DISPATCH_SLICE_USEC 2000

/* Reading the clock costs as much as a short pass: a dispatch reads it only
 * after this many passes, or after a pass that ran this many callbacks.
 */
#define PASSES_PER_CLOCK_READ 16
#define CALLBACKS_PER_CLOCK_READ 64

struct _WeftScheduler
{
  GSource        source;
  GMainContext  *context;          /* borrowed: the context owns us */
  gboolean       is_global_default;
  gconstpointer  owner;            /* the thread that dispatches, and so may touch the
                                    * ready queue without a lock; NULL until one does */

  WeftRunnable  *ready_head;
  WeftRunnable  *ready_tail;

  WeftSpinlock   inbox_lock;
  WeftRunnable  *inbox_head;       /* read without the lock only to test for emptiness */
  WeftRunnable  *inbox_tail;

  WeftTimerHeap  timers;
  gboolean       sitting_out;      /* gave the loop one iteration after a full slice */
  WeftLink      *tasks_head;       /* unfinished tasks, oldest first; each holds a reference */
  WeftLink      *tasks_tail;
  gpointer       current_task;
  gboolean       eager_start;      /* tasks start eagerly unless told otherwise */
  int            background;       /* atomic: completions still to come from outside the
                                    * ready queue; weft_run() waits for them */
  WeftInspectLoop *inspect_loop;   /* made with the first task recorded */
  gboolean       inspect_adopted;  /* its tasks from before recording have records */
};

static G_LOCK_DEFINE (schedulers);
static GHashTable *schedulers;     /* GMainContext → WeftScheduler, under the lock */
static guint scheduler_generation; /* bumped whenever a scheduler dies, to expire caches */

static WEFT_THREAD_LOCAL char thread_marker;
static WEFT_THREAD_LOCAL WeftScheduler *running_scheduler;
static WEFT_THREAD_LOCAL struct {
  GMainContext  *context;
  WeftScheduler *scheduler;
  guint          generation;
} default_cache;

static inline gconstpointer
this_thread (void)
{
  return &thread_marker;
}

static inline gboolean
has_ready_work (WeftScheduler *self)
{
  return self->ready_head != NULL || g_atomic_pointer_get (&self->inbox_head) != NULL;
}

/* The loop iterates: the inspector's "since-iteration", and now and then
 * a look for waits nothing can end any more.
 */
static void
inspect_iteration (WeftScheduler *self,
                   gint64         now)
{
  if (G_UNLIKELY (!self->inspect_adopted) && !weft_scheduler_is_foreign_thread (self))
    {
      self->inspect_adopted = TRUE;
      weft_task_inspect_adopt (self);
    }
  if (g_atomic_pointer_get (&self->inspect_loop) == NULL)
    return;

  weft_inspect_loop_iterating (self->inspect_loop, now, TRUE);
  if (weft_inspect_loop_recheck_due (self->inspect_loop, now) &&
      !weft_scheduler_is_foreign_thread (self))
    weft_task_inspect_check_waits (self);
}

static gboolean
weft_scheduler_prepare (GSource *source,
                        int     *timeout)
{
  WeftScheduler *self = (WeftScheduler *) source;
  WeftTimer *next;
  gint64 remaining;

  *timeout = -1;

  if (WEFT_INSPECTING ())
    inspect_iteration (self, g_source_get_time (source));

  /* After a full slice, one iteration without us, so that sources of lower
   * priority (GTK's redraw, idles) run even while tasks keep us busy.
   */
  if (self->sitting_out)
    {
      *timeout = 0;
      return FALSE;
    }

  if (has_ready_work (self))
    {
      *timeout = 0;
      return TRUE;
    }

  next = weft_timer_heap_peek (&self->timers);
  if (next == NULL)
    return FALSE;

  remaining = next->deadline - g_source_get_time (source);
  if (remaining <= 0)
    {
      *timeout = 0;
      return TRUE;
    }

  /* Round up: waking a little late is harmless, waking early spins. */
  *timeout = (int) MIN ((remaining + 999) / 1000, G_MAXINT);
  return FALSE;
}

static gboolean
weft_scheduler_check (GSource *source)
{
  WeftScheduler *self = (WeftScheduler *) source;
  WeftTimer *next;

  if (self->sitting_out)
    {
      self->sitting_out = FALSE;
      return FALSE;
    }

  if (has_ready_work (self))
    return TRUE;
  next = weft_timer_heap_peek (&self->timers);
  return next != NULL && next->deadline <= g_source_get_time (source);
}

static void
move_inbox_to_ready (WeftScheduler *self)
{
  WeftRunnable *head, *tail;

  if (g_atomic_pointer_get (&self->inbox_head) == NULL)
    return;

  weft_spinlock_lock (&self->inbox_lock);
  head = self->inbox_head;
  tail = self->inbox_tail;
  g_atomic_pointer_set (&self->inbox_head, NULL);
  self->inbox_tail = NULL;
  weft_spinlock_unlock (&self->inbox_lock);

  if (head == NULL)
    return;
  if (self->ready_tail != NULL)
    self->ready_tail->next = head;
  else
    self->ready_head = head;
  self->ready_tail = tail;
}

static inline void
append_ready (WeftScheduler *self,
              WeftRunnable  *head,
              WeftRunnable  *tail)
{
  if (self->ready_tail != NULL)
    self->ready_tail->next = head;
  else
    self->ready_head = head;
  self->ready_tail = tail;
}

static void
move_due_timers_to_ready (WeftScheduler *self,
                          gint64         now)
{
  WeftTimer *top;

  while ((top = weft_timer_heap_peek (&self->timers)) != NULL && top->deadline <= now)
    {
      WeftTimer *timer = weft_timer_heap_pop (&self->timers);
      WeftTimedRunnable *timed = G_STRUCT_MEMBER_P (timer, -G_STRUCT_OFFSET (WeftTimedRunnable, timer));

      timed->runnable.next = NULL;
      append_ready (self, &timed->runnable, &timed->runnable);
    }
}

/* One pass, as asyncio defines it (M1): runs exactly the callbacks that are
 * ready when it starts; whatever they schedule waits for the next pass.
 */
static guint
run_pass (WeftScheduler *self,
          gint64         now)
{
  WeftRunnable *runnable;
  guint count = 0;

  move_inbox_to_ready (self);
  if (weft_timer_heap_peek (&self->timers) != NULL)
    move_due_timers_to_ready (self, now);

  runnable = self->ready_head;
  self->ready_head = self->ready_tail = NULL;

  while (runnable != NULL)
    {
      WeftRunnable *next = runnable->next;

      runnable->run (runnable);
      runnable = next;
      count++;
    }

  return count;
}

static gboolean
has_due_timer (WeftScheduler *self,
               gint64         now)
{
  WeftTimer *next = weft_timer_heap_peek (&self->timers);

  return next != NULL && next->deadline <= now;
}

static gboolean
weft_scheduler_dispatch (GSource     *source,
                         GSourceFunc  callback,
                         gpointer     user_data)
{
  WeftScheduler *self = (WeftScheduler *) source;
  WeftScheduler *saved = running_scheduler;
  gint64 start = g_source_get_time (source);
  gint64 now = start;
  guint passes = 0;

  running_scheduler = self;
  g_atomic_pointer_set (&self->owner, this_thread ());
  if (WEFT_INSPECTING () && g_atomic_pointer_get (&self->inspect_loop) != NULL)
    weft_inspect_loop_iterating (self->inspect_loop, start, FALSE);

  for (;;)
    {
      guint ran = run_pass (self, now);

      if (++passes >= PASSES_PER_CLOCK_READ || ran >= CALLBACKS_PER_CLOCK_READ)
        {
          passes = 0;
          now = g_get_monotonic_time ();
          if (now - start >= DISPATCH_SLICE_USEC)
            {
              self->sitting_out = has_ready_work (self) || has_due_timer (self, now);
              break;
            }
        }
      if (!has_ready_work (self) && !has_due_timer (self, now))
        break;
    }

  running_scheduler = saved;

  return G_SOURCE_CONTINUE;
}

static void
weft_scheduler_finalize (GSource *source)
{
  WeftScheduler *self = (WeftScheduler *) source;

  G_LOCK (schedulers);
  g_hash_table_remove (schedulers, self->context);
  g_atomic_int_inc (&scheduler_generation);
  G_UNLOCK (schedulers);

  /* Tasks hold a reference on the context, so by now none is left. */
  g_assert (self->tasks_head == NULL);

  weft_timer_heap_clear (&self->timers);
  if (self->inspect_loop != NULL)
    weft_inspect_loop_detach (self->inspect_loop);
}

static GSourceFuncs scheduler_funcs = {
  .prepare = weft_scheduler_prepare,
  .check = weft_scheduler_check,
  .dispatch = weft_scheduler_dispatch,
  .finalize = weft_scheduler_finalize,
};

static WeftScheduler *
weft_scheduler_new (GMainContext *context)
{
  WeftScheduler *self;

  self = (WeftScheduler *) g_source_new (&scheduler_funcs, sizeof (WeftScheduler));
  self->context = context;
  self->is_global_default = context == g_main_context_default ();
  weft_timer_heap_init (&self->timers);

  g_source_set_static_name ((GSource *) self, "WeftScheduler");
  g_source_set_priority ((GSource *) self, G_PRIORITY_DEFAULT);
  g_source_attach ((GSource *) self, context);
  g_source_unref ((GSource *) self);

  return self;
}

/*
 * weft_scheduler_get_for_context:
 * @context: (nullable): a context, or %NULL for the global default one
 *
 * Returns: (transfer none): the context's scheduler, created on first use.
 * It lives as long as the context does.
 */
WeftScheduler *
weft_scheduler_get_for_context (GMainContext *context)
{
  WeftScheduler *self;
  gboolean created = FALSE;

  if (context == NULL)
    context = g_main_context_default ();

  G_LOCK (schedulers);
  if (schedulers == NULL)
    schedulers = g_hash_table_new (NULL, NULL);
  self = g_hash_table_lookup (schedulers, context);
  if (self == NULL)
    {
      self = weft_scheduler_new (context);
      g_hash_table_insert (schedulers, context, self);
      created = TRUE;
    }
  G_UNLOCK (schedulers);

  /* Before the context's first task: WEFT_INSPECT=1 records them all. */
  if (created)
    weft_inspector_autostart ();

  return self;
}

/* Creating a future or task looks this up every time, hence the per-thread
 * cache; the generation check keeps a recycled context address from
 * matching a dead scheduler.
 */
WeftScheduler *
weft_scheduler_get_thread_default (void)
{
  GMainContext *context = g_main_context_get_thread_default ();
  guint generation = g_atomic_int_get (&scheduler_generation);

  if (G_LIKELY (default_cache.scheduler != NULL &&
                default_cache.context == context &&
                default_cache.generation == generation))
    return default_cache.scheduler;

  default_cache.scheduler = weft_scheduler_get_for_context (context);
  default_cache.context = context;
  default_cache.generation = generation;

  return default_cache.scheduler;
}

/*
 * Returns: (nullable): the scheduler dispatching on this thread right now.
 */
WeftScheduler *
weft_scheduler_get_running (void)
{
  return running_scheduler;
}

/*
 * Returns: %TRUE if another thread dispatches this scheduler: what only its
 * own thread may touch (tasks, timers) must not be touched from here.
 */
gboolean
weft_scheduler_is_foreign_thread (WeftScheduler *self)
{
  gconstpointer owner = g_atomic_pointer_get (&self->owner);

  return owner != NULL && owner != this_thread ();
}

/* Wakes the context unless the calling thread is the one iterating it. */
void
weft_scheduler_wake_if_elsewhere (WeftScheduler *self)
{
  if (g_atomic_pointer_get (&self->owner) != this_thread ())
    g_main_context_wakeup (self->context);
}

/*
 * Counts work started from this context that will report back to it from
 * outside the scheduler: a GIO callback still to come for a cancelled
 * future, a worker thread still running a job. Any thread; the caller
 * keeps the context alive until the matching weft_scheduler_end_background().
 */
void
weft_scheduler_begin_background (WeftScheduler *self)
{
  g_atomic_int_inc (&self->background);
}

/* Wakes the context when the last one ends, for weft_run() waiting on it. */
void
weft_scheduler_end_background (WeftScheduler *self)
{
  if (g_atomic_int_dec_and_test (&self->background))
    weft_scheduler_wake_if_elsewhere (self);
}

gboolean
weft_scheduler_has_background (WeftScheduler *self)
{
  return g_atomic_int_get (&self->background) > 0;
}

GMainContext *
weft_scheduler_get_context (WeftScheduler *self)
{
  return self->context;
}

/* Futures keep their context, and so their scheduler, alive. The global
 * default context (GTK's) is never finalized: holding it would only cost
 * two atomic operations per future.
 */
void
weft_scheduler_hold_context (WeftScheduler *self)
{
  if (!self->is_global_default)
    g_main_context_ref (self->context);
}

void
weft_scheduler_release_context (WeftScheduler *self)
{
  if (!self->is_global_default)
    g_main_context_unref (self->context);
}

void
weft_scheduler_push_chain (WeftScheduler *self,
                           WeftRunnable  *head,
                           WeftRunnable  *tail)
{
  gboolean was_empty;

  tail->next = NULL;

  if (G_LIKELY (self == running_scheduler || g_atomic_pointer_get (&self->owner) == this_thread ()))
    {
      append_ready (self, head, tail);
      return;
    }

  weft_spinlock_lock (&self->inbox_lock);
  was_empty = self->inbox_head == NULL;
  if (was_empty)
    g_atomic_pointer_set (&self->inbox_head, head);
  else
    self->inbox_tail->next = head;
  self->inbox_tail = tail;
  weft_spinlock_unlock (&self->inbox_lock);

  /* One wakeup per batch: the context polls the inbox once it runs. */
  if (was_empty)
    g_main_context_wakeup (self->context);
}

void
weft_scheduler_push (WeftScheduler *self,
                     WeftRunnable  *runnable)
{
  weft_scheduler_push_chain (self, runnable, runnable);
}

void
weft_scheduler_add_timer (WeftScheduler     *self,
                          WeftTimedRunnable *timed,
                          gint64             deadline)
{
  timed->timer.deadline = deadline;
  weft_timer_heap_insert (&self->timers, &timed->timer);
}

void
weft_scheduler_remove_timer (WeftScheduler     *self,
                             WeftTimedRunnable *timed)
{
  if (weft_timer_is_armed (&timed->timer))
    weft_timer_heap_remove (&self->timers, &timed->timer);
}

/*
 * weft_scheduler_run_pass:
 *
 * Runs exactly one pass of the ready queue, after moving the due timers into
 * it, as one iteration of asyncio's loop does. Tests drive the loop with it.
 *
 * Returns: how many callbacks and task steps ran
 */
guint
weft_scheduler_run_pass (WeftScheduler *self)
{
  WeftScheduler *saved = running_scheduler;
  guint count;

  running_scheduler = self;
  g_atomic_pointer_set (&self->owner, this_thread ());
  count = run_pass (self, g_get_monotonic_time ());
  running_scheduler = saved;

  return count;
}

gpointer
weft_scheduler_get_current_task (WeftScheduler *self)
{
  return self->current_task;
}

gpointer
weft_scheduler_swap_current_task (WeftScheduler *self,
                                  gpointer       task)
{
  gpointer previous = self->current_task;

  self->current_task = task;
  return previous;
}

void
weft_scheduler_register_task (WeftScheduler *self,
                              WeftLink      *link)
{
  link->next = NULL;
  link->prev = self->tasks_tail;
  if (self->tasks_tail != NULL)
    self->tasks_tail->next = link;
  else
    self->tasks_head = link;
  self->tasks_tail = link;
}

void
weft_scheduler_unregister_task (WeftScheduler *self,
                                WeftLink      *link)
{
  if (link->prev != NULL)
    link->prev->next = link->next;
  else
    self->tasks_head = link->next;
  if (link->next != NULL)
    link->next->prev = link->prev;
  else
    self->tasks_tail = link->prev;
  link->prev = link->next = NULL;
}

const WeftLink *
weft_scheduler_peek_tasks (WeftScheduler *self)
{
  return self->tasks_head;
}

/* Any thread may start the first recorded task of a context. */
WeftInspectLoop *
weft_scheduler_get_inspect_loop (WeftScheduler *self)
{
  WeftInspectLoop *loop = g_atomic_pointer_get (&self->inspect_loop);

  if (G_LIKELY (loop != NULL))
    return loop;

  loop = weft_inspect_loop_new (self->context);
  if (!g_atomic_pointer_compare_and_exchange (&self->inspect_loop, NULL, loop))
    {
      weft_inspect_loop_detach (loop);
      loop = g_atomic_pointer_get (&self->inspect_loop);
    }
  return loop;
}

gboolean
weft_scheduler_get_eager_start (WeftScheduler *self)
{
  return self->eager_start;
}

void
weft_scheduler_set_eager_start (WeftScheduler *self,
                                gboolean       eager_start)
{
  self->eager_start = eager_start;
}
