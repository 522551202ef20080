#include "config.h"

#include "core/costs.h"

#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
  return x < y ? -1 : x > y;
}

/* The median, and the 10th and 90th percentiles into spread. */
static double median_us(uint64_t *v, int n, double *spread) {
  qsort(v, (size_t) n, sizeof(*v), cmp_u64);
  spread[0] = (double) v[n / 10] / 1000.0;
  spread[1] = (double) v[n - 1 - n / 10] / 1000.0;
  return (double) v[n / 2] / 1000.0;
}

/* fork -> the child's first instruction: it writes one byte and leaves
 * (only async-signal-safe calls: this process runs threads). */
static bool measure_fork(double *out, double *spread) {
  uint64_t v[TL_COSTS_REPS];
  for (int i = 0; i < TL_COSTS_REPS; i++) {
    int p[2];
    if (pipe(p) != 0)
      return false;
    uint64_t t0 = tl_now_ns();
    pid_t pid = fork();
    if (pid == 0) {
      char c = 1;
      (void) !write(p[1], &c, 1);
      _exit(0);
    }
    char c;
    bool ok = pid > 0 && read(p[0], &c, 1) == 1;
    v[i] = tl_now_ns() - t0;
    close(p[0]);
    close(p[1]);
    if (pid > 0)
      waitpid(pid, NULL, 0);
    if (!ok)
      return false;
  }
  *out = median_us(v, TL_COSTS_REPS, spread);
  return true;
}

typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int turn;            /* under mu: 1 ping, 2 pong, 3 stop */
  uint64_t started_ns; /* under mu */
  uintptr_t stack_addr;
  bool smaps_done; /* under mu */
} duo;

static void *started(void *arg) {
  duo *d = arg;
  pthread_mutex_lock(&d->mu);
  d->started_ns = tl_now_ns();
  pthread_cond_signal(&d->cv);
  pthread_mutex_unlock(&d->mu);
  return NULL;
}

static bool measure_thread(double *out, double *spread) {
  uint64_t v[TL_COSTS_REPS];
  duo d;
  memset(&d, 0, sizeof(d));
  pthread_mutex_init(&d.mu, NULL);
  pthread_cond_init(&d.cv, NULL);
  bool ok = true;
  for (int i = 0; i < TL_COSTS_REPS && ok; i++) {
    pthread_t th;
    d.started_ns = 0;
    uint64_t t0 = tl_now_ns();
    if (pthread_create(&th, NULL, started, &d) != 0) {
      ok = false;
      break;
    }
    pthread_mutex_lock(&d.mu);
    while (d.started_ns == 0)
      pthread_cond_wait(&d.cv, &d.mu);
    v[i] = d.started_ns - t0;
    pthread_mutex_unlock(&d.mu);
    pthread_join(th, NULL);
  }
  pthread_mutex_destroy(&d.mu);
  pthread_cond_destroy(&d.cv);
  if (ok)
    *out = median_us(v, TL_COSTS_REPS, spread);
  return ok;
}

static bool measure_ipc(double *out, double *spread) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return false;
  pid_t probe = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    /* Without its own copy of the probe's end, a probe that dies (with the
     * server, by PR_SET_PDEATHSIG) gives this partner EOF; the death signal
     * covers a partner blocked elsewhere. */
    close(sv[0]);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != probe)
      _exit(0);
    char c;
    while (read(sv[1], &c, 1) == 1 && c != 0)
      if (write(sv[1], &c, 1) != 1)
        break;
    _exit(0);
  }
  if (pid < 0)
    return false;
  uint64_t v[TL_COSTS_REPS];
  bool ok = true;
  char c = 1;
  for (int i = -10; i < TL_COSTS_REPS && ok; i++) { /* 10 to warm up */
    uint64_t t0 = tl_now_ns();
    ok = write(sv[0], &c, 1) == 1 && read(sv[0], &c, 1) == 1;
    if (i >= 0)
      v[i] = tl_now_ns() - t0;
  }
  c = 0;
  (void) !write(sv[0], &c, 1);
  close(sv[0]);
  close(sv[1]);
  waitpid(pid, NULL, 0);
  if (ok)
    *out = median_us(v, TL_COSTS_REPS, spread);
  return ok;
}

/* The partner of the handoff: answers each ping with a pong; also tells
 * where its stack is, for the smaps reading. */
static void *ponger(void *arg) {
  duo *d = arg;
  int local = 0;
  pthread_mutex_lock(&d->mu);
  d->stack_addr = (uintptr_t) &local;
  pthread_cond_broadcast(&d->cv);
  while (!d->smaps_done)
    pthread_cond_wait(&d->cv, &d->mu);
  for (;;) {
    while (d->turn == 0 || d->turn == 2)
      pthread_cond_wait(&d->cv, &d->mu);
    if (d->turn == 3)
      break;
    d->turn = 2;
    pthread_cond_broadcast(&d->cv);
  }
  pthread_mutex_unlock(&d->mu);
  return NULL;
}

/* The mapping of /proc/self/smaps that holds addr: its size and Rss. */
static bool stack_rss(uintptr_t addr, uint64_t *rss_kb, uint64_t *size_kb) {
  FILE *f = fopen("/proc/self/smaps", "r");
  if (!f)
    return false;
  char line[512];
  bool in = false, found = false;
  while (fgets(line, sizeof(line), f)) {
    unsigned long lo, hi;
    /* A mapping's header line starts "lo-hi perms ..."; the rest are
     * "Key:   value kB". */
    if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
        line[strspn(line, "0123456789abcdef")] == '-') {
      in = addr >= lo && addr < hi;
      if (in)
        *size_kb = (hi - lo) / 1024;
      continue;
    }
    if (in && strncmp(line, "Rss:", 4) == 0) {
      *rss_kb = strtoull(line + 4, NULL, 10);
      found = true;
      break;
    }
  }
  fclose(f);
  return found;
}

static bool measure_shm(tl_costs *c) {
  duo d;
  memset(&d, 0, sizeof(d));
  pthread_mutex_init(&d.mu, NULL);
  pthread_cond_init(&d.cv, NULL);
  pthread_t th;
  if (pthread_create(&th, NULL, ponger, &d) != 0)
    return false;
  pthread_mutex_lock(&d.mu);
  while (d.stack_addr == 0)
    pthread_cond_wait(&d.cv, &d.mu);
  uintptr_t addr = d.stack_addr;
  pthread_mutex_unlock(&d.mu);
  c->has_stack =
      stack_rss(addr, &c->thread_stack_rss_kb, &c->thread_stack_size_kb);
  pthread_mutex_lock(&d.mu);
  d.smaps_done = true;
  pthread_cond_broadcast(&d.cv);
  pthread_mutex_unlock(&d.mu);
  uint64_t v[TL_COSTS_REPS];
  for (int i = -10; i < TL_COSTS_REPS; i++) {
    uint64_t t0 = tl_now_ns();
    pthread_mutex_lock(&d.mu);
    d.turn = 1;
    pthread_cond_broadcast(&d.cv);
    while (d.turn != 2)
      pthread_cond_wait(&d.cv, &d.mu);
    pthread_mutex_unlock(&d.mu);
    if (i >= 0)
      v[i] = tl_now_ns() - t0;
  }
  pthread_mutex_lock(&d.mu);
  d.turn = 3;
  pthread_cond_broadcast(&d.cv);
  pthread_mutex_unlock(&d.mu);
  pthread_join(th, NULL);
  pthread_mutex_destroy(&d.mu);
  pthread_cond_destroy(&d.cv);
  c->shm_rtt_us = median_us(v, TL_COSTS_REPS, c->shm_spread_us);
  return true;
}

/* ---- private memory added per unit, like with like ----
 * Both sides are the kernel's Private_Clean + Private_Dirty (smaps_rollup:
 * the pages only this process maps, what the kernel frees when it goes),
 * for units that were started and then wait: a thread adds to its
 * process's private memory (read before and after), a forked process holds
 * its own (read from its smaps_rollup; pages still shared copy-on-write
 * with its parent are not its own). Page tables and kernel stacks are in
 * neither figure. MEM_UNITS units per round, MEM_ROUNDS rounds, all kept
 * alive to the end (a joined thread's stack would be reused, resident). */
#define MEM_ROUNDS 10
#define MEM_UNITS  4

/* Private_Clean + Private_Dirty of /proc/PID/smaps_rollup, KiB; -1 when
 * the kernel does not give it. */
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

typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int started; /* under mu */
  bool go;     /* under mu: the measuring is over, end */
} waiters;

static void *waiter(void *arg) {
  waiters *w = arg;
  pthread_mutex_lock(&w->mu);
  w->started++;
  pthread_cond_broadcast(&w->cv);
  while (!w->go)
    pthread_cond_wait(&w->cv, &w->mu);
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

/* KiB per unit of each round into v (rounds that could not be read are
 * left out); the count. */
static int mem_threads(uint64_t *v) {
  waiters w;
  memset(&w, 0, sizeof(w));
  pthread_mutex_init(&w.mu, NULL);
  pthread_cond_init(&w.cv, NULL);
  pthread_t th[MEM_ROUNDS * MEM_UNITS];
  int nth = 0, n = 0;
  for (int r = 0; r < MEM_ROUNDS; r++) {
    long long before = private_kb("/proc/self/smaps_rollup");
    int made = 0;
    for (int k = 0; k < MEM_UNITS; k++)
      if (pthread_create(&th[nth], NULL, waiter, &w) == 0) {
        nth++;
        made++;
      }
    pthread_mutex_lock(&w.mu);
    while (w.started < nth)
      pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    long long after = private_kb("/proc/self/smaps_rollup");
    if (made == MEM_UNITS && before >= 0 && after >= before)
      v[n++] = (uint64_t) (after - before) * 1000 / MEM_UNITS;
  }
  pthread_mutex_lock(&w.mu);
  w.go = true;
  pthread_cond_broadcast(&w.cv);
  pthread_mutex_unlock(&w.mu);
  for (int i = 0; i < nth; i++)
    pthread_join(th[i], NULL);
  pthread_mutex_destroy(&w.mu);
  pthread_cond_destroy(&w.cv);
  return n;
}

static int mem_processes(uint64_t *v) {
  int ready[2], hold[2];
  if (pipe(ready) != 0)
    return 0;
  if (pipe(hold) != 0) {
    close(ready[0]);
    close(ready[1]);
    return 0;
  }
  pid_t kids[MEM_ROUNDS * MEM_UNITS];
  int nk = 0, n = 0;
  pid_t self = getpid();
  for (int r = 0; r < MEM_ROUNDS; r++) {
    int from = nk;
    for (int k = 0; k < MEM_UNITS; k++) {
      pid_t pid = fork();
      if (pid == 0) {
        /* Started, then waits: it ends when the probe closes hold (or
         * dies: the death signal). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != self)
          _exit(0);
        close(hold[1]);
        char c = 1;
        (void) !write(ready[1], &c, 1);
        (void) !read(hold[0], &c, 1);
        _exit(0);
      }
      if (pid > 0)
        kids[nk++] = pid;
    }
    char c;
    for (int i = from; i < nk; i++)
      if (read(ready[0], &c, 1) != 1)
        break;
    long long sum = 0;
    bool ok = nk - from == MEM_UNITS;
    for (int i = from; i < nk && ok; i++) {
      char path[64];
      snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int) kids[i]);
      long long kb = private_kb(path);
      ok = kb >= 0;
      sum += kb;
    }
    if (ok)
      v[n++] = (uint64_t) sum * 1000 / MEM_UNITS;
  }
  close(hold[1]);
  close(hold[0]);
  close(ready[0]);
  close(ready[1]);
  for (int i = 0; i < nk; i++)
    waitpid(kids[i], NULL, 0);
  return n;
}

/* Median and spread of n rounds (KiB x 1000, as median_us's ns). */
static bool mem_figure(uint64_t *v, int n, double *kb, double *spread) {
  if (n < MEM_ROUNDS / 2)
    return false;
  *kb = median_us(v, n, spread);
  return true;
}

static void measure(tl_costs *c) {
  memset(c, 0, sizeof(*c));
  c->reps = TL_COSTS_REPS;
  /* First, while this process has one thread and glibc caches no stack. */
  uint64_t v[MEM_ROUNDS];
  int n = mem_processes(v);
  c->has_mem_process =
      mem_figure(v, n, &c->process_private_kb, c->process_private_spread_kb);
  n = mem_threads(v);
  c->has_mem_thread =
      mem_figure(v, n, &c->thread_private_kb, c->thread_private_spread_kb);
  c->has_fork = measure_fork(&c->fork_us, c->fork_spread_us);
  c->has_thread = measure_thread(&c->thread_us, c->thread_spread_us);
  c->has_ipc = measure_ipc(&c->ipc_rtt_us, c->ipc_spread_us);
  c->has_shm = measure_shm(c);
  c->measured = true;
}

int tl_costs_start(int *pid) {
  int p[2];
  if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0)
    return -1;
  pid_t parent = getpid();
  pid_t child = fork();
  if (child == 0) {
    /* The probe: single-threaded at birth, so it may do anything; it
     * never outlives the server. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(0);
    prctl(PR_SET_NAME, "tl-costs-probe");
    /* Lowest priority: the server it measures for comes first (on a busy
     * machine the figures then include waiting for a core). */
    (void) !nice(19);
    close(p[0]);
    tl_costs c;
    measure(&c);
    (void) !write(p[1], &c, sizeof(c)); /* < PIPE_BUF: one piece */
    _exit(0);
  }
  close(p[1]);
  if (child < 0) {
    close(p[0]);
    return -1;
  }
  *pid = child;
  return p[0];
}

bool tl_costs_collect(int fd, int pid, tl_costs *out) {
  if (fd < 0)
    return false;
  tl_costs c;
  ssize_t n = read(fd, &c, sizeof(c));
  if (n < 0 && errno == EAGAIN)
    return false;
  close(fd);
  waitpid(pid, NULL, WNOHANG); /* a supervisor may have reaped it already */
  if (n != (ssize_t) sizeof(c)) {
    memset(out, 0, sizeof(*out));
    out->measured = true; /* the probe failed: every figure null */
    return true;
  }
  *out = c;
  return true;
}
