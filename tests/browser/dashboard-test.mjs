#!/usr/bin/env node
// Browser test of the threadlab dashboard on playwright-core (Debian's
// Chromium), self-contained: it starts its own threadlab (hybrid, 4 workers,
// the hostile page's docroot) and a bounded wrk load, loads the dashboard and
// checks that live data arrives and is shown, that the charts and meters
// exist, and that the mode control really switches the server's mode. Any
// page exception, console error or failed load fails it; a dashboard module
// that does not load (missing file or export, syntax error) stops it at once.
// It takes a full-page screenshot ($TL_SCREENSHOT, else tests/dashboard.png).
// Then a hostile page from another origin (and a page on a name that
// resolves to 127.0.0.1: DNS rebinding, through Chromium's host-resolver
// rules) tries to change the mode, and the mode must stay. It ends with a
// line "N passed, M failed" (exit status 1 when anything failed).
//
// usage: THREADLAB_BIN=build/threadlab node tests/browser/dashboard-test.mjs

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, results, sleep, startServer, startWrk } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
/* The server starts in hybrid; the form switches it to pool, then coro, and back. */
const opts = { expectTids: null, switchMode: 'pool', restore: true,
  screenshot: process.env.TL_SCREENSHOT || path.resolve('tests/dashboard.png'),
  timeout: Number(process.env.TL_BROWSER_TIMEOUT_S) || 150 };
/* A hostile name that resolves to 127.0.0.1 inside the test's Chromium. */
const REBIND_HOST = 'threadlab-rebind.test';

const res = results();
const check = res.check;

/* Page exceptions, console errors and failed loads of the dashboard's page.
 * A dropped SSE connection is expected while the server restarts; everything
 * else is not. */
function collectErrors(page) {
  const errors = [];
  const isStream = (url) => /stats\/stream/.test(url || '');
  page.on('pageerror', (e) => errors.push(`exception: ${String(e.message || e).split('\n')[0]}`));
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'assert') return;
    if (isStream(m.location().url)) return;
    errors.push(`console.${m.type()}: ${m.text()}`.split('\n')[0]);
  });
  page.on('requestfailed', (r) => {
    if (!isStream(r.url())) errors.push(`failed load: ${r.url()} ${(r.failure() || {}).errorText || ''}`.trim());
  });
  return errors;
}

async function main(server, browser) {
  const pageUrl = new URL(`http://127.0.0.1:${server.admin}/`);
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  const pageErrors = collectErrors(page);
  /* A string is evaluated as an expression in the page; a promise is awaited
   * and the value returned by value; an exception throws here. */
  const evaluate = (expression) => page.evaluate(expression);

  /* navigate */
  let nav = null;
  try {
    nav = await page.goto(pageUrl.href, { waitUntil: 'load', timeout: 15000 });
  } catch (e) {
    check(false, `navigate to ${pageUrl.href}`, e.message.split('\n')[0]);
    return;
  }
  if (!check(nav && nav.ok(), `navigate to ${pageUrl.href}`, nav ? `status ${nav.status()}` : 'no response')) return;
  check(true, 'page load event');

  /* The dashboard is a graph of ES modules (www/main.js and what it imports):
   * one missing file, missing export or syntax error and none of it runs.
   * Module scripts run before the load event, so by now the entry module
   * must have published window.tlDashboard; if not, say why and stop. */
  {
    const ran = await evaluate('typeof window.tlDashboard === "object" && window.tlDashboard !== null');
    if (!check(ran, 'dashboard modules loaded and ran (www/main.js set window.tlDashboard)',
      ran ? '' : pageErrors.slice(0, 3).join('; ') || 'no error reported')) return;
  }

  /* live updates */
  {
    const deadline = Date.now() + 15000;
    let last = null;
    let advances = 0;
    let seen = [];
    while (Date.now() < deadline && advances < 3) {
      const v = await evaluate('window.tlDashboard ? window.tlDashboard.lastSeq : undefined');
      if (typeof v === 'number') {
        if (last !== null && v > last) { advances++; seen.push(v); }
        if (last === null) seen.push(v);
        last = v;
      }
      await sleep(100);
    }
    check(advances >= 3, 'window.tlDashboard.lastSeq advanced 3 times within 15 s', `seq ${seen.join(' → ') || 'none'}`);
  }

  const origin = pageUrl.origin;
  const info = await evaluate(`(() => {
    const d = window.tlDashboard || {};
    const q = (s) => document.querySelector(s);
    return {
      chart: typeof Chart,
      canvases: ['chart-rps', 'chart-latency', 'chart-queue', 'chart-lag'].map((id) => {
        const c = document.getElementById(id);
        return { id, canvas: !!c && c.tagName === 'CANVAS',
          instance: typeof Chart === 'function' && !!c && !!Chart.getChart(c) };
      }),
      cores: document.querySelectorAll('#cores .core[data-cpu]').length,
      timeline: !!q('canvas#timeline') && q('canvas#timeline').width > 0,
      scoreboard: document.querySelectorAll('#scoreboard [data-tid]').length,
      rows: document.querySelectorAll('tr[data-tid]').length,
      threadsShown: d.threadsShown,
      lastRenderMs: d.lastRenderMs,
      status: q('#stream-status') ? q('#stream-status').textContent.trim() : null,
      mode: q('#server-mode') ? q('#server-mode').textContent.trim() : null,
      sends: q('#h-sends') ? q('#h-sends').textContent.trim() : null,
      insights: !!q('#insights'),
      controls: ['#mode-select', '#threads-input', '#pin-checkbox', '#apply-control'].every((s) => !!q(s))
    };
  })()`);

  /* every thread has a row */
  {
    const fetchTids = async () => {
      const r = await fetch(new URL('/stats', origin), { cache: 'no-store' });
      if (!r.ok) throw new Error(`GET /stats answered ${r.status}`);
      const j = await r.json();
      return (j.threads || []).map((t) => ({ tid: t.tid, name: t.name }));
    };
    let expected = null;
    let result = null;
    let source = opts.expectTids ? '--expect-tids' : '/stats';
    const deadline = Date.now() + 6000;
    for (;;) {
      try {
        expected = opts.expectTids ? opts.expectTids.map((tid) => ({ tid, name: null })) : await fetchTids();
      } catch (e) {
        check(false, 'fetch the expected threads from /stats', e.message);
        expected = [];
        break;
      }
      result = await evaluate(`(${JSON.stringify(expected.map((t) => t.tid))}).map((tid) => {
        const tr = document.querySelector('tr[data-tid="' + tid + '"]');
        if (!tr) return { tid, row: false };
        const cell = (k) => { const td = tr.querySelector('td[data-col="' + k + '"]'); return td ? td.textContent.trim() : null; };
        return { tid, row: true, name: cell('name'), cpu: cell('cpu_pct'),
          board: !!document.querySelector('#scoreboard [data-tid="' + tid + '"]') };
      })`);
      const good = (r, t) => r.row && r.name && r.name !== 'n/a' && (t.name === null || r.name === t.name) &&
        /^-?[0-9][0-9,]*(\.[0-9]+)?$/.test(r.cpu || '') && r.board;
      if (result.every((r, i) => good(r, expected[i])) || Date.now() > deadline) {
        check(expected.length > 0, `expected threads known (${expected.length} from ${source})`);
        result.forEach((r, i) => {
          const t = expected[i];
          const why = !r.row ? 'no tr[data-tid] row' : !r.name || r.name === 'n/a' ? 'empty name'
            : t.name !== null && r.name !== t.name ? `name "${r.name}" != "${t.name}"`
              : !/^-?[0-9][0-9,]*(\.[0-9]+)?$/.test(r.cpu || '') ? `CPU cell "${r.cpu}" not numeric`
                : !r.board ? 'no scoreboard cell' : '';
          check(!why, `thread ${r.tid} has a row with name and numeric CPU, and a scoreboard cell`,
            why || `${r.name}, CPU ${r.cpu}%`);
        });
        break;
      }
      await sleep(400);
    }
  }

  check(info.chart === 'function', 'Chart.js loaded (typeof Chart === "function")', `typeof Chart = ${info.chart}`);
  for (const c of info.canvases) {
    check(c.canvas && c.instance, `#${c.id} is a canvas with a chart`, c.canvas ? (c.instance ? '' : 'no Chart instance') : 'missing');
  }
  check(info.cores >= 1, 'at least one #cores .core[data-cpu] meter', `${info.cores} cores`);
  check(info.timeline, '#timeline canvas drawn');
  check(info.scoreboard >= 1 && info.scoreboard === info.rows, 'one scoreboard cell per thread row',
    `${info.scoreboard} cells, ${info.rows} rows`);
  check(info.threadsShown === info.rows, 'tlDashboard.threadsShown matches the rows', `${info.threadsShown}`);
  check(typeof info.lastRenderMs === 'number' && info.lastRenderMs < 250, 'one update renders in well under the 500 ms period',
    `${info.lastRenderMs} ms`);
  check(info.status === 'live', '#stream-status says live', `"${info.status}"`);
  check(info.insights && info.controls, '#insights and the mode/pool/pin controls exist');
  {
    /* The send path shown is the one /stats reports; under load, with
     * io_uring, with the writes each submission carried. */
    const r = await fetch(new URL('/stats', origin), { cache: 'no-store' });
    const sends = ((await r.json()).server || {}).sends || {};
    const ok = sends.io_uring === true ? /^io_uring · [0-9.]+ writes\/submission$/.test(info.sends || '')
      : sends.io_uring === false ? (info.sends || '').startsWith('write per connection') : false;
    check(ok, '#h-sends shows the send path of /stats', `"${info.sends}", /stats io_uring=${sends.io_uring}`);
  }

  /* Dashboard truth: run-queue wait, where each thread's period went, the
   * coro mode option, the process and cost panels (doc/stats-json.md). */
  {
    const r = await fetch(new URL('/stats', origin), { cache: 'no-store' });
    const j = await r.json();
    const k = j.kernel || {};
    const deadline = Date.now() + 6000;
    let t = null;
    for (;;) {
      t = await evaluate(`(() => {
        const q = (s) => document.querySelector(s);
        const bars = [...document.querySelectorAll('#threads-body td[data-col="on_cpu_pct"] .pbar')];
        const three = bars.filter((b) => b.children.length === 3 && b.querySelector('.p-oncpu') &&
          b.querySelector('.p-runq') && b.querySelector('.p-sleep'));
        const filled = three.filter((b) => [...b.children].reduce((a, i) => a + (parseFloat(i.style.width) || 0), 0) > 50);
        return {
          runq: q('#h-runq') ? q('#h-runq').textContent.trim() : null,
          runqHint: q('#runq-hint') ? q('#runq-hint').hidden : null,
          rows: document.querySelectorAll('#threads-body tr').length,
          bars: bars.length, three: three.length, filled: filled.length,
          coroOption: !!q('#mode-select option[value="coro"]'),
          coroHidden: q('#panel-coro') ? q('#panel-coro').hidden : null,
          procs: [...document.querySelectorAll('#processes .proc')].map((p) => p.getAttribute('data-pid')),
          procText: q('#processes .proc') ? q('#processes .proc').textContent : '',
          costs: document.querySelectorAll('#costs .cost-group').length,
          costVals: [...document.querySelectorAll('#costs .cost-val')].map((v) => v.textContent.trim()),
          costNote: q('#costs .note') ? q('#costs .note').textContent.trim() : '',
          loopsHidden: q('#panel-loops') ? q('#panel-loops').hidden : null
        };
      })()`);
      if ((t.filled > 0 && t.costs === 3) || Date.now() > deadline) break;
      await sleep(300);
    }
    if (k.runq_source) {
      check(/^[0-9][0-9,]*(\.[0-9]+)?% of a core/.test(t.runq || '') && t.runqHint === true,
        `run-queue wait shown as a number (kernel.runq_source = ${k.runq_source})`, `"${t.runq}", hint hidden ${t.runqHint}`);
    } else {
      check(t.runq === 'not measured' && t.runqHint === false, 'run-queue wait "not measured", with the reason',
        `"${t.runq}", runq_unavailable ${k.runq_unavailable}`);
    }
    /* The other branch, through the page's own module with the live snapshot
     * changed: runq_source null => "not measured" and runq_unavailable's text. */
    const nr = await evaluate(`import(new URL('header.js', location.href).href).then((m) => {
      const s = JSON.parse(JSON.stringify(window.tlDashboard.snapshot));
      s.kernel.runq_source = null;
      s.kernel.runq_unavailable = 'the kernel did not account run-queue wait in the self-test; set kernel.sched_schedstats=1';
      m.render(s);
      const r = { text: document.getElementById('h-runq').textContent.trim(), hidden: document.getElementById('runq-hint').hidden,
        why: document.getElementById('runq-why').textContent.trim() };
      m.render(window.tlDashboard.snapshot);
      return r;
    })`);
    check(nr.text === 'not measured' && nr.hidden === false && /sched_schedstats=1$/.test(nr.why),
      'with kernel.runq_source null the header says "not measured" and shows runq_unavailable', JSON.stringify(nr));
    check(t.bars === t.rows && t.three === t.rows && t.rows > 0, 'every thread row has a stacked period bar in three parts (on a core / ready, waiting / sleeping)',
      `${t.three} of ${t.rows} rows`);
    check(t.filled > 0, 'the period bars are filled from on_cpu_pct + runq_pct + sleep_pct', `${t.filled} filled`);
    check(t.coroOption, '#mode-select offers coro');
    check(t.coroHidden === (j.server.mode !== 'coro' && !((j.server.coro || {}).alive > 0)),
      `the coroutine panel is ${j.server.mode === 'coro' ? 'shown' : 'hidden'} in ${j.server.mode} mode`, `hidden ${t.coroHidden}`);
    const pids = (j.processes || []).map((p) => String(p.pid));
    check(pids.length > 0 && pids.every((p) => t.procs.includes(p)) && /RSS .* PSS .* USS /.test(t.procText),
      'the hierarchy panel has a box per process with RSS/PSS/USS', `boxes ${t.procs.join(',')}, /stats ${pids.join(',')}`);
    check(j.costs && j.costs.measured ? t.costs === 3 && t.costVals.every((v) => /^[0-9]/.test(v))
      : t.costs === 0 && (t.costNote.startsWith('not measured yet') || t.costNote.startsWith('the probe')),
    'the costs panel compares creation, memory and a round trip (process vs thread), or says it is not measured yet',
    `${t.costs} groups: ${t.costVals.join(' | ') || t.costNote}`);
    const nloops = ((j.server || {}).loops || []).length;
    check(t.loopsHidden === (nloops <= 1), `the loops panel is ${nloops > 1 ? 'shown' : 'hidden'} with ${nloops} loop(s)`);
  }

  /* switch the mode with the controls */
  const original = info.mode;
  const target = opts.switchMode || (original === 'async' ? 'pool' : 'async');
  async function switchTo(mode) {
    await evaluate(`(() => {
      const sel = document.getElementById('mode-select');
      sel.value = ${JSON.stringify(mode)};
      sel.dispatchEvent(new Event('change', { bubbles: true }));
      document.getElementById('apply-control').click();
    })()`);
    const deadline = Date.now() + 10000;
    let shown = null;
    while (Date.now() < deadline) {
      shown = await evaluate(`document.getElementById('server-mode').textContent.trim()`);
      if (shown === mode) return { ok: true, shown };
      await sleep(150);
    }
    const msg = await evaluate(`document.getElementById('control-result').textContent.trim()`);
    return { ok: false, shown, msg };
  }
  const sw = await switchTo(target);
  check(sw.ok, `switch mode ${original} → ${target} with #mode-select + #apply-control; #server-mode follows`,
    sw.ok ? '' : `#server-mode "${sw.shown}", control says "${sw.msg}"`);


  /* screenshot of the whole page */
  try {
    await sleep(600);                         // let the timeline frame land
    fs.mkdirSync(path.dirname(path.resolve(opts.screenshot)), { recursive: true });
    await page.screenshot({ path: opts.screenshot, fullPage: true, timeout: 30000 });
    const size = await evaluate('[document.documentElement.scrollWidth, document.documentElement.scrollHeight]');
    check(fs.statSync(opts.screenshot).size > 1000, `full-page screenshot written to ${opts.screenshot}`, `${size[0]}x${size[1]}`);
  } catch (e) {
    check(false, 'full-page screenshot', e.message.split('\n')[0]);
  }

  /* coro mode through the form: the coroutine panel appears with numbers and its chart */
  if (target !== 'coro') {
    const sc = await switchTo('coro');
    check(sc.ok, 'switch mode to coro with the form', sc.ok ? '' : `#server-mode "${sc.shown}", control says "${sc.msg}"`);
    let cp = null;
    const deadline = Date.now() + 8000;
    while (Date.now() < deadline) {
      cp = await evaluate(`(() => {
        const p = document.getElementById('panel-coro');
        const c = document.getElementById('chart-coro');
        return { hidden: p ? p.hidden : null, alive: (document.getElementById('coro-alive') || {}).textContent,
          switches: (document.getElementById('coro-switches') || {}).textContent,
          costs: document.querySelectorAll('#coro-cost .cost-row').length,
          chart: typeof Chart === 'function' && !!c && !!Chart.getChart(c) };
      })()`);
      if (cp.hidden === false && /^[0-9]/.test(cp.alive || '') && cp.chart) break;
      await sleep(200);
    }
    check(cp && cp.hidden === false && /^[0-9]/.test(cp.alive || '') && /^[0-9]/.test(cp.switches || '') &&
      cp.costs === 4 && cp.chart, 'in coro mode the coroutine panel shows alive/switches, the switch costs and its chart',
      JSON.stringify(cp));
    const rows = await evaluate(`[...document.querySelectorAll('#threads-body tr.role-worker td[data-col="coro_switches_rate"]')].map((td) => td.textContent.trim())`);
    check(rows.length > 0, 'worker rows have a coro switches /s cell', rows.slice(0, 4).join(', '));
  }

  if (opts.restore && sw.ok && ['async', 'pool', 'hybrid', 'coro'].includes(original) && original !== target) {
    const back = await switchTo(original);
    check(back.ok, `mode restored to ${original}`, back.ok ? '' : `#server-mode "${back.shown}", control says "${back.msg}"`);
  }

  /* The costs probe runs at nice 19: under the test's load it may report late. */
  {
    const deadline = Date.now() + 8000;
    let measured = false;
    let groups = 0;
    while (Date.now() < deadline) {
      const j = await (await fetch(new URL('/stats', origin), { cache: 'no-store' })).json();
      measured = !!(j.costs && j.costs.measured);
      groups = await evaluate(`document.querySelectorAll('#costs .cost-group').length`);
      if (measured && groups === 3) break;
      await sleep(300);
    }
    if (measured) check(groups === 3, 'once the probe reported, the costs panel shows its three comparisons', `${groups} groups`);
    else process.stdout.write('note - the costs probe had not reported by the end of the test\n');
    /* Render a snapshot like doc/stats-json.md's (a supervisor, a worker that
     * died once, measured costs) through the page's own module, and read the
     * DOM before the next live snapshot replaces it. */
    const fx = await evaluate(`import(new URL('processes.js', location.href).href).then((m) => {
      m.render({
        processes: [
          { pid: 4321, role: 'supervisor', index: null, state: 'running', uptime_s: 9, restarts: 0, last_exit: null,
            rss_kb: 2800, pss_kb: 800, uss_kb: 600, cpu_s: 0.1, cpu_pct: 1, nthreads: 2 },
          { pid: 4400, role: 'worker', index: 0, state: 'ready', uptime_s: 3.2, ready_ms: 31.5, restarts: 1,
            last_exit: { pid: 4300, how: 'signal 11 (SIGSEGV)', ago_s: 3.2, connections_lost: 5, tasks_lost: 2 },
            rss_kb: 2700, pss_kb: 800, uss_kb: 640, cpu_s: 0.4, cpu_pct: 12, nthreads: 7,
            connections_open: 3, requests: 400, tasks_in_flight: 0 }
        ],
        process_totals: { supervised: true, deaths: 1, accepted: 1200, requests: 5000 },
        costs: { repetitions: 100, measured: true, collected_at_uptime_s: 1.1, fork_to_ready_us: 250,
          pthread_create_to_running_us: 30, ipc_socketpair_round_trip_us: 15, shm_condvar_handoff_round_trip_us: 8,
          thread_stack_resident_kb: 8, thread_stack_mapped_kb: 8192, process_pss_kb: 800, process_uss_kb: 640,
          process_private_added_kb: 28, thread_private_added_kb: 8 },
        server: { loops: [] }
      });
      const exit = document.querySelector('#processes .proc[data-pid="4400"] .proc-exit');
      return { boxes: document.querySelectorAll('#processes .proc').length,
        exit: exit ? exit.textContent : '', exitColor: exit ? getComputedStyle(exit).color : '',
        groups: [...document.querySelectorAll('#costs .cost-group')].map((g) => g.getAttribute('data-cost') + ': ' +
          [...g.querySelectorAll('.cost-val')].map((v) => v.textContent).join(' vs ')) };
    })`);
    check(fx.boxes === 2 && /SIGSEGV/.test(fx.exit) && /^rgb\((1[5-9][0-9]|2[0-9][0-9]), [0-9]{1,2}, [0-9]{1,2}\)$/.test(fx.exitColor),
      'a documented snapshot renders a box per process, the last exit in red', `${fx.boxes} boxes, "${fx.exit}" ${fx.exitColor}`);
    check(fx.groups.length === 3 && /^creation: 250\.0 µs vs 30\.0 µs$/.test(fx.groups[0]) && /^memory: 28 KiB vs 8 KiB$/.test(fx.groups[1]),
      'and its costs: creation, memory, a round trip, process vs thread', fx.groups.join('; '));
  }

  check(pageErrors.length === 0, 'no script errors, console errors or failed loads in the page', pageErrors.slice(0, 3).join('; '));

  await crossSite(browser, origin, `http://127.0.0.1:${server.port}/static/cross-site.html`);
}

/* The mode in a /stats snapshot taken after this call. */
async function modeNow(origin) {
  const get = async () => (await fetch(new URL('/stats', origin), { cache: 'no-store' })).json();
  let j = await get();
  const seq = j.seq;
  const deadline = Date.now() + 10000;
  while (j.seq < seq + 2 && Date.now() < deadline) {
    await sleep(100);
    j = await get();
  }
  return (j.server || {}).mode;
}

/* What a hostile page can do, from another origin and from a DNS-rebinding

/* What a hostile page can do, from another origin and from a DNS-rebinding
 * name, in a page of its own: the console errors these provoke (CORS) are
 * expected here. */
async function crossSite(browser, origin, crossSiteUrl) {
  const before = await modeNow(origin);
  const target = before === 'async' ? 'pool' : 'async';
  const page = await browser.newPage();
  const evaluate = (expression) => page.evaluate(expression);
  const seen = [];
  page.on('response', (r) => {
    if (/\/control\b/.test(r.url())) seen.push(`${r.request().resourceType()} ${r.status()}`);
  });

  const hostile = new URL(crossSiteUrl);
  hostile.searchParams.set('admin', new URL(origin).port);
  hostile.searchParams.set('mode', target);
  let navErr = '';
  try { await page.goto(hostile.href, { waitUntil: 'load', timeout: 15000 }); } catch (e) { navErr = e.message.split('\n')[0]; }
  if (!check(!navErr, `open a page of another origin (${hostile.origin})`, navErr)) return;
  const res = await evaluate('window.xsite');
  const detail = Object.entries(res || {}).map(([k, v]) => `${k}: ${v}`).join('; ');
  check(res && res['fetch with X-Threadlab'] === 'blocked' && res['fetch with JSON'] === 'blocked',
    'a cross-origin fetch with the dashboard\'s header or JSON is stopped by the refused preflight', detail);
  check(res && res['form'] === 'submitted' && res['text/plain form'] === 'submitted' &&
    res['simple fetch'] === 'sent, answer unreadable', 'the auto-submitted forms and the simple fetch reached the observer', detail);
  const refused = seen.filter((x) => !/ 40[35]$/.test(x));
  check(seen.length >= 3 && refused.length === 0, 'the observer answered every cross-site /control with 403 or 405',
    seen.join(', '));
  const after = await modeNow(origin);
  check(after === before, `mode unchanged after the cross-site attempts (read from /stats)`, `${before} → ${after}`);

  /* DNS rebinding: the attacker's name now resolves to 127.0.0.1, so its
   * page is "same origin" with whatever listens there. */
  const evil = new URL(origin);
  evil.hostname = REBIND_HOST;
  let doc = null;
  navErr = '';
  try { doc = await page.goto(evil.href, { waitUntil: 'load', timeout: 15000 }); } catch (e) { navErr = e.message.split('\n')[0]; }
  if (!check(!navErr && doc, `open the observer as ${evil.origin}`, navErr || (doc ? '' : 'no response'))) return;
  check(doc.status() === 421, `${evil.origin}/ is refused with 421`, `${doc.status()}`);
  const tries = await evaluate(`(async () => {
    const s = await fetch('/stats', { cache: 'no-store' });
    const c = await fetch('/control?mode=${target}', { method: 'POST', headers: { 'X-Threadlab': '1' } });
    return { stats: s.status, control: c.status };
  })()`);
  check(tries.stats === 421 && tries.control === 421, 'the rebinding page can neither read /stats nor POST /control',
    `stats ${tries.stats}, control ${tries.control}`);
  const last = await modeNow(origin);
  check(last === before, 'mode unchanged after the rebinding attempt (read from /stats)', `${before} → ${last}`);
  await page.close();
}

/* Everything this test started, stopped by pid (never by name). */
const started = { server: null, wrk: [], browser: null };
async function cleanup() {
  for (const w of started.wrk.splice(0)) await w.stop().catch(() => {});
  if (started.browser) await started.browser.close().catch(() => {});
  started.browser = null;
  const server = started.server;
  started.server = null;
  return server ? server.stop() : null;
}

const hard = setTimeout(async () => {
  check(false, `whole test within ${opts.timeout} s`, 'hard timeout');
  await cleanup();
  res.finish();
  process.exit(1);
}, opts.timeout * 1000);

try {
  /* The docroot holds the hostile page for the cross-site part. */
  started.server = await startServer(['--mode', 'hybrid', '--threads', '4', '--docroot', path.join(here, 'fixtures')]);
  const { port } = started.server;
  /* Chromium first: on a busy machine it can take many seconds to start. */
  started.browser = await launchBrowser([`--host-resolver-rules=MAP ${REBIND_HOST} 127.0.0.1`]);
  /* Some load, so that threads, steps and charts have something to show;
   * bounded (-d) and stopped by pid at the end. */
  started.wrk.push(await startWrk(['-t1', '-c16', '-d120s', `http://127.0.0.1:${port}/task?steps=cpu:1,io:20,cpu:1`]));
  started.wrk.push(await startWrk(['-t1', '-c4', '-d120s', `http://127.0.0.1:${port}/plaintext`]));
  await sleep(1000);
  await main(started.server, started.browser);
} catch (e) {
  check(false, 'test ran to the end', e.message.split('\n')[0]);
}
clearTimeout(hard);
{
  const server = started.server;
  const code = await cleanup();
  if (server) check(code === 0, 'threadlab exits with status 0 after SIGTERM', code === 0 ? '' : `status ${code}\n${server.output()}`);
}
res.finish();
process.exit(process.exitCode);
