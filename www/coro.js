/*
 * The coroutine panel, shown when the snapshot has server.coro and the server
 * runs in coro mode (or coroutines are still alive): how many are alive / suspended /
 * runnable (numbers and a small Chart.js line chart over time), switches and
 * migrations per second, what one switch costs in user space (the switch in
 * use, asm and ucontext) against a kernel context switch, and the memory
 * their stacks reserve and really use.
 */

import { NA, isNum, fmt, fmtInt, fmtBytes, clock } from './format.js';
import { stateColor } from './colors.js';
import { $, el, setText } from './dom.js';

const HISTORY = 120;
let panel = null;
const f = {};

export function init() {
  panel = $('panel-coro');
  ['coro-alive', 'coro-suspended', 'coro-runnable', 'coro-switches', 'coro-migrations', 'coro-stack', 'coro-cost']
    .forEach(id => { f[id] = $(id); });
}
let chart = null;
let costKey = null;

function makeChart() {
  if (typeof window.Chart !== 'function') return null;
  const ds = (label, color) => ({
    label,
    data: [],
    borderColor: color,
    backgroundColor: color,
    borderWidth: 1.6,
    pointRadius: 0,
    pointHitRadius: 6,
    tension: 0,
    fill: false
  });
  return new window.Chart($('chart-coro').getContext('2d'), {
    type: 'line',
    data: { labels: [], datasets: [ds('alive', '#343a40'), ds('suspended', stateColor('io')), ds('runnable', stateColor('runq'))] },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false, normalized: true,
      interaction: { mode: 'index', intersect: false },
      scales: {
        x: { ticks: { maxTicksLimit: 5, maxRotation: 0, font: { size: 10 } }, grid: { display: false } },
        y: { beginAtZero: true, ticks: { font: { size: 10 }, maxTicksLimit: 5 }, grace: '5%' }
      },
      plugins: { legend: { position: 'top', align: 'end', labels: { boxWidth: 10, boxHeight: 10, font: { size: 11 } } } }
    }
  });
}

function ns(v) { return isNum(v) ? (v >= 1000 ? `${fmt(v / 1000, 1)} µs` : `${fmt(v, 0)} ns`) : NA; }

/* One bar per switch kind on one linear scale: user-level (teal) against the kernel's (grey).
 * Chart colours: suspended = the 'waiting on I/O' hue, runnable = the 'ready, waiting' hue. */
function drawCost(c) {
  const rows = [
    [`user-level, ${c.switch || '?'} (in use)`, c.switch_ns, 'user'],
    ['user-level, asm', c.switch_asm_ns, 'user'],
    ['user-level, ucontext', c.switch_ucontext_ns, 'user'],
    ['kernel context switch (threads, futex)', c.kernel_switch_ns, 'kernel']
  ];
  const key = rows.map(r => r[1]).join(',');
  if (key === costKey) return;
  costKey = key;
  let max = 0;
  rows.forEach(r => { if (isNum(r[1]) && r[1] > max) max = r[1]; });
  const box = f['coro-cost'];
  box.textContent = '';
  box.appendChild(el('div', 'cost-title', 'one switch costs'));
  rows.forEach(r => {
    const line = el('div', `cost-row ${r[2]}`);
    line.appendChild(el('span', 'cost-label', r[0]));
    const track = el('span', 'cost-track');
    const bar = el('i');
    bar.style.width = isNum(r[1]) && max > 0 ? `${Math.max(0.5, r[1] * 100 / max).toFixed(1)}%` : '0';
    track.appendChild(bar);
    line.appendChild(track);
    line.appendChild(el('span', 'cost-val', isNum(r[1]) ? ns(r[1]) : 'not measured'));
    box.appendChild(line);
  });
}

export function render(s) {
  const c = s.server && s.server.coro;
  /* server.coro is in every snapshot; the panel appears in coro mode, or
   * while coroutines made there are still alive. */
  const mode = s.server && s.server.mode;
  if (!c || typeof c !== 'object' || (mode !== 'coro' && !(c.alive > 0))) { panel.hidden = true; return; }
  panel.hidden = false;
  setText(f['coro-alive'], fmtInt(c.alive));
  setText(f['coro-suspended'], fmtInt(c.suspended));
  setText(f['coro-runnable'], fmtInt(c.runnable));
  setText(f['coro-switches'], fmt(c.switches_rate, 0));
  setText(f['coro-migrations'], `${fmt(c.migrations_rate, 0)} (${fmtInt(c.migrations)})`);
  const each = isNum(c.stack_kib) ? ` · ${c.stack_kib} KiB each` : '';
  setText(f['coro-stack'], `${fmtBytes(c.stack_reserved_bytes)} / ${fmtBytes(c.stack_resident_bytes)}${each}`);
  drawCost(c);
  if (!chart) chart = makeChart();
  if (!chart) return;
  const labels = chart.data.labels;
  labels.push(isNum(s.time_ms) ? clock(s.time_ms) : String(s.seq));
  const vals = [c.alive, c.suspended, c.runnable];
  const over = labels.length > HISTORY;
  if (over) labels.shift();
  chart.data.datasets.forEach(({ data }, i) => {
    data.push(isNum(vals[i]) ? vals[i] : null);
    if (over) data.shift();
  });
  chart.update('none');
}

/* After a server restart. */
export function reset() {
  if (!chart) return;
  chart.data.labels.length = 0;
  chart.data.datasets.forEach(d => { d.data.length = 0; });
}
