/* Unit tests: insights derived from a snapshot built by hand. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tl_check.h"
#include "tl_json.h"
#include "base/hist.h"
#include "observer/insights.h"

/* ---- a snapshot to start from ------------------------------------------ */

static struct {
  tl_snapshot s;
  tl_thread_snap threads[8];
  tl_hist_snap lag, qwait;
} f;

/* A quiet server: nothing here fires an insight. */
static tl_snapshot *quiet(void) {
  memset(&f, 0, sizeof(f));
  tl_snapshot *s = &f.s;
  s->threads = f.threads;
  s->lag_period = &f.lag;
  s->qwait_period = &f.qwait;
  s->ncpu = 2;
  s->period_ms = 1000;
  s->runq_accounted = true;
  s->block_age_ms = -1;
  return s;
}

static tl_thread_snap *thread(tl_snapshot *s, tl_role role, int index) {
  ck_assert_int_lt(s->nthreads, 8);
  tl_thread_snap *t = &s->threads[s->nthreads++];
  t->tid = 1000 + s->nthreads;
  t->role = role;
  t->index = index;
  t->own = true;
  return t;
}

static void hist_add(tl_hist_snap *h, uint64_t v, uint64_t n) {
  h->bucket[tl_hist_bucket_of(v)] += n;
  h->count += n;
  h->sum += v * n;
  if (v > h->max)
    h->max = v;
}

static int count(const tl_snapshot *s, const char *id) {
  int n = 0;
  for (int i = 0; i < s->ninsights; i++)
    n += strcmp(s->insights[i].id, id) == 0;
  return n;
}

/* The one insight with this id, checked for its level. */
static const tl_insight *find(const tl_snapshot *s, const char *id,
                              const char *level) {
  ck_assert_msg(count(s, id) == 1, "%d insights '%s'", count(s, id), id);
  for (int i = 0; i < s->ninsights; i++)
    if (strcmp(s->insights[i].id, id) == 0) {
      ck_assert_str_eq(s->insights[i].level, level);
      return &s->insights[i];
    }
  return NULL;
}

static void text_has(const tl_insight *in, const char *part) {
  ck_assert_msg(strstr(in->text, part) != NULL, "'%s' not in '%s'", part,
                in->text);
}

/* The evidence is a JSON object; checks one number in it. */
static void evidence_num(const tl_insight *in, const char *key, double want) {
  tj *j = tj_parse(in->evidence, strlen(in->evidence));
  ck_assert_msg(j && j->type == TJ_OBJ, "evidence not a JSON object: %s",
                in->evidence);
  const tj *v = tj_get(j, key);
  ck_assert_msg(v && v->type == TJ_NUM, "no number '%s' in %s", key,
                in->evidence);
  ck_assert_msg(v->num > want - 1e-9 && v->num < want + 1e-9,
                "%s = %g in %s, want %g", key, v->num, in->evidence, want);
  tj_release(j);
}

static void evidence_str(const tl_insight *in, const char *key,
                         const char *want) {
  tj *j = tj_parse(in->evidence, strlen(in->evidence));
  ck_assert_ptr_nonnull(j);
  ck_assert_msg(tj_str(j, key) && strcmp(tj_str(j, key), want) == 0,
                "%s not \"%s\" in %s", key, want, in->evidence);
  tj_release(j);
}

static void evidence_bool(const tl_insight *in, const char *key, bool want) {
  tj *j = tj_parse(in->evidence, strlen(in->evidence));
  ck_assert_ptr_nonnull(j);
  const tj *v = tj_get(j, key);
  ck_assert_msg(v && v->type == TJ_BOOL && v->b == want, "%s not %s in %s",
                key, want ? "true" : "false", in->evidence);
  tj_release(j);
}

/* ---- nothing to say ---------------------------------------------------- */

START_TEST(insights_quiet_server) {
  tl_snapshot *s = quiet();
  thread(s, TL_ROLE_LOOP, -1)->cpu_pct = 10;
  for (int i = 0; i < 2; i++) {
    tl_thread_snap *w = thread(s, TL_ROLE_WORKER, i);
    w->busy_pct = 20;
    w->cpu_pct = 20;
    w->has_migrations = true;
    w->migrations_delta = 2;
    w->oncpu_delta_s = 0.2;
    w->runq_delta_s = 0.01;
  }
  hist_add(&f.lag, 300, 100);
  hist_add(&f.qwait, 50, 100);
  tl_insights_derive(s);
  ck_assert_int_eq(s->ninsights, 0);
  /* Derived afresh each time, not appended to the previous sample's. */
  s->ninsights = 5;
  tl_insights_derive(s);
  ck_assert_int_eq(s->ninsights, 0);
  /* Only the note that run-queue wait is not measured. */
  s->runq_accounted = false;
  tl_insights_derive(s);
  ck_assert_int_eq(s->ninsights, 1);
  evidence_bool(find(s, "no_runqueue", "info"), "task_delayacct", false);
}
END_TEST

/* ---- the loop thread --------------------------------------------------- */

START_TEST(insights_loop_blocked) {
  tl_snapshot *s = quiet();
  s->block_age_ms = 1200;
  s->block_us = 312345;
  s->block_task = 812;
  s->block_route = TL_ROUTE_CPU;
  hist_add(&f.lag, 250000, 1);
  tl_insights_derive(s);
  const tl_insight *in = find(s, "loop_blocked", "warn");
  text_has(in, "blocked 312 ms by task 812 (/cpu)");
  evidence_num(in, "task", 812);
  evidence_str(in, "route", "/cpu");
  evidence_num(in, "blocked_ms", 312);
  evidence_num(in, "lag_max_ms", 250);
  /* The block explains the lag: no second insight for it. */
  ck_assert_int_eq(count(s, "loop_lag"), 0);
  ck_assert_int_eq(s->ninsights, 1);

  /* Shown for 5 s after the sampler saw it, then the lag speaks alone. */
  s->block_age_ms = 0;
  tl_insights_derive(s);
  find(s, "loop_blocked", "warn");
  s->block_age_ms = 4999.9;
  tl_insights_derive(s);
  find(s, "loop_blocked", "warn");
  s->block_age_ms = 5000;
  tl_insights_derive(s);
  ck_assert_int_eq(count(s, "loop_blocked"), 0);
  find(s, "loop_lag", "warn");
}
END_TEST

START_TEST(insights_loop_lag) {
  tl_snapshot *s = quiet();
  hist_add(&f.lag, 500, 1000);
  hist_add(&f.lag, 99999, 1);
  tl_insights_derive(s);
  ck_assert_int_eq(s->ninsights, 0);
  hist_add(&f.lag, 100000, 1);
  tl_insights_derive(s);
  const tl_insight *in = find(s, "loop_lag", "warn");
  text_has(in, "ran 100 ms late");
  evidence_num(in, "lag_max_ms", 100);
}
END_TEST

/* ---- CPU --------------------------------------------------------------- */

START_TEST(insights_runqueue) {
  tl_snapshot *s = quiet();
  for (int i = 0; i < 3; i++) {
    tl_thread_snap *w = thread(s, TL_ROLE_WORKER, i);
    w->runq_delta_s = 0.3;
    w->oncpu_delta_s = 0.2;
    w->cpu_pct = 60; /* hot too, but the run queue says it better */
  }
  tl_insights_derive(s);
  const tl_insight *in = find(s, "runqueue", "warn");
  text_has(in, "run-queue wait (900 ms) exceeds run time (600 ms)");
  evidence_num(in, "runq_wait_ms", 900);
  evidence_num(in, "run_ms", 600);
  evidence_num(in, "ncpu", 2);
  ck_assert_int_eq(count(s, "oversubscribed"), 0);

  /* Waiting no longer than running: not this insight. */
  for (int i = 0; i < 3; i++)
    s->threads[i].runq_delta_s = 0.2;
  tl_insights_derive(s);
  ck_assert_int_eq(count(s, "runqueue"), 0);
  /* Nor when the threads barely ran (under 5% of the period). */
  for (int i = 0; i < 3; i++) {
    s->threads[i].cpu_pct = 0;
    s->threads[i].runq_delta_s = 1.0;
    s->threads[i].oncpu_delta_s = 0.016;
  }
  tl_insights_derive(s);
  ck_assert_int_eq(s->ninsights, 0);
  /* Nor when the kernel does not measure it. */
  for (int i = 0; i < 3; i++)
    s->threads[i].oncpu_delta_s = 0.2;
  s->runq_accounted = false;
  tl_insights_derive(s);
  ck_assert_int_eq(count(s, "runqueue"), 0);
  find(s, "no_runqueue", "info");
}
END_TEST

START_TEST(insights_oversubscribed) {
  tl_snapshot *s = quiet();
  tl_thread_snap *a = thread(s, TL_ROLE_WORKER, 0);
  tl_thread_snap *b = thread(s, TL_ROLE_WORKER, 1);
  tl_thread_snap *c = thread(s, TL_ROLE_LOOP, -1);
  tl_thread_snap *d = thread(s, TL_ROLE_OTHER, -1);
  a->cpu_pct = 50; /* hot from 50% of a core */
  a->ctx_invol_rate = 10;
  b->cpu_pct = 75;
  b->ctx_invol_rate = 20.4;
  c->cpu_pct = 10; /* or from waiting a quarter of the period */
  c->has_runq = true;
  c->runq_wait_pct = 25;
  c->ctx_invol_rate = 4;
  d->cpu_pct = 49.9; /* not hot: its wait is not measured */
  d->runq_wait_pct = 90;
  tl_insights_derive(s);
  const tl_insight *in = find(s, "oversubscribed", "warn");
  text_has(in, "3 threads want CPU on 2 cores");
  text_has(in, "(34 involuntary switches/s)");
  evidence_num(in, "busy_threads", 3);
  evidence_num(in, "ncpu", 2);
  evidence_num(in, "involuntary_per_s", 34.4);
  ck_assert_int_eq(s->ninsights, 1);
  /* As many hot threads as cores is fine. */
  c->runq_wait_pct = 24.9;
  tl_insights_derive(s);
  ck_assert_int_eq(s->ninsights, 0);
}
END_TEST

/* ---- the pool ---------------------------------------------------------- */

START_TEST(insights_queue_full) {
  tl_snapshot *s = quiet();
  s->rejected = 500;
  s->rejected_delta = 17;
  s->queue_max = 1024;
  tl_insights_derive(s);
  const tl_insight *in = find(s, "queue_full", "warn");
  text_has(in, "17 requests got 503");
  evidence_num(in, "rejected", 17);
  evidence_num(in, "queue_max", 1024);
  /* Rejections before this period do not count. */
  s->rejected_delta = 0;
  tl_insights_derive(s);
  ck_assert_int_eq(s->ninsights, 0);
}
END_TEST

START_TEST(insights_pool_saturated) {
  tl_snapshot *s = quiet();
  thread(s, TL_ROLE_LOOP, -1)->busy_pct = 0; /* not a worker: not averaged */
  tl_thread_snap *a = thread(s, TL_ROLE_WORKER, 0);
  tl_thread_snap *b = thread(s, TL_ROLE_WORKER, 1);
  a->busy_pct = 90;
  b->busy_pct = 80;
  s->queue_depth = 5;
  hist_add(&f.qwait, 2000, 10);
  tl_insights_derive(s);
  const tl_insight *in = find(s, "pool_saturated", "warn");
  text_has(in, "2 workers are 85% busy and tasks wait 2.0 ms (p50)");
  text_has(in, "5 waiting now");
  evidence_num(in, "workers", 2);
  evidence_num(in, "busy_pct", 85);
  evidence_num(in, "queue_wait_p50_ms", 2);
  evidence_num(in, "queue_depth", 5);
  ck_assert_int_eq(s->ninsights, 1);

  /* Workers below 80% busy on average. */
  b->busy_pct = 67.9;
  tl_insights_derive(s);
  ck_assert_int_eq(s->ninsights, 0);
  /* Busy, but tasks wait under 1 ms. */
  b->busy_pct = 80;
  memset(&f.qwait, 0, sizeof(f.qwait));
  hist_add(&f.qwait, 900, 10);
  tl_insights_derive(s);
  ck_assert_int_eq(s->ninsights, 0);
  /* No queue wait measured at all. */
  memset(&f.qwait, 0, sizeof(f.qwait));
  tl_insights_derive(s);
  ck_assert_int_eq(s->ninsights, 0);
}
END_TEST

/* ---- migrations -------------------------------------------------------- */

START_TEST(insights_migrations) {
  tl_snapshot *s = quiet();
  tl_thread_snap *w = thread(s, TL_ROLE_WORKER, 0);
  w->tid = 4242;
  w->has_migrations = true;
  w->migrations_delta = 25;
  tl_thread_snap *few = thread(s, TL_ROLE_WORKER, 1);
  few->has_migrations = true;
  few->migrations_delta = 9;
  tl_thread_snap *loop = thread(s, TL_ROLE_LOOP, -1);
  loop->has_migrations = true;
  loop->migrations_delta = 100; /* only workers are reported */
  thread(s, TL_ROLE_WORKER, 2)->migrations_delta = 50; /* not measured */
  tl_insights_derive(s);
  const tl_insight *in = find(s, "migrations", "warn");
  text_has(in, "worker 0 migrated 25 times in 1.0 s (not pinned)");
  evidence_num(in, "tid", 4242);
  evidence_num(in, "migrations", 25);
  evidence_num(in, "period_ms", 1000);
  evidence_bool(in, "pinned", false);
  ck_assert_int_eq(s->ninsights, 1);

  /* Pinned threads should stop moving: a note, not a warning. */
  s->pinned = true;
  few->migrations_delta = 10;
  tl_insights_derive(s);
  ck_assert_int_eq(count(s, "migrations"), 2);
  ck_assert_str_eq(s->insights[0].level, "info");
  text_has(&s->insights[0], "(pinned: moves should stop)");
  evidence_bool(&s->insights[0], "pinned", true);
  evidence_num(&s->insights[1], "tid", few->tid);

  /* At most three workers are named. */
  for (int i = 3; i < 6; i++) {
    tl_thread_snap *t = thread(s, TL_ROLE_WORKER, i);
    t->has_migrations = true;
    t->migrations_delta = 30;
  }
  tl_insights_derive(s);
  ck_assert_int_eq(count(s, "migrations"), 3);
}
END_TEST

TL_CHECK_MAIN("insights", insights_quiet_server, insights_loop_blocked,
              insights_loop_lag, insights_runqueue, insights_oversubscribed,
              insights_queue_full, insights_pool_saturated,
              insights_migrations)
