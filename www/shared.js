/*
 * The "Shared memory" panel (server.shared, doc/stats-json.md): the one
 * counter the race/atomic/lock steps increment, the updates lost to the
 * race — as a per-period series, so the steady loss of threads running in
 * parallel and the stair-steps of preemption on one core can be told
 * apart — the lock that hold:MS and lock:N take, and every deadlock the
 * observer found, drawn as a cycle on the threads involved.
 *
 * Contract: init(root) builds the panel inside root (nothing happens on
 * import); render(snapshot) updates it. The panel shows itself once a
 * shared step has run or a deadlock exists.
 */

const HISTORY = 120;            // periods of the lost series
const SVG = 'http://www.w3.org/2000/svg';

const state = {
  root: null,
  f: {},                        // named elements
  series: [],                   // [{seq, lost, increments}] newest last
  lastSeq: null,
  cycleKey: null,
};

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
const fmtInt = (v) => (isNum(v) ? Math.round(v).toLocaleString('en-US') : 'n/a');

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

const svg = (tag, attrs = {}, text) => {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
};

const setText = (e, s) => { if (e.textContent !== s) e.textContent = s; };

export function init(root) {
  state.root = root;
  root.hidden = true;
  root.textContent = '';
  root.append(el('h2', '', 'Shared memory'));
  const cap = el('p', 'caption');
  cap.innerHTML = 'Threads of one process share its memory. <code>race:N</code> steps increment one counter ' +
    'without synchronisation: when two threads interleave inside the read-modify-write, an update is ' +
    '<b>lost</b> (increments − counter). <code>atomic:N</code> and <code>lock:N</code> lose none; ' +
    '<code>hold:MS</code> holds the one lock, so the others queue, asleep. A <code>deadlock</code> is ' +
    'drawn as the cycle of threads waiting for each other.';
  root.append(cap);
  const kv = el('dl', 'kv');
  const facts = [['counter', 'sh-counter'], ['increments', 'sh-increments'], ['lost', 'sh-lost'],
    ['counter address / page', 'sh-addr'], ['lock 0: holder, waiters', 'sh-lock'],
    ['lock 0: contended, waited', 'sh-wait']];
  for (const [label, id] of facts) {
    const d = el('div');
    d.append(el('dt', '', label));
    const dd = el('dd', '', 'n/a');
    dd.id = id;
    state.f[id] = dd;
    d.append(dd);
    kv.append(d);
  }
  root.append(kv);
  const fig = el('figure', 'chart small');
  fig.append(el('figcaption', '', 'Lost updates per period (bars; the line is the period\'s increments, scaled)'));
  const chart = svg('svg', { id: 'sh-lost-series', viewBox: '0 0 600 90', width: '100%', height: 90,
    role: 'img', 'aria-label': 'lost updates per period' });
  state.f.chart = chart;
  fig.append(chart);
  root.append(fig);
  const dl = el('div', 'sh-deadlocks');
  dl.id = 'sh-deadlocks';
  state.f.deadlocks = dl;
  root.append(dl);
}

function pushPeriod(s, sh) {
  if (!isNum(s.seq) || s.seq === state.lastSeq) return;
  state.lastSeq = s.seq;
  const p = sh.period;
  if (!p) return;
  // Signed: a stale write can also raise the counter (a thread writes back
  // a value read before another thread's late write), so lost can fall.
  state.series.push({ seq: s.seq, lost: p.lost, increments: Math.max(0, p.increments) });
  if (state.series.length > HISTORY) state.series.splice(0, state.series.length - HISTORY);
}

function drawSeries() {
  const g = state.f.chart;
  g.textContent = '';
  const n = state.series.length;
  if (!n) return;
  const W = 600, H = 90, bw = W / HISTORY;
  const maxLost = Math.max(1, ...state.series.map((x) => Math.abs(x.lost)));
  const maxInc = Math.max(1, ...state.series.map((x) => x.increments));
  const neg = state.series.some((x) => x.lost < 0);
  const base = neg ? H * 0.7 : H;          // room below the axis for falls
  state.series.forEach((x, i) => {
    const left = (HISTORY - n + i) * bw;
    const h = (Math.abs(x.lost) / maxLost) * (neg ? base - 2 : H - 4) * (x.lost < 0 ? 0.4 : 1);
    const r = svg('rect', { x: left.toFixed(1), y: (x.lost < 0 ? base : base - h).toFixed(1),
      width: Math.max(1, bw - 1).toFixed(1), height: h.toFixed(1), class: 'sh-bar',
      fill: x.lost < 0 ? '#2e86c1' : '#c0392b', 'data-lost': x.lost, 'data-seq': x.seq });
    r.append(svg('title', {}, `period ${x.seq}: ${fmtInt(x.lost)} lost of ${fmtInt(x.increments)}`));
    g.append(r);
  });
  const pts = state.series.map((x, i) =>
    `${((HISTORY - n + i) * bw + bw / 2).toFixed(1)},${(H - (x.increments / maxInc) * (H - 4)).toFixed(1)}`);
  g.append(svg('polyline', { points: pts.join(' '), fill: 'none', stroke: '#6c757d', 'stroke-width': 1 }));
}

/* One cycle: the threads on a circle, each arrow "waits for lock L" from
 * a thread to the thread holding L. */
function drawCycle(d, names) {
  const box = el('figure', 'sh-cycle');
  const who = d.threads.map((t) => `thread ${t.tid} holds lock ${t.holds.join(',')} and wants lock ${t.wants}`);
  box.append(el('figcaption', '',
    `Deadlock: ${who.join('; ')} — stuck ${fmtInt(d.stuck_ms / 1000)} s, found ${fmtInt(d.detect_ms)} ms after it closed`));
  const W = 420, H = 220, cx = W / 2, cy = H / 2, R = 70;
  const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'sh-cycle-svg' });
  const defs = svg('defs');
  const m = svg('marker', { id: 'sh-arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7,
    markerHeight: 7, orient: 'auto-start-reverse' });
  m.append(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', fill: '#c0392b' }));
  defs.append(m);
  g.append(defs);
  const n = d.threads.length;
  // From the left, clockwise: two threads side by side, three in a triangle.
  const pos = d.threads.map((_, i) => {
    const a = Math.PI + (2 * Math.PI * i) / n;
    return [cx + R * Math.cos(a) * 1.8, cy + R * Math.sin(a)];
  });
  d.threads.forEach((t, i) => {
    const [x1, y1] = pos[i];
    const [x2, y2] = pos[(i + 1) % n];
    const len = Math.hypot(x2 - x1, y2 - y1) || 1;
    const ux = (x2 - x1) / len, uy = (y2 - y1) / len, r = 32;
    // Bend the arrow a little, so A->B and B->A do not overlap.
    const mx = (x1 + x2) / 2 + uy * 34, my = (y1 + y2) / 2 - ux * 34;
    g.append(svg('path', { d: `M ${x1 + ux * r} ${y1 + uy * r} Q ${mx} ${my} ${x2 - ux * r} ${y2 - uy * r}`,
      fill: 'none', stroke: '#c0392b', 'stroke-width': 2, 'marker-end': 'url(#sh-arrow)',
      class: 'sh-wait', 'data-from': t.tid, 'data-to': d.threads[(i + 1) % n].tid, 'data-lock': t.wants }));
    g.append(svg('text', { x: mx, y: my + (my < cy ? -6 : 14), 'text-anchor': 'middle', 'font-size': 11,
      fill: '#c0392b' }, `${names.get(t.tid) || t.tid} wants lock ${t.wants}`));
  });
  d.threads.forEach((t, i) => {
    const [x, y] = pos[i];
    const node = svg('g', { class: 'sh-thread', 'data-tid': t.tid });
    node.append(svg('circle', { cx: x, cy: y, r: 32, fill: '#fdecea', stroke: '#c0392b', 'stroke-width': 1.5 }));
    node.append(svg('text', { x, y: y - 8, 'text-anchor': 'middle', 'font-size': 10, 'font-weight': 600 },
      names.get(t.tid) || 'thread'));
    node.append(svg('text', { x, y: y + 4, 'text-anchor': 'middle', 'font-size': 10 }, `tid ${t.tid}`));
    node.append(svg('text', { x, y: y + 16, 'text-anchor': 'middle', 'font-size': 10 },
      `holds lock ${t.holds.join(',')}`));
    g.append(node);
  });
  box.append(g);
  return box;
}

function drawDeadlocks(list, threads) {
  const key = JSON.stringify(list.map((d) => d.threads));
  const box = state.f.deadlocks;
  if (key === state.cycleKey) {
    // Only the ages change: refresh the captions.
    box.querySelectorAll('figcaption').forEach((c, i) => {
      const d = list[i];
      const who = d.threads.map((t) => `thread ${t.tid} holds lock ${t.holds.join(',')} and wants lock ${t.wants}`);
      setText(c, `Deadlock: ${who.join('; ')} — stuck ${fmtInt(d.stuck_ms / 1000)} s, found ${fmtInt(d.detect_ms)} ms after it closed`);
    });
    return;
  }
  state.cycleKey = key;
  box.textContent = '';
  const names = new Map(threads.map((t) => [t.tid, t.name]));
  for (const d of list) box.append(drawCycle(d, names));
}

export function render(s) {
  if (!state.root) return;
  const sh = s && s.server && s.server.shared;
  if (!sh) { state.root.hidden = true; return; }
  const used = sh.increments > 0 || sh.locks.some((l) => l.acquisitions > 0 || l.waiters > 0) ||
    sh.deadlocks.length > 0;
  state.root.hidden = !used;
  pushPeriod(s, sh);
  if (!used) return;
  const f = state.f;
  setText(f['sh-counter'], fmtInt(sh.counter));
  setText(f['sh-increments'], fmtInt(sh.increments));
  const share = sh.increments > 0 ? ` (${(100 * sh.lost / sh.increments).toFixed(1)}%)` : '';
  setText(f['sh-lost'], fmtInt(sh.lost) + share);
  setText(f['sh-addr'], `${sh.counter_addr} / ${sh.counter_page === null ? 'hidden' : sh.counter_page}`);
  setText(f['sh-lock'], `${sh.holder_tid === null ? 'free' : 'tid ' + sh.holder_tid}, ${sh.waiters}`);
  setText(f['sh-wait'], `${fmtInt(sh.contended)} of ${fmtInt(sh.acquisitions)}, ${fmtInt(sh.wait_ms)} ms`);
  drawSeries();
  drawDeadlocks(sh.deadlocks, Array.isArray(s.threads) ? s.threads : []);
}
