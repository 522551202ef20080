/*
 * The Lab panel: every idea as an experiment (GET /lab), run from here
 * (POST /lab/run?id=ID, or id=all; POST /lab/cancel), its progress and
 * result read from the `lab` events of /stats/stream (a stream opened only
 * while a run is in progress), the verdict with the kernel's evidence, a
 * per-second chart of the run and the last runs as bars (Chart.js, one
 * chart per unit).
 *
 * The focused run view: a run started here opens one screen with the
 * question, each variant's prediction and progress, and beside them the
 * dashboard panels that hold the idea's evidence (lab-model.js says which),
 * moved there while it is open and put back when it closes (a button or
 * Escape); their own modules keep drawing them. The snapshots seen during
 * the run are kept (lab-model.js's ReplayBuffer) and a finished run is
 * replayed with a scrubber through main.js's hooks (the live view pauses).
 * With an observer whose experiments have no `variants`, each run is one
 * variant and restart-needing experiments stay "needs restart".
 *
 * Closing the page changes nothing on the server: the run goes on and its
 * result is in GET /lab/runs. Publishes window.tlLab for tests.
 */

import { $, el } from './dom.js';
import { get, post, openStream } from './api.js';
import { labNum, show, setupText, settingsWords, predictionText, progressText, progressPct, wrapLabel, legendText } from './lab-text.js';
import {
  evidencePanels, variantsOf, runnable, variantProgress, chartGroups, runsChartGroups,
  runAllSeconds, verdictClass, verdictText, ReplayBuffer, evidenceParts,
  figureLine, extraLines, evidenceTable, unitText, seriesSets, alsoGroups, predictedWords, threadColumns,
} from './lab-model.js';

const state = {
  experiments: [], runs: [], running: null, source: null, lastResult: null,
  progressEvents: 0, lastProgress: null, hasVariants: false,
  focus: { open: false, id: null, panels: [], progress: null, result: null, records: [] },
  replay: new ReplayBuffer(60000, 600), replaying: null, replayable: [],
};
let hooks = { replay: null, live: null, record: null, columns: null };
let seriesChart = null;
let runsCharts = [], focusCharts = [];
const moved = [];                   // [{ node, marker }] panels in the focused view
const LINE_COLORS = ['#2f6fd0', '#e8590c', '#2b8a3e'];

/* From main.js: { replay(ids, snapshot) -> the ids it could draw, live(),
 * record(on): the lanes log their slices while a run goes, columns(keys,
 * why): the Threads table's columns (null: all) }. */
export function useReplay(h) {
  hooks = { ...hooks, ...h };
}

export function init() {
  window.tlLab = state;
  document.querySelector('#panel-lab .lab-charts').hidden = true;
  $('lab-cancel').addEventListener('click', cancel);
  $('lab-focus-cancel').addEventListener('click', cancel);
  $('lab-focus-leave').addEventListener('click', leaveFocus);
  $('lab-focus-open').addEventListener('click', () => {
    const id = state.running || (state.lastResult && state.lastResult.id);
    if (id) openFocus(id);
  });
  $('lab-run-all').addEventListener('click', () => runExperiment('all'));
  $('lab-scrub').addEventListener('input', (ev) => replayAt(Number(ev.target.value)));
  $('lab-replay-live').addEventListener('click', goLive);
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && state.focus.open) leaveFocus();
  });
  load();
}

/* Each snapshot while a run goes is kept for its replay. */
export function render(s) {
  if (state.running && state.replaying === null) state.replay.push(performance.now(), s);
}

function setBusy(busy) {
  for (const b of document.querySelectorAll('#lab-list button.lab-run')) {
    const x = state.experiments.find((e) => e.id === b.dataset.id);
    b.disabled = busy || (x ? !runnable(x) : false);
  }
  $('lab-run-all').disabled = busy;
  $('lab-cancel').disabled = !busy;
  $('lab-focus-cancel').disabled = !busy;
  $('lab-focus-open').disabled = !busy && !state.lastResult;
}

function setStatus(text) {
  $('lab-status').textContent = text;
  $('lab-focus-status').textContent = text;
}

/* An older observer's experiment names what it measures in `measured`. */
function unitOf(x) {
  if (!x) return null;
  if (x.unit) return x.unit;
  if (x.measured === 'rps') return 'req/s';
  return typeof x.measured === 'string' ? x.measured : null;
}

function experimentRow(x) {
  const row = el('div', 'lab-exp');
  row.dataset.id = x.id;
  const text = el('div', 'lab-exp-text');
  text.appendChild(el('div', 'lab-q', x.question));
  const load = x.load ? `${x.load.path}, ${x.load.connections} conns, ${x.load.duration_s} s` : 'no load: measured at start';
  const vs = variantsOf(x);
  /* A bound ("more than 0 req/s") is not a prediction of 0. */
  const pred = vs ? `variants: ${vs.map((v) => `${v.label} (${v.predicted === null || v.predicted === undefined
    ? 'compared with each other' : `${predictedWords(v, show)}${unitText(v.unit)}`}${v.needs_child ? ', child server' : ''})`).join(' · ')}`
    : `${setupText(x.setup)} · predicted ${predictionText(x)}`;
  text.appendChild(el('div', 'lab-meta', [x.idea, load, pred].filter(Boolean).join(' · ')));
  row.appendChild(text);
  const ok = runnable(x);
  const b = el('button', 'lab-run', ok ? 'Run' : 'needs restart');
  b.type = 'button';
  b.dataset.id = x.id;
  if (!ok) {
    b.disabled = true;
    b.title = `cannot be applied live: ${x.needs_restart}`;
  } else {
    b.addEventListener('click', () => runExperiment(x.id));
  }
  row.appendChild(b);
  return row;
}

function renderList() {
  const list = $('lab-list');
  list.textContent = '';
  for (const x of state.experiments) list.appendChild(experimentRow(x));
  state.hasVariants = state.experiments.some((x) => variantsOf(x));
  const all = $('lab-run-all');
  all.hidden = !state.hasVariants;
  $('lab-report').hidden = !state.hasVariants;
  if (state.hasVariants) {
    const s = runAllSeconds(state.experiments);
    all.textContent = `Run all (about ${Math.floor(s / 60)} min ${Math.round(s % 60)} s)`;
    all.title = `every experiment in turn, every variant: about ${Math.round(s)} s`;
  }
}

function renderProgress(p) {
  $('lab-progress').hidden = false;
  $('lab-bar').style.width = `${progressPct(p)}%`;
  $('lab-progress-text').textContent = progressText(p);
}

/* The lines under a verdict: the model, what the checks look for (their
 * figures are in the verdict), the restore. With variants, each variant's
 * probe is in its own box, not here. */
function verdictLines(r) {
  const lines = [];
  if (r.why) lines.push(`model: ${r.why}`);
  const vs = Array.isArray(r.variants) && r.variants.length ? r.variants : [r];
  const explains = [...new Set(vs.map((v) => v.check && v.check.explain).filter(Boolean))];
  for (const e of explains) lines.push(`the check: ${e}`);
  if (!Array.isArray(r.variants) && r.probe) {
    lines.push(`probe: p50 ${labNum(r.probe.p50_ms)} ms, p99 ${labNum(r.probe.p99_ms)} ms`);
  }
  const a = r.settings_after;
  if (r.restored !== undefined || a) {
    lines.push(`settings restored: ${r.restored ? 'yes' : 'NO'}` +
      (a ? ` (${a.mode}, ${a.threads} workers on CPUs ${a.worker_cpus})` : ''));
  }
  return lines;
}

/* The settings a variant ran with, as read back. */
function settingsText(s) {
  return settingsWords(s);
}

function figureText(v) {
  return figureLine(v, show);
}

/* One run's figures, verdict and evidence, drawn from its result object alone
 * (a /lab/runs entry; any source of the same shape). */
export function renderResult(r) {
  state.lastResult = r;
  const v = $('lab-verdict');
  v.hidden = false;
  v.className = `lab-verdict ${verdictClass(r)}`;
  v.textContent = '';
  v.appendChild(el('div', 'lab-verdict-head', `${r.id} (${r.status}): ${verdictText(r)}`));
  for (const vr of r.variants || []) {
    const extra = extraLines(vr, show);
    v.appendChild(el('div', 'lab-why', `${vr.label || vr.id} [${settingsText(vr.settings)}]: ${figureText(vr)}` +
      (extra.length ? ` · ${extra.join(' · ')}` : '')));
  }
  for (const line of verdictLines(r)) v.appendChild(el('div', 'lab-why', line));
  renderEvidence(r);
  drawSeries(r);
  if (state.focus.open && state.focus.id === r.id) {
    state.focus.result = r;
    renderFocus();
  }
}

/* The kernel's evidence: every variant side by side (a counter's change
 * during the load, else its value then); a run without variants as
 * before / during / change. */
function renderEvidence(r) {
  const table = $('lab-evidence');
  const tb = $('lab-evidence-body');
  const head = table.tHead.rows[0];
  tb.textContent = '';
  head.textContent = '';
  if (Array.isArray(r.variants) && r.variants.length) {
    const t = evidenceTable(r.variants, show);
    for (const h of t.head) head.appendChild(el('th', null, h));
    for (const row of t.rows) {
      const tr = el('tr');
      row.forEach((c, i) => tr.appendChild(el('td', i ? 'num' : null, c)));
      tb.appendChild(tr);
    }
    table.hidden = !t.rows.length;
    return;
  }
  for (const h of ['kernel evidence', 'before', 'during the load', 'change']) head.appendChild(el('th', null, h));
  for (const e of Array.isArray(r.evidence) ? r.evidence : []) {
    const tr = el('tr');
    tr.append(el('td', null, e.label), el('td', 'num', show(e.before)), el('td', 'num', show(e.after)),
      el('td', 'num', e.counter ? show(e.delta) : ''));
    tb.appendChild(tr);
  }
  table.hidden = !(Array.isArray(r.evidence) && r.evidence.length);
}

/* A new run: the previous result leaves the view (it stays in the runs list). */
function clearResult() {
  $('lab-verdict').hidden = true;
  $('lab-evidence').hidden = true;
  state.lastResult = null;
  state.focus.result = null;
  state.focus.progress = null;
  state.focus.records = [];
}

/* The per-second series is the server's request counter: with a probe
 * it counts the probe's requests too (thousands a second where the loop
 * answers it), so it is not the load's req/s measured by wrk. */
function seriesTitle(x) {
  return x && x.probe ? 'requests/s at the server (the load and the probe)' : 'the server\'s req/s each second (all its clients), each variant';
}

/* The legend of a Lab chart: small colour boxes, each entry cut to the
 * chart's width (legendText), the whole label in the tooltip. */
function legendOpts() {
  return { position: 'top', align: 'end', labels: { boxWidth: 12,
    generateLabels: (chart) => window.Chart.defaults.plugins.legend.labels.generateLabels(chart)
      .map((item) => ({ ...item, text: legendText(item.text, chart.width - 40) })) } };
}

/* Each variant's req/s per second (the server's counters), a labelled
 * line each: a newcomer must see which line is which. */
function drawSeries(r) {
  if (typeof window.Chart !== 'function') return;
  const { labels, sets } = seriesSets(r);
  const datasets = sets.map((d, i) => ({ label: d.label, data: d.data, borderColor: LINE_COLORS[i % LINE_COLORS.length], pointRadius: 2 }));
  if (!seriesChart) {
    seriesChart = new window.Chart($('chart-lab-series').getContext('2d'), {
      type: 'line',
      data: { labels, datasets },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, title: { display: true, text: 'req/s' } } },
        plugins: { legend: legendOpts(), title: { display: true, text: seriesTitle(experiment(r.id)) } } },
    });
  } else {
    seriesChart.data.labels = labels;
    seriesChart.data.datasets = datasets;
    seriesChart.options.plugins.title.text = seriesTitle(experiment(r.id));
    seriesChart.update('none');
  }
}

/* Bars of predicted and measured for one unit, in a new box in parent. */
function barChart(parent, g, title) {
  const box = el('div', 'chart-box small');
  box.dataset.unit = g.unit;
  const c = el('canvas');
  box.appendChild(c);
  parent.appendChild(box);
  return new window.Chart(c.getContext('2d'), {
    type: 'bar',
    /* No prediction (repeated measurements compared): no empty legend entry. */
    data: { labels: g.labels.map((l) => wrapLabel(l)), datasets: [
      ...(g.predicted.some((p) => typeof p === 'number')
        ? [{ label: 'predicted', data: g.predicted, backgroundColor: '#9db7e0' }] : []),
      { label: 'measured', data: g.measured, backgroundColor: '#2f6fd0' }] },
    options: { animation: false, responsive: true, maintainAspectRatio: false,
      scales: { y: { beginAtZero: true, title: { display: true, text: unitText(g.unit).trim() || g.unit } },
        x: { ticks: { maxRotation: 0, autoSkip: false, font: { size: 11 } } } },
      plugins: { legend: legendOpts(), title: { display: !!title, text: title } } },
  });
}

function drawRuns() {
  /* No run yet: no empty axes that look like a result of zero. */
  document.querySelector('#panel-lab .lab-charts').hidden = !state.runs.length;
  if (typeof window.Chart !== 'function') return;
  for (const c of runsCharts) c.destroy();
  const box = $('lab-runs-charts');
  box.textContent = '';
  const runs = state.runs.map((r) => (r.unit || r.variants ? r : { ...r, unit: unitOf(experiment(r.id)) }));
  runsCharts = runsChartGroups(runs).map((g) => barChart(box, g, `last runs, ${g.unit}`));
}

/* ---- the focused view ---- */

function experiment(id) {
  return state.experiments.find((e) => e.id === id) || null;
}

/* The variants shown: the server's, or the experiment as one variant. */
function focusVariants(x, r) {
  if (r && Array.isArray(r.variants) && r.variants.length) return r.variants;
  const vs = variantsOf(x);
  if (vs) return vs;
  const one = { id: x ? x.id : '', label: x ? setupText(x.setup) : '', unit: unitOf(x),
    predicted: x && typeof x.predicted === 'number' ? x.predicted : null };
  if (r) Object.assign(one, { measured: r.measured, predicted: r.predicted, ratio: r.ratio });
  return [one];
}

function movePanels(ids) {
  const dest = $('lab-focus-evidence');
  for (const id of ids) {
    const node = document.getElementById(id);
    if (!node || moved.some((m) => m.node === node)) continue;
    const marker = document.createComment(`${id} (in the Lab's focused view)`);
    node.before(marker);
    dest.appendChild(node);
    moved.push({ node, marker });
  }
}

function restorePanels() {
  while (moved.length) {
    const { node, marker } = moved.pop();
    marker.replaceWith(node);
  }
}

function openFocus(id) {
  const x = experiment(id);
  if (state.focus.open && state.focus.id !== id) restorePanels();
  state.focus.open = true;
  state.focus.id = id;
  state.focus.panels = evidencePanels(id, x);
  movePanels(state.focus.panels);
  if (hooks.columns) hooks.columns(threadColumns(id), 'the ones this experiment is about (the dashboard shows all)');
  $('lab-focus').hidden = false;
  document.body.classList.add('lab-focused');
  $('lab-focus-q').textContent = x ? x.question : id;
  const load = x && x.load ? `load ${x.load.path}, ${x.load.connections} connections, ${x.load.duration_s} s per variant` : '';
  $('lab-focus-meta').textContent = [x && x.idea, load].filter(Boolean).join(' · ');
  renderFocus();
}

function leaveFocus() {
  if (!state.focus.open) return;
  goLive();
  state.focus.open = false;
  restorePanels();
  if (hooks.columns) hooks.columns(null);
  $('lab-focus').hidden = true;
  document.body.classList.remove('lab-focused');
}

function variantBox(v, row, x) {
  const box = el('div', `lab-variant ${row.state}`);
  box.dataset.variant = v.id;
  const head = el('div', 'lab-variant-head');
  head.append(el('span', 'lab-variant-label', v.label || v.id));
  /* Without a load (process-costs) the variants are measurements, not
   * settings: the server's settings would only mislead. */
  const setup = x && !x.load ? ''
    : v.settings ? settingsText(v.settings) : setupText(v.setup || (x && !variantsOf(x) ? x.setup : null));
  if (setup && setup !== (v.label || v.id)) head.append(el('span', 'lab-meta', setup + (v.needs_child ? ' · child server' : '')));
  const st = row.state === 'running'
    ? `${row.phase}${row.left_s !== null && row.phase === 'load' ? `, ${labNum(row.left_s, 1)} s left` : ''}`
    : row.state;
  head.append(el('span', 'lab-variant-state', st));
  box.appendChild(head);
  const track = el('div', 'lab-track');
  const bar = el('div', 'lab-bar');
  bar.style.width = `${row.pct}%`;
  track.appendChild(bar);
  box.appendChild(track);
  const u = v.unit ? ` ${v.unit}` : '';
  const text = v.measured !== undefined ? figureText(v)
    : `predicted ${v.predicted === null || v.predicted === undefined ? 'qualitative' : `${predictedWords(v, show)}${u}`}`;
  box.appendChild(el('div', 'lab-variant-fig', text));
  for (const line of extraLines(v, show)) box.appendChild(el('div', 'lab-variant-extra', line));
  const ev = evidenceParts(v.evidence, show);
  if (ev.length) box.appendChild(el('div', 'lab-variant-ev', ev.join(' · ')));
  if (row.state === 'running' && typeof row.rps === 'number') {
    box.appendChild(el('div', 'lab-variant-ev',
      `${labNum(row.rps)} req/s so far (server counters${x && x.probe ? ': the load and the probe' : ''})`));
  }
  return box;
}

function renderFocus() {
  if (!state.focus.open) return;
  const x = experiment(state.focus.id);
  const r = state.focus.result;
  /* Before the result: the records of the variants already done. */
  const vs = focusVariants(x, r).map((v, i) => (!r && state.focus.records[i] ? { ...v, ...state.focus.records[i] } : v));
  const p = state.focus.progress;
  const rows = r ? vs.map((v) => ({ state: 'done', phase: 'done', left_s: 0, pct: 100, id: v.id }))
    : variantProgress(vs, p && !Number.isInteger(p.variant) ? { ...p, variant: 0, phase: p.phase || 'load' } : p);
  const list = $('lab-focus-variants');
  list.textContent = '';
  vs.forEach((v, i) => list.appendChild(variantBox(v, rows[i], x)));
  const vd = $('lab-focus-verdict');
  vd.hidden = !r;
  for (const c of focusCharts) c.destroy();
  focusCharts = [];
  const charts = $('lab-focus-charts');
  charts.textContent = '';
  if (!r) { $('lab-replay').hidden = true; return; }
  vd.className = `lab-verdict ${verdictClass(r)}`;
  vd.textContent = '';
  vd.appendChild(el('div', 'lab-verdict-head', `${r.status === 'done' ? '' : `(${r.status}) `}${verdictText(r)}`));
  for (const line of verdictLines(r)) vd.appendChild(el('div', 'lab-why', line));
  if (typeof window.Chart === 'function') {
    focusCharts = [...chartGroups(vs), ...alsoGroups(vs)].map((g) => barChart(charts, g, g.title || unitText(g.unit).trim()));
    const withSeries = vs.filter((v) => Array.isArray(v.series) && v.series.length);
    if (withSeries.length) focusCharts.push(seriesLines(charts, withSeries, seriesTitle(x)));
  }
  renderReplay();
}

/* Each variant's req/s per second, one line each (one unit: req/s). */
function seriesLines(parent, vs, title) {
  const box = el('div', 'chart-box small');
  box.dataset.unit = 'req/s';
  const c = el('canvas');
  box.appendChild(c);
  parent.appendChild(box);
  const n = Math.max(...vs.map((v) => v.series.length));
  return new window.Chart(c.getContext('2d'), {
    type: 'line',
    data: { labels: Array.from({ length: n }, (_, i) => `${i + 1} s`),
      datasets: vs.map((v, i) => ({ label: v.label || v.id, data: v.series.map((y) => (typeof y === 'number' ? y : null)),
        borderColor: LINE_COLORS[i % LINE_COLORS.length], pointRadius: 2 })) },
    options: { animation: false, responsive: true, maintainAspectRatio: false,
      scales: { y: { beginAtZero: true, title: { display: true, text: 'req/s' } } },
      plugins: { legend: legendOpts(), title: { display: true, text: title } } },
  });
}

/* ---- replay ---- */

function renderReplay() {
  const n = state.replay.length;
  const box = $('lab-replay');
  box.hidden = !(state.focus.result && n > 1 && hooks.replay);
  if (box.hidden) return;
  const scrub = $('lab-scrub');
  scrub.max = String(n - 1);
  if (state.replaying === null) scrub.value = String(n - 1);
  replayText();
}

function replayText() {
  const n = state.replay.length;
  const i = state.replaying;
  const live = state.panelsLiveOnly || [];
  $('lab-replay-text').textContent = i === null
    ? `the panels show the server now (settings restored); drag to replay the run (${n} snapshots, ` +
      `${labNum(state.replay.offsetS(n - 1), 1)} s)`
    : `at ${labNum(state.replay.offsetS(i), 1)} s of ${labNum(state.replay.offsetS(n - 1), 1)} s` +
      (live.length ? ` (${live.join(', ')}: live only)` : '');
}

function replayAt(i) {
  const item = state.replay.at(i);
  if (!item || !hooks.replay) return;
  state.replaying = Math.round(i);
  const drawn = hooks.replay(state.focus.panels, item.s) || [];
  state.replayable = drawn;
  state.panelsLiveOnly = state.focus.panels.filter((id) => !drawn.includes(id))
    .map((id) => id.replace(/^panel-/, ''));
  replayText();
}

function goLive() {
  if (state.replaying === null) return;
  state.replaying = null;
  if (hooks.live) hooks.live();
  if (state.focus.open) renderReplay();
}

/* ---- the run ---- */

function closeStream() {
  if (state.source) { state.source.close(); state.source = null; }
}

function runEnded() {
  if (hooks.record) hooks.record(false);
  state.running = null;
  setBusy(false);
  $('lab-progress').hidden = true;
  closeStream();
}

function onLabEvent(ev) {
  let m;
  try { m = JSON.parse(ev.data); } catch { return; }
  if (m.type === 'progress') {
    state.progressEvents++;
    state.lastProgress = ev.data;
    if (!state.running) return;
    renderProgress(m);
    if (state.focus.open && m.id && m.id !== state.focus.id) {
      state.focus.result = null;           // Run all: the next experiment,
      state.focus.records = [];            // its own variants' records
      state.replay.clear();                // its own snapshots
      openFocus(m.id);
    }
    if (m.id === state.focus.id) {
      state.focus.progress = m;
      renderFocus();
    }
  } else if (m.type === 'variant') {
    /* A variant's record as soon as it is made: its figure beside the
     * variants still to come. */
    if (!state.running || m.id !== state.focus.id || !Number.isInteger(m.variant) || !m.record) return;
    state.focus.records[m.variant] = m.record;
    renderFocus();
  } else if (m.type === 'result') {
    /* A result already shown (the same run again) must not come back over
     * the next run's cleared view. */
    if (m.result && state.runs.some((x) => x.run === m.result.run && x.id === m.result.id)) return;
    const all = state.running === 'all';
    state.runs.push(m.result);
    if (!all) runEnded();
    setStatus(`${m.result.id}: ${m.result.status}`);
    renderResult(m.result);
    drawRuns();
    if (all) checkStillRunning();
  }
}

/* Run all: a result per experiment; after each, is the lab still running? */
async function checkStillRunning() {
  try {
    const j = (await get('/lab')).body;
    if (j && !j.running) runEnded();
  } catch { /* the next event decides */ }
}

/* While a run is in progress: its `lab` events (progress, then result). */
function listen() {
  if (state.source) return;
  state.source = openStream();
  if (state.source) state.source.addEventListener('lab', onLabEvent);
}

async function runExperiment(id) {
  /* Busy at once: the answer may come after the run's first events. */
  const x = experiment(id);
  const dur = id === 'all' ? runAllSeconds(state.experiments) : x && x.load ? x.load.duration_s * (variantsOf(x) || [1]).length : 0;
  goLive();
  clearResult();
  state.replay.clear();
  if (hooks.record) hooks.record(true);
  state.running = id;
  setBusy(true);
  setStatus(`running ${id}${dur ? ` (about ${Math.round(dur)} s)` : ''}`);
  renderProgress({ id, elapsed_s: 0, left_s: x && x.load ? x.load.duration_s : dur, rps_so_far: 0 });
  const first = id === 'all' ? state.experiments.find(runnable) : x;
  if (first) openFocus(first.id);
  listen();
  try {
    const r = await post('/lab/run', { id });
    if (r.status === 202) return;
    if (state.running === id) runEnded();
    const b = r.body || {};
    setStatus(`not started: ${b.error || r.status}${b.command ? ` (${b.command})` : ''}`);
  } catch (e) {
    setStatus(`not started: ${e}`);
  }
}

async function load() {
  try {
    const j = (await get('/lab')).body;
    if (!j) throw new Error('not JSON');
    if (j.error) { setStatus(`${j.error}: ${j.why || ''}`); return; }
    state.experiments = j.experiments || [];
    renderList();
    const m = j.machine || {};
    $('lab-machine').textContent = `this machine: ${m.online_cpus} online CPUs, workers on ${m.worker_cpus} ` +
      `(process may use ${m.inherited_cpus})${j.wrk_installed ? '' : ` · ${j.wrk_hint}`}`;
    if (j.running) {                // a run started elsewhere (or before a reload)
      state.running = j.running.id;
      setBusy(true);
      listen();
    } else {
      setBusy(false);
    }
    const runs = (await get('/lab/runs')).body;
    if (!runs) return;
    state.runs = runs.runs || [];
    if (state.runs.length) renderResult(state.runs[state.runs.length - 1]);
    setBusy(!!state.running);
    drawRuns();
  } catch (e) {
    setStatus(`cannot read /lab: ${e}`);
  }
}

async function cancel() {
  try {
    const r = await post('/lab/cancel');
    setStatus(r.status === 200 ? 'cancelling…' : ((r.body && r.body.error) || String(r.status)));
  } catch (e) {
    setStatus(`cannot cancel: ${e}`);
  }
}
