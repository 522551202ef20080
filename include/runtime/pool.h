/* Our worker pool: N pthreads fed by one bounded FIFO of jobs. Unlike
 * libuv's global threadpool it is an object that can be resized and
 * (un)pinned live. Finished jobs go back to the loop that submitted them in
 * batches: each loop has an inbox (a done list and a uv_async); workers
 * append to the job's inbox and call uv_async_send (wakeups coalesce); the
 * loop swaps the whole list out and runs each job's done().
 *
 * Threads: tl_pool_submit runs on any loop thread (the job's inbox belongs
 * to it); resize/set_pin/set_cpus/close on the pool's own (main) loop thread;
 * run() runs on a worker; done() runs on the thread of the job's inbox. */
#ifndef TL_RUNTIME_POOL_H
#define TL_RUNTIME_POOL_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/thread.h"

#define TL_POOL_MAX_THREADS 1024

typedef struct tl_job tl_job;
struct tl_pool;

/* Where finished jobs go: one per loop. The list is under `mu`; the handles
 * and `wake` belong to the loop thread. */
typedef struct tl_pool_inbox {
  uv_async_t async; /* workers wake the loop */
  /* Submissions wake workers once per loop iteration, not once per job:
   * before the loop blocks (prepare) and after its I/O callbacks (check). */
  uv_prepare_t wake_prep;
  uv_check_t wake_check;
  struct tl_pool *wake; /* loop thread: a pool to wake, or NULL */
  int closing;
  void (*on_closed)(struct tl_pool_inbox *in);
  pthread_mutex_t mu; /* guards head */
  tl_job *head;
} tl_pool_inbox;

struct tl_job {
  tl_job *next;              /* private */
  tl_pool_inbox *inbox;      /* where done() runs; NULL: the pool's loop */
  void (*run)(tl_job *job);  /* on a worker */
  void (*done)(tl_job *job); /* on the loop, after run */
  uint64_t enqueued_ns;      /* set by submit */
  uint64_t queue_ns;         /* set by the worker: time spent queued */
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
int tl_pool_init(tl_pool **out, uv_loop_t *loop, tl_registry *reg, int nthreads,
                 size_t queue_max, bool pin);
/* On the loop's thread: set up / close an inbox on that loop (on_closed,
 * if set, runs once its handles are closed). */
int tl_pool_inbox_init(tl_pool_inbox *in, uv_loop_t *uv);
void tl_pool_inbox_close(tl_pool_inbox *in,
                         void (*on_closed)(tl_pool_inbox *in));
/* Queues job. With admission=true a full queue refuses it (-EAGAIN): that
 * is the 503 path. A task already admitted continues with admission=false,
 * so that it is never dropped halfway. Workers are woken once per loop
 * iteration (before the loop blocks and after its I/O callbacks), not per
 * job, so a batch of requests costs one wake-up; the loop must run. */
int tl_pool_submit(tl_pool *p, tl_job *job, bool admission);
/* Grows now; shrinking lets surplus workers finish their current job. */
int tl_pool_resize(tl_pool *p, int nthreads);
/* Worker i pinned to the (i mod n)-th of the n cores in the process's mask
 * as it was at tl_pool_init (taskset, cgroup cpuset), or back to that
 * whole mask.
 * Idle workers apply it at once, busy ones after their current job. */
void tl_pool_set_pin(tl_pool *p, bool pin);
/* The CPUs the workers may run on (--cpus; NULL: the whole mask the
 * process had at tl_pool_init); pinning picks within them. -EINVAL when
 * the set is empty or leaves that mask. Applied like set_pin. */
int tl_pool_set_cpus(tl_pool *p, const cpu_set_t *cpus);
/* Any thread (takes the pool's mutex): the workers' set and the inherited
 * mask; either pointer may be NULL. */
void tl_pool_get_cpus(tl_pool *p, cpu_set_t *cpus, cpu_set_t *inherited);
int tl_pool_threads(const tl_pool *p);
bool tl_pool_pinned(const tl_pool *p);
/* Lock-free read of the queue depth (any thread). */
size_t tl_pool_depth(const tl_pool *p);
void tl_pool_get_stats(tl_pool *p, tl_pool_stats *st);
/* Runs every queued job, stops and joins all workers, runs the remaining
 * done() callbacks, closes the async handle; frees the pool in its close
 * callback (the loop must run once more). */
void tl_pool_close(tl_pool *p);

#endif
