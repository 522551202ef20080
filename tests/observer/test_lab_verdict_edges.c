/* The lab's model and verdict at the edges the first tests left open
 * (mutaudit2): the loop alone waits in async mode, repeated measurements
 * where the first variant is the higher one, a bound (greater_than) that
 * the first variant misses, and a single variant off its prediction. */
#include "config.h"

#include <check.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "tl_check.h"
#include "observer/lab_predict.h"
#include "observer/lab_verdict.h"

#define NEAR(a, b)                                                             \
  ck_assert_msg(fabs((a) - (b)) < 1e-6, "%g != %g", (double) (a), (double) (b))

START_TEST(async_waits_are_the_loops_alone) {
  /* 8 workers configured, but async mode runs every step on the loop:
   * one wait of 50 ms at a time is 20/s, not 160/s. */
  tl_lab_model m = {
      .cores = 2, .workers = 8, .async = true, .connections = 100, .io_ms = 50};
  NEAR(tl_lab_predict("workers_over_wait", &m), 20);
  m.async = false;
  NEAR(tl_lab_predict("workers_over_wait", &m), 160);
}
END_TEST

static json_t *spread_variant(const char *id, double measured, double lo,
                              double hi) {
  return json_pack("{s:s,s:s,s:s,s:f,s:[f,f]}", "id", id, "label", id, "unit",
                   "us", "measured", measured, "spread", lo, hi);
}

static json_t *compare(const char *higher, const char *than, json_t *a,
                       json_t *b) {
  json_t *exp =
      json_pack("{s:{s:s},s:f,s:{s:s,s:s}}", "prediction", "formula", "none",
                "tolerance", 0.0, "expect", "higher", higher, "than", than);
  json_t *vs = json_pack("[o,o]", a, b);
  json_t *v = tl_lab_verdict_compare(exp, vs);
  json_decref(vs);
  json_decref(exp);
  return v;
}

START_TEST(spreads_apart_with_the_first_variant_above) {
  /* thread (first) 20-30 us, process 2-4 us: apart, thread above. */
  json_t *v = compare("thread", "process", spread_variant("thread", 25, 20, 30),
                      spread_variant("process", 3, 2, 4));
  const char *t = json_string_value(json_object_get(v, "text"));
  ck_assert_msg(strstr(t, "thread is 8.3x process") &&
                    strstr(t, ", as the model says"),
                "%s", t);
  ck_assert(json_is_true(json_object_get(v, "consistent")));
  json_decref(v);
  /* The same figures against the opposite idea: apart, the wrong way. */
  v = compare("process", "thread", spread_variant("thread", 25, 20, 30),
              spread_variant("process", 3, 2, 4));
  t = json_string_value(json_object_get(v, "text"));
  ck_assert_msg(strstr(t, "NOT as the model says (the idea: process above"),
                "%s", t);
  ck_assert(json_is_false(json_object_get(v, "consistent")));
  json_decref(v);
}
END_TEST

static json_t *bound_variant(const char *id, double measured) {
  return json_pack("{s:s,s:s,s:s,s:f,s:f,s:{s:i}}", "id", id, "label", id,
                   "unit", "x", "measured", measured, "predicted", 1.0,
                   "settings", "threads", 4);
}

START_TEST(a_bound_missed_by_the_first_variant) {
  json_t *exp = json_pack("{s:{s:s},s:f}", "prediction", "formula",
                          "greater_than", "tolerance", 0.3);
  /* "more than 1": the first is 0.5 (missed), the second 2 (held). */
  json_t *vs =
      json_pack("[o,o]", bound_variant("a", 0.5), bound_variant("b", 2));
  json_t *v = tl_lab_verdict_compare(exp, vs);
  const char *t = json_string_value(json_object_get(v, "text"));
  ck_assert_msg(strstr(t, "NOT as the model says") != NULL, "%s", t);
  ck_assert(json_is_false(json_object_get(v, "consistent")));
  json_decref(v);
  json_decref(vs);
  vs = json_pack("[o,o]", bound_variant("a", 1.5), bound_variant("b", 2));
  v = tl_lab_verdict_compare(exp, vs);
  t = json_string_value(json_object_get(v, "text"));
  ck_assert_msg(strstr(t, "both as the model says") != NULL, "%s", t);
  ck_assert(json_is_true(json_object_get(v, "consistent")));
  json_decref(v);
  json_decref(vs);
  json_decref(exp);
}
END_TEST

START_TEST(one_variant_off_its_prediction) {
  json_t *exp = json_pack("{s:{s:s},s:f}", "prediction", "formula", "cpu_bound",
                          "tolerance", 0.3);
  json_t *vs =
      json_pack("[{s:s,s:s,s:s,s:f,s:f}]", "id", "one", "label", "one", "unit",
                "req/s", "measured", 100.0, "predicted", 200.0);
  json_t *v = tl_lab_verdict_compare(exp, vs);
  const char *t = json_string_value(json_object_get(v, "text"));
  ck_assert_msg(strstr(t, "The model says 200 req/s: NOT as predicted") != NULL,
                "%s", t);
  ck_assert(json_is_false(json_object_get(v, "consistent")));
  json_decref(v);
  json_decref(vs);
  vs = json_pack("[{s:s,s:s,s:s,s:f,s:f}]", "id", "one", "label", "one", "unit",
                 "req/s", "measured", 190.0, "predicted", 200.0);
  v = tl_lab_verdict_compare(exp, vs);
  t = json_string_value(json_object_get(v, "text"));
  ck_assert_msg(strstr(t, "The model says 200 req/s: as predicted") != NULL,
                "%s", t);
  ck_assert(json_is_true(json_object_get(v, "consistent")));
  json_decref(v);
  json_decref(vs);
  json_decref(exp);
}
END_TEST

/* Large figures are written as the dashboard writes them: 230,038 and
 * -1,234,567 (a fall), not 230038. */
START_TEST(large_figures_have_thousands_separators) {
  json_t *exp = json_pack("{s:{s:s},s:f}", "prediction", "formula", "cpu_bound",
                          "tolerance", 0.3);
  json_t *vs =
      json_pack("[{s:s,s:s,s:s,s:f,s:f}]", "id", "one", "label", "one", "unit",
                "req/s", "measured", 230038.0, "predicted", 1234567.0);
  json_t *v = tl_lab_verdict_compare(exp, vs);
  const char *t = json_string_value(json_object_get(v, "text"));
  ck_assert_msg(strstr(t, "230,038") && strstr(t, "1,234,567") &&
                    !strstr(t, "230038"),
                "%s", t);
  json_decref(v);
  json_decref(vs);
  vs = json_pack("[{s:s,s:s,s:s,s:f,s:f}]", "id", "one", "label", "one", "unit",
                 "updates", "measured", -1234.0, "predicted", 100.0);
  v = tl_lab_verdict_compare(exp, vs);
  t = json_string_value(json_object_get(v, "text"));
  ck_assert_msg(strstr(t, "-1,234") && strstr(t, "100"), "%s", t);
  json_decref(v);
  json_decref(vs);
  json_decref(exp);
}
END_TEST

TL_CHECK_MAIN("lab_verdict_edges", large_figures_have_thousands_separators,
              async_waits_are_the_loops_alone,
              spreads_apart_with_the_first_variant_above,
              a_bound_missed_by_the_first_variant,
              one_variant_off_its_prediction)
