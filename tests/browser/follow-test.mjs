#!/usr/bin/env node
// Browser test: following a task, and the truth about time on a core.
//
// 1. A server with 8 workers started on one CPU (taskset -c 0) under
//    /cpu?ms=5 load from 16 concurrent clients: the timeline draws CPU
//    steps with a share waiting for a core (tlDashboard.timeline(), the
//    model the canvas is drawn from); "find task" with an id taken from an
//    X-Task-Id header opens the card with that task's steps; pause freezes
//    the view while snapshots keep arriving, resume catches up; the URL
//    fragment (#task=ID&paused) reopens the card in a new page.
// 2. One process with --allow-crash: a crash step kills it, and the page
//    keeps its last picture and says the stream was lost because the
//    process died.
// Prints ok/FAIL lines and "N passed, M failed".
//
// usage: THREADLAB_BIN=./threadlab node tests/browser/follow-test.mjs
import { spawn } from 'node:child_process';
import { startServer, launchBrowser, strictPage, results, waitInPage } from './lib.mjs';

const BIN = process.env.THREADLAB_BIN || './threadlab';

/* Like startServer, but under `taskset -c CPU` (taskset execs: same pid). */
async function startPinned(cpu, args) {
  const child = spawn('taskset', ['-c', String(cpu), BIN, '--port', '0', '--admin-port', '0', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, sig) => resolve({ code, sig })));
  const deadline = Date.now() + 15000;
  while (!/dashboard: http:\/\/[^:]+:\d+\//.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`threadlab did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: child.pid,
    port: Number(/workload:\s+http:\/\/[^\s]*:(\d+)\//.exec(out)[1]),
    admin: Number(/dashboard: http:\/\/[^\s]*:(\d+)\//.exec(out)[1]),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return (await exited).code;
    },
  };
}

/* `conc` clients each fetching /cpu?ms=5 in a loop for `ms`; returns the
 * X-Task-Id of the last answer seen and the highest. Bounded, loopback only. */
async function cpuLoad(port, conc, ms) {
  const until = Date.now() + ms;
  let lastId = null, maxId = 0, answers = 0;
  async function client() {
    while (Date.now() < until) {
      const r = await fetch(`http://127.0.0.1:${port}/cpu?ms=5`);
      await r.text();
      if (r.ok) { lastId = Number(r.headers.get('x-task-id')); maxId = Math.max(maxId, lastId); answers++; }
    }
  }
  await Promise.all(Array.from({ length: conc }, client));
  return { lastId, maxId, answers };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const r = results();
const browser = await launchBrowser();
let srv = null, crashSrv = null, procSrv = null;
try {
  /* ---- 1. contention, find, pause, fragment ---- */
  srv = await startPinned(0, ['--mode', 'pool', '--threads', '8', '--sample-ms', '250']);
  const page = await strictPage(browser, r);
  await page.goto(`http://127.0.0.1:${srv.admin}/`);
  r.check(await waitInPage(page, () => window.tlDashboard && window.tlDashboard.streamState === 'live', null, 40000),
    'dashboard is live');
  /* A task without steps (/plaintext) takes an id and never shows on the
   * timeline: the id just before the next task's. */
  await (await fetch(`http://127.0.0.1:${srv.port}/plaintext`)).text();
  const probe = await fetch(`http://127.0.0.1:${srv.port}/io?ms=1`);
  await probe.text();
  const stepless = Number(probe.headers.get('x-task-id')) - 1;
  const load = await cpuLoad(srv.port, 16, 3000);
  r.check(load.answers > 0 && Number.isInteger(load.lastId), 'load answered with X-Task-Id', `${load.answers} answers, last id ${load.lastId}`);

  const waiting = await waitInPage(page, () => {
    const m = window.tlDashboard.timeline();
    const cpu = m.steps.filter((s) => s.kind === 'cpu' && s.waiting_share !== null);
    if (cpu.length < 10) return null;
    const wall = cpu.reduce((a, s) => a + s.wall_ms, 0), wait = cpu.reduce((a, s) => a + s.waiting_ms, 0);
    return wall > 0 && wait / wall > 0.4 ? { n: cpu.length, share: wait / wall } : null;
  });
  r.check(waiting, 'timeline draws CPU steps with a share waiting for a core (8 workers on one CPU)',
    waiting ? `${waiting.n} cpu steps, ${(100 * waiting.share).toFixed(0)}% of their wall waiting` : 'none found');

  await page.fill('#find-task', String(load.lastId));
  await page.click('#find-task-go');
  const card = await waitInPage(page, (id) => {
    const c = window.tlDashboard.taskCard();
    return c && c.id === id && c.status === 'found' && c.steps.length > 0 ? c : null;
  }, load.lastId);
  r.check(card, `find task ${load.lastId} opens its card with its steps`, card ? `${card.steps.length} step(s)` : 'not found');
  const cardText = await page.$eval('#task-card', (e) => (e.hidden ? '' : e.textContent));
  r.check(cardText.includes(`task ${load.lastId}`) && /cpu/.test(cardText) && /for a core/.test(cardText),
    'the card shows the step: kind, on-CPU and waiting', cardText.slice(0, 120));
  r.check((await page.evaluate(() => location.hash)).includes(`task=${load.lastId}`), 'the URL fragment names the task');

  await page.click('#pause-btn');
  const frozen = await page.evaluate(() => ({ seq: window.tlDashboard.lastSeq, got: window.tlDashboard.received }));
  await sleep(1500);
  const after = await page.evaluate(() => ({ seq: window.tlDashboard.lastSeq, got: window.tlDashboard.received,
    held: window.tlDashboard.held, hash: location.hash }));
  r.check(after.seq === frozen.seq && after.got > frozen.got && after.held > 0,
    'pause freezes the view while snapshots keep arriving', JSON.stringify({ frozen, after }));
  r.check(after.hash.includes('paused'), 'the URL fragment says paused', after.hash);
  await page.click('#pause-btn');
  const resumed = await page.evaluate(() => window.tlDashboard.lastSeq);
  r.check(resumed > frozen.seq, 'resume catches up at once', `seq ${frozen.seq} -> ${resumed}`);

  /* A link names a task; the page finds it in /stats or, as here, in the
   * stream: the server keeps only its last seconds of steps, and this
   * machine is slow, so the link names the next task before it runs. */
  const next = load.maxId + 1;     // answers come back out of order
  const page2 = await strictPage(browser, r);
  await page2.goto(`http://127.0.0.1:${srv.admin}/#task=${next}&paused`);
  await waitInPage(page2, () => window.tlDashboard && window.tlDashboard.received > 0, null, 40000);
  await cpuLoad(srv.port, 1, 200);
  const reopened = await waitInPage(page2, (id) => {
    const c = window.tlDashboard && window.tlDashboard.taskCard();
    return c && c.id === id && c.status === 'found' && window.tlDashboard.paused ? c.steps.length : null;
  }, next, 40000);
  r.check(reopened, `a shared link (#task=${next}&paused) reopens the card, paused, and finds the task`,
    JSON.stringify(await page2.evaluate(() => window.tlDashboard.taskCard())));
  await page2.evaluate((id) => window.tlDashboard.findTask(id), 999999999);
  const st = await page2.evaluate(() => window.tlDashboard.taskCard());
  r.check(st && st.status === 'waiting', 'a task not seen yet is said so', JSON.stringify(st && st.status));
  const gone = await waitInPage(page2, async (id) => {
    const c = await window.tlDashboard.findTask(id);
    return c && c.status === 'gone' ? document.getElementById('task-card').textContent : null;
  }, stepless, 30000);
  r.check(gone && /fell out/.test(gone), 'a task that fell out is said so', gone ? gone.slice(0, 100) : 'no');
  await page.close();
  await page2.close();
  await srv.stop();
  srv = null;

  /* ---- 2. one process, a crash ---- */
  crashSrv = await startServer(['--mode', 'pool', '--threads', '2', '--allow-crash', '--sample-ms', '250']);
  /* Once the process is dead the browser logs its refused reconnects as
   * console errors: those, and only after the crash, are expected. */
  let crashed = false;
  const page3 = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page3.on('pageerror', (e) => r.check(false, 'no page exception', String(e)));
  page3.on('console', (m) => {
    if (m.type() === 'error' && !(crashed && /net::ERR_(CONNECTION_REFUSED|CONNECTION_RESET|SOCKET_NOT_CONNECTED|EMPTY_RESPONSE|CONNECTION_CLOSED)/.test(m.text()))) r.check(false, 'no console error', m.text());
  });
  await page3.goto(`http://127.0.0.1:${crashSrv.admin}/`);
  r.check(await waitInPage(page3, () => window.tlDashboard && window.tlDashboard.snapshots > 1 &&
    window.tlDashboard.streamState === 'live', null, 40000), 'crash server: dashboard is live');
  const lastPid = await page3.evaluate(() => window.tlDashboard.snapshot.process.pid);
  crashed = true;
  await fetch(`http://127.0.0.1:${crashSrv.port}/task?steps=crash`).catch(() => null);
  const ex = await Promise.race([crashSrv.exited, sleep(10000).then(() => null)]);
  r.check(ex && ex.sig, 'the crash step killed the process by a signal', JSON.stringify(ex));
  const lost = await waitInPage(page3, () => {
    const e = document.getElementById('stream-lost');
    return window.tlDashboard.streamState === 'dead' && e && !e.hidden ? e.textContent : null;
  }, null, 20000);
  r.check(lost && /stream lost because the process died/i.test(lost), 'the page says the stream was lost because the process died', lost || 'no message');
  r.check(lost && /threads/.test(lost) && /connections/.test(lost), 'it says every thread and connection went with it');
  const kept = await page3.evaluate(() => ({ pid: document.getElementById('h-pid').textContent,
    cells: document.querySelectorAll('#scoreboard .cell').length }));
  r.check(kept.pid === String(lastPid) && kept.cells > 0, 'the last picture is kept', JSON.stringify(kept));
  crashSrv = null;
  await page3.close();

  /* ---- 3. --processes 2: a worker dies, its box goes red, then a new pid ---- */
  procSrv = await startServer(['--processes', '2', '--threads', '1', '--allow-crash', '--sample-ms', '250']);
  const page4 = await strictPage(browser, r);
  await page4.goto(`http://127.0.0.1:${procSrv.admin}/`);
  const before = await waitInPage(page4, () => {
    const b = Array.from(document.querySelectorAll('#processes .proc.role-worker'));
    return b.length === 2 && b.every((x) => Number(x.getAttribute('data-pid')) > 0)
      ? b.map((x) => Number(x.getAttribute('data-pid'))) : null;
  }, null, 40000);
  r.check(before, 'two worker process boxes with their pids', JSON.stringify(before));
  const cr = await fetch(`http://127.0.0.1:${procSrv.port}/task?steps=crash`).catch(() => null);
  r.check(!cr || !cr.ok, 'the crash request got no answer from its dead worker');
  const red = await waitInPage(page4, (pids) => {
    const b = Array.from(document.querySelectorAll('#processes .proc.role-worker.died-now'));
    return b.length ? b[0].textContent : null;
  }, before, 20000);
  r.check(red, 'the dead worker\'s box goes red', red ? red.slice(0, 100) : 'no red box');
  const renewed = await waitInPage(page4, (pids) => {
    const b = Array.from(document.querySelectorAll('#processes .proc.role-worker'));
    const now = b.map((x) => Number(x.getAttribute('data-pid')));
    const fresh = now.filter((p) => p > 0 && !pids.includes(p));
    const txt = b.map((x) => x.querySelector('.proc-new').textContent).join(' ');
    return fresh.length === 1 && /new pid/.test(txt) ? { now, txt } : null;
  }, before, 20000);
  r.check(renewed, 'then it shows the new pid beside the dead one', JSON.stringify(renewed));
  await page4.close();             // first: a page left open logs its refused reconnects
  await procSrv.stop();
  procSrv = null;

  /* ---- 4. more workers than lanes: the rest folded into one lane ---- */
  srv = await startServer(['--mode', 'pool', '--threads', '60', '--sample-ms', '250']);
  const page5 = await strictPage(browser, r);
  await page5.goto(`http://127.0.0.1:${srv.admin}/`);
  await waitInPage(page5, () => window.tlDashboard && window.tlDashboard.snapshots > 0, null, 40000);
  await cpuLoad(srv.port, 60, 1500);
  const fold = await waitInPage(page5, () => {
    const m = window.tlDashboard.timeline();
    const last = m.lanes.length - 1;
    return m.folded && m.steps.some((s) => s.lane === last)
      ? { lanes: m.lanes.length, name: m.lanes[last], folded: m.folded,
        note: document.querySelector('#timeline-note').textContent } : null;
  }, null, 30000);
  /* Up to 61 threads run tasks (the loop and 60 workers); how many of them
   * the page sees in one window depends on which workers the stream lists
   * (beyond 64 threads it carries the busiest), so the fold is a range. */
  const nf = fold ? fold.folded.count : 0;
  r.check(fold && fold.lanes === 48 && nf >= 8 && nf <= 61 - 47 && fold.name === `${nf} more threads`,
    'task-running threads beyond 47: one "N more threads" lane that carries their steps', JSON.stringify(fold));
  const note = fold ? fold.note : ''; /* read with the model, from the same update */
  /* Which workers fold depends on which the stream lists (beyond 64 threads
   * it carries the busiest): the note names the first and last of them. */
  r.check(new RegExp(`folds ${nf} threads \\(tl-worker-\\d+ … (tl-worker-\\d+|tid \\d+)\\)`).test(note), 'the note says what the lane folded', note);
  await page5.close();
  await srv.stop();
  srv = null;

  /* ---- 5. coro mode: the card names the coroutine and its stack, the
   * timeline outlines the followed task ---- */
  srv = await startServer(['--mode', 'coro', '--threads', '2', '--sample-ms', '250']);
  const page6 = await strictPage(browser, r);
  await page6.goto(`http://127.0.0.1:${srv.admin}/`);
  await waitInPage(page6, () => window.tlDashboard && window.tlDashboard.snapshots > 0, null, 40000);
  const tr = await fetch(`http://127.0.0.1:${srv.port}/task?steps=cpu:2,io:20,cpu:2`);
  const body = await tr.json();
  const coroId = await page6.evaluate((id) => window.tlDashboard.findTask(id).then(() => id), body.task);
  const cc = await waitInPage(page6, (id) => {
    const c = window.tlDashboard.taskCard();
    return c && c.id === id && c.steps.length === 3 && window.tlDashboard.timeline().selected === id ? c : null;
  }, coroId, 30000);
  const coros = cc ? [...new Set(cc.steps.map((s) => s.coro))] : [];
  r.check(cc && coros.length === 1 && coros[0] === body.steps[0].coro && cc.steps.every((s) => s.stack === body.steps[0].stack),
    'coro mode: every step of the followed task names the coroutine and stack of the task body', JSON.stringify(coros));
  const ctext = await page6.$eval('#task-card', (e) => e.textContent);
  r.check(ctext.includes('coro') && ctext.includes(body.steps[0].stack), 'the card shows the coroutine and its stack');
  await page6.close();
  await srv.stop();
  srv = null;
} catch (e) {
  r.check(false, 'no exception', String(e && e.stack || e));
} finally {
  if (srv) await srv.stop();
  if (crashSrv) await crashSrv.stop();
  if (procSrv) await procSrv.stop();
  await browser.close();
  r.finish();
}
