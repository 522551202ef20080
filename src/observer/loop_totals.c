#include "config.h"

#include "observer/loop_totals.h"

#include "core/server.h"

#include <string.h>

static uint64_t ld(const _Atomic uint64_t *v) {
  return atomic_load_explicit(v, memory_order_relaxed);
}

void tl_loop_totals(const tl_server *srv, tl_loop_counters *sum,
                    tl_loop_prev *prev, tl_loop_snap *out, int *n,
                    double period_s) {
  memset(sum, 0, sizeof(*sum));
  int nl = srv->nloops < TL_SNAP_MAX_LOOPS ? srv->nloops : TL_SNAP_MAX_LOOPS;
  for (int k = 0; k < nl; k++) {
    const tl_loop *l = &srv->loops[k];
    const tl_loop_counters *c = &l->stats;
    tl_loop_counters_add(sum, c);
    tl_loop_snap *o = &out[k];
    tl_loop_prev *p = &prev[k];
    memset(o, 0, sizeof(*o));
    o->index = k;
    o->tid = l->thread.tid; /* set before the loop's thread started serving */
    o->open = ld(&c->open);
    o->accepted = ld(&c->accepted);
    o->requests = ld(&c->requests);
    o->requests_rate = p->seen && period_s > 0
                           ? (double) (o->requests - p->requests) / period_s
                           : 0;
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
