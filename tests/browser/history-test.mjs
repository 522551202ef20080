#!/usr/bin/env node
// Browser test of the dashboard's history, events and latency bounds: a
// page opened after a load ran shows that load in its charts (pre-filled
// from the stream's first event, `history`: the page never fetches
// /stats/history), with per-route latency lines and a latency label that
// is a bound ("≤ ..."); a /control change then appears in the event log and
// as a marker on every chart, its label not overlapping another. The
// server runs with --quiet (no banner: lib.mjs finds its ports in /proc).
//
// usage (from the source tree): THREADLAB_BIN=build/threadlab node tests/browser/history-test.mjs

import http from 'node:http';
import { startServer, launchBrowser, strictPage, results, waitInPage } from './lib.mjs';

const r = results();

/* n requests for path, `conc` at a time, each on a keep-alive agent. */
async function load(port, path, n, conc) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: conc });
  let next = 0;
  const one = () => new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
  });
  await Promise.all(Array.from({ length: conc }, async () => { while (next++ < n) await one(); }));
  agent.destroy();
}

function control(admin, query) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: admin, method: 'POST', path: `/control?${query}`,
      headers: { Host: `127.0.0.1:${admin}`, 'X-Threadlab': '1', 'Content-Length': 0 } }, (res) => {
      let body = ''; res.on('data', (d) => { body += d; }); res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const srv = await startServer(['--quiet', '--mode', 'pool', '--threads', '2', '--sample-ms', '200']);
r.check(srv.output() === '' && srv.port > 0 && srv.admin > 0 && srv.port !== srv.admin,
  'a --quiet server (no banner) is started, its two ports read from /proc', `workload ${srv.port}, observer ${srv.admin}`);
let browser = null;
try {
  await load(srv.port, '/cpu?ms=2', 200, 2);
  await load(srv.port, '/plaintext', 400, 4);
  await new Promise((res) => setTimeout(res, 600));  // the load is over before the page opens
  const openedAt = Date.now();

  browser = await launchBrowser();
  const page = await strictPage(browser, r);
  const asked = [];
  page.on('request', (q) => asked.push(new URL(q.url()).pathname));
  await page.goto(`http://127.0.0.1:${srv.admin}/`);

  const preText = await waitInPage(page, () => {
    const c = window.tlCharts;
    return c && c.historyLoaded && c.points >= 5 && c.maxRps > 0 ? JSON.stringify(c) : null;
  });
  const pre = preText ? JSON.parse(preText) : null;
  r.check(pre !== null && await page.evaluate(() => window.tlDashboard.histories) >= 1,
    'the charts are pre-filled from the stream\'s history event',
    JSON.stringify(pre || await page.evaluate(() => [window.tlCharts, document.getElementById('event-log').textContent])));
  if (pre) {
    r.check(pre.firstTime < openedAt - 500, 'the first point is from before the page opened',
      `first ${pre.firstTime}, opened ${openedAt}`);
    r.check(pre.routes.includes('/cpu p99') && pre.routes.includes('/plaintext p50') && !pre.routes.some((x) => x.startsWith('/io')),
      'per-route latency lines for the routes that had requests, none for the others', pre.routes.join(', '));
  }
  const label = await waitInPage(page, () => {
    const t = document.getElementById('latency-now')?.textContent || '';
    return t.includes('p99') ? t : null;
  });
  r.check(label !== null && /p99 ≤ [0-9.,]+ (µs|ms|s)\b/.test(label) && !/\d\.\d{3}/.test(label),
    'the latency label shows bounds ("≤ 41 ms"), not bucket edges', label);
  r.check(!asked.includes('/stats/history') && asked.includes('/stats/stream'),
    'the page reads its history from the stream and never fetches /stats/history', asked.filter((x) => x.startsWith('/stats')).join(' '));
  const hist = await fetch(`http://127.0.0.1:${srv.admin}/stats/history`);
  r.check(hist.status === 200 && Array.isArray((await hist.json()).seq), 'GET /stats/history still answers');
  const loadEv = await waitInPage(page, () => [...document.querySelectorAll('#event-log li')].some((li) => /load started/.test(li.textContent)));
  r.check(loadEv === true, 'the load that ran before the page opened is in the event log');

  const before = await page.evaluate(() => window.tlCharts.markersDrawn);
  const ctl = await control(srv.admin, 'mode=async');
  r.check(ctl.status === 200, 'POST /control mode=async', `${ctl.status} ${ctl.body.trim()}`);
  const line = await waitInPage(page, () => {
    const li = [...document.querySelectorAll('#event-log li')].find((x) => x.textContent.includes('mode pool → async'));
    return li ? li.textContent : null;
  });
  r.check(line !== null && /\d\d:\d\d:\d\d/.test(line), 'the control change is a line of the event log, with its time', line);
  const marks = await waitInPage(page, () => {
    const m = window.tlCharts.markersDrawn;
    const keys = ['rps', 'latency', 'routes', 'queue', 'lag'];
    return keys.every((k) => m[k] && m[k].control >= 1) ? JSON.stringify(m) : null;
  });
  r.check(marks !== null, 'every chart draws a marker for the control change',
    marks || JSON.stringify(await page.evaluate(() => window.tlCharts.markersDrawn)));
  r.check(Object.values(before).every((m) => m.control === 0), 'no control marker before the change', JSON.stringify(before));
  /* More changes in quick succession: their markers crowd, their labels must not overlap. */
  for (const q of ['threads=3', 'threads=4', 'mode=pool', 'threads=2']) await control(srv.admin, q);
  const crowd = await waitInPage(page, () => {
    const m = window.tlCharts.markersDrawn.rps;
    return m && m.control >= 5 ? JSON.stringify(m) : null;
  });
  const boxes = crowd ? JSON.parse(crowd).boxes : [];
  const overlap = boxes.some((a, i) => boxes.some((b, j) => i < j && a[0] === b[0] && a[1] < b[2] && b[1] < a[2]));
  r.check(crowd !== null && boxes.length >= 2 && !overlap, 'five control markers close together: labels on separate rows, none overlapping',
    crowd || 'fewer than 5 markers drawn');
} catch (e) {
  r.check(false, 'test ran to the end', String(e && e.stack || e));
} finally {
  if (browser) await browser.close();
  await srv.stop();
}
r.finish();
