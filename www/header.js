/*
 * The page header's facts about the process (pid, uptime, mode, pool, threads,
 * RSS, CPU, context switches, requests/s, connections, send path, run-queue
 * wait: a number whenever kernel.runq_source is set), the two hints under
 * them (why run-queue wait is not measured, only when it is not; statistics
 * off), and the footer's line about the last snapshot and how long it took
 * to render.
 */

import { NA, isNum, fmt, fmtInt, fmtPct, fmtBytes, fmtDuration, get } from './format.js';
import { $, setText, setClass } from './dom.js';

let lostEl = null, pauseBtn = null, pauseState = null;
const hdr = {};

export function init() {
  lostEl = $('stream-lost');
  pauseBtn = $('pause-btn');
  pauseState = $('pause-state');
  for (const id of ['h-pid', 'h-uptime', 'server-mode', 'h-pool', 'h-threads', 'h-rss', 'h-cpu', 'h-ctx', 'h-rps',
    'h-conns', 'h-sends', 'h-runq', 'runq-hint', 'runq-why', 'stats-off', 'footer-seq', 'footer-render']) hdr[id] = $(id);
}

/* The stream is gone because the process died: say so over the last
 * picture, with what died with it (every thread, every connection). s: the
 * last snapshot shown (null: none). Called with dead false to clear it. */
export function renderStreamLost(dead, s) {
  if (!dead) { lostEl.hidden = true; return; }
  const p = (s && s.process) || {};
  const srv = (s && s.server) || {};
  const procs = s && Array.isArray(s.processes) ? s.processes : [];
  const supervised = procs.some(x => x.role === 'supervisor');
  const conns = get(srv, ['connections', 'open']);
  const when = s && isNum(s.uptime_ms) ? ` after ${fmtDuration(s.uptime_ms / 1000)} of uptime` : '';
  const pid = isNum(p.pid) ? ` (pid ${p.pid})` : '';
  const fate = supervised ? 'It was the supervisor: every worker process went with it. '
    : `One process shares one fate: all ${isNum(p.threads) ? `${p.threads} ` : ''}threads and every connection` +
      `${isNum(conns) ? ` (${conns} open)` : ''} died with it. `;
  setText(lostEl, `Stream lost because the process died: threadlab${pid} no longer accepts connections on its ` +
    `observer port${when}. ${fate}Below is its last picture, kept as it was.`);
  lostEl.hidden = false;
}

/* The pause button and what is held back while the view is frozen. */
export function renderPauseState(paused, held) {
  setText(pauseBtn, paused ? 'Resume' : 'Pause');
  pauseBtn.setAttribute('aria-pressed', paused ? 'true' : 'false');
  setText(pauseState, paused ? `view paused · ${held} update${held === 1 ? '' : 's'} arrived since ` +
    '(the stream keeps running; resume catches up)' : '');
}

export function render(s) {
  const p = s.process || {};
  const srv = s.server || {};
  setText(hdr['h-pid'], isNum(p.pid) ? String(p.pid) : NA);
  setText(hdr['h-uptime'], fmtDuration(isNum(p.uptime_s) ? p.uptime_s : (isNum(s.uptime_ms) ? s.uptime_ms / 1000 : null)));
  setText(hdr['server-mode'], srv.mode ? String(srv.mode) : NA);
  /* pool_in_use false (async): the workers exist but run nothing; "2 workers"
   * alone read as if the pool served this mode */
  setText(hdr['h-pool'], isNum(srv.threads)
    ? `${srv.threads} worker${srv.threads === 1 ? '' : 's'}${srv.pool_in_use === false ? `, unused in ${srv.mode || 'this'} mode`
      : srv.pinned ? ', pinned' : srv.pinned === false ? ', not pinned' : ''}`
    : NA);
  const all = supervisedSums(s);
  if (all) {
    /* Under --processes, s.process is the supervisor alone (it serves no
     * requests): beside the workers' summed req/s its 0% CPU read as if
     * the load cost nothing. Show every process's sum, say which is which. */
    setText(hdr['h-pid'], isNum(p.pid) ? `${p.pid} (supervisor)` : NA);
    setText(hdr['h-threads'], `${fmtInt(all.threads)} in ${all.n} processes`);
    setText(hdr['h-rss'], `${fmtBytes(all.rssBytes)} (${all.n} processes)`);
    setText(hdr['h-cpu'], `${fmtPct(all.cpuPct)} in ${all.n} processes (user+sys)`);
    setText(hdr['h-ctx'], `${fmt(p.ctx_voluntary_rate, 0)} / ${fmt(p.ctx_involuntary_rate, 0)} (supervisor)`);
  } else {
    setText(hdr['h-threads'], fmtInt(p.threads));
    setText(hdr['h-rss'], fmtBytes(p.rss_bytes));
    setText(hdr['h-cpu'], `${fmtPct(p.cpu_user_pct)} / ${fmtPct(p.cpu_sys_pct)}`);
    setText(hdr['h-ctx'], `${fmt(p.ctx_voluntary_rate, 0)} / ${fmt(p.ctx_involuntary_rate, 0)}`);
  }
  setText(hdr['h-rps'], fmt(get(srv, ['requests', 'rate']), 0));
  setText(hdr['h-conns'], fmtInt(get(srv, ['connections', 'open'])));
  const snd = srv.sends || {};
  setText(hdr['h-sends'], snd.io_uring === true
    ? `io_uring · ${isNum(snd.writes_per_submission) ? `${fmt(snd.writes_per_submission, 1)} writes/submission` : 'idle'}`
    : snd.io_uring === false ? `write per connection${snd.why_not ? ` (${snd.why_not})` : ''}` : NA);

  /* Run-queue wait is measured whenever the server's self-test found the
   * kernel accounting it (kernel.runq_source); kernel.task_delayacct is only
   * informative. Only when runq_source is null say why (runq_unavailable). */
  const k = s.kernel || {};
  const dd = hdr['h-runq'];
  const unmeasured = !k.runq_source && s.stats_enabled !== false && 'runq_source' in k;
  if (k.runq_source) {
    setText(dd, `${runqFigure(s)} · ${k.runq_source}`);
    /* In green, "472% of a core" (threads queued for the cores) read as
     * a good sign: measured, it is written like the other figures. */
    setClass(dd, ''); // as the other figures
    const st = k.runq_self_test;
    const test = st ? ` Self-test: ${st.threads} threads ${isNum(st.cpu) ? `pinned to core ${st.cpu}` : 'unpinned'} ` +
      `gained ${fmt(st.run_delay_ms, 1)} ms run-queue wait and ${fmt(st.oncpu_ms, 1)} ms on a core.` : '';
    dd.parentNode.title = `Run-queue wait is measured from /proc/…/${k.runq_source}.${test} ` +
      'Shown: our threads’ run-queue wait over the last period (sum, % of one core).';
  } else if (unmeasured) {
    setText(dd, 'not measured'); setClass(dd, 'bad');
  } else { setText(dd, NA); setClass(dd, ''); }
  setText(hdr['runq-why'], unmeasured ? String(k.runq_unavailable || 'the kernel did not account it in the self-test') : '');
  hdr['runq-hint'].hidden = !unmeasured;
  hdr['stats-off'].hidden = s.stats_enabled !== false;
}

/* Under a supervisor (processes[] has one): the sums over every process
 * of threads, RSS and CPU %, or null for one process. A figure missing in
 * any process makes its sum null (n/a), never a partial sum. */
function supervisedSums(s) {
  const procs = Array.isArray(s.processes) ? s.processes : [];
  if (!procs.some(x => x && x.role === 'supervisor')) return null;
  const sum = (f) => procs.every(x => isNum(f(x))) ? procs.reduce((a, x) => a + f(x), 0) : null;
  const rssKb = sum(x => x.rss_kb);
  return {
    n: procs.length,
    threads: sum(x => x.nthreads),
    rssBytes: isNum(rssKb) ? rssKb * 1024 : null,
    cpuPct: sum(x => x.cpu_pct),
  };
}

/* Σ runq_pct of the process's threads over the last period: how much of one
 * core's worth of time our threads spent ready but waiting. */
function runqFigure(s) {
  const th = Array.isArray(s.threads) ? s.threads : [];
  let sum = 0;
  let any = false;
  for (const t of th) if (isNum(t.runq_pct)) { sum += t.runq_pct; any = true; }
  return any ? `${fmtPct(sum)} of a core` : 'measured';
}

/* seq and period of the snapshot shown; its render time and the last timeline draw's, in ms. */
export function renderFooter(seq, periodMs, renderMs, drawMs) {
  setText(hdr['footer-seq'], `seq ${seq} · period ${fmt(periodMs, 1)} ms`);
  setText(hdr['footer-render'], `last update rendered in ${fmt(renderMs, 1)} ms, timeline drawn in ${isNum(drawMs) ? fmt(drawMs, 1) : NA} ms`);
}
