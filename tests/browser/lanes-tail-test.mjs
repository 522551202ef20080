#!/usr/bin/env node
// Browser test: a lane after the last stay of ours on its core (www/lanes.js).
// The tracer records only our threads' switches, so once none of ours runs
// on a core nothing says what does. Drawn empty ("empty: idle") that time
// read as idle beside the core's own "other 100 · idle 0 %" (the shots of
// one-core, race and deadlock runs: a lane blank for seconds while wrk and
// the machine's other work held the core). The page is given GET /sched
// answers (page.route): CPU 0's last stay of ours ended 4 s ago (wrk took
// the core), CPU 1 has one of ours every poll. CPU 0's lane must be drawn
// (hatched) from that end up to now, named on hover, and CPU 1's not.
// Stays narrower than a pixel: CPU 2 runs one of ours for 0.1 ms every
// 5 ms (2 % of the core, idle between). Drawn solid at 0.7 px each they
// filled the lane (the pin run's shots: a full lane over "ours 5"); drawn
// at the share of the pixel they cover, the lane stays mostly pale.
// Prints ok/FAIL lines and "N passed, M failed".
//
// usage: THREADLAB_BIN=./threadlab node tests/browser/lanes-tail-test.mjs
import { startServer, launchBrowser, strictPage, results, waitInPage, sleep, keepShot } from './lib.mjs';

const r = results();
const srv = await startServer(['--threads', '2']);
const browser = await launchBrowser();
const t0 = Date.now();
const BASE = 5_000_000_000_000;               // the fake CLOCK_MONOTONIC at t0, ns
const nowNs = () => BASE + (Date.now() - t0) * 1e6;
const cpu0End = BASE - 4e9 + 0.1e9;          // CPU 0: ours from -4.0 s to -3.9 s, then wrk
try {
  const page = await strictPage(browser, r);
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.route(/\/sched\?/, (route) => {
    const now = nowNs();
    const slices = [
      { cpu: 0, tid: 4242, start_ns: BASE - 4e9, end_ns: cpu0End, end: 'preempted', wake_ns: null, in_tid: null,
        in_comm: 'wrk', in_pid: 5100, on_lock: false },
      /* CPU 2: 0.1 ms of ours every 5 ms over the last 5.5 s (a fixed grid: the same starts each answer) */
      ...Array.from({ length: 1100 }, (_, i) => {
        const start = Math.floor((now - 5.6e9) / 5e6) * 5e6 + i * 5e6;
        return { cpu: 2, tid: 4244, start_ns: start, end_ns: start + 1e5, end: 'blocked', wake_ns: null, in_tid: null,
          in_comm: 'swapper/2', in_pid: 0, on_lock: false };
      }).filter((x) => x.end_ns < now - 80e6),
      /* CPU 1: one of ours up to 80 ms ago, every answer */
      { cpu: 1, tid: 4243, start_ns: Math.floor(now - 120e6), end_ns: Math.floor(now - 80e6), end: 'blocked',
        wake_ns: null, in_tid: null, in_comm: 'swapper/1', in_pid: 0, on_lock: false },
    ];
    route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({
      source: 'tracepoints', source_reason: '', tracing: true, filtered: true, now_ns: now, tracing_since_ns: BASE - 9e9,
      ncpu: 3, pid: 1, lost: 0, lost_per_cpu: [0, 0, 0], records: 2, late: 0, truncated: false, slices, threads: [] }) });
  });
  await page.goto(`http://127.0.0.1:${srv.admin}/`);
  await page.locator('#panel-lanes').scrollIntoViewIfNeeded();
  const m = await waitInPage(page, () => {
    const l = window.tlDashboard && window.tlDashboard.lanes && window.tlDashboard.lanes();
    return l && l.polls >= 3 ? l : null;
  }, null, 30000);
  r.check(m !== null, 'the lanes polled the given /sched answers', m && `${m.polls} polls`);
  if (m) {
    const from = m.unknownFrom || [];
    r.check(from[0] === cpu0End, 'CPU 0: the hatch begins where the last stay of ours ended',
      `${from[0]} vs ${cpu0End}`);
    r.check(from.length === 3 && (from[1] === null || nowNs() - from[1] < 0.5e9), 'CPU 1 (ours every poll): no hatch over the window',
      String(from[1]));
  }
  /* What a person sees: CPU 0's lane over its last 2 s is not left blank. */
  const ink = await page.evaluate(() => {
    const c = document.getElementById('lanes-canvas');
    const g = c.getContext('2d');
    const dpr = window.devicePixelRatio || 1;
    const w = c.width / dpr, plotW = w - 150 - 4;
    const share = (y0, below = 225) => {
      const x0 = Math.floor((150 + plotW * 0.62) * dpr), x1 = Math.floor((150 + plotW * 0.97) * dpr);
      const d = g.getImageData(x0, Math.floor((y0 + 6) * dpr), x1 - x0, Math.floor(12 * dpr)).data;
      let inked = 0;
      for (let i = 0; i < d.length; i += 4) {
        /* the lane's own background is #f1f3f6 / #f8f9fb: anything darker is drawn */
        if (d[i] < below || d[i + 1] < below || d[i + 2] < below) inked++;
      }
      return inked / (d.length / 4);
    };
    /* CPU 2: drawn at all, and how much of it in a strong hue (a channel under 180) */
    return { cpu0: share(18), cpu1: share(18 + 34), cpu2: share(18 + 68), cpu2strong: share(18 + 68, 180) };
  });
  r.check(ink.cpu0 > 0.1, 'CPU 0\'s lane is drawn (hatched) over its last seconds, not left blank as if idle',
    `${(100 * ink.cpu0).toFixed(0)}% of its pixels drawn`);
  r.check(ink.cpu2 > 0.2 && ink.cpu2strong < 0.3, 'CPU 2 (0.1 ms of ours every 5 ms): its stays drawn, the lane mostly pale, not full',
    `${(100 * ink.cpu2).toFixed(0)}% of its pixels drawn, ${(100 * ink.cpu2strong).toFixed(0)}% in a strong hue`);
  /* The hover says what the hatch means. */
  const box = await page.locator('#lanes-canvas').boundingBox();
  await page.mouse.move(box.x + 150 + (box.width - 154) * 0.8, box.y + 18 + 13);
  const tip = await waitInPage(page, () => {
    const t = document.querySelector('#lanes .tip');
    return t && !t.hidden ? t.textContent : null;
  }, null, 5000);
  r.check(/none of our threads recorded here/.test(tip || '') && /another process or idle/.test(tip || ''),
    'the hatch, hovered, says none of ours ran there since: another process or idle', tip);
  await keepShot(page.locator('#panel-lanes'), { path: `${process.env.TL_SHOTS || '/tmp'}/lanes-tail.png` });
  await sleep(10);
} finally {
  await browser.close();
  await srv.stop();
  r.finish();
}
