/* The drain thread and the queue it fills. Shared between it and the
 * observer: the rings' read positions, the queue and `deferred`, all under
 * `mu`; `stop` is atomic. The tracer's other state is the observer's and
 * the drain does not touch it (see tl_sched_trace_drain). */
#include "config.h"

#include "observer/sched_drain.h"

#include "base/util.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FDS   256
#define POLL_MS   50
#define QUEUE_MAX (1u << 18) /* records (~20 MiB): ~1 s at 250,000/s */

struct tl_sched_drain {
  tl_sched_trace *t;
  pthread_t thread;
  atomic_bool stop;
  pthread_mutex_t mu; /* guards the rings' tails, q, qn, qcap */
  tl_sched_rec *q;
  size_t qn, qcap;
  struct pollfd pfd[MAX_FDS];
  int npfd;
};

/* Under mu. */
static void enqueue(void *arg, const tl_sched_rec *r) {
  tl_sched_drain *d = arg;
  if (d->qn == d->qcap) {
    d->qcap = d->qcap ? d->qcap * 2 : 4096;
    d->q = tl_xrealloc(d->q, d->qcap * sizeof *d->q);
  }
  d->q[d->qn++] = *r;
}

static void *drain_main(void *arg) {
  tl_sched_drain *d = arg;
  pthread_setname_np(pthread_self(), "tl-sched-drain");
  while (!atomic_load_explicit(&d->stop, memory_order_acquire)) {
    (void) poll(d->pfd, (nfds_t) d->npfd, POLL_MS);
    pthread_mutex_lock(&d->mu);
    /* With the queue full (the observer stalled for ~1 s) the records
     * stay in the rings, where the kernel counts what it must drop: the
     * queue holds at most QUEUE_MAX plus one drain of every ring. */
    if (d->qn < QUEUE_MAX)
      tl_sched_trace_drain(d->t, enqueue, d);
    pthread_mutex_unlock(&d->mu);
  }
  return NULL;
}

tl_sched_drain *tl_sched_drain_start(tl_sched_trace *t) {
  tl_sched_drain *d = tl_xcalloc(1, sizeof *d);
  int fds[MAX_FDS];
  d->npfd = tl_sched_trace_ring_fds(t, fds, MAX_FDS);
  if (d->npfd == 0) {
    free(d);
    return NULL;
  }
  for (int i = 0; i < d->npfd; i++)
    d->pfd[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
  d->t = t;
  pthread_mutex_init(&d->mu, NULL);
  if (pthread_create(&d->thread, NULL, drain_main, d) != 0) {
    pthread_mutex_destroy(&d->mu);
    free(d);
    return NULL;
  }
  return d;
}

size_t tl_sched_drain_take(tl_sched_drain *d, tl_sched_rec_fn cb, void *arg) {
  pthread_mutex_lock(&d->mu);
  tl_sched_trace_drain(d->t, enqueue, d);
  tl_sched_rec *q = d->q;
  size_t n = d->qn;
  d->q = NULL;
  d->qn = d->qcap = 0;
  pthread_mutex_unlock(&d->mu);
  /* The records are handed over outside the lock: the thread keeps
   * draining into a fresh queue meanwhile. */
  for (size_t i = 0; i < n; i++)
    cb(arg, &q[i]);
  free(q);
  return n;
}

void tl_sched_drain_stop(tl_sched_drain *d) {
  if (!d)
    return;
  atomic_store_explicit(&d->stop, true, memory_order_release);
  pthread_join(d->thread, NULL);
  pthread_mutex_destroy(&d->mu);
  free(d->q);
  free(d);
}
