/* sync-actor.h — a task that waits on a synchronization primitive, for
 * test-sync.c and test-queue.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "weft-test-utils.h"

/* An actor runs as a fiber or a stackless task. For each of its rounds it
 * starts a wait with @begin, awaits the future and logs the outcome as
 * "name:value" (a string item, an integer, or "ok") or "name:error
 * message", then calls @after, if set, with the outcome.
 */
typedef struct _Actor Actor;

struct _Actor
{
  GString      *log;
  const char   *name;
  WeftFuture *(*begin) (Actor *actor);
  void        (*after) (Actor *actor, const GError *error);
  gpointer      target;
  guint         rounds;        /* 0 counts as 1 */
  guint         round;
  gboolean      started;
  WeftFuture   *futures[64];   /* each round's future, borrowed: for identity checks */
};

static void
actor_log_outcome (Actor        *a,
                   WeftFuture   *future,
                   const GError *error)
{
  g_auto(GValue) value = G_VALUE_INIT;

  if (error != NULL)
    weft_test_log (a->log, "%s:%s", a->name, error->message);
  else if (!weft_future_get_value (future, &value, NULL) || !G_IS_VALUE (&value))
    weft_test_log (a->log, "%s:ok", a->name);
  else if (G_VALUE_HOLDS_POINTER (&value))
    weft_test_log (a->log, "%s:%s", a->name, (const char *) g_value_get_pointer (&value));
  else if (G_VALUE_HOLDS_INT64 (&value))
    weft_test_log (a->log, "%s:%" G_GINT64_FORMAT, a->name, g_value_get_int64 (&value));
  else
    g_assert_not_reached ();

  if (a->after != NULL)
    a->after (a, error);
}

static WeftFuture *
actor_begin_round (Actor *a)
{
  WeftFuture *future = a->begin (a);

  if (a->round < G_N_ELEMENTS (a->futures))
    a->futures[a->round] = future;
  return future;
}

static void
actor_fiber (WeftTask *task,
             gpointer  user_data)
{
  Actor *a = user_data;

  for (a->round = 0; a->round < MAX (a->rounds, 1); a->round++)
    {
      g_autoptr(WeftFuture) future = actor_begin_round (a);
      g_autoptr(GError) error = NULL;

      weft_await (future, &error);
      actor_log_outcome (a, future, error);
    }
  weft_task_return_void (task);
}

static void
actor_step (WeftTask     *task,
            WeftFuture   *awaited,
            const GError *error,
            gpointer      user_data)
{
  Actor *a = user_data;

  if (a->started)
    {
      actor_log_outcome (a, awaited, error);
      a->round++;
    }
  a->started = TRUE;

  if (a->round < MAX (a->rounds, 1))
    {
      g_autoptr(WeftFuture) future = actor_begin_round (a);

      weft_task_await (task, future);
    }
  else
    weft_task_return_void (task);
}

static WeftTask *
actor_spawn (Kind   kind,
             Actor *a)
{
  if (kind == KIND_FIBER)
    return weft_fiber_new (a->name, actor_fiber, a, NULL);
  return weft_task_new (a->name, actor_step, a, NULL);
}

/* Spawns @actors and lets them all start waiting. */
static void
actors_spawn (Kind       kind,
              Actor     *actors,
              guint      n,
              WeftTask **tasks)
{
  for (guint i = 0; i < n; i++)
    tasks[i] = actor_spawn (kind, &actors[i]);
  weft_test_pass ();
}

static void
tasks_unref (WeftTask **tasks,
             guint      n)
{
  for (guint i = 0; i < n; i++)
    g_clear_object (&tasks[i]);
}
