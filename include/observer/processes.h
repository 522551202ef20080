/* processes[] in /stats: the supervisor and its workers (--processes N),
 * or the one server process, each read from /proc/PID (memory from
 * smaps_rollup: RSS, PSS, USS = private clean + dirty) and, for workers,
 * from the scoreboard. Observer thread only. */
#ifndef TL_OBSERVER_PROCESSES_H
#define TL_OBSERVER_PROCESSES_H

#include <stdbool.h>
#include <stdint.h>

#include "core/proc_table.h"
#include "core/scoreboard.h"

#define TL_SNAP_MAX_PROCS (TL_SCORE_SLOTS + 1)
#define TL_SNAP_PROC_TIDS 64

struct tl_server;

typedef struct tl_process_snap {
  int pid;           /* 0: a worker waiting to be restarted */
  int index;         /* worker (or spare) index, -1 otherwise */
  int slot;          /* its scoreboard slot, -1: none */
  const char *role;  /* "supervisor", "worker", "spare", "server" */
  const char *state; /* "running", "starting", "ready", "spare",
                          * "draining", "restarting" */
  double uptime_s;
  double ready_ms; /* fork -> serving; < 0 unknown */
  int restarts;
  bool has_exit;
  tl_proc_exit last_exit;
  double exit_ago_s;
  double replaced_ms; /* death -> its successor serving; < 0 unknown */
  bool has_proc;      /* /proc/PID was readable */
  bool has_mem;
  uint64_t rss_kb, pss_kb, uss_kb;
  double cpu_s, cpu_pct;
  uint64_t ctx_vol, ctx_invol;
  int fds;
  int nthreads;
  int tids[TL_SNAP_PROC_TIDS];
  /* When memory (smaps_rollup), fds and tids were last read (CLOCK_
   * MONOTONIC; 0: never): they are re-read every TL_PROC_SLOW_NS, and tids
   * also when the thread count changes; /stats says how old each is. */
  uint64_t mem_at_ns, fds_at_ns, tids_at_ns;
  bool has_counters;
  uint64_t accepted, requests, open, inflight;
  double requests_rate; /* over the time since the last read; < 0 unknown */
  /* Its shared counter (exec/shared_steps): value, virtual address, and
   * physical page frame (has_page false where the kernel hides it). */
  bool has_shared, has_page;
  uint64_t shared_counter, shared_addr, shared_page;
} tl_process_snap;

/* Costly with many threads (measured at --threads 1000: smaps_rollup walks
 * every thread's stack mapping, the fd listing every kept /proc file, the
 * task listing a dentry per thread): read this often only. */
#define TL_PROC_SLOW_NS 10000000000ull

typedef struct tl_proc_prev {
  int pid;
  uint64_t ticks;
  uint64_t requests;
  /* The slow figures as last read, reused until they are due. */
  bool has_mem;
  uint64_t rss_kb, pss_kb, uss_kb, mem_at_ns;
  int fds;
  uint64_t fds_at_ns;
  int nthreads;
  int tids[TL_SNAP_PROC_TIDS];
  uint64_t tids_at_ns;
} tl_proc_prev;

typedef struct tl_processes {
  int n;
  uint64_t at_ns; /* when this was sampled */
  tl_process_snap p[TL_SNAP_MAX_PROCS];
  bool supervised;
  uint64_t deaths;
  uint64_t total_accepted, total_requests; /* live + dead workers */
  tl_proc_prev prev[TL_SNAP_MAX_PROCS];
} tl_processes;

/* Fills out from the server's process table (or the process itself). */
void tl_processes_sample(const struct tl_server *srv, tl_processes *out,
                         double period_s);

#endif
