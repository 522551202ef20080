#include "config.h"

#include "base/hist.h"

#include <string.h>

int tl_hist_bucket_of(uint64_t v) {
  if (v < 16)
    return (int) v;
  int e = 63 - __builtin_clzll(v); /* e >= 4 */
  int sub = (int) ((v >> (e - 3)) & 7);
  int b = 16 + (e - 4) * 8 + sub;
  return b < TL_HIST_BUCKETS ? b : TL_HIST_BUCKETS - 1;
}

uint64_t tl_hist_bucket_upper(int i) {
  if (i < 16)
    return (uint64_t) i;
  int e = (i - 16) / 8 + 4;
  int sub = (i - 16) % 8;
  if (e >= 63)
    return UINT64_MAX;
  uint64_t base = (1ull << e) + ((uint64_t) sub << (e - 3));
  return base + (1ull << (e - 3)) - 1;
}

/* Single writer: a relaxed load and store is enough and avoids a locked
 * instruction on the hot path. */
static inline void bump(_Atomic uint64_t *c, uint64_t n) {
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                        memory_order_relaxed);
}

void tl_hist_record(tl_hist *h, uint64_t v) {
  bump(&h->bucket[tl_hist_bucket_of(v)], 1);
  bump(&h->count, 1);
  bump(&h->sum, v);
  if (v > atomic_load_explicit(&h->max, memory_order_relaxed))
    atomic_store_explicit(&h->max, v, memory_order_relaxed);
}

void tl_hist_read(const tl_hist *h, tl_hist_snap *out) {
  for (int i = 0; i < TL_HIST_BUCKETS; i++)
    out->bucket[i] = atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
  out->count = atomic_load_explicit(&h->count, memory_order_relaxed);
  out->sum = atomic_load_explicit(&h->sum, memory_order_relaxed);
  out->max = atomic_load_explicit(&h->max, memory_order_relaxed);
}

void tl_hist_diff(const tl_hist_snap *now, const tl_hist_snap *before,
                  tl_hist_snap *out) {
  uint64_t count = 0;
  int top = -1;
  for (int i = 0; i < TL_HIST_BUCKETS; i++) {
    uint64_t d = now->bucket[i] >= before->bucket[i]
                     ? now->bucket[i] - before->bucket[i]
                     : 0;
    out->bucket[i] = d;
    count += d;
    if (d)
      top = i;
  }
  out->count = count;
  out->sum = now->sum >= before->sum ? now->sum - before->sum : 0;
  /* The period's max is not kept per period: bound it by its top bucket
   * and by the all-time max. */
  out->max = top < 0 ? 0 : tl_hist_bucket_upper(top);
  if (out->max > now->max)
    out->max = now->max;
}

static double quantile(const tl_hist_snap *s, double q) {
  uint64_t rank = (uint64_t) (q * (double) s->count);
  if (rank >= s->count)
    rank = s->count - 1;
  uint64_t seen = 0;
  for (int i = 0; i < TL_HIST_BUCKETS; i++) {
    seen += s->bucket[i];
    if (seen > rank) {
      uint64_t u = tl_hist_bucket_upper(i);
      return (double) (u < s->max ? u : s->max);
    }
  }
  return (double) s->max;
}

void tl_hist_summarize(const tl_hist_snap *s, tl_hist_summary *out) {
  memset(out, 0, sizeof(*out));
  out->count = s->count;
  if (s->count == 0)
    return;
  out->mean = (double) s->sum / (double) s->count;
  out->p50 = quantile(s, 0.50);
  out->p90 = quantile(s, 0.90);
  out->p99 = quantile(s, 0.99);
  out->p999 = quantile(s, 0.999);
  out->max = (double) s->max;
}
