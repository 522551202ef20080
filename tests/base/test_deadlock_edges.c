/* The deadlock finder at its edges (mutaudit2): a cycle through lock 0
 * (the first lock the steps use) and a cycle longer than a cycle record
 * holds, which is cut to TL_DEADLOCK_MAX_LEN nodes, never more. */
#include "config.h"

#include <check.h>
#include "tl_check.h"

#include "base/deadlock.h"

#define B(i) (1u << (i))

START_TEST(a_cycle_through_lock_0) {
  /* 3 holds lock 0 and wants 1; 2 holds 1 and wants 0. */
  tl_wait_node g[] = {{3, B(0), 1}, {2, B(1), 0}};
  tl_deadlock_cycle c[2];
  ck_assert_int_eq(tl_deadlock_find(g, 2, c, 2), 1);
  ck_assert_int_eq(c[0].len, 2);
  ck_assert_int_eq(g[c[0].node[0]].tid, 2);
  ck_assert_int_eq(g[c[0].node[1]].tid, 3);
}
END_TEST

START_TEST(a_long_cycle_is_cut_to_its_record) {
  /* 20 threads in a ring: thread 100+i holds lock i, wants lock i+1. */
  enum { N = 20 };
  tl_wait_node g[N];
  for (int i = 0; i < N; i++)
    g[i] = (tl_wait_node){100 + i, B(i), (i + 1) % N};
  tl_deadlock_cycle c[1];
  ck_assert_int_eq(tl_deadlock_find(g, N, c, 1), 1);
  ck_assert_int_eq(c[0].len, TL_DEADLOCK_MAX_LEN);
  for (int k = 0; k < TL_DEADLOCK_MAX_LEN; k++)
    ck_assert_int_eq(g[c[0].node[k]].tid, 100 + k);
}
END_TEST

TL_CHECK_MAIN("deadlock_edges", a_cycle_through_lock_0,
              a_long_cycle_is_cut_to_its_record)
