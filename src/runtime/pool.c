#include "config.h"

#include "runtime/pool.h"
#include "base/util.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tl_worker {
  tl_pool *pool;
  int index;
  pthread_t thread;
  pthread_cond_t wake_cv; /* it waits here while idle (under pool->mu) */
  bool on_idle_stack;     /* under pool->mu */
  uint64_t created_ns;    /* set before pthread_create, read by it */
  tl_thread_ctx ctx;
} tl_worker;

struct tl_pool {
  tl_pool_inbox inbox; /* first: the pool's own loop's inbox */
  uv_loop_t *loop;
  tl_registry *reg;
  size_t queue_max;
  cpu_set_t base_mask; /* the process's mask when the pool started */

  pthread_mutex_t mu;     /* guards everything below up to `depth` */
  pthread_cond_t exit_cv; /* destroy waits here for workers to leave */
  tl_job *head, *tail;
  size_t depth_locked;
  int target; /* wanted number of workers */
  /* Idle workers, the most recently idle on top: a job wakes the top one
   * (LIFO), so light load keeps a few warm workers busy and leaves the rest
   * asleep, instead of rotating through all of them. */
  tl_worker *idle_stack[TL_POOL_MAX_THREADS];
  int idle;
  int alive; /* workers currently running */
  bool stopping;
  bool pin;
  cpu_set_t work_mask; /* the workers' CPUs (--cpus), within base_mask */
  tl_worker *workers[TL_POOL_MAX_THREADS];

  _Atomic size_t depth; /* mirror of depth_locked for lock-free reads */
  /* Bumped by every submitting loop and worker: atomic adds. */
  _Atomic uint64_t submitted, rejected, completed;
};

/* The n-th core of the mask, counting from 0. */
static int nth_cpu(const cpu_set_t *mask, int n) {
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, mask) && n-- == 0)
      return c;
  return -1;
}

/* Pinned: worker i on the (i mod n)-th of the n cores of the workers' set
 * (--cpus, itself within what the process may use: taskset, cgroup
 * cpuset); unpinned: that whole set. Caller holds p->mu. */
static void worker_mask(const tl_pool *p, int index, cpu_set_t *set) {
  if (p->pin) {
    CPU_ZERO(set);
    CPU_SET(nth_cpu(&p->work_mask, index % CPU_COUNT(&p->work_mask)), set);
  } else {
    *set = p->work_mask;
  }
}

/* A change of --pin or --cpus takes effect on every worker at once, busy
 * or idle, so that /control answers after the kernel has the new masks.
 * Caller holds p->mu; a worker empties its slot under p->mu before it
 * leaves, so every thread listed is still alive. */
static void apply_masks(tl_pool *p) {
  for (int i = 0; i < TL_POOL_MAX_THREADS; i++) {
    tl_worker *w = p->workers[i];
    if (!w)
      continue;
    cpu_set_t set;
    worker_mask(p, w->index, &set);
    int rc = pthread_setaffinity_np(w->thread, sizeof(set), &set);
    if (rc != 0)
      fprintf(stderr, "threadlab: worker %d: cannot set affinity: %s\n",
              w->index, strerror(rc));
  }
}

/* Caller holds p->mu. */
static void wake_one(tl_pool *p) {
  if (p->idle == 0)
    return;
  tl_worker *w = p->idle_stack[--p->idle];
  w->on_idle_stack = false;
  pthread_cond_signal(&w->wake_cv);
}

/* Caller holds p->mu: resize, pinning and stop concern every worker. */
static void wake_all(tl_pool *p) {
  while (p->idle > 0)
    wake_one(p);
}

/* Caller holds p->mu. Sleeps until a job, a resize or stop wakes it. */
static void wait_idle(tl_pool *p, tl_worker *w) {
  p->idle_stack[p->idle++] = w;
  w->on_idle_stack = true;
  pthread_cond_wait(&w->wake_cv, &p->mu);
  if (w->on_idle_stack) { /* a spurious wake-up: leave the stack */
    for (int i = 0; i < p->idle; i++)
      if (p->idle_stack[i] == w) {
        memmove(&p->idle_stack[i], &p->idle_stack[i + 1],
                (size_t) (p->idle - i - 1) * sizeof(*p->idle_stack));
        p->idle--;
        break;
      }
    w->on_idle_stack = false;
  }
}

static void *worker_main(void *arg) {
  uint64_t first_run = tl_now_ns(); /* the scheduler ran us: first thing */
  tl_worker *w = arg;
  tl_pool *p = w->pool;
  char kname[16], label[16];
  snprintf(kname, sizeof(kname), "tl-worker-%d", w->index);
  snprintf(label, sizeof(label), "worker-%d", w->index);
  tl_thread_ctx_init(&w->ctx, TL_ROLE_WORKER, w->index, label, kname);
  tl_thread_ctx_set_birth(&w->ctx, w->created_ns, first_run);
  tl_registry_add(p->reg, &w->ctx);

  pthread_mutex_lock(&p->mu);
  for (;;) {
    bool surplus = w->index >= p->target;
    if (p->head == NULL || surplus) {
      if (surplus || p->stopping)
        break;
      tl_thread_set_doing(&w->ctx, TL_DOING_IDLE, 0, 0);
      wait_idle(p, w);
      continue;
    }
    tl_job *job = p->head;
    p->head = job->next;
    if (p->head == NULL)
      p->tail = NULL;
    p->depth_locked--;
    atomic_store_explicit(&p->depth, p->depth_locked, memory_order_relaxed);
    /* More work and a sleeping colleague: pass the wake-up on, so that a
     * batch spreads over the pool one wake-up at a time. */
    if (p->head)
      wake_one(p);
    pthread_mutex_unlock(&p->mu);

    uint64_t t0 = tl_now_ns();
    job->queue_ns = t0 - job->enqueued_ns;
    tl_thread_set_doing(&w->ctx, TL_DOING_WAIT, 0, 0);
    atomic_store_explicit(&w->ctx.in_flight, 1, memory_order_relaxed);
    job->run(job);
    atomic_store_explicit(&w->ctx.in_flight, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&w->ctx.busy_ns, tl_now_ns() - t0,
                              memory_order_relaxed);

    atomic_fetch_add_explicit(&p->completed, 1, memory_order_relaxed);
    tl_pool_inbox *in = job->inbox ? job->inbox : &p->inbox;
    pthread_mutex_lock(&in->mu);
    job->next = in->head;
    in->head = job;
    pthread_mutex_unlock(&in->mu);
    /* Coalesces: no system call while the loop has not yet taken the
     * previous wake-up. */
    uv_async_send(&in->async);
    pthread_mutex_lock(&p->mu);
  }
  /* Leaving: give the slot back under the lock, so that a resize that
   * wants this index again starts a fresh worker. Once alive drops, the
   * pool may be freed at any moment: touch nothing of it afterwards. */
  p->workers[w->index] = NULL;
  pthread_mutex_unlock(&p->mu);
  tl_registry_remove(p->reg, &w->ctx);
  pthread_mutex_lock(&p->mu);
  p->alive--;
  pthread_cond_broadcast(&p->exit_cv);
  pthread_mutex_unlock(&p->mu);
  pthread_cond_destroy(&w->wake_cv);
  free(w);
  return NULL;
}

/* Loop thread: swap the done list out and finish each job in FIFO order. */
static void on_async(uv_async_t *h) {
  tl_pool_inbox *in = (tl_pool_inbox *) h;
  pthread_mutex_lock(&in->mu);
  tl_job *list = in->head;
  in->head = NULL;
  pthread_mutex_unlock(&in->mu);
  tl_job *rev = NULL;
  while (list) {
    tl_job *n = list->next;
    list->next = rev;
    rev = list;
    list = n;
  }
  while (rev) {
    tl_job *n = rev->next;
    rev->done(rev);
    rev = n;
  }
}

static void wake_workers(tl_pool_inbox *in) {
  tl_pool *p = in->wake;
  if (!p)
    return;
  in->wake = NULL;
  pthread_mutex_lock(&p->mu);
  if (p->head)
    wake_one(p);
  pthread_mutex_unlock(&p->mu);
}

static void on_wake_prep(uv_prepare_t *h) {
  wake_workers(TL_CONTAINER_OF(h, tl_pool_inbox, wake_prep));
}

static void on_wake_check(uv_check_t *h) {
  wake_workers(TL_CONTAINER_OF(h, tl_pool_inbox, wake_check));
}

/* Caller holds p->mu. */
static int start_worker(tl_pool *p, int index) {
  tl_worker *w = tl_xcalloc(1, sizeof(*w));
  pthread_cond_init(&w->wake_cv, NULL);
  w->pool = p;
  w->index = index;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  /* Born with its mask: it never runs outside the workers' CPUs. */
  cpu_set_t set;
  worker_mask(p, index, &set);
  pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  /* Steps need little stack; 256 KiB keeps 1024 workers cheap. */
  pthread_attr_setstacksize(&attr, 256 * 1024);
  w->created_ns = tl_now_ns(); /* the ask: the scheduler decides the run */
  int rc = pthread_create(&w->thread, &attr, worker_main, w);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    pthread_cond_destroy(&w->wake_cv);
    free(w);
    return -rc;
  }
  p->workers[index] = w;
  p->alive++;
  return 0;
}

int tl_pool_init(tl_pool **out, uv_loop_t *loop, tl_registry *reg, int nthreads,
                 size_t queue_max, bool pin) {
  if (nthreads < 1 || nthreads > TL_POOL_MAX_THREADS)
    return -EINVAL;
  tl_pool *p = tl_xcalloc(1, sizeof(*p));
  p->loop = loop;
  p->reg = reg;
  p->queue_max = queue_max;
  if (sched_getaffinity(0, sizeof(p->base_mask), &p->base_mask) != 0 ||
      CPU_COUNT(&p->base_mask) == 0) {
    CPU_ZERO(&p->base_mask);
    for (int i = 0, n = tl_ncpu(); i < n; i++)
      CPU_SET(i, &p->base_mask);
  }
  p->work_mask = p->base_mask;
  int rc = tl_pool_inbox_init(&p->inbox, loop);
  if (rc != 0) {
    free(p);
    return rc;
  }
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->exit_cv, NULL);
  p->pin = pin;
  *out = p;
  return tl_pool_resize(p, nthreads);
}

int tl_pool_inbox_init(tl_pool_inbox *in, uv_loop_t *uv) {
  memset(in, 0, sizeof(*in));
  int rc = uv_async_init(uv, &in->async, on_async);
  if (rc != 0)
    return rc;
  pthread_mutex_init(&in->mu, NULL);
  uv_prepare_init(uv, &in->wake_prep);
  uv_prepare_start(&in->wake_prep, on_wake_prep);
  uv_unref((uv_handle_t *) &in->wake_prep);
  uv_check_init(uv, &in->wake_check);
  uv_check_start(&in->wake_check, on_wake_check);
  uv_unref((uv_handle_t *) &in->wake_check);
  return 0;
}

static void on_inbox_close(uv_handle_t *h) {
  tl_pool_inbox *in = h->data;
  if (--in->closing > 0)
    return;
  pthread_mutex_destroy(&in->mu);
  if (in->on_closed)
    in->on_closed(in);
}

void tl_pool_inbox_close(tl_pool_inbox *in,
                         void (*on_closed)(tl_pool_inbox *in)) {
  on_async(&in->async); /* finish what already came back */
  in->wake = NULL;
  in->on_closed = on_closed;
  in->closing = 3;
  in->async.data = in->wake_prep.data = in->wake_check.data = in;
  uv_close((uv_handle_t *) &in->async, on_inbox_close);
  uv_close((uv_handle_t *) &in->wake_prep, on_inbox_close);
  uv_close((uv_handle_t *) &in->wake_check, on_inbox_close);
}

int tl_pool_submit(tl_pool *p, tl_job *job, bool admission) {
  job->next = NULL;
  job->enqueued_ns = tl_now_ns();
  pthread_mutex_lock(&p->mu);
  if (admission && p->depth_locked >= p->queue_max) {
    pthread_mutex_unlock(&p->mu);
    atomic_fetch_add_explicit(&p->rejected, 1, memory_order_relaxed);
    return -EAGAIN;
  }
  if (p->tail)
    p->tail->next = job;
  else
    p->head = job;
  p->tail = job;
  p->depth_locked++;
  atomic_store_explicit(&p->depth, p->depth_locked, memory_order_relaxed);
  pthread_mutex_unlock(&p->mu);
  (job->inbox ? job->inbox : &p->inbox)->wake = p;
  atomic_fetch_add_explicit(&p->submitted, 1, memory_order_relaxed);
  return 0;
}

int tl_pool_resize(tl_pool *p, int nthreads) {
  if (nthreads < 1 || nthreads > TL_POOL_MAX_THREADS)
    return -EINVAL;
  int rc = 0;
  pthread_mutex_lock(&p->mu);
  p->target = nthreads;
  /* A worker told to leave but still busy keeps its slot: raising the
   * target again simply keeps it. */
  for (int i = 0; i < nthreads && rc == 0; i++) {
    if (p->workers[i] == NULL)
      rc = start_worker(p, i);
  }
  if (rc != 0) {
    /* Keep what started; the target follows reality. */
    int n = 0;
    while (n < nthreads && p->workers[n])
      n++;
    p->target = n;
  }
  wake_all(p);
  pthread_mutex_unlock(&p->mu);
  return rc;
}

void tl_pool_set_pin(tl_pool *p, bool pin) {
  pthread_mutex_lock(&p->mu);
  if (p->pin != pin) {
    p->pin = pin;
    apply_masks(p);
  }
  pthread_mutex_unlock(&p->mu);
}

int tl_pool_set_cpus(tl_pool *p, const cpu_set_t *cpus) {
  cpu_set_t want = cpus ? *cpus : p->base_mask, both;
  CPU_AND(&both, &want, &p->base_mask);
  if (CPU_COUNT(&want) == 0 || !CPU_EQUAL(&both, &want))
    return -EINVAL;
  pthread_mutex_lock(&p->mu);
  if (!CPU_EQUAL(&p->work_mask, &want)) {
    p->work_mask = want;
    apply_masks(p);
  }
  pthread_mutex_unlock(&p->mu);
  return 0;
}

void tl_pool_get_cpus(tl_pool *p, cpu_set_t *cpus, cpu_set_t *inherited) {
  pthread_mutex_lock(&p->mu);
  if (cpus)
    *cpus = p->work_mask;
  if (inherited)
    *inherited = p->base_mask;
  pthread_mutex_unlock(&p->mu);
}

int tl_pool_threads(const tl_pool *p) { return p->target; }
bool tl_pool_pinned(const tl_pool *p) { return p->pin; }

size_t tl_pool_depth(const tl_pool *p) {
  return atomic_load_explicit(&p->depth, memory_order_relaxed);
}

void tl_pool_get_stats(tl_pool *p, tl_pool_stats *st) {
  st->submitted = atomic_load_explicit(&p->submitted, memory_order_relaxed);
  st->rejected = atomic_load_explicit(&p->rejected, memory_order_relaxed);
  st->completed = atomic_load_explicit(&p->completed, memory_order_relaxed);
  st->depth = tl_pool_depth(p);
  st->threads = p->target;
  st->pinned = p->pin;
}

static void pool_freed(tl_pool_inbox *in) {
  tl_pool *p = (tl_pool *) in;
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->exit_cv);
  free(p);
}

void tl_pool_close(tl_pool *p) {
  pthread_mutex_lock(&p->mu);
  /* Workers drain the queue first: with `stopping` set they leave only
   * once it is empty. */
  p->stopping = true;
  wake_all(p);
  while (p->alive > 0)
    pthread_cond_wait(&p->exit_cv, &p->mu);
  pthread_mutex_unlock(&p->mu);
  tl_pool_inbox_close(&p->inbox, pool_freed);
}
