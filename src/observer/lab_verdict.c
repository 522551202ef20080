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
#include <stdio.h>
#include <string.h>

static json_t *evidence_json(tl_lab *lab, json_t *after) {
  json_t *out = json_array();
  size_t i;
  json_t *ev;
  json_array_foreach(json_object_get(lab->exp, "evidence"), i, ev) {
    const char *path = tl_lab_run_str(ev, "path", ""),
               *agg = tl_lab_run_str(ev, "agg", "max");
    json_t *b = lab->before ? tl_lab_evidence_eval(lab->before, path, agg)
                            : json_null();
    json_t *a = after ? tl_lab_evidence_eval(after, path, agg) : json_null();
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
  json_decref(vexp);
  return r;
}

/* A figure in words: 3 significant digits, no exponent below a million. */
static void fig(char *out, size_t cap, double v) {
  if (fabs(v) >= 100)
    snprintf(out, cap, "%.0f", v);
  else
    snprintf(out, cap, "%.3g", v);
}

static double num(json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

/* What differs between two variants' settings read back, in words. */
static void settings_diff(json_t *a, json_t *b, char *out, size_t cap) {
  static const char *keys[] = {"mode", "threads",       "worker_cpus",
                               "pin",  "coro_slice_ms", "processes"};
  size_t n = 0;
  out[0] = '\0';
  for (size_t i = 0; i < TL_ARRAY_SIZE(keys); i++) {
    json_t *x = json_object_get(a, keys[i]), *y = json_object_get(b, keys[i]);
    if (!x || !y || json_equal(x, y))
      continue;
    char xs[64], ys[64];
    if (json_is_string(x)) {
      snprintf(xs, sizeof(xs), "%s", json_string_value(x));
      snprintf(ys, sizeof(ys), "%s",
               json_is_string(y) ? json_string_value(y) : "?");
    } else if (json_is_boolean(x)) {
      snprintf(xs, sizeof(xs), "%s", json_is_true(x) ? "yes" : "no");
      snprintf(ys, sizeof(ys), "%s", json_is_true(y) ? "yes" : "no");
    } else {
      snprintf(xs, sizeof(xs), "%lld", (long long) json_number_value(x));
      snprintf(ys, sizeof(ys), "%lld", (long long) json_number_value(y));
    }
    int w = snprintf(out + n, cap - n, "%s%s %s vs %s", n ? ", " : "", keys[i],
                     ys, xs);
    if (w < 0 || (size_t) w >= cap - n)
      break;
    n += (size_t) w;
  }
  if (n == 0)
    snprintf(out, cap, "the same settings");
}

json_t *tl_lab_verdict_compare(json_t *exp, json_t *variants) {
  const char *formula =
      tl_lab_run_str(json_object_get(exp, "prediction"), "formula", "");
  double tol = tl_lab_run_num(exp, "tolerance", 0.3);
  bool bound = tl_lab_predict_is_bound(formula);
  size_t n = json_array_size(variants);
  char text[1600];
  size_t len = 0;
  bool consistent = n > 0;
#define SAY(...)                                                               \
  do {                                                                         \
    int w_ = snprintf(text + len, sizeof(text) - len, __VA_ARGS__);            \
    if (w_ > 0)                                                                \
      len = (size_t) w_ < sizeof(text) - len ? len + (size_t) w_               \
                                             : sizeof(text) - 1;               \
  } while (0)
  text[0] = '\0';
  size_t i;
  json_t *v;
  /* The figures. */
  json_array_foreach(variants, i, v) {
    double m = num(v, "measured");
    char f[32];
    if (isnan(m)) {
      SAY("%s%s: no figure (%s)", i ? ", " : "", tl_lab_run_str(v, "label", ""),
          tl_lab_run_str(v, "status", ""));
      consistent = false;
      continue;
    }
    fig(f, sizeof(f), m);
    SAY("%s%s: %s %s", i ? ", " : "", tl_lab_run_str(v, "label", ""), f,
        tl_lab_run_str(v, "unit", ""));
    json_t *sp = json_object_get(v, "spread");
    if (json_is_array(sp)) {
      char lo[32], hi[32];
      fig(lo, sizeof(lo), json_number_value(json_array_get(sp, 0)));
      fig(hi, sizeof(hi), json_number_value(json_array_get(sp, 1)));
      SAY(" (10th-90th percentile %s-%s)", lo, hi);
    }
  }
  if (n == 0)
    SAY("no variant ran");
  /* Each variant against the first, measured ratio against the model's. */
  json_t *v0 = json_array_get(variants, 0);
  double m0 = num(v0, "measured"), p0 = num(v0, "predicted");
  for (i = 1; i < n; i++) {
    v = json_array_get(variants, i);
    double m = num(v, "measured"), p = num(v, "predicted");
    if (isnan(m) || isnan(m0))
      continue;
    char diff[300], rm_s[32], rp_s[32];
    settings_diff(json_object_get(v0, "settings"),
                  json_object_get(v, "settings"), diff, sizeof(diff));
    json_t *s0 = json_object_get(v0, "spread"),
           *s1 = json_object_get(v, "spread");
    if (json_is_array(s0) && json_is_array(s1)) {
      /* Repeated measurements: a difference only where the spreads part. */
      double lo0 = json_number_value(json_array_get(s0, 0));
      double hi0 = json_number_value(json_array_get(s0, 1));
      double lo1 = json_number_value(json_array_get(s1, 0));
      double hi1 = json_number_value(json_array_get(s1, 1));
      bool apart = lo1 > hi0 || lo0 > hi1;
      snprintf(rm_s, sizeof(rm_s), "%.2gx", m / m0);
      SAY(" — %s vs %s: %s", tl_lab_run_str(v, "label", ""),
          tl_lab_run_str(v0, "label", ""),
          apart ? rm_s : "about the same (their spreads overlap)");
      json_t *ex = json_object_get(exp, "expect");
      const char *hi_id = tl_lab_run_str(ex, "higher", NULL),
                 *than = tl_lab_run_str(ex, "than", NULL);
      const char *id0 = tl_lab_run_str(v0, "id", ""),
                 *id1 = tl_lab_run_str(v, "id", "");
      if (hi_id && than &&
          ((!strcmp(hi_id, id1) && !strcmp(than, id0)) ||
           (!strcmp(hi_id, id0) && !strcmp(than, id1)))) {
        /* The idea holds only when the higher one's spread lies above. */
        bool ok = apart && (strcmp(hi_id, id1) == 0 ? lo1 > hi0 : lo0 > hi1);
        SAY(", %s (the idea: %s above %s)",
            ok ? "as the model says" : "NOT as the model says", hi_id, than);
        if (!ok)
          consistent = false;
      }
      continue;
    }
    if (bound || isnan(p) || isnan(p0) || p0 <= 0 || m0 <= 0) {
      /* A bound each variant's own way (more than, at most). */
      bool ok = !bound ||
                (tl_lab_predict_within(tl_lab_run_str(v, "formula", formula), m,
                                       p, tol) &&
                 tl_lab_predict_within(tl_lab_run_str(v0, "formula", formula),
                                       m0, p0, tol));
      if (!ok)
        consistent = false;
      SAY(" — %s vs %s (%s): %s", tl_lab_run_str(v, "label", ""),
          tl_lab_run_str(v0, "label", ""), diff,
          ok ? "both as the model says" : "NOT as the model says");
      continue;
    }
    double rm = m / m0, rp = p / p0;
    bool agree = fabs(rm / rp - 1) <= tol + 1e-9;
    if (!agree)
      consistent = false;
    snprintf(rm_s, sizeof(rm_s), "%.2gx", rm);
    snprintf(rp_s, sizeof(rp_s), "%.2gx", rp);
    if (fabs(rp - 1) < 0.05)
      SAY(" — %s vs %s (%s): %s; the model says the same%s",
          tl_lab_run_str(v, "label", ""), tl_lab_run_str(v0, "label", ""), diff,
          agree ? "about the same" : rm_s,
          agree ? "" : ": the numbers do NOT show the model's picture");
    else
      SAY(" — %s vs %s (%s): %s, %s %s", tl_lab_run_str(v, "label", ""),
          tl_lab_run_str(v0, "label", ""), diff, rm_s,
          agree ? "as the model says" : "but the model says", rp_s);
  }
  if (n == 1 && !isnan(m0) && !isnan(p0)) {
    bool in = tl_lab_predict_within(formula, m0, p0, tol);
    char f[32];
    fig(f, sizeof(f), p0);
    SAY(" — the model says %s%s: %s", bound ? "more than " : "", f,
        in ? "as predicted" : "NOT as predicted");
    if (!in)
      consistent = false;
  }
  /* The kernel's or the probe's check, variant by variant. */
  json_array_foreach(variants, i, v) {
    json_t *c = json_object_get(v, "check");
    if (!json_is_object(c))
      continue;
    double x = num(c, "value");
    bool passed = json_is_true(json_object_get(c, "passed"));
    char f[32], w[32];
    fig(w, sizeof(w), num(c, "want"));
    if (isnan(x))
      snprintf(f, sizeof(f), "not measured");
    else
      fig(f, sizeof(f), x);
    SAY("; %s: %s %s (%s %s %s)", tl_lab_run_str(v, "label", ""),
        tl_lab_run_str(c, "evidence", ""), f,
        passed ? "as expected:" : "NOT as expected:",
        tl_lab_run_str(c, "op", ""), w);
    if (!passed)
      consistent = false;
  }
#undef SAY
  return json_pack("{s:s,s:b}", "text", text, "consistent", consistent);
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
