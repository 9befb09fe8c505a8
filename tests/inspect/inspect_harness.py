# inspect_harness.py — what test-inspect.py and test-inspect-bus.py share:
# registering tests, the TAP runner, polling, and weft-inspect-target run
# as a child that dies with the test
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Imported from the tests' own folder, which Python puts first on sys.path
# for the script it runs, wherever meson runs it from.

import ctypes
import os
import shutil
import signal
import subprocess
import sys
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


def run_as_nobody(script, *args):
    """Runs the Python script as another user, in a bare environment"""
    return subprocess.run([sys.executable, '-c', script, *args],
                          user=NOBODY, group=NOBODY, extra_groups=[], cwd='/',
                          capture_output=True, text=True, timeout=15,
                          env={'PATH': '/usr/bin:/bin'}, preexec_fn=die_with_us)


# ---------------------------------------------------------------------------
# The target


def target_env(runtime_dir, **changes):
    """The environment of a target inspected on runtime_dir; a change to
    None removes the variable"""
    env = dict(os.environ, WEFT_INSPECT='1', XDG_RUNTIME_DIR=runtime_dir)
    # It leaves with tasks pending on purpose
    env['ASAN_OPTIONS'] = env.get('ASAN_OPTIONS', '').replace('detect_leaks=1', 'detect_leaks=0')
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


class Target:
    """weft-inspect-target, started and ready for commands; its output is
    read into lines as it comes"""

    def __init__(self, runtime_dir, env):
        self.runtime_dir = runtime_dir
        self.lines = []
        self.stderr = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen([TARGET], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, text=True,
                                     encoding='utf-8', errors='replace', bufsize=1,
                                     preexec_fn=die_with_us)
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
        """Waits for the line text and takes it, so that the same reply can
        be awaited again"""
        deadline = time.monotonic() + timeout
        with self.cond:
            while text not in self.lines:
                left = deadline - time.monotonic()
                if left <= 0 or self.stdout_done:
                    raise AssertionError(f'the target did not print {text!r} within {timeout} s '
                                         f'(stdout {self.lines[-5:]}, stderr {self.stderr[-5:]})')
                self.cond.wait(min(left, 0.1))
            self.lines.remove(text)

    def has_line(self, text):
        with self.cond:
            return text in self.lines

    def command(self, command, reply=None):
        self.proc.stdin.write(command + '\n')
        self.proc.stdin.flush()
        if reply is not None:
            self.wait_line(reply, 10)

    @property
    def socket_path(self):
        return os.path.join(self.runtime_dir, 'weft', str(self.pid))

    def quit(self):
        """Ends the program, which must exit 0, and reads its output to the end"""
        self.command('quit')
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            raise AssertionError('the target did not exit within 10 s of quit')
        for reader in self.readers:
            reader.join(5)
        assert self.proc.returncode == 0, f'exit {self.proc.returncode}: {self.stderr[-10:]}'

    def criticals(self):
        with self.cond:
            return [line for line in self.stderr
                    if '-CRITICAL **' in line or '-ERROR **' in line or 'ERROR: ' in line]


# ---------------------------------------------------------------------------
# D-Bus calls


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


def socket_connection(target):
    return Gio.DBusConnection.new_for_address_sync(
        f'unix:path={target.socket_path}', Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT,
        None, None)


def socket_snapshot(target):
    connection = socket_connection(target)
    try:
        return call(connection, 'GetSnapshot')[0]
    finally:
        connection.close_sync(None)


# ---------------------------------------------------------------------------
# The runner


def run(setup, folder):
    """Prints TAP for the tests in order. setup() starts the target whose
    stderr a failure shows, and returns it; if it fails, every test fails
    with its error. However the run ends, even by meson's timeout, the
    children are killed and folder is removed. → the exit status"""
    # meson's timeout sends SIGTERM: the finally below still runs
    signal.signal(signal.SIGTERM, lambda *args: sys.exit(1))
    print(f'1..{len(tests)}')
    failures = 0
    target = None
    try:
        setup_error = None
        try:
            target = setup()
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
