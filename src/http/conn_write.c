/* What goes through libuv's write queue: the bytes the kernel did not take
 * at once (libuv keeps their order and waits for the socket), and the
 * 100 Continue interim response, which waits behind the responses queued
 * ahead of it. */
#include "config.h"

#include "http/conn_internal.h"

#include "base/util.h"

#include <stdlib.h>
#include <string.h>

/* A write request that owns its bytes: freed in write_cb. */
typedef struct {
  uv_write_t req;
  tl_conn *conn;
  size_t len;
  char data[];
} write_req;

static void write_cb(uv_write_t *req, int status) {
  write_req *w = (write_req *) req;
  tl_conn *c = w->conn;
  c->out_pending -= w->len;
  free(w);
  if (c->closing)
    return;
  if (status < 0) {
    tl_conn_close_now(c);
    return;
  }
  c->last_active_ms = tl_conn_now_ms(c);
  if (c->out_pending < OUT_LOW) {
    /* Held-back requests are parsed by conn_flush once the output drained. */
    if (c->paused)
      tl_conn_mark_dirty(c);
    tl_conn_read_update(c);
  }
  tl_conn_linger_if_done(c);
  tl_conn_write_continue_if_due(c);
}

int tl_conn_write_queue(tl_conn *c, const uv_buf_t *iov, unsigned n,
                        size_t total, size_t written) {
  write_req *wr = tl_xmalloc(sizeof(*wr) + (total - written));
  size_t off = 0, skip = written;
  for (unsigned i = 0; i < n; i++) {
    size_t l = iov[i].len;
    if (skip >= l) {
      skip -= l;
      continue;
    }
    memcpy(wr->data + off, iov[i].base + skip, l - skip);
    off += l - skip;
    skip = 0;
  }
  wr->conn = c;
  wr->len = off;
  c->out_pending += off;
  uv_buf_t b = uv_buf_init(wr->data, (unsigned) off);
  int rc = uv_write(&wr->req, (uv_stream_t *) &c->tcp, &b, 1, write_cb);
  if (rc != 0) {
    c->out_pending -= off;
    free(wr);
  }
  return rc;
}

/* Tells the client waiting for it to send its body; what the kernel does
 * not take now goes behind in libuv's queue. The body's clock
 * (--body-min-rate) starts here: the client could not send before. */
void tl_conn_write_continue(tl_conn *c) {
  static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
  uv_buf_t b = uv_buf_init((char *) cont, sizeof(cont) - 1);
  int w = uv_try_write((uv_stream_t *) &c->tcp, &b, 1);
  size_t sent = w > 0 ? (size_t) w : 0;
  c->continue_owed = false;
  c->body_begin_ms = c->last_active_ms = tl_conn_now_ms(c);
  c->body_rate_armed = false;
  if (w < 0 && w != UV_EAGAIN) {
    tl_conn_close_now(c);
    return;
  }
  if (sent == b.len)
    return;
  if (tl_conn_write_queue(c, &b, 1, b.len, sent) != 0)
    tl_conn_close_now(c);
}

/* Every response queued ahead is out: the withheld 100 Continue may go,
 * unless the client already sends its body (RFC 9110 10.1.1: then the
 * 100 may be omitted). */
void tl_conn_write_continue_if_due(tl_conn *c) {
  if (!c->continue_owed || c->nslots != 0 || c->out_pending != 0 ||
      c->closing || c->lingering || c->close_after_flush || !c->parsing)
    return;
  if (c->parsing->req.body.len == 0)
    tl_conn_write_continue(c);
  else
    c->continue_owed = false;
}
