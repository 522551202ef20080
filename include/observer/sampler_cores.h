/* Per-core figures of the snapshot (cores[]): the kernel's time split of
 * each online core over the period (/proc/stat) and the steps our threads
 * ran on it (from the timeline). Observer thread only. */
#ifndef TL_OBSERVER_SAMPLER_CORES_H
#define TL_OBSERVER_SAMPLER_CORES_H

#include <stdbool.h>
#include <stdint.h>

#include "observer/procfs.h"
#include "observer/snapshot.h"

/* The previous sample's figures (the state of the rates). */
typedef struct tl_sampler_cores {
  tl_procfs_sysstat sys_prev, sys_now;
  bool have_sys_prev;
  uint64_t core_steps_prev[TL_SNAP_MAX_CORES];
  char file_buf[8192];
} tl_sampler_cores;

/* core_steps: steps per core so far ([TL_SNAP_MAX_CORES]). */
void tl_sampler_cores_sample(tl_sampler_cores *sc, tl_snapshot *s,
                             const uint64_t *core_steps, double period_s);

#endif
