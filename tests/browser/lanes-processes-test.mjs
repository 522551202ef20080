#!/usr/bin/env node
// Browser test: the "Cores, live" lanes under --processes 2 (www/lanes.js).
// The tracer follows the supervisor's own threads: the worker processes
// that serve the load are another process to it, grey. Without a word the
// lanes read "ours 1 · other 99" while the workers are busy (the shots of
// --processes 2 under wrk). The panel must say so and name the workers'
// pids; and what it says must hold: every traced thread is the
// supervisor's (its /proc/PID/task), none a worker's.
// Prints ok/FAIL lines and "N passed, M failed".
//
// usage: THREADLAB_BIN=./threadlab node tests/browser/lanes-processes-test.mjs
import { readdir } from 'node:fs/promises';
import { startServer, launchBrowser, strictPage, results, waitInPage, startWrk } from './lib.mjs';

const r = results();
const srv = await startServer(['--processes', '2', '--threads', '2']);
const browser = await launchBrowser();
let wrk = null;
try {
  wrk = await startWrk(['-t1', '-c8', '-d15s', `http://127.0.0.1:${srv.port}/cpu?ms=2`]);
  const page = await strictPage(browser, r);
  await page.goto(`http://127.0.0.1:${srv.admin}/`);
  const said = await waitInPage(page, () => {
    const t = document.getElementById('lanes-source').textContent;
    const s = window.tlDashboard && window.tlDashboard.snapshot;
    if (!s || !/under --processes/.test(t)) return null;
    return { text: t, pids: s.processes.filter((p) => p.role === 'worker' && p.pid > 0).map((p) => p.pid) };
  }, null, 30000);
  r.check(said !== null && said.pids.length === 2 && said.pids.every((p) => said.text.includes(String(p))),
    'the lanes say they trace the supervisor only and name the worker processes', said && `${said.text} / ${said.pids}`);
  /* What the words claim: the traced threads are the supervisor's. */
  const res = await fetch(`http://127.0.0.1:${srv.admin}/sched?since_ns=0`);
  const d = await res.json();
  const own = new Set((await readdir(`/proc/${srv.pid}/task`)).map(Number));
  const tids = [...new Set(d.slices.map((s) => s.tid))];
  if (d.source === 'sampled') {
    process.stdout.write(`SKIP - traced threads are the supervisor's: source sampled (${d.source_reason})\n`);
  } else {
    r.check(tids.length > 0 && tids.every((t) => own.has(t)), 'every traced thread is one of the supervisor\'s',
      `${tids.length} tids, ${tids.filter((t) => !own.has(t)).length} not the supervisor's`);
  }
} finally {
  if (wrk) await wrk.stop();
  await browser.close();
  await srv.stop();
  r.finish();
}
