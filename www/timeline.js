/*
 * The timeline panel: a hand-drawn canvas with one lane per thread that runs
 * tasks. A CPU step is drawn over its wall time: the share its thread was on
 * a core (cpu_us / wall) filled in the core's hue, the rest hatched in the
 * "waiting for a core" hue; IO and yield steps are thin hatched bars (no
 * CPU). A time axis relative to the newest sample, the legend, a "show"
 * window to zoom in, a tooltip (wall, on-CPU, waiting, thread, core), and a
 * selected task (click, or the task card) outlined across lanes and joined
 * in time order. Lanes beyond what fits are folded into one "N more
 * threads" lane. Redrawn in requestAnimationFrame, at most once per frame.
 * timelineModel() gives the drawn steps with their on-core share (tests).
 */

import { NA, isNum, fmt, fmtInt, get } from './format.js';
import { $, el, setText } from './dom.js';
import { naturalCompare } from './thread-info.js';

import { coreColor, stateColor } from './cores.js';

/* More lanes than this and the rest are folded into one. */
const MAX_LANES = 48;

const tl = {
  canvas: $('timeline'), wrap: $('timeline-wrap'), tip: $('timeline-tip'), note: $('timeline-note'),
  legend: $('timeline-legend'), legendKey: '', windowSel: $('timeline-window'), windowMs: 0,
  lanes: [], laneOf: new Map(), byLane: [], from: 0, to: 1,
  gutter: 150, top: 20, laneH: 16, cssW: 0, cssH: 0,
  mouse: null, hoverTask: null, pending: false, pattern: null, runqPattern: null, sentFrom: null,
  selected: null, onSelect: null, folded: null
};
let drawMs = null;                 // time of the last canvas draw

/* Time of the last canvas draw, in ms (null before the first). */
export function timelineDrawMs() { return drawMs; }

/* The task outlined across lanes (null: none); cb(id) hears of clicks. */
export function selectTimelineTask(id) { tl.selected = isNum(id) ? id : null; requestDraw(); }
export function onTimelineSelect(cb) { tl.onSelect = cb; }

/* What is drawn, for tests and the console: per step its lane, wall, on-core
 * and waiting time (ms); plus the folded lane, if any. */
export function timelineModel() {
  var out = [];
  for (var i = 0; i < tl.byLane.length; i++) {
    var arr = tl.byLane[i];
    for (var j = 0; j < arr.length; j++) {
      var st = arr[j], sh = share(st);
      out.push({ task: st.task, step: st.step, tid: st.tid, lane: i, kind: st.kind, core: st.core,
        wall_ms: sh.wall, cpu_ms: sh.cpu, waiting_ms: sh.waiting, waiting_share: sh.waitingShare });
    }
  }
  return { lanes: tl.lanes.map(function (th) { return th.name || String(th.tid); }),
    folded: tl.folded, selected: tl.selected, steps: out };
}

/* A step's wall time split into on a core and not (ms). cpu_us is the
 * thread's CPU clock across the step; null when the server did not send it. */
function share(st) {
  var wall = isNum(st.end_ms) && isNum(st.start_ms) ? Math.max(0, st.end_ms - st.start_ms) : null;
  var cpu = isNum(st.cpu_us) ? st.cpu_us / 1000 : null;
  if (wall === null || cpu === null) return { wall: wall, cpu: cpu, waiting: null, onShare: null, waitingShare: null };
  if (cpu > wall) cpu = wall;      // µs truncation at both ends
  var waiting = wall - cpu;
  return { wall: wall, cpu: cpu, waiting: waiting, onShare: wall > 0 ? cpu / wall : 1,
    waitingShare: wall > 0 ? waiting / wall : 0 };
}

function requestDraw() {
  if (tl.pending) return;
  tl.pending = true;
  window.requestAnimationFrame(drawTimeline);
}

/* s: the snapshot; threads: its threads in natural order; threadsByTid: the same by tid. */
export function renderTimeline(s, threads, threadsByTid) {
  var t = s.timeline || {};
  var steps = Array.isArray(t.steps) ? t.steps : [];
  /* lanes: the threads that run tasks (loop, workers) plus any other tid seen in steps */
  var lanes = threads.filter(function (th) { return th.role === 'loop' || th.role === 'worker'; });
  var have = new Set(lanes.map(function (th) { return th.tid; }));
  for (var i = 0; i < steps.length; i++) {
    var tid = steps[i].tid;
    if (!have.has(tid)) {
      have.add(tid);
      lanes.push(threadsByTid.get(tid) || { tid: tid, name: 'tid ' + tid, role: 'other', index: null });
    }
  }
  lanes.sort(naturalCompare);
  tl.folded = null;
  if (lanes.length > MAX_LANES) {
    /* Keep the first lanes (loops, low workers); one lane carries the rest. */
    var rest = lanes.slice(MAX_LANES - 1);
    var names = rest.map(function (th) { return th.name || String(th.tid); });
    var fold = { tid: -1, name: rest.length + ' more threads', role: 'folded', index: null, folded: rest.map(function (th) { return th.tid; }) };
    tl.folded = { count: rest.length, first: names[0], last: names[names.length - 1] };
    lanes = lanes.slice(0, MAX_LANES - 1);
    lanes.push(fold);
  }
  tl.lanes = lanes;
  tl.laneH = laneHeight(lanes.length);
  tl.laneOf = new Map();
  tl.byLane = lanes.map(function () { return []; });
  lanes.forEach(function (th, k) {
    if (th.folded) th.folded.forEach(function (tid) { tl.laneOf.set(tid, k); });
    else tl.laneOf.set(th.tid, k);
  });
  for (i = 0; i < steps.length; i++) {
    var k = tl.laneOf.get(steps[i].tid);
    if (k !== undefined) tl.byLane[k].push(steps[i]);
  }
  tl.to = isNum(t.to_ms) ? t.to_ms : (isNum(s.uptime_ms) ? s.uptime_ms : 1);
  tl.sentFrom = isNum(t.from_ms) ? t.from_ms : tl.to - 10000;
  applyWindow();

  var span = (tl.to - tl.sentFrom) / 1000;
  var note = fmtInt(steps.length) + ' steps in the last ' + fmt(span, 1) + ' s on ' + lanes.length + ' lanes';
  if (isNum(t.left_out) ? t.left_out > 0 : t.sampled)
    note += ' — sampled: ' + fmtInt(isNum(t.left_out) ? t.left_out : t.dropped) + ' steps left out of this update to keep it bounded (each lane says how many of its own)';
  if (tl.folded) note += ' — the last lane folds ' + tl.folded.count + ' threads (' + tl.folded.first + ' … ' + tl.folded.last + ')';
  setText(tl.note, note);

  var ncpu = get(s, ['kernel', 'ncpu']);
  if (!isNum(ncpu)) ncpu = Array.isArray(s.cores) ? s.cores.length : 0;
  var lk = String(ncpu);
  if (lk !== tl.legendKey) {
    tl.legendKey = lk;
    tl.legend.textContent = '';
    for (var c = 0; c < ncpu && c < 64; c++) {
      var sp = el('span');
      var sw = el('span', 'sw');
      sw.style.background = coreColor(c);
      sp.appendChild(sw);
      sp.appendChild(document.createTextNode('core ' + c));
      tl.legend.appendChild(sp);
    }
    var q = el('span');
    var qs = el('span', 'sw');
    qs.style.background = 'repeating-linear-gradient(135deg,' + stateColor('runq') + ' 0 2px,#fff 2px 4px)';
    q.appendChild(qs);
    q.appendChild(document.createTextNode('ready, waiting for a core (part of a CPU step off the core)'));
    tl.legend.appendChild(q);
    var w = el('span');
    var ws = el('span', 'sw');
    ws.style.background = 'repeating-linear-gradient(135deg,' + stateColor('io') + ' 0 2px,#fff 2px 4px)';
    w.appendChild(ws);
    w.appendChild(document.createTextNode('sleeping: I/O or timer wait, yield (no CPU used)'));
    tl.legend.appendChild(w);
  }
  updateHover();
  requestDraw();
}

function laneHeight(n) { return Math.max(9, Math.min(22, Math.floor(560 / Math.max(1, n)))); }

function applyWindow() {
  tl.from = tl.sentFrom;
  if (tl.windowMs > 0 && tl.to - tl.windowMs > tl.from) tl.from = tl.to - tl.windowMs;
  if (tl.to <= tl.from) tl.to = tl.from + 1;
}
tl.windowSel.addEventListener('change', function () {
  tl.windowMs = Number(tl.windowSel.value) || 0;
  if (isNum(tl.sentFrom)) { applyWindow(); updateHover(); requestDraw(); }
});

function hatch(ctx) {
  if (!tl.pattern) tl.pattern = makeHatch(ctx, '#fff4e6', stateColor('io'));
  return tl.pattern;
}
function runqHatch(ctx) {
  if (!tl.runqPattern) tl.runqPattern = makeHatch(ctx, '#fff0f6', stateColor('runq'));
  return tl.runqPattern;
}
function makeHatch(ctx, bg, fg) {
  var p = document.createElement('canvas');
  p.width = p.height = 6;
  var g = p.getContext('2d');
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

function tickStep(spanMs, px) {
  var target = spanMs / Math.max(2, Math.floor(px / 90));
  var steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 30000, 60000];
  for (var i = 0; i < steps.length; i++) if (steps[i] >= target) return steps[i];
  return 120000;
}
function fmtTick(ms, stepMs) {
  if (stepMs >= 1000) return (ms / 1000) + ' s';
  if (stepMs >= 100 && ms >= 1000) return (ms / 1000).toFixed(1) + ' s';
  return ms + ' ms';
}

function drawTimeline() {
  tl.pending = false;
  var t0 = performance.now();
  var canvas = tl.canvas;
  var n = tl.lanes.length;
  var cssW = Math.max(300, tl.wrap.clientWidth);
  tl.laneH = laneHeight(n);
  var cssH = tl.top + Math.max(1, n) * tl.laneH + 4;
  var dpr = window.devicePixelRatio || 1;
  if (cssW !== tl.cssW || cssH !== tl.cssH || canvas.width !== Math.round(cssW * dpr)) {
    tl.cssW = cssW; tl.cssH = cssH;
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
    canvas.style.height = cssH + 'px';
  }
  var ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cssW, cssH);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, cssW, cssH);

  var gx = tl.gutter, plotW = cssW - gx - 8, top = tl.top, lh = tl.laneH;
  var from = tl.from, span = tl.to - tl.from;
  var scale = plotW / span;

  /* lanes and labels */
  ctx.font = (lh >= 13 ? 11 : 9) + 'px ui-monospace, "DejaVu Sans Mono", monospace';
  ctx.textBaseline = 'middle';
  for (var i = 0; i < n; i++) {
    var y = top + i * lh;
    if (i % 2 === 0) { ctx.fillStyle = '#f6f7f9'; ctx.fillRect(0, y, cssW, lh); }
    var th = tl.lanes[i];
    ctx.fillStyle = th.role === 'loop' ? stateColor('loop') : th.role === 'folded' ? '#868e96' : '#343a40';
    var name = th.name || String(th.tid);
    if (name.length > 15) name = name.slice(0, 14) + '…';
    ctx.fillText(name, 4, y + lh / 2);
    ctx.fillStyle = '#868e96';
    ctx.textAlign = 'right';
    ctx.fillText(th.folded ? 'folded' : String(th.tid), gx - 6, y + lh / 2);
    ctx.textAlign = 'left';
  }

  /* time grid, labelled relative to the newest sample */
  var stepMs = tickStep(span, plotW);
  ctx.strokeStyle = '#e3e6ea';
  ctx.fillStyle = '#5c6578';
  ctx.lineWidth = 1;
  ctx.font = '10px system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.beginPath();
  for (var back = 0; back <= span + 0.001; back += stepMs) {
    var x = Math.round(gx + (span - back) * scale) + 0.5;
    ctx.moveTo(x, top - 3);
    ctx.lineTo(x, cssH);
    var lbl = back === 0 ? 'now' : '−' + fmtTick(back, stepMs);
    ctx.fillText(lbl, Math.min(Math.max(x, gx + 14), cssW - 16), 9);
  }
  ctx.stroke();
  ctx.textAlign = 'left';

  /* steps: batch the rectangles by colour, one fill per colour */
  var buckets = new Map();
  var waits = [];
  var offCore = [];                // the waiting-for-a-core part of CPU steps
  var hoverRects = [];
  var selRects = [];
  var pad = lh >= 12 ? 2 : 1;
  for (i = 0; i < n; i++) {
    var arr = tl.byLane[i];
    var yy = top + i * lh;
    for (var j = 0; j < arr.length; j++) {
      var st = arr[j];
      var s0 = isNum(st.start_ms) ? st.start_ms : from;
      var s1 = isNum(st.end_ms) ? st.end_ms : tl.to;      // still running: up to now
      if (s1 < from || s0 > tl.to) continue;
      var x0 = gx + Math.max(0, s0 - from) * scale;
      var w = Math.max(1, (Math.min(s1, tl.to) - Math.max(s0, from)) * scale);
      var rect = [x0, yy + pad, w, lh - 2 * pad];
      if (st.kind === 'cpu') {
        /* Filled: the on-core share, drawn first; hatched: the rest. With
         * no cpu_us (older server) the whole bar is filled, as before. */
        var sh = share(st);
        var onW = sh.onShare === null ? w : Math.max(sh.onShare > 0 ? 1 : 0, w * sh.onShare);
        var col = coreColor(st.core);
        var b = buckets.get(col);
        if (!b) { b = []; buckets.set(col, b); }
        if (onW > 0) b.push([x0, yy + pad, onW, lh - 2 * pad]);
        if (w - onW >= 0.5) offCore.push([x0 + onW, yy + pad, w - onW, lh - 2 * pad]);
      } else {
        var h = Math.max(2, Math.round((lh - 2 * pad) * 0.45));
        waits.push([x0, yy + (lh - h) / 2, w, h]);
      }
      if (tl.hoverTask !== null && st.task === tl.hoverTask) hoverRects.push(rect);
      if (tl.selected !== null && st.task === tl.selected) selRects.push(rect);
    }
  }
  var k;
  if (waits.length) {
    ctx.fillStyle = hatch(ctx);
    ctx.beginPath();
    for (k = 0; k < waits.length; k++) ctx.rect(waits[k][0], waits[k][1], waits[k][2], waits[k][3]);
    ctx.fill();
    ctx.strokeStyle = '#adb5bd';
    ctx.lineWidth = 0.5;
    ctx.stroke();
  }
  if (offCore.length) {
    ctx.fillStyle = runqHatch(ctx);
    ctx.beginPath();
    for (k = 0; k < offCore.length; k++) ctx.rect(offCore[k][0], offCore[k][1], offCore[k][2], offCore[k][3]);
    ctx.fill();
  }
  buckets.forEach(function (list, color) {
    ctx.fillStyle = color;
    ctx.beginPath();
    for (var q = 0; q < list.length; q++) ctx.rect(list[q][0], list[q][1], list[q][2], list[q][3]);
    ctx.fill();
  });

  /* the hovered task, then the selected one (thicker, solid join): outline
   * its steps on every lane and join them in time order */
  outlineTask(ctx, hoverRects, '#111', 1.5, [3, 3]);
  outlineTask(ctx, selRects, '#000', 2.5, []);

  /* gutter separator */
  ctx.strokeStyle = '#ced4da';
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(gx - 0.5, top - 3);
  ctx.lineTo(gx - 0.5, cssH);
  ctx.stroke();

  laneCounts(ctx, n, top, lh, cssW);
  if (n === 0) {
    ctx.fillStyle = '#868e96';
    ctx.font = '12px system-ui, sans-serif';
    ctx.fillText('no task-running threads yet', gx + 10, top + 10);
  }
  drawMs = Math.round((performance.now() - t0) * 100) / 100;
}

/* On top of its steps, at the lane's right end: the tasks the thread holds
 * now (the loop: those waiting on its timers) and the steps this update
 * left out of its lane. */
function laneCounts(ctx, n, top, lh, cssW) {
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (var i = 0; i < n; i++) {
    var th = tl.lanes[i], extra = [];
    if (isNum(th.tasks_in_flight) && th.tasks_in_flight > 0) extra.push(fmtInt(th.tasks_in_flight) + ' in flight');
    if (isNum(th.steps_left_out) && th.steps_left_out > 0) extra.push(fmtInt(th.steps_left_out) + ' steps left out');
    if (!extra.length) continue;
    var txt = extra.join(' · '), y = top + i * lh + lh / 2, w = ctx.measureText(txt).width;
    ctx.fillStyle = 'rgba(255,255,255,0.85)';
    ctx.fillRect(cssW - 14 - w, y - lh / 2 + 1, w + 8, lh - 2);
    ctx.fillStyle = '#212529';
    ctx.fillText(txt, cssW - 10, y);
  }
  ctx.textAlign = 'left';
}

function outlineTask(ctx, rects, color, width, dash) {
  if (!rects.length) return;
  rects.sort(function (a, b2) { return a[0] - b2[0]; });
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.beginPath();
  for (var k = 0; k < rects.length; k++) {
    var r = rects[k];
    ctx.rect(r[0] - 1, r[1] - 1, r[2] + 2, r[3] + 2);
  }
  ctx.stroke();
  if (rects.length > 1) {
    ctx.setLineDash(dash);
    ctx.beginPath();
    for (k = 0; k < rects.length; k++) {
      var rr = rects[k];
      var cx = rr[0] + rr[2] / 2, cy = rr[1] + rr[3] / 2;
      if (k === 0) ctx.moveTo(cx, cy); else ctx.lineTo(cx, cy);
    }
    ctx.stroke();
    ctx.setLineDash([]);
  }
}

function stepAt(mx, my) {
  var lane = Math.floor((my - tl.top) / tl.laneH);
  if (lane < 0 || lane >= tl.lanes.length || mx < tl.gutter) return null;
  var scale = (tl.cssW - tl.gutter - 8) / (tl.to - tl.from);
  var tms = tl.from + (mx - tl.gutter) / scale;
  var tol = 3 / scale;            // 3 px of tolerance for very short steps
  var best = null, bestD = Infinity;
  var arr = tl.byLane[lane];
  for (var i = 0; i < arr.length; i++) {
    var s = arr[i];
    var s0 = s.start_ms, s1 = isNum(s.end_ms) ? s.end_ms : tl.to;
    var d = tms < s0 ? s0 - tms : tms > s1 ? tms - s1 : 0;
    if (d <= tol && (d < bestD || (d === bestD && s.kind === 'cpu'))) { best = s; bestD = d; }
  }
  return best;
}

/* Tooltip for the step under the mouse; re-run after each snapshot since the bars move. */
function updateHover() {
  if (!tl.mouse) return;
  var mx = tl.mouse.x, my = tl.mouse.y;
  var s = stepAt(mx, my);
  if (!s) {
    tl.tip.hidden = true;
    if (tl.hoverTask !== null) { tl.hoverTask = null; requestDraw(); }
    return;
  }
  var th = tl.lanes[tl.laneOf.get(s.tid)] || {};
  var sh = share(s);
  var name = th.folded ? 'one of ' + th.name : (th.name || '?');
  var dur = isNum(s.end_ms) ? 'wall ' + fmt(sh.wall, 2) + ' ms' : 'still running';
  var cpuLine = sh.cpu === null ? 'on-CPU ' + NA
    : 'on-CPU ' + fmt(sh.cpu, 2) + ' ms · ' + (s.kind === 'cpu' ? 'waiting for a core ' : 'sleeping ') +
      fmt(sh.waiting, 2) + ' ms (' + fmt(100 * sh.waitingShare, 0) + '%)';
  tl.tip.textContent = 'task ' + s.task + ' · step ' + s.step + ' (' + s.kind + ')\n' +
    'thread ' + name + ' (tid ' + s.tid + ') · core ' + (isNum(s.core) ? s.core : NA) + '\n' +
    dur + '\n' + cpuLine + '\n' +
    (isNum(s.coro) ? 'coroutine ' + s.coro + ' · stack ' + (s.stack || NA) + '\n' : '') +
    'at ' + fmt((s.start_ms - tl.to) / 1000, 3) + ' s · click to follow the task';
  tl.tip.hidden = false;
  var tx = mx + 14, ty = my + 14;
  if (tx + tl.tip.offsetWidth > tl.cssW) tx = mx - tl.tip.offsetWidth - 10;
  if (ty + tl.tip.offsetHeight > tl.cssH) ty = my - tl.tip.offsetHeight - 10;
  tl.tip.style.left = Math.max(0, tx) + 'px';
  tl.tip.style.top = Math.max(0, ty) + 'px';
  if (tl.hoverTask !== s.task) { tl.hoverTask = s.task; requestDraw(); }
}
tl.canvas.addEventListener('mousemove', function (ev) {
  var rect = tl.canvas.getBoundingClientRect();
  tl.mouse = { x: ev.clientX - rect.left, y: ev.clientY - rect.top };
  updateHover();
});
tl.canvas.addEventListener('click', function (ev) {
  var rect = tl.canvas.getBoundingClientRect();
  var s = stepAt(ev.clientX - rect.left, ev.clientY - rect.top);
  tl.selected = s ? s.task : null;
  requestDraw();
  if (tl.onSelect) tl.onSelect(tl.selected);
});
tl.canvas.addEventListener('mouseleave', function () {
  tl.mouse = null;
  tl.tip.hidden = true;
  if (tl.hoverTask !== null) { tl.hoverTask = null; requestDraw(); }
});
window.addEventListener('resize', requestDraw);
