/* pool: the loop only accepts, reads, parses and writes. One worker runs
 * all steps of a task, blocking (IO steps sleep the worker), and builds the
 * response; the loop writes it. */
#include "config.h"

#include "http/conn.h"
#include "exec/executor.h"
#include "exec/respond.h"

static void run(tl_job *job) {
  tl_task *t = (tl_task *) job;
  t->queue_ns += job->queue_ns;
  while (t->cur < t->nsteps && !tl_task_cancelled(t))
    tl_task_run_step_blocking(t);
  if (!tl_task_cancelled(t))
    tl_handler_respond(t->slot);
}

static void done(tl_job *job) {
  tl_task *t = (tl_task *) job;
  tl_server *srv = tl_task_server(t);
  if (!srv->cfg.no_stats)
    tl_hist_record(&srv->stats.queue_wait_us, job->queue_ns / 1000);
  tl_slot_ready(t->slot);
}

static int start(tl_server *srv, tl_task *t) {
  t->job.run = run;
  t->job.done = done;
  return tl_pool_submit(srv->pool, &t->job, true);
}

const tl_executor tl_exec_pool = {.mode = TL_MODE_POOL, .start = start};
