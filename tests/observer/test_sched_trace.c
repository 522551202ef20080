/* test_sched_trace.c - the kernel filter's text: single tids, ranges of
 * consecutive tids, both fields, and a list too long for the kernel. */
#include "observer/sched_trace.h"

#include <check.h>
#include "tl_check.h"
#include <string.h>

START_TEST(filter_text_uses_ranges) {
  char out[256];
  const int tids[] = {107, 100, 101, 102, 200};
  int n = tl_sched_trace_filter_text("prev_pid", "next_pid", tids, 5, out,
                                     sizeof out);
  ck_assert_int_eq(n, (int) strlen(out));
  ck_assert_str_eq(out, "(prev_pid>=100&&prev_pid<=102)||"
                        "(next_pid>=100&&next_pid<=102)||"
                        "prev_pid==107||next_pid==107||"
                        "prev_pid==200||next_pid==200");
  n = tl_sched_trace_filter_text("pid", NULL, tids, 5, out, sizeof out);
  ck_assert_str_eq(out, "(pid>=100&&pid<=102)||pid==107||pid==200");
}
END_TEST

START_TEST(filter_text_too_long_is_refused) {
  int tids[400];
  for (int i = 0; i < 400; i++)
    tids[i] = 1000 + 2 * i; /* no two consecutive: no ranges */
  char out[4000];
  ck_assert_int_eq(tl_sched_trace_filter_text("prev_pid", "next_pid", tids, 400,
                                              out, sizeof out),
                   -1);
  /* The same count, consecutive: one range. */
  for (int i = 0; i < 400; i++)
    tids[i] = 1000 + i;
  ck_assert_int_gt(
      tl_sched_trace_filter_text("pid", NULL, tids, 400, out, sizeof out), 0);
  ck_assert_str_eq(out, "(pid>=1000&&pid<=1399)");
}
END_TEST

TL_CHECK_MAIN("sched_trace", filter_text_uses_ranges,
              filter_text_too_long_is_refused)
