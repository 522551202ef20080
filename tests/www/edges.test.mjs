// Edges of the dashboard's pure modules that the first tests left open
// (mutaudit2): each test here kills a mutant listed in tests/www/mutants.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedFacts, sharedUsed } from '../../www/shared-model.js';
import { runsChartGroups, ReplayBuffer } from '../../www/lab-model.js';
import { birthLayout } from '../../www/birth-model.js';
import { buildLanes, leftOutNote, laneHeight } from '../../www/timeline-model.js';

const QUIET = { increments: 0, lost: 0, counter: 0, locks: [{ acquisitions: 0, waiters: 0 }], deadlocks: [],
  counter_addr: '0x1', counter_page: null, holder_tid: null, waiters: 0, contended: 0, acquisitions: 0, wait_ms: 0 };

test('shared: a deadlock alone shows the panel; the lock facts say contended of acquisitions', () => {
  assert.equal(sharedUsed({ ...QUIET, deadlocks: [{ threads: [] }] }), true);
  assert.equal(sharedUsed({ ...QUIET, increments: 1 }), true);
  assert.equal(sharedUsed({ ...QUIET, locks: [{ acquisitions: 1, waiters: 0 }] }), true);
  const f = sharedFacts({ ...QUIET, contended: 3, acquisitions: 1200, wait_ms: 45 });
  assert.equal(f['sh-wait'], '3 of 1,200, 45 ms');
});

test('lab-model: the runs chart keeps the latest runs, not the first ones', () => {
  const runs = [];
  for (let r = 1; r <= 10; r++) runs.push({ run: r, id: 'x', status: 'done', measured: r, predicted: r, unit: 'req/s' });
  runs.push({ run: 11, id: 'x', status: 'failed', measured: null, unit: 'req/s' });
  const [g] = runsChartGroups(runs, 3);
  assert.deepEqual(g.labels, ['#8 x', '#9 x', '#10 x']);
  assert.deepEqual(g.measured, [8, 9, 10]);
});

test('lab-model: a replay position between two snapshots shows the nearer one', () => {
  const b = new ReplayBuffer(60000, 100);
  for (let i = 0; i < 5; i++) b.push(i * 1000, { seq: i });
  assert.equal(b.at(1.6).s.seq, 2);
  assert.equal(b.at(1.4).s.seq, 1);
  assert.equal(b.offsetS(2.7), 3);
});

test('birth: a gap far below the largest is still drawn (1% at least)', () => {
  const MS = 1e6;
  const threads = [
    { tid: 10, pid: 10, role: 'loop', index: 0, created_ns: 0, first_run_ns: 0.5 * MS, created_by: 'kernel' },
    { tid: 11, pid: 10, role: 'worker', index: 0, created_ns: 1 * MS, first_run_ns: 11 * MS, created_by: 'creator' },
    { tid: 12, pid: 10, role: 'worker', index: 1, created_ns: 2 * MS, first_run_ns: 2.01 * MS, created_by: 'creator' },
  ];
  const [box] = birthLayout(threads, []);
  const gap = Object.fromEntries(box.rows.map((r) => [r.t.tid, r.gap.width]));
  assert.equal(gap[11], 100);
  assert.equal(gap[12], 1);      // 10 µs of 10 ms is 0.1%: drawn at 1%
  assert.equal(gap[10], 5);      // the main thread's 0.5 ms on the same scale
});

test('timeline: exactly the most lanes is not folded; one more folds two', () => {
  const th = (i) => ({ tid: 100 + i, name: `tl-worker-${i}`, role: 'worker', index: i });
  const four = [0, 1, 2, 3].map(th);
  const a = buildLanes(four, new Map(), [], 4);
  assert.equal(a.folded, null);
  assert.equal(a.lanes.length, 4);
  const b = buildLanes([...four, th(4)], new Map(), [], 4);
  assert.equal(b.lanes.length, 4);
  assert.equal(b.folded.count, 2);
});

test('timeline: steps dropped since start are no note unless this update was sampled', () => {
  assert.equal(leftOutNote({ dropped: 5, sampled: false }), '');
  assert.match(leftOutNote({ dropped: 5, sampled: true }), /5 steps left out/);
  assert.match(leftOutNote({ left_out: 7, dropped: 5, sampled: false }), /7 steps left out/);
});

test('timeline: the lanes fit the plot (560 px) until their 9 px minimum', () => {
  for (let n = 1; n <= 120; n++) {
    const h = laneHeight(n);
    assert.ok(h >= 9 && h <= 22, `n ${n}: ${h}`);
    if (h > 9) assert.ok(n * h <= 560, `${n} lanes of ${h} px`);
  }
});
