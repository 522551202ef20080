/*
 * The "Load over time" panel: four line charts (requests and errors per
 * second, latency percentiles, queue depth, event-loop lag and busy %), one
 * point per snapshot, the last HISTORY samples, no animation. Uses Chart.js
 * 3.9.1, loaded by index.html from /vendor/chart.js as the global
 * window.Chart; without it the charts are skipped and #charts-missing says so.
 */

import { isNum, clock, get } from './format.js';
import { $ } from './dom.js';

const HISTORY = 120;               // samples kept in the charts

let prevStatus = null;             // previous by_status, to turn counters into rates

function lineDs(label, color, extra) {
  var d = {
    label: label, data: [], borderColor: color, backgroundColor: color,
    borderWidth: 1.6, pointRadius: 0, pointHitRadius: 6, tension: 0, spanGaps: false, fill: false
  };
  if (extra) Object.keys(extra).forEach(function (k) { d[k] = extra[k]; });
  return d;
}

function makeChart(id, datasets, yTitle, extraScales) {
  var canvas = $(id);
  var scales = {
    x: { ticks: { maxTicksLimit: 7, maxRotation: 0, autoSkip: true, font: { size: 10 } }, grid: { display: false } },
    y: { beginAtZero: true, title: { display: !!yTitle, text: yTitle, font: { size: 11 } },
      ticks: { font: { size: 10 }, maxTicksLimit: 6 }, grace: '5%' }
  };
  if (extraScales) Object.keys(extraScales).forEach(function (k) { scales[k] = extraScales[k]; });
  return new window.Chart(canvas.getContext('2d'), {
    type: 'line',
    data: { labels: [], datasets: datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      normalized: true,
      interaction: { mode: 'index', intersect: false },
      scales: scales,
      plugins: {
        legend: { display: datasets.length > 1, position: 'top', align: 'end',
          labels: { boxWidth: 10, boxHeight: 10, font: { size: 11 } } },
        tooltip: { animation: false }
      }
    }
  });
}

function initCharts() {
  if (typeof window.Chart !== 'function') {
    $('charts-missing').hidden = false;
    return null;
  }
  window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  window.Chart.defaults.color = '#5c6578';
  return {
    rps: makeChart('chart-rps', [
      lineDs('requests/s', '#1c7ed6', { fill: true, backgroundColor: 'rgba(28,126,214,0.12)' }),
      lineDs('errors/s (4xx+5xx)', '#e03131')
    ], 'per second'),
    latency: makeChart('chart-latency', [
      lineDs('p50', '#2b9a47'), lineDs('p90', '#f08c00'), lineDs('p99', '#e03131')
    ], 'ms'),
    queue: makeChart('chart-queue', [
      lineDs('queue depth', '#7048e8', { fill: true, backgroundColor: 'rgba(112,72,232,0.12)', stepped: true })
    ], 'tasks'),
    lag: makeChart('chart-lag', [
      lineDs('lag p50', '#2b9a47'), lineDs('lag p99', '#e03131'), lineDs('lag max', '#862e9c', { borderDash: [4, 3] }),
      lineDs('loop busy %', '#868e96', { yAxisID: 'y1', borderWidth: 1, fill: true, backgroundColor: 'rgba(134,142,150,0.10)' })
    ], 'ms', {
      y1: { position: 'right', min: 0, max: 100, grid: { drawOnChartArea: false },
        title: { display: true, text: 'busy %', font: { size: 11 } }, ticks: { font: { size: 10 }, maxTicksLimit: 6 } }
    })
  };
}

const charts = initCharts();

function pushPoint(chart, label, values) {
  var labels = chart.data.labels;
  labels.push(label);
  var over = labels.length > HISTORY;
  if (over) labels.shift();
  for (var i = 0; i < values.length; i++) {
    var d = chart.data.datasets[i].data;
    d.push(isNum(values[i]) ? values[i] : null);
    if (over) d.shift();
  }
}

/* After a server restart: empty the charts and forget the last counters. */
export function resetCharts() {
  prevStatus = null;
  if (!charts) return;
  Object.keys(charts).forEach(function (k) {
    var c = charts[k];
    c.data.labels.length = 0;
    c.data.datasets.forEach(function (d) { d.data.length = 0; });
  });
}

/* Adds the snapshot s as the newest point of every chart. */
export function renderCharts(s) {
  if (!charts) return;
  var srv = s.server || {};
  var label = isNum(s.time_ms) ? clock(s.time_ms, !(s.period_ms >= 1000)) : String(s.seq);

  var st = get(srv, ['requests', 'by_status']);
  var errRate = null;
  if (st && prevStatus && isNum(s.period_ms) && s.period_ms > 0) {
    var now = (st['4xx'] || 0) + (st['5xx'] || 0);
    var before = (prevStatus['4xx'] || 0) + (prevStatus['5xx'] || 0);
    if (now >= before) errRate = (now - before) * 1000 / s.period_ms;
  }
  prevStatus = st;

  var lat = get(srv, ['latency_ms', 'period']) || {};
  var lag = get(srv, ['loop', 'lag_ms', 'period']) || {};
  pushPoint(charts.rps, label, [get(srv, ['requests', 'rate']), errRate]);
  pushPoint(charts.latency, label, [lat.p50, lat.p90, lat.p99]);
  pushPoint(charts.queue, label, [get(srv, ['queue', 'depth'])]);
  pushPoint(charts.lag, label, [lag.p50, lag.p99, lag.max, get(srv, ['loop', 'utilization_pct'])]);
  charts.rps.update('none');
  charts.latency.update('none');
  charts.queue.update('none');
  charts.lag.update('none');
}
