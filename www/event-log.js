/*
 * The "Events" panel (#event-log): the events of events.js, newest first,
 * each with its wall-clock time. charts.js calls renderEventLog when the
 * events change.
 */

import { clock } from './format.js';
import { $, el, setText } from './dom.js';
import { eventList, eventsKey } from './events.js';

let drawnKey = '';                 // what the log shows now

export function renderEventLog() {
  const list = $('event-log');
  if (!list) return;
  const ordered = eventList();
  const key = eventsKey();
  if (key === drawnKey) return;
  drawnKey = key;
  list.textContent = '';
  for (let i = ordered.length - 1; i >= 0; i--) {
    const e = ordered[i];
    const li = el('li', `event ev-${e.kind}`);
    const t = el('time', 'event-time', clock(e.time_ms));
    t.dateTime = new Date(e.time_ms).toISOString();
    li.appendChild(t);
    li.appendChild(el('span', 'event-text', e.text));
    list.appendChild(li);
  }
  setText($('event-log-empty'), ordered.length ? '' : 'No events yet: a control change or a load starting will show here.');
}
