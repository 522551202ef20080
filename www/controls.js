/*
 * The execution-mode panel: the mode / worker threads / pin form. It follows
 * the server's settings until the user edits it; Apply (or Enter) POSTs them
 * to /control (api.js adds the header the observer requires) and shows the
 * answer next to the button.
 */

import { isNum } from './format.js';
import { $ } from './dom.js';
import { post } from './api.js';

let ctl = null;

export function init() {
  ctl = {
    mode: $('mode-select'), threads: $('threads-input'), pin: $('pin-checkbox'),
    apply: $('apply-control'), result: $('control-result'), dirty: false,
  };
  for (const e of [ctl.mode, ctl.threads, ctl.pin]) {
    e.addEventListener('change', () => { ctl.dirty = true; });
    e.addEventListener('input', () => { ctl.dirty = true; });
  }
  /* Enter in the form applies instead of reloading the page. */
  $('control-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!ctl.apply.disabled) ctl.apply.click();
  });
  ctl.apply.addEventListener('click', apply);
}

/* Follow the server until the user starts editing. */
export function render(s) {
  const srv = s.server || {};
  if (ctl.dirty) return;
  if (srv.mode && ctl.mode.value !== srv.mode) ctl.mode.value = srv.mode;
  if (isNum(srv.threads) && ctl.threads.value !== String(srv.threads) && document.activeElement !== ctl.threads) {
    ctl.threads.value = String(srv.threads);
  }
  if (typeof srv.pinned === 'boolean') ctl.pin.checked = srv.pinned;
}

function showResult(ok, text) {
  ctl.result.className = `result ${ok ? 'ok' : 'err'}`;
  ctl.result.textContent = text;
}

async function apply() {
  const n = Number(ctl.threads.value);
  if (!Number.isInteger(n) || n < 1) {
    showResult(false, 'error: worker threads must be a whole number ≥ 1');
    return;
  }
  ctl.apply.disabled = true;
  showResult(true, 'applying…');
  try {
    const r = await post('/control', { mode: ctl.mode.value, threads: String(n), pin: ctl.pin.checked ? '1' : '0' });
    const j = r.body;
    if (!r.ok || !j || j.error || j.ok === false) {
      const msg = j && j.error ? j.error : (r.text.trim() || String(r.status));
      showResult(false, `error ${r.status}: ${msg}`);
    } else {
      ctl.dirty = false;
      showResult(true, `applied: mode ${j.mode}, ${j.threads} worker thread${j.threads === 1 ? '' : 's'}, ` +
        `${j.pinned ? 'pinned' : 'not pinned'}`);
    }
  } catch (e) {
    showResult(false, `error: ${e && e.message ? e.message : 'request failed'}`);
  }
  ctl.apply.disabled = false;
}
