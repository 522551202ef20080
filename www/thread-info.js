/*
 * What the panels say about one thread of the snapshot: the natural order
 * (loop, workers, observer, libuv, others), its short label ("loop", "w3"),
 * the CSS class of what it is doing (shared by the core chips, the scoreboard,
 * the thread table and their legends), "doing now" in words, and the names of
 * the kernel's thread states, and its waits on our locks in words.
 */

import { NA, isNum, fmt } from './format.js';

const ROLE_ORDER = { loop: 0, worker: 1, observer: 2, libuv: 3, other: 4 };
export function naturalCompare(a, b) {
  const ra = ROLE_ORDER[a.role] !== undefined ? ROLE_ORDER[a.role] : 5;
  const rb = ROLE_ORDER[b.role] !== undefined ? ROLE_ORDER[b.role] : 5;
  if (ra !== rb) return ra - rb;
  const ia = isNum(a.index) ? a.index : 1e9;
  const ib = isNum(b.index) ? b.index : 1e9;
  if (ia !== ib) return ia - ib;
  return a.tid - b.tid;
}

export function shortLabel(t) {
  switch (t.role) {
    case 'loop': return isNum(t.index) && t.index > 0 ? `loop${t.index}` : 'loop';
    case 'worker': return `w${isNum(t.index) ? t.index : '?'}`;
    case 'observer': return 'obs';
    case 'libuv': return 'uv';
    default: return String(t.name || t.tid).slice(0, 5);
  }
}

/* What a thread is doing, as a CSS class shared by scoreboard, chips and legend. */
export function threadClass(t) {
  if (t.state === 'D') return 's-blocked';
  if (t.state === 'Z' || t.state === 'X' || t.state === 'T' || t.state === 't') return 's-dead';
  if (runqDominates(t)) return 's-runq';
  const d = t.doing;
  if (d && d.what) {
    switch (d.what) {
      case 'idle': return 's-idle';
      case 'cpu': return 's-cpu';
      case 'io': return 's-io';
      case 'wait': return 's-wait';
      case 'loop': return 's-loop';
    }
  }
  return t.state === 'R' ? 's-run' : 's-sleep';
}

/* What the thread is doing at the sample, as a class, without the
 * run-queue override: the "doing now" cell names what it does ("idle" in the
 * idle hue), while the period bar beside it shows the waiting. */
export function doingClass(t) {
  const d = t.doing;
  const known = { idle: 's-idle', cpu: 's-cpu', io: 's-io', wait: 's-wait', loop: 's-loop' };
  if (d && known[d.what]) return known[d.what];
  return threadClass(t);
}

/* Ready but waiting for a core for most of the last period (more than on a
 * core, more than sleeping): the scheduler's doing, not the thread's. */
export function runqDominates(t) {
  return isNum(t.runq_pct) && t.runq_pct >= 20 &&
    t.runq_pct > (isNum(t.on_cpu_pct) ? t.on_cpu_pct : 0) && t.runq_pct > (isNum(t.sleep_pct) ? t.sleep_pct : 0);
}

/* long: "CPU step 2 of task 812"; short (table cell): "CPU · task 812" */
export function doingText(d, short) {
  if (!d || !d.what) return NA;
  const task = isNum(d.task) ? `task ${d.task}` : '';
  const what = { idle: 'idle', cpu: 'CPU', io: 'I/O wait', wait: 'waiting', loop: 'event loop' }[d.what] || String(d.what);
  if (short) {
    if (d.what === 'idle' || !task) return what;
    return `${what} · ${task}${isNum(d.step) ? ` step ${d.step}` : ''}`;
  }
  const step = isNum(d.step) ? `step ${d.step}${task ? ' of ' : ''}` : '';
  if (d.what === 'idle' || (!task && !step)) return what;
  return `${what} ${step}${task}`;
}

/* The thread's waits on our locks (/stats lock_wait_pct, lock_wants; only
 * threads that take them have the fields): the answer to "why is this
 * thread sleeping". short (table cell): "lock wait 40% · on lock 0";
 * long: the same in a sentence. '' when it has no lock figures, or waited
 * under 0.5% and waits for none now (the cell stays quiet). */
export function lockWaitText(t, short) {
  const pct = t && isNum(t.lock_wait_pct) ? t.lock_wait_pct : null;
  const wants = t && isNum(t.lock_wants) && t.lock_wants >= 0 ? t.lock_wants : null;
  if (wants === null && (pct === null || pct < 0.5)) return '';
  const parts = [];
  if (short) {
    if (pct !== null) parts.push(`lock wait ${fmt(pct, 0)}%`);
    if (wants !== null) parts.push(`on lock ${wants}`);
    return parts.join(' · ');
  }
  if (pct !== null) parts.push(`waited for a lock ${fmt(pct, 1)}% of the last period (part of its sleeping share)`);
  if (wants !== null) parts.push(`blocked on lock ${wants} now`);
  return parts.join('; ');
}

export const STATE_NAMES = {
  R: 'running or runnable', S: 'sleeping (waiting for an event)', D: 'blocked in the kernel (uninterruptible)',
  T: 'stopped', t: 'stopped by a debugger', Z: 'zombie', X: 'dead', I: 'idle kernel thread'
};

/* list sorted by key (dir 1 ascending, -1 descending), n/a (null) always
 * last, ties in natural order; key null: natural order. val(t) reads the
 * value (default t[key]). A new array. */
export function sortThreads(list, key, dir, val) {
  const a = list.slice();
  if (!key) return a.sort(naturalCompare);
  const read = val || ((t) => (t[key] === undefined ? null : t[key]));
  return a.sort((x, y) => {
    const vx = read(x);
    const vy = read(y);
    if (vx === null && vy === null) return naturalCompare(x, y);
    if (vx === null) return 1;
    if (vy === null) return -1;
    const r = typeof vx === 'number' && typeof vy === 'number' ? vx - vy : String(vx).localeCompare(String(vy));
    return r !== 0 ? r * dir : naturalCompare(x, y);
  });
}
