/* Our worker pool: N pthreads fed by one bounded FIFO of jobs. Unlike
 * libuv's global threadpool it is an object that can be resized and
 * (un)pinned live. Finished jobs go back to the owning libuv loop in
 * batches: workers append to a done list and call uv_async_send (wakeups
 * coalesce); the loop swaps the whole list out and runs each job's done().
 *
 * Threads: tl_pool_submit/resize/set_pin/destroy are called on the loop
 * thread only; run() runs on a worker; done() runs on the loop thread. */
#ifndef TL_CORE_POOL_H
#define TL_CORE_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/thread.h"

#define TL_POOL_MAX_THREADS 1024

typedef struct tl_job tl_job;
struct tl_job {
  tl_job *next;                 /* private */
  void (*run)(tl_job *job);     /* on a worker */
  void (*done)(tl_job *job);    /* on the loop, after run */
  uint64_t enqueued_ns;         /* set by submit */
  uint64_t queue_ns;            /* set by the worker: time spent queued */
};

typedef struct tl_pool tl_pool;

typedef struct tl_pool_stats {
  uint64_t submitted, rejected, completed;
  size_t depth;
  int threads;
  bool pinned;
} tl_pool_stats;

/* Creates the pool and starts nthreads workers, registering each one in
 * `reg`. Returns 0 or a negative errno. */
int tl_pool_create(tl_pool **out, uv_loop_t *loop, tl_registry *reg,
                   int nthreads, size_t queue_max, bool pin);
/* Queues job. With admission=true a full queue refuses it (-EAGAIN): that
 * is the 503 path. A task already admitted continues with admission=false,
 * so that it is never dropped halfway. Workers are woken once per loop
 * iteration (before the loop blocks and after its I/O callbacks), not per
 * job, so a batch of requests costs one wake-up; the loop must run. */
int tl_pool_submit(tl_pool *p, tl_job *job, bool admission);
/* Grows now; shrinking lets surplus workers finish their current job. */
int tl_pool_resize(tl_pool *p, int nthreads);
/* Worker i pinned to the (i mod n)-th of the n cores in the process's mask
 * as it was at tl_pool_create (taskset, cgroup cpuset), or back to that
 * whole mask.
 * Idle workers apply it at once, busy ones after their current job. */
void tl_pool_set_pin(tl_pool *p, bool pin);
int tl_pool_threads(const tl_pool *p);
bool tl_pool_pinned(const tl_pool *p);
/* Lock-free read of the queue depth (any thread). */
size_t tl_pool_depth(const tl_pool *p);
void tl_pool_get_stats(tl_pool *p, tl_pool_stats *st);
/* Runs every queued job, stops and joins all workers, runs the remaining
 * done() callbacks, closes the async handle; frees the pool in its close
 * callback (the loop must run once more). */
void tl_pool_destroy(tl_pool *p);

#endif
