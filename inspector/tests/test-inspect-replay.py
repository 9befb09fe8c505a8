#!/usr/bin/python3
# test-inspect-replay.py WEFT_INSPECT: `weft-inspect replay` on canned
# records prints the ps table and the pstree of asyncio.tools (Python 3.14,
# test_tools.py) for a known tree, deltas applied, and reports cycles.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inspect_batches import batch, complex_tree, task, write_record  # noqa: E402

WEFT_INSPECT = sys.argv[1]
TMP = tempfile.mkdtemp(prefix='weft-replay-')
results = []


def weft_inspect(*args):
    env = dict(os.environ, LC_ALL='C.UTF-8')
    return subprocess.run([WEFT_INSPECT, *args], capture_output=True, text=True, env=env)


def check(name, condition, detail=''):
    results.append((name, condition, detail))


def check_output(name, args, stdout, stderr='', status=0):
    run = weft_inspect(*args)
    ok = (run.stdout, run.stderr, run.returncode) == (stdout, stderr, status)
    detail = ''
    if not ok:
        detail = ('expected status %d, stdout:\n%s\nstderr:\n%s\n'
                  'got status %d, stdout:\n%s\nstderr:\n%s' %
                  (status, stdout, stderr, run.returncode, run.stdout, run.stderr))
    check(name, ok, detail)


def record(name, batches):
    path = os.path.join(TMP, name)
    write_record(path, batches)
    return path


BLOCKED = [{'id': 1, 'thread': 'main', 'current-task': 3, 'step-us': 1234000,
            'since-iteration-us': 1234000, 'blocked': True, 'tasks': 6}]
LINTS = [
    {'kind': 'long-step', 'task': 3, 'message': 'a step held the main context for 1.234 s',
     'count': 1, 'first-us': 1000, 'last-us': 1000, 'worst-us': 1234000},
    {'kind': 'unread-error', 'task': 7, 'message': 'its error was never read',
     'count': 1, 'first-us': 2000, 'last-us': 2000, 'worst-us': 0},
]

first = batch(1, 3000000, complex_tree(), full=True, loops=BLOCKED, lints=LINTS)
# One second later: main sleeps instead of waiting on its group, fetch-1 is
# done, "answer" is no longer kept, the loop runs again.
second = batch(2, 4000000, removed=[6], loops=[dict(BLOCKED[0], blocked=False, **{'current-task': 0})],
               tasks=[{'id': 1, 'site': ('main_fiber', 'app.c', 35), 'awaits': [],
                       'awaited': 'sleep 1.000 s'},
                      {'id': 4, 'state': 'done', 'result': 'ok', 'finished-us': 3900000}])
tree = record('tree.rec', [first, second])

PS_HEADER = ('ID  NAME      STATE      CANCELLING  FUNCTION       AWAIT SITE            '
             'AWAITS               BUSY   IDLE  STEPS\n')
PS_ROWS = '''\
 1  main      suspended           0  main_fiber     main_fiber app.c:40   WeftTaskGroup of 2  1.5ms  2.40s      3
 2  worker-a  suspended           0  worker_a_step  worker_step app.c:60  WeftGather of 2     250µs  2.00s      2
 3  worker-b  suspended           1  worker_b_step  worker_step app.c:60  sleep 2.000 s        80µs  1.23s      1
 4  fetch-1   suspended           0  fetch_fiber    fetch_fiber net.c:12  WeftFuture           12µs  999ms      1
 5  fetch-2   suspended           0  fetch_fiber    fetch_fiber net.c:12  WeftFuture           15µs  998ms      1
'''
PS_FINISHED = '''\
 6  answer    done                0  answer_step                                                5µs    0µs      1
 7  broken    failed              0  broken_step    broken_step app.c:77                        7µs    0µs      2
'''
PS_LONELY = ' 8  lonely    scheduled           0  lonely_step                                                0µs    0µs      0\n'
PS_FOOTER = '''\
main loop blocked for 1.234s by task 3 'worker-b'
lint: long-step task 3 'worker-b': a step held the main context for 1.234 s
lint: unread-error task 7 'broken': its error was never read
'''

check_output('ps at the first batch: columns, rows, blocked loop, lints',
             ['replay', tree, 'ps', '--at', '0'], PS_HEADER + PS_ROWS + PS_LONELY + PS_FOOTER)
check_output('ps --all adds the finished tasks kept',
             ['replay', tree, 'ps', '--all', '--at', '0.5'],
             PS_HEADER + PS_ROWS + PS_FINISHED + PS_LONELY + PS_FOOTER)

check_output('pstree of a complex tree: group, gather, leaves, a task awaiting nothing',
             ['replay', tree, 'pstree', '--at', '0.999'], '''\
└── (T) main
    └──  main_fiber app.c:40
        ├── (T) worker-a
        │   └──  worker_step app.c:60
        │       ├── (T) fetch-1
        │       │   └──  fetch_fiber net.c:12
        │       └── (T) fetch-2
        │           └──  fetch_fiber net.c:12
        └── (T) worker-b
            └──  worker_step app.c:60
└── (T) lonely
''')

check_output('pstree after a delta: the group owner still awaits its children',
             ['replay', tree, 'pstree'], '''\
└── (T) main
    └──  main_fiber app.c:35
        ├── (T) worker-a
        │   └──  worker_step app.c:60
        │       └── (T) fetch-2
        │           └──  fetch_fiber net.c:12
        └── (T) worker-b
            └──  worker_step app.c:60
└── (T) lonely
''')

check_output('ps --all after a delta: changed keys, removed task, loop no longer blocked',
             ['replay', tree, 'ps', '--all'], '''\
ID  NAME      STATE      CANCELLING  FUNCTION       AWAIT SITE            AWAITS            BUSY   IDLE  STEPS
 1  main      suspended           0  main_fiber     main_fiber app.c:35   sleep 1.000 s    1.5ms  2.40s      3
 2  worker-a  suspended           0  worker_a_step  worker_step app.c:60  WeftGather of 2  250µs  2.00s      2
 3  worker-b  suspended           1  worker_b_step  worker_step app.c:60  sleep 2.000 s     80µs  1.23s      1
 4  fetch-1   done                0  fetch_fiber    fetch_fiber net.c:12  WeftFuture        12µs  999ms      1
 5  fetch-2   suspended           0  fetch_fiber    fetch_fiber net.c:12  WeftFuture        15µs  998ms      1
 7  broken    failed              0  broken_step    broken_step app.c:77                     7µs    0µs      2
 8  lonely    scheduled           0  lonely_step                                             0µs    0µs      0
lint: long-step task 3 'worker-b': a step held the main context for 1.234 s
lint: unread-error task 7 'broken': its error was never read
''')

# test_tools.py::test_cycle_detection
cycle = record('cycle.rec', [batch(1, 1000, full=True, tasks=[
    task(1, 'Task-1', site=('main', 'app.c', 10), awaits=[2]),
    task(2, 'Task-2', site=('a', 'app.c', 20), awaits=[3]),
    task(3, 'Task-3', site=('b', 'app.c', 30), awaits=[2]),
])])
check_output('pstree of a cycle: error on stderr, status 1', ['replay', cycle, 'pstree'], '',
             'ERROR: await-graph contains cycles - cannot print a tree!\n\n'
             'cycle: Task-2 → Task-3 → Task-2\n', 1)

# test_tools.py::test_task_awaits_self
selfish = record('self.rec', [batch(1, 1000, full=True, tasks=[
    task(1, 'Main', site=('main', 'app.c', 10), awaits=[1]),
])])
check_output('pstree of a task awaiting itself', ['replay', selfish, 'pstree'], '',
             'ERROR: await-graph contains cycles - cannot print a tree!\n\n'
             'cycle: Main → Main\n', 1)

# test_tools.py::test_single_task_tree
single = record('single.rec', [batch(1, 1000, full=True, tasks=[
    task(1, 'Task-1', site=('main', 'app.c', 10)),
])])
check_output('pstree of a single task', ['replay', single, 'pstree'],
             '└── (T) Task-1\n    └──  main app.c:10\n')

# A task awaited by two tasks appears under both (test_complex_tree's timer).
shared = record('shared.rec', [batch(1, 1000, full=True, tasks=[
    task(1, 'root1', site=('awaiter', 'app.c', 10), awaits=[3]),
    task(2, 'root2', site=('awaiter2', 'app.c', 20), awaits=[3]),
    task(3, 'timer', site=('sleep', 'timer.c', 5)),
])])
check_output('pstree of a task awaited twice', ['replay', shared, 'pstree'], '''\
└── (T) root1
    └──  awaiter app.c:10
        └── (T) timer
            └──  sleep timer.c:5
└── (T) root2
    └──  awaiter2 app.c:20
        └── (T) timer
            └──  sleep timer.c:5
''')

run = weft_inspect('replay', tree, 'top', '--speed', '0')
tables = run.stdout.split('\n\n')
check('replay top, not a tty: one table per batch, the busiest first',
      run.returncode == 0 and len(tables) == 2 and
      tables[0].startswith('demo (pid 4242)  tasks: 6 (0 running, 1 scheduled, 5 suspended), 2 finished kept') and
      tables[0].splitlines()[3].split()[:2] == ['1', 'main'] and
      'fetch-1' not in tables[1], run.stdout + run.stderr)

bad = os.path.join(TMP, 'bad.rec')
with open(bad, 'wb') as f:
    f.write(b'not a record')
check_output('replay of a file that is not a record',
             ['replay', bad, 'ps'], '', 'weft-inspect: %s is not a weft-inspect record\n' % bad, 1)
check_output('replay of an unknown view', ['replay', tree, 'pie'], '',
             "weft-inspect: replay shows ps, pstree or top, not 'pie'\n", 1)
run = weft_inspect('frobnicate')
check('unknown command: status 1', run.returncode == 1 and
      run.stderr.startswith("weft-inspect: unknown command 'frobnicate'"), run.stderr)
for command in ('list', 'ps', 'pstree', 'where', 'cancel', 'top', 'record', 'replay'):
    run = weft_inspect(command, '--help')
    check('%s --help' % command, run.returncode == 0 and 'weft-inspect %s' % command in run.stdout,
          run.stdout + run.stderr)

print('1..%d' % len(results))
for number, (name, ok, detail) in enumerate(results, 1):
    print('%s %d - %s' % ('ok' if ok else 'not ok', number, name))
    if not ok:
        for line in detail.splitlines():
            print('# ' + line)
sys.exit(0)
