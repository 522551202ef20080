/*
 * The Lab panel's words and figures (no DOM): an experiment's setup and
 * prediction, a run's progress, the evidence values.
 */

import { fmt } from './format.js';

/* Figures as the rest of the dashboard writes them (thousands separated):
 * whole numbers without decimals, others 2 decimals under 10, 1 under 100,
 * none above; digits forces a count. 'n/a' for what is not a number. */
export function labNum(v, digits) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  const d = digits !== undefined ? digits : Number.isInteger(v) || a >= 100 ? 0 : a >= 10 ? 1 : 2;
  return fmt(v, d);
}

/* Any evidence value: numbers as labNum, lists joined, null as n/a. */
export function show(v) {
  if (v === null || v === undefined) return 'n/a';
  if (Array.isArray(v)) return v.map(show).join(', ');
  if (typeof v === 'number') return labNum(v);
  return String(v);
}

/* A setup asked for, in words: { mode: 'pool', threads: 4, cpus:
 * 'first', pin: false } -> "pool, 4 workers, on the first CPU, not
 * pinned". */
export function setupText(s) {
  if (!s) return '';
  const parts = [];
  if (s.mode !== undefined) parts.push(s.mode);
  if (s.threads !== undefined) parts.push(s.threads === 'cores' ? 'a worker per core' : `${s.threads} workers`);
  if (s.cpus !== undefined) parts.push(s.cpus === 'first' ? 'on the first CPU' : s.cpus === 'all' ? 'on every CPU' : `on CPUs ${s.cpus}`);
  if (s.pin !== undefined) parts.push(s.pin ? 'pinned' : 'not pinned');
  if (s.mode === 'coro' && s.coro_slice_ms !== undefined) parts.push(sliceText(s.coro_slice_ms));
  if (s.processes !== undefined) parts.push(processesText(s.processes));
  return parts.join(', ');
}

function sliceText(ms) {
  return ms ? `a coroutine yields every ${ms} ms of CPU` : 'a coroutine never yields';
}

/* --processes 0 (or none) is one process, not "0 processes". */
function processesText(n) {
  return n ? `${n} worker process${n === 1 ? '' : 'es'}` : 'one process';
}

/* The settings read back after a variant's setup, in words: the slice
 * only in coro mode (elsewhere it changes nothing), --processes 0 as one
 * process. */
export function settingsWords(s) {
  if (!s) return '';
  const parts = [];
  if (s.mode !== undefined) parts.push(s.mode);
  if (s.threads !== undefined) parts.push(`${s.threads} workers`);
  if (s.worker_cpus !== undefined) parts.push(`on CPUs ${s.worker_cpus}`);
  if (s.pin !== undefined) parts.push(s.pin ? 'pinned' : 'not pinned');
  if (s.mode === 'coro' && s.coro_slice_ms !== undefined && s.coro_slice_ms !== null) parts.push(sliceText(s.coro_slice_ms));
  if (s.processes !== undefined && s.processes !== null) parts.push(processesText(s.processes));
  return parts.join(', ');
}

export function predictionText(x) {
  if (x.predicted === null || x.predicted === undefined) return 'qualitative';
  return `${x.bound ? '> ' : ''}${labNum(x.predicted)}${x.measured === 'rps' ? ' req/s' : ''}`;
}

export function progressText(p) {
  return `${p.id}: ${labNum(p.elapsed_s, 1)} s, ${labNum(p.left_s, 1)} s left, ` +
    `${labNum(p.rps_so_far)} req/s so far (server counters)`;
}

/* Percent of the run done, 0..100. */
export function progressPct(p) {
  const total = p.elapsed_s + p.left_s;
  return total > 0 ? Math.min(100, (100 * p.elapsed_s) / total) : 0;
}

/* A chart's category label on lines of about width characters (split at
 * spaces; a longer word keeps its own line): bars side by side keep their
 * labels level instead of tilted over each other. One line: the string. */
export function wrapLabel(text, width = 16) {
  const lines = [];
  for (const w of String(text).split(/\s+/).filter(Boolean)) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + w.length <= width) lines[last] += ` ${w}`;
    else lines.push(w);
  }
  return lines.length > 1 ? lines : lines[0] || '';
}

/* A legend entry cut to fit maxPx (at about pxPerChar a character, the
 * legend's 12 px font): whole words and an ellipsis. Chart.js draws a long
 * entry centred and clipped at both ends, so the two variants of a run read
 * ", 4 workers (child server, --allow-deadlock)" and "-processes 2, ...",
 * their colour boxes out of view; the tooltip keeps the whole label. */
export function legendText(text, maxPx, pxPerChar = 6.5) {
  const t = String(text);
  const max = Math.max(8, Math.floor(maxPx / pxPerChar));
  if (t.length <= max) return t;
  const cut = t.slice(0, max - 1);
  const sp = cut.lastIndexOf(' ');
  return `${(sp > max / 2 ? cut.slice(0, sp) : cut).replace(/[\s,;:(-]+$/, '')}…`;
}
