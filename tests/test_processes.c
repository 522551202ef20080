/* Shared-nothing loops and processes against the real server: --loops N
 * share the port and each serves; every mode hands results back to the
 * loop that owns the connection; bounds exit 2. */
#include "config.h"

#include <check.h>
#include "tl_check.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tl_json.h"
#include "tl_testutil.h"

#define NCONN 64

static tj *get_stats(int admin_port) {
  tl_resp r;
  ck_assert_int_eq(tl_get(admin_port, "/stats", &r), 200);
  tj *j = tj_parse(r.body, r.body_len);
  ck_assert_ptr_nonnull(j);
  tl_resp_free(&r);
  return j;
}

/* NCONN connections at once, one request each; every answer 200. Returns
 * how many X-Thread values name a loop other than the main one. */
static int burst(int port, const char *path) {
  int fds[NCONN];
  char req[256];
  snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
  for (int i = 0; i < NCONN; i++)
    fds[i] = tl_connect(port);
  for (int i = 0; i < NCONN; i++)
    tl_send_str(fds[i], req);
  int other = 0;
  for (int i = 0; i < NCONN; i++) {
    tl_resp r;
    ck_assert_int_eq(tl_read_resp(fds[i], &r, false), 0);
    ck_assert_int_eq(r.status, 200);
    char th[256];
    if (tl_resp_header(&r, "X-Thread", th, sizeof(th)) && strstr(th, "loop-"))
      other++;
    tl_resp_free(&r);
    tl_close(fds[i]);
  }
  return other;
}

START_TEST(loops_share_the_port_and_each_serves) {
  tl_proc p;
  const char *args[] = {"--loops", "2", "--mode", "async", "--sample-ms", "100", NULL};
  tl_proc_start(&p, args);
  int other = 0;
  /* The kernel hashes each connection to one listener: a few bursts make
   * it all but certain that both get some. */
  for (int i = 0; i < 4 && other == 0; i++)
    other += burst(p.port, "/task?steps=cpu:1");
  ck_assert_msg(other > 0, "no request ran on loop-1");
  usleep(400 * 1000);
  tj *j = get_stats(p.admin_port);
  ck_assert_int_eq((int) tj_num(j, "server.loops.1.index", -1), 1);
  double r0 = tj_num(j, "server.loops.0.requests.total", 0);
  double r1 = tj_num(j, "server.loops.1.requests.total", 0);
  double all = tj_num(j, "server.requests.total", 0);
  ck_assert_msg(r0 >= 1 && r1 >= 1, "requests per loop %.0f / %.0f", r0, r1);
  ck_assert_msg(all >= r0 + r1, "total %.0f < %.0f + %.0f", all, r0, r1);
  ck_assert(tj_get(j, "server.loops.1.utilization_pct"));
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* Pool and hybrid: a worker hands the result back to the loop that owns
 * the connection, whichever loop that is. */
START_TEST(loops_every_mode_answers) {
  const char *modes[] = {"pool", "hybrid", "async"};
  for (int m = 0; m < 3; m++) {
    tl_proc p;
    const char *args[] = {"--loops", "3", "--mode", modes[m], "--threads", "2", NULL};
    tl_proc_start(&p, args);
    burst(p.port, "/task?steps=cpu:1,io:2,cpu:1");
    ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
  }
}
END_TEST

START_TEST(crash_needs_allow_crash) {
  tl_proc p;
  tl_proc_start(&p, NULL);
  tl_resp r;
  ck_assert_int_eq(tl_get(p.port, "/task?steps=crash", &r), 403);
  ck_assert_ptr_nonnull(strstr(r.body, "--allow-crash"));
  tl_resp_free(&r);
  ck_assert_int_eq(tl_get(p.port, "/task?steps=cpu:1", &r), 200);
  char pid[32];
  ck_assert(tl_resp_header(&r, "X-Pid", pid, sizeof(pid)));
  ck_assert_int_eq(atoi(pid), p.pid);
  tl_resp_free(&r);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* One process: a crash takes the whole server, every loop with it. */
START_TEST(one_process_crash_kills_it) {
  const char *modes[] = {"async", "pool"};
  for (int m = 0; m < 2; m++) {
    tl_proc p;
    const char *args[] = {"--allow-crash", "--loops", "2", "--mode", modes[m], NULL};
    tl_proc_start(&p, args);
    int fd = tl_connect(p.port);
    tl_send_str(fd, "GET /task?steps=crash HTTP/1.1\r\nHost: t\r\n\r\n");
    ck_assert(tl_wait_eof(fd, 5000));
    tl_close(fd);
    ck_assert_int_eq(tl_proc_wait(&p, 5000), 128 + SIGSEGV);
  }
}
END_TEST

static int run_status(const char *const *argv_tail) {
  const char *argv[16] = {tl_bin()};
  int n = 1;
  for (; argv_tail[n - 1]; n++)
    argv[n] = argv_tail[n - 1];
  argv[n] = NULL;
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int dn = open("/dev/null", O_WRONLY);
    dup2(dn, 1);
    dup2(dn, 2);
    execv(argv[0], (char *const *) argv);
    _exit(127);
  }
  int st;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(bounds_exit_2) {
  const char *a[] = {"--loops", "0", NULL};
  ck_assert_int_eq(run_status(a), 2);
  const char *b[] = {"--loops", "65", NULL};
  ck_assert_int_eq(run_status(b), 2);
  const char *c[] = {"--processes", "-1", NULL};
  ck_assert_int_eq(run_status(c), 2);
  const char *d[] = {"--processes", "65", NULL};
  ck_assert_int_eq(run_status(d), 2);
}
END_TEST

TL_CHECK_MAIN("processes", loops_share_the_port_and_each_serves,
              loops_every_mode_answers, bounds_exit_2,
              crash_needs_allow_crash, one_process_crash_kills_it)
