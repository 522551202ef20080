/* What every executor does the same way: wait for an IO step on the
 * task's loop, and finish a task (build its response, then tl_task_done). */
#ifndef TL_EXEC_COMPLETE_H
#define TL_EXEC_COMPLETE_H

#include "exec/task.h"

/* Loop thread: wait for the current IO step without a thread, on a timer
 * of the task's loop. */
void tl_complete_wait_io(tl_task *t, void (*cb)(tl_hrtimer_entry *e));
/* Loop thread: all steps done (or cancelled): build the response (off the
 * loop through libuv's pool when that means file I/O) and end the task. */
void tl_complete_finish(tl_task *t);

#endif
