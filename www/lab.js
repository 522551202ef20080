/*
 * The Lab panel: every idea as an experiment (GET /lab), run from here
 * (POST /lab/run?id=ID, POST /lab/cancel), its progress and result read
 * from the `lab` events of /stats/stream (a stream opened only while a run
 * is in progress), the verdict with the kernel's evidence, a per-second
 * chart of the run and the last runs side by side as bars (Chart.js).
 * Closing the page changes nothing on the server: the run goes on and its
 * result is in GET /lab/runs. Publishes window.tlLab for tests.
 */

const $ = function (id) { return document.getElementById(id); };
const state = { experiments: [], runs: [], running: null, source: null, lastResult: null,
  progressEvents: 0, lastProgress: null };
window.tlLab = state;

let seriesChart = null, runsChart = null;

function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

function num(v, digits) {
  if (typeof v !== 'number' || !isFinite(v)) return 'n/a';
  var d = digits === undefined ? (Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2) : digits;
  return v.toFixed(d);
}

function show(v) {
  if (v === null || v === undefined) return 'n/a';
  if (Array.isArray(v)) return v.map(show).join(', ');
  if (typeof v === 'number') return num(v);
  return String(v);
}

function setupText(s) {
  if (!s) return '';
  var parts = [];
  ['mode', 'threads', 'cpus', 'pin', 'processes'].forEach(function (k) {
    if (s[k] !== undefined) parts.push(k + ' ' + s[k]);
  });
  return parts.join(', ');
}

function post(path) {
  return fetch(path, { method: 'POST', cache: 'no-store', headers: { 'X-Threadlab': '1' } })
    .then(function (r) { return r.json().then(function (j) { return { status: r.status, body: j }; }); });
}

function setBusy(busy) {
  document.querySelectorAll('#lab-list button.lab-run').forEach(function (b) { b.disabled = busy; });
  $('lab-cancel').disabled = !busy;
}

function renderList() {
  var list = $('lab-list');
  list.textContent = '';
  state.experiments.forEach(function (x) {
    var row = el('div', 'lab-exp');
    row.dataset.id = x.id;
    var text = el('div', 'lab-exp-text');
    text.appendChild(el('div', 'lab-q', x.question));
    var unit = x.measured === 'rps' ? ' req/s' : '';
    var pred = x.predicted === null || x.predicted === undefined ? 'qualitative'
      : (x.bound ? '> ' : '') + num(x.predicted) + unit;
    text.appendChild(el('div', 'lab-meta', x.idea + ' · ' + setupText(x.setup) + ' · ' +
      (x.load ? x.load.path + ', ' + x.load.connections + ' conns, ' + x.load.duration_s + ' s' : '') +
      ' · predicted ' + pred));
    row.appendChild(text);
    var b = el('button', 'lab-run', x.needs_restart ? 'needs restart' : 'Run');
    b.type = 'button';
    if (x.needs_restart) {
      b.disabled = true;
      b.title = 'cannot be applied live: ' + x.needs_restart;
    } else {
      b.addEventListener('click', function () { runExperiment(x.id); });
    }
    row.appendChild(b);
    list.appendChild(row);
  });
}

function renderProgress(p) {
  var box = $('lab-progress');
  box.hidden = false;
  var total = p.elapsed_s + p.left_s;
  $('lab-bar').style.width = (total > 0 ? Math.min(100, 100 * p.elapsed_s / total) : 0) + '%';
  $('lab-progress-text').textContent = p.id + ': ' + num(p.elapsed_s, 1) + ' s, ' + num(p.left_s, 1) +
    ' s left, ' + num(p.rps_so_far) + ' req/s so far (server counters)';
}

function renderResult(r) {
  state.lastResult = r;
  var v = $('lab-verdict');
  v.hidden = false;
  v.className = 'lab-verdict ' + (r.within === true ? 'ok' : r.within === false ? 'bad' : 'none');
  v.textContent = '';
  v.appendChild(el('div', 'lab-verdict-head', r.id + ' (' + r.status + '): ' + r.verdict));
  if (r.why) v.appendChild(el('div', 'lab-why', 'model: ' + r.why));
  if (r.check) v.appendChild(el('div', 'lab-why', 'evidence check: ' + r.check.evidence + ' = ' +
    show(r.check.value) + ' ' + r.check.op + ' ' + r.check.want + ' → ' +
    (r.check.passed ? 'yes' : 'no') + ' (' + r.check.explain + ')'));
  if (r.probe) v.appendChild(el('div', 'lab-why', 'probe: p50 ' + num(r.probe.p50_ms) + ' ms, p99 ' +
    num(r.probe.p99_ms) + ' ms'));
  v.appendChild(el('div', 'lab-why', 'settings restored: ' + (r.restored ? 'yes' : 'NO') +
    (r.settings_after ? ' (' + r.settings_after.mode + ', ' + r.settings_after.threads +
      ' workers on CPUs ' + r.settings_after.worker_cpus + ')' : '')));
  var tb = $('lab-evidence-body');
  tb.textContent = '';
  (r.evidence || []).forEach(function (e) {
    var tr = el('tr');
    tr.appendChild(el('td', null, e.label));
    tr.appendChild(el('td', 'num', show(e.before)));
    tr.appendChild(el('td', 'num', show(e.after)));
    tr.appendChild(el('td', 'num', e.counter ? show(e.delta) : ''));
    tb.appendChild(tr);
  });
  $('lab-evidence').hidden = !(r.evidence && r.evidence.length);
  drawSeries(r.series || []);
}

function drawSeries(series) {
  if (typeof window.Chart !== 'function') return;
  var labels = series.map(function (_, i) { return (i + 1) + ' s'; });
  var data = series.map(function (v) { return typeof v === 'number' ? v : null; });
  if (!seriesChart) {
    seriesChart = new window.Chart($('chart-lab-series').getContext('2d'), {
      type: 'line',
      data: { labels: labels, datasets: [{ label: 'req/s (server)', data: data, borderColor: '#2f6fd0', pointRadius: 2 }] },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, title: { display: true, text: 'req/s' } } },
        plugins: { legend: { display: false } } }
    });
  } else {
    seriesChart.data.labels = labels;
    seriesChart.data.datasets[0].data = data;
    seriesChart.update('none');
  }
}

function drawRuns() {
  if (typeof window.Chart !== 'function') return;
  var runs = state.runs.filter(function (r) { return r.status === 'done'; }).slice(-8);
  var labels = runs.map(function (r) { return '#' + r.run + ' ' + r.id; });
  var pred = runs.map(function (r) { return r.predicted; });
  var meas = runs.map(function (r) { return r.measured; });
  if (!runsChart) {
    runsChart = new window.Chart($('chart-lab-runs').getContext('2d'), {
      type: 'bar',
      data: { labels: labels, datasets: [
        { label: 'predicted', data: pred, backgroundColor: '#9db7e0' },
        { label: 'measured', data: meas, backgroundColor: '#2f6fd0' }] },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
        scales: { y: { beginAtZero: true } }, plugins: { legend: { position: 'top', align: 'end' } } }
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

/* While a run is in progress: its `lab` events (progress, then result). */
function openStream() {
  if (state.source || typeof window.EventSource !== 'function') return;
  state.source = new EventSource('/stats/stream');
  state.source.addEventListener('lab', function (ev) {
    var m;
    try { m = JSON.parse(ev.data); } catch (e) { return; }
    if (m.type === 'progress') {
      state.progressEvents++;
      state.lastProgress = ev.data;
      if (state.running) renderProgress(m);
    } else if (m.type === 'result') {
      closeStream();
      state.running = null;
      setBusy(false);
      $('lab-progress').hidden = true;
      $('lab-status').textContent = m.result.id + ': ' + m.result.status;
      state.runs.push(m.result);
      renderResult(m.result);
      drawRuns();
    }
  });
}

function runExperiment(id) {
  /* Busy at once: the answer may come after the run's first events. */
  var x = state.experiments.find(function (e) { return e.id === id; });
  var dur = x && x.load ? x.load.duration_s : 0;
  state.running = id;
  setBusy(true);
  $('lab-status').textContent = 'running ' + id + (dur ? ' (' + dur + ' s)' : '');
  renderProgress({ id: id, elapsed_s: 0, left_s: dur, rps_so_far: 0 });
  openStream();
  post('/lab/run?id=' + encodeURIComponent(id)).then(function (r) {
    if (r.status === 202) return;
    if (state.running === id) {
      state.running = null;
      setBusy(false);
      $('lab-progress').hidden = true;
      closeStream();
    }
    $('lab-status').textContent = 'not started: ' + (r.body.error || r.status) +
      (r.body.command ? ' (' + r.body.command + ')' : '');
  }).catch(function (e) { $('lab-status').textContent = 'not started: ' + e; });
}

function load() {
  fetch('/lab', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (j) {
    if (j.error) { $('lab-status').textContent = j.error + ': ' + (j.why || ''); return; }
    state.experiments = j.experiments || [];
    renderList();
    var m = j.machine || {};
    $('lab-machine').textContent = 'this machine: ' + m.online_cpus + ' online CPUs, workers on ' +
      m.worker_cpus + ' (process may use ' + m.inherited_cpus + ')' +
      (j.wrk_installed ? '' : ' · ' + j.wrk_hint);
    if (j.running) {                // a run started elsewhere (or before a reload)
      state.running = j.running.id;
      setBusy(true);
      openStream();
    } else {
      setBusy(false);
    }
    return fetch('/lab/runs', { cache: 'no-store' }).then(function (r) { return r.json(); });
  }).then(function (runs) {
    if (!runs) return;
    state.runs = runs.runs || [];
    if (state.runs.length) renderResult(state.runs[state.runs.length - 1]);
    drawRuns();
  }).catch(function (e) { $('lab-status').textContent = 'cannot read /lab: ' + e; });
}

$('lab-cancel').addEventListener('click', function () {
  post('/lab/cancel').then(function (r) {
    $('lab-status').textContent = r.status === 200 ? 'cancelling…' : (r.body.error || r.status);
  });
});

load();
