/*
 * The "Load over time" panel: line charts of requests and errors per second,
 * latency percentiles (all routes, and p50/p99 per route), queue depth,
 * event-loop lag and busy %, each core's busy % and each worker's CPU %, one
 * point per period. The view is the last 60 s (5 min on demand, the
 * history's length), each chart scaled to what the view holds (so a spike
 * that left the view flattens nothing), linear or log. The stream's first
 * event, `history`, fills the charts (a load that ran before the page
 * opened is visible; after a server restart the new stream brings the new
 * server's); live snapshots then add points. Every chart draws the events
 * (events.js) as vertical markers, their labels placed so that none
 * overlaps (labels.js). Latencies are histogram bucket edges: axes use the
 * unit that fits (µs/ms/s) and values are shown as bounds ("≤ 41 ms").
 * Uses Chart.js 3.9.1 (window.Chart, loaded by index.html from
 * /vendor/chart.js); without it the charts are skipped and #charts-missing
 * says so. window.tlCharts exposes the state, for tests. The model (points,
 * windows, routes) is series.js.
 */

import { isNum, clock, get, msUnit, fmt, fmtMs, fmtBoundMs } from './format.js';
import { $, setText } from './dom.js';
import { addEvents, resetEvents, eventList, markerLabel, markerColor } from './events.js';
import { renderEventLog } from './event-log.js';
import { coreColor, seriesColor, translucent } from './colors.js';
import { layoutLabels } from './labels.js';
import {
  pointOfSnapshot, pointsOfHistory, errorRate, mergeHistory, trimPoints, inWindow, routesShown,
  seriesCount, seqAt, forScale, MAX_WORKER_SERIES,
} from './series.js';

const ROUTE_COLORS = ['#1c7ed6', '#e8590c', '#2b9a47', '#862e9c', '#c92a2a', '#0b7285', '#5c940d', '#d6336c', '#495057'];
const LABEL_ROWS = 3;

let charts = null;                 // key -> Chart
let points = [];                   // series.js points, oldest first (5 minutes)
let prevStatus = null;             // previous by_status, to turn counters into rates
let historyLoaded = false;
let historyEvents = [];            // the events of the last history, to restore after a restart reset
const view = { windowMs: 60000, log: false };
const markersDrawn = {};           // chart key -> markers drawn in its last draw

/* Draws each event inside the chart's time range as a vertical line with a
 * label; labels go on up to LABEL_ROWS rows and never overlap. */
const markerPlugin = {
  id: 'tlEventMarkers',
  afterDatasetsDraw(chart) {
    const area = chart.chartArea, xs = chart.scales.x;
    const times = chart.$tlTimes || [];
    if (!chart.$tlKey) return;            // the first draw, inside the constructor
    if (!area || !xs || times.length < 2) { markersDrawn[chart.$tlKey] = { all: 0, control: 0, labels: 0, boxes: [] }; return; }
    const ctx = chart.ctx;
    ctx.save();
    ctx.font = `10px ${window.Chart.defaults.font.family}`;
    const shown = eventList().filter((e) => e.time_ms >= times[0] && e.time_ms <= times[times.length - 1] + 1)
      .map((e) => ({ e, x: xs.getPixelForValue(seqAt(chart.$tlSeqs, times, e.time_ms)) }))
      .filter((m) => Number.isFinite(m.x));
    for (const { e, x } of shown) {
      ctx.strokeStyle = markerColor(e);
      ctx.lineWidth = 1;
      ctx.setLineDash(e.kind === 'load_end' ? [3, 3] : []);
      ctx.beginPath();
      ctx.moveTo(x + 0.5, area.top);
      ctx.lineTo(x + 0.5, area.bottom);
      ctx.stroke();
    }
    const texts = shown.map((m) => markerLabel(m.e));
    const widths = texts.map((t) => ctx.measureText(t).width);
    const places = layoutLabels(shown.map((m, i) => ({ x: m.x, width: widths[i] })), area.right, LABEL_ROWS);
    const boxes = [];
    places.forEach((p, i) => {
      if (!p) return;
      ctx.fillStyle = markerColor(shown[i].e);
      ctx.fillText(texts[i], p.left, area.top + 10 + p.row * 11);
      boxes.push([p.row, Math.floor(p.left), Math.ceil(p.left + widths[i])]);
    });
    ctx.restore();
    markersDrawn[chart.$tlKey] = { all: shown.length, control: shown.filter((m) => m.e.kind === 'control').length,
      labels: boxes.length, boxes };
  },
};

/* The wall time of x, from the nearest point. */
function timeOfX(chart, v) {
  const seqs = chart.$tlSeqs || [], ts = chart.$tlTimes || [];
  if (!seqs.length) return null;
  const i = Math.round(v) - seqs[0];
  if (i < 0 || i >= ts.length || seqs[i] !== Math.round(v)) return null;
  return ts[i];
}

function lineDs(label, color, extra) {
  return { label, data: [], borderColor: color, backgroundColor: color, borderWidth: 1.6, pointRadius: 0,
    pointHitRadius: 6, tension: 0, spanGaps: false, fill: false, ...extra };
}

/* A latency axis: the unit is picked from the largest value shown. */
function latencyAxis(title) {
  return {
    beginAtZero: true, grace: '5%',
    title: { display: true, text: `${title} (ms)`, font: { size: 11 } },
    ticks: {
      font: { size: 10 }, maxTicksLimit: 6,
      callback(v) {
        /* log: each tick in its own unit ("100 µs", "10 ms"); linear: in the axis's unit */
        if (this.chart.options.scales.y.type === 'logarithmic') return fmtMs(v);
        const u = this.chart.$tlUnit || msUnit(1);
        return fmt(v / u.per, u.name === 's' ? 2 : v / u.per < 10 ? 1 : 0).replace(/\.0+$/, '');
      },
    },
  };
}

function plainAxis(title) {
  return { beginAtZero: true, title: { display: !!title, text: title, font: { size: 11 } },
    ticks: { font: { size: 10 }, maxTicksLimit: 6 }, grace: '5%' };
}

/* opts: { latency, extraScales, pct (a 0-100 axis), noLog } */
function makeChart(key, id, datasets, yTitle, opts = {}) {
  const canvas = $(id);
  if (!canvas) return null;
  const y = opts.latency ? latencyAxis(yTitle) : plainAxis(yTitle);
  if (opts.stacked) Object.assign(y, { min: 0, stacked: true, grace: 0 });
  const scales = {
    x: { type: 'linear', grid: { display: false },
      /* includeBounds false: Chart.js spaces the bound ticks by the width of
       * the seq number, not of the clock label, so the last two clocks
       * overlapped ("19:57:4119:57:42") */
      ticks: { maxTicksLimit: 7, maxRotation: 0, autoSkip: true, includeBounds: false, font: { size: 10 },
        callback(v) { const t = timeOfX(this.chart, v); return t === null ? '' : clock(t); } } },
    y, ...opts.extraScales,
  };
  const chart = new window.Chart(canvas.getContext('2d'), {
    type: 'line',
    data: { datasets },
    plugins: [markerPlugin],
    options: {
      animation: false, responsive: true, maintainAspectRatio: false, parsing: false, normalized: true,
      interaction: { mode: 'index', intersect: false },
      scales,
      plugins: {
        legend: { display: datasets.length > 1 || !!opts.latency, position: 'top', align: 'end',
          labels: { boxWidth: 10, boxHeight: 10, font: { size: 11 } } },
        tooltip: {
          animation: false,
          callbacks: {
            title(items) { const t = items.length ? timeOfX(chart, items[0].parsed.x) : null; return t === null ? '' : clock(t, true); },
            label(item) {
              const v = item.parsed.y;
              const latencyDs = opts.latency && item.dataset.yAxisID !== 'y1';
              return `${item.dataset.label}: ${latencyDs ? fmtBoundMs(v) : fmt(v, v < 10 ? 1 : 0)}`;
            },
          },
        },
      },
    },
  });
  chart.$tlKey = key;
  chart.$tlNoLog = !!opts.noLog;
  chart.$tlLatency = !!opts.latency;
  chart.$tlTitle = yTitle;
  return chart;
}

/* What each fixed chart's datasets draw, by position. */
const GETTERS = {
  rps: [(p) => p.rps, (p) => p.err],
  latency: [(p) => p.p50, (p) => p.p90, (p) => p.p99],
  queue: [(p) => p.queue],
  lag: [(p) => p.lag50, (p) => p.lag99, (p) => p.lagMax, (p) => p.busy],
};

function makeCharts() {
  window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  window.Chart.defaults.color = '#5c6578';
  const c = {
    rps: makeChart('rps', 'chart-rps', [
      lineDs('requests/s', '#1c7ed6', { fill: true, backgroundColor: 'rgba(28,126,214,0.12)' }),
      lineDs('errors/s (4xx+5xx)', '#e03131'),
    ], 'per second'),
    latency: makeChart('latency', 'chart-latency', [
      lineDs('p50', '#2b9a47'), lineDs('p90', '#f08c00'), lineDs('p99', '#e03131'),
    ], 'latency', { latency: true }),
    routes: makeChart('routes', 'chart-route-latency', [], 'latency', { latency: true }),
    queue: makeChart('queue', 'chart-queue', [
      lineDs('queue depth', '#7048e8', { fill: true, backgroundColor: 'rgba(112,72,232,0.12)', stepped: true }),
    ], 'tasks'),
    lag: makeChart('lag', 'chart-lag', [
      lineDs('lag p50', '#2b9a47'), lineDs('lag p99', '#e03131'), lineDs('lag max', '#862e9c', { borderDash: [4, 3] }),
      lineDs('loop busy %', '#868e96', { yAxisID: 'y1', borderWidth: 1, fill: true, backgroundColor: 'rgba(134,142,150,0.10)' }),
    ], 'lag', { latency: true, extraScales: {
      y1: { position: 'right', min: 0, max: 100, grid: { drawOnChartArea: false },
        title: { display: true, text: 'busy %', font: { size: 11 } }, ticks: { font: { size: 10 }, maxTicksLimit: 6 } },
    } }),
    cores: makeChart('cores', 'chart-cores', [], 'busy %, stacked', { noLog: true, stacked: true }),
    workers: makeChart('workers', 'chart-workers', [], 'CPU % of a core', { noLog: true }),
  };
  for (const k of Object.keys(c)) if (!c[k]) delete c[k];
  return c;
}

export function init() {
  const win = $('charts-window'), scale = $('charts-scale');
  if (win) {
    view.windowMs = Number(win.value) || 60000;
    win.addEventListener('change', () => { view.windowMs = Number(win.value) || 60000; redraw(); publish(); });
  }
  if (scale) {
    view.log = scale.value === 'log';
    scale.addEventListener('change', () => { view.log = scale.value === 'log'; redraw(); publish(); });
  }
  if (typeof window.Chart !== 'function') {
    $('charts-missing').hidden = false;
  } else {
    charts = makeCharts();
  }
  publish();
}

function series(pts, get1) {
  return pts.map((p) => ({ x: p.seq, y: forScale(get1(p), view.log) }));
}

/* Per route: p99 solid and p50 dashed, a hue per route. */
function syncRouteDatasets(chart, pts) {
  const want = [];
  routesShown(pts).forEach((r, k) => {
    const color = ROUTE_COLORS[k % ROUTE_COLORS.length];
    want.push({ label: `${r} p99`, route: r, which: 'p99', color, dash: [] });
    want.push({ label: `${r} p50`, route: r, which: 'p50', color, dash: [4, 3] });
  });
  if (chart.data.datasets.map((d) => d.label).join('|') !== want.map((w) => w.label).join('|')) {
    chart.data.datasets = want.map((w) => ({ ...lineDs(w.label, w.color, { borderDash: w.dash }), tlRoute: w.route, tlWhich: w.which }));
  }
  for (const d of chart.data.datasets) {
    d.data = series(pts, (p) => { const x = p.routes[d.tlRoute]; return x ? x[d.tlWhich] : null; });
  }
}

/* Cores: one band per core in the core's hue, stacked (two busy cores
 * would hide each other as lines; the top is N cores × 100 %). Workers: one
 * line each (the first MAX_WORKER_SERIES). */
function syncIndexedDatasets(chart, pts, key) {
  const n = seriesCount(pts, key, key === 'workers' ? MAX_WORKER_SERIES : 64);
  if (chart.data.datasets.length !== n) {
    chart.data.datasets = Array.from({ length: n }, (_, i) => (key === 'cores'
      ? lineDs(`core ${i}`, coreColor(i), { fill: i === 0 ? 'origin' : '-1', borderWidth: 1,
        backgroundColor: translucent(coreColor(i), 0.35) })
      : lineDs(`worker ${i}`, seriesColor(i), { borderWidth: 1.2 })));
    chart.options.plugins.legend.display = n > 0 && n <= 16;
    if (key === 'cores') chart.options.scales.y.max = Math.max(100, n * 100);
  }
  chart.data.datasets.forEach((d, i) => { d.data = series(pts, (p) => (p[key] ? p[key][i] : null)); });
  if (key === 'workers') {
    const all = seriesCount(pts, key);
    setText($('workers-note'), all > n ? `the first ${n} of ${all} workers drawn.` : `${all} worker${all === 1 ? '' : 's'}.`);
  }
}

/* The largest latency drawn, to pick the axis unit. */
function setUnit(chart) {
  let max = 0;
  for (const d of chart.data.datasets) {
    if (d.yAxisID === 'y1') continue;
    for (const pt of d.data) if (isNum(pt.y) && pt.y > max) max = pt.y;
  }
  const u = msUnit(max);
  chart.$tlUnit = u;
}

/* Every chart rebuilt from the points of the view: each axis scales to
 * what is shown (Chart.js autoscale over the data it is given). */
function redraw() {
  if (!charts) return;
  const pts = inWindow(points, view.windowMs);
  const times = pts.map((p) => p.t);
  const seqs = pts.map((p) => p.seq);
  for (const [k, getters] of Object.entries(GETTERS)) {
    const chart = charts[k];
    if (chart) getters.forEach((g, i) => { chart.data.datasets[i].data = series(pts, g); });
  }
  if (charts.routes) syncRouteDatasets(charts.routes, pts);
  if (charts.cores) syncIndexedDatasets(charts.cores, pts, 'cores');
  if (charts.workers) syncIndexedDatasets(charts.workers, pts, 'workers');
  for (const c of Object.values(charts)) {
    c.$tlTimes = times;
    c.$tlSeqs = seqs;
    c.options.scales.x.min = seqs.length ? seqs[0] : 0;
    c.options.scales.x.max = seqs.length > 1 ? seqs[seqs.length - 1] : (seqs[0] || 0) + 1;
    const y = c.options.scales.y;
    y.type = view.log && !c.$tlNoLog ? 'logarithmic' : 'linear';
    y.beginAtZero = y.type === 'linear';
    if (c.$tlLatency) setUnit(c);
    const unit = c.$tlLatency ? ` (${c.$tlUnit.name})` : '';
    y.title.text = `${c.$tlTitle}${y.type === 'logarithmic' ? ' (log)' : unit}`;
    c.update('none');
  }
}

/* "p50 ≤ 1.2 ms · p99 ≤ 41 ms" of the newest period that answered requests. */
function renderLatencyNow() {
  const el = $('latency-now');
  if (!el) return;
  const p = [...points].reverse().find((x) => isNum(x.p50));
  if (!p) { setText(el, 'No request answered in the last five minutes.'); return; }
  const parts = [];
  if (isNum(p.p50)) parts.push(`all routes: p50 ${fmtBoundMs(p.p50)}, p99 ${fmtBoundMs(p.p99)}`);
  for (const r of Object.keys(p.routes).sort()) {
    const x = p.routes[r];
    if (isNum(x.p99)) parts.push(`${r}: p50 ${fmtBoundMs(x.p50)}, p99 ${fmtBoundMs(x.p99)}`);
  }
  setText(el, `Latency in the period to ${clock(p.t)} — ${parts.join(' · ')}`);
}

function publish() {
  const pts = inWindow(points, view.windowMs);
  window.tlCharts = {
    historyLoaded,
    points: points.length,
    shown: pts.length,
    windowMs: view.windowMs,
    log: view.log,
    firstTime: points.length ? points[0].t : null,
    lastSeq: points.length ? points[points.length - 1].seq : null,
    maxRps: points.reduce((m, p) => (isNum(p.rps) && p.rps > m ? p.rps : m), 0),
    markersDrawn: { ...markersDrawn },
    routes: charts && charts.routes ? charts.routes.data.datasets.map((d) => d.label) : [],
    cores: charts && charts.cores ? charts.cores.data.datasets.filter((d) => d.data.some((x) => isNum(x.y))).length : 0,
    workers: charts && charts.workers ? charts.workers.data.datasets.filter((d) => d.data.some((x) => isNum(x.y))).length : 0,
    yMax: charts && charts.rps ? charts.rps.scales.y.max : null,
  };
}

/* The stream's first event: the history up to now, merged under the live points. */
export function applyHistory(h) {
  points = trimPoints(mergeHistory(pointsOfHistory(h), points));
  historyEvents = Array.isArray(h.events) ? h.events : [];
  addEvents(historyEvents);
  historyLoaded = true;
  renderEventLog();
  redraw();
  renderLatencyNow();
  publish();
}

/* After a server restart (stream.js tells it by the pid): the old
 * server's points and events go (the new connection's history, if it came
 * already, stays). Done when the next snapshot comes (render). */
let resetAsked = false;
export function reset() { resetAsked = true; }

function resetNow(s) {
  const started = isNum(s.uptime_ms) ? s.time_ms - s.uptime_ms : s.time_ms;
  prevStatus = null;
  points = points.filter((p) => p.t >= started && p.seq < s.seq);
  resetEvents();
  addEvents(historyEvents.filter((e) => e.time_ms >= started));
  renderEventLog();
}

/* Adds the snapshot s as the newest point of every chart, and its events. */
export function render(s) {
  if (resetAsked) {
    resetAsked = false;
    resetNow(s);
  }
  const st = get(s.server || {}, ['requests', 'by_status']);
  const errRate = errorRate(st, prevStatus, s.period_ms);
  prevStatus = st;
  if (addEvents(s.events)) renderEventLog();
  const last = points.length ? points[points.length - 1].seq : -1;
  if (isNum(s.seq) && s.seq > last && isNum(s.time_ms)) {
    points = trimPoints([...points, pointOfSnapshot(s, errRate)]);
  }
  redraw();
  renderLatencyNow();
  publish();
}
