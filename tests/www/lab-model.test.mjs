// The Lab's focused view logic (www/lab-model.js): evidence panels per
// idea, per-variant progress, one unit per chart, Run all's length, the
// replay buffer. The fixture below follows the variants contract of GET /lab and
// /lab/runs (doc/stats-json.md's lab part).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  evidencePanels, variantsOf, runnable, variantProgress, chartGroups, runsChartGroups,
  runAllSeconds, verdictClass, verdictText, ReplayBuffer, evidenceParts,
} from '../../www/lab-model.js';

/* What the observer sends (GET /lab's experiments, one /lab/runs run). */
const fx = {
  "experiments": [
    { "id": "one-core", "question": "4 workers confined to ONE core?", "load": { "path": "/cpu?ms=10", "connections": 8, "duration_s": 5 },
      "variants": [
        { "id": "one", "label": "cpus=0", "setup": { "mode": "pool", "threads": 4, "cpus": "0" }, "needs_child": false, "predicted": 100, "unit": "req/s" },
        { "id": "all", "label": "all CPUs", "setup": { "mode": "pool", "threads": 4, "cpus": "all" }, "needs_child": false, "predicted": 200, "unit": "req/s" } ] },
    { "id": "crash-isolation", "question": "Does a crash kill the whole server?", "needs_restart": "threadlab --processes 2 --allow-crash",
      "load": { "path": "/plaintext", "connections": 8, "duration_s": 5 },
      "variants": [
        { "id": "threads", "label": "one process", "setup": { "processes": 1 }, "needs_child": true, "predicted": 0, "unit": "survivors" },
        { "id": "procs", "label": "--processes 2", "setup": { "processes": 2 }, "needs_child": true, "predicted": 1, "unit": "survivors" },
        { "id": "lat", "label": "probe", "setup": {}, "needs_child": false, "predicted": null, "unit": "ms" } ] }
  ],
  "run": {
    "run": 3, "id": "one-core", "status": "done",
    "variants": [
      { "id": "one", "label": "cpus=0", "settings": { "mode": "pool", "threads": 4, "worker_cpus": "0" }, "measured": 98, "predicted": 100, "ratio": 0.98, "unit": "req/s", "evidence": {}, "series": [90, 99, 101] },
      { "id": "all", "label": "all CPUs", "settings": { "mode": "pool", "threads": 4, "worker_cpus": "0-1" }, "measured": 190, "predicted": 200, "ratio": 0.95, "unit": "req/s", "evidence": {}, "series": [180, 195, 196] } ],
    "verdict": { "text": "all CPUs gave 1.9x cpus=0, as predicted", "consistent": true }
  }
};
const [oneCore, crash] = fx.experiments;

test('each idea shows the panels that hold its evidence', () => {
  assert.deepEqual(evidencePanels('one-core'), ['panel-lanes', 'panel-threads']);
  assert.ok(evidencePanels('scheduler').includes('panel-lanes'));
  assert.ok(evidencePanels('pin').includes('panel-lanes'));
  assert.ok(evidencePanels('async-io').includes('panel-timeline'));
  assert.ok(evidencePanels('blocking-loop').includes('panel-processes'), 'the in-flight count');
  assert.ok(evidencePanels('hybrid-suspend').includes('panel-threads'));
  assert.ok(evidencePanels('coro').includes('panel-threads'));
  assert.deepEqual(evidencePanels('crash-isolation'), ['panel-processes']);
  // Run in a child server: this server's process boxes (one idle process)
  // would contradict the run; the child's panel shows its processes.
  const kid = { variants: [{ id: 'one', needs_child: true }, { id: 'two', needs_child: true }] };
  assert.deepEqual(evidencePanels('crash-isolation', kid), ['panel-lab-child']);
  assert.deepEqual(evidencePanels('deadlock', kid), ['panel-lab-child']);   // the lanes trace this server, not the child
  assert.deepEqual(evidencePanels('one-core', { variants: [{ id: 'a' }] }), ['panel-lanes', 'panel-threads']);
  assert.deepEqual(evidencePanels('a-new-idea'), ['panel-lanes', 'panel-threads']);
  const a = evidencePanels('one-core'); a.push('x');
  assert.equal(evidencePanels('one-core').length, 2, 'the table is not handed out to be changed');
});

test('a restart-needing experiment runs once the server has variants', () => {
  assert.equal(runnable(crash), true);
  const old = { ...crash, variants: undefined };
  assert.equal(variantsOf(old), null);
  assert.equal(runnable(old), false, 'an old server: still needs a restart');
  assert.equal(runnable({ id: 'x' }), true);
  assert.equal(variantsOf({ variants: [] }), null);
});

test('progress per variant: done before, running, waiting after', () => {
  const vs = crash.variants;
  let rows = variantProgress(vs, null);
  assert.deepEqual(rows.map((r) => r.state), ['waiting', 'waiting', 'waiting']);
  rows = variantProgress(vs, { variant: 1, phase: 'load', elapsed_s: 1, left_s: 3 });
  assert.deepEqual(rows.map((r) => r.state), ['done', 'running', 'waiting']);
  assert.equal(rows[1].phase, 'load');
  assert.equal(rows[1].left_s, 3);
  assert.equal(rows[1].pct, 25);
  assert.equal(rows[0].pct, 100);
  assert.equal(rows[2].left_s, null);
  rows = variantProgress(vs, { variant: 0, phase: 'setup', elapsed_s: 0, left_s: 5 });
  assert.equal(rows[0].pct, 0);
  assert.equal(rows[0].phase, 'setup');
  rows = variantProgress(vs, { variant: 2, phase: 'done', elapsed_s: 5, left_s: 0 });
  assert.deepEqual(rows.map((r) => r.state), ['done', 'done', 'done']);
  rows = variantProgress(vs, { variant: 1, phase: 'restore', elapsed_s: 5, left_s: 0 });
  assert.equal(rows[1].state, 'running');
  assert.equal(rows[1].pct, 100);
  rows = variantProgress(vs, { variant: 0, phase: 'load', elapsed_s: 9, left_s: -1 });
  assert.equal(rows[0].left_s, 0, 'never a negative time left');
});

test('one unit per chart: req/s never shares an axis with a count or ms', () => {
  const g = chartGroups(crash.variants);
  assert.deepEqual(g.map((x) => x.unit), ['survivors', 'ms']);
  assert.deepEqual(g[0].labels, ['one process', '--processes 2']);
  assert.deepEqual(g[0].predicted, [0, 1]);
  assert.deepEqual(g[1].predicted, [null]);
  /* deadlock's "more than 0 req/s": a bound, no predicted bar (it read as "predicted 0") */
  const b = chartGroups([{ label: 'one process', unit: 'req/s', measured: 374, predicted: 0, formula: 'greater_than' },
    { label: '--processes 2', unit: 'req/s', measured: 665, predicted: 0, formula: 'at_most' },
    { label: 'x', unit: 'req/s', measured: 90, predicted: 100, formula: 'cpu_bound' }]);
  assert.deepEqual(b[0].predicted, [null, null, 100]);
  const r = chartGroups(fx.run.variants);
  assert.equal(r.length, 1);
  assert.deepEqual(r[0].measured, [98, 190]);
  const runs = runsChartGroups([fx.run, { run: 4, id: 'process-threads', status: 'done', measured: 3, predicted: 3, measured_what: 'worker_count' },
    { run: 5, id: 'scheduler', status: 'done', measured: 380, predicted: 400, measured_what: 'rps' },
    { run: 6, id: 'pin', status: 'cancelled', measured: 1, predicted: 400 }]);
  assert.deepEqual(runs.map((x) => x.unit), ['req/s', '(no unit)']);
  assert.deepEqual(runs[0].labels, ['#3 one-core: cpus=0', '#3 one-core: all CPUs', '#5 scheduler']);
  assert.deepEqual(runs[1].measured, [3]);
});

test('Run all says how long: every variant\'s load and its setup', () => {
  assert.equal(runAllSeconds(fx.experiments, 2, 3), (5 + 2) * 2 + (5 + 2 + 3) * 2 + (5 + 2));
  assert.equal(runAllSeconds([{ load: { duration_s: 3 } }], 2, 3), 5, 'no variants: one run');
});

test('the verdict: the server\'s words and whether the figures agree', () => {
  assert.equal(verdictClass(fx.run), 'ok');
  assert.equal(verdictText(fx.run), 'all CPUs gave 1.9x cpus=0, as predicted');
  assert.equal(verdictClass({ verdict: { text: 'x', consistent: false } }), 'bad');
  assert.equal(verdictClass({ verdict: 'old words', within: false }), 'bad');
  assert.equal(verdictClass({ verdict: 'old words', within: null }), 'none');
  assert.equal(verdictText({ verdict: 'old words' }), 'old words');
});

test('the replay buffer keeps the last minute, bounded, in order', () => {
  const b = new ReplayBuffer(60000, 1000);
  for (let t = 0; t <= 90000; t += 500) b.push(t, { seq: t / 500 });
  assert.equal(b.at(0).t, 30000, 'older than 60 s is dropped');
  assert.equal(b.at(b.length - 1).s.seq, 180);
  assert.equal(b.offsetS(b.length - 1), 60);
  assert.equal(b.at(-5).t, 30000);
  assert.equal(b.at(1e9).t, 90000);
  const c = new ReplayBuffer(1e9, 10);
  for (let i = 0; i < 25; i++) c.push(i, i);
  assert.equal(c.length, 10, 'bounded by count too');
  assert.equal(c.at(0).s, 15);
  c.clear();
  assert.equal(c.at(0), null);
  assert.equal(c.offsetS(3), 0);
});

test('a variant\'s evidence in words, nothing shown as [object]', () => {
  const fmt = (v) => (v === null || v === undefined ? 'n/a' : String(v));
  assert.deepEqual(evidenceParts({ worker_cpus: '0', migrations: { before: 3, after: 0 }, core_util: [84.3, 2.1],
    odd: { x: 1 }, lost: null }, fmt), ['worker cpus 0', 'migrations 3 → 0', 'core util 84.3,2.1', 'lost n/a']);
  assert.deepEqual(evidenceParts(null, fmt), []);
  assert.deepEqual(evidenceParts([1, 2], fmt), []);
});

/* ---- labfront2: the unit once, the figures beside, evidence per variant ---- */
import { figureLine, extraLines, evidenceTable, unitText } from '../../www/lab-model.js';

const f2 = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : 'n/a');

test('a variant\'s figures say their unit once', () => {
  const t = figureLine({ measured: 3, predicted: 3, ratio: 1, unit: 'worker threads' }, f2);
  assert.equal(t, 'measured 3 worker threads · predicted 3 · ratio 1.00');
  assert.equal(t.split('worker threads').length - 1, 1);
  assert.equal(figureLine({ measured: 11.6, predicted: null, unit: 'us', spread: [10.9, 14.4] }, f2),
    'measured 11.6 µs (10th-90th percentile 10.9-14.4) · no figure predicted');
  assert.equal(unitText('%'), '%');
  assert.equal(figureLine({ measured: null, predicted: 5, unit: 'req/s' }, f2), 'no figure measured · predicted 5');
});

test('the pin variant\'s step spread, the memory beside process-costs, each probe', () => {
  assert.deepEqual(extraLines({ steps: { what: "a 5 ms CPU step's wall time", unit: 'ms', p10: 5.02, p50: 5.1, p90: 7.9 } }, f2),
    ["a 5 ms CPU step's wall time: p10 5.0 · p50 5.1 · p90 7.9 ms"]);
  assert.deepEqual(extraLines({ steps: { what: 'x', unit: 'ms', p10: null, p50: null, p90: null } }, f2), ['x: no step seen']);
  assert.deepEqual(extraLines({ also: [{ what: 'private memory added', unit: 'KiB', measured: 28, spread: [27, 30] }] }, f2),
    ['private memory added: 28 KiB (10th-90th percentile 27-30)']);
  assert.deepEqual(extraLines({ probe: { p50_ms: 1.5, p99_ms: 413 } }, f2), ['probe latency p50 1.5 ms, p99 413 ms']);
  assert.deepEqual(extraLines({ probe: null, evidence: [] }, f2), []);
});

test('the kernel evidence of each variant side by side', () => {
  const t = evidenceTable([
    { label: 'unpinned', evidence: [{ label: 'worker migrations', counter: true, delta: 3, after: 40 },
      { label: 'worker cores', counter: false, after: [0, 1] }] },
    { label: 'pinned', evidence: [{ label: 'worker migrations', counter: true, delta: 1, after: 41 },
      { label: 'worker cores', counter: false, after: [1, 0] }] },
    { label: 'fixture', evidence: {} }], (v) => (Array.isArray(v) ? v.join(', ') : f2(v)));
  assert.deepEqual(t.head.slice(1), ['unpinned', 'pinned']);
  assert.deepEqual(t.rows, [['worker migrations', '+3', '+1'], ['worker cores', '0, 1', '1, 0']]);
});

import { seriesSets } from '../../www/lab-model.js';
import { setupText, settingsWords } from '../../www/lab-text.js';

test('settings in words: no "0 processes", the slice only in coro mode', () => {
  assert.equal(settingsWords({ mode: 'pool', threads: 3, worker_cpus: '0-1', pin: false, coro_slice_ms: 0, processes: 0 }),
    'pool, 3 workers, on CPUs 0-1, not pinned, one process');
  assert.equal(settingsWords({ mode: 'coro', threads: 2, coro_slice_ms: 1 }), 'coro, 2 workers, a coroutine yields every 1 ms of CPU');
  assert.equal(settingsWords({ mode: 'coro', threads: 2, coro_slice_ms: 0 }), 'coro, 2 workers, a coroutine never yields');
  assert.equal(setupText({ mode: 'pool', threads: 4, cpus: 'first', pin: false }), 'pool, 4 workers, on the first CPU, not pinned');
  assert.equal(setupText({ threads: 'cores', processes: 2 }), 'a worker per core, 2 worker processes');
});

test('the runs chart has a labelled line per variant', () => {
  const t = seriesSets(fx.run);
  assert.deepEqual(t.labels, ['1 s', '2 s', '3 s']);
  assert.deepEqual(t.sets.map((d) => d.label), ['cpus=0', 'all CPUs']);
  assert.deepEqual(seriesSets({ id: 'old', series: [1, null] }).sets, [{ label: 'old', data: [1, null] }]);
});

import { alsoGroups } from '../../www/lab-model.js';

test('the memory beside process-costs\' variants gets its own chart, its own unit', () => {
  const g = alsoGroups([
    { label: 'thread: pthread_create', unit: 'us', also: [{ what: 'private memory added', as: 'a thread', unit: 'KiB', measured: 8 }] },
    { label: 'process: fork', unit: 'us', also: [{ what: 'private memory added', as: 'a process', unit: 'KiB', measured: 28 }] }]);
  assert.deepEqual(g, [{ unit: 'KiB', title: 'private memory added', labels: ['a thread', 'a process'], measured: [8, 28], predicted: [null, null] }]);
  assert.deepEqual(alsoGroups([{ unit: 'req/s' }]), []);
});

/* ---- lead: a bound is not a prediction of its threshold ---- */
import { predictedWords } from '../../www/lab-model.js';

test('a bound reads "more than" or "at most", never a prediction of 0', () => {
  assert.equal(predictedWords({ predicted: 0, formula: 'greater_than' }, f2), 'more than 0');
  assert.equal(predictedWords({ predicted: 0, formula: 'at_most' }, f2), 'at most 0');
  assert.equal(predictedWords({ predicted: 200, formula: 'cpu_bound' }, f2), '200');
  assert.equal(predictedWords({ predicted: null, formula: 'greater_than' }, f2), null);
  assert.equal(figureLine({ measured: 39413, predicted: 0, formula: 'greater_than', unit: 'req/s' }, f2),
    'measured 39413 req/s · predicted more than 0');
});
