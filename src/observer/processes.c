#include "config.h"

#include "observer/processes.h"

#include "base/util.h"
#include "core/server.h"
#include "exec/shared_steps.h"
#include "observer/procfs.h"
#include "observer/procfs_read.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t kb_of(const char *buf, const char *key) {
  const char *p = strstr(buf, key);
  return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static int count_dir(const char *path, int *ids, int cap) {
  DIR *d = opendir(path);
  if (!d)
    return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    if (ids && n < cap)
      ids[n] = atoi(e->d_name);
    n++;
  }
  closedir(d);
  return n;
}

static void read_proc(tl_process_snap *o, tl_proc_prev *prev, int nprev,
                      double period_s, uint64_t now) {
  char path[64], buf[4096];
  long tck = sysconf(_SC_CLK_TCK);
  snprintf(path, sizeof(path), "/proc/%d/stat", o->pid);
  ssize_t n = tl_procfs_read(path, buf, sizeof(buf));
  tl_procfs_stat ps;
  if (n <= 0 || tl_procfs_parse_stat(buf, (size_t) n, &ps) != 0)
    return;
  o->has_proc = true;
  uint64_t ticks = ps.utime_ticks + ps.stime_ticks;
  o->cpu_s = (double) ticks / (double) tck;
  o->cpu_pct = -1;
  const tl_proc_prev *was = NULL;
  for (int i = 0; i < nprev; i++)
    if (prev[i].pid == o->pid)
      was = &prev[i];
  if (was && ticks >= was->ticks && period_s > 0)
    o->cpu_pct =
        100.0 * (double) (ticks - was->ticks) / (double) tck / period_s;
  snprintf(path, sizeof(path), "/proc/%d/status", o->pid);
  n = tl_procfs_read(path, buf, sizeof(buf));
  tl_procfs_status st;
  if (n > 0 && tl_procfs_parse_status(buf, (size_t) n, &st) == 0 &&
      st.has_ctxt) {
    o->ctx_vol = st.voluntary_ctxt;
    o->ctx_invol = st.nonvoluntary_ctxt;
  }
  if (was && was->mem_at_ns && now - was->mem_at_ns < TL_PROC_SLOW_NS) {
    o->has_mem = was->has_mem;
    o->rss_kb = was->rss_kb;
    o->pss_kb = was->pss_kb;
    o->uss_kb = was->uss_kb;
    o->mem_at_ns = was->mem_at_ns;
  } else {
    snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", o->pid);
    n = tl_procfs_read(path, buf, sizeof(buf));
    if (n > 0 && strstr(buf, "Pss:")) {
      o->has_mem = true;
      o->rss_kb = kb_of(buf, "\nRss:");
      o->pss_kb = kb_of(buf, "\nPss:");
      o->uss_kb =
          kb_of(buf, "\nPrivate_Clean:") + kb_of(buf, "\nPrivate_Dirty:");
    }
    o->mem_at_ns = now;
  }
  if (was && was->fds_at_ns && now - was->fds_at_ns < TL_PROC_SLOW_NS) {
    o->fds = was->fds;
    o->fds_at_ns = was->fds_at_ns;
  } else {
    snprintf(path, sizeof(path), "/proc/%d/fd", o->pid);
    o->fds = count_dir(path, NULL, 0);
    o->fds_at_ns = now;
  }
  /* The thread count comes with stat: list the tids when it changed. */
  if (was && was->tids_at_ns && was->nthreads == (int) ps.num_threads &&
      now - was->tids_at_ns < TL_PROC_SLOW_NS) {
    o->nthreads = was->nthreads;
    memcpy(o->tids, was->tids, sizeof(o->tids));
    o->tids_at_ns = was->tids_at_ns;
  } else {
    snprintf(path, sizeof(path), "/proc/%d/task", o->pid);
    int nt = count_dir(path, o->tids, TL_SNAP_PROC_TIDS);
    o->nthreads = nt < 0 ? 0 : nt;
    o->tids_at_ns = now;
  }
}

/* A process's requests per second since the last read (same pid). */
static void requests_rate(tl_process_snap *o, const tl_proc_prev *prev,
                          int nprev, double period_s) {
  o->requests_rate = -1;
  for (int i = 0; i < nprev && o->has_counters; i++)
    if (prev[i].pid == o->pid && o->requests >= prev[i].requests &&
        period_s > 0)
      o->requests_rate = (double) (o->requests - prev[i].requests) / period_s;
}

static const char *state_name(int st, int pid) {
  if (pid == 0)
    return "restarting";
  return st == TL_SLOT_STARTING   ? "starting"
         : st == TL_SLOT_READY    ? "ready"
         : st == TL_SLOT_DRAINING ? "draining"
         : st == TL_SLOT_SPARE    ? "spare"
                                  : "exited";
}

void tl_processes_sample(const tl_server *srv, tl_processes *out,
                         double period_s) {
  uint64_t now = tl_now_ns();
  tl_proc_prev prev[TL_SNAP_MAX_PROCS];
  memcpy(prev, out->prev, sizeof(prev));
  int nprev = out->n;
  out->n = 0;
  out->at_ns = now;
  tl_process_snap *self = &out->p[out->n++];
  memset(self, 0, sizeof(*self));
  self->pid = (int) getpid();
  self->index = -1;
  self->slot = -1;
  self->state = "running";
  self->uptime_s = (double) (now - srv->start_ns) / 1e9;
  self->ready_ms = -1;
  /* This process's own counter, read directly. */
  uintptr_t addr;
  self->has_shared = true;
  self->shared_counter = tl_shared_counter_value(&addr);
  self->shared_addr = addr;
  self->has_page = tl_shared_counter_page(&self->shared_page);
  tl_proc_table *t = srv->procs;
  out->supervised = t != NULL;
  if (!t) {
    self->role = "server";
    self->has_counters = true;
    for (int k = 0; k < srv->nloops; k++) {
      const tl_loop_counters *c = &srv->loops[k].stats;
      self->accepted +=
          atomic_load_explicit(&c->accepted, memory_order_relaxed);
      self->requests +=
          atomic_load_explicit(&c->requests, memory_order_relaxed);
      self->open += atomic_load_explicit(&c->open, memory_order_relaxed);
      self->inflight +=
          atomic_load_explicit(&c->inflight, memory_order_relaxed);
    }
    out->total_accepted = self->accepted;
    out->total_requests = self->requests;
    out->deaths = 0;
  } else {
    self->role = "supervisor";
    pthread_mutex_lock(&t->mu);
    out->deaths = t->deaths;
    out->total_accepted = t->hist_accepted;
    out->total_requests = t->hist_requests;
    for (int i = 0; i < t->n + t->nspare && out->n < TL_SNAP_MAX_PROCS; i++) {
      const tl_proc_entry *e = &t->e[i];
      tl_process_snap *o = &out->p[out->n++];
      memset(o, 0, sizeof(*o));
      o->pid = e->pid;
      bool spare = i >= t->n;
      o->index = spare ? i - t->n : i;
      o->slot = e->slot;
      o->role = spare ? "spare" : "worker";
      o->restarts = e->restarts;
      o->has_exit = e->has_exit;
      o->last_exit = e->last_exit;
      o->exit_ago_s =
          e->has_exit ? (double) (now - e->last_exit.at_ns) / 1e9 : 0;
      o->uptime_s = e->pid ? (double) (now - e->started_ns) / 1e9 : 0;
      const tl_score_slot *sl = &t->board->slot[e->slot];
      int st = atomic_load(&sl->state);
      o->state = state_name(st, e->pid);
      uint64_t ready = atomic_load(&sl->ready_ns);
      o->ready_ms = e->pid && ready >= e->started_ns
                        ? (double) (ready - e->started_ns) / 1e6
                        : -1;
      /* The supervisor reaps within its loop's latency of the death. */
      o->replaced_ms = e->has_exit && e->pid && e->pid != e->last_exit.pid &&
                               st == TL_SLOT_READY &&
                               ready >= e->last_exit.at_ns
                           ? (double) (ready - e->last_exit.at_ns) / 1e6
                           : -1;
      if (e->pid && !spare) {
        o->has_counters = true;
        o->accepted = atomic_load(&sl->accepted);
        o->requests = atomic_load(&sl->requests);
        o->open = atomic_load(&sl->open);
        o->inflight = atomic_load(&sl->inflight);
        o->shared_addr = atomic_load(&sl->shared_addr);
        o->has_shared = o->shared_addr != 0;
        o->shared_counter = atomic_load(&sl->shared_counter);
        o->shared_page = atomic_load(&sl->shared_page);
        o->has_page = o->shared_page != 0;
        out->total_accepted += o->accepted;
        out->total_requests += o->requests;
      }
    }
    pthread_mutex_unlock(&t->mu);
  }
  for (int i = 0; i < out->n; i++) {
    if (out->p[i].pid > 0)
      read_proc(&out->p[i], prev, nprev, period_s, now);
    requests_rate(&out->p[i], prev, nprev, period_s);
  }
  for (int i = 0; i < out->n; i++) {
    const tl_process_snap *o = &out->p[i];
    tl_proc_prev *w = &out->prev[i];
    w->pid = o->pid;
    w->has_mem = o->has_mem;
    w->rss_kb = o->rss_kb;
    w->pss_kb = o->pss_kb;
    w->uss_kb = o->uss_kb;
    w->mem_at_ns = o->mem_at_ns;
    w->fds = o->fds;
    w->fds_at_ns = o->fds_at_ns;
    w->nthreads = o->nthreads;
    memcpy(w->tids, o->tids, sizeof(w->tids));
    w->tids_at_ns = o->tids_at_ns;
    out->prev[i].requests = out->p[i].requests;
    out->prev[i].ticks =
        out->p[i].has_proc
            ? (uint64_t) (out->p[i].cpu_s * (double) sysconf(_SC_CLK_TCK) + 0.5)
            : 0;
  }
}
