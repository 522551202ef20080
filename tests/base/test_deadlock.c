/* The deadlock finder on synthetic wait-for graphs: cycles of 2 and 3
 * found once each, starting at the smallest tid in wait order; a plain
 * waiter, a chain, and a wait on a free lock are no cycle. */
#include "config.h"

#include <check.h>
#include "tl_check.h"

#include "base/deadlock.h"

#define B(i) (1u << (i))

START_TEST(two_threads_crossed) {
  /* 20 holds lock 1 and wants 2; 10 holds 2 and wants 1. */
  tl_wait_node g[] = {{20, B(1), 2}, {10, B(2), 1}, {30, 0, -1}};
  tl_deadlock_cycle c[4];
  ck_assert_int_eq(tl_deadlock_find(g, 3, c, 4), 1);
  ck_assert_int_eq(c[0].len, 2);
  ck_assert_int_eq(g[c[0].node[0]].tid, 10);
  ck_assert_int_eq(g[c[0].node[1]].tid, 20);
}
END_TEST

START_TEST(three_threads_in_a_ring) {
  /* 7 -> (lock 2) 8 -> (lock 3) 9 -> (lock 1) 7, plus 5 waiting on 9's
   * lock from outside the ring: a waiter, not a member. */
  tl_wait_node g[] = {{9, B(3), 1}, {5, 0, 3}, {7, B(1), 2}, {8, B(2), 3}};
  tl_deadlock_cycle c[4];
  ck_assert_int_eq(tl_deadlock_find(g, 4, c, 4), 1);
  ck_assert_int_eq(c[0].len, 3);
  ck_assert_int_eq(g[c[0].node[0]].tid, 7);
  ck_assert_int_eq(g[c[0].node[1]].tid, 8);
  ck_assert_int_eq(g[c[0].node[2]].tid, 9);
}
END_TEST

START_TEST(plain_waiters_are_no_cycle) {
  /* 1 holds lock 0 and runs; 2 and 3 wait for it; 4 waits for 2's lock;
   * 5 waits for a lock nobody holds; 6 holds two locks and waits for none. */
  tl_wait_node g[] = {{1, B(0), -1}, {2, B(4), 0}, {3, 0, 0},
                      {4, 0, 4},     {5, 0, 6},    {6, B(1) | B(2), -1}};
  tl_deadlock_cycle c[4];
  ck_assert_int_eq(tl_deadlock_find(g, 6, c, 4), 0);
  ck_assert_int_eq(tl_deadlock_find(g, 0, c, 4), 0);
}
END_TEST

START_TEST(two_separate_cycles_and_cap) {
  tl_wait_node g[] = {{1, B(1), 2}, {2, B(2), 1}, {3, B(3), 4}, {4, B(4), 3}};
  tl_deadlock_cycle c[4];
  ck_assert_int_eq(tl_deadlock_find(g, 4, c, 4), 2);
  ck_assert_int_eq(g[c[0].node[0]].tid, 1);
  ck_assert_int_eq(g[c[1].node[0]].tid, 3);
  /* Only one written, both counted. */
  ck_assert_int_eq(tl_deadlock_find(g, 4, c, 1), 2);
}
END_TEST

/* A thread that wants a lock it already holds (a relock of a
 * non-recursive mutex) waits on itself: not a wait on another thread, so
 * no cycle between threads; a real cycle beside it is still found. */
START_TEST(a_wait_on_itself_is_no_cycle) {
  tl_wait_node g[] = {{4, B(1), 1}, {8, B(2) | B(3), 3}};
  tl_deadlock_cycle c[4];
  ck_assert_int_eq(tl_deadlock_find(g, 2, c, 4), 0);
  tl_wait_node h[] = {{4, B(1), 1}, {6, B(4), 5}, {5, B(5), 4}};
  ck_assert_int_eq(tl_deadlock_find(h, 3, c, 4), 1);
  ck_assert_int_eq(c[0].len, 2);
  ck_assert_int_eq(h[c[0].node[0]].tid, 5);
  ck_assert_int_eq(h[c[0].node[1]].tid, 6);
}
END_TEST

TL_CHECK_MAIN("deadlock", two_threads_crossed, three_threads_in_a_ring,
              plain_waiters_are_no_cycle, two_separate_cycles_and_cap,
              a_wait_on_itself_is_no_cycle)
