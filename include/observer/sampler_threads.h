/* Per-thread figures of the snapshot (threads[]): every thread of the
 * process from its /proc/self/task files (CPU time, on-CPU and run-queue
 * time, switches, migrations, state, core, allowed cores) and, for our own
 * registered threads, their lock-free counters (tasks, steps, busy time,
 * what they are doing). Costs are kept down for 1,000 threads: descriptors
 * stay open (task_files), a thread that has not run since the last sample
 * is not re-read but in its turn. Observer thread only. */
#ifndef TL_OBSERVER_SAMPLER_THREADS_H
#define TL_OBSERVER_SAMPLER_THREADS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/thread.h"
#include "observer/sampler_timeline.h"
#include "observer/snapshot.h"
#include "observer/thread_birth.h"

/* Threads sampled at most. */
#define TL_SAMPLER_MAX_TIDS 4096

typedef struct tl_sampler_threads tl_sampler_threads;

/* Which rarely changing figures this sample re-reads. */
typedef struct tl_sampler_pace {
  uint64_t seq;     /* this sample's number, from 1 */
  bool slow;        /* list the threads, re-read slow figures */
  bool refresh_all; /* every thread's turn (our pinning changed) */
} tl_sampler_pace;

tl_sampler_threads *tl_sampler_threads_init(tl_registry *reg);
void tl_sampler_threads_close(tl_sampler_threads *th);
/* Fills s->threads[] and s->nthreads (s->threads holds
 * TL_SAMPLER_MAX_TIDS) and, under the registry lock it takes anyway,
 * drains the threads' step rings into tl. Reads s->runq_accounted. */
void tl_sampler_threads_sample(tl_sampler_threads *th, tl_snapshot *s,
                               const tl_sampler_pace *pace, double period_s,
                               tl_sampler_timeline *tl, tl_thread_birth *birth);
/* Whether this sample lists /proc/self/task again: the first samples,
 * our registry changed, the kernel's thread count (`count`, 0 unknown)
 * differs from the `known` threads, or every TL_SAMPLER_RELIST_EVERY
 * samples anyway. A count beyond TL_SAMPLER_MAX_TIDS (or unknown) falls
 * back to the slow samples. */
#define TL_SAMPLER_RELIST_EVERY 16
bool tl_sampler_threads_relist(long count, int known, bool registry_moved,
                               const tl_sampler_pace *pace);
/* /proc descriptors kept open now. */
int tl_sampler_threads_fds_kept(const tl_sampler_threads *th);

#endif
