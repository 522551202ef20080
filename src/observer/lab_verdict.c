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
    const char *path = tl_lab_run_str(ev, "path", ""), *agg = tl_lab_run_str(ev, "agg", "max");
    json_t *b = lab->before ? tl_lab_evidence_eval(lab->before, path, agg) : json_null();
    json_t *a = after ? tl_lab_evidence_eval(after, path, agg) : json_null();
    bool counter = json_is_true(json_object_get(ev, "counter"));
    json_t *item = json_pack("{s:s,s:s,s:o,s:o,s:b}", "label",
                             tl_lab_run_str(ev, "label", path), "path", path, "before",
                             b, "after", a, "counter", counter);
    if (counter)
      json_object_set_new(item, "delta",
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
    json_t *v = json_object_get(item, json_is_true(json_object_get(item, "counter"))
                                          ? "delta" : "after");
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
    double x = evidence_value(evidence, a), y = evidence_value(evidence, slash + 3);
    return y > 0 ? x / y : NAN;
  }
  (void) lab;
  return evidence_value(evidence, what);
}

/* wrk is done (or never ran): measure, compare, gather the evidence. */
void tl_lab_verdict_build(tl_lab *lab) {
  json_t *exp = lab->exp;
  json_t *pred = json_object_get(exp, "prediction");
  const char *formula = tl_lab_run_str(pred, "formula", "");
  tl_lab_model m;
  tl_lab_setup_model(lab, exp, &m);
  double predicted = tl_lab_predict(formula, &m);
  double tol = tl_lab_run_num(exp, "tolerance", 0.3);
  tl_lab_wrk load = {0}, probe = {0};
  bool ran = lab->nwrk > 0 && lab->wrk[0].spawned;
  if (ran)
    tl_lab_wrk_parse(lab->wrk[0].text.data, lab->wrk[0].text.len, &load);
  if (lab->nwrk > 1 && lab->wrk[1].spawned)
    tl_lab_wrk_parse(lab->wrk[1].text.data, lab->wrk[1].text.len, &probe);
  const tl_buf *text = lab->has_during ? &lab->during : tl_sampler_json(lab->stats);
  json_t *after = json_loadb(text->data, text->len, 0, NULL);
  json_t *evidence = ran ? evidence_json(lab, after) : json_array();
  json_decref(after);
  const char *status = lab->fail[0] ? "failed" : lab->cancel ? "cancelled" : "done";
  if (!lab->fail[0] && !lab->cancel && ran && !load.ok) {
    const tl_buf *t = &lab->wrk[0].text;
    int tl = t->len > 200 ? 200 : (int) t->len;
    snprintf(lab->fail, sizeof(lab->fail), "wrk gave no summary (exit %lld): %.*s",
             (long long) lab->wrk[0].exit_status, tl, t->data ? t->data : "");
    status = "failed";
  }
  double measured = strcmp(status, "done") == 0
                        ? measured_of(lab, tl_lab_run_str(exp, "measured", "rps"), evidence, &load)
                        : NAN;
  json_t *r = lab->result;
  json_object_set_new(r, "status", json_string(status));
  json_object_set_new(r, "reason", lab->fail[0] ? json_string(lab->fail) : json_null());
  json_object_set_new(r, "formula", json_string(formula));
  json_object_set_new(r, "measured_what", json_string(tl_lab_run_str(exp, "measured", "rps")));
  json_object_set_new(r, "predicted", predicted >= 0 ? json_real(predicted) : json_null());
  json_object_set_new(r, "measured", isnan(measured) ? json_null() : json_real(measured));
  json_object_set_new(r, "tolerance", json_real(tol));
  json_object_set_new(r, "load", wrk_json(&load));
  json_object_set_new(r, "probe", lab->nwrk > 1 ? wrk_json(&probe) : json_null());
  json_object_set_new(r, "series", json_incref(lab->series ? lab->series : json_array()));
  json_object_set_new(r, "model", json_pack("{s:i,s:i,s:b,s:i}", "cores", m.cores,
                                            "workers", m.workers, "async", m.async,
                                            "connections", m.connections));
  char verdict[400];
  json_t *within = json_null();
  bool check_ok = true;
  json_t *check = json_object_get(exp, "check");
  if (json_is_object(check) && strcmp(status, "done") == 0) {
    const char *lbl = tl_lab_run_str(check, "evidence", "");
    double v = strcmp(lbl, "probe_p99_ms") == 0 ? (probe.ok ? probe.p99_ms : NAN)
                                                 : evidence_value(evidence, lbl);
    double want = tl_lab_run_num(check, "value", 0);
    const char *op = tl_lab_run_str(check, "op", ">");
    check_ok = !isnan(v) && (strcmp(op, ">") == 0 ? v > want
                             : strcmp(op, "<=") == 0 ? v <= want
                             : strcmp(op, ">=") == 0 ? v >= want : v < want);
    json_object_set_new(r, "check", json_pack("{s:s,s:o,s:s,s:f,s:b,s:s}", "evidence", lbl,
                                              "value", isnan(v) ? json_null() : json_real(v),
                                              "op", op, "want", want, "passed", check_ok,
                                              "explain", tl_lab_run_str(check, "explain", "")));
  }
  if (strcmp(status, "done") == 0 && !isnan(measured) && predicted >= 0) {
    bool in = tl_lab_predict_within(formula, measured, predicted, tol);
    json_object_set_new(r, "ratio", predicted > 0 ? json_real(measured / predicted) : json_null());
    within = json_boolean(in && check_ok);
    if (tl_lab_predict_is_bound(formula))
      snprintf(verdict, sizeof(verdict), "measured %.3g, the model says more than %.3g: %s%s",
               measured, predicted, in ? "as predicted" : "NOT as predicted",
               check_ok ? "" : "; and the kernel's evidence disagrees");
    else
      snprintf(verdict, sizeof(verdict),
               "predicted %.4g, measured %.4g (ratio %.2f): %s tolerance of +/-%.0f%%%s%s",
               predicted, measured, measured / predicted, in ? "within the" : "outside the",
               tol * 100, !in ? (measured < predicted
                                     ? ": below the model (the cores are shared with wrk and other processes, or the model misses a cost)"
                                     : ": above the model (the model misses a shortcut)")
                              : "",
               check_ok ? "" : "; the kernel's evidence disagrees with the idea");
  } else if (strcmp(status, "done") == 0) {
    json_object_set_new(r, "ratio", json_null());
    snprintf(verdict, sizeof(verdict), "no verdict: the kernel did not give the figure measured (%s)",
             tl_lab_run_str(exp, "measured", "rps"));
  } else {
    json_object_set_new(r, "ratio", json_null());
    snprintf(verdict, sizeof(verdict), "no verdict: the run %s%s%s", status,
             lab->fail[0] ? ": " : "", lab->fail);
  }
  json_object_set_new(r, "within", within);
  json_object_set_new(r, "verdict", json_string(verdict));
  json_object_set_new(r, "why", json_string(tl_lab_run_str(pred, "explain", "")));
  json_object_set_new(r, "evidence", evidence);
  json_object_set_new(r, "duration_s",
                      json_real(ran ? (double) (tl_now_ns() - lab->t0_ns) / 1e9 : 0));
}
