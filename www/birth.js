/*
 * The thread-birth panel: how each process started its threads. For every
 * thread, when its creator asked for it (created_ns) and when it first ran
 * (first_run_ns, read by the thread itself): a created thread is only
 * runnable, the scheduler decides when it runs, and the gap between the
 * two is that decision. A strip per process places each creation on one
 * time axis (from the main thread's start); a row per thread gives the
 * times and draws its create -> first-run gap on a common scale. Threads we
 * did not create (libuv's pool, the main thread's exec) carry the kernel's
 * start time (10 ms clock ticks) and no first run: said as such. The
 * layout is birth-model.js's.
 *
 * Redrawn only when the set of threads or their birth changes (births do
 * not move), so a steady update costs a comparison of keys.
 */

import { isNum } from './format.js';
import { $, el } from './dom.js';
import { birthKey, birthLayout } from './birth-model.js';

let root = null;
let lastKey = '';

export function init() {
  root = $('birth');
}

export function reset() { lastKey = ''; }

function drawStrip(box) {
  const strip = el('div', 'birth-strip');
  for (const k of box.ticks) {
    const mark = el('i', `birth-tick role-${k.role}`);
    mark.style.left = `${k.left.toFixed(2)}%`;
    mark.title = k.title;
    strip.appendChild(mark);
  }
  return strip;
}

function drawRow(r) {
  const t = r.t;
  const row = el('div', `birth-row role-${t.role}`);
  Object.assign(row.dataset, { tid: String(t.tid), pid: String(t.pid), role: t.role });
  if (isNum(t.index)) row.dataset.index = String(t.index);
  if (isNum(t.created_ns)) row.dataset.created = String(t.created_ns);
  if (isNum(t.first_run_ns)) row.dataset.firstRun = String(t.first_run_ns);
  const gap = el('span', 'birth-gap');
  if (r.gap.width !== null) {
    /* The bar's width is a share of a fixed track, so that gaps compare. */
    const track = el('span', 'birth-track');
    const bar = el('i', `${r.gap.kernel ? 'kernel' : ''}${r.gap.clipped ? ' clipped' : ''}`.trim() || null);
    bar.style.width = `${r.gap.width.toFixed(1)}%`;
    track.appendChild(bar);
    gap.appendChild(track);
    gap.title = r.gap.clipped ? 'longer than this scale (the largest gap measured at both ends): clipped'
      : 'created -> first run: runnable, waiting for the scheduler to run it';
  }
  gap.appendChild(el('small', null, r.gap.text));
  row.append(el('span', 'birth-name', r.name), el('span', 'birth-at', r.created), el('span', 'birth-at', r.firstRun), gap);
  return row;
}

export function render(s, view) {
  const key = birthKey(view.threads);
  if (key === lastKey) return;
  lastKey = key;
  const frag = document.createDocumentFragment();
  const boxes = birthLayout(view.threads, s.processes);
  if (boxes.length === 0) frag.appendChild(el('p', 'note', 'no thread birth times in this snapshot'));
  for (const b of boxes) {
    const box = el('div', 'birth-proc');
    box.dataset.pid = String(b.pid);
    box.append(el('h3', null, b.title), drawStrip(b), ...b.rows.map(drawRow));
    frag.appendChild(box);
  }
  root.replaceChildren(frag);
}
