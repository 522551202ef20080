/* Unit tests: the per-thread step ring (one producer, one consumer). */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tl_check.h"
#include "base/thread.h"

/* Every field of event i is a function of i, so a torn event (fields from
 * two different events) shows as a mismatch. The hash spreads i over all
 * of core/kind/step/route, so events a whole number of laps apart differ. */
static uint64_t mix(uint64_t i) {
  uint64_t h = (i + 1) * 0x9e3779b97f4a7c15ull;
  return h ^ (h >> 29);
}

static tl_step_event event_of(uint64_t i) {
  uint64_t h = mix(i);
  return (tl_step_event){.task = i,
                         .start_ns = i * 3,
                         .end_ns = i * 3 + 1,
                         .core = (int) (h & 0xffff),
                         .kind = (int) ((h >> 16) & 0xff),
                         .step = (int) ((h >> 24) & 0xff),
                         .route = (int) ((h >> 32) & 0xff),
                         .cpu_ns = h >> 20,
                         .coro = h >> 30,
                         .stack = h << 12};
}

static bool event_is(const tl_step_event *e, uint64_t i) {
  tl_step_event w = event_of(i);
  return e->task == w.task && e->start_ns == w.start_ns &&
         e->end_ns == w.end_ns && e->core == w.core && e->kind == w.kind &&
         e->step == w.step && e->route == w.route && e->cpu_ns == w.cpu_ns &&
         e->coro == w.coro && e->stack == w.stack;
}

/* The context is 40 KB: keep it off the stack. */
static tl_thread_ctx *new_ctx(void) {
  tl_thread_ctx *c = calloc(1, sizeof(*c));
  ck_assert_ptr_nonnull(c);
  return c;
}

static void record_range(tl_thread_ctx *c, uint64_t from, uint64_t to) {
  for (uint64_t i = from; i < to; i++) {
    tl_step_event e = event_of(i);
    tl_thread_record_step(c, &e);
  }
}

/* Drains and checks that it returns events first..end-1, intact and in
 * order, with none dropped. */
static void expect_drain(tl_thread_ctx *c, uint64_t first, uint64_t end) {
  static tl_step_event out[TL_RING_SIZE];
  uint64_t dropped = 0;
  int n = tl_thread_drain_steps(c, out, TL_RING_SIZE, &dropped);
  ck_assert_int_eq(n, (int) (end - first));
  ck_assert_uint_eq(dropped, 0);
  for (int k = 0; k < n; k++)
    ck_assert_msg(event_is(&out[k], first + (uint64_t) k),
                  "event %d: task %llu, want %llu", k,
                  (unsigned long long) out[k].task,
                  (unsigned long long) (first + (uint64_t) k));
}

/* ---- single thread ------------------------------------------------------ */

START_TEST(ring_drains_in_order) {
  tl_thread_ctx *c = new_ctx();
  tl_step_event out[TL_RING_SIZE];
  uint64_t dropped = 0;
  ck_assert_int_eq(tl_thread_drain_steps(c, out, TL_RING_SIZE, &dropped), 0);
  record_range(c, 0, 10);
  expect_drain(c, 0, 10);
  /* Drained events are not returned again; new ones follow on. */
  ck_assert_int_eq(tl_thread_drain_steps(c, out, TL_RING_SIZE, &dropped), 0);
  record_range(c, 10, 10 + TL_RING_SIZE);
  expect_drain(c, 10, 10 + TL_RING_SIZE);
  ck_assert_uint_eq(dropped, 0);
  free(c);
}
END_TEST

START_TEST(ring_overwrite_counts_dropped) {
  tl_thread_ctx *c = new_ctx();
  static tl_step_event out[TL_RING_SIZE];
  uint64_t total = 3 * TL_RING_SIZE + 5, dropped = 7;
  record_range(c, 0, total);
  int n = tl_thread_drain_steps(c, out, TL_RING_SIZE, &dropped);
  ck_assert_int_eq(n, TL_RING_SIZE);
  /* Added to what was there, not assigned. */
  ck_assert_uint_eq(dropped, 7 + total - TL_RING_SIZE);
  for (int k = 0; k < n; k++)
    ck_assert(event_is(&out[k], total - TL_RING_SIZE + (uint64_t) k));
  /* A partial lap afterwards: only the overrun part is lost. */
  dropped = 0;
  record_range(c, total, total + TL_RING_SIZE + 3);
  n = tl_thread_drain_steps(c, out, TL_RING_SIZE, &dropped);
  ck_assert_int_eq(n, TL_RING_SIZE);
  ck_assert_uint_eq(dropped, 3);
  ck_assert(event_is(&out[0], total + 3));
  free(c);
}
END_TEST

START_TEST(ring_cap_keeps_newest) {
  tl_thread_ctx *c = new_ctx();
  tl_step_event out[30];
  uint64_t dropped = 0;
  record_range(c, 0, 100);
  int n = tl_thread_drain_steps(c, out, 30, &dropped);
  ck_assert_int_eq(n, 30);
  ck_assert_uint_eq(dropped, 70);
  for (int k = 0; k < n; k++)
    ck_assert(event_is(&out[k], 70 + (uint64_t) k));
  ck_assert_int_eq(tl_thread_drain_steps(c, out, 30, &dropped), 0);
  /* No room at all: everything pending counts as dropped. */
  record_range(c, 100, 105);
  ck_assert_int_eq(tl_thread_drain_steps(c, out, 0, &dropped), 0);
  ck_assert_uint_eq(dropped, 75);
  free(c);
}
END_TEST

/* White box: a slot the producer is rewriting (odd seq, head not yet
 * moved), or that holds a later lap, is dropped on its own; its
 * neighbours are kept. This is what the concurrent test hits by chance. */
START_TEST(ring_drops_slot_being_rewritten) {
  tl_thread_ctx *c = new_ctx();
  static tl_step_event out[TL_RING_SIZE];
  uint64_t dropped = 0;
  record_range(c, 0, TL_RING_SIZE);
  atomic_store(&c->ring[3].seq, 2 * (3 + TL_RING_SIZE) + 1);
  atomic_store(&c->ring[5].task, 12345);
  atomic_store(&c->ring[5].seq, 2 * (5 + TL_RING_SIZE) + 2);
  int n = tl_thread_drain_steps(c, out, TL_RING_SIZE, &dropped);
  ck_assert_int_eq(n, TL_RING_SIZE - 2);
  ck_assert_uint_eq(dropped, 2);
  for (int k = 0, i = 0; k < n; k++, i++) {
    if (i == 3 || i == 5)
      i++;
    ck_assert(event_is(&out[k], (uint64_t) i));
  }
  free(c);
}
END_TEST

/* ---- one producer, one consumer ---------------------------------------- */

/* Millions, so that the producer laps the consumer mid-copy many times;
 * fewer under TSan (GCC's __SANITIZE_THREAD__), which is there to look for
 * data races, not to count tears, and runs this some 20 times slower. */
#ifdef __SANITIZE_THREAD__
#define PRODUCE 1000000u
#else
#define PRODUCE 4000000u
#endif
_Static_assert(PRODUCE % 64 == 0, "produced in batches of 64");

typedef struct race {
  tl_thread_ctx *ctx;
  atomic_bool done;
  _Atomic uint64_t progress; /* the consumer has drained up to here */
} race;

/* Left alone, the producer laps the consumer many times per drain (the
 * consumer checks every event, the producer only stores), and on a busy
 * machine the two rarely run at the same moment. Half the time it runs
 * free; the other half it stays at most about one ring ahead of what the
 * consumer has drained, so that each drain starts on the slots the
 * producer is about to rewrite: the race a torn read needs. */
static void *producer(void *arg) {
  race *r = arg;
  for (uint64_t i = 0; i < PRODUCE; i += 64) {
    for (int spin = 0; ((i >> 16) & 1) &&
                       i - atomic_load(&r->progress) > TL_RING_SIZE * 5 / 4;
         spin++)
      if (spin > 1000) /* the consumer is not running: let it */
        sched_yield();
    record_range(r->ctx, i, i + 64);
  }
  atomic_store(&r->done, true);
  return NULL;
}

/* Counts torn and out-of-order events in one drained batch. No ck_assert
 * per event here: each passing one costs Check a write to its pipe. */
static void check_batch(const tl_step_event *out, int n, uint64_t *next,
                        uint64_t *torn, uint64_t *backwards) {
  for (int k = 0; k < n; k++) {
    uint64_t i = out[k].task;
    if (!event_is(&out[k], i))
      (*torn)++;
    if (i < *next)
      (*backwards)++;
    *next = i + 1;
  }
}

START_TEST(ring_concurrent_no_torn_events) {
  race r = {.ctx = new_ctx()};
  static tl_step_event out[TL_RING_SIZE];
  uint64_t dropped = 0, seen = 0, torn = 0, backwards = 0, next = 0;
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, producer, &r), 0);
  bool last = false;
  while (!last) {
    /* One more drain after the producer is done picks up the rest. */
    last = atomic_load(&r.done);
    /* Read here rather than summed from the results, so that a ring that
     * miscounts fails the count check below instead of stalling this. */
    uint64_t head = atomic_load(&r.ctx->ring_head);
    int n = tl_thread_drain_steps(r.ctx, out, TL_RING_SIZE, &dropped);
    check_batch(out, n, &next, &torn, &backwards);
    seen += (uint64_t) n;
    atomic_store(&r.progress, head);
  }
  pthread_join(t, NULL);
  ck_assert_msg(torn == 0 && backwards == 0,
                "%llu torn, %llu out of order, in %llu seen",
                (unsigned long long) torn, (unsigned long long) backwards,
                (unsigned long long) seen);
  ck_assert_uint_eq(seen + dropped, PRODUCE);
  ck_assert_uint_gt(seen, 0);
  free(r.ctx);
}
END_TEST

/* The registry's generation moves on every add and every remove (the
 * sampler rebuilds its index of our threads only when it moved), and not
 * for a remove of a context that is not registered. */
START_TEST(registry_generation_moves) {
  tl_registry reg;
  tl_registry_init(&reg);
  tl_thread_ctx *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
  uint64_t g = reg.gen;
  tl_registry_add(&reg, a);
  ck_assert_uint_eq(reg.gen, g + 1);
  tl_registry_add(&reg, b);
  ck_assert_uint_eq(reg.gen, g + 2);
  tl_registry_remove(&reg, a);
  ck_assert_uint_eq(reg.gen, g + 3);
  ck_assert_ptr_eq(reg.head, b);
  tl_registry_remove(&reg, a); /* no longer there: nothing changed */
  ck_assert_uint_eq(reg.gen, g + 3);
  tl_registry_remove(&reg, b);
  ck_assert_uint_eq(reg.gen, g + 4);
  ck_assert_ptr_null(reg.head);
  tl_registry_close(&reg);
  free(a);
  free(b);
}
END_TEST

TL_CHECK_MAIN("thread", ring_drains_in_order, ring_overwrite_counts_dropped,
              ring_cap_keeps_newest, ring_drops_slot_being_rewritten,
              ring_concurrent_no_torn_events, registry_generation_moves)
