/*
 * The URL fragment that reopens a view: "#task=ID", "#paused" or
 * "#task=ID&paused". No DOM: main.js reads and writes location.
 */

/* "#task=12&paused" -> { task: '12', paused: true } */
export function parseFragment(hash) {
  const f = {};
  for (const kv of String(hash || '').replace(/^#/, '').split('&')) {
    if (!kv) continue;
    const i = kv.indexOf('=');
    f[i < 0 ? kv : kv.slice(0, i)] = i < 0 ? true : decodeURIComponent(kv.slice(i + 1));
  }
  return f;
}

/* { task: 12 | null, paused } -> "#task=12&paused" ('' for neither) */
export function formatFragment(task, paused) {
  const parts = [];
  if (task !== null && task !== undefined) parts.push(`task=${task}`);
  if (paused) parts.push('paused');
  return parts.length ? `#${parts.join('&')}` : '';
}
