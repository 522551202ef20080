#!/usr/bin/env node
// Browser test of the lanes' replay (www/lanes.js record/replayAt, what
// the Lab's replay of a finished run uses): the slices logged while a load
// ran, replayed at a kept snapshot, give each core's "ours" share over that
// snapshot's own sample period (the one its idle % is of), not the live
// view's last one; and live, a period's shares wait until its slices have
// arrived (a snapshot ahead of them leaves the last shares on the panel).
// The dashboard's view is paused (#paused) meanwhile, as the Lab's replay
// does. Needs the tracepoints (root): otherwise a counted skip.
//
// usage (from the source tree): THREADLAB_BIN=build/threadlab node tests/browser/lanes-replay-test.mjs

import { startServer, startWrk, launchBrowser, results, waitInPage, sleep } from './lib.mjs';

const r = results();
const srv = await startServer(['--mode', 'pool', '--threads', '2', '--sample-ms', '250']);
let browser = null, wrk = null;
try {
  wrk = await startWrk(['-t1', '-c4', '-d30s', `http://127.0.0.1:${srv.port}/cpu?ms=2`]);
  browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (e) => r.check(false, 'no page exception', String(e)));
  await page.goto(`http://127.0.0.1:${srv.admin}/`);
  const m = await waitInPage(page, () => {
    const l = window.tlDashboard && window.tlDashboard.lanes && window.tlDashboard.lanes();
    return l && l.source && (l.source !== 'tracepoints' || l.slices > 50) ? { source: l.source, slices: l.slices } : null;
  }, null, 20000);
  if (!m || m.source !== 'tracepoints') {
    process.stdout.write(`SKIP - the lanes' replay needs the tracepoints (source ${m && m.source})\n`);
  } else {
    await page.evaluate(async () => (await import('./lanes.js')).record(true));
    await sleep(1500);
    /* A snapshot of the middle of the log, then more of the run. */
    const kept = await page.evaluate(() => { window.tlKept = window.tlDashboard.snapshot; return window.tlKept.seq; });
    await sleep(1500);
    /* The dashboard's view paused (#paused) as the Lab's replay does: no
     * newer snapshot reaches the lanes before they draw. */
    await page.evaluate(() => { location.hash = '#paused'; });
    r.check(await waitInPage(page, () => window.tlDashboard.paused === true, null, 5000) === true, 'the view pauses (#paused)');
    const live = await page.evaluate(() => window.tlDashboard.lanes().ours.sampleNs);
    const replayed = await page.evaluate(async () => (await import('./lanes.js')).replayAt(window.tlKept));
    r.check(replayed === true, 'the logged slices replay at the kept snapshot', `snapshot ${kept}`);
    const o = await waitInPage(page, () => {
      const s = window.tlKept, ours = window.tlDashboard.lanes().ours;
      return ours.sampleNs === s.start_ns + s.uptime_ms * 1e6 ? ours : null;
    }, null, 5000);
    r.check(o !== null, 'the replay\'s shares are of the kept snapshot\'s own period, not the live one\'s',
      o ? `at ${o.sampleNs}` : `still ${await page.evaluate(() => window.tlDashboard.lanes().ours.sampleNs)} (live ${live})`);
    if (o) {
      const busy = o.pct.reduce((a, x) => a + x, 0);
      r.check(o.pct.length >= 1 && o.pct.every((x) => typeof x === 'number' && x >= 0 && x <= 100.5) && busy > 2,
        'each core\'s share a percentage, ours busy under the load', o.pct.map((x) => x.toFixed(1)).join(', '));
    }
    await page.evaluate(async () => (await import('./lanes.js')).replayEnd());
    /* A snapshot whose period's slices cannot have arrived yet (its time
     * 10 s ahead of them): its shares wait for them, the last ones stay. */
    const early = await page.evaluate(async () => {
      const lanes = await import('./lanes.js');
      const s = { ...window.tlDashboard.snapshot };
      s.uptime_ms += 10000;
      const at = s.start_ns + s.uptime_ms * 1e6;
      lanes.render(s);
      const seen = [];
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 25));
        seen.push(window.tlDashboard.lanes().ours.sampleNs === at);
      }
      return seen.filter(Boolean).length;
    });
    r.check(early === 0, 'no share is taken of a period before its slices arrived', `${early} of 20 looks showed it`);
  }
} catch (e) {
  r.check(false, 'test ran to the end', String(e && e.stack || e));
} finally {
  if (browser) await browser.close();
  if (wrk) await wrk.stop();
  await srv.stop();
}
r.finish();
