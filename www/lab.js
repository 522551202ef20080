/*
 * The Lab panel: every idea as an experiment (GET /lab), run from here
 * (POST /lab/run?id=ID, POST /lab/cancel), its progress and result read
 * from the `lab` events of /stats/stream (a stream opened only while a run
 * is in progress), the verdict with the kernel's evidence, a per-second
 * chart of the run and the last runs side by side as bars (Chart.js).
 * Closing the page changes nothing on the server: the run goes on and its
 * result is in GET /lab/runs. Publishes window.tlLab for tests.
 */

import { $, el } from './dom.js';
import { get, post, openStream } from './api.js';
import { labNum, show, setupText, predictionText, progressText, progressPct } from './lab-text.js';

const state = { experiments: [], runs: [], running: null, source: null, lastResult: null,
  progressEvents: 0, lastProgress: null };
let seriesChart = null, runsChart = null;

export function init() {
  window.tlLab = state;
  document.querySelector('#panel-lab .lab-charts').hidden = true;
  $('lab-cancel').addEventListener('click', cancel);
  load();
}

/* The lab reads its own events; nothing to do per snapshot. */
export function render() {}

function setBusy(busy) {
  for (const b of document.querySelectorAll('#lab-list button.lab-run')) b.disabled = busy;
  $('lab-cancel').disabled = !busy;
}

function setStatus(text) { $('lab-status').textContent = text; }

function experimentRow(x) {
  const row = el('div', 'lab-exp');
  row.dataset.id = x.id;
  const text = el('div', 'lab-exp-text');
  text.appendChild(el('div', 'lab-q', x.question));
  const load = x.load ? `${x.load.path}, ${x.load.connections} conns, ${x.load.duration_s} s` : '';
  text.appendChild(el('div', 'lab-meta', `${x.idea} · ${setupText(x.setup)} · ${load} · predicted ${predictionText(x)}`));
  row.appendChild(text);
  const b = el('button', 'lab-run', x.needs_restart ? 'needs restart' : 'Run');
  b.type = 'button';
  if (x.needs_restart) {
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
}

function renderProgress(p) {
  $('lab-progress').hidden = false;
  $('lab-bar').style.width = `${progressPct(p)}%`;
  $('lab-progress-text').textContent = progressText(p);
}

function verdictLines(r) {
  const lines = [];
  if (r.why) lines.push(`model: ${r.why}`);
  if (r.check) {
    lines.push(`evidence check: ${r.check.evidence} = ${show(r.check.value)} ${r.check.op} ${r.check.want} → ` +
      `${r.check.passed ? 'yes' : 'no'} (${r.check.explain})`);
  }
  if (r.probe) lines.push(`probe: p50 ${labNum(r.probe.p50_ms)} ms, p99 ${labNum(r.probe.p99_ms)} ms`);
  const a = r.settings_after;
  lines.push(`settings restored: ${r.restored ? 'yes' : 'NO'}` +
    (a ? ` (${a.mode}, ${a.threads} workers on CPUs ${a.worker_cpus})` : ''));
  return lines;
}

function renderResult(r) {
  state.lastResult = r;
  const v = $('lab-verdict');
  v.hidden = false;
  v.className = `lab-verdict ${r.within === true ? 'ok' : r.within === false ? 'bad' : 'none'}`;
  v.textContent = '';
  v.appendChild(el('div', 'lab-verdict-head', `${r.id} (${r.status}): ${r.verdict}`));
  for (const line of verdictLines(r)) v.appendChild(el('div', 'lab-why', line));
  const tb = $('lab-evidence-body');
  tb.textContent = '';
  for (const e of r.evidence || []) {
    const tr = el('tr');
    tr.append(el('td', null, e.label), el('td', 'num', show(e.before)), el('td', 'num', show(e.after)),
      el('td', 'num', e.counter ? show(e.delta) : ''));
    tb.appendChild(tr);
  }
  $('lab-evidence').hidden = !(r.evidence && r.evidence.length);
  drawSeries(r.series || []);
}

function drawSeries(series) {
  if (typeof window.Chart !== 'function') return;
  const labels = series.map((_, i) => `${i + 1} s`);
  const data = series.map((v) => (typeof v === 'number' ? v : null));
  if (!seriesChart) {
    seriesChart = new window.Chart($('chart-lab-series').getContext('2d'), {
      type: 'line',
      data: { labels, datasets: [{ label: 'req/s (server)', data, borderColor: '#2f6fd0', pointRadius: 2 }] },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, title: { display: true, text: 'req/s' } } },
        plugins: { legend: { display: false } } },
    });
  } else {
    seriesChart.data.labels = labels;
    seriesChart.data.datasets[0].data = data;
    seriesChart.update('none');
  }
}

function drawRuns() {
  if (typeof window.Chart !== 'function') return;
  const runs = state.runs.filter((r) => r.status === 'done').slice(-8);
  /* No run yet: no empty axes that look like a result of zero. */
  document.querySelector('#panel-lab .lab-charts').hidden = !state.runs.length;
  const labels = runs.map((r) => `#${r.run} ${r.id}`);
  const pred = runs.map((r) => r.predicted);
  const meas = runs.map((r) => r.measured);
  if (!runsChart) {
    runsChart = new window.Chart($('chart-lab-runs').getContext('2d'), {
      type: 'bar',
      data: { labels, datasets: [
        { label: 'predicted', data: pred, backgroundColor: '#9db7e0' },
        { label: 'measured', data: meas, backgroundColor: '#2f6fd0' }] },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
        scales: { y: { beginAtZero: true } }, plugins: { legend: { position: 'top', align: 'end' } } },
    });
  } else {
    runsChart.data.labels = labels;
    runsChart.data.datasets[0].data = pred;
    runsChart.data.datasets[1].data = meas;
    runsChart.update('none');
  }
}

function closeStream() {
  if (state.source) { state.source.close(); state.source = null; }
}

function runEnded() {
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
    if (state.running) renderProgress(m);
  } else if (m.type === 'result') {
    runEnded();
    setStatus(`${m.result.id}: ${m.result.status}`);
    state.runs.push(m.result);
    renderResult(m.result);
    drawRuns();
  }
}

/* While a run is in progress: its `lab` events (progress, then result). */
function listen() {
  if (state.source) return;
  state.source = openStream();
  if (state.source) state.source.addEventListener('lab', onLabEvent);
}

async function runExperiment(id) {
  /* Busy at once: the answer may come after the run's first events. */
  const x = state.experiments.find((e) => e.id === id);
  const dur = x && x.load ? x.load.duration_s : 0;
  state.running = id;
  setBusy(true);
  setStatus(`running ${id}${dur ? ` (${dur} s)` : ''}`);
  renderProgress({ id, elapsed_s: 0, left_s: dur, rps_so_far: 0 });
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
