#!/usr/bin/env node
// Browser test of a dashboard that fits and does not mislead, under load
// (wrk against the workload port), in a 1,320 px wide window:
//  - the thread table's scroll width is at most its box, the name column
//    is sticky, a click on a name opens its totals;
//  - "doing now" draws idle in the idle hue, never the crimson of
//    "ready, waiting for a core";
//  - a followed task's card lists every step (a coro task: with the stack
//    column, not clipped), and a step the page never saw is named as such;
//  - the charts show the last 60 s by default, 5 min on demand, a log
//    scale on demand, and draw a line per core and per worker.
// Screenshots (TL_SHOTS, default tests/) for a person to look at.
//
// usage (from the source tree): THREADLAB_BIN=build/threadlab node tests/browser/fit-test.mjs

import { startServer, launchBrowser, strictPage, results, waitInPage, startWrk, keepShot } from './lib.mjs';

const SHOTS = process.env.TL_SHOTS || 'tests';
const r = results();
const srv = await startServer(['--mode', 'coro', '--threads', '4', '--sample-ms', '250']);
let browser = null, wrk = null;
try {
  wrk = await startWrk(['-t1', '-c8', '-d60s', `http://127.0.0.1:${srv.port}/task?steps=cpu:1,io:20,cpu:1`]);
  browser = await launchBrowser();
  const page = await strictPage(browser, r);
  await page.setViewportSize({ width: 1320, height: 900 });
  await page.goto(`http://127.0.0.1:${srv.admin}/`);
  await waitInPage(page, () => window.tlDashboard && window.tlDashboard.snapshots > 4, null, 40000);

  /* the table fits its box */
  const fit = await page.evaluate(() => {
    const wrap = document.querySelector('#threads-body').closest('.table-wrap');
    const name = document.querySelector('#threads-body tr[data-tid] td.name');
    return { scrollW: wrap.scrollWidth, boxW: wrap.clientWidth, rows: document.querySelectorAll('#threads-body tr[data-tid]').length,
      sticky: name ? getComputedStyle(name).position : null, viewport: window.innerWidth };
  });
  r.check(fit.rows > 0 && fit.scrollW <= fit.boxW, `the thread table fits its box at ${fit.viewport} px`,
    `scroll width ${fit.scrollW} px, box ${fit.boxW} px, ${fit.rows} rows`);
  r.check(fit.sticky === 'sticky', 'the name column is sticky', fit.sticky);
  await keepShot(page, { path: `${SHOTS}/fit-threads.png`, clip: await page.$eval('#panel-threads', (e) => {
    const b = e.getBoundingClientRect(); return { x: b.x, y: b.y + window.scrollY, width: b.width, height: Math.min(b.height, 700) }; }), fullPage: true });

  /* a click on a name opens its totals */
  const tid = await page.$eval('#threads-body tr.role-worker', (tr) => tr.getAttribute('data-tid'));
  await page.click(`#threads-body tr[data-tid="${tid}"] td.name`);
  const details = await waitInPage(page, (t) => {
    const tr = document.querySelector(`#threads-body tr[data-tid="${t}"]`);
    const next = tr && tr.nextElementSibling;
    return next && next.classList.contains('details') ? next.textContent : null;
  }, tid);
  r.check(details !== null && /^tid \d+ · role worker · index \d+ · user s [0-9.,]+ .*involuntary switches [0-9,]+ .*tasks [0-9,]+ · steps [0-9,]+$/.test(details),
    'a click on a worker\'s name opens its totals', details);
  const fitOpen = await page.evaluate(() => {
    const wrap = document.querySelector('#threads-body').closest('.table-wrap');
    return [wrap.scrollWidth, wrap.clientWidth];
  });
  r.check(fitOpen[0] <= fitOpen[1], 'with the totals open the table still fits', fitOpen.join(' <= '));

  /* idle is drawn in the idle hue */
  const idle = await page.evaluate(() => [...document.querySelectorAll('#threads-body td[data-col="doing"] span')]
    .filter((sp) => /^idle$/.test(sp.textContent)).map((sp) => sp.className));
  r.check(idle.every((c) => c === 's-idle'), '"idle" in the doing-now column is drawn in the idle hue', idle.join(',') || 'no idle thread now');

  /* a task card with all its steps (coro: with its stack) */
  const res = await fetch(`http://127.0.0.1:${srv.port}/task?steps=cpu:2,io:30,cpu:2,io:30,cpu:2`);
  const body = await res.json();
  const id = Number(res.headers.get('x-task-id'));
  await page.evaluate((t) => window.tlDashboard.findTask(t), id);
  const card = await waitInPage(page, (t) => {
    const c = window.tlDashboard.taskCard();
    const el = document.getElementById('task-card');
    return c && c.id === t && c.steps.length === 5 ? { c, scrollW: el.scrollWidth, boxW: el.clientWidth,
      text: el.textContent, rows: el.querySelectorAll('tr[data-step]').length } : null;
  }, id);
  r.check(card !== null && card.c.missing.length === 0 && card.rows === 5 && card.c.steps.map((s) => s.step).join() === '0,1,2,3,4',
    `the card of task ${id} lists all its 5 steps`, card ? `${card.rows} rows, missing ${card.c.missing}` : 'not all steps');
  r.check(card !== null && card.text.includes(body.steps[0].stack) && card.scrollW <= card.boxW,
    'the card shows the stack column, not clipped', card ? `${card.scrollW} <= ${card.boxW}` : '');
  await keepShot(page, { path: `${SHOTS}/fit-task-card.png` });

  /* a step the page never saw: named, not silently left out */
  const gap = await page.evaluate(async () => {
    const m = await import('/task-card.js');
    const big = 2 ** 40;
    m.ingestSteps({ timeline: { steps: [{ task: big, step: 2, tid: 1, kind: 'cpu', start_ms: 1, end_ms: 2, cpu_us: 900 }] } });
    const c = await window.tlDashboard.findTask(big);
    return { missing: c.missing, text: document.getElementById('task-card').textContent };
  });
  r.check(gap.missing.join() === '0,1' && gap.text.includes('step 0 not seen (fell out of the window)') &&
    gap.text.includes('step 1 not seen (fell out of the window)'), 'steps never seen are named on the card', gap.missing.join());
  await page.evaluate(() => window.tlDashboard.findTask(null));

  /* charts: 60 s, 5 min on demand, log on demand, per-core and per-worker lines */
  const c0 = await page.evaluate(() => window.tlCharts);
  const ncpu = await page.evaluate(() => (window.tlDashboard.snapshot.cores || []).length);
  r.check(c0.windowMs === 60000 && !c0.log, 'the charts show the last 60 s, linear, by default', `${c0.windowMs} ms, log ${c0.log}`);
  const lines = await waitInPage(page, (n) => (window.tlCharts.cores === n && window.tlCharts.workers === 4
    ? `${window.tlCharts.cores} cores, ${window.tlCharts.workers} workers` : null), ncpu);
  r.check(lines !== null, `a line per core (${ncpu}) and per worker (4)`, lines || JSON.stringify([c0.cores, c0.workers]));
  await page.selectOption('#charts-window', '300000');
  await page.selectOption('#charts-scale', 'log');
  const c1 = await waitInPage(page, () => (window.tlCharts.windowMs === 300000 && window.tlCharts.log ? window.tlCharts : null));
  const yType = await page.evaluate(() => window.Chart.getChart(document.getElementById('chart-rps')).options.scales.y.type);
  r.check(c1 !== null && yType === 'logarithmic', '5 min and log scale on demand', `window ${c1 && c1.windowMs}, y ${yType}`);
  await page.selectOption('#charts-scale', 'linear');
  await page.selectOption('#charts-window', '60000');
  await keepShot(page, { path: `${SHOTS}/fit-charts.png`, clip: await page.$eval('#panel-charts', (e) => {
    const b = e.getBoundingClientRect(); return { x: b.x, y: b.y + window.scrollY, width: b.width, height: b.height }; }), fullPage: true });
} catch (e) {
  r.check(false, 'test ran to the end', String(e && e.stack || e));
} finally {
  if (wrk) await wrk.stop();
  if (browser) await browser.close();
  await srv.stop();
}
r.finish();
