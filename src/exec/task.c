#include "config.h"

#include "exec/task.h"
#include "exec/shared_steps.h"
#include "base/crash.h"
#include "base/thread.h"
#include "base/util.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* Work between two clock reads: reading the thread CPU clock is a system
 * call, so burn in chunks and look at the clock every ~50 us. */
static uint64_t spin_chunk(uint64_t n) {
  volatile uint64_t x = 0x9e3779b97f4a7c15ull;
  for (uint64_t i = 0; i < n; i++)
    x = x * 6364136223846793005ull + 1442695040888963407ull;
  return x;
}

uint64_t tl_task_burn_cpu_ms(uint32_t ms) {
  uint64_t w0 = tl_now_ns();
  uint64_t c0 = tl_thread_cpu_ns();
  uint64_t goal = (uint64_t) ms * 1000000u;
  uint64_t chunk = 2000;
  for (;;) {
    uint64_t a = tl_thread_cpu_ns();
    if (a - c0 >= goal)
      break;
    spin_chunk(chunk);
    uint64_t b = tl_thread_cpu_ns();
    /* Aim each chunk at ~50 us of CPU, but never past the goal. */
    uint64_t took = b > a ? b - a : 1;
    uint64_t want = 50000;
    uint64_t left = goal - (b - c0 < goal ? b - c0 : goal);
    if (left < want)
      want = left;
    chunk = chunk * want / took;
    if (chunk < 16)
      chunk = 16;
    if (chunk > 10000000)
      chunk = 10000000;
  }
  return tl_now_ns() - w0;
}

static void record(tl_task *t, tl_step_rec *r, tl_thread_ctx *self) {
  int core = sched_getcpu();
  r->core = core;
  if (self) {
    r->tid = self->tid;
    memcpy(r->thread, self->label, sizeof(r->thread));
    atomic_fetch_add_explicit(&self->steps, 1, memory_order_relaxed);
    tl_step_event ev = {.task = t->id,
                        .start_ns = r->start_ns,
                        .end_ns = r->end_ns,
                        .core = core,
                        .kind = r->spec.kind,
                        .step = t->cur,
                        .route = t->route,
                        .cpu_ns = r->cpu_ns,
                        .coro = r->coro,
                        .stack = r->stack};
    tl_thread_record_step(self, &ev);
  }
  t->run_ns += r->end_ns - r->start_ns;
  t->cur++;
}

void tl_task_run_step_blocking(tl_task *t) {
  tl_step_rec *r = &t->steps[t->cur];
  tl_thread_ctx *self = tl_thread_self();
  if (self)
    tl_thread_set_doing(self,
                        r->spec.kind == TL_STEP_CPU ||
                                tl_shared_is_step(r->spec.kind)
                            ? TL_DOING_CPU
                            : TL_DOING_IO,
                        t->id, t->cur);
  r->start_ns = tl_now_ns();
  uint64_t cpu0 = tl_step_cpu_begin();
  if (r->spec.kind == TL_STEP_CRASH)
    tl_crash_process();
  if (r->spec.kind == TL_STEP_CPU) {
    tl_task_burn_cpu_ms(r->spec.ms);
  } else if (tl_shared_is_step(r->spec.kind)) {
    tl_shared_run_step(&r->spec, tl_task_burn_cpu_ms);
  } else if (r->spec.kind == TL_STEP_YIELD) {
    sched_yield(); /* a thread's way to let others run */
  } else {
    struct timespec ts = {.tv_sec = r->spec.ms / 1000,
                          .tv_nsec = (long) (r->spec.ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
      ;
  }
  tl_step_cpu_end(r, cpu0);
  r->end_ns = tl_now_ns();
  record(t, r, self);
  if (self)
    tl_thread_set_doing(self, TL_DOING_WAIT, t->id, t->cur);
}

/* No thread runs a step that waits on the loop's timer: its CPU is the
 * loop's own bookkeeping at either end, measured like any segment. */
void tl_task_io_begin(tl_task *t) {
  uint64_t cpu0 = tl_step_cpu_begin();
  t->steps[t->cur].start_ns = tl_now_ns();
  tl_step_cpu_end(&t->steps[t->cur], cpu0);
}

void tl_task_io_end(tl_task *t) {
  uint64_t cpu0 = tl_step_cpu_begin();
  tl_step_cpu_end(&t->steps[t->cur], cpu0);
  tl_task_step_end(t);
}

void tl_task_step_end(tl_task *t) {
  tl_step_rec *r = &t->steps[t->cur];
  r->end_ns = tl_now_ns();
  record(t, r, tl_thread_self());
}

void tl_task_setup(tl_task *t, const tl_loop_ctx *loop, uint64_t id,
                   tl_mode mode, uint8_t route, const tl_step_spec *specs,
                   int nsteps, uint64_t created_ns, const tl_request *req,
                   tl_buf *out, bool keep_alive, tl_task_done_cb done) {
  memset(t, 0, sizeof(*t));
  t->loop = loop;
  t->job.inbox = loop->inbox; /* pool jobs come back to this loop */
  t->done = done;
  t->req = req;
  t->out = out;
  t->keep_alive = keep_alive;
  t->id = id;
  t->mode = mode;
  t->route = route;
  t->created_ns = created_ns;
  t->nsteps = (uint8_t) nsteps;
  if (nsteps > 0) {
    t->steps = tl_xcalloc((size_t) nsteps, sizeof(*t->steps));
    for (int i = 0; i < nsteps; i++)
      t->steps[i].spec = specs[i];
  }
}

void tl_task_release(tl_task *t) {
  if (t->steps) { /* most requests have no steps: no call into free */
    free(t->steps);
    t->steps = NULL;
  }
  if (tl_hrtimer_armed(&t->io_timer))
    tl_hrtimer_stop(t->loop->hrt, &t->io_timer);
}
