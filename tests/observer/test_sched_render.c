/* test_sched_render.c - slice JSON (nulls for what is unknown) and the
 * stream's merged form, parsed strictly. */
#include "observer/sched_render.h"

#include <check.h>
#include "tl_check.h"
#include "tl_json.h"
#include <string.h>

static tl_sched_slice mk(int cpu, int tid, uint64_t s, uint64_t e, uint64_t w,
                         tl_sched_end end) {
  tl_sched_slice x;
  memset(&x, 0, sizeof x);
  x.cpu = cpu;
  x.tid = tid;
  x.start_ns = s;
  x.end_ns = e;
  x.wake_ns = w;
  x.end = end;
  x.in_tid = -1;
  x.in_pid = -1;
  strcpy(x.in_comm, "wrk \"1\"");
  return x;
}

START_TEST(slice_json_has_nulls_for_the_unknown) {
  tl_buf b;
  tl_buf_init(&b, NULL, 0);
  tl_sched_slice x = mk(1, 42, 1000, 2500, 0, TL_SEND_PREEMPTED);
  tl_sched_render_slice(&b, &x);
  tj *j = tj_parse(b.data, b.len);
  ck_assert_ptr_nonnull(j);
  ck_assert_int_eq((int) tj_num(j, "cpu", -1), 1);
  ck_assert_int_eq((int) tj_num(j, "tid", -1), 42);
  ck_assert_int_eq((int) tj_num(j, "start_ns", -1), 1000);
  ck_assert_int_eq((int) tj_num(j, "end_ns", -1), 2500);
  ck_assert_str_eq(tj_str(j, "end"), "preempted");
  ck_assert(tj_is_null(j, "wake_ns"));
  ck_assert(tj_is_null(j, "in_tid"));
  ck_assert(tj_is_null(j, "in_pid"));
  ck_assert_str_eq(tj_str(j, "in_comm"), "wrk \"1\"");
  tj_release(j);
  b.len = 0;
  x.wake_ns = 900;
  x.in_tid = 43;
  x.in_pid = 7;
  x.end = TL_SEND_BLOCKED;
  tl_sched_render_slice(&b, &x);
  j = tj_parse(b.data, b.len);
  ck_assert_int_eq((int) tj_num(j, "wake_ns", -1), 900);
  ck_assert_int_eq((int) tj_num(j, "in_tid", -1), 43);
  ck_assert_int_eq((int) tj_num(j, "in_pid", -1), 7);
  ck_assert_str_eq(tj_str(j, "end"), "blocked");
  ck_assert(!tj_get(j, "on_lock")->b);
  tj_release(j);
  b.len = 0;
  x.on_lock = true;
  tl_sched_render_slice(&b, &x);
  j = tj_parse(b.data, b.len);
  ck_assert(tj_get(j, "on_lock")->b);
  tj_release(j);
  tl_buf_close(&b);
}
END_TEST

START_TEST(merged_per_cpu_thread_and_bucket) {
  const uint64_t MS = 1000000;
  tl_sched_slice s[] = {
      mk(0, 1, 1 * MS, 2 * MS, 1 * MS - 500, TL_SEND_PREEMPTED),
      mk(0, 1, 3 * MS, 4 * MS, 0, TL_SEND_BLOCKED),
      mk(1, 1, 5 * MS, 6 * MS, 0, TL_SEND_BLOCKED), /* other CPU */
      mk(0, 2, 6 * MS, 7 * MS, 6 * MS - 100, TL_SEND_PREEMPTED),
      mk(0, 1, 12 * MS, 13 * MS, 0, TL_SEND_PREEMPTED), /* next bucket */
  };
  tl_buf b;
  tl_buf_init(&b, NULL, 0);
  tl_buf_putc(&b, '[');
  size_t n = tl_sched_render_merged(&b, s, 5, 10 * MS);
  tl_buf_putc(&b, ']');
  ck_assert_uint_eq(n, 4);
  tj *j = tj_parse(b.data, b.len);
  ck_assert_ptr_nonnull(j);
  ck_assert_uint_eq(j->n, 4);
  /* bucket 0, cpu 0, tid 1: two slices, one preempted, 500 ns waited. */
  ck_assert_int_eq((int) tj_num(j, "0.slices", -1), 2);
  ck_assert_int_eq((int) tj_num(j, "0.preempted", -1), 1);
  ck_assert_int_eq((int) tj_num(j, "0.wait_ns", -1), 500);
  ck_assert_int_eq((int) tj_num(j, "0.start_ns", -1), (int) (1 * MS));
  ck_assert_int_eq((int) tj_num(j, "0.end_ns", -1), (int) (4 * MS));
  ck_assert_int_eq((int) tj_num(j, "1.tid", -1), 2);
  ck_assert_int_eq((int) tj_num(j, "1.wait_ns", -1), 100);
  ck_assert_int_eq((int) tj_num(j, "2.cpu", -1), 1);
  ck_assert_int_eq((int) tj_num(j, "3.slices", -1), 1);
  ck_assert_int_eq((int) tj_num(j, "3.start_ns", -1), (int) (12 * MS));
  tj_release(j);
  tl_buf_close(&b);
}
END_TEST

TL_CHECK_MAIN("sched_render", slice_json_has_nulls_for_the_unknown,
              merged_per_cpu_thread_and_bucket)
