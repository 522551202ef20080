#include "config.h"

#include "observer/process_sums.h"

#include "base/util.h"
#include "core/proc_table.h"
#include "core/score_publish.h"
#include "core/server.h"
#include "observer/procfs.h"
#include "observer/procfs_read.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A worker thread's cumulative figures at the previous sample. */
typedef struct wprev {
  int tid;
  uint64_t oncpu_ns, runq_ns, read_ns, ctx_vol, ctx_invol, tasks, steps,
      busy_ns, coro_switches, lock_wait_ns;
} wprev;

struct tl_process_sums {
  int pid[TL_SCORE_SLOTS];                /* whose counters last[i] holds */
  tl_loop_counters *last[TL_SCORE_SLOTS]; /* a worker's latest, lazily */
  tl_loop_counters gone;                  /* dead workers' last, summed */
  uint64_t queue_depth;
  wprev *prev, *cur; /* prev sorted by tid; swapped each sample */
  int nprev, nprev_cap, ncur, cap;
  long clk_tck;
  char buf[8192];
};

tl_process_sums *tl_process_sums_init(void) {
  tl_process_sums *ps = tl_xcalloc(1, sizeof(*ps));
  ps->clk_tck = sysconf(_SC_CLK_TCK);
  return ps;
}

void tl_process_sums_close(tl_process_sums *ps) {
  if (!ps)
    return;
  for (int i = 0; i < TL_SCORE_SLOTS; i++)
    free(ps->last[i]);
  free(ps->prev);
  free(ps->cur);
  free(ps);
}

static uint64_t ld(const _Atomic uint64_t *v) {
  return atomic_load_explicit(v, memory_order_relaxed);
}

static void st(_Atomic uint64_t *v, uint64_t x) {
  atomic_store_explicit(v, x, memory_order_relaxed);
}

/* A worker that is gone (or replaced) leaves its last counters to the
 * dead; what is "now" about it (open connections, tasks, idle time)
 * leaves with it. */
static void bury(tl_process_sums *ps, int i) {
  tl_loop_counters *l = ps->last[i];
  st(&l->open, 0);
  st(&l->inflight, 0);
  st(&l->loop_idle_ns, 0);
  tl_loop_counters_add(&ps->gone, l);
  ps->pid[i] = 0;
}

bool tl_process_sums_add(tl_process_sums *ps, const tl_server *srv,
                         tl_loop_counters *sum) {
  tl_proc_table *t = srv->procs;
  if (!t)
    return false;
  int pids[TL_SCORE_SLOTS], slots[TL_SCORE_SLOTS];
  pthread_mutex_lock(&t->mu);
  int n = t->n < TL_SCORE_SLOTS ? t->n : TL_SCORE_SLOTS;
  for (int i = 0; i < n; i++) {
    pids[i] = t->e[i].pid;
    slots[i] = t->e[i].slot; /* a promoted spare brought its own */
  }
  pthread_mutex_unlock(&t->mu);
  ps->queue_depth = 0;
  uint64_t idle = 0;
  int loops = 0;
  for (int i = 0; i < n; i++) {
    tl_score_slot *sl = &t->board->slot[slots[i]];
    if (ps->pid[i] && ps->pid[i] != pids[i])
      bury(ps, i);
    int state = atomic_load(&sl->state);
    /* The slot is the worker's once it says who it is and serves. */
    if (!pids[i] || atomic_load(&sl->pid) != pids[i] ||
        (state != TL_SLOT_READY && state != TL_SLOT_DRAINING))
      continue;
    if (!ps->last[i])
      ps->last[i] = tl_xcalloc(1, sizeof(tl_loop_counters));
    tl_loop_counters_copy(ps->last[i], &sl->sums);
    ps->pid[i] = pids[i];
    tl_loop_counters_add(sum, ps->last[i]);
    ps->queue_depth += ld(&sl->queue_depth);
    idle += ld(&ps->last[i]->loop_idle_ns);
    loops += atomic_load_explicit(&sl->nloops, memory_order_relaxed);
  }
  tl_loop_counters_add(sum, &ps->gone);
  /* The utilisation is 1 - idle / period per loop: the mean loop. */
  st(&sum->loop_idle_ns, loops > 0 ? idle / (uint64_t) loops : 0);
  return true;
}

uint64_t tl_process_sums_queue_depth(const tl_process_sums *ps) {
  return ps->queue_depth;
}

static const wprev *find_prev(const tl_process_sums *ps, int tid) {
  int lo = 0, hi = ps->nprev - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    if (ps->prev[mid].tid == tid)
      return &ps->prev[mid];
    if (ps->prev[mid].tid < tid)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return NULL;
}

static int cmp_tid(const void *a, const void *b) {
  int x = ((const wprev *) a)->tid, y = ((const wprev *) b)->tid;
  return (x > y) - (x < y);
}

static double rate(uint64_t now, uint64_t before, double period_s) {
  return period_s > 0 && now >= before ? (double) (now - before) / period_s
                                       : 0.0;
}

/* The worker's own figures for this thread, from its scoreboard slot. */
static void own_figures(const tl_score_slot *sl, tl_thread_snap *t, wprev *raw,
                        uint64_t *created, uint64_t *first) {
  int n = atomic_load_explicit(&sl->nthreads, memory_order_relaxed);
  for (int i = 0; i < n && i < TL_SCORE_THREADS; i++) {
    const tl_score_thread *e = &sl->threads[i];
    if (atomic_load_explicit(&e->tid, memory_order_relaxed) != t->tid)
      continue;
    t->role = (tl_role) atomic_load_explicit(&e->role, memory_order_relaxed);
    t->index = atomic_load_explicit(&e->index, memory_order_relaxed);
    *created = ld(&e->created_ns);
    *first = ld(&e->first_run_ns);
    if (t->role != TL_ROLE_LOOP && t->role != TL_ROLE_WORKER)
      return;
    t->own = true;
    t->tasks = raw->tasks = ld(&e->tasks);
    t->steps = raw->steps = ld(&e->steps);
    raw->busy_ns = ld(&e->busy_ns);
    t->coro_switches = raw->coro_switches = ld(&e->coro_switches);
    t->has_in_flight = true;
    t->in_flight = ld(&e->in_flight);
    uint64_t doing = ld(&e->doing);
    t->doing_what = (int) (doing >> 56);
    t->doing_step = (int) ((doing >> 48) & 0xff);
    t->doing_task = doing & 0xffffffffffffull;
    /* Its waits on our locks, as the worker's wrapper clocked them. */
    t->has_lock_wait = true;
    raw->lock_wait_ns = ld(&e->lock_wait_ns);
    t->lock_wait_ms = (double) raw->lock_wait_ns / 1e6;
    t->lock_wants =
        atomic_load_explicit(&e->lock_wants, memory_order_relaxed) - 1;
    t->lock_wait_since_ns = ld(&e->lock_wait_since_ns);
    return;
  }
}

static void kernel_figures(tl_process_sums *ps, int pid, tl_thread_snap *t,
                           wprev *raw, bool runq_accounted) {
  char path[96];
  snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, t->tid);
  ssize_t n = tl_procfs_read(path, ps->buf, sizeof(ps->buf));
  tl_procfs_stat ps_;
  if (n > 0 && tl_procfs_parse_stat(ps->buf, (size_t) n, &ps_) == 0) {
    snprintf(t->name, sizeof(t->name), "%s", ps_.comm);
    t->state = ps_.state;
    t->core = ps_.processor;
    t->cpu_user_s = (double) ps_.utime_ticks / (double) ps->clk_tck;
    t->cpu_sys_s = (double) ps_.stime_ticks / (double) ps->clk_tck;
  }
  snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", pid, t->tid);
  n = tl_procfs_read(path, ps->buf, sizeof(ps->buf));
  tl_procfs_schedstat ss;
  if (n > 0 && tl_procfs_parse_schedstat(ps->buf, (size_t) n, &ss) == 0) {
    raw->read_ns = tl_now_ns();
    t->has_oncpu = true;
    t->oncpu_s = (double) ss.oncpu_ns / 1e9;
    t->timeslices = ss.timeslices;
    raw->oncpu_ns = ss.oncpu_ns;
    if (runq_accounted) {
      t->has_runq = true;
      t->runq_wait_s = (double) ss.runq_wait_ns / 1e9;
      raw->runq_ns = ss.runq_wait_ns;
    }
  }
  snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, t->tid);
  n = tl_procfs_read(path, ps->buf, sizeof(ps->buf));
  tl_procfs_status stt;
  if (n > 0 && tl_procfs_parse_status(ps->buf, (size_t) n, &stt) == 0) {
    if (stt.has_ctxt) {
      t->ctx_vol = raw->ctx_vol = stt.voluntary_ctxt;
      t->ctx_invol = raw->ctx_invol = stt.nonvoluntary_ctxt;
    }
    if (stt.has_cpus_allowed)
      snprintf(t->allowed, sizeof(t->allowed), "%s", stt.cpus_allowed_list);
  }
}

/* Rates and shares over this thread's own interval, as the sampler's. */
static void period_figures(tl_thread_snap *t, const wprev *raw, const wprev *p,
                           double period_s) {
  if (!p || !raw->read_ns || raw->read_ns <= p->read_ns)
    return;
  double wall_s = (double) (raw->read_ns - p->read_ns) / 1e9;
  if (t->has_oncpu && raw->oncpu_ns >= p->oncpu_ns) {
    t->oncpu_delta_s = (double) (raw->oncpu_ns - p->oncpu_ns) / 1e9;
    t->cpu_pct = 100.0 * t->oncpu_delta_s / wall_s;
    t->has_period = true;
    t->on_cpu_pct = t->cpu_pct;
    if (t->has_runq && raw->runq_ns >= p->runq_ns) {
      t->runq_delta_s = (double) (raw->runq_ns - p->runq_ns) / 1e9;
      t->runq_pct = t->runq_wait_pct = 100.0 * t->runq_delta_s / wall_s;
      double rest = 100.0 - t->on_cpu_pct - t->runq_pct;
      t->sleep_pct = rest > 0 ? rest : 0;
    }
  }
  t->ctx_vol_rate = rate(raw->ctx_vol, p->ctx_vol, wall_s);
  t->ctx_invol_rate = rate(raw->ctx_invol, p->ctx_invol, wall_s);
  if (t->own) {
    t->tasks_rate = rate(raw->tasks, p->tasks, period_s);
    t->steps_rate = rate(raw->steps, p->steps, period_s);
    t->coro_switches_rate =
        rate(raw->coro_switches, p->coro_switches, period_s);
    if (t->has_lock_wait && raw->lock_wait_ns >= p->lock_wait_ns &&
        period_s > 0) {
      double d = (double) (raw->lock_wait_ns - p->lock_wait_ns) / 1e9;
      t->has_lock_wait_pct = true;
      t->lock_wait_pct = d > period_s ? 100.0 : 100.0 * d / period_s;
    }
    if (t->role == TL_ROLE_WORKER && raw->busy_ns >= p->busy_ns) {
      t->busy_pct = 100.0 * (double) (raw->busy_ns - p->busy_ns) / 1e9 / wall_s;
      if (t->busy_pct > 100.0)
        t->busy_pct = 100.0;
    }
  }
}

static void one_process(tl_process_sums *ps, tl_thread_birth *birth,
                        tl_snapshot *s, int cap, const tl_process_snap *p,
                        const tl_score_slot *sl, double period_s) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/task", p->pid);
  DIR *d = opendir(path);
  if (!d)
    return;
  uint64_t main_start = ld(&sl->main_start_ns);
  struct dirent *de;
  while ((de = readdir(d)) != NULL && s->nthreads < cap) {
    if (de->d_name[0] < '0' || de->d_name[0] > '9')
      continue;
    if (ps->ncur == ps->cap) {
      ps->cap = ps->cap ? 2 * ps->cap : 256;
      ps->cur = tl_xrealloc(ps->cur, (size_t) ps->cap * sizeof(wprev));
    }
    wprev *raw = &ps->cur[ps->ncur];
    memset(raw, 0, sizeof(*raw));
    tl_thread_snap *t = &s->threads[s->nthreads];
    memset(t, 0, sizeof(*t));
    t->tid = raw->tid = atoi(de->d_name);
    t->pid = p->pid;
    t->core = -1;
    t->index = -1;
    t->role = TL_ROLE_OTHER;
    kernel_figures(ps, p->pid, t, raw, s->runq_accounted);
    if (!t->state)
      continue; /* gone since it was listed */
    uint64_t created = 0, first = 0;
    own_figures(sl, t, raw, &created, &first);
    period_figures(t, raw, find_prev(ps, t->tid), period_s);
    tl_thread_birth_fill(birth, p->pid, t, created, first, main_start);
    ps->ncur++;
    s->nthreads++;
  }
  closedir(d);
}

void tl_process_sums_threads(tl_process_sums *ps, const tl_server *srv,
                             tl_thread_birth *birth, tl_snapshot *s, int cap,
                             double period_s) {
  const tl_processes *pr = &s->procs;
  if (!srv->procs)
    return;
  ps->ncur = 0;
  for (int i = 0; i < pr->n; i++) {
    const tl_process_snap *p = &pr->p[i];
    if (strcmp(p->role, "worker") != 0 || p->pid <= 0 || p->slot < 0 ||
        p->slot >= TL_SCORE_SLOTS)
      continue;
    /* The board is immutable; each slot's one writer is its worker. */
    const tl_score_slot *sl = &srv->procs->board->slot[p->slot];
    one_process(ps, birth, s, cap, p, sl, period_s);
  }
  if (ps->ncur > 1) /* cur is NULL until a worker's thread was listed */
    qsort(ps->cur, (size_t) ps->ncur, sizeof(wprev), cmp_tid);
  wprev *tmp = ps->prev;
  int tcap = ps->nprev_cap;
  ps->prev = ps->cur;
  ps->nprev = ps->ncur;
  ps->nprev_cap = ps->cap;
  ps->cur = tmp;
  ps->cap = tcap;
  ps->ncur = 0;
}
