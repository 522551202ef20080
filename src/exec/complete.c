#include "config.h"

#include "exec/complete.h"

#include "base/util.h"
#include "exec/respond.h"

#include <stdlib.h>

void tl_complete_wait_io(tl_task *t, void (*cb)(tl_hrtimer_entry *e)) {
  tl_task_io_begin(t);
  tl_hrtimer_start(t->loop->hrt, &t->io_timer,
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
  tl_task *t = TL_CONTAINER_OF(req, respond_work, req)->task;
  t->status = (uint16_t) tl_respond(t->req, t, t->keep_alive, t->out);
}

static void after_respond(uv_work_t *req, int status) {
  respond_work *w = TL_CONTAINER_OF(req, respond_work, req);
  tl_task *t = w->task;
  (void) status;
  free(w);
  tl_task_done(t);
}

void tl_complete_finish(tl_task *t) {
  if (tl_task_cancelled(t)) {
    tl_task_done(t); /* nobody to answer */
    return;
  }
  if (tl_respond_blocks(t)) {
    respond_work *w = tl_xmalloc(sizeof(*w));
    w->task = t;
    uv_queue_work(t->loop->uv, &w->req, work_respond, after_respond);
    return;
  }
  t->status = (uint16_t) tl_respond(t->req, t, t->keep_alive, t->out);
  tl_task_done(t);
}
