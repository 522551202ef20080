/* The workload endpoints: turning a parsed request into a task, and a
 * finished task into a response. */
#ifndef TL_HANDLERS_H
#define TL_HANDLERS_H

#include <stdbool.h>

#include "http/conn.h"
#include "core/server.h"

/* Loop thread: route the request in slot; answer at once (errors) or admit
 * its task to the current mode's executor. */
void tl_dispatch(tl_server *srv, tl_slot *slot);

/* Any thread: build the response of a task whose steps are done into
 * slot->out. May do blocking file I/O when tl_handler_blocks says so. */
void tl_handler_respond(tl_slot *slot);
bool tl_handler_blocks(const tl_slot *slot);

/* Loop thread: make slot an error response (JSON body) and mark it ready. */
void tl_slot_fail(tl_slot *slot, int status, const char *msg,
                  const char *extra_headers, bool close);

#endif
