/* How a mode runs tasks. A mode is one tl_executor in its own file
 * (exec_async.c, exec_pool.c, exec_hybrid.c); adding a mode means adding
 * one file and one line in tl_executor_for. All calls on the loop thread. */
#ifndef TL_EXECUTOR_H
#define TL_EXECUTOR_H

#include <uv.h>

#include "base/mode.h"
#include "core/server.h"
#include "exec/task.h"

typedef struct tl_executor {
  tl_mode mode;
  /* Admit and start task t. Returns 0, or -EAGAIN when the pool queue is
   * full (the caller answers 503). Completion ends in tl_slot_ready. */
  int (*start)(tl_server *srv, tl_task *t);
} tl_executor;

extern const tl_executor tl_exec_async;
extern const tl_executor tl_exec_pool;
extern const tl_executor tl_exec_hybrid;

const tl_executor *tl_executor_for(tl_mode mode);

/* Shared by the executors (loop thread): */
tl_server *tl_task_server(tl_task *t);
/* Wait for the current IO step without a thread: a timer on the loop. */
void tl_exec_wait_io(tl_task *t, void (*cb)(tl_hrtimer_entry *e));
/* All steps done: build the response (off the loop through libuv's pool
 * when that means file I/O) and hand the slot back. */
void tl_exec_finish(tl_task *t);

#endif
