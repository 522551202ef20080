/* Step cpu_us against the real server on loopback: every step's thread CPU
 * clock fits inside its wall time, a CPU step holds at least the CPU it was
 * asked to burn, an uncontended worker is on a core for most of a CPU
 * step, and 8 workers sharing one CPU (the server started with that
 * affinity, as `taskset -c 0` would) spend most of it waiting for the core.
 * The same figure reaches /stats. Bounds are generous: this is a noisy
 * 2-core machine shared with other sessions. */
#include "config.h"

#include <check.h>
#include "tl_check.h"
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tl_json.h"
#include "tl_testutil.h"

/* Clock granularity: start/end are truncated to µs separately. */
#define WALL_SLACK_US 5.0

static double step_wall_us(const tj *s) {
  return tj_num(s, "end_us", -1) - tj_num(s, "start_us", 0);
}

/* Every step of a task body: cpu_us is there, and within the wall. */
static void check_steps_fit(const tj *task) {
  const tj *steps = tj_get(task, "steps");
  ck_assert_ptr_nonnull(steps);
  for (size_t i = 0; i < steps->n; i++) {
    const tj *s = &steps->kids[i];
    const tj *cpu = tj_get(s, "cpu_us");
    ck_assert_msg(cpu && cpu->type == TJ_NUM, "step %zu has no cpu_us", i);
    ck_assert_msg(cpu->num >= 0 && cpu->num <= step_wall_us(s) + WALL_SLACK_US,
                  "step %zu (%s): cpu_us %.0f > wall %.0f", i,
                  tj_str(s, "kind"), cpu->num, step_wall_us(s));
    if (strcmp(tj_str(s, "kind"), "cpu") == 0) /* the burn is CPU-timed */
      ck_assert_msg(cpu->num >= tj_num(s, "ms", 0) * 1000 - 1,
                    "cpu step of %g ms holds only %.0f us of CPU",
                    tj_num(s, "ms", 0), cpu->num);
    else /* a wait or a yield: the thread's CPU is a sliver of it */
      ck_assert_msg(cpu->num < 2000, "%s step: cpu_us %.0f", tj_str(s, "kind"),
                    cpu->num);
  }
}

static void run_mode(const char *mode, const char *slice) {
  tl_proc p;
  const char *args[] = {"--mode",          mode,  "--threads", "2",
                        "--coro-slice-ms", slice, NULL};
  tl_proc_start(&p, args);
  for (int k = 0; k < 3; k++) {
    tj *t = tl_get_json(p.port, "/task?steps=cpu:6,io:10,cpu:3,yield,io:1");
    ck_assert_str_eq(tj_str(t, "mode"), mode);
    check_steps_fit(t);
    tj_release(t);
  }
  ck_assert_int_eq(tl_proc_stop(&p, 20000), 0);
}

START_TEST(cpu_within_wall_every_mode) {
  run_mode("pool", "0");
  run_mode("hybrid", "0");
  run_mode("async", "0");
  run_mode("coro", "0");
  run_mode("coro", "2"); /* sliced: the CPU summed over segments */
}
END_TEST

/* One worker, nothing of ours competing: most of a CPU step is on a core.
 * Other programs share the machine, so the best of up to 200 short steps
 * (it stops at the first good one) is what is held to 80%: at a load
 * average of 30 the best of 40 was once 0.76. */
START_TEST(uncontended_cpu_step_mostly_on_core) {
  tl_proc p;
  const char *args[] = {"--mode", "pool", "--threads", "1", NULL};
  tl_proc_start(&p, args);
  double best = 0;
  for (int k = 0; k < 200 && best < 0.8; k++) {
    tj *t = tl_get_json(p.port, "/cpu?ms=2");
    check_steps_fit(t);
    const tj *s = tj_get(t, "steps.0");
    double share = tj_num(s, "cpu_us", 0) / step_wall_us(s);
    if (share > best)
      best = share;
    tj_release(t);
  }
  ck_assert_msg(best >= 0.8, "best on-core share of a CPU step: %.2f", best);
  ck_assert_int_eq(tl_proc_stop(&p, 20000), 0);
}
END_TEST

/* Sends n requests at once on n connections; sums cpu_us and wall of the
 * CPU steps in the answers. */
static void concurrent_cpu(int port, int n, double *cpu, double *wall) {
  int fds[64];
  ck_assert_int_le(n, 64);
  for (int i = 0; i < n; i++) {
    fds[i] = tl_connect(port);
    tl_send_str(fds[i], "GET /cpu?ms=5 HTTP/1.1\r\nHost: t\r\n\r\n");
  }
  for (int i = 0; i < n; i++) {
    tl_resp r;
    ck_assert_int_eq(tl_read_resp(fds[i], &r, false), 0);
    ck_assert_int_eq(r.status, 200);
    tj *t = tj_parse(r.body, r.body_len);
    ck_assert_ptr_nonnull(t);
    check_steps_fit(t);
    const tj *s = tj_get(t, "steps.0");
    *cpu += tj_num(s, "cpu_us", 0);
    *wall += step_wall_us(s);
    tj_release(t);
    tl_resp_free(&r);
    tl_close(fds[i]);
  }
}

START_TEST(contended_cpu_steps_wait_for_the_core) {
  cpu_set_t mine, one;
  ck_assert_int_eq(sched_getaffinity(0, sizeof(mine), &mine), 0);
  CPU_ZERO(&one);
  CPU_SET(0, &one);
  /* The server inherits the mask, as under `taskset -c 0`. */
  ck_assert_int_eq(sched_setaffinity(0, sizeof(one), &one), 0);
  tl_proc p;
  const char *args[] = {"--mode", "pool", "--threads", "8", NULL};
  tl_proc_start(&p, args);
  ck_assert_int_eq(sched_setaffinity(0, sizeof(mine), &mine), 0);
  double cpu = 0, wall = 0;
  for (int round = 0; round < 4; round++)
    concurrent_cpu(p.port, 16, &cpu, &wall);
  /* 8 runnable workers on one core: ideally 1/8 on it; 0.6 is generous. */
  ck_assert_msg(wall > 0 && cpu / wall < 0.6,
                "contended CPU steps on a core %.2f of their wall", cpu / wall);
  ck_assert_msg(cpu >= 64 * 5000 - 64, "CPU of 64 steps of 5 ms: %.0f us", cpu);

  /* /stats carries the same figure for recent steps. */
  usleep(1200 * 1000);
  tj *st = tl_get_json(p.admin_port, "/stats");
  const tj *steps = tj_get(st, "timeline.steps");
  ck_assert_ptr_nonnull(steps);
  int ncpu = 0;
  double scpu = 0, swall = 0;
  for (size_t i = 0; i < steps->n; i++) {
    const tj *s = &steps->kids[i];
    const tj *c = tj_get(s, "cpu_us");
    ck_assert_msg(c && c->type == TJ_NUM, "/stats step without cpu_us");
    double w = (tj_num(s, "end_ms", 0) - tj_num(s, "start_ms", 0)) * 1000;
    ck_assert_msg(c->num <= w + WALL_SLACK_US,
                  "/stats step cpu %.0f > wall %.0f", c->num, w);
    if (strcmp(tj_str(s, "kind"), "cpu") == 0) {
      ncpu++;
      scpu += c->num;
      swall += w;
    }
  }
  ck_assert_int_gt(ncpu, 0);
  ck_assert_msg(scpu / swall < 0.6, "/stats: cpu steps on a core %.2f",
                scpu / swall);
  tj_release(st);
  ck_assert_int_eq(tl_proc_stop(&p, 20000), 0);
}
END_TEST

TL_CHECK_MAIN("steps_cpu", cpu_within_wall_every_mode,
              uncontended_cpu_step_mostly_on_core,
              contended_cpu_steps_wait_for_the_core)
