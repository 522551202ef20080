#!/usr/bin/env node
// Browser test: the Lab's focused view read while a run goes (1400x900).
// lock-contention is started from its Run button (2, 8, then 32 workers
// holding one lock): while its workers wait on the lock, the Threads table
// in the half-width evidence column says so in two places ("on lock 0" in
// doing now, "lock wait N% · on lock 0" beside the period bar). Both on one
// line pushed the table past its box and cut it at "CPU %" (seen in the
// shots of a run: the work group out of view). Every sample with a row on
// the lock must fit its box, the CPU % header inside it.
// Prints ok/FAIL lines and "N passed, M failed".
//
// usage: THREADLAB_BIN=./threadlab node tests/browser/focus-fit-test.mjs
import { startServer, launchBrowser, strictPage, results, waitInPage, sleep, keepShot } from './lib.mjs';

const r = results();
const srv = await startServer(['--threads', '2']);
const browser = await launchBrowser();
try {
  const page = await strictPage(browser, r);
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto(`http://127.0.0.1:${srv.admin}/`);
  const listed = await waitInPage(page, () => !!document.querySelector('#lab-list button.lab-run[data-id="lock-contention"]:not([disabled])'),
    null, 45000);
  r.check(listed === true, 'the Lab lists lock-contention with its Run button');
  await page.click('#lab-list button.lab-run[data-id="lock-contention"]');
  const seen = { samples: 0, onLock: 0, worst: null };
  const t0 = Date.now();
  /* 3 variants of 5 s; a loaded machine adds set-up time: 60 s at most. */
  while (Date.now() - t0 < 60000) {
    const m = await page.evaluate(() => {
      const focus = document.getElementById('lab-focus');
      const wrap = document.querySelector('#lab-focus-evidence #panel-threads .table-wrap');
      if (focus.hidden || !wrap) return { running: !!(window.tlLab && window.tlLab.running), wrap: false };
      const rows = [...document.querySelectorAll('#threads-body tr[data-tid]')];
      const cpu = [...document.querySelectorAll('#threads-table thead th')].find((th) => th.textContent.startsWith('CPU %'));
      const box = wrap.getBoundingClientRect();
      return {
        running: !!window.tlLab.running, wrap: true,
        onLock: rows.filter((tr) => /on lock \d/.test(tr.textContent)).length,
        scrollW: wrap.scrollWidth, boxW: wrap.clientWidth,
        cpuRight: cpu ? cpu.getBoundingClientRect().right : null, boxRight: box.right,
        cowShown: !!document.querySelector('#lab-focus-evidence #sh-cow') &&
          getComputedStyle(document.getElementById('sh-cow')).display !== 'none',
      };
    });
    if (m.wrap && m.onLock > 0) {
      seen.onLock++;
      const over = Math.max(m.scrollW - m.boxW, m.cpuRight === null ? Infinity : m.cpuRight - m.boxRight);
      if (!seen.worst || over > seen.worst.over) seen.worst = { ...m, over };
      if (seen.onLock === 3) await keepShot(page, { path: `${process.env.TL_SHOTS || '/tmp'}/focus-fit-lock.png` });
    }
    seen.samples++;
    if (!m.running && Date.now() - t0 > 5000) break;
    await sleep(300);
  }
  if (seen.onLock === 0) {
    r.check(false, 'a sample of the focused view with a worker waiting on the lock', `${seen.samples} samples, none on the lock`);
  } else {
    const w = seen.worst;
    r.check(w.cowShown === false, 'the start-up copy-on-write probe is not among the run\'s evidence', String(w.cowShown));
    r.check(w.over <= 1, 'with workers on the lock the Threads table fits its half of the focused view, CPU % in view',
      `${seen.onLock} samples; worst: table ${w.scrollW} px in ${w.boxW}, CPU % ends at ${w.cpuRight} of ${w.boxRight}`);
  }
  const done = await waitInPage(page, () => window.tlLab && !window.tlLab.running, null, 60000);
  r.check(done === true, 'the run ends');
} finally {
  await browser.close();
  await srv.stop();
  r.finish();
}
