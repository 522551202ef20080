#include "config.h"

#include "observer/admin_conn.h"

#include "base/response.h"
#include "base/util.h"

#include <stdlib.h>
#include <string.h>

#define ADMIN_MAX_HEADER 16384
#define ADMIN_MAX_BODY   4096

/* Every field: observer thread only. */
struct tl_admin_conns {
  uv_loop_t *uv;
  tl_admin_handler handler;
  void *ctx;
  tl_admin_conn *all;
  char read_buf[16384]; /* shared by all reads: consumed in read_cb */
};

/* Every field: observer thread only. */
struct tl_admin_conn {
  uv_tcp_t tcp; /* first: the close callback gets the handle */
  tl_admin_conns *set;
  tl_admin_conn *prev, *next;
  tl_http_parser hp;
  tl_request req;
  tl_req_headers headers; /* the values the endpoints check (Host, Origin) */
  tl_buf stash;           /* input held while the connection is held */
  size_t out_pending;
  void (*on_close)(void *arg);
  void *on_close_arg;
  bool stream;      /* one endless response: nothing more is read */
  bool held;        /* an answer is coming later (tl_admin_conn_hold) */
  bool close_after; /* close once the output is written */
  bool closing;
  bool closed;
};

/* A write the kernel did not take at once: a copy in data[], or the
 * caller's bytes kept alive until release(arg). */
typedef struct {
  uv_write_t req;
  tl_admin_conn *conn;
  void (*release)(void *arg);
  void *arg;
  size_t len;
  char data[];
} admin_write;

static void feed(tl_admin_conn *c, const char *data, size_t len);
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void conn_free(tl_admin_conn *c) {
  tl_request_close(&c->req);
  tl_buf_close(&c->stash);
  free(c);
}

static void on_conn_closed(uv_handle_t *h) {
  tl_admin_conn *c = (tl_admin_conn *) h;
  c->closed = true;
  if (c->prev)
    c->prev->next = c->next;
  else
    c->set->all = c->next;
  if (c->next)
    c->next->prev = c->prev;
  /* A held connection is still referenced: its release frees it. */
  if (!c->held)
    conn_free(c);
}

void tl_admin_conn_close(tl_admin_conn *c) {
  if (c->closing)
    return;
  c->closing = true;
  if (c->on_close)
    c->on_close(c->on_close_arg);
  uv_close((uv_handle_t *) &c->tcp, on_conn_closed);
}

/* ---- writing -------------------------------------------------------- */

static void write_cb(uv_write_t *req, int status) {
  admin_write *w = (admin_write *) req;
  tl_admin_conn *c = w->conn;
  c->out_pending -= w->len;
  if (w->release)
    w->release(w->arg);
  free(w);
  if (status < 0) {
    tl_admin_conn_close(c);
    return;
  }
  if (c->close_after && c->out_pending == 0)
    tl_admin_conn_close(c);
}

/* Writes what the kernel takes now and queues the rest, copied unless the
 * caller keeps it alive (release). True when the queued write will call
 * release. */
static bool write_or_queue(tl_admin_conn *c, const char *data, size_t len,
                           void (*release)(void *), void *arg) {
  if (c->closing)
    return false;
  uv_buf_t b = uv_buf_init((char *) data, (unsigned) len);
  int n = uv_try_write((uv_stream_t *) &c->tcp, &b, 1);
  if (n < 0 && n != UV_EAGAIN) {
    tl_admin_conn_close(c);
    return false;
  }
  size_t sent = n > 0 ? (size_t) n : 0;
  if (sent == len)
    return false;
  size_t rest = len - sent;
  admin_write *w;
  if (release) {
    w = tl_xmalloc(sizeof(*w));
    b = uv_buf_init((char *) data + sent, (unsigned) rest);
  } else {
    w = tl_xmalloc(sizeof(*w) + rest);
    memcpy(w->data, data + sent, rest);
    b = uv_buf_init(w->data, (unsigned) rest);
  }
  w->conn = c;
  w->release = release;
  w->arg = arg;
  w->len = rest;
  c->out_pending += rest;
  if (uv_write(&w->req, (uv_stream_t *) &c->tcp, &b, 1, write_cb) != 0) {
    c->out_pending -= rest;
    free(w);
    tl_admin_conn_close(c);
    return false;
  }
  return true;
}

static void send_bytes(tl_admin_conn *c, const char *data, size_t len,
                       void (*release)(void *), void *arg) {
  if (!write_or_queue(c, data, len, release, arg) && release)
    release(arg);
}

void tl_admin_conn_send(tl_admin_conn *c, const void *data, size_t len) {
  send_bytes(c, data, len, NULL, NULL);
}

void tl_admin_conn_send_ref(tl_admin_conn *c, const void *data, size_t len,
                            void (*release)(void *arg), void *arg) {
  send_bytes(c, data, len, release, arg);
}

void tl_admin_conn_send_response(tl_admin_conn *c, const tl_buf *out) {
  send_bytes(c, out->data, out->len, NULL, NULL);
  if (!c->req.keep_alive) {
    c->close_after = true;
    if (c->out_pending == 0)
      tl_admin_conn_close(c);
  }
}

void tl_admin_conn_respond(tl_admin_conn *c, int status, const char *ctype,
                           const char *extra, const void *body, size_t len) {
  tl_buf out;
  tl_buf_init(&out, NULL, 0);
  tl_resp_begin(&out, status, c->req.http_minor, c->req.keep_alive);
  if (extra)
    tl_buf_puts(&out, extra);
  tl_resp_finish(&out, ctype, body, len, c->req.method == HTTP_HEAD);
  tl_admin_conn_send_response(c, &out);
  tl_buf_close(&out);
}

void tl_admin_conn_respond_error(tl_admin_conn *c, int status, const char *msg,
                                 const char *extra) {
  tl_buf out;
  tl_buf_init(&out, NULL, 0);
  tl_resp_error(&out, status, msg, c->req.http_minor, c->req.keep_alive,
                c->req.method == HTTP_HEAD, extra ? extra : "");
  tl_admin_conn_send_response(c, &out);
  tl_buf_close(&out);
}

void tl_admin_conn_stream(tl_admin_conn *c) { c->stream = true; }

size_t tl_admin_conn_out_pending(const tl_admin_conn *c) {
  return c->out_pending;
}

void tl_admin_conn_on_close(tl_admin_conn *c, void (*cb)(void *arg),
                            void *arg) {
  c->on_close = cb;
  c->on_close_arg = arg;
}

/* ---- holding -------------------------------------------------------- */

void tl_admin_conn_hold(tl_admin_conn *c) { c->held = true; }

bool tl_admin_conn_is_open(const tl_admin_conn *c) { return !c->closing; }

uv_loop_t *tl_admin_conn_loop(const tl_admin_conn *c) { return c->tcp.loop; }

void tl_admin_conn_release(tl_admin_conn *c) {
  c->held = false;
  if (c->closed) {
    conn_free(c);
    return;
  }
  if (c->closing)
    return; /* the close callback frees it */
  /* Continue with requests that arrived behind the held one. */
  tl_buf held = c->stash;
  tl_buf_init(&c->stash, NULL, 0);
  feed(c, held.data, held.len);
  tl_buf_close(&held);
  if (!c->closing && !c->held && !c->close_after)
    uv_read_start((uv_stream_t *) &c->tcp, alloc_cb, read_cb);
}

/* ---- reading -------------------------------------------------------- */

static tl_request *on_begin(void *ctx) {
  tl_admin_conn *c = ctx;
  tl_request_close(&c->req);
  tl_request_init(&c->req);
  c->req.headers = &c->headers;
  return &c->req;
}

static int on_complete(void *ctx, tl_request *req) {
  tl_admin_conn *c = ctx;
  c->set->handler(c->set->ctx, c, req);
  /* One at a time while an answer is pending, or after a stream began. */
  return c->held || c->stream || c->close_after || c->closing;
}

static const tl_http_callbacks admin_cbs = {.begin = on_begin,
                                            .complete = on_complete};

static void feed(tl_admin_conn *c, const char *data, size_t len) {
  while (len > 0 && !c->closing) {
    size_t used = 0;
    int rc = tl_http_parser_feed(&c->hp, data, len, &used);
    if (rc == TL_HTTP_OK)
      return;
    data += used;
    len -= used;
    if (rc == TL_HTTP_PAUSED) {
      tl_http_parser_resume(&c->hp);
      if (c->held) {
        tl_buf_append(&c->stash, data, len);
        uv_read_stop((uv_stream_t *) &c->tcp);
        return;
      }
      if (c->stream || c->close_after)
        return; /* nothing more is read from a stream client */
      continue;
    }
    if (rc == TL_HTTP_UPGRADE) {
      c->close_after = true;
      return;
    }
    c->req.keep_alive = false;
    tl_admin_conn_respond_error(c, c->hp.error_status, c->hp.error_text, NULL);
    return;
  }
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  tl_admin_conn *c = (tl_admin_conn *) h;
  (void) suggested;
  *buf = uv_buf_init(c->set->read_buf, sizeof(c->set->read_buf));
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  tl_admin_conn *c = (tl_admin_conn *) s;
  if (nread < 0) {
    tl_admin_conn_close(c);
    return;
  }
  if (nread == 0 || c->stream)
    return;
  feed(c, buf->base, (size_t) nread);
}

/* ---- the set -------------------------------------------------------- */

tl_admin_conns *tl_admin_conn_conns_init(uv_loop_t *uv,
                                         tl_admin_handler handler, void *ctx) {
  tl_admin_conns *set = tl_xcalloc(1, sizeof(*set));
  set->uv = uv;
  set->handler = handler;
  set->ctx = ctx;
  return set;
}

void tl_admin_conn_accept(tl_admin_conns *set, uv_stream_t *listener) {
  tl_admin_conn *c = tl_xcalloc(1, sizeof(*c));
  c->set = set;
  uv_tcp_init(set->uv, &c->tcp);
  if (uv_accept(listener, (uv_stream_t *) &c->tcp) != 0) {
    uv_close((uv_handle_t *) &c->tcp, (uv_close_cb) free);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  tl_request_init(&c->req);
  tl_buf_init(&c->stash, NULL, 0);
  tl_http_parser_init(&c->hp, &admin_cbs, c, ADMIN_MAX_HEADER, ADMIN_MAX_BODY);
  c->next = set->all;
  if (set->all)
    set->all->prev = c;
  set->all = c;
  uv_read_start((uv_stream_t *) &c->tcp, alloc_cb, read_cb);
}

void tl_admin_conn_close_all(tl_admin_conns *set) {
  tl_admin_conn *next;
  for (tl_admin_conn *c = set->all; c; c = next) {
    next = c->next;
    tl_admin_conn_close(c);
  }
}

void tl_admin_conn_conns_close(tl_admin_conns *set) { free(set); }

/* ---- addresses ------------------------------------------------------ */

int tl_admin_conn_peer_addr(const tl_admin_conn *c,
                            struct sockaddr_storage *ss) {
  int len = sizeof(*ss);
  return uv_tcp_getpeername(&c->tcp, (struct sockaddr *) ss, &len);
}

int tl_admin_conn_local_addr(const tl_admin_conn *c,
                             struct sockaddr_storage *ss) {
  int len = sizeof(*ss);
  return uv_tcp_getsockname(&c->tcp, (struct sockaddr *) ss, &len);
}
