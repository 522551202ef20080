/* The costs probe (src/core/costs.c): it measures, and neither it nor the
 * partner process of its IPC round trip outlives whoever forked it. */
#include "config.h"
#include <check.h>
#include "tl_check.h"
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tl_testutil.h"
#include "core/costs.h"

/* The first child pid forked by pid's main thread whose state is one of
 * states; 0 when none. */
static int child_in_state(int pid, const char *states) {
  char path[96], buf[512];
  snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  size_t len = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[len] = '\0';
  for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok;
       tok = strtok_r(NULL, " ", &save)) {
    char st[512];
    snprintf(path, sizeof(path), "/proc/%s/stat", tok);
    FILE *g = fopen(path, "r");
    if (!g)
      continue;
    size_t n = fread(st, 1, sizeof(st) - 1, g);
    fclose(g);
    st[n] = '\0';
    char *rp = strrchr(st, ')');
    if (rp && rp[1] == ' ' && strchr(states, rp[2]))
      return atoi(tok);
  }
  return 0;
}

START_TEST(probe_measures_every_cost) {
  int pid;
  int fd = tl_costs_start(&pid);
  ck_assert_int_ge(fd, 0);
  tl_costs c;
  double t0 = tl_now_s();
  while (!tl_costs_collect(fd, pid, &c) && tl_now_s() - t0 < 60)
    usleep(5 * 1000);
  ck_assert(c.measured);
  ck_assert(c.has_fork && c.has_thread && c.has_ipc && c.has_shm);
  ck_assert(c.fork_us > 0 && c.thread_us > 0 && c.ipc_rtt_us > 0 &&
            c.shm_rtt_us > 0);
  ck_assert_int_eq(c.reps, TL_COSTS_REPS);
}
END_TEST

/* Killed in the middle of its IPC measurement (caught with its partner
 * blocked in read), the probe takes the partner with it: this process
 * adopts orphans (PR_SET_CHILD_SUBREAPER), so a survivor would stay its
 * child. */
START_TEST(ipc_partner_dies_with_the_probe) {
  ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  int caught = 0;
  for (int round = 0; round < 20 && caught < 3; round++) {
    int probe;
    int fd = tl_costs_start(&probe);
    ck_assert_int_ge(fd, 0);
    int partner = 0;
    for (double t0 = tl_now_s(); !partner && tl_now_s() - t0 < 10;) {
      partner = child_in_state(probe, "S");
      if (!partner && waitpid(probe, NULL, WNOHANG) == probe) {
        probe = 0; /* done before we caught it */
        break;
      }
    }
    close(fd);
    if (probe > 0) {
      kill(probe, SIGKILL);
      waitpid(probe, NULL, 0);
    }
    caught += partner != 0;
    bool gone = false;
    for (double t0 = tl_now_s(); !gone && tl_now_s() - t0 < 5;) {
      pid_t r = waitpid(-1, NULL, WNOHANG);
      gone = r < 0 && errno == ECHILD;
      if (r == 0)
        usleep(5 * 1000);
    }
    if (!gone) {
      int left = child_in_state(getpid(), "RSDTZ");
      if (left)
        kill(left, SIGKILL);
      ck_abort_msg("pid %d outlived the costs probe (IPC partner %d)", left,
                   partner);
    }
  }
  ck_assert_msg(caught > 0,
                "never caught the probe during its IPC measurement");
}
END_TEST

/* Memory like with like: the private memory (smaps_rollup) a started,
 * waiting thread adds to its process and the private memory of a started,
 * waiting process, each at least the page of stack it wrote, within its
 * spread, and neither a whole process's memory (bounds generous: the
 * figures are the kernel's, measured here). */
START_TEST(private_memory_per_thread_and_per_process) {
  int pid;
  int fd = tl_costs_start(&pid);
  ck_assert_int_ge(fd, 0);
  tl_costs c;
  double t0 = tl_now_s();
  while (!tl_costs_collect(fd, pid, &c) && tl_now_s() - t0 < 60)
    usleep(5 * 1000);
  ck_assert(c.measured);
  ck_assert_msg(c.has_mem_thread && c.has_mem_process,
                "private memory not measured (thread %d, process %d)",
                c.has_mem_thread, c.has_mem_process);
  ck_assert_msg(c.thread_private_kb >= 4 && c.thread_private_kb < 4096,
                "thread: %.1f KiB", c.thread_private_kb);
  ck_assert_msg(c.process_private_kb >= 4 && c.process_private_kb < 65536,
                "process: %.1f KiB", c.process_private_kb);
  ck_assert(c.thread_private_spread_kb[0] <= c.thread_private_kb &&
            c.thread_private_kb <= c.thread_private_spread_kb[1]);
  ck_assert(c.process_private_spread_kb[0] <= c.process_private_kb &&
            c.process_private_kb <= c.process_private_spread_kb[1]);
}
END_TEST

TL_CHECK_MAIN("costs", probe_measures_every_cost,
              ipc_partner_dies_with_the_probe,
              private_memory_per_thread_and_per_process)
