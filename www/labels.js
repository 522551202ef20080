/*
 * Where chart markers put their labels so that none overlaps another: each
 * label (in x order) takes the first row where it clears the previous label
 * of that row by `gap` px; when no row has room it is left out (its line is
 * still drawn, and the tooltip/event log name it). No DOM: x and width come
 * from the caller (width from the canvas's measureText).
 */

/* items: [{ x, width }] in any order; right: the plot's right edge (a label
 * is shifted left to end there). Returns, per item in the given order,
 * { row, left } or null (not placed). */
export function layoutLabels(items, right, rows = 3, gap = 6) {
  const out = new Array(items.length).fill(null);
  const ends = new Array(rows).fill(-Infinity);      // right end of each row's last label
  const order = items.map((it, i) => i).sort((a, b) => items[a].x - items[b].x);
  for (const i of order) {
    const { x, width } = items[i];
    const left = Math.max(0, Math.min(x + 3, right - width));
    const row = ends.findIndex((end) => left >= end + gap);
    if (row < 0) continue;
    ends[row] = left + width;
    out[i] = { row, left };
  }
  return out;
}
