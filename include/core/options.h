/* Command-line configuration of the server: parsed on the main thread at
 * start, immutable afterwards (the server keeps its own copy). */
#ifndef TL_CORE_OPTIONS_H
#define TL_CORE_OPTIONS_H

#include <sched.h>
#include <stdbool.h>
#include <stdio.h>

#include "base/mode.h"

#define TL_MAX_THREADS 1024
#define TL_MAX_LOOPS 64
#define TL_MAX_PROCESSES 64

typedef struct tl_config {
  char host[64];
  int port;            /* workload listener; 0 = ephemeral */
  int admin_port;      /* observer listener; 0 = ephemeral, -1 = off */
  tl_mode mode;
  int threads;         /* pool size */
  bool pin;
  bool has_cpus;       /* --cpus given: workers run on `cpus` only */
  cpu_set_t cpus;
  char docroot[4096];  /* for /static/ */
  char www[4096];      /* the dashboard's files */
  int sample_ms;
  bool no_stats;
  int max_conns;
  int queue_max;
  int max_header_bytes;
  long max_body_bytes;
  long body_min_rate;  /* bytes/s a request body must keep up; 0 = off */
  int header_timeout_ms;
  int idle_timeout_ms;
  int shutdown_timeout_ms;
  bool no_uring;       /* one write per connection, no io_uring batching */
  bool quiet;          /* no startup banner */
  /* coro mode */
  int coro_stack_kib;  /* each coroutine's stack (plus a guard page) */
  int coro_slice_ms;   /* a CPU step yields after this much CPU; 0 = never */
  int coro_switch;     /* tl_switch_kind: asm or ucontext */
  int loops;           /* event-loop threads, each with its own listener */
  int processes;       /* worker processes under a supervisor; 0 = none */
  bool allow_crash;    /* the `crash` step may kill the process */
  int sched_trace;     /* TL_SCHED_TRACE_*: --sched-trace (auto) */
  /* Hidden: this process is worker `worker_index` of a supervisor, whose
   * scoreboard and channel it inherited as these descriptors (-1: not). */
  int worker_index;
  int worker_shm_fd;
  int worker_chan_fd;
} tl_config;

enum { TL_SCHED_TRACE_AUTO, TL_SCHED_TRACE_OFF, TL_SCHED_TRACE_ON };

/* Fills defaults (threads = online cores, docroot = installed or in-tree www). */
void tl_config_defaults(tl_config *cfg);

/* Parses argv. Returns 0 to run, 1 when --help/--version was printed to
 * `out` (exit 0), -1 after printing an error to `err` (exit 2). */
int tl_config_parse(tl_config *cfg, int argc, char **argv, FILE *out,
                    FILE *err);

void tl_config_usage(FILE *out);

#endif
