# inspect_batches.py: canned batches of org.gnome.Weft.Inspector1, and
# record files made of them, for the weft-inspect tests.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import struct

from gi.repository import GLib

TASK_TYPES = {
    'id': 't', 'name': 's', 'state': 's', 'kind': 's', 'function': 's',
    'created-at': 's', 'created-us': 'x', 'parent': 't', 'group': 't',
    'group-owner': 't', 'site': '(ssi)', 'awaits': 'at', 'awaited': 's',
    'cancelling': 'u', 'cancel-requests': 'a(txs)', 'cancelled-by': 't',
    'busy-us': 'x', 'waiting-us': 'x', 'idle-us': 'x', 'steps': 't',
    'longest-step-us': 'x', 'histogram': 'au', 'context': 'a(ss)',
    'result': 's', 'error': 's', 'finished-us': 'x',
}
LINT_TYPES = {
    'kind': 's', 'task': 't', 'message': 's', 'count': 'u', 'first-us': 'x',
    'last-us': 'x', 'worst-us': 'x',
}
LOOP_TYPES = {
    'id': 't', 'thread': 's', 'current-task': 't', 'step-us': 'x',
    'since-iteration-us': 'x', 'blocked': 'b', 'tasks': 'u',
}


def vardict(values, types):
    return {key: GLib.Variant(types[key], value) for key, value in values.items()}


def batch(seq, time, tasks=(), removed=(), lints=(), loops=(), full=False,
          pid=4242, program='demo', dropped=0):
    b = {
        'version': GLib.Variant('u', 1),
        'full': GLib.Variant('b', full),
        'seq': GLib.Variant('t', seq),
        'time': GLib.Variant('x', time),
        'realtime': GLib.Variant('x', 1700000000000000 + time),
        'keep': GLib.Variant('u', 256),
        'dropped': GLib.Variant('t', dropped),
        'loops': GLib.Variant('aa{sv}', [vardict(l, LOOP_TYPES) for l in loops]),
        'tasks': GLib.Variant('aa{sv}', [vardict(t, TASK_TYPES) for t in tasks]),
        'lints': GLib.Variant('aa{sv}', [vardict(l, LINT_TYPES) for l in lints]),
    }
    if full:
        b['pid'] = GLib.Variant('u', pid)
        b['program'] = GLib.Variant('s', program)
    else:
        b['removed'] = GLib.Variant('at', list(removed))
    return GLib.Variant('a{sv}', b)


def write_record(path, batches):
    with open(path, 'wb') as f:
        f.write(b'WEFTREC1')
        for b in batches:
            normal = b.get_normal_form()
            if GLib.Variant('u', 1).get_data_as_bytes().get_data() != b'\x01\0\0\0':
                normal = normal.byteswap()
            data = normal.get_data_as_bytes().get_data()
            f.write(struct.pack('<I', len(data)))
            f.write(data)


def task(id, name, state='suspended', kind='stackless', function='', site=None,
         awaits=(), awaited='', **extra):
    t = {
        'id': id, 'name': name, 'state': state, 'kind': kind,
        'function': function or name.replace('-', '_') + '_step',
        'created-at': 'app.c:%d' % (100 + id), 'created-us': 1000 * id,
        'parent': 0, 'group': 0, 'group-owner': 0,
        'site': site or ('', '', 0), 'awaits': list(awaits), 'awaited': awaited,
        'cancelling': 0, 'cancel-requests': [], 'cancelled-by': 0,
        'busy-us': 0, 'waiting-us': 0, 'idle-us': 0, 'steps': 0,
        'longest-step-us': 0, 'histogram': [0] * 8, 'context': [],
    }
    t.update({key.replace('_', '-'): value for key, value in extra.items()})
    return t


# A known tree: main owns a TaskGroup of two workers and waits on it;
# worker-a gathers two fibers; worker-b sleeps; a task scheduled but not
# started; finished tasks of each outcome.
def complex_tree():
    return [
        task(1, 'main', kind='fiber', function='main_fiber',
             site=('main_fiber', 'app.c', 40), awaits=[2, 3],
             awaited='WeftTaskGroup of 2', busy_us=1500, idle_us=2400000, steps=3,
             context=[('request_id', '42')]),
        task(2, 'worker-a', group=1, group_owner=1, parent=1,
             site=('worker_step', 'app.c', 60), awaits=[4, 5],
             awaited='WeftGather of 2', busy_us=250, idle_us=2000000, steps=2),
        task(3, 'worker-b', group=1, group_owner=1, parent=1,
             site=('worker_step', 'app.c', 60), awaited='sleep 2.000 s',
             busy_us=80, idle_us=1234567, steps=1, cancelling=1,
             cancel_requests=[(1, 900000, 'stop it')]),
        task(4, 'fetch-1', kind='fiber', function='fetch_fiber', parent=2,
             site=('fetch_fiber', 'net.c', 12), awaited='WeftFuture',
             busy_us=12, idle_us=999000, steps=1),
        task(5, 'fetch-2', kind='fiber', function='fetch_fiber', parent=2,
             site=('fetch_fiber', 'net.c', 12), awaited='WeftFuture',
             busy_us=15, idle_us=998000, steps=1),
        task(6, 'answer', state='done', busy_us=5, steps=1, result='42',
             finished_us=500000),
        task(7, 'broken', state='failed', site=('broken_step', 'app.c', 77),
             busy_us=7, steps=2, error='g-io-error-quark 0: boom',
             finished_us=600000),
        task(8, 'lonely', state='scheduled', waiting_us=30000),
    ]
