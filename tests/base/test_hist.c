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

/* A period's max comes from its top bucket, but no value above the
 * largest ever recorded was seen: 1000 lies in the bucket up to 1023. */
START_TEST(hist_period_max_never_above_what_was_recorded) {
  static tl_hist h;
  memset(&h, 0, sizeof(h));
  for (int i = 0; i < 10; i++)
    tl_hist_record(&h, 1000);
  static tl_hist_snap s, zero, d;
  memset(&zero, 0, sizeof(zero));
  tl_hist_read(&h, &s);
  ck_assert_uint_gt(tl_hist_bucket_upper(tl_hist_bucket_of(1000)), 1000);
  tl_hist_diff(&s, &zero, &d);
  ck_assert_uint_eq(d.count, 10);
  ck_assert_uint_eq(d.max, 1000);
  tl_hist_summary sum;
  tl_hist_summarize(&d, &sum);
  ck_assert(sum.max == 1000 && sum.p99 == 1000);
}
END_TEST

/* Every quantile of one sample is that sample (an empty bucket below it
 * is no answer), and the tail of a hundred samples is its one outlier. */
START_TEST(hist_quantiles_of_few_samples) {
  static tl_hist h;
  memset(&h, 0, sizeof(h));
  tl_hist_record(&h, 5000);
  static tl_hist_snap s;
  tl_hist_read(&h, &s);
  tl_hist_summary sum;
  tl_hist_summarize(&s, &sum);
  ck_assert(sum.p50 == 5000 && sum.p90 == 5000 && sum.p99 == 5000 &&
            sum.p999 == 5000);
  memset(&h, 0, sizeof(h));
  for (int i = 0; i < 999; i++)
    tl_hist_record(&h, 10);
  tl_hist_record(&h, 100000);
  tl_hist_read(&h, &s);
  tl_hist_summarize(&s, &sum);
  ck_assert(sum.p50 == 10 && sum.p99 == 10);
  ck_assert(sum.p999 == 100000);
}
END_TEST

TL_CHECK_MAIN("hist", hist_buckets_and_quantiles,
              hist_period_max_never_above_what_was_recorded,
              hist_quantiles_of_few_samples)
