/*
 * Events: control changes and starts/ends of load, each with its wall-clock
 * time (doc/stats-json.md, "events"). Every snapshot brings the latest few
 * and the history brings all of them; they are kept here by id (at most
 * MAX), listed in the "Events" panel (#event-log, newest first) and handed
 * to charts.js, which draws them as markers.
 */

import { clock } from './format.js';
import { $, el, setText } from './dom.js';

const MAX = 200;

const byId = new Map();
let ordered = [];                  // oldest first
let drawnKey = '';                 // what the log shows now

/* Adds the events of a snapshot or of the history; true if any was new. */
export function addEvents(list) {
  if (!Array.isArray(list)) return false;
  var added = false;
  list.forEach(function (e) {
    if (!e || typeof e.id !== 'number' || byId.has(e.id)) return;
    byId.set(e.id, e);
    added = true;
  });
  if (!added) return false;
  ordered = Array.from(byId.values()).sort(function (a, b) { return a.id - b.id; });
  while (ordered.length > MAX) byId.delete(ordered.shift().id);
  return true;
}

/* After a server restart its events start again from id 1. */
export function resetEvents() {
  byId.clear();
  ordered = [];
}

/* Oldest first. */
export function eventList() { return ordered; }

/* The short text a chart marker carries. */
export function markerLabel(e) {
  if (e.kind === 'control' && e.key) return e.key + ' → ' + e.to;
  if (e.kind === 'load_start') return 'load ' + String(e.text || '').replace(/^load started:\s*/, '');
  if (e.kind === 'load_end') return 'load ended';
  return String(e.text || '');
}

/* Markers are drawn for control changes and load starts; load ends too, lighter. */
export function markerColor(e) {
  if (e.kind === 'control') return '#c2255c';
  if (e.kind === 'load_start') return '#1c7ed6';
  return '#adb5bd';
}

export function renderEventLog() {
  var list = $('event-log');
  if (!list) return;
  var key = ordered.length ? ordered[0].id + ':' + ordered[ordered.length - 1].id + ':' + ordered.length : '';
  if (key === drawnKey) return;
  drawnKey = key;
  list.textContent = '';
  for (var i = ordered.length - 1; i >= 0; i--) {
    var e = ordered[i];
    var li = el('li', 'event ev-' + e.kind);
    var t = el('time', 'event-time', clock(e.time_ms));
    t.dateTime = new Date(e.time_ms).toISOString();
    li.appendChild(t);
    li.appendChild(el('span', 'event-text', e.text));
    list.appendChild(li);
  }
  setText($('event-log-empty'), ordered.length ? '' : 'No events yet: a control change or a load starting will show here.');
}
