/*
 * The "Load over time" charts' model, no DOM: one point per period, from a
 * live snapshot or from the history (the stream's first event), kept for
 * five minutes; the points of the view (the last 60 s, or 5 min); the
 * routes shown; the x of a wall time. charts.js draws it.
 */

import { isNum, get } from './format.js';

export const KEEP_MS = 300000;       // what is kept: the observer keeps as much
export const MAX_POINTS = 6000;
export const MAX_WORKER_SERIES = 16; // per-worker lines drawn (the history keeps 64)

const num = (v) => (isNum(v) ? v : null);

/* Per core: user + sys + irq % of the period (as the history keeps it). */
function coresBusy(s) {
  const cores = Array.isArray(s.cores) ? [...s.cores].sort((a, b) => a.cpu - b.cpu) : [];
  return cores.map((c) => (isNum(c.user_pct) ? c.user_pct + (c.sys_pct || 0) + (c.irq_pct || 0) : null));
}

/* By worker index: CPU % of one core over the period. */
function workersCpu(s) {
  const out = [];
  for (const t of Array.isArray(s.threads) ? s.threads : []) {
    if (t.role !== 'worker' || !isNum(t.index) || t.index < 0 || t.index >= 64) continue;
    out[t.index] = num(t.cpu_pct);
  }
  return Array.from(out, (v) => (v === undefined ? null : v));
}

/* One point from a live snapshot; errRate: 4xx+5xx per second (or null). */
export function pointOfSnapshot(s, errRate) {
  const srv = s.server || {};
  const lat = get(srv, ['latency_ms', 'period']) || {};
  const lag = get(srv, ['loop', 'lag_ms', 'period']) || {};
  const routes = {};
  const byRoute = get(srv, ['latency_ms', 'by_route']) || {};
  const rates = get(srv, ['requests', 'by_route']) || {};
  for (const [r, x] of Object.entries(byRoute)) {
    const p = x.period || {};
    routes[r] = { p50: num(p.p50), p99: num(p.p99), rate: num(get(rates, [r, 'rate'])) };
  }
  return {
    seq: s.seq, t: s.time_ms, rps: num(get(srv, ['requests', 'rate'])), err: errRate,
    p50: num(lat.p50), p90: num(lat.p90), p99: num(lat.p99), routes,
    queue: num(get(srv, ['queue', 'depth'])), lag50: num(lag.p50), lag99: num(lag.p99), lagMax: num(lag.max),
    busy: num(get(srv, ['loop', 'utilization_pct'])), cores: coresBusy(s), workers: workersCpu(s),
  };
}

/* 4xx + 5xx per second between two by_status counters (null when unknown
 * or when the counters went back: a restart). */
export function errorRate(now, before, periodMs) {
  if (!now || !before || !isNum(periodMs) || periodMs <= 0) return null;
  const a = (now['4xx'] || 0) + (now['5xx'] || 0);
  const b = (before['4xx'] || 0) + (before['5xx'] || 0);
  return a >= b ? ((a - b) * 1000) / periodMs : null;
}

/* The points of the history (arrays, one entry per period). */
export function pointsOfHistory(h) {
  const n = Array.isArray(h.seq) ? h.seq.length : 0;
  const col = (name, i) => (Array.isArray(h[name]) ? num(h[name][i]) : null);
  const row = (name, i) => (Array.isArray(h[name]) && Array.isArray(h[name][i]) ? h[name][i].map(num) : []);
  const routes = h.routes || {};
  const out = [];
  for (let i = 0; i < n; i++) {
    const rs = {};
    for (const [r, x] of Object.entries(routes)) rs[r] = { p50: num(x.p50_ms[i]), p99: num(x.p99_ms[i]), rate: num(x.rate[i]) };
    out.push({
      seq: h.seq[i], t: h.time_ms[i], rps: col('requests_rate', i), err: col('errors_rate', i),
      p50: col('latency_p50_ms', i), p90: col('latency_p90_ms', i), p99: col('latency_p99_ms', i), routes: rs,
      queue: col('queue_depth', i), lag50: col('lag_p50_ms', i), lag99: col('lag_p99_ms', i), lagMax: col('lag_max_ms', i),
      busy: col('loop_utilization_pct', i), cores: row('core_busy_pct', i), workers: row('worker_cpu_pct', i),
    });
  }
  return out;
}

/* The history under the live points: the history up to its last period,
 * then the live points after it (same server: later seq and time). */
export function mergeHistory(hist, live) {
  if (!hist.length) return live.slice();
  const last = hist[hist.length - 1];
  return hist.concat(live.filter((p) => p.seq > last.seq && p.t >= last.t));
}

/* points without those older than keepMs before the newest (or beyond maxPoints). */
export function trimPoints(points, keepMs = KEEP_MS, maxPoints = MAX_POINTS) {
  if (!points.length) return points;
  const newest = points[points.length - 1].t;
  let drop = 0;
  while (drop < points.length - 1 && (points.length - drop > maxPoints || points[drop].t < newest - keepMs)) drop++;
  return drop ? points.slice(drop) : points;
}

/* The points of the last windowMs before the newest. */
export function inWindow(points, windowMs) {
  if (!points.length) return points;
  const from = points[points.length - 1].t - windowMs;
  let i = 0;
  while (i < points.length - 1 && points[i].t < from) i++;
  return i ? points.slice(i) : points;
}

/* Routes that had a request in points, sorted. */
export function routesShown(points) {
  const seen = new Set();
  for (const p of points) {
    for (const [r, x] of Object.entries(p.routes)) if (x.rate > 0 || isNum(x.p50)) seen.add(r);
  }
  return [...seen].sort();
}

/* How many series of `key` ('cores' or 'workers') points carry (the
 * widest point), at most max. */
export function seriesCount(points, key, max = Infinity) {
  let n = 0;
  for (const p of points) n = Math.max(n, (p[key] || []).length);
  return Math.min(n, max);
}

/* The x (a fractional seq) of wall time t: points are at x = their seq. */
export function seqAt(seqs, times, t) {
  let lo = 0, hi = times.length - 1;
  if (t <= times[0]) return seqs[0];
  if (t >= times[hi]) return seqs[hi];
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (times[mid] <= t) lo = mid; else hi = mid;
  }
  return seqs[lo] + ((seqs[hi] - seqs[lo]) * (t - times[lo])) / (times[hi] - times[lo] || 1);
}

/* The value a log axis can draw: positive, else null (a gap). */
export function forScale(v, log) {
  if (!isNum(v)) return null;
  return log && v <= 0 ? null : v;
}
