/* The probe's private memory figures (core/costs) are per unit: measured
 * again here (4 waiting threads of this process, 4 waiting forked
 * processes), per thread and per process they agree within a factor of 2;
 * a figure for all 4 units together (4x) does not (mutaudit3).
 * The oracle is not the probe's reader: core/costs reads the kernel's
 * totals in /proc/PID/smaps_rollup, this test adds up Private_Clean and
 * Private_Dirty of every mapping in /proc/PID/smaps itself, so a bug in
 * the probe's reader is not copied into the check. (Measured here, kernel
 * 6.18: both sums are equal to the KiB, for this process and a forked
 * child.) */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tl_check.h"
#include "tl_testutil.h"
#include "core/costs.h"

enum { UNITS = 4 };

/* The whole of a /proc file (NUL-terminated, malloc'd), or NULL. */
static char *slurp(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (len + 1 >= cap)
      buf = realloc(buf, cap *= 2);
    ssize_t n = read(fd, buf + len, cap - len - 1);
    if (n <= 0)
      break;
    len += (size_t) n;
  }
  close(fd);
  buf[len] = '\0';
  return buf;
}

/* The KiB of a "Name:   123 kB" line that starts at line, added to *sum;
 * false when line is not that field. */
static bool add_field(const char *line, const char *name, long long *sum) {
  size_t n = strlen(name);
  if (strncmp(line, name, n) != 0 || line[n] != ':')
    return false;
  char *end;
  unsigned long long v = strtoull(line + n + 1, &end, 10);
  ck_assert_msg(end != line + n + 1 && strncmp(end, " kB", 3) == 0,
                "unreadable smaps line: %.60s", line);
  *sum += (long long) v;
  return true;
}

/* Private_Clean + Private_Dirty over every mapping of /proc/PID/smaps,
 * KiB; -1 when the kernel gives no mapping both fields. */
static long long private_kb(const char *pid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%s/smaps", pid);
  char *text = slurp(path);
  if (!text)
    return -1;
  long long sum = 0;
  int clean = 0, dirty = 0;
  for (char *line = text; *line;) {
    clean += add_field(line, "Private_Clean", &sum);
    dirty += add_field(line, "Private_Dirty", &sum);
    char *nl = strchr(line, '\n');
    line = nl ? nl + 1 : line + strlen(line);
  }
  free(text);
  /* Every mapping has one of each: a mismatch is a format this does not
   * know. */
  ck_assert_int_eq(clean, dirty);
  return clean > 0 ? sum : -1;
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
  long long before = private_kb("self");
  for (int i = 0; i < UNITS; i++)
    ck_assert_int_eq(pthread_create(&th[i], NULL, waiter, NULL), 0);
  pthread_mutex_lock(&mu);
  while (started < UNITS)
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  long long after = private_kb("self");
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
    char pid[16];
    snprintf(pid, sizeof(pid), "%d", (int) kid[i]);
    long long kb = private_kb(pid);
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
  if (private_kb("self") < 0)
    TL_SKIP("no Private_Clean/Private_Dirty in /proc/self/smaps");
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
