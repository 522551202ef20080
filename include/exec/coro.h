/* coro mode: every task with steps is a stackful coroutine (exec/
 * coro_switch.h), run M:N by the worker pool. A runnable coroutine is a
 * pool job (one global FIFO); the job's run() resumes it on whichever
 * worker took it until it suspends or ends; the job's done(), on the loop,
 * looks at why it stopped: an IO step arms the loop's timer and the
 * coroutine is resubmitted when it fires, a yield resubmits it at once.
 * So one task's steps may run on different workers with the same stack.
 *
 * The counters below are process-wide; the observer reads them. */
#ifndef TL_EXEC_CORO_H
#define TL_EXEC_CORO_H

#include <stdint.h>

#include "base/hist.h"
#include "runtime/config.h"

typedef struct tl_coro_counters {
  uint64_t created;    /* coroutines made since start */
  uint64_t alive;      /* made, not yet ended */
  uint64_t suspended;  /* waiting for an IO step's timer */
  uint64_t runnable;   /* in the pool's queue, waiting for a worker */
  uint64_t switches;   /* user-level switches (into and out of a coroutine) */
  uint64_t migrations; /* resumed on another worker than last time */
  uint64_t stack_reserved_bytes; /* mapped for live stacks, guard pages too */
} tl_coro_counters;

/* Switch costs measured at start (core/switch_cost.c), ns; 0: unknown. */
typedef struct tl_coro_costs {
  uint64_t asm_ns, ucontext_ns, kernel_ns;
} tl_coro_costs;

/* Main thread at start; any thread reads. */
void tl_coro_set_costs(const tl_coro_costs *c);

/* The live --coro-slice-ms (/control?coro_slice_ms=N): set by the main
 * loop's thread, read by a coroutine at the start of each CPU step, so a
 * change applies to the steps started from then on. Until set, cfg's. */
void tl_coro_set_slice_ms(int ms);
int tl_coro_slice_ms(const tl_config *cfg);
void tl_coro_get_costs(tl_coro_costs *out);

/* Any thread: lock-free reads of the counters. */
void tl_coro_read(tl_coro_counters *out);
/* Any thread: µs from runnable again (timer fired, yield) to resumed by a
 * worker. Written by the loop thread only. */
const tl_hist *tl_coro_wake_hist(void);
/* Any thread (the observer): bytes of the live stacks that are resident
 * (mincore), walking the live list under its mutex. */
uint64_t tl_coro_stack_resident_bytes(void);

#endif
