/*
 * Follow one task: the task card. Every snapshot's recent steps (also while
 * the view is paused) go into a bounded store by task id, so a task can be
 * found after the timeline has moved on. findTask(id) looks there, then in
 * a fresh GET /stats, and shows the card: one row per step (kind, thread,
 * core, start, end, on-CPU, waiting, coroutine and stack when present). The
 * card is fixed on the page and stays while the view moves; it is refreshed
 * as more of the task's steps arrive. A task not found says why: not seen
 * yet (the card waits for it), or fallen out of what the server keeps.
 */

import { NA, isNum, fmt } from './format.js';
import { $, el } from './dom.js';
import { coreColor } from './cores.js';

const MAX_TASKS = 20000;            // bounded: oldest tasks are forgotten first
const store = new Map();            // task id -> Map(step index -> step record)
const threadNames = new Map();      // tid -> name, from the snapshots
let newestTask = null, oldestKept = null;
let shown = null;                   // { id, status: 'found' | 'waiting' | 'gone' }
let onChange = null;

const card = $('task-card');

/* h(id|null): called when the followed task changes (for the URL fragment). */
export function onTaskChange(h) { onChange = h; }

/* The followed task and what the card says about it (tests, console). */
export function taskCardState() {
  if (!shown) return null;
  var steps = store.get(shown.id);
  return { id: shown.id, status: shown.status, steps: steps ? sortedSteps(steps) : [] };
}

/* Every snapshot, paused or not. */
export function ingestSteps(s) {
  var th = Array.isArray(s.threads) ? s.threads : [];
  for (var i = 0; i < th.length; i++) threadNames.set(th[i].tid, th[i].name);
  var steps = s.timeline && Array.isArray(s.timeline.steps) ? s.timeline.steps : [];
  for (i = 0; i < steps.length; i++) {
    var st = steps[i];
    if (!isNum(st.task)) continue;
    var m = store.get(st.task);
    if (!m) {
      m = new Map();
      store.set(st.task, m);
      if (newestTask === null || st.task > newestTask) newestTask = st.task;
    }
    m.set(st.step, st);
  }
  /* Maps iterate in insertion order: the first keys are the oldest. */
  if (store.size > MAX_TASKS) {
    var drop = store.size - MAX_TASKS;
    for (var key of store.keys()) { if (drop-- <= 0) break; store.delete(key); }
  }
  oldestKept = null;
  for (var k of store.keys()) { oldestKept = k; break; }
  if (shown && (shown.status === 'waiting' || store.has(shown.id))) show(shown.id);
}

/* Finds task id (a number, e.g. from X-Task-Id) and opens its card. */
export function findTask(id) {
  id = Number(id);
  if (!Number.isInteger(id) || id <= 0) { closeCard(); return Promise.resolve(null); }
  show(id);
  if (store.has(id)) return Promise.resolve(taskCardState());
  /* Not in what the stream brought: ask the server for its recent steps. */
  return fetch('/stats', { cache: 'no-store' })
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (s) { if (s) ingestSteps(s); })
    .catch(function () { /* the stream may still bring it */ })
    .then(function () { if (shown && shown.id === id) show(id); return taskCardState(); });
}

export function closeCard() {
  shown = null;
  card.hidden = true;
  card.textContent = '';
  if (onChange) onChange(null);
}

function sortedSteps(m) {
  return Array.from(m.values()).sort(function (a, b) { return a.step - b.step; });
}

function ms(v) { return isNum(v) ? fmt(v, 2) + ' ms' : NA; }

function show(id) {
  var prev = shown ? shown.id : null;
  var m = store.get(id);
  var status = m ? 'found' : (newestTask === null || id > newestTask ? 'waiting' : 'gone');
  shown = { id: id, status: status };
  card.hidden = false;
  card.setAttribute('data-task', String(id));
  card.setAttribute('data-status', status);
  card.textContent = '';
  var h = el('h3');
  h.appendChild(el('span', null, 'task ' + id + (m ? ' · ' + (sortedSteps(m)[0].route || '') : '')));
  var close = el('button', null, '×');
  close.type = 'button';
  close.title = 'stop following this task';
  close.addEventListener('click', closeCard);
  h.appendChild(close);
  card.appendChild(h);
  if (!m) {
    card.appendChild(el('p', 'note', status === 'waiting'
      ? 'Not seen yet (newest task seen: ' + (newestTask === null ? 'none' : newestTask) + '); watching the stream for it.'
      : 'Task ' + id + ' fell out: the dashboard keeps the steps of tasks ' + oldestKept + '–' + newestTask +
        ' seen since it opened, and the server sends only its last seconds of steps. ' +
        '(Tasks without steps, such as /plaintext, never appear.)'));
  } else {
    card.appendChild(stepsTable(sortedSteps(m)));
    card.appendChild(el('p', 'note', 'Times are server uptime. On-CPU: the thread\u2019s CPU clock across the step; ' +
      'waiting: the rest of its wall time (a CPU step: ready, waiting for a core; an I/O step: sleeping).'));
  }
  if (onChange && prev !== id) onChange(id);
}

function stepsTable(steps) {
  var coro = steps.some(function (s) { return isNum(s.coro) || s.stack; });
  var t = el('table');
  var head = el('tr');
  ['step', 'kind', 'thread', 'core', 'start', 'end', 'wall', 'on-CPU', 'waiting'].concat(coro ? ['coro', 'stack'] : [])
    .forEach(function (c) { head.appendChild(el('th', null, c)); });
  t.appendChild(head);
  steps.forEach(function (s) {
    var tr = el('tr');
    var wall = isNum(s.end_ms) && isNum(s.start_ms) ? s.end_ms - s.start_ms : null;
    var cpu = isNum(s.cpu_us) ? Math.min(s.cpu_us / 1000, isNum(wall) ? wall : Infinity) : null;
    var waiting = isNum(wall) && isNum(cpu) ? wall - cpu : null;
    var core = el('td', null, isNum(s.core) ? String(s.core) : NA);
    if (isNum(s.core)) { core.classList.add('core-hue'); core.style.setProperty('--hue', coreColor(s.core)); }
    var cells = [el('td', null, String(s.step)), el('td', null, s.kind || NA),
      el('td', null, (threadNames.get(s.tid) || 'tid') + ' (' + s.tid + ')'), core,
      el('td', null, isNum(s.start_ms) ? fmt(s.start_ms / 1000, 3) + ' s' : NA),
      el('td', null, isNum(s.end_ms) ? fmt(s.end_ms / 1000, 3) + ' s' : NA),
      el('td', null, ms(wall)), el('td', null, ms(cpu)),
      el('td', s.kind === 'cpu' && isNum(waiting) && wall > 0 && waiting / wall > 0.2 ? 'waiting' : null,
        isNum(waiting) ? ms(waiting) + (s.kind === 'cpu' ? ' for a core' : ' sleeping') : NA)];
    if (coro) {
      cells.push(el('td', null, isNum(s.coro) ? String(s.coro) : NA));
      cells.push(el('td', null, s.stack ? String(s.stack) : NA));
    }
    cells.forEach(function (c) { tr.appendChild(c); });
    t.appendChild(tr);
  });
  return t;
}
