#include "config.h"

#include "http/conn.h"
#include "exec/executor.h"
#include "exec/respond.h"
#include "base/util.h"

#include <stdlib.h>

const tl_executor *tl_executor_for(tl_mode mode) {
  switch (mode) {
  case TL_MODE_ASYNC: return &tl_exec_async;
  case TL_MODE_HYBRID: return &tl_exec_hybrid;
  default: return &tl_exec_pool;
  }
}

tl_server *tl_task_server(tl_task *t) { return tl_slot_server(t->slot); }

void tl_exec_wait_io(tl_task *t, void (*cb)(tl_hrtimer_entry *e)) {
  tl_task_io_begin(t);
  tl_hrtimer_start(tl_task_server(t)->hrt, &t->io_timer,
                   t->steps[t->cur].start_ns +
                       (uint64_t) t->steps[t->cur].spec.ms * 1000000u,
                   cb);
}

/* File responses run on libuv's own pool, so a static file never blocks
 * the loop in async/hybrid mode; those threads show up with role libuv. */
typedef struct {
  uv_work_t req;
  tl_task *task;
} respond_work;

static void work_respond(uv_work_t *req) {
  respond_work *w = TL_CONTAINER_OF(req, respond_work, req);
  tl_handler_respond(w->task->slot);
}

static void after_respond(uv_work_t *req, int status) {
  respond_work *w = TL_CONTAINER_OF(req, respond_work, req);
  (void) status;
  tl_slot_ready(w->task->slot);
  free(w);
}

void tl_exec_finish(tl_task *t) {
  if (tl_handler_blocks(t->slot)) {
    respond_work *w = tl_xmalloc(sizeof(*w));
    w->task = t;
    uv_queue_work(tl_task_server(t)->loop, &w->req, work_respond,
                  after_respond);
    return;
  }
  tl_handler_respond(t->slot);
  tl_slot_ready(t->slot);
}
