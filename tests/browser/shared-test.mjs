#!/usr/bin/env node
// Browser test: the "Shared memory" panel (www/shared.js).
//
// A server with 4 pool workers and --allow-deadlock: the panel is hidden
// until a shared step runs; two race:20000000 tasks at once lose updates,
// which the panel shows (its lost figure equals /stats' own, and the
// per-period series has a bar for them); two deadlock tasks at once are
// drawn as a cycle whose two thread nodes are exactly the tids /stats
// reports, with an arrow each way naming the wanted lock, and their rows
// in the thread table say "on lock N" and their lock-wait share. Then under
// --processes 2: a row per process's counter, the workers' sum, and the
// copy-on-write probe.
// Prints ok/FAIL lines and "N passed, M failed".
//
// usage: THREADLAB_BIN=./threadlab node tests/browser/shared-test.mjs
import net from 'node:net';
import { startServer, launchBrowser, strictPage, results, waitInPage, sleep } from './lib.mjs';

const r = results();

const stats = async (admin) => (await fetch(`http://127.0.0.1:${admin}/stats`)).json();

/* Sends a GET on its own connection and leaves it open (a deadlocked task
 * never answers); returns the socket. Loopback only. */
const sendRaw = (port, path) => new Promise((resolve, reject) => {
  const s = net.connect(port, '127.0.0.1', () => {
    s.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`);
    resolve(s);
  });
  s.on('error', reject);
});

const srv = await startServer(['--mode', 'pool', '--threads', '4', '--allow-deadlock', '--sample-ms', '100']);
const browser = await launchBrowser();
const socks = [];
try {
  const page = await strictPage(browser, r);
  await page.goto(`http://127.0.0.1:${srv.admin}/`);
  await waitInPage(page, () => window.tlDashboard && window.tlDashboard.snapshots > 1);
  r.check(await page.evaluate(() => document.getElementById('panel-shared').hidden),
    'the panel is hidden before any shared step');

  // Two long racing tasks at once (retried: a machine may run them apart).
  let lost = 0;
  for (let i = 0; i < 3 && lost === 0; i++) {
    await Promise.all([1, 2].map(() => fetch(`http://127.0.0.1:${srv.port}/task?steps=race:20000000`)));
    await sleep(400);
    lost = (await stats(srv.admin)).server.shared.lost;
  }
  r.check(lost > 0, 'two race tasks at once lost updates', `lost ${lost}`);
  // What the page shows must be what the snapshot it rendered says (a
  // loaded machine may deliver that snapshot late: wait for it).
  const shown = await waitInPage(page, () => {
    const s = window.tlDashboard.snapshot;
    const sh = s && s.server && s.server.shared;
    const t = document.getElementById('sh-lost');
    if (!sh || sh.lost <= 0 || sh.running !== 0 || document.getElementById('panel-shared').hidden) return null;
    const bs = [...document.querySelectorAll('#sh-lost-series .sh-bar')];
    const bars = bs.map((b) => Number(b.dataset.lost));
    const seqs = bs.map((b) => Number(b.dataset.seq));
    if (!bars.some((v) => v > 0) || seqs[seqs.length - 1] !== s.seq) return null;
    return { text: t.textContent, lost: sh.lost, bars, seqs };
  }, undefined, 30000);
  r.check(shown && shown.text.replace(/,/g, '').startsWith(String(shown.lost)) && shown.lost <= lost,
    'the panel shows the lost updates its snapshot counted', shown && `${shown.text} of ${shown.lost}`);
  // Every period since the page loaded (before any shared step) is in the
  // series when no snapshot was skipped: then the signed bars add up to
  // the total exactly.
  const bars = shown ? shown.bars : [];
  const sum = bars.reduce((a, b) => a + b, 0);
  const contiguous = shown && shown.seqs.every((q, i) => i === 0 || q === shown.seqs[i - 1] + 1);
  r.check(bars.some((v) => v > 0) && (!contiguous || sum === shown.lost),
    'the per-period series has bars for the lost updates (adding up to the total when no period was skipped)',
    `${bars.filter((v) => v !== 0).length} bars, sum ${sum}, contiguous ${contiguous}`);

  // A deadlock: drawn as the cycle of the two threads.
  socks.push(await sendRaw(srv.port, '/task?steps=deadlock'));
  socks.push(await sendRaw(srv.port, '/task?steps=deadlock'));
  let dl = null;
  for (let i = 0; i < 60 && !dl; i++) {
    await sleep(100);
    dl = (await stats(srv.admin)).server.shared.deadlocks[0] || null;
  }
  r.check(dl && dl.threads.length === 2, 'the server found the deadlock', JSON.stringify(dl));
  if (dl) {
    const want = dl.threads.map((t) => t.tid).sort((a, b) => a - b);
    const drawn = await waitInPage(page, (n) => {
      const nodes = [...document.querySelectorAll('#sh-deadlocks .sh-thread')];
      return nodes.length === n ? nodes.map((g) => Number(g.dataset.tid)) : null;
    }, 2, 30000);
    r.check(drawn && JSON.stringify(drawn.slice().sort((a, b) => a - b)) === JSON.stringify(want),
      'the cycle is drawn on the two deadlocked threads', `${drawn} vs ${want}`);
    const arrows = await page.evaluate(() => [...document.querySelectorAll('#sh-deadlocks .sh-wait')]
      .map((a) => ({ from: Number(a.dataset.from), to: Number(a.dataset.to), lock: Number(a.dataset.lock) })));
    const ok = arrows.length === 2 && dl.threads.every((t) =>
      arrows.some((a) => a.from === t.tid && a.lock === t.wants &&
        dl.threads.some((u) => u.tid === a.to && u.holds.includes(t.wants))));
    r.check(ok, 'each thread has an arrow to the holder of the lock it wants', JSON.stringify(arrows));
    const caption = await page.evaluate(() => document.querySelector('#sh-deadlocks figcaption').textContent);
    r.check(/holds lock \d and wants lock \d/.test(caption), 'the caption says who holds and wants what', caption);
    // The thread table answers "why is this thread sleeping": its lock.
    const cells = await waitInPage(page, (ts) => {
      const out = ts.map((t) => {
        const tr = document.querySelector(`#threads-table tr[data-tid="${t.tid}"]`);
        return tr && { wants: t.wants, doing: tr.querySelector('td.doing').textContent,
          period: tr.querySelector('td.period').textContent };
      });
      return out.every((c) => c && c.doing.startsWith(`on lock ${c.wants} `) &&
        Number((/lock wait (\d+)%/.exec(c.period) || [])[1]) >= 50) ? out : null;
    }, dl.threads.map((t) => ({ tid: t.tid, wants: t.wants })), 15000);
    r.check(cells !== null, 'each deadlocked thread\'s row says the lock it waits for and its lock-wait share',
      JSON.stringify(cells));
  }
  // A picture of the panel for a human (not a check: a loaded machine may
  // take too long to paint).
  await page.locator('#panel-shared').screenshot({
    path: (process.env.TL_SCREENSHOT || 'tests/dashboard.png').replace(/\.png$/, '-shared.png'), timeout: 20000,
  }).catch(() => {});
} catch (e) {
  r.check(false, 'test ran to the end', String(e && e.stack || e));
} finally {
  await browser.close();
  for (const s of socks) s.destroy();
  const code = await srv.stop();
  r.check(code === 0, 'the server stopped cleanly with its threads deadlocked', `exit ${code}`);
  if (r.failed) process.stdout.write(`server output:\n${srv.output()}\n`);
}

// --processes 2: the panel shows each process's counter (the supervisor's
// and each worker's, at one address) and the workers' sum, as /stats'
// processes[] says; and the copy-on-write probe's pages.
const fleet = await startServer(['--processes', '2', '--mode', 'pool', '--threads', '2', '--sample-ms', '100']);
const browser2 = await launchBrowser();
try {
  const page = await strictPage(browser2, r);
  await page.goto(`http://127.0.0.1:${fleet.admin}/`);
  await waitInPage(page, () => window.tlDashboard && window.tlDashboard.snapshots > 1);
  await Promise.all([1, 2, 3, 4].map(() => fetch(`http://127.0.0.1:${fleet.port}/task?steps=atomic:1000`)));
  const shown = await waitInPage(page, () => {
    const s = window.tlDashboard.snapshot;
    const ws = s && (s.processes || []).filter((p) => p.role === 'worker' && p.shared);
    const sum = ws ? ws.reduce((a, p) => a + p.shared.counter, 0) : 0;
    const row = document.getElementById('sh-procs-sum');
    if (document.getElementById('panel-shared').hidden || !row || sum !== 4000) return null;
    return { shownSum: Number(row.dataset.sum), sum, rows: document.querySelectorAll('#sh-procs tr[data-pid]').length,
      procs: s.processes.filter((p) => p.shared).length,
      counters: [...document.querySelectorAll('#sh-procs .sh-proc-counter')].map((t) => t.textContent) };
  }, undefined, 30000);
  r.check(shown && shown.shownSum === shown.sum, 'under --processes the panel shows the workers\' counters summed',
    JSON.stringify(shown));
  r.check(shown && shown.rows === shown.procs && shown.rows === 3, 'a row per process, supervisor and workers',
    JSON.stringify(shown));
  const cow = await page.evaluate(() => {
    const c = document.getElementById('sh-cow');
    return c && !c.hidden ? { shared: c.dataset.shared, text: c.textContent } : null;
  });
  r.check(cow && cow.shared === 'true' && /before its first write/.test(cow.text),
    'the copy-on-write probe is shown: shared before the child\'s write, its own after', JSON.stringify(cow));
} catch (e) {
  r.check(false, 'the --processes part ran to the end', String(e && e.stack || e));
} finally {
  await browser2.close();
  const code = await fleet.stop();
  r.check(code === 0, 'the --processes server stopped cleanly', `exit ${code}`);
  if (r.failed) process.stdout.write(`server output:\n${fleet.output()}\n`);
  r.finish();
}
