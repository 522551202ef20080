/* Renders a snapshot as the JSON of doc/stats-json.md. */
#include "config.h"

#include "base/mode.h"
#include "base/steps.h"
#include "observer/render_shared.h"
#include "observer/sched.h"
#include "observer/render_json.h"
#include "observer/events.h"
#include "observer/thread_birth.h"
#include "observer/json_num.h"

#include <math.h>
#include <string.h>

static void num(tl_buf *b, double v) { tl_json_num_put(b, v); }

static void key(tl_buf *b, const char *k) {
  tl_buf_putc(b, '"');
  tl_buf_puts(b, k);
  tl_buf_puts(b, "\":");
}

static void kd(tl_buf *b, const char *k, double v) {
  key(b, k);
  num(b, v);
  tl_buf_putc(b, ',');
}

static void ku(tl_buf *b, const char *k, uint64_t v) {
  key(b, k);
  tl_buf_put_u64(b, v);
  tl_buf_putc(b, ',');
}

static void kopt(tl_buf *b, const char *k, bool has, double v) {
  key(b, k);
  if (has)
    num(b, v);
  else
    tl_buf_puts(b, "null");
  tl_buf_putc(b, ',');
}

/* A string, or null when there is none (a figure not known yet). */
static void ks(tl_buf *b, const char *k, const char *v) {
  key(b, k);
  if (v)
    tl_buf_put_json_str(b, v, strlen(v));
  else
    tl_buf_puts(b, "null");
  tl_buf_putc(b, ',');
}

static void kb(tl_buf *b, const char *k, bool v) {
  key(b, k);
  tl_buf_puts(b, v ? "true," : "false,");
}

/* Drops a trailing comma before closing an object or array. */
static void close_with(tl_buf *b, char c) {
  if (b->len && b->data[b->len - 1] == ',')
    b->len--;
  tl_buf_putc(b, c);
}

/* ,"processes":[...],"process_totals":{...}: the supervisor and its
 * workers, or the one server process. */
static double age_s(uint64_t at_ns, uint64_t now) {
  return now > at_ns ? (double) (now - at_ns) / 1e9 : 0;
}

static void processes_json(tl_buf *b, const tl_processes *ps) {
  uint64_t now = ps->at_ns;
  tl_buf_puts(b, ",\"processes\":[");
  for (int i = 0; i < ps->n; i++) {
    const tl_process_snap *p = &ps->p[i];
    tl_buf_puts(b, i ? ",{" : "{");
    ku(b, "pid", (uint64_t) p->pid);
    ks(b, "role", p->role);
    kopt(b, "index", p->index >= 0, p->index);
    ks(b, "state", p->state);
    kd(b, "uptime_s", p->uptime_s);
    kopt(b, "ready_ms", p->ready_ms >= 0, p->ready_ms);
    ku(b, "restarts", (uint64_t) p->restarts);
    key(b, "last_exit");
    if (p->has_exit) {
      const tl_proc_exit *x = &p->last_exit;
      tl_buf_puts(b, "{");
      ku(b, "pid", (uint64_t) x->pid);
      ks(b, "how", x->how);
      kd(b, "ago_s", p->exit_ago_s);
      ku(b, "connections_lost", x->conns_lost);
      ku(b, "tasks_lost", x->tasks_lost);
      kb(b, "by_spare", x->by_spare);
      kopt(b, "replaced_ms", p->replaced_ms >= 0, p->replaced_ms);
      close_with(b, '}');
      tl_buf_putc(b, ',');
    } else {
      tl_buf_puts(b, "null,");
    }
    bool m = p->has_mem;
    kopt(b, "rss_kb", m, (double) p->rss_kb);
    kopt(b, "pss_kb", m, (double) p->pss_kb);
    kopt(b, "uss_kb", m, (double) p->uss_kb);
    kopt(b, "cpu_s", p->has_proc, p->cpu_s);
    kopt(b, "cpu_pct", p->has_proc && p->cpu_pct >= 0, p->cpu_pct);
    kopt(b, "ctx_voluntary", p->has_proc, (double) p->ctx_vol);
    kopt(b, "ctx_involuntary", p->has_proc, (double) p->ctx_invol);
    kopt(b, "fds", p->has_proc && p->fds >= 0, p->fds);
    /* How old the figures read every 10 s are (memory, fds, threads[]). */
    kopt(b, "mem_age_s", p->has_proc && p->mem_at_ns, age_s(p->mem_at_ns, now));
    kopt(b, "fds_age_s", p->has_proc && p->fds_at_ns, age_s(p->fds_at_ns, now));
    kopt(b, "threads_age_s", p->has_proc && p->tids_at_ns,
         age_s(p->tids_at_ns, now));
    if (p->has_counters) {
      tl_buf_printf(
          b,
          "\"connections_open\":%llu,\"accepted\":%llu,"
          "\"requests\":%llu,\"tasks_in_flight\":%llu,",
          (unsigned long long) p->open, (unsigned long long) p->accepted,
          (unsigned long long) p->requests, (unsigned long long) p->inflight);
      /* Each worker's share beside the server's sum (server.requests). */
      kopt(b, "requests_rate", p->requests_rate >= 0, p->requests_rate);
    }
    tl_render_shared_process(b, p);
    tl_buf_puts(b, "\"threads\":[");
    int nt = p->nthreads < TL_SNAP_PROC_TIDS ? p->nthreads : TL_SNAP_PROC_TIDS;
    for (int k = 0; k < nt; k++) {
      if (k)
        tl_buf_putc(b, ',');
      tl_buf_put_u64(b, (uint64_t) p->tids[k]);
    }
    tl_buf_puts(b, "],");
    ku(b, "nthreads", (uint64_t) p->nthreads);
    close_with(b, '}');
  }
  tl_buf_puts(b, "],\"process_totals\":{");
  kb(b, "supervised", ps->supervised);
  ku(b, "deaths", ps->deaths);
  ku(b, "accepted", ps->total_accepted);
  ku(b, "requests", ps->total_requests);
  close_with(b, '}');
}

/* ,"costs":{...}: a process next to a thread, measured here. */
static void costs_json(tl_buf *b, const tl_costs *c, const tl_processes *ps) {
  tl_buf_puts(b, ",\"costs\":{");
  ku(b, "repetitions", (uint64_t) c->reps);
  kb(b, "measured", c->measured);
  kopt(b, "collected_at_uptime_s", c->measured, c->at_uptime_s);
  kopt(b, "fork_to_ready_us", c->has_fork, c->fork_us);
  kopt(b, "pthread_create_to_running_us", c->has_thread, c->thread_us);
  kopt(b, "ipc_socketpair_round_trip_us", c->has_ipc, c->ipc_rtt_us);
  kopt(b, "shm_condvar_handoff_round_trip_us", c->has_shm, c->shm_rtt_us);
  /* The spread of each over the repetitions: 10th and 90th percentiles. */
  kopt(b, "fork_to_ready_p10_us", c->has_fork, c->fork_spread_us[0]);
  kopt(b, "fork_to_ready_p90_us", c->has_fork, c->fork_spread_us[1]);
  kopt(b, "pthread_create_to_running_p10_us", c->has_thread,
       c->thread_spread_us[0]);
  kopt(b, "pthread_create_to_running_p90_us", c->has_thread,
       c->thread_spread_us[1]);
  kopt(b, "ipc_socketpair_round_trip_p10_us", c->has_ipc, c->ipc_spread_us[0]);
  kopt(b, "ipc_socketpair_round_trip_p90_us", c->has_ipc, c->ipc_spread_us[1]);
  kopt(b, "shm_condvar_handoff_round_trip_p10_us", c->has_shm,
       c->shm_spread_us[0]);
  kopt(b, "shm_condvar_handoff_round_trip_p90_us", c->has_shm,
       c->shm_spread_us[1]);
  /* Like with like: private memory added per thread / per process. */
  kopt(b, "thread_private_added_kb", c->has_mem_thread, c->thread_private_kb);
  kopt(b, "thread_private_added_p10_kb", c->has_mem_thread,
       c->thread_private_spread_kb[0]);
  kopt(b, "thread_private_added_p90_kb", c->has_mem_thread,
       c->thread_private_spread_kb[1]);
  kopt(b, "process_private_added_kb", c->has_mem_process,
       c->process_private_kb);
  kopt(b, "process_private_added_p10_kb", c->has_mem_process,
       c->process_private_spread_kb[0]);
  kopt(b, "process_private_added_p90_kb", c->has_mem_process,
       c->process_private_spread_kb[1]);
  kopt(b, "thread_stack_resident_kb", c->has_stack,
       (double) c->thread_stack_rss_kb);
  kopt(b, "thread_stack_mapped_kb", c->has_stack,
       (double) c->thread_stack_size_kb);
  /* A process's own memory: the median PSS / USS of the workers, or of
   * the one process. */
  uint64_t pss[TL_SNAP_MAX_PROCS], uss[TL_SNAP_MAX_PROCS];
  int n = 0;
  for (int i = 0; i < ps->n; i++) {
    const tl_process_snap *p = &ps->p[i];
    if (p->has_mem && (!ps->supervised || p->index >= 0)) {
      pss[n] = p->pss_kb;
      uss[n++] = p->uss_kb;
    }
  }
  for (int i = 1; i < n; i++)
    for (int k = i; k > 0 && pss[k - 1] > pss[k]; k--) {
      uint64_t t = pss[k];
      pss[k] = pss[k - 1];
      pss[k - 1] = t;
      t = uss[k];
      uss[k] = uss[k - 1];
      uss[k - 1] = t;
    }
  kopt(b, "process_pss_kb", n > 0, n ? (double) pss[n / 2] : 0);
  kopt(b, "process_uss_kb", n > 0, n ? (double) uss[n / 2] : 0);
  close_with(b, '}');
}

/* ,"loops":[...]: each workload loop's own figures (--loops N). */
static void loops_json(tl_buf *b, const tl_snapshot *s) {
  tl_buf_puts(b, ",\"loops\":[");
  for (int k = 0; k < s->nloops; k++) {
    const tl_loop_snap *l = &s->loops[k];
    const tl_hist_summary *g = &l->lag_ms_period;
    tl_buf_puts(b, k ? ",{" : "{");
    ku(b, "index", (uint64_t) l->index);
    ku(b, "tid", (uint64_t) l->tid);
    tl_buf_printf(b, "\"connections\":{\"open\":%llu,\"accepted\":%llu},",
                  (unsigned long long) l->open,
                  (unsigned long long) l->accepted);
    tl_buf_printf(b, "\"requests\":{\"total\":%llu,\"rate\":",
                  (unsigned long long) l->requests);
    num(b, l->requests_rate);
    tl_buf_puts(b, "},\"lag_ms\":{");
    ku(b, "count", g->count);
    kopt(b, "p50", g->count > 0, g->p50 / 1000.0);
    kopt(b, "p99", g->count > 0, g->p99 / 1000.0);
    kopt(b, "max", g->count > 0, g->max / 1000.0);
    close_with(b, '}');
    tl_buf_putc(b, ',');
    kopt(b, "utilization_pct", l->has_util, l->util_pct);
    close_with(b, '}');
  }
  tl_buf_putc(b, ']');
}

/* {count, mean, p50, ...} with values scaled from us to ms. */
static void summary(tl_buf *b, const tl_hist_snap *h) {
  tl_hist_summary s;
  tl_hist_summarize(h, &s);
  tl_buf_putc(b, '{');
  ku(b, "count", s.count);
  bool has = s.count > 0;
  kopt(b, "mean", has, s.mean / 1000.0);
  kopt(b, "p50", has, s.p50 / 1000.0);
  kopt(b, "p90", has, s.p90 / 1000.0);
  kopt(b, "p99", has, s.p99 / 1000.0);
  kopt(b, "p999", has, s.p999 / 1000.0);
  kopt(b, "max", has, s.max / 1000.0);
  close_with(b, '}');
}

static void pair(tl_buf *b, const char *k, const tl_hist_snap *all,
                 const tl_hist_snap *period) {
  key(b, k);
  tl_buf_puts(b, "{\"since_start\":");
  summary(b, all);
  tl_buf_puts(b, ",\"period\":");
  summary(b, period);
  tl_buf_puts(b, "},");
}

/* server.coro: coroutines, their switches and stacks (doc/stats-json.md). */
static void coro_json(tl_buf *b, const tl_coro_snap *c) {
  tl_buf_puts(b, ",\"coro\":{");
  ku(b, "created", c->created);
  ku(b, "alive", c->alive);
  ku(b, "suspended", c->suspended);
  ku(b, "runnable", c->runnable);
  ku(b, "switches", c->switches);
  kd(b, "switches_rate", c->switches_rate);
  ku(b, "migrations", c->migrations);
  kd(b, "migrations_rate", c->migrations_rate);
  ks(b, "switch", c->switch_name);
  kopt(b, "switch_ns", c->switch_ns > 0, (double) c->switch_ns);
  kopt(b, "switch_asm_ns", c->asm_ns > 0, (double) c->asm_ns);
  kopt(b, "switch_ucontext_ns", c->ucontext_ns > 0, (double) c->ucontext_ns);
  kopt(b, "kernel_switch_ns", c->kernel_switch_ns > 0,
       (double) c->kernel_switch_ns);
  ku(b, "stack_kib", (uint64_t) c->stack_kib);
  ku(b, "stack_reserved_bytes", c->stack_reserved_bytes);
  ku(b, "stack_resident_bytes", c->stack_resident_bytes);
  pair(b, "wake_to_resume_ms", &c->wake_all, &c->wake_period);
  close_with(b, '}');
}

/* An integer, or null when 0 (unknown). */
static void ku_or_null(tl_buf *b, const char *k, uint64_t v) {
  key(b, k);
  if (v)
    tl_buf_put_u64(b, v);
  else
    tl_buf_puts(b, "null");
  tl_buf_putc(b, ',');
}

static void thread_json(tl_buf *b, const tl_thread_snap *t,
                        const struct tl_sched *sched) {
  tl_buf_putc(b, '{');
  ku(b, "tid", (uint64_t) t->tid);
  ku(b, "pid", (uint64_t) t->pid);
  /* Birth (CLOCK_MONOTONIC ns, like start_ns): who read created_ns. */
  ku_or_null(b, "created_ns", t->created_ns);
  ks(b, "created_by", tl_thread_birth_by_name(t->created_by));
  ku_or_null(b, "first_run_ns", t->first_run_ns);
  kopt(b, "tasks_in_flight", t->has_in_flight, (double) t->in_flight);
  kopt(b, "steps_left_out", t->own, (double) t->steps_left_out);
  ks(b, "name", t->name);
  ks(b, "role", tl_role_name(t->role));
  kopt(b, "index", t->index >= 0, t->index);
  char st[2] = {t->state ? t->state : '?', 0};
  ks(b, "state", st);
  kopt(b, "core", t->core >= 0, t->core);
  if (t->allowed[0])
    ks(b, "allowed", t->allowed);
  else
    kopt(b, "allowed", false, 0);
  kd(b, "cpu_user_s", t->cpu_user_s);
  kd(b, "cpu_sys_s", t->cpu_sys_s);
  kd(b, "cpu_pct", t->cpu_pct);
  kopt(b, "oncpu_s", t->has_oncpu, t->oncpu_s);
  kopt(b, "runq_wait_s", t->has_runq, t->runq_wait_s);
  kopt(b, "runq_wait_pct", t->has_runq && t->has_period, t->runq_wait_pct);
  kopt(b, "on_cpu_pct", t->has_period, t->on_cpu_pct);
  kopt(b, "runq_pct", t->has_period && t->has_runq, t->runq_pct);
  kopt(b, "sleep_pct", t->has_period && t->has_runq, t->sleep_pct);
  /* Our locks: waited in total and in the period, and waiting now. */
  kopt(b, "lock_wait_ms", t->has_lock_wait, t->lock_wait_ms);
  kopt(b, "lock_wait_pct", t->has_lock_wait_pct, t->lock_wait_pct);
  bool waiting = t->has_lock_wait && t->lock_wants >= 0;
  kopt(b, "lock_wants", waiting, t->lock_wants);
  if (waiting)
    ku(b, "lock_wait_since_ns", t->lock_wait_since_ns);
  else
    kopt(b, "lock_wait_since_ns", false, 0);
  kopt(b, "timeslices", t->has_oncpu, (double) t->timeslices);
  ku(b, "ctx_voluntary", t->ctx_vol);
  kd(b, "ctx_voluntary_rate", t->ctx_vol_rate);
  ku(b, "ctx_involuntary", t->ctx_invol);
  kd(b, "ctx_involuntary_rate", t->ctx_invol_rate);
  kopt(b, "coro_switches", t->own, (double) t->coro_switches);
  kopt(b, "coro_switches_rate", t->own, t->coro_switches_rate);
  kopt(b, "migrations", t->has_migrations, (double) t->migrations);
  kopt(b, "migrations_rate", t->has_migrations, t->migrations_rate);
  kopt(b, "tasks", t->own, (double) t->tasks);
  kopt(b, "tasks_rate", t->own, t->tasks_rate);
  kopt(b, "steps", t->own, (double) t->steps);
  kopt(b, "steps_rate", t->own, t->steps_rate);
  kopt(b, "busy_pct", t->own && t->role == TL_ROLE_WORKER, t->busy_pct);
  tl_sched_thread_figs sf; /* the tracer's, beside the /proc figures */
  tl_sched_thread_figures(sched, t->tid, &sf);
  tl_sched_thread_json(b, &sf);
  key(b, "doing");
  if (t->own) {
    tl_buf_printf(b, "{\"what\":\"%s\",\"task\":",
                  tl_doing_name((tl_doing) t->doing_what));
    if (t->doing_what == TL_DOING_CPU || t->doing_what == TL_DOING_IO ||
        (t->doing_what == TL_DOING_WAIT && t->doing_task))
      tl_buf_printf(b, "%llu,\"step\":%d}", (unsigned long long) t->doing_task,
                    t->doing_step);
    else
      tl_buf_puts(b, "null,\"step\":null}");
  } else {
    tl_buf_puts(b, "null");
  }
  tl_buf_putc(b, '}');
}

/* What the kernel gives on this machine, and how we know: run-queue wait
 * is whatever the start-up self-test measured, never the sysctl's word. */
static void kernel_json(tl_buf *b, const tl_snapshot *s) {
  tl_buf_printf(b, "\"kernel\":{\"ncpu\":%d,\"clk_tck\":%ld,", s->ncpu,
                s->clk_tck);
  if (s->sched)
    tl_sched_kernel_json(s->sched, b);
  else
    tl_buf_puts(b, "\"sched_source\":null,\"sched_source_reason\":null,"
                   "\"sched_tracing\":false,");
  key(b, "task_delayacct");
  tl_buf_puts(b, s->task_delayacct < 0 ? "null,"
                 : s->task_delayacct   ? "true,"
                                       : "false,");
  const tl_schedstat_probe *p = s->runq_probe;
  key(b, "runq_source");
  tl_buf_puts(b, s->runq_accounted ? "\"schedstat\"," : "null,");
  if (p && p->why)
    ks(b, "runq_unavailable", p->why);
  else
    tl_buf_puts(b, "\"runq_unavailable\":null,");
  key(b, "runq_self_test");
  if (p) {
    tl_buf_putc(b, '{');
    ku(b, "threads", (uint64_t) p->threads);
    kopt(b, "cpu", p->cpu >= 0, p->cpu);
    kd(b, "spin_ms", p->spin_ms);
    kd(b, "oncpu_ms", p->oncpu_ms);
    kd(b, "run_delay_ms", p->run_delay_ms);
    kb(b, "accounted", p->accounted);
    close_with(b, '}');
  } else {
    tl_buf_puts(b, "null");
  }
  tl_buf_puts(b, "},");
}

void tl_render_json(const tl_snapshot *s, tl_buf *b) {
  tl_buf_reserve(b, 16384 + (size_t) s->nthreads * 700 +
                        (size_t) s->ntimeline * 110);
  tl_buf_putc(b, '{');
  ku(b, "seq", s->seq);
  kd(b, "time_ms", s->time_ms);
  kd(b, "uptime_ms", s->uptime_ms);
  ku(b, "start_ns", s->start_ns); /* CLOCK_MONOTONIC: threads' birth origin */
  kd(b, "period_ms", s->period_ms);
  kb(b, "stats_enabled", s->stats_enabled);
  kd(b, "sample_cost_ms", s->sample_cost_ms);
  kernel_json(b, s);

  key(b, "process");
  if (s->stats_enabled) {
    tl_buf_putc(b, '{');
    ku(b, "pid", (uint64_t) s->pid);
    kd(b, "uptime_s", s->uptime_ms / 1000.0);
    kd(b, "threads", (double) s->threads_count);
    kopt(b, "rss_bytes", s->has_rss, (double) s->rss_bytes);
    kd(b, "cpu_user_s", s->cpu_user_s);
    kd(b, "cpu_sys_s", s->cpu_sys_s);
    kd(b, "cpu_user_pct", s->cpu_user_pct);
    kd(b, "cpu_sys_pct", s->cpu_sys_pct);
    kopt(b, "ctx_voluntary", s->has_ctx, (double) s->ctx_vol);
    kopt(b, "ctx_voluntary_rate", s->has_ctx, s->ctx_vol_rate);
    kopt(b, "ctx_involuntary", s->has_ctx, (double) s->ctx_invol);
    kopt(b, "ctx_involuntary_rate", s->has_ctx, s->ctx_invol_rate);
    kopt(b, "fds", s->fds >= 0, s->fds);
    kopt(b, "fds_age_s", s->fds >= 0, s->fds_age_s);
    if (s->cpus_allowed_list[0])
      ks(b, "cpus_allowed", s->cpus_allowed_list);
    else
      tl_buf_puts(b, "\"cpus_allowed\":null,");
    kopt(b, "cpus_allowed_count", s->cpus_allowed > 0, s->cpus_allowed);
    close_with(b, '}');
  } else {
    tl_buf_printf(b, "{\"pid\":%d}", s->pid);
  }
  tl_buf_puts(b, ",\"threads\":[");
  for (int i = 0; i < s->nthreads; i++) {
    if (i)
      tl_buf_putc(b, ',');
    thread_json(b, &s->threads[i], s->sched);
  }
  tl_buf_puts(b, "],\"cores\":[");
  for (int i = 0; i < s->ncores; i++) {
    const tl_core_snap *c = &s->cores[i];
    if (i)
      tl_buf_putc(b, ',');
    tl_buf_putc(b, '{');
    ku(b, "cpu", (uint64_t) c->cpu);
    kd(b, "user_pct", c->user_pct);
    kd(b, "sys_pct", c->sys_pct);
    kd(b, "iowait_pct", c->iowait_pct);
    kd(b, "irq_pct", c->irq_pct);
    kd(b, "idle_pct", c->idle_pct);
    ku(b, "steps", c->steps);
    kd(b, "steps_rate", c->steps_rate);
    tl_buf_puts(b, "\"threads\":[");
    int n = 0;
    for (int t = 0; t < s->nthreads; t++) {
      if (s->threads[t].core != c->cpu)
        continue;
      if (n++)
        tl_buf_putc(b, ',');
      tl_buf_put_u64(b, (uint64_t) s->threads[t].tid);
    }
    tl_buf_puts(b, "]}");
  }
  tl_buf_puts(b, "],\"server\":{");
  ks(b, "mode", tl_mode_name((tl_mode) s->mode));
  ku(b, "threads", (uint64_t) s->pool_threads);
  /* The pool exists in every mode; in async the loop runs every step. */
  kb(b, "pool_in_use", s->mode != TL_MODE_ASYNC);
  kb(b, "pinned", s->pinned);
  ks(b, "worker_cpus", s->worker_cpus);
  ku(b, "coro_slice_ms", (uint64_t) s->coro.slice_ms);
  ks(b, "inherited_cpus", s->inherited_cpus);
  tl_buf_printf(b,
                "\"connections\":{\"open\":%llu,\"accepted\":%llu,\"refused\":%"
                "llu,\"accepted_rate\":",
                (unsigned long long) s->conn_open,
                (unsigned long long) s->accepted,
                (unsigned long long) s->refused);
  num(b, s->accepted_rate);
  tl_buf_puts(b, "},\"requests\":{");
  ku(b, "total", s->requests);
  kd(b, "rate", s->requests_rate);
  tl_buf_puts(b, "\"by_status\":{");
  for (int c = 1; c < 6; c++)
    tl_buf_printf(b, "%s\"%dxx\":%llu", c > 1 ? "," : "", c,
                  (unsigned long long) s->by_class[c]);
  tl_buf_puts(b, "},\"by_route\":{");
  for (int r = 0; r < TL_ROUTE_COUNT; r++) {
    tl_buf_printf(b, "%s\"%s\":{\"total\":%llu,\"rate\":", r ? "," : "",
                  tl_route_name((tl_route) r),
                  (unsigned long long) s->by_route[r]);
    num(b, s->by_route_rate[r]);
    tl_buf_putc(b, '}');
  }
  tl_buf_puts(b, "}},\"latency_ms\":{");
  key(b, "since_start");
  summary(b, s->lat_all);
  tl_buf_puts(b, ",\"period\":");
  summary(b, s->lat_period);
  tl_buf_puts(b, ",\"by_route\":{");
  int first = 1;
  for (int r = 0; r < TL_ROUTE_COUNT; r++) {
    if (s->route_all[r].count == 0)
      continue;
    if (!first)
      tl_buf_putc(b, ',');
    first = 0;
    tl_buf_printf(b, "\"%s\":{\"since_start\":", tl_route_name((tl_route) r));
    summary(b, &s->route_all[r]);
    tl_buf_puts(b, ",\"period\":");
    summary(b, &s->route_period[r]);
    tl_buf_putc(b, '}');
  }
  tl_buf_puts(b, "}},\"queue\":{");
  ku(b, "depth", s->queue_depth);
  ku(b, "max", s->queue_max);
  ku(b, "rejected", s->rejected);
  pair(b, "wait_ms", s->qwait_all, s->qwait_period);
  close_with(b, '}');
  tl_buf_puts(b, ",\"sends\":{");
  kb(b, "io_uring", s->send_uring);
  if (s->send_why)
    ks(b, "why_not", s->send_why);
  else
    tl_buf_puts(b, "\"why_not\":null,");
  ku(b, "submissions", s->send_submits);
  kd(b, "submissions_rate", s->send_submits_rate);
  ku(b, "writes", s->send_writes);
  kd(b, "writes_rate", s->send_writes_rate);
  kopt(b, "writes_per_submission", s->send_writes_per_submit >= 0,
       s->send_writes_per_submit);
  close_with(b, '}');
  tl_buf_puts(b, ",\"loop\":{");
  pair(b, "lag_ms", s->lag_all, s->lag_period);
  kopt(b, "utilization_pct", s->has_loop_util, s->loop_util_pct);
  close_with(b, '}');
  coro_json(b, &s->coro);
  tl_render_shared_json(b, s);
  loops_json(b, s);
  tl_buf_puts(b, "},\"timeline\":{");
  kd(b, "from_ms", s->timeline_from_ms);
  kd(b, "to_ms", s->timeline_to_ms);
  kb(b, "sampled", s->timeline_sampled);
  ku(b, "dropped", s->timeline_dropped);
  ku(b, "left_out", s->timeline_left_out); /* this update */
  tl_buf_puts(b, "\"steps\":[");
  for (int i = 0; i < s->ntimeline; i++) {
    const tl_timeline_ev *e = &s->timeline[i];
    if (i)
      tl_buf_putc(b, ',');
    tl_buf_puts(b, "{\"tid\":");
    tl_buf_put_u64(b, (unsigned long long) e->tid);
    tl_buf_puts(b, ",\"core\":");
    tl_buf_put_u64(b, (unsigned long long) e->ev.core);
    tl_buf_puts(b, ",\"kind\":\""); /* cpu, io or yield, as the task says */
    tl_buf_puts(b, tl_step_kind_name(e->ev.kind));
    tl_buf_puts(b, "\",\"task\":");
    tl_buf_put_u64(b, e->ev.task);
    tl_buf_puts(b, ",\"step\":");
    tl_buf_put_u64(b, (unsigned long long) e->ev.step);
    tl_buf_puts(b, ",\"route\":\"");
    tl_buf_puts(b, tl_route_name((tl_route) e->ev.route));
    tl_buf_puts(b, "\",\"start_ms\":");
    num(b, (double) (e->ev.start_ns - s->start_ns) / 1e6);
    tl_buf_puts(b, ",\"end_ms\":");
    num(b, (double) (e->ev.end_ns - s->start_ns) / 1e6);
    tl_buf_puts(b, ",\"cpu_us\":"); /* the step's thread CPU clock */
    tl_buf_put_u64(b, e->ev.cpu_ns / 1000);
    if (e->ev.coro) /* coro mode: which coroutine, on which stack */
      tl_buf_printf(b, ",\"coro\":%llu,\"stack\":\"0x%llx\"",
                    (unsigned long long) e->ev.coro,
                    (unsigned long long) e->ev.stack);
    tl_buf_putc(b, '}');
  }
  tl_buf_puts(b, "]},\"insights\":[");
  for (int i = 0; i < s->ninsights; i++) {
    const tl_insight *in = &s->insights[i];
    tl_buf_printf(b,
                  "%s{\"level\":\"%s\",\"id\":\"%s\",\"text\":", i ? "," : "",
                  in->level, in->id);
    tl_buf_put_json_str(b, in->text, strlen(in->text));
    tl_buf_puts(b, ",\"evidence\":");
    tl_buf_puts(b, in->evidence[0] ? in->evidence : "{}");
    tl_buf_putc(b, '}');
  }
  tl_buf_putc(b, ']');
  processes_json(b, &s->procs);
  costs_json(b, &s->costs, &s->procs);
  /* The latest events: a stream client sees each one several times and
   * keys them by id; the full log is in /stats/history. */
  tl_buf_puts(b, ",\"events\":");
  if (s->events)
    tl_events_render(s->events, TL_SNAP_EVENTS_SHOWN, b);
  else
    tl_buf_puts(b, "[]");
  tl_buf_putc(b, '}');
}
