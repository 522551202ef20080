/* mutaudit4: behaviours of the Lab's labels and the shared-memory chart
 * that the first tests left open (each kills a mutant in tests/www/mutants). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wrapLabel } from '../../www/lab-text.js';
import { seriesBars, seriesFrame } from '../../www/shared-model.js';

test('wrapLabel: runs of spaces and spaces at the ends are one break, never part of a line', () => {
  assert.equal(wrapLabel('  all   CPUs '), 'all CPUs');
  assert.deepEqual(wrapLabel('4 workers\ton  the first CPU'), ['4 workers on the', 'first CPU']);
  assert.equal(wrapLabel('   '), '');
});

test('seriesFrame: a chart whose periods only lost the other way still says updates were lost', () => {
  /* lost < 0: a stale write raised the counter (a value read before
   * another thread's late write, written back): updates were lost all
   * the same, not "no update lost". */
  const f = seriesFrame([{ seq: 1, lost: -40, increments: 1000 }, { seq: 2, lost: -5, increments: 1000 }], 500, 120);
  assert.equal(f.empty, null);
  assert.equal(f.top, '40 lost');
});

test('seriesBars: an empty chart keeps its axis at the bottom, where the first bars will stand', () => {
  const empty = seriesBars([], 600, 90, 120);
  assert.equal(empty.base, 90);
  const one = seriesBars([{ seq: 1, lost: 3, increments: 10 }], 600, 90, 120);
  assert.equal(one.base, empty.base);
  assert.equal(one.bars[0].y + one.bars[0].height, one.base);
});
