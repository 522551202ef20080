/* What the parser's events do to a connection: a request's slot and its
 * header clock, the 100 Continue a client may wait for, and at the end the
 * request answered or started, in order behind the ones before it
 * (pipelining, paused at MAX_PIPELINE). */
#include "config.h"

#include "http/conn_internal.h"

#include "base/util.h"

static tl_request *on_begin(void *ctx) {
  tl_conn *c = ctx;
  c->parsing = tl_conn_slot_new(c);
  c->req_begin_ms = tl_conn_now_ms(c);
  return &c->parsing->req;
}

static void on_headers(void *ctx, tl_request *req) {
  tl_conn *c = ctx;
  c->req_begin_ms = 0;
  c->body_rate_armed = false;
  c->continue_owed = false;
  /* Tell a waiting client to send its body; only when nothing is queued
   * ahead, so that the interim response cannot overtake a final one. */
  if (req->expect_continue && c->nslots == 0 && c->out_pending == 0) {
    tl_conn_write_continue(c);
  } else if (req->expect_continue) {
    /* Owed: sent once the responses ahead are out
     * (tl_conn_write_continue_if_due). The body's clock waits for it, or
     * for the body's first byte (the sweep). */
    c->continue_owed = true;
    c->body_begin_ms = 0;
  } else {
    c->body_begin_ms = tl_conn_now_ms(c);
  }
}

/* Returns 1 to pause the parser: no more requests on this connection, or
 * MAX_PIPELINE of them wait for their responses. */
static int on_complete(void *ctx, tl_request *req) {
  tl_conn *c = ctx;
  tl_slot *s = c->parsing;
  (void) req;
  c->parsing = NULL;
  c->req_begin_ms = 0;
  c->continue_owed = false;
  tl_conn_set *set = c->loop->conns;
  if (set->read_now_ns == 0)
    set->read_now_ns = tl_now_ns();
  s->t_start_ns = set->read_now_ns;
  if (!s->req.keep_alive || c->loop->draining) {
    s->close_after = true;
    c->no_more = true;
  }
  tl_conn_slot_append(c, s);
  tl_conn_task_start(c, s);
  /* Steps may have run inline (async CPU): the next request's clock is
   * read anew. */
  if (s->task.nsteps > 0)
    set->read_now_ns = 0;
  if (c->no_more)
    return 1;
  return c->nslots >= MAX_PIPELINE ? 1 : 0;
}

const tl_http_callbacks tl_conn_parse_cbs = {
    .begin = on_begin, .headers_done = on_headers, .complete = on_complete};
