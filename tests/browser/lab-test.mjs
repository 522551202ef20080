// The Lab panel (www/lab.js) in Chromium: the experiments are listed with
// their questions, Run starts one (process-threads: 3 workers, 3 s of
// /plaintext), the progress bar moves, and the verdict shown is the
// server's (predicted 3 worker threads, measured 3, settings restored),
// with the kernel's evidence and the runs chart.
import { startServer, launchBrowser, strictPage, results, waitInPage } from './lib.mjs';

const r = results();
const srv = await startServer(['--threads', '2', '--sample-ms', '200']);
const browser = await launchBrowser();
try {
  const page = await strictPage(browser, r);
  await page.goto(`http://127.0.0.1:${srv.admin}/`);
  const n = await waitInPage(page, () => document.querySelectorAll('#lab-list .lab-exp').length >= 11 &&
    document.querySelectorAll('#lab-list .lab-exp').length, null);
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
    };
    new MutationObserver(look).observe(document.getElementById('panel-lab'),
      { subtree: true, childList: true, attributes: true, characterData: true });
  });
  await page.click('#lab-list .lab-exp[data-id="process-threads"] button.lab-run');
  const seen = await waitInPage(page, () => window.tlSeenProgress, null);
  r.check(!!seen, 'a progress line with time left and req/s so far', seen && seen.text);
  r.check(!!seen && seen.cancelOn, 'Cancel is enabled while the run runs');
  const verdict = await waitInPage(page, () => {
    const v = document.getElementById('lab-verdict');
    return !v.hidden && /process-threads \(done\)/.test(v.textContent) && v.textContent;
  }, null, 25000);
  r.check(!!verdict, 'the verdict appears after the run', verdict && verdict.slice(0, 160));
  r.check(/predicted 3, measured 3 \(ratio 1\.00\)/.test(verdict || ''), 'the verdict has predicted, measured and ratio');
  r.check(/within the tolerance/.test(verdict || ''), 'the verdict says within the tolerance');
  r.check(/settings restored: yes/.test(verdict || ''), 'the settings were restored');
  const cls = await page.getAttribute('#lab-verdict', 'class');
  r.check(/\bok\b/.test(cls || ''), 'the verdict is marked as agreeing', cls);
  const rows = await page.$$eval('#lab-evidence-body tr', (t) => t.map((x) => x.textContent));
  r.check(rows.some((t) => /worker threads/.test(t)), 'the kernel evidence table is shown', rows.join(' | ').slice(0, 200));
  const prog = await page.evaluate(() => [window.tlLab.progressEvents, window.tlLab.lastProgress]);
  r.check(prog[0] >= 1 && /"elapsed_s":[0-9.]+,"left_s":[0-9.]+,"rps_so_far":[0-9.]+/.test(prog[1] || ''),
    'progress came from the stream: elapsed, time left, req/s so far', `${prog[0]} events; last ${(prog[1] || '').slice(0, 140)}`);
  const hidden = await page.evaluate(() => getComputedStyle(document.getElementById('lab-progress')).display === 'none');
  r.check(hidden, 'the progress bar goes away with the result');
  const bars = await page.evaluate(() => window.tlLab.runs.length);
  r.check(bars === 1, 'the run is in the runs list (bars)', `${bars}`);
  const server = await (await fetch(`http://127.0.0.1:${srv.admin}/lab/runs`)).json();
  r.check(server.runs.length === 1 && server.runs[0].measured === 3, 'the page shows what the server measured');
  await page.screenshot({ path: process.env.LAB_SCREENSHOT || '/tmp/lab-panel.png', fullPage: true,
    clip: await page.$eval('#panel-lab', (e) => { const b = e.getBoundingClientRect(); return { x: b.x, y: b.y + window.scrollY, width: b.width, height: b.height }; }) }).catch(() => {});
} finally {
  await browser.close();
  r.check((await srv.stop()) === 0, 'the server exits cleanly');
  r.finish();
}
