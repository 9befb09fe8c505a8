#!/usr/bin/env python3
# asyncio_bench.py
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The CPython asyncio peer of weft-bench: one measurement per process,
#
#   asyncio_bench.py --workload WORKLOAD [--n N]
#
# printing one line in the same format as weft-bench:
#
#   workload=W impl=asyncio n=N ns_per_op=F cpu_s=F maxrss_kb=K [extras]

import argparse
import asyncio
import gc
import os
import random
import resource
import sys
import time

SLEEPER_SEED = 42

DEFAULT_N = {
    "spawn": 100_000,
    "pingpong": 1_000_000,
    "pingpong-event": 1_000_000,
    "pingpong-queue": 1_000_000,
    "sleepers": 100_000,
    "sleepers-1m": 1_000_000,
    "cancel-fanout": 100_000,
    "memory": 100_000,
    "gather-done": 100_000,
    "taskgroup-fail": 100_000,
    "to-thread": 20_000,
}

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE_SIZE


# spawn: n trivial tasks created up front, then gathered

async def trivial():
    return None


async def spawn(n, out):
    loop = asyncio.get_running_loop()
    start = time.perf_counter_ns()
    tasks = [loop.create_task(trivial()) for _ in range(n)]
    await asyncio.gather(*tasks)
    out["wall_ns"] = time.perf_counter_ns() - start


# pingpong: each side owns the slot it receives on and puts a fresh future
# there before sending, so every message travels in a new future.

class PingPong:
    def __init__(self, loop, rounds):
        self.loop = loop
        self.rounds = rounds
        self.ping_slot = None
        self.pong_slot = loop.create_future()
        self.mismatches = 0


async def ping(pp):
    for i in range(pp.rounds):
        pp.ping_slot = pp.loop.create_future()
        pp.pong_slot.set_result(i)
        if await pp.ping_slot != i:
            pp.mismatches += 1


async def pong(pp):
    for i in range(pp.rounds):
        value = await pp.pong_slot
        if i + 1 < pp.rounds:
            pp.pong_slot = pp.loop.create_future()
        pp.ping_slot.set_result(value)


async def pingpong(n, out):
    loop = asyncio.get_running_loop()
    pp = PingPong(loop, n)
    start = time.perf_counter_ns()
    await asyncio.gather(loop.create_task(ping(pp)), loop.create_task(pong(pp)))
    out["wall_ns"] = time.perf_counter_ns() - start
    if pp.mismatches:
        out["failure"] = f"{pp.mismatches}-replies-did-not-match"


# pingpong-event: the same round trips through two reused asyncio.Events,
# the message in a shared variable

class EventPingPong:
    def __init__(self, rounds):
        self.rounds = rounds
        self.message = None
        self.reply = None
        self.ping_event = asyncio.Event()
        self.pong_event = asyncio.Event()
        self.mismatches = 0


async def event_ping(pp):
    for i in range(pp.rounds):
        pp.message = i
        pp.pong_event.set()
        await pp.ping_event.wait()
        pp.ping_event.clear()
        if pp.reply != i:
            pp.mismatches += 1


async def event_pong(pp):
    for _ in range(pp.rounds):
        await pp.pong_event.wait()
        pp.pong_event.clear()
        pp.reply = pp.message
        pp.ping_event.set()


async def pingpong_event(n, out):
    loop = asyncio.get_running_loop()
    pp = EventPingPong(n)
    start = time.perf_counter_ns()
    await asyncio.gather(loop.create_task(event_ping(pp)), loop.create_task(event_pong(pp)))
    out["wall_ns"] = time.perf_counter_ns() - start
    if pp.mismatches:
        out["failure"] = f"{pp.mismatches}-replies-did-not-match"


# pingpong-queue: the same round trips through two unbounded asyncio.Queues

async def queue_ping(rounds, ping_queue, pong_queue, out):
    mismatches = 0
    for i in range(rounds):
        pong_queue.put_nowait(i)
        if await ping_queue.get() != i:
            mismatches += 1
    out["mismatches"] = mismatches


async def queue_pong(rounds, ping_queue, pong_queue):
    for _ in range(rounds):
        ping_queue.put_nowait(await pong_queue.get())


async def pingpong_queue(n, out):
    loop = asyncio.get_running_loop()
    ping_queue = asyncio.Queue()
    pong_queue = asyncio.Queue()
    start = time.perf_counter_ns()
    await asyncio.gather(loop.create_task(queue_ping(n, ping_queue, pong_queue, out)),
                         loop.create_task(queue_pong(n, ping_queue, pong_queue)))
    out["wall_ns"] = time.perf_counter_ns() - start
    if out.pop("mismatches"):
        out["failure"] = "replies-did-not-match"


# sleepers: the deadline is taken right before the task suspends

async def sleeper(delay, acc):
    intended = time.monotonic() + delay
    await asyncio.sleep(delay)
    acc[0] += time.monotonic() - intended


async def sleepers(n, out):
    loop = asyncio.get_running_loop()
    rng = random.Random(SLEEPER_SEED)
    delays = [rng.random() for _ in range(n)]
    acc = [0.0]
    start = time.perf_counter_ns()
    tasks = [loop.create_task(sleeper(d, acc)) for d in delays]
    await asyncio.gather(*tasks)
    out["wall_ns"] = time.perf_counter_ns() - start
    out["wall"] = True
    out["mean_late_ms"] = acc[0] / n * 1000.0


# cancel-fanout and memory: each task awaits its own future, never completed

async def waiter(future):
    await future


async def spawn_waiters(loop, n):
    futures = [loop.create_future() for _ in range(n)]
    tasks = [loop.create_task(waiter(f)) for f in futures]
    # The tasks were scheduled before us: one pass runs every first step.
    await asyncio.sleep(0)
    return futures, tasks


async def cancel_fanout(n, out):
    loop = asyncio.get_running_loop()
    futures, tasks = await spawn_waiters(loop, n)
    start = time.perf_counter_ns()
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    out["wall_ns"] = time.perf_counter_ns() - start
    cancelled = sum(1 for r in results if isinstance(r, asyncio.CancelledError))
    if cancelled != n:
        out["failure"] = f"only-{cancelled}-of-{n}-cancelled"


async def memory(n, out):
    loop = asyncio.get_running_loop()
    # One task through its whole life first, as the C side does
    await loop.create_task(trivial())
    gc.collect()
    before = rss_bytes()
    start = time.perf_counter_ns()
    # What a suspended task costs: they all await one future, so the
    # future's own size is not charged to them.
    shared = loop.create_future()
    tasks = [loop.create_task(waiter(shared)) for _ in range(n)]
    await asyncio.sleep(0)
    out["wall_ns"] = time.perf_counter_ns() - start
    after = rss_bytes()
    out["bytes_per_task"] = (after - before) / n
    shared.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# gather-done: one gather over n futures that are all done already

async def gather_done(n, out):
    loop = asyncio.get_running_loop()
    futures = [loop.create_future() for _ in range(n)]
    for i, future in enumerate(futures):
        future.set_result(i)
    start = time.perf_counter_ns()
    results = await asyncio.gather(*futures)
    out["wall_ns"] = time.perf_counter_ns() - start
    if sum(results) != n * (n - 1) // 2:
        out["failure"] = "results-do-not-add-up"


# taskgroup-fail: a TaskGroup of n tasks, one of which fails at once; the
# others wait on one future that never completes until the group cancels
# them. Measured: the whole life of the tasks in the group.

async def failing():
    raise ValueError("boom")


async def taskgroup_fail(n, out):
    loop = asyncio.get_running_loop()
    shared = loop.create_future()
    errors = []
    start = time.perf_counter_ns()
    try:
        async with asyncio.TaskGroup() as tg:
            for _ in range(n - 1):
                tg.create_task(waiter(shared))
            tg.create_task(failing())
    except* ValueError as group:
        errors = group.exceptions
    out["wall_ns"] = time.perf_counter_ns() - start
    if len(errors) != 1:
        out["failure"] = f"group-lists-{len(errors)}-failures"


# to-thread: round trips to the default executor, one after the other

def plus_one(x):
    return x + 1


async def to_thread(n, out):
    total = 0
    start = time.perf_counter_ns()
    for _ in range(n):
        total += await asyncio.to_thread(plus_one, 1)
    out["wall_ns"] = time.perf_counter_ns() - start
    if total != 2 * n:
        out["failure"] = f"sum-{total}-instead-of-{2 * n}"


WORKLOADS = {
    "spawn": spawn,
    "pingpong": pingpong,
    "sleepers": sleepers,
    "sleepers-1m": sleepers,
    "cancel-fanout": cancel_fanout,
    "memory": memory,
    "gather-done": gather_done,
    "taskgroup-fail": taskgroup_fail,
    "to-thread": to_thread,
    "pingpong-event": pingpong_event,
    "pingpong-queue": pingpong_queue,
}


def main():
    parser = argparse.ArgumentParser(description="asyncio peer of weft-bench")
    parser.add_argument("--workload", required=True)
    parser.add_argument("--n", type=int, default=0)
    args = parser.parse_args()

    if args.workload not in WORKLOADS:
        print(f"workload={args.workload} impl=asyncio skipped=1 reason=no-such-workload")
        return 3

    n = args.n
    if n <= 0:
        n = DEFAULT_N[args.workload]
        if os.environ.get("WEFT_BENCH_QUICK", "") not in ("", "0"):
            n = max(n // 10, 1)

    out = {}
    asyncio.run(WORKLOADS[args.workload](n, out))

    usage = resource.getrusage(resource.RUSAGE_SELF)
    line = f"workload={args.workload} impl=asyncio n={n}"
    if "failure" in out:
        print(f"{line} failed=1 reason={out['failure']}")
        return 1
    line += (f" ns_per_op={out['wall_ns'] / n:.2f}"
             f" cpu_s={usage.ru_utime + usage.ru_stime:.3f}"
             f" maxrss_kb={usage.ru_maxrss}")
    if out.get("wall"):
        line += f" wall_s={out['wall_ns'] / 1e9:.3f}"
    if "mean_late_ms" in out:
        line += f" mean_late_ms={out['mean_late_ms']:.3f}"
    if "bytes_per_task" in out:
        line += f" bytes_per_task={out['bytes_per_task']:.1f}"
    print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
