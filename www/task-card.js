/*
 * Follow one task: the task card. findTask(id) looks in the task store
 * (task-store.js, filled from every snapshot, also while paused), then in a
 * fresh GET /stats, and shows the card: one row per step (kind, thread,
 * core, start, end, on-CPU, waiting, coroutine and stack when present), and
 * for a step the dashboard never saw, a row that says so ("step N not seen:
 * it fell out of the window"). The card is fixed on the page and stays
 * while the view moves; it is refreshed as more of the task's steps arrive.
 * A task not found says why: not seen yet (the card waits for it), or
 * fallen out of what the server keeps.
 */

import { NA, isNum, fmt } from './format.js';
import { $, el } from './dom.js';
import { coreColor } from './colors.js';
import { getJSON } from './api.js';
import { createTaskStore } from './task-store.js';

const store = createTaskStore();
let card = null;
let shown = null;                   // { id, status: 'found' | 'waiting' | 'gone' }
let onChange = null;
const refetched = new Set();        // ids whose gaps were asked of /stats once

export function init() {
  card = $('task-card');
}

/* h(id|null): called when the followed task changes (for the URL fragment). */
export function onTaskChange(h) { onChange = h; }

/* The followed task and what the card says about it (tests, console). */
export function taskCardState() {
  if (!shown) return null;
  const rows = store.rows(shown.id);
  return { id: shown.id, status: shown.status, steps: store.steps(shown.id),
    missing: rows.filter((r) => r.missing).map((r) => r.step) };
}

/* Every snapshot, paused or not. */
export function ingestSteps(s) {
  store.ingest(s);
  if (shown && (shown.status === 'waiting' || store.has(shown.id))) show(shown.id);
}

/* Finds task id (a number, e.g. from X-Task-Id) and opens its card. */
export async function findTask(id) {
  id = Number(id);
  if (!Number.isInteger(id) || id <= 0) { closeCard(); return null; }
  show(id);
  if (store.has(id) && !hasGaps(id)) return taskCardState();
  await fillFromStats(id);
  return taskCardState();
}

function hasGaps(id) { return store.rows(id).some((r) => r.missing); }

/* Not (or not all) in what the stream brought: ask the server for its
 * recent steps, once per task. */
async function fillFromStats(id) {
  refetched.add(id);
  try {
    const s = await getJSON('/stats');
    if (s) store.ingest(s);
  } catch { /* the stream may still bring it */ }
  if (shown && shown.id === id) show(id);
}

export function closeCard() {
  shown = null;
  if (card) { card.hidden = true; card.textContent = ''; }
  if (onChange) onChange(null);
}

const ms = (v) => (isNum(v) ? `${fmt(v, 2)} ms` : NA);

function show(id) {
  const prev = shown ? shown.id : null;
  const status = store.status(id);
  const rows = store.rows(id);
  shown = { id, status };
  card.hidden = false;
  card.setAttribute('data-task', String(id));
  card.setAttribute('data-status', status);
  card.textContent = '';
  const h = el('h3');
  const first = rows.find((r) => !r.missing);
  h.appendChild(el('span', null, `task ${id}${first ? ` · ${first.route || ''}` : ''}`));
  const close = el('button', null, '×');
  close.type = 'button';
  close.title = 'stop following this task';
  close.addEventListener('click', closeCard);
  h.appendChild(close);
  card.appendChild(h);
  if (!rows.length) {
    const newest = store.newest();
    card.appendChild(el('p', 'note', status === 'waiting'
      ? `Not seen yet (newest task seen: ${newest === null ? 'none' : newest}); watching the stream for it.`
      : `Task ${id} fell out: the dashboard keeps the steps of tasks ${store.oldest()}–${newest} seen since it opened, ` +
        'and the server sends only its last seconds of steps. (Tasks without steps, such as /plaintext, never appear.)'));
  } else {
    card.appendChild(stepsTable(rows));
    const missing = rows.filter((r) => r.missing).length;
    card.appendChild(el('p', 'note', `${missing ? `${missing} step${missing === 1 ? '' : 's'} not seen: ` +
      'the server sends its last seconds of steps (sampled under load), and a step that ended before the page ' +
      'saw it is gone. ' : ''}Times are server uptime. On-CPU: the thread’s CPU clock across the step; ` +
      'waiting: the rest of its wall time (a CPU step: ready, waiting for a core; an I/O step: sleeping).'));
    if (missing && !refetched.has(id)) fillFromStats(id);
  }
  if (onChange && prev !== id) onChange(id);
}

function stepCells(s) {
  const wall = isNum(s.end_ms) && isNum(s.start_ms) ? s.end_ms - s.start_ms : null;
  const cpu = isNum(s.cpu_us) ? Math.min(s.cpu_us / 1000, isNum(wall) ? wall : Infinity) : null;
  const waiting = isNum(wall) && isNum(cpu) ? wall - cpu : null;
  const core = el('td', null, isNum(s.core) ? String(s.core) : NA);
  if (isNum(s.core)) { core.classList.add('core-hue'); core.style.setProperty('--hue', coreColor(s.core)); }
  const waitingCls = s.kind === 'cpu' && isNum(waiting) && wall > 0 && waiting / wall > 0.2 ? 'waiting' : null;
  return [el('td', null, String(s.step)), el('td', null, s.kind || NA),
    el('td', null, `${store.threadName(s.tid) || 'tid'} (${s.tid})`), core,
    el('td', null, isNum(s.start_ms) ? `${fmt(s.start_ms / 1000, 3)} s` : NA),
    el('td', null, isNum(s.end_ms) ? `${fmt(s.end_ms / 1000, 3)} s` : 'running'),
    el('td', null, ms(wall)), el('td', null, ms(cpu)),
    el('td', waitingCls, isNum(waiting) ? `${ms(waiting)}${s.kind === 'cpu' ? ' for a core' : ' sleeping'}` : NA)];
}

function stepsTable(rows) {
  const coro = rows.some((s) => isNum(s.coro) || s.stack);
  const cols = ['step', 'kind', 'thread', 'core', 'start', 'end', 'wall', 'on-CPU', 'waiting'].concat(coro ? ['coro', 'stack'] : []);
  const t = el('table');
  const head = el('tr');
  for (const c of cols) head.appendChild(el('th', null, c));
  t.appendChild(head);
  for (const s of rows) {
    const tr = el('tr');
    tr.setAttribute('data-step', String(s.step));
    if (s.missing) {
      tr.className = 'missing';
      tr.appendChild(el('td', null, String(s.step)));
      const td = el('td', 'note', `step ${s.step} not seen (fell out of the window)`);
      td.colSpan = cols.length - 1;
      tr.appendChild(td);
    } else {
      const cells = stepCells(s);
      if (coro) {
        cells.push(el('td', null, isNum(s.coro) ? String(s.coro) : NA));
        cells.push(el('td', 'stack', s.stack ? String(s.stack) : NA));
      }
      tr.append(...cells);
    }
    t.appendChild(tr);
  }
  return t;
}
