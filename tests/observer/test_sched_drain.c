/* test_sched_drain.c - the drain thread empties the per-CPU rings while
 * nobody takes its queue (the observer busy): two threads of this test
 * ping-pong through pipes for ~1 s, filtered by their tids, with rings of
 * 64 pages that hold a fifth of what they switch; the records all arrive,
 * none lost: as many switches of the main thread as the kernel counted in
 * its own voluntary and involuntary counters meanwhile. Tracepoints need
 * root: without it a counted skip (exit 77). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "observer/sched_drain.h"

#include <check.h>
#include "tl_check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 3000

static int ping[2], pong[2];
static atomic_int b_tid;

static void *b_main(void *arg) {
  (void) arg;
  atomic_store(&b_tid, (int) syscall(SYS_gettid));
  char c;
  while (read(ping[0], &c, 1) == 1 && c == 'p')
    if (write(pong[1], &c, 1) != 1)
      break;
  return NULL;
}

typedef struct tally {
  uint64_t records, lost, switches_of_a;
  int a;
} tally;

static void count(void *arg, const tl_sched_rec *r) {
  tally *t = arg;
  t->records++;
  if (r->kind == TL_SREC_LOST)
    t->lost += r->lost;
  if (r->kind == TL_SREC_SWITCH && r->prev_tid == t->a)
    t->switches_of_a++;
}

/* The kernel's own count of this thread's switches (both counters are
 * raised in the scheduler where sched_switch fires). */
static uint64_t switches_of_this_thread(void) {
  FILE *f = fopen("/proc/thread-self/status", "r");
  ck_assert_ptr_nonnull(f);
  char line[256];
  uint64_t sum = 0;
  int seen = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long long v;
    if (sscanf(line, "voluntary_ctxt_switches: %llu", &v) == 1 ||
        sscanf(line, "nonvoluntary_ctxt_switches: %llu", &v) == 1) {
      sum += v;
      seen++;
    }
  }
  fclose(f);
  ck_assert_int_eq(seen, 2);
  return sum;
}

/* A tracer of the tracepoints filtered to this thread and a partner b that
 * answers each byte on ping with one on pong (tids: this thread's, b's). */
static tl_sched_trace *open_pair(pthread_t *b, int tids[2]) {
  const char *why = NULL;
  long ncpu = sysconf(_SC_NPROCESSORS_CONF);
  tl_sched_trace *t = tl_sched_trace_open_tracepoints((int) ncpu, 64, &why);
  ck_assert_msg(t != NULL, "tracepoints: %s", why ? why : "?");
  ck_assert_int_eq(pipe(ping), 0);
  ck_assert_int_eq(pipe(pong), 0);
  ck_assert_int_eq(pthread_create(b, NULL, b_main, NULL), 0);
  while (atomic_load(&b_tid) == 0)
    usleep(1000);
  tids[0] = (int) syscall(SYS_gettid);
  tids[1] = atomic_load(&b_tid);
  ck_assert_int_eq(tl_sched_trace_set_threads(t, tids, 2), 0);
  return t;
}

/* rounds of: a byte to b, its answer, a 200 us sleep. */
static void ping_pong(int rounds) {
  char c = 'p';
  struct timespec gap = {.tv_sec = 0, .tv_nsec = 200000};
  for (int i = 0; i < rounds; i++) {
    ck_assert_int_eq(write(ping[1], &c, 1), 1);
    ck_assert_int_eq(read(pong[0], &c, 1), 1);
    nanosleep(&gap, NULL);
  }
}

static void close_pair(tl_sched_trace *t, pthread_t b) {
  char c = 'q';
  ck_assert_int_eq(write(ping[1], &c, 1), 1);
  pthread_join(b, NULL);
  tl_sched_trace_close(t);
}

START_TEST(the_thread_drains_while_nobody_takes) {
  pthread_t b;
  int tids[2];
  tl_sched_trace *t = open_pair(&b, tids);
  ck_assert(tl_sched_trace_filtered(t));
  tl_sched_drain *d = tl_sched_drain_start(t);
  ck_assert_ptr_nonnull(d);
  uint64_t kernel_before = switches_of_this_thread();
  tl_sched_trace_enable(t, true);
  ping_pong(ROUNDS);
  tl_sched_trace_enable(t, false);
  uint64_t kernel_count = switches_of_this_thread() - kernel_before;
  tally n = {.a = tids[0]};
  tl_sched_drain_take(d, count, &n);
  fprintf(stderr,
          "drain: %llu records (%llu switches of the main thread, the "
          "kernel counted %llu), %llu lost, rings of %zu KiB in all\n",
          (unsigned long long) n.records, (unsigned long long) n.switches_of_a,
          (unsigned long long) kernel_count, (unsigned long long) n.lost,
          tl_sched_trace_ring_bytes(t) / 1024);
  /* Each round's sleep blocks the main thread (its read of the answer
   * mostly does too, but not when the answer came first). */
  ck_assert_uint_ge(n.switches_of_a, ROUNDS);
  /* Every switch the kernel counted arrived, bar the few between reading
   * its counters and turning the tracepoints on or off. */
  ck_assert_uint_le(n.switches_of_a, kernel_count);
  ck_assert_uint_ge(n.switches_of_a + 4, kernel_count);
  /* The rings hold far less than that: only a drain meanwhile kept it. */
  ck_assert_uint_gt(n.records * 96, 2 * tl_sched_trace_ring_bytes(t));
  ck_assert_msg(n.lost <= n.records / 100, "%llu lost",
                (unsigned long long) n.lost);
  tl_sched_drain_stop(d);
  close_pair(t, b);
}
END_TEST

/* The queue handed over by a take is a fresh one's start: the records of
 * the next rounds go into a new queue, take after take (mutaudit3). */
START_TEST(records_after_a_take_go_into_a_new_queue) {
  pthread_t b;
  int tids[2];
  tl_sched_trace *t = open_pair(&b, tids);
  tl_sched_trace_enable(t, true);
  tl_sched_drain *d = tl_sched_drain_start(t);
  ck_assert_ptr_nonnull(d);
  for (int take = 0; take < 3; take++) {
    ping_pong(300);
    /* Time for the thread to drain into the queue after the take. */
    usleep(2 * 50 * 1000);
    tally n = {.a = tids[0]};
    tl_sched_drain_take(d, count, &n);
    /* Each round's sleep blocks the main thread at least once. */
    ck_assert_msg(n.switches_of_a >= 300, "take %d: %llu switches", take,
                  (unsigned long long) n.switches_of_a);
  }
  tl_sched_trace_enable(t, false);
  tl_sched_drain_stop(d);
  close_pair(t, b);
}
END_TEST

int main(void) {
  if (geteuid() != 0) {
    fprintf(stderr, "test_sched_drain: skipped: the sched tracepoints need "
                    "root\n");
    return 77;
  }
  Suite *s = suite_create("sched_drain");
  TCase *tc = tcase_create("sched_drain");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, the_thread_drains_while_nobody_takes);
  tcase_add_test(tc, records_after_a_take_go_into_a_new_queue);
  suite_add_tcase(s, tc);
  return tl_check_run(s);
}
