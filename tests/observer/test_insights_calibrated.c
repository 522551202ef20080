/* Insights calibrated on the load scenarios: each one fires in the
 * scenario that shows its problem and in none of the others. Every
 * snapshot below was recorded from /stats in its scenario on the 2-core
 * development machine (kernel 6.18, kernel.task_delayacct=0, a noisy
 * machine shared with other builds), with the server's default 500 ms
 * period, during the middle of an 8 s wrk run:
 *   idle       threadlab (pool, 2 workers), no load
 *   plaintext  wrk -t1 -c32 /plaintext
 *   oversub    --threads 16, wrk -t1 -c32 /cpu?ms=5
 *   cpu2       --threads 2,  wrk -t1 -c16 /cpu?ms=5
 *   pin4p      --threads 4 --pin, wrk -t1 -c16 /cpu?ms=5
 *   asynccpu   --mode async, wrk -t1 -c4 /cpu?ms=20 (the loop blocked)
 *   io         --max-conns 4096 --queue-max 4096, wrk -t1 -c1000 /io?ms=100
 * Per thread: role, index, kernel state, on_cpu_pct, runq_pct, busy_pct,
 * migrations in the period, involuntary switches/s. The same snapshots
 * with run-queue wait removed stand for a kernel that does not account
 * it. */
#include "config.h"

#include <check.h>
#include "tl_check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mode.h"
#include "observer/insights.h"
#include "tl_json.h"

typedef struct rec_thread {
  tl_role role;
  int index;
  char state;
  double on_cpu_pct, runq_pct, busy_pct;
  int migrations;
  double invol_rate;
} rec_thread;

typedef struct rec_scenario {
  const char *name;
  int mode;
  bool pinned;
  double period_ms;
  int cpus_allowed, ncpu, nthreads;
  const rec_thread *threads;
  double qwait_p50_us;
  int qwait_count, depth;
  double lag_max_us;
  int lag_count;
  uint64_t block_task, block_us; /* a loop block seen this period */
} rec_scenario;

/* idle: seq 11, insights then: [] */
static const rec_thread idle_threads[] = {
    {TL_ROLE_LOOP, -1, 'S', 0.1, 1.2, 0.0, 0, 0},
    {TL_ROLE_WORKER, 0, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_WORKER, 1, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 1, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 0, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 2, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 3, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_OBSERVER, -1, 'R', 0.2, 0.2, 0.0, 0, 4},
};
static const rec_scenario idle = {
    "idle",
    TL_MODE_POOL,
    false,
    500.3,
    2,
    2,
    8,
    idle_threads,
    /* queue wait p50 us, count; depth; lag max us, count */
    0,
    0,
    0,
    3327,
    10,
    /* loop block: none */ 0,
    0,
};

/* plaintext: seq 11, insights then: [] */
static const rec_thread plaintext_threads[] = {
    {TL_ROLE_LOOP, -1, 'S', 19.8, 65.6, 0.0, 0, 84},
    {TL_ROLE_WORKER, 0, 'R', 5.4, 15.1, 0.3, 0, 274},
    {TL_ROLE_WORKER, 1, 'S', 5.6, 14.7, 0.3, 0, 262},
    {TL_ROLE_LIBUV, 1, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 0, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 2, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 3, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_OBSERVER, -1, 'R', 0.2, 3.8, 0.0, 0, 0},
};
static const rec_scenario plaintext = {
    "plaintext",
    TL_MODE_POOL,
    false,
    500.8,
    2,
    2,
    8,
    plaintext_threads,
    /* queue wait p50 us, count; depth; lag max us, count */
    191,
    6055,
    8,
    5631,
    10,
    /* loop block: none */ 0,
    0,
};

/* oversub: seq 11, insights then: ['oversubscribed', 'migrations'] */
static const rec_thread oversub_threads[] = {
    {TL_ROLE_LOOP, -1, 'R', 0.9, 73.4, 0.0, 2, 10},
    {TL_ROLE_WORKER, 0, 'R', 3.1, 104.7, 100.0, 2, 28},
    {TL_ROLE_WORKER, 1, 'R', 2.9, 98.3, 100.0, 3, 24},
    {TL_ROLE_WORKER, 2, 'R', 3.1, 108.7, 64.7, 1, 26},
    {TL_ROLE_WORKER, 3, 'R', 2.9, 97.6, 68.4, 0, 22},
    {TL_ROLE_WORKER, 4, 'R', 2.9, 102.7, 100.0, 1, 34},
    {TL_ROLE_WORKER, 5, 'R', 3.1, 92.3, 93.8, 1, 26},
    {TL_ROLE_WORKER, 6, 'R', 3.2, 97.1, 100.0, 2, 30},
    {TL_ROLE_WORKER, 7, 'R', 3.2, 93.4, 96.4, 2, 28},
    {TL_ROLE_WORKER, 8, 'R', 2.9, 98.0, 97.0, 2, 24},
    {TL_ROLE_WORKER, 9, 'R', 3.2, 96.0, 91.8, 2, 22},
    {TL_ROLE_WORKER, 10, 'R', 2.9, 98.5, 100.0, 2, 26},
    {TL_ROLE_WORKER, 11, 'R', 2.8, 93.0, 94.3, 3, 24},
    {TL_ROLE_WORKER, 12, 'R', 3.2, 98.3, 100.0, 1, 30},
    {TL_ROLE_WORKER, 13, 'R', 2.9, 98.4, 100.0, 1, 20},
    {TL_ROLE_WORKER, 14, 'R', 3.4, 105.4, 95.6, 1, 34},
    {TL_ROLE_WORKER, 15, 'R', 3.1, 102.6, 100.0, 1, 34},
    {TL_ROLE_LIBUV, 2, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 3, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 0, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 1, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_OBSERVER, -1, 'R', 0.2, 9.4, 0.0, 1, 0},
};
static const rec_scenario oversub = {
    "oversub",
    TL_MODE_POOL,
    false,
    500.2,
    2,
    2,
    22,
    oversub_threads,
    /* queue wait p50 us, count; depth; lag max us, count */
    147455,
    51,
    11,
    49151,
    7,
    /* loop block: none */ 0,
    0,
};

/* oversub: seq 15, insights then: ['loop_lag', 'oversubscribed', 'migrations'] */
static const rec_thread oversub_late_loop_threads[] = {
    {TL_ROLE_LOOP, -1, 'R', 0.6, 72.8, 0.0, 2, 18},
    {TL_ROLE_WORKER, 0, 'R', 2.8, 98.6, 68.3, 2, 28},
    {TL_ROLE_WORKER, 1, 'R', 2.8, 93.3, 100.0, 2, 24},
    {TL_ROLE_WORKER, 2, 'R', 2.5, 89.7, 72.2, 2, 24},
    {TL_ROLE_WORKER, 3, 'R', 3.1, 97.1, 100.0, 2, 32},
    {TL_ROLE_WORKER, 4, 'R', 3.4, 96.9, 100.0, 0, 28},
    {TL_ROLE_WORKER, 5, 'R', 2.6, 96.8, 75.6, 2, 28},
    {TL_ROLE_WORKER, 6, 'R', 3.4, 96.2, 100.0, 0, 32},
    {TL_ROLE_WORKER, 7, 'R', 2.8, 100.0, 99.8, 1, 30},
    {TL_ROLE_WORKER, 8, 'R', 3.1, 97.2, 93.6, 2, 30},
    {TL_ROLE_WORKER, 9, 'R', 3.4, 96.4, 80.8, 0, 30},
    {TL_ROLE_WORKER, 10, 'R', 3.1, 100.8, 98.3, 1, 26},
    {TL_ROLE_WORKER, 11, 'R', 3.4, 96.9, 100.0, 0, 28},
    {TL_ROLE_WORKER, 12, 'R', 3.1, 98.7, 82.2, 2, 26},
    {TL_ROLE_WORKER, 13, 'R', 2.9, 92.2, 100.0, 1, 24},
    {TL_ROLE_WORKER, 14, 'R', 3.5, 95.8, 83.7, 0, 32},
    {TL_ROLE_WORKER, 15, 'R', 3.4, 95.4, 100.0, 0, 30},
    {TL_ROLE_LIBUV, 2, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 3, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 0, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 1, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_OBSERVER, -1, 'R', 0.2, 3.6, 0.0, 2, 0},
};
static const rec_scenario oversub_late_loop = {
    "oversub",
    TL_MODE_POOL,
    false,
    502.9,
    2,
    2,
    22,
    oversub_late_loop_threads,
    /* queue wait p50 us, count; depth; lag max us, count */
    147455,
    48,
    14,
    114235,
    6,
    /* loop block: none */ 0,
    0,
};

/* cpu2: seq 11, insights then: [] */
static const rec_thread cpu2_threads[] = {
    {TL_ROLE_LOOP, -1, 'R', 2.5, 1.7, 0.0, 0, 10},
    {TL_ROLE_WORKER, 0, 'R', 24.2, 76.6, 100.0, 0, 188},
    {TL_ROLE_WORKER, 1, 'R', 24.2, 75.6, 100.0, 0, 202},
    {TL_ROLE_LIBUV, 0, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 3, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 1, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 2, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_OBSERVER, -1, 'R', 0.4, 0.6, 0.0, 0, 2},
};
static const rec_scenario cpu2 = {
    "cpu2",
    TL_MODE_POOL,
    false,
    500.9,
    2,
    2,
    8,
    cpu2_threads,
    /* queue wait p50 us, count; depth; lag max us, count */
    163839,
    47,
    13,
    1023,
    10,
    /* loop block: none */ 0,
    0,
};

/* pin4p: seq 11, insights then: ['oversubscribed'] */
static const rec_thread pin4p_threads[] = {
    {TL_ROLE_LOOP, -1, 'S', 1.3, 45.0, 0.0, 1, 48},
    {TL_ROLE_WORKER, 0, 'R', 18.5, 81.0, 91.5, 0, 178},
    {TL_ROLE_WORKER, 1, 'R', 12.9, 89.2, 100.0, 0, 100},
    {TL_ROLE_WORKER, 2, 'R', 18.5, 82.2, 100.0, 0, 180},
    {TL_ROLE_WORKER, 3, 'R', 13.0, 88.6, 99.8, 0, 112},
    {TL_ROLE_LIBUV, 1, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 0, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 2, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 3, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_OBSERVER, -1, 'R', 0.3, 3.5, 0.0, 0, 0},
};
static const rec_scenario pin4p = {
    "pin4p",
    TL_MODE_POOL,
    true,
    500.4,
    2,
    2,
    10,
    pin4p_threads,
    /* queue wait p50 us, count; depth; lag max us, count */
    98303,
    62,
    12,
    6143,
    10,
    /* loop block: none */ 0,
    0,
};

/* asynccpu: seq 11, insights then: ['loop_blocked'] */
static const rec_thread asynccpu_threads[] = {
    {TL_ROLE_LOOP, -1, 'R', 33.9, 66.4, 0.0, 0, 132},
    {TL_ROLE_WORKER, 0, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_WORKER, 1, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 0, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 1, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 2, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 3, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_OBSERVER, -1, 'R', 0.4, 4.7, 0.0, 0, 2},
};
static const rec_scenario asynccpu = {
    "asynccpu",
    TL_MODE_ASYNC,
    false,
    506.3,
    2,
    2,
    8,
    asynccpu_threads,
    /* queue wait p50 us, count; depth; lag max us, count */
    0,
    0,
    0,
    180223,
    3,
    /* loop block: task, us */ 81,
    50000,
};

/* io: seq 11, insights then: ['pool_saturated'] */
static const rec_thread io_threads[] = {
    {TL_ROLE_LOOP, -1, 'S', 0.5, 1.6, 0.0, 2, 8},
    {TL_ROLE_WORKER, 0, 'S', 0.1, 0.0, 100.0, 0, 0},
    {TL_ROLE_WORKER, 1, 'S', 0.1, 1.4, 100.0, 0, 4},
    {TL_ROLE_LIBUV, 0, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 1, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 2, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_LIBUV, 3, 'S', 0.0, 0.0, 0.0, 0, 0},
    {TL_ROLE_OBSERVER, -1, 'R', 0.4, 0.3, 0.0, 0, 2},
};
static const rec_scenario io = {
    "io",
    TL_MODE_POOL,
    false,
    501.0,
    2,
    2,
    8,
    io_threads,
    /* queue wait p50 us, count; depth; lag max us, count */
    3932159,
    10,
    998,
    2303,
    10,
    /* loop block: none */ 0,
    0,
};

#define MAX_REC_THREADS 32

/* A snapshot rebuilt from a recording; runq=false: the kernel is silent. */
typedef struct built {
  tl_snapshot s;
  tl_thread_snap threads[MAX_REC_THREADS];
  tl_hist_snap lat, lat_period, qwait, qwait_period, lag, lag_period;
  tl_hist_snap route[TL_ROUTE_COUNT], route_period[TL_ROUTE_COUNT];
  tl_schedstat_probe probe;
} built;

static void fill_hist(tl_hist_snap *h, int count, uint64_t typical,
                      uint64_t max) {
  memset(h, 0, sizeof(*h));
  if (count <= 0)
    return;
  h->bucket[tl_hist_bucket_of(typical)] += (uint64_t) count - 1;
  h->bucket[tl_hist_bucket_of(max)] += 1;
  h->count = (uint64_t) count;
  h->sum = typical * (uint64_t) (count - 1) + max;
  h->max = max;
}

static tl_snapshot *build(built *b, const rec_scenario *r, bool runq) {
  memset(b, 0, sizeof(*b));
  ck_assert_int_le(r->nthreads, MAX_REC_THREADS);
  tl_snapshot *s = &b->s;
  double period_s = r->period_ms / 1000.0;
  s->seq = 42;
  s->period_ms = r->period_ms;
  s->stats_enabled = true;
  s->ncpu = r->ncpu;
  s->cpus_allowed = r->cpus_allowed;
  s->mode = r->mode;
  s->pinned = r->pinned;
  s->pool_threads = 0;
  s->runq_accounted = runq;
  s->task_delayacct = 0;
  b->probe.accounted = runq;
  b->probe.threads = 2;
  b->probe.spin_ms = 12;
  b->probe.oncpu_ms = runq ? 10.5 : 12;
  b->probe.run_delay_ms = runq ? 11.8 : 0;
  if (!runq)
    b->probe.why = "the kernel counts run time but left run_delay at 0";
  s->runq_probe = &b->probe;
  s->threads = b->threads;
  s->nthreads = r->nthreads;
  for (int i = 0; i < r->nthreads; i++) {
    const rec_thread *rt = &r->threads[i];
    tl_thread_snap *t = &b->threads[i];
    t->tid = 1000 + i;
    t->role = rt->role;
    t->index = rt->index;
    t->state = rt->state;
    t->core = i % r->ncpu;
    t->has_oncpu = t->has_period = t->has_migrations = true;
    t->on_cpu_pct = rt->on_cpu_pct;
    t->cpu_pct = rt->on_cpu_pct;
    t->oncpu_delta_s = rt->on_cpu_pct / 100.0 * period_s;
    t->has_runq = runq;
    if (runq) {
      t->runq_pct = t->runq_wait_pct = rt->runq_pct;
      t->runq_delta_s = rt->runq_pct / 100.0 * period_s;
      double rest = 100.0 - rt->on_cpu_pct - rt->runq_pct;
      t->sleep_pct = rest > 0 ? rest : 0;
    }
    t->migrations_delta = (uint64_t) rt->migrations;
    t->migrations_rate = rt->migrations / period_s;
    t->ctx_invol_rate = rt->invol_rate;
    t->own = rt->role == TL_ROLE_LOOP || rt->role == TL_ROLE_WORKER;
    t->busy_pct = rt->busy_pct;
  }
  fill_hist(&b->qwait_period, r->qwait_count, (uint64_t) r->qwait_p50_us,
            (uint64_t) r->qwait_p50_us);
  b->qwait = b->qwait_period;
  uint64_t lag_max = (uint64_t) r->lag_max_us;
  fill_hist(&b->lag_period, r->lag_count, lag_max < 1000 ? lag_max : 1000,
            lag_max);
  b->lag = b->lag_period;
  s->lat_all = &b->lat;
  s->lat_period = &b->lat_period;
  s->route_all = b->route;
  s->route_period = b->route_period;
  s->qwait_all = &b->qwait;
  s->qwait_period = &b->qwait_period;
  s->lag_all = &b->lag;
  s->lag_period = &b->lag_period;
  s->queue_depth = (uint64_t) r->depth;
  s->queue_max = 4096;
  /* /stats does not export when the sampler saw the block; the insight
   * was present in the recorded snapshot, so it was within its window. */
  s->block_age_ms = r->block_us ? r->period_ms : -1;
  s->block_task = r->block_task;
  s->block_us = r->block_us;
  s->block_route = TL_ROUTE_CPU;
  return s;
}

/* The insight ids, sorted and joined by commas, e.g. "migrations,oversubscribed". */
static const char *ids(const tl_snapshot *s) {
  static char out[256];
  const char *v[TL_SNAP_MAX_INSIGHTS];
  int n = s->ninsights;
  for (int i = 0; i < n; i++)
    v[i] = s->insights[i].id;
  for (int i = 1; i < n; i++)
    for (int k = i; k > 0 && strcmp(v[k - 1], v[k]) > 0; k--) {
      const char *x = v[k];
      v[k] = v[k - 1];
      v[k - 1] = x;
    }
  out[0] = '\0';
  for (int i = 0; i < n; i++)
    snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? "," : "",
             v[i]);
  return out;
}

static const tl_insight *find(const tl_snapshot *s, const char *id) {
  for (int i = 0; i < s->ninsights; i++)
    if (!strcmp(s->insights[i].id, id))
      return &s->insights[i];
  return NULL;
}

typedef struct expect {
  const rec_scenario *rec;
  const char *with_runq; /* insights when the kernel accounts run-queue wait */
  const char *without_runq; /* when it does not */
} expect;

static const expect cases[] = {
    {&idle, "", "no_runqueue"},
    {&plaintext, "", "no_runqueue"},
    /* 16 busy workers on 2 cores: take turns, hop between cores. */
    {&oversub, "migrations,oversubscribed",
     "migrations,no_runqueue,oversubscribed"},
    /* The same run, a period in which the loop thread fell behind too. */
    {&oversub_late_loop, "loop_lag,migrations,oversubscribed",
     "loop_lag,migrations,no_runqueue,oversubscribed"},
    /* As many busy workers as cores: no oversubscription, few moves. */
    {&cpu2, "", "no_runqueue"},
    /* 4 pinned on 2 cores: oversubscribed, no moves. One instant of 4
     * runnable threads is too weak a sign without run-queue wait. */
    {&pin4p, "oversubscribed", "no_runqueue"},
    {&asynccpu, "loop_blocked", "loop_blocked,no_runqueue"},
    /* Workers asleep in IO steps: more workers would help. */
    {&io, "pool_saturated", "no_runqueue,pool_saturated"},
};

START_TEST(each_fires_in_its_scenario_only) {
  const expect *e = &cases[_i];
  built b;
  tl_snapshot *s = build(&b, e->rec, true);
  tl_insights_derive(s);
  ck_assert_msg(!strcmp(ids(s), e->with_runq), "%s: insights [%s], want [%s]",
                e->rec->name, ids(s), e->with_runq);
  s = build(&b, e->rec, false);
  tl_insights_derive(s);
  ck_assert_msg(!strcmp(ids(s), e->without_runq),
                "%s without run-queue wait: insights [%s], want [%s]",
                e->rec->name, ids(s), e->without_runq);
}
END_TEST

/* Every insight's evidence is a JSON object and its text is not empty. */
START_TEST(evidence_is_json) {
  for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
    for (int runq = 0; runq < 2; runq++) {
      built b;
      tl_snapshot *s = build(&b, cases[c].rec, runq);
      tl_insights_derive(s);
      for (int i = 0; i < s->ninsights; i++) {
        const tl_insight *in = &s->insights[i];
        ck_assert_msg(in->text[0] != '\0', "%s: empty text", in->id);
        tj *j = tj_parse(in->evidence, strlen(in->evidence));
        ck_assert_msg(j && j->type == TJ_OBJ, "%s/%s: evidence is not JSON: %s",
                      cases[c].rec->name, in->id, in->evidence);
        tj_release(j);
      }
    }
}
END_TEST

/* Oversubscribed, the workers hold tasks all the time and the queue
 * waits: what "pool saturated" looks at. Its remedy (more workers) would
 * make things worse, so it stays quiet and the oversubscription speaks. */
START_TEST(no_more_workers_when_cores_are_the_limit) {
  built b;
  tl_snapshot *s = build(&b, &oversub, true);
  double busy = 0;
  int workers = 0;
  for (int i = 0; i < s->nthreads; i++)
    if (s->threads[i].role == TL_ROLE_WORKER) {
      busy += s->threads[i].busy_pct;
      workers++;
    }
  ck_assert_msg(busy / workers >= 80 && oversub.qwait_p50_us >= 1000,
                "the recording no longer looks saturated");
  tl_insights_derive(s);
  ck_assert_ptr_null(find(s, "pool_saturated"));
  const tl_insight *in = find(s, "oversubscribed");
  ck_assert_ptr_nonnull(in);
  ck_assert_ptr_nonnull(strstr(in->text, "more runnable threads than cores"));
  tj *ev = tj_parse(in->evidence, strlen(in->evidence));
  ck_assert_int_eq((int) tj_num(ev, "cores", 0), 2);
  ck_assert(tj_num(ev, "runnable_avg", 0) > 10);
  ck_assert(tj_num(ev, "runq_wait_ms", 0) > tj_num(ev, "run_ms", 0));
  tj_release(ev);
}
END_TEST

/* The loop fell 114 ms behind while its thread waited for a core: the
 * text says so instead of "something kept the loop busy". */
START_TEST(late_loop_says_it_waited_for_a_core) {
  built b;
  tl_snapshot *s = build(&b, &oversub_late_loop, true);
  tl_insights_derive(s);
  const tl_insight *in = find(s, "loop_lag");
  ck_assert_ptr_nonnull(in);
  ck_assert_msg(strstr(in->text, "waited for a core") != NULL, "%s", in->text);
  /* Without run-queue wait it cannot tell. */
  s = build(&b, &oversub_late_loop, false);
  tl_insights_derive(s);
  in = find(s, "loop_lag");
  ck_assert_ptr_nonnull(in);
  ck_assert_ptr_null(strstr(in->text, "waited for a core"));
}
END_TEST

/* The same CPU demand on one allowed core (taskset -c 0) is judged
 * against that core, not against the machine's. */
START_TEST(cores_are_the_allowed_ones) {
  built b;
  tl_snapshot *s = build(&b, &cpu2, true);
  tl_insights_derive(s);
  ck_assert_ptr_null(find(s, "oversubscribed"));
  s = build(&b, &cpu2, true);
  s->cpus_allowed = 1;
  tl_insights_derive(s);
  ck_assert_ptr_nonnull(find(s, "oversubscribed"));
}
END_TEST

/* A silent kernel: the reason and what would turn it on are shown. */
START_TEST(silent_kernel_says_why) {
  built b;
  tl_snapshot *s = build(&b, &idle, false);
  tl_insights_derive(s);
  const tl_insight *in = find(s, "no_runqueue");
  ck_assert_ptr_nonnull(in);
  ck_assert_str_eq(in->level, "info");
  ck_assert_ptr_nonnull(strstr(in->text, b.probe.why));
}
END_TEST

int main(void) {
  Suite *s = suite_create("insights_calibrated");
  TCase *tc = tcase_create("insights_calibrated");
  tcase_add_loop_test(tc, each_fires_in_its_scenario_only, 0,
                      (int) (sizeof(cases) / sizeof(cases[0])));
  tcase_add_test(tc, evidence_is_json);
  tcase_add_test(tc, no_more_workers_when_cores_are_the_limit);
  tcase_add_test(tc, late_loop_says_it_waited_for_a_core);
  tcase_add_test(tc, cores_are_the_allowed_ones);
  tcase_add_test(tc, silent_kernel_says_why);
  suite_add_tcase(s, tc);
  return tl_check_run(s);
}
