/*
 * The threads panel: a row per thread that fits a 1,320 px window: the
 * name (sticky while the table scrolls sideways), then three column groups —
 * where (core, allowed cores, migrations/s), scheduler (state, doing now,
 * where the period went as a stacked bar on a core / ready, waiting for a
 * core / sleeping, run-queue wait %, switches/s) and work (CPU %, holding a
 * task %, coroutine switches/s, tasks/s, tasks in flight, steps/s).
 * Under --processes the rows are grouped by process, each group under a
 * header row (process-groups.js: pid, role, state, restarts, req/s).
 * Clicking a name opens a
 * details row with the totals (tid, index, CPU time, on-CPU, run-queue wait,
 * timeslices, switches, migrations, tasks, steps). Builds the two-row header
 * once (init); clicking a header sorts by it (numbers biggest first, a second
 * click reverses, a third returns to the natural order).
 *
 * At scale: beyond VIRTUAL_FROM threads (a full /stats at 1,000 threads)
 * only the rows in view are in the DOM, between two spacer rows that keep
 * the scroll height, so an update touches a screenful of rows, not all of
 * them. The stream lists the busiest threads and folds the rest
 * (doc/stats-json.md "folded"); the line above the table says so.
 */

import { NA, isNum, fmt } from './format.js';
import { $, el } from './dom.js';
import { doingClass, doingText, sortThreads, STATE_NAMES, lockWaitText } from './thread-info.js';
import { withProcessHeaders, groupText } from './process-groups.js';

/* "loop 2" for loop threads (loop 0, the main thread, has no index). */
function roleText(t) {
  if (t.role === 'loop') return `loop ${isNum(t.index) ? t.index : 0}`;
  return t.role || NA;
}

function num(k, d) { return t => fmt(t[k], d); }
function plainInt(k) { return t => isNum(t[k]) ? String(t[k]) : NA; }   // no thousands separator
/* Blocked on one of our locks now: said first (the span is cut at its
 * width), in the waiting hue: its task's step is not what it does. */
const onLock = (t) => isNum(t.lock_wants) && t.lock_wants >= 0;
const DOING_COL = { k: 'doing', label: 'doing now', txt: true, cls: 'doing',
  text(t) { return onLock(t) ? `on lock ${t.lock_wants} · ${doingText(t.doing, true)}` : doingText(t.doing, true); },
  sortVal(t) { return t.doing && t.doing.what ? t.doing.what : null; },
  title: 'what the thread is doing at the moment of the sample',
  draw(td, t, s) {
    let sp = td.firstChild;
    if (!sp) { sp = el('span'); td.appendChild(sp); }
    sp.textContent = s;
    sp.className = s === NA ? '' : onLock(t) ? 's-wait' : doingClass(t);
    td.title = [doingText(t.doing), lockWaitText(t)].filter(Boolean).join('; ');
  } };
const COLS = [
  { k: 'name', label: 'name', txt: true, cls: 'name', text: (t) => (t.name ? String(t.name) : NA),
    title: 'click a name for its totals' },
  { k: 'core', g: 'where', label: 'core', text: plainInt('core'), title: 'core it last ran on' },
  { k: 'allowed', g: 'where', label: 'allowed', txt: true, text: (t) => (t.allowed ? String(t.allowed) : NA),
    title: 'cores it may run on (affinity)' },
  { k: 'migrations_rate', g: 'where', label: 'migr./s', rate: true, text: num('migrations_rate', 1),
    title: 'moves to another core per second' },
  { k: 'state', g: 'scheduler', label: 'state', txt: true, cls: 'state', text: (t) => t.state || NA,
    draw: (td, t, s) => {
      let sp = td.firstChild;
      if (!sp) { sp = el('span'); td.appendChild(sp); }
      sp.textContent = s; sp.className = s;
      td.title = STATE_NAMES[s] || '';
    },
    title: 'kernel state: R running/runnable, S sleeping, D blocked (uninterruptible)' },
  { ...DOING_COL, g: 'scheduler' },
  { k: 'on_cpu_pct', g: 'scheduler', label: 'period: on a core / ready / sleeping', cls: 'period', wrap: true,
    text: (t) => (isNum(t.on_cpu_pct) || isNum(t.runq_pct) || isNum(t.sleep_pct)
      ? [`${fmt(t.on_cpu_pct, 0)} / ${fmt(t.runq_pct, 0)} / ${fmt(t.sleep_pct, 0)}`, lockWaitText(t, true)]
        .filter(Boolean).join(' · ') : NA),
    title: 'share of the last period on a core / ready, waiting for a core (run queue) / sleeping or blocked, %; ' +
      'lock wait: the part of sleeping spent waiting for one of our locks (on lock N: waiting for it now)',
    draw: drawPeriod },
  { k: 'runq_wait_pct', g: 'scheduler', label: 'runq wait %', bar: true, text: num('runq_wait_pct', 1),
    title: 'run-queue wait over the last period, % of the period' },
  { k: 'ctx_voluntary_rate', g: 'scheduler', label: 'vol./s', rate: true, text: num('ctx_voluntary_rate', 0),
    title: 'voluntary switches per second: gave up the core by itself (waiting for something)' },
  { k: 'ctx_involuntary_rate', g: 'scheduler', label: 'invol./s', rate: true, text: num('ctx_involuntary_rate', 0),
    title: 'involuntary switches per second: pushed off the core by the scheduler' },
  { k: 'cpu_pct', g: 'work', label: 'CPU %', bar: true, text: num('cpu_pct', 1),
    title: 'user+sys over the last period, % of one core' },
  { k: 'busy_pct', g: 'work', label: 'holding %', bar: true, text: num('busy_pct', 1),
    title: 'workers: share of the period holding a task — on a core, waiting for one, or blocked inside it (compare CPU % and the period bar)' },
  { k: 'coro_switches_rate', g: 'work', label: 'coro sw./s', rate: true, text: num('coro_switches_rate', 0),
    title: 'user-level switches into and out of coroutines per second (coro mode; no kernel involved) — compare the kernel’s switches' },
  { k: 'tasks_rate', g: 'work', label: 'tasks/s', rate: true, text: num('tasks_rate', 0) },
  { k: 'tasks_in_flight', g: 'work', label: 'in flight', text: num('tasks_in_flight', 0),
    title: 'tasks it holds now: a worker the one it runs (0 or 1); a loop those waiting on its timers (IO steps)' },
  { k: 'steps_rate', g: 'work', label: 'steps/s', rate: true, text: num('steps_rate', 0) },
];

/* The columns shown: all of COLS, or (the Lab's focused view, half the
 * width) the name and those an experiment's evidence is in. */
let cols = COLS;
export const COLUMN_KEYS = COLS.map((c) => c.k);

/* The details row: totals since the thread started. */
const DETAILS = [
  ['tid', (t) => (isNum(t.tid) ? String(t.tid) : NA)], ['role', roleText],
  ['index', (t) => (isNum(t.index) ? String(t.index) : NA)],
  ['user s', num('cpu_user_s', 2)], ['sys s', num('cpu_sys_s', 2)], ['on-CPU s', num('oncpu_s', 3)],
  ['runq wait s', num('runq_wait_s', 3)], ['timeslices', num('timeslices', 0)],
  ['voluntary switches', num('ctx_voluntary', 0)], ['involuntary switches', num('ctx_involuntary', 0)],
  ['migrations', num('migrations', 0)], ['in flight', num('tasks_in_flight', 0)], ['tasks', num('tasks', 0)],
  ['steps', num('steps', 0)],
];

function drawPeriod(td, t, s) {
  let bar = td.firstChild;
  if (!bar) {
    bar = el('span', 'pbar');
    bar.append(el('i', 'p-oncpu'), el('i', 'p-runq'), el('i', 'p-sleep'));
    td.append(bar, el('small'));
  }
  const parts = [t.on_cpu_pct, t.runq_pct, t.sleep_pct];
  parts.forEach((v, i) => {
    bar.children[i].style.width = isNum(v) ? `${Math.max(0, Math.min(100, v)).toFixed(1)}%` : '0';
  });
  td.lastChild.textContent = s;
  td.title = s === NA ? 'not known yet (first sample of this thread) or not accounted'
    : `on a core ${fmt(t.on_cpu_pct, 1)}% · ready, waiting for a core ${fmt(t.runq_pct, 1)}% · ` +
      `sleeping ${fmt(t.sleep_pct, 1)}% of the last period` + (lockWaitText(t) ? ` — ${lockWaitText(t)}` : '');
}

const VIRTUAL_FROM = 200;        // more threads than this: only the rows in view are in the DOM
const OVERSCAN = 8;              // rows kept beyond each edge of the view
let tbody = null, wrap = null, padTop = null, padBottom = null, foldedLine = null, colsLine = null;
let rowHeight = 0;               // px, measured once from a real row
let lastSorted = null;           // what the table holds, in display order
const rows = new Map();          // tid -> { tr, tds, last, details }
const expanded = new Set();      // tids whose details row is open
const sortState = { key: null, dir: 1 };   // null = natural order (loop, workers, observer, ...)
const headerCells = [];
let lastThreads = null;          // the threads last shown, re-sorted when a header is clicked
let lastProcesses = null;        // processes[]: under --processes the rows are grouped by process

export function init() {
  tbody = $('threads-body');
  wrap = tbody.closest('.table-wrap');
  padTop = spacerRow();
  padBottom = spacerRow();
  foldedLine = el('p', 'threads-folded');
  foldedLine.id = 'threads-folded';
  foldedLine.hidden = true;
  wrap.parentNode.insertBefore(foldedLine, wrap);
  colsLine = el('p', 'threads-cols');
  colsLine.id = 'threads-cols';
  colsLine.hidden = true;
  wrap.parentNode.insertBefore(colsLine, wrap);
  buildHead();
  /* Scrolling a virtual table brings other rows into the DOM. */
  let scrollQueued = false;
  wrap.addEventListener('scroll', () => {
    if (scrollQueued || !lastSorted || lastSorted.length <= VIRTUAL_FROM) return;
    scrollQueued = true;
    requestAnimationFrame(() => { scrollQueued = false; renderTable(lastSorted); });
  }, { passive: true });
  /* A click on a name opens (or closes) its details row. */
  tbody.addEventListener('click', (ev) => {
    const td = ev.target.closest('td.name');
    const tr = td && td.parentNode;
    if (!tr || !tr.hasAttribute('data-tid')) return;
    const tid = Number(tr.getAttribute('data-tid'));
    if (expanded.has(tid)) expanded.delete(tid); else expanded.add(tid);
    if (lastSorted) renderTable(lastSorted);
  });
}

function buildHead() {
  const thead = document.querySelector('#threads-table thead');
  const r1 = el('tr', 'group');
  const r2 = el('tr');
  let i = 0;
  while (i < cols.length) {
    const c = cols[i];
    if (!c.g) {
      const th = makeSortHeader(c);
      th.rowSpan = 2;
      r1.appendChild(th);
      i++;
      continue;
    }
    let n = 0;
    while (i + n < cols.length && cols[i + n].g === c.g) n++;
    const gh = el('th', `grp grp-${c.g}`, c.g);
    gh.colSpan = n;
    r1.appendChild(gh);
    for (let j = 0; j < n; j++) r2.appendChild(makeSortHeader(cols[i + j]));
    i += n;
  }
  thead.append(r1, r2);
}

function markSorted() {
  headerCells.forEach(h => {
    const k = h.getAttribute('data-key');
    h.classList.toggle('sorted-asc', k === sortState.key && sortState.dir === 1);
    h.classList.toggle('sorted-desc', k === sortState.key && sortState.dir === -1);
  });
}

function makeSortHeader(c) {
  const th = el('th', `sortable${c.txt ? ' txt' : ''}${c.wrap ? ' wrap' : ''}`, c.label);
  th.setAttribute('data-key', c.k);
  th.title = `${c.title ? `${c.title} — ` : ''}click to sort`;
  th.tabIndex = 0;
  th.addEventListener('keydown', ev => {
    if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); th.click(); }
  });
  th.addEventListener('click', () => {
    if (sortState.key === c.k) {
      if (sortState.dir === (c.txt ? 1 : -1)) sortState.dir = -sortState.dir;
      else { sortState.key = null; }          // third click: back to natural order
    } else {
      sortState.key = c.k;
      sortState.dir = c.txt ? 1 : -1;         // numbers: biggest first
    }
    markSorted();
    if (lastThreads) renderTable(withProcessHeaders(threadsSorted(lastThreads), lastProcesses));
  });
  headerCells.push(th);
  return th;
}

function threadsSorted(list) {
  const col = COLS.find((c) => c.k === sortState.key);
  return sortThreads(list, sortState.key, sortState.dir, col && col.sortVal);
}

/* The totals of t, in the row under its own. */
function drawDetails(row, t) {
  if (!row.details) {
    row.details = el('tr', 'details');
    const td = el('td');
    td.colSpan = cols.length;
    row.details.appendChild(td);
  }
  const text = DETAILS.map(([label, f]) => `${label} ${f(t)}`).join(' · ');
  const td = row.details.firstChild;
  if (td.textContent !== text) td.textContent = text;
  return row.details;
}

function makeRow(t) {
  const tr = el('tr');
  tr.setAttribute('data-tid', String(t.tid));
  const tds = [];

  for (const c of cols) {
    const td = el('td', (c.txt ? 'txt ' : '') + (c.cls ? `${c.cls} ` : '') + (c.bar ? 'bar ' : '') + (c.rate ? 'rate' : ''));
    td.setAttribute('data-col', c.k);
    if (c.bar) { td.appendChild(el('i')); td.appendChild(el('span')); }
    tr.appendChild(td);
    tds.push(td);
  }

  return { tr, tds, last: new Array(cols.length), role: null };
}

/* A process's header row (--processes): one cell across the table. */
function makeGroupRow(g) {
  const tr = el('tr', 'proc-group');
  tr.setAttribute('data-pid', String(g.pid));
  const td = el('td', 'txt');
  td.colSpan = cols.length;
  tr.appendChild(td);
  return { tr, tds: [td], last: [null], role: 'group' };
}

function drawGroupRow(row, g) {
  const s = groupText(g);
  if (row.last[0] !== s) { row.last[0] = s; row.tds[0].textContent = s; }
}

function spacerRow() {
  const tr = el('tr', 'vpad');
  const td = el('td');
  td.colSpan = cols.length;
  tr.appendChild(td);
  return tr;
}

/* The rows [from, to) of sorted that the view shows (all when not virtual). */
function visibleRange(n, virtual) {
  if (!virtual) return [0, n];
  const h = rowHeight || 21;
  const headH = wrap.querySelector('thead') ? wrap.querySelector('thead').offsetHeight : 0;
  const first = Math.floor(Math.max(0, wrap.scrollTop - headH) / h);
  const count = Math.ceil((wrap.clientHeight || 600) / h);
  const from = Math.max(0, first - OVERSCAN);
  return [from, Math.min(n, first + count + OVERSCAN)];
}

/* The cells of row that changed since the last update. */
function drawRow(row, t) {
  if (row.role !== t.role) { row.role = t.role; row.tr.className = `role-${t.role}`; }
  row.tr.classList.toggle('open', expanded.has(t.tid));
  cols.forEach((c, i) => {
    let s = c.text(t);
    const td = row.tds[i];
    const key = c.k === 'doing' ? `${s}\u0000${doingClass(t)}` : s;   // class changes count too
    if (row.last[i] === key) return;
    row.last[i] = key;
    td.classList.toggle('na', s === NA);
    if (c.draw) c.draw(td, t, s);
    else if (c.bar) {
      td.lastChild.textContent = s;
      const v = t[c.k];
      td.firstChild.style.width = isNum(v) ? `${Math.max(0, Math.min(100, v)).toFixed(1)}%` : '0';
    } else td.textContent = s;
  });
}

/* The rows of sorted[from, to), each followed by its details row when open. */
function rowElements(sorted, from, to) {
  const out = [];
  for (let r = from; r < to; r++) {
    const row = rows.get(sorted[r].tid);
    out.push(row.tr);
    if (!sorted[r].group && expanded.has(sorted[r].tid)) out.push(drawDetails(row, sorted[r]));
    else if (row.details) row.details.remove();
  }
  return out;
}

function renderTable(sorted) {
  lastSorted = sorted;
  const virtual = sorted.length > VIRTUAL_FROM;
  if (wrap.classList.contains('virtual') !== virtual) wrap.classList.toggle('virtual', virtual);
  const [from, to] = visibleRange(sorted.length, virtual);
  const seen = new Set();
  for (let r = from; r < to; r++) {
    const t = sorted[r];
    seen.add(t.tid);
    let row = rows.get(t.tid);
    if (t.group) {
      if (!row) { row = makeGroupRow(t); rows.set(t.tid, row); }
      drawGroupRow(row, t);
      continue;
    }
    if (!row) { row = makeRow(t); rows.set(t.tid, row); }
    drawRow(row, t);
  }
  rows.forEach((row, tid) => {
    if (seen.has(tid)) return;
    row.tr.remove();
    if (row.details) row.details.remove();
    rows.delete(tid);
  });
  const want = rowElements(sorted, from, to);
  if (virtual) {
    /* Spacers stand in for the rows above and below the view. */
    const h = rowHeight || 21;
    padTop.firstChild.style.height = `${from * h}px`;
    padBottom.firstChild.style.height = `${(sorted.length - to) * h}px`;
    want.unshift(padTop);
    want.push(padBottom);
  } else if (padTop.parentNode) {
    padTop.remove();
    padBottom.remove();
  }
  /* Move rows only when the order changed. */
  const kids = tbody.children;
  const inOrder = kids.length === want.length && want.every((e, i) => kids[i] === e);
  if (!inOrder) {
    const frag = document.createDocumentFragment();
    frag.append(...want);
    tbody.appendChild(frag);
  }
  if (virtual && !rowHeight && to > from) {
    /* The spacers assumed 21 px a row: measure a real one and lay out again with it. */
    rowHeight = rows.get(sorted[from].tid).tr.offsetHeight || 0;
    if (rowHeight) return renderTable(sorted);
  }
  return sorted.length;
}

/* "942 threads folded": the stream lists the busiest threads and sums up
 * the rest (null or absent: nothing folded). */
function renderFolded(f) {
  const show = !!(f && isNum(f.threads) && f.threads > 0);
  if (foldedLine.hidden === show) foldedLine.hidden = !show;
  if (!show) return;
  const text = `${f.threads} threads folded${isNum(f.workers) ? ` (${f.workers} workers)` : ''}: ` +
    `the stream lists the ${isNum(f.listed) ? f.listed : ''} busiest threads (loops and the observer always); ` +
    `the folded ones together: CPU ${fmt(f.cpu_pct, 1)}%, on a core ${fmt(f.on_cpu_pct, 1)}%, ` +
    `waiting for a core ${fmt(f.runq_pct, 1)}%, ${fmt(f.tasks_rate, 0)} tasks/s, ` +
    `${isNum(f.running) ? f.running : NA} runnable now. /stats lists every thread.`;
  if (foldedLine.textContent !== text) foldedLine.textContent = text;
}

/* keys: the columns to show besides the name (null: all), why: what
 * chose them, said above the table with what is left out. The head and
 * the rows are made again. Returns how many columns are left out. */
export function setColumns(keys, why) {
  const next = keys ? COLS.filter((c) => !c.g || keys.includes(c.k)) : COLS;
  const out = COLS.filter((c) => !next.includes(c));
  colsLine.hidden = out.length === 0;
  colsLine.textContent = out.length
    ? `${next.length} of ${COLS.length} columns${why ? `: ${why}` : ''}; left out here: ${out.map((c) => c.label).join(', ')}`
    : '';
  if (next.length === cols.length && next.every((c, i) => c === cols[i])) return out.length;
  cols = next;
  const thead = document.querySelector('#threads-table thead');
  thead.replaceChildren();
  headerCells.length = 0;
  buildHead();
  markSorted();
  rows.forEach((row) => { row.tr.remove(); if (row.details) row.details.remove(); });
  rows.clear();
  padTop.remove();
  padBottom.remove();
  padTop = spacerRow();
  padBottom = spacerRow();
  if (lastSorted) renderTable(lastSorted);
  return out.length;
}

/* view.threads: the snapshot's threads; view.natural: the same in natural
 * order (used when no column is sorted); s.folded: what the stream folded;
 * s.processes: under --processes, the processes the rows are grouped by.
 * Returns the number of threads the table holds (all of them in the DOM
 * unless there are more than VIRTUAL_FROM), header rows not counted. */
export function render(s, view) {
  lastThreads = view.threads;
  lastProcesses = s.processes;
  renderFolded(s.folded);
  const list = withProcessHeaders(sortState.key ? threadsSorted(view.threads) : view.natural, s.processes);
  renderScope(list.length - view.threads.length);
  return renderTable(list) - (list.length - view.threads.length);
}

/* The caption's "of the one process" is wrong under --processes: say how
 * many processes the table groups (the header rows it holds). */
let lastScope = -1;
function renderScope(groups) {
  if (groups === lastScope) return;
  lastScope = groups;
  const span = document.getElementById('threads-scope');
  if (!span) return;
  if (groups > 1) span.textContent = `of each of the ${groups} processes below (a header row each)`;
  else span.replaceChildren('of the one ', el('em', null, 'process'));
}
