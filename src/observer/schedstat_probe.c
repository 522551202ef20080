/* The run-queue self-test: threads that must take turns on a core read
 * their own schedstat before and after; run_delay growing is the proof
 * that the kernel accounts run-queue wait. */
#include "config.h"

#include "observer/schedstat_probe.h"

#include "base/util.h"
#include "observer/procfs.h"
#include "observer/procfs_read.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#define SPIN_NS           10000000ull /* 10 ms together: several time slices */
#define ARRIVE_TIMEOUT_NS 2000000000ull
#define MAX_SPINNERS      17

typedef struct spinner {
  pthread_t th;
  struct probe_run *run;
  bool pin_failed;
  bool have; /* both schedstat reads succeeded */
  tl_procfs_schedstat before, after;
} spinner;

typedef struct probe_run {
  int cpu; /* -1: not pinned */
  int n;   /* spinners started */
  _Atomic int arrived;
  spinner s[MAX_SPINNERS];
} probe_run;

static bool read_self(tl_procfs_schedstat *ss) {
  char buf[128];
  ssize_t n = tl_procfs_read("/proc/thread-self/schedstat", buf, sizeof(buf));
  return n > 0 && tl_procfs_parse_schedstat(buf, (size_t) n, ss) == 0;
}

static void *spin_main(void *arg) {
  spinner *sp = arg;
  probe_run *run = sp->run;
  pthread_setname_np(pthread_self(), "tl-runq-probe");
  if (run->cpu >= 0) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(run->cpu, &one);
    sp->pin_failed =
        pthread_setaffinity_np(pthread_self(), sizeof(one), &one) != 0;
  }
  bool ok = read_self(&sp->before);
  /* Keep the core busy until every spinner has taken its first reading,
   * so that the waits fall inside each window, then spin together. */
  atomic_fetch_add(&run->arrived, 1);
  uint64_t t0 = tl_now_ns();
  while (atomic_load(&run->arrived) < run->n &&
         tl_now_ns() - t0 < ARRIVE_TIMEOUT_NS)
    ;
  t0 = tl_now_ns();
  while (tl_now_ns() - t0 < SPIN_NS)
    ;
  sp->have = ok && read_self(&sp->after);
  return NULL;
}

/* Starts n spinners; returns how many ran, with *pin_failed when one of
 * them could not be pinned. */
static int spin(probe_run *run, int n, bool *pin_failed) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  run->n = n;
  atomic_store(&run->arrived, 0);
  int started = 0;
  for (int i = 0; i < n; i++) {
    memset(&run->s[i], 0, sizeof(run->s[i]));
    run->s[i].run = run;
    if (pthread_create(&run->s[i].th, &attr, spin_main, &run->s[i]) != 0)
      break;
    started++;
  }
  pthread_attr_destroy(&attr);
  if (started < n) /* release the others from waiting for the missing */
    atomic_fetch_add(&run->arrived, n - started);
  *pin_failed = false;
  for (int i = 0; i < started; i++) {
    pthread_join(run->s[i].th, NULL);
    *pin_failed |= run->s[i].pin_failed;
  }
  return started;
}

void tl_schedstat_probe_run(tl_schedstat_probe *out) {
  memset(out, 0, sizeof(*out));
  probe_run run;
  cpu_set_t mask;
  int allowed = tl_ncpu();
  run.cpu = -1;
  if (sched_getaffinity(0, sizeof(mask), &mask) == 0) {
    allowed = CPU_COUNT(&mask);
    for (int c = 0; c < CPU_SETSIZE && run.cpu < 0; c++)
      if (CPU_ISSET(c, &mask))
        run.cpu = c;
  }
  bool pin_failed = true;
  int n = 0;
  uint64_t t0 = tl_now_ns();
  if (run.cpu >= 0)
    n = spin(&run, 2, &pin_failed);
  if (pin_failed) {
    /* Not on one core: more spinners than cores must take turns too. */
    run.cpu = -1;
    n = spin(&run, allowed + 1 < MAX_SPINNERS ? allowed + 1 : MAX_SPINNERS,
             &pin_failed);
  }
  out->spin_ms = (double) (tl_now_ns() - t0) / 1e6;
  out->threads = n;
  out->cpu = run.cpu;
  int have = 0;
  for (int i = 0; i < n; i++) {
    const spinner *sp = &run.s[i];
    if (!sp->have)
      continue;
    have++;
    if (sp->after.oncpu_ns >= sp->before.oncpu_ns)
      out->oncpu_ms +=
          (double) (sp->after.oncpu_ns - sp->before.oncpu_ns) / 1e6;
    if (sp->after.runq_wait_ns >= sp->before.runq_wait_ns)
      out->run_delay_ms +=
          (double) (sp->after.runq_wait_ns - sp->before.runq_wait_ns) / 1e6;
  }
  if (have == 0)
    out->why = "this kernel has no readable /proc/PID/task/TID/schedstat "
               "(built without CONFIG_SCHED_INFO): a kernel built with "
               "CONFIG_SCHEDSTATS or CONFIG_TASK_DELAY_ACCT provides it";
  else if (out->oncpu_ms <= 0)
    out->why = "schedstat reads zeros here: the kernel's scheduler accounting "
               "is off; sysctl kernel.task_delayacct=1 (or "
               "kernel.sched_schedstats=1) turns it on, and threadlab tests "
               "again when either changes";
  else if (out->run_delay_ms <= 0)
    out->why = "the kernel counts run time but left run_delay at 0 while "
               "threads took turns on one core: where it ties run-queue wait "
               "to delay accounting, sysctl kernel.task_delayacct=1 (or "
               "booting with delayacct) turns it on, and threadlab tests "
               "again when the sysctl changes";
  else
    out->accounted = true;
}
