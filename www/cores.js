/*
 * The cores panel: per CPU core, a meter of user / sys / iowait / irq time
 * over the last period with its figures, and a chip for each thread of the
 * process that last ran there (chips move between cores as threads migrate).
 * Draws the meter legend above the cores once.
 * The core's hue is the one of the colour language (colors.js).
 */

import { NA, isNum, fmt, fmtPct } from './format.js';
import { $, el, setText, setClass, legendItem } from './dom.js';
import { naturalCompare, shortLabel, threadClass } from './thread-info.js';
import { coreColor } from './colors.js';

let coresBox = null;
const coreViews = new Map();     // cpu -> view
const chips = new Map();         // tid -> chip element (a thread sits on one core)

export function init() {
  coresBox = $('cores');
  const lg = el('div', 'legend meter-legend');
  for (const [k, text] of [['user', 'user code'], ['sys', 'kernel (sys)'], ['iowait', 'iowait'], ['irq', 'irq'], ['idle', 'idle']]) {
    lg.appendChild(legendItem('sw', `var(--${k})`, text));
  }
  coresBox.parentNode.insertBefore(lg, coresBox);
}

function makeCoreView(cpu) {
  const root = el('div', 'core');
  root.setAttribute('data-cpu', String(cpu));
  const head = el('div', 'head');
  const name = el('span', 'name', `core ${cpu}`);
  name.style.setProperty('--hue', coreColor(cpu));   /* its swatch, in the core's hue */
  name.classList.add('core-hue');
  head.appendChild(name);
  root.style.borderLeftColor = coreColor(cpu);
  const nums = el('span', 'nums');
  const v = { root, b: {}, seg: {}, chips: null };
  ['user', 'sys', 'iowait', 'irq', 'idle', 'steps', 'threads'].forEach((k, i) => {
    if (i) nums.appendChild(document.createTextNode(' · '));
    const lbl = k === 'steps' ? 'steps/s ' : k === 'threads' ? 'threads ' : `${k} `;
    nums.appendChild(document.createTextNode(lbl));
    v.b[k] = el('b', null, NA);
    nums.appendChild(v.b[k]);
  });
  head.appendChild(nums);
  root.appendChild(head);
  const meter = el('div', 'meter');
  ['user', 'sys', 'iowait', 'irq'].forEach(k => {
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
export function render(s, view) {
  const threadsByTid = view.byTid;
  const cores = Array.isArray(s.cores) ? s.cores.slice() : [];
  cores.sort((a, b) => a.cpu - b.cpu);
  const seen = new Set();
  const seenTids = new Set();
  let i;
  let j;
  for (i = 0; i < cores.length; i++) {
    const c = cores[i];
    seen.add(c.cpu);
    let v = coreViews.get(c.cpu);
    if (!v) {
      v = makeCoreView(c.cpu);
      coreViews.set(c.cpu, v);
      coresBox.appendChild(v.root);
    }
    ['user', 'sys', 'iowait', 'irq', 'idle'].forEach(k => {
      const pct = c[`${k}_pct`];
      setText(v.b[k], fmtPct(pct));
      if (v.seg[k]) {
        const w = isNum(pct) ? `${Math.max(0, Math.min(100, pct)).toFixed(1)}%` : '0%';
        if (v.seg[k].style.width !== w) v.seg[k].style.width = w;
      }
    });
    setText(v.b.steps, fmt(c.steps_rate, 0));
    const tids = Array.isArray(c.threads) ? c.threads : [];
    setText(v.b.threads, String(tids.length));

    /* chips: one per thread, moved between cores as threads migrate */
    const list = [];
    for (j = 0; j < tids.length; j++) {
      const t = threadsByTid.get(tids[j]);
      list.push(t || { tid: tids[j], role: 'other', name: String(tids[j]) });
    }
    list.sort(naturalCompare);
    const kids = v.chips.children;
    let inOrder = kids.length === list.length;
    for (j = 0; j < list.length; j++) {
      const th = list[j];
      seenTids.add(th.tid);
      let chip = chips.get(th.tid);
      if (!chip) {
        chip = el('span', 'chip');
        chip.setAttribute('data-tid', String(th.tid));
        chips.set(th.tid, chip);
      }
      setText(chip, shortLabel(th));
      setClass(chip, `chip ${threadClass(th)}`);
      const tip = `${th.name} (tid ${th.tid}, ${th.role})`;
      if (chip.title !== tip) chip.title = tip;
      if (inOrder && kids[j] !== chip) inOrder = false;
    }
    if (!inOrder) {
      for (j = 0; j < list.length; j++) v.chips.appendChild(chips.get(list[j].tid));
    }
  }
  coreViews.forEach((v, cpu) => {
    if (!seen.has(cpu)) { v.root.remove(); coreViews.delete(cpu); }
  });
  chips.forEach((chip, tid) => {
    if (!seenTids.has(tid)) { chip.remove(); chips.delete(tid); }
  });
}
