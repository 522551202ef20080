/*
 * The cores panel: per CPU core, a meter of user / sys / iowait / irq time
 * over the last period with its figures, and a chip for each thread of the
 * process that last ran there (chips move between cores as threads migrate).
 * Draws the meter legend above the cores once.
 *
 * Also the dashboard's one colour language (coreColor, stateColor): a hue
 * per core, used wherever a core is drawn (this panel's core name, the
 * timeline's steps, the scoreboard's "core N"), and a hue per state (on a
 * core, waiting for a core, sleeping on I/O, idle, holding a task...) used
 * by every panel that draws states. The hues are CSS variables in
 * dashboard.css (--core-N, --st-*), so CSS and canvas agree.
 */

import { NA, isNum, fmt, fmtPct } from './format.js';
import { $, el, setText, setClass } from './dom.js';
import { naturalCompare, shortLabel, threadClass } from './thread-info.js';

const coresBox = $('cores');
const hueCache = new Map();

function cssVar(name) {
  if (hueCache.has(name)) return hueCache.get(name);
  var v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  hueCache.set(name, v);
  return v;
}

/* The hue of core c (CSS --core-c; beyond those, a golden-angle hue). */
export function coreColor(c) {
  if (!isNum(c) || c < 0) return '#868e96';
  return cssVar('--core-' + c) || 'hsl(' + ((200 + c * 137.508) % 360).toFixed(0) + ',60%,42%)';
}

/* The hue of a state: oncpu | runq | io | idle | hold | loop | blocked. */
export function stateColor(st) { return cssVar('--st-' + st) || '#868e96'; }
const coreViews = new Map();     // cpu -> view
const chips = new Map();         // tid -> chip element (a thread sits on one core)

(function coreLegend() {
  var lg = el('div', 'legend meter-legend');
  [['user', 'user code'], ['sys', 'kernel (sys)'], ['iowait', 'iowait'], ['irq', 'irq'], ['idle', 'idle']]
    .forEach(function (p) {
      var s = el('span');
      var sw = el('span', 'sw');
      sw.style.background = 'var(--' + p[0] + ')';
      s.appendChild(sw);
      s.appendChild(document.createTextNode(p[1]));
      lg.appendChild(s);
    });
  coresBox.parentNode.insertBefore(lg, coresBox);
})();

function makeCoreView(cpu) {
  var root = el('div', 'core');
  root.setAttribute('data-cpu', String(cpu));
  var head = el('div', 'head');
  var name = el('span', 'name', 'core ' + cpu);
  name.style.setProperty('--hue', coreColor(cpu));   /* its swatch, in the core's hue */
  name.classList.add('core-hue');
  head.appendChild(name);
  root.style.borderLeftColor = coreColor(cpu);
  var nums = el('span', 'nums');
  var v = { root: root, b: {}, seg: {}, chips: null };
  ['user', 'sys', 'iowait', 'irq', 'idle', 'steps', 'threads'].forEach(function (k, i) {
    if (i) nums.appendChild(document.createTextNode(' · '));
    var lbl = k === 'steps' ? 'steps/s ' : k === 'threads' ? 'threads ' : k + ' ';
    nums.appendChild(document.createTextNode(lbl));
    v.b[k] = el('b', null, NA);
    nums.appendChild(v.b[k]);
  });
  head.appendChild(nums);
  root.appendChild(head);
  var meter = el('div', 'meter');
  ['user', 'sys', 'iowait', 'irq'].forEach(function (k) {
    v.seg[k] = el('span', k);
    meter.appendChild(v.seg[k]);
  });
  meter.title = 'share of this core over the last period';
  root.appendChild(meter);
  v.chips = el('div', 'chips');
  root.appendChild(v.chips);
  return v;
}

/* s: the snapshot; threadsByTid: its threads by tid. */
export function renderCores(s, threadsByTid) {
  var cores = Array.isArray(s.cores) ? s.cores.slice() : [];
  cores.sort(function (a, b) { return a.cpu - b.cpu; });
  var seen = new Set();
  var seenTids = new Set();
  var i, j;
  for (i = 0; i < cores.length; i++) {
    var c = cores[i];
    seen.add(c.cpu);
    var v = coreViews.get(c.cpu);
    if (!v) {
      v = makeCoreView(c.cpu);
      coreViews.set(c.cpu, v);
      coresBox.appendChild(v.root);
    }
    ['user', 'sys', 'iowait', 'irq', 'idle'].forEach(function (k) {
      var pct = c[k + '_pct'];
      setText(v.b[k], fmtPct(pct));
      if (v.seg[k]) {
        var w = isNum(pct) ? Math.max(0, Math.min(100, pct)).toFixed(1) + '%' : '0%';
        if (v.seg[k].style.width !== w) v.seg[k].style.width = w;
      }
    });
    setText(v.b.steps, fmt(c.steps_rate, 0));
    var tids = Array.isArray(c.threads) ? c.threads : [];
    setText(v.b.threads, String(tids.length));

    /* chips: one per thread, moved between cores as threads migrate */
    var list = [];
    for (j = 0; j < tids.length; j++) {
      var t = threadsByTid.get(tids[j]);
      list.push(t || { tid: tids[j], role: 'other', name: String(tids[j]) });
    }
    list.sort(naturalCompare);
    var kids = v.chips.children;
    var inOrder = kids.length === list.length;
    for (j = 0; j < list.length; j++) {
      var th = list[j];
      seenTids.add(th.tid);
      var chip = chips.get(th.tid);
      if (!chip) {
        chip = el('span', 'chip');
        chip.setAttribute('data-tid', String(th.tid));
        chips.set(th.tid, chip);
      }
      setText(chip, shortLabel(th));
      setClass(chip, 'chip ' + threadClass(th));
      var tip = th.name + ' (tid ' + th.tid + ', ' + th.role + ')';
      if (chip.title !== tip) chip.title = tip;
      if (inOrder && kids[j] !== chip) inOrder = false;
    }
    if (!inOrder) {
      for (j = 0; j < list.length; j++) v.chips.appendChild(chips.get(list[j].tid));
    }
  }
  coreViews.forEach(function (v, cpu) {
    if (!seen.has(cpu)) { v.root.remove(); coreViews.delete(cpu); }
  });
  chips.forEach(function (chip, tid) {
    if (!seenTids.has(tid)) { chip.remove(); chips.delete(tid); }
  });
}
