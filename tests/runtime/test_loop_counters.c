/* Unit tests: a loop's counters summed and copied (runtime/loop_ctx: the
 * observer's loop totals, a worker's scoreboard slot, the supervisor's
 * sums): every counter adds up, a histogram's max is the larger one, the
 * loop block shown is the longest recorded, and a copy is word for word. */
#include "config.h"

#include <check.h>
#include <stddef.h>
#include <string.h>

#include "tl_check.h"
#include "runtime/loop_ctx.h"

#define NWORDS (sizeof(tl_loop_counters) / sizeof(uint64_t))

static uint64_t *words(tl_loop_counters *c) { return (uint64_t *) (void *) c; }

static void mark_hist(bool *special, size_t off) {
  special[(off + offsetof(tl_hist, max)) / sizeof(uint64_t)] = true;
}

/* The words that are not plain sums: histogram maxima and the block. */
static void specials(bool *special) {
  mark_hist(special, offsetof(tl_loop_counters, latency_us));
  mark_hist(special, offsetof(tl_loop_counters, queue_wait_us));
  mark_hist(special, offsetof(tl_loop_counters, loop_lag_us));
  for (int r = 0; r < TL_ROUTE_COUNT; r++)
    mark_hist(special, offsetof(tl_loop_counters, route_latency_us) +
                           (size_t) r * sizeof(tl_hist));
  special[offsetof(tl_loop_counters, block_task) / sizeof(uint64_t)] = true;
  special[offsetof(tl_loop_counters, block_us) / sizeof(uint64_t)] = true;
  special[offsetof(tl_loop_counters, block_route) / sizeof(uint64_t)] = true;
}

START_TEST(every_counter_adds_up) {
  static tl_loop_counters a, b, d;
  bool special[NWORDS] = {0};
  specials(special);
  for (size_t i = 0; i < NWORDS; i++) {
    words(&a)[i] = i + 1;
    words(&b)[i] = 1000 * (i + 1);
  }
  memset(&d, 0, sizeof(d));
  tl_loop_counters_add(&d, &a);
  tl_loop_counters_add(&d, &b);
  for (size_t i = 0; i < NWORDS; i++)
    if (!special[i])
      ck_assert_msg(words(&d)[i] == 1001 * (i + 1),
                    "word %zu of %zu: %llu, not the sum %llu", i, NWORDS,
                    (unsigned long long) words(&d)[i],
                    (unsigned long long) (1001 * (i + 1)));
  /* Named ones too, in case the layout fooled the loop above. */
  ck_assert_uint_eq(atomic_load(&d.inflight), 1001 * atomic_load(&a.inflight));
  ck_assert_uint_eq(atomic_load(&d.rejected), 1001 * atomic_load(&a.rejected));
  ck_assert_uint_eq(atomic_load(&d.latency_us.count),
                    1001 * atomic_load(&a.latency_us.count));
}
END_TEST

START_TEST(max_and_block_are_the_largest) {
  static tl_loop_counters a, b, c, d;
  memset(&a, 0, sizeof(a));
  memset(&b, 0, sizeof(b));
  memset(&c, 0, sizeof(c));
  atomic_store(&a.latency_us.max, 500);
  atomic_store(&b.latency_us.max, 200);
  atomic_store(&a.block_seq, 1);
  atomic_store(&a.block_us, 900);
  atomic_store(&a.block_task, 7);
  atomic_store(&a.block_route, 2);
  atomic_store(&b.block_seq, 3);
  atomic_store(&b.block_us, 300);
  atomic_store(&b.block_task, 9);
  atomic_store(&b.block_route, 1);
  /* No block recorded (seq 0): its stale figures never win. */
  atomic_store(&c.block_us, 5000);
  atomic_store(&c.block_task, 11);
  const tl_loop_counters *orders[2][3] = {{&a, &b, &c}, {&c, &b, &a}};
  for (int o = 0; o < 2; o++) {
    memset(&d, 0, sizeof(d));
    for (int k = 0; k < 3; k++)
      tl_loop_counters_add(&d, orders[o][k]);
    ck_assert_uint_eq(atomic_load(&d.latency_us.max), 500);
    ck_assert_uint_eq(atomic_load(&d.block_seq), 4);
    ck_assert_uint_eq(atomic_load(&d.block_us), 900);
    ck_assert_uint_eq(atomic_load(&d.block_task), 7);
    ck_assert_uint_eq(atomic_load(&d.block_route), 2);
  }
}
END_TEST

START_TEST(copy_is_word_for_word) {
  static tl_loop_counters a, d;
  for (size_t i = 0; i < NWORDS; i++)
    words(&a)[i] = 3 * i + 1;
  memset(&d, 0xff, sizeof(d));
  tl_loop_counters_copy(&d, &a);
  ck_assert_int_eq(memcmp(&d, &a, sizeof(a)), 0);
}
END_TEST

TL_CHECK_MAIN("loop_counters", every_counter_adds_up,
              max_and_block_are_the_largest, copy_is_word_for_word)
