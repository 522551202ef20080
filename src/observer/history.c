#include "config.h"

#include "observer/history.h"

#include "base/mode.h"
#include "base/util.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Observer thread only. */
struct tl_history {
  tl_history_period *ring;
  int capacity;
  uint64_t pushed; /* periods ever pushed */
  bool has_prev_errors;
  uint64_t prev_errors; /* 4xx + 5xx at the previous record */
};

tl_history *tl_history_init(int sample_ms) {
  tl_history *h = tl_xcalloc(1, sizeof(*h));
  if (sample_ms < 1)
    sample_ms = 1;
  long cap = (TL_HISTORY_SECONDS * 1000L + sample_ms - 1) / sample_ms + 1;
  h->capacity =
      cap > TL_HISTORY_MAX_PERIODS ? TL_HISTORY_MAX_PERIODS : (int) cap;
  h->ring = tl_xcalloc((size_t) h->capacity, sizeof(*h->ring));
  return h;
}

void tl_history_close(tl_history *h) {
  if (!h)
    return;
  free(h->ring);
  free(h);
}

int tl_history_capacity(const tl_history *h) { return h->capacity; }

int tl_history_count(const tl_history *h) {
  return h->pushed < (uint64_t) h->capacity ? (int) h->pushed : h->capacity;
}

size_t tl_history_bytes(const tl_history *h) {
  return sizeof(*h) + (size_t) h->capacity * sizeof(*h->ring);
}

const tl_history_period *tl_history_at(const tl_history *h, int i) {
  uint64_t first = h->pushed - (uint64_t) tl_history_count(h);
  return &h->ring[(first + (uint64_t) i) % (uint64_t) h->capacity];
}

void tl_history_push(tl_history *h, const tl_history_period *p) {
  h->ring[h->pushed % (uint64_t) h->capacity] = *p;
  h->pushed++;
}

static uint8_t pct_byte(bool has, double v) {
  if (!has || !isfinite(v))
    return TL_HISTORY_NO_PCT;
  if (v < 0)
    return 0;
  return v > 100 ? 100 : (uint8_t) (v + 0.5);
}

/* p50 / p90 / p99 in ms of a period histogram (in us); NAN when empty. */
static void percentiles(const tl_hist_snap *hs, float *p50, float *p90,
                        float *p99) {
  tl_hist_summary sum;
  tl_hist_summarize(hs, &sum);
  bool has = sum.count > 0;
  if (p50)
    *p50 = has ? (float) (sum.p50 / 1e3) : NAN;
  if (p90)
    *p90 = has ? (float) (sum.p90 / 1e3) : NAN;
  if (p99)
    *p99 = has ? (float) (sum.p99 / 1e3) : NAN;
}

static void record_threads(tl_history_period *p, const tl_snapshot *s) {
  for (int i = 0; i < s->ncores && i < TL_HISTORY_MAX_CORES; i++) {
    const tl_core_snap *c = &s->cores[i];
    p->core_busy_pct[i] = pct_byte(true, c->user_pct + c->sys_pct + c->irq_pct);
    p->ncores = (uint8_t) (i + 1);
  }
  memset(p->worker_cpu_pct, TL_HISTORY_NO_PCT, sizeof(p->worker_cpu_pct));
  memset(p->worker_on_cpu_pct, TL_HISTORY_NO_PCT, sizeof(p->worker_on_cpu_pct));
  memset(p->worker_runq_pct, TL_HISTORY_NO_PCT, sizeof(p->worker_runq_pct));
  for (int i = 0; i < s->nthreads; i++) {
    const tl_thread_snap *t = &s->threads[i];
    if (t->role != TL_ROLE_WORKER || t->index < 0 ||
        t->index >= TL_HISTORY_MAX_WORKERS)
      continue;
    p->worker_cpu_pct[t->index] = pct_byte(true, t->cpu_pct);
    p->worker_on_cpu_pct[t->index] = pct_byte(t->has_period, t->on_cpu_pct);
    p->worker_runq_pct[t->index] =
        pct_byte(t->has_period && t->has_runq, t->runq_pct);
    if (t->index + 1 > p->nworkers)
      p->nworkers = (uint8_t) (t->index + 1);
  }
}

void tl_history_record(tl_history *h, const tl_snapshot *s) {
  tl_history_period p;
  memset(&p, 0, sizeof(p));
  p.seq = s->seq;
  p.time_ms = s->time_ms;
  p.period_ms = (float) s->period_ms;
  p.requests_rate = (float) s->requests_rate;
  uint64_t errors = s->by_class[4] + s->by_class[5];
  p.errors_rate = NAN;
  if (h->has_prev_errors && errors >= h->prev_errors && s->period_ms > 0)
    p.errors_rate =
        (float) ((double) (errors - h->prev_errors) * 1e3 / s->period_ms);
  h->prev_errors = errors;
  h->has_prev_errors = true;
  percentiles(s->lat_period, &p.lat_p50, &p.lat_p90, &p.lat_p99);
  for (int r = 0; r < TL_ROUTE_COUNT; r++) {
    p.route_rate[r] = (float) s->by_route_rate[r];
    percentiles(&s->route_period[r], &p.route_p50[r], NULL, &p.route_p99[r]);
  }
  p.queue_depth = (float) s->queue_depth;
  tl_hist_summary lag;
  tl_hist_summarize(s->lag_period, &lag);
  p.lag_p50 = lag.count > 0 ? (float) (lag.p50 / 1e3) : NAN;
  p.lag_p99 = lag.count > 0 ? (float) (lag.p99 / 1e3) : NAN;
  p.lag_max = lag.count > 0 ? (float) (lag.max / 1e3) : NAN;
  p.loop_util_pct = s->has_loop_util ? (float) s->loop_util_pct : NAN;
  bool coro = s->mode == TL_MODE_CORO;
  p.coro_alive = coro ? (float) s->coro.alive : NAN;
  p.coro_runnable = coro ? (float) s->coro.runnable : NAN;
  record_threads(&p, s);
  tl_history_push(h, &p);
}
