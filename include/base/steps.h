/* A task is a list of steps: "cpu:MS" burns MS ms of the running thread's
 * own CPU time, "io:MS" waits MS ms without using CPU. Parsing is pure:
 * any thread. */
#ifndef TL_BASE_STEPS_H
#define TL_BASE_STEPS_H

#include <stddef.h>
#include <stdint.h>

#define TL_MAX_STEPS 32
#define TL_MAX_STEP_MS 10000

/* "yield" (or "yield:0"): give the thread to others at once; in coro
 * mode the coroutine suspends and is requeued, elsewhere a sched_yield.
 * "crash" kills the process that runs it (only with --allow-crash). */
typedef enum tl_step_kind {
  TL_STEP_CPU = 0,
  TL_STEP_IO = 1,
  TL_STEP_YIELD = 2,
  TL_STEP_CRASH = 3
} tl_step_kind;

typedef struct tl_step_spec {
  uint8_t kind;   /* tl_step_kind */
  uint32_t ms;    /* 0..TL_MAX_STEP_MS */
} tl_step_spec;

/* Parses "cpu:2,io:50,yield,cpu:2" (or a bare "crash") into out (at most TL_MAX_STEPS). Returns the
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
