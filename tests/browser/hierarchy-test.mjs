#!/usr/bin/env node
// Browser test of the whole hierarchy on screen (issue 21):
//  - the birth panel lists every worker with created <= first run, and a
//    live resize adds the new workers to it;
//  - a --processes 2 server under wrk load shows non-zero req/s in the
//    header (the workers' sum) and both worker processes' threads grouped
//    under their process's header row in the thread table, whose caption
//    says how many processes it groups (not "the one process");
//  - an async server at /io?ms=100 shows the loop's tasks in flight in the
//    table, and the loop's timeline lane the same count with the steps the
//    update left out of it; the note the steps left out in all.
// wrk runs are long (30 s) and stopped (by pid) as soon as a part is done,
// so that a slow page on a loaded machine still sees the load.
// TL_SHOTS=DIR also saves screenshots of each part there.
//
// usage (from the source tree): THREADLAB_BIN=./threadlab node tests/browser/hierarchy-test.mjs

import http from 'node:http';
import { startServer, launchBrowser, strictPage, results, waitInPage, startWrk, sleep, keepShot } from './lib.mjs';

const r = results();
const shots = process.env.TL_SHOTS || null;

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

/* The birth rows of one role, as the page shows them. */
const birthRows = (role) => [...document.querySelectorAll(`#birth .birth-row[data-role="${role}"]`)].map((e) => ({
  tid: Number(e.dataset.tid), pid: Number(e.dataset.pid), index: e.dataset.index === undefined ? null : Number(e.dataset.index),
  created: e.dataset.created === undefined ? null : Number(e.dataset.created),
  firstRun: e.dataset.firstRun === undefined ? null : Number(e.dataset.firstRun),
}));

let browser = null;
const servers = [];
try {
  browser = await launchBrowser();

  /* 1. Birth: 16 workers, then a live resize to 18. */
  {
    const srv = await startServer(['--threads', '16', '--sample-ms', '200']);
    servers.push(srv);
    const page = await strictPage(browser, r);
    await page.goto(`http://127.0.0.1:${srv.admin}/`);
    const n = await waitInPage(page, () => document.querySelectorAll('#birth .birth-row[data-role="worker"]').length >= 16 &&
      document.querySelectorAll('#birth .birth-row[data-role="worker"]').length);
    r.check(n === 16, 'the birth panel lists the 16 workers', String(n));
    const workers = await page.evaluate(birthRows, 'worker');
    const bad = workers.filter((w) => !(w.created > 0 && w.firstRun >= w.created));
    r.check(workers.length === 16 && bad.length === 0, 'every worker: created <= first run', JSON.stringify(bad.slice(0, 3)));
    const main = await page.evaluate(() => {
      const e = document.querySelector('#birth .birth-row[data-role="loop"]');
      return e ? e.textContent : null;
    });
    r.check(main !== null && /main/.test(main) && /first ran \+/.test(main), 'the main thread (loop 0) heads the birth list', main);
    const libuv = await page.evaluate(() => [...document.querySelectorAll('#birth .birth-row[data-role="libuv"]')].map((e) => e.textContent));
    r.check(libuv.length >= 1 && libuv.every((t) => /kernel/.test(t)), "libuv's threads carry the kernel's start time, said as such",
      libuv[0]);
    if (shots) await keepShot(page.locator('#panel-birth'), { path: `${shots}/birth-16-workers.png` });
    const asked = await control(srv.admin, 'threads=18');
    r.check(asked.status === 200, 'threads=18 accepted', asked.body);
    const grown = await waitInPage(page, () => document.querySelectorAll('#birth .birth-row[data-role="worker"]').length >= 18 &&
      document.querySelectorAll('#birth .birth-row[data-role="worker"]').length);
    const after = await page.evaluate(birthRows, 'worker');
    const late = after.filter((w) => w.index >= 16);
    const firstBorn = Math.max(...after.filter((w) => w.index < 16).map((w) => w.created));
    r.check(grown === 18 && late.length === 2 && late.every((w) => w.created > firstBorn && w.firstRun >= w.created),
      'a live resize adds its workers, born after the first 16', JSON.stringify(late));
    await page.close();
  }

  /* 2. --processes 2 under wrk: the header's req/s and the grouped table. */
  {
    const srv = await startServer(['--processes', '2', '--threads', '2', '--sample-ms', '250']);
    servers.push(srv);
    const wrk = await startWrk(['-t1', '-c16', '-d30s', `http://127.0.0.1:${srv.port}/plaintext`]);
    try {
      const page = await strictPage(browser, r);
      await page.goto(`http://127.0.0.1:${srv.admin}/`);
      const rps = await waitInPage(page, () => {
        const t = document.getElementById('h-rps').textContent.replace(/[^0-9.]/g, '');
        return Number(t) > 0 ? document.getElementById('h-rps').textContent : null;
      });
      r.check(rps !== null, 'the header shows non-zero req/s for the workers', rps || 'stayed 0 / n/a');
      const groups = await waitInPage(page, () => {
        const g = [...document.querySelectorAll('#threads-body tr.proc-group')];
        return g.length === 3 ? g.map((e) => e.textContent) : null;
      });
      r.check(groups !== null && /^supervisor/.test(groups[0]) && groups.slice(1).every((t) => /^worker \d+/.test(t)),
        'the table has one header per process: the supervisor, then both workers', JSON.stringify(groups));
      /* Each worker's rows follow its header: its loop and 2 workers. */
      const layout = await page.evaluate(() => {
        const out = [];
        let cur = null;
        for (const tr of document.querySelectorAll('#threads-body tr')) {
          if (tr.classList.contains('proc-group')) { cur = { pid: Number(tr.dataset.pid), roles: [] }; out.push(cur); continue; }
          const tid = Number(tr.dataset.tid);
          const t = window.tlDashboard.snapshot.threads.find((x) => x.tid === tid);
          if (cur && t) cur.roles.push(t.pid === cur.pid ? t.role : 'WRONG-PID');
        }
        return out;
      });
      const workersOk = layout.slice(1).every((g) => g.roles.filter((x) => x === 'worker').length === 2 &&
        g.roles.includes('loop') && !g.roles.includes('WRONG-PID'));
      r.check(layout.length === 3 && workersOk, "both worker processes' threads grouped under their own header", JSON.stringify(layout));
      /* The caption no longer says "the one process" over three groups. */
      const scope = await page.evaluate(() => document.getElementById('threads-scope').textContent);
      r.check(scope.includes(`${layout.length} processes`) && !/one process/.test(scope),
        'the caption says how many processes the table groups', scope);
      /* The header's threads and CPU are every process's, not the supervisor's alone. */
      const hdr = await page.evaluate(() => {
        const ps = window.tlDashboard.snapshot.processes;
        return { threads: document.getElementById('h-threads').textContent, cpu: document.getElementById('h-cpu').textContent,
          sum: ps.reduce((a, p) => a + p.nthreads, 0).toLocaleString('en-US'), n: ps.length };
      });
      r.check(hdr.threads === `${hdr.sum} in ${hdr.n} processes` && hdr.cpu.includes(` in ${hdr.n} processes`) && hdr.n >= 3,
        "the header's threads and CPU sum every process", JSON.stringify(hdr));
      /* Each worker process's own race counter, at the same address in both
       * (processes[].shared): 16 connections at once reach both processes. */
      await Promise.all(Array.from({ length: 16 }, () => fetch(`http://127.0.0.1:${srv.port}/task?steps=race:200000`)
        .then((x) => x.arrayBuffer()).catch(() => null)));
      const counters = await waitInPage(page, () => {
        const t = [...document.querySelectorAll('#processes .proc.role-worker .proc-shared')].map((e) => e.textContent);
        return t.length === 2 && t.every((x) => /^shared counter [1-9]/.test(x)) ? t : null;
      });
      const addr = (counters || []).map((t) => (/ at (0x[0-9a-f]+)/.exec(t) || [])[1]);
      r.check(counters !== null && !!addr[0] && addr[0] === addr[1],
        "each worker process's box shows its own counter at the same address", JSON.stringify(counters));
      if (shots) await keepShot(page, { path: `${shots}/processes-2.png`, fullPage: false });
      await page.close();
    } finally {
      await wrk.stop();
    }
  }

  /* 3. Tasks in flight where they live: the async loop at /io?ms=100. */
  {
    const srv = await startServer(['--mode', 'async', '--sample-ms', '250']);
    servers.push(srv);
    const wrk = await startWrk(['-t2', '-c200', '-d30s', `http://127.0.0.1:${srv.port}/io?ms=100`]);
    try {
      const page = await strictPage(browser, r);
      await page.goto(`http://127.0.0.1:${srv.admin}/`);
      const inFlight = await waitInPage(page, () => {
        const row = [...document.querySelectorAll('#threads-body tr.role-loop')][0];
        const td = row && row.querySelector('td[data-col="tasks_in_flight"]');
        const v = td ? Number(td.textContent.replace(/,/g, '')) : 0;
        return v >= 150 ? v : null;
      });
      r.check(inFlight !== null && inFlight <= 200, 'the loop row shows ~200 tasks in flight (200 connections)', String(inFlight));
      /* The same update's timeline: the loop's lane says its tasks in flight
       * and the steps left out of it; the note, those left out in all. */
      const lane = await waitInPage(page, () => {
        const s = window.tlDashboard.snapshot;
        const loop = s.threads.find((t) => t.role === 'loop');
        const m = window.tlDashboard.timeline();
        const k = m.lanes.indexOf(loop.name);
        if (!(loop.tasks_in_flight >= 150 && loop.steps_left_out > 0 && s.timeline.left_out > 0) || k < 0) return null;
        const f = (v) => v.toLocaleString('en-US');
        return { text: m.laneCounts[k], want: `${f(loop.tasks_in_flight)} in flight · ${f(loop.steps_left_out)} steps left out`,
          note: document.getElementById('timeline-note').textContent, leftOut: f(s.timeline.left_out) };
      });
      r.check(lane !== null && lane.text === lane.want, "the loop's lane: its tasks in flight and the steps left out of it",
        JSON.stringify(lane));
      r.check(lane !== null && lane.note.includes(`sampled: ${lane.leftOut} steps left out of this update`),
        'the note says how many steps this update left out', lane && lane.note);
      if (shots) await keepShot(page.locator('#panel-timeline'), { path: `${shots}/async-in-flight.png` });
      await page.close();
    } finally {
      await wrk.stop();
    }
  }
} catch (e) {
  r.check(false, 'the test ran to the end', String(e && e.stack || e));
} finally {
  if (browser) await browser.close();
  for (const s of servers) await s.stop();
}
r.finish();
