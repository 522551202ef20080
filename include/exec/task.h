/* A task: one request's unit of work, a list of steps. The task lives
 * inside its connection slot; whichever thread runs a step owns the task
 * until it hands it back (pool job done, timer callback). */
#ifndef TL_TASK_H
#define TL_TASK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "http/hrtimer.h"
#include "base/mode.h"
#include "core/pool.h"
#include "base/steps.h"

typedef struct tl_step_rec {
  tl_step_spec spec;
  int tid;            /* thread that ran it */
  int core;           /* core it ended on */
  char thread[16];    /* that thread's label */
  uint64_t start_ns;  /* monotonic */
  uint64_t end_ns;
} tl_step_rec;

typedef struct tl_task {
  tl_job job;             /* pool linkage; first */
  uint64_t id;
  tl_mode mode;           /* the executor that admitted it */
  uint8_t route;          /* tl_route */
  uint8_t nsteps;
  uint8_t cur;            /* next step to run */
  /* Set by the loop when the client went away: the remaining steps are
   * skipped (a worker reads it between steps). */
  _Atomic bool cancelled;
  tl_step_rec *steps;     /* nsteps records, owned by the task */
  uint64_t created_ns;    /* when the request was complete */
  uint64_t queue_ns;      /* total time spent in the pool's queue */
  uint64_t run_ns;        /* total wall time of its steps */
  tl_hrtimer_entry io_timer; /* for IO steps waiting on the loop */
  struct tl_slot *slot;   /* owner */
} tl_task;

/* Burns `ms` of the calling thread's own CPU time (preemption does not
 * shorten it) and returns the wall time it took, in ns. */
uint64_t tl_burn_cpu_ms(uint32_t ms);

/* Runs step t->cur on the calling thread (IO blocks: pool mode), records
 * it, advances t->cur. */
void tl_task_run_step_blocking(tl_task *t);
/* For IO steps that wait without a thread: mark the start (on the loop) and
 * later the end, recorded against the loop thread. */
void tl_task_io_begin(tl_task *t);
void tl_task_io_end(tl_task *t);

static inline bool tl_task_cancelled(tl_task *t) {
  return atomic_load_explicit(&t->cancelled, memory_order_relaxed);
}

/* Frees what the task owns (and stops its IO timer if armed). */
void tl_task_release(tl_task *t);

#endif
