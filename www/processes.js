/*
 * The process panels: the hierarchy (one box per entry of processes[]: pid,
 * role, state, RSS/PSS/USS, CPU, restarts, the last exit in red), the costs
 * of a process next to a thread (costs: creation, memory, a message there and
 * back), and the per-loop table (server.loops[], shown only with more than
 * one loop).
 *
 * A worker's death is drawn as it happens: the box turns red (class
 * died-now) while its slot is restarting and for a few seconds after, then
 * shows the replacement's pid beside the dead one's.
 */

/* How long a box stays red after its worker died. */
const RED_FOR_S = 5;

import { NA, isNum, fmt, fmtInt, fmtPct } from './format.js';
import { $, el, setText } from './dom.js';

let procBox = null;

export function init() { procBox = $('processes'); }
const boxes = new Map();           // key (role:index:pid slot) -> { root, parts }
let costsKey = null;

function kb(v) {
  if (!isNum(v)) return NA;
  if (v >= 1048576) return `${fmt(v / 1048576, 2)} GiB`;
  if (v >= 1024) return `${fmt(v / 1024, 1)} MiB`;
  return `${fmt(v, 0)} KiB`;
}
function us(v) { return isNum(v) ? (v >= 1000 ? `${fmt(v / 1000, 2)} ms` : `${fmt(v, 1)} µs`) : NA; }

function procKey(p) { return p.role === 'worker' && isNum(p.index) ? `w${p.index}` : `${p.role}:${p.pid}`; }

function makeBox() {
  const root = el('div', 'proc');
  const parts = {};
  ['head', 'state', 'new', 'mem', 'cpu', 'work', 'shared', 'restarts', 'exit'].forEach(k => {
    parts[k] = el('div', `proc-${k}`);
    root.appendChild(parts[k]);
  });
  return { root, parts };
}

/* Each process's own race counter (processes[].shared), once a shared step
 * counted in any of them: the same virtual address in every process, a
 * different value and (as root) a different physical page — processes do
 * not share memory. '' before that, or without the figures. */
function sharedText(p, list) {
  const sh = p.shared;
  if (!sh || !list.some(x => x.shared && isNum(x.shared.counter) && x.shared.counter > 0)) return '';
  const page = isNum(sh.counter_page) ? `physical page ${sh.counter_page}` : 'physical page hidden by the kernel';
  return `shared counter ${fmtInt(sh.counter)} at ${sh.counter_addr || NA} (${page})`;
}

export function render(s) {
  const list = Array.isArray(s.processes) ? s.processes : [];
  const seen = new Set();

  list.forEach((p, i) => {
    const key = procKey(p);
    seen.add(key);
    let b = boxes.get(key);
    if (!b) { b = makeBox(); boxes.set(key, b); }
    if (b.root.parentNode !== procBox || procBox.children[i] !== b.root) procBox.insertBefore(b.root, procBox.children[i] || null);
    const e = p.last_exit;
    const justDied = p.state === 'restarting' || !p.pid || (e && isNum(e.ago_s) && e.ago_s < RED_FOR_S);
    const cls = ['proc', `role-${p.role}`, e && 'died', p.state === 'restarting' && 'restarting', justDied && e && 'died-now']
      .filter(Boolean).join(' ');
    if (b.root.className !== cls) b.root.className = cls;
    b.root.setAttribute('data-pid', String(p.pid));
    setText(b.parts.head, `${p.role + (isNum(p.index) ? ` ${p.index}` : '')} · pid ${p.pid ? p.pid : '—'}`);
    const ready = isNum(p.ready_ms) ? ` · ready in ${fmt(p.ready_ms, 1)} ms` : '';
    const nth = isNum(p.nthreads) ? `${p.nthreads} thread${p.nthreads === 1 ? '' : 's'}` : NA;
    setText(b.parts.state, `${p.state || NA} · up ${fmt(p.uptime_s, 1)} s${ready} · ${nth}`);
    setText(b.parts.mem, `RSS ${kb(p.rss_kb)} · PSS ${kb(p.pss_kb)} · USS ${kb(p.uss_kb)}`);
    setText(b.parts.cpu, `CPU ${fmtPct(p.cpu_pct)} (${fmt(p.cpu_s, 2)} s) · ` +
      `switches ${fmtInt(p.ctx_voluntary)} vol / ${fmtInt(p.ctx_involuntary)} invol`);
    setText(b.parts.work, isNum(p.requests) || isNum(p.connections_open)
      ? `${fmtInt(p.connections_open)} connections open · ${fmtInt(p.requests)} requests · ` +
        `${fmtInt(p.tasks_in_flight)} tasks in flight`
      : '');
    setText(b.parts.shared, sharedText(p, list));
    setText(b.parts.restarts, isNum(p.restarts) && (p.role === 'worker' || p.restarts > 0) ? `restarts ${p.restarts}` : '');
    setText(b.parts.new, e && p.pid && p.pid !== e.pid
      ? `replaced: pid ${e.pid} died → new pid ${p.pid}${isNum(p.ready_ms) ? `, serving after ${fmt(p.ready_ms, 1)} ms` : ''}`
      : e && !p.pid ? `pid ${e.pid} died · restarting…` : '');
    setText(b.parts.exit, e ? `last exit: pid ${e.pid} ${e.how || '?'}, ${fmt(e.ago_s, 1)} s ago; ` +
      `lost ${fmtInt(e.connections_lost)} connections, ${fmtInt(e.tasks_lost)} tasks` : '');
  });

  boxes.forEach((b, key) => { if (!seen.has(key)) { b.root.remove(); boxes.delete(key); } });
  const t = s.process_totals;
  setText($('process-totals'), t && t.supervised
    ? `supervised: ${fmtInt(t.deaths)} worker death${t.deaths === 1 ? '' : 's'} · ${fmtInt(t.accepted)} connections accepted · ` +
      `${fmtInt(t.requests)} requests (all workers, the dead ones included)`
    : list.length === 1 ? 'one process (start with --processes N for a supervisor and N worker processes)' : '');
  renderCosts(s.costs);
  renderLoops(get2(s, 'server', 'loops'));
}

function get2(o, a, b) { return o && o[a] ? o[a][b] : null; }

/* Each comparison: a process figure against a thread figure, two bars on one scale. */
function renderCosts(c) {
  const box = $('costs');
  const key = c ? JSON.stringify(c) : 'none';
  if (key === costsKey) return;
  costsKey = key;
  box.textContent = '';
  if (!c || !c.measured) {
    box.appendChild(el('p', 'note', c ? 'the probe process has not measured yet' : 'not measured yet (the probe reports shortly after start)'));
    return;
  }
  const rows = [
    ['creation', 'fork() until the child runs', c.fork_to_ready_us, 'pthread_create() until the thread runs', c.pthread_create_to_running_us, us],
    /* Like with like: the private memory (smaps_rollup) a started, waiting process / thread adds. */
    ['memory', 'private memory a new process adds (started, waiting; smaps_rollup)', c.process_private_added_kb,
      'private memory a new thread adds (started, waiting; smaps_rollup)', c.thread_private_added_kb, kb],
    ['a message there and back', 'between 2 processes (socketpair)', c.ipc_socketpair_round_trip_us, 'between 2 threads (shared memory, mutex + condvar)', c.shm_condvar_handoff_round_trip_us, us]
  ];
  rows.forEach(r => {
    const g = el('div', 'cost-group');
    g.setAttribute('data-cost', r[0]);
    const ratio = isNum(r[2]) && isNum(r[4]) && r[4] > 0 ? ` — process ÷ thread = ${fmt(r[2] / r[4], r[2] / r[4] >= 10 ? 0 : 1)}×` : '';
    g.appendChild(el('div', 'cost-title', r[0] + ratio));
    const max = Math.max(isNum(r[2]) ? r[2] : 0, isNum(r[4]) ? r[4] : 0);
    [[r[1], r[2], 'c-proc'], [r[3], r[4], 'c-thread']].forEach(x => {
      const line = el('div', `cost-row ${x[2]}`);
      line.appendChild(el('span', 'cost-label', x[0]));
      const track = el('span', 'cost-track');
      const bar = el('i');
      bar.style.width = isNum(x[1]) && max > 0 ? `${Math.max(0.5, x[1] * 100 / max).toFixed(1)}%` : '0';
      track.appendChild(bar);
      line.appendChild(track);
      line.appendChild(el('span', 'cost-val', r[5](x[1])));
      g.appendChild(line);
    });
    box.appendChild(g);
  });
  box.appendChild(el('p', 'note', `medians of ${fmtInt(c.repetitions)} repetitions, measured ${fmt(c.collected_at_uptime_s, 1)} s ` +
    'after start; the probe runs at nice 19, so on a busy machine it waits for a core and its figures grow'));
}

const loopRows = new Map();
function renderLoops(loops) {
  const panel = $('panel-loops');
  const list = Array.isArray(loops) ? loops : [];
  panel.hidden = list.length <= 1;
  if (panel.hidden) return;
  const body = $('loops-body');
  const seen = new Set();
  list.forEach((l, i) => {
    seen.add(l.index);
    let r = loopRows.get(l.index);
    if (!r) {
      r = { tr: el('tr'), tds: [] };
      for (let k = 0; k < 8; k++) { const td = el('td'); r.tds.push(td); r.tr.appendChild(td); }
      loopRows.set(l.index, r);
    }
    if (body.children[i] !== r.tr) body.insertBefore(r.tr, body.children[i] || null);
    const lag = l.lag_ms || {};
    const v = [String(l.index), isNum(l.tid) ? String(l.tid) : NA, fmtInt(l.connections && l.connections.open),
      fmtInt(l.connections && l.connections.accepted), fmt(l.requests && l.requests.rate, 0),
      fmt(lag.p50, 2), fmt(lag.p99, 2), fmt(l.utilization_pct, 1)];
    for (let j = 0; j < 8; j++) setText(r.tds[j], v[j]);
  });
  loopRows.forEach((r, idx) => { if (!seen.has(idx)) { r.tr.remove(); loopRows.delete(idx); } });
}
