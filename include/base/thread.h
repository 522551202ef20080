/* Our own threads (the loop, the workers, the observer) and what each one
 * publishes about itself. Every counter here has exactly one writer, the
 * thread it describes; the observer reads them lock-free (relaxed atomics,
 * cache-line separated so that writers do not share lines). */
#ifndef TL_BASE_THREAD_H
#define TL_BASE_THREAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum tl_role {
  TL_ROLE_LOOP = 0,
  TL_ROLE_WORKER,
  TL_ROLE_OBSERVER,
  TL_ROLE_LIBUV,
  TL_ROLE_OTHER
} tl_role;

const char *tl_role_name(tl_role r);

typedef enum tl_doing {
  TL_DOING_IDLE = 0, /* waiting for work */
  TL_DOING_CPU,      /* running a cpu step */
  TL_DOING_IO,       /* blocked in an io step (pool mode) */
  TL_DOING_WAIT, /* running a task between steps (e.g. building a response) */
  TL_DOING_LOOP  /* the loop thread handling events */
} tl_doing;

const char *tl_doing_name(tl_doing d);

/* Timeline ring: one slot per finished step, overwritten when full.
 * Single producer (the owning thread), single consumer (the observer).
 * Each slot is a seqlock tagged with the ring index it holds: seq is
 * 2*index+1 while the producer writes the slot and 2*index+2 once the
 * fields are complete, so the consumer can tell, slot by slot, whether it
 * read exactly the event it expected and drop it otherwise. */
#define TL_RING_SIZE 1024

typedef struct tl_ring_slot {
  _Atomic uint64_t seq;
  _Atomic uint64_t task;
  _Atomic uint64_t start_ns;
  _Atomic uint64_t end_ns;
  _Atomic uint64_t meta;   /* core (16) | kind (8) | step (8) | route (8) */
  _Atomic uint64_t cpu_ns; /* the step's thread CPU clock */
  _Atomic uint64_t coro;   /* coro mode: coroutine id and stack base (else 0) */
  _Atomic uint64_t stack;
} tl_ring_slot;

typedef struct tl_step_event {
  uint64_t task, start_ns, end_ns;
  int core;
  int kind, step, route;
  uint64_t cpu_ns;
  uint64_t coro, stack;
} tl_step_event;

typedef struct tl_thread_ctx {
  /* Identity: written before tl_registry_add, read-only afterwards. */
  int tid;
  tl_role role;
  int index;      /* worker index, -1 otherwise */
  char label[16]; /* "loop", "worker-3", "observer": X-Thread header */
  /* Birth (CLOCK_MONOTONIC ns, 0 = unknown): created_ns is when the
   * creating thread asked for this one (read just before pthread_create),
   * first_run_ns when this thread first ran (read by itself, first thing
   * in its start routine; for the main thread, main()'s entry). Atomic:
   * a loop thread sets them just after it registered. */
  _Atomic uint64_t created_ns, first_run_ns;
  struct tl_thread_ctx *next; /* registry list, under the registry mutex */

  /* Owner-written counters. */
  _Alignas(64) _Atomic uint64_t tasks;
  _Atomic uint64_t steps;
  _Atomic uint64_t busy_ns;
  _Atomic uint64_t doing; /* what (8) | step (8) | task (48) */
  _Atomic uint64_t doing_since_ns;
  _Atomic uint64_t coro_switches; /* user-level switches (coro mode) */
  /* Tasks this thread holds now: a worker 0 or 1 (the job it runs); a
   * loop the tasks waiting on its timers (http/hrtimer). */
  _Atomic uint64_t in_flight;

  _Alignas(64) _Atomic uint64_t ring_head; /* producer: this thread */
  tl_ring_slot ring[TL_RING_SIZE];
  _Alignas(64) uint64_t ring_tail; /* consumer: the observer only */
} tl_thread_ctx;

/* Sets up identity (tid from gettid) and, for workers/observer, the kernel
 * thread name via pthread_setname_np; binds ctx to the calling thread. */
void tl_thread_ctx_init(tl_thread_ctx *ctx, tl_role role, int index,
                        const char *label, const char *kernel_name);
/* Records the birth times (see tl_thread_ctx); the thread itself, after
 * tl_thread_ctx_init. */
void tl_thread_ctx_set_birth(tl_thread_ctx *ctx, uint64_t created_ns,
                             uint64_t first_run_ns);
/* main(), first thing: when the main thread first ran our code; the
 * main thread's context (tl_thread_ctx_init on it) takes it as its
 * first_run_ns. */
void tl_thread_note_main_start(void);
/* When main() noted its start (0: never). */
uint64_t tl_thread_main_start_ns(void);
/* The calling thread's context, or NULL for threads that are not ours. */
tl_thread_ctx *tl_thread_self(void);

void tl_thread_set_doing(tl_thread_ctx *ctx, tl_doing what, uint64_t task,
                         int step);
/* Producer side: record one finished step (owner thread only). */
void tl_thread_record_step(tl_thread_ctx *ctx, const tl_step_event *ev);
/* Consumer side (one observer): copies out events not yet drained, oldest
 * first, at most cap (the newest cap); returns the count and adds every
 * event not copied out (overwritten, or beyond cap) to *dropped, so each
 * recorded event is counted once, either returned or dropped. */
int tl_thread_drain_steps(tl_thread_ctx *ctx, tl_step_event *out, int cap,
                          uint64_t *dropped);

/* The list of our live threads, for the observer. */
typedef struct tl_registry {
  pthread_mutex_t mu;
  tl_thread_ctx *head;
  /* Under mu: bumped by every add and remove, so that a reader can tell
   * "the same threads" without walking the list. */
  uint64_t gen;
} tl_registry;

void tl_registry_init(tl_registry *r);
void tl_registry_close(tl_registry *r);
void tl_registry_add(tl_registry *r, tl_thread_ctx *ctx);
void tl_registry_remove(tl_registry *r, tl_thread_ctx *ctx);

#endif
