#include "config.h"

#include "core/loop_threads.h"

#include "base/util.h"
#include "core/server.h"
#include "http/loop.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct one {
  tl_loop_threads *lt;
  tl_loop *loop;
  int index;
  pthread_t thread;
  uv_loop_t uv;        /* this thread's libuv loop */
  int rc;              /* start result, under lt->mu */
  bool ready;          /* under lt->mu */
  uint64_t created_ns; /* set before pthread_create, read by the thread */
} one;

struct tl_loop_threads {
  tl_server *srv;
  void (*on_finished)(tl_server *srv);
  pthread_mutex_t mu; /* guards every one's rc and ready */
  pthread_cond_t cv;
  int n; /* threads started */
  one *ones;
};

static void loop_drained(tl_loop *loop) { tl_loop_close_handles(loop); }

static void *loop_main(void *arg) {
  uint64_t first_run = tl_now_ns(); /* the scheduler ran us: first thing */
  one *o = arg;
  tl_loop_threads *lt = o->lt;
  uv_loop_init(&o->uv);
  uv_loop_configure(&o->uv, UV_METRICS_IDLE_TIME);
  int rc = tl_loop_init(o->loop, &lt->srv->loop_setup, &o->uv, o->index);
  if (rc == 0)
    tl_thread_ctx_set_birth(&o->loop->thread, o->created_ns, first_run);
  if (rc == 0)
    o->loop->on_drained = loop_drained;
  pthread_mutex_lock(&lt->mu);
  o->rc = rc;
  o->ready = true;
  pthread_cond_broadcast(&lt->cv);
  pthread_mutex_unlock(&lt->mu);
  uv_run(&o->uv, UV_RUN_DEFAULT);
  if (rc == 0)
    tl_loop_close(o->loop);
  uv_run(&o->uv, UV_RUN_DEFAULT);
  if (uv_loop_close(&o->uv) != 0)
    fprintf(stderr, "threadlab: loop %d closed with handles still open\n",
            o->index);
  if (rc == 0)
    lt->on_finished(lt->srv);
  return NULL;
}

int tl_loop_threads_start(tl_loop_threads **out, tl_server *srv,
                          void (*on_finished)(tl_server *srv)) {
  tl_loop_threads *lt = tl_xcalloc(1, sizeof(*lt));
  lt->srv = srv;
  lt->on_finished = on_finished;
  pthread_mutex_init(&lt->mu, NULL);
  pthread_cond_init(&lt->cv, NULL);
  lt->ones = tl_xcalloc((size_t) srv->nloops, sizeof(one));
  int rc = 0;
  for (int k = 1; k < srv->nloops && rc == 0; k++) {
    one *o = &lt->ones[k];
    o->lt = lt;
    o->loop = &srv->loops[k];
    o->index = k;
    o->created_ns = tl_now_ns();
    int e = pthread_create(&o->thread, NULL, loop_main, o);
    if (e != 0) {
      fprintf(stderr, "threadlab: cannot start loop %d: %s\n", k, strerror(e));
      rc = -e;
      break;
    }
    lt->n = k;
    pthread_mutex_lock(&lt->mu);
    while (!o->ready)
      pthread_cond_wait(&lt->cv, &lt->mu);
    rc = o->rc;
    pthread_mutex_unlock(&lt->mu);
  }
  *out = lt;
  if (rc != 0) {
    /* Undo: the loops that did start drain at once (nothing is open). */
    for (int k = 1; k <= lt->n; k++)
      if (lt->ones[k].rc == 0)
        tl_loop_post(&srv->loops[k], TL_LOOP_DRAIN);
    tl_loop_threads_join(lt);
    *out = NULL;
  }
  return rc;
}

void tl_loop_threads_join(tl_loop_threads *lt) {
  if (!lt)
    return;
  for (int k = 1; k <= lt->n; k++)
    pthread_join(lt->ones[k].thread, NULL);
  pthread_mutex_destroy(&lt->mu);
  pthread_cond_destroy(&lt->cv);
  free(lt->ones);
  free(lt);
}
