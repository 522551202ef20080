/* A complete request becomes an answer now (an error) or a task under the
 * mode of the moment, and the task comes back here, on the loop, through
 * its completion callback (executors never call the connection). */
#include "config.h"

#include "http/conn_internal.h"

#include "base/util.h"
#include "exec/executor.h"
#include "http/dispatch.h"

#include <errno.h>
#include <stdio.h>

static void slot_task_begin(tl_slot *s) {
  s->in_task = true;
  s->conn->inflight++;
  s->conn->loop->tasks_inflight++;
}

static void slot_task_cancel(tl_slot *s) {
  s->in_task = false;
  s->conn->inflight--;
  s->conn->loop->tasks_inflight--;
}

/* The completion callback every task carries: back on this loop. */
static void task_done(tl_task *t) {
  tl_slot *s = TL_CONTAINER_OF(t, tl_slot, task);
  s->status = t->status;
  tl_conn_slot_ready(s);
}

/* A full queue answers 503. */
void tl_conn_task_start(tl_conn *c, tl_slot *s) {
  tl_loop *loop = c->loop;
  tl_decision d;
  tl_dispatch(&s->req,
              (loop->ctx.cfg->allow_crash ? TL_ALLOW_CRASH : 0u) |
                  (loop->ctx.cfg->allow_deadlock ? TL_ALLOW_DEADLOCK : 0u),
              &d);
  s->route = (uint8_t) d.route;
  if (d.kind == TL_DECIDE_ERROR) {
    char allow[64] = "";
    if (d.allow)
      snprintf(allow, sizeof(allow), "Allow: %s\r\n", d.allow);
    tl_conn_slot_fail(s, d.status, d.msg, allow, false);
    return;
  }
  tl_mode mode = tl_loop_ctx_mode(&loop->ctx);
  tl_task_setup(&s->task, &loop->ctx, ++loop->next_task_id, mode,
                (uint8_t) d.route, d.steps, d.nsteps, s->t_start_ns, &s->req,
                &s->out, s->req.keep_alive && !s->close_after, task_done);
  slot_task_begin(s);
  if (tl_executor_for(mode)->start(&s->task) == -EAGAIN) {
    slot_task_cancel(s);
    tl_task_release(&s->task);
    tl_count(&loop->stats.rejected, 1);
    tl_conn_slot_fail(s, 503, "task queue full", "Retry-After: 1\r\n", false);
  }
}
