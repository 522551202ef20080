/*
 * Every request the dashboard makes to the observer goes through here, so
 * the rules live in one place: reads are never cached; a state change is a
 * POST with the X-Threadlab header (what a cross-site form cannot send: the
 * observer refuses state changes without it). No DOM.
 */

export const STREAM_URL = '/stats/stream';
const POST_HEADERS = { 'X-Threadlab': '1' };

/* GET path as text; null when the answer is not 2xx. Throws when the
 * request fails (network, refused, aborted by signal). */
export async function getText(path, signal) {
  const r = await fetch(path, { cache: 'no-store', signal });
  return r.ok ? r.text() : null;
}

/* GET path as JSON; null when the answer is not 2xx. */
export async function getJSON(path, signal) {
  const t = await getText(path, signal);
  return t === null ? null : JSON.parse(t);
}

async function answer(r) {
  const text = await r.text();
  let body = null;
  try { body = JSON.parse(text); } catch { /* not JSON: the caller shows the text */ }
  return { status: r.status, ok: r.ok, body, text };
}

/* GET path, whatever its status: { status, ok, body (parsed JSON or
 * null), text } (an error answer's JSON says why). */
export async function get(path) {
  return answer(await fetch(path, { cache: 'no-store' }));
}

/* POST path (params: an object, sent as the query string).
 * Resolves with { status, ok, body (parsed JSON or null), text }. */
export async function post(path, params) {
  const q = params ? `?${new URLSearchParams(params).toString()}` : '';
  return answer(await fetch(path + q, { method: 'POST', cache: 'no-store', headers: POST_HEADERS }));
}

/* An EventSource on the stream, or null where the browser has none. */
export function openStream() {
  return typeof window.EventSource === 'function' ? new window.EventSource(STREAM_URL) : null;
}
