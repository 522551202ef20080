/* The server's own figures (observer/sampler_server.h). */
#include "config.h"

#include "observer/sampler_server.h"

#include "base/cpulist.h"
#include "base/util.h"
#include "runtime/pool.h"
#include "observer/sampler_rate.h"

#include <stddef.h>

/* Reading processes[] costs more than this: read it every slow sample
 * only (smaps_rollup walks every mapping: 1,000 thread stacks). */
#define PROCESSES_COSTLY_NS 1000000u

#define NONE ((size_t) -1)

/* Where each counter's previous value is kept (sv->prev[]). */
enum {
  P_OPEN,
  P_ACCEPTED,
  P_REFUSED,
  P_REQUESTS,
  P_BY_CLASS,
  P_BY_ROUTE = P_BY_CLASS + 6,
  P_REJECTED = P_BY_ROUTE + TL_ROUTE_COUNT,
  P_SEND_SUBMITS,
  P_SEND_WRITES,
  P_END
};
_Static_assert(P_END == TL_SAMPLER_SERVER_COUNTERS, "one prev per counter");

/* One counter (or n consecutive ones) of tl_loop_counters, summed over the
 * loops, and where the snapshot takes its value, its rate per second
 * (double) and its delta since the previous sample (uint64_t); NONE: not
 * wanted. A new server counter with a rate is one row here, its fields in
 * snapshot.h and its name in render_json.c. */
typedef struct counter_row {
  size_t src, value, rate, delta;
  int n, prev;
} counter_row;

#define SNAP(f) offsetof(tl_snapshot, f)
#define SRC(f)  offsetof(tl_loop_counters, f)
static const counter_row counter_rows[] = {
    {SRC(open), SNAP(conn_open), NONE, NONE, 1, P_OPEN},
    {SRC(accepted), SNAP(accepted), SNAP(accepted_rate), NONE, 1, P_ACCEPTED},
    {SRC(refused), SNAP(refused), NONE, NONE, 1, P_REFUSED},
    {SRC(requests), SNAP(requests), SNAP(requests_rate), NONE, 1, P_REQUESTS},
    {SRC(by_class), SNAP(by_class), NONE, NONE, 6, P_BY_CLASS},
    {SRC(by_route), SNAP(by_route), SNAP(by_route_rate), NONE, TL_ROUTE_COUNT,
     P_BY_ROUTE},
    {SRC(rejected), SNAP(rejected), NONE, SNAP(rejected_delta), 1, P_REJECTED},
    {SRC(send_submits), SNAP(send_submits), SNAP(send_submits_rate), NONE, 1,
     P_SEND_SUBMITS},
    {SRC(send_writes), SNAP(send_writes), SNAP(send_writes_rate), NONE, 1,
     P_SEND_WRITES},
};

/* The histograms, by index into sv->hist_*: the routes' last so that
 * route_all/route_period are arrays. */
enum { H_LAT, H_QWAIT, H_LAG, H_ROUTE };
_Static_assert(H_ROUTE + TL_ROUTE_COUNT == TL_SAMPLER_SERVER_HISTS,
               "one slot per histogram");

static uint64_t ld(const _Atomic uint64_t *p) {
  return atomic_load_explicit(p, memory_order_relaxed);
}

/* Each row's counter summed over the loops, its rate and delta. */
/* Each row from the counters summed over the loops (loop_totals) and, in
 * a --processes supervisor, which has no loop, its workers
 * (observer/process_sums). */
static void read_counters(tl_sampler_server *sv, const tl_loop_counters *sum,
                          tl_snapshot *s, double period_s) {
  char *snap = (char *) s;
  const char *src = (const char *) sum;
  for (size_t i = 0; i < TL_ARRAY_SIZE(counter_rows); i++) {
    const counter_row *r = &counter_rows[i];
    for (int k = 0; k < r->n; k++) {
      uint64_t v = ld((const _Atomic uint64_t *) (src + r->src) + k);
      uint64_t before = sv->prev[r->prev + k];
      ((uint64_t *) (snap + r->value))[k] = v;
      if (r->rate != NONE)
        ((double *) (snap + r->rate))[k] = tl_sampler_rate(v, before, period_s);
      if (r->delta != NONE)
        ((uint64_t *) (snap + r->delta))[k] = v - before;
    }
  }
}

/* After everything derived from the previous values. */
static void keep_counters(tl_sampler_server *sv, const tl_snapshot *s) {
  const char *snap = (const char *) s;
  for (size_t i = 0; i < TL_ARRAY_SIZE(counter_rows); i++) {
    const counter_row *r = &counter_rows[i];
    for (int k = 0; k < r->n; k++)
      sv->prev[r->prev + k] = ((const uint64_t *) (snap + r->value))[k];
  }
}

static void read_hist(tl_sampler_server *sv, int i, const tl_hist *h) {
  tl_hist_read(h, &sv->hist_now[i]);
  tl_hist_diff(&sv->hist_now[i], &sv->hist_prev[i], &sv->hist_period[i]);
  sv->hist_prev[i] = sv->hist_now[i];
}

static void read_hists(tl_sampler_server *sv, const tl_loop_counters *c,
                       tl_snapshot *s) {
  read_hist(sv, H_LAT, &c->latency_us);
  for (int r = 0; r < TL_ROUTE_COUNT; r++)
    read_hist(sv, H_ROUTE + r, &c->route_latency_us[r]);
  read_hist(sv, H_QWAIT, &c->queue_wait_us);
  read_hist(sv, H_LAG, &c->loop_lag_us);
  s->lat_all = &sv->hist_now[H_LAT];
  s->lat_period = &sv->hist_period[H_LAT];
  s->route_all = &sv->hist_now[H_ROUTE];
  s->route_period = &sv->hist_period[H_ROUTE];
  s->qwait_all = &sv->hist_now[H_QWAIT];
  s->qwait_period = &sv->hist_period[H_QWAIT];
  s->lag_all = &sv->hist_now[H_LAG];
  s->lag_period = &sv->hist_period[H_LAG];
}

void tl_sampler_server_sample(tl_sampler_server *sv, tl_server *srv,
                              tl_snapshot *s, double period_s, bool slow,
                              tl_process_sums *sums) {
  tl_loop_counters *c = &sv->loop_sum;
  tl_loop_totals(srv, c, sv->loop_prev, s->loops, &s->nloops, period_s);
  tl_process_sums_add(sums, srv, c); /* --processes: the workers' */
  s->mode = atomic_load_explicit(&srv->mode, memory_order_relaxed);
  s->pool_threads = atomic_load_explicit(&srv->threads, memory_order_relaxed);
  s->pinned = atomic_load_explicit(&srv->pinned, memory_order_relaxed);
  cpu_set_t wcpus, inherited;
  tl_server_worker_cpus(srv, &wcpus, &inherited);
  tl_cpulist_format(&wcpus, s->worker_cpus, sizeof(s->worker_cpus));
  tl_cpulist_format(&inherited, s->inherited_cpus, sizeof(s->inherited_cpus));
  read_counters(sv, c, s, period_s);
  /* Immutable after start; a supervisor has no loop of its own. */
  s->send_uring = srv->nloops > 0 && srv->loops[0].send_uring;
  s->send_why = srv->nloops > 0 ? srv->loops[0].send_why
                                : "the supervisor runs no workload loop";
  uint64_t submits0 = sv->prev[P_SEND_SUBMITS],
           writes0 = sv->prev[P_SEND_WRITES];
  s->send_writes_per_submit = s->send_submits > submits0
                                  ? (double) (s->send_writes - writes0) /
                                        (double) (s->send_submits - submits0)
                                  : -1;
  keep_counters(sv, s);
  s->queue_depth = srv->role != TL_PROC_SUPERVISOR
                       ? tl_server_queue_depth(srv)
                       : tl_process_sums_queue_depth(sums);
  s->queue_max = (uint64_t) srv->cfg.queue_max;
  read_hists(sv, c, s);

  uint64_t idle = ld(&c->loop_idle_ns);
  s->has_loop_util = idle >= sv->loop_idle_ns;
  if (s->has_loop_util) {
    double u = 100.0 * (1.0 - (double) (idle - sv->loop_idle_ns) / 1e9 /
                                  period_s / (s->nloops > 0 ? s->nloops : 1));
    s->loop_util_pct = u < 0 ? 0 : u > 100 ? 100 : u;
  }
  sv->loop_idle_ns = idle;

  uint64_t bseq = atomic_load_explicit(&c->block_seq, memory_order_acquire);
  if (bseq != sv->block_seq)
    sv->block_seen_ns = tl_now_ns();
  sv->block_seq = bseq;
  s->block_age_ms =
      sv->block_seen_ns ? (double) (tl_now_ns() - sv->block_seen_ns) / 1e6 : -1;
  s->block_task = ld(&c->block_task);
  s->block_us = ld(&c->block_us);
  s->block_route = ld(&c->block_route);
  /* processes[] is re-read each period while that is cheap; at 1,000
   * threads its smaps_rollup and fd/task listings cost milliseconds, so
   * then in slow samples only (its rates over the time since). */
  uint64_t now = tl_now_ns();
  if (sv->procs_cost_ns < PROCESSES_COSTLY_NS || slow ||
      sv->procs_last_ns == 0) {
    double since_s =
        sv->procs_last_ns ? (double) (now - sv->procs_last_ns) / 1e9 : period_s;
    uint64_t c0 = tl_thread_cpu_ns();
    tl_processes_sample(srv, &s->procs, since_s);
    sv->procs_cost_ns = tl_thread_cpu_ns() - c0;
    sv->procs_last_ns = now;
  }
  if (!s->costs.measured &&
      tl_costs_collect(srv->costs_fd, srv->costs_pid, &s->costs))
    s->costs.at_uptime_s = (double) (tl_now_ns() - srv->start_ns) / 1e9;
}
