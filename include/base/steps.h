/* A task is a list of steps: "cpu:MS" burns MS ms of the running thread's
 * own CPU time, "io:MS" waits MS ms without using CPU. Parsing is pure:
 * any thread. */
#ifndef TL_BASE_STEPS_H
#define TL_BASE_STEPS_H

#include <stddef.h>
#include <stdint.h>

#define TL_MAX_STEPS   32
#define TL_MAX_STEP_MS 10000

#define TL_MAX_STEP_COUNT 100000000u

/* "yield" (or "yield:0"): give the thread to others at once; in coro
 * mode the coroutine suspends and is requeued, elsewhere a sched_yield.
 * "crash" kills the process that runs it (only with --allow-crash).
 * The shared-memory steps (exec/shared_steps): "race:N", "atomic:N",
 * "lock:N" increment the process-wide counter N times (N a count, not ms),
 * "hold:MS" holds the process-wide mutex for MS ms of CPU, "deadlock"
 * takes two locks in alternating order (only with --allow-deadlock). */
typedef enum tl_step_kind {
  TL_STEP_CPU = 0,
  TL_STEP_IO = 1,
  TL_STEP_YIELD = 2,
  TL_STEP_CRASH = 3,
  TL_STEP_RACE = 4,
  TL_STEP_ATOMIC = 5,
  TL_STEP_LOCK = 6,
  TL_STEP_HOLD = 7,
  TL_STEP_DEADLOCK = 8
} tl_step_kind;

typedef struct tl_step_spec {
  uint8_t kind; /* tl_step_kind */
  uint32_t ms;  /* 0..TL_MAX_STEP_MS; race/atomic/lock: the count N */
} tl_step_spec;

/* race, atomic and lock take a count, not a duration. */
static inline int tl_step_is_count(int kind) {
  return kind == TL_STEP_RACE || kind == TL_STEP_ATOMIC || kind == TL_STEP_LOCK;
}

/* Parses "cpu:2,io:50,yield,cpu:2,race:1000" (or a bare "crash", "deadlock") into out (at most TL_MAX_STEPS). Returns the
 * number of steps (>= 1), or -1 with *err set to a static message. */
int tl_steps_parse(const char *s, size_t len, tl_step_spec *out,
                   const char **err);

/* The steps of a request from its query: with single_kind < 0 the list in
 * "steps=..." (/task), else one step of that kind lasting "ms=N" (/cpu,
 * /io). Returns the count (>= 1), or -1 with *err a static message. */
int tl_steps_from_query(const char *q, size_t qlen, int single_kind,
                        tl_step_spec *out, const char **err);

const char *tl_step_kind_name(int kind);

#endif
