/*
 * The threads panel: a table row per thread with the kernel's accounting
 * (state, cores, CPU time, where the period went — a stacked bar on a core /
 * ready, waiting for a core / sleeping —, run-queue wait, context switches,
 * coroutine switches, migrations) and threadlab's own (tasks, steps, holding a task %). Builds the two-row header once;
 * clicking a header sorts by it (numbers biggest first, a second click
 * reverses, a third returns to the natural order).
 *
 * At scale: beyond VIRTUAL_FROM threads (a full /stats at 1,000 threads)
 * only the rows in view are in the DOM, between two spacer rows that keep
 * the scroll height, so an update touches a screenful of rows, not all of
 * them. The stream lists the busiest threads and folds the rest
 * (doc/stats-json.md "folded"); the line above the table says so.
 */

import { NA, isNum, fmt } from './format.js';
import { $, el } from './dom.js';
import { naturalCompare, threadClass, doingText, STATE_NAMES } from './thread-info.js';
import { withProcessHeaders, groupRow, updateGroupRow } from './process-groups.js';

/* "loop 2" for loop threads (loop 0, the main thread, has no index). */
function roleText(t) {
  if (t.role === 'loop') return 'loop ' + (isNum(t.index) ? t.index : 0);
  return t.role || NA;
}

function num(k, d) { return function (t) { return fmt(t[k], d); }; }
function plainInt(k) { return function (t) { return isNum(t[k]) ? String(t[k]) : NA; }; }   // no thousands separator
const DOING_COL = { k: 'doing', label: 'doing now', txt: true, cls: 'doing', text: function (t) { return doingText(t.doing, true); },
  sortVal: function (t) { return t.doing && t.doing.what ? t.doing.what : null; },
  title: 'what the thread is doing at the moment of the sample',
  draw: function (td, t, s) {
    var sp = td.firstChild;
    if (!sp) { sp = el('span'); td.appendChild(sp); }
    sp.textContent = s;
    sp.className = s === NA ? '' : threadClass(t);
    td.title = doingText(t.doing);
  } };
const COLS = [
  { k: 'tid', label: 'tid', text: plainInt('tid') },
  { k: 'name', label: 'name', txt: true, cls: 'name', text: function (t) { return t.name ? String(t.name) : NA; } },
  { k: 'role', label: 'role', txt: true, text: roleText,
    title: 'loop threads carry their loop index (--loops N): loop 0 is the main thread' },
  { k: 'index', label: 'index', text: plainInt('index'), title: 'worker index, or loop index for loops 1..N-1' },
  { k: 'state', label: 'state', txt: true, cls: 'state', text: function (t) { return t.state || NA; },
    draw: function (td, t, s) {
      var sp = td.firstChild;
      if (!sp) { sp = el('span'); td.appendChild(sp); }
      sp.textContent = s; sp.className = s;
      td.title = STATE_NAMES[s] || '';
    },
    title: 'kernel state: R running/runnable, S sleeping, D blocked (uninterruptible)' },
  DOING_COL,
  { k: 'core', label: 'core', text: plainInt('core'), title: 'core it last ran on' },
  { k: 'allowed', label: 'allowed', txt: true, text: function (t) { return t.allowed ? String(t.allowed) : NA; },
    title: 'cores it may run on (affinity)' },
  { k: 'cpu_user_s', g: 'CPU time', label: 'user s', text: num('cpu_user_s', 2) },
  { k: 'cpu_sys_s', g: 'CPU time', label: 'sys s', text: num('cpu_sys_s', 2) },
  { k: 'cpu_pct', g: 'CPU time', label: 'CPU %', bar: true, text: num('cpu_pct', 1),
    title: 'user+sys over the last period, % of one core' },
  { k: 'busy_pct', g: 'CPU time', label: 'holding a task %', bar: true, text: num('busy_pct', 1),
    title: 'workers: share of the period holding a task — on a core, waiting for one, or blocked inside it (compare CPU % and the period bar)' },
  { k: 'on_cpu_pct', g: 'where the period went', label: 'on a core / ready, waiting / sleeping', cls: 'period',
    text: function (t) {
      return isNum(t.on_cpu_pct) || isNum(t.runq_pct) || isNum(t.sleep_pct)
        ? fmt(t.on_cpu_pct, 0) + ' / ' + fmt(t.runq_pct, 0) + ' / ' + fmt(t.sleep_pct, 0) : NA;
    },
    title: 'share of the last period on a core / ready, waiting for a core (run queue) / sleeping or blocked, %',
    draw: function (td, t, s) {
      var bar = td.firstChild;
      if (!bar) {
        bar = el('span', 'pbar');
        bar.appendChild(el('i', 'p-oncpu')); bar.appendChild(el('i', 'p-runq')); bar.appendChild(el('i', 'p-sleep'));
        td.appendChild(bar);
        td.appendChild(el('small'));
      }
      var parts = [t.on_cpu_pct, t.runq_pct, t.sleep_pct];
      for (var i = 0; i < 3; i++) {
        var v = parts[i];
        bar.children[i].style.width = isNum(v) ? Math.max(0, Math.min(100, v)).toFixed(1) + '%' : '0';
      }
      td.lastChild.textContent = s;
      td.title = s === NA ? 'not known yet (first sample of this thread) or not accounted'
        : 'on a core ' + fmt(t.on_cpu_pct, 1) + '% · ready, waiting for a core ' + fmt(t.runq_pct, 1) +
          '% · sleeping ' + fmt(t.sleep_pct, 1) + '% of the last period';
    } },
  { k: 'oncpu_s', g: 'scheduler', label: 'on-CPU s', text: num('oncpu_s', 3) },
  { k: 'runq_wait_s', g: 'scheduler', label: 'runq wait s', text: num('runq_wait_s', 3),
    title: 'time spent ready to run but waiting for a core (schedstat run_delay; n/a only when kernel.runq_source is null)' },
  { k: 'runq_wait_pct', g: 'scheduler', label: 'wait %', bar: true, text: num('runq_wait_pct', 1),
    title: 'run-queue wait over the last period, % of the period' },
  { k: 'timeslices', g: 'scheduler', label: 'slices', text: num('timeslices', 0), title: 'timeslices: times it got a core' },
  { k: 'ctx_voluntary', g: 'vol. switches', label: 'total', text: num('ctx_voluntary', 0),
    title: 'gave up the core by itself (waiting for something)' },
  { k: 'ctx_voluntary_rate', g: 'vol. switches', label: '/s', rate: true, text: num('ctx_voluntary_rate', 0) },
  { k: 'ctx_involuntary', g: 'invol. switches', label: 'total', text: num('ctx_involuntary', 0),
    title: 'pushed off the core by the scheduler' },
  { k: 'ctx_involuntary_rate', g: 'invol. switches', label: '/s', rate: true, text: num('ctx_involuntary_rate', 0) },
  { k: 'coro_switches_rate', label: 'coro switches /s', rate: true, text: num('coro_switches_rate', 0),
    title: 'user-level switches into and out of coroutines per second (coro mode; no kernel involved) — compare the kernel’s switches beside it' },
  { k: 'migrations', g: 'migrations', label: 'total', text: num('migrations', 0), title: 'moves to another core' },
  { k: 'migrations_rate', g: 'migrations', label: '/s', rate: true, text: num('migrations_rate', 1) },
  { k: 'tasks', g: 'tasks', label: 'total', text: num('tasks', 0) },
  { k: 'tasks_rate', g: 'tasks', label: '/s', rate: true, text: num('tasks_rate', 0) },
  { k: 'tasks_in_flight', g: 'tasks', label: 'in flight', text: num('tasks_in_flight', 0),
    title: 'tasks it holds now: a worker the one it runs (0 or 1); a loop the tasks waiting on its timers (IO steps)' },
  { k: 'steps', g: 'steps', label: 'total', text: num('steps', 0) },
  { k: 'steps_rate', g: 'steps', label: '/s', rate: true, text: num('steps_rate', 0) }
];

const tbody = $('threads-body');
const wrap = tbody.closest('.table-wrap');
const VIRTUAL_FROM = 200;        // more threads than this: only the rows in view are in the DOM
const OVERSCAN = 8;              // rows kept beyond each edge of the view
let rowHeight = 0;               // px, measured once from a real row
const padTop = spacerRow(), padBottom = spacerRow();
const foldedLine = el('p', 'threads-folded');
foldedLine.id = 'threads-folded';
foldedLine.hidden = true;
wrap.parentNode.insertBefore(foldedLine, wrap);
let lastSorted = null;           // what the table holds, in display order
const rows = new Map();          // tid -> { tr, tds, last }
const sortState = { key: null, dir: 1 };   // null = natural order (loop, workers, observer, ...)
const headerCells = [];
let lastThreads = null;          // the threads last shown, re-sorted when a header is clicked
let lastProcesses = null;        // processes[]: under --processes the rows are grouped by process

(function buildHead() {
  var thead = document.querySelector('#threads-table thead');
  var r1 = el('tr', 'group'), r2 = el('tr');
  var i = 0;
  while (i < COLS.length) {
    var c = COLS[i];
    if (!c.g) {
      var th = makeSortHeader(c);
      th.rowSpan = 2;
      r1.appendChild(th);
      i++;
      continue;
    }
    var n = 0;
    while (i + n < COLS.length && COLS[i + n].g === c.g) n++;
    var gh = el('th', null, c.g);
    gh.colSpan = n;
    r1.appendChild(gh);
    for (var j = 0; j < n; j++) r2.appendChild(makeSortHeader(COLS[i + j]));
    i += n;
  }
  thead.appendChild(r1);
  thead.appendChild(r2);
})();

function makeSortHeader(c) {
  var th = el('th', 'sortable' + (c.txt ? ' txt' : ''), c.label);
  th.setAttribute('data-key', c.k);
  th.title = (c.title ? c.title + ' — ' : '') + 'click to sort';
  th.tabIndex = 0;
  th.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); th.click(); }
  });
  th.addEventListener('click', function () {
    if (sortState.key === c.k) {
      if (sortState.dir === (c.txt ? 1 : -1)) sortState.dir = -sortState.dir;
      else { sortState.key = null; }          // third click: back to natural order
    } else {
      sortState.key = c.k;
      sortState.dir = c.txt ? 1 : -1;         // numbers: biggest first
    }
    headerCells.forEach(function (h) {
      var k = h.getAttribute('data-key');
      h.classList.toggle('sorted-asc', k === sortState.key && sortState.dir === 1);
      h.classList.toggle('sorted-desc', k === sortState.key && sortState.dir === -1);
    });
    if (lastThreads) renderTable(withProcessHeaders(threadsSorted(lastThreads), lastProcesses));
  });
  headerCells.push(th);
  return th;
}

function threadsSorted(list) {
  var a = list.slice();
  if (!sortState.key) return a.sort(naturalCompare);
  var col = COLS.filter(function (c) { return c.k === sortState.key; })[0];
  var val = col && col.sortVal ? col.sortVal : function (t) { var v = t[sortState.key]; return v === undefined ? null : v; };
  var dir = sortState.dir;
  return a.sort(function (x, y) {
    var vx = val(x), vy = val(y);
    if (vx === null && vy === null) return naturalCompare(x, y);
    if (vx === null) return 1;                 // n/a always last
    if (vy === null) return -1;
    var r = (typeof vx === 'number' && typeof vy === 'number') ? vx - vy : String(vx).localeCompare(String(vy));
    return r !== 0 ? r * dir : naturalCompare(x, y);
  });
}

function makeRow(t) {
  var tr = el('tr');
  tr.setAttribute('data-tid', String(t.tid));
  var tds = [];
  for (var i = 0; i < COLS.length; i++) {
    var c = COLS[i];
    var td = el('td', (c.txt ? 'txt ' : '') + (c.cls ? c.cls + ' ' : '') + (c.bar ? 'bar ' : '') + (c.rate ? 'rate' : ''));
    td.setAttribute('data-col', c.k);
    if (c.bar) { td.appendChild(el('i')); td.appendChild(el('span')); }
    tr.appendChild(td);
    tds.push(td);
  }
  return { tr: tr, tds: tds, last: new Array(COLS.length), role: null };
}

function spacerRow() {
  var tr = el('tr', 'vpad');
  var td = el('td');
  td.colSpan = COLS.length;
  tr.appendChild(td);
  return tr;
}

/* The rows [from, to) of sorted that the view shows (all when not virtual). */
function visibleRange(n, virtual) {
  if (!virtual) return [0, n];
  var h = rowHeight || 21;
  var headH = wrap.querySelector('thead') ? wrap.querySelector('thead').offsetHeight : 0;
  var first = Math.floor(Math.max(0, wrap.scrollTop - headH) / h);
  var count = Math.ceil((wrap.clientHeight || 600) / h);
  var from = Math.max(0, first - OVERSCAN);
  return [from, Math.min(n, first + count + OVERSCAN)];
}

function renderTable(sorted) {
  lastSorted = sorted;
  var virtual = sorted.length > VIRTUAL_FROM;
  if (wrap.classList.contains('virtual') !== virtual) wrap.classList.toggle('virtual', virtual);
  var range = visibleRange(sorted.length, virtual);
  var from = range[0], to = range[1];
  var seen = new Set();
  var kids = tbody.children;
  var inOrder = !virtual && kids.length === sorted.length;
  for (var r = from; r < to; r++) {
    var t = sorted[r];
    seen.add(t.tid);
    if (t.group) {               // a process's header row (--processes)
      var g = rows.get(t.tid);
      if (!g) { g = groupRow(t, COLS.length); rows.set(t.tid, g); inOrder = false; }
      updateGroupRow(g, t);
      if (inOrder && kids[r] !== g.tr) inOrder = false;
      continue;
    }
    var row = rows.get(t.tid);
    if (!row) { row = makeRow(t); rows.set(t.tid, row); inOrder = false; }
    if (row.role !== t.role) { row.role = t.role; row.tr.className = 'role-' + t.role; }
    for (var i = 0; i < COLS.length; i++) {
      var c = COLS[i];
      var s = c.text(t);
      var td = row.tds[i];
      if (c.k === 'doing') s = s + '\u0000' + threadClass(t);   // class changes count too
      if (row.last[i] === s) continue;
      row.last[i] = s;
      if (c.k === 'doing') s = s.slice(0, s.indexOf('\u0000'));
      td.classList.toggle('na', s === NA);
      if (c.draw) c.draw(td, t, s);
      else if (c.bar) {
        td.lastChild.textContent = s;
        var v = t[c.k];
        td.firstChild.style.width = isNum(v) ? Math.max(0, Math.min(100, v)).toFixed(1) + '%' : '0';
      } else td.textContent = s;
    }
    if (inOrder && kids[r] !== row.tr) inOrder = false;
  }
  rows.forEach(function (row, tid) {
    if (!seen.has(tid)) { row.tr.remove(); rows.delete(tid); }
  });
  if (virtual) {
    /* Spacers stand in for the rows above and below the view. */
    var h = rowHeight || 21;
    padTop.firstChild.style.height = (from * h) + 'px';
    padBottom.firstChild.style.height = ((sorted.length - to) * h) + 'px';
    var vfrag = document.createDocumentFragment();
    vfrag.appendChild(padTop);
    for (var v = from; v < to; v++) vfrag.appendChild(rows.get(sorted[v].tid).tr);
    vfrag.appendChild(padBottom);
    tbody.appendChild(vfrag);
    if (!rowHeight && to > from) rowHeight = rows.get(sorted[from].tid).tr.offsetHeight || 0;
  } else {
    if (padTop.parentNode) { padTop.remove(); padBottom.remove(); }
    if (!inOrder) {
      var frag = document.createDocumentFragment();
      for (var k = 0; k < sorted.length; k++) frag.appendChild(rows.get(sorted[k].tid).tr);
      tbody.appendChild(frag);
    }
  }
  return sorted.length;
}

/* Scrolling a virtual table brings other rows into the DOM. */
var scrollQueued = false;
wrap.addEventListener('scroll', function () {
  if (scrollQueued || !lastSorted || lastSorted.length <= VIRTUAL_FROM) return;
  scrollQueued = true;
  requestAnimationFrame(function () { scrollQueued = false; renderTable(lastSorted); });
}, { passive: true });

/* "942 threads folded": the stream lists the busiest threads and sums up
 * the rest (null or absent: nothing folded). */
function renderFolded(f) {
  var show = !!(f && isNum(f.threads) && f.threads > 0);
  if (foldedLine.hidden === show) foldedLine.hidden = !show;
  if (!show) return;
  var text = f.threads + ' threads folded' + (isNum(f.workers) ? ' (' + f.workers + ' workers)' : '') +
    ': the stream lists the ' + (isNum(f.listed) ? f.listed : '') +
    ' busiest threads (loops and the observer always); the folded ones together: CPU ' + fmt(f.cpu_pct, 1) +
    '%, on a core ' + fmt(f.on_cpu_pct, 1) + '%, waiting for a core ' + fmt(f.runq_pct, 1) +
    '%, ' + fmt(f.tasks_rate, 0) + ' tasks/s, ' + (isNum(f.running) ? f.running : NA) +
    ' runnable now. /stats lists every thread.';
  if (foldedLine.textContent !== text) foldedLine.textContent = text;
}

/* threads: the snapshot's threads; natural: the same in natural order (used
 * when no column is sorted); folded: the snapshot's "folded" (stream only).
 * Returns the number of threads the table holds (all of them in the DOM
 * unless there are more than VIRTUAL_FROM). */
export function renderThreadTable(threads, natural, folded, processes) {
  lastThreads = threads;
  lastProcesses = processes;
  renderFolded(folded);
  var list = withProcessHeaders(sortState.key ? threadsSorted(threads) : natural, processes);
  return renderTable(list) - (list.length - threads.length);
}
