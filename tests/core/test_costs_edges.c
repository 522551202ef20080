/* The probe's private memory figures (core/costs) are per unit: measured
 * again here the same way (smaps_rollup's Private_Clean + Private_Dirty,
 * 4 waiting threads of this process, 4 waiting forked processes), per
 * thread and per process they agree within a factor of 2; a figure for
 * all 4 units together (4x) does not (mutaudit3). */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tl_check.h"
#include "tl_testutil.h"
#include "core/costs.h"

enum { UNITS = 4 };

static long long private_kb(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  char line[256];
  long long sum = 0;
  int seen = 0;
  while (fgets(line, sizeof(line), f)) {
    unsigned long long v;
    if (sscanf(line, "Private_Clean: %llu", &v) == 1 ||
        sscanf(line, "Private_Dirty: %llu", &v) == 1) {
      sum += (long long) v;
      seen++;
    }
  }
  fclose(f);
  return seen == 2 ? sum : -1;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int started;
static bool go;

static void *waiter(void *arg) {
  (void) arg;
  pthread_mutex_lock(&mu);
  started++;
  pthread_cond_broadcast(&cv);
  while (!go)
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  return NULL;
}

/* KiB a started, waiting thread adds to this process. */
static double per_thread(void) {
  pthread_t th[UNITS];
  long long before = private_kb("/proc/self/smaps_rollup");
  for (int i = 0; i < UNITS; i++)
    ck_assert_int_eq(pthread_create(&th[i], NULL, waiter, NULL), 0);
  pthread_mutex_lock(&mu);
  while (started < UNITS)
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  long long after = private_kb("/proc/self/smaps_rollup");
  pthread_mutex_lock(&mu);
  go = true;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  for (int i = 0; i < UNITS; i++)
    pthread_join(th[i], NULL);
  ck_assert(before >= 0 && after >= before);
  return (double) (after - before) / UNITS;
}

/* KiB of private memory of a started, waiting forked process. */
static double per_process(void) {
  int ready[2], hold[2];
  ck_assert_int_eq(pipe(ready), 0);
  ck_assert_int_eq(pipe(hold), 0);
  pid_t kid[UNITS];
  for (int i = 0; i < UNITS; i++) {
    kid[i] = fork();
    ck_assert_int_ge(kid[i], 0);
    if (kid[i] == 0) {
      close(hold[1]);
      char c = 1;
      (void) !write(ready[1], &c, 1);
      (void) !read(hold[0], &c, 1);
      _exit(0);
    }
  }
  char c;
  for (int i = 0; i < UNITS; i++)
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
  long long sum = 0;
  for (int i = 0; i < UNITS; i++) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int) kid[i]);
    long long kb = private_kb(path);
    ck_assert(kb >= 0);
    sum += kb;
  }
  close(hold[1]);
  for (int i = 0; i < UNITS; i++)
    waitpid(kid[i], NULL, 0);
  close(hold[0]);
  close(ready[0]);
  close(ready[1]);
  return (double) sum / UNITS;
}

START_TEST(figures_per_unit) {
  if (private_kb("/proc/self/smaps_rollup") < 0)
    TL_SKIP("no Private_Clean/Private_Dirty in /proc/self/smaps_rollup");
  /* Processes first: then no thread of this test has run yet. */
  double process = per_process(), thread = per_thread();
  int pid;
  int fd = tl_costs_start(&pid);
  ck_assert_int_ge(fd, 0);
  tl_costs c;
  double t0 = tl_now_s();
  while (!tl_costs_collect(fd, pid, &c) && tl_now_s() - t0 < 60)
    usleep(5 * 1000);
  ck_assert(c.measured && c.has_mem_thread && c.has_mem_process);
  fprintf(stderr,
          "private KiB: thread %.1f (here %.1f), process %.1f (here %.1f)\n",
          c.thread_private_kb, thread, c.process_private_kb, process);
  ck_assert_msg(
      c.thread_private_kb <= 2 * thread && thread <= 2 * c.thread_private_kb,
      "thread: probe %.1f KiB, here %.1f KiB", c.thread_private_kb, thread);
  ck_assert_msg(c.process_private_kb <= 2 * process &&
                    process <= 2 * c.process_private_kb,
                "process: probe %.1f KiB, here %.1f KiB", c.process_private_kb,
                process);
}
END_TEST

TL_CHECK_MAIN("costs_edges", figures_per_unit)
