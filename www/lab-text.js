/*
 * The Lab panel's words and figures (no DOM): an experiment's setup and
 * prediction, a run's progress, the evidence values.
 */

/* Plain figures (no thousands separator): 2 decimals under 10, 1 under
 * 100, none above; digits forces a count. 'n/a' for what is not a number. */
export function labNum(v, digits) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return 'n/a';
  const d = digits === undefined ? (Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2) : digits;
  return v.toFixed(d);
}

/* Any evidence value: numbers as labNum, lists joined, null as n/a. */
export function show(v) {
  if (v === null || v === undefined) return 'n/a';
  if (Array.isArray(v)) return v.map(show).join(', ');
  if (typeof v === 'number') return labNum(v);
  return String(v);
}

/* { mode: 'pool', threads: 4 } -> "mode pool, threads 4" */
export function setupText(s) {
  if (!s) return '';
  return ['mode', 'threads', 'cpus', 'pin', 'processes'].filter((k) => s[k] !== undefined)
    .map((k) => `${k} ${s[k]}`).join(', ');
}

export function predictionText(x) {
  if (x.predicted === null || x.predicted === undefined) return 'qualitative';
  return `${x.bound ? '> ' : ''}${labNum(x.predicted)}${x.measured === 'rps' ? ' req/s' : ''}`;
}

export function progressText(p) {
  return `${p.id}: ${labNum(p.elapsed_s, 1)} s, ${labNum(p.left_s, 1)} s left, ` +
    `${labNum(p.rps_so_far)} req/s so far (server counters)`;
}

/* Percent of the run done, 0..100. */
export function progressPct(p) {
  const total = p.elapsed_s + p.left_s;
  return total > 0 ? Math.min(100, (100 * p.elapsed_s) / total) : 0;
}
