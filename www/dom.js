/*
 * Small DOM helpers shared by the panels. setText and setClass touch the DOM
 * only when the value really changes, so that a snapshot that changes little
 * costs little.
 */

export function $(id) { return document.getElementById(id); }

export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

export function setText(e, s) { if (e && e.textContent !== s) e.textContent = s; }
export function setClass(e, c) { if (e.className !== c) e.className = c; }

/* A legend entry: a swatch (its class, and an inline background or none)
 * and its text. */
export function legendItem(swatchClass, background, text) {
  const s = el('span');
  const sw = el('span', swatchClass);
  if (background) sw.style.background = background;
  s.append(sw, text);
  return s;
}

/* The value of a CSS custom property of the page (the colour language
 * lives in dashboard.css), '' when unset. */
export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
