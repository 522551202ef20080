/* One-shot timers with nanosecond deadlines on a libuv loop: a min-heap
 * behind one timerfd (absolute CLOCK_MONOTONIC). libuv's timers count whole
 * milliseconds from the loop's cached time, so an io:100 step lasted
 * anywhere from 99.5 to 101 ms; these fire at the deadline plus the
 * kernel's wake-up latency, never before it. Loop thread only. */
#ifndef TL_RUNTIME_HRTIMER_H
#define TL_RUNTIME_HRTIMER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct tl_hrtimer tl_hrtimer;

/* Embedded in its owner; zero-initialised means not armed. */
typedef struct tl_hrtimer_entry {
  uint64_t due_ns; /* CLOCK_MONOTONIC (tl_now_ns) */
  unsigned idx;    /* heap position + 1; 0 when not armed */
  void (*cb)(struct tl_hrtimer_entry *e);
} tl_hrtimer_entry;

/* Returns 0, or a negative errno (timerfd_create failed). */
int tl_hrtimer_init(tl_hrtimer **out, uv_loop_t *loop);
/* Stops watching and frees everything once libuv has closed the handle;
 * armed entries are dropped without their callbacks. */
void tl_hrtimer_close(tl_hrtimer *h);
/* Arms e (re-arms it if armed) to call cb(e) at due_ns. */
void tl_hrtimer_start(tl_hrtimer *h, tl_hrtimer_entry *e, uint64_t due_ns,
                      void (*cb)(tl_hrtimer_entry *e));
void tl_hrtimer_stop(tl_hrtimer *h, tl_hrtimer_entry *e);
/* From now on, stores the number of armed entries into *out (relaxed
 * atomic, written by this loop's thread only) whenever it changes. */
void tl_hrtimer_publish_count(tl_hrtimer *h, _Atomic uint64_t *out);

static inline bool tl_hrtimer_armed(const tl_hrtimer_entry *e) {
  return e->idx != 0;
}

#endif
