/*
 * threadlab dashboard: the entry module (index.html loads it with
 * <script type="module">; no build step, nothing from the network).
 *
 * Reads one JSON snapshot per sample period from the observer (stream.js)
 * and hands it to each panel, which updates the page in place:
 *   - DOM elements are created once per thread / core and then only their
 *     text, classes and widths are changed, and only when they differ;
 *   - the timeline canvas is redrawn in requestAnimationFrame;
 *   - the four time-series charts use Chart.js (served at /vendor/chart.js)
 *     with a bounded history and update('none') (no animation).
 * Also publishes window.tlDashboard, for tests and for the curious (open the
 * console).
 */

import { isNum } from './format.js';
import { naturalCompare } from './thread-info.js';
import { renderHeader, renderFooter } from './header.js';
import { syncControls } from './controls.js';
import { renderCores } from './cores.js';
import { renderScoreboard } from './scoreboard.js';
import { renderThreadTable } from './thread-table.js';
import { renderInsights } from './insights.js';
import { renderCharts, resetCharts } from './charts.js';
import { renderCoro, resetCoro } from './coro.js';
import { renderProcesses } from './processes.js';
import { renderTimeline, timelineDrawMs } from './timeline.js';
import { startStream } from './stream.js';

const api = {
  lastSeq: null,                   // seq of the last snapshot rendered
  lastRenderMs: null,              // parse + DOM update time of that snapshot
  get lastDrawMs() { return timelineDrawMs(); },   // time of the last timeline canvas draw
  threadsShown: 0,                 // rows in the thread table
  streamState: 'connecting',       // connecting | live | reconnecting
  snapshots: 0,                    // snapshots rendered since the page loaded
  snapshot: null                   // the last snapshot object
};
window.tlDashboard = api;

function render(s, info) {
  if (info.restarted) { resetCharts(); resetCoro(); }
  var threads = Array.isArray(s.threads) ? s.threads : [];
  var byTid = new Map();
  for (var i = 0; i < threads.length; i++) byTid.set(threads[i].tid, threads[i]);
  var natural = threads.slice().sort(naturalCompare);

  api.snapshot = s;
  renderHeader(s);
  syncControls(s);
  renderCores(s, byTid);
  renderScoreboard(natural);
  api.threadsShown = renderThreadTable(threads, natural, s.folded);
  renderInsights(s.insights);
  renderCharts(s);
  renderCoro(s);
  renderProcesses(s);
  renderTimeline(s, natural, byTid);

  api.lastSeq = isNum(s.seq) ? s.seq : api.lastSeq;
  api.snapshots++;
  api.lastRenderMs = Math.round((performance.now() - info.t0) * 100) / 100;
  renderFooter(api.lastSeq, s.period_ms, api.lastRenderMs, api.lastDrawMs);
}

startStream({
  onSnapshot: render,
  onState: function (st) { api.streamState = st; }
});
