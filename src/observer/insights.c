/* Plain-language warnings derived from one snapshot, each with the
 * numbers that triggered it. Thresholds are deliberately simple. */
#include "config.h"

#include "base/mode.h"
#include "observer/insights.h"

#include <stdio.h>
#include <string.h>

static tl_insight *add(tl_snapshot *s, const char *level, const char *id) {
  if (s->ninsights >= TL_SNAP_MAX_INSIGHTS)
    return NULL;
  tl_insight *in = &s->insights[s->ninsights++];
  memset(in, 0, sizeof(*in));
  in->level = level;
  in->id = id;
  return in;
}

static void loop_insights(tl_snapshot *s) {
  tl_hist_summary lag;
  tl_hist_summarize(s->lag_period, &lag);
  tl_insight *in;
  /* Kept for a few seconds, so that a reader polling /stats sees it. */
  if (s->block_age_ms >= 0 && s->block_age_ms < 5000 &&
      (in = add(s, "warn", "loop_blocked"))) {
    snprintf(
        in->text, sizeof(in->text),
        "the event loop was blocked %llu ms by task %llu (%s): while a CPU "
        "step runs on the loop thread, no other connection is served",
        (unsigned long long) (s->block_us / 1000),
        (unsigned long long) s->block_task,
        tl_route_name((tl_route) s->block_route));
    snprintf(in->evidence, sizeof(in->evidence),
             "{\"task\":%llu,\"route\":\"%s\",\"blocked_ms\":%llu,\"lag_max_"
             "ms\":%.1f}",
             (unsigned long long) s->block_task,
             tl_route_name((tl_route) s->block_route),
             (unsigned long long) (s->block_us / 1000), lag.max / 1000.0);
  } else if (lag.count && lag.max >= 100000 &&
             (in = add(s, "warn", "loop_lag"))) {
    /* Late because busy, or because ready but without a core? */
    const tl_thread_snap *loop = NULL;
    for (int i = 0; i < s->nthreads && !loop; i++)
      if (s->threads[i].role == TL_ROLE_LOOP)
        loop = &s->threads[i];
    bool waited = loop && loop->has_period && loop->has_runq &&
                  loop->runq_pct > loop->on_cpu_pct;
    if (waited)
      snprintf(
          in->text, sizeof(in->text),
          "the event loop ran %.0f ms late: its thread was ready but waited "
          "for a core (%.0f%% of the period waiting, %.0f%% on a core)",
          lag.max / 1000.0, loop->runq_pct, loop->on_cpu_pct);
    else
      snprintf(in->text, sizeof(in->text),
               "the event loop ran %.0f ms late: something kept the loop "
               "thread busy",
               lag.max / 1000.0);
    snprintf(
        in->evidence, sizeof(in->evidence),
        "{\"lag_max_ms\":%.1f,\"loop_on_cpu_pct\":%.1f,\"loop_runq_pct\":%.1f}",
        lag.max / 1000.0, loop && loop->has_period ? loop->on_cpu_pct : 0.0,
        loop && loop->has_runq ? loop->runq_pct : 0.0);
  }
}

/* Our threads' demand for cores over the period, from schedstat: the
 * average number that ran and that waited, ready, for a core. */
typedef struct cpu_demand {
  int cores;      /* cores the process may use */
  bool measured;  /* the kernel accounts run-queue wait */
  double running; /* sum of on-core shares: cores' worth of running */
  double waiting; /* sum of run-queue shares: threads' worth waiting */
  double run_ms, wait_ms;
  int runnable_now; /* threads in state R at the sample, but the sampler */
  double invol;     /* involuntary switches per second */
  double workers_on, workers_wait, workers_busy; /* worker averages, % */
  int workers;
  bool oversubscribed;
} cpu_demand;

static void measure_demand(const tl_snapshot *s, cpu_demand *d) {
  memset(d, 0, sizeof(*d));
  d->cores = s->cpus_allowed > 0 ? s->cpus_allowed : s->ncpu;
  if (d->cores < 1)
    d->cores = 1;
  d->measured = s->runq_accounted;
  for (int i = 0; i < s->nthreads; i++) {
    const tl_thread_snap *t = &s->threads[i];
    d->invol += t->ctx_invol_rate;
    d->run_ms += t->oncpu_delta_s * 1000;
    d->wait_ms += t->runq_delta_s * 1000;
    if (t->has_period) {
      d->running += t->on_cpu_pct / 100.0;
      if (t->has_runq)
        d->waiting += t->runq_pct / 100.0;
    }
    if (t->state == 'R' && t->role != TL_ROLE_OBSERVER)
      d->runnable_now++;
    if (t->role == TL_ROLE_WORKER) {
      d->workers++;
      d->workers_busy += t->busy_pct;
      d->workers_on += t->on_cpu_pct;
      d->workers_wait += t->runq_pct;
    }
  }
  if (d->workers) {
    d->workers_busy /= d->workers;
    d->workers_on /= d->workers;
    d->workers_wait /= d->workers;
  }
  /* More runnable threads than cores: on average half as many again as
   * there are cores wanted one, and at least a thread's worth waited. A
   * busy neighbour process makes our threads wait too, but cannot make
   * more of ours runnable, so external load alone does not fire it.
   * Measured here (2 cores): 16 CPU-bound workers 16-17 threads' worth,
   * 4 of them about 4.4, 2 of them 2.2-2.3, plaintext 1.2. Without
   * run-queue wait, the threads runnable at the sample. */
  double want = 1.5 * d->cores > d->cores + 1 ? 1.5 * d->cores : d->cores + 1;
  if (d->measured)
    d->oversubscribed = d->running + d->waiting >= want && d->waiting >= 1.0;
  else /* one instant only: ask for clearly more than twice the cores */
    d->oversubscribed = d->runnable_now > 2 * d->cores && d->invol > 0;
}

static void cpu_insights(tl_snapshot *s, const cpu_demand *d) {
  tl_insight *in;
  if (d->oversubscribed && d->measured &&
      (in = add(s, "warn", "oversubscribed"))) {
    snprintf(
        in->text, sizeof(in->text),
        "more runnable threads than cores: on average %.1f threads wanted "
        "%d core%s and %.1f of them waited for one (run-queue wait %.0f ms "
        "vs run time %.0f ms over the period); the scheduler makes them "
        "take turns",
        d->running + d->waiting, d->cores, d->cores == 1 ? "" : "s", d->waiting,
        d->wait_ms, d->run_ms);
    snprintf(in->evidence, sizeof(in->evidence),
             "{\"runnable_avg\":%.2f,\"waiting_avg\":%.2f,\"cores\":%d,"
             "\"runq_wait_ms\":%.1f,\"run_ms\":%.1f,\"runnable_now\":%d,"
             "\"involuntary_per_s\":%.1f}",
             d->running + d->waiting, d->waiting, d->cores, d->wait_ms,
             d->run_ms, d->runnable_now, d->invol);
  } else if (d->oversubscribed && (in = add(s, "warn", "oversubscribed"))) {
    snprintf(in->text, sizeof(in->text),
             "more runnable threads than cores: %d threads were runnable on %d "
             "core%s at the sample (%.0f involuntary switches/s); run-queue "
             "wait itself is not measured here",
             d->runnable_now, d->cores, d->cores == 1 ? "" : "s", d->invol);
    snprintf(in->evidence, sizeof(in->evidence),
             "{\"runnable_now\":%d,\"cores\":%d,\"involuntary_per_s\":%.1f}",
             d->runnable_now, d->cores, d->invol);
  }
  const tl_schedstat_probe *p = s->runq_probe;
  if (!s->runq_accounted && (in = add(s, "info", "no_runqueue"))) {
    snprintf(in->text, sizeof(in->text), "run-queue wait is not measured: %s",
             p && p->why ? p->why : "the self-test did not run");
    snprintf(in->evidence, sizeof(in->evidence),
             "{\"self_test_run_delay_ms\":%.3f,\"self_test_oncpu_ms\":%.3f,"
             "\"task_delayacct\":%d}",
             p ? p->run_delay_ms : 0.0, p ? p->oncpu_ms : 0.0,
             s->task_delayacct);
  }
}

static void pool_insights(tl_snapshot *s, const cpu_demand *d) {
  tl_hist_summary q;
  tl_hist_summarize(s->qwait_period, &q);
  tl_insight *in;
  if (s->rejected_delta > 0 && (in = add(s, "warn", "queue_full"))) {
    snprintf(
        in->text, sizeof(in->text),
        "the task queue was full: %llu requests got 503 in the last period",
        (unsigned long long) s->rejected_delta);
    snprintf(in->evidence, sizeof(in->evidence),
             "{\"rejected\":%llu,\"queue_max\":%llu}",
             (unsigned long long) s->rejected_delta,
             (unsigned long long) s->queue_max);
  }
  /* Tasks wait longer in the queue than it takes to start them while the
   * workers hold tasks all the time. More workers help only when the
   * workers are blocked inside their tasks (sleeping), not when they are
   * on the cores or waiting for one: then the cores are the limit. */
  if (q.count == 0 || q.p50 < 1000 || d->workers == 0 || d->workers_busy < 80.0)
    return;
  /* Without run-queue wait, time off the core may be waiting for one:
   * only a clear case counts (on a core under a tenth of the time). */
  bool blocked = d->measured
                     ? d->workers_on + d->workers_wait < 0.5 * d->workers_busy
                     : d->workers_on < 0.1 * d->workers_busy;
  if (d->oversubscribed || !blocked)
    return;
  if ((in = add(s, "warn", "pool_saturated"))) {
    snprintf(
        in->text, sizeof(in->text),
        "pool saturated: %d workers hold a task %.0f%% of the time but are "
        "on a core only %.0f%% of it, and tasks wait %.1f ms (p50) in the "
        "queue, %llu waiting now: workers blocked in their tasks; more "
        "workers, or a mode that does not hold one during IO, would help",
        d->workers, d->workers_busy, d->workers_on, q.p50 / 1000.0,
        (unsigned long long) s->queue_depth);
    snprintf(in->evidence, sizeof(in->evidence),
             "{\"workers\":%d,\"busy_pct\":%.1f,\"on_cpu_pct\":%.1f,"
             "\"queue_wait_p50_ms\":%.2f,\"queue_depth\":%llu}",
             d->workers, d->workers_busy, d->workers_on, q.p50 / 1000.0,
             (unsigned long long) s->queue_depth);
  }
}

/* Moves between cores of workers that were runnable at least half the
 * period (on a core or waiting for one): those interrupt work in progress. A
 * worker that mostly sleeps moves when it wakes, which costs little, so
 * light load (plaintext) does not count. Measured here (2 cores): 16
 * CPU-bound workers move 40-60 times/s in all, 2 of them 0-4 times/s. */
#define MIGRATIONS_PER_S 10.0

static void migration_insights(tl_snapshot *s) {
  uint64_t moves = 0, most = 0;
  int busy = 0;
  const tl_thread_snap *top = NULL;
  for (int i = 0; i < s->nthreads; i++) {
    const tl_thread_snap *t = &s->threads[i];
    /* Without run-queue wait, a worker that ran or held a task half the
     * period (a waiting one shows as holding its task). */
    bool runnable = t->has_runq ? t->on_cpu_pct + t->runq_pct >= 50.0
                                : t->on_cpu_pct >= 50.0 || t->busy_pct >= 50.0;
    if (t->role != TL_ROLE_WORKER || !t->has_migrations || !t->has_period ||
        !runnable)
      continue;
    busy++;
    moves += t->migrations_delta;
    if (!top || t->migrations_delta > most) {
      top = t;
      most = t->migrations_delta;
    }
  }
  double period_s = s->period_ms / 1000.0;
  double per_s = period_s > 0 ? (double) moves / period_s : 0;
  if (!top || per_s < MIGRATIONS_PER_S)
    return;
  tl_insight *in = add(s, s->pinned ? "info" : "warn", "migrations");
  if (!in)
    return;
  if (s->pinned)
    snprintf(
        in->text, sizeof(in->text),
        "%d busy workers moved between cores %llu times in %.1f s although "
        "pinned: the pinning is not in force yet (busy workers apply it "
        "after their current task)",
        busy, (unsigned long long) moves, period_s);
  else
    snprintf(
        in->text, sizeof(in->text),
        "%d busy workers moved between cores %llu times in %.1f s (worker %d: "
        "%llu): not pinned, the scheduler places them; --pin keeps each on "
        "one core",
        busy, (unsigned long long) moves, period_s, top->index,
        (unsigned long long) most);
  snprintf(in->evidence, sizeof(in->evidence),
           "{\"migrations\":%llu,\"per_s\":%.1f,\"busy_workers\":%d,"
           "\"most\":{\"tid\":%d,\"index\":%d,\"migrations\":%llu},"
           "\"period_ms\":%.0f,\"pinned\":%s}",
           (unsigned long long) moves, per_s, busy, top->tid, top->index,
           (unsigned long long) most, s->period_ms,
           s->pinned ? "true" : "false");
}

void tl_insights_derive(tl_snapshot *s) {
  cpu_demand d;
  measure_demand(s, &d);
  s->ninsights = 0;
  loop_insights(s);
  pool_insights(s, &d);
  cpu_insights(s, &d);
  migration_insights(s);
}
