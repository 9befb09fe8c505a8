/* weft-inspector.c: serving live introspection to other processes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <unistd.h>

#include <gio/gio.h>

#include "weft-inspect-private.h"
#include "weft-inspect-server-private.h"
#include "weft-inspector.h"

static GMutex lock;
static gboolean enabled;

#ifndef WEFT_INSPECT_DISABLED

static gboolean recording;
static pid_t exit_hook_pid;   /* nonzero once the exit hook is installed */

static void
apply_keep_from_environment (void)
{
  const char *text = g_getenv ("WEFT_INSPECT_KEEP");
  guint64 keep;

  if (text == NULL)
    return;

  if (g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT, &keep, NULL))
    weft_inspect_registry_set_keep (keep);
  else
    g_printerr ("weft-inspect: WEFT_INSPECT_KEEP=%s is not a count, keeping %u finished tasks\n",
                text, weft_inspect_registry_get_keep ());
}

static gboolean
use_session_bus (void)
{
  return g_getenv ("DBUS_SESSION_BUS_ADDRESS") != NULL
         && g_strcmp0 (g_getenv ("WEFT_INSPECT_BUS"), "0") != 0;
}

/* A forked child inherits the hook, but neither the thread nor the socket. */
static void
stop_at_exit (void)
{
  g_mutex_lock (&lock);
  if (exit_hook_pid == getpid ())
    {
      if (recording)
        weft_inspect_registry_note_exit ();
      if (enabled)
        weft_inspect_server_stop (TRUE);
      enabled = FALSE;
    }
  g_mutex_unlock (&lock);
}

#endif

/**
 * weft_inspector_enable:
 * @error: return location for a #GError
 *
 * Starts recording tasks and serving them to inspecting processes, such
 * as the `weft-inspect` command, from a thread of Weft's own, so that
 * they get answers while the program's main loops are blocked.
 *
 * The D-Bus interface `org.gnome.Weft.Inspector1` is served on the Unix
 * socket `$XDG_RUNTIME_DIR/weft/PID` (see weft_inspector_get_socket_path()),
 * and on the session bus as `org.gnome.Weft.Inspector.pPID` unless the
 * environment has `WEFT_INSPECT_BUS=0`. Only the same user may connect.
 *
 * Tasks are recorded from this call on. Those that exist already are
 * picked up when their main context next iterates, as they are then: their
 * creation time is that moment, their creation site and parent unknown,
 * and a task in the middle of a step under a nested main loop is left
 * out. To see every task from its creation, call it before the program
 * creates any, or run the program with `WEFT_INSPECT=1` in its
 * environment, which enables inspection when Weft is first used.
 * `WEFT_INSPECT_KEEP=N` sets how many finished tasks are kept, as
 * weft_inspector_set_keep_finished() does.
 *
 * Calling it again while enabled does nothing. When the program exits,
 * inspecting clients get the last changes and the socket is removed.
 *
 * Returns: %TRUE if the program is served; %FALSE with @error set if the
 *   socket could not be made, or with %G_IO_ERROR_NOT_SUPPORTED if Weft
 *   was built with `-Dinspect=disabled`
 */
gboolean
weft_inspector_enable (GError **error)
{
#ifdef WEFT_INSPECT_DISABLED
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       "Weft was built without inspection (-Dinspect=disabled)");
  return FALSE;
#else
  gboolean ok = TRUE;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_mutex_lock (&lock);
  if (!enabled)
    {
      if (!recording)
        {
          apply_keep_from_environment ();
          weft_inspect_registry_start ();
          recording = TRUE;
        }

      ok = enabled = weft_inspect_server_start (use_session_bus (), error);
      if (ok && exit_hook_pid != getpid ())
        {
          exit_hook_pid = getpid ();
          atexit (stop_at_exit);
        }
    }
  g_mutex_unlock (&lock);

  return ok;
#endif
}

/**
 * weft_inspector_disable:
 *
 * Stops serving: inspecting clients are disconnected and the socket is
 * removed. Tasks go on being recorded, so that weft_inspector_enable()
 * can serve them again.
 */
void
weft_inspector_disable (void)
{
#ifndef WEFT_INSPECT_DISABLED
  g_mutex_lock (&lock);
  if (enabled)
    weft_inspect_server_stop (FALSE);
  enabled = FALSE;
  g_mutex_unlock (&lock);
#endif
}

/**
 * weft_inspector_is_enabled:
 *
 * Tells whether weft_inspector_enable() succeeded and
 * weft_inspector_disable() was not called since.
 *
 * Returns: whether the program is served to inspecting processes
 */
gboolean
weft_inspector_is_enabled (void)
{
  gboolean result;

  g_mutex_lock (&lock);
  result = enabled;
  g_mutex_unlock (&lock);

  return result;
}

/**
 * weft_inspector_get_socket_path:
 *
 * The Unix socket clients connect to, for instance as
 * `unix:path=…` with g_dbus_connection_new_for_address().
 *
 * Returns: (nullable) (type filename): the socket's path, valid until
 *   weft_inspector_disable(); %NULL when not enabled
 */
const char *
weft_inspector_get_socket_path (void)
{
#ifdef WEFT_INSPECT_DISABLED
  return NULL;
#else
  const char *path;

  g_mutex_lock (&lock);
  path = weft_inspect_server_get_socket_path ();
  g_mutex_unlock (&lock);

  return path;
#endif
}

/**
 * weft_inspector_set_keep_finished:
 * @n: how many finished tasks to keep
 *
 * Finished tasks stay visible to inspecting clients, with their result or
 * error, until @n tasks of the same #GMainContext finished after them;
 * the default is 256. They leave in batches, so up to an eighth more (at
 * most 63) may show. The contexts of the four threads that most recently
 * dropped theirs keep their finished tasks too; older ones let go.
 */
void
weft_inspector_set_keep_finished (guint n)
{
#ifndef WEFT_INSPECT_DISABLED
  weft_inspect_registry_set_keep (n);
#endif
}

/**
 * weft_inspector_get_keep_finished:
 *
 * Gets what weft_inspector_set_keep_finished() set.
 *
 * Returns: how many finished tasks are kept for inspecting clients
 */
guint
weft_inspector_get_keep_finished (void)
{
#ifdef WEFT_INSPECT_DISABLED
  return 0;
#else
  return weft_inspect_registry_get_keep ();
#endif
}

/* Called whenever a scheduler is created, which is before the first task:
 * only the first call looks at the environment.
 */
void
weft_inspector_autostart (void)
{
  static int checked;
  g_autoptr(GError) error = NULL;
  const char *value;

  if (g_atomic_int_get (&checked) || !g_atomic_int_compare_and_exchange (&checked, FALSE, TRUE))
    return;

  value = g_getenv ("WEFT_INSPECT");
  if (value == NULL || g_str_equal (value, "") || g_str_equal (value, "0"))
    return;

  if (!weft_inspector_enable (&error))
    g_printerr ("weft-inspect: not inspectable: %s\n", error->message);
}
