/* Unit tests: The timer heap: deadline order, never early, stop and re-arm, arming
 * from a callback. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tl_check.h"
#include "runtime/hrtimer.h"
#include "base/util.h"

/* ---- timer heap ------------------------------------------------------- */

enum { NT = 300 };
typedef struct {
  tl_hrtimer_entry e;
  uint64_t fired_ns;
  int fired;
} tt;
static uint64_t last_due;
static int out_of_order, fired_total;
static tl_hrtimer *tt_hrt;
static tt *tt_restart_target;

static void tt_cb(tl_hrtimer_entry *e) {
  tt *t = TL_CONTAINER_OF(e, tt, e);
  t->fired_ns = tl_now_ns();
  t->fired++;
  if (e->due_ns < last_due)
    out_of_order++;
  last_due = e->due_ns;
  fired_total++;
  /* A callback may arm another timer: it joins the heap. */
  if (tt_restart_target) {
    tt *r = tt_restart_target;
    tt_restart_target = NULL;
    tl_hrtimer_start(tt_hrt, &r->e, tl_now_ns() + 2000000, tt_cb);
  }
}

/* 300 timers at random deadlines over 30 ms, a third stopped, some moved:
 * each live one fires exactly once, never before its deadline, in deadline
 * order; stopped ones never. */
START_TEST(hrtimer_heap_orders_and_never_fires_early) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  ck_assert_int_eq(tl_hrtimer_init(&tt_hrt, &loop), 0);
  static tt ts[NT + 1];
  memset(ts, 0, sizeof(ts));
  srand(42);
  uint64_t now = tl_now_ns();
  for (int i = 0; i < NT; i++)
    tl_hrtimer_start(tt_hrt, &ts[i].e, now + (uint64_t) (rand() % 30000) * 1000,
                     tt_cb);
  int live = NT;
  for (int i = 0; i < NT; i += 3) {
    tl_hrtimer_stop(tt_hrt, &ts[i].e);
    ck_assert(!tl_hrtimer_armed(&ts[i].e));
    live--;
  }
  for (int i = 1; i < NT; i += 7) /* move: later or earlier */
    if (i % 3 != 0)
      tl_hrtimer_start(tt_hrt, &ts[i].e,
                       now + (uint64_t) (rand() % 30000) * 1000, tt_cb);
  tt_restart_target = &ts[NT];
  live++;
  last_due = 0;
  out_of_order = fired_total = 0;
  uint64_t deadline = tl_now_ns() + 10000000000u;
  while (fired_total < live && tl_now_ns() < deadline)
    uv_run(&loop, UV_RUN_ONCE);
  ck_assert_int_eq(fired_total, live);
  ck_assert_int_eq(out_of_order, 0);
  for (int i = 0; i <= NT; i++) {
    if (i < NT && i % 3 == 0) {
      ck_assert_int_eq(ts[i].fired, 0);
      continue;
    }
    ck_assert_int_eq(ts[i].fired, 1);
    ck_assert_msg(ts[i].fired_ns >= ts[i].e.due_ns,
                  "timer %d fired %lld ns early", i,
                  (long long) (ts[i].e.due_ns - ts[i].fired_ns));
    ck_assert(!tl_hrtimer_armed(&ts[i].e));
  }
  tl_hrtimer_close(tt_hrt);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

TL_CHECK_MAIN("hrtimer", hrtimer_heap_orders_and_never_fires_early)
