/* Process-wide figures of the snapshot: CPU time and its rates
 * (/proc/self/stat), resident memory (statm), context switches of every
 * thread (getrusage), open descriptors, and the cores the process may use.
 * Observer thread only. */
#ifndef TL_OBSERVER_SAMPLER_PROCESS_H
#define TL_OBSERVER_SAMPLER_PROCESS_H

#include <stdbool.h>
#include <stdint.h>

#include "observer/snapshot.h"

/* The previous sample's figures (the state of the rates). */
typedef struct tl_sampler_process {
  long clk_tck, page_size;
  uint64_t ticks_user, ticks_sys, ctx_vol, ctx_invol;
  uint64_t fds_at_ns; /* the descriptor count's last read; 0: never */
  char file_buf[8192];
} tl_sampler_process;

void tl_sampler_process_init(tl_sampler_process *sp);
/* slow: re-read what changes rarely now; the descriptor count (a listing
 * of every descriptor, thousands with many threads' /proc files kept open)
 * at most every TL_PROC_SLOW_NS. */
void tl_sampler_process_sample(tl_sampler_process *sp, tl_snapshot *s,
                               double period_s, bool slow);
/* The cores the process may use (s->cpus_allowed, cpus_allowed_list): the
 * main thread's mask (taskset, cgroup cpuset), which the loop keeps. */
void tl_sampler_process_mask(tl_snapshot *s);

#endif
