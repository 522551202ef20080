/* Unit tests: the /stats JSON rendered from a snapshot built by hand. */
#include "config.h"

#include <check.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl_check.h"
#include "tl_json.h"
#include "base/hist.h"
#include "base/mode.h"
#include "observer/render_json.h"

/* ---- a strict JSON check (RFC 8259) ------------------------------------ */

/* tj_parse is lenient about numbers ("01", "+1", "1."); this is not, and
 * it rejects anything after the one value. */
typedef struct {
  const char *p, *end;
} strict;

static bool s_value(strict *r);

static void s_ws(strict *r) {
  while (r->p < r->end &&
         (*r->p == ' ' || *r->p == '\t' || *r->p == '\r' || *r->p == '\n'))
    r->p++;
}

static bool s_lit(strict *r, const char *lit) {
  size_t n = strlen(lit);
  if ((size_t) (r->end - r->p) < n || memcmp(r->p, lit, n) != 0)
    return false;
  r->p += n;
  return true;
}

static bool s_digits(strict *r) {
  const char *start = r->p;
  while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
    r->p++;
  return r->p > start;
}

static bool s_number(strict *r) {
  if (r->p < r->end && *r->p == '-')
    r->p++;
  if (r->p < r->end && *r->p == '0')
    r->p++;
  else if (!s_digits(r))
    return false;
  if (r->p < r->end && *r->p == '.') {
    r->p++;
    if (!s_digits(r))
      return false;
  }
  if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
    r->p++;
    if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
      r->p++;
    if (!s_digits(r))
      return false;
  }
  return true;
}

static bool s_string(strict *r) {
  if (r->p >= r->end || *r->p++ != '"')
    return false;
  while (r->p < r->end && *r->p != '"') {
    unsigned char c = (unsigned char) *r->p++;
    if (c < 0x20)
      return false;
    if (c != '\\')
      continue;
    if (r->p >= r->end)
      return false;
    char e = *r->p++;
    if (e == 'u') {
      for (int i = 0; i < 4; i++, r->p++)
        if (r->p >= r->end || !isxdigit((unsigned char) *r->p))
          return false;
    } else if (!e || !strchr("\"\\/bfnrt", e)) {
      return false;
    }
  }
  return r->p++ < r->end;
}

/* Objects and arrays: open, members separated by commas, close. */
static bool s_composite(strict *r, char close, bool object) {
  r->p++;
  s_ws(r);
  if (r->p < r->end && *r->p == close) {
    r->p++;
    return true;
  }
  for (;;) {
    s_ws(r);
    if (object) {
      if (!s_string(r))
        return false;
      s_ws(r);
      if (r->p >= r->end || *r->p++ != ':')
        return false;
    }
    if (!s_value(r))
      return false;
    s_ws(r);
    if (r->p >= r->end)
      return false;
    char c = *r->p++;
    if (c == close)
      return true;
    if (c != ',')
      return false;
  }
}

static bool s_value(strict *r) {
  s_ws(r);
  if (r->p >= r->end)
    return false;
  switch (*r->p) {
  case '{': return s_composite(r, '}', true);
  case '[': return s_composite(r, ']', false);
  case '"': return s_string(r);
  case 't': return s_lit(r, "true");
  case 'f': return s_lit(r, "false");
  case 'n': return s_lit(r, "null");
  default: return s_number(r);
  }
}

/* Where the text stops being JSON, or NULL if it is one valid value. */
static const char *strict_error(const char *text, size_t len) {
  strict r = {text, text + len};
  if (!s_value(&r))
    return r.p;
  s_ws(&r);
  return r.p == r.end ? NULL : r.p;
}

/* Object members must be unique (RFC 8259 says SHOULD; a reader keeps
 * either one, so a duplicate is a bug in the renderer). */
static const char *duplicate_key(const tj *v) {
  for (size_t i = 0; i < v->n; i++) {
    if (v->type == TJ_OBJ)
      for (size_t k = 0; k < i; k++)
        if (strcmp(v->kids[i].key, v->kids[k].key) == 0)
          return v->kids[i].key;
    const char *d = duplicate_key(&v->kids[i]);
    if (d)
      return d;
  }
  return NULL;
}

/* ---- a snapshot to render ---------------------------------------------- */

static struct {
  tl_snapshot s;
  tl_thread_snap threads[3];
  tl_hist_snap lat_all, lat_period, qwait_all, qwait_period, lag_all,
      lag_period;
  tl_hist_snap route_all[TL_ROUTE_COUNT], route_period[TL_ROUTE_COUNT];
  tl_timeline_ev timeline[2];
  tl_schedstat_probe probe;
  tl_buf out;
  tj *doc;
} f;

static void hist_add(tl_hist_snap *h, uint64_t v, uint64_t n) {
  h->bucket[tl_hist_bucket_of(v)] += n;
  h->count += n;
  h->sum += v * n;
  if (v > h->max)
    h->max = v;
}

/* Every pointer wired, every figure zero. */
static tl_snapshot *empty(void) {
  memset(&f, 0, sizeof(f));
  tl_snapshot *s = &f.s;
  s->threads = f.threads;
  s->lat_all = &f.lat_all;
  s->lat_period = &f.lat_period;
  s->route_all = f.route_all;
  s->route_period = f.route_period;
  s->qwait_all = &f.qwait_all;
  s->qwait_period = &f.qwait_period;
  s->lag_all = &f.lag_all;
  s->lag_period = &f.lag_period;
  s->timeline = f.timeline;
  s->fds = -1;
  s->send_writes_per_submit = -1;
  return s;
}

/* A busy server with every figure present. */
static tl_snapshot *busy(void) {
  tl_snapshot *s = empty();
  s->seq = 42;
  s->start_ns = 5000000000ull;
  s->time_ms = 1763870000000.0;
  s->uptime_ms = 21034.4567;
  s->period_ms = 500.3;
  s->stats_enabled = true;
  s->sample_cost_ms = 0.0004;
  s->ncpu = 2;
  s->clk_tck = 100;
  s->runq_accounted = true;
  s->task_delayacct = 1;
  f.probe = (tl_schedstat_probe){.accounted = true,
                                 .threads = 2,
                                 .cpu = 0,
                                 .spin_ms = 12.1,
                                 .oncpu_ms = 10.4,
                                 .run_delay_ms = 11.8};
  s->runq_probe = &f.probe;
  s->cpus_allowed = 2;
  snprintf(s->cpus_allowed_list, sizeof(s->cpus_allowed_list), "0-1");
  s->pid = 1234;
  s->threads_count = 7;
  s->has_rss = true;
  s->rss_bytes = 5242880;
  s->cpu_user_s = 1.25;
  s->cpu_user_pct = -2.5; /* never negative, but the sign must survive */
  s->has_ctx = true;
  s->ctx_vol = 1000;
  s->ctx_invol_rate = 2.0006;
  s->fds = 12;

  tl_thread_snap *w = &f.threads[0];
  w->tid = 1235;
  snprintf(w->name, sizeof(w->name), "tl-\"odd\"\\name");
  w->role = TL_ROLE_WORKER;
  w->index = 0;
  w->state = 'R';
  w->core = 1;
  snprintf(w->allowed, sizeof(w->allowed), "0-1");
  w->cpu_pct = 40.5;
  w->has_oncpu = true;
  w->oncpu_s = 0.61;
  w->timeslices = 1234;
  w->has_runq = true;
  w->runq_wait_s = 0.02;
  w->runq_wait_pct = 4;
  w->has_period = true;
  w->on_cpu_pct = 12;
  w->runq_pct = 4;
  w->sleep_pct = 84;
  w->has_migrations = true;
  w->migrations = 12;
  w->own = true;
  w->tasks = 500;
  w->busy_pct = 38;
  w->doing_what = TL_DOING_CPU;
  w->doing_task = 812;
  w->doing_step = 2;
  tl_thread_snap *l = &f.threads[1];
  l->tid = 1236;
  snprintf(l->name, sizeof(l->name), "threadlab");
  l->role = TL_ROLE_LOOP;
  l->index = -1;
  l->state = 'S';
  l->core = 0;
  l->own = true;
  l->busy_pct = 99; /* only workers show it */
  l->doing_what = TL_DOING_LOOP;
  s->nthreads = 2;

  s->ncores = 2;
  s->cores[0] = (tl_core_snap){.cpu = 0, .user_pct = 30, .idle_pct = 59.5};
  s->cores[1] = (tl_core_snap){.cpu = 1, .steps = 400, .steps_rate = 80};

  s->mode = TL_MODE_HYBRID;
  s->pool_threads = 4;
  s->pinned = true;
  s->conn_open = 64;
  s->accepted = 70;
  s->refused = 3;
  s->requests = 100000;
  s->requests_rate = 52000;
  s->by_class[2] = 99990;
  s->by_class[4] = 10;
  s->by_route[TL_ROUTE_CPU] = 600;
  s->by_route_rate[TL_ROUTE_CPU] = 12.5;
  hist_add(&f.lat_all, 1000, 3);
  hist_add(&f.lat_all, 3000, 1);
  hist_add(&f.route_all[TL_ROUTE_CPU], 3000, 1);
  s->queue_depth = 3;
  s->queue_max = 1024;
  s->send_why = "--no-uring";
  s->send_writes = 12000;
  s->has_loop_util = true;
  s->loop_util_pct = 45;

  f.timeline[0] = (tl_timeline_ev){.tid = 1235,
                                   .ev = {.task = 812,
                                          .start_ns = s->start_ns + 2500000,
                                          .end_ns = s->start_ns + 4000000,
                                          .core = 1,
                                          .kind = 1,
                                          .step = 2,
                                          .route = TL_ROUTE_IO}};
  s->ntimeline = 1;
  s->timeline_dropped = 5;

  s->insights[0] = (tl_insight){.level = "warn",
                                .id = "loop_blocked",
                                .text = "blocked by \"task\" 812",
                                .evidence = "{\"task\":812}"};
  s->insights[1] = (tl_insight){.level = "info", .id = "migrations"};
  s->ninsights = 2;
  return s;
}

/* Renders s, checks the text is strict JSON without duplicate keys, and
 * keeps the parsed tree in f.doc. */
static const char *render(const tl_snapshot *s) {
  tl_buf_init(&f.out, NULL, 0);
  tl_render_json(s, &f.out);
  tl_buf_putc(&f.out, '\0');
  size_t len = f.out.len - 1;
  const char *bad = strict_error(f.out.data, len);
  ck_assert_msg(bad == NULL, "not JSON at offset %td: ...%.40s",
                bad - f.out.data, bad);
  f.doc = tj_parse(f.out.data, len);
  ck_assert_ptr_nonnull(f.doc);
  const char *dup = duplicate_key(f.doc);
  ck_assert_msg(dup == NULL, "key \"%s\" twice", dup);
  return f.out.data;
}

static void done(void) {
  tj_release(f.doc);
  tl_buf_close(&f.out);
}

static void num_is(const char *path, double want) {
  const tj *v = tj_get(f.doc, path);
  ck_assert_msg(v && v->type == TJ_NUM, "%s: not a number", path);
  ck_assert_msg(fabs(v->num - want) <= 1e-9 * fmax(1, fabs(want)),
                "%s = %.17g, want %.17g", path, v->num, want);
}

static void str_is(const char *path, const char *want) {
  const char *v = tj_str(f.doc, path);
  ck_assert_msg(v && strcmp(v, want) == 0, "%s = \"%s\", want \"%s\"", path,
                v ? v : "(none)", want);
}

static void bool_is(const char *path, bool want) {
  const tj *v = tj_get(f.doc, path);
  ck_assert_msg(v && v->type == TJ_BOOL && v->b == want, "%s: not %s", path,
                want ? "true" : "false");
}

static void null_at(const char *path) {
  ck_assert_msg(tj_is_null(f.doc, path), "%s: not null", path);
}

static size_t len_of(const char *path) {
  const tj *v = tj_get(f.doc, path);
  ck_assert_msg(v && (v->type == TJ_ARR || v->type == TJ_OBJ),
                "%s: not an array or object", path);
  return v->n;
}

/* ---- tests ------------------------------------------------------------- */

START_TEST(json_busy_snapshot) {
  render(busy());
  num_is("seq", 42);
  num_is("time_ms", 1763870000000.0);
  num_is("period_ms", 500.3);
  bool_is("stats_enabled", true);
  num_is("kernel.ncpu", 2);
  num_is("kernel.clk_tck", 100);
  bool_is("kernel.task_delayacct", true);
  str_is("kernel.runq_source", "schedstat");
  null_at("kernel.runq_unavailable");
  num_is("kernel.runq_self_test.threads", 2);
  num_is("kernel.runq_self_test.cpu", 0);
  num_is("kernel.runq_self_test.spin_ms", 12.1);
  num_is("kernel.runq_self_test.oncpu_ms", 10.4);
  num_is("kernel.runq_self_test.run_delay_ms", 11.8);
  bool_is("kernel.runq_self_test.accounted", true);

  num_is("process.pid", 1234);
  num_is("process.uptime_s", 21.034);
  num_is("process.threads", 7);
  num_is("process.rss_bytes", 5242880);
  num_is("process.cpu_user_s", 1.25);
  num_is("process.ctx_voluntary", 1000);
  num_is("process.fds", 12);
  str_is("process.cpus_allowed", "0-1");
  num_is("process.cpus_allowed_count", 2);

  ck_assert_uint_eq(len_of("threads"), 2);
  num_is("threads.0.tid", 1235);
  str_is("threads.0.name", "tl-\"odd\"\\name");
  str_is("threads.0.role", "worker");
  num_is("threads.0.index", 0);
  str_is("threads.0.state", "R");
  num_is("threads.0.core", 1);
  str_is("threads.0.allowed", "0-1");
  num_is("threads.0.cpu_pct", 40.5);
  num_is("threads.0.oncpu_s", 0.61);
  num_is("threads.0.runq_wait_s", 0.02);
  num_is("threads.0.runq_wait_pct", 4);
  num_is("threads.0.on_cpu_pct", 12);
  num_is("threads.0.runq_pct", 4);
  num_is("threads.0.sleep_pct", 84);
  num_is("threads.0.timeslices", 1234);
  num_is("threads.0.migrations", 12);
  num_is("threads.0.tasks", 500);
  num_is("threads.0.busy_pct", 38);
  str_is("threads.0.doing.what", "cpu");
  num_is("threads.0.doing.task", 812);
  num_is("threads.0.doing.step", 2);
  str_is("threads.1.role", "loop");
  null_at("threads.1.index");
  null_at("threads.1.allowed");
  null_at("threads.1.busy_pct");
  /* Seen for the first time: no shares of the period yet. */
  null_at("threads.1.on_cpu_pct");
  null_at("threads.1.runq_pct");
  null_at("threads.1.sleep_pct");
  str_is("threads.1.doing.what", "loop");
  null_at("threads.1.doing.task");

  ck_assert_uint_eq(len_of("cores"), 2);
  num_is("cores.0.user_pct", 30);
  num_is("cores.0.idle_pct", 59.5);
  ck_assert_uint_eq(len_of("cores.0.threads"), 1);
  num_is("cores.0.threads.0", 1236);
  num_is("cores.1.threads.0", 1235);
  num_is("cores.1.steps", 400);

  str_is("server.mode", "hybrid");
  num_is("server.threads", 4);
  bool_is("server.pinned", true);
  num_is("server.connections.open", 64);
  num_is("server.connections.accepted", 70);
  num_is("server.connections.refused", 3);
  num_is("server.requests.total", 100000);
  num_is("server.requests.rate", 52000);
  num_is("server.requests.by_status.2xx", 99990);
  num_is("server.requests.by_status.4xx", 10);
  num_is("server.requests.by_status.5xx", 0);
  ck_assert_uint_eq(len_of("server.requests.by_route"), TL_ROUTE_COUNT);
  num_is("server.requests.by_route./cpu.total", 600);
  num_is("server.requests.by_route./cpu.rate", 12.5);

  /* 1000 us x3 and 3000 us: in ms; p50 is a bucket bound (12.5%). */
  num_is("server.latency_ms.since_start.count", 4);
  num_is("server.latency_ms.since_start.mean", 1.5);
  num_is("server.latency_ms.since_start.max", 3);
  double p50 = tj_num(f.doc, "server.latency_ms.since_start.p50", -1);
  ck_assert_msg(p50 >= 1.0 && p50 <= 1.125, "p50 %g", p50);
  /* Only routes that have requests appear. */
  ck_assert_uint_eq(len_of("server.latency_ms.by_route"), 1);
  num_is("server.latency_ms.by_route./cpu.since_start.count", 1);
  num_is("server.latency_ms.by_route./cpu.period.count", 0);

  num_is("server.queue.depth", 3);
  num_is("server.queue.max", 1024);
  num_is("server.queue.wait_ms.since_start.count", 0);
  bool_is("server.sends.io_uring", false);
  str_is("server.sends.why_not", "--no-uring");
  num_is("server.sends.writes", 12000);
  num_is("server.loop.utilization_pct", 45);
  num_is("server.loop.lag_ms.period.count", 0);

  num_is("timeline.dropped", 5);
  bool_is("timeline.sampled", false);
  ck_assert_uint_eq(len_of("timeline.steps"), 1);
  num_is("timeline.steps.0.tid", 1235);
  num_is("timeline.steps.0.core", 1);
  str_is("timeline.steps.0.kind", "io");
  num_is("timeline.steps.0.task", 812);
  num_is("timeline.steps.0.step", 2);
  str_is("timeline.steps.0.route", "/io");
  num_is("timeline.steps.0.start_ms", 2.5);
  num_is("timeline.steps.0.end_ms", 4);

  ck_assert_uint_eq(len_of("insights"), 2);
  str_is("insights.0.level", "warn");
  str_is("insights.0.id", "loop_blocked");
  str_is("insights.0.text", "blocked by \"task\" 812");
  num_is("insights.0.evidence.task", 812);
  str_is("insights.1.id", "migrations");
  ck_assert_uint_eq(len_of("insights.1.evidence"), 0);
  done();
}
END_TEST

/* Numbers are formatted by hand (fixed3): check the text itself. */
START_TEST(json_number_text) {
  const char *t = render(busy());
  const char *want[] = {
      "\"time_ms\":1763870000000,", /* integral: no fraction */
      "\"uptime_ms\":21034.457,",   /* three decimals, rounded */
      "\"period_ms\":500.3,",       /* no trailing zeros */
      "\"sample_cost_ms\":0,",      /* rounds to zero */
      "\"cpu_user_pct\":-2.5,",     /* sign kept */
      "\"ctx_involuntary_rate\":2.001,",
  };
  for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
    ck_assert_msg(strstr(t, want[i]) != NULL, "no %s in the output", want[i]);
  done();
}
END_TEST

/* Whatever the value, a figure the machine does not provide is null, and
 * so is a number that is not finite. */
START_TEST(json_missing_figures_are_null) {
  tl_snapshot *s = busy();
  s->has_rss = false;
  s->has_ctx = false;
  s->fds = -1;
  s->requests_rate = NAN;
  s->accepted_rate = INFINITY;
  s->has_loop_util = false;
  s->send_writes_per_submit = -1;
  s->send_why = NULL;
  tl_thread_snap *w = &f.threads[0];
  w->has_oncpu = false;
  w->has_runq = false;
  w->has_migrations = false;
  w->own = false;
  w->index = -1;
  w->core = -1;
  w->allowed[0] = '\0';
  w->cpu_pct = -INFINITY;
  /* The kernel does not account run-queue wait; the sysctl unreadable,
   * the self-test unpinned, the process mask unknown. */
  s->runq_accounted = false;
  s->task_delayacct = -1;
  f.probe.accounted = false;
  f.probe.cpu = -1;
  f.probe.run_delay_ms = 0;
  f.probe.why = "the kernel counts run time but left run_delay at 0";
  s->cpus_allowed = 0;
  s->cpus_allowed_list[0] = '\0';
  /* Run-queue wait accounted, but the thread seen for the first time: the
   * total is known, its share of the period is not. */
  tl_thread_snap *l = &f.threads[1];
  l->has_runq = true;
  l->runq_wait_s = 0.5;
  l->runq_wait_pct = 7;
  l->runq_pct = 7;
  l->on_cpu_pct = 3;
  render(s);
  const char *nulls[] = {
      "process.rss_bytes",
      "process.ctx_voluntary",
      "process.ctx_voluntary_rate",
      "process.ctx_involuntary",
      "process.ctx_involuntary_rate",
      "process.fds",
      "threads.0.index",
      "threads.0.core",
      "threads.0.allowed",
      "threads.0.cpu_pct",
      "threads.0.oncpu_s",
      "threads.0.runq_wait_s",
      "threads.0.runq_wait_pct",
      "threads.0.timeslices",
      "threads.0.migrations",
      "threads.0.migrations_rate",
      "threads.0.tasks",
      "threads.0.tasks_rate",
      "threads.0.steps",
      "threads.0.steps_rate",
      "threads.0.busy_pct",
      "threads.0.doing",
      "server.requests.rate",
      "server.connections.accepted_rate",
      "server.sends.why_not",
      "server.sends.writes_per_submission",
      "server.loop.utilization_pct",
      "kernel.task_delayacct",
      "kernel.runq_source",
      "kernel.runq_self_test.cpu",
      "process.cpus_allowed",
      "process.cpus_allowed_count",
      "threads.0.runq_pct",
      "threads.0.sleep_pct",
      "threads.1.runq_wait_pct",
      "threads.1.on_cpu_pct",
      "threads.1.runq_pct",
      "threads.1.sleep_pct",
  };
  for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
    null_at(nulls[i]);
  /* A summary of nothing: count 0, every other field null. */
  num_is("server.latency_ms.period.count", 0);
  const char *fields[] = {"mean", "p50", "p90", "p99", "p999", "max"};
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
    char path[64];
    snprintf(path, sizeof(path), "server.latency_ms.period.%s", fields[i]);
    null_at(path);
  }
  /* The present ones stay numbers. */
  str_is("kernel.runq_unavailable", f.probe.why);
  bool_is("kernel.runq_self_test.accounted", false);
  num_is("kernel.runq_self_test.run_delay_ms", 0);
  num_is("threads.0.on_cpu_pct", 12); /* on a core needs no run-queue wait */
  num_is("threads.1.runq_wait_s", 0.5);
  num_is("threads.0.ctx_voluntary", 0);
  num_is("process.cpu_user_s", 1.25);
  done();
}
END_TEST

START_TEST(json_stats_disabled) {
  tl_snapshot *s = busy();
  s->stats_enabled = false;
  render(s);
  bool_is("stats_enabled", false);
  ck_assert_uint_eq(len_of("process"), 1);
  num_is("process.pid", 1234);
  done();
}
END_TEST

START_TEST(json_empty_snapshot) {
  render(empty());
  num_is("seq", 0);
  ck_assert_uint_eq(len_of("threads"), 0);
  ck_assert_uint_eq(len_of("cores"), 0);
  ck_assert_uint_eq(len_of("timeline.steps"), 0);
  ck_assert_uint_eq(len_of("insights"), 0);
  ck_assert_uint_eq(len_of("server.latency_ms.by_route"), 0);
  str_is("server.mode", "async");
  /* No self-test (yet): its object is null, and so is the source. */
  null_at("kernel.runq_self_test");
  null_at("kernel.runq_source");
  null_at("kernel.runq_unavailable");
  bool_is("kernel.task_delayacct", false);
  done();
}
END_TEST

TL_CHECK_MAIN("render_json", json_busy_snapshot, json_number_text,
              json_missing_figures_are_null, json_stats_disabled,
              json_empty_snapshot)
