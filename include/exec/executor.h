/* How a mode runs tasks. A mode is one tl_executor in its own file
 * (async.c, pool_mode.c, hybrid.c, coro.c); adding a mode means adding one
 * file and one line in tl_executor_for. An executor ends a task only through
 * tl_task_done (on the task's loop thread), never by calling into the
 * connection module. */
#ifndef TL_EXEC_EXECUTOR_H
#define TL_EXEC_EXECUTOR_H

#include "base/mode.h"
#include "exec/task.h"

typedef struct tl_executor {
  tl_mode mode;
  /* Loop thread: admit and start task t (set up by tl_task_setup).
   * Returns 0, or -EAGAIN when the pool queue is full (the caller answers
   * 503 and releases the task; done is then never called). Otherwise the
   * task ends in tl_task_done, possibly from inside start() (async mode
   * answers a task without steps at once). */
  int (*start)(tl_task *t);
} tl_executor;

extern const tl_executor tl_exec_async;
extern const tl_executor tl_exec_pool;
extern const tl_executor tl_exec_hybrid;
extern const tl_executor tl_exec_coro;

/* Any thread. */
const tl_executor *tl_executor_for(tl_mode mode);

#endif
