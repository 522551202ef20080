/* The shared-memory steps (race:N, atomic:N, lock:N, hold:MS, deadlock)
 * and the process-wide state they touch: one counter and three mutexes.
 *
 * Owner of that state: this module, for the whole process. The counter
 * lives alone in one page mapped at a fixed address (the same in every
 * process of a --processes fleet, so one virtual address visibly holds a
 * different value in each); `race` writes it without synchronisation on
 * purpose, `atomic` with atomic adds, `lock` under lock 0. Each lock is a
 * pthread mutex taken only through this module's wrapper, which publishes
 * its holder and waiters; each thread that ever waited or held one has a
 * slot written only by that thread (relaxed atomics) that says which locks
 * it holds and which it wants, so the observer can find a deadlock.
 *
 * Threads: the step bodies run on whichever thread runs the step (the loop
 * in async mode, a worker otherwise); tl_shared_read on the observer;
 * tl_shared_abandon on the main loop at shutdown. */
#ifndef TL_EXEC_SHARED_STEPS_H
#define TL_EXEC_SHARED_STEPS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/deadlock.h"
#include "base/steps.h"
#include "runtime/config.h"

/* Lock 0 serialises lock:N and hold:MS; the deadlock step takes locks 1
 * and 2 in opposite orders on alternate tasks. */
#define TL_SHARED_LOCKS             3
/* A slot for every thread of ours at once (the most workers, the most
 * loops, the main thread, the observer and a few more); a thread's slot is
 * freed when it exits and reused by the next one. */
#define TL_SHARED_MAX_THREADS       (TL_MAX_THREADS + TL_MAX_LOOPS + 8)
/* Where the counter's page goes in every process (MAP_FIXED_NOREPLACE):
 * high in the user half, a terabyte below where mmap places libraries, and
 * inside what ASan and TSan leave to the application (GCC 12's TSan maps
 * only 0x7e8000000000 and up there: a lower address kills it). */
#define TL_SHARED_COUNTER_ADDR      0x7ea000000000ull
/* The pause between the deadlock step's two acquisitions: long enough that
 * two tasks started together both hold their first lock, even when a
 * loaded machine starts the second a few hundred ms late. */
#define TL_SHARED_DEADLOCK_PAUSE_MS 300

/* Any thread running a step of kind race/atomic/lock/hold/deadlock: runs
 * it; hold burns its CPU with `burn` (exec/task's, passed in so that this
 * module does not depend on the task). Returns false if the step gave up a
 * lock wait (shutdown). */
bool tl_shared_run_step(const tl_step_spec *s, uint64_t (*burn)(uint32_t ms));
static inline bool tl_shared_is_step(int kind) {
  return kind >= TL_STEP_RACE && kind <= TL_STEP_DEADLOCK;
}

/* Main loop, at shutdown: every lock wait gives up within ~0.5 s, so
 * deadlocked threads end their step and can be joined. */
void tl_shared_abandon(void);

typedef struct tl_shared_lock_read {
  int holder_tid; /* 0: free */
  int waiters;    /* threads blocked in the wrapper now */
  uint64_t acquisitions;
  uint64_t contended; /* acquisitions that had to wait */
  uint64_t wait_ns;   /* total time waited, finished waits */
  uintptr_t addr;     /* the mutex: the futex a waiter sleeps on */
} tl_shared_lock_read;

typedef struct tl_shared_thread_read {
  int tid;
  int wants;              /* lock id it waits for, -1: none */
  unsigned holds;         /* bit i: holds lock i */
  uint64_t wait_since_ns; /* start of the current wait (monotonic) */
  uint64_t lock_wait_ns;  /* total, including the current wait */
} tl_shared_thread_read;

typedef struct tl_shared_read {
  uint64_t counter;
  uint64_t increments; /* done, counted ahead in chunks of 4096 */
  uint64_t running;    /* shared steps running now */
  uintptr_t counter_addr;
  bool counter_fixed; /* the page is at TL_SHARED_COUNTER_ADDR */
  tl_shared_lock_read locks[TL_SHARED_LOCKS];
  tl_shared_thread_read threads[TL_SHARED_MAX_THREADS];
  int nthreads;
} tl_shared_read;

/* Observer: a relaxed copy of everything (not one instant: the deadlock
 * finder confirms a cycle with a second read). `now` for current waits. */
void tl_shared_read_all(tl_shared_read *out, uint64_t now_ns);

/* Any thread (the observer for /stats threads[] and the lanes' "blocked
 * on lock"; a fleet worker's main loop for its scoreboard): what thread
 * `tid` publishes about our locks, from its owner-written slot (relaxed
 * atomics, read in an order that never pairs one wait's lock with another
 * wait's start). False when tid has no slot: it never took one of our
 * locks, or it has exited. out->wants >= 0: it is waiting now for that
 * lock, since out->wait_since_ns (CLOCK_MONOTONIC); lock_wait_ns includes
 * the current wait up to now_ns. */
bool tl_shared_thread_lock_state(int tid, uint64_t now_ns,
                                 tl_shared_thread_read *out);

/* Any thread: the counter now (relaxed) and its address. */
uint64_t tl_shared_counter_value(uintptr_t *addr);

/* A cycle found in read a (nodes in a's thread order) is real if read b,
 * taken later, shows every member still in the same wait (same start)
 * holding the same locks: all of them were then waiting at once. */
bool tl_shared_cycle_confirmed(const tl_shared_read *a, const tl_shared_read *b,
                               const tl_deadlock_cycle *c);

/* Any thread: the physical page frame behind the counter, from
 * /proc/self/pagemap; false when the kernel hides it (frame 0 without
 * CAP_SYS_ADMIN) or the page is absent. */
bool tl_shared_counter_page(uint64_t *pfn);

/* A worker process of a fleet, at start (main loop): where to say that
 * its tasks are deadlocked (its scoreboard slot). A thread waiting on one
 * of our locks then looks for a cycle it is in each time its wait times
 * out (every 0.5 s) and, once confirmed, stores the time there (CAS from
 * 0), so that the supervisor replaces the process. */
void tl_shared_set_stuck_flag(_Atomic uint64_t *flag);

#endif
