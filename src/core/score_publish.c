#include "config.h"

#include "core/score_publish.h"

#include "base/util.h"
#include "exec/shared_steps.h"
#include "runtime/pool.h"
#include "core/server.h"

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

tl_score_pub *tl_score_pub_init(void) {
  return tl_xcalloc(1, sizeof(tl_score_pub));
}

void tl_score_pub_close(tl_score_pub *p) { free(p); }

static void publish_threads(const tl_server *srv, tl_score_slot *slot) {
  int n = 0;
  uint64_t now = tl_now_ns();
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
    tl_shared_thread_read lk = {.wants = -1};
    tl_shared_thread_lock_state(c->tid, now, &lk);
    st(&t->lock_wait_ns, lk.lock_wait_ns);
    st(&t->lock_wait_since_ns, lk.wants >= 0 ? lk.wait_since_ns : 0);
    atomic_store_explicit(&t->lock_wants, lk.wants + 1, memory_order_relaxed);
  }
  pthread_mutex_unlock(&srv->registry->mu);
  for (int i = n;
       i < atomic_load_explicit(&slot->nthreads, memory_order_relaxed); i++)
    atomic_store_explicit(&slot->threads[i].tid, 0, memory_order_relaxed);
  atomic_store_explicit(&slot->nthreads, n, memory_order_relaxed);
}

void tl_score_publish(tl_score_pub *p, const tl_server *srv,
                      tl_score_slot *slot) {
  memset(&p->sum, 0, sizeof(p->sum));
  for (int k = 0; k < srv->nloops; k++)
    tl_loop_counters_add(&p->sum, &srv->loops[k].stats);
  tl_loop_counters_copy(&slot->sums, &p->sum);
  atomic_store_explicit(&slot->nloops, srv->nloops, memory_order_relaxed);
  st(&slot->queue_depth, srv->pool ? tl_pool_depth(srv->pool) : 0);
  st(&slot->main_start_ns, tl_thread_main_start_ns());
  publish_threads(srv, slot);
}
