/* test-queue.c — Queue, PriorityQueue, LifoQueue: asyncio's queues.py
 * semantics, shutdown (3.13), cancellation (T8a, T8b) and
 * allocation-free gets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "sync-actor.h"

static WeftFuture *begin_get (Actor *a) { return weft_queue_get (a->target); }
static WeftFuture *begin_join (Actor *a) { return weft_queue_join (a->target); }
static WeftFuture *begin_put (Actor *a) { return weft_queue_put (a->target, (gpointer) a->name); }

#define ACTOR(log_, name_, begin_, target_) \
  { .log = (log_), .name = (name_), .begin = (begin_), .target = (target_) }

static guint n_freed;

static void
count_free (gpointer item)
{
  n_freed++;
}

static const char *
get_nowait_str (WeftQueue *queue)
{
  g_autoptr(GError) error = NULL;
  const char *item = weft_queue_get_nowait (queue, &error);

  g_assert_no_error (error);
  return item;
}

/* QueueBasicTests::test_nonblocking_get_exception,
 * test_nonblocking_put_exception: QueueEmpty and QueueFull */
static void
test_queue_nowait (WeftTestLoop  *loop,
                   gconstpointer  data)
{
  g_autoptr(WeftQueue) queue = weft_queue_new (2);
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint (weft_queue_get_maxsize (queue), ==, 2);
  g_assert_true (weft_queue_is_empty (queue));
  g_assert_null (weft_queue_get_nowait (queue, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_QUEUE_EMPTY);
  g_clear_error (&error);

  g_assert_true (weft_queue_put_nowait (queue, "x", NULL));
  g_assert_true (weft_queue_put_nowait (queue, "y", NULL));
  g_assert_true (weft_queue_is_full (queue));
  g_assert_false (weft_queue_put_nowait (queue, "z", &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_QUEUE_FULL);
  g_assert_cmpuint (weft_queue_get_size (queue), ==, 2);

  g_assert_cmpstr (get_nowait_str (queue), ==, "x");
  g_assert_cmpstr (get_nowait_str (queue), ==, "y");
  g_assert_true (weft_queue_is_empty (queue));
}

/* QueueGetTests::test_get_with_waiting_putters, test_get_cancelled_race:
 * waiting getters are served in order, an item per getter */
static void
test_queue_getters_fifo (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftQueue) queue = weft_queue_new (0);
  Actor actors[] = {
    ACTOR (log, "a", begin_get, queue),
    ACTOR (log, "b", begin_get, queue),
    ACTOR (log, "c", begin_get, queue),
  };
  WeftTask *tasks[3];

  actors_spawn (KIND (data), actors, 3, tasks);
  g_assert_true (weft_queue_put_nowait (queue, "x", NULL));
  g_assert_true (weft_queue_put_nowait (queue, "y", NULL));
  /* asyncio: handed over, but in qsize() until the getters resume */
  g_assert_cmpuint (weft_queue_get_size (queue), ==, 2);
  g_assert_true (weft_queue_put_nowait (queue, "z", NULL));
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "a:x b:y c:z");
  tasks_unref (tasks, 3);
}

/* QueuePutTests::test_blocking_put_wait, test_put_with_waiting_getters:
 * puts wait while the queue is full and get in, in order, as gets make
 * room */
static void
test_queue_putters_fifo (WeftTestLoop  *loop,
                         gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftQueue) queue = weft_queue_new (1);
  Actor actors[] = {
    ACTOR (log, "a", begin_put, queue),
    ACTOR (log, "b", begin_put, queue),
    ACTOR (log, "c", begin_put, queue),
  };
  WeftTask *tasks[3];

  actors_spawn (KIND (data), actors, 3, tasks);
  g_assert_cmpstr (log->str, ==, "a:ok");
  g_assert_cmpstr (get_nowait_str (queue), ==, "a");
  g_assert_true (weft_queue_is_full (queue));   /* b's item went in */
  g_assert_cmpstr (get_nowait_str (queue), ==, "b");
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "a:ok b:ok c:ok");
  g_assert_cmpstr (get_nowait_str (queue), ==, "c");
  tasks_unref (tasks, 3);
}

/* QueueGetTests::test_cancelled_getters_not_being_held_in_self_getters,
 * test_why_are_getters_waiting (T8a, T8b): a cancelled getter takes
 * nothing; one handed an item but cancelled before it resumes puts it
 * back for the next getter */
static void
test_queue_cancel_getters (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftQueue) queue = weft_queue_new (0);
  Actor actors[] = {
    ACTOR (log, "a", begin_get, queue),
    ACTOR (log, "b", begin_get, queue),
    ACTOR (log, "c", begin_get, queue),
  };
  WeftTask *tasks[3];

  actors_spawn (KIND (data), actors, 3, tasks);
  weft_task_cancel (tasks[0], NULL);
  g_assert_true (weft_queue_put_nowait (queue, "x", NULL));   /* to b */
  g_assert_true (weft_queue_put_nowait (queue, "y", NULL));   /* to c */
  weft_task_cancel (tasks[1], NULL);
  g_assert_cmpuint (weft_queue_get_size (queue), ==, 2);   /* asyncio: until b and c resume */
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "a:Operation was cancelled b:Operation was cancelled c:y");
  g_assert_cmpstr (get_nowait_str (queue), ==, "x");
  tasks_unref (tasks, 3);
}

/* T8b with nothing else holding the queue: an item handed to a getter
 * whose task is cancelled before it resumes goes back into the queue,
 * which the wait kept alive, and is freed with it: never lost */
static void
test_queue_cancel_getter_after_unref (WeftTestLoop  *loop,
                                      gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  WeftQueue *queue = weft_queue_new_full (0, count_free);
  Actor a = ACTOR (log, "a", begin_get, queue);
  g_autoptr(WeftTask) task = NULL;

  n_freed = 0;
  g_object_add_weak_pointer (G_OBJECT (queue), (gpointer *) &queue);
  task = actor_spawn (KIND (data), &a);
  weft_test_pass ();
  g_assert_true (weft_queue_put_nowait (queue, "x", NULL));   /* to a */
  g_object_unref (queue);
  g_assert_nonnull (queue);

  g_assert_true (weft_task_cancel (task, NULL));
  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "a:Operation was cancelled");
  g_assert_null (queue);   /* let go of once the task is done */
  g_assert_cmpuint (n_freed, ==, 1);
}

/* T8b: two tasks await the same get, and both are cancelled after it was
 * handed an item: the item goes back once */
static void
test_queue_shared_getter_dropped_once (WeftTestLoop  *loop,
                                       gconstpointer  data)
{
  g_autoptr(WeftQueue) queue = weft_queue_new (0);
  g_autoptr(WeftFuture) get = weft_queue_get (queue);
  g_autoptr(WeftTask) first = weft_test_spawn_awaiting_future (KIND (data), get);
  g_autoptr(WeftTask) second = weft_test_spawn_awaiting_future (KIND (data), get);

  weft_test_pass ();
  g_assert_true (weft_queue_put_nowait (queue, "x", NULL));
  g_assert_true (weft_future_is_done (get));
  g_assert_true (weft_task_cancel (first, NULL));
  g_assert_true (weft_task_cancel (second, NULL));
  weft_test_run_until_idle ();
  weft_test_assert_future_cancelled (first, NULL);
  weft_test_assert_future_cancelled (second, NULL);
  g_assert_cmpuint (weft_queue_get_size (queue), ==, 1);
  g_assert_cmpstr (get_nowait_str (queue), ==, "x");
  /* the item went back: the future no longer holds it */
  g_assert_true (weft_future_is_cancelled (get));
}

/* asyncio's put_nowait() leaves the item in the queue until the woken
 * getter resumes and takes it: with maxsize 1 a second put_nowait() is
 * QueueFull, and a getter cancelled before it resumes leaves one item */
static void
test_queue_handed_item_counts (WeftTestLoop  *loop,
                               gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftQueue) queue = weft_queue_new (1);
  g_autoptr(GError) error = NULL;
  Actor actors[] = {
    ACTOR (log, "a", begin_get, queue),
    ACTOR (log, "b", begin_get, queue),
  };
  WeftTask *tasks[2];

  actors_spawn (KIND (data), actors, 2, tasks);
  g_assert_true (weft_queue_put_nowait (queue, "x", NULL));   /* to a */
  g_assert_cmpuint (weft_queue_get_size (queue), ==, 1);
  g_assert_false (weft_queue_is_empty (queue));
  g_assert_true (weft_queue_is_full (queue));
  g_assert_false (weft_queue_put_nowait (queue, "y", &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_QUEUE_FULL);
  g_clear_error (&error);

  weft_task_cancel (tasks[0], NULL);
  weft_test_pass ();   /* a drops x: it goes to b */
  g_assert_cmpstr (log->str, ==, "a:Operation was cancelled");
  g_assert_cmpuint (weft_queue_get_size (queue), ==, 1);
  g_assert_false (weft_queue_put_nowait (queue, "y", &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_QUEUE_FULL);
  g_clear_error (&error);

  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "a:Operation was cancelled b:x");
  g_assert_cmpuint (weft_queue_get_size (queue), ==, 0);
  g_assert_true (weft_queue_put_nowait (queue, "y", NULL));
  tasks_unref (tasks, 2);
}

/* QueueShutdownTests::test_shutdown_immediate: the item put_nowait() woke
 * a getter for is still in the queue, so an immediate shutdown drains it
 * (task_done, releasing join) and the getter gets QueueShutDown */
static void
test_queue_immediate_shutdown_drains_handed (WeftTestLoop  *loop,
                                             gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftQueue) queue = weft_queue_new_full (0, count_free);
  g_autoptr(WeftFuture) join = NULL;
  Actor a = ACTOR (log, "a", begin_get, queue);
  g_autoptr(WeftTask) task = NULL;

  n_freed = 0;
  task = actor_spawn (KIND (data), &a);
  weft_test_pass ();
  g_assert_true (weft_queue_put_nowait (queue, "x", NULL));   /* to a */
  join = weft_queue_join (queue);
  weft_queue_shutdown (queue, TRUE);
  g_assert_true (weft_future_is_done (join));
  g_assert_cmpuint (weft_queue_get_size (queue), ==, 0);
  weft_test_run_until_idle ();
  g_assert_cmpstr (log->str, ==, "a:Queue is shut down");
  g_assert_cmpuint (n_freed, ==, 1);
}

/* QueuePutTests::test_cancelled_puts_not_being_held_in_self_putters: a
 * cancelled put withdraws its item (the queue frees it) */
static void
test_queue_cancel_putter (WeftTestLoop  *loop,
                          gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftQueue) queue = weft_queue_new_full (1, count_free);
  Actor actors[] = {
    ACTOR (log, "a", begin_put, queue),
    ACTOR (log, "b", begin_put, queue),
    ACTOR (log, "c", begin_put, queue),
  };
  WeftTask *tasks[3];

  n_freed = 0;
  actors_spawn (KIND (data), actors, 3, tasks);
  weft_task_cancel (tasks[1], NULL);
  g_assert_cmpuint (n_freed, ==, 1);
  g_assert_cmpstr (get_nowait_str (queue), ==, "a");
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "a:ok b:Operation was cancelled c:ok");
  g_assert_cmpstr (get_nowait_str (queue), ==, "c");
  tasks_unref (tasks, 3);
}

/* QueueShutdownTests::test_shutdown_empty, test_shutdown_nonempty:
 * waiting getters and puts fail with QueueShutDown; items left can still
 * be taken, then gets fail too */
static void
test_queue_shutdown (WeftTestLoop  *loop,
                     gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftQueue) empty = weft_queue_new (0);
  g_autoptr(WeftQueue) full = weft_queue_new_full (1, count_free);
  g_autoptr(GError) error = NULL;
  Actor actors[] = {
    ACTOR (log, "a", begin_get, empty),
    ACTOR (log, "b", begin_put, full),
    ACTOR (log, "c", begin_put, full),
  };
  WeftTask *tasks[3];

  n_freed = 0;
  actors_spawn (KIND (data), actors, 3, tasks);
  g_assert_cmpstr (log->str, ==, "b:ok");

  weft_queue_shutdown (empty, FALSE);
  weft_queue_shutdown (full, FALSE);
  g_assert_cmpuint (n_freed, ==, 1);   /* c's item */
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "b:ok a:Queue is shut down c:Queue is shut down");

  g_assert_false (weft_queue_put_nowait (full, "d", &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_QUEUE_SHUT_DOWN);
  g_clear_error (&error);
  g_assert_cmpstr (get_nowait_str (full), ==, "b");
  g_assert_null (weft_queue_get_nowait (full, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_QUEUE_SHUT_DOWN);
  tasks_unref (tasks, 3);
}

/* QueueShutdownTests::test_shutdown_immediate, QueueJoinTests::test_join
 * and test_task_done: join waits for every item to be processed; an
 * immediate shutdown drops the items left, which releases join */
static void
test_queue_join_and_immediate_shutdown (WeftTestLoop  *loop,
                                        gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftQueue) queue = weft_queue_new_full (0, count_free);
  g_autoptr(GError) error = NULL;
  Actor actors[] = {
    ACTOR (log, "j1", begin_join, queue),
    ACTOR (log, "j2", begin_join, queue),
  };
  WeftTask *tasks[2];

  n_freed = 0;
  g_assert_true (weft_queue_put_nowait (queue, "x", NULL));
  g_assert_true (weft_queue_put_nowait (queue, "y", NULL));
  g_assert_true (weft_queue_put_nowait (queue, "z", NULL));
  tasks[0] = actor_spawn (KIND (data), &actors[0]);
  weft_test_pass ();

  g_assert_cmpstr (get_nowait_str (queue), ==, "x");
  g_assert_true (weft_queue_task_done (queue, NULL));
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "");

  weft_queue_shutdown (queue, TRUE);
  g_assert_cmpuint (n_freed, ==, 2);
  g_assert_true (weft_queue_is_empty (queue));
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "j1:ok");

  /* nothing outstanding: join does not suspend, task_done is too many */
  tasks[1] = actor_spawn (KIND (data), &actors[1]);
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "j1:ok j2:ok");
  g_assert_false (weft_queue_task_done (queue, &error));
  g_assert_error (error, WEFT_ERROR, WEFT_ERROR_INVALID_STATE);
  tasks_unref (tasks, 2);
}

/* PriorityQueueTests::test_order: lowest priority first, FIFO among equal
 * priorities; a waiting getter is handed the first item put */
static void
test_priority_queue_order (WeftTestLoop  *loop,
                           gconstpointer  data)
{
  g_autoptr(WeftPriorityQueue) queue = weft_priority_queue_new (0);
  WeftQueue *q = WEFT_QUEUE (queue);
  static const struct { gint64 priority; const char *item; } puts[] = {
    { 5, "e" }, { 1, "a" }, { 3, "c" }, { 1, "a2" }, { -2, "first" }, { 3, "c2" }, { 9, "last" },
  };
  static const char * const expected[] = { "first", "a", "a2", "c", "c2", "e", "last" };
  g_autoptr(GString) log = g_string_new (NULL);
  Actor a = ACTOR (log, "a", begin_get, q);
  g_autoptr(WeftTask) task = actor_spawn (KIND (data), &a);

  weft_test_pass ();
  g_assert_true (weft_priority_queue_put_nowait (queue, 7, "waited", NULL));
  weft_test_pass ();
  g_assert_cmpstr (log->str, ==, "a:waited");

  for (guint i = 0; i < G_N_ELEMENTS (puts); i++)
    {
      g_autoptr(WeftFuture) put = weft_priority_queue_put (queue, puts[i].priority, (gpointer) puts[i].item);

      g_assert_true (weft_future_propagate (put, NULL));
    }
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpstr (get_nowait_str (q), ==, expected[i]);
}

/* LifoQueueTests::test_order */
static void
test_lifo_queue_order (WeftTestLoop  *loop,
                       gconstpointer  data)
{
  g_autoptr(WeftQueue) queue = weft_lifo_queue_new (0);
  static const char * const items[] = { "1", "2", "3", "4" };

  g_assert_true (WEFT_IS_LIFO_QUEUE (queue));
  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    g_assert_true (weft_queue_put_nowait (queue, (gpointer) items[i], NULL));
  g_assert_cmpstr (get_nowait_str (queue), ==, "4");
  g_assert_true (weft_queue_put_nowait (queue, "5", NULL));
  g_assert_cmpstr (get_nowait_str (queue), ==, "5");
  g_assert_cmpstr (get_nowait_str (queue), ==, "3");
  g_assert_cmpstr (get_nowait_str (queue), ==, "2");
  g_assert_cmpstr (get_nowait_str (queue), ==, "1");
}

/* The FIFO ring wraps and grows without reordering */
static void
test_queue_ring_order (WeftTestLoop  *loop,
                       gconstpointer  data)
{
  g_autoptr(WeftQueue) queue = weft_queue_new (0);
  guint next_in = 0, next_out = 0;

  for (guint round = 0; round < 50; round++)
    {
      for (guint i = 0; i < round % 7 + 3; i++)
        g_assert_true (weft_queue_put_nowait (queue, GUINT_TO_POINTER (++next_in), NULL));
      for (guint i = 0; i < round % 5 + 1 && next_out < next_in; i++)
        g_assert_cmpuint (GPOINTER_TO_UINT (weft_queue_get_nowait (queue, NULL)), ==, ++next_out);
    }
  while (next_out < next_in)
    g_assert_cmpuint (GPOINTER_TO_UINT (weft_queue_get_nowait (queue, NULL)), ==, ++next_out);
}

/* Getting inside a task allocates nothing once the task has waited */
static void
test_queue_get_reuses_futures (WeftTestLoop  *loop,
                               gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(WeftQueue) queue = weft_queue_new (0);
  Actor a = ACTOR (log, "a", begin_get, queue);
  g_autoptr(WeftTask) task = NULL;
  g_autoptr(GHashTable) distinct = g_hash_table_new (NULL, NULL);

  a.rounds = 30;
  task = actor_spawn (KIND (data), &a);
  weft_test_pass ();
  for (guint i = 0; i < a.rounds; i++)
    {
      g_assert_true (weft_queue_put_nowait (queue, i % 2 ? "odd" : "even", NULL));
      weft_test_pass ();
    }
  g_assert_true (weft_future_is_done (WEFT_FUTURE (task)));
  g_assert_true (g_str_has_prefix (log->str, "a:even a:odd a:even"));

  for (guint i = 0; i < a.rounds; i++)
    g_hash_table_add (distinct, a.futures[i]);
  g_assert_cmpuint (g_hash_table_size (distinct), <=, 2);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  WEFT_TEST_ADD ("/queue/nowait", test_queue_nowait);
  weft_test_add_both_kinds ("queue", "getters-fifo", test_queue_getters_fifo);
  weft_test_add_both_kinds ("queue", "putters-fifo", test_queue_putters_fifo);
  weft_test_add_both_kinds ("queue", "cancel-getters", test_queue_cancel_getters);
  weft_test_add_both_kinds ("queue", "cancel-getter-after-unref", test_queue_cancel_getter_after_unref);
  weft_test_add_both_kinds ("queue", "shared-getter-dropped-once", test_queue_shared_getter_dropped_once);
  weft_test_add_both_kinds ("queue", "cancel-putter", test_queue_cancel_putter);
  weft_test_add_both_kinds ("queue", "handed-item-counts", test_queue_handed_item_counts);
  weft_test_add_both_kinds ("queue", "immediate-shutdown-drains-handed", test_queue_immediate_shutdown_drains_handed);
  weft_test_add_both_kinds ("queue", "shutdown", test_queue_shutdown);
  weft_test_add_both_kinds ("queue", "join-and-immediate-shutdown", test_queue_join_and_immediate_shutdown);
  weft_test_add_both_kinds ("queue", "priority-order", test_priority_queue_order);
  WEFT_TEST_ADD ("/queue/lifo-order", test_lifo_queue_order);
  WEFT_TEST_ADD ("/queue/ring-order", test_queue_ring_order);
  weft_test_add_both_kinds ("queue", "get-reuses-futures", test_queue_get_reuses_futures);

  return g_test_run ();
}
