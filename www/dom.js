/*
 * Small DOM helpers shared by the panels. setText and setClass touch the DOM
 * only when the value really changes, so that a snapshot that changes little
 * costs little.
 */

export function $(id) { return document.getElementById(id); }

export function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function setText(e, s) { if (e && e.textContent !== s) e.textContent = s; }
export function setClass(e, c) { if (e.className !== c) e.className = c; }
