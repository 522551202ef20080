/*
 * threadlab dashboard: the one entry module (index.html loads it with
 * <script type="module">; no build step, nothing from the network).
 *
 * A registry of panels. Each panel is a module that exports
 *   init()          finds its elements, builds what is built once, binds
 *                   its events (called once, after the page loaded);
 *   render(s, view) draws snapshot s; view = { threads, natural (threads in
 *                   natural order), byTid, info: { t0, restarted } };
 *   reset()         optional: the server restarted, forget its past;
 * (lab also gets main.js's replay hooks, lab.useReplay: see REPLAYABLE)
 * and touches the DOM only when called. Adding a panel is one line in
 * PANELS (and its markup in index.html). doc/ARCHITECTURE.md describes it.
 *
 * The data: stream.js reads /stats/stream (its first event, the history,
 * goes to the charts). DOM elements are created once per thread / core and
 * then only their text, classes and widths change; the timeline canvas is
 * redrawn in requestAnimationFrame; the charts use Chart.js (served at
 * /vendor/chart.js). Publishes window.tlDashboard, for tests and for the
 * curious (open the console).
 *
 * Following a task: the view can be paused (snapshots keep arriving and the
 * task card's store keeps filling; the panels freeze; resume renders the
 * newest at once), a task can be found by id, and both live in the URL
 * fragment (#task=ID, #paused, or #task=ID&paused) so a link reopens them.
 */

import { isNum } from './format.js';
import { naturalCompare } from './thread-info.js';
import { $, cssVar } from './dom.js';
import { useCssLookup } from './colors.js';
import { parseFragment, formatFragment } from './fragment.js';
import { startStream } from './stream.js';
import * as header from './header.js';
import * as controls from './controls.js';
import * as lab from './lab.js';
import * as cores from './cores.js';
import * as scoreboard from './scoreboard.js';
import * as threadTable from './thread-table.js';
import * as insights from './insights.js';
import * as charts from './charts.js';
import * as coro from './coro.js';
import * as processes from './processes.js';
import * as timeline from './timeline.js';
import * as taskCard from './task-card.js';
import * as birth from './birth.js';
import * as shared from './shared.js';
import * as lanes from './lanes.js';
import * as labChild from './lab-child.js';

/* The Lab's replay draws a kept snapshot into the panels that can show
 * one (by their section id) and pauses the live view meanwhile; the
 * timeline from the snapshot's steps, the lanes from the slices they
 * logged while the run went (lanes.record). */
const REPLAYABLE = {
  'panel-threads': threadTable, 'panel-processes': processes, 'panel-coro': coro,
  'panel-cores': cores, 'panel-scoreboard': scoreboard,
  /* the timeline is a function of the snapshot's steps */
  'panel-timeline': timeline,
};

function replaySnapshot(ids, s) {
  setPaused(true);
  const threads = Array.isArray(s.threads) ? s.threads : [];
  const view = { threads, natural: [...threads].sort(naturalCompare), byTid: new Map(threads.map((t) => [t.tid, t])),
    info: { t0: performance.now(), restarted: false } };
  const drawn = ids.filter((id) => REPLAYABLE[id]);
  for (const id of drawn) REPLAYABLE[id].render(s, view);
  /* the lanes from the slices they logged during the run */
  if (ids.includes('panel-lanes') && lanes.replayAt(s)) drawn.push('panel-lanes');
  return drawn;
}

/* Drawn in this order for every snapshot. */
const PANELS = [
  header, controls, lab, labChild, cores, scoreboard, threadTable, insights, charts, coro, processes, birth, shared, timeline, lanes,
];

const api = {
  lastSeq: null,                   // seq of the last snapshot rendered
  lastRenderMs: null,              // parse + DOM update time of that snapshot
  get lastDrawMs() { return timeline.timelineDrawMs(); },   // time of the last timeline canvas draw
  threadsShown: 0,                 // rows in the thread table
  streamState: 'connecting',       // connecting | live | reconnecting | dead
  snapshots: 0,                    // snapshots rendered since the page loaded
  snapshot: null,                  // the last snapshot object
  received: 0,                     // snapshots received (rendered or held while paused)
  histories: 0,                    // history events received (one per stream connection)
  paused: false,                   // the view is frozen
  held: 0,                         // snapshots received while paused
  timeline: timeline.timelineModel, // () -> the drawn steps with their on-core share
  taskCard: taskCard.taskCardState, // () -> the followed task, or null
  findTask: (id) => followTask(id),
  setPaused: (p) => setPaused(!!p),
  lanes: lanes.lanesModel,     // () -> what the "Cores, live" lanes hold and drew
  labChild: labChild.labChildModel, // () -> the lab's child server snapshot shown, or null
};

function render(s, info) {
  if (info.restarted) for (const p of PANELS) if (p.reset) p.reset();
  const threads = Array.isArray(s.threads) ? s.threads : [];
  const view = { threads, natural: [...threads].sort(naturalCompare), byTid: new Map(threads.map((t) => [t.tid, t])), info };
  api.snapshot = s;
  for (const p of PANELS) {
    const r = p.render(s, view);
    if (p === threadTable) api.threadsShown = r;
  }
  api.lastSeq = isNum(s.seq) ? s.seq : api.lastSeq;
  api.snapshots++;
  api.lastRenderMs = Math.round((performance.now() - info.t0) * 100) / 100;
  header.renderFooter(api.lastSeq, s.period_ms, api.lastRenderMs, api.lastDrawMs);
}

/* ---- follow a task: pause, find, the URL fragment ---- */
let heldSnapshot = null, heldRestarted = false;
let followed = null;

function onSnapshot(s, info) {
  api.received++;
  taskCard.ingestSteps(s);         // the task card sees every snapshot
  if (api.paused) {
    heldSnapshot = s;
    heldRestarted = heldRestarted || info.restarted;
    api.held++;
    header.renderPauseState(true, api.held);
    return;
  }
  render(s, info);
}

function setPaused(p) {
  if (p === api.paused) return;
  api.paused = p;
  if (!p && heldSnapshot) {        // catch up with the newest at once
    const s = heldSnapshot, restarted = heldRestarted;
    heldSnapshot = null; heldRestarted = false;
    render(s, { t0: performance.now(), restarted });
  }
  api.held = 0;
  header.renderPauseState(p, 0);
  writeFragment();
}

async function followTask(id) {
  followed = id === null || id === '' || id === undefined ? null : Number(id);
  if (followed === null || !Number.isInteger(followed) || followed <= 0) {
    followed = null;
    taskCard.closeCard();
    timeline.selectTimelineTask(null);
    return null;
  }
  $('find-task').value = String(followed);
  timeline.selectTimelineTask(followed);
  return taskCard.findTask(followed);
}

function writeFragment() {
  const h = formatFragment(followed, api.paused);
  if (h !== location.hash) history.replaceState(null, '', h || location.pathname + location.search);
}

function applyFragment() {
  const f = parseFragment(location.hash);
  setPaused(!!f.paused);
  if (f.task !== undefined && Number(f.task) !== followed) followTask(f.task);
  else if (f.task === undefined && followed !== null) followTask(null);
}

function initFollow() {
  taskCard.init();
  taskCard.onTaskChange((id) => {
    followed = id;
    timeline.selectTimelineTask(id);
    if (id === null) $('find-task').value = '';
    writeFragment();
  });
  timeline.onTimelineSelect((id) => followTask(id));
  lanes.onLanesSelect((id) => followTask(id));   // a bar of the lanes -> its task
  $('pause-btn').addEventListener('click', () => setPaused(!api.paused));
  $('find-task-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    followTask($('find-task').value.trim());
  });
  window.addEventListener('hashchange', applyFragment);
}

function start() {
  window.tlDashboard = api;
  useCssLookup(cssVar);
  lab.useReplay({ replay: replaySnapshot, live: () => { lanes.replayEnd(); setPaused(false); }, record: lanes.record,
    columns: threadTable.setColumns });
  for (const p of PANELS) p.init();
  initFollow();
  applyFragment();
  startStream({
    onSnapshot,
    onHistory: (h) => { api.histories++; charts.applyHistory(h); },
    onState: (st) => {
      api.streamState = st;
      header.renderStreamLost(st === 'dead', api.snapshot);
    },
  });
}

start();
