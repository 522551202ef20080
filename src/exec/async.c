/* async: the loop thread runs every step. CPU steps run inline and block
 * the loop; IO steps suspend the task on a timer, its state kept in the
 * task, and the loop serves others meanwhile. */
#include "config.h"

#include "exec/complete.h"
#include "exec/executor.h"
#include "base/util.h"

static void advance(tl_task *t);

/* A CPU step inline blocks the whole loop: remember the worst offender of
 * the moment for the insights ("the loop was blocked 310 ms by task 812"). */
static void note_block(tl_task *t, const tl_step_rec *r) {
  tl_loop_counters *st = t->loop->stats;
  uint64_t us = (r->end_ns - r->start_ns) / 1000;
  if (us < 20000)
    return;
  atomic_store_explicit(&st->block_task, t->id, memory_order_relaxed);
  atomic_store_explicit(&st->block_us, us, memory_order_relaxed);
  atomic_store_explicit(&st->block_route, t->route, memory_order_relaxed);
  atomic_fetch_add_explicit(&st->block_seq, 1, memory_order_release);
}

static void on_io_done(tl_hrtimer_entry *e) {
  tl_task *t = TL_CONTAINER_OF(e, tl_task, io_timer);
  tl_task_io_end(t);
  advance(t);
}

static void advance(tl_task *t) {
  while (t->cur < t->nsteps && !tl_task_cancelled(t)) {
    if (t->steps[t->cur].spec.kind == TL_STEP_IO) {
      tl_complete_wait_io(t, on_io_done);
      return;
    }
    tl_step_rec *r = &t->steps[t->cur];
    tl_task_run_step_blocking(t);
    note_block(t, r);
  }
  tl_complete_finish(t);
}

static int start(tl_task *t) {
  advance(t);
  return 0;
}

const tl_executor tl_exec_async = {.mode = TL_MODE_ASYNC, .start = start};
