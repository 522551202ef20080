/* A thread's lock wait share per period (observer/shared_obs) counts only
 * what it waited within the period: a thread that waited 50 ms or more
 * before the first sample and holds the lock since shows 0 % between two
 * later samples, not its old wait over the period (mutaudit3). In this
 * process, without a server. */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tl_check.h"
#include "base/util.h"
#include "exec/shared_steps.h"
#include "observer/shared_obs.h"

/* A step's burn returns once the gate reaches its ms (1: the holder, 2:
 * the waiter that then holds). */
static _Atomic int gate;
static uint64_t burn_until_gate(uint32_t ms) {
  while (atomic_load(&gate) < (int) ms)
    usleep(1000);
  return 0;
}

typedef struct stepper {
  pthread_t th;
  tl_step_spec spec;
  _Atomic int tid;
} stepper;

static void *run_one(void *arg) {
  stepper *st = arg;
  atomic_store(&st->tid, (int) syscall(SYS_gettid));
  ck_assert(tl_shared_run_step(&st->spec, burn_until_gate));
  return NULL;
}

/* Polls the thread's lock state until `ok` holds for it. */
static tl_shared_thread_read wait_for(stepper *s, bool holds) {
  tl_shared_thread_read t = {.wants = -1};
  for (int i = 0; i < 5000; i++) {
    usleep(1000);
    int tid = atomic_load(&s->tid);
    if (tid && tl_shared_thread_lock_state(tid, tl_now_ns(), &t) &&
        (holds ? (t.holds & 1) != 0 : t.wants == 0))
      return t;
  }
  ck_abort_msg("thread %d never %s lock 0", atomic_load(&s->tid),
               holds ? "held" : "waited on");
  return t;
}

START_TEST(an_old_wait_is_not_in_a_later_period) {
  stepper h = {.spec = {.kind = TL_STEP_HOLD, .ms = 1}};
  stepper w = {.spec = {.kind = TL_STEP_HOLD, .ms = 2}};
  ck_assert_int_eq(pthread_create(&h.th, NULL, run_one, &h), 0);
  wait_for(&h, true);
  ck_assert_int_eq(pthread_create(&w.th, NULL, run_one, &w), 0);
  wait_for(&w, false);
  usleep(60 * 1000);
  atomic_store(&gate, 1); /* the holder lets go, the waiter takes it */
  tl_shared_thread_read t = wait_for(&w, true);
  ck_assert_msg(t.lock_wait_ns >= 50 * 1000000ull, "waited %.1f ms",
                (double) t.lock_wait_ns / 1e6);
  pthread_join(h.th, NULL);
  tl_shared_obs *o = calloc(1, sizeof(*o));
  ck_assert_ptr_nonnull(o);
  tl_shared_obs_sample(o, tl_now_ns());
  usleep(30 * 1000);
  tl_shared_obs_sample(o, tl_now_ns());
  ck_assert(o->has_period);
  int k = -1;
  for (int i = 0; i < o->r.nthreads; i++)
    if (o->r.threads[i].tid == atomic_load(&w.tid))
      k = i;
  ck_assert_msg(k >= 0, "the waiter is not listed");
  ck_assert_msg(o->lock_wait_pct[k] == 0, "%.1f %% of the period waited",
                o->lock_wait_pct[k]);
  atomic_store(&gate, 2);
  pthread_join(w.th, NULL);
  free(o);
}
END_TEST

TL_CHECK_MAIN("shared_obs", an_old_wait_is_not_in_a_later_period)
