#!/usr/bin/env node
// Browser test of a server restart under an open page: the stream comes
// back on the same observer port, its first event (the new server's
// history) refills the charts, and nothing of the old server's past is
// kept (its points, its events) — also when the page reconnects only after
// the new server's seq and uptime passed the old one's (its pid tells). The second server reuses the port the
// first one was given by the kernel (a free port chosen for the test).
//
// usage (from the source tree): THREADLAB_BIN=build/threadlab node tests/browser/restart-test.mjs

import { startServer, launchBrowser, strictPage, results, waitInPage, sleep } from './lib.mjs';

const r = results();
let srv = await startServer(['--mode', 'pool', '--threads', '2', '--sample-ms', '200']);
const admin = srv.admin;
let browser = null;
try {
  browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1320, height: 900 } });
  page.on('pageerror', (e) => r.check(false, 'no page exception', String(e)));
  await page.goto(`http://127.0.0.1:${admin}/`);
  await fetch(`http://127.0.0.1:${admin}/control?mode=async`, { method: 'POST', headers: { 'X-Threadlab': '1' } });
  const before = await waitInPage(page, () => (window.tlCharts && window.tlCharts.points >= 15 &&
    [...document.querySelectorAll('#event-log li')].some((li) => li.textContent.includes('mode pool → async'))
    ? { points: window.tlCharts.points, lastSeq: window.tlCharts.lastSeq } : null), null, 30000);
  r.check(before !== null, 'the first server: points and its control event on the page', JSON.stringify(before));
  /* The page's reads of /stats and the stream fail until the new server's
   * seq and uptime have passed the old one's: a slow reconnect, so that
   * only the pid tells the restart. */
  let hold = true;
  await page.route(/\/stats(\/stream)?$/, (route) => (hold ? route.abort() : route.continue()));
  const oldUptime = await page.evaluate(() => window.tlDashboard.snapshot.uptime_ms);
  const oldPid = srv.pid;
  await srv.stop();
  await sleep(500);
  const restartedAt = Date.now();
  srv = await startServer(['--admin-port', String(admin), '--mode', 'pool', '--threads', '2', '--sample-ms', '100']);
  r.check(srv.admin === admin && srv.pid !== oldPid, 'a new server on the same observer port', `${srv.pid} on ${srv.admin}`);
  for (let seq = 0, up = 0; seq <= before.lastSeq + 5 || up <= oldUptime + 1000;) {
    await sleep(200);
    ({ seq, uptime_ms: up } = await (await fetch(`http://127.0.0.1:${admin}/stats`)).json());
  }
  hold = false;
  const after = await waitInPage(page, (pid) => {
    const d = window.tlDashboard;
    return d.snapshot && d.snapshot.process.pid === pid && d.histories >= 2 && window.tlCharts.points >= 3
      ? { histories: d.histories, first: window.tlCharts.firstTime, lastSeq: window.tlCharts.lastSeq,
        points: window.tlCharts.points, log: document.getElementById('event-log').textContent } : null;
  }, srv.pid, 30000);
  r.check(after !== null, 'the page follows the new server and took its history from the new stream',
    after ? `${after.histories} history events` : 'not followed');
  if (after) {
    r.check(after.first >= restartedAt - 1000, 'no point of the old server is kept',
      `first point ${after.first}, restart at ${restartedAt}`);
    r.check(after.lastSeq < before.lastSeq + 1000 && after.points < before.points + 50 && !after.log.includes('mode pool → async'),
      'the old server\'s control event is gone from the log', after.log.slice(0, 120));
  }
} catch (e) {
  r.check(false, 'test ran to the end', String(e && e.stack || e));
} finally {
  if (browser) await browser.close();
  await srv.stop();
}
r.finish();
