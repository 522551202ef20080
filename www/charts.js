/*
 * The "Load over time" panel: line charts of requests and errors per second,
 * latency percentiles (all routes, and p50/p99 per route), queue depth and
 * event-loop lag and busy %, one point per period over the last five
 * minutes. On load (and after a server restart) the charts are pre-filled
 * from GET /stats/history, so a load that ran before the page opened is
 * visible; live snapshots then add points. Every chart draws the events
 * (events.js) as vertical markers with a label. Latencies are histogram
 * bucket edges: axes use the unit that fits (µs/ms/s) and values are shown
 * as bounds ("≤ 41 ms"). Uses Chart.js 3.9.1 (window.Chart, loaded by
 * index.html from /vendor/chart.js); without it the charts are skipped and
 * #charts-missing says so. window.tlCharts exposes the state, for tests.
 */

import { isNum, clock, get, msUnit, fmt, fmtBoundMs } from './format.js';
import { $, setText } from './dom.js';
import { addEvents, resetEvents, eventList, markerLabel, markerColor, renderEventLog } from './events.js';

const WINDOW_MS = 300000;          // what the charts show: the observer keeps as much
const MAX_POINTS = 6000;
const ROUTE_COLORS = ['#1c7ed6', '#e8590c', '#2b9a47', '#862e9c', '#c92a2a', '#0b7285', '#5c940d', '#d6336c', '#495057'];

let points = [];                   // {seq, t, rps, err, p50, p90, p99, routes: {name: {p50, p99, rate}}, queue, lag50, lag99, lagMax, busy}
let prevStatus = null;             // previous by_status, to turn counters into rates
let historyLoaded = false;
let historyRequest = 0;
const markersDrawn = {};           // chart key -> markers drawn in its last draw

/* Draws each event inside the chart's time range as a vertical line with a label. */
const markerPlugin = {
  id: 'tlEventMarkers',
  afterDatasetsDraw: function (chart) {
    var area = chart.chartArea, xs = chart.scales.x;
    var times = chart.$tlTimes || [];
    var n = 0, controls = 0;
    if (!area || !xs || times.length < 2) { if (chart.$tlKey) markersDrawn[chart.$tlKey] = { all: 0, control: 0 }; return; }
    var ctx = chart.ctx;
    ctx.save();
    ctx.font = '10px ' + window.Chart.defaults.font.family;
    var lastLabelX = -1e9;
    eventList().forEach(function (e) {
      if (!(e.time_ms >= times[0] && e.time_ms <= times[times.length - 1] + 1)) return;
      var x = xs.getPixelForValue(seqAt(chart.$tlSeqs, times, e.time_ms));
      if (!isFinite(x)) return;
      ctx.strokeStyle = markerColor(e);
      ctx.fillStyle = markerColor(e);
      ctx.lineWidth = 1;
      ctx.setLineDash(e.kind === 'load_end' ? [3, 3] : []);
      ctx.beginPath();
      ctx.moveTo(x + 0.5, area.top);
      ctx.lineTo(x + 0.5, area.bottom);
      ctx.stroke();
      if (x - lastLabelX > 60) {          // labels do not pile up
        ctx.fillText(markerLabel(e), Math.min(x + 3, area.right - 60), area.top + 10);
        lastLabelX = x;
      }
      n++;
      if (e.kind === 'control') controls++;
    });
    ctx.restore();
    if (chart.$tlKey) markersDrawn[chart.$tlKey] = { all: n, control: controls };
  }
};

/* The x (a fractional seq) of wall time t: points are at x = their seq. */
function seqAt(seqs, times, t) {
  var lo = 0, hi = times.length - 1;
  if (t <= times[0]) return seqs[0];
  if (t >= times[hi]) return seqs[hi];
  while (hi - lo > 1) {
    var mid = (lo + hi) >> 1;
    if (times[mid] <= t) lo = mid; else hi = mid;
  }
  return seqs[lo] + (seqs[hi] - seqs[lo]) * (t - times[lo]) / (times[hi] - times[lo] || 1);
}

/* The wall time of x, from the nearest point. */
function timeOfX(chart, v) {
  var seqs = chart.$tlSeqs || [], ts = chart.$tlTimes || [];
  if (!seqs.length) return null;
  var i = Math.round(v) - seqs[0];
  if (i < 0 || i >= ts.length || seqs[i] !== Math.round(v)) return null;
  return ts[i];
}

function lineDs(label, color, extra) {
  var d = {
    label: label, data: [], borderColor: color, backgroundColor: color,
    borderWidth: 1.6, pointRadius: 0, pointHitRadius: 6, tension: 0, spanGaps: false, fill: false
  };
  if (extra) Object.keys(extra).forEach(function (k) { d[k] = extra[k]; });
  return d;
}

/* A latency axis: the unit is picked from the largest value shown. */
function latencyAxis(title) {
  return {
    beginAtZero: true, grace: '5%',
    title: { display: true, text: title + ' (ms)', font: { size: 11 } },
    ticks: {
      font: { size: 10 }, maxTicksLimit: 6,
      callback: function (v) { var u = this.chart.$tlUnit || msUnit(1); return fmt(v / u.per, u.name === 's' ? 2 : v / u.per < 10 ? 1 : 0).replace(/\.0+$/, ''); }
    }
  };
}

function makeChart(key, id, datasets, yTitle, extraScales, latency) {
  var canvas = $(id);
  if (!canvas) return null;
  var scales = {
    x: { type: 'linear', ticks: { maxTicksLimit: 7, maxRotation: 0, autoSkip: true, font: { size: 10 },
      callback: function (v) { var t = timeOfX(this.chart, v); return t === null ? '' : clock(t); } },
    grid: { display: false } },
    y: latency ? latencyAxis(yTitle) : { beginAtZero: true, title: { display: !!yTitle, text: yTitle, font: { size: 11 } },
      ticks: { font: { size: 10 }, maxTicksLimit: 6 }, grace: '5%' }
  };
  if (extraScales) Object.keys(extraScales).forEach(function (k) { scales[k] = extraScales[k]; });
  var chart = new window.Chart(canvas.getContext('2d'), {
    type: 'line',
    data: { datasets: datasets },
    plugins: [markerPlugin],
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      interaction: { mode: 'index', intersect: false },
      scales: scales,
      plugins: {
        legend: { display: datasets.length > 1 || latency, position: 'top', align: 'end',
          labels: { boxWidth: 10, boxHeight: 10, font: { size: 11 } } },
        tooltip: {
          animation: false,
          callbacks: {
            title: function (items) { var t = items.length ? timeOfX(chart, items[0].parsed.x) : null; return t === null ? '' : clock(t, true); },
            label: function (item) {
              var v = item.parsed.y;
              var latencyDs = latency && item.dataset.yAxisID !== 'y1';
              return item.dataset.label + ': ' + (latencyDs ? fmtBoundMs(v) : fmt(v, v < 10 ? 1 : 0));
            }
          }
        }
      }
    }
  });
  chart.$tlKey = key;
  return chart;
}

function initCharts() {
  if (typeof window.Chart !== 'function') {
    $('charts-missing').hidden = false;
    return null;
  }
  window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  window.Chart.defaults.color = '#5c6578';
  var c = {
    rps: makeChart('rps', 'chart-rps', [
      lineDs('requests/s', '#1c7ed6', { fill: true, backgroundColor: 'rgba(28,126,214,0.12)' }),
      lineDs('errors/s (4xx+5xx)', '#e03131')
    ], 'per second'),
    latency: makeChart('latency', 'chart-latency', [
      lineDs('p50', '#2b9a47'), lineDs('p90', '#f08c00'), lineDs('p99', '#e03131')
    ], 'latency', null, true),
    routes: makeChart('routes', 'chart-route-latency', [], 'latency', null, true),
    queue: makeChart('queue', 'chart-queue', [
      lineDs('queue depth', '#7048e8', { fill: true, backgroundColor: 'rgba(112,72,232,0.12)', stepped: true })
    ], 'tasks'),
    lag: makeChart('lag', 'chart-lag', [
      lineDs('lag p50', '#2b9a47'), lineDs('lag p99', '#e03131'), lineDs('lag max', '#862e9c', { borderDash: [4, 3] }),
      lineDs('loop busy %', '#868e96', { yAxisID: 'y1', borderWidth: 1, fill: true, backgroundColor: 'rgba(134,142,150,0.10)' })
    ], 'lag', {
      y1: { position: 'right', min: 0, max: 100, grid: { drawOnChartArea: false },
        title: { display: true, text: 'busy %', font: { size: 11 } }, ticks: { font: { size: 10 }, maxTicksLimit: 6 } }
    }, true)
  };
  Object.keys(c).forEach(function (k) { if (!c[k]) delete c[k]; });
  return c;
}

const charts = initCharts();

function num(v) { return isNum(v) ? v : null; }

/* One point from a live snapshot. */
function pointOfSnapshot(s, errRate) {
  var srv = s.server || {};
  var lat = get(srv, ['latency_ms', 'period']) || {};
  var lag = get(srv, ['loop', 'lag_ms', 'period']) || {};
  var routes = {};
  var byRoute = get(srv, ['latency_ms', 'by_route']) || {};
  var rates = get(srv, ['requests', 'by_route']) || {};
  Object.keys(byRoute).forEach(function (r) {
    var p = byRoute[r].period || {};
    routes[r] = { p50: num(p.p50), p99: num(p.p99), rate: num(get(rates, [r, 'rate'])) };
  });
  return {
    seq: s.seq, t: s.time_ms, rps: num(get(srv, ['requests', 'rate'])), err: errRate,
    p50: num(lat.p50), p90: num(lat.p90), p99: num(lat.p99), routes: routes,
    queue: num(get(srv, ['queue', 'depth'])), lag50: num(lag.p50), lag99: num(lag.p99), lagMax: num(lag.max),
    busy: num(get(srv, ['loop', 'utilization_pct']))
  };
}

/* The points of GET /stats/history (arrays, one entry per period). */
function pointsOfHistory(h) {
  var out = [];
  var n = Array.isArray(h.seq) ? h.seq.length : 0;
  var col = function (name, i) { return Array.isArray(h[name]) ? num(h[name][i]) : null; };
  var routes = h.routes || {};
  for (var i = 0; i < n; i++) {
    var rs = {};
    Object.keys(routes).forEach(function (r) {
      var x = routes[r];
      rs[r] = { p50: num(x.p50_ms[i]), p99: num(x.p99_ms[i]), rate: num(x.rate[i]) };
    });
    out.push({
      seq: h.seq[i], t: h.time_ms[i], rps: col('requests_rate', i), err: col('errors_rate', i),
      p50: col('latency_p50_ms', i), p90: col('latency_p90_ms', i), p99: col('latency_p99_ms', i), routes: rs,
      queue: col('queue_depth', i), lag50: col('lag_p50_ms', i), lag99: col('lag_p99_ms', i), lagMax: col('lag_max_ms', i),
      busy: col('loop_utilization_pct', i)
    });
  }
  return out;
}

/* Drops the points older than the window; returns how many. */
function trim() {
  if (!points.length) return 0;
  var newest = points[points.length - 1].t;
  var drop = 0;
  while (drop < points.length - 1 && (points.length - drop > MAX_POINTS || points[drop].t < newest - WINDOW_MS)) drop++;
  if (drop) points.splice(0, drop);
  return drop;
}

function series(get1) {
  return points.map(function (p) { return { x: p.seq, y: get1(p) }; });
}

/* What each chart's datasets draw, by position. */
const getters = {
  rps: [function (p) { return p.rps; }, function (p) { return p.err; }],
  latency: [function (p) { return p.p50; }, function (p) { return p.p90; }, function (p) { return p.p99; }],
  queue: [function (p) { return p.queue; }],
  lag: [function (p) { return p.lag50; }, function (p) { return p.lag99; }, function (p) { return p.lagMax; },
    function (p) { return p.busy; }]
};

/* Routes that had a request in the window, in a stable order. */
function routesShown() {
  var seen = {};
  points.forEach(function (p) {
    Object.keys(p.routes).forEach(function (r) {
      var x = p.routes[r];
      if ((x.rate > 0) || isNum(x.p50)) seen[r] = true;
    });
  });
  return Object.keys(seen).sort();
}

function syncRouteDatasets(chart) {
  var names = routesShown();
  var want = [];
  names.forEach(function (r, k) {
    var color = ROUTE_COLORS[k % ROUTE_COLORS.length];
    want.push({ label: r + ' p99', route: r, which: 'p99', color: color, dash: [] });
    want.push({ label: r + ' p50', route: r, which: 'p50', color: color, dash: [4, 3] });
  });
  var have = chart.data.datasets.map(function (d) { return d.label; }).join('|');
  if (have !== want.map(function (w) { return w.label; }).join('|')) {
    chart.data.datasets = want.map(function (w) {
      var d = lineDs(w.label, w.color, { borderDash: w.dash });
      d.tlRoute = w.route; d.tlWhich = w.which;
      return d;
    });
  }
  chart.data.datasets.forEach(function (d) {
    d.data = series(function (p) { var x = p.routes[d.tlRoute]; return x ? x[d.tlWhich] : null; });
  });
}

/* Route datasets: rebuilt when the set of routes shown changes, else the
 * newest point is appended. */
function appendRoutes(chart, p, dropped) {
  var names = {};
  chart.data.datasets.forEach(function (d) { names[d.tlRoute] = true; });
  var changed = Object.keys(p.routes).some(function (r) {
    var x = p.routes[r];
    return !names[r] && (x.rate > 0 || isNum(x.p50));
  }) || dropped > 0 && routesShown().length * 2 !== chart.data.datasets.length;
  if (changed) { syncRouteDatasets(chart); return; }
  chart.data.datasets.forEach(function (d) {
    if (dropped) d.data.splice(0, dropped);
    var x = p.routes[d.tlRoute];
    d.data.push({ x: p.seq, y: x ? x[d.tlWhich] : null });
  });
}

/* The largest latency drawn, to pick the axis unit. */
function setUnit(chart) {
  var max = 0;
  chart.data.datasets.forEach(function (d) {
    if (d.yAxisID === 'y1') return;
    d.data.forEach(function (pt) { if (isNum(pt.y) && pt.y > max) max = pt.y; });
  });
  var u = msUnit(max);
  chart.$tlUnit = u;
  chart.options.scales.y.title.text = chart.options.scales.y.title.text.replace(/\((µs|ms|s)\)$/, '(' + u.name + ')');
}

/* Full: every dataset rebuilt from points (history, reset). Otherwise the
 * newest point is appended and `dropped` points leave at the front. */
function redraw(full, dropped) {
  if (!charts) return;
  var times = points.map(function (p) { return p.t; });
  var seqs = points.map(function (p) { return p.seq; });
  var last = points[points.length - 1];
  Object.keys(getters).forEach(function (k) {
    var chart = charts[k];
    if (!chart) return;
    getters[k].forEach(function (g, i) {
      var d = chart.data.datasets[i];
      if (full || !last) { d.data = series(g); return; }
      if (dropped) d.data.splice(0, dropped);
      d.data.push({ x: last.seq, y: g(last) });
    });
  });
  if (charts.routes) {
    if (full || !last) syncRouteDatasets(charts.routes);
    else appendRoutes(charts.routes, last, dropped);
  }
  Object.keys(charts).forEach(function (k) {
    var c = charts[k];
    c.$tlTimes = times;
    c.$tlSeqs = seqs;
    c.options.scales.x.min = seqs.length ? seqs[0] : 0;
    c.options.scales.x.max = seqs.length > 1 ? seqs[seqs.length - 1] : (seqs[0] || 0) + 1;
    if (c.options.scales.y.title.text.match(/\((µs|ms|s)\)$/)) setUnit(c);
    c.update('none');
  });
}

/* "p50 ≤ 1.2 ms · p99 ≤ 41 ms" of the newest period that answered requests. */
function renderLatencyNow() {
  var p = null;
  for (var i = points.length - 1; i >= 0 && !p; i--) if (isNum(points[i].p50)) p = points[i];
  var el = $('latency-now');
  if (!el) return;
  if (!p) { setText(el, 'No request answered in the last five minutes.'); return; }
  var parts = [];
  if (isNum(p.p50)) parts.push('all routes: p50 ' + fmtBoundMs(p.p50) + ', p99 ' + fmtBoundMs(p.p99));
  Object.keys(p.routes).sort().forEach(function (r) {
    var x = p.routes[r];
    if (isNum(x.p99)) parts.push(r + ': p50 ' + fmtBoundMs(x.p50) + ', p99 ' + fmtBoundMs(x.p99));
  });
  setText(el, 'Latency in the period to ' + clock(p.t) + ' — ' + parts.join(' · '));
}

function publish() {
  window.tlCharts = {
    historyLoaded: historyLoaded,
    points: points.length,
    firstTime: points.length ? points[0].t : null,
    lastSeq: points.length ? points[points.length - 1].seq : null,
    maxRps: points.reduce(function (m, p) { return isNum(p.rps) && p.rps > m ? p.rps : m; }, 0),
    markersDrawn: Object.assign({}, markersDrawn),
    routes: charts && charts.routes ? charts.routes.data.datasets.map(function (d) { return d.label; }) : []
  };
}

/* Merges the history under the live points: history up to its last seq, then what came live after it. */
function applyHistory(h) {
  if (!h || typeof h !== 'object') return;
  var hist = pointsOfHistory(h);
  var lastSeq = hist.length ? hist[hist.length - 1].seq : -1;
  points = hist.concat(points.filter(function (p) { return p.seq > lastSeq; }));
  trim();
  addEvents(h.events);
  historyLoaded = true;
  renderEventLog();
  redraw(true, 0);
  renderLatencyNow();
  publish();
}

function loadHistory() {
  var mine = ++historyRequest;
  fetch('/stats/history', { cache: 'no-store' })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (h) { if (mine === historyRequest) applyHistory(h); })
    .catch(function (e) { console.warn('threadlab: no history', e); /* the live points still come */ });
}

/* After a server restart: empty the charts and the events, fetch the new
 * server's history. Done when the next snapshot comes (renderCharts): a
 * late reply to the page's first GET /stats also looks like a restart to
 * stream.js (older seq, smaller uptime), but its wall time is older than
 * the newest point, and then nothing is reset. */
let resetAsked = false;
export function resetCharts() { resetAsked = true; }

function resetNow() {
  prevStatus = null;
  points = [];
  historyLoaded = false;
  resetEvents();
  renderEventLog();
  redraw(true, 0);
  loadHistory();
}

/* Adds the snapshot s as the newest point of every chart, and its events. */
export function renderCharts(s) {
  if (resetAsked) {
    resetAsked = false;
    var newest = points.length ? points[points.length - 1].t : null;
    if (isNum(newest) && isNum(s.time_ms) && s.time_ms <= newest) return;  // a late reply, not a restart
    resetNow();
  }
  var srv = s.server || {};
  var st = get(srv, ['requests', 'by_status']);
  var errRate = null;
  if (st && prevStatus && isNum(s.period_ms) && s.period_ms > 0) {
    var now = (st['4xx'] || 0) + (st['5xx'] || 0);
    var before = (prevStatus['4xx'] || 0) + (prevStatus['5xx'] || 0);
    if (now >= before) errRate = (now - before) * 1000 / s.period_ms;
  }
  prevStatus = st;
  if (addEvents(s.events)) renderEventLog();
  var last = points.length ? points[points.length - 1].seq : -1;
  if (isNum(s.seq) && s.seq > last && isNum(s.time_ms)) {
    points.push(pointOfSnapshot(s, errRate));
    redraw(false, trim());
  }
  renderLatencyNow();
  publish();
}

loadHistory();
publish();
