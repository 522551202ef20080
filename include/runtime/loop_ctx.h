/* What one event loop's code below http/ reads: the executors and tasks
 * of that loop see the process through this narrow context (the config,
 * the pool, the live mode, the docroot) and the loop through the parts
 * they use (its libuv loop, timers, pool inbox, counters), never the whole
 * server (core/server.h) nor the connection module (http/). */
#ifndef TL_RUNTIME_LOOP_CTX_H
#define TL_RUNTIME_LOOP_CTX_H

#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

#include "base/hist.h"
#include "base/mode.h"
#include "base/router.h"
#include "runtime/config.h"
#include "runtime/hrtimer.h"
#include "runtime/pool.h"

/* What a loop counts. Written by the loop thread only (tl_count), read
 * lock-free by the observer. */
typedef struct tl_loop_counters {
  _Alignas(64) _Atomic uint64_t accepted;
  _Atomic uint64_t refused; /* over --max-conns */
  _Atomic uint64_t open;
  _Atomic uint64_t requests;
  _Atomic uint64_t by_class[6]; /* index status/100, 0 unused */
  _Atomic uint64_t by_route[TL_ROUTE_COUNT];
  _Atomic uint64_t rejected;     /* 503 because the queue was full */
  _Atomic uint64_t send_submits; /* io_uring submissions of responses */
  _Atomic uint64_t send_writes;  /* connection writes in them */
  tl_hist latency_us;            /* request complete -> written */
  tl_hist route_latency_us[TL_ROUTE_COUNT];
  tl_hist queue_wait_us;         /* time tasks spent in the pool queue */
  tl_hist loop_lag_us;           /* timer drift of the loop */
  _Atomic uint64_t loop_idle_ns; /* uv_metrics_idle_time */
  _Atomic uint64_t inflight;     /* tasks_inflight, every 50 ms */
  /* The longest recent CPU step that ran inline on the loop (async mode):
   * block_seq changes whenever a new one is recorded. */
  _Atomic uint64_t block_seq;
  _Atomic uint64_t block_task;
  _Atomic uint64_t block_us;
  _Atomic uint64_t block_route;
} tl_loop_counters;

typedef struct tl_loop_ctx {
  /* Process-wide, immutable while the loop runs (the server sets them
   * before it starts the loop's thread). */
  const tl_config *cfg;          /* the parsed command line */
  tl_pool *pool;                 /* tasks are submitted to it (its insides are
                               the pool's: its mutex and atomics) */
  const _Atomic int *mode;       /* tl_mode of tasks admitted from now on:
                               atomic, written by the main loop (control) */
  const _Atomic int *admin_port; /* the observer's port for the index
                               page: atomic, the main thread sets it once
                               the observer listens (loops 1.. already run) */
  int docroot_fd;                /* for /static/ */
  /* This loop's, immutable after tl_loop_init. */
  uv_loop_t *uv;
  int index;
  tl_hrtimer *hrt;         /* loop thread only: IO steps waiting */
  tl_pool_inbox *inbox;    /* pool jobs of this loop's tasks come back here */
  tl_loop_counters *stats; /* the loop thread writes, the observer reads */
} tl_loop_ctx;

/* Any thread: the mode new tasks are admitted under. */
static inline tl_mode tl_loop_ctx_mode(const tl_loop_ctx *c) {
  return (tl_mode) atomic_load_explicit(c->mode, memory_order_relaxed);
}

/* dst += src, field by field (histograms bucket by bucket, max of max,
 * the longest latest block). dst is the caller's own: no other thread
 * writes it. Any thread. */
void tl_loop_counters_add(tl_loop_counters *dst, const tl_loop_counters *src);
/* dst = src, word by word (relaxed loads and stores). Any thread. */
void tl_loop_counters_copy(tl_loop_counters *dst, const tl_loop_counters *src);

/* Single-writer counter bump for tl_loop_counters. */
static inline void tl_count(_Atomic uint64_t *c, uint64_t n) {
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                        memory_order_relaxed);
}

#endif
