#!/usr/bin/python3
# test-inspect-live.py WEFT_INSPECT XML: the live commands of weft-inspect
# against fake-inspector.py, a stand-in for a program's inspector serving
# canned batches on $XDG_RUNTIME_DIR/weft/PID.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import re
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WEFT_INSPECT, XML = sys.argv[1], sys.argv[2]
RUNTIME = tempfile.mkdtemp(prefix='weft-live-')
ENV = dict(os.environ, XDG_RUNTIME_DIR=RUNTIME, LC_ALL='C.UTF-8')
results = []


def check(name, condition, detail=''):
    results.append((name, bool(condition), detail))


def weft_inspect(*args):
    return subprocess.run([WEFT_INSPECT, *args], capture_output=True, text=True, env=ENV,
                          timeout=30)


def start_program(*flags):
    program = subprocess.Popen([sys.executable, os.path.join(HERE, 'fake-inspector.py'), XML, *flags],
                               stdout=subprocess.PIPE, text=True, env=ENV)
    return program, program.stdout.readline().strip()


def shown(run):
    return 'status %d\nstdout:\n%s\nstderr:\n%s' % (run.returncode, run.stdout, run.stderr)


program, pid = start_program()
try:
    # A socket whose process is gone is not listed.
    open(os.path.join(RUNTIME, 'weft', '999999999'), 'w').close()
    run = weft_inspect('list')
    check('list: the program, its name and unfinished tasks; stale sockets skipped',
          run.returncode == 0 and run.stdout.split('\n')[0].split() == ['PID', 'PROGRAM', 'TASKS'] and
          [line.split() for line in run.stdout.splitlines()[1:]] == [[pid, 'demo', '6']], shown(run))

    run = weft_inspect('ps', pid)
    lines = run.stdout.splitlines()
    check('ps: header, a row per unfinished task, lints',
          run.returncode == 0 and
          re.split(' {2,}', lines[0].strip()) == ['ID', 'NAME', 'STATE', 'CANCELLING', 'FUNCTION',
                                                   'AWAIT SITE', 'AWAITS', 'BUSY', 'IDLE', 'STEPS'] and
          [line.split()[0] for line in lines[1:7]] == ['1', '2', '3', '4', '5', '8'] and
          lines[7] == "lint: unread-error task 7 'broken': its error was never read", shown(run))

    run = weft_inspect('ps', os.path.join(RUNTIME, 'weft', pid))
    check('ps with a socket path', run.returncode == 0 and len(run.stdout.splitlines()) == 8, shown(run))

    run = weft_inspect('pstree', pid)
    check('pstree', run.returncode == 0 and run.stdout.splitlines()[:3] ==
          ['└── (T) main', '    └──  main_fiber app.c:40', '        ├── (T) worker-a'], shown(run))

    run = weft_inspect('where', pid, 'fetch-1')
    check('where of a fiber: await site and native stack',
          run.returncode == 0 and run.stdout.startswith("Task 4 'fetch-1'\n") and
          '  File "net.c", line 12, in fetch_fiber\n' in run.stdout and
          '  #0 0x0000000000401000 fetch_fiber (net.c:12)\n' in run.stdout and
          '  #1 0x0000000000401234 weft_fiber_trampoline\n' in run.stdout and
          "  awaited by   2 'worker-a'\n" in run.stdout, shown(run))

    run = weft_inspect('where', pid, '5')
    check('where of a fiber whose loop is blocked: a note, no frames',
          run.returncode == 0 and '(its main loop is blocked' in run.stdout and '#0' not in run.stdout,
          shown(run))

    run = weft_inspect('where', pid, 'main', '--no-native')
    check('where --no-native: group children awaited, context values, no native stack',
          run.returncode == 0 and 'Native stack' not in run.stdout and
          "  awaits       2 'worker-a', 3 'worker-b'\n" in run.stdout and
          '  request_id = 42\n' in run.stdout, shown(run))

    run = weft_inspect('where', pid, 'worker-b')
    check('where: group, cancel requests',
          run.returncode == 0 and "  group        1, owned by 1 'main'\n" in run.stdout and
          "by task 1 'main': \"stop it\"\n" in run.stdout and 'Native stack' not in run.stdout,
          shown(run))

    run = weft_inspect('where', pid, 'broken')
    check('where of a failed task: traceback and error',
          run.returncode == 0 and 'Traceback (most recent call last):\n  File "app.c", line 77, in broken_step\n'
          in run.stdout and '  error        g-io-error-quark 0: boom\n' in run.stdout, shown(run))

    run = weft_inspect('cancel', pid, 'worker-b', 'bye')
    check('cancel: outcome', (run.returncode, run.stdout) == (0, 'cancelled\n'), shown(run))
    run = weft_inspect('where', pid, 'worker-b')
    check('cancel reached the program', 'a client or code outside tasks: "bye"' in run.stdout and
          '  cancelling   2\n' in run.stdout, shown(run))
    run = weft_inspect('cancel', pid, 'answer')
    check('cancel of a finished task', (run.returncode, run.stdout) == (0, 'done\n'), shown(run))
    run = weft_inspect('cancel', pid, 'nobody')
    check('cancel of an unknown task: error, status 1',
          (run.returncode, run.stdout, run.stderr) ==
          (1, '', "weft-inspect: no task with id or name 'nobody'\n"), shown(run))

    run = weft_inspect('top', pid, '--iterations', '2', '--interval', '100')
    tables = run.stdout.split('\n\n')
    check('top, not a tty: two tables, then quits',
          run.returncode == 0 and len(tables) == 2 and
          all(t.startswith('demo (pid %s)  tasks: ' % pid) for t in tables), shown(run))

    record = os.path.join(RUNTIME, 'live.rec')
    run = weft_inspect('record', pid, record, '--duration', '0.6')
    check('record --duration', run.returncode == 0 and run.stderr.startswith('recorded ') and
          run.stderr.endswith(' batches\n'), shown(run))
    for view in ('ps', 'pstree'):
        live = weft_inspect(view, pid)
        replay = weft_inspect('replay', record, view)
        check('replay %s prints what the live %s prints' % (view, view),
              live.returncode == 0 and (live.stdout, live.returncode) == (replay.stdout, replay.returncode),
              'live:\n%s\nreplay:\n%s' % (shown(live), shown(replay)))

    recorder = subprocess.Popen([WEFT_INSPECT, 'record', pid, os.path.join(RUNTIME, 'int.rec')],
                                stderr=subprocess.PIPE, text=True, env=ENV)
    time.sleep(0.5)
    recorder.send_signal(signal.SIGINT)
    err = recorder.communicate(timeout=10)[1]
    check('record stops on SIGINT', recorder.returncode == 0 and err == 'recorded 1 batches\n', err)
finally:
    program.kill()
    program.wait()

# The program exits while recorded: the record ends with its last batch.
program, pid = start_program('--exit-after-script')
try:
    record = os.path.join(RUNTIME, 'exit.rec')
    run = weft_inspect('record', pid, record, '--interval', '50')
    check('record stops when the program exits', (run.returncode, run.stderr) == (0, 'recorded 4 batches\n'),
          shown(run))
    run = weft_inspect('replay', record, 'ps', '--all')
    check('replay of the deltas: changed, finished, removed tasks',
          run.returncode == 0 and ' 3  worker-b  suspended           1' in run.stdout and
          ' 4  fetch-1   done' in run.stdout and 'answer' not in run.stdout, shown(run))
finally:
    program.kill()
    program.wait()

run = weft_inspect('ps', '999999999')
check('ps of a process that is gone (its socket left behind): error, status 1',
      (run.returncode, run.stdout, run.stderr) == (1, '', 'weft-inspect: no process 999999999\n'), shown(run))
run = weft_inspect('ps', str(os.getpid()))
check('ps of a program that is not inspectable: error, status 1',
      run.returncode == 1 and run.stdout == '' and
      run.stderr.startswith('weft-inspect: process %d is not inspectable' % os.getpid()), shown(run))

print('1..%d' % len(results))
for number, (name, ok, detail) in enumerate(results, 1):
    print('%s %d - %s' % ('ok' if ok else 'not ok', number, name))
    if not ok:
        for line in detail.splitlines():
            print('# ' + line)
