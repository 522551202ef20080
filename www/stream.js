/*
 * The live data: one GET /stats at start (to show something at once), then
 * Server-Sent Events from /stats/stream (one JSON snapshot per period, format
 * in doc/stats-json.md), reconnecting when the stream is lost. Each snapshot
 * is parsed and, unless it is one already shown or a late one, handed to the
 * onSnapshot handler. Draws the header's connection status (#stream-status)
 * and "last update … ago" (#stream-age), and marks the page stale.
 *
 * When the stream drops, a probe tells why: the observer's port refusing
 * connections (fast failure, twice in a row) means the process is gone
 * (state "dead": the page keeps its last picture and says so); an answer,
 * or a probe that times out, is a transient network error ("reconnecting").
 */

import { isNum, fmt } from './format.js';
import { $, setText, setClass } from './dom.js';

const statusEl = $('stream-status');
const ageEl = $('stream-age');

let handlers = null;
let state = 'connecting';          // connecting | live | reconnecting | dead
let refusals = 0;                  // probes refused in a row since the stream dropped
let probing = false;
let source = null;
let retryTimer = null;
let lastEventAt = 0;
let lastSeq = null;                // seq of the last snapshot handed on
let lastUptime = null;
let lastSnapshot = null;

function setStreamState(st) {
  state = st;
  handlers.onState(st);
  setText(statusEl, st);
  setClass(statusEl, 'status ' + st);
  statusEl.title = st === 'live' ? 'connected to /stats/stream'
    : st === 'reconnecting' ? 'the stream was lost; the browser keeps retrying'
    : st === 'dead' ? 'the stream was lost because the process died: its observer port refuses connections'
    : 'connecting to /stats/stream';
}

/* Why did the stream drop? A refused connection fails within milliseconds;
 * a slow or lossy network does not. */
const PROBE_TIMEOUT_MS = 3000;
function probe() {
  if (probing) return;
  probing = true;
  var ctl = new AbortController();
  var t0 = Date.now();
  var timer = setTimeout(function () { ctl.abort(); }, PROBE_TIMEOUT_MS);
  fetch('/stats', { cache: 'no-store', signal: ctl.signal })
    .then(function (r) {
      refusals = 0;                 // something answers: the process lives
      return r.ok ? r.text() : null;
    })
    .then(function (t) { if (t) handleSnapshot(t); })
    .catch(function (e) {
      var refused = !ctl.signal.aborted && Date.now() - t0 < PROBE_TIMEOUT_MS && e && e.name === 'TypeError';
      refusals = refused ? refusals + 1 : 0;
      if (refusals >= 2 && state !== 'live') {
        if (state !== 'dead') setStreamState('dead');
      }
    })
    .then(function () {
      clearTimeout(timer);
      probing = false;
      /* keep asking while it is not live: a dead server may come back (restarted) */
      if (state !== 'live') setTimeout(probe, refusals === 1 ? 300 : 2000);
    });
}

function handleSnapshot(text) {
  var t0 = performance.now();
  var s;
  try { s = JSON.parse(text); } catch (e) { console.warn('threadlab: bad snapshot', e); return; }
  if (!s || typeof s !== 'object') return;
  lastEventAt = Date.now();
  if (state !== 'live' && source && source.readyState === 1) setStreamState('live');
  refusals = 0;
  if (isNum(s.seq) && s.seq === lastSeq) return;               // already shown (initial GET + stream)
  var restarted = false;
  if (isNum(s.seq) && isNum(lastSeq) && s.seq < lastSeq) {
    /* older snapshot: either a late reply, or the server restarted */
    if (!(isNum(s.uptime_ms) && isNum(lastUptime) && s.uptime_ms < lastUptime)) return;
    restarted = true;
  }
  lastUptime = s.uptime_ms;
  lastSnapshot = s;
  handlers.onSnapshot(s, { t0: t0, restarted: restarted });
  lastSeq = isNum(s.seq) ? s.seq : lastSeq;
}

function connect() {
  retryTimer = null;
  if (source) source.close();
  if (typeof window.EventSource !== 'function') { setStreamState('reconnecting'); return; }
  source = new EventSource('/stats/stream');
  source.onopen = function () { setStreamState('live'); };
  source.onmessage = function (ev) { handleSnapshot(ev.data); };
  source.onerror = function () {
    if (state !== 'dead') setStreamState('reconnecting');
    probe();
    /* CONNECTING: the browser retries by itself. CLOSED (e.g. HTTP error): retry ourselves. */
    if (source.readyState === 2 && !retryTimer) retryTimer = setTimeout(connect, 2000);
  };
}

function tickAge() {
  if (!lastEventAt) return;
  var age = (Date.now() - lastEventAt) / 1000;
  var period = lastSnapshot && isNum(lastSnapshot.period_ms) ? lastSnapshot.period_ms / 1000 : 0.5;
  var stale = state !== 'live' || age > Math.max(2.5, 3 * period);
  setText(ageEl, 'last update ' + (age < 10 ? fmt(age, 1) : fmt(age, 0)) + ' s ago');
  ageEl.classList.toggle('stale', stale);
  document.body.classList.toggle('stale', stale);
}

/*
 * Starts it, once. h.onSnapshot(s, { t0, restarted }) gets each new snapshot
 * s (t0: performance.now() before it was parsed; restarted: the server
 * restarted since the previous one); h.onState(st) each connection state.
 */
export function startStream(h) {
  handlers = h;
  setStreamState('connecting');
  connect();
  setInterval(tickAge, 250);
  /* Show something at once rather than after the first period. */
  fetch('/stats', { cache: 'no-store' })
    .then(function (r) { return r.ok ? r.text() : null; })
    .then(function (t) { if (t) handleSnapshot(t); })
    .catch(function () { /* the stream will bring data, or show the error */ });
}
