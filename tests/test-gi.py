#!/usr/bin/python3
# test-gi.py — Weft through GObject Introspection, from PyGObject
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import sys

import gi

gi.require_version('Weft', '1.0')
from gi.repository import Gio, GLib, Weft  # noqa: E402

tests = []


def test(function):
    tests.append(function)
    return function


def drive(context, done, limit=1000):
    for _ in range(limit):
        if done():
            return
        context.iteration(True)
    raise AssertionError('the main loop never completed the work')


@test
def future_completes_across_main_loop():
    context = GLib.MainContext.default()
    future = Weft.Future.new()
    seen = []
    future.add_done_callback(lambda f: seen.append(f.get_int64()))
    GLib.idle_add(lambda: future.set_int64(42) or GLib.SOURCE_REMOVE)
    assert seen == []
    drive(context, lambda: seen)
    assert seen == [42]
    assert future.get_state() == Weft.FutureState.FINISHED


@test
def cancellation_is_a_gio_error():
    future = Weft.Future.new()
    assert future.cancel('stop')
    assert future.is_cancelled()
    assert future.get_cancel_message() == 'stop'
    try:
        future.propagate()
    except GLib.Error as error:
        assert error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED)
        assert error.message == 'stop'
    else:
        raise AssertionError('a cancelled future must raise')


@test
def pending_value_is_an_error():
    future = Weft.Future.new()
    try:
        future.get_int64()
    except GLib.Error as error:
        assert error.matches(Weft.error_quark(), Weft.Error.INVALID_STATE)
    else:
        raise AssertionError('reading a pending future must raise')


class Countdown(Weft.Task):
    """A stackless coroutine written in Python: one step per vfunc call."""

    def __init__(self, gate):
        super().__init__()
        self.gate = gate
        self.steps = []

    def do_step(self, awaited, error):
        self.steps.append(error.message if error else None)
        if len(self.steps) == 1:
            self.await_at(self.gate, None)
        elif len(self.steps) == 2:
            self.sleep(0)  # a bare yield (S1); "yield" is a Python keyword
        else:
            self.return_int64(awaited.get_int64() if awaited else len(self.steps))


@test
def stackless_subclass_steps():
    context = GLib.MainContext.default()
    gate = Weft.Future.new()
    task = Countdown(gate)
    assert task.get_name().startswith('Task-')
    Weft.run_pass(context)
    assert task.is_suspended()
    assert task.get_awaited() == gate
    gate.set_int64(7)
    drive(context, task.is_done)
    assert task.get_int64() == 3
    assert task.steps == [None, None, None]


@test
def step_function_task_and_cancel():
    context = GLib.MainContext.default()
    gate = Weft.Future.new()
    seen = []

    def step(task, awaited, error):
        seen.append(error)
        if error is not None:
            task.return_error(error)
        else:
            task.await_at(gate, None)

    task = Weft.Task.new('py', step)
    Weft.run_pass(context)
    assert task.cancel('enough')
    assert gate.is_cancelled()
    assert task.get_cancelling() == 1
    drive(context, task.is_done)
    assert task.is_cancelled()
    assert seen[-1].message == 'enough'
    assert task.get_cancellable().is_cancelled()


@test
def sync_primitives_from_python():
    event = Weft.Event.new()
    waited = event.wait()
    assert not waited.is_done()
    event.set()
    assert waited.is_done() and event.is_set()

    lock = Weft.Lock.new()
    assert lock.try_acquire() and lock.is_locked()
    lock.release()
    try:
        lock.release()
    except GLib.Error as error:
        assert error.matches(Weft.error_quark(), Weft.Error.INVALID_STATE)
    else:
        raise AssertionError('releasing an unlocked lock must raise')

    barrier = Weft.Barrier.new(1)
    assert barrier.wait().get_int64() == 0

    queue = Weft.Queue.new(1)
    try:
        queue.get_nowait()
    except GLib.Error as error:
        assert error.matches(Weft.error_quark(), Weft.Error.QUEUE_EMPTY)
    else:
        raise AssertionError('an empty queue must raise')


def main():
    print(f'1..{len(tests)}')
    failed = 0
    for number, function in enumerate(tests, 1):
        try:
            function()
        except Exception as error:  # report and go on, as TAP expects
            failed += 1
            print(f'not ok {number} - {function.__name__}: {error!r}')
        else:
            print(f'ok {number} - {function.__name__}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
