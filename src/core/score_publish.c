#include "config.h"

#include "core/score_publish.h"

#include "base/util.h"
#include "runtime/pool.h"
#include "core/server.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct tl_score_pub {
  tl_loop_counters sum; /* scratch: the slot never shows a half-made sum */
};

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

void tl_score_add_counters(tl_loop_counters *d, const tl_loop_counters *c) {
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

void tl_score_copy_counters(tl_loop_counters *dst,
                            const tl_loop_counters *src) {
  _Atomic uint64_t *d = (_Atomic uint64_t *) dst;
  const _Atomic uint64_t *s = (const _Atomic uint64_t *) src;
  for (size_t i = 0; i < sizeof(*dst) / sizeof(uint64_t); i++)
    st(&d[i], ld(&s[i]));
}

tl_score_pub *tl_score_pub_init(void) {
  return tl_xcalloc(1, sizeof(tl_score_pub));
}

void tl_score_pub_close(tl_score_pub *p) { free(p); }

static void publish_threads(const tl_server *srv, tl_score_slot *slot) {
  int n = 0;
  pthread_mutex_lock(&srv->registry->mu);
  for (tl_thread_ctx *c = srv->registry->head; c && n < TL_SCORE_THREADS;
       c = c->next, n++) {
    tl_score_thread *t = &slot->threads[n];
    atomic_store_explicit(&t->tid, c->tid, memory_order_relaxed);
    atomic_store_explicit(&t->role, (int) c->role, memory_order_relaxed);
    atomic_store_explicit(&t->index, c->index, memory_order_relaxed);
    st(&t->tasks, ld(&c->tasks));
    st(&t->steps, ld(&c->steps));
    st(&t->busy_ns, ld(&c->busy_ns));
    st(&t->doing, ld(&c->doing));
    st(&t->coro_switches, ld(&c->coro_switches));
    st(&t->in_flight, ld(&c->in_flight));
    st(&t->created_ns, ld(&c->created_ns));
    st(&t->first_run_ns, ld(&c->first_run_ns));
  }
  pthread_mutex_unlock(&srv->registry->mu);
  for (int i = n; i < atomic_load_explicit(&slot->nthreads, memory_order_relaxed); i++)
    atomic_store_explicit(&slot->threads[i].tid, 0, memory_order_relaxed);
  atomic_store_explicit(&slot->nthreads, n, memory_order_relaxed);
}

void tl_score_publish(tl_score_pub *p, const tl_server *srv,
                      tl_score_slot *slot) {
  memset(&p->sum, 0, sizeof(p->sum));
  for (int k = 0; k < srv->nloops; k++)
    tl_score_add_counters(&p->sum, &srv->loops[k].stats);
  tl_score_copy_counters(&slot->sums, &p->sum);
  atomic_store_explicit(&slot->nloops, srv->nloops, memory_order_relaxed);
  st(&slot->queue_depth, srv->pool ? tl_pool_depth(srv->pool) : 0);
  st(&slot->main_start_ns, tl_thread_main_start_ns());
  publish_threads(srv, slot);
}
