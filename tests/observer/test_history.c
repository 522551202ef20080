/* The history ring: its capacity follows the sample period and is capped,
 * it keeps the newest periods oldest first once it wraps, and the JSON
 * carries every period held, in order. */
#include "config.h"

#include <check.h>
#include "tl_check.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "observer/history.h"
#include "observer/render_history.h"
#include "observer/snapshot.h"
#include "tl_json.h"

static tl_history_period period(uint64_t seq) {
  tl_history_period p;
  memset(&p, 0, sizeof(p));
  p.seq = seq;
  p.time_ms = 1.7e12 + (double) seq * 500;
  p.period_ms = 500;
  p.requests_rate = (float) seq * 10;
  p.errors_rate = NAN;
  p.lat_p50 = p.lat_p90 = p.lat_p99 = NAN;
  for (int r = 0; r < TL_ROUTE_COUNT; r++)
    p.route_p50[r] = p.route_p99[r] = NAN;
  p.lag_p50 = p.lag_p99 = p.lag_max = p.loop_util_pct = NAN;
  p.coro_alive = p.coro_runnable = NAN;
  return p;
}

START_TEST(capacity_covers_five_minutes_and_is_capped) {
  tl_history *h = tl_history_init(500);
  /* 300 s of 500 ms periods, and the one in progress */
  ck_assert_int_ge(tl_history_capacity(h), 600);
  ck_assert_int_le(tl_history_capacity(h), 602);
  ck_assert_uint_le(tl_history_bytes(h), 512 * 1024);
  tl_history_close(h);
  h = tl_history_init(50);
  ck_assert_int_eq(tl_history_capacity(h), TL_HISTORY_MAX_PERIODS);
  tl_history_close(h);
  h = tl_history_init(1); /* below the option's range: still capped */
  ck_assert_int_eq(tl_history_capacity(h), TL_HISTORY_MAX_PERIODS);
  ck_assert_uint_le(tl_history_bytes(h), 4u * 1024 * 1024);
  tl_history_close(h);
}
END_TEST

START_TEST(keeps_order_before_it_is_full) {
  tl_history *h = tl_history_init(60000); /* capacity 6 */
  ck_assert_int_eq(tl_history_capacity(h), 6);
  ck_assert_int_eq(tl_history_count(h), 0);
  for (uint64_t s = 1; s <= 4; s++) {
    tl_history_period p = period(s);
    tl_history_push(h, &p);
  }
  ck_assert_int_eq(tl_history_count(h), 4);
  for (int i = 0; i < 4; i++)
    ck_assert_uint_eq(tl_history_at(h, i)->seq, (uint64_t) i + 1);
  tl_history_close(h);
}
END_TEST

START_TEST(wraps_keeping_the_newest_oldest_first) {
  tl_history *h = tl_history_init(60000); /* capacity 6 */
  for (uint64_t s = 1; s <= 20; s++) {
    tl_history_period p = period(s);
    tl_history_push(h, &p);
  }
  ck_assert_int_eq(tl_history_count(h), 6);
  for (int i = 0; i < 6; i++) {
    ck_assert_uint_eq(tl_history_at(h, i)->seq, (uint64_t) (15 + i));
    ck_assert_float_eq_tol(tl_history_at(h, i)->requests_rate, (15 + i) * 10.0,
                           1e-3);
  }
  tl_history_close(h);
}
END_TEST

START_TEST(json_holds_every_period_in_order) {
  tl_history *h = tl_history_init(60000);
  for (uint64_t s = 1; s <= 9; s++) {
    tl_history_period p = period(s);
    p.ncores = 2;
    p.core_busy_pct[0] = (uint8_t) s;
    p.core_busy_pct[1] = TL_HISTORY_NO_PCT;
    p.route_rate[TL_ROUTE_CPU] = 3;
    p.route_p99[TL_ROUTE_CPU] = 40.959f;
    tl_history_push(h, &p);
  }
  tl_buf b;
  tl_buf_init(&b, NULL, 0);
  tl_render_history(h, NULL, &b);
  tj *j = tj_parse(b.data, b.len);
  ck_assert_msg(j != NULL, "not JSON: %.300s", b.data);
  ck_assert_int_eq(tj_num(j, "count", -1), 6);
  ck_assert_int_eq(tj_num(j, "capacity", -1), 6);
  const tj *seq = tj_get(j, "seq");
  ck_assert_ptr_nonnull(seq);
  ck_assert_uint_eq(seq->n, 6);
  const char *series[] = {"time_ms",     "requests_rate", "latency_p99_ms",
                          "queue_depth", "core_busy_pct", "worker_cpu_pct"};
  for (size_t k = 0; k < sizeof(series) / sizeof(*series); k++) {
    const tj *a = tj_get(j, series[k]);
    ck_assert_msg(a && a->type == TJ_ARR && a->n == 6, "%s", series[k]);
  }
  for (int i = 0; i < 6; i++) {
    char path[64];
    snprintf(path, sizeof(path), "seq.%d", i);
    ck_assert_int_eq(tj_num(j, path, -1), 4 + i);
    snprintf(path, sizeof(path), "requests_rate.%d", i);
    ck_assert_int_eq(tj_num(j, path, -1), (4 + i) * 10);
    snprintf(path, sizeof(path), "core_busy_pct.%d.0", i);
    ck_assert_int_eq(tj_num(j, path, -1), 4 + i);
    snprintf(path, sizeof(path), "core_busy_pct.%d.1", i);
    ck_assert(tj_is_null(j, path));
    snprintf(path, sizeof(path), "latency_p50_ms.%d", i); /* none: null */
    ck_assert(tj_is_null(j, path));
  }
  /* a route with requests is there, one without is left out */
  ck_assert_int_eq(tj_num(j, "routes./cpu.rate.5", -1), 3);
  ck_assert_double_eq_tol(tj_num(j, "routes./cpu.p99_ms.0", -1), 40.959, 1e-3);
  ck_assert_ptr_null(tj_get(j, "routes./io"));
  ck_assert_ptr_nonnull(tj_get(j, "events"));
  tj_release(j);
  tl_buf_close(&b);
  tl_history_close(h);
}
END_TEST

/* A period recorded from a snapshot keeps each share to the nearest
 * percent (the chart's 50% line is not drawn at 49), an error rate per
 * second between two snapshots, and no latency where nothing finished. */
START_TEST(record_rounds_shares_and_rates_errors) {
  static tl_snapshot s;
  static tl_thread_snap threads[2];
  static tl_hist_snap lat, lag, routes[TL_ROUTE_COUNT];
  memset(&s, 0, sizeof(s));
  s.threads = threads;
  s.lat_period = &lat;
  s.lag_period = &lag;
  s.route_period = routes;
  s.period_ms = 500;
  s.ncores = 1;
  s.cores[0].user_pct = 30.0;
  s.cores[0].sys_pct = 19.0;
  s.cores[0].irq_pct = 0.7; /* 49.7% busy */
  s.nthreads = 1;
  threads[0].role = TL_ROLE_WORKER;
  threads[0].index = 0;
  threads[0].has_period = true;
  threads[0].cpu_pct = 99.6;
  threads[0].on_cpu_pct = 12.5;
  tl_history *h = tl_history_init(500);
  tl_history_record(h, &s);
  s.seq = 1;
  s.by_class[5] = 10; /* 10 errors in 0.5 s */
  tl_history_record(h, &s);
  ck_assert_int_eq(tl_history_count(h), 2);
  const tl_history_period *p0 = tl_history_at(h, 0), *p1 = tl_history_at(h, 1);
  ck_assert_uint_eq(p1->core_busy_pct[0], 50);
  ck_assert_uint_eq(p1->worker_cpu_pct[0], 100);
  ck_assert_uint_eq(p1->worker_on_cpu_pct[0], 13);
  ck_assert_uint_eq(p1->nworkers, 1);
  ck_assert(isnan(p0->errors_rate)); /* no period before the first */
  ck_assert_double_eq_tol(p1->errors_rate, 20.0, 1e-3);
  ck_assert(isnan(p1->lat_p50) && isnan(p1->lag_max));
  tl_history_close(h);
}
END_TEST

TL_CHECK_MAIN("history", capacity_covers_five_minutes_and_is_capped,
              keeps_order_before_it_is_full,
              wraps_keeping_the_newest_oldest_first,
              json_holds_every_period_in_order,
              record_rounds_shares_and_rates_errors)
