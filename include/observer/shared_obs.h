/* server.shared: what the observer makes of exec/shared_steps each sample
 * (the counter, its page, the locks, per-thread lock waits, the period's
 * lost updates) and the deadlocks it finds. Observer thread only: the
 * snapshot embeds one, written by tl_shared_obs_sample. */
#ifndef TL_OBSERVER_SHARED_OBS_H
#define TL_OBSERVER_SHARED_OBS_H

#include <stdbool.h>
#include <stdint.h>

#include "exec/shared_steps.h"
#include "base/deadlock.h"

#define TL_SHARED_MAX_DEADLOCKS 4

typedef struct tl_shared_dl_member {
  int tid;
  unsigned holds;
  int wants;
} tl_shared_dl_member;

typedef struct tl_shared_deadlock {
  int len;
  tl_shared_dl_member m[TL_DEADLOCK_MAX_LEN];
  uint64_t formed_ns; /* the last member's wait began (monotonic) */
  uint64_t found_ns;  /* the sample that first confirmed it */
} tl_shared_deadlock;

typedef struct tl_shared_obs {
  bool sampled;
  uint64_t now_ns;
  tl_shared_read r;
  bool has_page;
  uint64_t counter_page; /* page frame number behind the counter */
  bool has_period;
  int64_t increments_period, lost_period;
  double lock_wait_pct[TL_SHARED_MAX_THREADS]; /* of r.threads[i]; -1: n/a */
  int ndeadlocks;
  tl_shared_deadlock deadlocks[TL_SHARED_MAX_DEADLOCKS];
  /* Previous sample, for the period figures. */
  uint64_t prev_ns, prev_increments, prev_counter;
  int prev_n;
  int prev_tid[TL_SHARED_MAX_THREADS];
  uint64_t prev_wait_ns[TL_SHARED_MAX_THREADS];
  /* Scratch for the deadlock finder (too big for the stack). */
  tl_wait_node nodes[TL_SHARED_MAX_THREADS];
  tl_shared_read again;
} tl_shared_obs;

/* Observer, once per sample. */
void tl_shared_obs_sample(tl_shared_obs *o, uint64_t now_ns);

/* Observer, after the threads were sampled: each loop and worker thread
 * of this process (pid) gets its lock waits from o (0 for one that
 * never took our locks: every lock goes through the wrapper); threads of
 * other processes keep what process_sums gave them. */
struct tl_thread_snap;
void tl_shared_obs_threads(const tl_shared_obs *o, int pid,
                           struct tl_thread_snap *threads, int n);

#endif
