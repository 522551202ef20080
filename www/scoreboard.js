/*
 * The scoreboard panel: one cell per thread of the process, in natural order,
 * coloured by what it is doing now in the dashboard's state hues (idle, on a
 * core, ready but waiting for a core, sleeping on I/O, holding a task between
 * steps, event loop, blocked; only running/sleeping for threads threadlab
 * does not own), its last core in that core's hue, the details in its
 * tooltip. Draws the colour legend once.
 */

import { NA, isNum, fmtPct } from './format.js';
import { $, el, setText, setClass, legendItem } from './dom.js';
import { shortLabel, threadClass, doingText, STATE_NAMES } from './thread-info.js';
import { coreColor } from './colors.js';

let board = null;
const cells = new Map();         // tid -> { root, label, sub }

/* One meaning per colour: "waiting" is only ever "ready, waiting for a
 * core"; a worker between two steps of its task (building the response)
 * is holding a task, not waiting. */
const STATE_LEGEND = [
  ['s-idle', 'idle (no task)'], ['s-cpu', 'on a core (CPU step)'], ['s-runq', 'ready, waiting for a core'],
  ['s-io', 'sleeping on I/O or a timer (IO step)'], ['s-wait', 'holding a task between steps (building the response)'],
  ['s-loop', 'event-loop work'], ['s-blocked', 'blocked in the kernel (state D)'],
  ['s-run', 'other thread: on a core or ready'], ['s-sleep', 'other thread: sleeping']
];

function doingWords(d) {
  if (d && d.what === 'wait')
    return `holding ${isNum(d.task) && d.task ? `task ${d.task}` : 'a task'} between steps (building the response)`;
  return doingText(d);
}
export function init() {
  board = $('scoreboard');
  const lg = $('scoreboard-legend');
  for (const [cls, text] of STATE_LEGEND) lg.appendChild(legendItem(`sw ${cls}`, null, text));
}

/* threads: the snapshot's threads in natural order. */
export function render(s, view) {
  const threads = view.natural;
  const seen = new Set();
  const kids = board.children;
  let inOrder = kids.length === threads.length;

  threads.forEach((t, i) => {
    seen.add(t.tid);
    let c = cells.get(t.tid);
    if (!c) {
      c = { root: el('div', 'cell'), label: el('span'), sub: el('small') };
      c.root.setAttribute('data-tid', String(t.tid));
      c.root.appendChild(c.label);
      c.root.appendChild(c.sub);
      cells.set(t.tid, c);
      inOrder = false;
    }
    setClass(c.root, `cell ${threadClass(t)}`);
    setText(c.label, shortLabel(t));
    setText(c.sub, isNum(t.core) ? `core ${t.core}` : t.state || '');
    const hue = isNum(t.core) ? coreColor(t.core) : '';
    if (c.sub.style.getPropertyValue('--hue') !== hue) {
      c.sub.style.setProperty('--hue', hue);
      c.sub.classList.toggle('core-hue', hue !== '');
    }
    const tip = [`${t.name} · tid ${t.tid} · ${t.role}`,
      `state ${t.state}${STATE_NAMES[t.state] ? ` (${STATE_NAMES[t.state]})` : ''}`,
      `doing: ${doingWords(t.doing)}`,
      `last core ${isNum(t.core) ? t.core : NA} · CPU ${fmtPct(t.cpu_pct)}`,
      `last period: on a core ${fmtPct(t.on_cpu_pct)} · ready, waiting for a core ${fmtPct(t.runq_pct)} · ` +
        `sleeping ${fmtPct(t.sleep_pct)}`].join('\n');
    if (c.root.title !== tip) c.root.title = tip;
    if (inOrder && kids[i] !== c.root) inOrder = false;
  });

  cells.forEach((c, tid) => {
    if (!seen.has(tid)) { c.root.remove(); cells.delete(tid); }
  });
  if (!inOrder) {
    for (let j = 0; j < threads.length; j++) board.appendChild(cells.get(threads[j].tid).root);
  }
}
