/* coro mode against the real server on loopback: IO waits hold no thread,
 * a task's steps hop between workers on one stack, yield and slicing cut a
 * probe's wait behind CPU work, thousands of suspended coroutines stay
 * cheap, bad options exit 2, live switching drops nothing. Bounds are
 * generous (noisy 2-core machine); the shape is what is asserted. */
#include "config.h"

#include <check.h>
#include "tl_check.h"
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tl_json.h"
#include "tl_testutil.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TL_SANITIZED 1
#else
#define TL_SANITIZED 0
#endif
/* TSan tracks each coroutine as a fiber of its own and is slow with
 * thousands of them: there the point is races, not scale. */
#if defined(__SANITIZE_THREAD__)
#define TL_SUSPENDED_PER_CONN 1
#elif TL_SANITIZED
#define TL_SUSPENDED_PER_CONN 10
#else
#define TL_SUSPENDED_PER_CONN 50
#endif

static void start(tl_proc *p, const char *const *extra) {
  tl_proc_start(p, extra);
}

static void stop_ok(tl_proc *p) { ck_assert_int_eq(tl_proc_stop(p, 20000), 0); }

START_TEST(io_holds_no_thread) {
  enum { N = 40 };
  tl_proc p;
  const char *args[] = {"--mode", "coro", "--threads", "2", NULL};
  start(&p, args);
  int fds[N];
  for (int i = 0; i < N; i++)
    fds[i] = tl_connect(p.port);
  double t0 = tl_now_s();
  for (int i = 0; i < N; i++)
    tl_send_str(fds[i], "GET /io?ms=200 HTTP/1.1\r\nHost: t\r\n\r\n");
  for (int i = 0; i < N; i++) {
    tl_resp r;
    char v[64];
    ck_assert_int_eq(tl_read_resp(fds[i], &r, false), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert(tl_resp_find_header(&r, "X-Coro", v, sizeof(v)));
    ck_assert_int_gt(atol(v), 0);
    tl_resp_free(&r);
    tl_close(fds[i]);
  }
  double dt = tl_now_s() - t0;
  /* Pool mode with 2 workers needs 40 / 2 x 0.2 = 4 s; a sanitizer build
   * is several times slower per switch, so it gets more room. */
  ck_assert_msg(dt < (TL_SANITIZED ? 3.0 : 1.5),
                "40 x 200 ms IO took %.2f s in coro mode", dt);
  stop_ok(&p);
}
END_TEST

static bool tid_of_process(pid_t pid, int tid) {
  char path[64];
  struct stat st;
  snprintf(path, sizeof(path), "/proc/%d/task/%d", (int) pid, tid);
  return stat(path, &st) == 0;
}

/* Many cpu:5,io:20,cpu:5 tasks with 2 workers: each step's tid is one of
 * the server's threads, one coroutine keeps its id and stack for all its
 * steps, and at least one task ends on another worker than it began. */
START_TEST(task_hops_workers_on_one_stack) {
  enum { CONNS = 16, ROUNDS = 12 };
  tl_proc p;
  const char *args[] = {"--mode", "coro", "--threads", "2", NULL};
  start(&p, args);
  int fds[CONNS];
  for (int i = 0; i < CONNS; i++)
    fds[i] = tl_connect(p.port);
  int hopped = 0, tasks = 0;
  for (int round = 0; round < ROUNDS && hopped == 0; round++) {
    for (int i = 0; i < CONNS; i++)
      tl_send_str(
          fds[i],
          "GET /task?steps=cpu:5,io:20,cpu:5 HTTP/1.1\r\nHost: t\r\n\r\n");
    for (int i = 0; i < CONNS; i++) {
      tl_resp r;
      ck_assert_int_eq(tl_read_resp(fds[i], &r, false), 0);
      ck_assert_int_eq(r.status, 200);
      tj *j = tj_parse(r.body, r.body_len);
      ck_assert_ptr_nonnull(j);
      ck_assert_str_eq(tj_str(j, "mode"), "coro");
      double coro = tj_num(j, "steps.0.coro", -1);
      const char *stack = tj_str(j, "steps.0.stack");
      ck_assert(coro > 0);
      ck_assert_ptr_nonnull(stack);
      for (int s = 0; s < 3; s++) {
        char key[32];
        snprintf(key, sizeof(key), "steps.%d.tid", s);
        int tid = (int) tj_num(j, key, -1);
        ck_assert_msg(tid_of_process(p.pid, tid),
                      "step %d: tid %d is not a thread of %d", s, tid,
                      (int) p.pid);
        snprintf(key, sizeof(key), "steps.%d.coro", s);
        ck_assert(tj_num(j, key, -1) == coro);
        snprintf(key, sizeof(key), "steps.%d.stack", s);
        ck_assert_str_eq(tj_str(j, key), stack);
      }
      ck_assert_str_eq(tj_str(j, "steps.1.thread"), "loop"); /* the wait */
      const char *a = tj_str(j, "steps.0.thread"),
                 *b = tj_str(j, "steps.2.thread");
      ck_assert(strncmp(a, "worker-", 7) == 0 && strncmp(b, "worker-", 7) == 0);
      if (tj_num(j, "steps.0.tid", 0) != tj_num(j, "steps.2.tid", 0))
        hopped++;
      tasks++;
      tj_release(j);
      tl_resp_free(&r);
    }
  }
  ck_assert_msg(hopped > 0, "none of %d tasks resumed on another worker",
                tasks);
  for (int i = 0; i < CONNS; i++)
    tl_close(fds[i]);
  stop_ok(&p);
}
END_TEST

/* One worker busy with `load` (sent first); after 30 ms a probe
 * /task?steps=io:1 must wait for the worker to reach its IO step. Returns
 * the probe's latency in seconds (median of three) on the server p. */
static double probe_on(tl_proc *p, const char *load);

static double probe_behind(const char *const *args, const char *load) {
  tl_proc p;
  start(&p, args);
  double m = probe_on(&p, load);
  stop_ok(&p);
  return m;
}

static double probe_on(tl_proc *pp, const char *load) {
  tl_proc p = *pp;
  double lat[3];
  for (int k = 0; k < 3; k++) {
    int lf = tl_connect(p.port), pf = tl_connect(p.port);
    char req[256];
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", load);
    tl_send_str(lf, req);
    usleep(30000);
    double t0 = tl_now_s();
    tl_send_str(pf, "GET /task?steps=io:1 HTTP/1.1\r\nHost: t\r\n\r\n");
    tl_resp r;
    ck_assert_int_eq(tl_read_resp(pf, &r, false), 0);
    lat[k] = tl_now_s() - t0;
    ck_assert_int_eq(r.status, 200);
    tl_resp_free(&r);
    ck_assert_int_eq(tl_read_resp(lf, &r, false), 0);
    ck_assert_int_eq(r.status, 200);
    tl_resp_free(&r);
    tl_close(lf);
    tl_close(pf);
  }
  double a = lat[0], b = lat[1], c = lat[2];
  return a > b ? (b > c ? b : (a > c ? c : a)) : (a > c ? a : (b > c ? c : b));
}

START_TEST(yield_and_slicing_cut_the_wait) {
  const char *plain[] = {"--mode", "coro", "--threads", "1", NULL};
  const char *sliced[] = {"--mode",          "coro", "--threads", "1",
                          "--coro-slice-ms", "1",    NULL};
  /* Without yielding the probe waits out the rest of a 300 ms step. */
  double whole = probe_behind(plain, "/cpu?ms=300");
  double yielding = probe_behind(
      plain,
      "/task?steps=cpu:60,yield,cpu:60,yield,cpu:60,yield,cpu:60,yield,cpu:60");
  double slicing = probe_behind(sliced, "/cpu?ms=300");
  ck_assert_msg(whole > 0.15,
                "probe behind an unyielding step took only %.3f s", whole);
  ck_assert_msg(yielding < whole * 0.7, "yield: probe %.3f s vs %.3f s without",
                yielding, whole);
  ck_assert_msg(slicing < whole * 0.5,
                "slicing: probe %.3f s vs %.3f s without", slicing, whole);
}
END_TEST

/* Suspended coroutines cost a few pages each, not a thread each. */
START_TEST(ten_thousand_suspended) {
  enum { CONNS = 200 };
  const int per = TL_SUSPENDED_PER_CONN; /* 10,000 in a plain build */
  const int n = CONNS * per;
  tl_proc p;
  const char *args[] = {"--mode",      "coro",  "--threads", "2",
                        "--queue-max", "20000", NULL};
  start(&p, args);
  int fds[CONNS];
  for (int i = 0; i < CONNS; i++)
    fds[i] = tl_connect(p.port);
  /* Warm up: the first coroutines map their stacks, malloc its arenas. */
  tl_resp r;
  ck_assert_int_eq(tl_get(p.port, "/task?steps=cpu:1,io:1", &r), 200);
  tl_resp_free(&r);
  long rss0 = tl_proc_rss_kb(p.pid);
  static const char req[] = "GET /io?ms=2000 HTTP/1.1\r\nHost: t\r\n\r\n";
  char *batch = malloc(sizeof(req) * (size_t) per);
  size_t len = 0;
  for (int k = 0; k < per; k++) {
    memcpy(batch + len, req, sizeof(req) - 1);
    len += sizeof(req) - 1;
  }
  double t0 = tl_now_s();
  for (int i = 0; i < CONNS; i++)
    tl_send_all(fds[i], batch, len);
  free(batch);
  /* Mid-wait: all of them suspended at once. */
  usleep(1300000);
  long rss1 = tl_proc_rss_kb(p.pid);
  int answered = 0;
  for (int i = 0; i < CONNS; i++) {
    for (int k = 0; k < per; k++) {
      ck_assert_int_eq(tl_read_resp(fds[i], &r, false), 0);
      ck_assert_int_eq(r.status, 200);
      tl_resp_free(&r);
      answered++;
    }
    tl_close(fds[i]);
  }
  double dt = tl_now_s() - t0;
  ck_assert_int_eq(answered, n);
  ck_assert_msg(dt < 15, "%d x 2 s IO took %.1f s", n, dt);
  double per_kib = (double) (rss1 - rss0) / n;
  fprintf(stderr, "coro: %d suspended, RSS %ld -> %ld KiB, %.2f KiB each\n", n,
          rss0, rss1, per_kib);
  if (!TL_SANITIZED) /* 64 KiB stacks: only touched pages count */
    ck_assert_msg(per_kib < 24, "%.1f KiB RSS per suspended coroutine",
                  per_kib);
  stop_ok(&p);
}
END_TEST

/* Runs the binary to its exit; returns the exit status (or -1). */
static int exit_status(const char *const *args) {
  const char *argv[16];
  int n = 0;
  argv[n++] = tl_bin();
  for (int i = 0; args[i] && n < 15; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execv(argv[0], (char *const *) argv);
    _exit(127);
  }
  int st;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(bad_options_exit_2) {
  const char *bad[][3] = {
      {"--coro-stack-kib", "15", NULL},   {"--coro-stack-kib", "8193", NULL},
      {"--coro-stack-kib", "0", NULL},    {"--coro-stack-kib", "64k", NULL},
      {"--coro-stack-kib", "", NULL},     {"--coro-slice-ms", "-1", NULL},
      {"--coro-slice-ms", "10001", NULL}, {"--coro-switch", "fast", NULL},
      {"--mode", "coroutine", NULL}};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    ck_assert_msg(exit_status(bad[i]) == 2, "%s %s did not exit 2", bad[i][0],
                  bad[i][1]);
  const char *help[] = {"--help", NULL};
  ck_assert_int_eq(exit_status(help), 0);
}
END_TEST

static tl_resp control(int port, const char *query);

/* --coro-slice-ms is live: /control?coro_slice_ms=1 makes the steps
 * started from then on yield every 1 ms (the probe stops waiting out a
 * whole step), /stats and the answer say so; out of range: 400. */
START_TEST(live_slice_cuts_the_wait) {
  const char *plain[] = {"--mode", "coro", "--threads", "1", NULL};
  tl_proc p;
  start(&p, plain);
  double whole = probe_on(&p, "/cpu?ms=300");
  tl_resp c = control(p.admin_port, "coro_slice_ms=1");
  ck_assert_msg(c.status == 200, "coro_slice_ms=1: %d %s", c.status, c.body);
  ck_assert_msg(strstr(c.body, "\"coro_slice_ms\":1") != NULL, "%s", c.body);
  tl_resp_free(&c);
  tl_resp r;
  ck_assert_int_eq(tl_get(p.admin_port, "/stats", &r), 200);
  tj *j = tj_parse(r.body, r.body_len);
  ck_assert_ptr_nonnull(j);
  tl_resp_free(&r);
  /* The snapshot may predate the change: wait for one that follows it. */
  for (int i = 0; i < 50 && tj_num(j, "server.coro_slice_ms", -1) != 1; i++) {
    tj_release(j);
    usleep(50000);
    ck_assert_int_eq(tl_get(p.admin_port, "/stats", &r), 200);
    j = tj_parse(r.body, r.body_len);
    tl_resp_free(&r);
  }
  ck_assert_int_eq((int) tj_num(j, "server.coro_slice_ms", -1), 1);
  tj_release(j);
  double sliced = probe_on(&p, "/cpu?ms=300");
  ck_assert_msg(whole > 0.15,
                "probe behind an unyielding step took only %.3f s", whole);
  ck_assert_msg(sliced < whole * 0.5,
                "live slice: probe %.3f s vs %.3f s before", sliced, whole);
  const char *bad[] = {"coro_slice_ms=10001", "coro_slice_ms=-1",
                       "coro_slice_ms=x"};
  for (int i = 0; i < 3; i++) {
    c = control(p.admin_port, bad[i]);
    ck_assert_msg(c.status == 400, "%s answered %d", bad[i], c.status);
    tl_resp_free(&c);
  }
  c = control(p.admin_port, "coro_slice_ms=0");
  ck_assert_int_eq(c.status, 200);
  ck_assert(strstr(c.body, "\"coro_slice_ms\":0") != NULL);
  tl_resp_free(&c);
  stop_ok(&p);
}
END_TEST

static tl_resp control(int port, const char *query) {
  char req[256];
  snprintf(req, sizeof(req),
           "POST /control?%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
           "X-Threadlab: 1\r\nContent-Length: 0\r\n\r\n",
           query, port);
  tl_resp r;
  ck_assert_int_eq(tl_roundtrip(port, req, &r), 0);
  return r;
}

/* Switching to and from coro while tasks of the other mode are in flight:
 * every request is answered, each by the mode that admitted it. */
START_TEST(live_switch_drops_nothing) {
  enum { CONNS = 20, PER = 10 };
  static const char *const modes[] = {"coro", "hybrid", "coro",
                                      "pool", "coro",   "async"};
  tl_proc p;
  const char *args[] = {"--mode", "hybrid", "--threads", "2", NULL};
  start(&p, args);
  int fds[CONNS];
  for (int i = 0; i < CONNS; i++)
    fds[i] = tl_connect(p.port);
  static const char req[] =
      "GET /task?steps=cpu:1,io:20,yield,cpu:1 HTTP/1.1\r\nHost: t\r\n\r\n";
  int seen_coro = 0;
  for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
    for (int i = 0; i < CONNS; i++)
      for (int k = 0; k < PER; k++)
        tl_send_str(fds[i], req);
    char q[32];
    snprintf(q, sizeof(q), "mode=%s", modes[m]);
    tl_resp c = control(p.admin_port, q);
    ck_assert_msg(c.status == 200, "control %s: %d", q, c.status);
    tl_resp_free(&c);
    for (int i = 0; i < CONNS; i++)
      for (int k = 0; k < PER; k++) {
        tl_resp r;
        ck_assert_int_eq(tl_read_resp(fds[i], &r, false), 0);
        ck_assert_int_eq(r.status, 200);
        tj *j = tj_parse(r.body, r.body_len);
        ck_assert_ptr_nonnull(j);
        bool coro = strcmp(tj_str(j, "mode"), "coro") == 0;
        ck_assert(coro == (tj_get(j, "steps.0.coro") != NULL));
        seen_coro += coro;
        tj_release(j);
        tl_resp_free(&r);
      }
  }
  ck_assert_int_gt(seen_coro, 0);
  for (int i = 0; i < CONNS; i++)
    tl_close(fds[i]);
  stop_ok(&p);
}
END_TEST

/* Shutdown waits for coroutines suspended in an IO step. */
START_TEST(shutdown_drains_suspended) {
  tl_proc p;
  const char *args[] = {"--mode", "coro", "--threads", "2", NULL};
  start(&p, args);
  int fd = tl_connect(p.port);
  tl_send_str(fd,
              "GET /task?steps=cpu:1,io:300,cpu:1 HTTP/1.1\r\nHost: t\r\n\r\n");
  usleep(100000);
  kill(p.pid, SIGTERM);
  tl_resp r;
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  tl_resp_free(&r);
  tl_close(fd);
  ck_assert_int_eq(tl_proc_wait(&p, 20000), 0);
}
END_TEST

/* /stats server.coro: counts, switch costs measured by the server, stacks,
 * and per-worker coroutine switches beside kernel context switches. */
START_TEST(stats_show_coroutines) {
  tl_proc p;
  const char *args[] = {"--mode",      "coro", "--threads", "2",
                        "--sample-ms", "100",  NULL};
  start(&p, args);
  enum { N = 20 };
  int fds[N];
  for (int i = 0; i < N; i++) {
    fds[i] = tl_connect(p.port);
    tl_send_str(
        fds[i],
        "GET /task?steps=cpu:1,io:3000,cpu:1 HTTP/1.1\r\nHost: t\r\n\r\n");
  }
  /* Until the sampler shows them suspended in their IO step, with their
   * stacks' pages counted (every 4th sample does that). */
  tl_resp r;
  tj *j = NULL;
  for (int tries = 0; tries < 50; tries++) {
    usleep(50000);
    ck_assert_int_eq(tl_get(p.admin_port, "/stats", &r), 200);
    j = tj_parse(r.body, r.body_len);
    ck_assert_ptr_nonnull(j);
    tl_resp_free(&r);
    if (tj_num(j, "server.coro.suspended", 0) >= 1 &&
        tj_num(j, "server.coro.stack_resident_bytes", 0) > 0)
      break;
    tj_release(j);
    j = NULL;
  }
  ck_assert_msg(j != NULL, "/stats never showed a suspended coroutine with "
                           "resident stack pages");
  ck_assert_int_ge((int) tj_num(j, "server.coro.alive", -1), 1);
  ck_assert_int_ge((int) tj_num(j, "server.coro.suspended", -1), 1);
  ck_assert(tj_num(j, "server.coro.stack_reserved_bytes", 0) >= 64 * 1024);
  /* A suspended coroutine has touched at least a page of its stack, and
   * no more than the stacks reserved can be resident. */
  double resident = tj_num(j, "server.coro.stack_resident_bytes", -1);
  ck_assert_msg(resident >= (double) sysconf(_SC_PAGESIZE) &&
                    resident <=
                        tj_num(j, "server.coro.stack_reserved_bytes", 0),
                "coroutine stacks resident %.0f bytes of %.0f reserved",
                resident, tj_num(j, "server.coro.stack_reserved_bytes", 0));
  ck_assert(tj_num(j, "server.coro.switch_ns", 0) > 0);
  ck_assert(tj_num(j, "server.coro.kernel_switch_ns", 0) > 0);
  ck_assert(tj_num(j, "server.coro.switch_ucontext_ns", 0) > 0);
  ck_assert_str_eq(tj_str(j, "server.coro.switch"), "asm");
  tj_release(j);
  for (int i = 0; i < N; i++) {
    ck_assert_int_eq(tl_read_resp(fds[i], &r, false), 0);
    ck_assert_int_eq(r.status, 200);
    tl_resp_free(&r);
    tl_close(fds[i]);
  }
  for (int tries = 0; tries < 40; tries++) {
    usleep(50000);
    ck_assert_int_eq(tl_get(p.admin_port, "/stats", &r), 200);
    j = tj_parse(r.body, r.body_len);
    if (tj_num(j, "server.coro.alive", -1) == 0 || tries == 39)
      break;
    tj_release(j);
    tl_resp_free(&r);
  }
  ck_assert_int_eq((int) tj_num(j, "server.coro.alive", -1), 0);
  ck_assert(tj_num(j, "server.coro.switches", 0) >= 4 * N);
  ck_assert(tj_num(j, "server.coro.wake_to_resume_ms.since_start.count", 0) >=
            N);
  double worker_switches = 0;
  const tj *threads = tj_get(j, "threads");
  for (size_t i = 0; i < threads->n; i++)
    if (!strcmp(tj_str(&threads->kids[i], "role"), "worker"))
      worker_switches += tj_num(&threads->kids[i], "coro_switches", 0);
  ck_assert(worker_switches >= 4 * N);
  tj_release(j);
  tl_resp_free(&r);
  stop_ok(&p);
}
END_TEST

/* yield is a step of every mode: elsewhere a sched_yield. */
START_TEST(yield_in_every_mode) {
  static const char *const modes[] = {"async", "pool", "hybrid", "coro"};
  for (size_t m = 0; m < 4; m++) {
    tl_proc p;
    const char *args[] = {"--mode",        modes[m],   "--threads", "2",
                          "--coro-switch", "ucontext", NULL};
    start(&p, args);
    tl_resp r;
    ck_assert_int_eq(tl_get(p.port, "/task?steps=yield,cpu:1,yield:0", &r),
                     200);
    tj *j = tj_parse(r.body, r.body_len);
    ck_assert_str_eq(tj_str(j, "steps.0.kind"), "yield");
    tj_release(j);
    tl_resp_free(&r);
    ck_assert_int_eq(tl_get(p.port, "/task?steps=yield:1", &r), 400);
    tl_resp_free(&r);
    stop_ok(&p);
  }
}
END_TEST

int main(void) {
  Suite *s = suite_create("coro");
  TCase *tc = tcase_create("coro");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, io_holds_no_thread);
  tcase_add_test(tc, task_hops_workers_on_one_stack);
  tcase_add_test(tc, yield_and_slicing_cut_the_wait);
  tcase_add_test(tc, live_slice_cuts_the_wait);
  tcase_add_test(tc, ten_thousand_suspended);
  tcase_add_test(tc, bad_options_exit_2);
  tcase_add_test(tc, live_switch_drops_nothing);
  tcase_add_test(tc, shutdown_drains_suspended);
  tcase_add_test(tc, yield_in_every_mode);
  tcase_add_test(tc, stats_show_coroutines);
  suite_add_tcase(s, tc);
  return tl_check_run(s);
}
