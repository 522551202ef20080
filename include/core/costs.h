/* costs in /stats: what a process costs next to a thread, measured at
 * start (never typed in): medians over TL_COSTS_REPS repetitions of
 * fork -> child running, pthread_create -> thread running, a one-byte
 * round trip over a socketpair between two processes, and a handoff
 * between two threads through shared memory (mutex + condvar, i.e. futex);
 * plus the resident size of a new thread's stack (smaps), and the private
 * memory a thread and a process add (smaps_rollup).
 *
 * The measuring runs in a probe process forked from the main thread
 * before the server starts any thread, so that its threads and switches
 * are not the server's, and so that it may create threads after fork; it
 * runs at nice 19 so that it never slows the server down.
 * The observer collects the result (tl_costs_collect) when it is ready. */
#ifndef TL_CORE_COSTS_H
#define TL_CORE_COSTS_H

#include <stdbool.h>
#include <stdint.h>

#define TL_COSTS_REPS 100

typedef struct tl_costs {
  bool measured;
  int reps;
  double at_uptime_s; /* when it was measured */
  bool has_fork;
  double fork_us; /* fork() -> the child runs (writes a pipe) */
  bool has_thread;
  double thread_us; /* pthread_create() -> the thread runs */
  bool has_ipc;
  double ipc_rtt_us; /* 1 byte there and back, socketpair, 2 processes */
  bool has_shm;
  double shm_rtt_us; /* there and back between 2 threads, condvar */
  /* Each figure's spread over the repetitions: its 10th and 90th
   * percentiles (so that two figures within each other's are told apart
   * from a real difference). */
  double fork_spread_us[2], thread_spread_us[2], ipc_spread_us[2],
      shm_spread_us[2];
  /* Private memory (smaps_rollup Private_Clean + Private_Dirty, KiB)
   * added per unit started and waiting: a thread (its process's, before
   * vs after) and a process (its own); medians of the rounds with their
   * 10th and 90th percentiles. */
  bool has_mem_thread, has_mem_process;
  double thread_private_kb, thread_private_spread_kb[2];
  double process_private_kb, process_private_spread_kb[2];
  bool has_stack;
  uint64_t thread_stack_rss_kb;  /* a new thread's stack, resident */
  uint64_t thread_stack_size_kb; /* its mapping */
} tl_costs;

/* Main thread, while the process has one thread: forks the probe.
 * Returns the read end of its pipe (non-blocking, close on exec) and its
 * pid, or -1. */
int tl_costs_start(int *pid);
/* Any one thread (the observer): true once the probe's result is in out
 * (then fd is closed and the probe reaped). */
bool tl_costs_collect(int fd, int pid, tl_costs *out);

#endif
