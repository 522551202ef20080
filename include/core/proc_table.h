/* What the supervisor knows of its worker processes, for /stats: written
 * by the supervisor's main loop, copied out by its observer, both under
 * `mu`. Absent (NULL) in a process that runs without --processes. */
#ifndef TL_CORE_PROC_TABLE_H
#define TL_CORE_PROC_TABLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/scoreboard.h"

typedef struct tl_proc_exit {
  int pid;
  char how[32];        /* "signal 11 (SIGSEGV)", "exit code 1" */
  uint64_t at_ns;      /* CLOCK_MONOTONIC */
  uint64_t conns_lost; /* connections open at its last report */
  uint64_t tasks_lost; /* tasks in flight at its last report */
  bool by_spare;       /* a spare took its place (else a fresh start) */
} tl_proc_exit;

/* e[0..n-1] are the workers, e[n..n+nspare-1] the spares. A spare that
 * takes worker i's place moves into e[i] with its scoreboard slot; the
 * dead worker's slot goes to the next spare: `slot` says whose is whose. */
typedef struct tl_proc_entry {
  int index;
  int slot;            /* its scoreboard slot */
  int pid;             /* 0 while waiting to be restarted */
  int state;           /* TL_SLOT_* as the supervisor sees it */
  uint64_t started_ns; /* fork, CLOCK_MONOTONIC */
  uint64_t ready_ns;   /* from the scoreboard; 0 until it serves */
  int restarts;
  bool has_exit;
  tl_proc_exit last_exit;
} tl_proc_entry;

typedef struct tl_proc_table {
  pthread_mutex_t mu;
  int supervisor_pid;
  int n;      /* workers */
  int nspare; /* spares, after them */
  tl_proc_entry e[TL_SCORE_SLOTS];
  /* Totals of the workers that died: live slot + history never goes
   * backwards. */
  uint64_t hist_accepted, hist_requests;
  uint64_t deaths;
  tl_scoreboard *board; /* immutable */
} tl_proc_table;

#endif
