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
  tl_schedstat_probe probe;
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
  t->has_period = true;
  t->has_runq = s->runq_accounted;
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

/* The evidence is a JSON object; checks one number in it (a dotted path). */
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
  ck_assert_msg(v && v->type == TJ_BOOL && v->b == want, "%s not %s in %s", key,
                want ? "true" : "false", in->evidence);
  tj_release(j);
}

/* ---- nothing to say ---------------------------------------------------- */

START_TEST(insights_quiet_server) {
  tl_snapshot *s = quiet();
  tl_thread_snap *l = thread(s, TL_ROLE_LOOP, -1);
  l->on_cpu_pct = 10;
  l->runq_pct = 1;
  for (int i = 0; i < 2; i++) {
    tl_thread_snap *w = thread(s, TL_ROLE_WORKER, i);
    w->busy_pct = 20;
    w->on_cpu_pct = 20;
    w->runq_pct = 1;
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
}
END_TEST

/* The kernel does not account run-queue wait: only a note, whose evidence
 * is the self-test's numbers and the sysctl as read. */
START_TEST(insights_no_runqueue) {
  tl_snapshot *s = quiet();
  s->runq_accounted = false;
  s->task_delayacct = -1;
  tl_insights_derive(s);
  ck_assert_int_eq(s->ninsights, 1);
  const tl_insight *in = find(s, "no_runqueue", "info");
  text_has(in, "run-queue wait is not measured: the self-test did not run");
  evidence_num(in, "self_test_run_delay_ms", 0);
  evidence_num(in, "self_test_oncpu_ms", 0);
  evidence_num(in, "task_delayacct", -1);

  f.probe.oncpu_ms = 11.5;
  f.probe.run_delay_ms = 0.125;
  s->runq_probe = &f.probe;
  s->task_delayacct = 1; /* on, yet the kernel stayed silent */
  tl_insights_derive(s);
  in = find(s, "no_runqueue", "info");
  evidence_num(in, "self_test_run_delay_ms", 0.125);
  evidence_num(in, "self_test_oncpu_ms", 11.5);
  evidence_num(in, "task_delayacct", 1);

  /* Accounted: no note, whatever the sysctl says. */
  s->runq_accounted = true;
  tl_insights_derive(s);
  ck_assert_int_eq(s->ninsights, 0);
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
  tl_thread_snap *l = thread(s, TL_ROLE_LOOP, -1);
  l->on_cpu_pct = 30;
  l->runq_pct = 30;
  hist_add(&f.lag, 500, 1000);
  hist_add(&f.lag, 99999, 1);
  tl_insights_derive(s);
  ck_assert_int_eq(s->ninsights, 0);
  hist_add(&f.lag, 100000, 1);
  tl_insights_derive(s);
  const tl_insight *in = find(s, "loop_lag", "warn");
  text_has(in, "ran 100 ms late");
  evidence_num(in, "lag_max_ms", 100);
  evidence_num(in, "loop_on_cpu_pct", 30);
  evidence_num(in, "loop_runq_pct", 30);
  /* Waiting as long as running is not "waited for a core". */
  text_has(in, "something kept the loop thread busy");
  /* Waiting longer than running is. */
  l->runq_pct = 31;
  tl_insights_derive(s);
  in = find(s, "loop_lag", "warn");
  text_has(in, "waited for a core (31% of the period waiting, 30% on a core)");
  evidence_num(in, "loop_runq_pct", 31);
  /* A loop thread seen for the first time has no shares: 0 in the
   * evidence, and it cannot say it waited. */
  l->has_period = false;
  tl_insights_derive(s);
  in = find(s, "loop_lag", "warn");
  text_has(in, "something kept the loop thread busy");
  evidence_num(in, "loop_on_cpu_pct", 0);
}
END_TEST

/* ---- CPU --------------------------------------------------------------- */

/* Measured: the threads' average demand (on a core + waiting for one)
 * reaches max(1.5 x cores, cores + 1) and a thread's worth waited. */
START_TEST(insights_oversubscribed) {
  tl_snapshot *s = quiet();
  tl_thread_snap *w[3];
  double invol[3] = {10, 20.5, 4};
  for (int i = 0; i < 3; i++) {
    w[i] = thread(s, TL_ROLE_WORKER, i);
    w[i]->on_cpu_pct = 50;
    w[i]->runq_pct = 50;
    w[i]->oncpu_delta_s = 0.5;
    w[i]->runq_delta_s = 0.25;
    w[i]->ctx_invol_rate = invol[i];
    w[i]->state = 'R';
  }
  w[2]->state = 'S';
  tl_thread_snap *o = thread(s, TL_ROLE_OBSERVER, -1);
  o->state = 'R'; /* the sampler itself: not counted as runnable */
  tl_thread_snap *fresh = thread(s, TL_ROLE_OTHER, -1);
  fresh->has_period = false; /* no shares yet: not counted */
  fresh->on_cpu_pct = 100;
  fresh->runq_pct = 100;
  /* 2 cores: wants 3 threads' worth; here 1.5 running + 1.5 waiting. */
  tl_insights_derive(s);
  const tl_insight *in = find(s, "oversubscribed", "warn");
  text_has(in, "on average 3.0 threads wanted 2 cores and 1.5 of them waited");
  text_has(in, "(run-queue wait 750 ms vs run time 1500 ms");
  evidence_num(in, "runnable_avg", 3);
  evidence_num(in, "waiting_avg", 1.5);
  evidence_num(in, "cores", 2);
  evidence_num(in, "runq_wait_ms", 750);
  evidence_num(in, "run_ms", 1500);
  evidence_num(in, "runnable_now", 2);
  evidence_num(in, "involuntary_per_s", 34.5);
  ck_assert_int_eq(s->ninsights, 1);

  /* Just under 3 threads' worth. */
  w[2]->runq_pct = 49.5;
  tl_insights_derive(s);
  ck_assert_int_eq(s->ninsights, 0);
  /* A thread without run-queue figures adds only its running. */
  w[2]->runq_pct = 50;
  w[2]->has_runq = false;
  tl_insights_derive(s);
  ck_assert_int_eq(s->ninsights, 0);
  w[2]->has_runq = true;

  /* Enough demand, but exactly one thread's worth waiting is the least. */
  for (int i = 0; i < 3; i++)
    w[i]->on_cpu_pct = 100;
  w[0]->runq_pct = 50;
  w[1]->runq_pct = 50;
  w[2]->runq_pct = 0;
  tl_insights_derive(s);
  evidence_num(find(s, "oversubscribed", "warn"), "waiting_avg", 1);
  w[1]->runq_pct = 49.5;
  tl_insights_derive(s);
  ck_assert_int_eq(s->ninsights, 0);
}
END_TEST

/* The threshold is max(1.5 x cores, cores + 1) of the allowed cores. */
START_TEST(insights_oversubscribed_cores) {
  tl_snapshot *s = quiet();
  s->ncpu = 8;
  s->cpus_allowed = 4; /* wants 6 */
  for (int i = 0; i < 6; i++) {
    tl_thread_snap *w = thread(s, TL_ROLE_WORKER, i);
    w->on_cpu_pct = 50;
    w->runq_pct = 50;
  }
  tl_insights_derive(s);
  const tl_insight *in = find(s, "oversubscribed", "warn");
  evidence_num(in, "cores", 4);
  evidence_num(in, "runnable_avg", 6);
  s->threads[5].runq_pct = 49.5;
  tl_insights_derive(s);
  ck_assert_int_eq(s->ninsights, 0);

  /* One core: wants 2 (cores + 1), and says "core". */
  s->cpus_allowed = 1;
  s->nthreads = 2;
  tl_insights_derive(s);
  in = find(s, "oversubscribed", "warn");
  text_has(in, "wanted 1 core and");
  evidence_num(in, "cores", 1);
  /* 1.995 threads' worth, a whole one waiting: under cores + 1. */
  s->threads[1].on_cpu_pct = 49.5;
  tl_insights_derive(s);
  ck_assert_int_eq(s->ninsights, 0);

  /* Mask unknown: the online cores count. */
  s->cpus_allowed = 0;
  s->ncpu = 1;
  s->threads[1].on_cpu_pct = 50;
  tl_insights_derive(s);
  evidence_num(find(s, "oversubscribed", "warn"), "cores", 1);
}
END_TEST

/* Without run-queue wait: more than 2 x cores of our threads runnable at
 * the sample, and some involuntary switching. */
START_TEST(insights_oversubscribed_unmeasured) {
  tl_snapshot *s = quiet();
  s->runq_accounted = false;
  for (int i = 0; i < 5; i++) {
    tl_thread_snap *w = thread(s, TL_ROLE_WORKER, i);
    w->state = 'R';
    w->ctx_invol_rate = 7;
  }
  thread(s, TL_ROLE_OBSERVER, -1)->state = 'R';
  tl_insights_derive(s);
  const tl_insight *in = find(s, "oversubscribed", "warn");
  text_has(in, "5 threads were runnable on 2 cores at the sample (35 "
               "involuntary switches/s)");
  text_has(in, "not measured here");
  evidence_num(in, "runnable_now", 5);
  evidence_num(in, "cores", 2);
  evidence_num(in, "involuntary_per_s", 35);
  find(s, "no_runqueue", "info");
  ck_assert_int_eq(s->ninsights, 2);
  /* Twice the cores is not enough. */
  s->threads[4].state = 'S';
  tl_insights_derive(s);
  ck_assert_int_eq(count(s, "oversubscribed"), 0);
  /* Nor runnable threads that were never preempted. */
  s->threads[4].state = 'R';
  for (int i = 0; i < 5; i++)
    s->threads[i].ctx_invol_rate = 0;
  tl_insights_derive(s);
  ck_assert_int_eq(count(s, "oversubscribed"), 0);
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

/* Workers hold tasks >= 80% of the time, tasks wait >= 1 ms in the queue,
 * and the workers are blocked inside their tasks: on a core + waiting for
 * one under half of their busy time. */
START_TEST(insights_pool_saturated) {
  tl_snapshot *s = quiet();
  tl_thread_snap *loop = thread(s, TL_ROLE_LOOP, -1);
  loop->busy_pct = 0; /* not a worker: not averaged */
  loop->on_cpu_pct = 90;
  tl_thread_snap *a = thread(s, TL_ROLE_WORKER, 0);
  tl_thread_snap *b = thread(s, TL_ROLE_WORKER, 1);
  a->busy_pct = 90;
  b->busy_pct = 70;
  a->on_cpu_pct = 4;
  b->on_cpu_pct = 6;
  a->runq_pct = b->runq_pct = 1;
  s->queue_depth = 5;
  hist_add(&f.qwait, 2000, 10);
  tl_insights_derive(s);
  const tl_insight *in = find(s, "pool_saturated", "warn");
  text_has(in, "2 workers hold a task 80% of the time but are on a core only "
               "5% of it, and tasks wait 2.0 ms (p50) in the queue, 5 waiting "
               "now");
  evidence_num(in, "workers", 2);
  evidence_num(in, "busy_pct", 80);
  evidence_num(in, "on_cpu_pct", 5);
  evidence_num(in, "queue_wait_p50_ms", 2);
  evidence_num(in, "queue_depth", 5);
  ck_assert_int_eq(s->ninsights, 1);

  /* Workers below 80% busy on average. */
  b->busy_pct = 69.5;
  tl_insights_derive(s);
  ck_assert_int_eq(s->ninsights, 0);
  b->busy_pct = 70;

  /* On a core and waiting for one half their busy time (40 of 80): the
   * cores are the limit, not the workers. */
  a->on_cpu_pct = b->on_cpu_pct = 30;
  a->runq_pct = b->runq_pct = 10;
  tl_insights_derive(s);
  ck_assert_int_eq(s->ninsights, 0);
  b->runq_pct = 9.5;
  tl_insights_derive(s);
  find(s, "pool_saturated", "warn");

  /* Without run-queue wait, only on a core under a tenth of the busy time
   * counts (8 of 80), whatever the waiting. */
  s->runq_accounted = false;
  a->on_cpu_pct = b->on_cpu_pct = 8;
  a->runq_pct = b->runq_pct = 0;
  tl_insights_derive(s);
  ck_assert_int_eq(count(s, "pool_saturated"), 0);
  b->on_cpu_pct = 7.5;
  tl_insights_derive(s);
  find(s, "pool_saturated", "warn");
  s->runq_accounted = true;

  /* Busy, but tasks wait under 1 ms. */
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

/* Moves of workers runnable at least half the period, >= 10 per second in
 * all. */
START_TEST(insights_migrations) {
  tl_snapshot *s = quiet();
  tl_thread_snap *w = thread(s, TL_ROLE_WORKER, 0);
  w->tid = 4242;
  w->has_migrations = true;
  w->migrations_delta = 6;
  w->on_cpu_pct = 30; /* runnable half the period, just */
  w->runq_pct = 20;
  tl_thread_snap *sleepy = thread(s, TL_ROLE_WORKER, 1);
  sleepy->has_migrations = true;
  sleepy->migrations_delta = 100; /* moves when it wakes: cheap */
  sleepy->on_cpu_pct = 30;
  sleepy->runq_pct = 19.5;
  sleepy->busy_pct = 100;
  tl_thread_snap *nowait = thread(s, TL_ROLE_WORKER, 2);
  nowait->has_migrations = true;
  nowait->has_runq = false; /* then holding its task half the period */
  nowait->migrations_delta = 4;
  nowait->on_cpu_pct = 10;
  nowait->busy_pct = 50;
  tl_thread_snap *loop = thread(s, TL_ROLE_LOOP, -1);
  loop->has_migrations = true;
  loop->migrations_delta = 100; /* only workers count */
  loop->on_cpu_pct = 60;
  tl_thread_snap *unknown = thread(s, TL_ROLE_WORKER, 3);
  unknown->migrations_delta = 50; /* not measured */
  unknown->on_cpu_pct = 100;
  tl_thread_snap *fresh = thread(s, TL_ROLE_WORKER, 4);
  fresh->has_migrations = true;
  fresh->has_period = false; /* seen for the first time */
  fresh->migrations_delta = 50;
  fresh->on_cpu_pct = 100;
  tl_insights_derive(s);
  const tl_insight *in = find(s, "migrations", "warn");
  text_has(in, "2 busy workers moved between cores 10 times in 1.0 s "
               "(worker 0: 6): not pinned");
  evidence_num(in, "migrations", 10);
  evidence_num(in, "per_s", 10);
  evidence_num(in, "busy_workers", 2);
  evidence_num(in, "most.tid", 4242);
  evidence_num(in, "most.index", 0);
  evidence_num(in, "most.migrations", 6);
  evidence_num(in, "period_ms", 1000);
  evidence_bool(in, "pinned", false);
  ck_assert_int_eq(s->ninsights, 1);

  /* 9 a second is not enough. */
  nowait->migrations_delta = 3;
  tl_insights_derive(s);
  ck_assert_int_eq(s->ninsights, 0);
  /* A rate: 20 moves in 2 s is 10 a second. */
  nowait->migrations_delta = 14;
  s->period_ms = 2000;
  tl_insights_derive(s);
  in = find(s, "migrations", "warn");
  evidence_num(in, "per_s", 10);
  evidence_num(in, "most.index", 2);
  evidence_num(in, "most.migrations", 14);

  /* Pinned workers that still move: a note, not a warning. */
  s->pinned = true;
  tl_insights_derive(s);
  in = find(s, "migrations", "info");
  text_has(in, "although pinned");
  evidence_bool(in, "pinned", true);
  ck_assert_int_eq(s->ninsights, 1);
}
END_TEST

TL_CHECK_MAIN("insights", insights_quiet_server, insights_no_runqueue,
              insights_loop_blocked, insights_loop_lag, insights_oversubscribed,
              insights_oversubscribed_cores, insights_oversubscribed_unmeasured,
              insights_queue_full, insights_pool_saturated, insights_migrations)
