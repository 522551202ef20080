#include "config.h"

#include "core/pool.h"
#include "observer/procfs.h"
#include "observer/insights.h"
#include "observer/render_json.h"
#include "observer/render_metrics.h"
#include "observer/snapshot.h"
#include "observer/sampler.h"
#include "observer/coro_sample.h"
#include "observer/events.h"
#include "observer/history.h"
#include "observer/schedstat_probe.h"
#include "observer/stream_view.h"
#include "base/util.h"
#include "base/cpulist.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_TIDS 4096
#define TIMELINE_KEEP 8192
#define DRAIN_MAX TL_RING_SIZE

/* Raw cumulative figures of one thread from the previous sample. */
typedef struct prev_thread {
  int tid;
  uint64_t ticks_user, ticks_sys, oncpu_ns, runq_ns, ctx_vol, ctx_invol;
  uint64_t migrations, tasks, steps, busy_ns, coro_switches;
  uint64_t read_ns;    /* when schedstat was read: the thread's own period */
  bool has_sched, has_migrations; /* the sched figures above are real */
  bool has_runq;       /* runq_ns is real (the kernel accounts it) */
  /* What /proc/.../stat said last, kept for a thread that has not run
   * since (its stat file is then not read again, see sample_thread). */
  bool has_stat;
  uint64_t clock_ns;   /* its CPU-time clock: unchanged = it has not run */
  uint64_t timeslices;
  char state;
  int core;
  char name[TL_PROCFS_NAME_MAX];
} prev_thread;

/* One thread's /proc files. The descriptors are kept open between samples
 * (a pread instead of a path walk) only within the sampler's share of the
 * descriptor limit; -1: not kept, the file is opened, read and closed. */
typedef struct thread_fds {
  int tid;
  int stat, schedstat, sched;
  bool seen;           /* listed in the current sample */
  bool has_allowed;
  char allowed[256];   /* Cpus_allowed list, refreshed every few samples */
} thread_fds;

/* A registered thread of ours, by tid (sorted each sample: a binary search
 * instead of a walk of the registry list per thread). */
typedef struct own_ref {
  int tid;
  tl_thread_ctx *ctx;
} own_ref;

/* Figures that change rarely are re-read every few periods only: the
 * allowed cores of each thread (pinning) and the process's open files. */
#define SLOW_EVERY 4
/* A thread that has not run is re-read (name, state: a rename from
 * outside, a wake-up still waiting for a core) every TURN_EVERY samples. */
#define TURN_EVERY 8
/* The sampler keeps /proc descriptors open within this share of the soft
 * RLIMIT_NOFILE: the rest belongs to connections (and whatever else). */
#define FD_SHARE_DIV 4
/* Reading processes[] costs more than this: read it every SLOW_EVERY
 * periods only (smaps_rollup walks every mapping: 1,000 thread stacks). */
#define PROCESSES_COSTLY_NS 1000000u

static void close_fds(struct tl_sampler *st, thread_fds *f);
static void check_runq(struct tl_sampler *st, bool first);

struct tl_sampler {
  tl_server *srv;
  tl_registry *reg;
  long clk_tck;
  long page_size;
  int ncpu;
  int ncpu_conf;           /* highest possible core ids, for affinity masks */
  bool slow_sample;        /* re-read the slowly changing figures now */
  bool refresh_all;        /* every thread's turn (our pinning changed) */
  uint64_t last_pinned;
  int pin_refresh;         /* samples left that re-read affinity anyway */
  uint64_t seq;
  tl_schedstat_probe probe;     /* does the kernel account run-queue wait? */
  int sysctl_delayacct, sysctl_schedstats; /* as last read: -1 absent */
  uint64_t last_ns;        /* monotonic time of the previous sample */
  uint64_t last_cost_ns;
  /* previous raw values, for rates */
  prev_thread *prev;
  int nprev;
  prev_thread *raw;        /* this sample's raw values, becomes prev */
  int *tids;
  int ntids;               /* as last listed, less those found gone */
  int nregistered;         /* our registry's length at that listing */
  thread_fds *fds;         /* open /proc files per thread */
  int nfds;
  int fds_kept;            /* descriptors open in fds[] */
  int fds_budget;          /* at most this many (FD_SHARE_DIV of the limit) */
  own_ref *own;            /* this sample's registered threads, by tid */
  int nown;
  uint64_t procs_cost_ns;  /* what the last processes[] read cost */
  uint64_t procs_last_ns;  /* when it was read */
  tl_procfs_sysstat sys_prev, sys_now;
  bool have_sys_prev;
  uint64_t proc_ticks_user, proc_ticks_sys, proc_ctx_vol, proc_ctx_invol;
  uint64_t accepted, requests, by_route[TL_ROUTE_COUNT], rejected;
  uint64_t send_submits, send_writes;
  uint64_t loop_idle_ns;
  uint64_t block_seq;
  uint64_t block_seen_ns;  /* when the sampler saw the latest loop block */
  tl_loop_counters loop_sum;  /* every loop's counters added up */
  tl_loop_prev loop_prev[TL_SNAP_MAX_LOOPS];
  uint64_t core_steps[TL_SNAP_MAX_CORES];
  uint64_t core_steps_prev[TL_SNAP_MAX_CORES];
  /* previous histograms (cumulative) */
  tl_hist_snap lat_prev, route_prev[TL_ROUTE_COUNT], qwait_prev, lag_prev;
  /* current histograms */
  tl_hist_snap lat_now, route_now[TL_ROUTE_COUNT], qwait_now, lag_now;
  tl_hist_snap lat_period, route_period[TL_ROUTE_COUNT], qwait_period,
      lag_period;
  /* recent steps, oldest first, a ring */
  tl_timeline_ev *keep;
  uint64_t keep_head;
  uint64_t dropped;
  tl_step_event drain_buf[DRAIN_MAX];
  tl_snapshot snap;
  tl_history *history;     /* the observer's, or NULL (tl_sampler_attach) */
  tl_events *events;
  tl_buf json, metrics;
  uint64_t metrics_seq;    /* snapshot the metrics text was rendered from */
  tl_stream_view *stream;  /* the stream's smaller view of the snapshot */
  tl_buf stream_json;
  uint64_t stream_seq;     /* snapshot stream_json was rendered from */
  char file_buf[8192];
};

tl_sampler *tl_sampler_init(tl_server *srv, tl_registry *reg) {
  tl_sampler *st = tl_xcalloc(1, sizeof(*st));
  st->srv = srv;
  st->reg = reg;
  st->clk_tck = sysconf(_SC_CLK_TCK);
  st->page_size = sysconf(_SC_PAGESIZE);
  st->ncpu = tl_ncpu();
  long conf = sysconf(_SC_NPROCESSORS_CONF);
  st->ncpu_conf = conf > 0 ? (int) conf : CPU_SETSIZE;
  st->keep = tl_xcalloc(TIMELINE_KEEP, sizeof(*st->keep));
  st->snap.threads = tl_xcalloc(MAX_TIDS, sizeof(tl_thread_snap));
  st->snap.timeline = tl_xcalloc(TL_TIMELINE_OUT_MAX, sizeof(tl_timeline_ev));
  st->prev = tl_xcalloc(MAX_TIDS, sizeof(prev_thread));
  st->raw = tl_xcalloc(MAX_TIDS, sizeof(prev_thread));
  st->tids = tl_xcalloc(MAX_TIDS, sizeof(int));
  st->fds = tl_xcalloc(MAX_TIDS, sizeof(thread_fds));
  st->own = tl_xcalloc(MAX_TIDS, sizeof(own_ref));
  st->fds_budget = tl_sampler_fd_budget();
  tl_buf_init(&st->json, NULL, 0);
  tl_buf_init(&st->metrics, NULL, 0);
  tl_buf_init(&st->stream_json, NULL, 0);
  st->stream = tl_stream_view_init();
  st->last_ns = srv->start_ns;
  /* Under --no-stats nothing is sampled: no self-test either (it spins a
   * core for about 10 ms). */
  if (!srv->cfg.no_stats)
    check_runq(st, true);
  return st;
}

void tl_sampler_close(tl_sampler *st) {
  if (!st)
    return;
  free(st->keep);
  free(st->snap.threads);
  free(st->snap.timeline);
  free(st->prev);
  free(st->raw);
  free(st->tids);
  for (int i = 0; i < st->nfds; i++)
    close_fds(st, &st->fds[i]);
  free(st->fds);
  free(st->own);
  tl_buf_close(&st->json);
  tl_buf_close(&st->metrics);
  tl_buf_close(&st->stream_json);
  tl_stream_view_close(st->stream);
  free(st);
}

void tl_sampler_attach(tl_sampler *st, tl_history *h, tl_events *ev) {
  st->history = h;
  st->events = ev;
  st->snap.events = ev;
}

uint64_t tl_sampler_seq(const tl_sampler *st) { return st->seq; }
const tl_buf *tl_sampler_json(const tl_sampler *st) { return &st->json; }
const tl_buf *tl_sampler_metrics(tl_sampler *st) {
  /* Rendered on demand, at most once per snapshot: most periods nobody
   * scrapes. */
  if (st->metrics_seq != st->seq) {
    st->metrics.len = 0;
    tl_render_metrics(&st->snap, &st->metrics);
    st->metrics_seq = st->seq;
  }
  return &st->metrics;
}

const tl_buf *tl_sampler_stream_json(tl_sampler *st) {
  if (st->stream_seq != st->seq) {
    tl_stream_view_render(st->stream, &st->snap, &st->stream_json);
    st->stream_seq = st->seq;
  }
  return &st->stream_json;
}

static uint64_t ld(const _Atomic uint64_t *p) {
  return atomic_load_explicit(p, memory_order_relaxed);
}

static double rate(uint64_t now, uint64_t before, double period_s) {
  return period_s > 0 && now >= before ? (double) (now - before) / period_s
                                       : 0.0;
}

/* A 0/1 sysctl: its value, or -1 when absent or unreadable. */
static int read_sysctl(tl_sampler *st, const char *path) {
  ssize_t n = tl_procfs_read(path, st->file_buf, sizeof(st->file_buf));
  return n > 0 && (st->file_buf[0] == '0' || st->file_buf[0] == '1')
             ? st->file_buf[0] - '0' : -1;
}

/* The sysctls decide nothing, but a change in either may change what the
 * kernel accounts: then the self-test runs again. */
static void check_runq(tl_sampler *st, bool first) {
  int da = read_sysctl(st, "/proc/sys/kernel/task_delayacct");
  int ss = read_sysctl(st, "/proc/sys/kernel/sched_schedstats");
  if (first || da != st->sysctl_delayacct || ss != st->sysctl_schedstats)
    tl_schedstat_probe_run(&st->probe);
  st->sysctl_delayacct = da;
  st->sysctl_schedstats = ss;
  st->snap.task_delayacct = da;
  st->snap.runq_accounted = st->probe.accounted;
  st->snap.runq_probe = &st->probe;
}

/* The cores the process may use: the main thread's mask (taskset, cgroup
 * cpuset), which the loop thread keeps. */
static void read_process_mask(tl_sampler *st) {
  tl_snapshot *s = &st->snap;
  cpu_set_t aff;
  s->cpus_allowed = 0;
  s->cpus_allowed_list[0] = '\0';
  if (sched_getaffinity(getpid(), sizeof(aff), &aff) != 0)
    return;
  s->cpus_allowed = CPU_COUNT(&aff);
  tl_procfs_cpuset set;
  tl_procfs_cpuset_zero(&set);
  for (int c = 0; c < st->ncpu_conf && c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &aff))
      tl_procfs_cpuset_set(&set, (unsigned) c);
  if (tl_procfs_format_cpulist(&set, s->cpus_allowed_list,
                               sizeof(s->cpus_allowed_list)) < 0)
    s->cpus_allowed_list[0] = '\0';
}

static const prev_thread *find_prev(const tl_sampler *st, int tid) {
  int lo = 0, hi = st->nprev - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    if (st->prev[mid].tid == tid)
      return &st->prev[mid];
    if (st->prev[mid].tid < tid)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return NULL;
}

int tl_sampler_fd_budget(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return 0;
  rlim_t soft = rl.rlim_cur == RLIM_INFINITY ? (rlim_t) 1 << 20 : rl.rlim_cur;
  rlim_t share = soft / FD_SHARE_DIV;
  return share > (rlim_t) MAX_TIDS * 3 ? MAX_TIDS * 3 : (int) share;
}

int tl_sampler_fds_kept(const tl_sampler *st) { return st->fds_kept; }

static int cmp_own(const void *a, const void *b) {
  int x = ((const own_ref *) a)->tid, y = ((const own_ref *) b)->tid;
  return (x > y) - (x < y);
}

/* Our own threads, sorted by tid. Called with the registry lock held. */
static void index_own(tl_sampler *st) {
  st->nown = 0;
  for (tl_thread_ctx *c = st->reg->head; c && st->nown < MAX_TIDS; c = c->next)
    st->own[st->nown++] = (own_ref){c->tid, c};
  qsort(st->own, (size_t) st->nown, sizeof(own_ref), cmp_own);
}

/* Our own threads' identity and counters, looked up by tid. */
static tl_thread_ctx *find_ctx(const tl_sampler *st, int tid) {
  int lo = 0, hi = st->nown - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    if (st->own[mid].tid == tid)
      return st->own[mid].ctx;
    if (st->own[mid].tid < tid)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return NULL;
}

/* Reads a /proc file that the cache keeps open, from its start. */
static ssize_t pread_all(int fd, char *buf, size_t cap) {
  /* A seq_file hands over its whole text in one read when it fits; a
   * full buffer means it did not. */
  ssize_t n;
  do
    n = pread(fd, buf, cap, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -errno;
  return (size_t) n == cap ? -EOVERFLOW : n;
}

/* Opens relpath under dfd when the budget allows one more descriptor. */
static int keep_open(tl_sampler *st, int dfd, const char *relpath) {
  if (st->fds_kept >= st->fds_budget)
    return -1;
  int fd = openat(dfd, relpath, O_RDONLY | O_CLOEXEC);
  if (fd >= 0)
    st->fds_kept++;
  return fd;
}

/* One of a thread's files: through its kept descriptor, or opened, read
 * and closed now when none is kept. */
static ssize_t read_thread_file(tl_sampler *st, int fd, int tid,
                                const char *name) {
  if (fd >= 0)
    return pread_all(fd, st->file_buf, sizeof(st->file_buf));
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/task/%d/%s", tid, name);
  return tl_procfs_read(path, st->file_buf, sizeof(st->file_buf));
}

/* The open descriptors of one thread's /proc files, kept between samples:
 * re-reading an open seq_file costs one pread, opening it a path walk.
 * schedstat first (it is read every sample), then stat, then sched. */
static thread_fds *fds_for(tl_sampler *st, int tid) {
  /* Kept sorted by tid: binary search, insert in place. */
  int lo = 0, hi = st->nfds;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (st->fds[mid].tid < tid)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < st->nfds && st->fds[lo].tid == tid)
    return &st->fds[lo];
  if (st->nfds == MAX_TIDS)
    return NULL;
  int dfd = -1;
  if (st->fds_kept < st->fds_budget) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/task/%d", tid);
    dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
      return NULL; /* gone since it was listed */
  }
  memmove(&st->fds[lo + 1], &st->fds[lo], (size_t) (st->nfds - lo) * sizeof(thread_fds));
  st->nfds++;
  thread_fds *f = &st->fds[lo];
  f->tid = tid;
  f->has_allowed = false;
  f->stat = f->schedstat = f->sched = -1;
  if (dfd >= 0) {
    f->schedstat = keep_open(st, dfd, "schedstat");
    f->stat = keep_open(st, dfd, "stat");
    f->sched = keep_open(st, dfd, "sched");
    close(dfd);
  }
  f->seen = true;
  return f;
}

static void close_fds(tl_sampler *st, thread_fds *f) {
  int *fd[3] = {&f->stat, &f->schedstat, &f->sched};
  for (int i = 0; i < 3; i++)
    if (*fd[i] >= 0) {
      close(*fd[i]);
      *fd[i] = -1;
      st->fds_kept--;
    }
}

/* Drops the descriptors of threads that were not listed this time. */
static void prune_fds(tl_sampler *st) {
  int o = 0;
  for (int i = 0; i < st->nfds; i++) {
    if (st->fds[i].seen) {
      st->fds[i].seen = false;
      st->fds[o++] = st->fds[i];
    } else {
      close_fds(st, &st->fds[i]);
    }
  }
  st->nfds = o;
}

/* On a core / waiting for one / the rest, over the wall time between this
 * thread's two schedstat reads. Timing jitter can push on+wait a little
 * over 100: the rest is then 0, never negative. */
static void period_shares(tl_thread_snap *t, const prev_thread *raw,
                          const prev_thread *p) {
  if (!t->has_oncpu || !p->read_ns || raw->read_ns <= p->read_ns ||
      raw->oncpu_ns < p->oncpu_ns)
    return;
  double wall_s = (double) (raw->read_ns - p->read_ns) / 1e9;
  t->has_period = true;
  t->on_cpu_pct = 100.0 * t->oncpu_delta_s / wall_s;
  if (!t->has_runq || !p->has_runq || raw->runq_ns < p->runq_ns)
    return;
  t->runq_pct = t->runq_wait_pct = 100.0 * t->runq_delta_s / wall_s;
  double rest = 100.0 - t->on_cpu_pct - t->runq_pct;
  t->sleep_pct = rest > 0 ? rest : 0;
}

/* Whether this thread's stat file (and its affinity) is due anyway this
 * sample: each thread's turn comes every TURN_EVERY samples, spread over
 * the samples by tid so that no one sample reads them all. */
static bool refresh_turn(const tl_sampler *st, int tid) {
  return st->refresh_all || ((uint64_t) tid + st->seq) % TURN_EVERY == 0;
}

/* The CPU-time clock of one of our threads (the kernel's sum_exec_runtime
 * plus its running slice, what schedstat's first figure prints): one
 * system call without a file, against a seq_file read. The id is the
 * kernel's encoding, the one pthread_getcpuclockid uses: a per-thread
 * (4) scheduler clock (2) of this tid. */
static int thread_clock_ns(int tid, uint64_t *ns) {
  clockid_t id = (clockid_t) ((~(unsigned) tid) << 3) | 6;
  struct timespec ts;
  if (clock_gettime(id, &ts) != 0)
    return -errno;
  *ns = (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
  return 0;
}

/* Copies what a thread that has not run since still has: everything the
 * kernel accounts only while it runs. */
static void carry_over(tl_thread_snap *t, prev_thread *raw,
                       const prev_thread *p, uint64_t now_ns) {
  raw->oncpu_ns = p->oncpu_ns;
  raw->timeslices = p->timeslices;
  raw->read_ns = now_ns;
  raw->has_runq = p->has_runq;
  raw->runq_ns = p->runq_ns;
  raw->has_stat = true;
  raw->state = p->state;
  raw->core = p->core;
  memcpy(raw->name, p->name, sizeof(raw->name));
  raw->ticks_user = p->ticks_user;
  raw->ticks_sys = p->ticks_sys;
  t->has_oncpu = true;
  t->oncpu_s = (double) p->oncpu_ns / 1e9;
  t->timeslices = p->timeslices;
  t->has_runq = p->has_runq;
  t->runq_wait_s = (double) p->runq_ns / 1e9;
}

/* Returns false when the thread is gone. */
static bool sample_thread(tl_sampler *st, int tid, double period_s,
                          tl_thread_snap *t, prev_thread *raw) {
  memset(t, 0, sizeof(*t));
  memset(raw, 0, sizeof(*raw));
  t->tid = raw->tid = tid;
  t->core = raw->core = -1;
  t->index = -1;
  t->role = TL_ROLE_OTHER;
  if (thread_clock_ns(tid, &raw->clock_ns) == -EINVAL)
    return false;
  thread_fds *f = fds_for(st, tid);
  if (!f)
    return false;
  f->seen = true;
  const prev_thread *p = find_prev(st, tid);
  bool turn = refresh_turn(st, tid);
  /* Not run since the last sample (its clock did not move): its schedstat
   * and sched figures cannot have changed, and outside its turn neither
   * has its stat. Most of 1,000 workers sleep through most periods. */
  bool idle = p && p->has_stat && p->has_sched && p->clock_ns == raw->clock_ns &&
              p->state != 'R' && raw->clock_ns != 0;
  tl_procfs_schedstat ss;
  ssize_t n = idle ? 0 : read_thread_file(st, f->schedstat, tid, "schedstat");
  if (idle) {
    carry_over(t, raw, p, tl_now_ns());
  } else if (n > 0 && tl_procfs_parse_schedstat(st->file_buf, (size_t) n, &ss) == 0) {
    raw->timeslices = ss.timeslices;
    t->has_oncpu = true;
    t->oncpu_s = (double) ss.oncpu_ns / 1e9;
    t->timeslices = ss.timeslices;
    raw->oncpu_ns = ss.oncpu_ns;
    raw->read_ns = tl_now_ns();
    /* A kernel that does not account run-queue wait leaves run_delay at
     * 0: that is "not measured", not "no wait". */
    if (st->snap.runq_accounted) {
      t->has_runq = raw->has_runq = true;
      t->runq_wait_s = (double) ss.runq_wait_ns / 1e9;
      raw->runq_ns = ss.runq_wait_ns;
    }
  }
  /* A thread that has not been on a core since the last sample has the
   * same CPU times, core and state: its stat file is read only in its
   * turn (a rename from outside, or a wake-up still waiting for a core,
   * shows within TURN_EVERY samples). A runnable one is always read. */
  bool ran = !p || !p->has_stat || !t->has_oncpu || raw->oncpu_ns != p->oncpu_ns ||
             p->state == 'R';
  if (idle && !turn) {
    /* carried over above */
  } else if (ran || turn) {
    tl_procfs_stat ps;
    n = read_thread_file(st, f->stat, tid, "stat");
    if (n > 0 && tl_procfs_parse_stat(st->file_buf, (size_t) n, &ps) == 0) {
      raw->has_stat = true;
      raw->state = ps.state;
      raw->core = ps.processor;
      memcpy(raw->name, ps.comm, sizeof(raw->name));
      raw->ticks_user = ps.utime_ticks;
      raw->ticks_sys = ps.stime_ticks;
    }
  } else {
    raw->has_stat = true;
    raw->state = p->state;
    raw->core = p->core;
    memcpy(raw->name, p->name, sizeof(raw->name));
    raw->ticks_user = p->ticks_user;
    raw->ticks_sys = p->ticks_sys;
  }
  if (raw->has_stat) {
    snprintf(t->name, sizeof(t->name), "%s", raw->name);
    t->state = raw->state;
    t->core = raw->core;
    t->cpu_user_s = (double) raw->ticks_user / (double) st->clk_tck;
    t->cpu_sys_s = (double) raw->ticks_sys / (double) st->clk_tck;
  }
  /* Allowed cores straight from the scheduler (cheaper than parsing
   * /proc/.../status): for new threads, when our pinning changed, for a
   * thread that ran, and in the thread's turn for changes made from
   * outside (taskset -p). */
  if (!f->has_allowed || turn || !idle) {
    cpu_set_t aff;
    f->has_allowed = false;
    if (sched_getaffinity(tid, sizeof(aff), &aff) == 0) {
      tl_procfs_cpuset set;
      tl_procfs_cpuset_zero(&set);
      for (int c = 0; c < st->ncpu_conf && c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &aff))
          tl_procfs_cpuset_set(&set, (unsigned) c);
      f->has_allowed =
          tl_procfs_format_cpulist(&set, f->allowed, sizeof(f->allowed)) >= 0;
    }
  }
  if (f->has_allowed)
    memcpy(t->allowed, f->allowed, sizeof(t->allowed));
  /* /proc/.../sched is the costliest file to generate. A thread whose
   * on-CPU time did not move since the last sample has not run, so it was
   * neither switched out nor moved: its previous figures still hold. */
  if (p && p->has_sched && t->has_oncpu && raw->oncpu_ns == p->oncpu_ns) {
    raw->has_sched = true;
    raw->has_migrations = p->has_migrations;
    t->has_migrations = p->has_migrations;
    t->migrations = raw->migrations = p->migrations;
    t->ctx_vol = raw->ctx_vol = p->ctx_vol;
    t->ctx_invol = raw->ctx_invol = p->ctx_invol;
  } else {
    tl_procfs_sched sc;
    n = read_thread_file(st, f->sched, tid, "sched");
    if (n > 0 && tl_procfs_parse_sched(st->file_buf, (size_t) n, &sc) == 0 &&
        sc.has_switches) {
      raw->has_sched = true;
      if (sc.has_migrations) {
        raw->has_migrations = t->has_migrations = true;
        t->migrations = raw->migrations = sc.nr_migrations;
      }
      t->ctx_vol = raw->ctx_vol = sc.nr_voluntary_switches;
      t->ctx_invol = raw->ctx_invol = sc.nr_involuntary_switches;
    }
  }
  if (p) {
    if (t->has_oncpu && raw->oncpu_ns >= p->oncpu_ns) {
      t->oncpu_delta_s = (double) (raw->oncpu_ns - p->oncpu_ns) / 1e9;
      t->cpu_pct = 100.0 * t->oncpu_delta_s / period_s;
    } else {
      uint64_t d = raw->ticks_user + raw->ticks_sys - p->ticks_user - p->ticks_sys;
      t->cpu_pct = 100.0 * ((double) d / (double) st->clk_tck) / period_s;
    }
    if (t->has_runq && p->has_runq && raw->runq_ns >= p->runq_ns)
      t->runq_delta_s = (double) (raw->runq_ns - p->runq_ns) / 1e9;
    period_shares(t, raw, p);
    t->ctx_vol_rate = rate(raw->ctx_vol, p->ctx_vol, period_s);
    t->ctx_invol_rate = rate(raw->ctx_invol, p->ctx_invol, period_s);
    t->migrations_rate = rate(raw->migrations, p->migrations, period_s);
    t->migrations_delta = raw->migrations >= p->migrations
                              ? raw->migrations - p->migrations : 0;
  } else {
    /* New thread: its whole life is the period (bounded by it). */
    t->cpu_pct = 0;
  }
  return true;
}

static void sample_own(tl_sampler *st, tl_thread_snap *t, prev_thread *raw,
                       tl_thread_ctx *c, double period_s) {
  const prev_thread *p = find_prev(st, t->tid);
  t->role = c->role;
  t->index = c->index;
  if (c->role != TL_ROLE_LOOP && c->role != TL_ROLE_WORKER)
    return;
  t->own = true;
  t->tasks = raw->tasks = ld(&c->tasks);
  t->steps = raw->steps = ld(&c->steps);
  raw->busy_ns = ld(&c->busy_ns);
  t->coro_switches = raw->coro_switches = ld(&c->coro_switches);
  uint64_t doing = ld(&c->doing);
  t->doing_what = (int) (doing >> 56);
  t->doing_step = (int) ((doing >> 48) & 0xff);
  t->doing_task = doing & 0xffffffffffffull;
  if (p) {
    t->tasks_rate = rate(raw->tasks, p->tasks, period_s);
    t->steps_rate = rate(raw->steps, p->steps, period_s);
    t->coro_switches_rate = rate(raw->coro_switches, p->coro_switches, period_s);
    if (c->role == TL_ROLE_WORKER && raw->busy_ns >= p->busy_ns)
      t->busy_pct = 100.0 * (double) (raw->busy_ns - p->busy_ns) / 1e9 / period_s;
  }
  if (t->busy_pct > 100.0)
    t->busy_pct = 100.0;
}

static void sample_process(tl_sampler *st, double period_s) {
  tl_snapshot *s = &st->snap;
  tl_procfs_stat ps;
  ssize_t n = tl_procfs_read("/proc/self/stat", st->file_buf, sizeof(st->file_buf));
  if (n > 0 && tl_procfs_parse_stat(st->file_buf, (size_t) n, &ps) == 0) {
    s->cpu_user_s = (double) ps.utime_ticks / (double) st->clk_tck;
    s->cpu_sys_s = (double) ps.stime_ticks / (double) st->clk_tck;
    s->cpu_user_pct = 100.0 * rate(ps.utime_ticks, st->proc_ticks_user, period_s) /
                      (double) st->clk_tck;
    s->cpu_sys_pct = 100.0 * rate(ps.stime_ticks, st->proc_ticks_sys, period_s) /
                     (double) st->clk_tck;
    st->proc_ticks_user = ps.utime_ticks;
    st->proc_ticks_sys = ps.stime_ticks;
    s->threads_count = ps.num_threads;
  }
  /* Resident memory from statm: the counter status prints as VmRSS, at a
   * fraction of the cost of status's fifty other keys. */
  tl_procfs_statm pm;
  n = tl_procfs_read("/proc/self/statm", st->file_buf, sizeof(st->file_buf));
  s->has_rss = s->has_ctx = false;
  if (n > 0 && tl_procfs_parse_statm(st->file_buf, (size_t) n, &pm) == 0) {
    s->has_rss = true;
    s->rss_bytes = pm.resident_pages * (uint64_t) st->page_size;
  }
  /* /proc/self/status counts the main thread's switches only; the kernel's
   * process-wide figure (every thread, also those that exited) is
   * getrusage(RUSAGE_SELF). */
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    s->has_ctx = true;
    s->ctx_vol = (uint64_t) ru.ru_nvcsw;
    s->ctx_invol = (uint64_t) ru.ru_nivcsw;
    s->ctx_vol_rate = rate(s->ctx_vol, st->proc_ctx_vol, period_s);
    s->ctx_invol_rate = rate(s->ctx_invol, st->proc_ctx_invol, period_s);
    st->proc_ctx_vol = s->ctx_vol;
    st->proc_ctx_invol = s->ctx_invol;
  }
  if (st->slow_sample || st->seq <= 1)
    s->fds = tl_procfs_count_fds();
}

static void sample_cores(tl_sampler *st, double period_s) {
  tl_snapshot *s = &st->snap;
  ssize_t n = tl_procfs_read("/proc/stat", st->file_buf, sizeof(st->file_buf));
  s->ncores = 0;
  if (n <= 0 || tl_procfs_parse_sysstat(st->file_buf, (size_t) n, &st->sys_now) != 0)
    return;
  for (int cpu = 0; cpu <= st->sys_now.max_cpu_id && cpu < TL_SNAP_MAX_CORES; cpu++) {
    if (!st->sys_now.present[cpu])
      continue;
    tl_core_snap *c = &s->cores[s->ncores++];
    memset(c, 0, sizeof(*c));
    c->cpu = cpu;
    c->steps = st->core_steps[cpu];
    c->steps_rate = rate(st->core_steps[cpu], st->core_steps_prev[cpu], period_s);
    if (!st->have_sys_prev || !st->sys_prev.present[cpu])
      continue;
    const tl_procfs_cpu_times *a = &st->sys_now.cpu[cpu], *b = &st->sys_prev.cpu[cpu];
    double user = (double) (a->user + a->nice - b->user - b->nice);
    double sys = (double) (a->system - b->system);
    double iow = (double) (a->iowait - b->iowait);
    double irq = (double) (a->irq + a->softirq - b->irq - b->softirq);
    double idle = (double) (a->idle - b->idle);
    double steal = (double) (a->steal - b->steal);
    double total = user + sys + iow + irq + idle + steal;
    if (total <= 0)
      continue;
    c->user_pct = 100.0 * user / total;
    c->sys_pct = 100.0 * sys / total;
    c->iowait_pct = 100.0 * iow / total;
    c->irq_pct = 100.0 * irq / total;
    c->idle_pct = 100.0 * idle / total;
  }
  memcpy(st->core_steps_prev, st->core_steps, sizeof(st->core_steps));
  st->sys_prev = st->sys_now;
  st->have_sys_prev = true;
}

/* Drains every own thread's ring into the keep-ring, then picks the
 * window that the snapshot shows. Registry lock held by the caller. */
static void drain_timeline(tl_sampler *st) {
  for (tl_thread_ctx *c = st->reg->head; c; c = c->next) {
    int n = tl_thread_drain_steps(c, st->drain_buf, DRAIN_MAX, &st->dropped);
    for (int i = 0; i < n; i++) {
      tl_timeline_ev *k = &st->keep[st->keep_head++ % TIMELINE_KEEP];
      k->tid = c->tid;
      k->ev = st->drain_buf[i];
      if (k->ev.core >= 0 && k->ev.core < TL_SNAP_MAX_CORES)
        st->core_steps[k->ev.core]++;
    }
  }
}

static void pick_timeline(tl_sampler *st, uint64_t now_ns) {
  tl_snapshot *s = &st->snap;
  uint64_t start = st->srv->start_ns;
  uint64_t from = now_ns > (uint64_t) TL_TIMELINE_WINDOW_MS * 1000000u
                      ? now_ns - (uint64_t) TL_TIMELINE_WINDOW_MS * 1000000u : 0;
  uint64_t avail = st->keep_head < TIMELINE_KEEP ? st->keep_head : TIMELINE_KEEP;
  /* Count what falls in the window, then keep every k-th to fit. */
  uint64_t in = 0;
  for (uint64_t i = st->keep_head - avail; i < st->keep_head; i++)
    if (st->keep[i % TIMELINE_KEEP].ev.end_ns >= from)
      in++;
  uint64_t stride = in > TL_TIMELINE_OUT_MAX ? (in + TL_TIMELINE_OUT_MAX - 1) / TL_TIMELINE_OUT_MAX : 1;
  s->timeline_sampled = stride > 1 || st->dropped > 0;
  s->timeline_dropped = st->dropped;
  s->ntimeline = 0;
  uint64_t k = 0;
  for (uint64_t i = st->keep_head - avail; i < st->keep_head; i++) {
    tl_timeline_ev *e = &st->keep[i % TIMELINE_KEEP];
    if (e->ev.end_ns < from)
      continue;
    if (k++ % stride != 0 || s->ntimeline >= TL_TIMELINE_OUT_MAX)
      continue;
    s->timeline[s->ntimeline++] = *e;
  }
  s->timeline_from_ms = (double) (from > start ? from - start : 0) / 1e6;
  s->timeline_to_ms = (double) (now_ns - start) / 1e6;
}

static void sample_server(tl_sampler *st, double period_s) {
  tl_snapshot *s = &st->snap;
  tl_server *srv = st->srv;
  tl_loop_counters *c = &st->loop_sum;
  tl_loop_totals(srv, c, st->loop_prev, s->loops, &s->nloops, period_s);
  s->mode = atomic_load_explicit(&srv->mode, memory_order_relaxed);
  s->pool_threads = atomic_load_explicit(&srv->threads, memory_order_relaxed);
  s->pinned = atomic_load_explicit(&srv->pinned, memory_order_relaxed);
  cpu_set_t wcpus, inherited;
  tl_server_worker_cpus(srv, &wcpus, &inherited);
  tl_cpulist_format(&wcpus, s->worker_cpus, sizeof(s->worker_cpus));
  tl_cpulist_format(&inherited, s->inherited_cpus, sizeof(s->inherited_cpus));
  s->conn_open = ld(&c->open);
  s->accepted = ld(&c->accepted);
  s->refused = ld(&c->refused);
  s->accepted_rate = rate(s->accepted, st->accepted, period_s);
  st->accepted = s->accepted;
  s->requests = ld(&c->requests);
  s->requests_rate = rate(s->requests, st->requests, period_s);
  st->requests = s->requests;
  for (int i = 0; i < 6; i++)
    s->by_class[i] = ld(&c->by_class[i]);
  for (int r = 0; r < TL_ROUTE_COUNT; r++) {
    s->by_route[r] = ld(&c->by_route[r]);
    s->by_route_rate[r] = rate(s->by_route[r], st->by_route[r], period_s);
    st->by_route[r] = s->by_route[r];
  }
  s->rejected = ld(&c->rejected);
  s->rejected_delta = s->rejected - st->rejected;
  st->rejected = s->rejected;
  /* Immutable after start; a supervisor has no loop of its own. */
  s->send_uring = srv->nloops > 0 && srv->loops[0].send_uring;
  s->send_why = srv->nloops > 0 ? srv->loops[0].send_why
                                : "the supervisor runs no workload loop";
  s->send_submits = ld(&c->send_submits);
  s->send_writes = ld(&c->send_writes);
  s->send_submits_rate = rate(s->send_submits, st->send_submits, period_s);
  s->send_writes_rate = rate(s->send_writes, st->send_writes, period_s);
  s->send_writes_per_submit =
      s->send_submits > st->send_submits
          ? (double) (s->send_writes - st->send_writes) /
                (double) (s->send_submits - st->send_submits)
          : -1;
  st->send_submits = s->send_submits;
  st->send_writes = s->send_writes;
  tl_pool *pool = st->srv->pool;
  s->queue_depth = pool ? tl_pool_depth(pool) : 0;
  s->queue_max = (uint64_t) st->srv->cfg.queue_max;

  tl_hist_read(&c->latency_us, &st->lat_now);
  tl_hist_diff(&st->lat_now, &st->lat_prev, &st->lat_period);
  st->lat_prev = st->lat_now;
  for (int r = 0; r < TL_ROUTE_COUNT; r++) {
    tl_hist_read(&c->route_latency_us[r], &st->route_now[r]);
    tl_hist_diff(&st->route_now[r], &st->route_prev[r], &st->route_period[r]);
    st->route_prev[r] = st->route_now[r];
  }
  tl_hist_read(&c->queue_wait_us, &st->qwait_now);
  tl_hist_diff(&st->qwait_now, &st->qwait_prev, &st->qwait_period);
  st->qwait_prev = st->qwait_now;
  tl_hist_read(&c->loop_lag_us, &st->lag_now);
  tl_hist_diff(&st->lag_now, &st->lag_prev, &st->lag_period);
  st->lag_prev = st->lag_now;
  s->lat_all = &st->lat_now;
  s->lat_period = &st->lat_period;
  s->route_all = st->route_now;
  s->route_period = st->route_period;
  s->qwait_all = &st->qwait_now;
  s->qwait_period = &st->qwait_period;
  s->lag_all = &st->lag_now;
  s->lag_period = &st->lag_period;

  uint64_t idle = ld(&c->loop_idle_ns);
  s->has_loop_util = st->seq > 0 && idle >= st->loop_idle_ns;
  if (s->has_loop_util) {
    double u = 100.0 * (1.0 - (double) (idle - st->loop_idle_ns) / 1e9 /
                            period_s / (s->nloops > 0 ? s->nloops : 1));
    s->loop_util_pct = u < 0 ? 0 : u > 100 ? 100 : u;
  }
  st->loop_idle_ns = idle;

  uint64_t bseq = atomic_load_explicit(&c->block_seq, memory_order_acquire);
  if (bseq != st->block_seq)
    st->block_seen_ns = tl_now_ns();
  st->block_seq = bseq;
  s->block_age_ms = st->block_seen_ns
                        ? (double) (tl_now_ns() - st->block_seen_ns) / 1e6 : -1;
  s->block_task = ld(&c->block_task);
  s->block_us = ld(&c->block_us);
  s->block_route = ld(&c->block_route);
  /* processes[] is re-read each period while that is cheap; at 1,000
   * threads its smaps_rollup and fd/task listings cost milliseconds, so
   * then every SLOW_EVERY periods (its rates over the time since). */
  uint64_t now = tl_now_ns();
  if (st->procs_cost_ns < PROCESSES_COSTLY_NS || st->slow_sample ||
      st->procs_last_ns == 0) {
    double since_s = st->procs_last_ns
                         ? (double) (now - st->procs_last_ns) / 1e9 : period_s;
    uint64_t c0 = tl_thread_cpu_ns();
    tl_processes_sample(srv, &s->procs, since_s);
    st->procs_cost_ns = tl_thread_cpu_ns() - c0;
    st->procs_last_ns = now;
  }
  if (!s->costs.measured &&
      tl_costs_collect(srv->costs_fd, srv->costs_pid, &s->costs))
    s->costs.at_uptime_s = (double) (tl_now_ns() - srv->start_ns) / 1e9;
}

static void sample_threads(tl_sampler *st, double period_s) {
  tl_snapshot *s = &st->snap;
  int *tids = st->tids;
  prev_thread *raw = st->raw;
  /* Listing /proc/self/task costs a dentry lookup per thread: list it
   * every SLOW_EVERY samples and whenever our registry changed (a resize);
   * in between, a thread found gone is dropped (its clock is invalid) and
   * a thread not of ours that is new shows at the next listing. */
  pthread_mutex_lock(&st->reg->mu);
  int nreg = 0;
  for (tl_thread_ctx *c = st->reg->head; c; c = c->next)
    nreg++;
  pthread_mutex_unlock(&st->reg->mu);
  if (st->slow_sample || nreg != st->nregistered || st->seq <= 1) {
    int listed = tl_procfs_list_tids(tids, MAX_TIDS);
    st->ntids = listed >= 0 ? listed : listed == -ENOBUFS ? MAX_TIDS : 0;
    st->nregistered = nreg;
  }
  int n = 0;
  for (int i = 0; i < st->ntids; i++)
    if (sample_thread(st, tids[i], period_s, &s->threads[n], &raw[n]))
      tids[n++] = tids[i];
  st->ntids = n;
  pthread_mutex_lock(&st->reg->mu);
  index_own(st);
  for (int i = 0; i < n; i++) {
    tl_thread_ctx *c = find_ctx(st, tids[i]);
    if (c)
      sample_own(st, &s->threads[i], &raw[i], c, period_s);
  }
  drain_timeline(st);
  pthread_mutex_unlock(&st->reg->mu);
  prune_fds(st);
  s->nthreads = n;
  /* tids come sorted, so prev stays sorted for the binary search. */
  memcpy(st->prev, raw, (size_t) n * sizeof(*raw));
  st->nprev = n;
}

void tl_sampler_sample(tl_sampler *st) {
  uint64_t c0 = tl_thread_cpu_ns();
  uint64_t now = tl_now_ns();
  tl_snapshot *s = &st->snap;
  double period_s = (double) (now - st->last_ns) / 1e9;
  if (period_s <= 0)
    period_s = 1e-9;
  st->last_ns = now;
  struct timespec wall;
  clock_gettime(CLOCK_REALTIME, &wall);
  s->seq = ++st->seq;
  s->start_ns = st->srv->start_ns;
  s->time_ms = (double) wall.tv_sec * 1e3 + (double) wall.tv_nsec / 1e6;
  s->uptime_ms = (double) (now - st->srv->start_ns) / 1e6;
  s->period_ms = period_s * 1e3;
  s->stats_enabled = !st->srv->cfg.no_stats;
  s->sample_cost_ms = (double) st->last_cost_ns / 1e6;
  s->ncpu = st->ncpu;
  s->clk_tck = st->clk_tck;
  s->pid = (int) getpid();
  sample_server(st, period_s);
  tl_coro_sample(&s->coro, &st->srv->cfg, period_s, st->seq % SLOW_EVERY == 1);
  /* Our own pinning change (POST /control) shows at the next sample. */
  uint64_t pinned = atomic_load_explicit(&st->srv->pinned, memory_order_relaxed);
  /* A --cpus change (POST /control?cpus=) likewise. */
  for (const char *c = s->worker_cpus; *c; c++)
    pinned = pinned * 131 + (unsigned char) *c;
  if (pinned != st->last_pinned)
    st->pin_refresh = 3; /* the pool applied it before /control answered */
  st->last_pinned = pinned;
  st->slow_sample = st->seq % SLOW_EVERY == 1 || st->pin_refresh > 0;
  st->refresh_all = st->pin_refresh > 0;
  if (st->pin_refresh > 0)
    st->pin_refresh--;
  if (s->stats_enabled) {
    if (st->slow_sample) {
      check_runq(st, false);
      read_process_mask(st);
    }
    sample_process(st, period_s);
    sample_threads(st, period_s);
    sample_cores(st, period_s);
    pick_timeline(st, now);
    tl_insights_derive(s);
  } else {
    s->nthreads = 0;
    s->ncores = 0;
    s->ntimeline = 0;
    s->ninsights = 0;
  }
  if (st->events)
    tl_events_observe_load(st->events, s->time_ms, s->requests_rate,
                           s->period_ms);
  if (st->history)
    tl_history_record(st->history, s);
  st->json.len = 0;
  tl_render_json(s, &st->json);
  st->last_cost_ns = tl_thread_cpu_ns() - c0;
}
