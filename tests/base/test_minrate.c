/* Unit tests: the minimum-rate window: the first second is free, a trickle
 * is caught within the window, an honest slow stream never is, and a fast
 * start does not pay for a trickle later. */
#include "config.h"

#include <check.h>

#include "tl_check.h"
#include "base/minrate.h"

/* Feeds rate bytes/s from `from` to `to` ms, judged every step ms; returns
 * the first time it was too slow, or 0. */
static uint64_t run(tl_minrate *m, uint64_t *bytes, uint64_t from, uint64_t to,
                    uint64_t step, uint64_t rate, uint64_t min) {
  for (uint64_t t = from + step; t <= to; t += step) {
    *bytes += rate * step / 1000;
    if (tl_minrate_too_slow(m, t, *bytes, min))
      return t;
  }
  return 0;
}

START_TEST(minrate_first_second_is_free) {
  tl_minrate m;
  tl_minrate_start(&m, 5000, 0);
  ck_assert(!tl_minrate_too_slow(&m, 5000, 0, 1024));
  ck_assert(!tl_minrate_too_slow(&m, 5999, 0, 1024));
  ck_assert(tl_minrate_too_slow(&m, 6000, 0, 1024));
}
END_TEST

START_TEST(minrate_trickle_is_cut_honest_is_not) {
  tl_minrate m;
  uint64_t bytes = 0;
  /* 5 bytes/s, judged every second: cut at the first judgement. */
  tl_minrate_start(&m, 0, 0);
  ck_assert_uint_eq(run(&m, &bytes, 0, 30000, 1000, 5, 1024), 1000);
  /* 8 KiB/s for a minute, judged every 250 ms or every second: never. */
  bytes = 0;
  tl_minrate_start(&m, 0, 0);
  ck_assert_uint_eq(run(&m, &bytes, 0, 60000, 250, 8192, 1024), 0);
  bytes = 0;
  tl_minrate_start(&m, 0, 0);
  ck_assert_uint_eq(run(&m, &bytes, 0, 60000, 1000, 8192, 1024), 0);
  /* Just above and just below the minimum. */
  bytes = 0;
  tl_minrate_start(&m, 0, 0);
  ck_assert_uint_eq(run(&m, &bytes, 0, 60000, 1000, 1100, 1024), 0);
  bytes = 0;
  tl_minrate_start(&m, 0, 0);
  ck_assert_uint_eq(run(&m, &bytes, 0, 60000, 1000, 900, 1024), 1000);
}
END_TEST

START_TEST(minrate_fast_start_does_not_pay_for_a_trickle) {
  tl_minrate m;
  uint64_t bytes = 0;
  tl_minrate_start(&m, 0, 0);
  /* 1 MiB/s for 10 s, then 5 bytes/s: cut within the window (2 s) plus
   * one judgement. */
  ck_assert_uint_eq(run(&m, &bytes, 0, 10000, 500, 1 << 20, 1024), 0);
  uint64_t t = run(&m, &bytes, 10000, 60000, 500, 5, 1024);
  ck_assert_uint_gt(t, 10000);
  ck_assert_uint_le(t, 10000 + TL_MINRATE_WINDOW_MS + 500);
}
END_TEST

START_TEST(minrate_restart_forgets) {
  tl_minrate m;
  tl_minrate_start(&m, 0, 0);
  ck_assert(!tl_minrate_too_slow(&m, 900, 0, 1024));
  /* Restarted (e.g. after the reader paused): a new free second. */
  tl_minrate_start(&m, 900, 0);
  ck_assert(!tl_minrate_too_slow(&m, 1500, 0, 1024));
  ck_assert(tl_minrate_too_slow(&m, 1900, 0, 1024));
}
END_TEST

TL_CHECK_MAIN("minrate", minrate_first_second_is_free,
              minrate_trickle_is_cut_honest_is_not,
              minrate_fast_start_does_not_pay_for_a_trickle,
              minrate_restart_forgets)
