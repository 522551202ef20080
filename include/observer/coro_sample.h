/* Fills the snapshot's coro figures from the coro module's counters.
 * Observer thread only. */
#ifndef TL_OBSERVER_CORO_SAMPLE_H
#define TL_OBSERVER_CORO_SAMPLE_H

#include <stdbool.h>

#include "core/options.h"
#include "observer/snapshot.h"

/* `slow`: also walk the live stacks for their resident bytes (mincore on
 * each; costly with many coroutines, so every few samples only). */
void tl_coro_sample(tl_coro_snap *out, const tl_config *cfg, double period_s,
                    bool slow);

#endif
