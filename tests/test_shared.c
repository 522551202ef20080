/* Shared memory and its risks, against the real server: the race, atomic,
 * lock, hold and deadlock steps in every mode, their limits and gate,
 * server.shared's counter, locks and per-thread waits, and a deadlock
 * found (cycle, insight) while the server still serves and still stops. */
#include "config.h"

#include <check.h>
#include "tl_check.h"
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/util.h"
#include "exec/shared_cow.h"
#include "exec/shared_steps.h"
#include "tl_json.h"
#include "tl_testutil.h"

/* /stats once the sampler has seen `want` increments and (unless < 0)
 * `acq` acquisitions of lock 0: a snapshot may be older than the answer
 * just read (the period is 100 ms in these tests; a loaded machine gets
 * 10 s). */
static tj *stats_with(int admin_port, double want, double acq) {
  for (int i = 0; i < 200; i++) {
    tj *j = tl_get_stats(admin_port);
    if (tj_num(j, "server.shared.increments", -1) == want &&
        tj_num(j, "server.shared.running", -1) == 0 &&
        (acq < 0 || tj_num(j, "server.shared.acquisitions", -1) == acq))
      return j;
    tj_release(j);
    usleep(50 * 1000);
  }
  ck_abort_msg("server.shared never reached %.0f increments, %.0f acquisitions",
               want, acq);
  return NULL;
}

static tj *stats_with_increments(int admin_port, double want) {
  return stats_with(admin_port, want, -1);
}

/* Sends the same GET on n connections at once, then reads every answer
 * and checks its status. */
static void concurrent(int port, const char *path, int n, int status) {
  int fds[16];
  char req[256];
  snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
  for (int i = 0; i < n; i++)
    fds[i] = tl_connect(port);
  for (int i = 0; i < n; i++)
    tl_send_str(fds[i], req);
  for (int i = 0; i < n; i++) {
    tl_resp r;
    ck_assert_int_eq(tl_read_resp(fds[i], &r, false), 0);
    ck_assert_msg(r.status == status, "%s: %d %s", path, r.status, r.body);
    tl_resp_free(&r);
    tl_close(fds[i]);
  }
}

static const char *const modes[] = {"async", "pool", "hybrid", "coro"};

/* Each step runs in each mode, named in the answer with its count; alone,
 * nothing is lost and every lock is taken once per increment (+1: hold). */
START_TEST(steps_run_in_every_mode) {
  const char *mode = modes[_i];
  const char *args[] = {"--mode",      mode,  "--threads", "2",
                        "--sample-ms", "100", NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  tl_resp r;
  ck_assert_int_eq(tl_get(p.port,
                          "/task?steps=race:1000,atomic:2000,io:1,"
                          "lock:3000,hold:20,cpu:1",
                          &r),
                   200);
  tj *b = tj_parse(r.body, r.body_len);
  ck_assert_ptr_nonnull(b);
  ck_assert_str_eq(tj_str(b, "steps.0.kind"), "race");
  ck_assert_int_eq((int) tj_num(b, "steps.0.n", -1), 1000);
  ck_assert_str_eq(tj_str(b, "steps.1.kind"), "atomic");
  ck_assert_int_eq((int) tj_num(b, "steps.1.n", -1), 2000);
  ck_assert_str_eq(tj_str(b, "steps.3.kind"), "lock");
  ck_assert_int_eq((int) tj_num(b, "steps.3.n", -1), 3000);
  ck_assert_str_eq(tj_str(b, "steps.4.kind"), "hold");
  ck_assert_int_eq((int) tj_num(b, "steps.4.ms", -1), 20);
  /* hold burns its 20 ms of CPU while holding the lock. */
  ck_assert_msg(tj_num(b, "steps.4.cpu_us", 0) >= 19000, "hold cpu %.0f us",
                tj_num(b, "steps.4.cpu_us", 0));
  if (strcmp(mode, "async") == 0)
    ck_assert_str_eq(tj_str(b, "steps.0.thread"), "loop");
  else
    ck_assert_ptr_nonnull(strstr(tj_str(b, "steps.0.thread"), "worker-"));
  tj_release(b);
  tl_resp_free(&r);
  tj *j = stats_with(p.admin_port, 6000, 3001);
  ck_assert_int_eq((int) tj_num(j, "server.shared.counter", -1), 6000);
  ck_assert_int_eq((int) tj_num(j, "server.shared.lost", -1), 0);
  ck_assert_int_eq((int) tj_num(j, "server.shared.acquisitions", -1), 3001);
  ck_assert_int_eq((int) tj_num(j, "server.shared.locks.0.acquisitions", -1),
                   3001);
  ck_assert_int_eq((int) tj_num(j, "server.shared.locks.1.acquisitions", -1),
                   0);
  ck_assert(tj_is_null(j, "server.shared.holder_tid"));
  ck_assert_int_eq((int) tj_num(j, "server.shared.waiters", -1), 0);
  char addr[32];
  snprintf(addr, sizeof(addr), "0x%llx",
           (unsigned long long) TL_SHARED_COUNTER_ADDR);
  ck_assert_str_eq(tj_str(j, "server.shared.counter_addr"), addr);
  /* The thread that ran the lock step has a row, waiting for nothing. */
  ck_assert_int_ge((int) tj_get(j, "server.shared.threads")->n, 1);
  ck_assert(tj_is_null(j, "server.shared.threads.0.wants"));
  ck_assert_uint_eq(tj_get(j, "server.shared.deadlocks")->n, 0);
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* Limits like the other steps (400), the deadlock gate (403). */
START_TEST(limits_and_gate) {
  const char *args[] = {"--mode", "pool", NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  tl_resp r;
  const char *bad[] = {"/task?steps=race:100000001", "/task?steps=atomic:x",
                       "/task?steps=lock", "/task?steps=hold:10001",
                       "/task?steps=deadlock:1"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    ck_assert_msg(tl_get(p.port, bad[i], &r) == 400, "%s: %d", bad[i],
                  r.status);
    tl_resp_free(&r);
  }
  ck_assert_int_eq(tl_get(p.port, "/task?steps=cpu:1,deadlock", &r), 403);
  ck_assert_ptr_nonnull(strstr(r.body, "--allow-deadlock"));
  tl_resp_free(&r);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* Two long race steps at once lose updates (on 2 cores in parallel, on one
 * by preemption: either way, counted exactly as increments - counter);
 * atomic and lock steps at once lose none. */
START_TEST(race_loses_atomic_and_lock_do_not) {
  const char *args[] = {"--mode",      "pool", "--threads", "2",
                        "--sample-ms", "100",  NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  double lost = 0, total = 0;
  /* Overlap is all but certain for 2 x 20M increments (tens of ms each);
   * three tries make a machine that ran them one after the other rare. */
  for (int attempt = 0; attempt < 3 && lost == 0; attempt++) {
    concurrent(p.port, "/task?steps=race:20000000", 2, 200);
    total += 40e6;
    tj *j = stats_with_increments(p.admin_port, total);
    lost = tj_num(j, "server.shared.lost", -1);
    ck_assert_double_eq(tj_num(j, "server.shared.counter", -1) + lost, total);
    tj_release(j);
  }
  ck_assert_msg(lost > 0, "two racing steps lost nothing, three times");
  concurrent(p.port, "/task?steps=atomic:3000000", 2, 200);
  concurrent(p.port, "/task?steps=lock:300000", 2, 200);
  tj *j = stats_with_increments(p.admin_port, total + 6.6e6);
  /* Nothing more lost than before. */
  ck_assert_double_eq(tj_num(j, "server.shared.lost", -1), lost);
  ck_assert_double_eq(tj_num(j, "server.shared.acquisitions", -1), 600000);
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* A hold makes the others queue: 4 x hold:60 on 4 workers take >= 240 ms;
 * while one holds, /stats names the holder and the waiters, and each
 * waiting thread says which lock it wants; afterwards the waits add up. */
START_TEST(hold_serialises_and_shows_holder_and_waiters) {
  const char *args[] = {"--mode",      "pool", "--threads", "4",
                        "--sample-ms", "50",   NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  /* 800 ms of CPU: on a loaded machine under TSan several seconds of wall
   * time, within tl_connect's 15 s receive timeout. */
  int long_one = tl_send_get(p.port, "/task?steps=hold:800");
  ck_assert_msg(
      tl_wait_stats_set(p.admin_port, "server.shared.holder_tid", 200),
      "the first hold never took the lock");
  int waiter = tl_send_get(p.port, "/task?steps=hold:1");
  bool seen = false;
  for (int i = 0; i < 200 && !seen; i++) {
    usleep(20 * 1000);
    tj *j = tl_get_stats(p.admin_port);
    if (tj_num(j, "server.shared.waiters", 0) == 1) {
      int holder = (int) tj_num(j, "server.shared.holder_tid", 0);
      ck_assert_int_gt(holder, 0);
      const tj *ts = tj_get(j, "server.shared.threads");
      int wanting = 0, holding = 0;
      for (size_t k = 0; k < ts->n; k++) {
        const tj *t = &ts->kids[k];
        if (!tj_is_null(t, "wants")) {
          ck_assert_int_eq((int) tj_num(t, "wants", -1), 0);
          ck_assert_int_ne((int) tj_num(t, "tid", 0), holder);
          wanting++;
        }
        if (tj_get(t, "holds")->n == 1) {
          ck_assert_int_eq((int) tj_num(t, "tid", 0), holder);
          holding++;
        }
      }
      ck_assert_int_eq(wanting, 1);
      ck_assert_int_eq(holding, 1);
      seen = true;
    }
    tj_release(j);
  }
  ck_assert_msg(seen, "never saw the second hold waiting");
  ck_assert_int_eq(tl_read_status(long_one), 200);
  ck_assert_int_eq(tl_read_status(waiter), 200);

  double t0 = tl_now_s();
  concurrent(p.port, "/task?steps=hold:60", 4, 200);
  double took = tl_now_s() - t0;
  ck_assert_msg(took >= 0.235, "4 x hold:60 took %.3f s: not serialised", took);
  tj *j = NULL;
  for (int i = 0; i < 100; i++) {
    if (j)
      tj_release(j);
    usleep(50 * 1000);
    j = tl_get_stats(p.admin_port);
    if (tj_num(j, "server.shared.acquisitions", 0) == 6)
      break;
  }
  ck_assert_int_eq((int) tj_num(j, "server.shared.acquisitions", 0), 6);
  ck_assert_int_ge((int) tj_num(j, "server.shared.contended", 0), 2);
  /* The waiter of the first part waited while we watched it (>= 20 ms). */
  double wait = tj_num(j, "server.shared.wait_ms", 0);
  ck_assert_msg(wait >= 20, "wait_ms %.1f", wait);
  double per_thread = 0;
  const tj *ts = tj_get(j, "server.shared.threads");
  for (size_t k = 0; k < ts->n; k++)
    per_thread += tj_num(&ts->kids[k], "lock_wait_ms", 0);
  ck_assert_msg(per_thread >= wait - 1 && per_thread <= wait + 1,
                "threads waited %.1f ms, the lock says %.1f", per_thread, wait);
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* Two deadlock steps at once: the cycle is found within 2 s (each thread
 * holding one lock and wanting the other), an insight says the server
 * still serves, it does, and it still stops on SIGTERM. */
START_TEST(deadlock_found_and_survived) {
  const char *mode = _i == 0 ? "pool" : "async";
  const char *args[] = {"--mode", mode, "--threads", "4", "--loops",
                        _i == 0 ? "1" : "2", "--allow-deadlock", "--sample-ms",
                        "100",
                        /* Longer than the stop below waits: only the
                         * stuck threads let go end it in time. */
                        "--shutdown-timeout-ms", "30000", NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  int fds[2];
  double t0 = tl_now_s();
  /* In async mode the two must land on different loops: a few tries. */
  const tj *dl = NULL;
  tj *j = NULL;
  for (int tries = 0; tries < 8 && !dl; tries++) {
    for (int i = 0; i < 2; i++) {
      fds[i] = tl_connect(p.port);
      tl_send_str(fds[i],
                  "GET /task?steps=deadlock HTTP/1.1\r\nHost: t\r\n\r\n");
    }
    t0 = tl_now_s();
    while (!dl && tl_now_s() - t0 < 3.0) {
      usleep(50 * 1000);
      if (j)
        tj_release(j);
      j = tl_get_stats(p.admin_port);
      const tj *d = tj_get(j, "server.shared.deadlocks");
      if (d && d->n > 0)
        dl = &d->kids[0];
    }
    if (!dl) { /* both on one loop: it ran them one after the other */
      for (int i = 0; i < 2; i++)
        tl_close(fds[i]);
      ck_assert_str_eq(mode, "async");
    }
  }
  ck_assert_ptr_nonnull(dl);
  ck_assert_msg(tl_now_s() - t0 <= 2.5, "found after %.2f s", tl_now_s() - t0);
  ck_assert_msg(tj_num(dl, "detect_ms", 1e9) <= 2000, "detect_ms %.0f",
                tj_num(dl, "detect_ms", 1e9));
  const tj *ths = tj_get(dl, "threads");
  ck_assert_uint_eq(ths->n, 2);
  int w0 = (int) tj_num(&ths->kids[0], "wants", -1);
  int w1 = (int) tj_num(&ths->kids[1], "wants", -1);
  ck_assert(w0 != w1 && (w0 == 1 || w0 == 2) && (w1 == 1 || w1 == 2));
  ck_assert_uint_eq(tj_get(&ths->kids[0], "holds")->n, 1);
  ck_assert_int_eq((int) tj_num(&ths->kids[0], "holds.0", -1), w1);
  ck_assert_int_eq((int) tj_num(&ths->kids[1], "holds.0", -1), w0);
  const tj *ins = tj_get(j, "insights");
  bool said = false;
  /* Pool: two of four workers stuck, the loop free. Async on 2 loops:
   * both loops stuck, nothing left to serve. */
  const char *says = _i == 0 ? "still serves" : "no request is served";
  for (size_t k = 0; k < ins->n; k++)
    if (strcmp(tj_str(&ins->kids[k], "id"), "deadlock") == 0) {
      said = strstr(tj_str(&ins->kids[k], "text"), says) != NULL;
      ck_assert_int_eq((int) tj_num(&ins->kids[k], "evidence.stuck_threads", 0),
                       2);
    }
  ck_assert_msg(said, "no deadlock insight");
  tj_release(j);
  /* Still serving with the other threads, and still stuck a while later. */
  tl_resp r;
  if (strcmp(mode, "pool") == 0) {
    ck_assert_int_eq(tl_get(p.port, "/task?steps=cpu:1", &r), 200);
    tl_resp_free(&r);
  } else { /* both loops are stuck: the observer still answers */
    ck_assert_int_eq(tl_get(p.admin_port, "/stats", &r), 200);
    tl_resp_free(&r);
  }
  usleep(300 * 1000);
  j = tl_get_stats(p.admin_port);
  ck_assert_uint_eq(tj_get(j, "server.shared.deadlocks")->n, 1);
  ck_assert(tj_num(j, "server.shared.deadlocks.0.stuck_ms", 0) >= 300);
  tj_release(j);
  /* Pool: SIGTERM makes the lock waits give up and the server stops.
   * Async: the main loop, which handles signals, is one of the stuck
   * threads, so only SIGKILL ends it (tl_proc_stop's -1). */
  ck_assert_int_eq(tl_proc_stop(&p, _i == 0 ? 10000 : 2000), _i == 0 ? 0 : -1);
  for (int i = 0; i < 2; i++)
    tl_close(fds[i]);
}
END_TEST

/* Under --processes 2 each worker has its own counter at the same virtual
 * address; as root, /proc/self/pagemap shows different physical pages. */
START_TEST(processes_have_their_own_counter) {
  const char *args[] = {"--processes", "2",         "--mode",
                        "pool",        "--threads", "2",
                        "--sample-ms", "100",       NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  char addr[32];
  snprintf(addr, sizeof(addr), "0x%llx",
           (unsigned long long) TL_SHARED_COUNTER_ADDR);
  double c1 = 0, c2 = 0;
  tj *j = NULL;
  /* The kernel spreads connections over the two listeners: a few bursts
   * reach both. */
  for (int burst = 0; burst < 10 && (c1 == 0 || c2 == 0); burst++) {
    concurrent(p.port, "/task?steps=atomic:1000", 8, 200);
    for (int i = 0; i < 20; i++) {
      usleep(100 * 1000);
      if (j)
        tj_release(j);
      j = tl_get_stats(p.admin_port);
      c1 = tj_num(j, "processes.1.shared.counter", -1);
      c2 = tj_num(j, "processes.2.shared.counter", -1);
      if (c1 + c2 == 8000.0 * (burst + 1))
        break;
    }
    ck_assert_double_eq(c1 + c2, 8000.0 * (burst + 1));
  }
  ck_assert_msg(c1 > 0 && c2 > 0, "one worker got everything: %.0f / %.0f", c1,
                c2);
  ck_assert_str_eq(tj_str(j, "processes.0.role"), "supervisor");
  for (int k = 0; k < 3; k++) {
    char path[64];
    snprintf(path, sizeof(path), "processes.%d.shared.counter_addr", k);
    ck_assert_str_eq(tj_str(j, path), addr);
  }
  /* The supervisor runs no task: its own counter stays 0. */
  ck_assert_int_eq((int) tj_num(j, "processes.0.shared.counter", -1), 0);
  if (geteuid() == 0) {
    double p1 = tj_num(j, "processes.1.shared.counter_page", -1);
    double p2 = tj_num(j, "processes.2.shared.counter_page", -1);
    ck_assert_msg(p1 > 0 && p2 > 0 && p1 != p2, "pages %.0f %.0f", p1, p2);
  } else {
    ck_assert(tj_is_null(j, "processes.1.shared.counter_page"));
  }
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* Under --processes 1 two deadlock steps hang the worker's threads: the
 * worker says so in its scoreboard slot and the supervisor replaces it
 * (last_exit "deadlocked: SIGKILL"); the new one serves. */
START_TEST(deadlocked_worker_process_replaced) {
  const char *args[] = {"--processes", "1", "--mode",           "pool",
                        "--threads",   "4", "--allow-deadlock", "--sample-ms",
                        "100",         NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  tj *j = tl_get_stats(p.admin_port);
  int pid0 = (int) tj_num(j, "processes.1.pid", 0);
  ck_assert_int_gt(pid0, 0);
  tj_release(j);
  int fds[2];
  for (int i = 0; i < 2; i++) {
    fds[i] = tl_connect(p.port);
    tl_send_str(fds[i], "GET /task?steps=deadlock HTTP/1.1\r\nHost: t\r\n\r\n");
  }
  double t0 = tl_now_s();
  int pid1 = 0;
  j = NULL;
  while (tl_now_s() - t0 < 10) {
    usleep(100 * 1000);
    if (j)
      tj_release(j);
    j = tl_get_stats(p.admin_port);
    pid1 = (int) tj_num(j, "processes.1.pid", 0);
    if (pid1 > 0 && pid1 != pid0 &&
        strcmp(tj_str(j, "processes.1.state"), "ready") == 0)
      break;
  }
  double took = tl_now_s() - t0;
  ck_assert_msg(pid1 > 0 && pid1 != pid0, "worker %d not replaced", pid0);
  fprintf(stderr,
          "deadlocked worker %d replaced by %d, ready %.2f s after "
          "the two deadlock requests\n",
          pid0, pid1, took);
  ck_assert_int_eq((int) tj_num(j, "processes.1.restarts", 0), 1);
  ck_assert_str_eq(tj_str(j, "processes.1.last_exit.how"),
                   "deadlocked: SIGKILL");
  ck_assert_int_eq((int) tj_num(j, "processes.1.last_exit.pid", 0), pid0);
  tj_release(j);
  /* The clients of the stuck tasks lost their connection. */
  for (int i = 0; i < 2; i++) {
    ck_assert(tl_wait_eof(fds[i], 5000));
    tl_close(fds[i]);
  }
  tl_resp r;
  ck_assert_int_eq(tl_get(p.port, "/task?steps=cpu:1", &r), 200);
  tl_resp_free(&r);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* One test case each, so that tests/mutants can name them (CK_RUN_CASE). */
/* A wait still going on counts: while one hold keeps lock 0 for long,
 * the waiting thread's lock_wait_ms grows and its lock_wait_pct (of the
 * last sample period) is near 100 %. Once both are done, no thread holds
 * a lock any more and the lock names no holder. */
START_TEST(a_wait_in_progress_counts) {
  const char *args[] = {"--mode",      "pool", "--threads", "4",
                        "--sample-ms", "50",   NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  int long_one = tl_send_get(p.port, "/task?steps=hold:1500");
  ck_assert_msg(
      tl_wait_stats_set(p.admin_port, "server.shared.holder_tid", 200),
      "the first hold never took the lock");
  int waiter = tl_send_get(p.port, "/task?steps=hold:1");
  double best_pct = -1, best_ms = -1;
  bool seen = false, done = false;
  double t0 = tl_now_s();
  while (!seen && !done && tl_now_s() - t0 < 20) {
    usleep(50 * 1000);
    tj *j = tl_get_stats(p.admin_port);
    const tj *ts = tj_get(j, "server.shared.threads");
    for (size_t k = 0; ts && k < ts->n; k++) {
      const tj *t = &ts->kids[k];
      if (tj_is_null(t, "wants"))
        continue;
      double pct =
          tj_is_null(t, "lock_wait_pct") ? -1 : tj_num(t, "lock_wait_pct", -1);
      double ms = tj_num(t, "lock_wait_ms", -1);
      if (ms > best_ms)
        best_ms = ms;
      if (pct > best_pct)
        best_pct = pct;
      /* 300 ms into the wait a whole sample period was spent waiting. */
      seen = ms >= 300 && pct >= 50;
    }
    done = tj_num(j, "server.shared.acquisitions", 0) >= 2;
    tj_release(j);
  }
  ck_assert_msg(seen,
                "the waiting thread showed at best lock_wait_ms %.1f, "
                "lock_wait_pct %.1f",
                best_ms, best_pct);
  ck_assert_int_eq(tl_read_status(long_one), 200);
  ck_assert_int_eq(tl_read_status(waiter), 200);
  tj *j = stats_with(p.admin_port, 0, 2);
  ck_assert(tj_is_null(j, "server.shared.holder_tid"));
  const tj *ts = tj_get(j, "server.shared.threads");
  ck_assert_uint_ge(ts->n, 2);
  for (size_t k = 0; k < ts->n; k++)
    ck_assert_msg(tj_get(&ts->kids[k], "holds")->n == 0,
                  "thread %.0f still holds a lock it gave back",
                  tj_num(&ts->kids[k], "tid", 0));
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* A deadlock seen again at the next samples is the same one: when it was
 * found (detect_ms) does not move. */
START_TEST(a_deadlock_keeps_when_it_was_found) {
  const char *args[] = {"--mode",  "pool", "--threads",        "4",
                        "--loops", "1",    "--allow-deadlock", "--sample-ms",
                        "100",     NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  int fds[2];
  for (int i = 0; i < 2; i++)
    fds[i] = tl_send_get(p.port, "/task?steps=deadlock");
  double first = -1;
  double t0 = tl_now_s();
  while (first < 0 && tl_now_s() - t0 < 10) {
    usleep(50 * 1000);
    tj *j = tl_get_stats(p.admin_port);
    if (tj_get(j, "server.shared.deadlocks")->n > 0)
      first = tj_num(j, "server.shared.deadlocks.0.detect_ms", -1);
    tj_release(j);
  }
  ck_assert_msg(first >= 0, "no deadlock found");
  /* Several sample periods later. */
  usleep(600 * 1000);
  tj *j = tl_get_stats(p.admin_port);
  ck_assert_uint_eq(tj_get(j, "server.shared.deadlocks")->n, 1);
  double later = tj_num(j, "server.shared.deadlocks.0.detect_ms", -1);
  ck_assert_msg(later == first, "detect_ms %.1f, then %.1f", first, later);
  tj_release(j);
  /* Still stuck and still counting: 600 ms after it was first seen (a
   * snapshot can be a period older than the read, so read until then). */
  double stuck = 0;
  for (double t1 = tl_now_s(); stuck < 600 && tl_now_s() - t1 < 5;
       usleep(50 * 1000)) {
    j = tl_get_stats(p.admin_port);
    stuck = tj_num(j, "server.shared.deadlocks.0.stuck_ms", 0);
    tj_release(j);
  }
  ck_assert_msg(stuck >= 600, "stuck_ms %.0f", stuck);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
  for (int i = 0; i < 2; i++)
    tl_close(fds[i]);
}
END_TEST

/* The worker holding a lock (hold:1000) and the one waiting for it. */
static int hold_and_wait(const tl_proc *p, int *waiter) {
  int long_one = tl_send_get(p->port, "/task?steps=hold:1000");
  /* Its worker runs it (doing "cpu"; under --processes too, through the
   * scoreboard): it holds the lock. */
  bool held = false;
  for (int i = 0; i < 400 && !held; i++) {
    usleep(20 * 1000);
    tj *j = tl_get_stats(p->admin_port);
    const tj *ts = tj_get(j, "threads");
    for (size_t k = 0; ts && k < ts->n && !held; k++)
      held = !tj_is_null(&ts->kids[k], "doing") &&
             strcmp(tj_str(&ts->kids[k], "doing.what"), "cpu") == 0;
    tj_release(j);
  }
  ck_assert_msg(held, "the first hold never took the lock");
  *waiter = tl_send_get(p->port, "/task?steps=hold:1");
  return long_one;
}

/* The entry of threads[] waiting for lock 0 now (NULL: none), and the
 * entry of `holder`. */
static const tj *waiting_thread(const tj *j, int pid, int holder,
                                const tj **held_by) {
  const tj *ts = tj_get(j, "threads"), *w = NULL;
  for (size_t k = 0; ts && k < ts->n; k++) {
    const tj *t = &ts->kids[k];
    if (pid && (int) tj_num(t, "pid", 0) != pid)
      continue;
    if ((int) tj_num(t, "tid", 0) == holder && held_by)
      *held_by = t;
    if (!tj_is_null(t, "lock_wants"))
      w = t;
  }
  return w;
}

/* The kernel's view of thread tid: asleep in futex(2) on address addr
 * (/proc/PID/task/TID/syscall: number, then the arguments in hex). The
 * wait wakes twice a second to check for shutdown: a few tries. */
static bool kernel_sleeps_on(int pid, int tid, unsigned long long addr) {
  char path[96], buf[256];
  snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
  for (int i = 0; i < 50; i++) {
    FILE *f = fopen(path, "r");
    if (!f)
      return false;
    long nr = -1;
    unsigned long long a0 = 0;
    bool ok = fgets(buf, sizeof(buf), f) &&
              sscanf(buf, "%ld %llx", &nr, &a0) == 2 && nr == SYS_futex &&
              a0 == addr;
    fclose(f);
    if (ok)
      return true;
    usleep(10 * 1000);
  }
  return false;
}

/* threads[] carries each loop and worker thread's waits on our locks: the
 * waiting worker says lock 0 and since when, its wait grows, and the kernel
 * agrees that it sleeps in futex(2) on lock 0's mutex; the holder waited
 * 0; the observer runs no step: null. Afterwards the waiter's total stays. */
START_TEST(threads_show_their_lock_waits) {
  const char *args[] = {"--mode",      "pool", "--threads", "4",
                        "--sample-ms", "50",   NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  int waiter;
  int long_one = hold_and_wait(&p, &waiter);
  bool seen = false;
  int wtid = 0;
  double t0 = tl_now_s(), best = -1;
  while (!seen && tl_now_s() - t0 < 20) {
    usleep(50 * 1000);
    tj *j = tl_get_stats(p.admin_port);
    int holder = (int) tj_num(j, "server.shared.holder_tid", 0);
    const tj *h = NULL, *w = waiting_thread(j, 0, holder, &h);
    if (w && holder) {
      wtid = (int) tj_num(w, "tid", 0);
      ck_assert_int_ne(wtid, holder);
      ck_assert_int_eq((int) tj_num(w, "lock_wants", -1), 0);
      ck_assert_str_eq(tj_str(w, "role"), "worker");
      double since = tj_num(w, "lock_wait_since_ns", 0);
      double now = tj_num(j, "start_ns", 0) + tj_num(j, "uptime_ms", 0) * 1e6;
      ck_assert_msg(since >= tj_num(j, "start_ns", 0) && since <= now + 1e6,
                    "since %.0f, now %.0f", since, now);
      double ms = tj_num(w, "lock_wait_ms", -1);
      best = ms > best ? ms : best;
      ck_assert_ptr_nonnull(h);
      ck_assert_double_eq(tj_num(h, "lock_wait_ms", -1), 0);
      ck_assert(tj_is_null(h, "lock_wants"));
      if (ms >= 200 && tj_num(w, "lock_wait_pct", -1) >= 50) {
        ck_assert_msg(kernel_sleeps_on(p.pid, wtid,
                                       strtoull(tj_str(j, "server.shared."
                                                          "locks.0.addr"),
                                                NULL, 16)),
                      "the kernel does not show thread %d in futex on lock 0",
                      wtid);
        seen = true;
      }
    }
    const tj *ts = tj_get(j, "threads");
    for (size_t k = 0; k < ts->n; k++)
      if (strcmp(tj_str(&ts->kids[k], "role"), "observer") == 0)
        ck_assert(tj_is_null(&ts->kids[k], "lock_wait_ms"));
    tj_release(j);
  }
  ck_assert_msg(seen, "never saw a waiter 200 ms into its wait (best %.1f)",
                best);
  ck_assert_int_eq(tl_read_status(long_one), 200);
  ck_assert_int_eq(tl_read_status(waiter), 200);
  tj *j = stats_with(p.admin_port, 0, 2);
  const tj *ts = tj_get(j, "threads");
  bool found = false;
  for (size_t k = 0; k < ts->n; k++)
    if ((int) tj_num(&ts->kids[k], "tid", 0) == wtid) {
      found = true;
      ck_assert(tj_num(&ts->kids[k], "lock_wait_ms", 0) >= 200);
      ck_assert(tj_is_null(&ts->kids[k], "lock_wants"));
    }
  ck_assert(found);
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* Under --processes the worker process's threads carry theirs too (through
 * its scoreboard slot). */
START_TEST(fleet_threads_show_their_lock_waits) {
  const char *args[] = {"--processes", "1",         "--mode",
                        "pool",        "--threads", "2",
                        "--sample-ms", "100",       NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  int waiter;
  int long_one = hold_and_wait(&p, &waiter);
  bool seen = false;
  double t0 = tl_now_s();
  while (!seen && tl_now_s() - t0 < 20) {
    usleep(50 * 1000);
    tj *j = tl_get_stats(p.admin_port);
    int wpid = (int) tj_num(j, "processes.1.pid", 0);
    const tj *w = wpid ? waiting_thread(j, wpid, 0, NULL) : NULL;
    if (w && tj_num(w, "lock_wait_ms", 0) >= 200) {
      ck_assert_int_eq((int) tj_num(w, "lock_wants", -1), 0);
      ck_assert(tj_num(w, "lock_wait_since_ns", 0) > 0);
      seen = true;
    }
    tj_release(j);
  }
  ck_assert_msg(seen, "no worker process thread shown waiting for lock 0");
  ck_assert_int_eq(tl_read_status(long_one), 200);
  ck_assert_int_eq(tl_read_status(waiter), 200);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* In this process, without a server: threads that took a lock and ended
 * free their slots for the next ones. Twice as many threads as there are
 * slots run a lock step and end, 16 at a time; then none is listed, and a
 * holder and a waiter started afterwards are both seen. */
static _Atomic bool let_go;
static uint64_t burn_until_let_go(uint32_t ms) {
  (void) ms;
  while (!atomic_load(&let_go))
    usleep(1000);
  return 0;
}

typedef struct stepper {
  pthread_t th;
  tl_step_spec spec;
  _Atomic int tid;
} stepper;

static void *run_one(void *arg) {
  stepper *st = arg;
  atomic_store(&st->tid, (int) syscall(SYS_gettid));
  ck_assert(tl_shared_run_step(&st->spec, burn_until_let_go));
  return NULL;
}

START_TEST(slots_of_ended_threads_are_reused) {
  enum { BATCH = 16 };
  int total = 2 * TL_SHARED_MAX_THREADS + BATCH;
  stepper st[BATCH];
  for (int done = 0; done < total; done += BATCH) {
    for (int i = 0; i < BATCH; i++) {
      st[i].spec = (tl_step_spec){.kind = TL_STEP_LOCK, .ms = 1};
      ck_assert_int_eq(pthread_create(&st[i].th, NULL, run_one, &st[i]), 0);
    }
    for (int i = 0; i < BATCH; i++)
      pthread_join(st[i].th, NULL);
  }
  tl_shared_read *r = malloc(sizeof(*r));
  tl_shared_read_all(r, tl_now_ns());
  ck_assert_int_eq(r->nthreads, 0);
  ck_assert_int_eq((int) r->locks[0].acquisitions, total);
  /* A holder, then a waiter: both must find a slot. */
  stepper h = {.spec = {.kind = TL_STEP_HOLD, .ms = 1}};
  stepper w = {.spec = {.kind = TL_STEP_LOCK, .ms = 1}};
  ck_assert_int_eq(pthread_create(&h.th, NULL, run_one, &h), 0);
  tl_shared_thread_read ht = {0}, wt = {.wants = -1};
  for (int i = 0; i < 2000 && !(ht.holds & 1); i++) {
    usleep(1000);
    int tid = atomic_load(&h.tid);
    if (!tl_shared_thread_lock_state(tid, tl_now_ns(), &ht))
      ht.holds = 0;
  }
  ck_assert_msg(ht.holds & 1, "the holder has no slot, or holds nothing");
  ck_assert_int_eq(pthread_create(&w.th, NULL, run_one, &w), 0);
  for (int i = 0; i < 2000 && wt.wants != 0; i++) {
    usleep(1000);
    wt.wants = -1;
    if (!tl_shared_thread_lock_state(atomic_load(&w.tid), tl_now_ns(), &wt))
      wt.wants = -1;
  }
  ck_assert_msg(wt.wants == 0, "the waiter has no slot, or wants nothing");
  ck_assert(wt.wait_since_ns > 0 && wt.wait_since_ns <= tl_now_ns());
  tl_shared_read_all(r, tl_now_ns());
  ck_assert_int_eq(r->nthreads, 2);
  atomic_store(&let_go, true);
  pthread_join(h.th, NULL);
  pthread_join(w.th, NULL);
  /* Ended: the slots are free again. */
  tl_shared_read_all(r, tl_now_ns());
  ck_assert_int_eq(r->nthreads, 0);
  free(r);
}
END_TEST

/* A thread that claims the slot of an ended thread which waited starts
 * with no wait of its own: the holder and waiter of the first pair end,
 * a second pair takes their slots (the lowest free ones, in the same
 * order), and the new waiter's stored wait, its total less the wait going
 * on, is 0 (mutaudit3). */
static uint64_t stored_wait(stepper *s) {
  tl_shared_thread_read t = {.wants = -1};
  for (int i = 0; i < 5000 && t.wants != 0; i++) {
    usleep(1000);
    t.wants = -1;
    if (!tl_shared_thread_lock_state(atomic_load(&s->tid), tl_now_ns(), &t))
      t.wants = -1;
  }
  ck_assert_msg(t.wants == 0, "the waiter never waited on lock 0");
  uint64_t now = tl_now_ns();
  ck_assert(tl_shared_thread_lock_state(atomic_load(&s->tid), now, &t));
  ck_assert_int_eq(t.wants, 0);
  return t.lock_wait_ns - (now - t.wait_since_ns);
}

static void hold_then_wait(stepper *h, stepper *w) {
  *h = (stepper){.spec = {.kind = TL_STEP_HOLD, .ms = 1}};
  *w = (stepper){.spec = {.kind = TL_STEP_LOCK, .ms = 1}};
  ck_assert_int_eq(pthread_create(&h->th, NULL, run_one, h), 0);
  tl_shared_thread_read ht = {0};
  for (int i = 0; i < 5000 && !(ht.holds & 1); i++) {
    usleep(1000);
    if (!tl_shared_thread_lock_state(atomic_load(&h->tid), tl_now_ns(), &ht))
      ht.holds = 0;
  }
  ck_assert_msg(ht.holds & 1, "the holder holds nothing");
  ck_assert_int_eq(pthread_create(&w->th, NULL, run_one, w), 0);
}

START_TEST(a_reused_slot_starts_without_the_last_wait) {
  stepper h, w;
  atomic_store(&let_go, false);
  hold_then_wait(&h, &w);
  ck_assert_uint_eq(stored_wait(&w), 0);
  usleep(50 * 1000); /* the first waiter waits 50 ms or more */
  atomic_store(&let_go, true);
  pthread_join(h.th, NULL);
  pthread_join(w.th, NULL);
  tl_shared_read *r = malloc(sizeof(*r));
  tl_shared_read_all(r, tl_now_ns());
  ck_assert_int_eq(r->nthreads, 0);
  free(r);
  atomic_store(&let_go, false);
  hold_then_wait(&h, &w);
  uint64_t again = stored_wait(&w);
  atomic_store(&let_go, true);
  pthread_join(h.th, NULL);
  pthread_join(w.th, NULL);
  ck_assert_msg(again == 0, "the new waiter starts with %.1f ms of waits",
                (double) again / 1e6);
}
END_TEST

static bool tj_bool(const tj *j, const char *path, bool dflt) {
  const tj *v = tj_get(j, path);
  return v && v->type == TJ_BOOL ? v->b : dflt;
}

/* Copy-on-write, as the kernel showed it at the server's start: the forked
 * child saw the counter's page shared (not exclusive; as root the parent's
 * very frame, mapped twice) until its first write, then its own. */
START_TEST(fork_copy_on_write_measured) {
  const char *args[] = {"--mode", "pool", "--threads", "2", NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  tj *j = tl_get_stats(p.admin_port);
  const char *c = "server.shared.fork_cow";
  ck_assert_msg(!tj_is_null(j, c), "the copy-on-write probe did not run");
  char k[128];
#define COW(field) (snprintf(k, sizeof(k), "%s.%s", c, field), k)
  ck_assert(tj_bool(j, COW("child_before_write.present"), false));
  ck_assert(!tj_bool(j, COW("child_before_write.exclusive"), true));
  ck_assert(tj_bool(j, COW("child_after_write.exclusive"), false));
  ck_assert(tj_bool(j, COW("parent.exclusive"), false));
  if (geteuid() == 0) {
    double parent = tj_num(j, COW("parent.page"), -1);
    ck_assert(parent > 0);
    ck_assert_double_eq(tj_num(j, COW("child_before_write.page"), -1), parent);
    ck_assert_double_eq(tj_num(j, "server.shared.counter_page", -1), parent);
    double after = tj_num(j, COW("child_after_write.page"), -1);
    ck_assert_msg(after > 0 && after != parent, "after %.0f, parent %.0f",
                  after, parent);
    ck_assert_double_eq(tj_num(j, COW("child_before_write.mapcount"), -1), 2);
    ck_assert_double_eq(tj_num(j, COW("child_after_write.mapcount"), -1), 1);
  } else {
    ck_assert(tj_is_null(j, COW("parent.page")));
  }
#undef COW
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* A pagemap entry's bits: 63 present, 56 exclusive, 0-54 the frame. */
START_TEST(cow_entry_bits) {
  tl_cow_page a = tl_shared_cow_entry((1ull << 63) | (1ull << 56) | 1234);
  ck_assert(a.present && a.exclusive);
  ck_assert_uint_eq(a.pfn, 1234);
  tl_cow_page b = tl_shared_cow_entry((1ull << 63) | (1ull << 55) | 77);
  ck_assert(b.present && !b.exclusive);
  ck_assert_uint_eq(b.pfn, 77);
  tl_cow_page n = tl_shared_cow_entry(1234);
  ck_assert(!n.present);
  ck_assert_uint_eq(n.pfn, 0);
}
END_TEST

/* Runs lab experiment `id` with a load of `secs` per variant; returns the
 * finished run from /lab/runs (the only one in this server). */
static tj *lab_run(const tl_proc *p, const char *id, int secs) {
  char req[256];
  snprintf(req, sizeof(req),
           "POST /lab/run?id=%s&duration_s=%d HTTP/1.1\r\nHost: "
           "127.0.0.1:%d\r\nX-Threadlab: 1\r\nContent-Length: 0\r\n\r\n",
           id, secs, p->admin_port);
  tl_resp r;
  ck_assert_int_eq(tl_roundtrip(p->admin_port, req, &r), 0);
  ck_assert_msg(r.status == 202, "lab run %s answered %d: %s", id, r.status,
                r.body);
  tl_resp_free(&r);
  double t0 = tl_now_s();
  while (tl_now_s() - t0 < 120) {
    usleep(250 * 1000);
    ck_assert_int_eq(tl_get(p->admin_port, "/lab/runs", &r), 200);
    tj *j = tj_parse(r.body, r.body_len);
    tl_resp_free(&r);
    ck_assert_ptr_nonnull(j);
    const tj *runs = tj_get(j, "runs");
    for (size_t k = 0; runs && k < runs->n; k++)
      if (strcmp(tj_str(&runs->kids[k], "id"), id) == 0 &&
          strcmp(tj_str(&runs->kids[k], "status"), "running") != 0) {
        ck_assert_str_eq(tj_str(&runs->kids[k], "status"), "done");
        return j;
      }
    tj_release(j);
  }
  ck_abort_msg("lab run %s did not end within 120 s", id);
  return NULL;
}

/* The value of evidence `label` of variant v (its delta for a counter). */
static double evidence_of(const tj *v, const char *label) {
  const tj *ev = tj_get(v, "evidence");
  for (size_t k = 0; ev && k < ev->n; k++)
    if (strcmp(tj_str(&ev->kids[k], "label"), label) == 0)
      return tj_num(&ev->kids[k],
                    tj_is_null(&ev->kids[k], "delta") ||
                            !tj_get(&ev->kids[k], "delta")
                        ? "after"
                        : "delta",
                    -1);
  ck_abort_msg("no evidence %s", label);
  return -1;
}

static const tj *find_run(const tj *j, const char *id) {
  const tj *runs = tj_get(j, "runs");
  for (size_t k = 0; runs && k < runs->n; k++)
    if (strcmp(tj_str(&runs->kids[k], "id"), id) == 0)
      return &runs->kids[k];
  return NULL;
}

/* Lab "race": three variants (race, race on one CPU, atomic:N with its own
 * load); the measured figure is lost per million read from server.shared's
 * deltas; two workers racing on two CPUs lose, atomic does not (beyond
 * what is counted ahead), and none takes lock 0. Lab "lock-contention":
 * hold:5 at 2, 8, 32 workers, predicted 200/s, the workers mostly asleep
 * on the lock. */
START_TEST(lab_race_and_lock_contention) {
  const char *args[] = {"--sample-ms", "200", NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  tj *j = lab_run(&p, "race", 2);
  const tj *run = find_run(j, "race");
  const tj *vs = tj_get(run, "variants");
  ck_assert_int_eq((int) vs->n, 3);
  static const char *ids[] = {"parallel", "one-cpu", "atomic"};
  for (int k = 0; k < 3; k++) {
    const tj *v = &vs->kids[k];
    ck_assert_str_eq(tj_str(v, "id"), ids[k]);
    ck_assert_str_eq(tj_str(v, "unit"), "lost per million");
    double lost = evidence_of(v, "lost updates");
    double inc = evidence_of(v, "increments");
    ck_assert_msg(inc > 0, "%s: no increments", ids[k]);
    double m = tj_num(v, "measured", -1);
    ck_assert_msg(fabs(m - lost / inc * 1e6) <= 1e-6 * (fabs(m) + 1),
                  "%s: measured %.3f, evidence %.0f / %.0f", ids[k], m, lost,
                  inc);
    double acq = evidence_of(v, "lock 0 acquisitions");
    ck_assert_msg(acq == 0, "%s took lock 0 %.0f times", ids[k], acq);
  }
  ck_assert(tj_get(&vs->kids[0], "check.passed")->b); /* lost > 0 */
  ck_assert(tj_get(&vs->kids[2], "check.passed")->b); /* atomic */
  /* Read at rest ("settle"): an atomic add loses nothing, exactly (a
   * sample taken while a step runs shows its chunk counted ahead). */
  ck_assert_msg(evidence_of(&vs->kids[2], "lost updates") == 0,
                "atomic:N lost %.0f updates",
                evidence_of(&vs->kids[2], "lost updates"));
  ck_assert_ptr_nonnull(
      strstr(tj_str(run, "verdict.text"), "lost per million"));
  tj_release(j);

  j = lab_run(&p, "lock-contention", 2);
  run = find_run(j, "lock-contention");
  vs = tj_get(run, "variants");
  ck_assert_int_eq((int) vs->n, 3);
  static const int workers[] = {2, 8, 32};
  for (int k = 0; k < 3; k++) {
    const tj *v = &vs->kids[k];
    ck_assert_int_eq((int) tj_num(v, "settings.threads", 0), workers[k]);
    ck_assert_double_eq(tj_num(v, "predicted", -1), 200);
    ck_assert(tj_num(v, "measured", -1) > 0);
    ck_assert(evidence_of(v, "lock 0 acquisitions") > 0);
  }
  /* 32 workers on 32 connections: all but the holder sleep on the lock. */
  ck_assert(evidence_of(&vs->kids[2], "workers waiting on lock 0") >= 2);
  ck_assert(tj_get(&vs->kids[2], "check.passed")->b);
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

static void add_case(Suite *s, const char *name, const TTest *t, int loops) {
  TCase *tc = tcase_create(name);
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, t, 0, loops);
  suite_add_tcase(s, tc);
}

int main(void) {
  Suite *s = suite_create("shared");
  add_case(s, "steps_run_in_every_mode", steps_run_in_every_mode, 4);
  add_case(s, "limits_and_gate", limits_and_gate, 1);
  add_case(s, "race_loses_atomic_and_lock_do_not",
           race_loses_atomic_and_lock_do_not, 1);
  add_case(s, "hold_serialises", hold_serialises_and_shows_holder_and_waiters,
           1);
  add_case(s, "deadlock_found_and_survived", deadlock_found_and_survived, 2);
  add_case(s, "processes_have_their_own_counter",
           processes_have_their_own_counter, 1);
  add_case(s, "deadlocked_worker_process_replaced",
           deadlocked_worker_process_replaced, 1);
  add_case(s, "a_wait_in_progress_counts", a_wait_in_progress_counts, 1);
  add_case(s, "a_deadlock_keeps_when_it_was_found",
           a_deadlock_keeps_when_it_was_found, 1);
  add_case(s, "threads_show_their_lock_waits", threads_show_their_lock_waits,
           1);
  add_case(s, "fleet_threads_show_their_lock_waits",
           fleet_threads_show_their_lock_waits, 1);
  add_case(s, "slots_of_ended_threads_are_reused",
           slots_of_ended_threads_are_reused, 1);
  add_case(s, "a_reused_slot_starts_without_the_last_wait",
           a_reused_slot_starts_without_the_last_wait, 1);
  add_case(s, "fork_copy_on_write_measured", fork_copy_on_write_measured, 1);
  add_case(s, "cow_entry_bits", cow_entry_bits, 1);
  TCase *lab = tcase_create("lab_race_and_lock_contention");
  tcase_set_timeout(lab, 300); /* two lab runs, 7 variants */
  tcase_add_test(lab, lab_race_and_lock_contention);
  suite_add_tcase(s, lab);
  return tl_check_run(s);
}
