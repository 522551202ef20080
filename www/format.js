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
  var d = digits || 0;
  var f = numFormats[d];
  if (!f) {
    f = numFormats[d] = new Intl.NumberFormat('en-US', {
      minimumFractionDigits: d, maximumFractionDigits: d
    });
  }
  return f.format(v);
}
export function fmtInt(v) { return fmt(v, 0); }
export function fmtPct(v) { return isNum(v) ? fmt(v, 1) + '%' : NA; }
export function fmtBytes(v) {
  if (!isNum(v)) return NA;
  if (v >= 1073741824) return fmt(v / 1073741824, 2) + ' GiB';
  if (v >= 1048576) return fmt(v / 1048576, 1) + ' MiB';
  if (v >= 1024) return fmt(v / 1024, 0) + ' KiB';
  return fmt(v, 0) + ' B';
}
export function fmtDuration(s) {
  if (!isNum(s)) return NA;
  s = Math.floor(s);
  var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  if (h > 0) return h + 'h ' + String(m).padStart(2, '0') + 'm ' + String(sec).padStart(2, '0') + 's';
  if (m > 0) return m + 'm ' + String(sec).padStart(2, '0') + 's';
  return sec + 's';
}
/* Local wall-clock time of ms, "HH:MM:SS" (with tenths: "HH:MM:SS.t"). */
export function clock(ms, tenths) {
  var d = new Date(ms);
  var s = String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0') +
    ':' + String(d.getSeconds()).padStart(2, '0');
  return tenths ? s + '.' + Math.floor(d.getMilliseconds() / 100) : s;
}
/* obj[path[0]][path[1]]…, or null where any part is missing. */
export function get(obj, path) {
  var o = obj;
  for (var i = 0; i < path.length; i++) {
    if (o === null || o === undefined) return null;
    o = o[path[i]];
  }
  return o === undefined ? null : o;
}
