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
 *
 * Following a task: the view can be paused (snapshots keep arriving and the
 * task card's store keeps filling; the panels freeze; resume renders the
 * newest at once), a task can be found by id, and both live in the URL
 * fragment (#task=ID, #paused, or #task=ID&paused) so a link reopens them.
 */

import { isNum } from './format.js';
import { naturalCompare } from './thread-info.js';
import { renderHeader, renderFooter, renderStreamLost, renderPauseState } from './header.js';
import { syncControls } from './controls.js';
import { renderCores } from './cores.js';
import { renderScoreboard } from './scoreboard.js';
import { renderThreadTable } from './thread-table.js';
import { renderInsights } from './insights.js';
import { renderCharts, resetCharts } from './charts.js';
import { renderCoro, resetCoro } from './coro.js';
import { renderProcesses } from './processes.js';
import { renderTimeline, timelineDrawMs, timelineModel, selectTimelineTask, onTimelineSelect } from './timeline.js';
import { ingestSteps, findTask, closeCard, onTaskChange, taskCardState } from './task-card.js';
import { $ } from './dom.js';
import { startStream } from './stream.js';
import { init as initLanes, render as renderLanes, lanesModel } from './lanes.js';

const api = {
  lastSeq: null,                   // seq of the last snapshot rendered
  lastRenderMs: null,              // parse + DOM update time of that snapshot
  get lastDrawMs() { return timelineDrawMs(); },   // time of the last timeline canvas draw
  threadsShown: 0,                 // rows in the thread table
  streamState: 'connecting',       // connecting | live | reconnecting | dead
  snapshots: 0,                    // snapshots rendered since the page loaded
  snapshot: null,                  // the last snapshot object
  received: 0,                     // snapshots received (rendered or held while paused)
  paused: false,                   // the view is frozen
  held: 0,                         // snapshots received while paused
  timeline: timelineModel,         // () -> the drawn steps with their on-core share
  taskCard: taskCardState,         // () -> the followed task, or null
  findTask: function (id) { return followTask(id); },
  setPaused: function (p) { setPaused(!!p); },
  lanes: lanesModel                // () -> what the "Cores, live" lanes hold and drew
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
  renderLanes(s);

  api.lastSeq = isNum(s.seq) ? s.seq : api.lastSeq;
  api.snapshots++;
  api.lastRenderMs = Math.round((performance.now() - info.t0) * 100) / 100;
  renderFooter(api.lastSeq, s.period_ms, api.lastRenderMs, api.lastDrawMs);
}

/* ---- follow a task: pause, find, the URL fragment ---- */
let heldSnapshot = null, heldRestarted = false;
let followed = null;

function onSnapshot(s, info) {
  api.received++;
  ingestSteps(s);                  // the task card sees every snapshot
  if (api.paused) {
    heldSnapshot = s;
    heldRestarted = heldRestarted || info.restarted;
    api.held++;
    renderPauseState(true, api.held);
    return;
  }
  render(s, info);
}

function setPaused(p) {
  if (p === api.paused) return;
  api.paused = p;
  if (!p && heldSnapshot) {        // catch up with the newest at once
    var s = heldSnapshot, restarted = heldRestarted;
    heldSnapshot = null; heldRestarted = false;
    render(s, { t0: performance.now(), restarted: restarted });
  }
  api.held = 0;
  renderPauseState(p, 0);
  writeFragment();
}

function followTask(id) {
  followed = id === null || id === '' || id === undefined ? null : Number(id);
  if (followed === null || !Number.isInteger(followed) || followed <= 0) {
    followed = null;
    closeCard();
    selectTimelineTask(null);
    return Promise.resolve(null);
  }
  $('find-task').value = String(followed);
  selectTimelineTask(followed);
  return findTask(followed);
}

function readFragment() {
  var f = {};
  String(location.hash || '').replace(/^#/, '').split('&').forEach(function (kv) {
    if (!kv) return;
    var i = kv.indexOf('=');
    f[i < 0 ? kv : kv.slice(0, i)] = i < 0 ? true : decodeURIComponent(kv.slice(i + 1));
  });
  return f;
}

function writeFragment() {
  var parts = [];
  if (followed !== null) parts.push('task=' + followed);
  if (api.paused) parts.push('paused');
  var h = parts.length ? '#' + parts.join('&') : '';
  if (h !== location.hash) history.replaceState(null, '', h || location.pathname + location.search);
}

onTaskChange(function (id) {
  followed = id;
  selectTimelineTask(id);
  if (id === null) $('find-task').value = '';
  writeFragment();
});
onTimelineSelect(function (id) { followTask(id); });
$('pause-btn').addEventListener('click', function () { setPaused(!api.paused); });
$('find-task-form').addEventListener('submit', function (ev) {
  ev.preventDefault();
  followTask($('find-task').value.trim());
});
function applyFragment() {
  var f = readFragment();
  setPaused(!!f.paused);
  if (f.task !== undefined && Number(f.task) !== followed) followTask(f.task);
  else if (f.task === undefined && followed !== null) followTask(null);
}
window.addEventListener('hashchange', applyFragment);
initLanes($('lanes'));
applyFragment();

startStream({
  onSnapshot: onSnapshot,
  onState: function (st) {
    api.streamState = st;
    renderStreamLost(st === 'dead', api.snapshot);
  }
});
