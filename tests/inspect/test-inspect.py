#!/usr/bin/python3
# test-inspect.py — the real weft-inspect against weft-inspect-target, through
# the real socket
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Environment (set by tests/meson.build):
#   WEFT_INSPECT_CLI            the weft-inspect program
#   WEFT_INSPECT_TARGET         the weft-inspect-target program
#   WEFT_INSPECT_TARGET_SOURCE  its source, for the lines marked SITE:NAME
#
# Prints TAP. Every wait polls for a condition until a deadline.

import os
import re
import socket
import stat
import subprocess
import sys
import tempfile
import time

import gi

gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

from inspect_harness import (INTERFACE, OBJECT_PATH, TARGET, Skip, Target,  # noqa: E402
                             call, remote_error, run, run_as_nobody, socket_connection,
                             socket_snapshot, target_env, test, until)

CLI = os.environ.get('WEFT_INSPECT_CLI', '')
SOURCE = os.environ.get('WEFT_INSPECT_TARGET_SOURCE', '')

PS_COLUMNS = ['ID', 'NAME', 'STATE', 'CANCELLING', 'FUNCTION', 'AWAIT SITE',
              'AWAITS', 'BUSY', 'IDLE', 'STEPS']
TIME_RE = re.compile(r'^\d+(\.\d+)?\s?(ns|us|µs|ms|s|min|m|h)$|^0$')

def site_lines():
    """SITE:NAME markers of the target's source → line numbers"""
    lines = {}
    with open(SOURCE, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            match = re.search(r'/\* SITE:(\S+) \*/', line)
            if match:
                lines[match.group(1)] = number
    return lines


SITES = site_lines()

# name → (state, function, site function, site marker) while the tree waits
TREE = {
    'main': ('suspended', 'target_main', 'target_main', 'main'),
    'album-1': ('suspended', 'target_album_1', 'target_wait_for_encore', 'encore'),
    'album-2': ('suspended', 'target_album_2_step', 'target_album_2_step', 'album-2'),
    'worker': ('suspended', 'target_worker_step', 'target_worker_step', 'worker'),
    'victim': ('suspended', 'target_victim', 'target_victim', 'victim'),
    'gatherer': ('suspended', 'target_gatherer', 'target_gatherer', 'gatherer'),
    'gather-a': ('suspended', 'target_gather_child_step', 'target_gather_child_step', 'gather-child'),
    'gather-b': ('suspended', 'target_gather_child_step', 'target_gather_child_step', 'gather-child'),
}
GROUP_CHILDREN = {'album-1', 'album-2', 'worker', 'victim'}


def site_re(function, marker):
    return re.compile(rf'^{re.escape(function)} \S*weft-inspect-target\.c:{SITES[marker]}$')


# ---------------------------------------------------------------------------
# The target and the command line


def start_target():
    env = target_env(runtime_dir, DBUS_SESSION_BUS_ADDRESS=None, WEFT_INSPECT_BUS='0')
    # AddressSanitizer's quarantine of freed memory would hide what the
    # memory tests measure
    env['ASAN_OPTIONS'] += ':quarantine_size_mb=4'
    return Target(runtime_dir, env)


runtime_dir = tempfile.mkdtemp(prefix='weft-inspect-test-')
os.chmod(runtime_dir, 0o700)
CLI_ENV = dict(os.environ, XDG_RUNTIME_DIR=runtime_dir, LC_ALL='C.UTF-8')
CLI_ENV.pop('DBUS_SESSION_BUS_ADDRESS', None)
target = None


def cli(*args, timeout=10, expect_rc=0):
    if not os.access(CLI, os.X_OK):
        raise AssertionError(f'weft-inspect is not built: {CLI!r}')
    start = time.monotonic()
    try:
        result = subprocess.run([CLI, *map(str, args)], env=CLI_ENV, capture_output=True,
                                text=True, encoding='utf-8', errors='replace', timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f'weft-inspect {" ".join(map(str, args))} took over {timeout} s')
    result.elapsed = time.monotonic() - start
    if expect_rc is not None and result.returncode != expect_rc:
        raise AssertionError(f'weft-inspect {" ".join(map(str, args))} exited {result.returncode}, '
                             f'expected {expect_rc}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}')
    return result


# ---------------------------------------------------------------------------
# Reading tables


def parse_table(text, columns):
    """Finds the header line made of @columns and cuts the rows under it.

    Column boundaries are the character positions blank in the header and in
    every row, so left- and right-aligned columns both work; runs between
    them belong to the column whose header word they hold.
    Returns (header line, [dict column → cell], lines after the table).
    """
    lines = text.split('\n')
    for index, line in enumerate(lines):
        if line.split() == ' '.join(columns).split():
            break
    else:
        raise AssertionError(f'no header {" ".join(columns)!r} in:\n{text}')
    header = lines[index]
    rows = []
    end = index + 1
    while end < len(lines) and lines[end].strip() and \
            not re.match(r'^(main loop|lint:)', lines[end]):
        rows.append(lines[end])
        end += 1
    rest = lines[end:]

    width = max(len(line) for line in [header] + rows)
    padded = [line.ljust(width) for line in [header] + rows]
    blank = [all(line[i] == ' ' for line in padded) for i in range(width)]
    runs = []
    i = 0
    while i < width:
        if blank[i]:
            i += 1
            continue
        start = i
        while i < width and not blank[i]:
            i += 1
        runs.append((start, i))

    # header word positions → column
    word_column = []
    for column in columns:
        for word in column.split():
            word_column.append((word, column))
    owner = {}
    position = 0
    for word, column in word_column:
        at = header.index(word, position)
        position = at + len(word)
        for run in runs:
            if run[0] <= at < run[1]:
                if owner.get(run, column) != column:
                    raise AssertionError(f'columns {owner[run]!r} and {column!r} run together '
                                         f'in:\n{text}')
                owner[run] = column
    previous = None
    for run in runs:
        if run not in owner:
            if previous is None:
                raise AssertionError(f'text before the first column in:\n{text}')
            owner[run] = previous
        previous = owner[run]

    cells = []
    for line in padded[1:]:
        row = {column: '' for column in columns}
        for run in runs:
            piece = line[run[0]:run[1]].strip()
            if piece:
                column = owner[run]
                row[column] = (row[column] + ' ' + piece).strip()
        cells.append(row)
    return header, cells, rest


def ps(*extra):
    result = cli('ps', target.pid, *extra)
    header, rows, rest = parse_table(result.stdout, PS_COLUMNS)
    return result.stdout, {row['NAME']: row for row in rows}, rows, rest


def ids(cell):
    return {int(x) for x in re.findall(r'\d+', cell)}


# ---------------------------------------------------------------------------
# Reading trees


def parse_tree(text):
    """→ list of roots, each (label, [children]); also checks the connectors
    by rendering the tree again, as asyncio.tools does."""
    roots = []
    stack = []
    for line in text.rstrip('\n').split('\n'):
        match = re.match(r'^((?:│   |    )*)(└── |├── )(.*)$', line)
        if not match:
            raise AssertionError(f'not a tree line: {line!r} in:\n{text}')
        depth = len(match.group(1)) // 4
        node = (match.group(3), [])
        if depth == 0:
            roots.append(node)
        else:
            if depth > len(stack):
                raise AssertionError(f'line indented too far: {line!r} in:\n{text}')
            stack[depth - 1][1].append(node)
        del stack[depth:]
        stack.append(node)

    def render(node, prefix, last, out):
        out.append(f'{prefix}{"└── " if last else "├── "}{node[0]}')
        for i, kid in enumerate(node[1]):
            render(kid, prefix + ('    ' if last else '│   '), i == len(node[1]) - 1, out)

    out = []
    for root in roots:
        render(root, '', True, out)
    if '\n'.join(out) != text.rstrip('\n'):
        raise AssertionError(f'tree connectors are not as asyncio pstree draws them:\n{text}\n'
                             f'expected:\n' + '\n'.join(out))
    return roots


def task_label(node):
    match = re.match(r'^\(T\) (.+)$', node[0])
    return match.group(1) if match else None


def frames_and_tasks(node):
    """Frame labels below a task node down to the next tasks, and those tasks"""
    frames, tasks = [], []
    for kid in node[1]:
        if task_label(kid) is not None:
            tasks.append(kid)
        else:
            match = re.match(r'^ (\S+) (\S+):(\d+)$', kid[0])
            if not match:
                raise AssertionError(f'not a task or frame node: {kid[0]!r}')
            frames.append(kid[0][1:])
            sub_frames, sub_tasks = frames_and_tasks(kid)
            frames += sub_frames
            tasks += sub_tasks
    return frames, tasks


def check_task_node(node, name):
    state, function, site_function, marker = TREE[name]
    frames, tasks = frames_and_tasks(node)
    pattern = site_re(site_function, marker)
    if not any(pattern.match(frame) for frame in frames):
        raise AssertionError(f'{name}: no frame matching {pattern.pattern} among {frames}')
    return {task_label(t): t for t in tasks}


# ---------------------------------------------------------------------------
# D-Bus on the socket, from Python


def task_ids():
    return {task['name']: task['id'] for task in socket_snapshot(target)['tasks']}


def read_record(path):
    """→ list of batches (dicts) of a record file, as far as it is written"""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 8 and b'WEFTREC1'.startswith(data):
        return []
    if data[:8] != b'WEFTREC1':
        raise AssertionError(f'record file starts with {data[:8]!r}, not WEFTREC1')
    batches = []
    offset = 8
    while offset + 4 <= len(data):
        length = int.from_bytes(data[offset:offset + 4], 'little')
        frame = data[offset + 4:offset + 4 + length]
        if len(frame) < length:
            break   # still being written
        variant = GLib.Variant.new_from_bytes(GLib.VariantType('a{sv}'), GLib.Bytes(frame), False)
        batches.append(variant.unpack())
        offset += 4 + length
    return batches


# ---------------------------------------------------------------------------
# The tests, in order: the later ones change the tree


@test
def list_shows_the_target():
    weft_dir = os.path.join(runtime_dir, 'weft')
    # A stale socket of a program that is gone
    dead = subprocess.Popen(['true'])
    dead.wait()
    stale = os.path.join(weft_dir, str(dead.pid))
    stale_socket = socket.socket(socket.AF_UNIX)
    stale_socket.bind(stale)
    stale_socket.close()
    try:
        out = cli('list').stdout
    finally:
        os.unlink(stale)
    lines = [line.split() for line in out.strip().split('\n')]
    assert lines[0] == ['PID', 'PROGRAM', 'TASKS'], out
    rows = {int(line[0]): line for line in lines[1:]}
    assert target.pid in rows, out
    assert rows[target.pid][1] == 'weft-inspect-target', out
    assert int(rows[target.pid][2]) >= len(TREE), out
    assert dead.pid not in rows, f'list shows the stale socket of {dead.pid}:\n{out}'


@test
def ps_rows():
    out, by_name, rows, rest = ps()
    assert [line for line in out.split('\n') if line.split()[:1] == ['ID']][0].split() == \
        ['ID', 'NAME', 'STATE', 'CANCELLING', 'FUNCTION', 'AWAIT', 'SITE', 'AWAITS', 'BUSY',
         'IDLE', 'STEPS'], out
    assert sorted(by_name) == sorted(TREE), f'unfinished tasks {sorted(by_name)}:\n{out}'
    assert len({row['ID'] for row in rows}) == len(rows), out
    for name, (state, function, site_function, marker) in TREE.items():
        row = by_name[name]
        problems = []
        if not re.fullmatch(r'\d+', row['ID']):
            problems.append('ID')
        if row['STATE'] != state:
            problems.append('STATE')
        if row['CANCELLING'] != '0':
            problems.append('CANCELLING')
        if row['FUNCTION'] != function:
            problems.append('FUNCTION')
        if not site_re(site_function, marker).match(row['AWAIT SITE']):
            problems.append(f'AWAIT SITE (expected {site_function} …weft-inspect-target.c:'
                            f'{SITES[marker]})')
        for column in ('BUSY', 'IDLE'):
            if not TIME_RE.match(row[column]):
                problems.append(column)
        if not re.fullmatch(r'\d+', row['STEPS']) or int(row['STEPS']) < 1:
            problems.append('STEPS')
        assert not problems, f'{name}: wrong {", ".join(problems)} in {row}\n{out}'

    # AWAITS: what it awaits, as the batch's "awaited" describes it or as
    # the ids of the tasks in its "awaits"
    tasks = {task['name']: task for task in socket_snapshot(target)['tasks']}
    for name, row in by_name.items():
        awaited, awaits = tasks[name]['awaited'], set(tasks[name]['awaits'])
        assert row['AWAITS'] == awaited or (awaits and ids(row['AWAITS']) == awaits), \
            f'{name}: AWAITS {row["AWAITS"]!r}, the program says {awaited!r} / {awaits}\n{out}'
    assert not any(line.startswith('main loop blocked') for line in rest), out


@test
def ps_all_shows_finished_tasks():
    out, by_name, rows, rest = ps('--all')
    assert set(TREE) <= set(by_name), out
    row = by_name.get('cancelled-one')
    assert row, out
    assert row['STATE'] == 'cancelled' and row['CANCELLING'] == '1', out
    assert row['FUNCTION'] == 'target_cancelled_one_step', out
    assert site_re('target_cancelled_one_step', 'cancelled-one').match(row['AWAIT SITE']), out
    row = by_name.get('failing')
    assert row and row['STATE'] == 'failed' and row['FUNCTION'] == 'target_failing_step', out


@test
def ps_reports_the_unread_error():
    def lint():
        out = ps()[0]
        return re.search(r"^lint: unread-error task \d+ 'failing': \S.*$", out, re.M)
    until(lint, 10, "ps to show lint: unread-error task ID 'failing': …")


@test
def pstree_shape():
    out = cli('pstree', target.pid).stdout
    roots = parse_tree(out)
    by_name = {task_label(root): root for root in roots}
    assert set(by_name) == {'main', 'gatherer'}, f'roots {sorted(by_name)}:\n{out}'

    main = by_name['main']
    # main → its await site → the group's children
    assert len(main[1]) == 1 and site_re('target_main', 'main').match(main[1][0][0][1:]), out
    children = check_task_node(main, 'main')
    assert set(children) == GROUP_CHILDREN, f'main awaits {sorted(children)}:\n{out}'
    assert {task_label(kid) for kid in main[1][0][1]} == GROUP_CHILDREN, out
    for name, node in children.items():
        assert not check_task_node(node, name), f'{name} awaits no task:\n{out}'

    children = check_task_node(by_name['gatherer'], 'gatherer')
    assert set(children) == {'gather-a', 'gather-b'}, out
    for name, node in children.items():
        check_task_node(node, name)


def where_album_1():
    out = cli('where', target.pid, 'album-1', timeout=15).stdout
    for word in ('album-1', 'suspended', 'fiber', 'target_album_1'):
        assert re.search(rf'\b{re.escape(word)}\b', out), f'no {word!r} in:\n{out}'
    return out


@test
def where_shows_the_await_site_chain():
    out = where_album_1()
    pattern = rf'^\s*File "\S*weft-inspect-target\.c", line {SITES["encore"]}, in target_wait_for_encore$'
    assert re.search(pattern, out, re.M), f'no line matching {pattern} in:\n{out}'


@test
def where_shows_a_native_frame():
    out = where_album_1()
    if re.search(r'without libunwind', out):
        raise Skip('weft-inspect says the build lacks libunwind')
    frames = re.findall(r'^\s*#(\d+) 0x[0-9a-fA-F]+ (\S+)(?: \((.*)\))?$', out, re.M)
    assert frames, f'no native frames in:\n{out}'
    mine = [f for f in frames if f[1] == 'target_wait_for_encore']
    assert mine, f'no native frame names target_wait_for_encore in:\n{out}'
    location = mine[0][2]
    if location and ':' in location:
        assert re.fullmatch(rf'\S*weft-inspect-target\.c:{SITES["encore"]}', location), \
            f'target_wait_for_encore is at {location}, not line {SITES["encore"]}:\n{out}'
    assert any(f[1] == 'target_album_1' for f in frames), f'no caller frame target_album_1:\n{out}'


@test
def where_shows_context_values():
    out = cli('where', target.pid, 'worker', '--no-native').stdout
    assert re.search(r'^\s*request-id = 42\s*$', out, re.M), out


@test
def snapshot_over_dbus():
    batch = socket_snapshot(target)
    assert batch['version'] == 1 and batch['full'] is True, batch.keys()
    assert batch['pid'] == target.pid and batch['program'] == 'weft-inspect-target', batch
    tasks = {task['name']: task for task in batch['tasks']}
    assert tasks['album-1']['kind'] == 'fiber' and tasks['album-1']['function'] == 'target_album_1'
    assert tasks['album-2']['kind'] == 'stackless'
    assert tasks['album-1']['site'] == ('target_wait_for_encore', tasks['album-1']['site'][1],
                                        SITES['encore']), tasks['album-1']['site']
    assert ('request-id', '42') in tasks['worker']['context'], tasks['worker']['context']
    assert tasks['cancelled-one']['state'] == 'cancelled'
    messages = [request[2] for request in tasks['cancelled-one']['cancel-requests']]
    assert messages == ['stop it'], tasks['cancelled-one']['cancel-requests']
    assert tasks['cancelled-one']['cancel-requests'][0][0] == tasks['main']['id']
    id_of = {name: task['id'] for name, task in tasks.items()}
    assert set(tasks['main']['awaits']) == {id_of[n] for n in GROUP_CHILDREN}, tasks['main']
    assert set(tasks['gatherer']['awaits']) == {id_of['gather-a'], id_of['gather-b']}
    for name in GROUP_CHILDREN | {'gather-a', 'gather-b'}:
        assert not tasks[name]['awaits'], f'{name} awaits {tasks[name]["awaits"]}'
    for name in GROUP_CHILDREN:
        assert tasks[name]['group'] != 0 and tasks[name]['group-owner'] == tasks['main']['id'], name
        assert tasks[name]['parent'] == tasks['main']['id'], name
    assert re.fullmatch(rf'\S*weft-inspect-target\.c:{SITES["create-album-2"]}',
                        tasks['album-2']['created-at']), tasks['album-2']['created-at']
    connection = socket_connection(target)
    try:
        pid = call(connection, 'Get', GLib.Variant('(ss)', (INTERFACE, 'Pid')),
                   interface='org.freedesktop.DBus.Properties')[0]
        assert pid == target.pid, pid
    finally:
        connection.close_sync(None)


@test
def top_prints_two_tables():
    result = cli('top', target.pid, '--iterations', 2, '--interval', 200)
    out = result.stdout
    assert '\x1b[' not in out, 'ANSI escapes while stdout is not a terminal'
    headers = [i for i, line in enumerate(out.split('\n'))
               if str(target.pid) in line and 'weft-inspect-target' in line]
    assert len(headers) == 2, f'{len(headers)} table headers:\n{out}'
    between = out.split('\n')[headers[0]:headers[1]]
    assert '' in [line.strip() for line in between], f'no blank line between the tables:\n{out}'
    assert len([line for line in out.split('\n') if re.search(r'\balbum-1\b', line)]) == 2, out


@test
def record_and_replay():
    path = os.path.join(runtime_dir, 'record.weftrec')
    record = subprocess.Popen([CLI, 'record', str(target.pid), path, '--duration', '3'],
                              env=CLI_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        until(lambda: os.path.exists(path) and read_record(path), 10, 'the first recorded batch')
        target.command('spawn late-1')
        until(lambda: 'late-1' in ps()[1], 5, 'late-1 in ps')
        out, err = record.communicate(timeout=15)
    finally:
        if record.poll() is None:
            record.kill()
            record.wait()
    assert record.returncode == 0, err
    match = re.search(r'recorded (\d+) batches', err)
    assert match, err

    batches = read_record(path)
    assert int(match.group(1)) == len(batches), f'{err} but the file has {len(batches)}'
    assert batches[0]['full'] is True and batches[0]['pid'] == target.pid
    assert all(batch['full'] is False for batch in batches[1:]), 'a later batch is full'
    assert all(b['seq'] > a['seq'] for a, b in zip(batches, batches[1:])), 'seq not increasing'
    assert all(b['time'] >= a['time'] for a, b in zip(batches, batches[1:])), 'time going back'

    live_out, live, live_rows, _ = ps()
    live_tree = cli('pstree', target.pid).stdout
    replay_out = cli('replay', path, 'ps').stdout
    replayed = {row['NAME']: row for row in parse_table(replay_out, PS_COLUMNS)[1]}
    assert sorted(replayed) == sorted(live), f'replayed:\n{replay_out}\nlive:\n{live_out}'
    assert site_re('target_spawned_step', 'spawned').match(replayed['late-1']['AWAIT SITE']), \
        f'late-1, spawned while recording, replayed as:\n{replay_out}'
    for name, row in live.items():
        # Suspended the whole time: only the idle time grows after the last batch
        same = {c: row[c] for c in PS_COLUMNS if c != 'IDLE'}
        assert same == {c: replayed[name][c] for c in PS_COLUMNS if c != 'IDLE'}, \
            f'{name}: replayed:\n{replay_out}\nlive:\n{live_out}'
    replay_tree = cli('replay', path, 'pstree').stdout
    assert replay_tree == live_tree, f'replayed:\n{replay_tree}\nlive:\n{live_tree}'
    start = cli('replay', path, 'ps', '--at', 0).stdout
    assert not re.search(r'\blate-1\b', start), f'late-1 before it was spawned:\n{start}'
    cli('replay', path, 'top', '--speed', 0, timeout=20)


@test
def cancel_takes_effect():
    out = cli('cancel', target.pid, 'victim', 'bye').stdout
    assert re.search(r'\bcancelled\b', out), out
    target.wait_line('victim cancelled: bye', 5)
    until(lambda: 'victim' not in ps()[1], 5, 'victim to leave ps')
    out, by_name, _, _ = ps('--all')
    assert by_name['victim']['STATE'] == 'cancelled', out
    result = cli('cancel', target.pid, 'no-such-task', expect_rc=1)
    assert result.stderr.startswith('weft-inspect: '), result.stderr


@test
def answers_while_the_loop_is_blocked():
    target.command('spawn late-2')
    until(lambda: 'late-2' in ps()[1], 5, 'late-2 in ps')
    # Long enough for several clients to start and answer, sanitizers or not
    start = time.monotonic()
    ps()
    block_s = max(3.0, 8 * (time.monotonic() - start))
    target.command(f'block {int(block_s * 1000)}')
    try:
        target.wait_line('blocking', 5)
        blocked_at = time.monotonic()
        seen = None
        while seen is None and time.monotonic() - blocked_at < block_s / 2:
            result = cli('ps', target.pid, timeout=block_s - 0.2)
            assert not target.has_line('unblocked') and time.monotonic() - blocked_at < block_s, \
                f'ps returned only after the block ({time.monotonic() - blocked_at:.2f} s)'
            seen = re.search(r"^main loop blocked for \d+(\.\d+)?\s?\S+ by task (\d+) 'blocker'$",
                             result.stdout, re.M)
        assert seen, f'ps does not say the loop is blocked by blocker:\n{result.stdout}'
        outcome = cli('cancel', target.pid, 'late-2',
                      timeout=max(0.1, block_s - (time.monotonic() - blocked_at)))
        assert not target.has_line('unblocked'), 'cancel returned only after the block'
        assert re.search(r'\bqueued\b', outcome.stdout), outcome.stdout
    finally:
        # The next tests need the loop running again
        target.wait_line('unblocked', block_s + 5)

    until(lambda: not re.search(r'^main loop blocked', ps()[0], re.M), 5, 'the block to end in ps')
    until(lambda: 'late-2' not in ps()[1], 5, 'the queued cancel of late-2 to take effect')
    until(lambda: re.search(r"^lint: long-step task \d+ 'blocker': \S", ps()[0], re.M), 5,
          "lint: long-step task ID 'blocker'")


@test
def bad_requests_get_errors():
    connection = socket_connection(target)
    ids_now = task_ids()
    try:
        expectations = [
            (lambda: call(connection, 'GetBacktrace', GLib.Variant('(s)', ('x',))),
             'org.freedesktop.DBus.Error.InvalidArgs'),
            (lambda: call(connection, 'Cancel', GLib.Variant('(st)', ('x', 1))),
             'org.freedesktop.DBus.Error.InvalidArgs'),
            (lambda: call(connection, 'GetSnapshot', GLib.Variant('(u)', (1,))),
             'org.freedesktop.DBus.Error.InvalidArgs'),
            (lambda: call(connection, 'Frobnicate'), 'org.freedesktop.DBus.Error.UnknownMethod'),
            (lambda: call(connection, 'GetBacktrace', GLib.Variant('(t)', (999999999,))),
             'org.gnome.Weft.Inspector1.Error.NoSuchTask'),
            (lambda: call(connection, 'Cancel', GLib.Variant('(ts)', (999999999, 'x'))),
             'org.gnome.Weft.Inspector1.Error.NoSuchTask'),
        ]
        for function, expected in expectations:
            got = remote_error(function)
            assert got == expected, f'expected {expected}, got {got}'
        for function in (lambda: call(connection, 'GetSnapshot', interface='org.example.Nope'),
                         lambda: call(connection, 'GetSnapshot', path='/org/example/Nope')):
            assert remote_error(function).startswith('org.freedesktop.DBus.Error.')
        frames, note = call(connection, 'GetBacktrace',
                            GLib.Variant('(t)', (ids_now['album-2'],)))
        assert frames == [] and note, (frames, note)
    finally:
        connection.close_sync(None)

    # Garbage on the raw socket: the server hangs up, nothing else happens
    uid = ''.join(f'{ord(c):02x}' for c in str(os.geteuid()))
    for garbage in (f'\x00AUTH EXTERNAL {uid}\r\nBEGIN\r\n'.encode() + b'l\x01\x00\x01' + b'\xff' * 1000,
                    b'\x00AUTH GARBAGE\r\n' * 100,
                    b'garbage without the leading nul\r\n' * 3):
        raw = socket.socket(socket.AF_UNIX)
        raw.settimeout(5)
        raw.connect(target.socket_path)
        received = b''
        try:
            raw.sendall(garbage)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                data = raw.recv(4096)
                if not data:
                    break
                received += data
            else:
                raise socket.timeout()
        except (ConnectionResetError, BrokenPipeError):
            pass
        except socket.timeout:
            raise AssertionError(f'the server kept for 5 s a connection that sent {garbage[:40]!r}…, '
                                 f'answering {received[:80]!r}')
        finally:
            raw.close()

    # Many clients, some silent: others are still answered
    silent = []
    try:
        for _ in range(64):
            raw = socket.socket(socket.AF_UNIX)
            raw.connect(target.socket_path)
            silent.append(raw)
        # A full listen backlog (EAGAIN) is retried: the server accepts
        # in its own time, but within the deadline
        def connect_soon():
            def attempt():
                try:
                    return socket_connection(target)
                except GLib.Error as error:
                    if not error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.WOULD_BLOCK):
                        raise
            return until(attempt, 5, 'a connection while 64 silent ones are open')
        connections = [connect_soon() for _ in range(16)]
        for c in connections:
            assert call(c, 'GetSnapshot')[0]['pid'] == target.pid
            c.close_sync(None)
    finally:
        for raw in silent:
            raw.close()
    assert target.proc.poll() is None, 'the target died'
    assert 'album-1' in ps()[1]


def raw_authenticated_socket():
    """A socket to the inspector, past the authentication, for messages
    written by hand"""
    raw = socket.socket(socket.AF_UNIX)
    raw.settimeout(5)
    raw.connect(target.socket_path)
    uid = ''.join(f'{ord(c):02x}' for c in str(os.geteuid()))
    raw.sendall(f'\x00AUTH EXTERNAL {uid}\r\n'.encode())
    reply = b''
    while not reply.endswith(b'\r\n'):
        reply += raw.recv(1)
    assert reply.startswith(b'OK '), reply
    raw.sendall(b'BEGIN\r\n')
    return raw


@test
def a_subscriber_that_never_reads_costs_bounded_memory():
    raw = raw_authenticated_socket()
    message = Gio.DBusMessage.new_method_call(None, OBJECT_PATH, INTERFACE, 'Subscribe')
    message.set_body(GLib.Variant('(u)', (20,)))
    message.set_serial(1)
    raw.sendall(message.to_blob(Gio.DBusCapabilityFlags.NONE))
    target.command('churn')
    try:
        until(lambda: 'churner' in ps()[1], 5, 'churner in ps')
        # The socket buffers fill up first; then only the program can hold
        # what the subscriber does not read
        time.sleep(1.5)
        before = rss_kb(target.pid)
        time.sleep(3)
        growth = rss_kb(target.pid) - before
        start = time.monotonic()
        assert socket_snapshot(target)['pid'] == target.pid and time.monotonic() - start < 5
        assert growth < 8192, f'the target grew by {growth >> 10} MB in 3 s for a subscriber ' \
                              'that never reads'
        # It was subscribed all along: batches are waiting to be read
        received = 0
        deadline = time.monotonic() + 5
        while received < 64 << 10 and time.monotonic() < deadline:
            received += len(raw.recv(65536))
        assert received >= 64 << 10, f'only {received} bytes of batches for the subscriber'
    finally:
        cli('cancel', target.pid, 'churner', expect_rc=None)
        raw.close()
    until(lambda: 'churner' not in ps()[1], 5, 'the churner to end')


def rss_kb(pid):
    """Resident memory; meaningless under AddressSanitizer, whose allocator
    and shadow memory grow with every allocation, so those checks skip"""
    with open(f'/proc/{pid}/maps') as f:
        if 'libasan' in f.read():
            raise Skip('RSS under AddressSanitizer measures its allocator')
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])


@test
def endless_garbage_costs_bounded_memory():
    """A peer that never ends its authentication line: the server must hang
    up, or at least not keep what it sends"""
    before = rss_kb(target.pid)
    raw = socket.socket(socket.AF_UNIX)
    raw.settimeout(5)
    raw.connect(target.socket_path)
    chunk = bytes(0x41 + i % 26 for i in range(65536))
    sent, closed, deadline = 0, False, time.monotonic() + 8
    try:
        raw.sendall(b'\x00')
        while sent < 16 << 20 and time.monotonic() < deadline:
            raw.sendall(chunk)
            sent += len(chunk)
    except (ConnectionResetError, BrokenPipeError):
        closed = True
    except socket.timeout:
        pass
    try:
        start = time.monotonic()
        assert socket_snapshot(target)['pid'] == target.pid and time.monotonic() - start < 5
        growth = rss_kb(target.pid) - before
    finally:
        raw.close()
    assert closed or growth < 4096, \
        f'the target kept a connection that sent {sent >> 20} MB without a line end, ' \
        f'and grew by {growth >> 10} MB'


@test
def socket_is_private():
    info = os.stat(target.socket_path)
    assert stat.S_ISSOCK(info.st_mode), oct(info.st_mode)
    assert stat.S_IMODE(info.st_mode) == 0o600, oct(info.st_mode)
    assert info.st_uid == os.geteuid()
    folder = os.stat(os.path.dirname(target.socket_path))
    assert stat.S_IMODE(folder.st_mode) == 0o700, oct(folder.st_mode)


OTHER_USER_CLIENT = r'''
import sys
from gi.repository import Gio
try:
    c = Gio.DBusConnection.new_for_address_sync("unix:path=" + sys.argv[1],
        Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT, None, None)
    c.call_sync(None, "/org/gnome/Weft/Inspector", "org.gnome.Weft.Inspector1", "GetSnapshot",
                None, None, Gio.DBusCallFlags.NONE, 5000, None)
    print("CONNECTED")
except Exception as e:
    print("REFUSED", e)
'''


@test
def other_users_are_refused():
    if os.geteuid() != 0:
        raise Skip('needs root to run a client as another user')

    def other_user():
        result = run_as_nobody(OTHER_USER_CLIENT, target.socket_path)
        assert 'REFUSED' in result.stdout, result.stdout + result.stderr
        return result.stdout

    other_user()
    # With the file modes opened, the peer credentials check must refuse:
    # the connection is made, the authentication fails
    path, folder = target.socket_path, os.path.dirname(target.socket_path)
    modes = stat.S_IMODE(os.stat(path).st_mode), stat.S_IMODE(os.stat(folder).st_mode)
    os.chmod(runtime_dir, 0o711)
    os.chmod(folder, 0o711)
    os.chmod(path, 0o666)
    try:
        refused = other_user()
        assert 'Permission denied' not in refused, f'the modes did not open: {refused}'
    finally:
        os.chmod(path, modes[0])
        os.chmod(folder, modes[1])
        os.chmod(runtime_dir, 0o700)
    assert socket_snapshot(target)['pid'] == target.pid


@test
def pending_tasks_reported_at_exit():
    path = os.path.join(runtime_dir, 'exit.weftrec')
    record = subprocess.Popen([CLI, 'record', str(target.pid), path], env=CLI_ENV,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        until(lambda: os.path.exists(path) and read_record(path), 10, 'the first recorded batch')
        target.quit()
        _, err = record.communicate(timeout=10)
    finally:
        if record.poll() is None:
            record.kill()
            record.wait()
    reported = [line for line in target.stderr if line.startswith('weft-inspect: ')]
    for name in ('main', 'album-1', 'gatherer'):
        assert any(re.search(rf"'{name}'", line) and re.search('pending', line, re.I)
                   for line in reported), f'no pending-at-exit line for {name}: {reported}'
    assert record.returncode == 0 and re.search(r'recorded \d+ batches', err), err
    assert not os.path.exists(target.socket_path), 'the socket is left behind'
    assert str(target.pid) not in cli('list').stdout.split()


@test
def no_criticals_in_the_target():
    if target.proc.poll() is None:
        raise AssertionError('the target is still running')
    bad = target.criticals()
    assert not bad, f'{len(bad)} criticals, the first: {bad[0]}'


def main():
    def setup():
        global target
        if not os.access(TARGET, os.X_OK):
            raise AssertionError(f'the target is not built: {TARGET!r}')
        target = start_target()
        until(lambda: os.path.exists(target.socket_path), 5, f'the socket {target.socket_path}')
        return target
    return run(setup, runtime_dir)


if __name__ == '__main__':
    sys.exit(main())
