// The Lab panel (www/lab.js) in Chromium: the experiments are listed with
// their questions, Run starts one (process-threads: 3 workers, 3 s of
// /plaintext), the progress bar moves, and the verdict shown is the
// server's (predicted 3 worker threads, measured 3, settings restored),
// with the kernel's evidence and the runs chart.
// The focused run view (1400x900, no scrolling): opened by Run, it holds
// the question, the variants and the idea's evidence panels (moved there,
// put back on Escape); a finished run replays from its kept snapshots; a
// second run (one-core) clears the first result from view. When the
// observer's experiments have `variants`, both runs' variants must show
// their figures and a verdict consistent with them; without (an older
// observer), those checks are reported as SKIP lines with the reason.
// Both runs are read as a person would: each variant's box with its
// figure and its unit once, the server's verdict words naming each
// variant's figure, the kernel evidence in a column per variant.
// Then the page alone against the variants contract (GET /lab with
// variants and the `lab` events given to the page through page.route and a
// recording EventSource): a restart-needing experiment runs, each variant
// shows its progress and then its figures, the verdict is the one given.
import { startServer, launchBrowser, strictPage, results, waitInPage, sleep, keepShot } from './lib.mjs';

const r = results();
/* The server's figure in words (lab_verdict's fig: 3 significant digits,
 * none after the point from 100 on) and what a person reads of a run:
 * each variant's box, the verdict, the evidence table. */
const cfig = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : String(Number(v.toPrecision(3))));
const count = (hay, needle) => (needle ? hay.split(needle).length - 1 : 0);
const viewOf = (page) => page.evaluate(() => ({
  boxes: [...document.querySelectorAll('#lab-focus-variants .lab-variant')].map((b) => ({
    label: b.querySelector('.lab-variant-label').textContent, fig: b.querySelector('.lab-variant-fig').textContent,
    settings: (b.querySelector('.lab-variant-head .lab-meta') || { textContent: '' }).textContent,
    extra: [...b.querySelectorAll('.lab-variant-extra')].map((x) => x.textContent) })),
  verdict: document.getElementById('lab-focus-verdict').textContent,
  head: [...document.querySelectorAll('#lab-evidence thead th')].map((x) => x.textContent),
}));
/* Both variants' numbers, the verdict's words, each unit once. */
function sideBySide(what, run, view) {
  const vs = run.variants;
  if (run.status !== 'done') {
    /* wrk late on a loaded machine: no figures to read, said so. */
    process.stdout.write(`SKIP - ${what}: both variants' figures and the verdict's words (the run ${run.status}: ${run.reason})\n`);
    return;
  }
  r.check(vs.length >= 2 && view.boxes.length === vs.length, `${what}: a box per variant`, `${view.boxes.length} of ${vs.length}`);
  vs.forEach((v, i) => {
    const box = view.boxes[i] || { fig: '', label: '' };
    const u = v.unit === 'us' ? 'µs' : v.unit;
    const want = `measured ${Number.isInteger(v.measured) ? v.measured : v.measured.toFixed(Math.abs(v.measured) >= 100 ? 0 : Math.abs(v.measured) >= 10 ? 1 : 2)} ${u}`;
    r.check(box.label === v.label && box.fig.startsWith(want) && count(box.fig, u) === 1,
      `${what}: "${v.label}" shows its figure, its unit once`, `${box.label}: ${box.fig}`);
    r.check(box.settings.includes(`${v.settings.threads} workers, on CPUs ${v.settings.worker_cpus}`),
      `${what}: "${v.label}" shows the settings read back`, box.settings);
    r.check(view.verdict.includes(`${v.label}: ${cfig(v.measured)} ${u}`) && !view.verdict.includes(`${u}: ${cfig(v.measured)} ${u}`),
      `${what}: the verdict says "${v.label}: ${cfig(v.measured)} ${u}", the unit not twice`, view.verdict.slice(0, 160));
  });
  r.check(view.verdict.includes(run.verdict.text), `${what}: the verdict shown is the server's words`, run.verdict.text.slice(0, 200));
  r.check(vs.every((v) => view.head.includes(v.label)), `${what}: the kernel evidence has a column per variant`, view.head.join(' | '));
}
const srv = await startServer(['--threads', '2', '--sample-ms', '200']);
const browser = await launchBrowser();
try {
  const page = await strictPage(browser, r);
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto(`http://127.0.0.1:${srv.admin}/`);
  /* The first load of the page on a loaded 2-core machine: generous. */
  const n = await waitInPage(page, () => document.querySelectorAll('#lab-list .lab-exp').length >= 11 &&
    document.querySelectorAll('#lab-list .lab-exp').length, null, 45000);
  r.check(n >= 11, 'the Lab lists one experiment per idea', `${n}`);
  const q = await page.textContent('#lab-list .lab-exp[data-id="one-core"] .lab-q');
  r.check(/ONE core/.test(q || ''), 'each experiment asks its question in plain words', q);
  /* The progress line and the Cancel button are recorded in the page as
   * they change (a MutationObserver): a 3 s run can be over before the next
   * poll when the machine is loaded. */
  await page.evaluate(() => {
    window.tlSeenProgress = null;
    const look = () => {
      const box = document.getElementById('lab-progress');
      const text = document.getElementById('lab-progress-text').textContent;
      if (!window.tlSeenProgress && !box.hidden && /s left, .* req\/s so far/.test(text)) {
        window.tlSeenProgress = { text, cancelOn: !document.getElementById('lab-cancel').disabled };
      }
      const f = document.getElementById('lab-focus');
      if (!window.tlSeenFocus && !f.hidden && document.querySelector('#lab-focus-variants .lab-variant.running')) {
        window.tlSeenFocus = { q: document.getElementById('lab-focus-q').textContent,
          state: document.querySelector('#lab-focus-variants .lab-variant.running .lab-variant-state').textContent };
      }
      /* A finished variant's figure while the next one is still to run
       * (its record's own event, before the result). */
      const doneFig = document.querySelector('#lab-focus-variants .lab-variant.done .lab-variant-fig');
      if (!window.tlSeenEarly && !f.hidden && doneFig && /measured/.test(doneFig.textContent) &&
          document.querySelector('#lab-focus-variants .lab-variant.running, #lab-focus-variants .lab-variant.waiting')) {
        window.tlSeenEarly = doneFig.textContent;
      }
    };
    new MutationObserver(look).observe(document.getElementById('panel-lab'),
      { subtree: true, childList: true, attributes: true, characterData: true });
  });
  await page.click('#lab-list .lab-exp[data-id="process-threads"] button.lab-run');
  const seen = await waitInPage(page, () => window.tlSeenProgress, null);
  await keepShot(page, { path: `${process.env.TL_SHOTS || '/tmp'}/lab-focus-run.png` });
  r.check(!!seen, 'a progress line with time left and req/s so far', seen && seen.text);
  r.check(!!seen && seen.cancelOn, 'Cancel is enabled while the run runs');
  const verdict = await waitInPage(page, () => {
    const v = document.getElementById('lab-verdict');
    return !v.hidden && /process-threads \(done\)/.test(v.textContent) && v.textContent;
  }, null, 25000);
  r.check(!!verdict, 'the verdict appears after the run',
    verdict ? verdict.slice(0, 160) : `status: ${await page.textContent('#lab-status')}; /lab running: ${
      JSON.stringify((await (await fetch(`http://127.0.0.1:${srv.admin}/lab`)).json()).running)}`);
  const runs1 = (await (await fetch(`http://127.0.0.1:${srv.admin}/lab/runs`)).json()).runs;
  const run1 = runs1[runs1.length - 1] || {};
  if (Array.isArray(run1.variants) && run1.variants.length) {
    /* Variants (Lab 2): the page says the server's own verdict, computed
     * from the variants' figures, and the first variant's 3 workers. */
    const vtext = (run1.verdict && run1.verdict.text) || '';
    r.check(vtext.length > 0 && (verdict || '').includes(vtext.slice(0, 40)), 'the page shows the server\'s verdict',
      `${vtext.slice(0, 80)} | ${(verdict || '').slice(0, 80)}`);
    r.check(run1.variants[0].measured === 3 && run1.variants[1].measured === 6 && run1.verdict.consistent === true,
      'process-threads measured 3 and 6 worker threads, as its variants say', JSON.stringify(run1.variants.map((v) => v.measured)));
    sideBySide('process-threads', run1, await viewOf(page));
    r.check(!/worker threads: 3 worker threads/.test(run1.verdict.text), 'process-threads: never "3 worker threads: 3 worker threads"',
      run1.verdict.text);
  } else {
    r.check(/predicted 3, measured 3 \(ratio 1\.00\)/.test(verdict || ''), 'the verdict has predicted, measured and ratio');
    r.check(/within the tolerance/.test(verdict || ''), 'the verdict says within the tolerance');
  }
  r.check(/settings restored: yes/.test(verdict || ''), 'the settings were restored');
  const cls = await page.getAttribute('#lab-verdict', 'class');
  r.check(/\bok\b/.test(cls || ''), 'the verdict is marked as agreeing', cls);
  const rows = await page.$$eval('#lab-evidence-body tr', (t) => t.map((x) => x.textContent));
  r.check(rows.some((t) => /worker threads/.test(t)), 'the kernel evidence table is shown', rows.join(' | ').slice(0, 200));
  const prog = await page.evaluate(() => [window.tlLab.progressEvents, window.tlLab.lastProgress]);
  /* The last event may be a variant's restore (no load figures then); the
   * line with time left and req/s so far was seen above. */
  r.check(prog[0] >= 1 && (/"elapsed_s":[0-9.]+,"left_s":[0-9.]+,"rps_so_far":[0-9.]+/.test(prog[1] || '') ||
    /"phase":"(restore|done)"/.test(prog[1] || '')),
    'progress came from the stream: elapsed, time left, req/s so far', `${prog[0]} events; last ${(prog[1] || '').slice(0, 140)}`);
  const hidden = await page.evaluate(() => getComputedStyle(document.getElementById('lab-progress')).display === 'none');
  r.check(hidden, 'the progress bar goes away with the result');
  const bars = await page.evaluate(() => window.tlLab.runs.length);
  r.check(bars === 1, 'the run is in the runs list (bars)', `${bars}`);
  const server = await (await fetch(`http://127.0.0.1:${srv.admin}/lab/runs`)).json();
  const m0 = server.runs.length === 1 && (Array.isArray(server.runs[0].variants) && server.runs[0].variants.length
    ? server.runs[0].variants[0].measured : server.runs[0].measured);
  r.check(m0 === 3, 'the page shows what the server measured', `${m0}`);

  /* ---- the focused view ---- */
  const shots = process.env.TL_SHOTS || '/tmp';
  const focus = await page.evaluate(() => {
    const f = document.getElementById('lab-focus');
    const b = f.getBoundingClientRect();
    const ev = document.getElementById('lab-focus-evidence');
    return { open: !f.hidden, w: b.width, h: b.height, scroll: document.scrollingElement.scrollHeight > innerHeight &&
      getComputedStyle(document.body).overflow !== 'hidden', fits: f.scrollHeight <= innerHeight + 1,
    panels: [...ev.children].map((c) => c.id), variants: document.querySelectorAll('#lab-focus-variants .lab-variant').length,
    q: document.getElementById('lab-focus-q').textContent, verdict: document.getElementById('lab-focus-verdict').textContent };
  });
  r.check(focus.open, 'Run opens the focused view');
  const seenFocus = await page.evaluate(() => window.tlSeenFocus);
  const early = await page.evaluate(() => window.tlSeenEarly || null);
  r.check(!!early && /^measured 3 /.test(early), 'the first variant\'s figure shows as soon as it is done, the second still running',
    early);
  r.check(!!seenFocus && /one process with many threads/.test(seenFocus.q), 'during the run it asks the question, a variant running',
    seenFocus && `${seenFocus.q.slice(0, 60)} · ${seenFocus.state}`);
  r.check(focus.fits && !focus.scroll && focus.w <= 1400 && focus.h <= 900, 'the focused view fits 1400x900 without scrolling',
    `${focus.w}x${focus.h}`);
  r.check(focus.panels.includes('panel-threads') && focus.panels.includes('panel-processes'),
    'the evidence panels (threads, processes) sit beside the variants', focus.panels.join(','));
  r.check(focus.variants >= 1 && /measured 3/.test(focus.verdict + await page.textContent('#lab-focus-variants')),
    'the focused view shows the measured figure', `${focus.variants} variant(s)`);
  /* Half the width: the Threads table shows the experiment's columns,
   * says which it left out, and fits without scrolling sideways. */
  const tcols = await page.evaluate(() => {
    const wrap = document.querySelector('#panel-threads .table-wrap');
    return { heads: document.querySelectorAll('#threads-table thead th.sortable').length,
      rowCells: (document.querySelector('#threads-body tr[data-tid]') || { children: [] }).children.length,
      scrollW: wrap.scrollWidth, boxW: wrap.clientWidth,
      line: document.getElementById('threads-cols').hidden ? '' : document.getElementById('threads-cols').textContent };
  });
  r.check(tcols.heads < 16 && tcols.rowCells === tcols.heads && tcols.scrollW <= tcols.boxW + 1 &&
    /left out here: .*allowed/.test(tcols.line), 'in the focused view the Threads table fits: its experiment\'s columns, the rest named',
    `${tcols.heads} columns, ${tcols.rowCells} cells, ${tcols.scrollW} <= ${tcols.boxW}; ${tcols.line}`);
  await keepShot(page, { path: `${shots}/lab-focus-done.png` });
  const replay = await waitInPage(page, () => !document.getElementById('lab-replay').hidden &&
    Number(document.getElementById('lab-scrub').max), null, 5000);
  r.check(replay >= 2, 'a finished run can be replayed from its kept snapshots', `${replay} snapshot(s) after the first`);
  if (replay >= 2) {
    await page.$eval('#lab-scrub', (e) => { e.value = '0'; e.dispatchEvent(new Event('input')); });
    const at = await page.evaluate(() => [window.tlLab.replaying, window.tlDashboard.paused,
      document.getElementById('lab-replay-text').textContent]);
    r.check(at[0] === 0 && at[1] === true, 'scrubbing replays the first kept snapshot and pauses the live view', at[2]);
    await page.click('#lab-replay-live');
    r.check(await page.evaluate(() => window.tlLab.replaying === null && !window.tlDashboard.paused), '"live" ends the replay');
  }
  await page.keyboard.press('Escape');
  const back = await page.evaluate(() => [document.getElementById('lab-focus').hidden,
    document.getElementById('panel-threads').parentElement.tagName, document.getElementById('panel-threads').previousElementSibling.id]);
  r.check(back[0] && back[1] === 'MAIN' && back[2] === 'panel-insights', 'Escape leaves it: the panels are back in their place', back.join(','));
  const allCols = await page.evaluate(() => [document.querySelectorAll('#threads-table thead th.sortable').length,
    document.getElementById('threads-cols').hidden]);
  r.check(allCols[0] === 16 && allCols[1], 'back on the dashboard the Threads table has all its columns', allCols.join(','));

  /* ---- a second experiment: the first result leaves the view ---- */
  const lab = await (await fetch(`http://127.0.0.1:${srv.admin}/lab`)).json();
  const hasVariants = lab.experiments.some((x) => Array.isArray(x.variants) && x.variants.length);
  await page.evaluate(() => { window.tlSeenFocus = null; window.tlCleared = null; });
  await page.click('#lab-list .lab-exp[data-id="one-core"] button.lab-run');
  const cleared = await page.evaluate(() => [document.getElementById('lab-verdict').hidden,
    document.getElementById('lab-focus-verdict').hidden, document.getElementById('lab-focus').hidden]);
  r.check(cleared[0] && cleared[1] && !cleared[2], 'a new run clears the previous result from view', cleared.join(','));
  const running = await waitInPage(page, () => window.tlSeenFocus, null);
  r.check(!!running && /ONE core/.test(running.q), 'one-core runs in the focused view', running && running.state);
  const lanesIn = await page.evaluate(() => document.getElementById('panel-lanes').parentElement.id);
  r.check(lanesIn === 'lab-focus-evidence', 'one-core shows the lanes beside it', lanesIn);
  await keepShot(page, { path: `${shots}/lab-focus-one-core.png` });
  const v2 = await waitInPage(page, () => {
    const v = document.getElementById('lab-focus-verdict');
    return !v.hidden && window.tlLab.lastResult && window.tlLab.lastResult.id === 'one-core' && v.textContent;
  }, null, 60000);
  r.check(!!v2, 'the one-core verdict appears in the focused view', v2 && v2.slice(0, 120));
  const runs2 = await page.evaluate(() => window.tlLab.runs.map((x) => x.id));
  r.check(runs2.length === 2 && runs2[0] === 'process-threads', 'the first run stays in the runs list', runs2.join(','));
  const units = await page.$$eval('#lab-focus-charts .chart-box', (b) => b.map((x) => x.dataset.unit));
  r.check(units.length >= 1 && units.every((u) => u && !/[,+]/.test(u)),
    'one unit per chart in the focused view', units.join(','));

  /* ---- variants (labback's contract) ---- */
  const skip = (what, why) => process.stdout.write(`SKIP - ${what} (${why})\n`);
  if (!hasVariants) {
    skip('each variant of both runs shows its measured figure', 'this observer has no variants in GET /lab');
    skip('the verdict is consistent with the variants\' figures', 'this observer has no variants in GET /lab');
  } else {
    const server = (await (await fetch(`http://127.0.0.1:${srv.admin}/lab/runs`)).json()).runs;
    const last = server[server.length - 1];
    const shown = await page.$$eval('#lab-focus-variants .lab-variant', (b) => b.map((x) => x.textContent));
    r.check(last.variants.length >= 2 && shown.length === last.variants.length, 'each variant has its box', `${shown.length}`);
    const fig = (v) => (Number.isInteger(v) ? String(v) : typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2)) : 'n/a');
    r.check(last.variants.every((v, i) => (shown[i] || '').includes(`measured ${fig(v.measured)}`)),
      'each variant shows what the server measured', shown.map((t) => t.slice(0, 60)).join(' | '));
    const cls = await page.getAttribute('#lab-focus-verdict', 'class');
    const okWanted = last.verdict && last.verdict.consistent;
    r.check(new RegExp(`\\b${okWanted ? 'ok' : 'bad'}\\b`).test(cls || '') && (v2 || '').includes(last.verdict.text),
      'the verdict shown is the server\'s, marked as its figures say', `${cls}: ${last.verdict.text}`);
    sideBySide('one-core', last, await viewOf(page));
    /* The replay draws the lanes too, from the slices they logged during
     * the run (where the kernel gives slices here). */
    const lm = await page.evaluate(() => window.tlDashboard.lanes());
    if (!lm.source || lm.source === 'sampled') {
      process.stdout.write(`SKIP - the replay draws the lanes (no slices here: source ${lm.source})\n`);
    } else {
      r.check(lm.recorded > 0, 'the lanes logged the run\'s slices for its replay', `${lm.recorded}`);
      await waitInPage(page, () => !document.getElementById('lab-replay').hidden, null, 5000);
      await page.$eval('#lab-scrub', (e) => { e.value = String(Math.floor(Number(e.max) / 2)); e.dispatchEvent(new Event('input')); });
      const rp = await page.evaluate(() => [window.tlLab.replayable, window.tlDashboard.lanes().replaying,
        document.getElementById('lab-replay-text').textContent]);
      r.check(rp[0].includes('panel-lanes') && rp[1] === true && !/lanes: live only/.test(rp[2]),
        'the replay draws the lanes at the kept snapshot\'s time', `${rp[0].join(',')} · replaying ${rp[1]} · ${rp[2]}`);
      await keepShot(page, { path: `${shots}/lab-focus-one-core-replay.png` });
      await page.click('#lab-replay-live');
      const back = await page.evaluate(() => window.tlDashboard.lanes().replaying);
      r.check(back === false, '"live" gives the lanes back their live view');
    }
    const ratiosOk = last.variants.every((v) => typeof v.measured !== 'number' || typeof v.predicted !== 'number' || !v.predicted ||
      typeof v.ratio !== 'number' || Math.abs(v.ratio - v.measured / v.predicted) < 0.05 * Math.max(1, v.ratio));
    r.check(ratiosOk, 'each variant\'s ratio is its measured over its predicted');
    const all = await page.evaluate(() => { const b = document.getElementById('lab-run-all'); return [b.hidden, b.textContent]; });
    r.check(!all[0] && /about \d+ min/.test(all[1]), 'Run all says how long it takes', all[1]);
  }
  await page.keyboard.press('Escape');
  await keepShot(page, { path: process.env.LAB_SCREENSHOT || '/tmp/lab-panel.png', fullPage: true,
    clip: await page.$eval('#panel-lab', (e) => { const b = e.getBoundingClientRect(); return { x: b.x, y: b.y + window.scrollY, width: b.width, height: b.height }; }) }).catch(() => {});

  /* ---- the page against the variants contract (a fixture) ---- */
  const p2 = await strictPage(browser, r);
  await p2.setViewportSize({ width: 1400, height: 900 });
  await p2.addInitScript(() => {
    const ES = window.EventSource;
    window.tlSources = [];
    window.EventSource = class extends ES { constructor(u) { super(u); window.tlSources.push(this); } };
    window.tlGive = (d) => { for (const e of window.tlSources) e.dispatchEvent(new MessageEvent('lab', { data: JSON.stringify(d) })); };
  });
  const V = [
    { id: 'one', label: 'one process', setup: { processes: 1 }, needs_child: true, predicted: 0, unit: 'survivors' },
    { id: 'two', label: '--processes 2', setup: { processes: 2 }, needs_child: true, predicted: 1, unit: 'survivors' }];
  await p2.route(/\/lab$/, async (route) => {
    const res = await route.fetch();
    const j = await res.json();
    for (const x of j.experiments) x.variants = x.id === 'crash-isolation' ? V : undefined;
    return route.fulfill({ response: res, json: j });
  });
  await p2.route(/\/lab\/run\?/, (route) => route.fulfill({ status: 202, contentType: 'application/json', body: '{"run":9}' }));
  await p2.goto(`http://127.0.0.1:${srv.admin}/`);
  await waitInPage(p2, () => document.querySelectorAll('#lab-list .lab-exp').length >= 11, null);
  const btn = await p2.$eval('#lab-list .lab-exp[data-id="crash-isolation"] button', (b) => [b.textContent, b.disabled]);
  r.check(btn[0] === 'Run' && !btn[1], 'fixture: a restart-needing experiment with variants can run', btn.join(','));
  const allBtn = await p2.$eval('#lab-run-all', (b) => [b.hidden, b.textContent]);
  r.check(!allBtn[0] && /Run all \(about \d+ min \d+ s\)/.test(allBtn[1]), 'fixture: Run all says how long', allBtn[1]);
  r.check(await p2.$eval('#lab-report', (a) => !a.hidden && a.getAttribute('href') === '/lab/report'), 'fixture: the report is linked');
  await p2.click('#lab-list .lab-exp[data-id="crash-isolation"] button.lab-run');
  await waitInPage(p2, () => window.tlSources.length > 0, null);
  await p2.evaluate(() => window.tlGive({ type: 'progress', id: 'crash-isolation', run: 9, variant: 1, variant_id: 'two', nvariants: 2,
    phase: 'load', elapsed_s: 2, left_s: 3, rps_so_far: 1000 }));
  const live = await p2.$$eval('#lab-focus-variants .lab-variant.running .lab-variant-ev', (b) => b.map((x) => x.textContent));
  r.check(live.length === 1 && /^1,000 req\/s so far/.test(live[0]), 'fixture: the running variant\'s req/s so far', live.join(''));
  const states = await p2.$$eval('#lab-focus-variants .lab-variant', (b) => b.map((x) => `${x.className}|${x.querySelector('.lab-variant-state').textContent}`));
  r.check(states.length === 2 && /done\|done/.test(states[0]) && /running\|load, 3\.0 s left/.test(states[1]),
    'fixture: the first variant done, the second loading with its time left', states.join(' / '));
  // Its variants run in child servers: the focused view holds the child's
  // panel, not this server's (idle) process boxes.
  const procIn = await p2.evaluate(() => ['panel-lab-child', 'panel-processes']
    .map((id) => document.getElementById(id).parentElement.id));
  r.check(procIn[0] === 'lab-focus-evidence' && procIn[1] !== 'lab-focus-evidence',
    "fixture: crash-isolation shows the child server's panel, not this server's process boxes", procIn.join(','));
  // Its panel looks for the child often enough to see it start and crash
  // (1 s into the load): at least 4 looks in 4 s (every 2 s would be 2-3).
  let looks = 0;
  p2.on('request', (q) => { if (q.url().endsWith('/lab/child/stats')) looks++; });
  await sleep(4000);
  r.check(looks >= 4, "fixture: in the focused view the child's panel looks for a child every 500 ms", `${looks} in 4 s`);
  await keepShot(p2, { path: `${shots}/lab-focus-variants-run.png` });
  const verdictText = 'one process: the server died; --processes 2: one worker died, one served on';
  await p2.evaluate((text) => window.tlGive({ type: 'result', result: { run: 9, id: 'crash-isolation', status: 'done',
    variants: [
      { id: 'one', label: 'one process', settings: { mode: 'pool', threads: 2, processes: 1 }, measured: 0, predicted: 0, ratio: null, unit: 'survivors', evidence: {}, series: [5000, 0, 0] },
      { id: 'two', label: '--processes 2', settings: { mode: 'pool', threads: 2, processes: 2 }, measured: 1, predicted: 1, ratio: 1, unit: 'survivors',
        evidence: { worker_pids: { before: [11, 12], after: [11, 13] }, restarts: 1 }, series: [9000, 4000, 8000] }],
    verdict: { text, consistent: true } } }), verdictText);
  const done = await p2.evaluate(() => ({ figs: [...document.querySelectorAll('#lab-focus-variants .lab-variant-fig')].map((x) => x.textContent),
    settings: [...document.querySelectorAll('#lab-focus-variants .lab-variant .lab-meta')].map((x) => x.textContent),
    ev: [...document.querySelectorAll('#lab-focus-variants .lab-variant-ev')].map((x) => x.textContent),
    verdict: document.getElementById('lab-focus-verdict').textContent, cls: document.getElementById('lab-focus-verdict').className,
    units: [...document.querySelectorAll('#lab-focus-charts .chart-box')].map((b) => b.dataset.unit) }));
  r.check(/^measured 0 survivors/.test(done.figs[0] || '') && /^measured 1 survivors .* ratio 1\.00/.test(done.figs[1] || ''),
    'fixture: each variant shows its measured figure', done.figs.join(' | '));
  r.check(/2 worker processes/.test(done.settings[1] || '') && /1 worker process\b/.test(done.settings[0] || ''), 'fixture: the settings read back are shown', done.settings.join(' | '));
  r.check(done.ev.length === 1 && done.ev[0] === 'worker pids 11, 12 → 11, 13 · restarts 1', 'fixture: a variant\'s evidence is shown',
    done.ev.join(' | '));
  r.check(done.verdict.includes(verdictText) && /\bok\b/.test(done.cls), 'fixture: the verdict is the given one, marked consistent', done.cls);
  r.check(done.units.join(',') === 'survivors,req/s', 'fixture: survivors and req/s on separate charts', done.units.join(','));
  await keepShot(p2, { path: `${shots}/lab-focus-variants-done.png` });
} finally {
  await browser.close();
  r.check((await srv.stop()) === 0, 'the server exits cleanly');
  r.finish();
}
