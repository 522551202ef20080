/*
 * The thread table under --processes N: threads[] lists the threads of
 * every process (each with its pid); the table shows them grouped by
 * process, each group headed by a row naming the process (pid, role,
 * state, restarts) from processes[]. With one process nothing changes.
 *
 * Pure list work plus the header row's cells; the table (thread-table.js)
 * places the rows.
 */

import { isNum, fmt } from './format.js';
import { el } from './dom.js';

/* list (already in the table's order) with a header entry before each
 * process's threads, processes in processes[] order (the supervisor
 * first); one process: list as it is. Header entries have group: true and
 * a string tid ("p" + pid) that no thread has. */
export function withProcessHeaders(list, processes) {
  const pids = new Set(list.map((t) => t.pid));
  if (pids.size < 2) return list;
  const procs = Array.isArray(processes) ? processes : [];
  const order = procs.map((p) => p.pid).filter((pid) => pids.has(pid));
  for (const pid of pids) if (!order.includes(pid)) order.push(pid);
  const out = [];
  for (const pid of order) {
    const p = procs.find((x) => x.pid === pid) || { pid };
    const mine = list.filter((t) => t.pid === pid);
    out.push({ group: true, tid: 'p' + pid, pid, role: p.role, state: p.state,
      restarts: p.restarts, rps: p.requests_rate, count: mine.length });
    out.push(...mine);
  }
  return out;
}

function headText(g) {
  const parts = [(g.role || 'process') + ' ' + g.pid];
  if (g.state) parts.push(g.state);
  if (isNum(g.restarts)) parts.push(g.restarts + ' restart' + (g.restarts === 1 ? '' : 's'));
  parts.push(g.count + ' thread' + (g.count === 1 ? '' : 's'));
  if (isNum(g.rps) && g.role === 'worker') parts.push(fmt(g.rps, 0) + ' req/s');
  return parts.join(' · ');
}

/* A table row for a header entry, spanning ncols; refresh it with
 * updateGroupRow. Shaped like the table's own rows ({ tr, last }). */
export function groupRow(g, ncols) {
  const tr = el('tr', 'proc-group');
  tr.setAttribute('data-pid', String(g.pid));
  const td = el('td', 'txt');
  td.colSpan = ncols;
  tr.appendChild(td);
  return { tr, tds: [td], last: [null], role: 'group' };
}

export function updateGroupRow(row, g) {
  const s = headText(g);
  if (row.last[0] !== s) { row.last[0] = s; row.tds[0].textContent = s; }
}
