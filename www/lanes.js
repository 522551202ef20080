/*
 * "Cores, live": every context switch of our threads, one lane per CPU over
 * a sliding 2-10 s window (GET /sched, polled; format in doc/stats-json.md).
 *
 * A bar is one stay of one of our threads on a core, in the thread's hue
 * (loop blue, workers each their own hue, observer violet). How it left is
 * drawn at its end: a red mark above when it was preempted (still
 * runnable), a dark one below when it blocked, an orange one below when it
 * blocked waiting for one of our locks (the server's on_lock). The thin
 * strip under a bar is the time it waited for the core after it became
 * runnable (wakeup or preemption).
 * Grey: another process took the core (named on hover: wrk shows as wrk);
 * empty: idle, or not ours. After the last stay of ours on a core the lane
 * is hatched up to now: none of ours recorded since, and what ran there is
 * not known (another process or idle; the core's shares say how much of
 * each). Drawn empty, it read as idle beside "other 100 %". A stay of ours
 * still going is drawn when it ends. A dashed line joins a thread's stays on two
 * cores (a migration). Lost records leave gaps and are counted on the lane.
 * Beyond 20,000 slices an answer (50,000 switches/s) the newest are asked
 * for; the time before them that was not fetched is shaded amber.
 *
 * Per core, "ours" is exact from the slices over the newest sample period
 * traced from its start whose slices are final (about 1.3 s behind now;
 * none in the first periods after tracing began); idle comes from
 * /proc/stat over the same period and "other" is the rest of it.
 * (The kernel filter keeps only the switches of our threads, so a switch
 * between two other processes, or one of them and idle, is never recorded:
 * "other" cannot come from the records themselves.)
 *
 * A click on a bar opens the task its thread was running then (the steps
 * of the snapshots' timeline, by thread and time), through onLanesSelect;
 * without one (between tasks, or thinned out) it shows the thread's row.
 *
 * Module contract: init(root) builds the panel inside root and starts
 * polling; render(snapshot) takes each /stats snapshot (thread names and
 * roles, the source, per-core idle); nothing touches the DOM before init.
 */

import { get } from './api.js';

const POLL_MS = 250;
const KEEP_NS = 10e9;              // the server's flight recorder: 10 s
const LAG_NS = 60e6;               // slices arrive behind a 10-35 ms window
/* A slice is final once the next record on its core came, or 1 s later
 * (doc/stats-json.md): a period's shares wait that long and a poll. */
const FINAL_NS = 1.3e9;
const SAMPLES_MAX = 8;             // the recent snapshots' times and idle shares
const LANE_H = 34;
const AXIS_H = 18;
const LABEL_W = 150;

const ROLE_HUE = { loop: '#1971c2', observer: '#7048e8', libuv: '#0ca678' };
const HATCH_CSS = 'repeating-linear-gradient(135deg, #adb5bd 0 1.5px, transparent 1.5px 5px)';
let hatch = null;                  // the canvas pattern of HATCH_CSS, made once

const st = {
  root: null, canvas: null, tip: null, info: null, legend: null, zoom: null, pauseBtn: null,
  fetch: null, timer: null, paused: false, windowNs: 5e9,
  source: null, reason: '', tracing: null, lost: 0, lostPerCpu: [], ncpu: 0,
  slices: [], seen: new Map(), nowNs: 0, since: 0, holes: [], truncated: false,
  threads: new Map(), periodMs: 0, sampleNs: null, workerPids: [],
  samples: [],                     // [{ ns, idle[] }]: recent snapshots, newest last
  tracingSince: null,              // when the server began tracing (ns), null: not tracing
  ours: { sampleNs: null, pct: [], idle: [] },   // per core, over the sample period that idle is of
  steps: [], stepKeys: new Set(), onTask: null,
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
  st.tracingSince = d.tracing && isNum(d.tracing_since_ns) ? d.tracing_since_ns : null;
  st.lost = d.lost || 0;
  st.lostPerCpu = Array.isArray(d.lost_per_cpu) ? d.lost_per_cpu : [];
  st.ncpu = d.ncpu || st.ncpu;
  if (isNum(d.now_ns)) st.nowNs = d.now_ns;
  for (const s of d.slices || []) {
    const key = `${s.cpu}:${s.start_ns}`;
    const had = st.seen.get(key);
    if (had) {
      /* on_lock comes once the step is in the server's timeline (up to a
       * sample period after the slice): a later answer may add it. */
      if (s.on_lock) had.on_lock = true;
      continue;
    }
    st.seen.set(key, s);
    st.slices.push(s);
    if (rec.on) record1(s);
  }
  const floor = st.nowNs - KEEP_NS;
  if (st.slices.length && st.slices[0].end_ns < floor) {
    st.slices = st.slices.filter((s) => s.end_ns >= floor);
    st.seen = new Map(st.slices.map((s) => [`${s.cpu}:${s.start_ns}`, s]));
  }
  st.slices.sort((a, b) => a.start_ns - b.start_ns);
  /* More slices than an answer holds: the server sent the newest (asked
   * with newest=1, so the lanes never fall behind the present); before
   * the first of them, back to what was asked, nothing was fetched: a
   * hole, shaded, never drawn as idle. */
  st.truncated = !!d.truncated;
  if (d.truncated && Array.isArray(d.slices) && d.slices.length) {
    let first = Infinity;
    for (const s of d.slices) first = Math.min(first, s.start_ns);
    if (first > st.since) st.holes.push([st.since, first]);
  }
  st.holes = st.holes.filter((h) => h[1] >= floor);
  /* Finished slices reach the server up to ~1 s late (held until the
   * next record on their core): ask again from a little before. */
  st.since = Math.max(0, st.nowNs - 2e9);
};

const poll = async () => {
  st.timer = null;
  if (!st.paused) {
    try {
      const r = await st.get(`/sched?since_ns=${Math.floor(st.since)}&newest=1`);
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

/* The newest of samples ([{ ns }], oldest first) whose period (periodNs
 * long) was traced from its start (sinceNs: when tracing began, null: not
 * tracing) and whose stays are all in at nowNs (a replay's log holds them
 * already), or null. */
export function finalSample(samples, nowNs, replaying, sinceNs, periodNs) {
  const finalNs = nowNs - (replaying ? LAG_NS : FINAL_NS);
  const traced = (x) => replaying || (isNum(sinceNs) && x.ns - periodNs >= sinceNs);
  return samples.filter((x) => x.ns <= finalNs && traced(x)).pop() || null;
}

/* Our exact share of a core from fromNs to toNs, %. */
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
  /* The shares of the newest sample period whose slices are final (a
   * replay's log is final already), beside that period's idle. */
  const sample = finalSample(st.samples, st.nowNs, !!rec.saved, st.tracingSince, periodNs);
  if (sample && st.ours.sampleNs !== sample.ns) {
    st.ours = { sampleNs: sample.ns, idle: sample.idle,
      pct: Array.from({ length: ncpu }, (_, cpu) => oursPct(cpu, sample.ns - periodNs, sample.ns)) };
  }
  for (let cpu = 0; cpu < ncpu; cpu++) {
    const y = laneY(cpu);
    g.fillStyle = cpu % 2 ? '#f8f9fb' : '#f1f3f6';
    g.fillRect(LABEL_W, y, plotW, LANE_H - 2);
    g.fillStyle = '#212529';
    g.font = '12px sans-serif';
    g.fillText(`CPU ${cpu}`, 4, y + 13);
    const ours = st.ours.pct[cpu];
    const idle = st.ours.idle[cpu];
    g.font = '10px sans-serif';
    g.fillStyle = '#5c6578';
    if (isNum(ours)) {
      g.fillText(isNum(idle)
        ? `ours ${ours.toFixed(0)} · other ${Math.max(0, 100 - ours - idle).toFixed(0)} · idle ${idle.toFixed(0)} %`
        : `ours ${ours.toFixed(0)}%`, 4, y + 25);
    }
    const lost = st.lostPerCpu[cpu] || 0;
    if (lost) {
      g.fillStyle = '#e03131';
      g.fillText(`lost ${lost}`, 60, y + 13);
    }
  }

  // holes: slices not fetched (too many for one answer), shaded on every lane
  for (const [h0, h1] of st.holes) {
    const hx0 = Math.max(x(h0), LABEL_W), hx1 = Math.min(x(h1), LABEL_W + plotW);
    if (hx1 <= hx0) continue;
    g.fillStyle = 'rgba(250,176,5,0.18)';
    g.fillRect(hx0, AXIS_H, hx1 - hx0, ncpu * LANE_H - 2);
  }
  st.drawn = [];
  /* Each core after the last stay of ours on it: nothing of ours recorded
   * since, the occupant unknown (hatched, under the bars and the grey). */
  if (!hatch) {
    const p = document.createElement('canvas');
    p.width = 6; p.height = 6;
    const pg = p.getContext('2d');
    pg.strokeStyle = '#adb5bd';
    pg.lineWidth = 1.5;
    pg.beginPath(); pg.moveTo(0, 6); pg.lineTo(6, 0); pg.stroke();
    hatch = g.createPattern(p, 'repeat');
  }
  const lastEnd = new Array(ncpu).fill(-Infinity);
  for (const s of st.slices) if (s.cpu < ncpu && s.end_ns > lastEnd[s.cpu]) lastEnd[s.cpu] = s.end_ns;
  for (let cpu = 0; cpu < ncpu; cpu++) {
    const from = Math.max(lastEnd[cpu], t0);
    if (from >= t1) continue;
    const y = laneY(cpu), hx0 = x(from), hx1 = LABEL_W + plotW;
    g.fillStyle = hatch;
    g.fillRect(hx0, y + 4, hx1 - hx0, 18);
    st.drawn.push({ kind: 'unknown', x0: hx0, x1: hx1, y0: y + 4, y1: y + 22, s: { cpu, end_ns: lastEnd[cpu] } });
  }
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
      /* A stay narrower than a pixel is drawn one pixel wide at the share
       * of it that it covers (never under 12 %, so each stays visible):
       * drawn solid at 0.7 px, 0.1 ms stays 5 ms apart filled a lane whose
       * core was 2 % ours (the pin run's shots: "ours 5" under a full lane). */
      const bw = x1 - x0;
      if (bw < 1) g.globalAlpha = Math.max(0.12, bw);
      g.fillRect(x0, y + 5, Math.max(bw, 1), 16);
      g.globalAlpha = 1;
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
        } else if (s.on_lock) {
          // blocked waiting for one of our locks (inside a lock/hold step)
          g.fillStyle = '#f08c00';
          g.fillRect(x1 - 1, y + 21, 2, 7);
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
    (st.holes.length ? ' · too many slices to fetch them all: the newest shown, the rest shaded' : '') +
    /* --processes: the tracer follows the supervisor's own threads; the
     * workers that serve the load are other processes to it (grey). */
    (st.workerPids.length ? ` · under --processes the lanes trace the supervisor's own threads only: the worker ` +
      `processes (pid ${st.workerPids.join(', ')}) that serve the load draw as another process (grey; hover names them)` : '') +
    (rec.saved ? ' · replaying the Lab run: "now" is the replayed moment' : st.paused ? ' · paused' : '');
  st.info.title = st.reason;
};

/* ---- interaction ---- */

const RANK = { slice: 2, other: 1, unknown: 0 };
const hit = (ev) => {
  const r = st.canvas.getBoundingClientRect();
  const px = ev.clientX - r.left, py = ev.clientY - r.top;
  let best = null;
  const dist = (d) => Math.abs((d.x0 + d.x1) / 2 - px);
  for (const d of st.drawn) {
    if (py < d.y0 || py > d.y1 || px < d.x0 - 2 || px > d.x1 + 2) continue;
    // a bar before grey, then the bar whose middle is nearest (bars may be under a pixel wide)
    if (!best || RANK[d.kind] > RANK[best.kind] || (d.kind === best.kind && dist(d) < dist(best))) best = d;
  }
  return { d: best, px, py };
};

const onMove = (ev) => {
  const { d, px, py } = hit(ev);
  if (!d) { st.tip.hidden = true; return; }
  const s = d.s;
  const us = (ns) => `${(ns / 1000).toFixed(1)} µs`;
  st.tip.textContent = d.kind === 'unknown'
    ? `CPU ${s.cpu}: none of our threads recorded here ${Number.isFinite(s.end_ns) ? 'since this hatch began' : 'in this window'}\n` +
      'another process or idle: only our threads\' switches are recorded\n(the shares under the core\'s name say how much' +
      ' of each);\na stay of ours still going is drawn when it ends'
    : d.kind === 'other'
    ? `CPU ${s.cpu}: ${who(s)} took the core from ${nameOf(s.tid)}`
    : `${nameOf(s.tid)} on CPU ${s.cpu} for ${us(s.end_ns - s.start_ns)}; left ${s.end}` +
      `${s.on_lock ? ' on a lock (asleep waiting for threadlab\'s mutex, in a lock/hold step)' : ''}` +
      `${s.wake_ns !== null ? `; waited ${us(s.start_ns - s.wake_ns)} for the core` : ''}` +
      `; then ${who(s)}`;
  st.tip.style.left = `${Math.min(px + 12, st.canvas.clientWidth - 260)}px`;
  st.tip.style.top = `${py + 12}px`;
  st.tip.hidden = false;
};

/* The task tid was running during slice s (a step of it overlaps), or null. */
const taskOf = (s) => {
  let best = null, most = 0;
  for (const p of st.steps) {
    if (p.tid !== s.tid || p.s1 <= s.start_ns || p.s0 >= s.end_ns) continue;
    const over = Math.min(p.s1, s.end_ns) - Math.max(p.s0, s.start_ns);
    if (over > most) { most = over; best = p.task; }
  }
  return best;
};

const onClick = (ev) => {
  const { d } = hit(ev);
  if (!d || d.kind !== 'slice') return;
  const task = taskOf(d.s);
  st.lastClick = { tid: d.s.tid, task };
  if (task !== null && st.onTask) st.onTask(task);
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
    [HATCH_CSS, 'none of ours since: other or idle'], ['#e03131', 'mark above: preempted'], ['#343a40', 'mark below: blocked'], ['#f08c00', 'orange below: blocked on a lock'], ['#c2255c', 'strip: waited for the core'],
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

/* h(taskId): a click on a bar whose thread ran a task then. */
export function onLanesSelect(h) { st.onTask = h; }

const STEPS_MAX = 20000;

/* The steps of the snapshot's timeline, on CLOCK_MONOTONIC like the slices. */
const keepSteps = (s) => {
  const tl = s.timeline && Array.isArray(s.timeline.steps) ? s.timeline.steps : [];
  if (!isNum(s.start_ns)) return;
  for (const p of tl) {
    if (!isNum(p.task) || !isNum(p.start_ms) || !isNum(p.tid)) continue;
    const key = `${p.task}:${p.step}:${p.tid}`;
    if (st.stepKeys.has(key)) continue;
    st.stepKeys.add(key);
    const s0 = s.start_ns + p.start_ms * 1e6;
    const s1 = isNum(p.end_ms) ? s.start_ns + p.end_ms * 1e6 : s0;
    st.steps.push({ tid: p.tid, task: p.task, step: p.step, s0, s1 });
  }
  const floor = (isNum(st.sampleNs) ? st.sampleNs : 0) - KEEP_NS;
  if (st.steps.length > STEPS_MAX || (st.steps.length && st.steps[0].s1 < floor)) {
    st.steps = st.steps.filter((p) => p.s1 >= floor).slice(-STEPS_MAX);
    st.stepKeys = new Set(st.steps.map((p) => `${p.task}:${p.step}:${p.tid}`));
  }
};

/* Each core's idle % over snapshot s's period (/proc/stat). */
const idleOf = (s) => (Array.isArray(s.cores) ? s.cores : []).map((c) => (isNum(c.idle_pct) ? c.idle_pct : null));

export function render(s) {
  if (!st.root || !s) return;
  if (isNum(s.start_ns) && isNum(s.uptime_ms)) st.sampleNs = s.start_ns + s.uptime_ms * 1e6;
  const last = st.samples[st.samples.length - 1];
  if (isNum(st.sampleNs) && (!last || last.ns !== st.sampleNs)) {
    st.samples = [...st.samples, { ns: st.sampleNs, idle: idleOf(s) }].slice(-SAMPLES_MAX);
  }
  keepSteps(s);
  for (const t of Array.isArray(s.threads) ? s.threads : []) {
    st.threads.set(t.tid, { name: t.name, role: t.role, index: t.index });
  }
  const k = s.kernel || {};
  if (k.sched_source && !st.source) { st.source = k.sched_source; st.reason = k.sched_source_reason || ''; }
  st.periodMs = s.period_ms || st.periodMs;
  const pids = (Array.isArray(s.processes) ? s.processes : []).filter((p) => p.role === 'worker' && p.pid > 0).map((p) => p.pid);
  if (pids.join() !== st.workerPids.join()) { st.workerPids = pids; renderInfo(); }
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
  if (!rec.saved) rec.saved = { slices: st.slices, nowNs: st.nowNs, paused: st.paused, samples: st.samples };
  st.paused = true;              // no poll ingests into the replayed view
  st.slices = slices;
  st.nowNs = end;
  st.sampleNs = end - LAG_NS;    // the shares of the snapshot's own period
  st.samples = [{ ns: st.sampleNs, idle: idleOf(s) }];
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
  st.samples = rec.saved.samples;
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
    polls: st.polls, errors: st.errors, paused: st.paused, holes: st.holes.length, steps: st.steps.length,
    slices: inWindow.length, replaying: !!rec.saved, recorded: rec.log.length,
    preempted: inWindow.filter((s) => s.end === 'preempted').length,
    blocked: inWindow.filter((s) => s.end === 'blocked').length,
    onLock: inWindow.filter((s) => s.on_lock === true).length,
    others: [...new Set(inWindow.filter((s) => s.in_tid === null && s.in_pid !== 0).map((s) => s.in_comm))],
    drawn: st.drawn.length,
    /* Per core, where the hatch (none of ours recorded since) begins, ns; null: none drawn. */
    unknownFrom: Array.from({ length: Math.max(st.ncpu, 1) }, (_, cpu) => {
      const d = st.drawn.find((x) => x.kind === 'unknown' && x.s.cpu === cpu);
      return d ? (Number.isFinite(d.s.end_ns) ? d.s.end_ns : st.nowNs - LAG_NS - st.windowNs) : null;
    }),
    /* Per core, our share and idle over the sample period at sampleNs. */
    ours: { sampleNs: st.ours.sampleNs, pct: st.ours.pct.slice(), idle: st.ours.idle.slice() },
    /* Where to click (CSS px): the drawn bar with a known task whose
     * middle is farthest from its row's other middles (bars can be under a
     * pixel wide: then the click may land on a neighbour, see lastClick). */
    clickable: (() => {
      const bars = st.drawn.filter((d) => d.kind === 'slice');
      let best = null, room = -1;
      for (const d of bars) {
        const task = taskOf(d.s);
        if (task === null) continue;
        const mid = (d.x0 + d.x1) / 2;
        let near = Infinity;
        for (const o of bars) if (o !== d && o.y0 === d.y0) near = Math.min(near, Math.abs((o.x0 + o.x1) / 2 - mid));
        if (near > room) { room = near; best = { x: mid, y: (d.y0 + d.y1) / 2, task, tid: d.s.tid }; }
      }
      return best;
    })(),
    lastClick: st.lastClick || null,
  };
}
