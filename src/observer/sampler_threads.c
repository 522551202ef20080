/* Per-thread figures (observer/sampler_threads.h). */
#include "config.h"

#include "observer/sampler_threads.h"

#include "base/cpulist.h"
#include "base/util.h"
#include "observer/procfs.h"
#include "observer/procfs_read.h"
#include "observer/sampler_rate.h"
#include "observer/task_files.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_TIDS   TL_SAMPLER_MAX_TIDS
/* A thread that has not run is re-read (name, state: a rename from
 * outside, a wake-up still waiting for a core) every TURN_EVERY samples. */
#define TURN_EVERY 8

/* Raw cumulative figures of one thread from the previous sample. */
typedef struct prev_thread {
  int tid;
  uint64_t ticks_user, ticks_sys, oncpu_ns, runq_ns, ctx_vol, ctx_invol;
  uint64_t migrations, tasks, steps, busy_ns, coro_switches;
  uint64_t read_ns; /* when schedstat was read: the thread's own period */
  bool has_sched, has_migrations; /* the sched figures above are real */
  bool has_runq;                  /* runq_ns is real (the kernel accounts it) */
  /* What /proc/.../stat said last, kept for a thread that has not run
   * since (its stat file is then not read again, see sample_thread). */
  bool has_stat;
  uint64_t clock_ns; /* its CPU-time clock: unchanged = it has not run */
  uint64_t timeslices;
  char state;
  int core;
  char name[TL_PROCFS_NAME_MAX];
} prev_thread;

/* A registered thread of ours, by tid (sorted each sample: a binary search
 * instead of a walk of the registry list per thread). */
typedef struct own_ref {
  int tid;
  tl_thread_ctx *ctx;
} own_ref;

struct tl_sampler_threads {
  tl_registry *reg;
  long clk_tck;
  tl_sampler_pace pace; /* of the sample in progress */
  bool runq_accounted;  /* likewise */
  /* previous raw values, for rates */
  prev_thread *prev;
  int nprev;
  prev_thread *raw; /* this sample's raw values, becomes prev */
  int *tids;
  int ntids;            /* as last listed, less those found gone */
  uint64_t reg_gen;     /* the registry's generation own[] was built at */
  tl_task_files *files; /* open /proc files per thread */
  own_ref *own;         /* this sample's registered threads, by tid */
  int nown;
  char file_buf[8192];
};

tl_sampler_threads *tl_sampler_threads_init(tl_registry *reg) {
  tl_sampler_threads *st = tl_xcalloc(1, sizeof(*st));
  st->reg = reg;
  st->clk_tck = sysconf(_SC_CLK_TCK);
  st->prev = tl_xcalloc(MAX_TIDS, sizeof(prev_thread));
  st->raw = tl_xcalloc(MAX_TIDS, sizeof(prev_thread));
  st->tids = tl_xcalloc(MAX_TIDS, sizeof(int));
  st->own = tl_xcalloc(MAX_TIDS, sizeof(own_ref));
  st->files = tl_task_files_init(MAX_TIDS);
  return st;
}

void tl_sampler_threads_close(tl_sampler_threads *st) {
  if (!st)
    return;
  free(st->prev);
  free(st->raw);
  free(st->tids);
  free(st->own);
  tl_task_files_close(st->files);
  free(st);
}

int tl_sampler_threads_fds_kept(const tl_sampler_threads *st) {
  return tl_task_files_kept(st->files);
}

static uint64_t ld(const _Atomic uint64_t *p) {
  return atomic_load_explicit(p, memory_order_relaxed);
}

static const prev_thread *find_prev(const tl_sampler_threads *st, int tid) {
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

static int cmp_own(const void *a, const void *b) {
  int x = ((const own_ref *) a)->tid, y = ((const own_ref *) b)->tid;
  return (x > y) - (x < y);
}

/* Our own threads, sorted by tid. Called with the registry lock held. */
static void index_own(tl_sampler_threads *st) {
  st->nown = 0;
  for (tl_thread_ctx *c = st->reg->head; c && st->nown < MAX_TIDS; c = c->next)
    st->own[st->nown++] = (own_ref){c->tid, c};
  qsort(st->own, (size_t) st->nown, sizeof(own_ref), cmp_own);
}

/* Our own threads' identity and counters, looked up by tid. */
static tl_thread_ctx *find_ctx(const tl_sampler_threads *st, int tid) {
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
static bool refresh_turn(const tl_sampler_threads *st, int tid) {
  return st->pace.refresh_all ||
         ((uint64_t) tid + st->pace.seq) % TURN_EVERY == 0;
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

/* snprintf's "%s" without printf: once per thread per sample. */
static void copy_name(char *dst, size_t cap, const char *src, size_t srccap) {
  size_t n = strnlen(src, srccap < cap ? srccap : cap - 1);
  memcpy(dst, src, n);
  dst[n] = '\0';
}

/* Returns false when the thread is gone. */
static bool sample_thread(tl_sampler_threads *st, int tid, double period_s,
                          tl_thread_snap *t, prev_thread *raw) {
  memset(t, 0, sizeof(*t));
  memset(raw, 0, sizeof(*raw));
  t->tid = raw->tid = tid;
  t->core = raw->core = -1;
  t->index = -1;
  t->role = TL_ROLE_OTHER;
  if (thread_clock_ns(tid, &raw->clock_ns) == -EINVAL)
    return false;
  tl_task_files_entry *f = tl_task_files_for(st->files, tid);
  if (!f)
    return false;
  f->seen = true;
  const prev_thread *p = find_prev(st, tid);
  bool turn = refresh_turn(st, tid);
  /* Not run since the last sample (its clock did not move): its schedstat
   * and sched figures cannot have changed, and outside its turn neither
   * has its stat. Most of 1,000 workers sleep through most periods. */
  bool idle = p && p->has_stat && p->has_sched &&
              p->clock_ns == raw->clock_ns && p->state != 'R' &&
              raw->clock_ns != 0;
  tl_procfs_schedstat ss;
  ssize_t n = idle ? 0
                   : tl_task_files_read(f->schedstat, tid, "schedstat",
                                        st->file_buf, sizeof(st->file_buf));
  if (idle) {
    carry_over(t, raw, p, tl_now_ns());
  } else if (n > 0 &&
             tl_procfs_parse_schedstat(st->file_buf, (size_t) n, &ss) == 0) {
    raw->timeslices = ss.timeslices;
    t->has_oncpu = true;
    t->oncpu_s = (double) ss.oncpu_ns / 1e9;
    t->timeslices = ss.timeslices;
    raw->oncpu_ns = ss.oncpu_ns;
    raw->read_ns = tl_now_ns();
    /* A kernel that does not account run-queue wait leaves run_delay at
     * 0: that is "not measured", not "no wait". */
    if (st->runq_accounted) {
      t->has_runq = raw->has_runq = true;
      t->runq_wait_s = (double) ss.runq_wait_ns / 1e9;
      raw->runq_ns = ss.runq_wait_ns;
    }
  }
  /* A thread that has not been on a core since the last sample has the
   * same CPU times, core and state: its stat file is read only in its
   * turn (a rename from outside, or a wake-up still waiting for a core,
   * shows within TURN_EVERY samples). A runnable one is always read. */
  bool ran = !p || !p->has_stat || !t->has_oncpu ||
             raw->oncpu_ns != p->oncpu_ns || p->state == 'R';
  if (idle && !turn) {
    /* carried over above */
  } else if (ran || turn) {
    tl_procfs_stat ps;
    n = tl_task_files_read(f->stat, tid, "stat", st->file_buf,
                           sizeof(st->file_buf));
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
    copy_name(t->name, sizeof(t->name), raw->name, sizeof(raw->name));
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
    bool had = f->has_allowed;
    f->has_allowed = false;
    if (sched_getaffinity(tid, sizeof(aff), &aff) == 0) {
      /* The same mask as last time: the same list, not formatted again. */
      if (had && CPU_EQUAL(&aff, &f->mask)) {
        f->has_allowed = true;
      } else {
        /* A list that does not fit is left out, not cut. */
        f->has_allowed =
            tl_cpulist_format(&aff, f->allowed, sizeof(f->allowed)) <
            sizeof(f->allowed);
        f->mask = aff;
      }
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
    n = tl_task_files_read(f->sched, tid, "sched", st->file_buf,
                           sizeof(st->file_buf));
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
      uint64_t d =
          raw->ticks_user + raw->ticks_sys - p->ticks_user - p->ticks_sys;
      t->cpu_pct = 100.0 * ((double) d / (double) st->clk_tck) / period_s;
    }
    if (t->has_runq && p->has_runq && raw->runq_ns >= p->runq_ns)
      t->runq_delta_s = (double) (raw->runq_ns - p->runq_ns) / 1e9;
    period_shares(t, raw, p);
    t->ctx_vol_rate = tl_sampler_rate(raw->ctx_vol, p->ctx_vol, period_s);
    t->ctx_invol_rate = tl_sampler_rate(raw->ctx_invol, p->ctx_invol, period_s);
    t->migrations_rate =
        tl_sampler_rate(raw->migrations, p->migrations, period_s);
    t->migrations_delta =
        raw->migrations >= p->migrations ? raw->migrations - p->migrations : 0;
  } else {
    /* New thread: its whole life is the period (bounded by it). */
    t->cpu_pct = 0;
  }
  return true;
}

static void sample_own(tl_sampler_threads *st, tl_thread_snap *t,
                       prev_thread *raw, tl_thread_ctx *c, double period_s) {
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
  t->has_in_flight = true;
  t->in_flight = ld(&c->in_flight);
  uint64_t doing = ld(&c->doing);
  t->doing_what = (int) (doing >> 56);
  t->doing_step = (int) ((doing >> 48) & 0xff);
  t->doing_task = doing & 0xffffffffffffull;
  if (p) {
    t->tasks_rate = tl_sampler_rate(raw->tasks, p->tasks, period_s);
    t->steps_rate = tl_sampler_rate(raw->steps, p->steps, period_s);
    t->coro_switches_rate =
        tl_sampler_rate(raw->coro_switches, p->coro_switches, period_s);
    if (c->role == TL_ROLE_WORKER && raw->busy_ns >= p->busy_ns)
      t->busy_pct =
          100.0 * (double) (raw->busy_ns - p->busy_ns) / 1e9 / period_s;
  }
  if (t->busy_pct > 100.0)
    t->busy_pct = 100.0;
}

bool tl_sampler_threads_relist(long count, int known, bool registry_moved,
                               const tl_sampler_pace *pace) {
  bool count_moved =
      count > 0 && count <= MAX_TIDS ? count != known : pace->slow;
  return count_moved || registry_moved || pace->seq <= 1 ||
         pace->seq % TL_SAMPLER_RELIST_EVERY == 0;
}

void tl_sampler_threads_sample(tl_sampler_threads *st, tl_snapshot *s,
                               const tl_sampler_pace *pace, double period_s,
                               tl_sampler_timeline *tl,
                               tl_thread_birth *birth) {
  st->pace = *pace;
  st->runq_accounted = s->runq_accounted;
  int *tids = st->tids;
  prev_thread *raw = st->raw;
  /* Listing /proc/self/task costs a dentry lookup per thread: list it
   * when our registry changed (a resize), when the kernel's thread count
   * (/proc/self/stat, read just before) differs from the threads we know,
   * and every TL_SAMPLER_RELIST_EVERY samples. A thread found gone is dropped
   * at once (its clock is invalid), so a count that matches means the
   * same threads (unless one exited and another started within the same
   * period: that one shows at the next count change or listing). */
  pthread_mutex_lock(&st->reg->mu);
  uint64_t gen = st->reg->gen;
  pthread_mutex_unlock(&st->reg->mu);
  if (tl_sampler_threads_relist(s->threads_count, st->ntids, gen != st->reg_gen,
                                pace)) {
    int listed = tl_procfs_read_tids(tids, MAX_TIDS);
    st->ntids = listed >= 0 ? listed : listed == -ENOBUFS ? MAX_TIDS : 0;
  }
  int n = 0;
  for (int i = 0; i < st->ntids; i++)
    if (sample_thread(st, tids[i], period_s, &s->threads[n], &raw[n]))
      tids[n++] = tids[i];
  st->ntids = n;
  pthread_mutex_lock(&st->reg->mu);
  /* Walking the registry touches every thread's context (a cache miss
   * each): the index is rebuilt only when the registry changed. */
  if (st->reg->gen != st->reg_gen || pace->seq <= 1) {
    index_own(st);
    st->reg_gen = st->reg->gen;
  }
  tl_thread_birth_begin(birth);
  int pid = (int) getpid();
  for (int i = 0; i < n; i++) {
    tl_thread_ctx *c = find_ctx(st, tids[i]);
    if (c)
      sample_own(st, &s->threads[i], &raw[i], c, period_s);
    s->threads[i].pid = pid;
    tl_thread_birth_fill(birth, pid, &s->threads[i], c ? ld(&c->created_ns) : 0,
                         c ? ld(&c->first_run_ns) : 0,
                         tl_thread_main_start_ns());
  }
  tl_sampler_timeline_drain(tl, st->reg, s, n);
  pthread_mutex_unlock(&st->reg->mu);
  tl_task_files_prune(st->files);
  s->nthreads = n;
  /* tids come sorted, so prev stays sorted for the binary search. */
  memcpy(st->prev, raw, (size_t) n * sizeof(*raw));
  st->nprev = n;
}
