#include "config.h"

#include "core/libuv_threads.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct probe {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int want, arrived, registered;
  tl_registry *reg;
  int refs; /* freed when the last after-callback ran */
} probe;

typedef struct probe_req {
  uv_work_t req;
  probe *p;
  tl_thread_ctx *ctx; /* lives as long as the thread: the process */
} probe_req;

static void deadline_in(struct timespec *ts, int ms) {
  clock_gettime(CLOCK_REALTIME, ts);
  ts->tv_sec += ms / 1000;
  ts->tv_nsec += (long) (ms % 1000) * 1000000L;
  if (ts->tv_nsec >= 1000000000L) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000L;
  }
}

/* Each request holds its libuv thread until all have arrived, so that
 * every pool thread takes exactly one. */
static void work(uv_work_t *req) {
  probe_req *r = TL_CONTAINER_OF(req, probe_req, req);
  probe *p = r->p;
  struct timespec ts;
  deadline_in(&ts, 2000);
  pthread_mutex_lock(&p->mu);
  int idx = p->arrived++;
  pthread_cond_broadcast(&p->cv);
  while (p->arrived < p->want)
    if (pthread_cond_timedwait(&p->cv, &p->mu, &ts) != 0)
      break;
  pthread_mutex_unlock(&p->mu);
  char label[16], kname[16];
  snprintf(label, sizeof(label), "libuv-%d", idx);
  snprintf(kname, sizeof(kname), "tl-libuv-%d", idx);
  tl_thread_ctx_init(r->ctx, TL_ROLE_LIBUV, idx, label, kname);
  tl_registry_add(p->reg, r->ctx);
  pthread_mutex_lock(&p->mu);
  p->registered++;
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
}

static void after(uv_work_t *req, int status) {
  probe_req *r = TL_CONTAINER_OF(req, probe_req, req);
  probe *p = r->p;
  (void) status;
  free(r);
  if (--p->refs == 0) {
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
  }
}

int tl_libuv_threads_register(uv_loop_t *loop, tl_registry *reg) {
  const char *env = getenv("UV_THREADPOOL_SIZE");
  int n = env ? atoi(env) : 4;
  n = n < 1 ? 1 : n > 1024 ? 1024 : n;
  probe *p = tl_xcalloc(1, sizeof(*p));
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  p->want = n;
  p->reg = reg;
  p->refs = n;
  for (int i = 0; i < n; i++) {
    probe_req *r = tl_xcalloc(1, sizeof(*r));
    r->p = p;
    /* Never freed: the registry refers to it for the life of the thread,
     * which is the life of the process. */
    r->ctx = tl_xcalloc(1, sizeof(*r->ctx));
    uv_queue_work(loop, &r->req, work, after);
  }
  struct timespec ts;
  deadline_in(&ts, 3000);
  pthread_mutex_lock(&p->mu);
  while (p->registered < n)
    if (pthread_cond_timedwait(&p->cv, &p->mu, &ts) != 0)
      break;
  int got = p->registered;
  pthread_mutex_unlock(&p->mu);
  return got;
}
