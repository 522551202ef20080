/*
 * The dashboard's one colour language: a hue per core (wherever a core is
 * drawn: the cores panel, the timeline's steps, the scoreboard, the task
 * card, the per-core chart) and a hue per state (on a core, ready and
 * waiting for a core, sleeping on I/O, idle, holding a task, event loop,
 * blocked) for every panel that draws states. The hues are CSS custom
 * properties in dashboard.css (--core-N, --st-*), so CSS and canvas agree;
 * main.js hands the page's lookup in at start (useCssLookup). No DOM here:
 * without a lookup the fallbacks below apply (and the unit tests see them).
 */

let lookup = () => '';
const cache = new Map();

/* fn(name) -> the CSS value of custom property `name`, or ''. */
export function useCssLookup(fn) {
  lookup = fn;
  cache.clear();
}

function cssValue(name) {
  if (!cache.has(name)) cache.set(name, lookup(name) || '');
  return cache.get(name);
}

export const NO_CORE = '#868e96';

/* The hue of core c (CSS --core-c; beyond those, a golden-angle hue). */
export function coreColor(c) {
  if (typeof c !== 'number' || !Number.isFinite(c) || c < 0) return NO_CORE;
  return cssValue(`--core-${c}`) || `hsl(${((200 + c * 137.508) % 360).toFixed(0)},60%,42%)`;
}

/* The hue of a state: oncpu | runq | io | idle | hold | loop | blocked. */
export function stateColor(st) { return cssValue(`--st-${st}`) || NO_CORE; }

/* A worker's line in the per-worker chart: its own hue, distinct from its
 * neighbours' (golden angle), not tied to a core (a worker moves). */
export function seriesColor(i) { return `hsl(${((20 + i * 137.508) % 360).toFixed(0)},55%,45%)`; }

/* color (#rgb, #rrggbb or hsl(h,s%,l%)) at opacity alpha, for a band
 * under a line; any other form is returned as is. */
export function translucent(color, alpha) {
  const c = String(color).trim();
  let m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(c);
  if (m) {
    const h = m[1].length === 3 ? [...m[1]].map((x) => x + x).join('') : m[1];
    const [r, g, b] = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
    return `rgba(${r},${g},${b},${alpha})`;
  }
  m = /^hsl\(([^)]*)\)$/i.exec(c);
  return m ? `hsla(${m[1]},${alpha})` : c;
}
