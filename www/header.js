/*
 * The page header's facts about the process (pid, uptime, mode, pool, threads,
 * RSS, CPU, context switches, requests/s, connections, send path, run-queue
 * wait), the two hints under them (run-queue wait not measured, statistics
 * off), and the footer's line about the last snapshot and how long it took
 * to render.
 */

import { NA, isNum, fmt, fmtInt, fmtPct, fmtBytes, fmtDuration, get } from './format.js';
import { $, setText, setClass } from './dom.js';

const hdr = {};
['h-pid', 'h-uptime', 'server-mode', 'h-pool', 'h-threads', 'h-rss', 'h-cpu', 'h-ctx', 'h-rps',
  'h-conns', 'h-sends', 'h-delayacct', 'delayacct-hint', 'stats-off', 'footer-seq', 'footer-render']
  .forEach(function (id) { hdr[id] = $(id); });

export function renderHeader(s) {
  var p = s.process || {};
  var srv = s.server || {};
  setText(hdr['h-pid'], isNum(p.pid) ? String(p.pid) : NA);
  setText(hdr['h-uptime'], fmtDuration(isNum(p.uptime_s) ? p.uptime_s : (isNum(s.uptime_ms) ? s.uptime_ms / 1000 : null)));
  setText(hdr['server-mode'], srv.mode ? String(srv.mode) : NA);
  setText(hdr['h-pool'], isNum(srv.threads)
    ? srv.threads + ' worker' + (srv.threads === 1 ? '' : 's') + (srv.pinned ? ', pinned' : srv.pinned === false ? ', not pinned' : '')
    : NA);
  setText(hdr['h-threads'], fmtInt(p.threads));
  setText(hdr['h-rss'], fmtBytes(p.rss_bytes));
  setText(hdr['h-cpu'], fmtPct(p.cpu_user_pct) + ' / ' + fmtPct(p.cpu_sys_pct));
  setText(hdr['h-ctx'], fmt(p.ctx_voluntary_rate, 0) + ' / ' + fmt(p.ctx_involuntary_rate, 0));
  setText(hdr['h-rps'], fmt(get(srv, ['requests', 'rate']), 0));
  setText(hdr['h-conns'], fmtInt(get(srv, ['connections', 'open'])));
  var snd = srv.sends || {};
  setText(hdr['h-sends'], snd.io_uring === true
    ? 'io_uring · ' + (isNum(snd.writes_per_submission) ? fmt(snd.writes_per_submission, 1) + ' writes/submission' : 'idle')
    : snd.io_uring === false ? 'write per connection' + (snd.why_not ? ' (' + snd.why_not + ')' : '') : NA);

  var da = get(s, ['kernel', 'task_delayacct']);
  var dd = hdr['h-delayacct'];
  if (da === true) { setText(dd, 'measured'); setClass(dd, 'good'); }
  else if (da === false) { setText(dd, 'not measured'); setClass(dd, 'bad'); }
  else { setText(dd, NA); setClass(dd, ''); }
  hdr['delayacct-hint'].hidden = da !== false;
  hdr['stats-off'].hidden = s.stats_enabled !== false;
}

/* seq and period of the snapshot shown; its render time and the last timeline draw's, in ms. */
export function renderFooter(seq, periodMs, renderMs, drawMs) {
  setText(hdr['footer-seq'], 'seq ' + seq + ' · period ' + fmt(periodMs, 1) + ' ms');
  setText(hdr['footer-render'], 'last update rendered in ' + fmt(renderMs, 1) + ' ms, timeline drawn in ' +
    (isNum(drawMs) ? fmt(drawMs, 1) : NA) + ' ms');
}
