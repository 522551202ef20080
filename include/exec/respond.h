/* The workload endpoints' responses: a finished task's request becomes its
 * response bytes. Any thread that owns the task (loop, worker, or libuv's
 * pool for file I/O). */
#ifndef TL_EXEC_RESPOND_H
#define TL_EXEC_RESPOND_H

#include <stdbool.h>

#include "base/buf.h"
#include "exec/task.h"
#include "base/parser.h"

/* Appends the whole response of task t to req into out and returns its
 * status. May do blocking file I/O when tl_respond_blocks(t). */
int tl_respond(const tl_request *req, const tl_task *t, bool keep_alive,
               tl_buf *out);
bool tl_respond_blocks(const tl_task *t);

#endif
