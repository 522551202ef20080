/*
 * The scoreboard panel: one cell per thread of the process, in natural order,
 * coloured by what it is doing now (idle, CPU step, I/O, waiting, event loop,
 * blocked; only running/sleeping for threads threadlab does not own), with
 * the details in its tooltip. Draws the colour legend once.
 */

import { NA, isNum, fmtPct } from './format.js';
import { $, el, setText, setClass } from './dom.js';
import { shortLabel, threadClass, doingText, STATE_NAMES } from './thread-info.js';

const board = $('scoreboard');
const cells = new Map();         // tid -> { root, label, sub }

const STATE_LEGEND = [
  ['s-idle', 'idle'], ['s-cpu', 'on a core (CPU step)'], ['s-runq', 'ready, waiting for a core'],
  ['s-io', 'waiting on I/O'], ['s-wait', 'waiting'],
  ['s-loop', 'event-loop work'], ['s-blocked', 'blocked (state D)'],
  ['s-run', 'other thread: running'], ['s-sleep', 'other thread: sleeping']
];
(function scoreboardLegend() {
  var lg = $('scoreboard-legend');
  STATE_LEGEND.forEach(function (p) {
    var s = el('span');
    s.appendChild(el('span', 'sw ' + p[0]));
    s.appendChild(document.createTextNode(p[1]));
    lg.appendChild(s);
  });
})();

/* threads: the snapshot's threads in natural order. */
export function renderScoreboard(threads) {
  var seen = new Set();
  var kids = board.children;
  var inOrder = kids.length === threads.length;
  for (var i = 0; i < threads.length; i++) {
    var t = threads[i];
    seen.add(t.tid);
    var c = cells.get(t.tid);
    if (!c) {
      c = { root: el('div', 'cell'), label: el('span'), sub: el('small') };
      c.root.setAttribute('data-tid', String(t.tid));
      c.root.appendChild(c.label);
      c.root.appendChild(c.sub);
      cells.set(t.tid, c);
      inOrder = false;
    }
    setClass(c.root, 'cell ' + threadClass(t));
    setText(c.label, shortLabel(t));
    setText(c.sub, isNum(t.core) ? 'core ' + t.core : t.state || '');
    var tip = t.name + ' · tid ' + t.tid + ' · ' + t.role + '\nstate ' + t.state +
      (STATE_NAMES[t.state] ? ' (' + STATE_NAMES[t.state] + ')' : '') +
      '\ndoing: ' + doingText(t.doing) + '\nlast core ' + (isNum(t.core) ? t.core : NA) +
      ' · CPU ' + fmtPct(t.cpu_pct) +
      '\nlast period: on a core ' + fmtPct(t.on_cpu_pct) + ' · ready, waiting for a core ' + fmtPct(t.runq_pct) +
      ' · sleeping ' + fmtPct(t.sleep_pct);
    if (c.root.title !== tip) c.root.title = tip;
    if (inOrder && kids[i] !== c.root) inOrder = false;
  }
  cells.forEach(function (c, tid) {
    if (!seen.has(tid)) { c.root.remove(); cells.delete(tid); }
  });
  if (!inOrder) {
    for (var j = 0; j < threads.length; j++) board.appendChild(cells.get(threads[j].tid).root);
  }
}
