/* The scheduler rings' drain thread (tracepoints only). It sleeps in
 * poll() on the per-CPU rings, wakes when one is a quarter full (or every
 * 50 ms), and moves the records into a queue that the observer takes on
 * its tick; the observer drains the rings too when it takes. So records
 * leave the kernel's rings even while the observer is busy (a large
 * GET /sched, the stream's merge) or waits for a core. Started while
 * tracing is on, stopped (joined) when it stops. */
#ifndef TL_OBSERVER_SCHED_DRAIN_H
#define TL_OBSERVER_SCHED_DRAIN_H

#include "observer/sched_trace.h"

#include <stdint.h>

typedef struct tl_sched_drain tl_sched_drain;

/* Starts the thread on t (tracepoints; t outlives it). NULL when the
 * tracer has no rings to poll or the thread could not start: the
 * observer's tick then drains alone. */
tl_sched_drain *tl_sched_drain_start(tl_sched_trace *t);
/* Observer: drains the rings now and hands every queued record, in the
 * order drained, to cb. Returns how many. */
size_t tl_sched_drain_take(tl_sched_drain *d, tl_sched_rec_fn cb, void *arg);
/* Joins the thread; queued records not taken are dropped (call take
 * first). NULL is fine. */
void tl_sched_drain_stop(tl_sched_drain *d);

#endif
