/* Does this kernel account run-queue wait (schedstat's run_delay)?
 * Measured, not assumed from kernel.task_delayacct (kernel 6.18 accounts
 * it with that sysctl off): two threads share one core and spin for a few
 * ms; if run_delay grows, the kernel accounts it. Observer thread: at
 * start, and again whenever the sysctl changes. */
#ifndef TL_OBSERVER_SCHEDSTAT_PROBE_H
#define TL_OBSERVER_SCHEDSTAT_PROBE_H

#include <stdbool.h>

typedef struct tl_schedstat_probe {
  bool accounted;      /* run_delay grew under contention */
  int threads;         /* spinning threads (2 on one core, or cores+1) */
  int cpu;             /* the core they shared, -1 when not pinned */
  double spin_ms;      /* wall time the whole test took */
  double oncpu_ms;     /* schedstat run time gained, all threads */
  double run_delay_ms; /* schedstat run_delay gained, all threads */
  /* Static text, NULL when accounted: why run-queue wait is not
   * available and what would turn it on. */
  const char *why;
} tl_schedstat_probe;

/* Runs the self-test (about 10 ms of wall time) and fills *out. */
void tl_schedstat_probe_run(tl_schedstat_probe *out);

#endif
