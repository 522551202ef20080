/*
 * The "Shared memory" panel's model, no DOM (server.shared,
 * doc/stats-json.md): the facts' texts, the per-period series of lost
 * updates and its bars, and a deadlock's cycle laid out on a circle.
 * shared.js draws it.
 */

import { isNum, fmtInt } from './format.js';

export const HISTORY = 120;     // periods of the lost series

/* A shared step has run, a lock was taken or waited for, or a deadlock
 * exists: the panel shows itself. */
export function sharedUsed(sh) {
  return sh.increments > 0 || sh.locks.some((l) => l.acquisitions > 0 || l.waiters > 0) || sh.deadlocks.length > 0;
}

/* Under --processes each worker process has its own counter at the same
 * virtual address (processes[].shared): one row each, from the snapshot's
 * processes[], and the workers' sum. null when there is one process (its
 * counter is server.shared's). */
export function processCounters(procs) {
  const list = (procs || []).filter((p) => p.shared);
  if (list.length < 2) return null;
  const rows = list.map((p) => ({
    pid: p.pid, role: p.role, counter: p.shared.counter, addr: p.shared.counter_addr,
    page: p.shared.counter_page,
  }));
  const workers = rows.filter((r) => r.role === 'worker');
  const pages = new Set(workers.map((r) => r.page).filter((x) => x !== null));
  return {
    rows,
    sum: workers.reduce((a, r) => a + r.counter, 0),
    sameAddr: new Set(rows.map((r) => r.addr)).size === 1,
    /* Distinct frames behind one address: only when the kernel shows them. */
    pagesDiffer: workers.length > 1 && workers.every((r) => r.page !== null) ? pages.size === workers.length : null,
  };
}

/* The copy-on-write probe (server.shared.fork_cow): a line per moment,
 * what the kernel's pagemap said. null when it did not run. */
export function cowLines(cow) {
  if (!cow) return null;
  const page = (p) => (p.page === null ? 'page hidden' : `page ${p.page}`) +
    (p.mapcount === null ? '' : `, mapped ${p.mapcount}×`) + (p.exclusive ? ', exclusive' : ', shared');
  const same = cow.parent.page !== null && cow.child_before_write.page === cow.parent.page;
  const copied = cow.child_after_write.page !== null && cow.child_after_write.page !== cow.parent.page;
  return {
    parent: `parent: ${page(cow.parent)}`,
    before: `forked child, before its first write: ${page(cow.child_before_write)}` +
      (same ? ' — the parent\'s page' : ''),
    after: `after it: ${page(cow.child_after_write)}` + (copied ? ' — its own copy' : ''),
    shared: !cow.child_before_write.exclusive && cow.child_after_write.exclusive,
  };
}

/* The facts, by the id of the element that shows them. */
export function sharedFacts(sh) {
  const share = sh.increments > 0 ? ` (${(100 * sh.lost / sh.increments).toFixed(1)}%)` : '';
  return {
    'sh-counter': fmtInt(sh.counter),
    'sh-increments': fmtInt(sh.increments),
    'sh-lost': fmtInt(sh.lost) + share,
    'sh-addr': `${sh.counter_addr} / ${sh.counter_page === null ? 'hidden' : sh.counter_page}`,
    'sh-lock': `${sh.holder_tid === null ? 'free' : `tid ${sh.holder_tid}`}, ${sh.waiters}`,
    'sh-wait': `${fmtInt(sh.contended)} of ${fmtInt(sh.acquisitions)}, ${fmtInt(sh.wait_ms)} ms`,
  };
}

/* series (newest last, at most max) with snapshot seq's period added; a
 * snapshot seen twice (same seq) or without a period adds nothing. Lost is
 * signed: a stale write can also raise the counter (a thread writes back a
 * value read before another thread's late write), so lost can fall. */
export function addPeriod(series, seq, period, max = HISTORY) {
  if (!isNum(seq) || !period || (series.length && series[series.length - 1].seq === seq)) return series;
  const out = [...series, { seq, lost: period.lost, increments: Math.max(0, period.increments) }];
  return out.length > max ? out.slice(out.length - max) : out;
}

/* The series as bars in a W x H box, the newest at the right: a loss up
 * from the axis (red), a fall down from it (blue; the axis is raised to
 * make room); and the increments as a line, scaled to their maximum above
 * the axis (from H, under a raised axis it read as a negative count). */
export function seriesBars(series, W = 600, H = 90, history = HISTORY) {
  const n = series.length;
  if (!n) return { bars: [], line: '', base: H };
  const bw = W / history;
  const maxLost = Math.max(1, ...series.map((x) => Math.abs(x.lost)));
  const maxInc = Math.max(1, ...series.map((x) => x.increments));
  const neg = series.some((x) => x.lost < 0);
  const base = neg ? H * 0.7 : H;
  const bars = series.map((x, i) => {
    const h = (Math.abs(x.lost) / maxLost) * (neg ? base - 2 : H - 4) * (x.lost < 0 ? 0.4 : 1);
    return { x: (history - n + i) * bw, y: x.lost < 0 ? base : base - h, width: Math.max(1, bw - 1), height: h,
      fill: x.lost < 0 ? '#2e86c1' : '#c0392b', lost: x.lost, seq: x.seq,
      title: `period ${x.seq}: ${fmtInt(x.lost)} lost of ${fmtInt(x.increments)}` };
  });
  const line = series.map((x, i) =>
    `${((history - n + i) * bw + bw / 2).toFixed(1)},${(base - (x.increments / maxInc) * (base - 4)).toFixed(1)}`).join(' ');
  return { bars, line, base };
}

/* The series' frame in a W x H box: time ticks under it (the oldest
 * period the box holds, halfway, now: history periods of periodMs), the
 * largest loss it is scaled to, and in words what an empty-looking chart
 * means (null when some period lost updates). */
export function seriesFrame(series, periodMs, history = HISTORY) {
  const span = isNum(periodMs) && periodMs > 0 ? (history * periodMs) / 1000 : null;
  const at = (f) => (span === null ? '' : f === 1 ? 'now' : `−${fmtInt(span * (1 - f))} s`);
  const ticks = [0, 0.5, 1].map((f) => ({ f, text: at(f) }));
  const maxLost = Math.max(0, ...series.map((x) => Math.abs(x.lost)));
  const inc = series.reduce((a, x) => a + x.increments, 0);
  const last = span === null ? 'so far' : `in the last ${fmtInt(Math.min(series.length, history) * periodMs / 1000)} s`;
  let empty = null;
  if (!series.length) empty = 'waiting for the first period';
  else if (maxLost === 0 && inc === 0) empty = `no increments ${last}: race:N, atomic:N and lock:N steps increment the counter`;
  else if (maxLost === 0) empty = `no update lost ${last} (${fmtInt(inc)} increments)`;
  return { ticks, top: maxLost > 0 ? `${fmtInt(maxLost)} lost` : '', empty };
}

export function deadlockCaption(d) {
  const who = d.threads.map((t) => `thread ${t.tid} holds lock ${t.holds.join(',')} and wants lock ${t.wants}`);
  return `Deadlock: ${who.join('; ')} — stuck ${fmtInt(d.stuck_ms / 1000)} s, found ${fmtInt(d.detect_ms)} ms after it closed`;
}

export const NODE_R = 40;       // a thread's circle: wide enough for "tl-worker-10" (at 32 the name ran over the rim)

/* The cycle of deadlock d in a W x H box: its threads on an ellipse from
 * the left, clockwise (two side by side, three in a triangle), and an
 * arrow from each thread to the next ("waits for the lock it holds"),
 * bent so that A->B and B->A do not overlap, ending at the circles' rims.
 * names: tid -> thread name. */
export function cycleLayout(d, names, W = 420, H = 220) {
  const cx = W / 2, cy = H / 2, R = 70, n = d.threads.length;
  const nodes = d.threads.map((t, i) => {
    const a = Math.PI + (2 * Math.PI * i) / n;
    return { tid: t.tid, x: cx + R * Math.cos(a) * 1.8, y: cy + R * Math.sin(a), name: names.get(t.tid) || 'thread',
      holds: `holds lock ${t.holds.join(',')}` };
  });
  const arrows = d.threads.map((t, i) => {
    const a = nodes[i], b = nodes[(i + 1) % n];
    const len = Math.hypot(b.x - a.x, b.y - a.y) || 1;
    const ux = (b.x - a.x) / len, uy = (b.y - a.y) / len;
    const mx = (a.x + b.x) / 2 + uy * 34, my = (a.y + b.y) / 2 - ux * 34;
    return { from: t.tid, to: b.tid, lock: t.wants,
      path: `M ${a.x + ux * NODE_R} ${a.y + uy * NODE_R} Q ${mx} ${my} ${b.x - ux * NODE_R} ${b.y - uy * NODE_R}`,
      label: { x: mx, y: my + (my < cy ? -6 : 14), text: `${names.get(t.tid) || t.tid} wants lock ${t.wants}` } };
  });
  return { width: W, height: H, nodes, arrows };
}
