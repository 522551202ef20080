/* --processes: what a crashed worker leaves behind in /stats. Its last
 * exit names the connections it held (not its tasks), the supervisor
 * counts the death and keeps the requests it served in the totals, and
 * the server's open connections forget the dead worker's once they are
 * gone (the sums of observer/process_sums). */
#include "config.h"

#include <check.h>
#include "tl_check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tl_json.h"
#include "tl_testutil.h"

#define NCONN 48

/* processes[k] of the worker with this pid (or whose last exit was it),
 * -1 if none. */
static int proc_index(const tj *j, int pid, bool by_exit) {
  for (int k = 1; k < 8; k++) {
    char path[64];
    snprintf(path, sizeof(path),
             by_exit ? "processes.%d.last_exit.pid" : "processes.%d.pid", k);
    if ((int) tj_num(j, path, -1) == pid)
      return k;
  }
  return -1;
}

static double proc_num(const tj *j, int k, const char *field) {
  char path[96];
  snprintf(path, sizeof(path), "processes.%d.%s", k, field);
  return tj_num(j, path, -1);
}

START_TEST(crash_accounted) {
  tl_proc p;
  const char *args[] = {"--processes", "2",    "--allow-crash",
                        "--mode",      "pool", "--sample-ms",
                        "50",          NULL};
  tl_proc_start(&p, args);
  /* Keep-alive connections until worker a holds 3 and b at least one. */
  int fds[NCONN], pids[NCONN], n = 0, a = 0, b = 0, na = 0;
  for (; n < NCONN && (na < 3 || b == 0); n++) {
    fds[n] = tl_connect(p.port);
    pids[n] = tl_ask_pid(fds[n], "/task?steps=cpu:1");
    if (a == 0)
      a = pids[n];
    else if (pids[n] != a && b == 0)
      b = pids[n];
    na += pids[n] == a;
  }
  ck_assert_msg(na >= 3 && b, "connections: %d to %d, b %d", na, a, b);
  /* More requests on a's connections: what it served must outlive it. */
  int served = n;
  for (int i = 0; i < n; i++)
    if (pids[i] == a)
      for (int r = 0; r < 5; r++, served++)
        ck_assert_int_eq(tl_ask_pid(fds[i], "/task?steps=cpu:1"), a);
  /* Until the supervisor's view has a's connections and requests. */
  double t0 = tl_now_s();
  bool seen = false;
  while (!seen && tl_now_s() - t0 < 10) {
    tj *j = tl_get_stats(p.admin_port);
    int k = proc_index(j, a, false);
    seen = k > 0 && proc_num(j, k, "connections_open") == na &&
           proc_num(j, k, "requests") >= na * 6;
    tj_release(j);
    if (!seen)
      usleep(50 * 1000);
  }
  ck_assert_msg(seen, "worker %d's %d connections never shown", a, na);
  int victim = -1;
  for (int i = 0; i < n && victim < 0; i++)
    if (pids[i] == a)
      victim = i;
  tl_send_str(fds[victim], "GET /task?steps=crash HTTP/1.1\r\nHost: t\r\n\r\n");
  ck_assert(tl_wait_eof(fds[victim], 5000));
  /* The supervisor reaped it: its last exit is on its slot. */
  tj *j = NULL;
  int k = -1;
  t0 = tl_now_s();
  while (k < 0 && tl_now_s() - t0 < 10) {
    if (j)
      tj_release(j);
    j = tl_get_stats(p.admin_port);
    k = proc_index(j, a, true);
    if (k < 0)
      usleep(50 * 1000);
  }
  ck_assert_msg(k > 0, "no last exit for worker %d", a);
  ck_assert_int_eq((int) proc_num(j, k, "last_exit.connections_lost"), na);
  ck_assert_msg(proc_num(j, k, "last_exit.tasks_lost") <= 1, "tasks lost %.0f",
                proc_num(j, k, "last_exit.tasks_lost"));
  ck_assert_int_eq((int) tj_num(j, "process_totals.deaths", -1), 1);
  /* The live worker's share is published every sample: wait for it. */
  double reqs = tj_num(j, "process_totals.requests", -1);
  t0 = tl_now_s();
  while (reqs < served && tl_now_s() - t0 < 10) {
    tj_release(j);
    usleep(50 * 1000);
    j = tl_get_stats(p.admin_port);
    reqs = tj_num(j, "process_totals.requests", -1);
  }
  ck_assert_msg(reqs >= served, "process_totals.requests %.0f, %d served", reqs,
                served);
  ck_assert_int_eq((int) tj_num(j, "process_totals.deaths", -1), 1);
  tj_release(j);
  /* Everything closed: nothing open any more, the dead worker's included. */
  for (int i = 0; i < n; i++)
    tl_close(fds[i]);
  double open = -1, total = -1;
  t0 = tl_now_s();
  while (open != 0 && tl_now_s() - t0 < 10) {
    usleep(100 * 1000);
    j = tl_get_stats(p.admin_port);
    open = tj_num(j, "server.connections.open", -1);
    total = tj_num(j, "server.requests.total", -1);
    tj_release(j);
  }
  ck_assert_msg(open == 0, "server.connections.open %.0f with none open", open);
  ck_assert_msg(total >= served, "server.requests.total %.0f, %d served", total,
                served);
  ck_assert_int_eq(tl_proc_stop(&p, 15000), 0);
}
END_TEST

/* One test case per test, so that tests/mutants can run one by name. */
int main(void) {
  Suite *s = suite_create("process_totals");
  TCase *tc = tcase_create("crash_accounted");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, crash_accounted);
  suite_add_tcase(s, tc);
  return tl_check_run(s);
}
