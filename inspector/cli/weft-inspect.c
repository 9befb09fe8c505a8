/* weft-inspect.c: the command line client of org.gnome.Weft.Inspector1
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <glib-unix.h>

#include "weft-inspect-client.h"
#include "weft-inspect-format.h"
#include "weft-inspect-model.h"
#include "weft-inspect-record.h"
#include "weft-inspect-views.h"

#define CLEAR_SCREEN "\033[H\033[2J"

static int
fail (const char *format,
      ...) G_GNUC_PRINTF (1, 2);

static int
fail (const char *format,
      ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("weft-inspect: %s\n", message);
  return 1;
}

static void
print_string (GString *text)
{
  fwrite (text->str, 1, text->len, stdout);
  fflush (stdout);
}

static WeftInspectViewStyle
view_style (void)
{
  WeftInspectViewStyle style = { 0, 0, FALSE };

  if (weft_inspect_terminal_size (STDOUT_FILENO, &style.width, &style.height))
    style.color = g_getenv ("NO_COLOR") == NULL;
  return style;
}

/* Parses a command's options; the remaining arguments are in argv[1..].
 * @n_min/@n_max: how many positional arguments the command takes. */
static gboolean
parse_command (int           *argc,
               char        ***argv,
               const char    *usage,
               const char    *summary,
               const char    *description,
               GOptionEntry  *entries,
               int            n_min,
               int            n_max,
               int           *status)
{
  g_autoptr(GOptionContext) context = g_option_context_new (usage);
  g_autoptr(GError) error = NULL;

  g_option_context_set_summary (context, summary);
  g_option_context_set_description (context, description);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      *status = fail ("%s", error->message);
      return FALSE;
    }
  if (*argc - 1 < n_min || *argc - 1 > n_max)
    {
      *status = fail ("usage: %s %s (see %s --help)", g_get_prgname (), usage, g_get_prgname ());
      return FALSE;
    }
  return TRUE;
}

static WeftInspectModel *
snapshot (const char       *pid,
          GDBusConnection **connection_out,
          GError          **error)
{
  g_autoptr(GDBusConnection) connection = weft_inspect_connect (pid, NULL, error);
  g_autoptr(WeftInspectModel) model = NULL;
  g_autoptr(GVariant) batch = NULL;

  if (connection == NULL)
    return NULL;
  batch = weft_inspect_get_snapshot (connection, error);
  if (batch == NULL)
    return NULL;

  model = weft_inspect_model_new ();
  if (!weft_inspect_model_apply (model, batch, error))
    return NULL;
  if (connection_out != NULL)
    *connection_out = g_steal_pointer (&connection);
  return g_steal_pointer (&model);
}

/* where and cancel: the state, and the one task named. */
static WeftInspectTask *
snapshot_task (const char        *pid,
               const char        *name,
               GDBusConnection  **connection_out,
               WeftInspectModel **model_out,
               GError           **error)
{
  *model_out = snapshot (pid, connection_out, error);
  if (*model_out == NULL)
    return NULL;
  return weft_inspect_model_find_task (*model_out, name, error);
}

/* list */

static int
cmd_list (int    argc,
          char **argv)
{
  g_autoptr(GArray) pids = NULL;
  g_autoptr(WeftInspectTable) table = NULL;
  static const char * const headers[] = { "PID", "PROGRAM", "TASKS", NULL };
  g_autoptr(GString) out = g_string_new (NULL);
  WeftInspectViewStyle style = view_style ();
  int status;

  if (!parse_command (&argc, &argv, "", "List the programs weft-inspect can attach to.",
                      "Programs that use Weft serve their inspector on a socket in\n"
                      "$XDG_RUNTIME_DIR/weft/, named after their pid, once they run with\n"
                      "WEFT_INSPECT=1 or call weft_inspector_enable(). Sockets of programs\n"
                      "that are gone are skipped. TASKS counts unfinished tasks; '?' means\n"
                      "the program did not answer.",
                      NULL, 0, 0, &status))
    return status;

  table = weft_inspect_table_new (headers);
  weft_inspect_table_set_column (table, 0, WEFT_INSPECT_ALIGN_RIGHT, 0);
  weft_inspect_table_set_column (table, 1, WEFT_INSPECT_ALIGN_LEFT, 8);
  weft_inspect_table_set_column (table, 2, WEFT_INSPECT_ALIGN_RIGHT, 0);

  pids = weft_inspect_list_pids ();
  for (guint i = 0; i < pids->len; i++)
    {
      g_autofree char *pid = g_strdup_printf ("%u", g_array_index (pids, guint, i));
      g_autoptr(WeftInspectModel) model = snapshot (pid, NULL, NULL);
      g_autoptr(GPtrArray) tasks = NULL;
      g_autofree char *count = NULL;
      g_autofree char *comm = NULL;
      g_autofree char *comm_path = g_strdup_printf ("/proc/%s/comm", pid);
      const char *program = "";

      if (model != NULL)
        {
          tasks = weft_inspect_model_list_tasks (model, FALSE);
          count = g_strdup_printf ("%u", tasks->len);
          program = weft_inspect_model_get_program (model);
        }
      else
        count = g_strdup ("?");
      if (*program == '\0')
        program = g_file_get_contents (comm_path, &comm, NULL, NULL) ? g_strstrip (comm) : "?";
      weft_inspect_table_add_row (table, (const char *[]) { pid, program, count });
    }

  weft_inspect_table_format (table, out, style.width, style.color);
  print_string (out);
  return 0;
}

/* ps */

static int
cmd_ps (int    argc,
        char **argv)
{
  gboolean all = FALSE;
  GOptionEntry entries[] = {
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "Also show the finished tasks the program keeps", NULL },
    { NULL }
  };
  g_autoptr(WeftInspectModel) model = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  WeftInspectViewStyle style = view_style ();
  int status;

  if (!parse_command (&argc, &argv, "PID", "Print a row per unfinished task of a program.",
                      "PID is a process id, or the path of an inspector socket.\n\n"
                      "Columns: ID, NAME, STATE (scheduled, running, suspended, done, failed,\n"
                      "cancelled), CANCELLING (pending cancel requests), FUNCTION (the coroutine\n"
                      "function), AWAIT SITE (function file:line of its current or last await),\n"
                      "AWAITS (what it awaits now), BUSY (time in steps), IDLE (time suspended),\n"
                      "STEPS. Below the table: blocked main loops, then lints.",
                      entries, 1, 1, &status))
    return status;

  model = snapshot (argv[1], NULL, &error);
  if (model == NULL)
    return fail ("%s", error->message);

  weft_inspect_view_ps (model, all, &style, out);
  print_string (out);
  return 0;
}

/* pstree */

static int
print_pstree (WeftInspectModel *model)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) err = g_string_new (NULL);

  if (!weft_inspect_view_pstree (model, out, err))
    {
      fputs (err->str, stderr);
      return 1;
    }
  print_string (out);
  return 0;
}

static int
cmd_pstree (int    argc,
            char **argv)
{
  g_autoptr(WeftInspectModel) model = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  if (!parse_command (&argc, &argv, "PID", "Print the await tree of a program's tasks.",
                      "As `python -m asyncio pstree`: one tree per unfinished task that no task\n"
                      "awaits. Task nodes read '(T) NAME'; below a task, the await site\n"
                      "(' FUNCTION FILE:LINE') where it waits on the tasks under it. A task\n"
                      "that awaits no task shows its own await site. A TaskGroup's owner\n"
                      "awaits the group's unfinished tasks.\n\n"
                      "If the await graph has a cycle, prints it on stderr and exits with 1.",
                      NULL, 1, 1, &status))
    return status;

  model = snapshot (argv[1], NULL, &error);
  if (model == NULL)
    return fail ("%s", error->message);
  return print_pstree (model);
}

/* where */

static int
cmd_where (int    argc,
           char **argv)
{
  gboolean no_native = FALSE;
  GOptionEntry entries[] = {
    { "no-native", 'n', 0, G_OPTION_ARG_NONE, &no_native, "Do not unwind a fiber's native stack", NULL },
    { NULL }
  };
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(WeftInspectModel) model = NULL;
  g_autoptr(GVariant) frames = NULL;
  g_autofree char *note = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  WeftInspectTask *task;
  int status;

  if (!parse_command (&argc, &argv, "PID TASK", "Print everything about one task.",
                      "TASK is a task id or a task's exact name.\n\n"
                      "Shows its state, kind, function, where it was created, its parent,\n"
                      "TaskGroup, the tasks it awaits and that await it, the await-site\n"
                      "chain, for an unfinished fiber its native stack (unwound from its\n"
                      "saved context), cancel requests, context values, timing and the\n"
                      "outcome of a finished task.",
                      entries, 2, 2, &status))
    return status;

  task = snapshot_task (argv[1], argv[2], &connection, &model, &error);
  if (task == NULL)
    return fail ("%s", error->message);

  if (!no_native && g_str_equal (weft_inspect_task_get_string (task, "kind"), "fiber") &&
      !weft_inspect_task_is_finished (task))
    {
      frames = weft_inspect_get_backtrace (connection, weft_inspect_task_get_id (task), &note, &error);
      if (frames == NULL)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
            note = g_strdup ("the task finished meanwhile");
          else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BUSY))
            note = g_strdup ("its main loop is blocked: no answer within a second");
          else
            note = g_strdup (error->message);
        }
    }

  weft_inspect_view_where (model, task, frames, note, out);
  print_string (out);
  return 0;
}

/* cancel */

static int
cmd_cancel (int    argc,
            char **argv)
{
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(WeftInspectModel) model = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *outcome = NULL;
  WeftInspectTask *task;
  int status;

  if (!parse_command (&argc, &argv, "PID TASK [MESSAGE]", "Cancel a task.",
                      "Calls weft_task_cancel (TASK, MESSAGE) on the task's own thread.\n"
                      "TASK is a task id or a task's exact name. Prints the outcome:\n"
                      "  cancelled  the request was delivered\n"
                      "  done       the task had finished already\n"
                      "  queued     its main loop is blocked; the request is delivered when\n"
                      "             it runs again",
                      NULL, 2, 3, &status))
    return status;

  task = snapshot_task (argv[1], argv[2], &connection, &model, &error);
  if (task == NULL)
    return fail ("%s", error->message);

  outcome = weft_inspect_cancel (connection, weft_inspect_task_get_id (task),
                                 argc > 3 ? argv[3] : "", &error);
  if (outcome == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    outcome = g_strdup ("done");
  else if (outcome == NULL)
    return fail ("%s", error->message);

  g_print ("%s\n", outcome);
  return 0;
}

/* top and record: subscriptions */

typedef struct
{
  GMainLoop               *loop;
  GDBusConnection         *connection;
  WeftInspectModel        *model;
  WeftInspectTop          *top;
  WeftInspectRecordWriter *writer;
  GError                  *error;
  int                      iterations;
  int                      views;
} Session;

static void
session_stop (Session *session)
{
  g_main_loop_quit (session->loop);
}

static gboolean
on_quit_signal (gpointer user_data)
{
  session_stop (user_data);
  return G_SOURCE_CONTINUE;
}

static void
on_closed (GDBusConnection *connection,
           gboolean         remote_peer_vanished,
           GError          *error,
           gpointer         user_data)
{
  session_stop (user_data);
}

static void
session_apply (Session  *session,
               GVariant *batch)
{
  if (session->error == NULL && !weft_inspect_model_apply (session->model, batch, &session->error))
    session_stop (session);
}

static void
top_render (Session *session)
{
  g_autoptr(GString) out = g_string_new (NULL);
  WeftInspectViewStyle style = view_style ();

  if (isatty (STDOUT_FILENO))
    g_string_append (out, CLEAR_SCREEN);
  else if (session->views > 0)
    g_string_append_c (out, '\n');
  weft_inspect_top_view (session->top, session->model, &style, out);
  print_string (out);
  session->views++;
  if (session->iterations > 0 && session->views >= session->iterations)
    session_stop (session);
}

static void
on_top_batch (GVariant *batch,
              gpointer  user_data)
{
  session_apply (user_data, batch);
}

static gboolean
on_top_tick (gpointer user_data)
{
  top_render (user_data);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_key (int          fd,
        GIOCondition condition,
        gpointer     user_data)
{
  char key = 0;

  if (read (fd, &key, 1) != 1 || key == 'q' || key == 'Q' || key == 3 /* Ctrl-C in raw mode */)
    {
      session_stop (user_data);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
unsubscribe (Session *session,
             guint    subscription)
{
  g_dbus_connection_signal_unsubscribe (session->connection, subscription);
  if (!g_dbus_connection_is_closed (session->connection))
    g_dbus_connection_call_sync (session->connection, NULL, WEFT_INSPECT_OBJECT_PATH,
                                 WEFT_INSPECT_INTERFACE, "Unsubscribe", NULL, NULL,
                                 G_DBUS_CALL_FLAGS_NONE, 1000, NULL, NULL);
}

static int
cmd_top (int    argc,
         char **argv)
{
  int interval = 1000, iterations = 0;
  GOptionEntry entries[] = {
    { "interval", 'i', 0, G_OPTION_ARG_INT, &interval, "Refresh every MS milliseconds (default 1000)", "MS" },
    { "iterations", 'n', 0, G_OPTION_ARG_INT, &iterations, "Quit after N refreshes", "N" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) batch = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(WeftInspectModel) model = NULL;
  g_autoptr(WeftInspectTop) top = NULL;
  g_autoptr(GDBusConnection) connection = NULL;
  Session session = { 0 };
  struct termios saved_termios;
  gboolean raw = FALSE;
  guint subscription = 0, sources[4];
  int status;

  if (!parse_command (&argc, &argv, "PID", "Watch a program's tasks live.",
                      "A table of unfinished tasks, the busiest in the last interval first:\n"
                      "BUSY% and RECENT are the time in steps during the last interval, BUSY\n"
                      "and STEPS since the task started. The header counts tasks by state and\n"
                      "says which loops are blocked; lints come last.\n\n"
                      "On a terminal the table redraws in place; otherwise successive tables\n"
                      "are separated by a blank line. Quits on q, Ctrl-C, the program's exit\n"
                      "or after --iterations.",
                      entries, 1, 1, &status))
    return status;
  if (interval < 20 || iterations < 0)
    return fail ("--interval must be at least 20 ms and --iterations positive");

  connection = weft_inspect_connect (argv[1], NULL, &error);
  if (connection == NULL)
    return fail ("%s", error->message);

  loop = g_main_loop_new (NULL, FALSE);
  model = weft_inspect_model_new ();
  top = weft_inspect_top_new ();
  session = (Session) {
    .loop = loop, .connection = connection, .model = model, .top = top, .iterations = iterations,
  };

  batch = weft_inspect_subscribe (connection, MIN (interval, 100), on_top_batch, &session,
                                  &subscription, &error);
  if (batch == NULL || !weft_inspect_model_apply (model, batch, &error))
    return fail ("%s", error->message);

  g_signal_connect (connection, "closed", G_CALLBACK (on_closed), &session);
  sources[0] = g_unix_signal_add (SIGINT, on_quit_signal, &session);
  sources[1] = g_unix_signal_add (SIGTERM, on_quit_signal, &session);
  sources[2] = g_timeout_add (interval, on_top_tick, &session);
  sources[3] = 0;
  if (isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &saved_termios) == 0)
    {
      struct termios raw_termios = saved_termios;

      raw_termios.c_lflag &= ~(ICANON | ECHO);
      raw = tcsetattr (STDIN_FILENO, TCSANOW, &raw_termios) == 0;
      sources[3] = g_unix_fd_add (STDIN_FILENO, G_IO_IN, on_key, &session);
    }

  top_render (&session);
  if (session.iterations == 0 || session.views < session.iterations)
    g_main_loop_run (loop);

  for (guint i = 0; i < G_N_ELEMENTS (sources); i++)
    if (sources[i] != 0)
      g_source_remove (sources[i]);
  if (raw)
    tcsetattr (STDIN_FILENO, TCSANOW, &saved_termios);
  g_signal_handlers_disconnect_by_data (connection, &session);
  unsubscribe (&session, subscription);

  if (session.error != NULL)
    return fail ("%s", session.error->message);
  return 0;
}

static void
on_record_batch (GVariant *batch,
                 gpointer  user_data)
{
  Session *session = user_data;

  if (session->error == NULL &&
      !weft_inspect_record_writer_append (session->writer, batch, &session->error))
    session_stop (session);
}

static gboolean
on_duration_over (gpointer user_data)
{
  session_stop (user_data);
  return G_SOURCE_CONTINUE;
}

static int
cmd_record (int    argc,
            char **argv)
{
  double duration = 0;
  int interval = 100;
  GOptionEntry entries[] = {
    { "duration", 'd', 0, G_OPTION_ARG_DOUBLE, &duration, "Stop after SECONDS", "SECONDS" },
    { "interval", 'i', 0, G_OPTION_ARG_INT, &interval, "Ask for a batch every MS milliseconds (default 100)", "MS" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) batch = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(WeftInspectRecordWriter) writer = NULL;
  Session session = { 0 };
  guint subscription = 0, sources[3] = { 0 };
  int status;

  if (!parse_command (&argc, &argv, "PID FILE", "Record a program's batches to a file.",
                      "Subscribes to the program and writes the full batch it answers, then\n"
                      "every delta, to FILE, until Ctrl-C, SIGTERM, the program's exit or\n"
                      "--duration. `weft-inspect replay FILE` shows them again.\n\n"
                      "The file is \"WEFTREC1\" followed by one frame per batch: a 32-bit\n"
                      "little-endian length and the batch as a little-endian a{sv} GVariant\n"
                      "in normal form. Prints the number of batches on stderr.",
                      entries, 2, 2, &status))
    return status;
  if (duration < 0)
    return fail ("--duration must not be negative");

  connection = weft_inspect_connect (argv[1], NULL, &error);
  if (connection == NULL)
    return fail ("%s", error->message);
  writer = weft_inspect_record_writer_new (argv[2], &error);
  if (writer == NULL)
    return fail ("%s", error->message);

  loop = g_main_loop_new (NULL, FALSE);
  session = (Session) { .loop = loop, .connection = connection, .writer = writer };

  batch = weft_inspect_subscribe (connection, (guint) interval, on_record_batch, &session,
                                  &subscription, &error);
  if (batch == NULL || !weft_inspect_record_writer_append (writer, batch, &error))
    return fail ("%s", error->message);

  g_signal_connect (connection, "closed", G_CALLBACK (on_closed), &session);
  sources[0] = g_unix_signal_add (SIGINT, on_quit_signal, &session);
  sources[1] = g_unix_signal_add (SIGTERM, on_quit_signal, &session);
  if (duration > 0)
    sources[2] = g_timeout_add ((guint) (duration * 1000), on_duration_over, &session);

  g_main_loop_run (loop);

  for (guint i = 0; i < G_N_ELEMENTS (sources); i++)
    if (sources[i] != 0)
      g_source_remove (sources[i]);
  g_signal_handlers_disconnect_by_data (connection, &session);
  unsubscribe (&session, subscription);

  g_printerr ("recorded %u batches\n", weft_inspect_record_writer_get_count (writer));
  if (session.error != NULL)
    return fail ("%s", session.error->message);
  if (!weft_inspect_record_writer_close (writer, &error))
    return fail ("%s", error->message);
  return 0;
}

/* replay */

static gint64
batch_time (GVariant *batch)
{
  gint64 time = 0;

  g_variant_lookup (batch, "time", "x", &time);
  return time;
}

static int
replay_top (GPtrArray *batches,
            double     speed)
{
  g_autoptr(WeftInspectModel) model = weft_inspect_model_new ();
  g_autoptr(WeftInspectTop) top = weft_inspect_top_new ();
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < batches->len; i++)
    {
      g_autoptr(GString) out = g_string_new (NULL);
      WeftInspectViewStyle style = view_style ();

      if (i > 0 && speed > 0)
        {
          gint64 wait = batch_time (batches->pdata[i]) - batch_time (batches->pdata[i - 1]);

          if (wait > 0)
            g_usleep ((gulong) (wait / speed));
        }
      if (!weft_inspect_model_apply (model, batches->pdata[i], &error))
        return fail ("batch %u: %s", i, error->message);

      if (isatty (STDOUT_FILENO))
        g_string_append (out, CLEAR_SCREEN);
      else if (i > 0)
        g_string_append_c (out, '\n');
      weft_inspect_top_view (top, model, &style, out);
      print_string (out);
    }
  return 0;
}

static int
cmd_replay (int    argc,
            char **argv)
{
  double at = -1, speed = 1;
  gboolean all = FALSE;
  GOptionEntry entries[] = {
    { "at", 't', 0, G_OPTION_ARG_DOUBLE, &at, "ps, pstree: the state SECONDS after the start (default: the end)", "SECONDS" },
    { "speed", 's', 0, G_OPTION_ARG_DOUBLE, &speed, "top: replay X times faster; 0 does not wait", "X" },
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "ps: also show the finished tasks", NULL },
    { NULL }
  };
  g_autoptr(GPtrArray) batches = NULL;
  g_autoptr(WeftInspectModel) model = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  WeftInspectViewStyle style = view_style ();
  const char *view;
  gint64 start;
  int status;

  if (!parse_command (&argc, &argv, "FILE [ps|pstree|top]", "Show a recording again.",
                      "top (the default) replays the batches at the pace they were recorded.\n"
                      "ps and pstree print the state at --at, exactly as the live command\n"
                      "would have printed it then.",
                      entries, 1, 2, &status))
    return status;

  view = argc > 2 ? argv[2] : "top";
  if (!g_str_equal (view, "ps") && !g_str_equal (view, "pstree") && !g_str_equal (view, "top"))
    return fail ("replay shows ps, pstree or top, not '%s'", view);
  if (speed < 0)
    return fail ("--speed must not be negative");

  batches = weft_inspect_record_read (argv[1], &error);
  if (batches == NULL)
    return fail ("%s", error->message);

  if (g_str_equal (view, "top"))
    return replay_top (batches, speed);

  model = weft_inspect_model_new ();
  start = batch_time (batches->pdata[0]);
  for (guint i = 0; i < batches->len; i++)
    {
      if (at >= 0 && i > 0 && batch_time (batches->pdata[i]) - start > at * G_USEC_PER_SEC)
        break;
      if (!weft_inspect_model_apply (model, batches->pdata[i], &error))
        return fail ("%s: batch %u: %s", argv[1], i, error->message);
    }

  if (g_str_equal (view, "pstree"))
    return print_pstree (model);
  weft_inspect_view_ps (model, all, &style, out);
  print_string (out);
  return 0;
}

static const struct
{
  const char *name;
  int       (*run) (int argc, char **argv);
  const char *summary;
} commands[] = {
  { "list",   cmd_list,   "list the programs that can be attached" },
  { "ps",     cmd_ps,     "a row per task" },
  { "pstree", cmd_pstree, "the await tree, as python -m asyncio pstree" },
  { "where",  cmd_where,  "everything about one task, with its stacks" },
  { "cancel", cmd_cancel, "cancel a task" },
  { "top",    cmd_top,    "watch the tasks live" },
  { "record", cmd_record, "record the batches to a file" },
  { "replay", cmd_replay, "show a recording again" },
};

static int
usage (FILE *stream)
{
  fprintf (stream,
           "Usage:\n  weft-inspect COMMAND [OPTION…] ARGUMENTS\n\n"
           "Inspect a running program that uses Weft: its tasks, their await graph,\n"
           "stacks, cancellation and timing. The program serves its inspector once it\n"
           "runs with WEFT_INSPECT=1 or calls weft_inspector_enable().\n\n"
           "Commands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (stream, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fprintf (stream, "\nPID is a process id or the path of an inspector socket; TASK is a task id\n"
           "or a task's exact name. `weft-inspect COMMAND --help` describes a command.\n"
           "Errors go to stderr and exit with status 1.\n");
  return stream == stdout ? 0 : 1;
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");

  if (argc < 2)
    return usage (stderr);
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") || g_str_equal (argv[1], "help"))
    return usage (stdout);

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      {
        g_autofree char *prgname = g_strdup_printf ("weft-inspect %s", commands[i].name);

        g_set_prgname (prgname);
        return commands[i].run (argc - 1, argv + 1);
      }

  fail ("unknown command '%s'", argv[1]);
  return usage (stderr);
}
