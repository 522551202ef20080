/* The history ring: the last TL_HISTORY_SECONDS of per-period series, the
 * figures the dashboard's charts draw, kept so that a dashboard opened
 * after a load ran still shows it. Fixed capacity, computed from the
 * sample period at start (and capped), allocated once: its memory is
 * capacity x sizeof(tl_history_period) (about 0.3 MB at the default
 * --sample-ms 500; at most TL_HISTORY_MAX_PERIODS periods). Observer
 * thread only. */
#ifndef TL_OBSERVER_HISTORY_H
#define TL_OBSERVER_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "base/router.h"
#include "observer/snapshot.h"

#define TL_HISTORY_SECONDS     300
/* 5 minutes at the shortest --sample-ms (50). */
#define TL_HISTORY_MAX_PERIODS 6000
/* Per-core and per-worker figures kept for at most this many of each. */
#define TL_HISTORY_MAX_CORES   64
#define TL_HISTORY_MAX_WORKERS 64
/* A share (0..100 %) kept in a byte; this value means "not known". */
#define TL_HISTORY_NO_PCT      255

/* One period. Latencies are milliseconds, histogram bucket upper bounds
 * (as in /stats); NAN where the period had none or the figure is unknown. */
typedef struct tl_history_period {
  uint64_t seq;
  double time_ms; /* wall clock, Unix epoch ms */
  float period_ms;
  float requests_rate, errors_rate;
  float lat_p50, lat_p90, lat_p99;
  float route_rate[TL_ROUTE_COUNT];
  float route_p50[TL_ROUTE_COUNT], route_p99[TL_ROUTE_COUNT];
  float queue_depth;
  float lag_p50, lag_p99, lag_max, loop_util_pct;
  float coro_alive, coro_runnable; /* NAN outside coro mode */
  uint8_t ncores, nworkers;
  uint8_t core_busy_pct[TL_HISTORY_MAX_CORES]; /* user + system + irq */
  /* by worker index: CPU %, on a core %, waiting for a core % */
  uint8_t worker_cpu_pct[TL_HISTORY_MAX_WORKERS];
  uint8_t worker_on_cpu_pct[TL_HISTORY_MAX_WORKERS];
  uint8_t worker_runq_pct[TL_HISTORY_MAX_WORKERS];
} tl_history_period;

typedef struct tl_history tl_history;

/* Capacity: enough periods of sample_ms for TL_HISTORY_SECONDS, capped. */
tl_history *tl_history_init(int sample_ms);
void tl_history_close(tl_history *h);

int tl_history_capacity(const tl_history *h);
int tl_history_count(const tl_history *h);
/* Bytes the ring holds (allocated once, at init). */
size_t tl_history_bytes(const tl_history *h);
/* Periods held, oldest first: 0 .. count-1. */
const tl_history_period *tl_history_at(const tl_history *h, int i);

/* Appends one period; the oldest is overwritten once the ring is full. */
void tl_history_push(tl_history *h, const tl_history_period *p);
/* Extracts the period's figures from a fresh snapshot and pushes them
 * (errors per second from the status counters' change since the previous
 * call). */
void tl_history_record(tl_history *h, const tl_snapshot *s);

#endif
