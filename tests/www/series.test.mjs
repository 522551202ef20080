// Unit tests of www/series.js, the charts' model (no DOM): node --test tests/www/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  pointOfSnapshot, pointsOfHistory, errorRate, mergeHistory, trimPoints, inWindow, routesShown, seriesCount, seqAt, forScale,
} from '../../www/series.js';

const history = {
  seq: [1, 2, 3], time_ms: [1000, 1500, 2000], requests_rate: [10, 90000, 20], errors_rate: [0, 1, null],
  latency_p50_ms: [1, 2, 3], latency_p90_ms: [1, 2, 3], latency_p99_ms: [4, 5, 6],
  routes: { '/cpu': { rate: [1, 0, 0], p50_ms: [1, null, null], p99_ms: [2, null, null] } },
  queue_depth: [0, 1, 2], lag_p50_ms: [0, 0, 0], lag_p99_ms: [1, 1, 1], lag_max_ms: [2, 2, 2], loop_utilization_pct: [5, 6, 7],
  core_busy_pct: [[41, 12], [50, 60], [1, 2]], worker_cpu_pct: [[10, 20, 30], [11, 21, 31], [12, 22, 32]],
};

test('history columns become points, with per-core and per-worker series', () => {
  const p = pointsOfHistory(history);
  assert.equal(p.length, 3);
  assert.equal(p[1].rps, 90000);
  assert.equal(p[2].err, null);
  assert.deepEqual(p[0].cores, [41, 12]);
  assert.deepEqual(p[2].workers, [12, 22, 32]);
  assert.deepEqual(p[0].routes['/cpu'], { p50: 1, p99: 2, rate: 1 });
  assert.equal(seriesCount(p, 'cores'), 2);
  assert.equal(seriesCount(p, 'workers', 2), 2);
  assert.deepEqual(pointsOfHistory({}), []);
});

test('a live snapshot becomes a point: cores busy = user + sys + irq, workers by index', () => {
  const s = { seq: 9, time_ms: 5000,
    server: { requests: { rate: 120, by_route: { '/io': { rate: 3 } } },
      latency_ms: { period: { p50: 1, p90: 2, p99: 3 }, by_route: { '/io': { period: { p50: 10, p99: 20 } } } },
      queue: { depth: 4 }, loop: { lag_ms: { period: { p50: 0.1, p99: 0.5, max: 1 } }, utilization_pct: 30 } },
    cores: [{ cpu: 1, user_pct: 10, sys_pct: 5, irq_pct: 1 }, { cpu: 0, user_pct: 40, sys_pct: 2, irq_pct: 0 }],
    threads: [{ role: 'worker', index: 1, cpu_pct: 70 }, { role: 'loop', index: 0, cpu_pct: 5 }, { role: 'worker', index: 0, cpu_pct: 9 }] };
  const p = pointOfSnapshot(s, 2);
  assert.equal(p.rps, 120);
  assert.equal(p.err, 2);
  assert.deepEqual(p.cores, [42, 16]);
  assert.deepEqual(p.workers, [9, 70]);
  assert.deepEqual(p.routes['/io'], { p50: 10, p99: 20, rate: 3 });
  assert.equal(p.busy, 30);
});

test('error rate from by_status counters; a counter going back (restart) is unknown', () => {
  assert.equal(errorRate({ '4xx': 10, '5xx': 5 }, { '4xx': 5, '5xx': 0 }, 500), 20);
  assert.equal(errorRate({ '4xx': 1 }, { '4xx': 5 }, 500), null);
  assert.equal(errorRate({ '4xx': 1 }, null, 500), null);
});

test('the history goes under the live points; an old server\'s points do not survive it', () => {
  const hist = pointsOfHistory(history);
  const live = [{ seq: 3, t: 2000 }, { seq: 4, t: 2500 }];
  assert.deepEqual(mergeHistory(hist, live).map((p) => p.seq), [1, 2, 3, 4]);
  const oldServer = [{ seq: 900, t: 500 }];
  assert.deepEqual(mergeHistory(hist, oldServer).map((p) => p.seq), [1, 2, 3]);
});

test('the view: the last 60 s, so a spike older than that leaves the view (and its scale)', () => {
  const pts = [];
  for (let i = 0; i <= 300; i++) pts.push({ seq: i, t: i * 1000, rps: i === 10 ? 90000 : 20 + i });
  const v = inWindow(pts, 60000);
  assert.equal(v[0].t, 240000);
  assert.equal(v.length, 61);
  assert.ok(Math.max(...v.map((p) => p.rps)) < 1000, 'the spike at 10 s is not in the last minute');
  assert.equal(inWindow(pts, 300000).length, 301);
  assert.equal(trimPoints(pts, 100000).length, 101);
  assert.equal(trimPoints(pts, 1e9, 50).length, 50);
});

test('routes shown: only those with a request in the view', () => {
  assert.deepEqual(routesShown([{ routes: { '/b': { rate: 1 }, '/a': { rate: 0, p50: null }, '/c': { rate: 0, p50: 2 } } }]), ['/b', '/c']);
});

test('x of a wall time between points; log scales draw no zero', () => {
  assert.equal(seqAt([10, 11, 12], [1000, 1500, 2000], 1750), 11.5);
  assert.equal(seqAt([10, 11], [1000, 1500], 0), 10);
  assert.equal(forScale(0, true), null);
  assert.equal(forScale(0, false), 0);
  assert.equal(forScale(5, true), 5);
  assert.equal(forScale(undefined, false), null);
});
