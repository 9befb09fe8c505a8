// node_bench.mjs
//
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The Node.js peer of weft-bench: one measurement per process,
//
//   node --expose-gc node_bench.mjs --workload WORKLOAD [--n N]
//
// printing one line in the same format as weft-bench:
//
//   workload=W impl=node n=N ns_per_op=F cpu_s=F maxrss_kb=K [extras]

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const SLEEPER_SEED = 42;
const PAGE_SIZE = 4096;

const DEFAULT_N = {
  'spawn': 100000,
  'pingpong': 1000000,
  'pingpong-event': 1000000,
  'pingpong-queue': 1000000,
  'sleepers': 100000,
  'sleepers-1m': 1000000,
  'cancel-fanout': 100000,
  'memory': 100000,
  'gather-done': 100000,
};

function rssBytes () {
  const fields = readFileSync('/proc/self/statm', 'utf8').trim().split(/\s+/);
  return Number(fields[1]) * PAGE_SIZE;
}

function collectGarbage () {
  if (typeof globalThis.gc === 'function')
    globalThis.gc();
}

// A promise with its resolver at hand: Node 20 has no Promise.withResolvers.
function makeFuture () {
  const future = {};
  future.promise = new Promise((resolve, reject) => {
    future.resolve = resolve;
    future.reject = reject;
  });
  return future;
}

// Seeded uniform [0, 1): mulberry32
function makeRandom (seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function nowNs () {
  return process.hrtime.bigint();
}

// spawn: n trivial async functions started up front, then awaited together

async function trivial () {
  return undefined;
}

async function spawn (n, out) {
  const start = nowNs();
  const promises = new Array(n);
  for (let i = 0; i < n; i++)
    promises[i] = trivial();
  await Promise.all(promises);
  out.wallNs = nowNs() - start;
}

// pingpong: each side owns the slot it receives on and puts a fresh promise
// there before sending, so every message travels in a new promise.

async function ping (pp) {
  for (let i = 0; i < pp.rounds; i++) {
    pp.pingSlot = makeFuture();
    pp.pongSlot.resolve(i);
    if (await pp.pingSlot.promise !== i)
      pp.mismatches++;
  }
}

async function pong (pp) {
  for (let i = 0; i < pp.rounds; i++) {
    const value = await pp.pongSlot.promise;
    if (i + 1 < pp.rounds)
      pp.pongSlot = makeFuture();
    pp.pingSlot.resolve(value);
  }
}

async function pingpong (n, out) {
  const pp = { rounds: n, pingSlot: null, pongSlot: makeFuture(), mismatches: 0 };
  const start = nowNs();
  await Promise.all([ping(pp), pong(pp)]);
  out.wallNs = nowNs() - start;
  if (pp.mismatches)
    out.failure = `${pp.mismatches}-replies-did-not-match`;
}

// pingpong-event and pingpong-queue: JavaScript has neither, so here are
// the smallest idiomatic ones. A promise cannot be reset, so each wait
// makes one; its resolver is kept in the waiter list and called by set()
// or put(), as the futures of asyncio's Event and Queue are.

class Event {
  constructor () {
    this.isSet = false;
    this.waiters = [];
  }

  set () {
    if (this.isSet)
      return;
    this.isSet = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters)
      resolve(true);
  }

  clear () {
    this.isSet = false;
  }

  wait () {
    if (this.isSet)
      return Promise.resolve(true);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

class Queue {
  constructor () {
    this.items = [];
    this.getters = [];
  }

  putNowait (item) {
    if (this.getters.length > 0)
      this.getters.shift()(item);
    else
      this.items.push(item);
  }

  get () {
    if (this.items.length > 0)
      return Promise.resolve(this.items.shift());
    return new Promise((resolve) => this.getters.push(resolve));
  }
}

async function pingpongEvent (n, out) {
  const pp = { message: 0, reply: 0, pingEvent: new Event(), pongEvent: new Event(), mismatches: 0 };
  const ping = async () => {
    for (let i = 0; i < n; i++) {
      pp.message = i;
      pp.pongEvent.set();
      await pp.pingEvent.wait();
      pp.pingEvent.clear();
      if (pp.reply !== i)
        pp.mismatches++;
    }
  };
  const pong = async () => {
    for (let i = 0; i < n; i++) {
      await pp.pongEvent.wait();
      pp.pongEvent.clear();
      pp.reply = pp.message;
      pp.pingEvent.set();
    }
  };
  const start = nowNs();
  await Promise.all([ping(), pong()]);
  out.wallNs = nowNs() - start;
  if (pp.mismatches)
    out.failure = `${pp.mismatches}-replies-did-not-match`;
}

async function pingpongQueue (n, out) {
  const pingQueue = new Queue();
  const pongQueue = new Queue();
  let mismatches = 0;
  const ping = async () => {
    for (let i = 0; i < n; i++) {
      pongQueue.putNowait(i);
      if (await pingQueue.get() !== i)
        mismatches++;
    }
  };
  const pong = async () => {
    for (let i = 0; i < n; i++)
      pingQueue.putNowait(await pongQueue.get());
  };
  const start = nowNs();
  await Promise.all([ping(), pong()]);
  out.wallNs = nowNs() - start;
  if (mismatches)
    out.failure = `${mismatches}-replies-did-not-match`;
}

// sleepers: the deadline is taken right before the function suspends

function sleep (ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function sleeper (delay, acc) {
  const intended = performance.now() + delay * 1000;
  await sleep(delay * 1000);
  acc.late += performance.now() - intended;
}

async function sleepers (n, out) {
  const random = makeRandom(SLEEPER_SEED);
  const delays = new Float64Array(n);
  for (let i = 0; i < n; i++)
    delays[i] = random();
  const acc = { late: 0 };
  const start = nowNs();
  const promises = new Array(n);
  for (let i = 0; i < n; i++)
    promises[i] = sleeper(delays[i], acc);
  await Promise.all(promises);
  out.wallNs = nowNs() - start;
  out.wall = true;
  out.meanLateMs = acc.late / n;
}

// cancel-fanout: no native cancellation, so one AbortController per task
// whose abort rejects the promise the task awaits.

function abortable (signal) {
  return new Promise((resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

async function abortableWaiter (signal) {
  await abortable(signal);
}

async function cancelFanout (n, out) {
  const controllers = new Array(n);
  const tasks = new Array(n);
  for (let i = 0; i < n; i++) {
    controllers[i] = new AbortController();
    tasks[i] = abortableWaiter(controllers[i].signal);
  }
  // Every waiter is suspended already; let the loop settle anyway.
  await new Promise((resolve) => setImmediate(resolve));

  const start = nowNs();
  for (let i = 0; i < n; i++)
    controllers[i].abort();
  const results = await Promise.allSettled(tasks);
  out.wallNs = nowNs() - start;

  let cancelled = 0;
  for (const r of results)
    if (r.status === 'rejected' && r.reason?.name === 'AbortError')
      cancelled++;
  if (cancelled !== n)
    out.failure = `only-${cancelled}-of-${n}-cancelled`;
}

// memory: n suspended async functions, each awaiting its own future

async function waiter (future) {
  await future.promise;
}

async function memory (n, out) {
  await trivial();
  collectGarbage();
  const before = rssBytes();
  const start = nowNs();
  // What a suspended task costs: they all await one promise, so its own
  // size is not charged to them.
  const shared = makeFuture();
  const tasks = new Array(n);
  for (let i = 0; i < n; i++)
    tasks[i] = waiter(shared);
  await new Promise((resolve) => setImmediate(resolve));
  out.wallNs = nowNs() - start;
  collectGarbage();
  const after = rssBytes();
  out.bytesPerTask = (after - before) / n;
  out.keep = [shared, tasks];
}

// gather-done: Promise.all over n promises that are all resolved already

async function gatherDone (n, out) {
  const promises = [];
  for (let i = 0; i < n; i++)
    promises.push(Promise.resolve(i));
  const start = nowNs();
  const results = await Promise.all(promises);
  out.wallNs = nowNs() - start;
  let sum = 0;
  for (const r of results)
    sum += r;
  if (sum !== n * (n - 1) / 2)
    out.failure = 'results-do-not-add-up';
}

const WORKLOADS = {
  'spawn': spawn,
  'pingpong': pingpong,
  'sleepers': sleepers,
  'sleepers-1m': sleepers,
  'cancel-fanout': cancelFanout,
  'memory': memory,
  'gather-done': gatherDone,
  'pingpong-event': pingpongEvent,
  'pingpong-queue': pingpongQueue,
};

function parseArgs (argv) {
  const args = { workload: null, n: 0 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--workload')
      args.workload = argv[++i];
    else if (argv[i] === '--n')
      args.n = Number(argv[++i]);
    else if (argv[i].startsWith('--workload='))
      args.workload = argv[i].slice('--workload='.length);
    else if (argv[i].startsWith('--n='))
      args.n = Number(argv[i].slice('--n='.length));
  }
  return args;
}

async function main () {
  const args = parseArgs(process.argv.slice(2));

  if (!(args.workload in WORKLOADS)) {
    console.log(`workload=${args.workload} impl=node skipped=1 reason=no-such-workload`);
    return 3;
  }

  let n = args.n;
  if (!(n > 0)) {
    n = DEFAULT_N[args.workload];
    const quick = process.env.WEFT_BENCH_QUICK ?? '';
    if (quick !== '' && quick !== '0')
      n = Math.max(Math.floor(n / 10), 1);
  }

  const out = {};
  await WORKLOADS[args.workload](n, out);

  const usage = process.resourceUsage();
  let line = `workload=${args.workload} impl=node n=${n}`;
  if (out.failure) {
    console.log(`${line} failed=1 reason=${out.failure}`);
    return 1;
  }
  const cpuS = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
  line += ` ns_per_op=${(Number(out.wallNs) / n).toFixed(2)}`;
  line += ` cpu_s=${cpuS.toFixed(3)} maxrss_kb=${usage.maxRSS}`;
  if (out.wall)
    line += ` wall_s=${(Number(out.wallNs) / 1e9).toFixed(3)}`;
  if (out.meanLateMs !== undefined)
    line += ` mean_late_ms=${out.meanLateMs.toFixed(3)}`;
  if (out.bytesPerTask !== undefined)
    line += ` bytes_per_task=${out.bytesPerTask.toFixed(1)}`;
  console.log(line);
  return 0;
}

process.exitCode = await main();
