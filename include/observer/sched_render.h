/* JSON for scheduler slices: one slice (GET /sched, the stream event),
 * merged slices (the stream beyond its rate budget) and a Chrome
 * trace-event file (GET /sched/trace). Pure: any thread. */
#ifndef TL_OBSERVER_SCHED_RENDER_H
#define TL_OBSERVER_SCHED_RENDER_H

#include "base/buf.h"
#include "observer/sched_slices.h"

#include <stddef.h>

/* {"cpu":..,"tid":..,"start_ns":..,"end_ns":..,"end":..,"wake_ns":..|null,
 *  "in_tid":..|null,"in_comm":..,"in_pid":..|null,"on_lock":bool} */
void tl_sched_render_slice(tl_buf *b, const tl_sched_slice *s);

/* Slices merged per CPU and thread per bucket_ns: appends one object per
 * (bucket, cpu, tid) with start_ns (the first start), end_ns (the last
 * end), "slices" (how many), "preempted", "wait_ns" (their summed wake
 * waits). s is sorted by end_ns. Returns the number of objects. */
size_t tl_sched_render_merged(tl_buf *b, const tl_sched_slice *s, size_t n,
                              uint64_t bucket_ns);

typedef struct tl_sched_named {
  int tid;
  char name[32];
} tl_sched_named;

typedef struct tl_sched_step {
  int tid;
  uint64_t start_ns, end_ns, task;
  char name[32]; /* "cpu:20" */
} tl_sched_step;

/* A Chrome trace-event JSON object (ui.perfetto.dev, chrome://tracing):
 * process 1 "CPUs" with a track per CPU (ncpu) holding every slice, named
 * by its thread; process `pid` (ours) with a track per thread holding its
 * task steps (a thread's steps never overlap, so each track nests; its
 * slices would cross steps' edges, so they stay on the CPU tracks).
 * Times in microseconds. */
void tl_sched_render_chrome(tl_buf *b, int ncpu, int pid,
                            const tl_sched_slice *s, size_t n,
                            const tl_sched_named *names, size_t nnames,
                            const tl_sched_step *steps, size_t nsteps);

#endif
