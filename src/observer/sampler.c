/* The sampler's orchestration (observer/sampler.h): once per period it
 * asks each part for its share of the snapshot, then feeds the event log
 * and the history and renders the JSON. The parts, one job each:
 *   sampler_server   the loops' counters, histograms, processes[], costs
 *   sampler_process  process-wide CPU, memory, switches, descriptors, mask
 *   sampler_threads  every thread (task_files keeps their /proc files open)
 *   sampler_cores    per-core time split and steps
 *   sampler_timeline the recent steps' window
 *   coro_sample      coro mode's figures
 *   insights         what the figures mean (derived last)
 * A new /stats section: its fields in snapshot.h, a sampler_<section>.c
 * called from tl_sampler_sample below, its render in render_json.c. */
#include "config.h"

#include "observer/sampler.h"

#include "base/util.h"
#include "observer/coro_sample.h"
#include "observer/events.h"
#include "observer/history.h"
#include "observer/insights.h"
#include "observer/procfs.h"
#include "observer/process_sums.h"
#include "observer/procfs_read.h"
#include "observer/render_json.h"
#include "observer/render_metrics.h"
#include "observer/render_shared.h"
#include "observer/sampler_cores.h"
#include "observer/sampler_process.h"
#include "observer/sampler_server.h"
#include "observer/sampler_threads.h"
#include "observer/sampler_timeline.h"
#include "observer/schedstat_probe.h"
#include "observer/snapshot.h"
#include "observer/stream_view.h"
#include "observer/task_files.h"
#include "observer/thread_birth.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Figures that change rarely are re-read every few periods only: the
 * allowed cores of each thread (pinning) and the process's open files. */
#define SLOW_EVERY 4

struct tl_sampler {
  tl_server *srv;
  int ncpu;
  long clk_tck;
  bool slow_sample; /* re-read the slowly changing figures now */
  uint64_t last_pinned;
  int pin_refresh; /* samples left that re-read affinity anyway */
  uint64_t seq;
  tl_schedstat_probe probe; /* does the kernel account run-queue wait? */
  int sysctl_delayacct, sysctl_schedstats; /* as last read: -1 absent */
  uint64_t last_ns; /* monotonic time of the previous sample */
  uint64_t last_cost_ns;
  /* The parts: each keeps what its rates need from the previous sample. */
  tl_sampler_server server;
  tl_sampler_process process;
  tl_sampler_cores cores;
  tl_sampler_threads *threads;
  tl_sampler_timeline *timeline;
  tl_snapshot snap;
  tl_history *history; /* the observer's, or NULL (tl_sampler_attach) */
  tl_events *events;
  tl_buf json, metrics;
  uint64_t metrics_seq;   /* snapshot the metrics text was rendered from */
  tl_stream_view *stream; /* the stream's smaller view of the snapshot */
  tl_buf stream_json;
  uint64_t stream_seq;    /* snapshot stream_json was rendered from */
  tl_thread_birth *birth; /* threads' birth times (kernel start cache) */
  tl_process_sums *sums;  /* --processes: the workers' counters summed */
  char file_buf[64];
};

static void check_runq(tl_sampler *st, bool first);

tl_sampler *tl_sampler_init(tl_server *srv, tl_registry *reg) {
  /* Large (the parts' previous figures): on the heap, zeroed. */
  tl_sampler *st = tl_xcalloc(1, sizeof(*st));
  st->srv = srv;
  st->clk_tck = sysconf(_SC_CLK_TCK);
  st->ncpu = tl_ncpu();
  tl_sampler_process_init(&st->process);
  st->threads = tl_sampler_threads_init(reg);
  st->timeline = tl_sampler_timeline_init();
  st->snap.threads = tl_xcalloc(TL_SAMPLER_MAX_TIDS, sizeof(tl_thread_snap));
  st->snap.timeline = tl_xcalloc(TL_TIMELINE_OUT_MAX, sizeof(tl_timeline_ev));
  tl_buf_init(&st->json, NULL, 0);
  tl_buf_init(&st->metrics, NULL, 0);
  tl_buf_init(&st->stream_json, NULL, 0);
  st->stream = tl_stream_view_init();
  st->birth = tl_thread_birth_init();
  st->sums = tl_process_sums_init();
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
  free(st->snap.threads);
  free(st->snap.timeline);
  tl_sampler_threads_close(st->threads);
  tl_sampler_timeline_close(st->timeline);
  tl_buf_close(&st->json);
  tl_buf_close(&st->metrics);
  tl_buf_close(&st->stream_json);
  tl_stream_view_close(st->stream);
  tl_thread_birth_close(st->birth);
  tl_process_sums_close(st->sums);
  free(st);
}

void tl_sampler_attach(tl_sampler *st, tl_history *h, tl_events *ev) {
  st->history = h;
  st->events = ev;
  st->snap.events = ev;
}

void tl_sampler_set_sched(tl_sampler *st, const struct tl_sched *s) {
  st->snap.sched = s;
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

const tl_snapshot *tl_sampler_snapshot(const tl_sampler *st) {
  return &st->snap;
}

int tl_sampler_fd_budget(void) {
  return tl_task_files_budget(TL_SAMPLER_MAX_TIDS);
}

int tl_sampler_fds_kept(const tl_sampler *st) {
  return tl_sampler_threads_fds_kept(st->threads);
}

/* A 0/1 sysctl: its value, or -1 when absent or unreadable. */
static int read_sysctl(tl_sampler *st, const char *path) {
  ssize_t n = tl_procfs_read(path, st->file_buf, sizeof(st->file_buf));
  return n > 0 && (st->file_buf[0] == '0' || st->file_buf[0] == '1')
             ? st->file_buf[0] - '0'
             : -1;
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
  /* (processes[] follows the previous sample's pace: it is read before
   * this one's is decided.) */
  tl_sampler_server_sample(&st->server, st->srv, s, period_s, st->slow_sample,
                           st->sums);
  tl_coro_sample(&s->coro, &st->srv->cfg, period_s, st->seq % SLOW_EVERY == 1);
  tl_shared_obs_sample(&s->shared, now);
  /* Our own pinning change (POST /control) shows at the next sample. */
  uint64_t pinned =
      atomic_load_explicit(&st->srv->pinned, memory_order_relaxed);
  /* A --cpus change (POST /control?cpus=) likewise. */
  for (const char *c = s->worker_cpus; *c; c++)
    pinned = pinned * 131 + (unsigned char) *c;
  if (pinned != st->last_pinned)
    st->pin_refresh = 3; /* the pool applied it before /control answered */
  st->last_pinned = pinned;
  st->slow_sample = st->seq % SLOW_EVERY == 1 || st->pin_refresh > 0;
  tl_sampler_pace pace = {.seq = st->seq,
                          .slow = st->slow_sample,
                          .refresh_all = st->pin_refresh > 0};
  if (st->pin_refresh > 0)
    st->pin_refresh--;
  if (s->stats_enabled) {
    if (st->slow_sample) {
      check_runq(st, false);
      tl_sampler_process_mask(s);
    }
    tl_sampler_process_sample(&st->process, s, period_s,
                              st->slow_sample || st->seq <= 1);
    tl_sampler_threads_sample(st->threads, s, &pace, period_s, st->timeline,
                              st->birth);
    tl_process_sums_threads(st->sums, st->srv, st->birth, s,
                            TL_SAMPLER_MAX_TIDS, period_s);
    tl_shared_obs_threads(&s->shared, s->pid, s->threads, s->nthreads);
    tl_sampler_cores_sample(
        &st->cores, s, tl_sampler_timeline_core_steps(st->timeline), period_s);
    tl_sampler_timeline_pick(st->timeline, s, st->srv->start_ns, now);
    tl_insights_derive(s);
    tl_render_shared_insights(s);
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
