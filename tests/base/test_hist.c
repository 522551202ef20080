/* Unit tests: The latency histogram: buckets and quantiles. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tl_check.h"
#include "base/hist.h"

/* ---- histogram -------------------------------------------------------- */

START_TEST(hist_buckets_and_quantiles) {
  for (uint64_t v = 0; v < 5000000; v = v * 3 / 2 + 1) {
    int b = tl_hist_bucket_of(v);
    ck_assert_uint_le(v, tl_hist_bucket_upper(b));
    if (b > 0)
      ck_assert_uint_gt(v, tl_hist_bucket_upper(b - 1));
  }
  static tl_hist h;
  memset(&h, 0, sizeof(h));
  for (uint64_t i = 1; i <= 1000; i++)
    tl_hist_record(&h, i);
  static tl_hist_snap s, zero, d;
  tl_hist_read(&h, &s);
  tl_hist_summary sum;
  tl_hist_summarize(&s, &sum);
  ck_assert_uint_eq(sum.count, 1000);
  /* Within the bucket precision of 12.5%. */
  ck_assert(sum.p50 >= 500 && sum.p50 <= 500 * 1.13);
  ck_assert(sum.p99 >= 990 && sum.p99 <= 1000);
  ck_assert(sum.max == 1000);
  ck_assert(sum.mean > 500 && sum.mean < 501);
  memset(&zero, 0, sizeof(zero));
  tl_hist_diff(&s, &zero, &d);
  ck_assert_uint_eq(d.count, 1000);
  tl_hist_diff(&s, &s, &d);
  ck_assert_uint_eq(d.count, 0);
}
END_TEST

TL_CHECK_MAIN("hist", hist_buckets_and_quantiles)
