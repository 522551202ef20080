/*
 * The execution-mode panel: the mode / worker threads / pin form. It follows
 * the server's settings until the user edits it; Apply (or Enter) POSTs them
 * to /control (with the header the observer requires of the dashboard) and
 * shows the answer next to the button.
 */

import { isNum } from './format.js';
import { $ } from './dom.js';

const ctl = {
  mode: $('mode-select'), threads: $('threads-input'), pin: $('pin-checkbox'),
  apply: $('apply-control'), result: $('control-result'), dirty: false
};
[ctl.mode, ctl.threads, ctl.pin].forEach(function (e) {
  e.addEventListener('change', function () { ctl.dirty = true; });
  e.addEventListener('input', function () { ctl.dirty = true; });
});

export function syncControls(s) {
  /* Follow the server until the user starts editing. */
  var srv = s.server || {};
  if (ctl.dirty) return;
  if (srv.mode && ctl.mode.value !== srv.mode) ctl.mode.value = srv.mode;
  if (isNum(srv.threads) && ctl.threads.value !== String(srv.threads) && document.activeElement !== ctl.threads) {
    ctl.threads.value = String(srv.threads);
  }
  if (typeof srv.pinned === 'boolean') ctl.pin.checked = srv.pinned;
}

function showControlResult(ok, text) {
  ctl.result.className = 'result ' + (ok ? 'ok' : 'err');
  ctl.result.textContent = text;
}

/* Enter in the form applies instead of reloading the page. */
$('control-form').addEventListener('submit', function (ev) {
  ev.preventDefault();
  if (!ctl.apply.disabled) ctl.apply.click();
});

ctl.apply.addEventListener('click', function () {
  var n = Number(ctl.threads.value);
  if (!Number.isInteger(n) || n < 1) {
    showControlResult(false, 'error: worker threads must be a whole number ≥ 1');
    return;
  }
  var q = new URLSearchParams({ mode: ctl.mode.value, threads: String(n), pin: ctl.pin.checked ? '1' : '0' });
  ctl.apply.disabled = true;
  showControlResult(true, 'applying…');
  /* X-Threadlab: 1 is what a cross-site form cannot send: the observer
   * refuses state changes without it. */
  fetch('/control?' + q.toString(), { method: 'POST', cache: 'no-store', headers: { 'X-Threadlab': '1' } })
    .then(function (r) {
      return r.text().then(function (body) {
        var j = null;
        try { j = JSON.parse(body); } catch (e) { /* not JSON */ }
        if (!r.ok || !j || j.error || j.ok === false) {
          var msg = j && j.error ? j.error : (body.trim() || r.statusText);
          showControlResult(false, 'error ' + r.status + ': ' + msg);
          return;
        }
        ctl.dirty = false;
        showControlResult(true, 'applied: mode ' + j.mode + ', ' + j.threads + ' worker thread' +
          (j.threads === 1 ? '' : 's') + ', ' + (j.pinned ? 'pinned' : 'not pinned'));
      });
    })
    .catch(function (e) { showControlResult(false, 'error: ' + (e && e.message ? e.message : 'request failed')); })
    .then(function () { ctl.apply.disabled = false; });
});
