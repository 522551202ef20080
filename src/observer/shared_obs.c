/* server.shared, sampled (observer/shared_obs.h). */
#include "config.h"

#include "observer/shared_obs.h"

#include "observer/snapshot.h"

#include "base/util.h"

#include <string.h>

static void to_nodes(const tl_shared_read *r, tl_wait_node *nodes) {
  for (int i = 0; i < r->nthreads; i++) {
    nodes[i].tid = r->threads[i].tid;
    nodes[i].holds = r->threads[i].holds;
    nodes[i].wants = r->threads[i].wants;
  }
}

static void find_deadlocks(tl_shared_obs *o, uint64_t now_ns) {
  tl_deadlock_cycle cyc[TL_SHARED_MAX_DEADLOCKS];
  tl_shared_deadlock prev[TL_SHARED_MAX_DEADLOCKS];
  int nprev = o->ndeadlocks;
  memcpy(prev, o->deadlocks, sizeof(prev));
  o->ndeadlocks = 0;
  to_nodes(&o->r, o->nodes);
  int n =
      tl_deadlock_find(o->nodes, o->r.nthreads, cyc, TL_SHARED_MAX_DEADLOCKS);
  if (n > TL_SHARED_MAX_DEADLOCKS)
    n = TL_SHARED_MAX_DEADLOCKS;
  if (n == 0)
    return;
  tl_shared_read_all(&o->again, now_ns);
  now_ns = tl_now_ns(); /* confirmed now: never before the cycle closed */
  for (int i = 0; i < n; i++) {
    if (!tl_shared_cycle_confirmed(&o->r, &o->again, &cyc[i]))
      continue;
    tl_shared_deadlock *d = &o->deadlocks[o->ndeadlocks++];
    memset(d, 0, sizeof(*d));
    d->len = cyc[i].len;
    for (int k = 0; k < d->len; k++) {
      const tl_shared_thread_read *t = &o->r.threads[cyc[i].node[k]];
      d->m[k] = (tl_shared_dl_member){t->tid, t->holds, t->wants};
      if (t->wait_since_ns > d->formed_ns)
        d->formed_ns = t->wait_since_ns;
    }
    d->found_ns = now_ns;
    for (int p = 0; p < nprev; p++) /* found before: keep when */
      if (prev[p].m[0].tid == d->m[0].tid && prev[p].formed_ns == d->formed_ns)
        d->found_ns = prev[p].found_ns;
  }
}

static void period(tl_shared_obs *o, uint64_t now_ns) {
  const tl_shared_read *r = &o->r;
  o->has_period = o->prev_ns != 0 && now_ns > o->prev_ns;
  double span = o->has_period ? (double) (now_ns - o->prev_ns) : 0;
  if (o->has_period) {
    o->increments_period = (int64_t) (r->increments - o->prev_increments);
    o->lost_period = (int64_t) (r->increments - r->counter) -
                     (int64_t) (o->prev_increments - o->prev_counter);
  }
  for (int i = 0; i < r->nthreads; i++) {
    o->lock_wait_pct[i] = -1;
    if (!o->has_period)
      continue;
    /* A thread new since the last sample claimed its slot since then, on
     * its first lock: it had waited 0 before. */
    uint64_t before = 0, w = r->threads[i].lock_wait_ns;
    for (int j = 0; j < o->prev_n; j++)
      if (o->prev_tid[j] == r->threads[i].tid) {
        before = o->prev_wait_ns[j];
        break;
      }
    double d = w > before ? (double) (w - before) : 0;
    o->lock_wait_pct[i] = d > span ? 100.0 : 100.0 * d / span;
  }
  o->prev_ns = now_ns;
  o->prev_increments = r->increments;
  o->prev_counter = r->counter;
  o->prev_n = r->nthreads;
  for (int i = 0; i < r->nthreads; i++) {
    o->prev_tid[i] = r->threads[i].tid;
    o->prev_wait_ns[i] = r->threads[i].lock_wait_ns;
  }
}

void tl_shared_obs_sample(tl_shared_obs *o, uint64_t now_ns) {
  tl_shared_read_all(&o->r, now_ns);
  o->sampled = true;
  o->now_ns = now_ns;
  o->has_page = tl_shared_counter_page(&o->counter_page);
  period(o, now_ns);
  find_deadlocks(o, now_ns);
}

void tl_shared_obs_threads(const tl_shared_obs *o, int pid,
                           struct tl_thread_snap *threads, int n) {
  for (int i = 0; i < n; i++) {
    tl_thread_snap *t = &threads[i];
    if (t->pid != pid)
      continue;
    t->has_lock_wait = t->has_lock_wait_pct = false;
    t->lock_wants = -1;
    t->lock_wait_since_ns = 0;
    if (!o->sampled || !t->own)
      continue;
    /* Measured: the wrapper is the only way to our locks, so a thread
     * without a slot never waited on one. Its share needs two samples. */
    t->has_lock_wait = true;
    t->lock_wait_ms = 0;
    t->has_lock_wait_pct = o->has_period;
    t->lock_wait_pct = 0;
    for (int k = 0; k < o->r.nthreads; k++) {
      const tl_shared_thread_read *r = &o->r.threads[k];
      if (r->tid != t->tid)
        continue;
      t->lock_wait_ms = (double) r->lock_wait_ns / 1e6;
      t->has_lock_wait_pct = o->lock_wait_pct[k] >= 0;
      t->lock_wait_pct = o->lock_wait_pct[k];
      t->lock_wants = r->wants;
      t->lock_wait_since_ns = r->wants >= 0 ? r->wait_since_ns : 0;
      break;
    }
  }
}
