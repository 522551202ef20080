/*
 * The insights panel: the server's plain-language conclusions, each with its
 * level and the evidence behind it. Rebuilt only when the list changes.
 * Evidence that names a core is marked in that core's hue, as elsewhere.
 */

import { NA, isNum } from './format.js';
import { coreColor } from './colors.js';
import { $, el } from './dom.js';

let insightsBox = null;

export function init() { insightsBox = $('insights'); }
let insightsKey = null;

/* The snapshot's insights. */
export function render(s) {
  const list = Array.isArray(s.insights) ? s.insights : [];
  const key = JSON.stringify(list);
  if (key === insightsKey) return;
  insightsKey = key;
  const frag = document.createDocumentFragment();
  if (list.length === 0) {
    frag.appendChild(el('li', 'empty', 'nothing unusual in the last period'));
  }
  list.forEach(it => {
    const lvl = String(it.level || 'info');
    const li = el('li', lvl);
    if (it.id) li.setAttribute('data-id', String(it.id));
    li.appendChild(el('span', 'lvl', lvl));
    li.appendChild(el('span', 'text', String(it.text || it.id || '')));
    const ev = it.evidence;
    if (ev && typeof ev === 'object') {
      const box = el('div', 'ev');
      Object.keys(ev).forEach(k => {
        const v = ev[k];
        const sp = el('span');
        sp.appendChild(document.createTextNode(`${k} `));
        const b = el('b', null, v === null ? NA : typeof v === 'object' ? JSON.stringify(v) : String(v));
        if ((k === 'core' || k === 'cpu') && isNum(v)) { b.classList.add('core-hue'); b.style.setProperty('--hue', coreColor(v)); }
        sp.appendChild(b);
        box.appendChild(sp);
      });
      li.appendChild(box);
    }
    frag.appendChild(li);
  });
  insightsBox.textContent = '';
  insightsBox.appendChild(frag);
}
