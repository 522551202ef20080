#!/usr/bin/env node
// Browser test of the Threads table's chosen columns (thread-table.js
// setColumns, what the Lab's focused view uses): with a few columns chosen
// the name stays first, each row has as many cells as the head, the line
// above the table says what was left out, and the column the table is
// sorted by keeps its marker; back to all columns, the line is hidden.
// Calls the dashboard's own module instance (the same URL as main.js
// imports), not a copy.
//
// usage (from the source tree): THREADLAB_BIN=build/threadlab node tests/browser/columns-test.mjs

import { startServer, launchBrowser, results, waitInPage } from './lib.mjs';

const r = results();
const srv = await startServer(['--mode', 'pool', '--threads', '2', '--sample-ms', '200']);
let browser = null;
try {
  browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (e) => r.check(false, 'no page exception', String(e)));
  await page.goto(`http://127.0.0.1:${srv.admin}/`);
  const rows = await waitInPage(page, () => document.querySelectorAll('#threads-body tr[data-tid]').length || null, null, 20000);
  r.check(rows >= 3, 'the Threads table has rows', String(rows));
  const table = () => {
    const heads = [...document.querySelectorAll('#threads-table thead th.sortable')];
    const row = document.querySelector('#threads-body tr[data-tid]');
    const line = document.getElementById('threads-cols');
    return { keys: heads.map((h) => h.getAttribute('data-key')),
      sorted: heads.filter((h) => h.classList.contains('sorted-asc') || h.classList.contains('sorted-desc')).map((h) => h.getAttribute('data-key')),
      cells: row ? [...row.children].map((td) => td.getAttribute('data-col')) : [],
      line: line.hidden ? null : line.textContent };
  };
  const all = await page.evaluate(table);
  r.check(all.keys.length === 16 && all.keys[0] === 'name' && all.line === null, 'all 16 columns at first, no line', all.keys.join(','));
  /* Sorted by CPU % (a click on its head), then only three columns. */
  await page.click('#threads-table thead th.sortable[data-key="cpu_pct"]');
  const before = await page.evaluate(table);
  r.check(before.sorted.length === 1 && before.sorted[0] === 'cpu_pct', 'a click sorts by CPU %', before.sorted.join(','));
  const out = await page.evaluate(async () => (await import('./thread-table.js')).setColumns(['core', 'state', 'cpu_pct'], 'the test\'s three'));
  const few = await waitInPage(page, (n) => {
    const heads = document.querySelectorAll('#threads-table thead th.sortable').length;
    const row = document.querySelector('#threads-body tr[data-tid]');
    return heads === n && row && row.children.length === n ? true : null;
  }, 4, 5000);
  const t = await page.evaluate(table);
  r.check(out === 12 && few === true, 'three columns chosen: the name and those three, twelve left out', `${out} left out; ${t.keys.join(',')}`);
  r.check(t.keys.join(',') === 'name,core,state,cpu_pct' && t.cells.join(',') === t.keys.join(','),
    'the name first, then the chosen columns in the table\'s order; each row has the same cells', `${t.keys.join(',')} | ${t.cells.join(',')}`);
  r.check(t.line !== null && t.line.startsWith('4 of 16 columns: the test\'s three; left out here: ') && /allowed/.test(t.line) && !/: name\b|, name\b/.test(t.line),
    'the line says how many, why, and what is left out (not the name)', String(t.line));
  r.check(t.sorted.length === 1 && t.sorted[0] === 'cpu_pct', 'the table is still marked sorted by CPU %', t.sorted.join(',') || 'no marker');
  await page.evaluate(async () => (await import('./thread-table.js')).setColumns(null));
  const back = await page.evaluate(table);
  r.check(back.keys.length === 16 && back.line === null && back.sorted.join(',') === 'cpu_pct',
    'back to all columns: the line hidden, still sorted by CPU %', `${back.keys.length} · ${back.line} · ${back.sorted.join(',')}`);
} catch (e) {
  r.check(false, 'test ran to the end', String(e && e.stack || e));
} finally {
  if (browser) await browser.close();
  await srv.stop();
}
r.finish();
