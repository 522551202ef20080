/*
 * The "Lab: child server" panel: while a Lab variant runs in a child
 * threadlab (one the lab started for --processes, --allow-crash or
 * --allow-deadlock), its picture as the lab reads it — GET
 * /lab/child/stats, the child's own /stats plus `lab_child` (what the lab
 * saw: pid, alive, exit, requests since the trigger, a race's lost
 * updates). Its processes one row each (a crashed or deadlocked worker
 * shows its restarts and last exit; each process's counter, its address
 * and physical page), its deadlocks. Hidden when no child runs (the
 * endpoint answers null). Asks every 2 s, every second while a child runs;
 * the snapshots of this server are not involved.
 */

import { $, el, setText } from './dom.js';
import { fmt, fmtInt, isNum, NA } from './format.js';
import { getJSON } from './api.js';

let root = null, head = null, facts = null, rows = null, deadlocks = null;
let timer = null, busy = false;
let last = null; // the last child snapshot shown, for tests

const COLS = ['pid', 'role', 'state', 'restarts', 'last exit', 'requests', 'counter', 'counter address', 'physical page'];

export function init() {
  root = $('panel-lab-child');
  root.hidden = true;
  root.append(el('h2', null, 'Lab: child server'));
  const cap = el('p', 'caption');
  cap.textContent = 'A variant whose setup needs a restart (--processes, --allow-crash, --allow-deadlock) runs in a ' +
    'second threadlab the Lab started for it on free loopback ports; wrk loads it, and this is its own /stats ' +
    'as the Lab reads it. It is stopped when the variant ends.';
  head = el('p', 'note');
  facts = el('p', 'note');
  const table = el('table', 'lab-child-procs');
  const tr = el('tr');
  for (const c of COLS) tr.append(el('th', null, c));
  const thead = el('thead');
  thead.append(tr);
  rows = el('tbody');
  table.append(thead, rows);
  deadlocks = el('p', 'note');
  head.id = 'lab-child-head';
  facts.id = 'lab-child-facts';
  rows.id = 'lab-child-rows';
  deadlocks.id = 'lab-child-deadlocks';
  root.append(cap, head, facts, table, deadlocks);
  schedule(2000);
}

function schedule(ms) {
  clearTimeout(timer);
  timer = setTimeout(poll, ms);
}

async function poll() {
  if (busy) return;
  busy = true;
  let s = null;
  try { s = await getJSON('/lab/child/stats'); } catch { s = null; }
  busy = false;
  show(s && typeof s === 'object' ? s : null);
  /* In the Lab's focused view a child starts at any moment and crashes 1 s
   * into its load: look every 500 ms there, or its start and crash pass
   * unseen; elsewhere every 2 s is enough to notice one. */
  schedule(s ? 1000 : document.body.classList.contains('lab-focused') ? 500 : 2000);
}

function show(s) {
  last = s;
  if (!s) { root.hidden = true; return; }
  root.hidden = false;
  const lc = s.lab_child || {};
  const srv = s.server || {};
  setText(head, `pid ${lc.pid} · ${srv.mode || NA} mode, ${fmtInt(srv.threads)} worker thread(s) per process · ` +
    (lc.alive ? 'answering' : `not answering${lc.exit ? ` (${lc.exit})` : ''}`));
  const parts = [];
  if (lc.triggered) parts.push(`since the trigger: ${fmtInt(lc.requests_after_trigger)} requests, ` +
    `${isNum(lc.rps_after_trigger) ? fmt(lc.rps_after_trigger, 0) : NA} req/s`);
  if (lc.race) parts.push(`race: ${fmtInt(lc.race.increments)} increments, ${fmtInt(lc.race.counted)} counted, ` +
    `${fmtInt(lc.race.lost)} lost`);
  setText(facts, parts.join(' · '));
  const procs = Array.isArray(s.processes) ? s.processes : []; // the child's
  while (rows.children.length > procs.length) rows.lastChild.remove();
  while (rows.children.length < procs.length) {
    const tr = el('tr');
    for (let i = 0; i < COLS.length; i++) tr.append(el('td'));
    rows.append(tr);
  }
  procs.forEach((p, i) => {
    const sh = p.shared || (p.role === 'server' ? srv.shared : null) || {};
    /* The child died: its rows are its last /stats, taken while it ran;
     * its own row says how it ended, not "running". */
    const gone = !lc.alive && p.pid === lc.pid;
    const cells = [String(p.pid), p.role || NA, gone ? 'exited' : p.state || NA, isNum(p.restarts) ? String(p.restarts) : '',
      gone ? lc.exit || 'exited' : p.last_exit ? p.last_exit.how : '', isNum(p.requests) ? fmtInt(p.requests) : '',
      isNum(sh.counter) ? fmtInt(sh.counter) : '', sh.counter_addr || '',
      isNum(sh.counter_page) ? String(sh.counter_page) : ''];
    const tds = rows.children[i].children;
    cells.forEach((c, k) => setText(tds[k], c));
  });
  const dl = srv.shared && Array.isArray(srv.shared.deadlocks) ? srv.shared.deadlocks : [];
  setText(deadlocks, dl.length ? dl.map((d) => 'deadlock: ' + d.threads.map((t) =>
    `thread ${t.tid} holds ${t.holds.join(',')} wants ${t.wants}`).join(', ')).join('; ') : '');
}

/* Drawn from its own requests, not from this server's snapshots. */
export function render() {}

/* For tests: the child snapshot the panel shows (null: hidden). */
export function labChildModel() { return last; }
