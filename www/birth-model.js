/*
 * The thread-birth panel's model, no DOM: the threads of each process in
 * order of creation, on one time axis from the process's first thread
 * (the main thread), each with its create -> first-run gap scaled to the
 * largest gap we measured both ends of. birth.js draws it.
 */

import { isNum, fmt } from './format.js';

const ROLE_ORDER = { loop: 0, observer: 1, worker: 2, libuv: 3, other: 4 };

/* "310 µs", "2.45 ms", "12.3 ms". */
export function fmtBirthMs(ms) {
  if (ms < 1) return `${fmt(ms * 1000, 0)} µs`;
  return `${fmt(ms, ms < 10 ? 2 : 1)} ms`;
}

export function birthLabel(t) {
  if (t.role === 'worker' && isNum(t.index)) return `worker ${t.index}`;
  if (t.role === 'loop') return isNum(t.index) && t.index > 0 ? `loop ${t.index}` : 'main (loop 0)';
  if (t.role === 'libuv') return t.name || 'libuv';
  if (t.tid === t.pid) return 'main';
  return t.name || String(t.tid);
}

/* When t was born: its creation, or its first run when that is all we have. */
const born = (t) => (isNum(t.created_ns) ? t.created_ns : t.first_run_ns);

/* What the panel depends on: the threads and their birth (which never
 * moves), so a steady update is one string comparison. */
export function birthKey(threads) {
  return threads.map((t) => `${t.tid}:${t.created_ns}:${t.first_run_ns}`).join(',');
}

/* Threads with a birth time grouped by pid (in order of first appearance:
 * the process that serves /stats first), each group in order of creation,
 * ties in natural order (loop, observer, workers by index, libuv). */
export function birthGroups(threads) {
  const byPid = new Map();
  for (const t of threads) {
    if (!isNum(t.created_ns) && !isNum(t.first_run_ns)) continue;
    const pid = isNum(t.pid) ? t.pid : 0;
    if (!byPid.has(pid)) byPid.set(pid, []);
    byPid.get(pid).push(t);
  }
  for (const list of byPid.values()) {
    list.sort((a, b) => born(a) - born(b) || (ROLE_ORDER[a.role] ?? 9) - (ROLE_ORDER[b.role] ?? 9) ||
      (a.index ?? 0) - (b.index ?? 0));
  }
  return [...byPid.entries()];
}

function gapOf(t, maxGap) {
  if (!isNum(t.created_ns) || !isNum(t.first_run_ns)) {
    return { width: null, clipped: false, kernel: t.created_by === 'kernel',
      text: t.created_by === 'kernel' ? 'not ours: the kernel\'s start time (10 ms ticks); its first run is not recorded' : 'n/a' };
  }
  const gap = t.first_run_ns - t.created_ns;
  const kernel = t.created_by === 'kernel';
  /* At least 1% so that a gap is seen; the main thread's (kernel) gap may
   * pass the scale: clipped at 100%, and said so. */
  const width = maxGap > 0 ? Math.min(100, Math.max(1, (100 * gap) / maxGap)) : 0;
  return { width, clipped: gap > maxGap, kernel, text: fmtBirthMs(gap / 1e6) + (kernel ? ' from the kernel\'s start (exec, loader) to main()' : '') };
}

/* One box per process: { pid, title, ticks: [{ tid, role, left (% of
 * the axis), title }], rows: [{ t, name, created, firstRun, gap: { width
 * (% of the largest measured gap, null: none), clipped (longer than the
 * scale), kernel, text } }] }. */
export function birthLayout(threads, processes) {
  const procs = Array.isArray(processes) ? processes : [];
  return birthGroups(threads).map(([pid, list]) => {
    const t0 = Math.min(...list.map(born));
    const tEnd = Math.max(...list.map((t) => Math.max(t.created_ns || 0, t.first_run_ns || 0)));
    const span = tEnd - t0;
    /* The scale: gaps we measured both ends of (not the main thread's,
     * whose start is the kernel's, before exec and the dynamic loader). */
    const gaps = list.filter((t) => t.created_by === 'creator' && isNum(t.created_ns) && isNum(t.first_run_ns))
      .map((t) => t.first_run_ns - t.created_ns);
    const maxGap = gaps.length ? Math.max(...gaps) : 0;
    const p = procs.find((x) => x.pid === pid);
    const since = (ns) => fmtBirthMs((ns - t0) / 1e6);
    return {
      pid,
      title: `${p ? `${p.role} ${pid}` : `process ${pid}`} — ${list.length} threads over ${fmtBirthMs(span / 1e6)}`,
      ticks: list.map((t) => ({ tid: t.tid, role: t.role, left: span > 0 ? (100 * (born(t) - t0)) / span : 0,
        title: `${birthLabel(t)}: created ${since(born(t))} after the process started` })),
      rows: list.map((t) => ({ t, name: birthLabel(t),
        created: isNum(t.created_ns) ? `created +${since(t.created_ns)}` : 'created n/a',
        firstRun: isNum(t.first_run_ns) ? `first ran +${since(t.first_run_ns)}` : 'first run n/a',
        gap: gapOf(t, maxGap) })),
    };
  });
}
