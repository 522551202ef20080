/*
 * The live data: one GET /stats at start (to show something at once), then
 * Server-Sent Events from /stats/stream: its first event, `history`, is the
 * last five minutes of per-period series (the charts' past: the dashboard
 * does not fetch /stats/history), then one JSON snapshot per period (format
 * in doc/stats-json.md). Reconnects when the stream is lost (each new
 * connection brings the history again). Each snapshot is parsed and, unless
 * it is one already shown or a late one, handed to the onSnapshot handler.
 * Draws the header's connection status (#stream-status) and "last update …
 * ago" (#stream-age), and marks the page stale.
 *
 * When the stream drops, a probe tells why: the observer's port refusing
 * connections (fast failure, twice in a row) means the process is gone
 * (state "dead": the page keeps its last picture and says so); an answer,
 * or a probe that times out, is a transient network error ("reconnecting").
 */

import { isNum, fmt } from './format.js';
import { $, setText, setClass } from './dom.js';
import { getText, openStream } from './api.js';

let statusEl = null, ageEl = null;
let handlers = null;
let state = 'connecting';          // connecting | live | reconnecting | dead
let refusals = 0;                  // probes refused in a row since the stream dropped
let probing = false;
let source = null;
let retryTimer = null;
let lastEventAt = 0;
let lastSeq = null;                // seq of the last snapshot handed on
let lastUptime = null;
let lastPid = null;                // the process the snapshots come from
let lastSnapshot = null;

const STATE_TITLES = {
  live: 'connected to /stats/stream',
  reconnecting: 'the stream was lost; the browser keeps retrying',
  dead: 'the stream was lost because the process died: its observer port refuses connections',
  connecting: 'connecting to /stats/stream',
};

function setStreamState(st) {
  state = st;
  handlers.onState(st);
  setText(statusEl, st);
  setClass(statusEl, `status ${st}`);
  statusEl.title = STATE_TITLES[st] || STATE_TITLES.connecting;
}

/* Why did the stream drop? A refused connection fails within milliseconds;
 * a slow or lossy network does not. */
const PROBE_TIMEOUT_MS = 3000;
async function probe() {
  if (probing) return;
  probing = true;
  const ctl = new AbortController();
  const t0 = Date.now();
  const timer = setTimeout(() => ctl.abort(), PROBE_TIMEOUT_MS);
  try {
    const t = await getText('/stats', ctl.signal);
    refusals = 0;                   // something answers: the process lives
    if (t) handleSnapshot(t);
  } catch (e) {
    const refused = !ctl.signal.aborted && Date.now() - t0 < PROBE_TIMEOUT_MS && e && e.name === 'TypeError';
    refusals = refused ? refusals + 1 : 0;
    if (refusals >= 2 && state !== 'live' && state !== 'dead') setStreamState('dead');
  }
  clearTimeout(timer);
  probing = false;
  /* keep asking while it is not live: a dead server may come back (restarted) */
  if (state !== 'live') setTimeout(probe, refusals === 1 ? 300 : 2000);
}

function handleSnapshot(text) {
  const t0 = performance.now();
  let s;
  try { s = JSON.parse(text); } catch (e) { console.warn('threadlab: bad snapshot', e); return; }
  if (!s || typeof s !== 'object') return;
  lastEventAt = Date.now();
  if (state !== 'live' && source && source.readyState === 1) setStreamState('live');
  refusals = 0;
  if (isNum(s.seq) && s.seq === lastSeq) return;               // already shown (initial GET + stream)
  /* A restart: another pid (whatever the seq and uptime: a slow reconnect
   * lets the new server's pass the old one's), or, without a pid, a
   * smaller uptime. An older seq from the same pid is a late reply (the
   * page's first GET /stats answered after the stream): dropped. */
  const pid = s.process && isNum(s.process.pid) ? s.process.pid : null;
  const known = pid !== null && lastPid !== null;
  const younger = isNum(s.uptime_ms) && isNum(lastUptime) && s.uptime_ms < lastUptime;
  const restarted = known ? pid !== lastPid : younger;
  if (!restarted && isNum(s.seq) && isNum(lastSeq) && s.seq < lastSeq) return;
  lastUptime = s.uptime_ms;
  if (pid !== null) lastPid = pid;
  lastSnapshot = s;
  handlers.onSnapshot(s, { t0, restarted });
  lastSeq = isNum(s.seq) ? s.seq : lastSeq;
}

function handleHistory(text) {
  let h;
  try { h = JSON.parse(text); } catch (e) { console.warn('threadlab: bad history', e); return; }
  if (h && typeof h === 'object') handlers.onHistory(h);
}

function connect() {
  retryTimer = null;
  if (source) source.close();
  source = openStream();
  if (!source) { setStreamState('reconnecting'); return; }
  source.onopen = () => setStreamState('live');
  source.onmessage = (ev) => handleSnapshot(ev.data);
  source.addEventListener('history', (ev) => handleHistory(ev.data));
  source.onerror = () => {
    if (state !== 'dead') setStreamState('reconnecting');
    probe();
    /* CONNECTING: the browser retries by itself. CLOSED (e.g. HTTP error): retry ourselves. */
    if (source.readyState === 2 && !retryTimer) retryTimer = setTimeout(connect, 2000);
  };
}

function tickAge() {
  if (!lastEventAt) return;
  const age = (Date.now() - lastEventAt) / 1000;
  const period = lastSnapshot && isNum(lastSnapshot.period_ms) ? lastSnapshot.period_ms / 1000 : 0.5;
  const stale = state !== 'live' || age > Math.max(2.5, 3 * period);
  setText(ageEl, `last update ${age < 10 ? fmt(age, 1) : fmt(age, 0)} s ago`);
  ageEl.classList.toggle('stale', stale);
  document.body.classList.toggle('stale', stale);
}

/*
 * Starts it, once. h.onSnapshot(s, { t0, restarted }) gets each new snapshot
 * s (t0: performance.now() before it was parsed; restarted: the server
 * restarted since the previous one); h.onHistory(h) the history each new
 * connection brings first; h.onState(st) each connection state.
 */
export async function startStream(h) {
  handlers = h;
  statusEl = $('stream-status');
  ageEl = $('stream-age');
  setStreamState('connecting');
  connect();
  setInterval(tickAge, 250);
  /* Show something at once rather than after the first period. */
  try {
    const t = await getText('/stats');
    if (t) handleSnapshot(t);
  } catch { /* the stream will bring data, or show the error */ }
}
