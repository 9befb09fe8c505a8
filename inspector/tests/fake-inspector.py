#!/usr/bin/python3
# fake-inspector.py XML [--exit-after-script]: serves
# org.gnome.Weft.Inspector1 from canned batches on
# $XDG_RUNTIME_DIR/weft/PID, as an inspected program would, so the live
# commands of weft-inspect can be tried without the library's server.
#
# The state is inspect_batches.complex_tree(). A subscriber gets a full
# batch, then a delta per interval while anything changed: first three
# scripted changes, then whatever Cancel does. With --exit-after-script the
# process exits once the script is sent.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gi.repository import Gio, GLib  # noqa: E402
from inspect_batches import batch, complex_tree  # noqa: E402

PATH = '/org/gnome/Weft/Inspector'
IFACE = 'org.gnome.Weft.Inspector1'
ERROR = IFACE + '.Error.'

with open(sys.argv[1]) as f:
    NODE = Gio.DBusNodeInfo.new_for_xml(f.read())
EXIT_AFTER_SCRIPT = '--exit-after-script' in sys.argv

tasks = {t['id']: t for t in complex_tree()}
loops = [{'id': 1, 'thread': 'main', 'current-task': 0, 'step-us': 0,
          'since-iteration-us': 300, 'blocked': False, 'tasks': 6}]
lints = [{'kind': 'unread-error', 'task': 7, 'message': 'its error was never read',
          'count': 1, 'first-us': 2000, 'last-us': 2000, 'worst-us': 0}]
seq = 0
pending = {}
pending_removed = []
subscribers = {}   # connection → interval timer id
connections = []   # GDBusServer leaves accepted connections to us
script = [
    lambda: change(3, **{'busy-us': 1080, 'steps': 2}),
    lambda: change(4, state='done', result='ok', awaited='', **{'finished-us': 2500000}),
    lambda: remove(6),
]


def change(id, **keys):
    tasks[id].update(keys)
    pending.setdefault(id, {}).update(keys)


def remove(id):
    del tasks[id]
    pending.pop(id, None)
    pending_removed.append(id)


def next_seq():
    global seq
    seq += 1
    return seq


def full_batch():
    return batch(next_seq(), GLib.get_monotonic_time(), list(tasks.values()), full=True,
                 pid=os.getpid(), program='demo', loops=loops, lints=lints)


def tick(connection):
    if script:
        script.pop(0)()
    if pending or pending_removed:
        delta = batch(next_seq(), GLib.get_monotonic_time(),
                      [dict(keys, id=id) for id, keys in pending.items()],
                      removed=list(pending_removed), loops=loops)
        pending.clear()
        pending_removed.clear()
        connection.emit_signal(None, PATH, IFACE, 'Batch', GLib.Variant.new_tuple(delta))
        connection.flush_sync(None)
    if EXIT_AFTER_SCRIPT and not script:
        os.unlink(SOCKET)
        os._exit(0)
    return GLib.SOURCE_CONTINUE


def on_method(connection, sender, path, iface, method, params, invocation):
    if method == 'GetSnapshot':
        invocation.return_value(GLib.Variant.new_tuple(full_batch()))
    elif method == 'Subscribe':
        interval = min(max(params[0] or 100, 20), 10000)
        if connection not in subscribers:
            subscribers[connection] = GLib.timeout_add(interval, tick, connection)
        invocation.return_value(GLib.Variant.new_tuple(full_batch()))
    elif method == 'Unsubscribe':
        if connection in subscribers:
            GLib.source_remove(subscribers.pop(connection))
        invocation.return_value(None)
    elif method == 'GetBacktrace':
        id = params[0]
        task = tasks.get(id)
        if task is None or task['state'] in ('done', 'failed', 'cancelled'):
            invocation.return_dbus_error(ERROR + 'NoSuchTask', 'no unfinished task %d' % id)
        elif id == 5:
            invocation.return_dbus_error(ERROR + 'Busy', 'the task\'s main loop did not answer')
        elif task['kind'] != 'fiber':
            invocation.return_value(GLib.Variant('(a(tssu)s)', ([], 'not a fiber')))
        else:
            invocation.return_value(GLib.Variant('(a(tssu)s)', ([
                (0x401000, task['function'], 'net.c', 12),
                (0x401234, 'weft_fiber_trampoline', '', 0),
            ], '')))
    elif method == 'Cancel':
        id, message = params
        task = tasks.get(id)
        if task is None:
            invocation.return_dbus_error(ERROR + 'NoSuchTask', 'no task %d' % id)
        elif task['state'] in ('done', 'failed', 'cancelled'):
            invocation.return_value(GLib.Variant('(s)', ('done',)))
        else:
            change(id, cancelling=task['cancelling'] + 1,
                   **{'cancel-requests': task['cancel-requests'] + [(0, GLib.get_monotonic_time(), message)]})
            invocation.return_value(GLib.Variant('(s)', ('cancelled',)))


def on_closed(connection, vanished, error):
    connections.remove(connection)
    if connection in subscribers:
        GLib.source_remove(subscribers.pop(connection))


def on_new_connection(server, connection):
    connection.register_object(PATH, NODE.interfaces[0], on_method, None, None)
    connection.connect('closed', on_closed)
    connections.append(connection)
    return True


folder = os.path.join(GLib.get_user_runtime_dir(), 'weft')
os.makedirs(folder, mode=0o700, exist_ok=True)
SOCKET = os.path.join(folder, str(os.getpid()))
server = Gio.DBusServer.new_sync('unix:path=' + SOCKET, Gio.DBusServerFlags.NONE,
                                 Gio.dbus_generate_guid(), None, None)
server.connect('new-connection', on_new_connection)
server.start()
print(os.getpid(), flush=True)
GLib.MainLoop().run()
