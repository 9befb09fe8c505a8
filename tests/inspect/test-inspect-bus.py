#!/usr/bin/python3
# test-inspect-bus.py — the inspector on a private session bus: the name
# org.gnome.Weft.Inspector.pPID, the same answers as on the socket, and the
# name gone when inspection stops
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Environment (set by tests/meson.build):
#   WEFT_INSPECT_TARGET  the weft-inspect-target program
#
# Prints TAP; skips the whole file when dbus-daemon is not installed. Every
# wait polls for a condition until a deadline. The bus daemon and the
# targets are killed however the test ends, and die with it if it is killed.

import os
import shutil
import subprocess
import sys
import tempfile
import time

import gi

gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

from inspect_harness import (INTERFACE, OBJECT_PATH, TARGET, Skip, Target,  # noqa: E402
                             call, children, die_with_us, remote_error, run, run_as_nobody,
                             socket_snapshot, target_env, test, until)

UNFINISHED = ('pending', 'running', 'suspended')


def bus_name(pid):
    return f'org.gnome.Weft.Inspector.p{pid}'


# ---------------------------------------------------------------------------
# A private bus

BUS_CONFIG = '''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
'''


class Bus:
    """dbus-daemon on a socket of our own. Any user may connect, as a
    session bus configured carelessly allows: the inspector has to check
    who calls."""

    def __init__(self, folder):
        self.socket = os.path.join(folder, 'bus')
        config = os.path.join(folder, 'bus.conf')
        with open(config, 'w') as f:
            f.write(BUS_CONFIG.format(socket=self.socket))
        self.proc = subprocess.Popen(['dbus-daemon', '--nofork', '--nopidfile',
                                      f'--config-file={config}', '--print-address=1'],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, preexec_fn=die_with_us)
        children.append(self.proc)
        # Printed once it listens
        self.address = self.proc.stdout.readline().strip()
        if not self.address:
            raise AssertionError(f'dbus-daemon did not start: {self.proc.stderr.read()}')
        os.chmod(self.socket, 0o777)
        self.connection = self.connect()

    def connect(self):
        return Gio.DBusConnection.new_for_address_sync(
            self.address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
            Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)

    def call_bus(self, method, parameters=None):
        return self.connection.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                         'org.freedesktop.DBus', method, parameters, None,
                                         Gio.DBusCallFlags.NONE, 5000, None).unpack()

    def has_owner(self, name):
        return self.call_bus('NameHasOwner', GLib.Variant('(s)', (name,)))[0]

    def inspectors(self):
        names = self.call_bus('ListNames')[0]
        return sorted(n for n in names if n.startswith('org.gnome.Weft.Inspector.'))

    def owner_pid(self, name):
        return self.call_bus('GetConnectionUnixProcessID', GLib.Variant('(s)', (name,)))[0]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


# ---------------------------------------------------------------------------
# The target


def start_target(runtime_dir, bus, **changes):
    changes = {'DBUS_SESSION_BUS_ADDRESS': bus.address, 'WEFT_INSPECT_BUS': None, **changes}
    return Target(runtime_dir, target_env(runtime_dir, **changes))


def quit(target):
    """Ends target, which must exit 0 without a critical"""
    target.quit()
    assert not target.criticals(), target.criticals()


# ---------------------------------------------------------------------------
# Calls


def bus_snapshot(connection, target):
    return call(connection, 'GetSnapshot', destination=bus_name(target.pid))[0]


def unfinished(batch):
    """id → (name, state, kind, function, parent, awaits) of the unfinished tasks"""
    return {task['id']: (task['name'], task['state'], task['kind'], task['function'],
                         task['parent'], sorted(task['awaits']))
            for task in batch['tasks'] if task['state'] in UNFINISHED}


def task_id(target, name):
    ids = [task['id'] for task in socket_snapshot(target)['tasks']
           if task['name'] == name and task['state'] == 'suspended']
    return ids[0] if ids else None


def iterate_until(condition, timeout, what):
    """Runs the default main context (signals arrive there) until condition()"""
    context = GLib.MainContext.default()
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out after {timeout} s waiting for {what}')
        context.iteration(False) or time.sleep(0.005)


# ---------------------------------------------------------------------------
# The tests, in order, on one bus and target; the last ones start their own
# targets

folder = tempfile.mkdtemp(prefix='weft-inspect-bus-test-')
runtime_dir = os.path.join(folder, 'runtime')
os.mkdir(runtime_dir, 0o700)
bus = None
target = None


@test
def the_name_is_owned_by_the_program():
    name = bus_name(target.pid)
    until(lambda: bus.has_owner(name), 5, f'{name} on the bus')
    assert bus.owner_pid(name) == target.pid
    assert bus.inspectors() == [name], bus.inspectors()


@test
def the_object_is_where_the_interface_says():
    xml = call(bus.connection, 'Introspect', destination=bus_name(target.pid),
               interface='org.freedesktop.DBus.Introspectable')[0]
    node = Gio.DBusNodeInfo.new_for_xml(xml)
    assert node.lookup_interface(INTERFACE) is not None, xml
    for prop, expected in (('Pid', target.pid), ('Program', 'weft-inspect-target'),
                           ('Version', 1)):
        value = call(bus.connection, 'Get', GLib.Variant('(ss)', (INTERFACE, prop)),
                     destination=bus_name(target.pid),
                     interface='org.freedesktop.DBus.Properties')[0]
        assert value == expected, (prop, value)


@test
def get_snapshot_matches_the_socket():
    on_bus = bus_snapshot(bus.connection, target)
    on_socket = socket_snapshot(target)
    assert on_bus['full'] and on_bus['pid'] == target.pid, on_bus.keys()
    assert on_bus['program'] == on_socket['program'] == 'weft-inspect-target'
    tasks = unfinished(on_bus)
    assert tasks == unfinished(on_socket), f'bus {tasks}\nsocket {unfinished(on_socket)}'
    names = {task[0] for task in tasks.values()}
    assert {'main', 'album-1', 'album-2', 'worker', 'victim', 'gatherer'} <= names, names
    finished = {task['name'] for task in on_bus['tasks']} - names
    assert {'cancelled-one', 'failing'} <= finished, finished


@test
def cancel_through_the_bus():
    target.command('spawn doomed')
    doomed = until(lambda: task_id(target, 'doomed'), 5, 'doomed in the snapshot')
    outcome = call(bus.connection, 'Cancel', GLib.Variant('(ts)', (doomed, 'from the bus')),
                   destination=bus_name(target.pid))[0]
    assert outcome == 'cancelled', outcome

    # Its step ends it when woken, cancelled or not
    def finished():
        tasks = {task['id']: task for task in socket_snapshot(target)['tasks']}
        return tasks[doomed]['state'] not in UNFINISHED and tasks[doomed]
    task = until(finished, 5, 'doomed to finish')
    assert [request[2] for request in task['cancel-requests']] == ['from the bus'], task

    assert remote_error(lambda: call(bus.connection, 'Cancel',
                                     GLib.Variant('(ts)', (999999999, '')),
                                     destination=bus_name(target.pid))) == \
        'org.gnome.Weft.Inspector1.Error.NoSuchTask'


@test
def subscribe_through_the_bus():
    connection = bus.connect()
    batches = []
    subscription = connection.signal_subscribe(
        bus_name(target.pid), INTERFACE, 'Batch', OBJECT_PATH, None, Gio.DBusSignalFlags.NONE,
        lambda *args: batches.append(args[5].unpack()[0]))
    try:
        first = call(connection, 'Subscribe', GLib.Variant('(u)', (20,)),
                     destination=bus_name(target.pid))[0]
        assert first['full'], first.keys()
        target.command('spawn seen-by-subscriber')
        iterate_until(lambda: any(task.get('name') == 'seen-by-subscriber'
                                  for batch in batches for task in batch.get('tasks', [])),
                      5, 'a Batch signal with seen-by-subscriber')
        call(connection, 'Unsubscribe', destination=bus_name(target.pid))
    finally:
        connection.signal_unsubscribe(subscription)
        connection.close_sync(None)


def call_at_once(connections, method, parameters, destination):
    """The same call from every connection before any reply is read →
    each one's result, or its error's D-Bus name"""
    results = {}

    def done(connection, result, index):
        try:
            results[index] = connection.call_finish(result).unpack()
        except GLib.Error as error:
            results[index] = Gio.DBusError.get_remote_error(error) or error.message
    for index, connection in enumerate(connections):
        connection.call(destination, OBJECT_PATH, INTERFACE, method, parameters, None,
                        Gio.DBusCallFlags.NONE, 5000, None, done, index)
    iterate_until(lambda: len(results) == len(connections), 10, f'{len(connections)} replies')
    return [results[index] for index in range(len(connections))]


@test
def bus_clients_calling_at_once_are_all_answered():
    # The bus brings every client on one connection: each must still have
    # the allowance of a peer of the socket
    connections = [bus.connect() for _ in range(16)]
    try:
        results = call_at_once(connections, 'GetSnapshot', None, bus_name(target.pid))
    finally:
        for connection in connections:
            connection.close_sync(None)
    errors = [result for result in results if isinstance(result, str)]
    assert not errors, f'{len(errors)} of 16 refused: {errors[0]}'
    assert all(result[0]['pid'] == target.pid for result in results)


@test
def subscribers_that_leave_the_bus_are_forgotten():
    # As many as the program admits at once (64), then one more: each must
    # be dropped when its connection leaves the bus, or that one is Busy
    connections = [bus.connect() for _ in range(64)]
    try:
        results = call_at_once(connections, 'Subscribe', GLib.Variant('(u)', (10000,)),
                               bus_name(target.pid))
        errors = [result for result in results if isinstance(result, str)]
        assert not errors, f'{len(errors)} of 64 refused: {errors[0]}'
    finally:
        for connection in connections:
            connection.close_sync(None)

    last = bus.connect()
    try:
        def subscribed():
            try:
                return call(last, 'Subscribe', GLib.Variant('(u)', (10000,)),
                            destination=bus_name(target.pid))
            except GLib.Error as error:
                if Gio.DBusError.get_remote_error(error) != 'org.gnome.Weft.Inspector1.Error.Busy':
                    raise
        until(subscribed, 5, 'a subscriber after 64 that left')
    finally:
        last.close_sync(None)


OTHER_USER_CLIENT = r'''
import sys
from gi.repository import Gio, GLib
c = Gio.DBusConnection.new_for_address_sync(sys.argv[1],
    Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
    Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
for method, args in (("GetSnapshot", None),
                     ("Cancel", GLib.Variant("(ts)", (int(sys.argv[3]), "not yours"))),
                     ("Subscribe", GLib.Variant("(u)", (0,))),
                     ("GetBacktrace", GLib.Variant("(t)", (int(sys.argv[3]),)))):
    try:
        c.call_sync(sys.argv[2], "/org/gnome/Weft/Inspector", "org.gnome.Weft.Inspector1",
                    method, args, None, Gio.DBusCallFlags.NONE, 5000, None)
        print(method, "ANSWERED")
    except GLib.Error as e:
        print(method, "REFUSED", Gio.DBusError.get_remote_error(e))
'''


@test
def other_users_on_the_bus_are_refused():
    if os.geteuid() != 0:
        raise Skip('needs root to run a client as another user')
    os.chmod(folder, 0o711)
    victim = task_id(target, 'victim')
    result = run_as_nobody(OTHER_USER_CLIENT, bus.address, bus_name(target.pid), str(victim))
    lines = result.stdout.strip().split('\n')
    assert len(lines) == 4, result.stdout + result.stderr
    for line in lines:
        method, verdict, *error = line.split()
        assert verdict == 'REFUSED' and error == ['org.freedesktop.DBus.Error.AccessDenied'], \
            f'another user called {method}: {line}'
    assert task_id(target, 'victim') == victim, 'another user cancelled victim'


@test
def disable_releases_the_name_and_enable_takes_it_again():
    name = bus_name(target.pid)
    target.command('disable', 'disabled')
    # Disabling is synchronous: no wait
    assert not bus.has_owner(name), f'{name} is still owned after weft_inspector_disable()'
    assert not os.path.exists(target.socket_path)
    target.command('enable', 'enabled')
    until(lambda: bus.has_owner(name), 5, f'{name} on the bus again')
    assert unfinished(bus_snapshot(bus.connection, target)) == unfinished(socket_snapshot(target))


@test
def the_name_goes_when_the_program_exits():
    name = bus_name(target.pid)
    connection = bus.connect()
    try:
        # A subscriber on the bus too: the exit sends it the last batch first
        call(connection, 'Subscribe', GLib.Variant('(u)', (0,)), destination=name)
        quit(target)
    finally:
        connection.close_sync(None)
    until(lambda: not bus.has_owner(name), 5, f'{name} to leave the bus')
    assert bus.inspectors() == [], bus.inspectors()


@test
def weft_inspect_bus_0_takes_no_name():
    quiet = start_target(runtime_dir, bus, WEFT_INSPECT_BUS='0')
    try:
        # The socket serves, and GetSnapshot was answered after the
        # server started: a name would have been asked for by then
        assert socket_snapshot(quiet)['pid'] == quiet.pid
        assert not bus.has_owner(bus_name(quiet.pid))
        assert bus.inspectors() == [], bus.inspectors()
    finally:
        quit(quiet)


@test
def the_program_outlives_its_bus():
    survivor = start_target(runtime_dir, bus)
    try:
        until(lambda: bus.has_owner(bus_name(survivor.pid)), 5, 'the name on the bus')
        bus.stop()
        # Losing the bus neither ends the program (GDBus's exit-on-close
        # would, with SIGTERM: quit() checks the exit status) nor the
        # socket, whose reply comes through the same GDBus thread that
        # saw the bus go
        assert socket_snapshot(survivor)['pid'] == survivor.pid
        assert survivor.proc.poll() is None, f'the target exited: {survivor.stderr[-5:]}'
    finally:
        quit(survivor)


def main():
    if shutil.which('dbus-daemon') is None:
        print('1..0 # SKIP dbus-daemon is not installed (Debian package dbus-daemon)')
        return 0
    if not os.access(TARGET, os.X_OK):
        print(f'Bail out! the target is not built: {TARGET!r}')
        return 1

    def setup():
        global bus, target
        bus = Bus(folder)
        target = start_target(runtime_dir, bus)
        return target
    return run(setup, folder)


if __name__ == '__main__':
    sys.exit(main())
