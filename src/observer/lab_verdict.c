/* A lab run's result and verdict (observer/lab_verdict.h). */
#include "config.h"

#include "observer/lab_verdict.h"

#include "base/util.h"
#include "observer/lab_evidence.h"
#include "observer/lab_predict.h"
#include "observer/lab_setup.h"
#include "observer/lab_wrk.h"
#include "observer/sampler.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static json_t *evidence_json(tl_lab *lab, json_t *after) {
  json_t *out = json_array();
  size_t i;
  json_t *ev;
  json_array_foreach(json_object_get(lab->exp, "evidence"), i, ev) {
    const char *path = tl_lab_run_str(ev, "path", ""),
               *agg = tl_lab_run_str(ev, "agg", "max");
    bool wall = strncmp(agg, "wall_p", 6) == 0;
    /* A step's wall time: this load's steps only, no "before". */
    json_t *b = lab->before && !wall
                    ? tl_lab_evidence_eval(lab->before, path, agg)
                    : json_null();
    json_t *a = !after ? json_null()
                : wall ? tl_lab_evidence_wall(lab->before, after, path, agg)
                       : tl_lab_evidence_eval(after, path, agg);
    bool counter = json_is_true(json_object_get(ev, "counter"));
    json_t *item = json_pack("{s:s,s:s,s:o,s:o,s:b}", "label",
                             tl_lab_run_str(ev, "label", path), "path", path,
                             "before", b, "after", a, "counter", counter);
    if (counter)
      json_object_set_new(
          item, "delta",
          lab->before && after
              ? tl_lab_evidence_counter(lab->before, after, path, agg)
              : json_null());
    json_array_append_new(out, item);
  }
  return out;
}

/* The figure an evidence label stands for: its delta for a counter, else
 * its value while the load ran. NAN when the kernel did not give it. */
static double evidence_value(json_t *evidence, const char *label) {
  size_t i;
  json_t *item;
  json_array_foreach(evidence, i, item) {
    if (strcmp(tl_lab_run_str(item, "label", ""), label) != 0)
      continue;
    json_t *v = json_object_get(
        item,
        json_is_true(json_object_get(item, "counter")) ? "delta" : "after");
    return json_is_number(v) ? json_number_value(v) : NAN;
  }
  return NAN;
}

static json_t *wrk_json(const tl_lab_wrk *w) {
  if (!w->ok)
    return json_null();
#define MS(x) ((x) >= 0 ? json_real(x) : json_null())
  return json_pack("{s:f,s:f,s:o,s:o,s:o,s:f,s:f}", "requests", w->requests,
                   "rps", w->rps, "p50_ms", MS(w->p50_ms), "p90_ms",
                   MS(w->p90_ms), "p99_ms", MS(w->p99_ms), "non2xx", w->non2xx,
                   "socket_errors", w->socket_errors);
#undef MS
}

static double measured_of(tl_lab *lab, const char *what, json_t *evidence,
                          const tl_lab_wrk *load) {
  if (strcmp(what, "rps") == 0)
    return load->ok ? load->rps : NAN;
  const char *slash = strstr(what, " / ");
  if (slash) {
    char a[128];
    snprintf(a, sizeof(a), "%.*s", (int) (slash - what), what);
    double x = evidence_value(evidence, a),
           y = evidence_value(evidence, slash + 3);
    return y > 0 ? x / y : NAN;
  }
  (void) lab;
  return evidence_value(evidence, what);
}

static const char *run_status(tl_lab *lab) {
  return lab->fail[0] ? "failed" : lab->cancel ? "cancelled" : "done";
}

/* The variant's wrk is done (or never ran): measure, compare, gather the
 * evidence. */
json_t *tl_lab_verdict_variant(tl_lab *lab) {
  json_t *vexp = tl_lab_setup_variant_exp(lab->exp, lab->variant);
  json_t *exp = vexp; /* its model is the variant's */
  json_t *pred = json_object_get(exp, "prediction");
  const char *formula = tl_lab_run_str(pred, "formula", "");
  json_t *settings =
      lab->vsettings ? json_incref(lab->vsettings) : tl_lab_setup_readback(lab);
  tl_lab_model m;
  /* The model of the settings read back, not of what was asked for. */
  tl_lab_setup_model_settings(exp, settings, &m);
  double predicted = tl_lab_predict(formula, &m);
  double tol = tl_lab_run_num(exp, "tolerance", 0.3);
  tl_lab_wrk load = {0}, probe = {0};
  bool ran = lab->nwrk > 0 && lab->wrk[0].spawned;
  if (ran)
    tl_lab_wrk_parse(lab->wrk[0].text.data, lab->wrk[0].text.len, &load);
  if (lab->nwrk > 1 && lab->wrk[1].spawned)
    tl_lab_wrk_parse(lab->wrk[1].text.data, lab->wrk[1].text.len, &probe);
  const tl_buf *text =
      lab->has_during ? &lab->during : tl_sampler_json(lab->stats);
  json_t *after = json_loadb(text->data, text->len, 0, NULL);
  json_t *evidence =
      ran || lab->noload ? evidence_json(lab, after) : json_array();
  json_decref(after);
  const char *status = run_status(lab);
  if (!lab->fail[0] && !lab->cancel && ran && !load.ok) {
    const tl_buf *t = &lab->wrk[0].text;
    int tl = t->len > 200 ? 200 : (int) t->len;
    snprintf(lab->fail, sizeof(lab->fail),
             "wrk gave no summary (exit %lld): %.*s",
             (long long) lab->wrk[0].exit_status, tl, t->data ? t->data : "");
    status = "failed";
  }
  bool done = strcmp(status, "done") == 0;
  /* "scale": e.g. 1e6 for a ratio read per million (shared2, race). */
  double measured =
      done ? measured_of(lab, tl_lab_run_str(exp, "measured", "rps"), evidence,
                         &load) *
                 tl_lab_run_num(exp, "scale", 1)
           : NAN;
  int vi = lab->variant;
  json_t *r = json_pack(
      "{s:s,s:s,s:o}", "id", tl_lab_setup_variant_str(exp, vi, "id"), "label",
      tl_lab_setup_variant_str(exp, vi, "label"), "settings", settings);
  json_object_set_new(r, "status", json_string(status));
  json_object_set_new(r, "unit", json_string(tl_lab_setup_unit(exp)));
  json_object_set_new(r, "predicted",
                      predicted >= 0 ? json_real(predicted) : json_null());
  json_object_set_new(r, "measured",
                      isnan(measured) ? json_null() : json_real(measured));
  json_object_set_new(r, "load", wrk_json(&load));
  json_object_set_new(r, "probe",
                      lab->nwrk > 1 ? wrk_json(&probe) : json_null());
  json_object_set_new(r, "series",
                      json_incref(lab->series ? lab->series : json_array()));
  json_object_set_new(r, "model",
                      json_pack("{s:i,s:i,s:b,s:i}", "cores", m.cores,
                                "workers", m.workers, "async", m.async,
                                "connections", m.connections));
  bool check_ok = true;
  json_t *check = tl_lab_setup_variant_check(exp, vi);
  if (check && done) {
    const char *lbl = tl_lab_run_str(check, "evidence", "");
    double v = strcmp(lbl, "probe_p99_ms") == 0
                   ? (probe.ok ? probe.p99_ms : NAN)
                   : evidence_value(evidence, lbl);
    double want = tl_lab_run_num(check, "value", 0);
    const char *op = tl_lab_run_str(check, "op", ">");
    check_ok = !isnan(v) && (strcmp(op, ">") == 0    ? v > want
                             : strcmp(op, "<=") == 0 ? v <= want
                             : strcmp(op, ">=") == 0 ? v >= want
                                                     : v < want);
    json_object_set_new(
        r, "check",
        json_pack("{s:s,s:o,s:s,s:f,s:b,s:s}", "evidence", lbl, "value",
                  isnan(v) ? json_null() : json_real(v), "op", op, "want", want,
                  "passed", check_ok, "explain",
                  tl_lab_run_str(check, "explain", "")));
  } else {
    json_object_set_new(r, "check", json_null());
  }
  bool have = done && !isnan(measured) && predicted >= 0;
  bool in = have && tl_lab_predict_within(formula, measured, predicted, tol);
  json_object_set_new(r, "ratio",
                      have && predicted > 0 ? json_real(measured / predicted)
                                            : json_null());
  json_object_set_new(r, "within",
                      have ? json_boolean(in && check_ok) : json_null());
  json_object_set_new(r, "evidence", evidence);
  json_object_set_new(
      r, "duration_s",
      json_real(ran ? (double) (tl_now_ns() - lab->t0_ns) / 1e9 : 0));
  json_object_set_new(r, "formula", json_string(formula));
  /* The spread of a repeated measurement: two evidence labels. */
  json_t *sp = json_object_get(
      json_array_get(json_object_get(lab->exp, "variants"), (size_t) vi),
      "spread");
  if (json_is_array(sp) && json_array_size(sp) == 2) {
    const char *l0 = json_string_value(json_array_get(sp, 0));
    const char *l1 = json_string_value(json_array_get(sp, 1));
    double lo = evidence_value(evidence, l0 ? l0 : "");
    double hi = evidence_value(evidence, l1 ? l1 : "");
    json_object_set_new(r, "spread",
                        isnan(lo) || isnan(hi) ? json_null()
                                               : json_pack("[f,f]", lo, hi));
  }
  /* Figures beside the measured one, each with its spread. */
  json_t *also = json_object_get(
      json_array_get(json_object_get(lab->exp, "variants"), (size_t) vi),
      "also");
  if (json_is_array(also) && done) {
    json_t *out = json_array();
    size_t k;
    json_t *a;
    json_array_foreach(also, k, a) {
      double m = evidence_value(evidence, tl_lab_run_str(a, "measured", ""));
      json_t *asp = json_object_get(a, "spread");
      double lo = evidence_value(evidence,
                                 json_is_string(json_array_get(asp, 0))
                                     ? json_string_value(json_array_get(asp, 0))
                                     : "");
      double hi = evidence_value(evidence,
                                 json_is_string(json_array_get(asp, 1))
                                     ? json_string_value(json_array_get(asp, 1))
                                     : "");
      json_array_append_new(
          out, json_pack("{s:s,s:s,s:s,s:o,s:o}", "what",
                         tl_lab_run_str(a, "what", ""), "as",
                         tl_lab_run_str(a, "as", ""), "unit",
                         tl_lab_run_str(a, "unit", ""), "measured",
                         isnan(m) ? json_null() : json_real(m), "spread",
                         isnan(lo) || isnan(hi) ? json_null()
                                                : json_pack("[f,f]", lo, hi)));
    }
    json_object_set_new(r, "also", out);
  }
  /* A step's wall time, its 10th/50th/90th percentiles (evidence labels
   * the experiment names). */
  json_t *steps = json_object_get(lab->exp, "steps");
  if (json_is_object(steps) && done) {
    json_t *st = json_pack("{s:s,s:s}", "what",
                           tl_lab_run_str(steps, "what", "a step's wall time"),
                           "unit", tl_lab_run_str(steps, "unit", "ms"));
    static const char *qs[] = {"p10", "p50", "p90"};
    for (size_t k = 0; k < TL_ARRAY_SIZE(qs); k++) {
      double q = evidence_value(evidence, tl_lab_run_str(steps, qs[k], ""));
      json_object_set_new(st, qs[k], isnan(q) ? json_null() : json_real(q));
    }
    json_object_set_new(r, "steps", st);
  }
  json_decref(vexp);
  return r;
}

/* A figure in words: 3 significant digits, no exponent; thousands
 * separated as the dashboard writes them (230,038). */
static void fig(char *out, size_t cap, double v) {
  if (fabs(v) >= 100)
    tl_thousands(out, cap, v);
  else
    snprintf(out, cap, "%.3g", v);
}

/* A ratio in words: "2x", "1.3x", "101x". */
static void times(char *out, size_t cap, double r) {
  snprintf(out, cap, r >= 9.95 ? "%.0fx" : "%.2gx", r);
}

static double num(json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

/* A unit as written after a figure: " req/s", "%" glued, "us" as µs. */
static const char *unit_words(const char *u, char *sep) {
  *sep = ' ';
  if (!u || !u[0]) {
    *sep = '\0';
    return "";
  }
  if (strcmp(u, "%") == 0)
    *sep = '\0';
  return strcmp(u, "us") == 0 ? "µs" : u;
}

/* The verdict's words, built piece by piece (truncated, never overrun). */
typedef struct {
  char text[2400];
  size_t len;
} words;

static void say(words *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(words *w, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(w->text + w->len, sizeof(w->text) - w->len, fmt, ap);
  va_end(ap);
  if (n > 0)
    w->len = (size_t) n < sizeof(w->text) - w->len ? w->len + (size_t) n
                                                   : sizeof(w->text) - 1;
}

/* A new sentence that starts with a description (not a label, which is
 * said as written): ". Its first letter capitalised". */
static void say_sentence(words *w, const char *d) {
  char c = d[0] >= 'a' && d[0] <= 'z' ? (char) (d[0] - 'a' + 'A') : d[0];
  if (c)
    say(w, ". %c%s", c, d + 1);
  else
    say(w, ". ");
}

/* "<figure> <unit>", the unit once. */
static void say_fig(words *w, double v, const char *unit) {
  char f[32], sep;
  const char *u = unit_words(unit, &sep);
  fig(f, sizeof(f), v);
  say(w, "%s%s%s", f, sep ? " " : "", u);
}

/* A variant's figure after its label: "label: 80.1 req/s". A label that
 * already names the unit ("3 worker threads" measured in worker threads)
 * takes "measured N" instead, so that the unit is not said twice. */
static void say_labelled(words *w, json_t *v, double m, const char *unit) {
  const char *label = tl_lab_run_str(v, "label", "");
  if (unit && unit[0] && strstr(label, unit)) {
    char f[32];
    fig(f, sizeof(f), m);
    say(w, "%s: measured %s", label, f);
    return;
  }
  say(w, "%s: ", label);
  say_fig(w, m, unit);
}

/* What differs between two variants' settings read back, in words, x's
 * first: "32 vs 2 workers, mode pool vs coro". */
static void settings_diff(json_t *x, json_t *y, char *out, size_t cap) {
  static const struct {
    const char *key, *fmt_num, *word;
  } keys[] = {{"mode", NULL, "mode"},
              {"threads", "%s vs %s workers", NULL},
              {"worker_cpus", NULL, "workers on CPUs"},
              {"pin", NULL, NULL},
              {"coro_slice_ms", "slice %s vs %s ms", NULL},
              {"processes", "%s vs %s processes", NULL}};
  size_t n = 0;
  out[0] = '\0';
  for (size_t i = 0; i < TL_ARRAY_SIZE(keys); i++) {
    json_t *a = json_object_get(x, keys[i].key),
           *b = json_object_get(y, keys[i].key);
    if (!a || !b || json_equal(a, b))
      continue;
    char as[64], bs[64], one[160];
    if (json_is_boolean(a)) {
      /* pin: the only yes/no setting */
      snprintf(one, sizeof(one), "%s vs %s",
               json_is_true(a) ? "pinned" : "not pinned",
               json_is_true(b) ? "pinned" : "not pinned");
    } else {
      if (json_is_string(a)) {
        snprintf(as, sizeof(as), "%s", json_string_value(a));
        snprintf(bs, sizeof(bs), "%s",
                 json_is_string(b) ? json_string_value(b) : "?");
      } else {
        snprintf(as, sizeof(as), "%lld", (long long) json_number_value(a));
        snprintf(bs, sizeof(bs), "%lld", (long long) json_number_value(b));
      }
      if (keys[i].fmt_num)
        snprintf(one, sizeof(one), keys[i].fmt_num, as, bs);
      else
        snprintf(one, sizeof(one), "%s %s vs %s", keys[i].word, as, bs);
    }
    int w = snprintf(out + n, cap - n, "%s%s", n ? ", " : "", one);
    if (w < 0 || (size_t) w >= cap - n)
      break;
    n += (size_t) w;
  }
}

/* An evidence label as a name and a unit: "queue wait p99 (ms)" -> name
 * "queue wait p99", unit "ms"; probe_p99_ms is the probe's p99 latency. */
static void evidence_name(const char *label, char *name, size_t ncap,
                          char *unit, size_t ucap) {
  if (strcmp(label, "probe_p99_ms") == 0) {
    snprintf(name, ncap, "the probe's p99 latency");
    snprintf(unit, ucap, "ms");
    return;
  }
  size_t l = strlen(label);
  const char *open = strrchr(label, '(');
  if (open && l > 0 && label[l - 1] == ')' && open > label) {
    size_t nl = (size_t) (open - label);
    while (nl > 0 && label[nl - 1] == ' ')
      nl--;
    snprintf(name, ncap, "%.*s", (int) nl, label);
    snprintf(unit, ucap, "%.*s", (int) (label + l - 1 - open - 1), open + 1);
    return;
  }
  snprintf(name, ncap, "%s", label);
  unit[0] = '\0';
}

/* Two repeated measurements (median and 10th-90th percentile spread):
 * a difference only where the spreads part; the idea, when it names one
 * of them as the higher, holds only then. False when NOT as it says. */
static bool say_spreads(words *w, json_t *exp, const char *id0, const char *l0,
                        double m0, json_t *s0, const char *id1, const char *l1,
                        double m1, json_t *s1) {
  double lo0 = json_number_value(json_array_get(s0, 0));
  double hi0 = json_number_value(json_array_get(s0, 1));
  double lo1 = json_number_value(json_array_get(s1, 0));
  double hi1 = json_number_value(json_array_get(s1, 1));
  bool apart = lo1 > hi0 || lo0 > hi1;
  char r[32];
  if (apart) {
    bool first_higher = m0 > m1;
    times(r, sizeof(r), first_higher ? m0 / m1 : m1 / m0);
    say(w, "%s is %s %s (their spreads do not overlap)", first_higher ? l0 : l1,
        r, first_higher ? l1 : l0);
  } else {
    say(w, "%s and %s are about the same (their spreads overlap)", l1, l0);
  }
  json_t *ex = json_object_get(exp, "expect");
  const char *hi_id = tl_lab_run_str(ex, "higher", NULL),
             *than = tl_lab_run_str(ex, "than", NULL);
  if (!hi_id || !than ||
      !((!strcmp(hi_id, id1) && !strcmp(than, id0)) ||
        (!strcmp(hi_id, id0) && !strcmp(than, id1))))
    return true;
  bool ok = apart && (strcmp(hi_id, id1) == 0 ? lo1 > hi0 : lo0 > hi1);
  say(w, ", %s (the idea: %s above %s)",
      ok ? "as the model says" : "NOT as the model says", hi_id, than);
  return ok;
}

/* Variant v against the first, v0: the measured ratio against the
 * model's. False when NOT as the model says. */
static bool say_versus(words *w, json_t *exp, json_t *v0, json_t *v,
                       const char *unit) {
  const char *formula =
      tl_lab_run_str(json_object_get(exp, "prediction"), "formula", "");
  double tol = tl_lab_run_num(exp, "tolerance", 0.3);
  double m0 = num(v0, "measured"), p0 = num(v0, "predicted");
  double m = num(v, "measured"), p = num(v, "predicted");
  const char *l0 = tl_lab_run_str(v0, "label", ""),
             *l1 = tl_lab_run_str(v, "label", "");
  json_t *s0 = json_object_get(v0, "spread"),
         *s1 = json_object_get(v, "spread");
  if (json_is_array(s0) && json_is_array(s1))
    return say_spreads(w, exp, tl_lab_run_str(v0, "id", ""), l0, m0, s0,
                       tl_lab_run_str(v, "id", ""), l1, m, s1);
  /* The larger first: "2x", never "0.0099x". */
  bool flip = m < m0;
  json_t *hi = flip ? v0 : v, *lo = flip ? v : v0;
  char diff[300], rd[340];
  settings_diff(json_object_get(hi, "settings"),
                json_object_get(lo, "settings"), diff, sizeof(diff));
  if (diff[0])
    snprintf(rd, sizeof(rd), " (read back: %s)", diff);
  else
    snprintf(rd, sizeof(rd), " (the same settings read back)");
  char usep;
  const char *u = unit_words(unit, &usep);
  if (!usep) /* "%" or no unit: "2x the % of" would not read */
    u = "figure";
  if (tl_lab_predict_is_bound(formula) || isnan(p) || isnan(p0) || p0 <= 0 ||
      m0 <= 0 || m <= 0) {
    bool bound = tl_lab_predict_is_bound(formula);
    /* A bound each variant's own way (more than, at most). */
    bool ok =
        !bound || (tl_lab_predict_within(tl_lab_run_str(v, "formula", formula),
                                         m, p, tol) &&
                   tl_lab_predict_within(tl_lab_run_str(v0, "formula", formula),
                                         m0, p0, tol));
    say(w, "%s and %s%s: %s", l1, l0, rd,
        ok ? "both as the model says" : "NOT as the model says");
    return ok;
  }
  double rm = m / m0, rp = p / p0;
  bool agree = fabs(rm / rp - 1) <= tol + 1e-9;
  double r = flip ? 1 / rm : rm, rpo = flip ? 1 / rp : rp;
  char rs[32], rps[32];
  times(rs, sizeof(rs), r);
  times(rps, sizeof(rps), rpo);
  bool model_same = fabs(rp - 1) < 0.05;
  bool same = fabs(r - 1) < 0.05;
  if (same)
    say(w, "%s and %s gave the same %s%s", tl_lab_run_str(hi, "label", ""),
        tl_lab_run_str(lo, "label", ""), u, rd);
  else
    say(w, "%s gave %s the %s of %s%s", tl_lab_run_str(hi, "label", ""), rs, u,
        tl_lab_run_str(lo, "label", ""), rd);
  if (model_same)
    say(w,
        agree ? ", as the model says (the same, within %.0f %%)"
              : ", but the model says the same (within %.0f %%)",
        tol * 100);
  else if (agree)
    say(w, ", as the model says (%s)", rps);
  else if (!same && rpo >= 1)
    say(w, ", but the model says %s", rps);
  else {
    /* The model's higher one named: "0.5x" alone would not say whose. */
    bool model_hi_is_v = p > p0;
    times(rps, sizeof(rps), model_hi_is_v ? rp : 1 / rp);
    say(w, ", but the model says %s gives %s", model_hi_is_v ? l1 : l0, rps);
  }
  return agree;
}

/* The kernel's or the probe's check of each variant, one evidence at a
 * time: its name and unit once, each variant's value against its bound.
 * False when one is NOT as expected. */
static bool say_checks(words *w, json_t *variants) {
  bool all = true;
  size_t n = json_array_size(variants);
  bool done[16] = {false};
  for (size_t i = 0; i < n && i < 16; i++) {
    json_t *c = json_object_get(json_array_get(variants, i), "check");
    if (!json_is_object(c) || done[i])
      continue;
    const char *ev = tl_lab_run_str(c, "evidence", "");
    char name[160], unit[32], sep;
    evidence_name(ev, name, sizeof(name), unit, sizeof(unit));
    const char *u = unit_words(unit, &sep);
    say_sentence(w, name);
    say(w, ": ");
    bool first = true;
    for (size_t k = i; k < n && k < 16; k++) {
      json_t *v = json_array_get(variants, k);
      json_t *ck = json_object_get(v, "check");
      if (!json_is_object(ck) ||
          strcmp(tl_lab_run_str(ck, "evidence", ""), ev) != 0)
        continue;
      done[k] = true;
      double x = num(ck, "value");
      bool passed = json_is_true(json_object_get(ck, "passed"));
      char f[32], want[32];
      fig(want, sizeof(want), num(ck, "want"));
      if (isnan(x))
        snprintf(f, sizeof(f), "not measured");
      else
        fig(f, sizeof(f), x);
      say(w, "%s%s%s%s with %s (%s%s %s%s%s", first ? "" : ", ", f,
          isnan(x) ? "" : (sep ? " " : ""), isnan(x) ? "" : u,
          tl_lab_run_str(v, "label", ""), passed ? "" : "NOT ",
          tl_lab_run_str(ck, "op", ""), want, sep ? " " : "", u);
      say(w, passed ? ", as expected)" : ")");
      first = false;
      if (!passed)
        all = false;
    }
  }
  return all;
}

/* The spread of a step's wall time per variant (the pin experiment):
 * "a CPU step's wall time, 10th/50th/90th percentile: 5.0/5.1/7.9 ms
 * unpinned, 5.0/5.0/5.2 ms pinned". */
static void say_steps(words *w, json_t *variants) {
  size_t i;
  json_t *v;
  bool any = false;
  json_array_foreach(variants, i, v) {
    json_t *st = json_object_get(v, "steps");
    if (!json_is_object(st))
      continue;
    double q[3] = {num(st, "p10"), num(st, "p50"), num(st, "p90")};
    char sep;
    const char *u = unit_words(tl_lab_run_str(st, "unit", ""), &sep);
    const char *what = tl_lab_run_str(st, "what", "a step's wall time");
    if (!any) {
      say_sentence(w, what);
      say(w, ", 10th/50th/90th percentile: ");
    }
    say(w, "%s", any ? ", " : "");
    any = true;
    if (isnan(q[0]) || isnan(q[1]) || isnan(q[2])) {
      say(w, "no step seen with %s", tl_lab_run_str(v, "label", ""));
      continue;
    }
    char f[3][32];
    for (int k = 0; k < 3; k++)
      fig(f[k], sizeof(f[k]), q[k]);
    say(w, "%s/%s/%s%s%s with %s", f[0], f[1], f[2], sep ? " " : "", u,
        tl_lab_run_str(v, "label", ""));
  }
}

/* Figures measured beside the main one (the memory a thread and a process
 * add), compared the same way: each variant's also[k] against the first's.
 * False when NOT as the model says. */
static bool say_also(words *w, json_t *exp, json_t *variants) {
  json_t *v0 = json_array_get(variants, 0);
  json_t *a0s = json_object_get(v0, "also");
  bool ok = true;
  for (size_t k = 0; k < json_array_size(a0s); k++) {
    json_t *a0 = json_array_get(a0s, k);
    double m0 = num(a0, "measured");
    const char *what = tl_lab_run_str(a0, "what", "");
    say_sentence(w, what);
    say(w, ": ");
    size_t i;
    json_t *v;
    json_array_foreach(variants, i, v) {
      json_t *a = json_array_get(json_object_get(v, "also"), k);
      double m = num(a, "measured");
      say(w, "%s%s ", i ? ", " : "", tl_lab_run_str(a, "as", "?"));
      if (isnan(m)) {
        say(w, "not measured");
        continue;
      }
      say_fig(w, m, tl_lab_run_str(a, "unit", ""));
      json_t *sp = json_object_get(a, "spread");
      if (json_is_array(sp)) {
        char lo[32], hi[32];
        fig(lo, sizeof(lo), json_number_value(json_array_get(sp, 0)));
        fig(hi, sizeof(hi), json_number_value(json_array_get(sp, 1)));
        say(w, " (10th-90th percentile %s-%s)", lo, hi);
      }
    }
    for (i = 1; i < json_array_size(variants); i++) {
      v = json_array_get(variants, i);
      json_t *a = json_array_get(json_object_get(v, "also"), k);
      json_t *s0 = json_object_get(a0, "spread"),
             *s1 = json_object_get(a, "spread");
      double m = num(a, "measured");
      if (isnan(m) || isnan(m0) || !json_is_array(s0) || !json_is_array(s1))
        continue;
      say(w, ": ");
      if (!say_spreads(w, exp, tl_lab_run_str(v0, "id", ""),
                       tl_lab_run_str(a0, "as", "?"), m0, s0,
                       tl_lab_run_str(v, "id", ""),
                       tl_lab_run_str(a, "as", "?"), m, s1))
        ok = false;
    }
  }
  return ok;
}

/* The variants compared agree or not with the model's ratios; each
 * figure may still be far from the model's own (a busy machine gives
 * every variant less): said, so that "as the model says" is not read as
 * "as predicted". */
static void say_off_model(words *w, json_t *exp, json_t *variants) {
  const char *formula =
      tl_lab_run_str(json_object_get(exp, "prediction"), "formula", "");
  double tol = tl_lab_run_num(exp, "tolerance", 0.3);
  size_t i;
  json_t *v;
  bool any = false;
  json_array_foreach(variants, i, v) {
    double m = num(v, "measured"), p = num(v, "predicted");
    const char *f = tl_lab_run_str(v, "formula", formula);
    if (isnan(m) || isnan(p) || p <= 0 || tl_lab_predict_is_bound(f) ||
        tl_lab_predict_within(f, m, p, tol))
      continue;
    char a[32], b[32], sep;
    const char *u = unit_words(tl_lab_run_str(v, "unit", ""), &sep);
    fig(a, sizeof(a), m);
    fig(b, sizeof(b), p);
    if (!any)
      say(w,
          ". Against the model's own figures, NOT within %.0f %%: ", tol * 100);
    say(w, "%s%s %s of %s%s%s", any ? ", " : "", tl_lab_run_str(v, "label", ""),
        a, b, sep ? " " : "", u);
    any = true;
  }
}

json_t *tl_lab_verdict_compare(json_t *exp, json_t *variants) {
  const char *formula =
      tl_lab_run_str(json_object_get(exp, "prediction"), "formula", "");
  double tol = tl_lab_run_num(exp, "tolerance", 0.3);
  bool bound = tl_lab_predict_is_bound(formula);
  size_t n = json_array_size(variants);
  words w;
  w.len = 0;
  w.text[0] = '\0';
  bool consistent = n > 0;
  size_t i;
  json_t *v;
  /* The figures, each with its unit once. */
  json_array_foreach(variants, i, v) {
    double m = num(v, "measured");
    const char *unit = tl_lab_run_str(v, "unit", "");
    say(&w, "%s", i ? "; " : "");
    if (isnan(m)) {
      say(&w, "%s: no figure (%s)", tl_lab_run_str(v, "label", ""),
          tl_lab_run_str(v, "status", ""));
      consistent = false;
      continue;
    }
    say_labelled(&w, v, m, unit);
    json_t *sp = json_object_get(v, "spread");
    if (json_is_array(sp)) {
      char lo[32], hi[32];
      fig(lo, sizeof(lo), json_number_value(json_array_get(sp, 0)));
      fig(hi, sizeof(hi), json_number_value(json_array_get(sp, 1)));
      say(&w, " (10th-90th percentile %s-%s)", lo, hi);
    }
  }
  if (n == 0)
    say(&w, "no variant ran");
  /* Each variant against the first, measured ratio against the model's. */
  json_t *v0 = json_array_get(variants, 0);
  double m0 = num(v0, "measured"), p0 = num(v0, "predicted");
  for (i = 1; i < n; i++) {
    v = json_array_get(variants, i);
    if (isnan(num(v, "measured")) || isnan(m0))
      continue;
    say(&w, ". ");
    if (!say_versus(&w, exp, v0, v, tl_lab_run_str(v, "unit", "")))
      consistent = false;
  }
  if (n == 1 && !isnan(m0) && !isnan(p0)) {
    bool in = tl_lab_predict_within(formula, m0, p0, tol);
    say(&w, ". The model says %s", bound ? "more than " : "");
    say_fig(&w, p0, tl_lab_run_str(v0, "unit", ""));
    say(&w, ": %s", in ? "as predicted" : "NOT as predicted");
    if (!in)
      consistent = false;
  }
  if (n > 1)
    say_off_model(&w, exp, variants);
  if (!say_checks(&w, variants))
    consistent = false;
  say_steps(&w, variants);
  if (!say_also(&w, exp, variants))
    consistent = false;
  say(&w, ".");
  return json_pack("{s:s,s:b}", "text", w.text, "consistent", consistent);
}

/* Every variant is done, or the run stopped. */
void tl_lab_verdict_build(tl_lab *lab) {
  json_t *exp = lab->exp;
  json_t *r = lab->result;
  json_t *vars = lab->vresults ? lab->vresults : json_array();
  if (!lab->vresults)
    lab->vresults = vars;
  const char *status = run_status(lab);
  const char *formula =
      tl_lab_run_str(json_object_get(exp, "prediction"), "formula", "");
  json_object_set_new(r, "status", json_string(status));
  json_object_set_new(r, "reason",
                      lab->fail[0] ? json_string(lab->fail) : json_null());
  json_object_set_new(r, "formula", json_string(formula));
  json_object_set_new(r, "measured_what",
                      json_string(tl_lab_run_str(exp, "measured", "rps")));
  json_object_set_new(r, "unit", json_string(tl_lab_setup_unit(exp)));
  json_object_set_new(r, "tolerance",
                      json_real(tl_lab_run_num(exp, "tolerance", 0.3)));
  json_object_set_new(r, "variants", json_incref(vars));
  /* The first variant's figures at the top, as before variants. */
  json_t *v0 = json_array_get(vars, 0);
  static const char *keys[] = {"predicted", "measured", "ratio",
                               "load",      "probe",    "series",
                               "model",     "evidence", "check"};
  for (size_t k = 0; k < TL_ARRAY_SIZE(keys); k++) {
    json_t *x = v0 ? json_object_get(v0, keys[k]) : NULL;
    json_object_set_new(r, keys[k], x ? json_incref(x) : json_null());
  }
  bool all_in = json_array_size(vars) > 0, modelled = true;
  size_t i;
  json_t *v;
  json_array_foreach(vars, i, v) {
    if (!json_is_true(json_object_get(v, "within")))
      all_in = false;
    if (!json_is_boolean(json_object_get(v, "within")))
      modelled = false;
  }
  json_t *verdict;
  if (strcmp(status, "done") != 0) {
    char t[400];
    snprintf(t, sizeof(t), "no verdict: the run %s%s%s", status,
             lab->fail[0] ? ": " : "", lab->fail);
    verdict = json_pack("{s:s,s:b}", "text", t, "consistent", 0);
    json_object_set_new(r, "within", json_null());
  } else {
    verdict = tl_lab_verdict_compare(exp, vars);
    /* Without a figure the model predicts (repeated measurements compared
     * with each other), the verdict's consistency is the answer. */
    json_object_set_new(
        r, "within",
        modelled ? json_boolean(all_in)
                 : json_incref(json_object_get(verdict, "consistent")));
  }
  json_object_set_new(r, "verdict", verdict);
  json_object_set_new(r, "why",
                      json_string(tl_lab_run_str(
                          json_object_get(exp, "prediction"), "explain", "")));
  double total = 0;
  json_array_foreach(vars, i, v) total +=
      num(v, "duration_s") > 0 ? num(v, "duration_s") : 0;
  json_object_set_new(r, "duration_s", json_real(total));
}
