/* hybrid: CPU (and yield) steps go to the pool, IO steps wait on the loop without a
 * thread. A task may hop loop -> worker -> loop -> worker; consecutive CPU
 * steps stay on one worker. A task with no step never leaves the loop. */
#include "config.h"

#include "exec/complete.h"
#include "exec/executor.h"
#include "base/util.h"

static int advance(tl_task *t, bool admission);

static void run_cpu(tl_job *job) {
  tl_task *t = (tl_task *) job;
  while (t->cur < t->nsteps && t->steps[t->cur].spec.kind != TL_STEP_IO &&
         !tl_task_cancelled(t))
    tl_task_run_step_blocking(t);
}

static void cpu_done(tl_job *job) {
  tl_task *t = (tl_task *) job;
  t->queue_ns += job->queue_ns;
  if (!t->loop->cfg->no_stats)
    tl_hist_record(&t->loop->stats->queue_wait_us, job->queue_ns / 1000);
  advance(t, false);
}

static void on_io_done(tl_hrtimer_entry *e) {
  tl_task *t = TL_CONTAINER_OF(e, tl_task, io_timer);
  tl_task_io_end(t);
  advance(t, false);
}

static int advance(tl_task *t, bool admission) {
  if (t->cur < t->nsteps && !tl_task_cancelled(t)) {
    if (t->steps[t->cur].spec.kind == TL_STEP_IO) {
      tl_complete_wait_io(t, on_io_done);
      return 0;
    }
    t->job.run = run_cpu;
    t->job.done = cpu_done;
    return tl_pool_submit(t->loop->pool, &t->job, admission);
  }
  tl_complete_finish(t);
  return 0;
}

static int start(tl_task *t) { return advance(t, true); }

const tl_executor tl_exec_hybrid = {.mode = TL_MODE_HYBRID, .start = start};
