/* What the connection files share (internal to src/http/conn*.c;
 * http/conn.h is the connections' interface): the connection, its request
 * slots and a loop's connection set, and the functions one file calls in
 * another. Loop thread only, like everything in them. The files call each
 * other in one direction only (tests/check-layering):
 *   conn_slot < conn_task < conn_close < conn_read < conn_linger
 *   < conn_write < conn_parse, conn_flush, conn_sweep < conn
 * (a file calls only files before it); the other way goes only through
 * libuv's and llhttp's callbacks, which is what makes the order hold. */
#ifndef TL_HTTP_CONN_INTERNAL_H
#define TL_HTTP_CONN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/buf.h"
#include "base/minrate.h"
#include "base/parser.h"
#include "exec/task.h"
#include "http/conn.h"
#include "http/loop.h"
#include "http/sendq.h"

/* Requests parsed ahead of their responses (pipelining) before we stop
 * reading, and the output bytes queued in the kernel-refused tail before we
 * stop reading a peer that does not read its responses. */
#define MAX_PIPELINE 64
#define OUT_HIGH     (1024 * 1024)
#define OUT_LOW      (256 * 1024)
#define FLUSH_IOV    16
/* Connections written per io_uring submission. */
#define SENDQ_CAP    256

struct tl_conn;

/* One request and, once ready, its serialised response. Slots leave the
 * connection strictly in request order (pipelining). While in_task, the
 * task and the out buffer belong to the thread running the task; else the
 * connection owns the slot (conn_slot frees it). */
typedef struct tl_slot {
  struct tl_slot *next;
  struct tl_conn *conn;
  tl_request req;
  tl_buf out;          /* the whole response once ready */
  uint64_t t_start_ns; /* request complete (latency starts here) */
  uint16_t status;
  uint8_t route; /* tl_route */
  bool ready;
  bool in_task;     /* a task owns the slot right now */
  bool close_after; /* close the connection after this response */
  tl_task task;
  char out_inline[256];
} tl_slot;

/* Freed by conn_close's close callback, or, when a task still held one of
 * its slots, with that slot (tl_conn_slot_ready). */
typedef struct tl_conn {
  uv_tcp_t tcp; /* first: the handle's close callback frees us */
  tl_loop *loop;
  tl_http_parser hp;
  tl_slot *head, *tail; /* requests in order; the head answers first */
  tl_slot *parsing;     /* the request llhttp is filling right now */
  unsigned nslots;
  unsigned inflight; /* slots owned by a task */
  struct tl_conn *prev, *next;
  struct tl_conn *dirty_next;
  size_t out_pending;      /* bytes in uv_write requests not yet done */
  uint64_t last_active_ms; /* last read or write progress */
  uint64_t req_begin_ms;   /* first byte of the request being parsed */
  /* Its body began (headers complete), or 0: not yet, or waiting for a
   * client that waits for a 100 Continue we could not send yet. */
  uint64_t body_begin_ms;
  tl_minrate body_rate; /* armed by the sweep from body_begin_ms */
  bool body_rate_armed;
  /* The request being parsed waits for a 100 Continue that responses
   * queued ahead of it held back: sent once they are all out. */
  bool continue_owed;
  uint64_t linger_until_ms;
  uint64_t requests; /* requests answered on this connection */
  tl_buf stash;      /* input held back while the parser is paused */
  bool dirty;
  bool reading;
  bool paused;  /* parser paused: too many pipelined requests */
  bool no_more; /* stop parsing: error, Connection: close, EOF */
  bool close_after_flush;
  bool lingering; /* response sent, write side shut, discarding */
  bool closing;   /* uv_close called */
  bool closed;    /* close callback ran */
} tl_conn;

/* One connection's responses in the current io_uring submission; the
 * slots in done[] are the batch's until the send completes. */
typedef struct out_batch {
  tl_conn *conn;
  uv_buf_t iov[FLUSH_IOV];
  tl_slot *done[FLUSH_IOV];
  unsigned n;
  size_t total;
} out_batch;

/* A loop's connections: this module's own state, opaque to the loop. */
struct tl_conn_set {
  tl_conn *all;   /* every open connection */
  tl_conn *dirty; /* connections with responses to write */
  size_t n;
  tl_slot *spare; /* free slots (conn_slot's cache), linked by next */
  unsigned nspare;
  /* The clock read once per read callback: requests completed from the
   * same read arrived together (0: read it at the next request). */
  uint64_t read_now_ns;
  tl_sendq *sendq;    /* NULL: one write per connection */
  out_batch *batches; /* the writes in the next submission */
  unsigned nbatch;
};

static inline uint64_t tl_conn_now_ms(tl_conn *c) {
  return uv_now(c->loop->uv);
}

/* Queues c for tl_conn_flush_dirty (once; never a closing connection,
 * whose memory the dirty list must not outlive). */
static inline void tl_conn_mark_dirty(tl_conn *c) {
  if (!c->dirty && !c->closing) {
    c->dirty = true;
    c->dirty_next = c->loop->conns->dirty;
    c->loop->conns->dirty = c;
  }
}

/* conn_slot: slots (from the loop's cache) and the connection's memory. */
tl_slot *tl_conn_slot_new(tl_conn *c);
/* Called while s->conn is still allocated (before tl_conn_slot_free_conn). */
void tl_conn_slot_free(tl_slot *s);
void tl_conn_slot_append(tl_conn *c, tl_slot *s);
void tl_conn_slot_free_conn(tl_conn *c);
/* The slot's response is in s->out (or it has none: cancelled): queue it
 * for writing, or free it (and maybe c) when the peer is gone. */
void tl_conn_slot_ready(tl_slot *s);
/* An error response with a JSON body, ready at once. */
void tl_conn_slot_fail(tl_slot *s, int status, const char *msg,
                       const char *extra_headers, bool close);

/* conn_task: a complete request answered at once or started as a task. */
void tl_conn_task_start(tl_conn *c, tl_slot *s);

/* conn_close: closes the handle now; memory goes in its close callback. */
void tl_conn_close_now(tl_conn *c);

/* conn_read: reading and feeding the parser. */
void tl_conn_read_update(tl_conn *c);
void tl_conn_read_feed(tl_conn *c, const char *data, size_t len);
/* The request being parsed (or a new one) fails with status; the
 * connection closes after its response. */
void tl_conn_read_fail(tl_conn *c, int status, const char *text);

/* conn_linger: the write side's shutdown, then discarding input. */
void tl_conn_linger_begin(tl_conn *c);
/* Begins it when the connection is to close and everything is out. */
void tl_conn_linger_if_done(tl_conn *c);

/* conn_write: what goes through libuv's write queue. */
/* Copies what the kernel did not take of iov (it took `written` of
 * `total` bytes) into one write request that owns its bytes until its
 * callback. Returns 0, or uv_write's error (the caller closes c). */
int tl_conn_write_queue(tl_conn *c, const uv_buf_t *iov, unsigned n,
                        size_t total, size_t written);
void tl_conn_write_continue(tl_conn *c);
void tl_conn_write_continue_if_due(tl_conn *c);

/* conn_parse: what the parser's events do to the connection. */
extern const tl_http_callbacks tl_conn_parse_cbs;

#endif
