/* The worker pool: FIFO order, bounded admission, resize up and down,
 * pinning, thread names, and destroy draining the queue. */
#include "config.h"

#include <check.h>
#include "tl_check.h"
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/pool.h"
#include "base/util.h"

typedef struct tjob {
  tl_job job;
  int id;
  int *order; /* done() appends id here (loop thread) */
  int *norder;
  int ran_tid;
  cpu_set_t affinity;
  char name[16];
  /* optional gate: run() waits until *gate is nonzero */
  _Atomic int *gate;
  _Atomic int *started;
  _Atomic int *barrier; /* run() waits until *barrier reaches barrier_n */
  int barrier_n;
  bool barrier_met; /* it did, within 10 s */
} tjob;

static void run_job(tl_job *j) {
  tjob *t = (tjob *) j;
  t->ran_tid = (int) syscall(SYS_gettid);
  sched_getaffinity(0, sizeof(t->affinity), &t->affinity);
  pthread_getname_np(pthread_self(), t->name, sizeof(t->name));
  if (t->started)
    atomic_fetch_add(t->started, 1);
  if (t->gate)
    while (!atomic_load(t->gate))
      usleep(1000);
  if (t->barrier) {
    atomic_fetch_add(t->barrier, 1);
    double deadline = (double) tl_now_ns() / 1e9 + 10;
    while (atomic_load(t->barrier) < t->barrier_n &&
           (double) tl_now_ns() / 1e9 < deadline)
      usleep(1000);
    t->barrier_met = atomic_load(t->barrier) >= t->barrier_n;
  }
}

static void done_job(tl_job *j) {
  tjob *t = (tjob *) j;
  if (t->order)
    t->order[(*t->norder)++] = t->id;
}

static void run_until(uv_loop_t *loop, int *count, int want) {
  double deadline = (double) tl_now_ns() / 1e9 + 20;
  while (*count < want && (double) tl_now_ns() / 1e9 < deadline)
    uv_run(loop, UV_RUN_ONCE);
  ck_assert_int_eq(*count, want);
}

static void init_job(tjob *t, int id, int *order, int *norder) {
  memset(t, 0, sizeof(*t));
  t->job.run = run_job;
  t->job.done = done_job;
  t->id = id;
  t->order = order;
  t->norder = norder;
}

static void destroy(uv_loop_t *loop, tl_pool *p) {
  tl_pool_close(p);
  uv_run(loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(loop), 0);
}

START_TEST(pool_fifo_one_worker) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  tl_registry reg;
  tl_registry_init(&reg);
  tl_pool *p;
  ck_assert_int_eq(tl_pool_init(&p, &loop, &reg, 1, 1000, false), 0);
  static tjob jobs[200];
  int order[200], n = 0;
  for (int i = 0; i < 200; i++) {
    init_job(&jobs[i], i, order, &n);
    ck_assert_int_eq(tl_pool_submit(p, &jobs[i].job, true), 0);
  }
  run_until(&loop, &n, 200);
  for (int i = 0; i < 200; i++)
    ck_assert_int_eq(order[i], i);
  /* Every job ran on the one worker, which carries its name. */
  for (int i = 1; i < 200; i++)
    ck_assert_int_eq(jobs[i].ran_tid, jobs[0].ran_tid);
  ck_assert_str_eq(jobs[0].name, "tl-worker-0");
  ck_assert_int_ne(jobs[0].ran_tid, (int) syscall(SYS_gettid));
  destroy(&loop, p);
  tl_registry_close(&reg);
}
END_TEST

/* Idle workers are woken last-idle-first: jobs that come one at a time go
 * to the same warm worker, not round all eight (which a shared condition
 * variable did). Generous: most of them, not all (a loaded machine may not
 * have put that worker back to sleep in time). */
START_TEST(pool_wakes_the_most_recently_idle) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  tl_registry reg;
  tl_registry_init(&reg);
  tl_pool *p;
  ck_assert_int_eq(tl_pool_init(&p, &loop, &reg, 8, 1000, false), 0);
  usleep(200 * 1000); /* all eight asleep */
  static tjob jobs[20];
  int order[20], n = 0;
  for (int i = 0; i < 20; i++) {
    init_job(&jobs[i], i, order, &n);
    ck_assert_int_eq(tl_pool_submit(p, &jobs[i].job, true), 0);
    run_until(&loop, &n, i + 1);
    usleep(20 * 1000); /* its worker goes back to sleep */
  }
  int best = 0;
  for (int i = 0; i < 20; i++) {
    int same = 0;
    for (int k = 0; k < 20; k++)
      same += jobs[k].ran_tid == jobs[i].ran_tid;
    if (same > best)
      best = same;
  }
  ck_assert_msg(best >= 15,
                "20 jobs one at a time: the busiest worker ran only %d", best);
  destroy(&loop, p);
  tl_registry_close(&reg);
}
END_TEST

START_TEST(pool_bounded_admission) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  tl_registry reg;
  tl_registry_init(&reg);
  tl_pool *p;
  ck_assert_int_eq(tl_pool_init(&p, &loop, &reg, 1, 2, false), 0);
  _Atomic int gate = 0, started = 0;
  static tjob a, b, c, d, e;
  int order[8], n = 0;
  init_job(&a, 1, order, &n);
  a.gate = &gate;
  a.started = &started;
  ck_assert_int_eq(tl_pool_submit(p, &a.job, true), 0);
  /* Workers are woken once per loop iteration, not by submit itself. */
  while (!atomic_load(&started)) {
    uv_run(&loop, UV_RUN_NOWAIT);
    usleep(1000); /* the worker holds a; the queue is empty */
  }
  init_job(&b, 2, order, &n);
  init_job(&c, 3, order, &n);
  init_job(&d, 4, order, &n);
  init_job(&e, 5, order, &n);
  ck_assert_int_eq(tl_pool_submit(p, &b.job, true), 0);
  ck_assert_int_eq(tl_pool_submit(p, &c.job, true), 0);
  ck_assert_uint_eq(tl_pool_depth(p), 2);
  ck_assert_int_eq(tl_pool_submit(p, &d.job, true), -EAGAIN);
  /* A task already admitted may always continue. */
  ck_assert_int_eq(tl_pool_submit(p, &e.job, false), 0);
  tl_pool_stats st;
  tl_pool_get_stats(p, &st);
  ck_assert_uint_eq(st.rejected, 1);
  atomic_store(&gate, 1);
  run_until(&loop, &n, 4);
  ck_assert_int_eq(order[0], 1);
  ck_assert_int_eq(order[1], 2);
  ck_assert_int_eq(order[2], 3);
  ck_assert_int_eq(order[3], 5);
  destroy(&loop, p);
  tl_registry_close(&reg);
}
END_TEST

static int count_own_workers(void) {
  char name[64], path[300];
  int n = 0;
  DIR *d = opendir("/proc/self/task");
  struct dirent *de;
  while (d && (de = readdir(d))) {
    if (de->d_name[0] == '.')
      continue;
    snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
    FILE *f = fopen(path, "r");
    if (f && fgets(name, sizeof(name), f) &&
        strncmp(name, "tl-worker-", 10) == 0)
      n++;
    if (f)
      fclose(f);
  }
  if (d)
    closedir(d);
  return n;
}

START_TEST(pool_resize_up_and_down) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  tl_registry reg;
  tl_registry_init(&reg);
  tl_pool *p;
  ck_assert_int_eq(tl_pool_init(&p, &loop, &reg, 1, 100, false), 0);
  ck_assert_int_eq(tl_pool_resize(p, 4), 0);
  ck_assert_int_eq(tl_pool_threads(p), 4);
  /* Four jobs that each wait for all four to be running at once can only
   * finish if four workers really exist. */
  _Atomic int barrier = 0;
  static tjob j[4];
  int order[4], n = 0;
  for (int i = 0; i < 4; i++) {
    init_job(&j[i], i, order, &n);
    j[i].barrier = &barrier;
    j[i].barrier_n = 4;
    ck_assert_int_eq(tl_pool_submit(p, &j[i].job, true), 0);
  }
  run_until(&loop, &n, 4);
  ck_assert_int_eq(atomic_load(&barrier), 4);
  for (int i = 0; i < 4; i++)
    ck_assert_msg(j[i].barrier_met, "job %d never saw four workers running", i);
  ck_assert_int_eq(count_own_workers(), 4);
  ck_assert_int_eq(tl_pool_resize(p, 2), 0);
  double deadline = (double) tl_now_ns() / 1e9 + 10;
  while (count_own_workers() != 2 && (double) tl_now_ns() / 1e9 < deadline)
    usleep(5000);
  ck_assert_int_eq(count_own_workers(), 2);
  ck_assert_int_eq(tl_pool_resize(p, 0), -EINVAL);
  destroy(&loop, p);
  /* pthread_join returns when the kernel clears the thread's tid, a moment
   * before the exiting thread leaves /proc/self/task (seen under TSan). */
  deadline = (double) tl_now_ns() / 1e9 + 10;
  while (count_own_workers() != 0 && (double) tl_now_ns() / 1e9 < deadline)
    usleep(5000);
  ck_assert_int_eq(count_own_workers(), 0);
  tl_registry_close(&reg);
}
END_TEST

/* The n-th core of a mask, from 0. */
static int nth_cpu(const cpu_set_t *mask, int n) {
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, mask) && n-- == 0)
      return c;
  return -1;
}

/* Runs `nw` pinned workers under the calling process's current mask and
 * checks that worker i sits alone on the (i mod n)-th allowed core. */
static void check_pins_within_mask(int nw) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  tl_registry reg;
  tl_registry_init(&reg);
  cpu_set_t mine;
  ck_assert_int_eq(sched_getaffinity(0, sizeof(mine), &mine), 0);
  tl_pool *p;
  ck_assert_int_eq(tl_pool_init(&p, &loop, &reg, nw, 100, true), 0);
  _Atomic int barrier = 0;
  static tjob j[8];
  int order[8], n = 0;
  for (int i = 0; i < nw; i++) {
    init_job(&j[i], i, order, &n);
    j[i].barrier = &barrier;
    j[i].barrier_n = nw; /* one job per worker */
    tl_pool_submit(p, &j[i].job, true);
  }
  run_until(&loop, &n, nw);
  for (int i = 0; i < nw; i++) {
    int idx = atoi(j[i].name + 10);
    int want = nth_cpu(&mine, idx % CPU_COUNT(&mine));
    ck_assert_msg(CPU_COUNT(&j[i].affinity) == 1 &&
                      CPU_ISSET(want, &j[i].affinity),
                  "worker %d: pinned to %d core(s), not to core %d alone", idx,
                  CPU_COUNT(&j[i].affinity), want);
  }
  destroy(&loop, p);
  tl_registry_close(&reg);
}

/* taskset -c LAST: every pinned worker stays on that core (Check runs each
 * test in its own process, so the narrowed mask ends with it). */
START_TEST(pool_pins_within_inherited_mask) {
  cpu_set_t mine, one;
  sched_getaffinity(0, sizeof(mine), &mine);
  CPU_ZERO(&one);
  CPU_SET(nth_cpu(&mine, CPU_COUNT(&mine) - 1), &one);
  ck_assert_int_eq(sched_setaffinity(0, sizeof(one), &one), 0);
  check_pins_within_mask(4);
  /* The whole mask again: workers take its cores in turn. */
  ck_assert_int_eq(sched_setaffinity(0, sizeof(mine), &mine), 0);
  check_pins_within_mask(4);
}
END_TEST

START_TEST(pool_pinning) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  tl_registry reg;
  tl_registry_init(&reg);
  tl_pool *p;
  cpu_set_t mine;
  sched_getaffinity(0, sizeof(mine), &mine);
  ck_assert_int_eq(tl_pool_init(&p, &loop, &reg, 2, 100, true), 0);
  _Atomic int barrier = 0;
  static tjob j[2];
  int order[2], n = 0;
  for (int i = 0; i < 2; i++) {
    init_job(&j[i], i, order, &n);
    j[i].barrier = &barrier;
    j[i].barrier_n = 2; /* so that both workers take one each */
    ck_assert_int_eq(tl_pool_submit(p, &j[i].job, true), 0);
  }
  run_until(&loop, &n, 2);
  /* The barrier gives up after 10 s: then one worker ran both jobs and
   * the checks below would see only one of them. */
  for (int i = 0; i < 2; i++)
    ck_assert_msg(j[i].barrier_met, "job %d never saw both workers running", i);
  ck_assert_int_ne(j[0].ran_tid, j[1].ran_tid);
  ck_assert_str_ne(j[0].name, j[1].name);
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(CPU_COUNT(&j[i].affinity), 1);
    int idx = j[i].name[10] - '0';
    ck_assert(
        CPU_ISSET(nth_cpu(&mine, idx % CPU_COUNT(&mine)), &j[i].affinity));
  }
  /* Unpinned again: back to every core the process may use. */
  tl_pool_set_pin(p, false);
  ck_assert(!tl_pool_pinned(p));
  atomic_store(&barrier, 0);
  n = 0;
  for (int i = 0; i < 2; i++) {
    init_job(&j[i], i, order, &n);
    j[i].barrier = &barrier;
    j[i].barrier_n = 2;
    ck_assert_int_eq(tl_pool_submit(p, &j[i].job, true), 0);
  }
  run_until(&loop, &n, 2);
  for (int i = 0; i < 2; i++)
    ck_assert_msg(j[i].barrier_met, "job %d never saw both workers running", i);
  ck_assert_int_ne(j[0].ran_tid, j[1].ran_tid);
  for (int i = 0; i < 2; i++)
    ck_assert_int_eq(CPU_COUNT(&j[i].affinity), CPU_COUNT(&mine));
  destroy(&loop, p);
  tl_registry_close(&reg);
}
END_TEST

START_TEST(pool_destroy_drains_queue) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  tl_registry reg;
  tl_registry_init(&reg);
  tl_pool *p;
  ck_assert_int_eq(tl_pool_init(&p, &loop, &reg, 2, 1000, false), 0);
  static tjob j[50];
  int order[50], n = 0;
  for (int i = 0; i < 50; i++) {
    init_job(&j[i], i, order, &n);
    tl_pool_submit(p, &j[i].job, true);
  }
  tl_pool_close(p); /* runs every queued job and their done() */
  ck_assert_int_eq(n, 50);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
  tl_registry_close(&reg);
}
END_TEST

/* cpus= narrows the workers to part of the inherited mask; a CPU
 * outside it (one the process may not use), or none at all, is refused
 * and changes nothing. */
START_TEST(pool_cpus_only_within_inherited_mask) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  tl_registry reg;
  tl_registry_init(&reg);
  tl_pool *p;
  ck_assert_int_eq(tl_pool_init(&p, &loop, &reg, 2, 100, false), 0);
  cpu_set_t cpus, inherited, want;
  tl_pool_get_cpus(p, &cpus, &inherited);
  ck_assert(CPU_EQUAL(&cpus, &inherited));
  int outside = -1;
  for (int c = CPU_SETSIZE - 1; c >= 0 && outside < 0; c--)
    if (!CPU_ISSET(c, &inherited))
      outside = c;
  ck_assert_int_ge(outside, 0);
  want = inherited;
  CPU_SET(outside, &want);
  ck_assert_int_eq(tl_pool_set_cpus(p, &want), -EINVAL);
  CPU_ZERO(&want);
  CPU_SET(outside, &want);
  ck_assert_int_eq(tl_pool_set_cpus(p, &want), -EINVAL);
  CPU_ZERO(&want);
  ck_assert_int_eq(tl_pool_set_cpus(p, &want), -EINVAL);
  tl_pool_get_cpus(p, &cpus, NULL);
  ck_assert(CPU_EQUAL(&cpus, &inherited));
  /* One inherited CPU is a valid choice, and NULL means all of them. */
  CPU_ZERO(&want);
  CPU_SET(nth_cpu(&inherited, 0), &want);
  ck_assert_int_eq(tl_pool_set_cpus(p, &want), 0);
  tl_pool_get_cpus(p, &cpus, NULL);
  ck_assert(CPU_EQUAL(&cpus, &want));
  ck_assert_int_eq(tl_pool_set_cpus(p, NULL), 0);
  tl_pool_get_cpus(p, &cpus, NULL);
  ck_assert(CPU_EQUAL(&cpus, &inherited));
  destroy(&loop, p);
  tl_registry_close(&reg);
}
END_TEST

int main(void) {
  Suite *s = suite_create("pool");
  TCase *tc = tcase_create("pool");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, pool_fifo_one_worker);
  tcase_add_test(tc, pool_wakes_the_most_recently_idle);
  tcase_add_test(tc, pool_bounded_admission);
  tcase_add_test(tc, pool_resize_up_and_down);
  tcase_add_test(tc, pool_pinning);
  tcase_add_test(tc, pool_pins_within_inherited_mask);
  tcase_add_test(tc, pool_destroy_drains_queue);
  suite_add_tcase(s, tc);
  TCase *cpus = tcase_create("pool_cpus");
  tcase_set_timeout(cpus, 60);
  tcase_add_test(cpus, pool_cpus_only_within_inherited_mask);
  suite_add_tcase(s, cpus);
  return tl_check_run(s);
}
