/*
 * Thread birth: how each process started its threads. For every thread,
 * when its creator asked for it (created_ns) and when it first ran
 * (first_run_ns, read by the thread itself): a created thread is only
 * runnable, the scheduler decides when it runs, and the gap between the
 * two is that decision. A strip per process places each creation on one
 * time axis (from the main thread's start); a row per thread gives the
 * times and draws its create -> first-run gap on a common scale. Threads we
 * did not create (libuv's pool, the main thread's exec) carry the kernel's
 * start time (10 ms clock ticks) and no first run: said as such.
 *
 * Contract: init(root) once, render(snapshot) per update; nothing is
 * touched in the DOM outside those calls. Rows are kept by tid and only
 * rebuilt when the set of threads or their birth changes (births do not
 * move), so a steady update costs a comparison of keys.
 */

import { isNum, fmt } from './format.js';
import { el } from './dom.js';

const ROLE_ORDER = { loop: 0, observer: 1, worker: 2, libuv: 3, other: 4 };

let root = null;
let lastKey = '';

export function init(container) {
  root = container;
  lastKey = '';
}

const since = (ns, t0) => (ns - t0) / 1e6;            // ms after the process's start
const fmtMs = (ms) => (ms < 1 ? fmt(ms * 1000, 0) + ' µs' : fmt(ms, ms < 10 ? 2 : 1) + ' ms');

function label(t) {
  if (t.role === 'worker' && isNum(t.index)) return 'worker ' + t.index;
  if (t.role === 'loop') return isNum(t.index) && t.index > 0 ? 'loop ' + t.index : 'main (loop 0)';
  if (t.role === 'libuv') return t.name || 'libuv';
  if (t.tid === t.pid) return 'main';
  return t.name || String(t.tid);
}

/* Threads grouped by process (the one that serves /stats first), each
 * group in order of creation. */
function groups(threads) {
  const byPid = new Map();
  for (const t of threads) {
    if (!isNum(t.created_ns) && !isNum(t.first_run_ns)) continue;
    const pid = isNum(t.pid) ? t.pid : 0;
    if (!byPid.has(pid)) byPid.set(pid, []);
    byPid.get(pid).push(t);
  }
  const born = (t) => (isNum(t.created_ns) ? t.created_ns : t.first_run_ns);
  for (const list of byPid.values()) {
    list.sort((a, b) => born(a) - born(b) || (ROLE_ORDER[a.role] ?? 9) - (ROLE_ORDER[b.role] ?? 9) ||
      (a.index ?? 0) - (b.index ?? 0));
  }
  return [...byPid.entries()];
}

function processTitle(pid, procs) {
  const p = (procs || []).find((x) => x.pid === pid);
  return p ? p.role + ' ' + pid : 'process ' + pid;
}

function drawStrip(list, t0, span) {
  const strip = el('div', 'birth-strip');
  for (const t of list) {
    const at = isNum(t.created_ns) ? t.created_ns : t.first_run_ns;
    const mark = el('i', 'birth-tick role-' + t.role);
    mark.style.left = (span > 0 ? (100 * (at - t0)) / span : 0).toFixed(2) + '%';
    mark.title = label(t) + ': created ' + fmtMs(since(at, t0)) + ' after the process started';
    strip.appendChild(mark);
  }
  return strip;
}

function drawRow(t, t0, maxGap) {
  const row = el('div', 'birth-row role-' + t.role);
  row.dataset.tid = String(t.tid);
  row.dataset.pid = String(t.pid);
  row.dataset.role = t.role;
  if (isNum(t.index)) row.dataset.index = String(t.index);
  if (isNum(t.created_ns)) row.dataset.created = String(t.created_ns);
  if (isNum(t.first_run_ns)) row.dataset.firstRun = String(t.first_run_ns);
  row.appendChild(el('span', 'birth-name', label(t)));
  row.appendChild(el('span', 'birth-at', isNum(t.created_ns)
    ? 'created +' + fmtMs(since(t.created_ns, t0)) : 'created n/a'));
  row.appendChild(el('span', 'birth-at', isNum(t.first_run_ns)
    ? 'first ran +' + fmtMs(since(t.first_run_ns, t0)) : 'first run n/a'));
  const gapCell = el('span', 'birth-gap');
  if (isNum(t.created_ns) && isNum(t.first_run_ns)) {
    const gap = t.first_run_ns - t.created_ns;
    const bar = el('i', t.created_by === 'kernel' ? 'kernel' : null);
    bar.style.width = (maxGap > 0 ? Math.min(100, Math.max(1, (100 * gap) / maxGap)) : 0).toFixed(1) + '%';
    gapCell.appendChild(bar);
    gapCell.appendChild(el('small', null, fmtMs(gap / 1e6) + (t.created_by === 'kernel' ? ' from the kernel\'s start (exec, loader) to main()' : '')));
    gapCell.title = 'created -> first run: runnable, waiting for the scheduler to run it';
  } else {
    gapCell.appendChild(el('small', null, t.created_by === 'kernel'
      ? 'not ours: the kernel\'s start time (10 ms ticks); its first run is not recorded' : 'n/a'));
  }
  row.appendChild(gapCell);
  return row;
}

export function render(s) {
  if (!root) return;
  const threads = Array.isArray(s.threads) ? s.threads : [];
  const key = threads.map((t) => t.tid + ':' + t.created_ns + ':' + t.first_run_ns).join(',');
  if (key === lastKey) return;
  lastKey = key;
  const frag = document.createDocumentFragment();
  const gs = groups(threads);
  if (gs.length === 0) frag.appendChild(el('p', 'note', 'no thread birth times in this snapshot'));
  for (const [pid, list] of gs) {
    const t0 = Math.min(...list.map((t) => (isNum(t.created_ns) ? t.created_ns : t.first_run_ns)));
    const tEnd = Math.max(...list.map((t) => Math.max(t.created_ns || 0, t.first_run_ns || 0)));
    /* The scale: gaps we measured both ends of (not the main thread's,
     * whose start is the kernel's, before exec and the dynamic loader). */
    const gaps = list.filter((t) => t.created_by === 'creator' && isNum(t.first_run_ns))
      .map((t) => t.first_run_ns - t.created_ns);
    const maxGap = gaps.length ? Math.max(...gaps) : 0;
    const box = el('div', 'birth-proc');
    box.dataset.pid = String(pid);
    box.appendChild(el('h3', null, processTitle(pid, s.processes) + ' — ' + list.length +
      ' threads over ' + fmtMs((tEnd - t0) / 1e6)));
    box.appendChild(drawStrip(list, t0, tEnd - t0));
    for (const t of list) box.appendChild(drawRow(t, t0, maxGap));
    frag.appendChild(box);
  }
  root.replaceChildren(frag);
}
