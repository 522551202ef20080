// Shared by the browser tests (tests/browser/*-test.mjs): start a threadlab,
// launch Debian's Chromium through playwright-core, count checks.
import { spawn } from 'node:child_process';
import { readdir, readlink, readFile } from 'node:fs/promises';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/* The TCP ports process pid listens on: its socket inodes (/proc/PID/fd)
 * matched with the LISTEN rows (state 0A) of /proc/PID/net/tcp and tcp6. */
export async function listeningPorts(pid) {
  const inodes = new Set();
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [])) {
    const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''));
    if (m) inodes.add(m[1]);
  }
  const ports = new Set();
  for (const f of ['tcp', 'tcp6']) {
    const text = await readFile(`/proc/${pid}/net/${f}`, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const col = line.trim().split(/\s+/);
      if (col.length > 9 && col[3] === '0A' && inodes.has(col[9])) ports.add(parseInt(col[1].split(':')[1], 16));
    }
  }
  return [...ports];
}

/* Which of ports is the observer: the one whose /stats answers JSON. */
async function observerPort(ports) {
  for (const p of ports) {
    const r = await fetch(`http://127.0.0.1:${p}/stats`).catch(() => null);
    if (r && r.ok && /json/.test(r.headers.get('content-type') || '')) { await r.arrayBuffer(); return p; }
    if (r) await r.arrayBuffer().catch(() => null);
  }
  return null;
}

/* Starts `bin args...` with --port 0 --admin-port 0 and waits until it
 * listens: from its banner, or with --quiet (no banner) from the ports the
 * process listens on (/proc), the observer told apart by its /stats.
 * THREADLAB_WWW set: the dashboard is served from that directory.
 * Returns { pid, port, admin, output(), stop() }; stop() sends SIGTERM and
 * resolves with the exit status (null when it died by a signal). */
export async function startServer(args = [], bin = process.env.THREADLAB_BIN || './threadlab') {
  /* THREADLAB_WWW: serve another copy of the dashboard (tests/www/mutants) */
  const www = process.env.THREADLAB_WWW ? ['--www', process.env.THREADLAB_WWW] : [];
  const child = spawn(bin, ['--port', '0', '--admin-port', '0', ...www, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, sig) => resolve({ code, sig })));
  const quiet = args.includes('--quiet');
  const deadline = Date.now() + 15000;
  let port = null, admin = null;
  for (;;) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`threadlab did not start:\n${out}`);
    if (!quiet && /dashboard: http:\/\/[^:]+:\d+\//.test(out)) {
      port = Number(/workload:\s+http:\/\/[^\s]*:(\d+)\//.exec(out)[1]);
      admin = Number(/dashboard: http:\/\/[^\s]*:(\d+)\//.exec(out)[1]);
      break;
    }
    if (quiet) {
      const ports = await listeningPorts(child.pid);
      admin = ports.length >= 2 ? await observerPort(ports) : null;
      if (admin !== null) {
        port = ports.find((p) => p !== admin);
        break;
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: child.pid, port, admin, output: () => out, exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const r = await exited;
      return r.code;
    },
  };
}

/* Headless Chromium as the README says to run it; extraArgs are more
 * Chromium switches (e.g. --host-resolver-rules=... for a rebinding test). */
export function launchBrowser(extraArgs = []) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', ...extraArgs],
  });
}

/* A page that fails the test on any page error or console error. */
export async function strictPage(browser, results) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('pageerror', (e) => results.check(false, 'no page exception', String(e)));
  page.on('console', (m) => { if (m.type() === 'error') results.check(false, 'no console error', m.text()); });
  return page;
}

/* "ok"/"FAIL" lines and the final "N passed, M failed" the harness reads. */
export function results() {
  const r = { passed: 0, failed: 0 };
  r.check = (ok, what, detail) => {
    if (ok) r.passed++; else r.failed++;
    process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} - ${what}${detail ? ` (${detail})` : ''}\n`);
    return ok;
  };
  r.finish = () => {
    process.stdout.write(`${r.passed} passed, ${r.failed} failed\n`);
    process.exitCode = r.failed === 0 && r.passed > 0 ? 0 : 1;
  };
  return r;
}

/* A screenshot for a person to look at, not a check: on a crowded machine
 * (a renderer starved by CPU-bound workers) it may not come within the
 * time; that is said, and the test goes on to its checks. */
export async function keepShot(target, opts) {
  try {
    await target.screenshot({ timeout: 60000, ...opts });
  } catch (e) {
    process.stdout.write(`note - screenshot ${opts.path} not taken: ${String(e.message || e).split('\n')[0]}\n`);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* Starts `wrk args...` (bounded load: give it -d) and returns
 * { pid, stop() }; stop() kills that pid only and resolves when it exited.
 * Throws when wrk is not installed. */
export async function startWrk(args) {
  const child = spawn('wrk', args, { stdio: 'ignore' });
  await new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (e) => reject(new Error(`cannot start wrk (run ./setup-deps): ${e.message}`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  return {
    pid: child.pid,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/* Waits until fn() (evaluated in the page) is truthy; returns its value or null. */
export async function waitInPage(page, fn, arg, timeoutMs = 15000) {
  try {
    const h = await page.waitForFunction(fn, arg, { timeout: timeoutMs, polling: 100 });
    return await h.jsonValue();
  } catch {
    return null;
  }
}
