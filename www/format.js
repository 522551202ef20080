/*
 * Formatting helpers shared by the panels: numbers (en-US, thousands
 * separators), percentages, bytes, durations, clock times, and "n/a" for any
 * figure the snapshot does not have; plus isNum and get, for reading the
 * snapshot's optional fields.
 */

export const NA = 'n/a';

export function isNum(v) { return typeof v === 'number' && isFinite(v); }

const numFormats = {};
export function fmt(v, digits) {
  if (!isNum(v)) return NA;
  const d = digits || 0;
  let f = numFormats[d];
  if (!f) {
    f = numFormats[d] = new Intl.NumberFormat('en-US', {
      minimumFractionDigits: d, maximumFractionDigits: d
    });
  }
  return f.format(v);
}
export function fmtInt(v) { return fmt(v, 0); }
export function fmtPct(v) { return isNum(v) ? `${fmt(v, 1)}%` : NA; }
export function fmtBytes(v) {
  if (!isNum(v)) return NA;
  if (v >= 1073741824) return `${fmt(v / 1073741824, 2)} GiB`;
  if (v >= 1048576) return `${fmt(v / 1048576, 1)} MiB`;
  if (v >= 1024) return `${fmt(v / 1024, 0)} KiB`;
  return `${fmt(v, 0)} B`;
}
export function fmtDuration(s) {
  if (!isNum(s)) return NA;
  s = Math.floor(s);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m ${String(sec).padStart(2, '0')}s`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}
/* Local wall-clock time of ms, "HH:MM:SS" (with tenths: "HH:MM:SS.t"). */
export function clock(ms, tenths) {
  const d = new Date(ms);
  const s = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:${String(d.getSeconds()).padStart(2, '0')}`;
  return tenths ? `${s}.${Math.floor(d.getMilliseconds() / 100)}` : s;
}
/* obj[path[0]][path[1]]…, or null where any part is missing. */
export function get(obj, path) {
  let o = obj;
  for (const key of path) {
    if (o === null || o === undefined) return null;
    o = o[key];
  }
  return o === undefined ? null : o;
}

/*
 * Durations given in milliseconds, in the unit that fits: "850 µs",
 * "12.3 ms", "1.25 s" (three significant digits at most).
 */
export function msUnit(maxMs) {
  if (!isNum(maxMs) || maxMs < 1) return { name: 'µs', per: 1e-3 };
  if (maxMs < 1000) return { name: 'ms', per: 1 };
  return { name: 's', per: 1000 };
}
function sig3(v) {
  const r = Number(v.toPrecision(3));
  const a = Math.abs(r);
  return fmt(r, a >= 100 ? 0 : a >= 10 ? 1 : 2).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}
export function fmtMs(ms) {
  if (!isNum(ms)) return NA;
  if (ms === 0) return '0 ms';
  let u = msUnit(Math.abs(ms));
  if (Math.abs(Number((ms / u.per).toPrecision(3))) >= 1000) u = msUnit(Math.abs(ms) * 1.001);
  if (Math.abs(Number((ms / u.per).toPrecision(3))) >= 1000 && u.name === 'µs') u = { name: 'ms', per: 1 };
  return `${sig3(ms / u.per)} ${u.name}`;
}
/*
 * A value read from a histogram (a bucket's upper edge, in ms) as what it
 * is, a bound: 40.959 -> "≤ 41 ms", 0.0063 -> "≤ 6.3 µs". Rounded up to two
 * significant digits, so the text is still a true bound.
 */
export function ceil2(v) {
  if (!(v > 0)) return v;
  const step = Math.pow(10, Math.floor(Math.log10(v)) - 1);
  const up = Math.ceil(v / step - 1e-9) * step;
  return Number(up.toPrecision(2));
}
export function fmtBoundMs(ms) {
  if (!isNum(ms)) return NA;
  if (ms <= 0) return '≤ 0 ms';
  let u = msUnit(ms);
  let v = ceil2(ms / u.per);
  if (v >= 1000 && u.name !== 's') { u = u.name === 'µs' ? { name: 'ms', per: 1 } : { name: 's', per: 1000 }; v = ceil2(ms / u.per); }
  return `≤ ${fmt(v, v >= 10 ? 0 : 1).replace(/\.0$/, '')} ${u.name}`;
}
