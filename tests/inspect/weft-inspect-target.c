/* weft-inspect-target.c — a program with a known task tree, for test-inspect.py
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Run with WEFT_INSPECT=1. Once the tree below is in place it prints
 * "ready", then obeys commands on stdin, one per line:
 *
 *   block MS     a task "blocker" runs one step that blocks the main loop for
 *                MS milliseconds; it prints "blocking" first, "unblocked" after
 *   spawn NAME   a root task NAME sleeping for an hour
 *   churn        a task "churner" that makes and awaits a short task every
 *                millisecond, until it is cancelled
 *   disable      weft_inspector_disable(), then prints "disabled"
 *   enable       weft_inspector_enable(), then prints "enabled"
 *   quit         leave main(), tasks still pending (end of input does the same)
 *
 * The tree (names are what the driver looks for):
 *
 *   main (fiber) awaiting its TaskGroup, whose children are
 *     album-1  fiber suspended in target_wait_for_encore() on an Event
 *     album-2  stackless, sleeping for an hour
 *     worker   stackless, in a context where "request-id" is 42
 *     victim   fiber waiting forever; cancelled, prints
 *              "victim cancelled: MESSAGE" and ends cancelled
 *   gatherer (fiber) awaiting a gather of gather-a and gather-b
 *   cancelled-one  cancelled by main with "stop it", finished
 *   failing        failed, its error never read, finalized
 *
 * Every await is on a line marked SITE:NAME so that the driver can find
 * the line numbers. The coroutine functions are global, and the program is
 * linked with -rdynamic, so that a dladdr()-only build names them too.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <weft.h>

/* Global so that every symbolizer backend names them */
void target_main               (WeftTask *task, gpointer user_data);
void target_album_1            (WeftTask *task, gpointer user_data);
gboolean target_wait_for_encore (WeftEvent *encore);
void target_album_2_step       (WeftTask *task, WeftFuture *awaited, const GError *error, gpointer user_data);
void target_worker_step        (WeftTask *task, WeftFuture *awaited, const GError *error, gpointer user_data);
void target_victim             (WeftTask *task, gpointer user_data);
void target_gatherer           (WeftTask *task, gpointer user_data);
void target_gather_child_step  (WeftTask *task, WeftFuture *awaited, const GError *error, gpointer user_data);
void target_cancelled_one_step (WeftTask *task, WeftFuture *awaited, const GError *error, gpointer user_data);
void target_failing_step       (WeftTask *task, WeftFuture *awaited, const GError *error, gpointer user_data);
void target_blocker_step       (WeftTask *task, WeftFuture *awaited, const GError *error, gpointer user_data);
void target_spawned_step       (WeftTask *task, WeftFuture *awaited, const GError *error, gpointer user_data);
void target_churner             (WeftTask *task, gpointer user_data);
void target_churn_child_step   (WeftTask *task, WeftFuture *awaited, const GError *error, gpointer user_data);

#define AN_HOUR 3600.0

static GMainLoop *loop;
static WeftEvent *encore;          /* never set */
static WeftEvent *forever;         /* never set */
static WeftContextVar *request_id;

/* What must be in place before "ready" */
static WeftTask *waiting_tasks[8];
static guint n_waiting_tasks;
static WeftTask *cancelled_one;
static gboolean tree_built;

static void
keep_waiting_task (WeftTask *task)
{
  g_assert (n_waiting_tasks < G_N_ELEMENTS (waiting_tasks));
  waiting_tasks[n_waiting_tasks++] = g_object_ref (task);
}

static void
say (const char *format,
     ...) G_GNUC_PRINTF (1, 2);

static void
say (const char *format,
     ...)
{
  va_list args;

  va_start (args, format);
  vprintf (format, args);
  va_end (args);
  putchar ('\n');
  fflush (stdout);
}

/* album-1 */

G_GNUC_NO_INLINE gboolean
target_wait_for_encore (WeftEvent *event)
{
  g_autoptr(WeftFuture) wait = weft_event_wait (event);

  return weft_await (wait, NULL);  /* SITE:encore */
}

void
target_album_1 (WeftTask *task,
                gpointer  user_data)
{
  /* Not a tail call: the native stack shows this frame too */
  if (target_wait_for_encore (encore))
    say ("encore");
}

/* album-2 */

void
target_album_2_step (WeftTask     *task,
                     WeftFuture   *awaited,
                     const GError *error,
                     gpointer      user_data)
{
  if (awaited == NULL && error == NULL)
    weft_task_sleep (task, AN_HOUR);  /* SITE:album-2 */
  else
    weft_task_return_void (task);
}

/* worker: its context was given the request id by its creator */

void
target_worker_step (WeftTask     *task,
                    WeftFuture   *awaited,
                    const GError *error,
                    gpointer      user_data)
{
  if (awaited == NULL && error == NULL)
    weft_task_sleep (task, AN_HOUR);  /* SITE:worker */
  else
    weft_task_return_void (task);
}

static void
set_request_id (gpointer user_data)
{
  /* The token is only needed to reset the variable, which nobody does */
  weft_context_token_unref (weft_context_var_set_int64 (request_id, 42));
}

/* victim */

void
target_victim (WeftTask *task,
               gpointer  user_data)
{
  g_autoptr(WeftFuture) wait = weft_event_wait (forever);
  GError *error = NULL;

  if (weft_await (wait, &error))  /* SITE:victim */
    return;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    say ("victim cancelled: %s", error->message);
  weft_task_return_error (task, error);
}

/* gatherer and its two children */

void
target_gather_child_step (WeftTask     *task,
                          WeftFuture   *awaited,
                          const GError *error,
                          gpointer      user_data)
{
  if (awaited == NULL && error == NULL)
    weft_task_sleep (task, AN_HOUR);  /* SITE:gather-child */
  else
    weft_task_return_void (task);
}

void
target_gatherer (WeftTask *task,
                 gpointer  user_data)
{
  g_autoptr(WeftTask) a = weft_task_new ("gather-a", target_gather_child_step, NULL, NULL);
  g_autoptr(WeftTask) b = weft_task_new ("gather-b", target_gather_child_step, NULL, NULL);
  WeftFuture *children[] = { WEFT_FUTURE (a), WEFT_FUTURE (b) };
  g_autoptr(WeftGather) gather = weft_gather_new (children, G_N_ELEMENTS (children), FALSE);

  keep_waiting_task (a);
  keep_waiting_task (b);
  weft_await (WEFT_FUTURE (gather), NULL);  /* SITE:gatherer */
}

/* cancelled-one: sleeps until main cancels it */

void
target_cancelled_one_step (WeftTask     *task,
                           WeftFuture   *awaited,
                           const GError *error,
                           gpointer      user_data)
{
  if (error != NULL)
    weft_task_return_error (task, g_error_copy (error));
  else if (awaited == NULL)
    weft_task_sleep (task, AN_HOUR);  /* SITE:cancelled-one */
  else
    weft_task_return_void (task);
}

/* failing: fails at once; nobody reads the error */

void
target_failing_step (WeftTask     *task,
                     WeftFuture   *awaited,
                     const GError *error,
                     gpointer      user_data)
{
  weft_task_return_error (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED,
                                                     "nobody reads this"));
}

/* main */

void
target_main (WeftTask *task,
             gpointer  user_data)
{
  g_autoptr(WeftTaskGroup) group = NULL;
  g_autoptr(WeftContext) worker_context = weft_context_copy_current ();
  g_autoptr(WeftTask) gatherer = NULL;
  g_autoptr(WeftFuture) group_done = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(WeftTask) failing = NULL;
  WeftTask *child;

  keep_waiting_task (task);

  cancelled_one = weft_task_new ("cancelled-one", target_cancelled_one_step, NULL, NULL);
  weft_sleep (0, NULL);
  weft_task_cancel (cancelled_one, "stop it");
  if (weft_await (WEFT_FUTURE (cancelled_one), &error))
    g_error ("cancelled-one was not cancelled");
  g_clear_error (&error);

  failing = weft_task_new ("failing", target_failing_step, NULL, NULL);
  while (!weft_future_is_done (WEFT_FUTURE (failing)))
    weft_sleep (0, NULL);
  g_clear_object (&failing);

  gatherer = weft_fiber_new ("gatherer", target_gatherer, NULL, NULL);
  keep_waiting_task (gatherer);

  group = weft_task_group_new (NULL);
  child = weft_task_group_create_fiber (group, "album-1", target_album_1, NULL, NULL, NULL);
  keep_waiting_task (child);
  child = weft_task_group_create_task (group, "album-2", target_album_2_step, NULL, NULL, NULL);  /* SITE:create-album-2 */
  keep_waiting_task (child);
  if (!weft_context_run (worker_context, set_request_id, NULL, &error))
    g_error ("could not set the request id: %s", error->message);
  child = weft_task_group_create_task_full (group, "worker", worker_context, WEFT_TASK_FLAGS_NONE,
                                            target_worker_step, NULL, NULL, NULL);
  keep_waiting_task (child);
  child = weft_task_group_create_fiber (group, "victim", target_victim, NULL, NULL, NULL);
  keep_waiting_task (child);
  tree_built = TRUE;

  group_done = weft_task_group_wait (group, NULL);
  weft_await (group_done, NULL);  /* SITE:main */
}

/* "ready" once every task waits where it should */

static gboolean
announce_when_ready (gpointer user_data)
{
  if (!tree_built || !weft_future_is_cancelled (WEFT_FUTURE (cancelled_one)))
    return G_SOURCE_CONTINUE;

  for (guint i = 0; i < n_waiting_tasks; i++)
    if (!weft_task_is_suspended (waiting_tasks[i]))
      return G_SOURCE_CONTINUE;

  say ("ready");
  return G_SOURCE_REMOVE;
}

/* Commands */

void
target_blocker_step (WeftTask     *task,
                     WeftFuture   *awaited,
                     const GError *error,
                     gpointer      user_data)
{
  say ("blocking");
  g_usleep (GPOINTER_TO_UINT (user_data) * G_TIME_SPAN_MILLISECOND);
  say ("unblocked");
  weft_task_return_void (task);
}

void
target_spawned_step (WeftTask     *task,
                     WeftFuture   *awaited,
                     const GError *error,
                     gpointer      user_data)
{
  if (awaited == NULL && error == NULL)
    weft_task_sleep (task, AN_HOUR);  /* SITE:spawned */
  else
    weft_task_return_void (task);
}

void
target_churn_child_step (WeftTask     *task,
                         WeftFuture   *awaited,
                         const GError *error,
                         gpointer      user_data)
{
  weft_task_return_void (task);
}

void
target_churner (WeftTask *task,
                gpointer  user_data)
{
  GError *error = NULL;

  for (;;)
    {
      g_autoptr(WeftTask) child = weft_task_new ("churn-child", target_churn_child_step, NULL, NULL);

      if (!weft_await (WEFT_FUTURE (child), &error) || !weft_sleep (0.001, &error))
        break;
    }
  weft_task_return_error (task, error);
}

static void
enable_inspector (void)
{
  g_autoptr(GError) error = NULL;

  if (!weft_inspector_enable (&error))
    g_error ("could not enable the inspector: %s", error->message);
  say ("enabled");
}

static void
run_command (const char *line)
{
  g_autoptr(WeftTask) task = NULL;
  guint ms;

  if (g_str_equal (line, "quit"))
    g_main_loop_quit (loop);
  else if (sscanf (line, "block %u", &ms) == 1)
    task = weft_task_new ("blocker", target_blocker_step, GUINT_TO_POINTER (ms), NULL);
  else if (g_str_equal (line, "churn"))
    task = weft_fiber_new ("churner", target_churner, NULL, NULL);
  else if (g_str_has_prefix (line, "spawn "))
    task = weft_task_new (line + strlen ("spawn "), target_spawned_step, NULL, NULL);
  else if (g_str_equal (line, "disable"))
    {
      weft_inspector_disable ();
      say ("disabled");
    }
  else if (g_str_equal (line, "enable"))
    enable_inspector ();
  else
    g_printerr ("weft-inspect-target: unknown command '%s'\n", line);
}

static gboolean
read_command (GIOChannel   *channel,
              GIOCondition  condition,
              gpointer      user_data)
{
  g_autofree char *line = NULL;
  g_autoptr(GError) error = NULL;
  GIOStatus status;

  status = g_io_channel_read_line (channel, &line, NULL, NULL, &error);
  if (status == G_IO_STATUS_AGAIN)
    return G_SOURCE_CONTINUE;
  if (status != G_IO_STATUS_NORMAL)
    {
      g_main_loop_quit (loop);
      return G_SOURCE_REMOVE;
    }

  run_command (g_strchomp (line));
  return G_SOURCE_CONTINUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GIOChannel) input = g_io_channel_unix_new (STDIN_FILENO);
  g_autoptr(WeftTask) main_task = NULL;

  g_set_prgname ("weft-inspect-target");
  loop = g_main_loop_new (NULL, FALSE);
  encore = weft_event_new ();
  forever = weft_event_new ();
  request_id = weft_context_var_new ("request-id", G_TYPE_INT64, NULL);

  main_task = weft_fiber_new ("main", target_main, NULL, NULL);
  g_timeout_add (5, announce_when_ready, NULL);
  g_io_add_watch (input, G_IO_IN | G_IO_HUP | G_IO_ERR, read_command, NULL);

  g_main_loop_run (loop);

  /* Leave with the tree still pending: the inspector reports it at exit */
  return EXIT_SUCCESS;
}
