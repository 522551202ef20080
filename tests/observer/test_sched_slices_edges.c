/* Slices at the edges the first tests left open (mutaudit2): a thread
 * woken twice before it runs waits from the first wakeup; a finished slice
 * waits up to a second (not a millisecond) for its successor's pid; and
 * wake times survive the growth of the tid table (hundreds of threads). */
#include "observer/sched_slices.h"

#include <check.h>
#include "tl_check.h"
#include <stdlib.h>
#include <string.h>

#define US 1000ull
#define MS 1000000ull
#define NT 300 /* threads: the table of 256 grows twice */

static bool ours(void *arg, int tid) {
  (void) arg;
  return tid >= 1000 && tid < 1000 + NT;
}

typedef struct got {
  tl_sched_slice s[NT + 8];
  int n;
} got;

static void emit(void *arg, const tl_sched_slice *s) {
  got *g = arg;
  ck_assert_int_lt(g->n, NT + 8);
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

START_TEST(woken_twice_waits_from_the_first) {
  tl_sched_slices *b = tl_sched_slices_new(1, ours, NULL);
  const tl_sched_rec recs[] = {
      wk(5 * US, 0, 1000),
      wk(8 * US, 0, 1000), /* a second wakeup: already runnable */
      sw(10 * US, 0, 0, 0, 0, 1000, "tl-worker-0"),
      sw(20 * US, 0, 7, 1000, 1, 0, "swapper/0"),
  };
  for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++)
    tl_sched_slices_push(b, &recs[i]);
  got *g = calloc(1, sizeof *g);
  tl_sched_slices_flush(b, 5000 * MS, emit, g);
  ck_assert_int_eq(g->n, 1);
  ck_assert_uint_eq(g->s[0].wake_ns, 5 * US);
  free(g);
  tl_sched_slices_free(b);
}
END_TEST

START_TEST(a_slice_waits_for_its_successors_pid) {
  tl_sched_slices *b = tl_sched_slices_new(1, ours, NULL);
  tl_sched_rec in = sw(10 * US, 0, 0, 0, 0, 1000, "tl-worker-0");
  tl_sched_rec out = sw(20 * US, 0, 7, 1000, 0, 999, "wrk");
  tl_sched_slices_push(b, &in);
  tl_sched_slices_push(b, &out);
  got *g = calloc(1, sizeof *g);
  /* 500 ms later wrk still runs: whose it is is not known yet. */
  tl_sched_slices_flush(b, 500 * MS, emit, g);
  ck_assert_int_eq(g->n, 0);
  tl_sched_rec wrk_out = sw(600 * MS, 0, 900, 999, 1, 0, "swapper/0");
  tl_sched_slices_push(b, &wrk_out);
  tl_sched_slices_flush(b, 700 * MS, emit, g);
  ck_assert_int_eq(g->n, 1);
  ck_assert_int_eq(g->s[0].in_pid, 900);
  ck_assert_str_eq(g->s[0].in_comm, "wrk");
  free(g);
  tl_sched_slices_free(b);
}
END_TEST

START_TEST(wake_times_survive_the_table_growing) {
  tl_sched_slices *b = tl_sched_slices_new(1, ours, NULL);
  /* NT threads woken at 1..NT us, then each runs in turn from 1 ms. */
  for (int k = 0; k < NT; k++) {
    tl_sched_rec w = wk((uint64_t) (k + 1) * US, 0, 1000 + k);
    tl_sched_slices_push(b, &w);
  }
  for (int k = 0; k < NT; k++) {
    uint64_t t = 1 * MS + (uint64_t) k * 10 * US;
    tl_sched_rec in = sw(t, 0, 0, 0, 0, 1000 + k, "tl-worker");
    tl_sched_rec out = sw(t + 5 * US, 0, 7, 1000 + k, 1, 0, "swapper/0");
    tl_sched_slices_push(b, &in);
    tl_sched_slices_push(b, &out);
  }
  got *g = calloc(1, sizeof *g);
  tl_sched_slices_flush(b, 5000 * MS, emit, g);
  ck_assert_int_eq(g->n, NT);
  for (int k = 0; k < NT; k++) {
    ck_assert_int_eq(g->s[k].tid, 1000 + k);
    ck_assert_msg(g->s[k].wake_ns == (uint64_t) (k + 1) * US,
                  "tid %d: woken at %llu ns, not %llu", 1000 + k,
                  (unsigned long long) g->s[k].wake_ns,
                  (unsigned long long) (k + 1) * US);
  }
  free(g);
  tl_sched_slices_free(b);
}
END_TEST

TL_CHECK_MAIN("sched_slices_edges", woken_twice_waits_from_the_first,
              a_slice_waits_for_its_successors_pid,
              wake_times_survive_the_table_growing)
