/*
 * The timeline's model, no DOM: a step's wall time split into on a core
 * and not, the lanes (task-running threads, folded beyond MAX_LANES), the
 * window shown, the time grid's ticks, what an update left out (the note
 * and each lane's count) and each lane's tasks in flight. timeline.js
 * draws it.
 */

import { isNum, fmtInt } from './format.js';
import { naturalCompare } from './thread-info.js';

/* More lanes than this and the rest are folded into one. */
export const MAX_LANES = 48;

/* A step's wall time split into on a core and not (ms). cpu_us is the
 * thread's CPU clock across the step; null when the server did not send it. */
export function share(st) {
  const wall = isNum(st.end_ms) && isNum(st.start_ms) ? Math.max(0, st.end_ms - st.start_ms) : null;
  let cpu = isNum(st.cpu_us) ? st.cpu_us / 1000 : null;
  if (wall === null || cpu === null) return { wall, cpu, waiting: null, onShare: null, waitingShare: null };
  if (cpu > wall) cpu = wall;      // µs truncation at both ends
  const waiting = wall - cpu;
  return { wall, cpu, waiting, onShare: wall > 0 ? cpu / wall : 1, waitingShare: wall > 0 ? waiting / wall : 0 };
}

/* The lanes: the threads that run tasks (loop, workers) plus any other tid
 * seen in steps, in natural order; beyond maxLanes the rest share one
 * "N more threads" lane. Returns { lanes, laneOf (tid -> lane), byLane
 * (steps per lane), folded ({count, first, last} or null) }. */
export function buildLanes(threads, byTid, steps, maxLanes = MAX_LANES) {
  let lanes = threads.filter((th) => th.role === 'loop' || th.role === 'worker');
  const have = new Set(lanes.map((th) => th.tid));
  for (const { tid } of steps) {
    if (have.has(tid)) continue;
    have.add(tid);
    lanes.push(byTid.get(tid) || { tid, name: `tid ${tid}`, role: 'other', index: null });
  }
  lanes.sort(naturalCompare);
  let folded = null;
  if (lanes.length > maxLanes) {
    /* Keep the first lanes (loops, low workers); one lane carries the rest. */
    const rest = lanes.slice(maxLanes - 1);
    const names = rest.map((th) => th.name || String(th.tid));
    folded = { count: rest.length, first: names[0], last: names[names.length - 1] };
    lanes = lanes.slice(0, maxLanes - 1);
    lanes.push({ tid: -1, name: `${rest.length} more threads`, role: 'folded', index: null, folded: rest.map((th) => th.tid),
      tasks_in_flight: sum(rest, 'tasks_in_flight'), steps_left_out: sum(rest, 'steps_left_out') });
  }
  const laneOf = new Map();
  lanes.forEach((th, k) => {
    for (const tid of th.folded || [th.tid]) laneOf.set(tid, k);
  });
  const byLane = lanes.map(() => []);
  for (const st of steps) {
    const k = laneOf.get(st.tid);
    if (k !== undefined) byLane[k].push(st);
  }
  return { lanes, laneOf, byLane, folded };
}

/* The sum of k over list, null when no entry has it. */
function sum(list, k) {
  let n = null;
  for (const x of list) if (isNum(x[k])) n = (n || 0) + x[k];
  return n;
}

/* What this update left out, for the note: timeline.left_out (a newer
 * server: steps of the window, or lost since the last sample, that steps[]
 * does not carry) or else dropped when sampled; '' when nothing was. */
export function leftOutNote(t) {
  const n = isNum(t.left_out) ? t.left_out : (t.sampled ? t.dropped : 0);
  if (!isNum(n) || n <= 0) return '';
  return ` — sampled: ${fmtInt(n)} steps left out of this update to keep it bounded (each lane says how many of its own)`;
}

/* The text at a lane's right end: the tasks its thread holds now (the
 * loop: those waiting on its timers) and the steps this update left out
 * of its lane; '' when both are 0 or unknown. */
export function laneCountText(th) {
  const parts = [];
  if (isNum(th.tasks_in_flight) && th.tasks_in_flight > 0) parts.push(`${fmtInt(th.tasks_in_flight)} in flight`);
  if (isNum(th.steps_left_out) && th.steps_left_out > 0) parts.push(`${fmtInt(th.steps_left_out)} steps left out`);
  return parts.join(' · ');
}

export function laneHeight(n) { return Math.max(9, Math.min(22, Math.floor(560 / Math.max(1, n)))); }

/* [from, to] shown: what the server sent, or its last windowMs (0: all). */
export function viewWindow(sentFrom, to, windowMs) {
  let from = sentFrom;
  if (windowMs > 0 && to - windowMs > from) from = to - windowMs;
  return [from, to <= from ? from + 1 : to];
}

const TICK_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 30000, 60000];

/* A grid step (ms) that puts a tick every ~90 px or more. */
export function tickStep(spanMs, px) {
  const target = spanMs / Math.max(2, Math.floor(px / 90));
  return TICK_STEPS.find((s) => s >= target) || 120000;
}

export function fmtTick(ms, stepMs) {
  if (stepMs >= 1000) return `${ms / 1000} s`;
  if (stepMs >= 100 && ms >= 1000) return `${(ms / 1000).toFixed(1)} s`;
  return `${ms} ms`;
}
