// Unit tests of the panels' pure layouts (no DOM): the thread table's
// process groups, the timeline's left-out note and lane counts, the birth
// panel's layout, the shared-memory panel's series and deadlock cycle.
// node --test tests/www/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withProcessHeaders, groupText } from '../../www/process-groups.js';
import { buildLanes, leftOutNote, laneCountText } from '../../www/timeline-model.js';
import { birthLayout, birthGroups, birthLabel, birthKey, fmtBirthMs } from '../../www/birth-model.js';
import { evidencePanels } from '../../www/lab-model.js';
import { addPeriod, seriesBars, seriesFrame, cycleLayout, deadlockCaption, sharedFacts, sharedUsed, NODE_R, processCounters, cowLines } from '../../www/shared-model.js';

/* ---- process groups (--processes) ---- */
const PROCS = [{ pid: 10, role: 'supervisor', state: 'running', restarts: 0, requests_rate: null },
  { pid: 11, role: 'worker', state: 'ready', restarts: 1, requests_rate: 1234.4 },
  { pid: 12, role: 'worker', state: 'ready', restarts: 0, requests_rate: 56 }];

test('process groups: one process leaves the list as it is', () => {
  const list = [{ tid: 1, pid: 10 }, { tid: 2, pid: 10 }];
  assert.equal(withProcessHeaders(list, PROCS.slice(0, 1)), list);
});

test('process groups: a header before each process, in processes[] order, each thread under its own pid', () => {
  const list = [{ tid: 21, pid: 12 }, { tid: 11, pid: 11 }, { tid: 1, pid: 10 }, { tid: 22, pid: 12 }, { tid: 12, pid: 11 }];
  const out = withProcessHeaders(list, PROCS);
  assert.deepEqual(out.map((x) => x.tid), ['p10', 1, 'p11', 11, 12, 'p12', 21, 22]);
  let pid = null;
  for (const x of out) if (x.group) pid = x.pid; else assert.equal(x.pid, pid);
  const heads = out.filter((x) => x.group);
  assert.deepEqual(heads.map((h) => h.count), [1, 2, 2]);
  assert.deepEqual(heads.map((h) => h.role), ['supervisor', 'worker', 'worker']);
});

test('process groups: a pid processes[] does not name comes last, as "process PID"', () => {
  const out = withProcessHeaders([{ tid: 5, pid: 99 }, { tid: 1, pid: 10 }], PROCS);
  assert.deepEqual(out.map((x) => x.tid), ['p10', 1, 'p99', 5]);
  assert.equal(groupText(out[2]), 'process 99 · 1 thread');
});

test('process groups: the header text; req/s for workers only', () => {
  const heads = withProcessHeaders([{ tid: 1, pid: 10 }, { tid: 11, pid: 11 }, { tid: 12, pid: 11 }], PROCS).filter((x) => x.group);
  assert.equal(groupText(heads[0]), 'supervisor 10 · running · 0 restarts · 1 thread');
  assert.equal(groupText(heads[1]), 'worker 11 · ready · 1 restart · 2 threads · 1,234 req/s');
  assert.equal(groupText({ ...heads[0], rps: 50 }), 'supervisor 10 · running · 0 restarts · 1 thread');
});

/* ---- timeline: what an update left out, tasks in flight ---- */
test('timeline note: left_out of this update, else the old sampled/dropped, else nothing', () => {
  assert.match(leftOutNote({ left_out: 6826, sampled: true, dropped: 3 }), /sampled: 6,826 steps left out of this update/);
  assert.equal(leftOutNote({ left_out: 0, sampled: true, dropped: 5 }), '');
  assert.match(leftOutNote({ sampled: true, dropped: 5 }), /sampled: 5 steps left out/);
  assert.equal(leftOutNote({ sampled: false, dropped: 0 }), '');
});

test('lane counts: tasks in flight and steps left out, nothing when 0 or unknown', () => {
  assert.equal(laneCountText({ tasks_in_flight: 1000, steps_left_out: 6826 }), '1,000 in flight · 6,826 steps left out');
  assert.equal(laneCountText({ tasks_in_flight: 1, steps_left_out: 0 }), '1 in flight');
  assert.equal(laneCountText({ tasks_in_flight: 0, steps_left_out: 3 }), '3 steps left out');
  assert.equal(laneCountText({ tasks_in_flight: null, steps_left_out: null }), '');
});

test('lane counts: the folded lane sums its threads', () => {
  const threads = [{ tid: 1, role: 'loop', index: 0, tasks_in_flight: 7, steps_left_out: 0 }];
  for (let i = 0; i < 5; i++) threads.push({ tid: 10 + i, role: 'worker', index: i, tasks_in_flight: 1, steps_left_out: i });
  const m = buildLanes(threads, new Map(threads.map((t) => [t.tid, t])), [], 3);
  const f = m.lanes[2];
  assert.equal(f.folded.length, 4);
  assert.equal(laneCountText(f), '4 in flight · 10 steps left out');
  assert.equal(laneCountText(m.lanes[0]), '7 in flight');
});

/* ---- thread birth ---- */
const MS = 1e6;
const BIRTH = [
  { tid: 100, pid: 100, role: 'loop', index: 0, created_ns: 0, created_by: 'kernel', first_run_ns: 20 * MS },
  { tid: 103, pid: 100, role: 'worker', index: 1, created_ns: 45 * MS, created_by: 'creator', first_run_ns: 49 * MS },  // before worker 0
  { tid: 102, pid: 100, role: 'worker', index: 0, created_ns: 50 * MS, created_by: 'creator', first_run_ns: 51 * MS },
  { tid: 101, pid: 100, role: 'observer', name: 'tl-observer', created_ns: 40 * MS, created_by: 'creator', first_run_ns: 40.5 * MS },
  { tid: 104, pid: 100, role: 'libuv', name: 'tl-libuv-0', created_ns: 100 * MS, created_by: 'kernel', first_run_ns: null },
  { tid: 105, pid: 100, role: 'other', name: 'x' },     // no birth: not listed
];

test('birth: threads in order of creation, labelled; no birth, no row', () => {
  const [[pid, list]] = birthGroups(BIRTH);
  assert.equal(pid, 100);
  assert.deepEqual(list.map((t) => t.tid), [100, 101, 103, 102, 104]);
  assert.deepEqual(list.map(birthLabel), ['main (loop 0)', 'tl-observer', 'worker 1', 'worker 0', 'tl-libuv-0']);
});

test('birth: the strip places each creation on the process axis', () => {
  const [box] = birthLayout(BIRTH, [{ pid: 100, role: 'server' }]);
  assert.equal(box.title, 'server 100 — 5 threads over 100.0 ms');
  assert.deepEqual(box.ticks.map((k) => k.left), [0, 40, 45, 50, 100]);
  assert.equal(box.rows[3].created, 'created +50.0 ms');
  assert.equal(box.rows[3].firstRun, 'first ran +51.0 ms');
});

test('birth: gaps scaled to the largest one measured both ends; the kernel-started main clipped, libuv said as such', () => {
  const [box] = birthLayout(BIRTH, []);
  const gap = Object.fromEntries(box.rows.map((r) => [r.t.tid, r.gap]));
  assert.equal(gap[103].width, 100);                 // 4 ms: the largest
  assert.equal(gap[102].width, 25);                  // 1 ms of 4
  assert.equal(gap[101].width, 12.5);
  assert.equal(gap[100].width, 100);                 // 20 ms, clipped
  assert.deepEqual([gap[100].clipped, gap[103].clipped, gap[102].clipped], [true, false, false]);
  assert.match(gap[100].text, /^20.0 ms from the kernel's start/);
  assert.equal(gap[104].width, null);
  assert.match(gap[104].text, /not ours: the kernel's start time/);
  assert.equal(box.rows[4].firstRun, 'first run n/a');
});

test('birth: processes in separate boxes, each on its own axis; the key follows births only', () => {
  const two = [...BIRTH, { tid: 200, pid: 200, role: 'loop', index: 0, created_ns: 500 * MS, created_by: 'kernel', first_run_ns: 510 * MS },
    { tid: 201, pid: 200, role: 'worker', index: 0, created_ns: 520 * MS, created_by: 'creator', first_run_ns: 521 * MS }];
  const boxes = birthLayout(two, [{ pid: 200, role: 'worker' }]);
  assert.deepEqual(boxes.map((b) => b.pid), [100, 200]);
  assert.equal(boxes[0].title.startsWith('process 100'), true);
  assert.deepEqual(boxes[1].ticks.map((k) => Math.round(k.left)), [0, 95]);   // the axis ends at the last first run, 521 ms
  assert.equal(boxes[1].rows[1].created, 'created +20.0 ms');
  assert.equal(birthKey(BIRTH), birthKey(BIRTH.map((t) => ({ ...t, cpu_pct: 50 }))));
  assert.notEqual(birthKey(BIRTH), birthKey(BIRTH.slice(1)));
  assert.equal(fmtBirthMs(0.31), '310 µs');
});

/* ---- shared memory ---- */
test('shared: a period per snapshot, none twice, bounded', () => {
  let s = [];
  s = addPeriod(s, 1, { lost: 5, increments: 100 });
  s = addPeriod(s, 1, { lost: 5, increments: 100 });
  s = addPeriod(s, 2, null);
  s = addPeriod(s, 3, { lost: -2, increments: -1 });
  assert.deepEqual(s, [{ seq: 1, lost: 5, increments: 100 }, { seq: 3, lost: -2, increments: 0 }]);
  for (let q = 4; q < 10; q++) s = addPeriod(s, q, { lost: 0, increments: 0 }, 4);
  assert.deepEqual(s.map((x) => x.seq), [6, 7, 8, 9]);
});

test('shared: losses up from the axis, falls below it, the newest at the right', () => {
  const { bars, line } = seriesBars([{ seq: 1, lost: 10, increments: 50 }, { seq: 2, lost: 5, increments: 100 }], 600, 90, 120);
  assert.equal(bars.length, 2);
  assert.equal(bars[1].x, 595);
  assert.equal(bars[0].y + bars[0].height, 90);     // on the axis at the bottom
  assert.equal(bars[0].height, 86);
  assert.equal(bars[1].height, 43);
  assert.equal(line.split(' ').length, 2);
  const neg = seriesBars([{ seq: 1, lost: 10, increments: 0 }, { seq: 2, lost: -10, increments: 0 }], 600, 90, 120).bars;
  assert.ok(Math.abs(neg[0].y + neg[0].height - 63) < 1e-9);        // the axis raised to 70%
  assert.ok(Math.abs(neg[1].y - 63) < 1e-9);                         // a fall hangs below it
  assert.equal(neg[1].fill !== neg[0].fill, true);
  assert.ok(Math.abs(seriesBars([{ seq: 1, lost: 10, increments: 0 }, { seq: 2, lost: -10, increments: 0 }], 600, 90, 120).base - 63) < 1e-9);
  /* The increments line never runs under a raised axis (it read as a
   * negative count): a period of none sits on the axis, the most at the top. */
  const raised = seriesBars([{ seq: 1, lost: 10, increments: 0 }, { seq: 2, lost: -10, increments: 80 }], 600, 90, 120);
  const ys = raised.line.split(' ').map((p) => Number(p.split(',')[1]));
  assert.ok(Math.abs(ys[0] - raised.base) < 0.05, `no increments on the axis (${ys[0]} vs ${raised.base})`);
  assert.ok(Math.abs(ys[1] - 4) < 0.05, `the most at the top (${ys[1]})`);
});

test('shared: the lost chart\'s time axis, its scale, and what an empty chart means', () => {
  const f = seriesFrame([{ seq: 1, lost: 1200, increments: 5000 }, { seq: 2, lost: -3, increments: 10 }], 500, 120);
  assert.deepEqual(f.ticks.map((t) => t.text), ['−60 s', '−30 s', 'now']);
  assert.equal(f.top, '1,200 lost');
  assert.equal(f.empty, null);
  assert.equal(seriesFrame([], 500).empty, 'waiting for the first period');
  assert.equal(seriesFrame([{ seq: 1, lost: 0, increments: 0 }, { seq: 2, lost: 0, increments: 0 }], 1000, 120).empty,
    'no increments in the last 2 s: race:N, atomic:N and lock:N steps increment the counter');
  assert.equal(seriesFrame([{ seq: 1, lost: 0, increments: 4000 }], 500, 120).empty, 'no update lost in the last 1 s (4,000 increments)');
  assert.deepEqual(seriesFrame([{ seq: 1, lost: 1, increments: 1 }], null).ticks.map((t) => t.text), ['', '', '']);
});

test('shared: a deadlock cycle, each arrow from a thread to the next, rim to rim', () => {
  const d = { threads: [{ tid: 7, holds: [0], wants: 1 }, { tid: 8, holds: [1], wants: 0 }], stuck_ms: 3000, detect_ms: 120 };
  const c = cycleLayout(d, new Map([[7, 'tl-worker-0']]));
  assert.deepEqual(c.arrows.map((a) => [a.from, a.to, a.lock]), [[7, 8, 1], [8, 7, 0]]);
  assert.equal(c.nodes[0].x < c.nodes[1].x, true);   // side by side, from the left
  for (const nd of c.nodes) {
    assert.equal(nd.x - NODE_R >= 0 && nd.x + NODE_R <= c.width && nd.y - NODE_R >= 0 && nd.y + NODE_R <= c.height, true);
  }
  const [x0, y0] = c.arrows[0].path.split(' ').slice(1, 3).map(Number);
  assert.ok(Math.abs(Math.hypot(x0 - c.nodes[0].x, y0 - c.nodes[0].y) - NODE_R) < 1e-6);
  assert.notEqual(c.arrows[0].label.y, c.arrows[1].label.y);   // A->B and B->A bend apart
  assert.equal(c.arrows[0].label.text, 'tl-worker-0 wants lock 1');
  assert.equal(c.nodes[1].name, 'thread');
  assert.equal(deadlockCaption(d), 'Deadlock: thread 7 holds lock 0 and wants lock 1; thread 8 holds lock 1 and wants lock 0 — stuck 3 s, found 120 ms after it closed');
  const three = cycleLayout({ threads: [7, 8, 9].map((tid, i) => ({ tid, holds: [i], wants: (i + 1) % 3 })) }, new Map());
  assert.equal(new Set(three.nodes.map((n) => `${Math.round(n.x)},${Math.round(n.y)}`)).size, 3);
});

test('shared: shown once used; the facts', () => {
  const sh = { increments: 0, lost: 0, counter: 0, locks: [{ acquisitions: 0, waiters: 0 }], deadlocks: [],
    counter_addr: '0x1', counter_page: null, holder_tid: null, waiters: 0, contended: 0, acquisitions: 0, wait_ms: 0 };
  assert.equal(sharedUsed(sh), false);
  assert.equal(sharedUsed({ ...sh, locks: [{ acquisitions: 0, waiters: 1 }] }), true);
  const f = sharedFacts({ ...sh, increments: 2000, counter: 1500, lost: 500, holder_tid: 42, waiters: 2 });
  assert.equal(f['sh-lost'], '500 (25.0%)');
  assert.equal(f['sh-lock'], 'tid 42, 2');
  assert.equal(f['sh-addr'], '0x1 / hidden');
});

test('shared: one counter per process under --processes, the workers summed', () => {
  const sh = (counter, page) => ({ counter, counter_addr: '0x7ea000000000', counter_page: page });
  assert.equal(processCounters([{ pid: 1, role: 'server', shared: sh(5, 9) }]), null);
  const pc = processCounters([{ pid: 1, role: 'supervisor', shared: sh(0, 7) },
    { pid: 2, role: 'worker', shared: sh(300, 8) }, { pid: 3, role: 'worker', shared: sh(200, 9) },
    { pid: 4, role: 'spare', shared: null }]);
  assert.equal(pc.rows.length, 3);
  assert.equal(pc.sum, 500);
  assert.equal(pc.sameAddr, true);
  assert.equal(pc.pagesDiffer, true);
  const hidden = processCounters([{ pid: 1, role: 'supervisor', shared: sh(0, null) },
    { pid: 2, role: 'worker', shared: sh(1, null) }, { pid: 3, role: 'worker', shared: sh(2, null) }]);
  assert.equal(hidden.pagesDiffer, null);
});

test('shared: copy-on-write lines say what pagemap said', () => {
  assert.equal(cowLines(null), null);
  const pg = (page, mapcount, exclusive) => ({ present: true, page, mapcount, exclusive });
  const c = cowLines({ parent: pg(10, 1, true), child_before_write: pg(10, 2, false), child_after_write: pg(11, 1, true) });
  assert.equal(c.shared, true);
  assert.match(c.before, /page 10, mapped 2×, shared — the parent's page/);
  assert.match(c.after, /page 11, mapped 1×, exclusive — its own copy/);
  const hid = cowLines({ parent: pg(null, null, true), child_before_write: pg(null, null, false),
    child_after_write: pg(null, null, true) });
  assert.match(hid.before, /page hidden, shared$/);
  assert.doesNotMatch(hid.after, /own copy/);
  const none = cowLines({ parent: pg(10, 2, false), child_before_write: pg(10, 2, false), child_after_write: pg(10, 2, false) });
  assert.doesNotMatch(none.after, /own copy/);
  assert.equal(none.shared, false);
});

test('shared: the lab\'s race and lock-contention runs show the Shared memory panel', () => {
  assert.equal(evidencePanels('race')[0], 'panel-shared');
  assert.equal(evidencePanels('lock-contention')[0], 'panel-shared');
});

import { readFileSync } from 'node:fs';
import { threadColumns } from '../../www/lab-model.js';
import { COLUMN_KEYS } from '../../www/thread-table.js';

test('focused view: each experiment\'s Threads columns are real ones, fewer than all, the name kept apart', () => {
  const file = new URL('../../loadtest/experiments.json', import.meta.url);
  const ids = JSON.parse(readFileSync(file, 'utf8')).experiments.map((x) => x.id);
  assert.ok(ids.length > 5);
  for (const id of [...ids, 'no-such-experiment']) {
    const keys = threadColumns(id);
    assert.ok(keys.length >= 5 && keys.length < COLUMN_KEYS.length - 1, `${id}: ${keys.length} columns`);
    for (const k of keys) assert.ok(COLUMN_KEYS.includes(k) && k !== 'name', `${id}: ${k}`);
    assert.equal(new Set(keys).size, keys.length, `${id}: a column twice`);
  }
  /* Where the evidence is: affinity for pin, coroutine switches for coro. */
  assert.ok(threadColumns('pin').includes('allowed') && threadColumns('pin').includes('migrations_rate'));
  assert.ok(threadColumns('coro').includes('coro_switches_rate'));
  assert.ok(threadColumns('hybrid-suspend').includes('busy_pct'));
});

import { finalSample } from '../../www/lanes.js';

test('lanes: a period\'s shares wait until its stays are final (1.3 s live; a replay\'s log is final), traced from its start', () => {
  const now = 100e9, P = 0.5e9, since = 90e9;
  const samples = [{ ns: now - 2.0e9 }, { ns: now - 1.5e9 }, { ns: now - 1.0e9 }, { ns: now - 0.5e9 }, { ns: now - 0.1e9 }];
  assert.equal(finalSample(samples, now, false, since, P).ns, now - 1.5e9);
  assert.equal(finalSample(samples, now, true, since, P).ns, now - 0.1e9);
  assert.equal(finalSample([{ ns: now - 0.1e9 }], now, false, since, P), null);
  assert.equal(finalSample([], now, true, since, P), null);
  /* Tracing began 1.8 s ago: the period ending 1.5 s ago began before it. */
  assert.equal(finalSample(samples, now, false, now - 1.8e9, P), null);
  assert.equal(finalSample(samples, now, false, now - 2.6e9, P).ns, now - 1.5e9);
  /* Not tracing: no share to give. */
  assert.equal(finalSample(samples, now, false, null, P), null);
});
