/* One statistics sample, as plain numbers: built by the sampler, rendered
 * by render_json (JSON) and render_metrics (Prometheus), read by insights.
 * Observer thread only. A figure with has_x == false is null. */
#ifndef TL_OBSERVER_SNAPSHOT_H
#define TL_OBSERVER_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/hist.h"
#include "base/router.h"
#include "base/thread.h"
#include "observer/schedstat_probe.h"
#include "observer/loop_totals.h"
#include "core/costs.h"
#include "observer/processes.h"
#include "observer/shared_obs.h"

#define TL_SNAP_MAX_CORES     256
#define TL_SNAP_MAX_INSIGHTS  16
#define TL_TIMELINE_OUT_MAX   1500
#define TL_TIMELINE_WINDOW_MS 5000
#define TL_SNAP_EVENTS_SHOWN  20 /* latest events in each snapshot */

/* Where a thread's created_ns came from (observer/thread_birth.h). */
enum { TL_BIRTH_NONE = 0, TL_BIRTH_CREATOR, TL_BIRTH_KERNEL };

typedef struct tl_thread_snap {
  int tid;
  int pid; /* the process it belongs to */
  char name[64];
  tl_role role;
  int index; /* worker index or -1 */
  char state;
  int core; /* -1 unknown */
  char allowed[256];
  double cpu_user_s, cpu_sys_s, cpu_pct;
  bool has_oncpu;
  double oncpu_s;
  bool has_runq; /* false when the kernel does not account it */
  double runq_wait_s, runq_wait_pct;
  /* Where the period went, from schedstat deltas over this thread's own
   * sampling interval: on a core, ready but waiting for one, and the rest
   * (sleeping or blocked). has_period: a previous sample exists; the
   * waiting and sleeping shares also need has_runq. */
  bool has_period;
  double on_cpu_pct, runq_pct, sleep_pct;
  uint64_t timeslices;
  uint64_t ctx_vol, ctx_invol;
  double ctx_vol_rate, ctx_invol_rate;
  bool has_migrations;
  uint64_t migrations;
  double migrations_rate;
  uint64_t migrations_delta;
  uint64_t coro_switches; /* user-level switches it made (coro mode) */
  double coro_switches_rate;
  bool own; /* one of ours: tasks/steps/busy/doing valid */
  uint64_t tasks, steps;
  double tasks_rate, steps_rate, busy_pct;
  int doing_what;
  uint64_t doing_task;
  int doing_step;
  double runq_delta_s, oncpu_delta_s; /* over the period, for insights */
  /* Birth, CLOCK_MONOTONIC ns, 0 = unknown (null): see thread_birth.h. */
  uint64_t created_ns, first_run_ns;
  int created_by; /* TL_BIRTH_* */
  /* Tasks this thread holds now (own threads): a worker the one it runs,
   * a loop those waiting on its timers. */
  bool has_in_flight;
  uint64_t in_flight;
  /* Its steps of this update that timeline.steps does not carry. */
  uint64_t steps_left_out;
  /* Our locks (exec/shared_steps' wrapper clocks each wait), loop and
   * worker threads only: time waited in total and in the last period (a
   * part of sleep_pct), and the wait going on now (lock_wants -1: none;
   * since: CLOCK_MONOTONIC ns). observer/shared_obs fills them. */
  bool has_lock_wait, has_lock_wait_pct;
  double lock_wait_ms, lock_wait_pct;
  int lock_wants;
  uint64_t lock_wait_since_ns;
} tl_thread_snap;

typedef struct tl_core_snap {
  int cpu;
  double user_pct, sys_pct, iowait_pct, irq_pct, idle_pct;
  uint64_t steps;
  double steps_rate;
} tl_core_snap;

/* coro mode's figures (observer/coro_sample.c). */
typedef struct tl_coro_snap {
  uint64_t created, alive, suspended, runnable, switches, migrations;
  double switches_rate, migrations_rate;
  uint64_t stack_reserved_bytes, stack_resident_bytes;
  int stack_kib;
  int slice_ms;            /* the live --coro-slice-ms */
  const char *switch_name; /* the switch in use: "asm" | "ucontext" */
  uint64_t switch_ns;      /* of that switch; 0: unknown */
  uint64_t asm_ns, ucontext_ns, kernel_switch_ns; /* 0: unknown */
  tl_hist_snap wake_all, wake_period;             /* us */
} tl_coro_snap;

typedef struct tl_timeline_ev {
  int tid;
  tl_step_event ev;
} tl_timeline_ev;

typedef struct tl_insight {
  const char *level; /* "info" | "warn" */
  const char *id;
  char text[256];
  char evidence[256]; /* a JSON object */
} tl_insight;

typedef struct tl_snapshot {
  uint64_t seq;
  uint64_t start_ns; /* the server's monotonic start: timeline origin */
  double time_ms, uptime_ms, period_ms;
  bool stats_enabled;
  double sample_cost_ms; /* observer CPU time the previous sample took */
  int ncpu;
  long clk_tck;
  /* Run-queue wait is a number when the self-test saw the kernel account
   * it; the probe's figures and reason are the evidence either way. */
  bool runq_accounted;
  const tl_schedstat_probe *runq_probe;
  int task_delayacct; /* the sysctl: 0/1, -1 unreadable; decides nothing */
  int cpus_allowed;   /* cores the process may use (its mask), 0 unknown */
  char cpus_allowed_list[256];

  int pid;
  long threads_count;
  bool has_rss;
  uint64_t rss_bytes;
  double cpu_user_s, cpu_sys_s, cpu_user_pct, cpu_sys_pct;
  bool has_ctx;
  uint64_t ctx_vol, ctx_invol;
  double ctx_vol_rate, ctx_invol_rate;
  int fds;
  double fds_age_s; /* how old `fds` is (read every 10 s) */

  tl_thread_snap *threads;
  int nthreads;

  tl_core_snap cores[TL_SNAP_MAX_CORES];
  int ncores;

  int mode, pool_threads;
  bool pinned;
  /* cpulists: the CPUs workers may use (--cpus) and the process's mask. */
  char worker_cpus[256], inherited_cpus[256];
  uint64_t conn_open, accepted, refused;
  double accepted_rate;
  uint64_t requests;
  double requests_rate;
  uint64_t by_class[6];
  uint64_t by_route[TL_ROUTE_COUNT];
  double by_route_rate[TL_ROUTE_COUNT];
  tl_hist_snap *lat_all, *lat_period;     /* us */
  tl_hist_snap *route_all, *route_period; /* [TL_ROUTE_COUNT], us */
  tl_hist_snap *qwait_all, *qwait_period; /* us */
  tl_hist_snap *lag_all, *lag_period;     /* us */
  uint64_t queue_depth, queue_max, rejected, rejected_delta;
  bool send_uring;      /* responses go out in io_uring submissions */
  const char *send_why; /* why not (static string), NULL if they do */
  uint64_t send_submits, send_writes;
  double send_submits_rate, send_writes_rate;
  double send_writes_per_submit; /* over the period; -1 if no submission */
  bool has_loop_util;
  double loop_util_pct; /* mean over the loops */
  int nloops;
  tl_loop_snap loops[TL_SNAP_MAX_LOOPS];
  tl_processes procs; /* processes[]: keeps its own previous values */
  tl_costs costs;     /* measured once, at the first sample */

  tl_timeline_ev *timeline;
  int ntimeline;
  double timeline_from_ms, timeline_to_ms;
  bool timeline_sampled;
  uint64_t timeline_dropped;
  uint64_t timeline_left_out; /* this update: see steps_left_out */

  uint64_t block_task, block_us, block_route;
  double block_age_ms; /* since the sampler saw it; -1 if never */

  tl_insight insights[TL_SNAP_MAX_INSIGHTS];
  int ninsights;

  tl_coro_snap coro;

  tl_shared_obs shared; /* server.shared (observer/shared_obs) */

  /* The event log (observer/events.h), rendered as "events"; NULL:
   * none. Owned by the observer. */
  const struct tl_events *events;
  const struct tl_sched
      *sched; /* scheduler lanes (observer/sched.h), or NULL */
} tl_snapshot;

#endif
