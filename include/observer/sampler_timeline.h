/* The timeline of recent steps: every sample drains our threads' step
 * rings into a keep-ring, counts the steps each core ran, and picks the
 * window (TL_TIMELINE_WINDOW_MS, at most TL_TIMELINE_OUT_MAX steps) the
 * snapshot shows. Observer thread only. */
#ifndef TL_OBSERVER_SAMPLER_TIMELINE_H
#define TL_OBSERVER_SAMPLER_TIMELINE_H

#include <stdint.h>

#include "base/thread.h"
#include "observer/snapshot.h"

typedef struct tl_sampler_timeline tl_sampler_timeline;

tl_sampler_timeline *tl_sampler_timeline_init(void);
void tl_sampler_timeline_close(tl_sampler_timeline *tl);
/* Drains every registered thread's ring. The registry lock is held by the
 * caller. */
/* Drains every own thread's ring; counts per lane of s->threads[0..n)
 * (sorted by tid) the steps lost from a ring. Registry lock held. */
void tl_sampler_timeline_drain(tl_sampler_timeline *tl, tl_registry *reg,
                               tl_snapshot *s, int nthreads);
/* Steps run per core so far ([TL_SNAP_MAX_CORES]). */
const uint64_t *tl_sampler_timeline_core_steps(const tl_sampler_timeline *tl);
/* Fills s->timeline*: the window ending at now_ns; start_ns is the origin
 * of its times (the server's start). */
void tl_sampler_timeline_pick(tl_sampler_timeline *tl, tl_snapshot *s,
                              uint64_t start_ns, uint64_t now_ns);

#endif
