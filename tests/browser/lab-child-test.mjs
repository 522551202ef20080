#!/usr/bin/env node
// Browser test: the "Lab: child server" panel (www/lab-child.js).
//
// crash-isolation runs its two variants in child servers the lab starts
// (one process with --allow-crash, then --processes 2). The panel is
// hidden before; started from its button, the focused view shows it while
// a child runs (in place of this server's process boxes); it shows that child: its pid (the
// one GET /lab/runs names, not this server's), and under --processes 2
// one row per process of the child, the same pids as the child's own
// /stats; after the run it hides again and every child pid is gone.
// Prints ok/FAIL lines and "N passed, M failed".
//
// usage: THREADLAB_BIN=./threadlab node tests/browser/lab-child-test.mjs
import { startServer, launchBrowser, strictPage, results, waitInPage, sleep, keepShot } from './lib.mjs';

const r = results();
const srv = await startServer(['--mode', 'pool', '--threads', '2', '--sample-ms', '200']);
const browser = await launchBrowser();
const seen = new Set();
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
try {
  const page = await strictPage(browser, r);
  await page.goto(`http://127.0.0.1:${srv.admin}/`);
  await waitInPage(page, () => window.tlDashboard && window.tlDashboard.snapshots > 1);
  r.check(await page.evaluate(() => document.getElementById('panel-lab-child').hidden),
    'the panel is hidden while no child server runs');
  // Started from its button, as a newcomer would: the focused view opens.
  const [run] = await Promise.all([
    page.waitForResponse((x) => x.url().includes('/lab/run?id=crash-isolation')),
    page.click('#lab-list .lab-exp[data-id="crash-isolation"] button.lab-run')]);
  r.check(run.status() === 202, 'crash-isolation starts (no 422)', `status ${run.status()}`);

  // Under --processes 2 (the second variant): a row per process of the child.
  let shown = null, crashRow = null;
  for (let t0 = Date.now(); Date.now() - t0 < 40000 && !shown; await sleep(300)) {
    const runs = await (await fetch(`http://127.0.0.1:${srv.admin}/lab/runs`)).json();
    const ch = runs.running && runs.running.child;
    if (ch && ch.pid) seen.add(ch.pid);
    // The one-process child crashed: its row says so (not its last "running").
    if (ch && runs.running.variant === 0 && ch.state === 'exited' && !crashRow) {
      crashRow = await waitInPage(page, (pid) => {
        const tr = [...document.querySelectorAll('#lab-child-rows tr')].find((x) => x.children[0].textContent === String(pid));
        return tr && /SIGSEGV/.test(tr.children[4].textContent) ? [...tr.children].map((td) => td.textContent) : null;
      }, ch.pid, 4000);
      r.check(crashRow && crashRow[2] === 'exited', "the crashed child's row says it exited and how, not \"running\"",
        JSON.stringify(crashRow));
      crashRow = crashRow || 'checked';
    }
    if (!ch || runs.running.variant !== 1 || ch.state !== 'running') continue;
    shown = await waitInPage(page, (pid) => {
      const m = window.tlDashboard.labChild();
      const panel = document.getElementById('panel-lab-child');
      if (!m || panel.hidden || m.lab_child.pid !== pid) return null;
      const rows = [...document.querySelectorAll('#lab-child-rows tr')].map((tr) => tr.children[0].textContent);
      const want = m.processes.map((p) => String(p.pid));
      if (rows.length < 3 || rows.join() !== want.join()) return null;
      const focus = document.getElementById('lab-focus-evidence');
      const box = panel.getBoundingClientRect();
      return { head: document.getElementById('lab-child-head').textContent, rows, roles: m.processes.map((p) => p.role),
        inFocus: !document.getElementById('lab-focus').hidden && focus.contains(panel) && box.height > 0 &&
          box.top < window.innerHeight,
        parentBoxes: focus.contains(document.getElementById('panel-processes')) };
    }, ch.pid, 8000);
    if (shown) shown.pid = ch.pid;
  }
  r.check(crashRow !== null, 'the one-process child was seen crashed');
  r.check(shown !== null, 'the panel shows the --processes 2 child: one row per process of its own /stats',
    shown && `${shown.rows.join(',')} (${shown.roles.join(',')})`);
  // The focused view shows the child server's picture, not this server's
  // one idle process beside the run.
  r.check(shown && shown.inFocus, "the focused view shows the child's panel while the run goes, on screen",
    shown && JSON.stringify({ inFocus: shown.inFocus }));
  r.check(shown && !shown.parentBoxes, "the focused view does not show this server's idle process boxes");
  r.check(shown && shown.head.startsWith(`pid ${shown.pid} `) && shown.pid !== srv.pid,
    "the head names the child's pid, not this server's", shown && `${shown.head} / server ${srv.pid}`);
  r.check(shown && shown.roles.includes('supervisor') && shown.roles.filter((x) => x === 'worker').length === 2,
    'the child is a supervisor with 2 workers', shown && shown.roles.join(','));

  // The run ends: the panel hides, the children are gone.
  const over = await waitInPage(page, () => document.getElementById('panel-lab-child').hidden &&
    window.tlDashboard.labChild() === null, undefined, 30000);
  r.check(over !== null, 'the panel hides once no child runs');
  await sleep(500);
  r.check(seen.size >= 2 && [...seen].every((p) => !alive(p)), 'both children are gone', [...seen].join(','));
} catch (e) {
  r.check(false, 'test ran to the end', String(e && e.stack || e));
} finally {
  await browser.close();
  const code = await srv.stop();
  r.check(code === 0, 'the server stopped cleanly', `exit ${code}`);
  if (r.failed) process.stdout.write(`server output:\n${srv.output()}\n`);
  r.finish();
}
