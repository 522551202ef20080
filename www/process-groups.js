/*
 * The thread table under --processes N, no DOM: threads[] lists the threads
 * of every process (each with its pid); the table shows them grouped by
 * process, each group headed by a row naming the process (pid, role,
 * state, restarts, threads, req/s) from processes[]. With one process the
 * list is left as it is. thread-table.js draws the header rows.
 */

import { isNum, fmt } from './format.js';

/* list (already in the table's order) with a header entry before each
 * process's threads, processes in processes[] order (the supervisor
 * first), pids that processes[] does not name after them; one process:
 * list itself. A header entry has group: true and a string tid ("p" +
 * pid) that no thread has, so the table can key its rows by tid. */
export function withProcessHeaders(list, processes) {
  const pids = new Set(list.map((t) => t.pid));
  if (pids.size < 2) return list;
  const procs = Array.isArray(processes) ? processes : [];
  const order = procs.map((p) => p.pid).filter((pid) => pids.has(pid));
  for (const pid of pids) if (!order.includes(pid)) order.push(pid);
  const byPid = new Map(order.map((pid) => [pid, []]));
  for (const t of list) byPid.get(t.pid).push(t);
  const out = [];
  for (const pid of order) {
    const p = procs.find((x) => x.pid === pid) || { pid };
    const mine = byPid.get(pid);
    out.push({ group: true, tid: `p${pid}`, pid, role: p.role, state: p.state,
      restarts: p.restarts, rps: p.requests_rate, count: mine.length });
    out.push(...mine);
  }
  return out;
}

/* The header row's text: "worker 4242 · running · 0 restarts · 4 threads
 * · 1,234 req/s" (req/s for workers only: the supervisor serves none). */
export function groupText(g) {
  const parts = [`${g.role || 'process'} ${g.pid}`];
  if (g.state) parts.push(g.state);
  if (isNum(g.restarts)) parts.push(`${g.restarts} restart${g.restarts === 1 ? '' : 's'}`);
  parts.push(`${g.count} thread${g.count === 1 ? '' : 's'}`);
  if (isNum(g.rps) && g.role === 'worker') parts.push(`${fmt(g.rps, 0)} req/s`);
  return parts.join(' · ');
}
