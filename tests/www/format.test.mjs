// Unit tests of www/format.js, www/fragment.js and www/lab-text.js (no DOM): node --test tests/www/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fmt, fmtPct, fmtBytes, fmtDuration, fmtMs, fmtBoundMs, ceil2, get, isNum, NA } from '../../www/format.js';
import { parseFragment, formatFragment } from '../../www/fragment.js';
import { labNum, show, setupText, predictionText, progressPct, wrapLabel, legendText } from '../../www/lab-text.js';

test('numbers: thousands separators, n/a for what is not a finite number', () => {
  assert.equal(fmt(1234567), '1,234,567');
  assert.equal(fmt(3.14159, 2), '3.14');
  assert.equal(fmt(null), NA);
  assert.equal(fmt(Infinity), NA);
  assert.equal(fmtPct(12.34), '12.3%');
  assert.equal(isNum(NaN), false);
});

test('bytes and durations in the unit that fits', () => {
  assert.equal(fmtBytes(512), '512 B');
  assert.equal(fmtBytes(2048), '2 KiB');
  assert.equal(fmtBytes(3 * 1048576), '3.0 MiB');
  assert.equal(fmtDuration(59.9), '59s');
  assert.equal(fmtDuration(61), '1m 01s');
  assert.equal(fmtDuration(3723), '1h 02m 03s');
  assert.equal(fmtMs(0.85), '850 µs');
  assert.equal(fmtMs(12.34), '12.3 ms');
  assert.equal(fmtMs(1250), '1.25 s');
});

test('histogram edges shown as bounds, rounded up so they stay bounds', () => {
  assert.equal(fmtBoundMs(40.959), '≤ 41 ms');
  assert.equal(fmtBoundMs(0.0063), '≤ 6.3 µs');
  assert.equal(ceil2(40.1), 41);
  assert.ok(ceil2(1.234) >= 1.234);
});

test('get reads optional paths', () => {
  assert.equal(get({ a: { b: 3 } }, ['a', 'b']), 3);
  assert.equal(get({ a: null }, ['a', 'b']), null);
  assert.equal(get({}, ['x']), null);
});

test('the URL fragment round-trips a task and the pause', () => {
  assert.deepEqual(parseFragment('#task=12&paused'), { task: '12', paused: true });
  assert.deepEqual(parseFragment(''), {});
  assert.equal(formatFragment(12, true), '#task=12&paused');
  assert.equal(formatFragment(null, false), '');
  assert.equal(formatFragment(7, false), '#task=7');
});

test('lab texts', () => {
  assert.equal(labNum(1234.5), '1,235');
  assert.equal(labNum(0), '0');
  assert.equal(labNum(39413), '39,413');
  assert.equal(labNum(2.5, 1), '2.5');
  assert.equal(labNum(12.34), '12.3');
  assert.equal(labNum(1.234), '1.23');
  assert.equal(labNum('x'), 'n/a');
  assert.equal(show([1, null, 'a', 0.5]), '1, n/a, a, 0.50');
  assert.equal(setupText({ mode: 'pool', threads: 4 }), 'pool, 4 workers');
  assert.equal(predictionText({ predicted: 500, bound: true, measured: 'rps' }), '> 500 req/s');
  assert.equal(predictionText({ predicted: null }), 'qualitative');
  assert.equal(progressPct({ elapsed_s: 1, left_s: 3 }), 25);
  assert.equal(progressPct({ elapsed_s: 0, left_s: 0 }), 0);
});

test('lab: a bar\'s label on lines of about 16 characters', () => {
  assert.deepEqual(wrapLabel('4 workers on the first CPU'), ['4 workers on the', 'first CPU']);
  assert.equal(wrapLabel('all CPUs'), 'all CPUs');
  assert.deepEqual(wrapLabel('race:5000000-steps-everywhere now', 10), ['race:5000000-steps-everywhere', 'now']);
  assert.equal(wrapLabel(''), '');
});

test('a Lab legend entry is cut to the chart\'s width at a word, never clipped at both ends', () => {
  const long = 'one process, 4 workers (child server, --allow-deadlock)';
  const t = legendText(long, 230);
  assert.equal(t, 'one process, 4 workers (child…');
  assert.ok(t.length * 6.5 <= 230, `${t.length} characters in 230 px`);
  assert.equal(legendText('--processes 2, 4 workers each (child server)', 230), '--processes 2, 4 workers each…');
  assert.equal(legendText('2 workers', 230), '2 workers');
  assert.equal(legendText(long, 2000), long);
});
