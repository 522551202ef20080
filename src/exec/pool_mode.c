/* pool: the loop only accepts, reads, parses and writes. One worker runs
 * all steps of a task, blocking (IO steps sleep the worker), and builds the
 * response; the loop writes it. */
#include "config.h"

#include "exec/complete.h"
#include "exec/executor.h"
#include "exec/respond.h"

static void run(tl_job *job) {
  tl_task *t = (tl_task *) job;
  t->queue_ns += job->queue_ns;
  while (t->cur < t->nsteps && !tl_task_cancelled(t))
    tl_task_run_step_blocking(t);
  if (!tl_task_cancelled(t))
    t->status = (uint16_t) tl_respond(t->req, t, t->keep_alive, t->out);
}

static void done(tl_job *job) {
  tl_task *t = (tl_task *) job;
  if (!t->loop->cfg->no_stats)
    tl_hist_record(&t->loop->stats->queue_wait_us, job->queue_ns / 1000);
  tl_task_done(t);
}

static int start(tl_task *t) {
  t->job.run = run;
  t->job.done = done;
  return tl_pool_submit(t->loop->pool, &t->job, true);
}

const tl_executor tl_exec_pool = {.mode = TL_MODE_POOL, .start = start};
