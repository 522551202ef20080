/* The execution modes really differ: the same requests against the real
 * server in async, pool and hybrid mode. Bounds are generous (noisy 2-core
 * machine); what is asserted is the shape the model predicts. */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include "tl_check.h"
#include <sched.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tl_json.h"
#include "tl_testutil.h"

#define N_IO 40

/* 40 concurrent GET /io?ms=200 on 40 connections; returns the wall time
 * until the last response, and checks every response. *nthreads (if not
 * NULL): how many distinct threads (X-Thread) answered. */
static double io_burst_on(int port, const char *expect_thread_prefix,
                          int *nthreads) {
  char seen[N_IO][256];
  int nseen = 0;
  int fds[N_IO];
  for (int i = 0; i < N_IO; i++)
    fds[i] = tl_connect(port);
  double t0 = tl_now_s();
  for (int i = 0; i < N_IO; i++)
    tl_send_str(fds[i], "GET /io?ms=200 HTTP/1.1\r\nHost: t\r\n\r\n");
  for (int i = 0; i < N_IO; i++) {
    tl_resp r;
    ck_assert_int_eq(tl_read_resp(fds[i], &r, false), 0);
    ck_assert_int_eq(r.status, 200);
    char th[256];
    ck_assert(tl_resp_find_header(&r, "X-Thread", th, sizeof(th)));
    ck_assert_msg(
        strncmp(th, expect_thread_prefix, strlen(expect_thread_prefix)) == 0,
        "X-Thread %s, expected %s*", th, expect_thread_prefix);
    bool known = false;
    for (int k = 0; k < nseen; k++)
      known |= strcmp(seen[k], th) == 0;
    if (!known)
      snprintf(seen[nseen++], sizeof(seen[0]), "%s", th);
    tl_resp_free(&r);
  }
  double dt = tl_now_s() - t0;
  for (int i = 0; i < N_IO; i++)
    close(fds[i]);
  if (nthreads)
    *nthreads = nseen;
  return dt;
}

static double io_burst(int port, const char *expect_thread_prefix) {
  return io_burst_on(port, expect_thread_prefix, NULL);
}

static void start_mode(tl_proc *p, const char *mode, const char *threads) {
  const char *args[] = {"--mode", mode, "--threads", threads, NULL};
  tl_proc_start(p, args);
}

START_TEST(async_io_overlaps_on_one_thread) {
  tl_proc p;
  start_mode(&p, "async", "2");
  double dt = io_burst(p.port, "loop");
  ck_assert_msg(dt < 1.5, "40 x 200 ms IO took %.2f s in async", dt);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

START_TEST(pool_io_capped_by_workers) {
  tl_proc p;
  start_mode(&p, "pool", "2");
  int nthreads = 0;
  double dt = io_burst_on(p.port, "worker-", &nthreads);
  /* 40 tasks / 2 workers x 0.2 s = 4 s: sleeps cannot finish sooner. One
   * worker would need 8 s: the bound in between tells them apart, and so
   * does the number of workers that answered. */
  ck_assert_msg(dt >= 3.5, "40 x 200 ms IO took only %.2f s with 2 workers",
                dt);
  ck_assert_msg(dt < 7.0,
                "40 x 200 ms IO took %.2f s with 2 workers (one "
                "worker needs 8 s)",
                dt);
  ck_assert_msg(nthreads == 2, "%d workers answered, expected 2", nthreads);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

START_TEST(hybrid_io_overlaps_on_loop) {
  tl_proc p;
  start_mode(&p, "hybrid", "2");
  double dt = io_burst(p.port, "loop");
  ck_assert_msg(dt < 1.5, "40 x 200 ms IO took %.2f s in hybrid", dt);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* Starts a 1 s CPU task, then measures how long /plaintext takes meanwhile. */
/* A long read timeout: on a crowded machine a 1 s CPU step can take far
 * more than tl_connect's 15 s of wall time. */
static void patient(int fd) {
  struct timeval tv = {.tv_sec = 120};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* /plaintext on a second connection while a 1 s CPU step runs: returns
 * whether the step's answer had already come when /plaintext's did. An
 * order, not a time, so that a loaded machine cannot change it: blocked
 * behind the step, /plaintext is answered after it (the loop writes the
 * step's answer first); not blocked, long before. */
static bool plaintext_after_cpu(int port) {
  int busy = tl_connect(port);
  patient(busy);
  tl_send_str(busy, "GET /cpu?ms=1000 HTTP/1.1\r\nHost: t\r\n\r\n");
  usleep(150000); /* let the CPU step start */
  int fd = tl_connect(port);
  patient(fd);
  tl_send_str(fd, "GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n");
  tl_resp r;
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  struct pollfd pfd = {.fd = busy, .events = POLLIN};
  bool after = poll(&pfd, 1, 0) == 1;
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(r.body, "Hello, World!");
  tl_resp_free(&r);
  ck_assert_int_eq(tl_read_resp(busy, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  tl_resp_free(&r);
  tl_close(fd);
  tl_close(busy);
  return after;
}

START_TEST(async_cpu_blocks_plaintext) {
  tl_proc p;
  start_mode(&p, "async", "2");
  ck_assert_msg(plaintext_after_cpu(p.port),
                "async: /plaintext answered while a CPU step held the loop");
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

START_TEST(pool_cpu_does_not_block_plaintext) {
  tl_proc p;
  start_mode(&p, "pool", "4");
  ck_assert_msg(!plaintext_after_cpu(p.port),
                "pool: /plaintext waited for a CPU step to end");
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

START_TEST(hybrid_cpu_does_not_block_plaintext) {
  tl_proc p;
  start_mode(&p, "hybrid", "2");
  ck_assert_msg(!plaintext_after_cpu(p.port),
                "hybrid: /plaintext waited for a CPU step to end");
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* /task in hybrid: CPU steps on workers, the IO wait on the loop; the JSON
 * body lists each step where it ran, the headers agree. */
START_TEST(hybrid_task_hops_threads) {
  tl_proc p;
  start_mode(&p, "hybrid", "2");
  tl_resp r;
  ck_assert_int_eq(tl_get(p.port, "/task?steps=cpu:5,io:50,cpu:5", &r), 200);
  tj *j = tj_parse(r.body, r.body_len);
  ck_assert_ptr_nonnull(j);
  ck_assert_str_eq(tj_str(j, "mode"), "hybrid");
  ck_assert_str_eq(tj_str(j, "steps.0.kind"), "cpu");
  ck_assert(strncmp(tj_str(j, "steps.0.thread"), "worker-", 7) == 0);
  ck_assert_str_eq(tj_str(j, "steps.1.thread"), "loop");
  ck_assert(strncmp(tj_str(j, "steps.2.thread"), "worker-", 7) == 0);
  double s1 = tj_num(j, "steps.1.start_us", -1),
         e1 = tj_num(j, "steps.1.end_us", -1);
  ck_assert(e1 - s1 >= 45000);
  ck_assert(tj_num(j, "steps.2.start_us", -1) >= e1);
  ck_assert(tj_num(j, "run_us", 0) >= 55000);
  char th[128], id[32];
  ck_assert(tl_resp_find_header(&r, "X-Thread", th, sizeof(th)));
  ck_assert(strstr(th, ",loop,") != NULL);
  ck_assert(tl_resp_find_header(&r, "X-Task-Id", id, sizeof(id)));
  ck_assert_int_eq(atoi(id), (int) tj_num(j, "task", -1));
  ck_assert(tl_resp_find_header(&r, "X-Core", th, sizeof(th)));
  ck_assert(tl_resp_find_header(&r, "X-Queue-Us", th, sizeof(th)));
  ck_assert(tl_resp_find_header(&r, "X-Run-Us", th, sizeof(th)));
  tj_release(j);
  tl_resp_free(&r);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* An IO step waits at least what it asked for, in every mode. 20 tasks of
 * four IO steps at once, so that the loop keeps waking at odd times:
 * libuv's millisecond timers, due from the loop's truncated clock, used to
 * end such steps up to 1 ms early (io:7 after 6.2 ms). */
START_TEST(io_steps_never_end_early) {
  static const char *modes[] = {"async", "hybrid", "pool"};
  static const int ms[] = {1, 7, 0, 20};
  enum { N = 20 };
  for (int m = 0; m < 3; m++) {
    tl_proc p;
    start_mode(&p, modes[m], "2");
    for (int round = 0; round < 3; round++) {
      int fds[N];
      for (int i = 0; i < N; i++) {
        fds[i] = tl_connect(p.port);
        tl_send_str(fds[i], "GET /task?steps=io:1,io:7,io:0,io:20 HTTP/1.1\r\n"
                            "Host: t\r\n\r\n");
      }
      for (int i = 0; i < N; i++) {
        tl_resp r;
        ck_assert_int_eq(tl_read_resp(fds[i], &r, false), 0);
        ck_assert_int_eq(r.status, 200);
        tj *j = tj_parse(r.body, r.body_len);
        ck_assert_ptr_nonnull(j);
        for (int k = 0; k < 4; k++) {
          char a[32], b[32];
          snprintf(a, sizeof(a), "steps.%d.start_us", k);
          snprintf(b, sizeof(b), "steps.%d.end_us", k);
          double us = tj_num(j, b, -1) - tj_num(j, a, 0);
          /* -1: both ends are truncated to whole microseconds. Late is
           * only bounded against a hang: a timer's callback waits for a
           * loop that a crowded machine (TSan, load 30) holds up to
           * seconds. */
          ck_assert_msg(us >= ms[k] * 1000 - 1 && us < ms[k] * 1000 + 5000000,
                        "%s: io:%d lasted %.0f us", modes[m], ms[k], us);
        }
        tj_release(j);
        tl_resp_free(&r);
        tl_close(fds[i]);
      }
    }
    ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
  }
}
END_TEST

/* What the loop thread is doing, from one /stats snapshot ("" if no loop
 * thread is listed). */
static void loop_doing(int admin_port, char *out, size_t cap) {
  tl_resp r;
  ck_assert_int_eq(tl_get(admin_port, "/stats", &r), 200);
  tj *j = tj_parse(r.body, r.body_len);
  ck_assert_ptr_nonnull(j);
  tl_resp_free(&r);
  snprintf(out, cap, "%s", "");
  const tj *threads = tj_get(j, "threads");
  for (size_t i = 0; threads && i < threads->n; i++)
    if (!strcmp(tj_str(&threads->kids[i], "role"), "loop"))
      snprintf(out, cap, "%s", tj_str(&threads->kids[i], "doing.what"));
  tj_release(j);
}

/* Blocked in epoll with tasks of its own in flight, the loop is waiting
 * for them, not idle; with none, idle. (The admin port's /stats is served
 * by the observer's thread: reading it does not wake the loop.) */
START_TEST(loop_waits_for_its_tasks) {
  tl_proc p;
  const char *args[] = {"--mode",      "async", "--threads", "1",
                        "--sample-ms", "50",    NULL};
  tl_proc_start(&p, args);
  enum { N = 8 };
  int fds[N];
  for (int i = 0; i < N; i++) {
    fds[i] = tl_connect(p.port);
    tl_send_str(fds[i], "GET /io?ms=2500 HTTP/1.1\r\nHost: t\r\n\r\n");
  }
  usleep(400 * 1000);
  char what[32];
  int wait = 0, idle = 0;
  for (int k = 0; k < 10; k++, usleep(100 * 1000)) {
    loop_doing(p.admin_port, what, sizeof(what));
    wait += !strcmp(what, "wait");
    idle += !strcmp(what, "idle");
  }
  ck_assert_msg(wait > 0 && idle == 0,
                "loop with %d I/O tasks in flight: %d samples wait, %d idle", N,
                wait, idle);
  for (int i = 0; i < N; i++) {
    tl_resp r;
    ck_assert_int_eq(tl_read_resp(fds[i], &r, false), 0);
    ck_assert_int_eq(r.status, 200);
    tl_resp_free(&r);
    tl_close(fds[i]);
  }
  double t0 = tl_now_s();
  do {
    usleep(100 * 1000);
    loop_doing(p.admin_port, what, sizeof(what));
  } while (strcmp(what, "idle") && tl_now_s() - t0 < 10);
  ck_assert_str_eq(what, "idle");
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* /cpu burns thread CPU time: preemption does not shorten it. */
START_TEST(cpu_step_burns_thread_time) {
  tl_proc p;
  start_mode(&p, "pool", "2");
  tl_resp r;
  ck_assert_int_eq(tl_get(p.port, "/cpu?ms=200", &r), 200);
  tj *j = tj_parse(r.body, r.body_len);
  ck_assert_ptr_nonnull(j);
  double run =
      tj_num(j, "steps.0.end_us", 0) - tj_num(j, "steps.0.start_us", 0);
  ck_assert_msg(run >= 195000, "a 200 ms CPU step lasted %.0f us", run);
  /* It ran on a CPU the server may use (it inherits ours). */
  int core = (int) tj_num(j, "steps.0.core", -1);
  cpu_set_t mine;
  ck_assert_int_eq(sched_getaffinity(0, sizeof(mine), &mine), 0);
  ck_assert_msg(core >= 0 && core < CPU_SETSIZE && CPU_ISSET(core, &mine),
                "CPU step on core %d, not one this process may use", core);
  tj_release(j);
  tl_resp_free(&r);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("modes");
  TCase *tc = tcase_create("modes");
  tcase_set_timeout(tc, 90);
  tcase_add_test(tc, async_io_overlaps_on_one_thread);
  tcase_add_test(tc, pool_io_capped_by_workers);
  tcase_add_test(tc, hybrid_io_overlaps_on_loop);
  tcase_add_test(tc, async_cpu_blocks_plaintext);
  tcase_add_test(tc, pool_cpu_does_not_block_plaintext);
  tcase_add_test(tc, hybrid_cpu_does_not_block_plaintext);
  tcase_add_test(tc, hybrid_task_hops_threads);
  tcase_add_test(tc, cpu_step_burns_thread_time);
  tcase_add_test(tc, io_steps_never_end_early);
  tcase_add_test(tc, loop_waits_for_its_tasks);
  suite_add_tcase(s, tc);
  return tl_check_run(s);
}
