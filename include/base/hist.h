/* Log-linear histogram (8 sub-buckets per power of two, ~12.5% precision)
 * of non-negative integer values, e.g. latencies in microseconds.
 * Single writer (tl_hist_record, the owning thread), any number of
 * lock-free readers (tl_hist_read); readers diff two reads to get a
 * period's histogram. */
#ifndef TL_BASE_HIST_H
#define TL_BASE_HIST_H

#include <stdatomic.h>
#include <stdint.h>

#define TL_HIST_BUCKETS 320

typedef struct tl_hist {
  _Atomic uint64_t bucket[TL_HIST_BUCKETS];
  _Atomic uint64_t count;
  _Atomic uint64_t sum;
  _Atomic uint64_t max;
} tl_hist;

/* A plain copy, for arithmetic. */
typedef struct tl_hist_snap {
  uint64_t bucket[TL_HIST_BUCKETS];
  uint64_t count, sum, max;
} tl_hist_snap;

typedef struct tl_hist_summary {
  uint64_t count;
  double mean, p50, p90, p99, p999, max;
} tl_hist_summary;

int tl_hist_bucket_of(uint64_t v);
/* Upper bound (inclusive) of the values that fall in bucket i. */
uint64_t tl_hist_bucket_upper(int i);
void tl_hist_record(tl_hist *h, uint64_t v);
void tl_hist_read(const tl_hist *h, tl_hist_snap *out);
/* out = now - before (a period); max is taken from `now_max_period`,
 * which the caller tracks separately, or estimated from the top bucket. */
void tl_hist_diff(const tl_hist_snap *now, const tl_hist_snap *before,
                  tl_hist_snap *out);
/* Percentiles are bucket upper bounds clamped to max; values in the
 * histogram's unit. */
void tl_hist_summarize(const tl_hist_snap *s, tl_hist_summary *out);

#endif
