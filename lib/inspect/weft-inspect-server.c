/* weft-inspect-server.c: org.gnome.Weft.Inspector1 on a thread of its own
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "weft-fiber.h"
#include "weft-fiber-backtrace-private.h"
#include "weft-inspect-private.h"
#include "weft-inspect-resources.h"
#include "weft-inspect-server-private.h"
#include "weft-symbolize-private.h"

/* Everything here runs on the inspector thread, with its own GMainContext,
 * so that clients get answers while the program's loops are blocked. The
 * program's threads are only ever asked to do something through
 * weft_inspect_invoke_on_task(), and never waited for longer than a second.
 *
 * Each client costs bounded memory whatever it does: a subscriber gets its
 * next batch only once the previous one was flushed to it (until then the
 * changes merge, keyed by task and lint), a connection may have only a few
 * unflushed replies, and connections and subscribers are counted.
 */

#define OBJECT_PATH             "/org/gnome/Weft/Inspector"
#define INTERFACE_NAME          "org.gnome.Weft.Inspector1"
#define BUS_NAME_FORMAT         "org.gnome.Weft.Inspector.p%u"

#define MAX_CONNECTIONS         32
#define MAX_SUBSCRIBERS         64
#define MAX_UNFLUSHED_REPLIES   4
/* Past this many merged changes a stalled subscriber gets a full batch. */
#define MAX_PENDING_CHANGES     65536
#define DEFAULT_INTERVAL_MS     100
#define MIN_INTERVAL_MS         20
#define MAX_INTERVAL_MS         10000
/* Subscribers ticking together share one delta. */
#define MIN_PULL_INTERVAL_US    (MIN_INTERVAL_MS * 1000 / 2)
#define OWNER_TIMEOUT_MS        1000
#define FINAL_FLUSH_TIMEOUT_MS  200
/* The login before D-Bus proper: a handful of short lines, soon. */
#define MAX_HANDSHAKES          64
#define MAX_AUTH_LINE           1024
#define MAX_AUTH_LINES          8
#define HANDSHAKE_TIMEOUT_MS    5000

typedef struct _Server Server;

/* A connection: peer-to-peer, or the session bus. */
typedef struct
{
  GDBusConnection *connection;
  guint            registration_id;
  gulong           closed_id;
  guint            unflushed_replies;
  GHashTable      *replies_by_sender;  /* the bus's: unique name → unflushed */
} Peer;

typedef struct
{
  int               ref_count;
  Server           *server;          /* NULL once unsubscribed */
  GDBusConnection  *connection;
  char             *sender;          /* unique bus name; NULL peer-to-peer */
  GSource          *timer;
  guint             name_watch_id;
  gboolean          flushing;

  /* What changed since the last batch sent. */
  GVariant         *last_delta;      /* its header and loops are the latest */
  GHashTable       *tasks;           /* id (t) → GVariantDict */
  GHashTable       *removed;         /* set of ids (t) */
  GHashTable       *lints;           /* (kind, task) (st) → a{sv} */
  gboolean          needs_full;
  GVariant         *sent_loops;      /* what the client knows of the loops */
} Subscriber;

struct _Server
{
  guint                 generation;
  GMainLoop            *loop;
  GThread              *thread;
  GSocketService       *service;
  char                 *guid;
  char                 *identity;    /* EXTERNAL's: our uid, hex-encoded */
  GQueue                handshakes;  /* oldest first */
  GHashTable           *peers;       /* GDBusConnection → Peer */
  GPtrArray            *subscribers;
  WeftInspectCollector *collector;   /* the deltas all subscribers share */
  gint64                last_pull;

  GCancellable         *bus_cancellable;
  GDBusConnection      *bus;
  guint                 bus_name_id;

  int                   final;       /* atomic: set by the stopping thread */
  guint                 final_flushes;
  GSource              *final_timeout;
};

static GMainContext *inspector_context;  /* created once, never freed */
static Server *current_server;           /* the inspector thread's, or NULL */
static guint server_generation;
static char *socket_path;
static int handshake_timeout_ms = HANDSHAKE_TIMEOUT_MS;

static GDBusInterfaceInfo *
get_interface_info (void)
{
  static GDBusInterfaceInfo *info;

  if (g_once_init_enter (&info))
    {
      g_autoptr(GBytes) xml = NULL;
      g_autoptr(GDBusNodeInfo) node = NULL;
      g_autoptr(GError) error = NULL;

      xml = g_resource_lookup_data (weft_inspect_get_resource (),
                                    "/org/gnome/Weft/Inspector/org.gnome.Weft.Inspector1.xml",
                                    G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
      node = g_dbus_node_info_new_for_xml (g_bytes_get_data (xml, NULL), &error);
      g_assert_no_error (error);
      g_once_init_leave (&info,
                         g_dbus_interface_info_ref (g_dbus_node_info_lookup_interface (node, INTERFACE_NAME)));
    }

  return info;
}

GQuark
weft_inspect_error_quark (void)
{
  static gsize quark;
  static const GDBusErrorEntry entries[] = {
    { WEFT_INSPECT_ERROR_NO_SUCH_TASK, INTERFACE_NAME ".Error.NoSuchTask" },
    { WEFT_INSPECT_ERROR_BUSY, INTERFACE_NAME ".Error.Busy" },
  };

  g_dbus_error_register_error_domain ("weft-inspect-error-quark", &quark,
                                      entries, G_N_ELEMENTS (entries));
  return (GQuark) quark;
}

static void
return_error (GDBusMethodInvocation *invocation,
              WeftInspectError       code,
              const char            *format,
              ...) G_GNUC_PRINTF (3, 4);

static void
return_error (GDBusMethodInvocation *invocation,
              WeftInspectError       code,
              const char            *format,
              ...)
{
  va_list args;

  va_start (args, format);
  g_dbus_method_invocation_return_error_valist (invocation, WEFT_INSPECT_ERROR, code, format, args);
  va_end (args);
}

/* Pending changes of a subscriber */

static void
subscriber_clear_changes (Subscriber *self)
{
  g_clear_pointer (&self->last_delta, g_variant_unref);
  g_hash_table_remove_all (self->tasks);
  g_hash_table_remove_all (self->removed);
  g_hash_table_remove_all (self->lints);
}

static void
subscriber_merge_tasks (Subscriber *self,
                        GVariant   *tasks)
{
  GVariantIter iter;
  GVariant *task;

  g_variant_iter_init (&iter, tasks);
  while ((task = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr(GVariant) id = g_variant_lookup_value (task, "id", G_VARIANT_TYPE_UINT64);

      if (id != NULL)
        {
          GVariantDict *changes = g_hash_table_lookup (self->tasks, id);
          GVariantIter entries;
          const char *key;
          GVariant *value;

          if (changes == NULL)
            {
              changes = g_variant_dict_new (NULL);
              g_hash_table_insert (self->tasks, g_variant_ref (id), changes);
            }
          g_variant_iter_init (&entries, task);
          while (g_variant_iter_next (&entries, "{&sv}", &key, &value))
            {
              g_variant_dict_insert_value (changes, key, value);
              g_variant_unref (value);
            }
        }
      g_variant_unref (task);
    }
}

static void
subscriber_merge_removed (Subscriber *self,
                          GVariant   *removed)
{
  gsize n = g_variant_n_children (removed);

  for (gsize i = 0; i < n; i++)
    {
      GVariant *id = g_variant_get_child_value (removed, i);

      g_hash_table_remove (self->tasks, id);
      g_hash_table_add (self->removed, id);
    }
}

static void
subscriber_merge_lints (Subscriber *self,
                        GVariant   *lints)
{
  GVariantIter iter;
  GVariant *lint;

  g_variant_iter_init (&iter, lints);
  while ((lint = g_variant_iter_next_value (&iter)) != NULL)
    {
      const char *kind = "";
      guint64 task = 0;

      g_variant_lookup (lint, "kind", "&s", &kind);
      g_variant_lookup (lint, "task", "t", &task);
      /* Keyed by text: g_variant_hash() refuses containers. */
      g_hash_table_replace (self->lints,
                            g_strdup_printf ("%s/%" G_GUINT64_FORMAT, kind, task),
                            lint);
    }
}

static void
subscriber_merge (Subscriber *self,
                  GVariant   *delta)
{
  g_autoptr(GVariant) tasks = NULL;
  g_autoptr(GVariant) removed = NULL;
  g_autoptr(GVariant) lints = NULL;

  if (self->needs_full)
    return;

  g_clear_pointer (&self->last_delta, g_variant_unref);
  self->last_delta = g_variant_ref (delta);

  tasks = g_variant_lookup_value (delta, "tasks", G_VARIANT_TYPE ("aa{sv}"));
  if (tasks != NULL)
    subscriber_merge_tasks (self, tasks);
  removed = g_variant_lookup_value (delta, "removed", G_VARIANT_TYPE ("at"));
  if (removed != NULL)
    subscriber_merge_removed (self, removed);
  lints = g_variant_lookup_value (delta, "lints", G_VARIANT_TYPE ("aa{sv}"));
  if (lints != NULL)
    subscriber_merge_lints (self, lints);

  if (g_hash_table_size (self->tasks) + g_hash_table_size (self->removed)
      + g_hash_table_size (self->lints) > MAX_PENDING_CHANGES)
    {
      subscriber_clear_changes (self);
      self->needs_full = TRUE;
    }
}

/* The loops' state without the durations that grow by themselves: a
 * client is told again only when it changes, or while a loop is blocked.
 */
static GVariant *
summarize_loops (GVariant *delta,
                 gboolean *blocked)
{
  g_autoptr(GVariant) loops = NULL;
  GVariantBuilder builder;
  GVariantIter iter;
  GVariant *loop;

  *blocked = FALSE;
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ttbu)"));
  if (delta != NULL)
    loops = g_variant_lookup_value (delta, "loops", G_VARIANT_TYPE ("aa{sv}"));
  if (loops != NULL)
    {
      g_variant_iter_init (&iter, loops);
      while ((loop = g_variant_iter_next_value (&iter)) != NULL)
        {
          guint64 id = 0, current_task = 0;
          gboolean loop_blocked = FALSE;
          guint32 tasks = 0;

          g_variant_lookup (loop, "id", "t", &id);
          g_variant_lookup (loop, "current-task", "t", &current_task);
          g_variant_lookup (loop, "blocked", "b", &loop_blocked);
          g_variant_lookup (loop, "tasks", "u", &tasks);
          g_variant_builder_add (&builder, "(ttbu)", id, current_task, loop_blocked, tasks);
          *blocked |= loop_blocked;
          g_variant_unref (loop);
        }
    }

  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

static gboolean
subscriber_has_changes (Subscriber *self)
{
  g_autoptr(GVariant) loops = NULL;
  gboolean blocked;

  if (self->needs_full
      || g_hash_table_size (self->tasks) > 0
      || g_hash_table_size (self->removed) > 0
      || g_hash_table_size (self->lints) > 0)
    return TRUE;
  if (self->last_delta == NULL)
    return FALSE;

  loops = summarize_loops (self->last_delta, &blocked);
  return blocked || self->sent_loops == NULL || !g_variant_equal (loops, self->sent_loops);
}

static GVariant *
subscriber_take_changes (Subscriber *self)
{
  GVariantBuilder tasks, removed, lints;
  GVariantDict batch;
  GHashTableIter iter;
  gpointer key, value;
  gboolean blocked;

  if (self->needs_full)
    {
      g_autoptr(WeftInspectCollector) collector = weft_inspect_collector_new ();

      self->needs_full = FALSE;
      return g_variant_ref_sink (weft_inspect_collector_full (collector));
    }

  g_variant_builder_init (&tasks, G_VARIANT_TYPE ("aa{sv}"));
  g_hash_table_iter_init (&iter, self->tasks);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_variant_builder_add_value (&tasks, g_variant_dict_end (value));

  g_variant_builder_init (&removed, G_VARIANT_TYPE ("at"));
  g_hash_table_iter_init (&iter, self->removed);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_variant_builder_add_value (&removed, key);

  g_variant_builder_init (&lints, G_VARIANT_TYPE ("aa{sv}"));
  g_hash_table_iter_init (&iter, self->lints);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_variant_builder_add_value (&lints, value);

  g_variant_dict_init (&batch, self->last_delta);
  g_variant_dict_insert (&batch, "full", "b", FALSE);
  g_variant_dict_insert_value (&batch, "tasks", g_variant_builder_end (&tasks));
  g_variant_dict_insert_value (&batch, "removed", g_variant_builder_end (&removed));
  g_variant_dict_insert_value (&batch, "lints", g_variant_builder_end (&lints));

  g_clear_pointer (&self->sent_loops, g_variant_unref);
  self->sent_loops = summarize_loops (self->last_delta, &blocked);
  subscriber_clear_changes (self);

  return g_variant_ref_sink (g_variant_dict_end (&batch));
}

/* Subscribers */

static Subscriber *
subscriber_ref (Subscriber *self)
{
  self->ref_count++;
  return self;
}

static void
subscriber_unref (Subscriber *self)
{
  if (--self->ref_count > 0)
    return;

  g_assert (self->server == NULL);
  subscriber_clear_changes (self);
  g_hash_table_unref (self->tasks);
  g_hash_table_unref (self->removed);
  g_hash_table_unref (self->lints);
  g_clear_pointer (&self->sent_loops, g_variant_unref);
  g_object_unref (self->connection);
  g_free (self->sender);
  g_free (self);
}

static Subscriber *
subscriber_new (Server          *server,
                GDBusConnection *connection,
                const char      *sender)
{
  Subscriber *self = g_new0 (Subscriber, 1);

  self->ref_count = 1;
  self->server = server;
  self->connection = g_object_ref (connection);
  self->sender = g_strdup (sender);
  self->tasks = g_hash_table_new_full (g_variant_hash, g_variant_equal,
                                       (GDestroyNotify) g_variant_unref,
                                       (GDestroyNotify) g_variant_dict_unref);
  self->removed = g_hash_table_new_full (g_variant_hash, g_variant_equal,
                                         (GDestroyNotify) g_variant_unref, NULL);
  self->lints = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) g_variant_unref);
  return self;
}

static Subscriber *
server_find_subscriber (Server          *self,
                        GDBusConnection *connection,
                        const char      *sender)
{
  for (guint i = 0; i < self->subscribers->len; i++)
    {
      Subscriber *subscriber = g_ptr_array_index (self->subscribers, i);

      if (subscriber->connection == connection && g_strcmp0 (subscriber->sender, sender) == 0)
        return subscriber;
    }

  return NULL;
}

static void
server_remove_subscriber (Server     *self,
                          Subscriber *subscriber)
{
  subscriber->server = NULL;
  if (subscriber->timer != NULL)
    {
      g_source_destroy (subscriber->timer);
      g_clear_pointer (&subscriber->timer, g_source_unref);
    }
  if (subscriber->name_watch_id != 0)
    {
      g_bus_unwatch_name (subscriber->name_watch_id);
      subscriber->name_watch_id = 0;
    }

  g_ptr_array_remove_fast (self->subscribers, subscriber);

  /* Nobody left to send deltas to: the registry stops tracking them. */
  if (self->subscribers->len == 0)
    g_clear_pointer (&self->collector, weft_inspect_collector_free);
}

static void
server_remove_subscribers_of (Server          *self,
                              GDBusConnection *connection)
{
  for (guint i = self->subscribers->len; i > 0; i--)
    {
      Subscriber *subscriber = g_ptr_array_index (self->subscribers, i - 1);

      if (subscriber->connection == connection)
        server_remove_subscriber (self, subscriber);
    }
}

static void
server_pull_delta (Server   *self,
                   gboolean  now)
{
  g_autoptr(GVariant) delta = NULL;
  gint64 time = g_get_monotonic_time ();

  if (self->collector == NULL || (!now && time - self->last_pull < MIN_PULL_INTERVAL_US))
    return;

  self->last_pull = time;
  delta = g_variant_ref_sink (weft_inspect_collector_delta (self->collector));
  for (guint i = 0; i < self->subscribers->len; i++)
    subscriber_merge (g_ptr_array_index (self->subscribers, i), delta);
}

/* What was sent so far is written: g_dbus_connection_flush() holds one
 * of GTask's few threads until GDBus flushed, with another of them. The
 * bus brings any number of clients on one connection, whose flushes at
 * once would starve that pool (and the program's own GIO work) until
 * their calls time out; there a round trip to the bus says the same
 * without a thread.
 */

typedef void (*WrittenFunc) (GDBusConnection *connection,
                             gpointer         user_data);

typedef struct
{
  gboolean    on_bus;
  WrittenFunc func;
  gpointer    user_data;
} WhenWritten;

static void
when_written_done (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  WhenWritten *when = user_data;
  GDBusConnection *connection = G_DBUS_CONNECTION (object);
  g_autoptr(GVariant) pong = NULL;

  if (when->on_bus)
    pong = g_dbus_connection_call_finish (connection, result, NULL);
  else
    g_dbus_connection_flush_finish (connection, result, NULL);
  when->func (connection, when->user_data);
  g_free (when);
}

static void
when_written (GDBusConnection *connection,
              gboolean         on_bus,
              WrittenFunc      func,
              gpointer         user_data)
{
  WhenWritten *when = g_new0 (WhenWritten, 1);

  when->on_bus = on_bus;
  when->func = func;
  when->user_data = user_data;
  if (on_bus)
    g_dbus_connection_call (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                            "org.freedesktop.DBus.Peer", "Ping", NULL, NULL,
                            G_DBUS_CALL_FLAGS_NONE, -1, NULL, when_written_done, when);
  else
    g_dbus_connection_flush (connection, NULL, when_written_done, when);
}

static void
batch_written (GDBusConnection *connection,
               gpointer         user_data)
{
  Subscriber *subscriber = user_data;

  subscriber->flushing = FALSE;
  subscriber_unref (subscriber);
}

static gboolean
subscriber_emit (Subscriber *self,
                 GVariant   *batch)
{
  return g_dbus_connection_emit_signal (self->connection, self->sender,
                                        OBJECT_PATH, INTERFACE_NAME, "Batch",
                                        g_variant_new_tuple (&batch, 1), NULL);
}

static void
subscriber_send (Subscriber *self)
{
  g_autoptr(GVariant) batch = NULL;

  if (self->flushing || !subscriber_has_changes (self))
    return;

  batch = subscriber_take_changes (self);
  if (!subscriber_emit (self, batch))
    {
      server_remove_subscriber (self->server, self);
      return;
    }

  self->flushing = TRUE;
  when_written (self->connection, self->sender != NULL, batch_written, subscriber_ref (self));
}

static gboolean
subscriber_tick (gpointer user_data)
{
  Subscriber *self = user_data;

  server_pull_delta (self->server, FALSE);
  subscriber_send (self);
  return G_SOURCE_CONTINUE;
}

static void
subscriber_start_timer (Subscriber *self,
                        guint       interval_ms)
{
  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_source_unref (self->timer);
    }
  self->timer = g_timeout_source_new (interval_ms);
  g_source_set_static_name (self->timer, "[weft] inspector subscriber");
  g_source_set_callback (self->timer, subscriber_tick, subscriber_ref (self),
                         (GDestroyNotify) subscriber_unref);
  g_source_attach (self->timer, inspector_context);
}

static void
sender_vanished (GDBusConnection *connection,
                 const char      *name,
                 gpointer         user_data)
{
  Subscriber *subscriber = user_data;

  if (subscriber->server != NULL)
    server_remove_subscriber (subscriber->server, subscriber);
}

/* Replies that may be large are counted until flushed, so that a client
 * that calls without reading cannot make the program buffer without end.
 * The bus brings every client on one connection: there each sender has
 * the allowance of a peer of the socket, and all of them together that of
 * as many peers as the socket admits.
 */

static gboolean
server_take_reply_slot (Server                *self,
                        GDBusConnection       *connection,
                        GDBusMethodInvocation *invocation)
{
  Peer *peer = g_hash_table_lookup (self->peers, connection);
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  guint limit = MAX_UNFLUSHED_REPLIES;
  guint sender_replies = 0;

  if (peer != NULL && peer->replies_by_sender != NULL)
    {
      limit = MAX_CONNECTIONS * MAX_UNFLUSHED_REPLIES;
      sender_replies = GPOINTER_TO_UINT (g_hash_table_lookup (peer->replies_by_sender, sender));
    }
  if (peer == NULL || peer->unflushed_replies >= limit
      || sender_replies >= MAX_UNFLUSHED_REPLIES)
    {
      return_error (invocation, WEFT_INSPECT_ERROR_BUSY,
                    "Too many replies not read yet");
      return FALSE;
    }

  peer->unflushed_replies++;
  if (peer->replies_by_sender != NULL)
    g_hash_table_insert (peer->replies_by_sender, g_strdup (sender),
                         GUINT_TO_POINTER (sender_replies + 1));
  return TRUE;
}

static void
peer_release_reply_slot (Peer       *peer,
                         const char *sender)
{
  guint sender_replies;

  if (peer->unflushed_replies > 0)
    peer->unflushed_replies--;
  if (peer->replies_by_sender == NULL)
    return;

  sender_replies = GPOINTER_TO_UINT (g_hash_table_lookup (peer->replies_by_sender, sender));
  if (sender_replies > 1)
    g_hash_table_insert (peer->replies_by_sender, g_strdup (sender),
                         GUINT_TO_POINTER (sender_replies - 1));
  else
    g_hash_table_remove (peer->replies_by_sender, sender);
}

typedef struct
{
  GDBusConnection *connection;
  char            *sender;
} Reply;

static void
reply_written (GDBusConnection *connection,
               gpointer         user_data)
{
  Reply *reply = user_data;
  Peer *peer = NULL;

  if (current_server != NULL)
    peer = g_hash_table_lookup (current_server->peers, connection);
  if (peer != NULL)
    peer_release_reply_slot (peer, reply->sender);
  g_object_unref (reply->connection);
  g_free (reply->sender);
  g_free (reply);
}

static void
return_batch (GDBusMethodInvocation *invocation,
              GVariant              *batch)
{
  Reply *reply = g_new0 (Reply, 1);

  reply->connection = g_object_ref (g_dbus_method_invocation_get_connection (invocation));
  reply->sender = g_strdup (g_dbus_method_invocation_get_sender (invocation));
  g_dbus_method_invocation_return_value (invocation, g_variant_new_tuple (&batch, 1));
  when_written (reply->connection, reply->sender != NULL, reply_written, reply);
}

static GVariant *
take_full_batch (void)
{
  g_autoptr(WeftInspectCollector) collector = weft_inspect_collector_new ();

  return weft_inspect_collector_full (collector);
}

static void
handle_get_snapshot (Server                *self,
                     GDBusConnection       *connection,
                     GDBusMethodInvocation *invocation)
{
  if (server_take_reply_slot (self, connection, invocation))
    return_batch (invocation, take_full_batch ());
}

static void
handle_subscribe (Server                *self,
                  GDBusConnection       *connection,
                  const char            *sender,
                  GVariant              *parameters,
                  GDBusMethodInvocation *invocation)
{
  Subscriber *subscriber;
  guint32 interval_ms;

  g_variant_get (parameters, "(u)", &interval_ms);
  interval_ms = interval_ms == 0 ? DEFAULT_INTERVAL_MS
                : CLAMP (interval_ms, MIN_INTERVAL_MS, MAX_INTERVAL_MS);

  if (connection != self->bus)
    sender = NULL;

  subscriber = server_find_subscriber (self, connection, sender);
  if (subscriber == NULL && self->subscribers->len >= MAX_SUBSCRIBERS)
    {
      return_error (invocation, WEFT_INSPECT_ERROR_BUSY, "Too many subscribers");
      return;
    }
  if (!server_take_reply_slot (self, connection, invocation))
    return;

  if (subscriber == NULL)
    {
      subscriber = subscriber_new (self, connection, sender);
      g_ptr_array_add (self->subscribers, subscriber);
      if (sender != NULL)
        subscriber->name_watch_id =
          g_bus_watch_name_on_connection (connection, sender, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                          NULL, sender_vanished, subscriber_ref (subscriber),
                                          (GDestroyNotify) subscriber_unref);
    }

  /* The shared collector starts before the full batch is taken, so that
   * the deltas that follow miss nothing; what they repeat is harmless.
   */
  if (self->collector == NULL)
    self->collector = weft_inspect_collector_new ();
  subscriber_clear_changes (subscriber);
  subscriber->needs_full = FALSE;
  g_clear_pointer (&subscriber->sent_loops, g_variant_unref);

  return_batch (invocation, take_full_batch ());
  subscriber_start_timer (subscriber, interval_ms);
}

static void
handle_unsubscribe (Server                *self,
                    GDBusConnection       *connection,
                    const char            *sender,
                    GDBusMethodInvocation *invocation)
{
  Subscriber *subscriber;

  subscriber = server_find_subscriber (self, connection, connection == self->bus ? sender : NULL);
  if (subscriber != NULL)
    server_remove_subscriber (self, subscriber);
  g_dbus_method_invocation_return_value (invocation, NULL);
}

/* Cancel and GetBacktrace run on the task's own thread. Whichever comes
 * first, that thread's answer or the timeout, decides the reply, which is
 * always sent from the inspector thread: the owner thread stores its
 * answer and makes the request's timeout source fire at once.
 */

typedef enum
{
  REQUEST_PENDING,
  REQUEST_ANSWERED,
  REQUEST_TIMED_OUT,
} RequestState;

typedef struct
{
  int                    ref_count;
  int                    state;        /* RequestState, atomic */
  GDBusMethodInvocation *invocation;
  GSource               *timeout;
  guint64                task_id;

  /* Cancel */
  char                  *message;
  const char            *outcome;

  /* GetBacktrace */
  gboolean               task_gone;
  GArray                *pcs;
  char                  *note;
} TaskRequest;

static TaskRequest *
task_request_ref (TaskRequest *self)
{
  g_atomic_int_inc (&self->ref_count);
  return self;
}

static void
task_request_unref (TaskRequest *self)
{
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;

  g_clear_object (&self->invocation);
  g_clear_pointer (&self->timeout, g_source_unref);
  g_free (self->message);
  g_clear_pointer (&self->pcs, g_array_unref);
  g_free (self->note);
  g_free (self);
}

/* On the owner thread, before reading the request: pairs with the store in
 * task_request_start(), whatever the hand-off between the threads is.
 */
static void
task_request_acquire (TaskRequest *self)
{
  (void) g_atomic_int_get (&self->state);
}

/* On the owner thread, after the answer is stored. */
static void
task_request_answer (TaskRequest *self)
{
  if (g_atomic_int_compare_and_exchange (&self->state, REQUEST_PENDING, REQUEST_ANSWERED))
    g_source_set_ready_time (self->timeout, 0);
}

static gboolean
task_request_is_answered (TaskRequest *self)
{
  return g_atomic_int_get (&self->state) == REQUEST_ANSWERED
         || !g_atomic_int_compare_and_exchange (&self->state, REQUEST_PENDING, REQUEST_TIMED_OUT);
}

static void
task_request_start (TaskRequest           *self,
                    GDBusMethodInvocation *invocation,
                    guint64                task_id,
                    WeftInspectTaskFunc    on_owner,
                    GSourceFunc            on_answer)
{
  self->ref_count = 1;
  self->invocation = invocation;
  self->task_id = task_id;
  self->timeout = g_timeout_source_new (OWNER_TIMEOUT_MS);
  g_source_set_static_name (self->timeout, "[weft] inspector request");
  g_source_set_callback (self->timeout, on_answer, task_request_ref (self),
                         (GDestroyNotify) task_request_unref);
  g_source_attach (self->timeout, inspector_context);
  g_atomic_int_set (&self->state, REQUEST_PENDING);

  if (!weft_inspect_invoke_on_task (task_id, on_owner, task_request_ref (self),
                                    (GDestroyNotify) task_request_unref))
    {
      g_source_destroy (self->timeout);
      return_error (g_steal_pointer (&self->invocation), WEFT_INSPECT_ERROR_NO_SUCH_TASK,
                    "No unfinished task has the id %" G_GUINT64_FORMAT, task_id);
    }
  task_request_unref (self);
}

static void
cancel_on_owner (WeftTask *task,
                 gpointer  user_data)
{
  TaskRequest *request = user_data;

  task_request_acquire (request);
  request->outcome = task != NULL && weft_task_cancel (task, request->message) ? "cancelled" : "done";
  task_request_answer (request);
}

static gboolean
cancel_answered (gpointer user_data)
{
  TaskRequest *request = user_data;
  const char *outcome = task_request_is_answered (request) ? request->outcome : "queued";

  g_dbus_method_invocation_return_value (g_steal_pointer (&request->invocation),
                                         g_variant_new ("(s)", outcome));
  return G_SOURCE_REMOVE;
}

static void
handle_cancel (GVariant              *parameters,
               GDBusMethodInvocation *invocation)
{
  TaskRequest *request = g_new0 (TaskRequest, 1);
  const char *message;
  guint64 task_id;

  g_variant_get (parameters, "(t&s)", &task_id, &message);
  request->message = *message != '\0' ? g_strdup (message) : NULL;
  task_request_start (request, invocation, task_id, cancel_on_owner, cancel_answered);
}

static void
capture_on_owner (WeftTask *task,
                  gpointer  user_data)
{
  TaskRequest *request = user_data;
  g_autoptr(GError) error = NULL;

  task_request_acquire (request);
  if (task == NULL)
    request->task_gone = TRUE;
  else if (!WEFT_IS_FIBER (task))
    request->note = g_strdup ("not a fiber");
  else if ((request->pcs = weft_fiber_capture_backtrace (WEFT_FIBER (task), &error)) == NULL)
    request->note = g_strdup (error->message);
  task_request_answer (request);
}

static GVariant *
symbolize_frames (GArray *pcs)
{
  GVariantBuilder frames;

  g_variant_builder_init (&frames, G_VARIANT_TYPE ("a(tssu)"));
  for (guint i = 0; pcs != NULL && i < pcs->len; i++)
    {
      guint64 pc = g_array_index (pcs, guint64, i);
      WeftSymbol symbol;

      /* The first is where the fiber resumes; the others return addresses. */
      weft_symbolize (pc, i > 0, &symbol);
      g_variant_builder_add (&frames, "(tssu)", pc,
                             symbol.function != NULL ? symbol.function : "",
                             symbol.file != NULL ? symbol.file : "",
                             symbol.line);
      weft_symbol_clear (&symbol);
    }

  return g_variant_builder_end (&frames);
}

static gboolean
backtrace_answered (gpointer user_data)
{
  TaskRequest *request = user_data;
  GDBusMethodInvocation *invocation = g_steal_pointer (&request->invocation);

  if (!task_request_is_answered (request))
    return_error (invocation, WEFT_INSPECT_ERROR_BUSY,
                  "The main loop of task %" G_GUINT64_FORMAT " did not answer within a second",
                  request->task_id);
  else if (request->task_gone)
    return_error (invocation, WEFT_INSPECT_ERROR_NO_SUCH_TASK,
                  "Task %" G_GUINT64_FORMAT " finished", request->task_id);
  else
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(@a(tssu)s)",
                                                          symbolize_frames (request->pcs),
                                                          request->note != NULL ? request->note : ""));
  return G_SOURCE_REMOVE;
}

static void
handle_get_backtrace (GVariant              *parameters,
                      GDBusMethodInvocation *invocation)
{
  guint64 task_id;

  g_variant_get (parameters, "(t)", &task_id);
  task_request_start (g_new0 (TaskRequest, 1), invocation, task_id,
                      capture_on_owner, backtrace_answered);
}

static void
server_dispatch (Server                *self,
                 GDBusMethodInvocation *invocation)
{
  GDBusConnection *connection = g_dbus_method_invocation_get_connection (invocation);
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  const char *method_name = g_dbus_method_invocation_get_method_name (invocation);
  GVariant *parameters = g_dbus_method_invocation_get_parameters (invocation);

  if (g_str_equal (method_name, "GetSnapshot"))
    handle_get_snapshot (self, connection, invocation);
  else if (g_str_equal (method_name, "Subscribe"))
    handle_subscribe (self, connection, sender, parameters, invocation);
  else if (g_str_equal (method_name, "Unsubscribe"))
    handle_unsubscribe (self, connection, sender, invocation);
  else if (g_str_equal (method_name, "GetBacktrace"))
    handle_get_backtrace (parameters, invocation);
  else if (g_str_equal (method_name, "Cancel"))
    handle_cancel (parameters, invocation);
  else
    g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD,
                                           "No method %s", method_name);
}

/* The socket's peers are checked as they connect. Who may join a bus is
 * its configuration's business (<allow user>, ANONYMOUS): each caller's
 * uid is asked of the bus, as the kernel tells it for the socket, so that
 * a bus that admits other users does not let them cancel our tasks.
 */

typedef struct
{
  guint                  generation;
  GDBusMethodInvocation *invocation;
} BusCall;

static void
bus_caller_checked (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  BusCall *call = user_data;
  g_autoptr(GDBusMethodInvocation) invocation = call->invocation;
  g_autoptr(GVariant) reply = NULL;
  guint generation = call->generation;
  guint32 uid;

  g_free (call);
  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, NULL);
  /* The server that asked stopped, and closed the bus: nobody to answer. */
  if (current_server == NULL || current_server->generation != generation)
    return;

  if (reply == NULL)
    {
      g_dbus_method_invocation_return_error_literal (g_steal_pointer (&invocation), G_DBUS_ERROR,
                                                     G_DBUS_ERROR_ACCESS_DENIED,
                                                     "The bus could not tell who calls");
      return;
    }

  g_variant_get (reply, "(u)", &uid);
  if (uid != getuid ())
    g_dbus_method_invocation_return_error (g_steal_pointer (&invocation), G_DBUS_ERROR,
                                           G_DBUS_ERROR_ACCESS_DENIED,
                                           "Only user %u may inspect this program", (guint) getuid ());
  else
    server_dispatch (current_server, g_steal_pointer (&invocation));
}

/* The replies come in the order of the calls: a client's calls are still
 * handled in the order it made them.
 */
static void
server_check_bus_caller (Server                *self,
                         GDBusMethodInvocation *invocation)
{
  BusCall *call = g_new0 (BusCall, 1);

  call->generation = self->generation;
  call->invocation = invocation;
  g_dbus_connection_call (self->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetConnectionUnixUser",
                          g_variant_new ("(s)", g_dbus_method_invocation_get_sender (invocation)),
                          G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1,
                          self->bus_cancellable, bus_caller_checked, call);
}

static void
inspector_method_call (GDBusConnection       *connection,
                       const char            *sender,
                       const char            *object_path,
                       const char            *interface_name,
                       const char            *method_name,
                       GVariant              *parameters,
                       GDBusMethodInvocation *invocation,
                       gpointer               user_data)
{
  Server *self = user_data;

  if (connection == self->bus)
    server_check_bus_caller (self, invocation);
  else
    server_dispatch (self, invocation);
}

static GVariant *
inspector_get_property (GDBusConnection  *connection,
                        const char       *sender,
                        const char       *object_path,
                        const char       *interface_name,
                        const char       *property_name,
                        GError          **error,
                        gpointer          user_data)
{
  if (g_str_equal (property_name, "Version"))
    return g_variant_new_uint32 (1);
  if (g_str_equal (property_name, "Pid"))
    return g_variant_new_uint32 (getpid ());
  if (g_str_equal (property_name, "Program"))
    return g_variant_new_string (weft_inspect_program_name ());

  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY,
               "No property %s", property_name);
  return NULL;
}

static const GDBusInterfaceVTable inspector_vtable = {
  .method_call = inspector_method_call,
  .get_property = inspector_get_property,
};

/* Connections */

static void
peer_free (Peer *peer)
{
  g_clear_signal_handler (&peer->closed_id, peer->connection);
  if (peer->registration_id != 0)
    g_dbus_connection_unregister_object (peer->connection, peer->registration_id);
  g_clear_pointer (&peer->replies_by_sender, g_hash_table_unref);
  g_object_unref (peer->connection);
  g_free (peer);
}

/* Emitted on the inspector thread: the connections are made there. */
static void
peer_closed (GDBusConnection *connection,
             gboolean         remote_peer_vanished,
             GError          *error,
             gpointer         user_data)
{
  Server *self = user_data;

  server_remove_subscribers_of (self, connection);
  g_hash_table_remove (self->peers, connection);
}

static gboolean
server_add_connection (Server           *self,
                       GDBusConnection  *connection,
                       gboolean          is_bus,
                       GError          **error)
{
  Peer *peer = g_new0 (Peer, 1);

  peer->connection = g_object_ref (connection);
  if (is_bus)
    peer->replies_by_sender = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  peer->registration_id = g_dbus_connection_register_object (connection, OBJECT_PATH,
                                                             get_interface_info (),
                                                             &inspector_vtable, self, NULL,
                                                             error);
  if (peer->registration_id == 0)
    {
      peer_free (peer);
      return FALSE;
    }
  g_hash_table_insert (self->peers, connection, peer);
  peer->closed_id = g_signal_connect (connection, "closed", G_CALLBACK (peer_closed), self);

  return TRUE;
}

static void
server_take_connection (Server            *self,
                        GSocketConnection *stream)
{
  g_autoptr(GDBusConnection) connection = NULL;

  /* Authenticated already: GDBus gets the stream right after BEGIN. Its
   * worker must not read before the connection is initialized (and the
   * object exported), as GDBusServer does it.
   */
  connection = g_dbus_connection_new_sync (G_IO_STREAM (stream), self->guid,
                                           G_DBUS_CONNECTION_FLAGS_DELAY_MESSAGE_PROCESSING,
                                           NULL, NULL, NULL);
  if (connection == NULL)
    {
      g_io_stream_close (G_IO_STREAM (stream), NULL, NULL);
      return;
    }

  if (g_hash_table_size (self->peers) >= MAX_CONNECTIONS
      || !server_add_connection (self, connection, FALSE, NULL))
    g_dbus_connection_close (connection, NULL, NULL, NULL);
  else
    g_dbus_connection_start_message_processing (connection);
}

/* The SASL login of the D-Bus specification, server side, EXTERNAL only.
 * GDBusServer's own reads lines of any length for as long as the peer
 * likes; here a peer gets MAX_AUTH_LINES lines of MAX_AUTH_LINE bytes
 * within handshake_timeout_ms, and is hung up on otherwise. The kernel
 * vouched for the peer's uid already (SO_PEERCRED).
 */

typedef enum
{
  AUTH_WAITING_FOR_NUL,
  AUTH_WAITING_FOR_AUTH,
  AUTH_WAITING_FOR_DATA,
  AUTH_WAITING_FOR_BEGIN,
} AuthState;

typedef enum
{
  HANDSHAKE_GOING_ON,
  HANDSHAKE_FAILED,
  HANDSHAKE_DONE,
} HandshakeStatus;

typedef struct
{
  Server            *server;
  GList              link;           /* in server->handshakes */
  GSocketConnection *connection;
  GSource           *readable;
  GSource           *deadline;
  AuthState          state;
  guint              lines;
  gsize              length;
  char               line[MAX_AUTH_LINE + 1];
} Handshake;

static void
handshake_free (Handshake *self)
{
  g_queue_unlink (&self->server->handshakes, &self->link);
  g_source_destroy (self->readable);
  g_source_unref (self->readable);
  g_source_destroy (self->deadline);
  g_source_unref (self->deadline);
  if (self->connection != NULL)
    g_io_stream_close (G_IO_STREAM (self->connection), NULL, NULL);
  g_clear_object (&self->connection);
  g_free (self);
}

static HandshakeStatus
handshake_reply (Handshake  *self,
                 AuthState   next,
                 const char *reply)
{
  GSocket *socket = g_socket_connection_get_socket (self->connection);
  gsize length = strlen (reply);

  /* A few short replies fit in the socket's buffer: one that does not
   * comes from a peer that does not read them.
   */
  if (g_socket_send_with_blocking (socket, reply, length, FALSE, NULL, NULL) != (gssize) length)
    return HANDSHAKE_FAILED;

  self->state = next;
  return HANDSHAKE_GOING_ON;
}

/* An empty identity stands for the credentials the kernel gave. */
static HandshakeStatus
handshake_authenticate (Handshake  *self,
                        const char *identity)
{
  g_autofree char *ok = NULL;

  if (identity[0] != '\0' && g_ascii_strcasecmp (identity, self->server->identity) != 0)
    return handshake_reply (self, AUTH_WAITING_FOR_AUTH, "REJECTED EXTERNAL\r\n");

  ok = g_strconcat ("OK ", self->server->guid, "\r\n", NULL);
  return handshake_reply (self, AUTH_WAITING_FOR_BEGIN, ok);
}

static HandshakeStatus
handshake_handle_line (Handshake *self)
{
  char *command = self->line;
  char *argument = strchr (command, ' ');

  if (++self->lines > MAX_AUTH_LINES)
    return HANDSHAKE_FAILED;
  if (argument != NULL)
    *argument++ = '\0';
  else
    argument = command + strlen (command);

  if (g_str_equal (command, "BEGIN"))
    return self->state == AUTH_WAITING_FOR_BEGIN ? HANDSHAKE_DONE : HANDSHAKE_FAILED;
  if (g_str_equal (command, "CANCEL") || g_str_equal (command, "ERROR"))
    return handshake_reply (self, AUTH_WAITING_FOR_AUTH, "REJECTED EXTERNAL\r\n");

  switch (self->state)
    {
    case AUTH_WAITING_FOR_AUTH:
      if (g_str_equal (command, "AUTH"))
        {
          char *response = strchr (argument, ' ');

          if (response != NULL)
            *response++ = '\0';
          if (!g_str_equal (argument, "EXTERNAL"))
            return handshake_reply (self, AUTH_WAITING_FOR_AUTH, "REJECTED EXTERNAL\r\n");
          if (response == NULL)
            return handshake_reply (self, AUTH_WAITING_FOR_DATA, "DATA\r\n");
          return handshake_authenticate (self, response);
        }
      break;

    case AUTH_WAITING_FOR_DATA:
      if (g_str_equal (command, "DATA"))
        return handshake_authenticate (self, argument);
      break;

    case AUTH_WAITING_FOR_NUL:
    case AUTH_WAITING_FOR_BEGIN:
      /* NEGOTIATE_UNIX_FD too: no fd passing here. */
      break;
    }

  return handshake_reply (self, self->state, "ERROR\r\n");
}

static HandshakeStatus
handshake_take_byte (Handshake *self,
                     guchar     byte)
{
  if (self->state == AUTH_WAITING_FOR_NUL)
    {
      self->state = AUTH_WAITING_FOR_AUTH;
      return byte == '\0' ? HANDSHAKE_GOING_ON : HANDSHAKE_FAILED;
    }

  /* Lines are printable ASCII ending in \r\n. */
  if (self->length > 0 && self->line[self->length - 1] == '\r')
    {
      if (byte != '\n')
        return HANDSHAKE_FAILED;
      self->line[self->length - 1] = '\0';
      self->length = 0;
      return handshake_handle_line (self);
    }
  if (self->length == MAX_AUTH_LINE || ((byte < 0x20 || byte > 0x7e) && byte != '\r'))
    return HANDSHAKE_FAILED;

  self->line[self->length++] = byte;
  return HANDSHAKE_GOING_ON;
}

static gboolean
handshake_readable (GSocket      *socket,
                    GIOCondition  condition,
                    gpointer      user_data)
{
  Handshake *self = user_data;
  HandshakeStatus status = HANDSHAKE_GOING_ON;

  /* Byte by byte, so that whatever follows BEGIN stays for GDBus. */
  while (status == HANDSHAKE_GOING_ON)
    {
      g_autoptr(GError) error = NULL;
      guchar byte;
      gssize received;

      received = g_socket_receive_with_blocking (socket, (char *) &byte, 1, FALSE, NULL, &error);
      if (received < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return G_SOURCE_CONTINUE;
      status = received == 1 ? handshake_take_byte (self, byte) : HANDSHAKE_FAILED;
    }

  if (status == HANDSHAKE_DONE)
    {
      g_autoptr(GSocketConnection) stream = g_steal_pointer (&self->connection);

      server_take_connection (self->server, stream);
    }
  handshake_free (self);
  return G_SOURCE_REMOVE;
}

static gboolean
handshake_timed_out (gpointer user_data)
{
  handshake_free (user_data);
  return G_SOURCE_REMOVE;
}

static gboolean
incoming (GSocketService    *service,
          GSocketConnection *connection,
          GObject           *source_object,
          gpointer           user_data)
{
  Server *self = user_data;
  GSocket *socket = g_socket_connection_get_socket (connection);
  g_autoptr(GCredentials) credentials = g_socket_get_credentials (socket, NULL);
  Handshake *handshake;

  if (credentials == NULL || g_credentials_get_unix_user (credentials, NULL) != getuid ())
    {
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return TRUE;
    }

  /* Silent peers cannot keep the others out: the oldest gives way. */
  if (self->handshakes.length >= MAX_HANDSHAKES)
    handshake_free (g_queue_peek_head (&self->handshakes));

  handshake = g_new0 (Handshake, 1);
  handshake->server = self;
  handshake->link.data = handshake;
  handshake->connection = g_object_ref (connection);
  g_queue_push_tail_link (&self->handshakes, &handshake->link);

  /* Each line of the login is a round trip through this context, which a
   * busy subscriber may keep loaded: the login goes first.
   */
  handshake->readable = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_priority (handshake->readable, G_PRIORITY_HIGH);
  g_source_set_static_name (handshake->readable, "[weft] inspector handshake");
  g_source_set_callback (handshake->readable, G_SOURCE_FUNC (handshake_readable), handshake, NULL);
  g_source_attach (handshake->readable, inspector_context);

  handshake->deadline = g_timeout_source_new (g_atomic_int_get (&handshake_timeout_ms));
  g_source_set_static_name (handshake->deadline, "[weft] inspector handshake deadline");
  g_source_set_callback (handshake->deadline, handshake_timed_out, handshake, NULL);
  g_source_attach (handshake->deadline, inspector_context);

  return TRUE;
}

guint
weft_inspect_server_set_handshake_timeout (guint timeout_ms)
{
  return g_atomic_int_exchange (&handshake_timeout_ms, timeout_ms);
}

/* The session bus */

static void
bus_name_lost (GDBusConnection *connection,
               const char      *name,
               gpointer         user_data)
{
  Server *self = user_data;

  if (self->bus != NULL)
    g_printerr ("weft-inspect: could not own %s on the session bus\n", name);
}

static void
bus_connected (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  Server *self;

  bus = g_dbus_connection_new_for_address_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = user_data;
  if (bus == NULL || !server_add_connection (self, bus, TRUE, &error))
    {
      g_printerr ("weft-inspect: not serving on the session bus: %s\n", error->message);
      return;
    }

  self->bus = g_steal_pointer (&bus);
  name = g_strdup_printf (BUS_NAME_FORMAT, (guint) getpid ());
  self->bus_name_id = g_bus_own_name_on_connection (self->bus, name,
                                                    G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                                    NULL, bus_name_lost, self, NULL);
}

static void
server_connect_to_session_bus (Server *self)
{
  g_autofree char *address = NULL;
  g_autoptr(GError) error = NULL;

  address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (address == NULL)
    {
      g_printerr ("weft-inspect: not serving on the session bus: %s\n", error->message);
      return;
    }

  self->bus_cancellable = g_cancellable_new ();
  g_dbus_connection_new_for_address (address,
                                     G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
                                     | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                     NULL, self->bus_cancellable, bus_connected, self);
}

/* The socket */

static gboolean
set_io_error (GError     **error,
              int          saved_errno,
              const char  *what,
              const char  *path)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
               "Cannot %s %s: %s", what, path, g_strerror (saved_errno));
  return FALSE;
}

/* Only this user may reach the sockets: the folder is 0700 and ours. */
static gboolean
prepare_socket_folder (const char  *folder,
                       GError     **error)
{
  struct stat info;

  if (g_mkdir_with_parents (folder, 0700) != 0)
    return set_io_error (error, errno, "create", folder);
  if (g_lstat (folder, &info) != 0)
    return set_io_error (error, errno, "inspect", folder);
  if (!S_ISDIR (info.st_mode) || info.st_uid != getuid ())
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "%s is not a folder of this user", folder);
      return FALSE;
    }
  if ((info.st_mode & 0777) != 0700 && g_chmod (folder, 0700) != 0)
    return set_io_error (error, errno, "restrict", folder);

  return TRUE;
}

/* A socket named after our pid was left by a dead process. */
static gboolean
remove_stale_socket (const char  *path,
                     GError     **error)
{
  struct stat info;

  if (g_lstat (path, &info) != 0)
    return errno == ENOENT || set_io_error (error, errno, "inspect", path);
  if (!S_ISSOCK (info.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "%s exists and is not a socket", path);
      return FALSE;
    }
  if (g_unlink (path) != 0)
    return set_io_error (error, errno, "remove", path);

  return TRUE;
}

static gboolean
server_listen (Server  *self,
               GError **error)
{
  g_autofree char *folder = g_build_filename (g_get_user_runtime_dir (), "weft", NULL);
  g_autofree char *name = g_strdup_printf ("%u", (guint) getpid ());
  g_autofree char *path = g_build_filename (folder, name, NULL);
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GString) identity = g_string_new (NULL);
  g_autofree char *uid = g_strdup_printf ("%u", (guint) getuid ());

  if (!prepare_socket_folder (folder, error) || !remove_stale_socket (path, error))
    return FALSE;

  for (const char *digit = uid; *digit != '\0'; digit++)
    g_string_append_printf (identity, "%02x", *digit);
  self->identity = g_string_free (g_steal_pointer (&identity), FALSE);
  self->guid = g_dbus_generate_guid ();

  /* Accepting starts at once, on the thread-default context: ours. */
  self->service = g_socket_service_new ();
  g_signal_connect (self->service, "incoming", G_CALLBACK (incoming), self);
  address = g_unix_socket_address_new (path);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
                                      NULL, NULL, error))
    return FALSE;

  if (g_chmod (path, 0600) != 0)
    {
      set_io_error (error, errno, "restrict", path);
      g_socket_listener_close (G_SOCKET_LISTENER (self->service));
      g_unlink (path);
      return FALSE;
    }

  g_free (socket_path);
  socket_path = g_steal_pointer (&path);
  return TRUE;
}

/* Stopping, on the inspector thread */

static void
server_teardown (Server *self)
{
  g_cancellable_cancel (self->bus_cancellable);
  if (self->bus_name_id != 0)
    {
      g_bus_unown_name (self->bus_name_id);
      self->bus_name_id = 0;
    }

  while (self->subscribers->len > 0)
    server_remove_subscriber (self, g_ptr_array_index (self->subscribers, 0));

  g_signal_handlers_disconnect_by_data (self->service, self);
  g_socket_service_stop (self->service);
  g_socket_listener_close (G_SOCKET_LISTENER (self->service));
  while (self->handshakes.length > 0)
    handshake_free (g_queue_peek_head (&self->handshakes));
  if (socket_path != NULL)
    g_unlink (socket_path);

  if (self->bus != NULL)
    g_dbus_connection_close (self->bus, NULL, NULL, NULL);
  g_clear_object (&self->bus);
  g_hash_table_remove_all (self->peers);

  current_server = NULL;
  g_main_loop_quit (self->loop);
}

static void
server_close_connections (Server *self)
{
  GHashTableIter iter;
  Peer *peer;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &peer))
    if (peer->connection != self->bus)
      g_dbus_connection_close (peer->connection, NULL, NULL, NULL);
}

static gboolean
final_flush_timed_out (gpointer user_data)
{
  Server *self = user_data;

  server_close_connections (self);
  server_teardown (self);
  return G_SOURCE_REMOVE;
}

static void
final_batch_flushed (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  guint generation = GPOINTER_TO_UINT (user_data);
  Server *self = current_server;

  g_dbus_connection_flush_finish (G_DBUS_CONNECTION (object), result, NULL);
  /* The timeout does the rest, now. */
  if (self != NULL && self->generation == generation && --self->final_flushes == 0)
    g_source_set_ready_time (self->final_timeout, 0);
}

/* The program exits: every subscriber gets the last changes, waiting at
 * most FINAL_FLUSH_TIMEOUT_MS for all of them to be written.
 */
static void
server_send_final_batches (Server *self)
{
  g_autoptr(GPtrArray) connections = g_ptr_array_new ();

  server_pull_delta (self, TRUE);
  for (guint i = 0; i < self->subscribers->len; i++)
    {
      Subscriber *subscriber = g_ptr_array_index (self->subscribers, i);

      if (subscriber_has_changes (subscriber))
        {
          g_autoptr(GVariant) batch = subscriber_take_changes (subscriber);

          subscriber_emit (subscriber, batch);
        }
      if (!g_ptr_array_find (connections, subscriber->connection, NULL))
        g_ptr_array_add (connections, subscriber->connection);
    }

  self->final_timeout = g_timeout_source_new (FINAL_FLUSH_TIMEOUT_MS);
  g_source_set_callback (self->final_timeout, final_flush_timed_out, self, NULL);
  g_source_attach (self->final_timeout, inspector_context);
  for (guint i = 0; i < connections->len; i++)
    {
      self->final_flushes++;
      g_dbus_connection_flush (connections->pdata[i], NULL, final_batch_flushed,
                               GUINT_TO_POINTER (self->generation));
    }
}

static gboolean
server_stop_on_thread (gpointer user_data)
{
  Server *self = user_data;

  if (g_atomic_int_get (&self->final) && self->subscribers->len > 0)
    server_send_final_batches (self);
  else
    {
      server_close_connections (self);
      server_teardown (self);
    }

  return G_SOURCE_REMOVE;
}

/* Starting and stopping, from the program's threads */

static gpointer
run_inspector_thread (gpointer user_data)
{
  Server *self = user_data;

  g_main_context_push_thread_default (inspector_context);
  g_main_loop_run (self->loop);
  g_main_context_pop_thread_default (inspector_context);

  return NULL;
}

static void
server_free (Server *self)
{
  g_clear_pointer (&self->peers, g_hash_table_unref);
  g_clear_pointer (&self->subscribers, g_ptr_array_unref);
  g_clear_pointer (&self->collector, weft_inspect_collector_free);
  g_clear_object (&self->bus_cancellable);
  g_clear_pointer (&self->final_timeout, g_source_unref);
  g_clear_object (&self->service);
  g_free (self->guid);
  g_free (self->identity);
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_free (self);
}

static Server *running;   /* the program threads' view, under weft-inspector.c's lock */

gboolean
weft_inspect_server_start (gboolean   use_session_bus,
                           GError   **error)
{
  Server *self;
  gboolean listening;

  if (inspector_context == NULL)
    inspector_context = g_main_context_new ();

  self = g_new0 (Server, 1);
  self->generation = ++server_generation;
  self->loop = g_main_loop_new (inspector_context, FALSE);
  self->peers = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) peer_free);
  self->subscribers = g_ptr_array_new_with_free_func ((GDestroyNotify) subscriber_unref);
  get_interface_info ();
  weft_inspect_error_quark ();

  /* Whatever GDBus calls back goes to the inspector thread's context. */
  g_main_context_push_thread_default (inspector_context);
  listening = server_listen (self, error);
  if (listening && use_session_bus)
    server_connect_to_session_bus (self);
  g_main_context_pop_thread_default (inspector_context);

  if (!listening)
    {
      server_free (self);
      return FALSE;
    }

  current_server = self;
  self->thread = g_thread_new ("weft-inspect", run_inspector_thread, self);
  running = self;
  return TRUE;
}

void
weft_inspect_server_stop (gboolean final)
{
  Server *self = g_steal_pointer (&running);

  if (self == NULL)
    return;

  g_atomic_int_set (&self->final, final);
  g_main_context_invoke (inspector_context, server_stop_on_thread, self);
  g_thread_join (self->thread);
  server_free (self);
  g_clear_pointer (&socket_path, g_free);
}

const char *
weft_inspect_server_get_socket_path (void)
{
  return running != NULL ? socket_path : NULL;
}
