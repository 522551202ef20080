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
    snprintf(in->text, sizeof(in->text),
             "the event loop was blocked %llu ms by task %llu (%s): while a CPU "
             "step runs on the loop thread, no other connection is served",
             (unsigned long long) (s->block_us / 1000),
             (unsigned long long) s->block_task,
             tl_route_name((tl_route) s->block_route));
    snprintf(in->evidence, sizeof(in->evidence),
             "{\"task\":%llu,\"route\":\"%s\",\"blocked_ms\":%llu,\"lag_max_ms\":%.1f}",
             (unsigned long long) s->block_task,
             tl_route_name((tl_route) s->block_route),
             (unsigned long long) (s->block_us / 1000), lag.max / 1000.0);
  } else if (lag.count && lag.max >= 100000 && (in = add(s, "warn", "loop_lag"))) {
    snprintf(in->text, sizeof(in->text),
             "the event loop ran %.0f ms late: something kept the loop thread busy",
             lag.max / 1000.0);
    snprintf(in->evidence, sizeof(in->evidence), "{\"lag_max_ms\":%.1f}",
             lag.max / 1000.0);
  }
}

static void cpu_insights(tl_snapshot *s) {
  double runq = 0, oncpu = 0, invol = 0;
  int hot = 0;
  for (int i = 0; i < s->nthreads; i++) {
    const tl_thread_snap *t = &s->threads[i];
    runq += t->runq_delta_s;
    oncpu += t->oncpu_delta_s;
    invol += t->ctx_invol_rate;
    if (t->cpu_pct >= 50.0 || (t->has_runq && t->runq_wait_pct >= 25.0))
      hot++;
  }
  double period_s = s->period_ms / 1000.0;
  tl_insight *in;
  if (s->runq_accounted && oncpu > 0.05 * period_s && runq > oncpu &&
      (in = add(s, "warn", "runqueue"))) {
    snprintf(in->text, sizeof(in->text),
             "more runnable threads than cores: run-queue wait (%.0f ms) exceeds "
             "run time (%.0f ms) over the last period",
             runq * 1000, oncpu * 1000);
    snprintf(in->evidence, sizeof(in->evidence),
             "{\"runq_wait_ms\":%.1f,\"run_ms\":%.1f,\"ncpu\":%d}", runq * 1000,
             oncpu * 1000, s->ncpu);
  } else if (hot > s->ncpu && (in = add(s, "warn", "oversubscribed"))) {
    snprintf(in->text, sizeof(in->text),
             "%d threads want CPU on %d cores: the scheduler makes them take "
             "turns (%.0f involuntary switches/s)",
             hot, s->ncpu, invol);
    snprintf(in->evidence, sizeof(in->evidence),
             "{\"busy_threads\":%d,\"ncpu\":%d,\"involuntary_per_s\":%.1f}", hot,
             s->ncpu, invol);
  }
  if (!s->runq_accounted && (in = add(s, "info", "no_runqueue"))) {
    snprintf(in->text, sizeof(in->text), "run-queue wait is not measured: %s",
             s->runq_probe && s->runq_probe->why ? s->runq_probe->why
                                                 : "the self-test did not run");
    snprintf(in->evidence, sizeof(in->evidence), "{\"task_delayacct\":%d}",
             s->task_delayacct);
  }
}

static void pool_insights(tl_snapshot *s) {
  tl_hist_summary q;
  tl_hist_summarize(s->qwait_period, &q);
  tl_insight *in;
  if (s->rejected_delta > 0 && (in = add(s, "warn", "queue_full"))) {
    snprintf(in->text, sizeof(in->text),
             "the task queue was full: %llu requests got 503 in the last period",
             (unsigned long long) s->rejected_delta);
    snprintf(in->evidence, sizeof(in->evidence),
             "{\"rejected\":%llu,\"queue_max\":%llu}",
             (unsigned long long) s->rejected_delta,
             (unsigned long long) s->queue_max);
  }
  /* Wait longer in the queue than the work takes: more workers would help
   * (or a mode that does not hold a worker during IO). */
  double busy = 0;
  int workers = 0;
  for (int i = 0; i < s->nthreads; i++)
    if (s->threads[i].role == TL_ROLE_WORKER) {
      busy += s->threads[i].busy_pct;
      workers++;
    }
  if (q.count > 0 && q.p50 >= 1000 && workers > 0 &&
      busy / workers >= 80.0 && (in = add(s, "warn", "pool_saturated"))) {
    snprintf(in->text, sizeof(in->text),
             "pool saturated: %d workers are %.0f%% busy and tasks wait %.1f ms "
             "(p50) in the queue, %llu waiting now",
             workers, busy / workers, q.p50 / 1000.0,
             (unsigned long long) s->queue_depth);
    snprintf(in->evidence, sizeof(in->evidence),
             "{\"workers\":%d,\"busy_pct\":%.1f,\"queue_wait_p50_ms\":%.2f,\"queue_depth\":%llu}",
             workers, busy / workers, q.p50 / 1000.0,
             (unsigned long long) s->queue_depth);
  }
}

static void migration_insights(tl_snapshot *s) {
  int shown = 0;
  for (int i = 0; i < s->nthreads && shown < 3; i++) {
    const tl_thread_snap *t = &s->threads[i];
    if (t->role != TL_ROLE_WORKER || !t->has_migrations ||
        t->migrations_delta < 10)
      continue;
    tl_insight *in = add(s, s->pinned ? "info" : "warn", "migrations");
    if (!in)
      return;
    shown++;
    snprintf(in->text, sizeof(in->text),
             "worker %d migrated %llu times in %.1f s (%s)", t->index,
             (unsigned long long) t->migrations_delta, s->period_ms / 1000.0,
             s->pinned ? "pinned: moves should stop" : "not pinned");
    snprintf(in->evidence, sizeof(in->evidence),
             "{\"tid\":%d,\"migrations\":%llu,\"period_ms\":%.0f,\"pinned\":%s}",
             t->tid, (unsigned long long) t->migrations_delta, s->period_ms,
             s->pinned ? "true" : "false");
  }
}

void tl_insights_derive(tl_snapshot *s) {
  s->ninsights = 0;
  loop_insights(s);
  pool_insights(s);
  cpu_insights(s);
  migration_insights(s);
}
