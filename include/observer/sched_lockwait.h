/* Which blocked slices were waits for one of our locks. A thread that
 * leaves its core blocked (prev_state S, D...) while it runs a `lock`,
 * `hold` or `deadlock` step can only be sleeping on the step's mutex:
 * those steps do nothing else that sleeps. So a blocked end inside such a
 * step of the same thread (from the steps' timeline, exact times on the
 * same clock) is a lock wait; one outside, or whose step the timeline does
 * not hold (thinned, not finished yet), is not marked. Pure: any thread. */
#ifndef TL_OBSERVER_SCHED_LOCKWAIT_H
#define TL_OBSERVER_SCHED_LOCKWAIT_H

#include "observer/sched_slices.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tl_sched_lockstep {
  int tid;
  uint64_t start_ns, end_ns;
} tl_sched_lockstep;

/* Sorts steps (by thread, then start) and sets on_lock on each blocked
 * slice of sl whose end falls inside a step of its thread. Returns how
 * many it marked. */
size_t tl_sched_lockwait_mark(tl_sched_slice *sl, size_t n,
                              tl_sched_lockstep *steps, size_t nsteps);

#endif
