/*
 * "Cores, live": every context switch of our threads, one lane per CPU over
 * a sliding 2-10 s window (GET /sched, polled; format in doc/stats-json.md).
 *
 * A bar is one stay of one of our threads on a core, in the thread's hue
 * (loop blue, workers each their own hue, observer violet). How it left is
 * drawn at its end: a red mark above when it was preempted (still
 * runnable), a dark one below when it blocked. The thin strip under a bar is the time
 * it waited for the core after it became runnable (wakeup or preemption).
 * Grey: another process took the core (named on hover: wrk shows as wrk);
 * empty: idle, or not ours. A dashed line joins a thread's stays on two
 * cores (a migration). Lost records leave gaps and are counted on the lane.
 *
 * Per core, "ours" is exact from the slices; idle comes from /proc/stat
 * over the last sample period and "other" is the rest of that period.
 *
 * Module contract: init(root) builds the panel inside root and starts
 * polling; render(snapshot) takes each /stats snapshot (thread names and
 * roles, the source, per-core idle); nothing touches the DOM before init.
 */

import { get } from './api.js';

const POLL_MS = 250;
const KEEP_NS = 10e9;              // the server's flight recorder: 10 s
const LAG_NS = 60e6;               // slices arrive behind a 10-35 ms window
const LANE_H = 34;
const AXIS_H = 18;
const LABEL_W = 150;

const ROLE_HUE = { loop: '#1971c2', observer: '#7048e8', libuv: '#0ca678' };

const st = {
  root: null, canvas: null, tip: null, info: null, legend: null, zoom: null, pauseBtn: null,
  fetch: null, timer: null, paused: false, windowNs: 5e9,
  source: null, reason: '', tracing: null, lost: 0, lostPerCpu: [], ncpu: 0,
  slices: [], seen: new Set(), nowNs: 0, since: 0,
  threads: new Map(), idlePct: [], periodMs: 0,
  drawn: [], polls: 0, errors: 0, drawPending: false,
};

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

const hueOf = (tid) => {
  const t = st.threads.get(tid);
  if (!t) return '#495057';
  if (t.role === 'worker' && isNum(t.index)) return `hsl(${(140 + t.index * 47) % 360},55%,42%)`;
  return ROLE_HUE[t.role] || '#495057';
};

const nameOf = (tid) => {
  const t = st.threads.get(tid);
  return t ? `${t.name} (${tid})` : `tid ${tid}`;
};

const who = (s) => {
  if (s.in_tid !== null) return `${nameOf(s.in_tid)}, ours`;
  if (s.in_pid === 0) return 'idle';
  return `${s.in_comm}${s.in_pid !== null ? ` (pid ${s.in_pid})` : ''}`;
};

/* ---- data ---- */

const ingest = (d) => {
  st.source = d.source;
  st.reason = d.source_reason || '';
  st.tracing = d.tracing;
  st.lost = d.lost || 0;
  st.lostPerCpu = Array.isArray(d.lost_per_cpu) ? d.lost_per_cpu : [];
  st.ncpu = d.ncpu || st.ncpu;
  if (isNum(d.now_ns)) st.nowNs = d.now_ns;
  for (const s of d.slices || []) {
    const key = `${s.cpu}:${s.start_ns}`;
    if (st.seen.has(key)) continue;
    st.seen.add(key);
    st.slices.push(s);
    if (rec.on) record1(s);
  }
  const floor = st.nowNs - KEEP_NS;
  if (st.slices.length && st.slices[0].end_ns < floor) {
    st.slices = st.slices.filter((s) => s.end_ns >= floor);
    st.seen = new Set(st.slices.map((s) => `${s.cpu}:${s.start_ns}`));
  }
  st.slices.sort((a, b) => a.start_ns - b.start_ns);
  /* Finished slices reach the server up to ~1 s late (held until the
   * next record on their core): ask again from a little before. */
  st.since = d.truncated && st.slices.length
    ? st.slices[st.slices.length - 1].end_ns
    : Math.max(0, st.nowNs - 2e9);
};

const poll = async () => {
  st.timer = null;
  if (!st.paused) {
    try {
      const r = await st.get(`/sched?since_ns=${Math.floor(st.since)}`);
      if (r.ok && r.body) {
        ingest(r.body);
        st.polls++;
        scheduleDraw();
      } else {
        st.errors++;
      }
    } catch (e) {
      st.errors++;
    }
  }
  if (st.source !== 'sampled') st.timer = setTimeout(poll, POLL_MS);
};

/* ---- drawing ---- */

const scheduleDraw = () => {
  if (st.drawPending) return;
  st.drawPending = true;
  requestAnimationFrame(() => { st.drawPending = false; draw(); });
};

/* Our exact share of each core over the last ms of the window. */
const oursPct = (cpu, fromNs, toNs) => {
  let busy = 0;
  for (const s of st.slices) {
    if (s.cpu !== cpu || s.end_ns <= fromNs || s.start_ns >= toNs) continue;
    busy += Math.min(s.end_ns, toNs) - Math.max(s.start_ns, fromNs);
  }
  return (100 * busy) / (toNs - fromNs);
};

const draw = () => {
  const c = st.canvas;
  if (!c) return;
  const ncpu = Math.max(st.ncpu, 1);
  const cssW = Math.max(c.parentNode.clientWidth || 600, 300);
  const cssH = AXIS_H + ncpu * LANE_H;
  const dpr = window.devicePixelRatio || 1;
  if (c.width !== Math.round(cssW * dpr) || c.height !== Math.round(cssH * dpr)) {
    c.width = Math.round(cssW * dpr);
    c.height = Math.round(cssH * dpr);
    c.style.width = `${cssW}px`;
    c.style.height = `${cssH}px`;
  }
  const g = c.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, cssW, cssH);
  const t1 = st.nowNs - LAG_NS, t0 = t1 - st.windowNs;
  const plotW = cssW - LABEL_W - 4;
  const x = (t) => LABEL_W + ((t - t0) / st.windowNs) * plotW;
  const laneY = (cpu) => AXIS_H + cpu * LANE_H;

  // axis: seconds before now
  g.fillStyle = '#5c6578';
  g.font = '11px sans-serif';
  for (let s = 0; s <= st.windowNs / 1e9; s++) {
    const xx = x(t1 - s * 1e9);
    g.fillRect(xx, AXIS_H - 4, 1, 4);
    /* 'now' ends at its tick: centred like the others it ran off the canvas ("nc") */
    g.textAlign = s === 0 ? 'right' : 'left';
    g.fillText(s === 0 ? 'now' : `-${s}s`, s === 0 ? xx + 1 : xx - 8, 11);
  }
  g.textAlign = 'left';
  const periodNs = (st.periodMs || 500) * 1e6;
  for (let cpu = 0; cpu < ncpu; cpu++) {
    const y = laneY(cpu);
    g.fillStyle = cpu % 2 ? '#f8f9fb' : '#f1f3f6';
    g.fillRect(LABEL_W, y, plotW, LANE_H - 2);
    g.fillStyle = '#212529';
    g.font = '12px sans-serif';
    g.fillText(`CPU ${cpu}`, 4, y + 13);
    const ours = oursPct(cpu, t1 - periodNs, t1);
    const idle = st.idlePct[cpu];
    g.font = '10px sans-serif';
    g.fillStyle = '#5c6578';
    g.fillText(isNum(idle)
      ? `ours ${ours.toFixed(0)} · other ${Math.max(0, 100 - ours - idle).toFixed(0)} · idle ${idle.toFixed(0)} %`
      : `ours ${ours.toFixed(0)}%`, 4, y + 25);
    const lost = st.lostPerCpu[cpu] || 0;
    if (lost) {
      g.fillStyle = '#e03131';
      g.fillText(`lost ${lost}`, 60, y + 13);
    }
  }

  st.drawn = [];
  const byCpu = new Map();
  for (const s of st.slices) {
    if (s.end_ns < t0 || s.start_ns > t1 || s.cpu >= ncpu) continue;
    if (!byCpu.has(s.cpu)) byCpu.set(s.cpu, []);
    byCpu.get(s.cpu).push(s);
  }
  for (const [cpu, list] of byCpu) {
    const y = laneY(cpu);
    list.forEach((s, i) => {
      // who took the core, until the next of ours on this core (grey: another process)
      const next = list[i + 1];
      if (s.in_tid === null && s.in_pid !== 0) {
        const gEnd = next ? next.start_ns : Math.min(t1, s.end_ns + 2e6);
        const gx0 = Math.max(x(s.end_ns), LABEL_W), gx1 = Math.min(x(gEnd), LABEL_W + plotW);
        if (gx1 > gx0) {
          g.fillStyle = '#ced4da';
          g.fillRect(gx0, y + 4, Math.max(gx1 - gx0, 0.5), 18);
          st.drawn.push({ kind: 'other', x0: gx0, x1: gx1, y0: y + 4, y1: y + 22, s });
        }
      }
      const x0 = Math.max(x(s.start_ns), LABEL_W), x1 = Math.min(x(s.end_ns), LABEL_W + plotW);
      g.fillStyle = hueOf(s.tid);
      g.fillRect(x0, y + 5, Math.max(x1 - x0, 0.7), 16);
      if (s.wake_ns !== null && s.start_ns > s.wake_ns) {
        const w0 = Math.max(x(s.wake_ns), LABEL_W);
        g.fillStyle = '#c2255c';
        g.globalAlpha = 0.55;
        g.fillRect(w0, y + 24, Math.max(x0 - w0, 0.5), 4);
        g.globalAlpha = 1;
      }
      if (s.end_ns <= t1) {
        // Marks above and below the bar, so that dense slices stay visible.
        if (s.end === 'preempted') {
          g.fillStyle = '#e03131';
          g.fillRect(x1 - 1, y, 2, 5);
        } else {
          g.fillStyle = '#343a40';
          g.fillRect(x1 - 0.5, y + 22, 1, 3);
        }
      }
      st.drawn.push({ kind: 'slice', x0, x1: Math.max(x1, x0 + 1), y0: y + 4, y1: y + 28, s });
    });
  }
  // migrations: a thread's consecutive stays on two cores
  const lastOf = new Map();
  g.setLineDash([3, 3]);
  g.lineWidth = 1;
  for (const s of st.slices) {
    if (s.end_ns < t0 || s.start_ns > t1 || s.cpu >= ncpu) continue;
    const p = lastOf.get(s.tid);
    if (p && p.cpu !== s.cpu) {
      g.strokeStyle = hueOf(s.tid);
      g.beginPath();
      g.moveTo(Math.max(x(p.end_ns), LABEL_W), laneY(p.cpu) + 13);
      g.lineTo(Math.max(x(s.start_ns), LABEL_W), laneY(s.cpu) + 13);
      g.stroke();
    }
    lastOf.set(s.tid, s);
  }
  g.setLineDash([]);
  renderInfo();
};

const renderInfo = () => {
  if (!st.info) return;
  const why = st.source === 'tracepoints' ? '' : ` — ${st.reason}`;
  st.info.textContent = `source: ${st.source || '…'}${why}` +
    `${st.tracing === false ? ' (not tracing: nobody watched yet)' : ''}` +
    ` · lost records: ${st.lost}` +
    (rec.saved ? ' · replaying the Lab run: "now" is the replayed moment' : st.paused ? ' · paused' : '');
  st.info.title = st.reason;
};

/* ---- interaction ---- */

const hit = (ev) => {
  const r = st.canvas.getBoundingClientRect();
  const px = ev.clientX - r.left, py = ev.clientY - r.top;
  let best = null;
  for (const d of st.drawn) {
    if (py < d.y0 || py > d.y1 || px < d.x0 - 2 || px > d.x1 + 2) continue;
    if (!best || (d.kind === 'slice' && best.kind !== 'slice')) best = d;
  }
  return { d: best, px, py };
};

const onMove = (ev) => {
  const { d, px, py } = hit(ev);
  if (!d) { st.tip.hidden = true; return; }
  const s = d.s;
  const us = (ns) => `${(ns / 1000).toFixed(1)} µs`;
  st.tip.textContent = d.kind === 'other'
    ? `CPU ${s.cpu}: ${who(s)} took the core from ${nameOf(s.tid)}`
    : `${nameOf(s.tid)} on CPU ${s.cpu} for ${us(s.end_ns - s.start_ns)}; left ${s.end}` +
      `${s.wake_ns !== null ? `; waited ${us(s.start_ns - s.wake_ns)} for the core` : ''}` +
      `; then ${who(s)}`;
  st.tip.style.left = `${Math.min(px + 12, st.canvas.clientWidth - 260)}px`;
  st.tip.style.top = `${py + 12}px`;
  st.tip.hidden = false;
};

const onClick = (ev) => {
  const { d } = hit(ev);
  if (!d || d.kind !== 'slice') return;
  const row = document.querySelector(`#panel-threads tr[data-tid="${d.s.tid}"]`);
  if (row) {
    row.scrollIntoView({ block: 'center' });
    row.classList.add('flash');
    setTimeout(() => row.classList.remove('flash'), 1500);
  }
};

/* ---- the module's contract ---- */

export function init(root = document.getElementById('lanes'), { getImpl } = {}) {
  if (st.root || !root) return;
  st.root = root;
  st.get = getImpl || get;
  const bar = el('div', 'tl-bar');
  st.legend = el('div', 'legend');
  const items = [
    ['#1971c2', 'loop'], ['hsl(140,55%,42%)', 'workers (a hue each)'], ['#ced4da', 'another process'],
    ['#e03131', 'mark above: preempted'], ['#343a40', 'mark below: blocked'], ['#c2255c', 'strip: waited for the core'],
  ];
  for (const [c, label] of items) {
    const s = el('span');
    const sw = el('span', 'sw');
    sw.style.background = c;
    s.append(sw, document.createTextNode(label));
    st.legend.append(s);
  }
  st.zoom = el('select');
  st.zoom.id = 'lanes-window';
  for (const ms of [2000, 5000, 10000]) {
    const o = el('option', null, `last ${ms / 1000} s`);
    o.value = String(ms);
    if (ms * 1e6 === st.windowNs) o.selected = true;
    st.zoom.append(o);
  }
  st.zoom.addEventListener('change', () => { st.windowNs = Number(st.zoom.value) * 1e6; scheduleDraw(); });
  st.pauseBtn = el('button', null, 'pause');
  st.pauseBtn.id = 'lanes-pause';
  st.pauseBtn.type = 'button';
  st.pauseBtn.addEventListener('click', () => {
    st.paused = !st.paused;
    st.pauseBtn.textContent = st.paused ? 'resume' : 'pause';
    renderInfo();
  });
  bar.append(st.legend, st.zoom, st.pauseBtn);
  const wrap = el('div', 'timeline-wrap');
  wrap.style.position = 'relative';
  st.canvas = el('canvas');
  st.canvas.id = 'lanes-canvas';
  st.tip = el('div', 'tip');
  st.tip.hidden = true;
  st.tip.style.position = 'absolute';
  wrap.append(st.canvas, st.tip);
  st.info = el('p', 'note');
  st.info.id = 'lanes-source';
  root.append(bar, wrap, st.info);
  st.canvas.addEventListener('mousemove', onMove);
  st.canvas.addEventListener('mouseleave', () => { st.tip.hidden = true; });
  st.canvas.addEventListener('click', onClick);
  renderInfo();
  poll();
}

export function render(s) {
  if (!st.root || !s) return;
  for (const t of Array.isArray(s.threads) ? s.threads : []) {
    st.threads.set(t.tid, { name: t.name, role: t.role, index: t.index });
  }
  const k = s.kernel || {};
  if (k.sched_source && !st.source) { st.source = k.sched_source; st.reason = k.sched_source_reason || ''; }
  st.idlePct = (Array.isArray(s.cores) ? s.cores : []).map((c) => (isNum(c.idle_pct) ? c.idle_pct : null));
  st.periodMs = s.period_ms || st.periodMs;
  if (!st.paused) scheduleDraw();
}

/* ---- the Lab's replay (www/lab.js through main.js) ----
 * While a Lab run goes, every slice this panel receives is also kept in a
 * log (bounded: REC_MAX slices, the oldest dropped); a finished run is
 * replayed by drawing, from that log, the window that ended at a kept
 * snapshot's time (its start_ns + uptime_ms: CLOCK_MONOTONIC, the clock
 * of the slices). Polling stops meanwhile; live() puts back what the
 * panel had and resumes. */
const REC_MAX = 200000;
const rec = { on: false, log: [], dropped: 0, saved: null };

const record1 = (s) => {
  rec.log.push(s);
  if (rec.log.length > REC_MAX) { rec.log.splice(0, rec.log.length - REC_MAX); rec.dropped++; }
};

/* on: start a new log (a run starts); off: keep it for the replay. */
export function record(on) {
  if (on) { rec.log = []; rec.dropped = 0; }
  rec.on = !!on;
}

/* Draws the log's window ending at snapshot s's time; false when the
 * log has nothing there (the panel was paused, or tracing unavailable). */
export function replayAt(s) {
  if (!st.root || !s || !isNum(s.start_ns) || !isNum(s.uptime_ms)) return false;
  const end = s.start_ns + s.uptime_ms * 1e6 + LAG_NS;
  const from = end - KEEP_NS;
  const slices = rec.log.filter((x) => x.end_ns >= from && x.start_ns <= end);
  if (!slices.length) return false;
  if (!rec.saved) rec.saved = { slices: st.slices, nowNs: st.nowNs, paused: st.paused };
  st.paused = true;              // no poll ingests into the replayed view
  st.slices = slices;
  st.nowNs = end;
  renderInfo();
  scheduleDraw();
  return true;
}

/* Back to the live lanes (the user's own pause as it was). */
export function replayEnd() {
  if (!rec.saved) return;
  st.slices = rec.saved.slices;
  st.nowNs = rec.saved.nowNs;
  st.paused = rec.saved.paused;
  rec.saved = null;
  renderInfo();
  scheduleDraw();
  if (!st.timer && !st.paused && st.source !== 'sampled') poll();
}

/* What the panel holds and drew (for tests and the curious). */
export function lanesModel() {
  const inWindow = st.slices.filter((s) => s.end_ns >= st.nowNs - LAG_NS - st.windowNs);
  return {
    source: st.source, reason: st.reason, tracing: st.tracing, lost: st.lost, ncpu: st.ncpu,
    polls: st.polls, errors: st.errors, paused: st.paused,
    slices: inWindow.length, replaying: !!rec.saved, recorded: rec.log.length,
    preempted: inWindow.filter((s) => s.end === 'preempted').length,
    blocked: inWindow.filter((s) => s.end === 'blocked').length,
    others: [...new Set(inWindow.filter((s) => s.in_tid === null && s.in_pid !== 0).map((s) => s.in_comm))],
    drawn: st.drawn.length,
  };
}
