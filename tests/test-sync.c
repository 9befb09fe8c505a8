/* test-sync.c — Event, Lock, Semaphore, BoundedSemaphore, Condition,
 * Barrier: asyncio's locks.py semantics, cancellation (T6, T8a, T8b) and
 * allocation-free waits
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "sync-actor.h"

static WeftFuture *begin_event_wait (Actor *a) { return weft_event_wait (a->target); }
static WeftFuture *begin_lock_acquire (Actor *a) { return weft_lock_acquire (a->target); }
static WeftFuture *begin_semaphore_acquire (Actor *a) { return weft_semaphore_acquire (a->target); }
static WeftFuture *begin_barrier_wait (Actor *a) { return weft_barrier_wait (a->target); }

static WeftFuture *
begin_condition_wait (Actor *a)
{
  g_autoptr(GError) error = NULL;
  WeftFuture *future = weft_condition_wait (a->target, &error);

  g_assert_no_error (error);
  return future;
}

static void
after_release_lock (Actor        *a,
                    const GError *error)
{
  if (error == NULL)
    g_assert_true (weft_lock_release (a->target, NULL));
}

/* Condition waits end with the lock held, even when they fail. */
static void
after_release_condition_lock (Actor        *a,
                              const GError *error)
{
  WeftLock *lock = weft_condition_get_lock (a->target);

  g_assert_true (weft_lock_is_locked (lock));
  g_assert_true (weft_lock_release (lock, NULL));
}

#define ACTOR(log_, name_, begin_, target_) \
  { .log = (log_), .name = (name_), .begin = (begin_), .target = (target_) }

/* Event */

/* EventTests::test_wait: set() wakes every waiter, in the order they
 * started waiting, one pass later (T4) */
static void
test_event_wakes_all_in_order (WeftTestLoop  *loop,
                               gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftEvent) event = weft_event_new ();
  Actor actors[] = {
    ACTOR (log, "a", begin_event_wait, event),
    ACTOR (log, "b", begin_event_wait, event),
    ACTOR (log, "c", begin_event_wait, event),
  };
  WeftTask *tasks[3];

  actors_spawn (KIND (data), actors, 3, tasks);
  g_assert_cmpuint (weft_test_pass (), ==, 0);
  g_assert_cmpstr (log->str, ==, "");

  weft_event_set (event);
  g_assert_true (weft_event_is_set (event));
  g_assert_cmpstr (log->str, ==, "");
  g_assert_cmpuint (weft_test_pass (), ==, 3);
  g_assert_cmpstr (log->str, ==, "a:ok b:ok c:ok");
  tasks_unref (tasks, 3);
}

/* EventTests::test_wait_on_set: waiting on a set event does not suspend
 * (F9); clear() makes waits suspend again */
static void
test_event_set_does_not_suspend (WeftTestLoop  *loop,
                                 gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftEvent) event = weft_event_new ();
  Actor a = ACTOR (log, "a", begin_event_wait, event);
  g_autoptr(WeftTask) task = NULL;
  g_autoptr(WeftFuture) outside = NULL;

  weft_event_set (event);
  outside = weft_event_wait (event);
  g_assert_true (weft_future_is_done (outside));

  a.rounds = 2;
  task = actor_spawn (KIND (data), &a);
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (log->str, ==, "a:ok a:ok");
  g_assert_true (weft_future_is_done (WEFT_FUTURE (task)));

  weft_event_clear (event);
  g_assert_false (weft_event_is_set (event));
  g_clear_object (&outside);
  outside = weft_event_wait (event);
  g_assert_false (weft_future_is_done (outside));
  weft_event_set (event);
  g_assert_true (weft_future_is_done (outside));
}

/* EventTests::test_wait_cancel, T8a: a cancelled waiter is withdrawn and
 * the others still get the wake-up */
static void
test_event_cancel_waiter (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftEvent) event = weft_event_new ();
  Actor actors[] = {
    ACTOR (log, "a", begin_event_wait, event),
    ACTOR (log, "b", begin_event_wait, event),
  };
  WeftTask *tasks[2];

  actors_spawn (KIND (data), actors, 2, tasks);
  g_assert_true (weft_task_cancel (tasks[0], "stop"));
  g_assert_true (weft_future_is_cancelled (weft_task_get_awaited (tasks[0])));
  g_assert_cmpuint (weft_test_pass (), ==, 1);
  g_assert_cmpstr (log->str, ==, "a:stop");

  weft_event_set (event);
  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "a:stop b:ok");
  tasks_unref (tasks, 2);
}

/* Waiting inside a task allocates nothing once the task has waited: the
 * same two futures come back round after round */
static void
test_event_wait_reuses_futures (WeftTestLoop  *loop,
                                gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftEvent) event = weft_event_new ();
  Actor a = ACTOR (log, "a", begin_event_wait, event);
  g_autoptr(WeftTask) task = NULL;
  g_autoptr(GHashTable) distinct = g_hash_table_new (NULL, NULL);

  a.rounds = 40;
  task = actor_spawn (KIND (data), &a);
  weft_test_pass ();
  for (guint i = 0; i < a.rounds; i++)
    {
      weft_event_set (event);
      weft_event_clear (event);
      weft_test_pass ();
    }
  g_assert_true (weft_future_is_done (WEFT_FUTURE (task)));

  for (guint i = 0; i < a.rounds; i++)
    g_hash_table_add (distinct, a.futures[i]);
  g_assert_cmpuint (g_hash_table_size (distinct), <=, 2);
}

/* A future still referenced elsewhere is never reset under its holder */
static void
kept_future_fiber (WeftTask *task,
                   gpointer  user_data)
{
  WeftEvent *event = user_data;
  WeftFuture *kept[3] = { NULL, };

  for (guint i = 0; i < G_N_ELEMENTS (kept); i++)
    {
      kept[i] = weft_event_wait (event);
      g_assert_true (weft_await (kept[i], NULL));
      for (guint j = 0; j < i; j++)
        {
          g_assert_true (kept[j] != kept[i]);
          g_assert_true (weft_future_is_done (kept[j]));
        }
    }
  for (guint i = 0; i < G_N_ELEMENTS (kept); i++)
    g_object_unref (kept[i]);
  weft_task_return_void (task);
}

static void
test_event_kept_future_not_reused (WeftTestLoop  *loop,
                                   gconstpointer  data)
{
  g_autoptr(WeftEvent) event = weft_event_new ();
  g_autoptr(WeftTask) task = weft_fiber_new (NULL, kept_future_fiber, event, NULL);

  weft_event_set (event);
  weft_test_run_until_idle ();
  g_assert_true (weft_future_is_done (WEFT_FUTURE (task)));
  g_assert_true (weft_future_propagate (WEFT_FUTURE (task), NULL));
}

/* A done future stays done: one that only a weak reference still sees is
 * not made pending again for the next wait */
static void
weak_ref_fiber (WeftTask *task,
                gpointer  user_data)
{
  WeftEvent *event = user_data;
  g_autoptr(WeftEvent) never = weft_event_new ();
  g_autoptr(WeftFuture) second = NULL;
  g_autoptr(WeftFuture) seen = NULL;
  WeftFuture *first = weft_event_wait (event);
  GWeakRef weak;

  g_assert_true (weft_await (first, NULL));
  g_weak_ref_init (&weak, first);
  g_object_unref (first);

  second = weft_event_wait (never);
  seen = g_weak_ref_get (&weak);
  g_assert_true (seen == NULL || weft_future_is_done (seen));
  g_weak_ref_clear (&weak);
  weft_future_cancel (second, NULL);
  weft_task_return_void (task);
}

static void
test_event_weak_ref_not_reused (WeftTestLoop  *loop,
                                gconstpointer  data)
{
  g_autoptr(WeftEvent) event = weft_event_new ();
  g_autoptr(WeftTask) task = weft_fiber_new (NULL, weak_ref_fiber, event, NULL);

  weft_event_set (event);
  weft_test_run_until_idle ();
  g_assert_true (weft_future_propagate (WEFT_FUTURE (task), NULL));
}

/* Lock */

/* LockTests::test_acquire, test_fast_path: a free lock is taken without
 * suspending; waiters get it in FIFO order, each release handing it over */
static void
test_lock_fifo (WeftTestLoop  *loop,
                gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftLock) lock = weft_lock_new ();
  g_autoptr(WeftFuture) fast = NULL;
  Actor actors[] = {
    ACTOR (log, "a", begin_lock_acquire, lock),
    ACTOR (log, "b", begin_lock_acquire, lock),
    ACTOR (log, "c", begin_lock_acquire, lock),
  };
  WeftTask *tasks[3];

  fast = weft_lock_acquire (lock);
  g_assert_true (weft_future_is_done (fast));
  g_assert_true (weft_lock_is_locked (lock));
  g_assert_false (weft_lock_try_acquire (lock));

  for (guint i = 0; i < 3; i++)
    actors[i].after = after_release_lock;
  actors_spawn (KIND (data), actors, 3, tasks);
  g_assert_cmpstr (log->str, ==, "");

  g_assert_true (weft_lock_release (lock, NULL));
  g_assert_true (weft_lock_is_locked (lock));   /* handed to a */
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "a:ok");
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "a:ok b:ok");
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "a:ok b:ok c:ok");
  g_assert_false (weft_lock_is_locked (lock));
  g_assert_true (weft_lock_try_acquire (lock));
  tasks_unref (tasks, 3);
}

/* LockTests::test_release_not_acquired: RuntimeError → INVALID_STATE */
static void
test_lock_release_unlocked (WeftTestLoop  *loop,
                            gconstpointer  data)
{
  g_autoptr(WeftLock) lock = weft_lock_new ();
  g_autoptr(GError) error = NULL;

  g_assert_false (weft_lock_release (lock, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_INVALID_STATE);
}

/* LockTests::test_cancel_race, test_cancel_release_race (T8a, T8b): a
 * cancelled waiter is skipped; one cancelled after the lock was handed to
 * it passes the lock on, so it is never lost */
static void
test_lock_cancel (WeftTestLoop  *loop,
                  gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftLock) lock = weft_lock_new ();
  Actor actors[] = {
    ACTOR (log, "a", begin_lock_acquire, lock),
    ACTOR (log, "b", begin_lock_acquire, lock),
    ACTOR (log, "c", begin_lock_acquire, lock),
  };
  WeftTask *tasks[3];

  g_assert_true (weft_lock_try_acquire (lock));
  for (guint i = 0; i < 3; i++)
    actors[i].after = after_release_lock;
  actors_spawn (KIND (data), actors, 3, tasks);

  /* a: cancelled while it waits (T8a) */
  weft_task_cancel (tasks[0], NULL);
  /* b: handed the lock, then cancelled before it resumes (T8b) */
  g_assert_true (weft_lock_release (lock, NULL));
  g_assert_true (weft_future_is_done (weft_task_get_awaited (tasks[1])));
  weft_task_cancel (tasks[1], "late");

  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "a:Operation was cancelled b:late");
  g_assert_true (weft_lock_is_locked (lock));   /* passed on to c */
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "a:Operation was cancelled b:late c:ok");
  g_assert_false (weft_lock_is_locked (lock));
  tasks_unref (tasks, 3);
}

/* T8b with nothing else holding the lock: handed the lock, then cancelled
 * before it resumes, a task still passes it on. As asyncio's coroutine
 * frame does, the wait keeps the lock alive until then. */
static void
test_lock_cancel_after_unref (WeftTestLoop  *loop,
                              gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  WeftLock *lock = weft_lock_new ();
  Actor a = ACTOR (log, "a", begin_lock_acquire, lock);
  g_autoptr(WeftTask) task = NULL;

  g_object_add_weak_pointer (G_OBJECT (lock), (gpointer *) &lock);
  g_assert_true (weft_lock_try_acquire (lock));
  task = actor_spawn (KIND (data), &a);
  weft_test_pass ();
  g_assert_true (weft_lock_release (lock, NULL));   /* handed to a */
  g_object_unref (lock);
  g_assert_nonnull (lock);

  g_assert_true (weft_task_cancel (task, "late"));
  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "a:late");
  g_assert_null (lock);   /* let go of once the task is done */
}

/* T11: a third party cancelling the future the task awaits withdraws the
 * request the same way; the cancellation does not count on the task */
static void
test_lock_third_party_cancel (WeftTestLoop  *loop,
                              gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftLock) lock = weft_lock_new ();
  Actor actors[] = {
    ACTOR (log, "a", begin_lock_acquire, lock),
    ACTOR (log, "b", begin_lock_acquire, lock),
  };
  WeftTask *tasks[2];

  g_assert_true (weft_lock_try_acquire (lock));
  for (guint i = 0; i < 2; i++)
    actors[i].after = after_release_lock;
  actors_spawn (KIND (data), actors, 2, tasks);

  g_assert_true (weft_future_cancel (weft_task_get_awaited (tasks[0]), "gone"));
  g_assert_true (weft_lock_release (lock, NULL));
  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "a:gone b:ok");
  g_assert_cmpuint (weft_task_get_cancelling (tasks[0]), ==, 0);
  g_assert_false (weft_lock_is_locked (lock));
  tasks_unref (tasks, 2);
}

/* Semaphore */

/* SemaphoreTests::test_acquire: value slots are taken at once, the other
 * acquirers wait in FIFO order */
static void
test_semaphore_fifo (WeftTestLoop  *loop,
                     gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftSemaphore) sem = weft_semaphore_new (2);
  Actor actors[] = {
    ACTOR (log, "a", begin_semaphore_acquire, sem),
    ACTOR (log, "b", begin_semaphore_acquire, sem),
    ACTOR (log, "c", begin_semaphore_acquire, sem),
    ACTOR (log, "d", begin_semaphore_acquire, sem),
  };
  WeftTask *tasks[4];

  actors_spawn (KIND (data), actors, 4, tasks);
  g_assert_cmpstr (log->str, ==, "a:ok b:ok");
  g_assert_true (weft_semaphore_is_locked (sem));
  g_assert_false (weft_semaphore_try_acquire (sem));

  g_assert_true (weft_semaphore_release (sem, NULL));
  g_assert_cmpuint (weft_semaphore_get_value (sem), ==, 0);   /* handed to c */
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "a:ok b:ok c:ok");
  g_assert_true (weft_semaphore_release (sem, NULL));
  g_assert_true (weft_semaphore_release (sem, NULL));
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "a:ok b:ok c:ok d:ok");
  g_assert_cmpuint (weft_semaphore_get_value (sem), ==, 1);
  tasks_unref (tasks, 4);
}

/* SemaphoreTests::test_acquire_cancel_before_awoken,
 * test_acquire_cancel_after_awoken (gh-90155): a slot handed to a waiter
 * cancelled before it resumes goes to the next one */
static void
test_semaphore_cancel (WeftTestLoop  *loop,
                       gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftSemaphore) sem = weft_semaphore_new (0);
  Actor actors[] = {
    ACTOR (log, "a", begin_semaphore_acquire, sem),
    ACTOR (log, "b", begin_semaphore_acquire, sem),
    ACTOR (log, "c", begin_semaphore_acquire, sem),
  };
  WeftTask *tasks[3];

  actors_spawn (KIND (data), actors, 3, tasks);
  weft_task_cancel (tasks[0], NULL);
  g_assert_true (weft_semaphore_release (sem, NULL));   /* to b */
  weft_task_cancel (tasks[1], NULL);
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "a:Operation was cancelled b:Operation was cancelled");
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "a:Operation was cancelled b:Operation was cancelled c:ok");
  g_assert_cmpuint (weft_semaphore_get_value (sem), ==, 0);
  tasks_unref (tasks, 3);
}

/* BoundedSemaphoreTests::test_release_not_acquired: ValueError →
 * INVALID_STATE; a plain semaphore may grow */
static void
test_bounded_semaphore (WeftTestLoop  *loop,
                        gconstpointer  data)
{
  g_autoptr(WeftSemaphore) bounded = weft_bounded_semaphore_new (1);
  g_autoptr(WeftSemaphore) plain = weft_semaphore_new (1);
  g_autoptr(GError) error = NULL;

  g_assert_true (WEFT_IS_BOUNDED_SEMAPHORE (bounded));
  g_assert_false (weft_semaphore_release (bounded, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_INVALID_STATE);
  g_assert_true (weft_semaphore_try_acquire (bounded));
  g_assert_true (weft_semaphore_release (bounded, NULL));
  g_assert_true (weft_semaphore_release (plain, NULL));
  g_assert_cmpuint (weft_semaphore_get_value (plain), ==, 2);
}

/* Condition */

/* ConditionTests::test_wait, test_notify, test_notify_all: wait releases
 * the lock; notified waiters resume in order, each holding the lock */
static void
test_condition_notify (WeftTestLoop  *loop,
                       gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftCondition) cond = weft_condition_new (NULL);
  WeftLock *lock = weft_condition_get_lock (cond);
  g_autoptr(GError) error = NULL;
  Actor actors[] = {
    ACTOR (log, "a", begin_condition_wait, cond),
    ACTOR (log, "b", begin_condition_wait, cond),
    ACTOR (log, "c", begin_condition_wait, cond),
  };
  WeftTask *tasks[3];

  for (guint i = 0; i < 3; i++)
    {
      actors[i].after = after_release_condition_lock;
      g_assert_true (weft_lock_try_acquire (lock));
      tasks[i] = actor_spawn (KIND (data), &actors[i]);
      weft_test_pass ();
      g_assert_false (weft_lock_is_locked (lock));
    }

  g_assert_false (weft_condition_notify (cond, 1, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_INVALID_STATE);

  g_assert_true (weft_lock_try_acquire (lock));
  g_assert_true (weft_condition_notify (cond, 1, NULL));
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "");   /* a needs the lock back first */
  g_assert_true (weft_lock_release (lock, NULL));
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "a:ok");

  g_assert_true (weft_lock_try_acquire (lock));
  g_assert_true (weft_condition_notify_all (cond, NULL));
  g_assert_true (weft_lock_release (lock, NULL));
  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "a:ok b:ok c:ok");
  g_assert_false (weft_lock_is_locked (lock));
  tasks_unref (tasks, 3);
}

/* ConditionTests::test_wait_cancel_contested, test_cancelled_error_wakeup
 * (gh-112202): a cancelled waiter gets the lock back before the
 * cancellation reaches it, and passes its notification on */
static void
test_condition_cancel (WeftTestLoop  *loop,
                       gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftCondition) cond = weft_condition_new (NULL);
  WeftLock *lock = weft_condition_get_lock (cond);
  g_autoptr(GError) error = NULL;
  g_autoptr(WeftFuture) unlocked = NULL;
  Actor actors[] = {
    ACTOR (log, "a", begin_condition_wait, cond),
    ACTOR (log, "b", begin_condition_wait, cond),
  };
  WeftTask *tasks[2];

  for (guint i = 0; i < 2; i++)
    {
      actors[i].after = after_release_condition_lock;
      g_assert_true (weft_lock_try_acquire (lock));
      tasks[i] = actor_spawn (KIND (data), &actors[i]);
      weft_test_pass ();
    }

  unlocked = weft_condition_wait (cond, &error);
  g_assert_null (unlocked);
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_INVALID_STATE);

  /* a is cancelled while another holds the lock: T6 accepts it at once,
   * but it only reaches a with the lock */
  g_assert_true (weft_lock_try_acquire (lock));
  g_assert_true (weft_task_cancel (tasks[0], "stop"));
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "");
  g_assert_true (weft_lock_release (lock, NULL));
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "a:stop");
  /* nobody notified b, but a passed its notification on */
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "a:stop b:ok");
  g_assert_cmpuint (weft_task_get_cancelling (tasks[0]), ==, 1);
  g_assert_false (weft_lock_is_locked (lock));
  tasks_unref (tasks, 2);
}

/* ConditionTests::test_cancelled_error_re_aquire (gh-112202): cancelled
 * after it was notified, while it waits for the lock, a waiter still gets
 * the lock before the cancellation, and another waiter is notified in its
 * place */
static void
test_condition_cancel_after_notify (WeftTestLoop  *loop,
                                    gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftCondition) cond = weft_condition_new (NULL);
  WeftLock *lock = weft_condition_get_lock (cond);
  Actor actors[] = {
    ACTOR (log, "a", begin_condition_wait, cond),
    ACTOR (log, "b", begin_condition_wait, cond),
  };
  WeftTask *tasks[2];

  for (guint i = 0; i < 2; i++)
    {
      actors[i].after = after_release_condition_lock;
      g_assert_true (weft_lock_try_acquire (lock));
      tasks[i] = actor_spawn (KIND (data), &actors[i]);
      weft_test_pass ();
    }

  g_assert_true (weft_lock_try_acquire (lock));
  g_assert_true (weft_condition_notify (cond, 1, NULL));
  g_assert_true (weft_task_cancel (tasks[0], NULL));
  g_assert_true (weft_lock_release (lock, NULL));
  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "a:Operation was cancelled b:ok");
  g_assert_false (weft_lock_is_locked (lock));
  tasks_unref (tasks, 2);
}

/* A notified waiter cancelled while it waits for the lock, after the
 * condition lost its last outside reference: it still gets the lock back
 * before the cancellation reaches it */
static void
test_condition_cancel_after_unref (WeftTestLoop  *loop,
                                   gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftLock) lock = weft_lock_new ();
  WeftCondition *cond = weft_condition_new (lock);
  Actor a = ACTOR (log, "a", begin_condition_wait, cond);
  g_autoptr(WeftTask) task = NULL;

  g_object_add_weak_pointer (G_OBJECT (cond), (gpointer *) &cond);
  g_assert_true (weft_lock_try_acquire (lock));
  task = actor_spawn (KIND (data), &a);
  weft_test_pass ();

  g_assert_true (weft_lock_try_acquire (lock));
  g_assert_true (weft_condition_notify (cond, 1, NULL));
  g_object_unref (cond);
  g_assert_nonnull (cond);
  g_assert_true (weft_task_cancel (task, "stop"));
  g_assert_true (weft_lock_release (lock, NULL));
  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "a:stop");
  g_assert_true (weft_lock_is_locked (lock));   /* a got it back */
  g_assert_true (weft_lock_release (lock, NULL));
  g_assert_null (cond);   /* let go of once the task is done */
}

/* Barrier */

/* BarrierTests::test_barrier, test_draining_state: all parties resume with
 * their arrival index once the last arrives; one arriving while the
 * barrier drains waits for the next round */
static void
test_barrier_parties (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftBarrier) barrier = weft_barrier_new (2);
  g_autoptr(WeftFuture) late = NULL;
  g_autoptr(WeftFuture) last = NULL;
  Actor a = ACTOR (log, "a", begin_barrier_wait, barrier);
  g_autoptr(WeftTask) task = actor_spawn (KIND (data), &a);

  g_assert_cmpuint (weft_barrier_get_parties (barrier), ==, 2);
  weft_test_pass ();
  g_assert_cmpuint (weft_barrier_get_n_waiting (barrier), ==, 1);

  last = weft_barrier_wait (barrier);
  weft_test_assert_finished_int (last, 1);
  g_assert_cmpuint (weft_barrier_get_n_waiting (barrier), ==, 0);   /* draining */

  late = weft_barrier_wait (barrier);
  g_assert_false (weft_future_is_done (late));
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "a:0");
  /* a resumed: the barrier filled again, with the late arrival in it */
  g_assert_cmpuint (weft_barrier_get_n_waiting (barrier), ==, 1);
  g_assert_false (weft_future_is_done (late));
  g_clear_object (&last);
  last = weft_barrier_wait (barrier);
  weft_test_assert_finished_int (last, 1);
  weft_test_assert_finished_int (late, 0);
  weft_test_run_until_idle ();
}

/* BarrierTests::test_abort_barrier, test_reset_barrier,
 * test_cancel_wait_filling: abort and reset fail the waiting parties
 * (BrokenBarrierError); a cancelled party leaves */
static void
test_barrier_abort_reset_cancel (WeftTestLoop  *loop,
                                 gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftBarrier) barrier = weft_barrier_new (3);
  g_autoptr(WeftFuture) broken = NULL;
  g_autoptr(GError) error = NULL;
  Actor actors[] = {
    ACTOR (log, "a", begin_barrier_wait, barrier),
    ACTOR (log, "b", begin_barrier_wait, barrier),
    ACTOR (log, "c", begin_barrier_wait, barrier),
  };
  WeftTask *tasks[3];

  actors[1].rounds = 2;
  actors_spawn (KIND (data), actors, 3, tasks);
  /* c came third: it resumed at once, and the barrier drains */
  g_assert_cmpstr (log->str, ==, "c:2");
  g_assert_cmpuint (weft_barrier_get_n_waiting (barrier), ==, 0);
  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "c:2 a:0 b:1");
  g_assert_cmpuint (weft_barrier_get_n_waiting (barrier), ==, 1);   /* b's round 2 */

  /* cancelling b leaves the barrier */
  weft_task_cancel (tasks[1], NULL);
  g_assert_cmpuint (weft_barrier_get_n_waiting (barrier), ==, 0);
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "c:2 a:0 b:1 b:Operation was cancelled");
  tasks_unref (tasks, 3);

  /* reset fails whoever waits, and the barrier works again */
  actors[0] = (Actor) ACTOR (log, "d", begin_barrier_wait, barrier);
  tasks[0] = actor_spawn (KIND (data), &actors[0]);
  weft_test_pass ();
  weft_barrier_reset (barrier);
  weft_test_run_until_idle ();
  g_assert_true (g_str_has_suffix (log->str, " d:Abort or reset of barrier"));
  g_assert_false (weft_barrier_is_broken (barrier));
  g_clear_object (&tasks[0]);

  /* abort breaks it until reset */
  actors[0] = (Actor) ACTOR (log, "e", begin_barrier_wait, barrier);
  tasks[0] = actor_spawn (KIND (data), &actors[0]);
  weft_test_pass ();
  weft_barrier_abort (barrier);
  g_assert_true (weft_barrier_is_broken (barrier));
  weft_test_run_until_idle ();
  g_assert_true (g_str_has_suffix (log->str, " e:Abort or reset of barrier"));
  broken = weft_barrier_wait (barrier);
  g_assert_false (weft_future_propagate (broken, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_BROKEN_BARRIER);
  weft_barrier_reset (barrier);
  g_assert_false (weft_barrier_is_broken (barrier));
  g_clear_object (&tasks[0]);
  weft_test_run_until_idle ();
}

/* BarrierTests::test_draining_state, test_cancel_wait_blocked: a wait
 * that arrives while the barrier drains is blocked until the released
 * parties resumed; cancelling it changes no count, and a blocked wait
 * that is let in joins the next round */
static void
test_barrier_blocked (WeftTestLoop  *loop,
                      gconstpointer  data)
{
  g_autoptr(WeftBarrier) barrier = weft_barrier_new (2);
  g_autoptr(WeftFuture) first = weft_barrier_wait (barrier);
  g_autoptr(WeftFuture) second = weft_barrier_wait (barrier);
  g_autoptr(WeftFuture) cancelled = weft_barrier_wait (barrier);
  g_autoptr(WeftFuture) blocked = weft_barrier_wait (barrier);
  g_autoptr(WeftFuture) last = NULL;

  weft_test_assert_finished_int (first, 0);
  weft_test_assert_finished_int (second, 1);
  g_assert_false (weft_future_is_done (cancelled));
  g_assert_false (weft_future_is_done (blocked));
  g_assert_cmpuint (weft_barrier_get_n_waiting (barrier), ==, 0);

  g_assert_true (weft_future_cancel (cancelled, NULL));
  weft_test_pass ();   /* the released parties' resumption */
  g_assert_cmpuint (weft_barrier_get_n_waiting (barrier), ==, 1);
  g_assert_false (weft_future_is_done (blocked));
  last = weft_barrier_wait (barrier);
  weft_test_assert_finished_int (blocked, 0);
  weft_test_assert_finished_int (last, 1);
  weft_test_run_until_idle ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  weft_test_add_both_kinds ("sync", "event/wakes-all-in-order", test_event_wakes_all_in_order);
  weft_test_add_both_kinds ("sync", "event/set-does-not-suspend", test_event_set_does_not_suspend);
  weft_test_add_both_kinds ("sync", "event/cancel-waiter", test_event_cancel_waiter);
  weft_test_add_both_kinds ("sync", "event/wait-reuses-futures", test_event_wait_reuses_futures);
  WEFT_TEST_ADD ("/sync/fiber/event/kept-future-not-reused", test_event_kept_future_not_reused);
  WEFT_TEST_ADD ("/sync/fiber/event/weak-ref-not-reused", test_event_weak_ref_not_reused);
  weft_test_add_both_kinds ("sync", "lock/fifo", test_lock_fifo);
  WEFT_TEST_ADD ("/sync/lock/release-unlocked", test_lock_release_unlocked);
  weft_test_add_both_kinds ("sync", "lock/cancel", test_lock_cancel);
  weft_test_add_both_kinds ("sync", "lock/cancel-after-unref", test_lock_cancel_after_unref);
  weft_test_add_both_kinds ("sync", "lock/third-party-cancel", test_lock_third_party_cancel);
  weft_test_add_both_kinds ("sync", "semaphore/fifo", test_semaphore_fifo);
  weft_test_add_both_kinds ("sync", "semaphore/cancel", test_semaphore_cancel);
  WEFT_TEST_ADD ("/sync/bounded-semaphore", test_bounded_semaphore);
  weft_test_add_both_kinds ("sync", "condition/notify", test_condition_notify);
  weft_test_add_both_kinds ("sync", "condition/cancel", test_condition_cancel);
  weft_test_add_both_kinds ("sync", "condition/cancel-after-notify", test_condition_cancel_after_notify);
  weft_test_add_both_kinds ("sync", "condition/cancel-after-unref", test_condition_cancel_after_unref);
  weft_test_add_both_kinds ("sync", "barrier/parties", test_barrier_parties);
  weft_test_add_both_kinds ("sync", "barrier/abort-reset-cancel", test_barrier_abort_reset_cancel);
  WEFT_TEST_ADD ("/sync/barrier/blocked", test_barrier_blocked);

  return g_test_run ();
}
