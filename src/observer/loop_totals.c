#include "config.h"

#include "observer/loop_totals.h"

#include "core/server.h"

#include <string.h>

static uint64_t ld(const _Atomic uint64_t *v) {
  return atomic_load_explicit(v, memory_order_relaxed);
}

/* dst is the observer's own scratch: plain stores are enough. */
static void add(_Atomic uint64_t *dst, const _Atomic uint64_t *src) {
  atomic_store_explicit(dst, ld(dst) + ld(src), memory_order_relaxed);
}

static void add_hist(tl_hist *dst, const tl_hist *src) {
  for (int i = 0; i < TL_HIST_BUCKETS; i++)
    add(&dst->bucket[i], &src->bucket[i]);
  add(&dst->count, &src->count);
  add(&dst->sum, &src->sum);
  if (ld(&src->max) > ld(&dst->max))
    atomic_store_explicit(&dst->max, ld(&src->max), memory_order_relaxed);
}

/* The plain counters (requests, connections, ...) are summed by
 * sampler_server's table, one row each: here the rest. */
static void add_counters(tl_loop_counters *d, const tl_loop_counters *c) {
  for (int r = 0; r < TL_ROUTE_COUNT; r++)
    add_hist(&d->route_latency_us[r], &c->route_latency_us[r]);
  add_hist(&d->latency_us, &c->latency_us);
  add_hist(&d->queue_wait_us, &c->queue_wait_us);
  add_hist(&d->loop_lag_us, &c->loop_lag_us);
  add(&d->loop_idle_ns, &c->loop_idle_ns);
  /* The sequence sums (it changes when any loop's does); the block shown
   * is the longest of the loops' latest ones. */
  uint64_t seq = atomic_load_explicit(&c->block_seq, memory_order_acquire);
  add(&d->block_seq, &c->block_seq);
  if (seq && ld(&c->block_us) >= ld(&d->block_us)) {
    atomic_store_explicit(&d->block_task, ld(&c->block_task), memory_order_relaxed);
    atomic_store_explicit(&d->block_us, ld(&c->block_us), memory_order_relaxed);
    atomic_store_explicit(&d->block_route, ld(&c->block_route), memory_order_relaxed);
  }
}

void tl_loop_totals(const tl_server *srv, tl_loop_counters *sum,
                    tl_loop_prev *prev, tl_loop_snap *out, int *n,
                    double period_s) {
  memset(sum, 0, sizeof(*sum));
  int nl = srv->nloops < TL_SNAP_MAX_LOOPS ? srv->nloops : TL_SNAP_MAX_LOOPS;
  for (int k = 0; k < nl; k++) {
    const tl_loop *l = &srv->loops[k];
    const tl_loop_counters *c = &l->stats;
    add_counters(sum, c);
    tl_loop_snap *o = &out[k];
    tl_loop_prev *p = &prev[k];
    memset(o, 0, sizeof(*o));
    o->index = k;
    o->tid = l->thread.tid; /* set before the loop's thread started serving */
    o->open = ld(&c->open);
    o->accepted = ld(&c->accepted);
    o->requests = ld(&c->requests);
    o->requests_rate = p->seen && period_s > 0
                           ? (double) (o->requests - p->requests) / period_s : 0;
    tl_hist_snap now, diff;
    tl_hist_read(&c->loop_lag_us, &now);
    tl_hist_diff(&now, &p->lag, &diff);
    tl_hist_summarize(&diff, &o->lag_ms_period);
    uint64_t idle = ld(&c->loop_idle_ns);
    o->has_util = p->seen && idle >= p->idle_ns && period_s > 0;
    if (o->has_util) {
      double u = 100.0 * (1.0 - (double) (idle - p->idle_ns) / 1e9 / period_s);
      o->util_pct = u < 0 ? 0 : u > 100 ? 100 : u;
    }
    p->requests = o->requests;
    p->idle_ns = idle;
    p->lag = now;
    p->seen = true;
  }
  *n = nl;
}
