/* The server's own figures in the snapshot: the loops' counters summed
 * (connections, requests by class and route, rejections, io_uring sends)
 * with their rates, the latency / queue-wait / loop-lag histograms with
 * their period deltas, the loops' utilisation and blocking, mode and
 * CPUs, processes[] and the costs probe. Observer thread only; reads the
 * loops' counters lock-free. */
#ifndef TL_OBSERVER_SAMPLER_SERVER_H
#define TL_OBSERVER_SAMPLER_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/hist.h"
#include "core/server.h"
#include "observer/loop_totals.h"
#include "observer/process_sums.h"
#include "observer/snapshot.h"

/* Counters of tl_loop_counters copied into the snapshot with a rate or a
 * delta: one row each in sampler_server.c's table. */
#define TL_SAMPLER_SERVER_COUNTERS (7 + 6 + TL_ROUTE_COUNT)
/* Histograms: latency, queue wait, loop lag, then one per route. */
#define TL_SAMPLER_SERVER_HISTS    (3 + TL_ROUTE_COUNT)

/* What the previous sample read (the state of rates and deltas). The
 * snapshot's histogram pointers point into it. */
typedef struct tl_sampler_server {
  uint64_t prev[TL_SAMPLER_SERVER_COUNTERS];
  uint64_t loop_idle_ns;
  uint64_t block_seq;
  uint64_t block_seen_ns;    /* when the sampler saw the latest loop block */
  uint64_t procs_cost_ns;    /* what the last processes[] read cost */
  uint64_t procs_last_ns;    /* when it was read */
  tl_loop_counters loop_sum; /* every loop's counters added up */
  tl_loop_prev loop_prev[TL_SNAP_MAX_LOOPS];
  tl_hist_snap hist_now[TL_SAMPLER_SERVER_HISTS];
  tl_hist_snap hist_prev[TL_SAMPLER_SERVER_HISTS];
  tl_hist_snap hist_period[TL_SAMPLER_SERVER_HISTS];
} tl_sampler_server;

/* slow: re-read processes[] now even when reading it got costly. */
void tl_sampler_server_sample(tl_sampler_server *sv, tl_server *srv,
                              tl_snapshot *s, double period_s, bool slow,
                              tl_process_sums *sums);

#endif
