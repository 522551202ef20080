/* The lab's model (observer/lab_predict), its reading of wrk's summary
 * (observer/lab_wrk) and of the kernel's evidence in a /stats snapshot
 * (observer/lab_evidence): each checked against figures worked out by
 * hand. */
#include "config.h"

#include <check.h>
#include <math.h>
#include <string.h>

#include "tl_check.h"
#include "observer/lab_evidence.h"
#include "observer/lab_predict.h"
#include "observer/lab_verdict.h"
#include "observer/lab_wrk.h"

static tl_lab_model model(int cores, int workers, bool async, int conns,
                          double cpu_ms, double io_ms) {
  tl_lab_model m = {.cores = cores,
                    .workers = workers,
                    .async = async,
                    .connections = conns,
                    .cpu_ms = cpu_ms,
                    .io_ms = io_ms};
  return m;
}

#define NEAR(a, b)                                                             \
  ck_assert_msg(fabs((a) - (b)) < 1e-6, "%g != %g", (double) (a), (double) (b))

START_TEST(cpu_bound_is_min_cores_workers) {
  tl_lab_model m = model(2, 8, false, 16, 5, 0);
  NEAR(tl_lab_predict("cpu_bound", &m), 400); /* 2 cores x 200/s */
  m = model(1, 4, false, 8, 10, 0);
  NEAR(tl_lab_predict("cpu_bound", &m), 100); /* one core */
  m = model(4, 2, false, 8, 10, 0);
  NEAR(tl_lab_predict("cpu_bound", &m), 200); /* 2 workers on 4 cores */
  m = model(4, 8, true, 8, 20, 0);
  NEAR(tl_lab_predict("cpu_bound", &m), 50); /* async: the loop alone */
  m = model(2, 2, false, 8, 0, 0);
  ck_assert(tl_lab_predict("cpu_bound", &m) < 0); /* no CPU step: no figure */
}
END_TEST

/* hold:MS tasks: one lock, one holder at a time: 1000 / MS whatever the
 * cores and workers. */
START_TEST(a_lock_serialises) {
  tl_lab_model m = model(2, 32, false, 32, 5, 0);
  NEAR(tl_lab_predict("serialised", &m), 200);
  m = model(2, 2, false, 32, 5, 0);
  NEAR(tl_lab_predict("serialised", &m), 200);
  m = model(2, 2, false, 8, 0, 0);
  ck_assert(tl_lab_predict("serialised", &m) < 0);
}
END_TEST

START_TEST(io_waits_scale_with_workers_or_connections) {
  tl_lab_model m = model(2, 2, false, 200, 0, 100);
  NEAR(tl_lab_predict("workers_over_wait", &m), 20);
  NEAR(tl_lab_predict("connections_over_wait", &m), 2000);
  m = model(2, 16, false, 1000, 0, 50);
  NEAR(tl_lab_predict("workers_over_wait", &m), 320);
  NEAR(tl_lab_predict("connections_over_wait", &m), 20000);
}
END_TEST

START_TEST(task_chain_takes_the_tighter_bound) {
  /* 16 connections, 2+50 ms a task: 307.7/s by the waits; CPU allows 1000. */
  tl_lab_model m = model(2, 2, false, 16, 2, 50);
  NEAR(tl_lab_predict("task_chain", &m), 16000.0 / 52);
  /* 256 connections: the CPU (2 workers / 4 ms = 500/s) binds. */
  m = model(2, 2, false, 256, 4, 50);
  NEAR(tl_lab_predict("task_chain", &m), 500);
  /* one core binds before two workers do */
  m = model(1, 2, false, 256, 4, 50);
  NEAR(tl_lab_predict("task_chain", &m), 250);
}
END_TEST

START_TEST(counts_and_bounds) {
  tl_lab_model m = model(2, 3, false, 4, 0, 0);
  NEAR(tl_lab_predict("worker_count", &m), 3);
  m.threshold = 1;
  NEAR(tl_lab_predict("greater_than", &m), 1);
  ck_assert(tl_lab_predict("no_such_formula", &m) < 0);
  ck_assert(tl_lab_predict_is_bound("greater_than"));
  ck_assert(!tl_lab_predict_is_bound("cpu_bound"));
}
END_TEST

START_TEST(within_tolerance) {
  ck_assert(tl_lab_predict_within("cpu_bound", 380, 400, 0.1));
  ck_assert(tl_lab_predict_within("cpu_bound", 440, 400, 0.1));
  ck_assert(!tl_lab_predict_within("cpu_bound", 350, 400, 0.1));
  ck_assert(!tl_lab_predict_within("cpu_bound", 441, 400, 0.1));
  ck_assert(tl_lab_predict_within("worker_count", 3, 3, 0));
  ck_assert(!tl_lab_predict_within("worker_count", 2, 3, 0));
  ck_assert(
      !tl_lab_predict_within("cpu_bound", 10, 0, 0.5)); /* no prediction */
  ck_assert(tl_lab_predict_within("greater_than", 1.5, 1, 0));
  ck_assert(!tl_lab_predict_within("greater_than", 0.9, 1, 0));
}
END_TEST

START_TEST(wrk_summary_is_read) {
  static const char out[] =
      "Running 5s test @ http://127.0.0.1:8080/cpu?ms=5\n"
      "  2 threads and 16 connections\n"
      "  Thread Stats   Avg      Stdev     Max   +/- Stdev\n"
      "    Latency    40.12ms   10.01ms  98.00ms   70.00%\n"
      "  Latency Distribution\n"
      "     50%   39.50ms\n"
      "     75%   45.00ms\n"
      "     90%  812.00us\n"
      "     99%    1.20s\n"
      "  1990 requests in 5.01s, 250.00KB read\n"
      "  Socket errors: connect 0, read 1, write 0, timeout 3\n"
      "  Non-2xx or 3xx responses: 7\n"
      "Requests/sec:    397.21\n"
      "Transfer/sec:     49.90KB\n";
  tl_lab_wrk w;
  tl_lab_wrk_parse(out, sizeof(out) - 1, &w);
  ck_assert(w.ok);
  NEAR(w.rps, 397.21);
  NEAR(w.requests, 1990);
  NEAR(w.p50_ms, 39.5);
  NEAR(w.p90_ms, 0.812);
  NEAR(w.p99_ms, 1200);
  NEAR(w.non2xx, 7);
  NEAR(w.socket_errors, 4);
  tl_lab_wrk_parse("unable to connect to 127.0.0.1:1\n", 33, &w);
  ck_assert(!w.ok);
  ck_assert(w.p99_ms < 0);
}
END_TEST

START_TEST(evidence_paths_and_aggregates) {
  const char *snap =
      "{\"process\":{\"threads\":6},\"server\":{\"worker_cpus\":\"0\"},"
      "\"threads\":[{\"role\":\"loop\",\"migrations\":100,\"core\":1},"
      "{\"role\":\"worker\",\"migrations\":3,\"core\":0},"
      "{\"role\":\"worker\",\"migrations\":5,\"core\":1},"
      "{\"role\":\"worker\",\"migrations\":null,\"core\":0}],"
      "\"costs\":{\"fork_to_ready_us\":null}}";
  json_t *s = json_loads(snap, 0, NULL);
  ck_assert_ptr_nonnull(s);
  json_t *v = tl_lab_evidence_eval(s, "threads[role=worker].migrations", "sum");
  NEAR(json_number_value(v), 8); /* the null is skipped, the loop not counted */
  json_decref(v);
  v = tl_lab_evidence_eval(s, "threads[role=worker].migrations", "max");
  NEAR(json_number_value(v), 5);
  json_decref(v);
  v = tl_lab_evidence_eval(s, "threads[role=worker].migrations", "min");
  NEAR(json_number_value(v), 3);
  json_decref(v);
  v = tl_lab_evidence_eval(s, "threads[role=worker].migrations", "mean");
  NEAR(json_number_value(v), 4);
  json_decref(v);
  v = tl_lab_evidence_eval(s, "threads[role=worker]", "count");
  ck_assert_int_eq(json_integer_value(v), 3);
  json_decref(v);
  v = tl_lab_evidence_eval(s, "threads[].core", "each");
  ck_assert_int_eq(json_array_size(v), 4);
  json_decref(v);
  v = tl_lab_evidence_eval(s, "process.threads", "max");
  NEAR(json_number_value(v), 6);
  json_decref(v);
  /* What the kernel did not give stays null, never a number. */
  v = tl_lab_evidence_eval(s, "costs.fork_to_ready_us", "max");
  ck_assert(json_is_null(v));
  json_t *two = json_integer(2);
  json_t *d = tl_lab_evidence_delta(two, v);
  ck_assert(json_is_null(d));
  json_decref(d);
  json_decref(two);
  json_decref(v);
  v = tl_lab_evidence_eval(s, "no.such.path", "sum");
  ck_assert(json_is_null(v));
  json_decref(v);
  json_t *a = json_real(10), *b = json_real(4);
  d = tl_lab_evidence_delta(b, a);
  NEAR(json_number_value(d), 6);
  json_decref(a);
  json_decref(b);
  json_decref(d);
  json_decref(s);
}
END_TEST

/* A pool resized between the snapshots: counters go thread by thread. */
START_TEST(counters_follow_threads_not_sums) {
  json_t *b =
      json_loads("{\"threads\":[{\"tid\":1,\"role\":\"worker\",\"ctx\":100},"
                 "{\"tid\":2,\"role\":\"worker\",\"ctx\":900},"
                 "{\"tid\":9,\"role\":\"loop\",\"ctx\":5}]}",
                 0, NULL);
  json_t *a =
      json_loads("{\"threads\":[{\"tid\":1,\"role\":\"worker\",\"ctx\":130},"
                 "{\"tid\":3,\"role\":\"worker\",\"ctx\":20},"
                 "{\"tid\":9,\"role\":\"loop\",\"ctx\":500}]}",
                 0, NULL);
  /* worker 2 left (not counted), worker 3 is new (counts from 0). */
  json_t *d = tl_lab_evidence_counter(b, a, "threads[role=worker].ctx", "sum");
  NEAR(json_number_value(d), 50);
  json_decref(d);
  d = tl_lab_evidence_counter(b, a, "threads[].ctx", "sum");
  NEAR(json_number_value(d), 545);
  json_decref(d);
  json_decref(a);
  json_decref(b);
}
END_TEST

/* The verdict compares the variants' figures with each other and with the
 * model, from the settings read back: one core vs two. */
static json_t *variant(const char *label, const char *cpus, double measured,
                       double predicted) {
  return json_pack("{s:s,s:s,s:s,s:f,s:f,s:{s:s,s:i,s:s},s:n}", "id", label,
                   "label", label, "unit", "req/s", "measured", measured,
                   "predicted", predicted, "settings", "mode", "pool",
                   "threads", 4, "worker_cpus", cpus, "check");
}

START_TEST(verdict_compares_variants) {
  json_t *exp = json_pack("{s:{s:s},s:f}", "prediction", "formula", "cpu_bound",
                          "tolerance", 0.4);
  json_t *vs = json_pack("[o,o]", variant("cpus=0", "0", 99, 100),
                         variant("spread", "0-1", 198, 200));
  json_t *v = tl_lab_verdict_compare(exp, vs);
  const char *t = json_string_value(json_object_get(v, "text"));
  ck_assert_msg(strstr(t, "cpus=0: 99 req/s") && strstr(t, "spread: 198 req/s"),
                "%s", t);
  ck_assert_msg(strstr(t, "as the model says (2x)") != NULL, "%s", t);
  ck_assert_msg(strstr(t, "workers on CPUs 0-1 vs 0") != NULL, "%s", t);
  ck_assert(json_is_true(json_object_get(v, "consistent")));
  json_decref(v);
  json_decref(vs);
  /* The numbers do not show the model's difference: said so. */
  vs = json_pack("[o,o]", variant("cpus=0", "0", 99, 100),
                 variant("spread", "0-1", 104, 200));
  v = tl_lab_verdict_compare(exp, vs);
  t = json_string_value(json_object_get(v, "text"));
  ck_assert_msg(strstr(t, "but the model says 2x") != NULL, "%s", t);
  ck_assert(json_is_false(json_object_get(v, "consistent")));
  json_decref(v);
  json_decref(vs);
  /* A failed check (the probe waited) makes the verdict inconsistent. */
  json_t *a = variant("coro", "0-1", 40, 40),
         *b = variant("sliced", "0-1", 40, 40);
  json_object_set_new(b, "check",
                      json_pack("{s:s,s:f,s:s,s:f,s:b}", "evidence",
                                "probe_p99_ms", "value", 48.0, "op", "<",
                                "want", 25.0, "passed", 0));
  vs = json_pack("[o,o]", a, b);
  v = tl_lab_verdict_compare(exp, vs);
  t = json_string_value(json_object_get(v, "text"));
  ck_assert_msg(strstr(t, "gave the same req/s") &&
                    strstr(t, "48 ms with sliced (NOT < 25 ms)"),
                "%s", t);
  ck_assert(json_is_false(json_object_get(v, "consistent")));
  json_decref(v);
  json_decref(vs);
  json_decref(exp);
  /* Repeated measurements: a difference only where the spreads part;
   * the idea (process above thread) holds only then. */
  exp = json_pack("{s:{s:s},s:f,s:{s:s,s:s}}", "prediction", "formula", "none",
                  "tolerance", 0.0, "expect", "higher", "process", "than",
                  "thread");
  a = json_pack("{s:s,s:s,s:s,s:f,s:[f,f]}", "id", "thread", "label", "thread",
                "unit", "us", "measured", 3.1, "spread", 2.5, 4.0);
  b = json_pack("{s:s,s:s,s:s,s:f,s:[f,f]}", "id", "process", "label",
                "process", "unit", "us", "measured", 3.3, "spread", 2.8, 5.0);
  vs = json_pack("[o,o]", a, b);
  v = tl_lab_verdict_compare(exp, vs);
  t = json_string_value(json_object_get(v, "text"));
  ck_assert_msg(strstr(t, "about the same (their spreads overlap)") &&
                    strstr(t, "NOT as the model says"),
                "%s", t);
  ck_assert(json_is_false(json_object_get(v, "consistent")));
  json_decref(v);
  json_decref(vs);
  a = json_pack("{s:s,s:s,s:s,s:f,s:[f,f]}", "id", "thread", "label", "thread",
                "unit", "us", "measured", 12.0, "spread", 11.0, 18.0);
  b = json_pack("{s:s,s:s,s:s,s:f,s:[f,f]}", "id", "process", "label",
                "process", "unit", "us", "measured", 127.0, "spread", 122.0,
                197.0);
  vs = json_pack("[o,o]", a, b);
  v = tl_lab_verdict_compare(exp, vs);
  t = json_string_value(json_object_get(v, "text"));
  ck_assert_msg(
      strstr(t,
             "11x thread (their spreads do not overlap), as the model says") &&
          strstr(t, "122-197"),
      "%s", t);
  ck_assert(json_is_true(json_object_get(v, "consistent")));
  json_decref(v);
  json_decref(vs);
  json_decref(exp);
}
END_TEST

TL_CHECK_MAIN("lab_predict", counters_follow_threads_not_sums,
              cpu_bound_is_min_cores_workers, a_lock_serialises,
              io_waits_scale_with_workers_or_connections,
              task_chain_takes_the_tighter_bound, counts_and_bounds,
              within_tolerance, wrk_summary_is_read,
              evidence_paths_and_aggregates, verdict_compares_variants)
