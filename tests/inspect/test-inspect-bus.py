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

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import gi

gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

TARGET = os.environ.get('WEFT_INSPECT_TARGET', '')
OBJECT_PATH = '/org/gnome/Weft/Inspector'
INTERFACE = 'org.gnome.Weft.Inspector1'
NOBODY = 65534
UNFINISHED = ('pending', 'running', 'suspended')
PR_SET_PDEATHSIG = 1

tests = []


def test(function):
    tests.append(function)
    return function


class Skip(Exception):
    pass


def until(condition, timeout, what):
    """Polls condition() until it returns something true, or fails."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out after {timeout} s waiting for {what}')
        time.sleep(0.02)


_prctl = ctypes.CDLL(None, use_errno=True).prctl


def die_with_us():
    """In the child: SIGTERM when this process goes, even killed."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


children = []


def kill_children():
    for proc in children:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


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


class Target:
    def __init__(self, runtime_dir, bus, **env):
        environment = dict(os.environ, WEFT_INSPECT='1', XDG_RUNTIME_DIR=runtime_dir,
                           DBUS_SESSION_BUS_ADDRESS=bus.address)
        environment.pop('WEFT_INSPECT_BUS', None)
        environment.update(env)
        # It leaves with tasks pending on purpose
        environment['ASAN_OPTIONS'] = environment.get('ASAN_OPTIONS', '').replace(
            'detect_leaks=1', 'detect_leaks=0')
        self.runtime_dir = runtime_dir
        self.lines = []
        self.stderr = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen([TARGET], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=environment, text=True,
                                     bufsize=1, preexec_fn=die_with_us)
        children.append(self.proc)
        self.pid = self.proc.pid
        self.stdout_done = False
        self.readers = [threading.Thread(target=self._read, args=(stream, sink), daemon=True)
                        for stream, sink in ((self.proc.stdout, self.lines),
                                             (self.proc.stderr, self.stderr))]
        for reader in self.readers:
            reader.start()
        self.wait_line('ready', 15)

    def _read(self, stream, sink):
        for line in stream:
            with self.cond:
                sink.append(line.rstrip('\n'))
                self.cond.notify_all()
        with self.cond:
            if sink is self.lines:
                self.stdout_done = True
            self.cond.notify_all()

    def wait_line(self, text, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while text not in self.lines:
                left = deadline - time.monotonic()
                if left <= 0 or self.stdout_done:
                    raise AssertionError(f'the target did not print {text!r} within {timeout} s '
                                         f'(stdout {self.lines[-5:]}, stderr {self.stderr[-5:]})')
                self.cond.wait(min(left, 0.1))
            self.lines.remove(text)

    def command(self, command, reply=None):
        self.proc.stdin.write(command + '\n')
        self.proc.stdin.flush()
        if reply is not None:
            self.wait_line(reply, 10)

    @property
    def socket_path(self):
        return os.path.join(self.runtime_dir, 'weft', str(self.pid))

    def quit(self):
        self.command('quit')
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            raise AssertionError('the target did not exit within 10 s of quit')
        for reader in self.readers:
            reader.join(5)
        assert self.proc.returncode == 0, f'exit {self.proc.returncode}: {self.stderr[-10:]}'
        assert not self.criticals(), self.criticals()

    def criticals(self):
        with self.cond:
            return [line for line in self.stderr
                    if '-CRITICAL **' in line or '-ERROR **' in line or 'ERROR: ' in line]


# ---------------------------------------------------------------------------
# Calls


def call(connection, method, parameters=None, destination=None, interface=INTERFACE,
         path=OBJECT_PATH):
    return connection.call_sync(destination, path, interface, method, parameters, None,
                                Gio.DBusCallFlags.NONE, 5000, None).unpack()


def remote_error(function):
    try:
        function()
    except GLib.Error as error:
        return Gio.DBusError.get_remote_error(error) or error.message
    raise AssertionError('the call succeeded')


def socket_snapshot(target):
    connection = Gio.DBusConnection.new_for_address_sync(
        f'unix:path={target.socket_path}', Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT,
        None, None)
    try:
        return call(connection, 'GetSnapshot')[0]
    finally:
        connection.close_sync(None)


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
    result = subprocess.run([sys.executable, '-c', OTHER_USER_CLIENT, bus.address,
                             bus_name(target.pid), str(victim)],
                            user=NOBODY, group=NOBODY, extra_groups=[], cwd='/',
                            capture_output=True, text=True, timeout=15,
                            env={'PATH': '/usr/bin:/bin'}, preexec_fn=die_with_us)
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
        target.quit()
    finally:
        connection.close_sync(None)
    until(lambda: not bus.has_owner(name), 5, f'{name} to leave the bus')
    assert bus.inspectors() == [], bus.inspectors()


@test
def weft_inspect_bus_0_takes_no_name():
    quiet = Target(runtime_dir, bus, WEFT_INSPECT_BUS='0')
    try:
        # The socket serves, and GetSnapshot was answered after the
        # server started: a name would have been asked for by then
        assert socket_snapshot(quiet)['pid'] == quiet.pid
        assert not bus.has_owner(bus_name(quiet.pid))
        assert bus.inspectors() == [], bus.inspectors()
    finally:
        quiet.quit()


@test
def the_program_outlives_its_bus():
    survivor = Target(runtime_dir, bus)
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
        survivor.quit()


def main():
    global bus, target
    if shutil.which('dbus-daemon') is None:
        print('1..0 # SKIP dbus-daemon is not installed (Debian package dbus-daemon)')
        return 0
    if not os.access(TARGET, os.X_OK):
        print(f'Bail out! the target is not built: {TARGET!r}')
        return 1

    # meson's timeout sends SIGTERM: the finally below still runs
    signal.signal(signal.SIGTERM, lambda *args: sys.exit(1))
    print(f'1..{len(tests)}')
    failures = 0
    try:
        setup_error = None
        try:
            bus = Bus(folder)
            target = Target(runtime_dir, bus)
        except Exception as error:
            setup_error = str(error)

        for number, function in enumerate(tests, 1):
            name = function.__name__.replace('_', ' ')
            if setup_error:
                print(f'not ok {number} - {name}\n# {setup_error}')
                failures += 1
                continue
            try:
                function()
            except Skip as skip:
                print(f'ok {number} - {name} # SKIP {skip}')
            except Exception:
                failures += 1
                print(f'not ok {number} - {name}')
                for line in traceback.format_exc().rstrip().split('\n'):
                    print(f'# {line}')
            else:
                print(f'ok {number} - {name}')
            sys.stdout.flush()
    finally:
        if failures and target is not None and target.stderr:
            print('# target stderr:')
            for line in target.stderr[-30:]:
                print(f'#   {line}')
        kill_children()
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
