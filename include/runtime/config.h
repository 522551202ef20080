/* The process's configuration: the parsed command line (core/options.h
 * parses it), immutable once the server starts (the server keeps its own
 * copy; loops and tasks read it through their tl_loop_ctx), and the role
 * it gives the process. Any thread. */
#ifndef TL_RUNTIME_CONFIG_H
#define TL_RUNTIME_CONFIG_H

#include <sched.h>
#include <stdbool.h>

#include "base/mode.h"

#define TL_MAX_THREADS   1024
#define TL_MAX_LOOPS     64
#define TL_MAX_PROCESSES 64
#define TL_MAX_SPARES    4

typedef struct tl_config {
  char host[64];
  int port;       /* workload listener; 0 = ephemeral */
  int admin_port; /* observer listener; 0 = ephemeral, -1 = off */
  tl_mode mode;
  int threads; /* pool size */
  bool pin;
  bool has_cpus; /* --cpus given: workers run on `cpus` only */
  cpu_set_t cpus;
  char docroot[4096]; /* for /static/ */
  char www[4096];     /* the dashboard's files */
  int sample_ms;
  bool no_stats;
  int max_conns;
  int queue_max;
  int max_header_bytes;
  long max_body_bytes;
  long body_min_rate; /* bytes/s a request body must keep up; 0 = off */
  int header_timeout_ms;
  int idle_timeout_ms;
  int shutdown_timeout_ms;
  bool no_uring; /* one write per connection, no io_uring batching */
  bool quiet;    /* no startup banner */
  /* coro mode */
  int coro_stack_kib;  /* each coroutine's stack (plus a guard page) */
  int coro_slice_ms;   /* a CPU step yields after this much CPU; 0 = never */
  int coro_switch;     /* tl_switch_kind: asm or ucontext */
  int loops;           /* event-loop threads, each with its own listener */
  int processes;       /* worker processes under a supervisor; 0 = none */
  int spare_workers;   /* pre-started spare workers (--processes only) */
  bool allow_crash;    /* the `crash` step may kill the process */
  bool allow_deadlock; /* the `deadlock` step may hang two threads */
  int sched_trace;     /* TL_SCHED_TRACE_*: --sched-trace (auto) */
  /* Hidden: this process is worker `worker_index` of a supervisor, whose
   * scoreboard and channel it inherited as these descriptors (-1: not). */
  int worker_index;
  int worker_shm_fd;
  int worker_chan_fd;
  bool worker_spare; /* started as a spare: bound, not listening, until
                        * the supervisor promotes it */
} tl_config;

enum { TL_SCHED_TRACE_AUTO, TL_SCHED_TRACE_OFF, TL_SCHED_TRACE_ON };

/* What this process is: the one server (no --processes), a supervisor
 * of worker processes (no loop, no pool: it observes and forwards), or one
 * of those workers. */
typedef enum tl_proc_role {
  TL_PROC_SINGLE,
  TL_PROC_SUPERVISOR,
  TL_PROC_WORKER,
} tl_proc_role;

/* The role cfg gives the process. */
tl_proc_role tl_config_role(const tl_config *cfg);

#endif
