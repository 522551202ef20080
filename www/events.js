/*
 * Events: control changes and starts/ends of load, each with its wall-clock
 * time (doc/stats-json.md, "events"). Every snapshot brings the latest few
 * and the history brings all of them; they are kept here by id (at most
 * MAX), listed by event-log.js (newest first) and drawn by charts.js as
 * markers. No DOM.
 */


const MAX = 200;

const byId = new Map();
let ordered = [];                  // oldest first

/* Adds the events of a snapshot or of the history; true if any was new. */
export function addEvents(list) {
  if (!Array.isArray(list)) return false;
  let added = false;
  list.forEach(e => {
    if (!e || typeof e.id !== 'number' || byId.has(e.id)) return;
    byId.set(e.id, e);
    added = true;
  });
  if (!added) return false;
  ordered = Array.from(byId.values()).sort((a, b) => a.id - b.id);
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

/* The short text a chart marker carries. A load's start without its rate:
 * that is the rate of the period it was noticed in, which the load began
 * part way through ("load 112 req/s" over a line at 450 read as the load's). */
export function markerLabel(e) {
  if (e.kind === 'control' && e.key) return `${e.key} → ${e.to}`;
  if (e.kind === 'load_start') return 'load started';
  if (e.kind === 'load_end') return 'load ended';
  return String(e.text || '');
}

/* Markers are drawn for control changes and load starts; load ends too, lighter. */
export function markerColor(e) {
  if (e.kind === 'control') return '#c2255c';
  if (e.kind === 'load_start') return '#1c7ed6';
  return '#adb5bd';
}

/* Changes whenever the list does (the log redraws only then). */
export function eventsKey() {
  return ordered.length ? `${ordered[0].id}:${ordered[ordered.length - 1].id}:${ordered.length}` : '';
}
