/* The lab's report page (observer/lab_report.h). */
#include "config.h"

#include "observer/lab_report.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Text into HTML (element content and attribute values alike). */
static void esc(tl_buf *b, const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
    case '<': tl_buf_puts(b, "&lt;"); break;
    case '>': tl_buf_puts(b, "&gt;"); break;
    case '&': tl_buf_puts(b, "&amp;"); break;
    case '"': tl_buf_puts(b, "&quot;"); break;
    case '\'': tl_buf_puts(b, "&#39;"); break;
    default: tl_buf_putc(b, *s); break;
    }
  }
}

static const char *str(json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  return json_is_string(v) ? json_string_value(v) : "";
}

static double num(json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

static void fig(tl_buf *b, double v) {
  if (isnan(v))
    tl_buf_puts(b, "n/a");
  else if (fabs(v) >= 100)
    tl_buf_printf(b, "%.0f", v);
  else
    tl_buf_printf(b, "%.3g", v);
}

/* The settings read back, in a few words. */
static void settings(tl_buf *b, json_t *s) {
  tl_buf_printf(b, "%s", "");
  esc(b, str(s, "mode"));
  tl_buf_printf(b, ", %d threads, CPUs ", (int) num(s, "threads"));
  esc(b, str(s, "worker_cpus"));
  if (json_is_true(json_object_get(s, "pin")))
    tl_buf_puts(b, ", pinned");
  if (num(s, "coro_slice_ms") > 0)
    tl_buf_printf(b, ", slice %d ms", (int) num(s, "coro_slice_ms"));
  double np = num(s, "processes"); /* NAN when absent */
  if (np > 0)                      /* 0: the one process, said by nothing */
    tl_buf_printf(b, ", %d worker process%s", (int) np, np == 1 ? "" : "es");
}

/* Bars of the variants' measured figures, the prediction as a tick on
 * each; one unit (the experiment's) for the chart. */
static void chart(tl_buf *b, json_t *vars, const char *unit) {
  size_t n = json_array_size(vars), i;
  json_t *v;
  double top = 0;
  json_array_foreach(vars, i, v) {
    if (num(v, "measured") > top)
      top = num(v, "measured");
    if (num(v, "predicted") > top)
      top = num(v, "predicted");
  }
  if (n == 0 || !(top > 0))
    return;
  const int bw = 120, gap = 40, h = 160, left = 10, base = h + 10;
  int w = left * 2 + (int) n * (bw + gap);
  tl_buf_printf(
      b,
      "<svg class=\"chart\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
      "role=\"img\" aria-label=\"",
      w, h + 50, w, h + 50);
  esc(b, unit);
  tl_buf_puts(b, "\">");
  json_array_foreach(vars, i, v) {
    int x = left + (int) i * (bw + gap);
    double m = num(v, "measured"), p = num(v, "predicted");
    if (m > 0) {
      int bh = (int) (m / top * h + 0.5);
      tl_buf_printf(
          b,
          "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"bar\"/>",
          x, base - bh, bw, bh);
    }
    if (p > 0) {
      int py = base - (int) (p / top * h + 0.5);
      tl_buf_printf(
          b, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" class=\"pred\"/>",
          x - 4, x + bw + 4, py, py);
    }
    tl_buf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"val\">", x + bw / 2,
                  base - 4);
    fig(b, m);
    tl_buf_printf(b, "</text><text x=\"%d\" y=\"%d\" class=\"lbl\">",
                  x + bw / 2, base + 16);
    esc(b, str(v, "id"));
    tl_buf_puts(b, "</text>");
  }
  tl_buf_printf(b, "<text x=\"%d\" y=\"%d\" class=\"unit\">", left, base + 34);
  esc(b, unit);
  tl_buf_puts(b, " (bars: measured; lines: the model)</text></svg>");
}

static json_t *latest_run(json_t *runs, const char *id) {
  for (size_t i = json_array_size(runs); i-- > 0;) {
    json_t *r = json_array_get(runs, i);
    if (strcmp(str(r, "id"), id) == 0)
      return r;
  }
  return NULL;
}

static void experiment(tl_buf *b, json_t *e, json_t *r) {
  tl_buf_puts(b, "<section><h2>");
  esc(b, str(e, "idea"));
  tl_buf_puts(b, "</h2><p class=\"q\">");
  esc(b, str(e, "question"));
  tl_buf_puts(b, "</p>");
  if (!r) {
    tl_buf_puts(b, "<p class=\"none\">Not run yet.</p></section>");
    return;
  }
  json_t *vars = json_object_get(r, "variants");
  const char *unit = str(r, "unit");
  tl_buf_printf(b, "<p class=\"meta\">run %d, ", (int) num(r, "run"));
  esc(b, str(r, "status"));
  if (str(r, "reason")[0]) {
    tl_buf_puts(b, ": ");
    esc(b, str(r, "reason"));
  }
  tl_buf_puts(b, "</p><table><tr><th>variant</th><th>settings (read back)</th>"
                 "<th>measured</th><th>predicted</th><th>ratio</th></tr>");
  size_t i;
  json_t *v;
  json_array_foreach(vars, i, v) {
    tl_buf_puts(b, "<tr><td>");
    esc(b, str(v, "label"));
    tl_buf_puts(b, "</td><td>");
    settings(b, json_object_get(v, "settings"));
    tl_buf_puts(b, "</td><td>");
    fig(b, num(v, "measured"));
    tl_buf_putc(b, ' ');
    esc(b, unit);
    tl_buf_puts(b, "</td><td>");
    fig(b, num(v, "predicted"));
    tl_buf_puts(b, "</td><td>");
    fig(b, num(v, "ratio"));
    tl_buf_puts(b, "</td></tr>");
  }
  tl_buf_puts(b, "</table>");
  chart(b, vars, unit);
  json_t *verdict = json_object_get(r, "verdict");
  bool ok = json_is_true(json_object_get(verdict, "consistent"));
  tl_buf_printf(b, "<p class=\"verdict %s\"><b>%s</b> ", ok ? "ok" : "bad",
                ok ? "As the model says:" : "Not as the model says:");
  esc(b, str(verdict, "text"));
  tl_buf_puts(b, "</p></section>");
}

void tl_lab_report_html(json_t *experiments, json_t *runs, tl_buf *out) {
  tl_buf_puts(
      out,
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>threadlab: lab report</title><style>"
      "body{font:14px/1.4 sans-serif;max-width:60em;margin:1em auto;color:#111}"
      "h1{font-size:1.5em}h2{font-size:1.15em;margin-bottom:.2em}"
      "section{border-top:1px solid #ccc;padding:.5em 0;break-inside:avoid}"
      "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px "
      "6px;"
      "text-align:left}.q{font-style:italic}.meta,.none{color:#555}"
      ".verdict.ok b{color:#176f2c}.verdict.bad b{color:#a11}"
      ".chart .bar{fill:#4a78b5}.chart .pred{stroke:#d9480f;stroke-width:3}"
      ".chart text{font:12px sans-serif;text-anchor:middle}"
      ".chart .unit{text-anchor:start;fill:#555}"
      "@media print{body{max-width:none}section{page-break-inside:avoid}}"
      "</style></head><body><h1>threadlab: lab report</h1>"
      "<p>Each idea as an experiment: its variants run one after another "
      "under the same load, each measured against the model's prediction "
      "for the settings read back; the verdict compares them.</p>");
  size_t i;
  json_t *e;
  json_array_foreach(experiments, i, e)
      experiment(out, e, latest_run(runs, str(e, "id")));
  tl_buf_puts(out, "</body></html>\n");
}
