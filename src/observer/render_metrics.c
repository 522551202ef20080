/* Renders a snapshot in the Prometheus text exposition format 0.0.4:
 * prefix threadlab_, base units (seconds, bytes), _total counters,
 * histograms as _bucket{le}/_sum/_count, low-cardinality labels. */
#include "config.h"

#include "base/mode.h"
#include "observer/render_metrics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Bucket bounds in seconds for the latency-like histograms. */
static const double bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                1,      2.5,     5,      10};

static void head(tl_buf *b, const char *name, const char *type,
                 const char *help) {
  tl_buf_printf(b, "# HELP threadlab_%s %s\n# TYPE threadlab_%s %s\n", name,
                help, name, type);
}

/* The text format's spellings for what is not a finite number; the range
 * check comes before the cast, which is undefined beyond long long. */
static void val(tl_buf *b, double v) {
  if (isnan(v))
    tl_buf_puts(b, "NaN");
  else if (isinf(v))
    tl_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
  else if (fabs(v) < 1e15 && v == (double) (long long) v)
    tl_buf_printf(b, "%lld", (long long) v);
  else
    tl_buf_printf(b, "%.9g", v);
}

static void sample(tl_buf *b, const char *name, const char *labels, double v) {
  tl_buf_printf(b, "threadlab_%s%s%s%s ", name, labels[0] ? "{" : "", labels,
                labels[0] ? "}" : "");
  val(b, v);
  tl_buf_putc(b, '\n');
}

/* A histogram of microsecond values, exposed in seconds. Our buckets are
 * log-linear; a Prometheus bucket counts ours whose upper bound fits. */
static void hist(tl_buf *b, const char *name, const char *labels,
                 const tl_hist_snap *h) {
  const char *sep = labels[0] ? "," : "";
  for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
    uint64_t le_us = (uint64_t) (bounds[i] * 1e6 + 0.5), n = 0;
    for (int k = 0; k < TL_HIST_BUCKETS; k++)
      if (tl_hist_bucket_upper(k) <= le_us)
        n += h->bucket[k];
    tl_buf_printf(b, "threadlab_%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels,
                  sep, bounds[i], (unsigned long long) n);
  }
  tl_buf_printf(b, "threadlab_%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels,
                sep, (unsigned long long) h->count);
  char l[128];
  snprintf(l, sizeof(l), "%s", labels);
  char n2[96];
  snprintf(n2, sizeof(n2), "%s_sum", name);
  sample(b, n2, l, (double) h->sum / 1e6);
  snprintf(n2, sizeof(n2), "%s_count", name);
  sample(b, n2, l, (double) h->count);
}

void tl_render_metrics(const tl_snapshot *s, tl_buf *b) {
  char l[160];
  tl_buf_reserve(b, 32768 + (size_t) s->nthreads * 1500);
  head(b, "info", "gauge", "Server build and current execution mode.");
  {
    /* Strings go into label values escaped (tl_buf_put_prom_label); the
     * other labels here are numbers and our own enum names. */
    const char *mode = tl_mode_name((tl_mode) s->mode);
    tl_buf il;
    tl_buf_init(&il, l, sizeof(l));
    tl_buf_puts(&il, "version=\"");
    tl_buf_put_prom_label(&il, PACKAGE_VERSION, strlen(PACKAGE_VERSION));
    tl_buf_puts(&il, "\",mode=\"");
    tl_buf_put_prom_label(&il, mode, strlen(mode));
    tl_buf_puts(&il, "\"");
    tl_buf_putc(&il, '\0');
    sample(b, "info", il.data, 1);
    tl_buf_close(&il);
  }
  head(b, "pool_threads", "gauge", "Worker threads in the pool.");
  sample(b, "pool_threads", "", s->pool_threads);
  head(b, "pool_pinned", "gauge", "1 when workers are pinned to cores.");
  sample(b, "pool_pinned", "", s->pinned);

  head(b, "connections_open", "gauge", "Open workload connections.");
  sample(b, "connections_open", "", (double) s->conn_open);
  head(b, "connections_accepted_total", "counter",
       "Accepted workload connections.");
  sample(b, "connections_accepted_total", "", (double) s->accepted);
  head(b, "connections_refused_total", "counter",
       "Connections refused over --max-conns.");
  sample(b, "connections_refused_total", "", (double) s->refused);
  head(b, "requests_total", "counter", "Responses sent, by status class.");
  for (int c = 1; c < 6; c++) {
    snprintf(l, sizeof(l), "code=\"%dxx\"", c);
    sample(b, "requests_total", l, (double) s->by_class[c]);
  }
  head(b, "route_requests_total", "counter", "Responses sent, by route.");
  for (int r = 0; r < TL_ROUTE_COUNT; r++) {
    snprintf(l, sizeof(l), "route=\"%s\"", tl_route_name((tl_route) r));
    sample(b, "route_requests_total", l, (double) s->by_route[r]);
  }
  head(b, "request_duration_seconds", "histogram",
       "From request parsed to response written.");
  hist(b, "request_duration_seconds", "", s->lat_all);
  head(b, "route_request_duration_seconds", "histogram",
       "Request duration by route.");
  for (int r = 0; r < TL_ROUTE_COUNT; r++) {
    snprintf(l, sizeof(l), "route=\"%s\"", tl_route_name((tl_route) r));
    hist(b, "route_request_duration_seconds", l, &s->route_all[r]);
  }
  head(b, "queue_depth", "gauge", "Tasks waiting in the pool queue.");
  sample(b, "queue_depth", "", (double) s->queue_depth);
  head(b, "queue_rejected_total", "counter",
       "Tasks refused with 503 (queue full).");
  sample(b, "queue_rejected_total", "", (double) s->rejected);
  head(b, "send_submissions_total", "counter",
       "io_uring submissions that carried responses (one system call each).");
  sample(b, "send_submissions_total", "", (double) s->send_submits);
  head(b, "send_writes_total", "counter",
       "Connection writes carried by those submissions.");
  sample(b, "send_writes_total", "", (double) s->send_writes);
  head(b, "queue_wait_seconds", "histogram", "Time tasks waited for a worker.");
  hist(b, "queue_wait_seconds", "", s->qwait_all);
  head(b, "loop_lag_seconds", "histogram",
       "How late the workload loop's timer fired.");
  hist(b, "loop_lag_seconds", "", s->lag_all);
  if (s->has_loop_util) {
    head(b, "loop_utilization_ratio", "gauge",
         "Share of the last period the loop was not idle.");
    sample(b, "loop_utilization_ratio", "", s->loop_util_pct / 100.0);
  }
  if (!s->stats_enabled)
    return;

  /* CPU time is one family with a mode label (node_exporter's
   * node_cpu_seconds_total), so sum() over modes gives the total. */
  head(b, "process_cpu_seconds_total", "counter",
       "CPU time of the process, by mode (user, system).");
  sample(b, "process_cpu_seconds_total", "mode=\"user\"", s->cpu_user_s);
  sample(b, "process_cpu_seconds_total", "mode=\"system\"", s->cpu_sys_s);
  head(b, "process_threads", "gauge", "Threads in the process.");
  sample(b, "process_threads", "", (double) s->threads_count);
  if (s->has_rss) {
    head(b, "process_resident_memory_bytes", "gauge", "Resident set size.");
    sample(b, "process_resident_memory_bytes", "", (double) s->rss_bytes);
  }
  if (s->fds >= 0) {
    head(b, "process_open_fds", "gauge", "Open file descriptors.");
    sample(b, "process_open_fds", "", s->fds);
  }
  if (s->has_ctx) {
    head(b, "process_context_switches_total", "counter",
         "Context switches of all threads.");
    sample(b, "process_context_switches_total", "kind=\"voluntary\"",
           (double) s->ctx_vol);
    sample(b, "process_context_switches_total", "kind=\"involuntary\"",
           (double) s->ctx_invol);
  }

  head(b, "thread_cpu_seconds_total", "counter",
       "CPU time per thread, by mode (user, system).");
  for (int i = 0; i < s->nthreads; i++) {
    snprintf(l, sizeof(l), "tid=\"%d\",role=\"%s\",mode=\"user\"",
             s->threads[i].tid, tl_role_name(s->threads[i].role));
    sample(b, "thread_cpu_seconds_total", l, s->threads[i].cpu_user_s);
    snprintf(l, sizeof(l), "tid=\"%d\",role=\"%s\",mode=\"system\"",
             s->threads[i].tid, tl_role_name(s->threads[i].role));
    sample(b, "thread_cpu_seconds_total", l, s->threads[i].cpu_sys_s);
  }
  head(b, "thread_oncpu_seconds_total", "counter",
       "Time on a CPU per thread (schedstat).");
  for (int i = 0; i < s->nthreads; i++) {
    if (!s->threads[i].has_oncpu)
      continue;
    snprintf(l, sizeof(l), "tid=\"%d\",role=\"%s\"", s->threads[i].tid,
             tl_role_name(s->threads[i].role));
    sample(b, "thread_oncpu_seconds_total", l, s->threads[i].oncpu_s);
  }
  head(b, "runqueue_wait_accounted", "gauge",
       "1 when the kernel accounts run-queue wait (start-up self-test: "
       "schedstat run_delay grew).");
  sample(b, "runqueue_wait_accounted", "", s->runq_accounted);
  if (s->runq_accounted) {
    head(b, "thread_runqueue_wait_seconds_total", "counter",
         "Time runnable but waiting for a CPU, per thread (schedstat "
         "run_delay).");
    for (int i = 0; i < s->nthreads; i++) {
      if (!s->threads[i].has_runq)
        continue;
      snprintf(l, sizeof(l), "tid=\"%d\",role=\"%s\"", s->threads[i].tid,
               tl_role_name(s->threads[i].role));
      sample(b, "thread_runqueue_wait_seconds_total", l,
             s->threads[i].runq_wait_s);
    }
  }
  head(b, "thread_context_switches_total", "counter",
       "Context switches per thread.");
  for (int i = 0; i < s->nthreads; i++) {
    snprintf(l, sizeof(l), "tid=\"%d\",role=\"%s\",kind=\"voluntary\"",
             s->threads[i].tid, tl_role_name(s->threads[i].role));
    sample(b, "thread_context_switches_total", l,
           (double) s->threads[i].ctx_vol);
    snprintf(l, sizeof(l), "tid=\"%d\",role=\"%s\",kind=\"involuntary\"",
             s->threads[i].tid, tl_role_name(s->threads[i].role));
    sample(b, "thread_context_switches_total", l,
           (double) s->threads[i].ctx_invol);
  }
  head(b, "thread_migrations_total", "counter",
       "Moves of a thread between cores.");
  for (int i = 0; i < s->nthreads; i++) {
    if (!s->threads[i].has_migrations)
      continue;
    snprintf(l, sizeof(l), "tid=\"%d\",role=\"%s\"", s->threads[i].tid,
             tl_role_name(s->threads[i].role));
    sample(b, "thread_migrations_total", l, (double) s->threads[i].migrations);
  }
  head(b, "thread_tasks_total", "counter", "Tasks finished by our threads.");
  for (int i = 0; i < s->nthreads; i++) {
    if (!s->threads[i].own)
      continue;
    snprintf(l, sizeof(l), "tid=\"%d\",role=\"%s\"", s->threads[i].tid,
             tl_role_name(s->threads[i].role));
    sample(b, "thread_tasks_total", l, (double) s->threads[i].tasks);
  }
  head(b, "thread_steps_total", "counter", "Steps run by our threads.");
  for (int i = 0; i < s->nthreads; i++) {
    if (!s->threads[i].own)
      continue;
    snprintf(l, sizeof(l), "tid=\"%d\",role=\"%s\"", s->threads[i].tid,
             tl_role_name(s->threads[i].role));
    sample(b, "thread_steps_total", l, (double) s->threads[i].steps);
  }
  head(b, "thread_lock_wait_seconds_total", "counter",
       "Time our threads waited on threadlab's own locks (lock and hold "
       "steps), clocked by the lock wrapper.");
  for (int i = 0; i < s->nthreads; i++) {
    if (!s->threads[i].has_lock_wait)
      continue;
    snprintf(l, sizeof(l), "tid=\"%d\",role=\"%s\"", s->threads[i].tid,
             tl_role_name(s->threads[i].role));
    sample(b, "thread_lock_wait_seconds_total", l,
           s->threads[i].lock_wait_ms / 1e3);
  }
  head(b, "thread_last_cpu", "gauge", "Core each thread last ran on.");
  for (int i = 0; i < s->nthreads; i++) {
    if (s->threads[i].core < 0)
      continue;
    snprintf(l, sizeof(l), "tid=\"%d\",role=\"%s\"", s->threads[i].tid,
             tl_role_name(s->threads[i].role));
    sample(b, "thread_last_cpu", l, s->threads[i].core);
  }
  head(b, "cpu_utilization_ratio", "gauge",
       "Share of the last period per core and mode (/proc/stat).");
  for (int i = 0; i < s->ncores; i++) {
    const tl_core_snap *c = &s->cores[i];
    const struct {
      const char *m;
      double v;
    } ms[] = {{"user", c->user_pct},
              {"system", c->sys_pct},
              {"iowait", c->iowait_pct},
              {"irq", c->irq_pct},
              {"idle", c->idle_pct}};
    for (size_t k = 0; k < sizeof(ms) / sizeof(ms[0]); k++) {
      snprintf(l, sizeof(l), "cpu=\"%d\",mode=\"%s\"", c->cpu, ms[k].m);
      sample(b, "cpu_utilization_ratio", l, ms[k].v / 100.0);
    }
  }
  head(b, "cpu_steps_total", "counter", "Task steps that ended on each core.");
  for (int i = 0; i < s->ncores; i++) {
    snprintf(l, sizeof(l), "cpu=\"%d\"", s->cores[i].cpu);
    sample(b, "cpu_steps_total", l, (double) s->cores[i].steps);
  }
}
