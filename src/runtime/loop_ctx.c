/* Sums and copies of a loop's counters (runtime/loop_ctx.h): the observer
 * adds the loops of its process, a worker process adds its loops into its
 * scoreboard slot, the supervisor adds its workers' slots. */
#include "config.h"

#include "runtime/loop_ctx.h"

#include <assert.h>
#include <stddef.h>

static uint64_t ld(const _Atomic uint64_t *v) {
  return atomic_load_explicit(v, memory_order_relaxed);
}

static void st(_Atomic uint64_t *v, uint64_t x) {
  atomic_store_explicit(v, x, memory_order_relaxed);
}

static void add(_Atomic uint64_t *dst, const _Atomic uint64_t *src) {
  st(dst, ld(dst) + ld(src));
}

static void add_hist(tl_hist *dst, const tl_hist *src) {
  for (int i = 0; i < TL_HIST_BUCKETS; i++)
    add(&dst->bucket[i], &src->bucket[i]);
  add(&dst->count, &src->count);
  add(&dst->sum, &src->sum);
  if (ld(&src->max) > ld(&dst->max))
    st(&dst->max, ld(&src->max));
}

void tl_loop_counters_add(tl_loop_counters *d, const tl_loop_counters *c) {
  add(&d->accepted, &c->accepted);
  add(&d->refused, &c->refused);
  add(&d->open, &c->open);
  add(&d->requests, &c->requests);
  for (int i = 0; i < 6; i++)
    add(&d->by_class[i], &c->by_class[i]);
  for (int r = 0; r < TL_ROUTE_COUNT; r++) {
    add(&d->by_route[r], &c->by_route[r]);
    add_hist(&d->route_latency_us[r], &c->route_latency_us[r]);
  }
  add(&d->rejected, &c->rejected);
  add(&d->send_submits, &c->send_submits);
  add(&d->send_writes, &c->send_writes);
  add_hist(&d->latency_us, &c->latency_us);
  add_hist(&d->queue_wait_us, &c->queue_wait_us);
  add_hist(&d->loop_lag_us, &c->loop_lag_us);
  add(&d->loop_idle_ns, &c->loop_idle_ns);
  add(&d->inflight, &c->inflight);
  add(&d->block_seq, &c->block_seq);
  if (ld(&c->block_seq) && ld(&c->block_us) >= ld(&d->block_us)) {
    st(&d->block_task, ld(&c->block_task));
    st(&d->block_us, ld(&c->block_us));
    st(&d->block_route, ld(&c->block_route));
  }
}

/* Every member is an _Atomic uint64_t (histograms too): copy it as words. */
static_assert(sizeof(tl_loop_counters) % sizeof(uint64_t) == 0,
              "tl_loop_counters is made of 64-bit words");

void tl_loop_counters_copy(tl_loop_counters *dst, const tl_loop_counters *src) {
  _Atomic uint64_t *d = (_Atomic uint64_t *) dst;
  const _Atomic uint64_t *s = (const _Atomic uint64_t *) src;
  for (size_t i = 0; i < sizeof(*dst) / sizeof(uint64_t); i++)
    st(&d[i], ld(&s[i]));
}
