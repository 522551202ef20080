/* The lab verdict's words (observer/lab_verdict: tl_lab_verdict_compare)
 * and a step's wall-time percentiles (observer/lab_evidence): sentences
 * computed from the figures given, each unit said once, the larger figure
 * first, checks grouped by their evidence, the pin experiment's step
 * spread and the memory figures beside process-costs' creation times. */
#include "config.h"

#include <check.h>
#include <math.h>
#include <string.h>

#include "tl_check.h"
#include "observer/lab_evidence.h"
#include "observer/lab_verdict.h"

#define NEAR(a, b)                                                             \
  ck_assert_msg(fabs((a) - (double) (b)) < 1e-6, "%g != %g", (double) (a),     \
                (double) (b))

/* How often needle occurs in hay. */
static int count(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

static json_t *var(const char *id, const char *label, const char *unit,
                   double measured, double predicted, json_t *settings) {
  return json_pack("{s:s,s:s,s:s,s:f,s:f,s:o,s:n}", "id", id, "label", label,
                   "unit", unit, "measured", measured, "predicted", predicted,
                   "settings", settings, "check");
}

static const char *text_of(json_t *v) {
  return json_string_value(json_object_get(v, "text"));
}

/* process-threads: the unit (worker threads) once per figure, never
 * "3 worker threads: 3 worker threads"; the ratio said once with the
 * model's. */
START_TEST(units_once) {
  json_t *exp = json_pack("{s:{s:s},s:f}", "prediction", "formula",
                          "worker_count", "tolerance", 0.0);
  json_t *vs =
      json_pack("[o,o]",
                var("t3", "--threads 3", "worker threads", 3, 3,
                    json_pack("{s:s,s:i}", "mode", "pool", "threads", 3)),
                var("t6", "--threads 6", "worker threads", 6, 6,
                    json_pack("{s:s,s:i}", "mode", "pool", "threads", 6)));
  json_t *v = tl_lab_verdict_compare(exp, vs);
  const char *t = text_of(v);
  ck_assert_msg(strstr(t, "--threads 3: 3 worker threads; --threads 6: 6 "
                          "worker threads") != NULL,
                "%s", t);
  ck_assert_msg(strstr(t, "--threads 6 gave 2x the worker threads of "
                          "--threads 3 (read back: 6 vs 3 workers), as the "
                          "model says (2x)") != NULL,
                "%s", t);
  ck_assert_msg(count(t, "worker threads") == 3, "%s", t);
  ck_assert(json_is_true(json_object_get(v, "consistent")));
  json_decref(v);
  json_decref(vs);
  /* A label that names the unit: "measured N", not the unit again. */
  vs = json_pack("[o]", var("t3", "3 worker threads", "worker threads", 3, 3,
                            json_pack("{s:i}", "threads", 3)));
  v = tl_lab_verdict_compare(exp, vs);
  t = text_of(v);
  ck_assert_msg(strstr(t, "3 worker threads: measured 3.") != NULL &&
                    count(t, "worker threads") == 2,
                "%s", t);
  json_decref(v);
  json_decref(vs);
  json_decref(exp);
}
END_TEST

/* async vs pool: the larger first ("101x", never "0.0099x"), the model's
 * ratio in the same direction; a disagreement says "but the model says". */
START_TEST(larger_first_and_model_ratio) {
  json_t *exp = json_pack("{s:{s:s},s:f}", "prediction", "formula",
                          "connections_over_wait", "tolerance", 0.3);
  json_t *vs =
      json_pack("[o,o]",
                var("async", "async", "req/s", 1800, 2000,
                    json_pack("{s:s,s:i}", "mode", "async", "threads", 2)),
                var("pool", "pool", "req/s", 18, 20,
                    json_pack("{s:s,s:i}", "mode", "pool", "threads", 2)));
  json_t *v = tl_lab_verdict_compare(exp, vs);
  const char *t = text_of(v);
  ck_assert_msg(strstr(t,
                       "async gave 100x the req/s of pool (read back: "
                       "mode async vs pool), as the model says (100x)") != NULL,
                "%s", t);
  ck_assert_msg(!strstr(t, "0.01"), "%s", t);
  json_decref(v);
  json_decref(vs);
  /* The same settings' model, 1.3x measured: "the same, within 40 %"
   * as the model says, not "about the same" for a 30 % difference. */
  json_decref(exp);
  exp = json_pack("{s:{s:s},s:f}", "prediction", "formula", "cpu_bound",
                  "tolerance", 0.4);
  vs = json_pack("[o,o]",
                 var("a", "threads = cores", "req/s", 80, 400,
                     json_pack("{s:i}", "threads", 2)),
                 var("b", "8 workers", "req/s", 104, 400,
                     json_pack("{s:i}", "threads", 8)));
  v = tl_lab_verdict_compare(exp, vs);
  t = text_of(v);
  ck_assert_msg(strstr(t, "8 workers gave 1.3x the req/s of threads = cores "
                          "(read back: 8 vs 2 workers), as the model says "
                          "(the same, within 40 %)") != NULL,
                "%s", t);
  /* Both far from the model's own 400 req/s (a busy machine): said, the
   * comparison still as the model says. */
  ck_assert_msg(strstr(t, "Against the model's own figures, NOT within 40 %: "
                          "threads = cores 80 of 400 req/s, 8 workers 104 of "
                          "400 req/s") != NULL,
                "%s", t);
  ck_assert(json_is_true(json_object_get(v, "consistent")));
  json_decref(v);
  json_decref(vs);
  /* Outside the tolerance: said so, inconsistent. */
  vs = json_pack("[o,o]",
                 var("a", "one CPU", "req/s", 100, 100,
                     json_pack("{s:s}", "worker_cpus", "0")),
                 var("b", "every CPU", "req/s", 104, 200,
                     json_pack("{s:s}", "worker_cpus", "0-1")));
  v = tl_lab_verdict_compare(exp, vs);
  t = text_of(v);
  ck_assert_msg(strstr(t, "every CPU gave 1x") == NULL &&
                    strstr(t, "every CPU and one CPU gave the same req/s "
                              "(read back: workers on CPUs 0-1 vs 0), but the "
                              "model says every CPU gives 2x") != NULL,
                "%s", t);
  ck_assert(json_is_false(json_object_get(v, "consistent")));
  json_decref(v);
  json_decref(vs);
  json_decref(exp);
}
END_TEST

/* Checks: the evidence named once with its unit, each variant's value
 * against its own bound; one failure makes the verdict inconsistent. */
START_TEST(checks_grouped_by_evidence) {
  json_t *exp = json_pack("{s:{s:s},s:f}", "prediction", "formula", "cpu_bound",
                          "tolerance", 0.4);
  json_t *a = var("coro", "coro", "req/s", 40, 40, json_object()),
         *b = var("pool32", "pool 32", "req/s", 40, 40, json_object());
  json_object_set_new(a, "check",
                      json_pack("{s:s,s:f,s:s,s:f,s:b}", "evidence",
                                "probe_p99_ms", "value", 530.0, "op", ">",
                                "want", 10.0, "passed", 1));
  json_object_set_new(b, "check",
                      json_pack("{s:s,s:f,s:s,s:f,s:b}", "evidence",
                                "probe_p99_ms", "value", 34.1, "op", "<",
                                "want", 25.0, "passed", 0));
  json_t *vs = json_pack("[o,o]", a, b);
  json_t *v = tl_lab_verdict_compare(exp, vs);
  const char *t = text_of(v);
  ck_assert_msg(strstr(t, "The probe's p99 latency: 530 ms with coro (> 10 ms, "
                          "as expected), 34.1 ms with pool 32 (NOT < 25 ms)") !=
                    NULL,
                "%s", t);
  ck_assert_msg(count(t, "probe") == 1 && !strstr(t, "probe_p99_ms"), "%s", t);
  ck_assert(json_is_false(json_object_get(v, "consistent")));
  json_decref(v);
  json_decref(vs);
  json_decref(exp);
}
END_TEST

/* process-costs: creation times and the memory beside them, each a
 * difference only where the spreads part. */
START_TEST(memory_like_with_like) {
  json_t *exp = json_pack("{s:{s:s},s:f,s:{s:s,s:s}}", "prediction", "formula",
                          "none", "tolerance", 0.0, "expect", "higher",
                          "process", "than", "thread");
  const char *what = "private memory added";
  json_t *a =
      json_pack("{s:s,s:s,s:s,s:f,s:[f,f],s:[{s:s,s:s,s:s,s:f,s:[f,f]}]}", "id",
                "thread", "label", "thread", "unit", "us", "measured", 12.0,
                "spread", 11.0, 18.0, "also", "what", what, "as", "a thread",
                "unit", "KiB", "measured", 8.0, "spread", 8.0, 9.0);
  json_t *b =
      json_pack("{s:s,s:s,s:s,s:f,s:[f,f],s:[{s:s,s:s,s:s,s:f,s:[f,f]}]}", "id",
                "process", "label", "process", "unit", "us", "measured", 127.0,
                "spread", 122.0, 197.0, "also", "what", what, "as", "a process",
                "unit", "KiB", "measured", 28.0, "spread", 27.0, 30.0);
  json_t *vs = json_pack("[o,o]", a, b);
  json_t *v = tl_lab_verdict_compare(exp, vs);
  const char *t = text_of(v);
  ck_assert_msg(strstr(t, "thread: 12 µs (10th-90th percentile 11-18); "
                          "process: 127 µs (10th-90th percentile 122-197)") &&
                    strstr(t, "process is 11x thread (their spreads do not "
                              "overlap), as the model says"),
                "%s", t);
  ck_assert_msg(strstr(t,
                       "Private memory added: a thread 8 KiB (10th-90th "
                       "percentile 8-9), a process 28 KiB (10th-90th "
                       "percentile 27-30): a process is 3.5x a thread") != NULL,
                "%s", t);
  ck_assert(json_is_true(json_object_get(v, "consistent")));
  json_decref(v);
  json_decref(vs);
  /* The memory spreads overlap: about the same, NOT as the model says. */
  a = json_pack("{s:s,s:s,s:s,s:f,s:[f,f],s:[{s:s,s:s,s:s,s:f,s:[f,f]}]}", "id",
                "thread", "label", "thread", "unit", "us", "measured", 12.0,
                "spread", 11.0, 18.0, "also", "what", what, "as", "a thread",
                "unit", "KiB", "measured", 8.0, "spread", 8.0, 30.0);
  b = json_pack("{s:s,s:s,s:s,s:f,s:[f,f],s:[{s:s,s:s,s:s,s:f,s:[f,f]}]}", "id",
                "process", "label", "process", "unit", "us", "measured", 127.0,
                "spread", 122.0, 197.0, "also", "what", what, "as", "a process",
                "unit", "KiB", "measured", 28.0, "spread", 27.0, 30.0);
  vs = json_pack("[o,o]", a, b);
  v = tl_lab_verdict_compare(exp, vs);
  t = text_of(v);
  ck_assert_msg(strstr(t, "a process and a thread are about the same (their "
                          "spreads overlap), NOT as the model says") != NULL,
                "%s", t);
  ck_assert(json_is_false(json_object_get(v, "consistent")));
  json_decref(v);
  json_decref(vs);
  json_decref(exp);
}
END_TEST

/* The pin experiment: each variant's step wall time, p10/p50/p90, from
 * the steps of its own load (those before the load are left out). */
START_TEST(step_wall_percentiles) {
  const char *before_s = "{\"timeline\":{\"to_ms\":1000,\"steps\":[]}}";
  /* 11 CPU steps of this load: wall 5..15 ms; one before the load (100 ms)
   * and one io step (50 ms) that must not count. */
  char after_s[2048];
  size_t n = (size_t) snprintf(after_s, sizeof(after_s),
                               "{\"timeline\":{\"to_ms\":3000,\"steps\":["
                               "{\"kind\":\"cpu\",\"start_ms\":900,\"end_ms\":"
                               "1000},{\"kind\":\"io\",\"start_ms\":1100,"
                               "\"end_ms\":1150}");
  for (int i = 0; i < 11; i++)
    n += (size_t) snprintf(after_s + n, sizeof(after_s) - n,
                           ",{\"kind\":\"cpu\",\"start_ms\":%d,\"end_ms\":%d}",
                           1200 + 100 * i, 1200 + 100 * i + 5 + (10 - i));
  snprintf(after_s + n, sizeof(after_s) - n, "]}}");
  json_t *before = json_loads(before_s, 0, NULL),
         *after = json_loads(after_s, 0, NULL);
  ck_assert_ptr_nonnull(after);
  json_t *p10 = tl_lab_evidence_wall(before, after, "timeline.steps[kind=cpu]",
                                     "wall_p10"),
         *p50 = tl_lab_evidence_wall(before, after, "timeline.steps[kind=cpu]",
                                     "wall_p50"),
         *p90 = tl_lab_evidence_wall(before, after, "timeline.steps[kind=cpu]",
                                     "wall_p90");
  NEAR(json_number_value(p10), 6);
  NEAR(json_number_value(p50), 10);
  NEAR(json_number_value(p90), 14);
  json_decref(p10);
  json_decref(p50);
  json_decref(p90);
  /* Without "before", the step before the load counts: the largest. */
  json_t *all = tl_lab_evidence_wall(NULL, after, "timeline.steps[kind=cpu]",
                                     "wall_p100");
  NEAR(json_number_value(all), 100);
  json_decref(all);
  /* No step: null, never a guess. */
  json_t *none = tl_lab_evidence_wall(before, before,
                                      "timeline.steps[kind=cpu]", "wall_p50");
  ck_assert(json_is_null(none));
  json_decref(none);
  json_decref(before);
  json_decref(after);
  /* The verdict says each variant's spread, the unit once per variant. */
  json_t *exp = json_pack("{s:{s:s},s:f}", "prediction", "formula", "cpu_bound",
                          "tolerance", 0.4);
  json_t *a = var("unpinned", "unpinned", "req/s", 380, 400,
                  json_pack("{s:b}", "pin", 0)),
         *b = var("pinned", "pinned", "req/s", 390, 400,
                  json_pack("{s:b}", "pin", 1));
  json_object_set_new(a, "steps",
                      json_pack("{s:s,s:s,s:f,s:f,s:f}", "what",
                                "a 5 ms CPU step's wall time", "unit", "ms",
                                "p10", 5.02, "p50", 5.1, "p90", 7.9));
  json_object_set_new(b, "steps",
                      json_pack("{s:s,s:s,s:f,s:f,s:f}", "what",
                                "a 5 ms CPU step's wall time", "unit", "ms",
                                "p10", 5.01, "p50", 5.03, "p90", 5.2));
  json_t *vs = json_pack("[o,o]", a, b);
  json_t *v = tl_lab_verdict_compare(exp, vs);
  const char *t = text_of(v);
  ck_assert_msg(strstr(t, "A 5 ms CPU step's wall time, 10th/50th/90th "
                          "percentile: 5.02/5.1/7.9 ms with unpinned, "
                          "5.01/5.03/5.2 ms with pinned") != NULL,
                "%s", t);
  ck_assert_msg(strstr(t, "(read back: pinned vs not pinned)") != NULL, "%s",
                t);
  json_decref(v);
  json_decref(vs);
  json_decref(exp);
}
END_TEST

TL_CHECK_MAIN("lab_verdict", units_once, larger_first_and_model_ratio,
              checks_grouped_by_evidence, memory_like_with_like,
              step_wall_percentiles)
