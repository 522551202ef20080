#include "config.h"

#include "observer/thread_birth.h"

#include "base/util.h"
#include "observer/procfs.h"
#include "observer/procfs_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A thread's start time never changes: read once, kept by (pid, tid).
 * Bounded; when full it starts over (a tid reused by a new thread in the
 * same process is told apart by... nothing: tids recycle only after the
 * whole pid space, far beyond a sampler's life at this size). */
#define CACHE 1024

typedef struct entry {
  int pid, tid;
  uint64_t start_ticks;
} entry;

struct tl_thread_birth {
  long clk_tck;
  int64_t boot_minus_mono_ns;
  entry e[CACHE];
  int n;
};

static uint64_t ts_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

tl_thread_birth *tl_thread_birth_init(void) {
  tl_thread_birth *b = tl_xcalloc(1, sizeof(*b));
  b->clk_tck = sysconf(_SC_CLK_TCK);
  if (b->clk_tck <= 0)
    b->clk_tck = 100;
  tl_thread_birth_begin(b);
  return b;
}

void tl_thread_birth_close(tl_thread_birth *b) { free(b); }

/* The kernel's start time is on the boot clock (it counts suspend); ours
 * on the monotonic one (it does not): the difference now converts. */
void tl_thread_birth_begin(tl_thread_birth *b) {
  uint64_t mono = ts_ns(CLOCK_MONOTONIC);
  uint64_t boot = ts_ns(CLOCK_BOOTTIME);
  b->boot_minus_mono_ns = (int64_t) (boot - mono);
}

const char *tl_thread_birth_by_name(int by) {
  return by == TL_BIRTH_CREATOR  ? "creator"
         : by == TL_BIRTH_KERNEL ? "kernel"
                                 : NULL;
}

static int kernel_start(tl_thread_birth *b, int pid, int tid, uint64_t *ticks) {
  for (int i = 0; i < b->n; i++)
    if (b->e[i].tid == tid && b->e[i].pid == pid) {
      *ticks = b->e[i].start_ticks;
      return 0;
    }
  char path[64], buf[1024];
  snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
  ssize_t n = tl_procfs_read(path, buf, sizeof(buf));
  tl_procfs_stat ps;
  if (n <= 0 || tl_procfs_parse_stat(buf, (size_t) n, &ps) != 0)
    return -1;
  *ticks = ps.starttime_ticks;
  if (b->n == CACHE)
    b->n = 0;
  b->e[b->n++] = (entry){pid, tid, *ticks};
  return 0;
}

void tl_thread_birth_fill(tl_thread_birth *b, int pid, tl_thread_snap *t,
                          uint64_t created_ns, uint64_t first_run_ns,
                          uint64_t main_first_run_ns) {
  t->created_ns = created_ns;
  t->first_run_ns = first_run_ns;
  t->created_by = created_ns ? TL_BIRTH_CREATOR : TL_BIRTH_NONE;
  if (t->tid == pid && !t->first_run_ns)
    t->first_run_ns = main_first_run_ns;
  if (t->created_ns)
    return;
  uint64_t ticks;
  if (kernel_start(b, pid, t->tid, &ticks) != 0)
    return;
  int64_t boot_ns = (int64_t) (ticks * (1000000000u / (uint64_t) b->clk_tck));
  int64_t mono = boot_ns - b->boot_minus_mono_ns;
  if (mono > 0) {
    t->created_ns = (uint64_t) mono;
    t->created_by = TL_BIRTH_KERNEL;
  }
}
