/* coro: each task with steps is a coroutine with its own stack, resumed by
 * any free worker (see exec/coro.h). A task with no step never leaves the
 * loop, as in hybrid. */
#include "config.h"

#include "exec/coro.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/thread.h"
#include "base/util.h"
#include "exec/complete.h"
#include "exec/coro_switch.h"
#include "exec/executor.h"

/* Why a coroutine gave its worker back. Written by the coroutine before it
 * suspends, read by done() on the loop (the pool's done list orders it). */
enum { WANT_END = 0, WANT_IO, WANT_YIELD };

typedef struct tl_coro {
  tl_fiber fiber;
  tl_task *task;
  uint64_t id; /* immutable */
  /* The thread that holds the coroutine (worker while it runs, loop
   * between runs; the pool's queue and done list hand it over). */
  int want;
  int last_tid;                /* the worker that ran it last */
  uint64_t wake_ns;            /* when it became runnable */
  uint64_t resumed_ns;         /* when a worker resumed it */
  struct tl_coro *prev, *next; /* live list, under live_mu */
} tl_coro;

/* Process-wide counters: atomic, any writer. */
static _Atomic uint64_t n_created, n_alive, n_suspended, n_runnable, n_switches,
    n_migrations, n_reserved;
static tl_hist wake_us; /* written by the loop thread only */
/* The live coroutines, for the resident-stack figure. */
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static tl_coro *live_head;

#define ADD(c, v)                                                              \
  atomic_fetch_add_explicit(&(c), (uint64_t) (v), memory_order_relaxed)
#define SUB(c, v)                                                              \
  atomic_fetch_sub_explicit(&(c), (uint64_t) (v), memory_order_relaxed)

/* ---- inside the coroutine ------------------------------------------------
 * Nothing thread-local survives a suspension: after suspend() returns the
 * coroutine may be on another worker, so tl_thread_self() (an out-of-line
 * call) is asked again, never kept in a local across it. */
static void __attribute__((noinline)) suspend(tl_coro *c, int want) {
  c->want = want;
  tl_coro_switch_suspend(&c->fiber);
}

/* A CPU step, cut into slices of `slice` ms with a yield between them. */
static void run_cpu_sliced(tl_coro *c, tl_task *t, uint32_t slice) {
  tl_step_rec *r = &t->steps[t->cur];
  r->start_ns = tl_now_ns();
  for (uint32_t left = r->spec.ms;;) {
    tl_thread_ctx *self = tl_thread_self();
    if (self)
      tl_thread_set_doing(self, TL_DOING_CPU, t->id, t->cur);
    uint32_t n = left < slice ? left : slice;
    /* One segment per slice: the next may run on another worker, whose
     * CPU clock is another clock. */
    uint64_t cpu0 = tl_step_cpu_begin();
    tl_task_burn_cpu_ms(n);
    tl_step_cpu_end(r, cpu0);
    left -= n;
    if (left == 0 || tl_task_cancelled(t))
      break;
    suspend(c, WANT_YIELD);
  }
  tl_task_step_end(t);
}

static void body(tl_fiber *f, void *arg) {
  tl_coro *c = arg;
  tl_task *t = c->task;
  while (t->cur < t->nsteps && !tl_task_cancelled(t)) {
    tl_step_rec *r = &t->steps[t->cur];
    r->coro = c->id;
    r->stack = (uintptr_t) f->stack_lo;
    switch (r->spec.kind) {
    case TL_STEP_IO:
      /* The loop's timer ends the step (recorded there) and wakes us. */
      r->start_ns = tl_now_ns();
      suspend(c, WANT_IO);
      break;
    case TL_STEP_YIELD: {
      uint64_t cpu0 = tl_step_cpu_begin();
      r->start_ns = tl_now_ns();
      tl_step_cpu_end(r, cpu0);
      suspend(c, WANT_YIELD);
      cpu0 = tl_step_cpu_begin(); /* resumed, maybe on another worker */
      tl_step_cpu_end(r, cpu0);
      tl_task_step_end(t);
      break;
    }
    default: {
      /* Read at each step: a live change applies from the next one. */
      uint32_t slice = (uint32_t) tl_coro_slice_ms(t->loop->cfg);
      if (r->spec.kind == TL_STEP_CPU && slice > 0 && r->spec.ms > slice)
        run_cpu_sliced(c, t, slice);
      else
        tl_task_run_step_blocking(t);
      break;
    }
    }
  }
  c->want = WANT_END;
}

/* ---- on a worker ---------------------------------------------------- */
static void job_run(tl_job *job) {
  tl_task *t = (tl_task *) job;
  tl_coro *c = t->coro;
  t->queue_ns += job->queue_ns;
  SUB(n_runnable, 1);
  tl_thread_ctx *self = tl_thread_self();
  int tid = self ? self->tid : 0;
  if (c->last_tid != 0 && c->last_tid != tid)
    ADD(n_migrations, 1);
  c->last_tid = tid;
  c->resumed_ns = tl_now_ns();
  tl_coro_switch_resume(&c->fiber);
  ADD(n_switches, 2);
  if (self)
    atomic_fetch_add_explicit(&self->coro_switches, 2, memory_order_relaxed);
}

/* ---- on the loop ------------------------------------------------------ */
static void coro_free(tl_coro *c) {
  pthread_mutex_lock(&live_mu);
  if (c->prev)
    c->prev->next = c->next;
  else
    live_head = c->next;
  if (c->next)
    c->next->prev = c->prev;
  pthread_mutex_unlock(&live_mu);
  SUB(n_reserved, c->fiber.map_len);
  SUB(n_alive, 1);
  tl_coro_switch_close(&c->fiber);
  free(c);
}

static int make_runnable(tl_task *t, bool admission) {
  t->coro->wake_ns = tl_now_ns();
  ADD(n_runnable, 1);
  int rc = tl_pool_submit(t->loop->pool, &t->job, admission);
  if (rc != 0)
    SUB(n_runnable, 1);
  return rc;
}

static void on_io_done(tl_hrtimer_entry *e) {
  tl_task *t = TL_CONTAINER_OF(e, tl_task, io_timer);
  tl_task_io_end(t); /* the wait is recorded against the loop */
  SUB(n_suspended, 1);
  make_runnable(t, false);
}

static void job_done(tl_job *job) {
  tl_task *t = (tl_task *) job;
  tl_coro *c = t->coro;
  if (!t->loop->cfg->no_stats) {
    tl_hist_record(&t->loop->stats->queue_wait_us, job->queue_ns / 1000);
    tl_hist_record(&wake_us, (c->resumed_ns - c->wake_ns) / 1000);
  }
  switch (c->want) {
  case WANT_IO: {
    const tl_step_rec *r = &t->steps[t->cur];
    ADD(n_suspended, 1);
    tl_hrtimer_start(t->loop->hrt, &t->io_timer,
                     r->start_ns + (uint64_t) r->spec.ms * 1000000u,
                     on_io_done);
    break;
  }
  case WANT_YIELD: make_runnable(t, false); break;
  default:
    t->coro = NULL;
    coro_free(c);
    tl_complete_finish(t);
    break;
  }
}

static int start(tl_task *t) {
  if (t->nsteps == 0) {
    tl_complete_finish(t);
    return 0;
  }
  tl_coro *c = tl_xcalloc(1, sizeof(*c));
  const tl_config *cfg = t->loop->cfg;
  if (tl_coro_switch_init(&c->fiber, (size_t) cfg->coro_stack_kib * 1024,
                          (tl_switch_kind) cfg->coro_switch, body, c) != 0) {
    free(c);
    return -EAGAIN; /* out of address space or maps: answered 503 */
  }
  c->task = t;
  c->id = ADD(n_created, 1) + 1;
  ADD(n_alive, 1);
  ADD(n_reserved, c->fiber.map_len);
  pthread_mutex_lock(&live_mu);
  c->next = live_head;
  if (live_head)
    live_head->prev = c;
  live_head = c;
  pthread_mutex_unlock(&live_mu);
  t->coro = c;
  t->job.run = job_run;
  t->job.done = job_done;
  int rc = make_runnable(t, true);
  if (rc != 0) {
    t->coro = NULL;
    coro_free(c);
  }
  return rc;
}

const tl_executor tl_exec_coro = {.mode = TL_MODE_CORO, .start = start};

/* ---- statistics ------------------------------------------------------- */
void tl_coro_read(tl_coro_counters *o) {
  o->created = atomic_load_explicit(&n_created, memory_order_relaxed);
  o->alive = atomic_load_explicit(&n_alive, memory_order_relaxed);
  o->suspended = atomic_load_explicit(&n_suspended, memory_order_relaxed);
  o->runnable = atomic_load_explicit(&n_runnable, memory_order_relaxed);
  o->switches = atomic_load_explicit(&n_switches, memory_order_relaxed);
  o->migrations = atomic_load_explicit(&n_migrations, memory_order_relaxed);
  o->stack_reserved_bytes =
      atomic_load_explicit(&n_reserved, memory_order_relaxed);
}

const tl_hist *tl_coro_wake_hist(void) { return &wake_us; }

/* Process-wide, atomic: -1 until /control sets it (then cfg's is used). */
static _Atomic int live_slice_ms = -1;

void tl_coro_set_slice_ms(int ms) { atomic_store(&live_slice_ms, ms); }

int tl_coro_slice_ms(const tl_config *cfg) {
  int ms = atomic_load_explicit(&live_slice_ms, memory_order_relaxed);
  return ms >= 0 ? ms : cfg->coro_slice_ms;
}

/* Written once at start, before the observer runs; atomics all the same. */
static _Atomic uint64_t cost_asm, cost_uc, cost_kernel;

void tl_coro_set_costs(const tl_coro_costs *c) {
  atomic_store(&cost_asm, c->asm_ns);
  atomic_store(&cost_uc, c->ucontext_ns);
  atomic_store(&cost_kernel, c->kernel_ns);
}

void tl_coro_get_costs(tl_coro_costs *o) {
  o->asm_ns = atomic_load(&cost_asm);
  o->ucontext_ns = atomic_load(&cost_uc);
  o->kernel_ns = atomic_load(&cost_kernel);
}

uint64_t tl_coro_stack_resident_bytes(void) {
  size_t page = (size_t) sysconf(_SC_PAGESIZE);
  unsigned char vec[2048];
  uint64_t bytes = 0;
  pthread_mutex_lock(&live_mu);
  for (tl_coro *c = live_head; c; c = c->next) {
    size_t pages = c->fiber.stack_size / page;
    for (size_t off = 0; off < pages; off += sizeof(vec)) {
      size_t n = pages - off < sizeof(vec) ? pages - off : sizeof(vec);
      if (mincore(c->fiber.stack_lo + off * page, n * page, vec) != 0)
        break;
      for (size_t i = 0; i < n; i++)
        bytes += (vec[i] & 1) ? page : 0;
    }
  }
  pthread_mutex_unlock(&live_mu);
  return bytes;
}
