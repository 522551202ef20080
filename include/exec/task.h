/* A task: one request's unit of work, a list of steps. The connection
 * module embeds it and sets it up at dispatch (tl_task_setup); from then on
 * whichever thread runs a step owns the task until it hands it on (pool
 * job done, timer callback), and an executor ends it only through
 * tl_task_done, which calls the completion callback the task carries on
 * its loop's thread. The task never names the connection. */
#ifndef TL_EXEC_TASK_H
#define TL_EXEC_TASK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/mode.h"
#include "base/steps.h"
#include "base/util.h"
#include "base/parser.h"
#include "runtime/hrtimer.h"
#include "runtime/loop_ctx.h"
#include "runtime/pool.h"

typedef struct tl_step_rec {
  tl_step_spec spec;
  int tid;           /* thread that ran it */
  int core;          /* core it ended on */
  char thread[16];   /* that thread's label */
  uint64_t start_ns; /* monotonic */
  uint64_t end_ns;
  uint64_t coro;   /* coro mode: the coroutine's id (0: none) */
  uintptr_t stack; /* coro mode: its stack's base address */
  /* The running thread's CPU clock (CLOCK_THREAD_CPUTIME_ID) summed over
   * the segments that ran the step: wall minus this is time the step's
   * thread was not on a core (waiting for one, or sleeping). */
  uint64_t cpu_ns;
} tl_step_rec;

struct tl_coro;

typedef struct tl_task tl_task;
typedef void (*tl_task_done_cb)(tl_task *t);

struct tl_task {
  tl_job job; /* pool linkage; first */
  /* Set at dispatch on the loop thread, immutable while the task runs. */
  /* The loop that owns the request's connection, as its tasks see it
   * (config, pool, docroot, its uv loop, timers, counters). */
  const tl_loop_ctx *loop;
  tl_task_done_cb done;  /* loop thread: the task is over */
  const tl_request *req; /* the request (owned by the connection) */
  tl_buf *out;           /* where the response goes (owned likewise) */
  bool keep_alive;       /* the response keeps the connection open */
  uint64_t id;
  tl_mode mode;  /* the executor that admitted it */
  uint8_t route; /* tl_route */
  uint8_t nsteps;
  /* Written by the thread that owns the task at the moment. */
  uint8_t cur;     /* next step to run */
  uint16_t status; /* of the response built; 0: none (cancelled) */
  /* Set by the loop when the client went away: the remaining steps are
   * skipped (a worker reads it between steps). */
  _Atomic bool cancelled;
  tl_step_rec *steps;        /* nsteps records, owned by the task */
  uint64_t created_ns;       /* when the request was complete */
  uint64_t queue_ns;         /* total time spent in the pool's queue */
  uint64_t run_ns;           /* total wall time of its steps */
  tl_hrtimer_entry io_timer; /* for IO steps waiting on the loop */
  struct tl_coro *coro;      /* coro mode: the task's coroutine, else NULL */
};

/* Loop thread, before the executor starts it: everything the executors and
 * the response builder will read. Allocates the step records. */
void tl_task_setup(tl_task *t, const tl_loop_ctx *loop, uint64_t id,
                   tl_mode mode, uint8_t route, const tl_step_spec *specs,
                   int nsteps, uint64_t created_ns, const tl_request *req,
                   tl_buf *out, bool keep_alive, tl_task_done_cb done);

/* The thread that runs a piece of step r: a segment of its CPU clock
 * (begin before, end after; the two reads on the same thread). */
static inline uint64_t tl_step_cpu_begin(void) { return tl_thread_cpu_ns(); }
static inline void tl_step_cpu_end(tl_step_rec *r, uint64_t begun) {
  r->cpu_ns += tl_thread_cpu_ns() - begun;
}

/* Burns `ms` of the calling thread's own CPU time (preemption does not
 * shorten it) and returns the wall time it took, in ns. */
uint64_t tl_task_burn_cpu_ms(uint32_t ms);

/* Any thread that owns t: runs step t->cur on the calling thread (IO
 * blocks: pool mode), records it, advances t->cur. */
void tl_task_run_step_blocking(tl_task *t);
/* Loop thread: for IO steps that wait without a thread, mark the start
 * and later the end, recorded against the loop thread. */
void tl_task_io_begin(tl_task *t);
void tl_task_io_end(tl_task *t);
/* The thread that owns t: step t->cur (its start_ns set) ends now, on the
 * calling thread (coro mode: a step the coroutine suspended within). */
void tl_task_step_end(tl_task *t);

static inline bool tl_task_cancelled(tl_task *t) {
  return atomic_load_explicit(&t->cancelled, memory_order_relaxed);
}

/* Loop thread: the task is over (answered, or cancelled with status 0). */
static inline void tl_task_done(tl_task *t) { t->done(t); }

/* Loop thread: frees what the task owns (and stops its IO timer if armed).
 * Safe on a task that was never set up (zeroed). */
void tl_task_release(tl_task *t);

#endif
