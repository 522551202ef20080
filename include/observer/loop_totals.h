/* The workload loops seen from the observer: their counters summed into
 * one set (the process's totals), and each loop's own figures for
 * server.loops[]. Observer thread only; reads the loops' counters
 * lock-free. */
#ifndef TL_OBSERVER_LOOP_TOTALS_H
#define TL_OBSERVER_LOOP_TOTALS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/hist.h"
#include "http/loop.h"

#define TL_SNAP_MAX_LOOPS 64

struct tl_server;

typedef struct tl_loop_snap {
  int index;
  int tid;
  uint64_t open, accepted, requests;
  double requests_rate;
  tl_hist_summary lag_ms_period; /* in us, rendered as ms */
  bool has_util;
  double util_pct;
} tl_loop_snap;

/* What the observer remembers of each loop between two samples. */
typedef struct tl_loop_prev {
  uint64_t requests, idle_ns;
  tl_hist_snap lag;
  bool seen;
} tl_loop_prev;

/* Sums every loop's histograms (bucket by bucket), idle time and blocks
 * into `sum` (the plain counters: sampler_server's table) and
 * fills out[0..*n) with each loop's own figures over `period_s`; prev
 * holds TL_SNAP_MAX_LOOPS entries. */
void tl_loop_totals(const struct tl_server *srv, tl_loop_counters *sum,
                    tl_loop_prev *prev, tl_loop_snap *out, int *n,
                    double period_s);

#endif
