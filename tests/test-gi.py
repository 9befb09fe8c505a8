#!/usr/bin/python3
# test-gi.py — Weft through GObject Introspection, from PyGObject
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import gc
import sys
import tempfile
import threading

import gi

gi.require_version('Weft', '1.0')
from gi.repository import Gio, GLib, GObject, Weft  # noqa: E402

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
def timeout_converts_its_cancellation():
    context = GLib.MainContext.default()
    never = Weft.Future.new()
    timeout = Weft.Timeout.new(0)
    outcome = []

    def step(task, awaited, error):
        if awaited is None:
            timeout.enter()
            task.await_at(never, None)
            return
        try:
            timeout.leave(error)
        except GLib.Error as raised:
            outcome.append(raised)
            task.return_error(raised)
        else:
            task.return_void()

    task = Weft.Task.new('py-timeout', step)
    drive(context, task.is_done)
    assert never.is_cancelled()
    assert timeout.is_expired()
    assert outcome[0].matches(Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT)
    assert task.get_cancelling() == 0


@test
def wait_for_passes_the_value_through():
    context = GLib.MainContext.default()
    inner = Weft.Future.new()
    waiter = Weft.wait_for(inner, float('inf'))
    Weft.run_pass(context)
    inner.set_string('done')
    drive(context, waiter.is_done)
    assert waiter.dup_string() == 'done'


@test
def gio_operation_through_complete_method():
    context = GLib.MainContext.default()
    with tempfile.NamedTemporaryFile() as named:
        named.write(b'woven')
        named.flush()
        file = Gio.File.new_for_path(named.name)
        seen = []

        def step(task, awaited, error):
            if awaited is None:
                op = Weft.GioFuture.new()
                file.load_contents_async(op.get_cancellable(), op.complete)
                task.await_at(op, None)
            else:
                ok, contents, etag = file.load_contents_finish(awaited.dup_object())
                seen.append(contents)
                task.return_void()

        task = Weft.Task.new('load', step)
        drive(context, task.is_done)
        task.propagate()
        assert seen == [b'woven']


@test
def gio_wait_cancelled_kills_process():
    context = GLib.MainContext.default()
    process = Gio.Subprocess.new(['sleep', '1000'], Gio.SubprocessFlags.NONE)

    def step(task, awaited, error):
        if error is not None:
            task.return_error(error)
        else:
            task.await_at(Weft.subprocess_wait(process), None)

    task = Weft.Task.new('wait', step)
    Weft.run_pass(context)
    op = task.get_awaited()
    assert task.cancel('enough')
    assert op.is_cancelled()
    drive(context, task.is_done)
    assert task.is_cancelled()
    process.wait()
    assert process.get_if_signaled()
    assert process.get_term_sig() == 9


@test
def gather_results_by_index():
    a, b = Weft.Future.new(), Weft.Future.new()
    b.set_int64(2)
    gather = Weft.Gather.new([a, b, a], True)
    a.set_error(GLib.Error.new_literal(Gio.io_error_quark(), 'no',
                                       Gio.IOErrorEnum.NOT_FOUND))
    drive(GLib.MainContext.default(), gather.is_done)
    assert gather.get_n_results() == 3
    assert gather.get_result(1) == 2
    try:
        gather.get_result(0)
    except GLib.Error as error:
        assert error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND)
    else:
        raise AssertionError('a failed child must raise at its index')


@test
def wait_splits_done_and_pending():
    a, b = Weft.Future.new(), Weft.Future.new()
    wait = Weft.WaitFuture.new([a, b], -1, Weft.ReturnWhen.FIRST_COMPLETED)
    a.set_int64(1)
    drive(GLib.MainContext.default(), wait.is_done)
    assert wait.get_done() == [a]
    assert wait.get_pending() == [b]


@test
def as_completed_serves_inputs_in_order():
    a, b = Weft.Future.new(), Weft.Future.new()
    iterator = Weft.AsCompleted.new([a, b], -1)
    first = iterator.next()
    b.set_int64(2)
    drive(GLib.MainContext.default(), first.is_done)
    assert first.dup_object() == b
    assert Weft.shield(b) == b


@test
def task_group_gathers_failures():
    context = GLib.MainContext.default()
    gate = Weft.Future.new()
    state = {}

    def failing(task, awaited, error):
        task.return_error(GLib.Error('boom', 'test-error', 1))

    def waiter(task, awaited, error):
        if error is not None:
            task.return_error(error)
        else:
            task.await_at(gate, None)

    def parent(task, awaited, error):
        if 'group' not in state:
            group = Weft.TaskGroup.new()
            state['group'] = group
            state['boom'] = group.create_task('boom', failing)
            group.create_task('waiter', waiter)
            task.sleep(0)  # the tasks start
        elif 'done' not in state:
            # PyGObject 3.42 cannot pass None for a GError: the body ends
            # with an error of its own, reported after the task's.
            state['done'] = state['group'].wait(GLib.Error('body', 'test-error', 2))
            task.await_at(state['done'], None)
        else:
            state['error'] = error
            task.return_void()

    main = Weft.Task.new('main', parent)
    drive(context, main.is_done)
    assert state['error'].matches(Weft.error_quark(), Weft.Error.TASK_GROUP)
    assert gate.is_cancelled()
    group = state['group']
    assert group.get_n_tasks() == 0
    assert group.get_n_failures() == 2
    failure, raiser = group.get_failure(0)
    assert failure.message == 'boom'
    assert raiser == state['boom']
    failure, raiser = group.get_failure(1)
    assert failure.message == 'body'
    assert raiser == main
    assert main.get_cancelling() == 0
    # Failures do not keep their task alive; its name stays.
    del state['boom'], raiser
    gc.collect()
    failure, raiser = group.get_failure(0)
    assert failure.message == 'boom'
    assert raiser is None
    assert group.get_failure_name(0) == 'boom'


@test
def task_group_child_in_given_context():
    # G13: the name and the context given pass through to the group's task
    context = GLib.MainContext.default()
    var = Weft.ContextVar.new('request', GObject.TYPE_INT64, None)
    given = Weft.Context.new()
    given.run(lambda *args: var.set_int64(7))
    seen = {}

    def child(task, awaited, error):
        seen['name'] = task.get_name()
        seen['value'] = var.get_int64()
        seen['context'] = task.get_context()
        task.return_void()

    def parent(task, awaited, error):
        if 'group' not in seen:
            seen['group'] = Weft.TaskGroup.new()
            seen['group'].create_task_full('named', given, Weft.TaskFlags.NONE, child)
            task.sleep(0)  # the task runs
        elif 'done' not in seen:
            # PyGObject 3.42 cannot pass None for a GError.
            seen['done'] = seen['group'].wait(GLib.Error('body', 'test-error', 2))
            task.await_at(seen['done'], None)
        else:
            task.return_void()

    main = Weft.Task.new('main', parent)
    drive(context, main.is_done)
    assert seen['name'] == 'named'
    assert seen['value'] == 7
    assert seen['context'] == given


@test
def context_var_copied_into_child_task():
    # CV1: the child starts with the parent's values; its own set stays its own
    context = GLib.MainContext.default()
    var = Weft.ContextVar.new('request', GObject.TYPE_INT64, None)
    seen = {}

    def child_step(task, awaited, error):
        seen['child_before'] = var.get_int64()
        var.set_int64(2)
        task.return_void()

    def parent_step(task, awaited, error):
        if awaited is None:
            var.set_int64(1)
            seen['child'] = Weft.Task.new('child', child_step)
            task.await_at(seen['child'], None)
        else:
            seen['parent_after'] = var.get_int64()
            task.return_void()

    parent = Weft.Task.new('parent', parent_step)
    drive(context, parent.is_done)
    parent.propagate()
    assert seen['child_before'] == 1
    assert seen['parent_after'] == 1
    found, value = seen['child'].get_context().get_value(var)
    assert found and value == 2
    try:
        var.get_int64()  # outside any task: never set here
    except GLib.Error as error:
        assert error.matches(Weft.error_quark(), Weft.Error.LOOKUP)
    else:
        raise AssertionError('an unset variable without default must raise')


@test
def to_thread_from_python():
    # TH1: the Python function runs on a worker thread; the loop's thread
    # blocks on the future with weft_future_wait(), as it does not run it.
    main_thread = threading.get_ident()
    ran_on = []

    def work(cancellable):
        ran_on.append(threading.get_ident())
        return True, 41 + 1

    future = Weft.to_thread(work)
    assert future.wait(30.0)
    ok, value = future.get_value()
    assert ok and value == 42
    assert ran_on and ran_on[0] != main_thread


@test
def run_coroutine_threadsafe_from_python():
    # RC1: a stackless Python coroutine made on another context; the
    # returned future belongs to the caller's.
    target = GLib.MainContext.new()

    def step(task, awaited, error):
        task.return_int64(7)

    future = Weft.run_coroutine_threadsafe(target, 'py', step)
    assert future.get_context() == GLib.MainContext.default()
    drive(target, future.is_done)
    assert future.get_int64() == 7
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
