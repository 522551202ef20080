/* --processes: figures the supervisor's observer derives from its workers
 * (observer/process_sums), mutaudit2. The loops' utilisation is the mean
 * over every worker's loop (one busy loop of two is about half, not
 * nothing), and a worker thread's busy share is a share of the period (a
 * few ms of work every 50 ms is far from 100%). Bounds are generous: the
 * machine is shared. */
#include "config.h"

#include <check.h>
#include "tl_check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tl_json.h"
#include "tl_testutil.h"

/* async mode runs the CPU steps on the loop: one connection keeps one
 * worker's loop busy, the other worker's loop idles. */
START_TEST(utilization_is_the_mean_loop) {
  tl_proc p;
  const char *args[] = {"--processes",     "2",           "--mode",
                        "async",           "--sample-ms", "200",
                        "--spare-workers", "0",           NULL};
  tl_proc_start(&p, args);
  int fd = tl_connect(p.port);
  double best = -1, t0 = tl_now_s(), last = 0;
  int readings = 0;
  while (tl_now_s() - t0 < 4.0) {
    tl_ask_ok(fd, "/cpu?ms=20");
    if (tl_now_s() - t0 > 1.0 && tl_now_s() - last > 0.3) {
      tj *j = tl_get_stats(p.admin_port);
      double u = tj_num(j, "server.loop.utilization_pct", -1);
      tj_release(j);
      last = tl_now_s();
      readings++;
      if (u > best)
        best = u;
    }
  }
  tl_close(fd);
  printf("two worker loops, one busy: utilization_pct at most %.1f over %d "
         "readings\n",
         best, readings);
  ck_assert_msg(best >= 25 && best <= 80,
                "one busy loop of two: utilization_pct at most %.1f, not "
                "about 50",
                best);
  ck_assert_int_eq(tl_proc_stop(&p, 15000), 0);
}
END_TEST

START_TEST(busy_pct_is_a_share_of_the_period) {
  tl_proc p;
  const char *args[] = {"--processes",     "2",   "--mode",    "pool",
                        "--sample-ms",     "200", "--threads", "2",
                        "--spare-workers", "0",   NULL};
  tl_proc_start(&p, args);
  int fd = tl_connect(p.port);
  double t0 = tl_now_s(), last = 0, worst = -1, seen = 0;
  while (tl_now_s() - t0 < 4.0) {
    tl_ask_ok(fd, "/cpu?ms=2");
    usleep(50 * 1000);
    if (tl_now_s() - t0 > 1.0 && tl_now_s() - last > 0.3) {
      tj *j = tl_get_stats(p.admin_port);
      for (int i = 0; i < 64; i++) {
        char path[64];
        snprintf(path, sizeof(path), "threads.%d.role", i);
        const char *role = tj_str(j, path);
        if (!role)
          break;
        if (strcmp(role, "worker") != 0)
          continue;
        snprintf(path, sizeof(path), "threads.%d.busy_pct", i);
        double b = tj_num(j, path, -1);
        if (b > worst)
          worst = b;
        if (b > 0)
          seen = b;
      }
      tj_release(j);
      last = tl_now_s();
    }
  }
  tl_close(fd);
  printf("a 2 ms task every ~50 ms: worker busy_pct at most %.1f\n", worst);
  ck_assert_msg(seen > 0, "no worker thread ever busy (busy_pct %.1f)", worst);
  ck_assert_msg(worst < 60, "2 ms every 50 ms: busy_pct %.1f", worst);
  ck_assert_int_eq(tl_proc_stop(&p, 15000), 0);
}
END_TEST

/* One test case per test, so that tests/mutants can run one by name. */
int main(void) {
  Suite *s = suite_create("process_sums");
  TCase *a = tcase_create("utilization_is_the_mean_loop");
  tcase_set_timeout(a, 120);
  tcase_add_test(a, utilization_is_the_mean_loop);
  suite_add_tcase(s, a);
  TCase *b = tcase_create("busy_pct_is_a_share_of_the_period");
  tcase_set_timeout(b, 120);
  tcase_add_test(b, busy_pct_is_a_share_of_the_period);
  suite_add_tcase(s, b);
  return tl_check_run(s);
}
