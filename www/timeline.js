/*
 * The timeline panel: a hand-drawn canvas with one lane per thread that runs
 * tasks. A CPU step is drawn over its wall time: the share its thread was on
 * a core (cpu_us / wall) filled in the core's hue, the rest hatched in the
 * "waiting for a core" hue; IO and yield steps are thin hatched bars (no
 * CPU). A time axis relative to the newest sample, the legend, a "show"
 * window to zoom in, a tooltip (wall, on-CPU, waiting, thread, core), and a
 * selected task (click, or the task card) outlined across lanes and joined
 * in time order. Lanes beyond what fits are folded into one "N more
 * threads" lane (timeline-model.js). At each lane's right end, the tasks
 * its thread holds now ("1,000 in flight" on an async loop) and the steps
 * this update left out of it; the note above says what the update left
 * out in all. Redrawn in requestAnimationFrame, at most once per frame.
 * timelineModel() gives the drawn steps with their on-core share and each
 * lane's count (tests).
 */

import { NA, isNum, fmt, fmtInt, get } from './format.js';
import { $, setText, legendItem } from './dom.js';
import { coreColor, stateColor } from './colors.js';
import { share, buildLanes, laneHeight, viewWindow, tickStep, fmtTick, leftOutNote, laneCountText } from './timeline-model.js';

const tl = {
  canvas: null, wrap: null, tip: null, note: null, legend: null, windowSel: null,
  legendKey: '', windowMs: 0,
  lanes: [], laneOf: new Map(), byLane: [], from: 0, to: 1,
  gutter: 150, top: 20, laneH: 16, cssW: 0, cssH: 0,
  mouse: null, hoverTask: null, pending: false, pattern: null, runqPattern: null, sentFrom: null,
  selected: null, onSelect: null, folded: null,
  drawnCounts: [],                 // the count drawn at each lane's end by the last draw ('' none)
};
let drawMs = null;                 // time of the last canvas draw

export function init() {
  Object.assign(tl, { canvas: $('timeline'), wrap: $('timeline-wrap'), tip: $('timeline-tip'),
    note: $('timeline-note'), legend: $('timeline-legend'), windowSel: $('timeline-window') });
  tl.windowSel.addEventListener('change', () => {
    tl.windowMs = Number(tl.windowSel.value) || 0;
    if (isNum(tl.sentFrom)) { applyWindow(); updateHover(); requestDraw(); }
  });
  tl.canvas.addEventListener('mousemove', (ev) => {
    const rect = tl.canvas.getBoundingClientRect();
    tl.mouse = { x: ev.clientX - rect.left, y: ev.clientY - rect.top };
    updateHover();
  });
  tl.canvas.addEventListener('click', (ev) => {
    const rect = tl.canvas.getBoundingClientRect();
    const s = stepAt(ev.clientX - rect.left, ev.clientY - rect.top);
    tl.selected = s ? s.task : null;
    requestDraw();
    if (tl.onSelect) tl.onSelect(tl.selected);
  });
  tl.canvas.addEventListener('mouseleave', () => {
    tl.mouse = null;
    tl.tip.hidden = true;
    if (tl.hoverTask !== null) { tl.hoverTask = null; requestDraw(); }
  });
  window.addEventListener('resize', requestDraw);
}

/* Time of the last canvas draw, in ms (null before the first). */
export function timelineDrawMs() { return drawMs; }

/* The task outlined across lanes (null: none); cb(id) hears of clicks. */
export function selectTimelineTask(id) { tl.selected = isNum(id) ? id : null; requestDraw(); }
export function onTimelineSelect(cb) { tl.onSelect = cb; }

/* What is drawn, for tests and the console: per step its lane, wall, on-core
 * and waiting time (ms); the count drawn at each lane's end (by the last
 * draw: it follows render by a frame); plus the folded lane, if any. */
export function timelineModel() {
  const steps = [];
  tl.byLane.forEach((arr, lane) => {
    for (const st of arr) {
      const sh = share(st);
      steps.push({ task: st.task, step: st.step, tid: st.tid, lane, kind: st.kind, core: st.core,
        wall_ms: sh.wall, cpu_ms: sh.cpu, waiting_ms: sh.waiting, waiting_share: sh.waitingShare });
    }
  });
  return { lanes: tl.lanes.map((th) => th.name || String(th.tid)), laneCounts: tl.drawnCounts,
    folded: tl.folded, selected: tl.selected, steps };
}

function requestDraw() {
  if (tl.pending || !tl.canvas) return;
  tl.pending = true;
  window.requestAnimationFrame(drawTimeline);
}

function applyWindow() {
  [tl.from, tl.to] = viewWindow(tl.sentFrom, tl.to, tl.windowMs);
}

/* s: the snapshot; view.natural: its threads in natural order; view.byTid: by tid. */
export function render(s, view) {
  const t = s.timeline || {};
  const steps = Array.isArray(t.steps) ? t.steps : [];
  Object.assign(tl, buildLanes(view.natural, view.byTid, steps));
  tl.laneH = laneHeight(tl.lanes.length);
  tl.to = isNum(t.to_ms) ? t.to_ms : (isNum(s.uptime_ms) ? s.uptime_ms : 1);
  tl.sentFrom = isNum(t.from_ms) ? t.from_ms : tl.to - 10000;
  applyWindow();
  renderNote(t, steps.length);
  renderLegend(s);
  updateHover();
  requestDraw();
}

function renderNote(t, nsteps) {
  const span = (tl.to - tl.sentFrom) / 1000;
  let note = `${fmtInt(nsteps)} steps in the last ${fmt(span, 1)} s on ${tl.lanes.length} lanes`;
  note += leftOutNote(t);
  if (tl.folded) note += ` — the last lane folds ${tl.folded.count} threads (${tl.folded.first} … ${tl.folded.last})`;
  setText(tl.note, note);
}

/* A hue per core, then the two hatches; rebuilt when the core count changes. */
function renderLegend(s) {
  let ncpu = get(s, ['kernel', 'ncpu']);
  if (!isNum(ncpu)) ncpu = Array.isArray(s.cores) ? s.cores.length : 0;
  const key = String(ncpu);
  if (key === tl.legendKey) return;
  tl.legendKey = key;
  tl.legend.textContent = '';
  for (let c = 0; c < ncpu && c < 64; c++) tl.legend.appendChild(legendItem('sw', coreColor(c), `core ${c}`));
  const hatchCss = (st) => `repeating-linear-gradient(135deg,${stateColor(st)} 0 2px,#fff 2px 4px)`;
  tl.legend.appendChild(legendItem('sw', hatchCss('runq'), 'ready, waiting for a core (part of a CPU step off the core)'));
  tl.legend.appendChild(legendItem('sw', hatchCss('io'), 'sleeping: I/O or timer wait, yield (no CPU used)'));
}

function makeHatch(ctx, bg, fg) {
  const p = document.createElement('canvas');
  p.width = p.height = 6;
  const g = p.getContext('2d');
  g.fillStyle = bg;
  g.fillRect(0, 0, 6, 6);
  g.strokeStyle = fg;
  g.lineWidth = 1.2;
  g.beginPath();
  g.moveTo(0, 6); g.lineTo(6, 0);
  g.moveTo(-1, 1); g.lineTo(1, -1);
  g.moveTo(5, 7); g.lineTo(7, 5);
  g.stroke();
  return ctx.createPattern(p, 'repeat');
}
function ioHatch(ctx) {
  if (!tl.pattern) tl.pattern = makeHatch(ctx, '#fff4e6', stateColor('io'));
  return tl.pattern;
}
function runqHatch(ctx) {
  if (!tl.runqPattern) tl.runqPattern = makeHatch(ctx, '#fff0f6', stateColor('runq'));
  return tl.runqPattern;
}

/* The canvas at the panel's width and the lanes' height (device pixels),
 * cleared; returns its 2D context and the CSS size. */
function prepareCanvas() {
  const canvas = tl.canvas;
  const cssW = Math.max(300, tl.wrap.clientWidth);
  tl.laneH = laneHeight(tl.lanes.length);
  const cssH = tl.top + Math.max(1, tl.lanes.length) * tl.laneH + 4;
  const dpr = window.devicePixelRatio || 1;
  if (cssW !== tl.cssW || cssH !== tl.cssH || canvas.width !== Math.round(cssW * dpr)) {
    tl.cssW = cssW; tl.cssH = cssH;
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
    canvas.style.height = `${cssH}px`;
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cssW, cssH);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, cssW, cssH);
  return ctx;
}

/* Alternate lane shading, each lane's thread name and tid in the gutter. */
function drawLaneLabels(ctx) {
  const lh = tl.laneH;
  ctx.font = `${lh >= 13 ? 11 : 9}px ui-monospace, "DejaVu Sans Mono", monospace`;
  ctx.textBaseline = 'middle';
  tl.lanes.forEach((th, i) => {
    const y = tl.top + i * lh;
    if (i % 2 === 0) { ctx.fillStyle = '#f6f7f9'; ctx.fillRect(0, y, tl.cssW, lh); }
    ctx.fillStyle = th.role === 'loop' ? stateColor('loop') : th.role === 'folded' ? '#868e96' : '#343a40';
    let name = th.name || String(th.tid);
    if (name.length > 15) name = `${name.slice(0, 14)}…`;
    ctx.fillText(name, 4, y + lh / 2);
    ctx.fillStyle = '#868e96';
    ctx.textAlign = 'right';
    ctx.fillText(th.folded ? 'folded' : String(th.tid), tl.gutter - 6, y + lh / 2);
    ctx.textAlign = 'left';
  });
}

/* The time grid, labelled relative to the newest sample ("now", "−2 s"). */
function drawGrid(ctx, plotW) {
  const span = tl.to - tl.from;
  const scale = plotW / span;
  const stepMs = tickStep(span, plotW);
  ctx.strokeStyle = '#e3e6ea';
  ctx.fillStyle = '#5c6578';
  ctx.lineWidth = 1;
  ctx.font = '10px system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.beginPath();
  for (let back = 0; back <= span + 0.001; back += stepMs) {
    const x = Math.round(tl.gutter + (span - back) * scale) + 0.5;
    ctx.moveTo(x, tl.top - 3);
    ctx.lineTo(x, tl.cssH);
    ctx.fillText(back === 0 ? 'now' : `−${fmtTick(back, stepMs)}`, Math.min(Math.max(x, tl.gutter + 14), tl.cssW - 16), 9);
  }
  ctx.stroke();
  ctx.textAlign = 'left';
}

/* Every step in view as rectangles, grouped by how they are filled:
 * onCore (by core hue), offCore (waiting for a core), waits (IO/yield),
 * plus the hovered and selected task's rectangles. */
function stepRects(plotW) {
  const r = { onCore: new Map(), offCore: [], waits: [], hover: [], selected: [] };
  const lh = tl.laneH, from = tl.from, scale = plotW / (tl.to - tl.from);
  const pad = lh >= 12 ? 2 : 1;
  tl.byLane.forEach((arr, i) => {
    const y = tl.top + i * lh + pad, h = lh - 2 * pad;
    for (const st of arr) {
      const s0 = isNum(st.start_ms) ? st.start_ms : from;
      const s1 = isNum(st.end_ms) ? st.end_ms : tl.to;      // still running: up to now
      if (s1 < from || s0 > tl.to) continue;
      const x0 = tl.gutter + Math.max(0, s0 - from) * scale;
      const w = Math.max(1, (Math.min(s1, tl.to) - Math.max(s0, from)) * scale);
      if (st.kind === 'cpu') addCpuStep(r, st, x0, y, w, h);
      else {
        const hh = Math.max(2, Math.round(h * 0.45));
        r.waits.push([x0, y - pad + (lh - hh) / 2, w, hh]);
      }
      if (tl.hoverTask !== null && st.task === tl.hoverTask) r.hover.push([x0, y, w, h]);
      if (tl.selected !== null && st.task === tl.selected) r.selected.push([x0, y, w, h]);
    }
  });
  return r;
}

/* Filled: the on-core share, in the core's hue; the rest: waiting for a
 * core. With no cpu_us (older server) the whole bar is filled. */
function addCpuStep(r, st, x0, y, w, h) {
  const sh = share(st);
  const onW = sh.onShare === null ? w : Math.max(sh.onShare > 0 ? 1 : 0, w * sh.onShare);
  const col = coreColor(st.core);
  if (!r.onCore.has(col)) r.onCore.set(col, []);
  if (onW > 0) r.onCore.get(col).push([x0, y, onW, h]);
  if (w - onW >= 0.5) r.offCore.push([x0 + onW, y, w - onW, h]);
}

/* One path and one fill per style. */
function fillRects(ctx, rects, style, outline) {
  if (!rects.length) return;
  ctx.fillStyle = style;
  ctx.beginPath();
  for (const [x, y, w, h] of rects) ctx.rect(x, y, w, h);
  ctx.fill();
  if (outline) {
    ctx.strokeStyle = outline;
    ctx.lineWidth = 0.5;
    ctx.stroke();
  }
}

/* The task's steps outlined on every lane and joined in time order. */
function outlineTask(ctx, rects, color, width, dash) {
  if (!rects.length) return;
  rects.sort((a, b) => a[0] - b[0]);
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.beginPath();
  for (const [x, y, w, h] of rects) ctx.rect(x - 1, y - 1, w + 2, h + 2);
  ctx.stroke();
  if (rects.length < 2) return;
  ctx.setLineDash(dash);
  ctx.beginPath();
  rects.forEach(([x, y, w, h], k) => {
    if (k === 0) ctx.moveTo(x + w / 2, y + h / 2); else ctx.lineTo(x + w / 2, y + h / 2);
  });
  ctx.stroke();
  ctx.setLineDash([]);
}

/* On top of its steps, at the lane's right end, on a light box. */
function drawLaneCounts(ctx) {
  const lh = tl.laneH;
  ctx.font = `${lh >= 13 ? 11 : 9}px system-ui, sans-serif`;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  tl.drawnCounts = tl.lanes.map(laneCountText);
  tl.drawnCounts.forEach((txt, i) => {
    if (!txt) return;
    const y = tl.top + i * lh + lh / 2, w = ctx.measureText(txt).width;
    ctx.fillStyle = 'rgba(255,255,255,0.85)';
    ctx.fillRect(tl.cssW - 14 - w, y - lh / 2 + 1, w + 8, lh - 2);
    ctx.fillStyle = '#212529';
    ctx.fillText(txt, tl.cssW - 10, y);
  });
  ctx.textAlign = 'left';
}

function drawGutterLine(ctx) {
  ctx.strokeStyle = '#ced4da';
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(tl.gutter - 0.5, tl.top - 3);
  ctx.lineTo(tl.gutter - 0.5, tl.cssH);
  ctx.stroke();
  if (tl.lanes.length === 0) {
    ctx.fillStyle = '#868e96';
    ctx.font = '12px system-ui, sans-serif';
    ctx.fillText('no task-running threads yet', tl.gutter + 10, tl.top + 10);
  }
}

function drawTimeline() {
  tl.pending = false;
  const t0 = performance.now();
  const ctx = prepareCanvas();
  const plotW = tl.cssW - tl.gutter - 8;
  drawLaneLabels(ctx);
  drawGrid(ctx, plotW);
  const r = stepRects(plotW);
  fillRects(ctx, r.waits, ioHatch(ctx), '#adb5bd');
  fillRects(ctx, r.offCore, runqHatch(ctx));
  r.onCore.forEach((list, color) => fillRects(ctx, list, color));
  /* the hovered task, then the selected one (thicker, solid join) */
  outlineTask(ctx, r.hover, '#111', 1.5, [3, 3]);
  outlineTask(ctx, r.selected, '#000', 2.5, []);
  drawLaneCounts(ctx);
  drawGutterLine(ctx);
  drawMs = Math.round((performance.now() - t0) * 100) / 100;
}

function stepAt(mx, my) {
  const lane = Math.floor((my - tl.top) / tl.laneH);
  if (lane < 0 || lane >= tl.lanes.length || mx < tl.gutter) return null;
  const scale = (tl.cssW - tl.gutter - 8) / (tl.to - tl.from);
  const tms = tl.from + (mx - tl.gutter) / scale;
  const tol = 3 / scale;            // 3 px of tolerance for very short steps
  let best = null, bestD = Infinity;
  for (const s of tl.byLane[lane]) {
    const s0 = s.start_ms, s1 = isNum(s.end_ms) ? s.end_ms : tl.to;
    const d = tms < s0 ? s0 - tms : tms > s1 ? tms - s1 : 0;
    if (d <= tol && (d < bestD || (d === bestD && s.kind === 'cpu'))) { best = s; bestD = d; }
  }
  return best;
}

function tipText(s) {
  const th = tl.lanes[tl.laneOf.get(s.tid)] || {};
  const sh = share(s);
  const name = th.folded ? `one of ${th.name}` : (th.name || '?');
  const dur = isNum(s.end_ms) ? `wall ${fmt(sh.wall, 2)} ms` : 'still running';
  const cpuLine = sh.cpu === null ? `on-CPU ${NA}`
    : `on-CPU ${fmt(sh.cpu, 2)} ms · ${s.kind === 'cpu' ? 'waiting for a core ' : 'sleeping '}` +
      `${fmt(sh.waiting, 2)} ms (${fmt(100 * sh.waitingShare, 0)}%)`;
  return `task ${s.task} · step ${s.step} (${s.kind})\n` +
    `thread ${name} (tid ${s.tid}) · core ${isNum(s.core) ? s.core : NA}\n${dur}\n${cpuLine}\n` +
    `${isNum(s.coro) ? `coroutine ${s.coro} · stack ${s.stack || NA}\n` : ''}` +
    `at ${fmt((s.start_ms - tl.to) / 1000, 3)} s · click to follow the task`;
}

/* Tooltip for the step under the mouse; re-run after each snapshot since the bars move. */
function updateHover() {
  if (!tl.mouse) return;
  const { x: mx, y: my } = tl.mouse;
  const s = stepAt(mx, my);
  if (!s) {
    tl.tip.hidden = true;
    if (tl.hoverTask !== null) { tl.hoverTask = null; requestDraw(); }
    return;
  }
  tl.tip.textContent = tipText(s);
  tl.tip.hidden = false;
  let tx = mx + 14, ty = my + 14;
  if (tx + tl.tip.offsetWidth > tl.cssW) tx = mx - tl.tip.offsetWidth - 10;
  if (ty + tl.tip.offsetHeight > tl.cssH) ty = my - tl.tip.offsetHeight - 10;
  tl.tip.style.left = `${Math.max(0, tx)}px`;
  tl.tip.style.top = `${Math.max(0, ty)}px`;
  if (tl.hoverTask !== s.task) { tl.hoverTask = s.task; requestDraw(); }
}
