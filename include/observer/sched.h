/* Scheduler lanes: the source chosen at start (tracepoints, switches or
 * sampled, with its reason), a timer on the observer loop that drains the
 * tracer's rings into slices, per-thread figures (switches, preemptions,
 * wake->run latency), the flight recorder of the last 10 s, the stream
 * event `sched`, and GET /sched and /sched/trace. Observer thread only. */
#ifndef TL_OBSERVER_SCHED_H
#define TL_OBSERVER_SCHED_H

#include "base/buf.h"
#include "core/server.h"
#include "observer/admin_conn.h"
#include "observer/sse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct tl_sched tl_sched;

/* Decides the source (cfg.sched_trace) and starts the drain timer. */
tl_sched *tl_sched_init(uv_loop_t *loop, tl_server *srv, tl_sse *sse);
/* Closes the timer (the loop then runs its close callbacks). */
void tl_sched_close_handles(tl_sched *s);
/* After the loop has closed the handles. */
void tl_sched_free(tl_sched *s);

/* Where GET /sched/trace finds the task steps: the sampler's snapshot
 * (its timeline), which lives as long as the sampler. */
struct tl_snapshot;
void tl_sched_set_snapshot(tl_sched *s, const struct tl_snapshot *snap);

/* GET /sched and /sched/... (path p of plen bytes, query q). */
void tl_sched_handle(tl_sched *s, tl_admin_conn *c, const char *p, size_t plen,
                     const char *q, size_t qlen);

/* /stats: "sched_source":...,"sched_source_reason":...,"sched_tracing":...,
 * (with the comma). */
void tl_sched_kernel_json(const tl_sched *s, tl_buf *b);

/* One thread's tracer figures, for /stats threads[]. */
typedef struct tl_sched_thread_figs {
  bool have; /* the tracer has seen this thread */
  uint64_t switches, preempted, wakes;
  uint64_t wait_ns; /* summed wake->run waits (exact) */
  double wake_p50_us, wake_p99_us, wake_max_us;
} tl_sched_thread_figs;
void tl_sched_thread_figures(const tl_sched *s, int tid,
                             tl_sched_thread_figs *out);
/* "sched":{...} or "sched":null, with a trailing comma. */
void tl_sched_thread_json(tl_buf *b, const tl_sched_thread_figs *f);

#endif
