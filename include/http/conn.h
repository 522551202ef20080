/* A workload connection and its ordered response slots. Everything here
 * runs on the loop thread, except that a slot's task (and response buffer)
 * belongs to a worker while the task is out in the pool. */
#ifndef TL_CONN_H
#define TL_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "base/buf.h"
#include "http/parser.h"
#include "exec/task.h"

struct tl_server;
struct tl_conn;

/* One request and, once ready, its serialised response. Slots leave the
 * connection strictly in request order (pipelining). */
typedef struct tl_slot {
  struct tl_slot *next;
  struct tl_conn *conn;
  tl_request req;
  tl_buf out;              /* the whole response once ready */
  uint64_t t_start_ns;     /* request complete (latency starts here) */
  uint16_t status;
  uint8_t route;           /* tl_route */
  bool ready;
  bool in_task;            /* a task owns the slot right now */
  bool close_after;        /* close the connection after this response */
  tl_task task;
  char out_inline[256];
} tl_slot;

/* Accepts one pending connection on the server's listener. */
void tl_conn_accept(struct tl_server *srv);
/* The server a slot belongs to (any thread: it never changes). */
struct tl_server *tl_slot_server(const tl_slot *slot);
/* Loop thread: a task takes the slot (before it starts), or gives it back
 * unstarted (queue full). */
void tl_slot_task_begin(tl_slot *slot);
void tl_slot_task_cancel(tl_slot *slot);
/* Loop thread: the slot's response is in slot->out; queue it for writing. */
void tl_slot_ready(tl_slot *slot);
/* Loop thread: batched sends through io_uring for this server (0), or a
 * negative errno with *why set (the server then writes per connection). */
int tl_conn_sendq_setup(struct tl_server *srv, const char **why);
void tl_conn_sendq_teardown(struct tl_server *srv);
/* Loop thread: write every connection that has ready responses. */
void tl_conn_flush_dirty(struct tl_server *srv);
/* Loop thread: enforce header/idle timeouts and lingering closes. */
void tl_conn_sweep(struct tl_server *srv, uint64_t now_ms);
/* Loop thread: stop reading everywhere; close idle connections, and the
 * others once their pending responses are written. */
void tl_conn_drain_all(struct tl_server *srv);
/* Loop thread: close every connection now. */
void tl_conn_close_all(struct tl_server *srv);

#endif
