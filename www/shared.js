/*
 * The "Shared memory" panel (server.shared, doc/stats-json.md): the one
 * counter the race/atomic/lock steps increment, the updates lost to the
 * race — as a per-period series, so the steady loss of threads running in
 * parallel and the stair-steps of preemption on one core can be told
 * apart — the lock that hold:MS and lock:N take, and every deadlock the
 * observer found, drawn as a cycle on the threads involved (SVG). The
 * panel shows itself once a shared step has run or a deadlock exists; its
 * layout is shared-model.js's.
 */

import { $, el, setText } from './dom.js';
import { sharedUsed, sharedFacts, addPeriod, seriesBars, seriesFrame, deadlockCaption, cycleLayout, NODE_R, processCounters, cowLines } from './shared-model.js';
import { fmtInt } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';
const CHART_W = 600, CHART_H = 90;   // the lost series' box (viewBox units), its time ticks below
const FACTS = [['counter', 'sh-counter'], ['increments', 'sh-increments'], ['lost', 'sh-lost'],
  ['counter address / page', 'sh-addr'], ['lock 0: holder, waiters', 'sh-lock'], ['lock 0: contended, waited', 'sh-wait']];

let root = null;
const f = {};                   // the elements that change, by id
let series = [];                // [{ seq, lost, increments }], newest last
let cycleKey = null;            // the deadlocks drawn

function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

export function init() {
  root = $('panel-shared');
  root.hidden = true;
  const cap = el('p', 'caption');
  cap.innerHTML = 'Threads of one process share its memory. <code>race:N</code> steps increment one counter ' +
    'without synchronisation: when two threads interleave inside the read-modify-write, an update is ' +
    '<b>lost</b> (increments − counter). <code>atomic:N</code> and <code>lock:N</code> lose none; ' +
    '<code>hold:MS</code> holds the one lock, so the others queue, asleep. A <code>deadlock</code> is ' +
    'drawn as the cycle of threads waiting for each other.';
  const kv = el('dl', 'kv');
  for (const [label, id] of FACTS) {
    const dd = el('dd', '', 'n/a');
    dd.id = id;
    f[id] = dd;
    const d = el('div');
    d.append(el('dt', '', label), dd);
    kv.append(d);
  }
  const fig = el('figure', 'chart small');
  fig.append(el('figcaption', '', 'Lost updates per period (red bars; a blue one below the axis: the counter rose by more than was ' +
    'added, a late write putting back a higher value; the grey line is the period\'s increments, scaled)'));
  f.chart = svg('svg', { id: 'sh-lost-series', viewBox: `0 0 ${CHART_W} ${CHART_H + 16}`, width: '100%', height: CHART_H + 16,
    role: 'img', 'aria-label': 'lost updates per period' });
  fig.append(f.chart);
  f.deadlocks = el('div', 'sh-deadlocks');
  f.deadlocks.id = 'sh-deadlocks';
  /* --processes: one counter per process, at the same address. */
  f.procs = el('div', 'sh-procs');
  f.procs.id = 'sh-procs';
  f.procs.hidden = true;
  /* A fork's copy-on-write, as the kernel's pagemap showed it at start. */
  f.cow = el('div', 'sh-cow');
  f.cow.id = 'sh-cow';
  f.cow.hidden = true;
  root.replaceChildren(el('h2', '', 'Shared memory'), cap, kv, fig, f.procs, f.cow, f.deadlocks);
}

/* A restarted server: its counter and periods start again. */
export function reset() {
  series = [];
  cycleKey = null;
  if (f.cow) delete f.cow.dataset.drawn;   // a new process: its own probe
}

function drawSeries(periodMs) {
  const { bars, line, base } = seriesBars(series, CHART_W, CHART_H);
  const frame = seriesFrame(series, periodMs);
  const text = (x, y, anchor, t, cls) => svg('text', { x, y, 'text-anchor': anchor, 'font-size': 10, fill: '#6c757d', class: cls }, t);
  const kids = [svg('line', { x1: 0, x2: CHART_W, y1: base, y2: base, stroke: '#adb5bd', 'stroke-width': 1 })];
  for (const t of frame.ticks) {
    kids.push(text(t.f * CHART_W, CHART_H + 13, t.f === 0 ? 'start' : t.f === 1 ? 'end' : 'middle', t.text, 'sh-tick'));
  }
  if (frame.top) kids.push(text(2, 9, 'start', frame.top, 'sh-top'));
  if (frame.empty) kids.push(text(CHART_W / 2, CHART_H / 2, 'middle', frame.empty, 'sh-empty'));
  kids.push(...bars.map((b) => {
    const r = svg('rect', { x: b.x.toFixed(1), y: b.y.toFixed(1), width: b.width.toFixed(1), height: b.height.toFixed(1),
      class: 'sh-bar', fill: b.fill, 'data-lost': b.lost, 'data-seq': b.seq });
    r.append(svg('title', {}, b.title));
    return r;
  }));
  if (line) kids.push(svg('polyline', { points: line, fill: 'none', stroke: '#6c757d', 'stroke-width': 1 }));
  f.chart.replaceChildren(...kids);
}

function drawCycle(d, names) {
  const c = cycleLayout(d, names);
  const g = svg('svg', { viewBox: `0 0 ${c.width} ${c.height}`, width: c.width, height: c.height, class: 'sh-cycle-svg' });
  const m = svg('marker', { id: 'sh-arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7,
    markerHeight: 7, orient: 'auto-start-reverse' });
  m.append(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#c0392b' }));
  const defs = svg('defs');
  defs.append(m);
  g.append(defs);
  for (const a of c.arrows) {
    g.append(svg('path', { d: a.path, fill: 'none', stroke: '#c0392b', 'stroke-width': 2, 'marker-end': 'url(#sh-arrow)',
      class: 'sh-wait', 'data-from': a.from, 'data-to': a.to, 'data-lock': a.lock }));
    g.append(svg('text', { x: a.label.x, y: a.label.y, 'text-anchor': 'middle', 'font-size': 11, fill: '#c0392b' }, a.label.text));
  }
  for (const nd of c.nodes) {
    const node = svg('g', { class: 'sh-thread', 'data-tid': nd.tid });
    node.append(svg('circle', { cx: nd.x, cy: nd.y, r: NODE_R, fill: '#fdecea', stroke: '#c0392b', 'stroke-width': 1.5 }),
      svg('text', { x: nd.x, y: nd.y - 8, 'text-anchor': 'middle', 'font-size': 10, 'font-weight': 600 }, nd.name),
      svg('text', { x: nd.x, y: nd.y + 4, 'text-anchor': 'middle', 'font-size': 10 }, `tid ${nd.tid}`),
      svg('text', { x: nd.x, y: nd.y + 16, 'text-anchor': 'middle', 'font-size': 10 }, nd.holds));
    g.append(node);
  }
  const box = el('figure', 'sh-cycle');
  box.append(el('figcaption', '', deadlockCaption(d)), g);
  return box;
}

function drawDeadlocks(list, threads) {
  const key = JSON.stringify(list.map((d) => d.threads));
  if (key === cycleKey) {
    /* Only the ages change: refresh the captions. */
    f.deadlocks.querySelectorAll('figcaption').forEach((c, i) => setText(c, deadlockCaption(list[i])));
    return;
  }
  cycleKey = key;
  const names = new Map(threads.map((t) => [t.tid, t.name]));
  f.deadlocks.replaceChildren(...list.map((d) => drawCycle(d, names)));
}

function drawProcs(pc) {
  f.procs.hidden = !pc;
  if (!pc) return;
  const table = el('table', 'sh-procs-table');
  const head = el('tr');
  for (const h of ['process', 'pid', 'counter', 'virtual address', 'physical page']) head.append(el('th', '', h));
  table.append(head);
  for (const r of pc.rows) {
    const tr = el('tr');
    tr.dataset.pid = r.pid;
    tr.append(el('td', '', r.role), el('td', '', String(r.pid)), el('td', 'num sh-proc-counter', fmtInt(r.counter)),
      el('td', '', r.addr), el('td', '', r.page === null ? 'hidden' : String(r.page)));
    table.append(tr);
  }
  const sum = el('tr', 'sh-procs-sum');
  sum.append(el('td', '', 'workers, summed'), el('td', '', ''), el('td', 'num', fmtInt(pc.sum)), el('td', '', ''), el('td', '', ''));
  sum.id = 'sh-procs-sum';
  sum.dataset.sum = pc.sum;
  table.append(sum);
  const note = pc.sameAddr
    ? `One virtual address in every process, ${pc.pagesDiffer === true ? 'a different physical page behind it in each'
      : pc.pagesDiffer === false ? 'the same physical page' : 'the physical pages hidden (not root)'}: each process counts on its own.`
    : 'The processes\' counters sit at different addresses.';
  f.procs.replaceChildren(el('h3', '', 'Each process\'s counter'), table, el('p', 'caption', note));
}

function drawCow(cow) {
  const c = cowLines(cow);
  f.cow.hidden = !c;
  if (!c || f.cow.dataset.drawn) return;   // measured once, at start
  f.cow.dataset.drawn = '1';
  f.cow.dataset.shared = String(c.shared);
  const list = el('ul');
  for (const k of ['parent', 'before', 'after']) list.append(el('li', `sh-cow-${k}`, c[k]));
  f.cow.replaceChildren(el('h3', '', 'Copy-on-write after a fork (measured at start, /proc/PID/pagemap)'), list);
}

export function render(s, view) {
  const sh = s.server && s.server.shared;
  if (!sh) { root.hidden = true; return; }
  const pc = processCounters(s.processes);
  const used = sharedUsed(sh) || (pc !== null && pc.rows.some((r) => r.counter > 0));
  root.hidden = !used;
  series = addPeriod(series, s.seq, sh.period);
  if (!used) return;
  for (const [id, text] of Object.entries(sharedFacts(sh))) setText(f[id], text);
  drawSeries(s.period_ms);
  drawProcs(pc);
  drawCow(sh.fork_cow);
  drawDeadlocks(sh.deadlocks, view.threads);
}
