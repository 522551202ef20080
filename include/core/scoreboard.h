/* The scoreboard (Apache's word): one page of shared memory (MAP_SHARED,
 * created by the supervisor before it forks) with one slot per worker
 * process. A slot is written only by the worker that owns it (relaxed
 * atomics, one writer) and read by the supervisor, which also clears it
 * when that worker is dead. This is the IPC the dashboard shows as IPC:
 * no message, no system call per update, just memory both processes map.
 *
 * Threads: workers publish from their main loop; the supervisor reads on
 * its main loop and its observer. */
#ifndef TL_CORE_SCOREBOARD_H
#define TL_CORE_SCOREBOARD_H

#include <stdatomic.h>
#include <stdint.h>

#include "http/loop.h"
#include "runtime/config.h"

/* Workers and spares: a spare's slot becomes a worker's when promoted. */
#define TL_SCORE_SLOTS   (TL_MAX_PROCESSES + TL_MAX_SPARES)
/* Threads of a worker whose own figures it publishes (the rest show with
 * the kernel's figures only). */
#define TL_SCORE_THREADS 128

/* One of the worker's own threads (base/thread.h's figures). tid 0: an
 * empty entry. Each field is stored on its own: a reader may see a mix
 * of two publications, which moves a counter by at most one period. */
typedef struct tl_score_thread {
  _Atomic int tid, role, index;
  _Atomic uint64_t tasks, steps, busy_ns, doing, coro_switches, in_flight;
  _Atomic uint64_t created_ns, first_run_ns;
  /* Our locks (exec/shared_steps): total waited (ns), the lock it waits
   * for now + 1 (0: none) and since when (CLOCK_MONOTONIC). */
  _Atomic uint64_t lock_wait_ns, lock_wait_since_ns;
  _Atomic int lock_wants;
} tl_score_thread;

/* SPARE: a started spare, bound but not listening, waiting to be
 * promoted (then READY). */
enum {
  TL_SLOT_EMPTY = 0,
  TL_SLOT_STARTING,
  TL_SLOT_READY,
  TL_SLOT_DRAINING,
  TL_SLOT_SPARE
};

typedef struct tl_score_slot {
  _Alignas(64) _Atomic int pid;
  _Atomic int state;         /* TL_SLOT_* */
  _Atomic uint64_t ready_ns; /* CLOCK_MONOTONIC: listening and serving */
  _Atomic uint64_t accepted; /* totals since this worker started */
  _Atomic uint64_t requests;
  _Atomic uint64_t open;     /* connections open now */
  _Atomic uint64_t inflight; /* tasks running now */
  /* What a --processes supervisor shows as the one server's figures
   * (core/score_publish.h writes them, observer/process_sums.h reads). */
  _Atomic int nloops;
  _Atomic uint64_t queue_depth;
  _Atomic uint64_t main_start_ns; /* its main()'s first run */
  tl_loop_counters sums;          /* its loops' counters summed */
  _Atomic int nthreads;           /* entries of threads[] in use */
  tl_score_thread threads[TL_SCORE_THREADS];
  /* Shared memory (exec/shared_steps): the worker's counter, its virtual
   * address and physical page frame (0: hidden), and when its tasks were
   * found deadlocked (0: not), which makes the supervisor replace it. */
  _Atomic uint64_t shared_counter, shared_addr, shared_page;
  _Atomic uint64_t stuck_ns;
} tl_score_slot;

typedef struct tl_scoreboard {
  tl_score_slot slot[TL_SCORE_SLOTS];
} tl_scoreboard;

/* Supervisor, before forking: an anonymous shared file (memfd, close on
 * exec; the supervisor clears that flag for the one child that inherits
 * it) and its mapping. Returns 0 or a negative errno. */
int tl_scoreboard_init(tl_scoreboard **out, int *fd);
/* Worker: maps the inherited descriptor. */
int tl_scoreboard_attach(tl_scoreboard **out, int fd);

#endif
