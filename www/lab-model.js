/*
 * The Lab's focused run view, its logic without DOM (unit-tested under
 * Node): which panels hold an experiment's evidence, where each variant of
 * a run stands (from the stream's `lab` progress events), the variants'
 * figures grouped one unit per chart, a variant's evidence in words, the
 * figures beside the measured one (a step's wall-time spread, the memory
 * a unit adds), the kernel's evidence side by side per variant, the
 * expected length of "Run all",
 * and the bounded buffer of snapshots a finished run is replayed from.
 */

/* The dashboard's panels (their section ids) that show each idea's
 * evidence while it runs. Unknown ids get the lanes: every experiment is
 * about threads on cores. */
const EVIDENCE = {
  scheduler: ['panel-lanes', 'panel-threads'],
  'one-core': ['panel-lanes', 'panel-threads'],
  pin: ['panel-lanes', 'panel-threads'],
  'async-io': ['panel-timeline', 'panel-processes'],
  'blocking-loop': ['panel-timeline', 'panel-processes'],
  'hybrid-suspend': ['panel-threads', 'panel-timeline'],
  coro: ['panel-threads', 'panel-coro'],
  'coro-no-yield': ['panel-threads', 'panel-coro'],
  'crash-isolation': ['panel-processes'],
  'process-threads': ['panel-threads', 'panel-processes'],
  'process-costs': ['panel-costs', 'panel-processes'],
  race: ['panel-shared', 'panel-lanes'],                  // shared2: the lost series
  'lock-contention': ['panel-shared', 'panel-threads'],   // shared2: holder, waiters, lock waits
};
const DEFAULT_EVIDENCE = ['panel-lanes', 'panel-threads'];

/* The Threads table in the focused view (half the width): besides the
 * name, the columns an experiment's evidence is in. */
const THREAD_COLUMNS = {
  scheduler: ['core', 'state', 'doing', 'on_cpu_pct', 'runq_wait_pct', 'ctx_voluntary_rate', 'ctx_involuntary_rate', 'cpu_pct'],
  'one-core': ['core', 'allowed', 'state', 'on_cpu_pct', 'runq_wait_pct', 'ctx_involuntary_rate', 'cpu_pct', 'tasks_rate'],
  pin: ['core', 'allowed', 'migrations_rate', 'state', 'on_cpu_pct', 'runq_wait_pct', 'cpu_pct', 'tasks_rate'],
  'hybrid-suspend': ['state', 'doing', 'on_cpu_pct', 'cpu_pct', 'busy_pct', 'tasks_rate', 'tasks_in_flight'],
  coro: ['state', 'doing', 'on_cpu_pct', 'ctx_voluntary_rate', 'cpu_pct', 'coro_switches_rate', 'tasks_rate'],
  'coro-no-yield': ['state', 'doing', 'on_cpu_pct', 'ctx_voluntary_rate', 'cpu_pct', 'coro_switches_rate', 'tasks_rate'],
  'process-threads': ['core', 'state', 'doing', 'on_cpu_pct', 'cpu_pct', 'tasks_rate'],
  'lock-contention': ['state', 'doing', 'on_cpu_pct', 'runq_wait_pct', 'ctx_voluntary_rate', 'cpu_pct', 'tasks_rate'],
};
const DEFAULT_THREAD_COLUMNS = ['core', 'state', 'doing', 'on_cpu_pct', 'runq_wait_pct', 'ctx_voluntary_rate',
  'ctx_involuntary_rate', 'cpu_pct', 'tasks_rate'];

export function threadColumns(id) {
  return (THREAD_COLUMNS[id] || DEFAULT_THREAD_COLUMNS).slice();
}

/* Panels that describe this server only: while a variant runs in a child
 * server they would show an idle server beside the run (this server's
 * single process, 0 requests; the lanes trace this server's threads, not
 * the child's), so the child's panel replaces them. */
const THIS_SERVER_ONLY = ['panel-processes', 'panel-threads', 'panel-shared', 'panel-lanes'];

/* x (optional): the experiment; when one of its variants runs in a child
 * server, the child's panel comes first. */
export function evidencePanels(id, x) {
  const ids = (EVIDENCE[id] || DEFAULT_EVIDENCE).slice();
  const vs = x && Array.isArray(x.variants) ? x.variants : [];
  if (!vs.some((v) => v && v.needs_child)) return ids;
  return ['panel-lab-child', ...ids.filter((p) => !THIS_SERVER_ONLY.includes(p))];
}

/* An experiment's variants, or null when the server has none (an older
 * observer: one run per experiment, restart-needing ones not runnable). */
export function variantsOf(x) {
  return x && Array.isArray(x.variants) && x.variants.length ? x.variants : null;
}

/* Can the page start x? With variants everything runs (the lab starts a
 * child server where a restart is needed); without, not what needs one. */
export function runnable(x) {
  return !!variantsOf(x) || !x.needs_restart;
}

const PHASES = ['setup', 'load', 'restore', 'done'];

/* Where each variant stands, from the experiment's variants and the last
 * progress event p (null before the first): one row per variant,
 * { id, label, state: 'waiting'|'running'|'done', phase, left_s, pct, rps
 * (the running one's req/s so far) }.
 * Variants before p.variant are done, after it waiting. */
export function variantProgress(variants, p) {
  const n = variants.length;
  const cur = p && Number.isInteger(p.variant) ? p.variant : -1;
  const finished = p && p.phase === 'done' && cur >= n - 1;
  return variants.map((v, i) => {
    const row = { id: v.id, label: v.label, state: 'waiting', phase: null, left_s: null, pct: 0 };
    if (finished || i < cur) return { ...row, state: 'done', phase: 'done', left_s: 0, pct: 100 };
    if (i === cur) {
      const phase = PHASES.includes(p.phase) ? p.phase : 'load';
      const el = typeof p.elapsed_s === 'number' ? p.elapsed_s : 0;
      const left = typeof p.left_s === 'number' ? Math.max(0, p.left_s) : null;
      const pct = phase === 'done' ? 100 : phase === 'setup' ? 0
        : phase === 'restore' ? 100 : left !== null && el + left > 0 ? Math.min(100, (100 * el) / (el + left)) : 0;
      return { ...row, state: phase === 'done' ? 'done' : 'running', phase, left_s: phase === 'done' ? 0 : left, pct,
        rps: typeof p.rps_so_far === 'number' ? p.rps_so_far : null };
    }
    return row;
  });
}

/* The variants' figures, one chart per unit (req/s never shares an axis
 * with ms or a ratio): [{ unit, labels, measured, predicted }], in the
 * order the units first appear. Ratios are not charted: they are words. */
const BOUNDS = ['greater_than', 'at_most'];

export function chartGroups(variants) {
  const groups = new Map();
  for (const v of variants || []) {
    const unit = v.unit || '(no unit)';
    if (!groups.has(unit)) groups.set(unit, { unit, labels: [], measured: [], predicted: [] });
    const g = groups.get(unit);
    g.labels.push(v.label || v.id);
    g.measured.push(typeof v.measured === 'number' ? v.measured : null);
    /* A bound ("more than 0") drawn as a predicted bar read as "predicted 0". */
    g.predicted.push(typeof v.predicted === 'number' && !BOUNDS.includes(v.formula) ? v.predicted : null);
  }
  return [...groups.values()];
}

/* The figures measured beside each variant's (a variant's also[], e.g.
 * the private memory a thread and a process add): a chart per figure,
 * one bar per variant named as the figure names it ("a thread"). */
export function alsoGroups(variants) {
  const groups = [];
  (variants || []).forEach((v) => {
    (Array.isArray(v.also) ? v.also : []).forEach((a, k) => {
      if (!groups[k]) groups[k] = { unit: a.unit || '(no unit)', title: a.what, labels: [], measured: [], predicted: [] };
      groups[k].labels.push(a.as || v.label || v.id);
      groups[k].measured.push(typeof a.measured === 'number' ? a.measured : null);
      groups[k].predicted.push(null);
    });
  });
  return groups.filter(Boolean);
}

/* The runs list as bars, one chart per unit too: a run with variants
 * gives one bar per variant ("#3 one-core: cpus=0"), one without gives
 * one bar with the unit its experiment measures. */
export function runsChartGroups(runs, limit = 8) {
  const flat = [];
  for (const r of runs.filter((x) => x.status === 'done').slice(-limit)) {
    if (Array.isArray(r.variants) && r.variants.length) {
      for (const v of r.variants) flat.push({ ...v, label: `#${r.run} ${r.id}: ${v.label || v.id}` });
    } else {
      flat.push({ label: `#${r.run} ${r.id}`, measured: r.measured, predicted: r.predicted,
        unit: r.unit || (r.measured_what === 'rps' ? 'req/s' : null) });
    }
  }
  return chartGroups(flat);
}

/* A variant's evidence object as short "name value" parts: a number or
 * list as it is, { before, after } as "before -> after", null as n/a;
 * fmt formats one value. Other objects are left out (no "[object]"). */
export function evidenceParts(ev, fmt) {
  if (!ev || typeof ev !== 'object' || Array.isArray(ev)) return [];
  const parts = [];
  for (const [k, v] of Object.entries(ev)) {
    const name = k.replace(/_/g, ' ');
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      if ('before' in v || 'after' in v) parts.push(`${name} ${fmt(v.before)} → ${fmt(v.after)}`);
    } else {
      parts.push(`${name} ${fmt(v)}`);
    }
  }
  return parts;
}

/* A unit as written after a figure: "us" as µs, "%" glued. */
export function unitText(u) {
  if (!u) return '';
  if (u === '%') return '%';
  return ` ${u === 'us' ? 'µs' : u}`;
}

/* A variant's predicted figure in words: a bound is not a prediction of
 * its threshold ("more than 0", "at most 0"), fmt formats the figure. */
export function predictedWords(v, fmt) {
  if (v.predicted === null || v.predicted === undefined) return null;
  const how = { greater_than: 'more than ', at_most: 'at most ' }[v.formula] || '';
  return `${how}${fmt(v.predicted)}`;
}

/* A variant's figure line, its unit once (after the measured figure):
 * "measured 80.1 req/s · predicted 400 · ratio 0.20", with the 10th-90th
 * percentile spread of a repeated measurement. fmt formats one figure. */
export function figureLine(v, fmt) {
  const u = unitText(v.unit);
  const sp = Array.isArray(v.spread) && v.spread.length === 2
    ? ` (10th-90th percentile ${fmt(v.spread[0])}-${fmt(v.spread[1])})` : '';
  const pw = predictedWords(v, fmt);
  const pred = pw === null ? 'no figure predicted' : `predicted ${pw}`;
  const measured = v.measured === null || v.measured === undefined ? 'no figure measured' : `measured ${fmt(v.measured)}${u}${sp}`;
  return `${measured} · ${pred}${typeof v.ratio === 'number' ? ` · ratio ${v.ratio.toFixed(2)}` : ''}`;
}

/* The figures a variant has beside its measured one, as lines: its
 * probe's latency, a step's wall time p10/p50/p90 (pin), what it adds
 * in memory (process-costs). */
export function extraLines(v, fmt) {
  const out = [];
  const p = v && v.probe;
  if (p && typeof p === 'object' && (typeof p.p50_ms === 'number' || typeof p.p99_ms === 'number')) {
    out.push(`probe latency p50 ${fmt(p.p50_ms)} ms, p99 ${fmt(p.p99_ms)} ms`);
  }
  const st = v && v.steps;
  if (st && typeof st === 'object') {
    const q = [st.p10, st.p50, st.p90];
    out.push(q.every((x) => typeof x === 'number')
      ? `${st.what || "a step's wall time"}: p10 ${fmt(q[0])} · p50 ${fmt(q[1])} · p90 ${fmt(q[2])}${unitText(st.unit)}`
      : `${st.what || "a step's wall time"}: no step seen`);
  }
  for (const a of Array.isArray(v && v.also) ? v.also : []) {
    const sp = Array.isArray(a.spread) ? ` (10th-90th percentile ${fmt(a.spread[0])}-${fmt(a.spread[1])})` : '';
    out.push(`${a.what}: ${typeof a.measured === 'number' ? `${fmt(a.measured)}${unitText(a.unit)}${sp}` : 'not measured'}`);
  }
  return out;
}

/* The kernel's evidence of every variant side by side: { head: ['kernel
 * evidence', label...], rows: [[evidence label, cell...]] }, a cell the
 * change during the load for a counter ("+388"), else the value during
 * it; only the evidence arrays of /lab/runs (label, after, delta). */
export function evidenceTable(variants, fmt) {
  const vs = (variants || []).filter((v) => Array.isArray(v.evidence));
  const labels = [];
  for (const v of vs) for (const e of v.evidence) if (!labels.includes(e.label)) labels.push(e.label);
  const cell = (e) => {
    if (!e) return '';
    if (e.counter) return typeof e.delta === 'number' ? `${e.delta >= 0 ? '+' : ''}${fmt(e.delta)}` : 'n/a';
    return fmt(e.after);
  };
  return {
    head: ['kernel evidence (during the load; + = change)', ...vs.map((v) => v.label || v.id)],
    rows: labels.map((l) => [l, ...vs.map((v) => cell(v.evidence.find((e) => e.label === l)))]),
  };
}

/* The runs chart's lines: each variant's req/s per second, labelled
 * (a run without variants: its own series). { labels: ['1 s', ...],
 * sets: [{ label, data }] }. */
export function seriesSets(r) {
  const vs = r && Array.isArray(r.variants) && r.variants.length ? r.variants
    : [{ label: r && r.id ? r.id : 'req/s', series: r && r.series }];
  const sets = vs.filter((v) => Array.isArray(v.series) && v.series.length)
    .map((v) => ({ label: v.label || v.id, data: v.series.map((y) => (typeof y === 'number' ? y : null)) }));
  const n = Math.max(0, ...sets.map((d) => d.data.length));
  return { labels: Array.from({ length: n }, (_, i) => `${i + 1} s`), sets };
}

/* Seconds "Run all" is expected to take: each variant's load plus a
 * setup/restore allowance (a child server's start counts more). */
export function runAllSeconds(experiments, perVariantOverhead = 2, childOverhead = 3) {
  let total = 0;
  for (const x of experiments) {
    const load = x.load && typeof x.load.duration_s === 'number' ? x.load.duration_s : 0;
    const vs = variantsOf(x) || [{}];
    for (const v of vs) total += load + perVariantOverhead + (v.needs_child ? childOverhead : 0);
  }
  return total;
}

/* A verdict's class from the run: 'ok' | 'bad' | 'none'. */
export function verdictClass(r) {
  if (r && r.verdict && typeof r.verdict === 'object') {
    return r.verdict.consistent === true ? 'ok' : r.verdict.consistent === false ? 'bad' : 'none';
  }
  return r && r.within === true ? 'ok' : r && r.within === false ? 'bad' : 'none';
}

/* The verdict's words, whichever shape the server sent. */
export function verdictText(r) {
  if (!r) return '';
  if (r.verdict && typeof r.verdict === 'object') return r.verdict.text || '';
  return typeof r.verdict === 'string' ? r.verdict : '';
}

/* Snapshots of one run, oldest first, bounded by count and by age (the
 * last maxMs of the stream): what a finished run is replayed from. */
export class ReplayBuffer {
  constructor(maxMs = 60000, maxCount = 600) {
    this.maxMs = maxMs;
    this.maxCount = maxCount;
    this.items = [];
  }

  clear() { this.items = []; }

  get length() { return this.items.length; }

  /* t: the page's clock in ms (monotonic). */
  push(t, snapshot) {
    this.items.push({ t, s: snapshot });
    const from = t - this.maxMs;
    let drop = 0;
    while (drop < this.items.length - 1 && this.items[drop].t < from) drop++;
    drop = Math.max(drop, this.items.length - this.maxCount);
    if (drop > 0) this.items.splice(0, drop);
  }

  /* Item i (clamped), or null when empty. */
  at(i) {
    if (!this.items.length) return null;
    const k = Math.max(0, Math.min(this.items.length - 1, Math.round(i)));
    return this.items[k];
  }

  /* Seconds from the first kept snapshot to item i. */
  offsetS(i) {
    const a = this.at(0), b = this.at(i);
    return a && b ? (b.t - a.t) / 1000 : 0;
  }
}
