/* test_sched_lockwait.c - blocked slices inside a lock step of their own
 * thread are marked, and nothing else: not a preempted end inside one,
 * not a blocked end of another thread, nor one just after the step. */
#include "observer/sched_lockwait.h"

#include <check.h>
#include "tl_check.h"
#include <string.h>

static tl_sched_slice mk(int tid, uint64_t end_ns, tl_sched_end end) {
  tl_sched_slice x;
  memset(&x, 0, sizeof x);
  x.tid = tid;
  x.start_ns = end_ns - 10;
  x.end_ns = end_ns;
  x.end = end;
  return x;
}

START_TEST(blocked_inside_a_lock_step_is_marked) {
  /* Given out of order: the function sorts them. */
  tl_sched_lockstep st[] = {
      {.tid = 7, .start_ns = 500, .end_ns = 600},
      {.tid = 5, .start_ns = 100, .end_ns = 200},
      {.tid = 5, .start_ns = 300, .end_ns = 400},
  };
  tl_sched_slice sl[] = {
      mk(5, 150, TL_SEND_BLOCKED),   /* in 5's first step */
      mk(5, 350, TL_SEND_BLOCKED),   /* in its second */
      mk(5, 250, TL_SEND_BLOCKED),   /* between them */
      mk(5, 400, TL_SEND_BLOCKED),   /* at the second's end: after it */
      mk(5, 160, TL_SEND_PREEMPTED), /* preempted holds no lock wait */
      mk(6, 150, TL_SEND_BLOCKED),   /* another thread, no steps */
      mk(7, 550, TL_SEND_BLOCKED),   /* 7's step */
      mk(7, 150, TL_SEND_BLOCKED),   /* 7 before its step (5's times) */
  };
  size_t n = sizeof sl / sizeof *sl;
  ck_assert_uint_eq(tl_sched_lockwait_mark(sl, n, st, 3), 3);
  const bool want[] = {true, true, false, false, false, false, true, false};
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(sl[i].on_lock == want[i], "slice %zu", i);
  ck_assert_uint_eq(tl_sched_lockwait_mark(sl, n, st, 0), 0);
}
END_TEST

/* A blocked end at the very nanosecond its step started is inside the
 * step (the step that starts last at or before the end); one at the same
 * time of another thread's step start is not (mutaudit3). */
START_TEST(blocked_at_its_steps_start_is_marked) {
  tl_sched_lockstep st[] = {
      {.tid = 5, .start_ns = 100, .end_ns = 200},
      {.tid = 9, .start_ns = 300, .end_ns = 400},
  };
  tl_sched_slice sl[] = {
      mk(5, 100, TL_SEND_BLOCKED), /* at 5's step start */
      mk(5, 99, TL_SEND_BLOCKED),  /* just before it */
      mk(8, 300, TL_SEND_BLOCKED), /* at 9's start: another thread */
  };
  ck_assert_uint_eq(tl_sched_lockwait_mark(sl, 3, st, 2), 1);
  ck_assert(sl[0].on_lock && !sl[1].on_lock && !sl[2].on_lock);
}
END_TEST

TL_CHECK_MAIN("sched_lockwait", blocked_inside_a_lock_step_is_marked,
              blocked_at_its_steps_start_is_marked)
