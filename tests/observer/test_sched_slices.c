/* test_sched_slices.c - slices from synthetic scheduler records: ends,
 * wake latencies, who came in, the reorder window and lost records. */
#include "observer/sched_slices.h"

#include <check.h>
#include "tl_check.h"
#include <string.h>

#define US 1000ull

static bool ours(void *arg, int tid) {
  (void) arg;
  return tid == 100 || tid == 101;
}

typedef struct got {
  tl_sched_slice s[32];
  int n;
} got;

static void emit(void *arg, const tl_sched_slice *s) {
  got *g = arg;
  ck_assert_int_lt(g->n, 32);
  g->s[g->n++] = *s;
}

static tl_sched_rec sw(uint64_t t, int cpu, int pid, int prev, int64_t st,
                       int next, const char *comm) {
  tl_sched_rec r;
  memset(&r, 0, sizeof r);
  r.t_ns = t;
  r.cpu = cpu;
  r.kind = TL_SREC_SWITCH;
  r.pid = pid;
  r.prev_tid = prev;
  r.prev_state = st;
  r.next_tid = next;
  strcpy(r.next_comm, comm);
  return r;
}

static tl_sched_rec wk(uint64_t t, int cpu, int tid) {
  tl_sched_rec r;
  memset(&r, 0, sizeof r);
  r.t_ns = t;
  r.cpu = cpu;
  r.kind = TL_SREC_WAKEUP;
  r.tid = tid;
  return r;
}

START_TEST(ends_waits_and_who_came_in) {
  tl_sched_slices *b = tl_sched_slices_new(2, ours, NULL);
  const tl_sched_rec recs[] = {
      sw(10 * US, 0, 0, 0, 0, 100, "tl-worker-0"),
      wk(5 * US, 1, 100), /* pushed late, earlier in time: reordered */
      sw(20 * US, 0, 7, 100, 0, 999, "wrk"), /* R: preempted */
      sw(30 * US, 0, 900, 999, 1, 100, "tl-worker-0"),
      sw(40 * US, 0, 7, 100, 1, 0, "swapper/0"), /* S: blocked */
      wk(45 * US, 1, 100),
      sw(50 * US, 0, 0, 0, 0, 101, "tl-worker-1"),
      sw(60 * US, 0, 7, 101, 0x100, 100, "tl-worker-0"), /* R+ */
      sw(70 * US, 0, 7, 100, 0x10, 0, "swapper/0"),      /* X: exit */
      sw(80 * US, 0, 0, 0, 0, 0, "swapper/0"),
  };
  for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++)
    tl_sched_slices_push(b, &recs[i]);
  got g = {.n = 0};
  tl_sched_slices_flush(b, 100 * US, emit, &g);
  ck_assert_int_eq(g.n, 4);
  /* 1: 100 ran 10-20, woken at 5, preempted by wrk of process 900. */
  ck_assert_int_eq(g.s[0].tid, 100);
  ck_assert_uint_eq(g.s[0].start_ns, 10 * US);
  ck_assert_uint_eq(g.s[0].end_ns, 20 * US);
  ck_assert_uint_eq(g.s[0].wake_ns, 5 * US);
  ck_assert_int_eq(g.s[0].end, TL_SEND_PREEMPTED);
  ck_assert_int_eq(g.s[0].in_tid, -1);
  ck_assert_int_eq(g.s[0].in_pid, 900);
  ck_assert_str_eq(g.s[0].in_comm, "wrk");
  /* 2: runnable since its preemption at 20; blocked; idle came in. */
  ck_assert_uint_eq(g.s[1].start_ns, 30 * US);
  ck_assert_uint_eq(g.s[1].wake_ns, 20 * US);
  ck_assert_int_eq(g.s[1].end, TL_SEND_BLOCKED);
  ck_assert_int_eq(g.s[1].in_pid, 0);
  /* 3: 101, never seen waking: wake unknown; preempted in the kernel (R+)
   * by one of ours, who is named. */
  ck_assert_int_eq(g.s[2].tid, 101);
  ck_assert_uint_eq(g.s[2].wake_ns, 0);
  ck_assert_int_eq(g.s[2].end, TL_SEND_PREEMPTED);
  ck_assert_int_eq(g.s[2].in_tid, 100);
  ck_assert_int_eq(g.s[2].in_pid, 7);
  /* 4: 100 again: woken at 45 (the wakeup while it slept), then exits. */
  ck_assert_int_eq(g.s[3].tid, 100);
  ck_assert_uint_eq(g.s[3].wake_ns, 45 * US);
  ck_assert_int_eq(g.s[3].end, TL_SEND_EXIT);
  for (int i = 0; i < g.n; i++)
    ck_assert_int_eq(g.s[i].cpu, 0);
  tl_sched_slices_free(b);
}
END_TEST

START_TEST(window_holds_records_until_cutoff) {
  tl_sched_slices *b = tl_sched_slices_new(2, ours, NULL);
  tl_sched_rec a = sw(10 * US, 1, 0, 0, 0, 101, "x");
  tl_sched_rec c = sw(30 * US, 1, 7, 101, 1, 0, "swapper/1");
  tl_sched_rec d = sw(40 * US, 1, 0, 0, 0, 0, "swapper/1");
  tl_sched_slices_push(b, &c);
  tl_sched_slices_push(b, &d);
  got g = {.n = 0};
  tl_sched_slices_flush(b, 20 * US, emit, &g); /* nothing due yet */
  ck_assert_int_eq(g.n, 0);
  tl_sched_slices_push(b, &a); /* the switch-in arrives after, in time */
  tl_sched_slices_flush(b, 50 * US, emit, &g);
  ck_assert_int_eq(g.n, 1);
  ck_assert_uint_eq(g.s[0].start_ns, 10 * US);
  ck_assert_uint_eq(g.s[0].end_ns, 30 * US);
  ck_assert_int_eq(g.s[0].cpu, 1);
  tl_sched_slices_free(b);
}
END_TEST

START_TEST(lost_records_make_a_gap_not_a_slice) {
  tl_sched_slices *b = tl_sched_slices_new(2, ours, NULL);
  tl_sched_rec in = sw(10 * US, 0, 0, 0, 0, 100, "x");
  tl_sched_rec lost;
  memset(&lost, 0, sizeof lost);
  lost.t_ns = 15 * US;
  lost.cpu = 0;
  lost.kind = TL_SREC_LOST;
  lost.lost = 12;
  tl_sched_rec out = sw(20 * US, 0, 7, 100, 1, 0, "swapper/0");
  tl_sched_rec in2 = sw(30 * US, 0, 0, 0, 0, 100, "x");
  tl_sched_rec out2 = sw(40 * US, 0, 7, 100, 1, 0, "swapper/0");
  tl_sched_slices_push(b, &in);
  tl_sched_slices_push(b, &lost);
  tl_sched_slices_push(b, &out);
  tl_sched_slices_push(b, &in2);
  tl_sched_slices_push(b, &out2);
  got g = {.n = 0};
  /* Far beyond: the last slice is emitted without a successor's pid. */
  tl_sched_slices_flush(b, 5000000 * US, emit, &g);
  ck_assert_int_eq(g.n, 1);
  ck_assert_uint_eq(g.s[0].start_ns, 30 * US);
  ck_assert_int_eq(g.s[0].in_pid, 0);
  ck_assert_uint_eq(tl_sched_slices_lost_per_cpu(b)[0], 12);
  ck_assert_uint_eq(tl_sched_slices_lost_per_cpu(b)[1], 0);
  tl_sched_counts c;
  tl_sched_slices_counts(b, &c);
  ck_assert_uint_eq(c.lost, 12);
  ck_assert_uint_eq(c.records, 5);
  tl_sched_slices_free(b);
}
END_TEST

START_TEST(other_threads_are_not_ours) {
  tl_sched_slices *b = tl_sched_slices_new(1, ours, NULL);
  /* A thread that is not ours (the kernel filter let it pass): no slice. */
  tl_sched_rec in = sw(10 * US, 0, 0, 0, 0, 555, "other");
  tl_sched_rec out = sw(20 * US, 0, 555, 555, 1, 0, "swapper/0");
  tl_sched_slices_push(b, &in);
  tl_sched_slices_push(b, &out);
  got g = {.n = 0};
  tl_sched_slices_flush(b, 5000000 * US, emit, &g);
  ck_assert_int_eq(g.n, 0);
  ck_assert_str_eq(tl_sched_end_name(tl_sched_end_of_state(0x100)),
                   "preempted");
  ck_assert_str_eq(tl_sched_end_name(tl_sched_end_of_state(0x2)), "blocked");
  ck_assert_str_eq(tl_sched_end_name(tl_sched_end_of_state(0x20)), "exit");
  tl_sched_slices_free(b);
}
END_TEST

START_TEST(reset_forgets_who_was_on_a_cpu) {
  tl_sched_slices *b = tl_sched_slices_new(1, ours, NULL);
  tl_sched_rec in = sw(10 * US, 0, 0, 0, 0, 100, "x");
  tl_sched_slices_push(b, &in);
  got g = {.n = 0};
  tl_sched_slices_flush(b, 20 * US, emit, &g);
  /* Tracing paused here: the switch-out below must not close a slice
   * that began before the pause. */
  tl_sched_slices_reset(b);
  tl_sched_rec out = sw(900 * US, 0, 7, 100, 1, 0, "swapper/0");
  tl_sched_slices_push(b, &out);
  tl_sched_slices_flush(b, 5000000 * US, emit, &g);
  ck_assert_int_eq(g.n, 0);
  tl_sched_counts c;
  tl_sched_slices_counts(b, &c);
  ck_assert_uint_eq(c.records, 2);
  tl_sched_slices_free(b);
}
END_TEST

TL_CHECK_MAIN("sched_slices", ends_waits_and_who_came_in,
              window_holds_records_until_cutoff,
              lost_records_make_a_gap_not_a_slice, other_threads_are_not_ours,
              reset_forgets_who_was_on_a_cpu)
