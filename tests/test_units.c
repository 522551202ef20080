/* Unit tests of the pure modules: the llhttp glue (split and pipelined
 * input, pausing, limits), routing, query and step parsing with their
 * bounds, the histogram, and command-line parsing. */
#include "config.h"

#include <check.h>
#include "tl_check.h"
#include <stdlib.h>
#include <string.h>

#include "tl_config.h"
#include "tl_hist.h"
#include "tl_hrtimer.h"
#include "tl_http.h"
#include "tl_query.h"
#include "tl_router.h"
#include "tl_steps.h"
#include "tl_util.h"

/* ---- llhttp glue ----------------------------------------------------- */

typedef struct {
  tl_request reqs[40];
  int begun, done, headers;
  int pause_after;   /* pause when done reaches this (0 = never) */
} collector;

static tl_request *c_begin(void *ctx) {
  collector *c = ctx;
  ck_assert_int_lt(c->begun, 40);
  tl_request_init(&c->reqs[c->begun]);
  return &c->reqs[c->begun++];
}

static void c_headers(void *ctx, tl_request *r) {
  (void) r;
  ((collector *) ctx)->headers++;
}

static int c_complete(void *ctx, tl_request *r) {
  collector *c = ctx;
  ck_assert_ptr_eq(r, &c->reqs[c->done]);
  c->done++;
  return c->pause_after && c->done == c->pause_after;
}

static const tl_http_callbacks cbs = {c_begin, c_headers, c_complete};

static void c_free(collector *c) {
  for (int i = 0; i < c->begun; i++)
    tl_request_free(&c->reqs[i]);
}

static int feed_all(tl_http_parser *p, const char *s, size_t len) {
  size_t used;
  return tl_http_parser_feed(p, s, len, &used);
}

START_TEST(http_split_byte_by_byte) {
  const char req[] = "POST /echo?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello";
  collector c = {0};
  tl_http_parser p;
  tl_http_parser_init(&p, &cbs, &c, 8192, 1024);
  for (size_t i = 0; i < sizeof(req) - 1; i++)
    ck_assert_int_eq(feed_all(&p, req + i, 1), TL_HTTP_OK);
  ck_assert_int_eq(c.done, 1);
  ck_assert_int_eq(c.reqs[0].method, HTTP_POST);
  ck_assert_uint_eq(c.reqs[0].target.len, 9);
  ck_assert(memcmp(c.reqs[0].target.data, "/echo?x=1", 9) == 0);
  ck_assert_uint_eq(c.reqs[0].body.len, 5);
  ck_assert(memcmp(c.reqs[0].body.data, "hello", 5) == 0);
  ck_assert(c.reqs[0].keep_alive);
  c_free(&c);
}
END_TEST

START_TEST(http_pipelined_in_order) {
  char buf[4096] = "";
  for (int i = 0; i < 16; i++) {
    char one[64];
    snprintf(one, sizeof(one), "GET /r%d HTTP/1.1\r\nHost: a\r\n\r\n", i);
    strcat(buf, one);
  }
  collector c = {0};
  tl_http_parser p;
  tl_http_parser_init(&p, &cbs, &c, 8192, 1024);
  ck_assert_int_eq(feed_all(&p, buf, strlen(buf)), TL_HTTP_OK);
  ck_assert_int_eq(c.done, 16);
  for (int i = 0; i < 16; i++) {
    char want[16];
    int n = snprintf(want, sizeof(want), "/r%d", i);
    ck_assert_uint_eq(c.reqs[i].target.len, (size_t) n);
    ck_assert(memcmp(c.reqs[i].target.data, want, (size_t) n) == 0);
  }
  c_free(&c);
}
END_TEST

START_TEST(http_pause_and_resume) {
  const char buf[] = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n";
  collector c = {.pause_after = 1};
  tl_http_parser p;
  tl_http_parser_init(&p, &cbs, &c, 8192, 1024);
  size_t used = 0;
  ck_assert_int_eq(tl_http_parser_feed(&p, buf, sizeof(buf) - 1, &used), TL_HTTP_PAUSED);
  ck_assert_int_eq(c.done, 1);
  ck_assert_uint_eq(used, strlen("GET /a HTTP/1.1\r\n\r\n"));
  tl_http_parser_resume(&p);
  size_t used2 = 0;
  ck_assert_int_eq(tl_http_parser_feed(&p, buf + used, sizeof(buf) - 1 - used, &used2), TL_HTTP_OK);
  ck_assert_int_eq(c.done, 3);
  c_free(&c);
}
END_TEST

START_TEST(http_chunked_body) {
  const char req[] = "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n";
  collector c = {0};
  tl_http_parser p;
  tl_http_parser_init(&p, &cbs, &c, 8192, 1024);
  /* Split in the middle of a chunk size line and of a chunk. */
  ck_assert_int_eq(feed_all(&p, req, 55), TL_HTTP_OK);
  ck_assert_int_eq(feed_all(&p, req + 55, sizeof(req) - 1 - 55), TL_HTTP_OK);
  ck_assert_int_eq(c.done, 1);
  ck_assert_uint_eq(c.reqs[0].body.len, 7);
  ck_assert(memcmp(c.reqs[0].body.data, "abcdefg", 7) == 0);
  c_free(&c);
}
END_TEST

static int expect_error(const char *req, size_t max_header, size_t max_body) {
  collector c = {0};
  tl_http_parser p;
  tl_http_parser_init(&p, &cbs, &c, max_header, max_body);
  int rc = feed_all(&p, req, strlen(req));
  c_free(&c);
  ck_assert_int_eq(rc, TL_HTTP_ERROR);
  ck_assert_ptr_nonnull(p.error_text);
  return p.error_status;
}

START_TEST(http_limits_and_errors) {
  char big[4096];
  snprintf(big, sizeof(big), "GET /%0600d HTTP/1.1\r\n\r\n", 0);
  ck_assert_int_eq(expect_error(big, 512, 1024), 414);
  char hdrs[4096] = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 40; i++)
    strcat(hdrs, "X-Filler: 0123456789012345678901234567890\r\n");
  strcat(hdrs, "\r\n");
  ck_assert_int_eq(expect_error(hdrs, 1024, 1024), 431);
  /* 413 comes from the headers alone: no body byte is needed. */
  ck_assert_int_eq(expect_error("POST /echo HTTP/1.1\r\nContent-Length: 2000\r\n\r\n", 8192, 100), 413);
  char chunked[512] = "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n80\r\n";
  memset(chunked + strlen(chunked), 'x', 128);
  ck_assert_int_eq(expect_error(chunked, 8192, 100), 413);
  ck_assert_int_eq(expect_error("POST /echo HTTP/1.1\r\nContent-Length: 3\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n", 8192, 100), 400);
  ck_assert_int_eq(expect_error("POST /echo HTTP/1.1\r\nContent-Length: 3\r\n"
                                "Content-Length: 4\r\n\r\nabc", 8192, 100), 400);
  ck_assert_int_eq(expect_error("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "zz\r\n", 8192, 100), 400);
  ck_assert_int_eq(expect_error("FOO BAR BAZ\r\n\r\n", 8192, 100), 400);
  ck_assert_int_eq(expect_error("GET / HTTP/2.0\r\n\r\n", 8192, 100), 505);
}
END_TEST

START_TEST(http_expect_continue_and_version) {
  const char req[] = "POST /echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx";
  collector c = {0};
  tl_http_parser p;
  tl_http_parser_init(&p, &cbs, &c, 8192, 1024);
  ck_assert_int_eq(feed_all(&p, req, sizeof(req) - 1), TL_HTTP_OK);
  ck_assert_int_eq(c.done, 1);
  ck_assert(c.reqs[0].expect_continue);
  ck_assert_int_eq(c.reqs[0].http_minor, 0);
  ck_assert(!c.reqs[0].keep_alive); /* HTTP/1.0 without keep-alive */
  c_free(&c);
}
END_TEST

/* ---- routing, queries, steps ----------------------------------------- */

START_TEST(router_routes) {
  int st;
  const char *allow;
  ck_assert_int_eq(tl_route_match("/plaintext", 10, HTTP_GET, &st, &allow), TL_ROUTE_PLAINTEXT);
  ck_assert_int_eq(st, 0);
  ck_assert_int_eq(tl_route_match("/plaintext", 10, HTTP_HEAD, &st, &allow), TL_ROUTE_PLAINTEXT);
  ck_assert_int_eq(st, 0);
  tl_route_match("/plaintext", 10, HTTP_POST, &st, &allow);
  ck_assert_int_eq(st, 405);
  ck_assert_str_eq(allow, "GET, HEAD");
  tl_route_match("/echo", 5, HTTP_GET, &st, &allow);
  ck_assert_int_eq(st, 405);
  ck_assert_str_eq(allow, "POST");
  ck_assert_int_eq(tl_route_match("/static/a/b.css", 15, HTTP_GET, &st, &allow), TL_ROUTE_STATIC);
  ck_assert_int_eq(tl_route_match("/", 1, HTTP_GET, &st, &allow), TL_ROUTE_INDEX);
  tl_route_match("/plaintextX", 11, HTTP_GET, &st, &allow);
  ck_assert_int_eq(st, 404);
  tl_route_match("/static", 7, HTTP_GET, &st, &allow);
  ck_assert_int_eq(st, 404);
  ck_assert_str_eq(tl_route_name(TL_ROUTE_CPU), "/cpu");
}
END_TEST

START_TEST(query_parsing) {
  char v[32];
  const char *q = "a=1&ms=250&b=%41%42&empty=&flag";
  ck_assert_int_eq(tl_query_get(q, strlen(q), "ms", v, sizeof(v)), 3);
  ck_assert_str_eq(v, "250");
  ck_assert_int_eq(tl_query_get(q, strlen(q), "b", v, sizeof(v)), 2);
  ck_assert_str_eq(v, "AB");
  ck_assert_int_eq(tl_query_get(q, strlen(q), "empty", v, sizeof(v)), 0);
  ck_assert_int_eq(tl_query_get(q, strlen(q), "flag", v, sizeof(v)), 0);
  ck_assert_int_eq(tl_query_get(q, strlen(q), "m", v, sizeof(v)), -1);
  ck_assert_int_eq(tl_query_get("x=%zz", 5, "x", v, sizeof(v)), -2);
  ck_assert_int_eq(tl_query_get("x=%00", 5, "x", v, sizeof(v)), -2);
  ck_assert_int_eq(tl_query_get("x=%4", 4, "x", v, sizeof(v)), -2);
  ck_assert_int_eq(tl_query_get("x=0123456789", 12, "x", v, 5), -2);
  unsigned long n;
  ck_assert_int_eq(tl_parse_uint("10000", 5, 0, 10000, &n), 0);
  ck_assert_uint_eq(n, 10000);
  ck_assert_int_eq(tl_parse_uint("10001", 5, 0, 10000, &n), -1);
  ck_assert_int_eq(tl_parse_uint("-1", 2, 0, 10000, &n), -1);
  ck_assert_int_eq(tl_parse_uint("", 0, 0, 10000, &n), -1);
  ck_assert_int_eq(tl_parse_uint("1e3", 3, 0, 10000, &n), -1);
  ck_assert_int_eq(tl_parse_uint("99999999999999999999", 20, 0, 10000, &n), -1);
  char d[16];
  ck_assert_int_eq(tl_percent_decode("%2e%2e%2fx", 10, d, sizeof(d)), 4);
  ck_assert_str_eq(d, "../x");
  size_t pl, ql;
  const char *qq;
  tl_split_target("/io?ms=5", 8, &pl, &qq, &ql);
  ck_assert_uint_eq(pl, 3);
  ck_assert_uint_eq(ql, 4);
}
END_TEST

START_TEST(steps_parsing) {
  tl_step_spec s[TL_MAX_STEPS];
  const char *err;
  const char *ok = "cpu:2,io:50,cpu:0";
  ck_assert_int_eq(tl_steps_parse(ok, strlen(ok), s, &err), 3);
  ck_assert_int_eq(s[0].kind, TL_STEP_CPU);
  ck_assert_uint_eq(s[1].ms, 50);
  ck_assert_int_eq(s[1].kind, TL_STEP_IO);
  ck_assert_int_eq(tl_steps_parse("io:10000", 8, s, &err), 1);
  const char *bad[] = {"", "cpu", "cpu:", "cpu:10001", "io:-1", "gpu:1",
                       "cpu:1,", ",cpu:1", "cpu:1,,io:2", "cpu:1x", "CPU:1"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    err = NULL;
    ck_assert_msg(tl_steps_parse(bad[i], strlen(bad[i]), s, &err) == -1, "accepted '%s'", bad[i]);
    ck_assert_ptr_nonnull(err);
  }
  char many[512] = "";
  for (int i = 0; i < 33; i++)
    strcat(many, i ? ",io:1" : "io:1");
  ck_assert_int_eq(tl_steps_parse(many, strlen(many), s, &err), -1);
  many[strlen(many) - 5] = '\0'; /* 32 steps */
  ck_assert_int_eq(tl_steps_parse(many, strlen(many), s, &err), 32);
}
END_TEST

/* ---- histogram -------------------------------------------------------- */

START_TEST(hist_buckets_and_quantiles) {
  for (uint64_t v = 0; v < 5000000; v = v * 3 / 2 + 1) {
    int b = tl_hist_bucket_of(v);
    ck_assert_uint_le(v, tl_hist_bucket_upper(b));
    if (b > 0)
      ck_assert_uint_gt(v, tl_hist_bucket_upper(b - 1));
  }
  static tl_hist h;
  memset(&h, 0, sizeof(h));
  for (uint64_t i = 1; i <= 1000; i++)
    tl_hist_record(&h, i);
  static tl_hist_snap s, zero, d;
  tl_hist_read(&h, &s);
  tl_hist_summary sum;
  tl_hist_summarize(&s, &sum);
  ck_assert_uint_eq(sum.count, 1000);
  /* Within the bucket precision of 12.5%. */
  ck_assert(sum.p50 >= 500 && sum.p50 <= 500 * 1.13);
  ck_assert(sum.p99 >= 990 && sum.p99 <= 1000);
  ck_assert(sum.max == 1000);
  ck_assert(sum.mean > 500 && sum.mean < 501);
  memset(&zero, 0, sizeof(zero));
  tl_hist_diff(&s, &zero, &d);
  ck_assert_uint_eq(d.count, 1000);
  tl_hist_diff(&s, &s, &d);
  ck_assert_uint_eq(d.count, 0);
}
END_TEST

/* ---- command line ----------------------------------------------------- */

static int parse(const char *a0, const char *a1, const char *a2, tl_config *cfg) {
  char *argv[4] = {(char *) "threadlab", (char *) a0, (char *) a1, (char *) a2};
  int argc = 1 + (a0 != NULL) + (a1 != NULL) + (a2 != NULL);
  tl_config_defaults(cfg);
  FILE *devnull = fopen("/dev/null", "w");
  int rc = tl_config_parse(cfg, argc, argv, devnull, devnull);
  fclose(devnull);
  return rc;
}

START_TEST(config_options) {
  tl_config cfg;
  ck_assert_int_eq(parse("--mode", "hybrid", NULL, &cfg), 0);
  ck_assert_int_eq(cfg.mode, TL_MODE_HYBRID);
  ck_assert_int_eq(parse("--threads", "8", "--pin", &cfg), 0);
  ck_assert_int_eq(cfg.threads, 8);
  ck_assert(cfg.pin);
  ck_assert_int_eq(parse("--help", NULL, NULL, &cfg), 1);
  ck_assert_int_eq(parse("--version", NULL, NULL, &cfg), 1);
  ck_assert_int_eq(parse("--mode", "fast", NULL, &cfg), -1);
  ck_assert_int_eq(parse("--threads", "0", NULL, &cfg), -1);
  ck_assert_int_eq(parse("--threads", "2x", NULL, &cfg), -1);
  ck_assert_int_eq(parse("--port", "70000", NULL, &cfg), -1);
  ck_assert_int_eq(parse("--bogus", NULL, NULL, &cfg), -1);
  ck_assert_int_eq(parse("--port", NULL, NULL, &cfg), -1);
  ck_assert_int_eq(parse("extra", NULL, NULL, &cfg), -1);
  ck_assert_int_eq(parse("--docroot", "/nonexistent/dir", NULL, &cfg), -1);
  ck_assert_int_eq(parse("--sample-ms", "10", NULL, &cfg), -1);
}
END_TEST

/* ---- timer heap ------------------------------------------------------- */

enum { NT = 300 };
typedef struct {
  tl_hrtimer_entry e;
  uint64_t fired_ns;
  int fired;
} tt;
static uint64_t last_due;
static int out_of_order, fired_total;
static tl_hrtimer *tt_hrt;
static tt *tt_restart_target;

static void tt_cb(tl_hrtimer_entry *e) {
  tt *t = TL_CONTAINER_OF(e, tt, e);
  t->fired_ns = tl_now_ns();
  t->fired++;
  if (e->due_ns < last_due)
    out_of_order++;
  last_due = e->due_ns;
  fired_total++;
  /* A callback may arm another timer: it joins the heap. */
  if (tt_restart_target) {
    tt *r = tt_restart_target;
    tt_restart_target = NULL;
    tl_hrtimer_start(tt_hrt, &r->e, tl_now_ns() + 2000000, tt_cb);
  }
}

/* 300 timers at random deadlines over 30 ms, a third stopped, some moved:
 * each live one fires exactly once, never before its deadline, in deadline
 * order; stopped ones never. */
START_TEST(hrtimer_heap_orders_and_never_fires_early) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  ck_assert_int_eq(tl_hrtimer_init(&tt_hrt, &loop), 0);
  static tt ts[NT + 1];
  memset(ts, 0, sizeof(ts));
  srand(42);
  uint64_t now = tl_now_ns();
  for (int i = 0; i < NT; i++)
    tl_hrtimer_start(tt_hrt, &ts[i].e, now + (uint64_t) (rand() % 30000) * 1000, tt_cb);
  int live = NT;
  for (int i = 0; i < NT; i += 3) {
    tl_hrtimer_stop(tt_hrt, &ts[i].e);
    ck_assert(!tl_hrtimer_armed(&ts[i].e));
    live--;
  }
  for (int i = 1; i < NT; i += 7) /* move: later or earlier */
    if (i % 3 != 0)
      tl_hrtimer_start(tt_hrt, &ts[i].e, now + (uint64_t) (rand() % 30000) * 1000, tt_cb);
  tt_restart_target = &ts[NT];
  live++;
  last_due = 0;
  out_of_order = fired_total = 0;
  uint64_t deadline = tl_now_ns() + 10000000000u;
  while (fired_total < live && tl_now_ns() < deadline)
    uv_run(&loop, UV_RUN_ONCE);
  ck_assert_int_eq(fired_total, live);
  ck_assert_int_eq(out_of_order, 0);
  for (int i = 0; i <= NT; i++) {
    if (i < NT && i % 3 == 0) {
      ck_assert_int_eq(ts[i].fired, 0);
      continue;
    }
    ck_assert_int_eq(ts[i].fired, 1);
    ck_assert_msg(ts[i].fired_ns >= ts[i].e.due_ns, "timer %d fired %lld ns early", i,
                  (long long) (ts[i].e.due_ns - ts[i].fired_ns));
    ck_assert(!tl_hrtimer_armed(&ts[i].e));
  }
  tl_hrtimer_close(tt_hrt);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("units");
  TCase *tc = tcase_create("http");
  tcase_add_test(tc, http_split_byte_by_byte);
  tcase_add_test(tc, http_pipelined_in_order);
  tcase_add_test(tc, http_pause_and_resume);
  tcase_add_test(tc, http_chunked_body);
  tcase_add_test(tc, http_limits_and_errors);
  tcase_add_test(tc, http_expect_continue_and_version);
  suite_add_tcase(s, tc);
  tc = tcase_create("parsing");
  tcase_add_test(tc, router_routes);
  tcase_add_test(tc, query_parsing);
  tcase_add_test(tc, steps_parsing);
  tcase_add_test(tc, hist_buckets_and_quantiles);
  tcase_add_test(tc, config_options);
  suite_add_tcase(s, tc);
  tc = tcase_create("timers");
  tcase_add_test(tc, hrtimer_heap_orders_and_never_fires_early);
  suite_add_tcase(s, tc);
  return tl_check_run(s);
}
