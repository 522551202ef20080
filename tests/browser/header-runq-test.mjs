#!/usr/bin/env node
// Browser test: the header's run-queue wait under load (www/header.js).
// Measured, it was drawn in green, the header's colour for "good": under
// wrk -c50 on /cpu?ms=2 it read "472.4% of a core · schedstat" in green,
// threads queued for the cores as if that were healthy. The figure must
// be written like the header's other figures (requests /s beside it).
// Prints ok/FAIL lines and "N passed, M failed".
//
// usage: THREADLAB_BIN=./threadlab node tests/browser/header-runq-test.mjs
import { startServer, launchBrowser, strictPage, results, waitInPage, startWrk } from './lib.mjs';

const r = results();
const srv = await startServer(['--threads', '2']);
const browser = await launchBrowser();
let wrk = null;
try {
  wrk = await startWrk(['-t1', '-c20', '-d10s', `http://127.0.0.1:${srv.port}/cpu?ms=2`]);
  const page = await strictPage(browser, r);
  await page.goto(`http://127.0.0.1:${srv.admin}/`);
  const seen = await waitInPage(page, () => {
    const q = document.getElementById('h-runq'), rps = document.getElementById('h-rps');
    if (!/% of a core/.test(q.textContent)) return null;
    return { text: q.textContent, color: getComputedStyle(q).color, rpsColor: getComputedStyle(rps).color };
  }, null, 30000);
  if (seen === null) {
    const text = await page.textContent('#h-runq');
    /* the kernel does not account run-queue wait here: nothing to colour */
    process.stdout.write(`SKIP - the run-queue wait's colour: not measured here (${text})\n`);
    r.check(/not measured|n\/a/.test(text), 'the header says the run-queue wait is not measured', text);
  } else {
    r.check(seen.color === seen.rpsColor, 'the run-queue wait is written like the other header figures, not in green',
      `${seen.text}: ${seen.color} vs requests /s ${seen.rpsColor}`);
  }
} finally {
  if (wrk) await wrk.stop();
  await browser.close();
  await srv.stop();
  r.finish();
}
