/* An experiment's variants as the lab reads them (observer/lab_setup),
 * mutaudit2: a variant's "check": null drops the experiment's check, a
 * variant's own "measured" replaces the experiment's, --processes 1 needs
 * a child server like any --processes, an experiment without variants is
 * one run, and the model of the settings read back. */
#include "config.h"

#include <check.h>
#include <jansson.h>
#include <string.h>

#include "tl_check.h"
#include "observer/lab_setup.h"

static json_t *load(const char *text) {
  json_error_t e;
  json_t *j = json_loads(text, 0, &e);
  ck_assert_msg(j != NULL, "%s: %s", text, e.text);
  return j;
}

START_TEST(a_variants_null_check_drops_the_experiments) {
  json_t *exp =
      load("{\"check\":{\"evidence\":\"e\",\"op\":\">\",\"value\":1},"
           "\"variants\":[{\"id\":\"a\"},{\"id\":\"b\",\"check\":null},"
           "{\"id\":\"c\",\"check\":{\"evidence\":\"own\"}}]}");
  json_t *c = tl_lab_setup_variant_check(exp, 0);
  ck_assert_ptr_nonnull(c);
  ck_assert_str_eq(json_string_value(json_object_get(c, "evidence")), "e");
  ck_assert_ptr_null(tl_lab_setup_variant_check(exp, 1));
  c = tl_lab_setup_variant_check(exp, 2);
  ck_assert_ptr_nonnull(c);
  ck_assert_str_eq(json_string_value(json_object_get(c, "evidence")), "own");
  json_decref(exp);
}
END_TEST

START_TEST(a_variants_measured_and_prediction_replace) {
  json_t *exp =
      load("{\"measured\":\"rps\",\"prediction\":{\"formula\":"
           "\"cpu_bound\"},\"variants\":[{\"id\":\"a\"},{\"id\":\"b\","
           "\"measured\":\"lost\",\"prediction\":{\"formula\":"
           "\"greater_than\"}}]}");
  json_t *v = tl_lab_setup_variant_exp(exp, 0);
  ck_assert_str_eq(json_string_value(json_object_get(v, "measured")), "rps");
  json_decref(v);
  v = tl_lab_setup_variant_exp(exp, 1);
  ck_assert_str_eq(json_string_value(json_object_get(v, "measured")), "lost");
  ck_assert_str_eq(json_string_value(json_object_get(
                       json_object_get(v, "prediction"), "formula")),
                   "greater_than");
  json_decref(v);
  /* The experiment itself is left as it was. */
  ck_assert_str_eq(json_string_value(json_object_get(exp, "measured")), "rps");
  json_decref(exp);
}
END_TEST

START_TEST(what_needs_a_child_server) {
  const char *yes[] = {"{\"processes\":1}", "{\"processes\":2}",
                       "{\"allow_crash\":true}", "{\"allow_deadlock\":true}"};
  const char *no[] = {"{}", "{\"processes\":0}", "{\"allow_crash\":false}",
                      "{\"mode\":\"pool\",\"threads\":4}"};
  for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
    json_t *s = load(yes[i]);
    ck_assert_msg(tl_lab_setup_needs_child(s), "%s", yes[i]);
    json_decref(s);
  }
  for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
    json_t *s = load(no[i]);
    ck_assert_msg(!tl_lab_setup_needs_child(s), "%s", no[i]);
    json_decref(s);
  }
}
END_TEST

START_TEST(no_variants_is_one_run_units) {
  json_t *exp = load("{\"measured\":\"rps\"}");
  ck_assert_int_eq(tl_lab_setup_nvariants(exp), 1);
  ck_assert_str_eq(tl_lab_setup_variant_str(exp, 0, "id"), "setup");
  ck_assert_str_eq(tl_lab_setup_unit(exp), "req/s");
  json_decref(exp);
  exp = load("{\"measured\":\"lost\",\"variants\":[]}");
  ck_assert_int_eq(tl_lab_setup_nvariants(exp), 1);
  ck_assert_str_eq(tl_lab_setup_unit(exp), "lost");
  json_decref(exp);
  exp = load("{\"unit\":\"us\",\"measured\":\"rps\",\"variants\":[{},{},{}]}");
  ck_assert_int_eq(tl_lab_setup_nvariants(exp), 3);
  ck_assert_str_eq(tl_lab_setup_unit(exp), "us");
  json_decref(exp);
}
END_TEST

START_TEST(the_model_of_the_settings_read_back) {
  json_t *exp =
      load("{\"load\":{\"connections\":64},\"prediction\":{"
           "\"params\":{\"cpu_ms\":5,\"io_ms\":20,\"threshold\":2}}}");
  json_t *set =
      load("{\"mode\":\"async\",\"threads\":6,\"worker_cpus\":\"0,2-3\"}");
  tl_lab_model m;
  tl_lab_setup_model_settings(exp, set, &m);
  ck_assert_int_eq(m.cores, 3);
  ck_assert_int_eq(m.workers, 6);
  ck_assert(m.async);
  ck_assert_int_eq(m.connections, 64);
  ck_assert(m.cpu_ms == 5 && m.io_ms == 20 && m.threshold == 2);
  json_decref(set);
  set = load("{\"mode\":\"pool\",\"threads\":2,\"worker_cpus\":\"1\"}");
  tl_lab_setup_model_settings(exp, set, &m);
  ck_assert_int_eq(m.cores, 1);
  ck_assert(!m.async);
  json_decref(set);
  json_decref(exp);
}
END_TEST

TL_CHECK_MAIN("lab_setup_edges", a_variants_null_check_drops_the_experiments,
              a_variants_measured_and_prediction_replace,
              what_needs_a_child_server, no_variants_is_one_run_units,
              the_model_of_the_settings_read_back)
