#include "config.h"

#include "http/conn.h"

#include "base/minrate.h"
#include "base/response.h"
#include "base/util.h"
#include "exec/executor.h"
#include "http/dispatch.h"
#include "http/loop.h"
#include "http/sendq.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Requests parsed ahead of their responses (pipelining) before we stop
 * reading, and the output bytes queued in the kernel-refused tail before we
 * stop reading a peer that does not read its responses. */
#define MAX_PIPELINE 64
#define OUT_HIGH     (1024 * 1024)
#define OUT_LOW      (256 * 1024)
#define LINGER_MS    2000
#define FLUSH_IOV    16
/* Connections written per io_uring submission. */
#define SENDQ_CAP    256

struct tl_conn;

/* One request and, once ready, its serialised response. Slots leave the
 * connection strictly in request order (pipelining). While in_task, the
 * task and the out buffer belong to the thread running the task. */
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

typedef struct {
  uv_write_t req;
  tl_conn *conn;
  size_t len;
  char data[];
} write_req;

/* One connection's responses in the current io_uring submission. */
typedef struct out_batch {
  tl_conn *conn;
  uv_buf_t iov[FLUSH_IOV];
  tl_slot *done[FLUSH_IOV];
  unsigned n;
  size_t total;
} out_batch;

/* Freed slots kept for reuse, per loop: a request then costs no malloc
 * and free, and its slot is still in the cache. Not under AddressSanitizer,
 * which must see every slot's use after free. */
#define SLOT_CACHE 4096 /* 64 connections x MAX_PIPELINE */
#if defined(__SANITIZE_ADDRESS__)
#define SLOT_CACHE_ON 0
#else
#define SLOT_CACHE_ON 1
#endif

/* A loop's connections: this module's own state, opaque to the loop. */
struct tl_conn_set {
  tl_conn *all;   /* every open connection */
  tl_conn *dirty; /* connections with responses to write */
  size_t n;
  tl_slot *spare; /* free slots (SLOT_CACHE at most), linked by next */
  unsigned nspare;
  /* The clock read once per read callback: requests completed from the
   * same read arrived together (0: read it at the next request). */
  uint64_t read_now_ns;
  tl_sendq *sendq;    /* NULL: one write per connection */
  out_batch *batches; /* the writes in the next submission */
  unsigned nbatch;
};

static void update_reading(tl_conn *c);
static void conn_close(tl_conn *c);
static void write_cb(uv_write_t *req, int status);

static uint64_t now_ms(tl_conn *c) { return uv_now(c->loop->uv); }

/* ---- slots ---------------------------------------------------------- */

static tl_slot *slot_new(tl_conn *c) {
  tl_conn_set *set = c->loop->conns;
  tl_slot *s = set->spare;
  if (s) {
    set->spare = s->next;
    set->nspare--;
  } else {
    s = tl_xmalloc(sizeof(*s));
  }
  s->next = NULL;
  s->conn = c;
  tl_request_init(&s->req);
  tl_buf_init(&s->out, s->out_inline, sizeof(s->out_inline));
  s->t_start_ns = 0;
  s->status = 0;
  s->route = TL_ROUTE_OTHER;
  s->ready = s->in_task = s->close_after = false;
  s->task.steps = NULL;
  s->task.nsteps = 0;
  s->task.io_timer.idx = 0;
  return s;
}

/* Called while s->conn is still allocated (before conn_free). */
static void slot_free(tl_slot *s) {
  tl_request_close(&s->req);
  tl_buf_close(&s->out);
  tl_task_release(&s->task);
  tl_conn_set *set = s->conn->loop->conns;
  if (SLOT_CACHE_ON && set && set->nspare < SLOT_CACHE) {
    s->next = set->spare;
    set->spare = s;
    set->nspare++;
    return;
  }
  free(s);
}

static void slot_append(tl_conn *c, tl_slot *s) {
  if (c->tail)
    c->tail->next = s;
  else
    c->head = s;
  c->tail = s;
  c->nslots++;
}

static void conn_free(tl_conn *c) {
  tl_buf_close(&c->stash);
  free(c);
}

static void mark_dirty(tl_conn *c) {
  if (!c->dirty && !c->closing) {
    c->dirty = true;
    c->dirty_next = c->loop->conns->dirty;
    c->loop->conns->dirty = c;
  }
}

static void slot_task_begin(tl_slot *s) {
  s->in_task = true;
  s->conn->inflight++;
  s->conn->loop->tasks_inflight++;
}

static void slot_task_cancel(tl_slot *s) {
  s->in_task = false;
  s->conn->inflight--;
  s->conn->loop->tasks_inflight--;
}

/* The slot's response is in s->out (or it has none: cancelled): queue it
 * for writing. */
static void slot_ready(tl_slot *s) {
  tl_conn *c = s->conn;
  if (s->in_task) {
    s->in_task = false;
    c->inflight--;
    c->loop->tasks_inflight--;
  }
  s->ready = true;
  if (c->closed) {
    /* The peer went away while the task ran: nobody to answer. */
    c->nslots--;
    slot_free(s);
    if (c->inflight == 0 && c->nslots == 0)
      conn_free(c);
    return;
  }
  mark_dirty(c);
}

/* An error response with a JSON body, ready at once. */
static void slot_fail(tl_slot *s, int status, const char *msg,
                      const char *extra_headers, bool close) {
  if (close)
    s->close_after = true;
  s->status = (uint16_t) status;
  s->out.len = 0;
  tl_resp_error(&s->out, status, msg, s->req.http_minor,
                s->req.keep_alive && !s->close_after,
                s->req.method == HTTP_HEAD, extra_headers);
  slot_ready(s);
}

/* The completion callback every task carries: back on this loop. */
static void task_done(tl_task *t) {
  tl_slot *s = TL_CONTAINER_OF(t, tl_slot, task);
  s->status = t->status;
  slot_ready(s);
}

/* Answers the request at once (errors) or starts its task under the mode
 * of the moment; a full queue answers 503. */
static void dispatch(tl_conn *c, tl_slot *s) {
  tl_loop *loop = c->loop;
  tl_decision d;
  tl_dispatch(&s->req,
              (loop->ctx.cfg->allow_crash ? TL_ALLOW_CRASH : 0u) |
                  (loop->ctx.cfg->allow_deadlock ? TL_ALLOW_DEADLOCK : 0u),
              &d);
  s->route = (uint8_t) d.route;
  if (d.kind == TL_DECIDE_ERROR) {
    char allow[64] = "";
    if (d.allow)
      snprintf(allow, sizeof(allow), "Allow: %s\r\n", d.allow);
    slot_fail(s, d.status, d.msg, allow, false);
    return;
  }
  tl_mode mode = tl_loop_ctx_mode(&loop->ctx);
  tl_task_setup(&s->task, &loop->ctx, ++loop->next_task_id, mode,
                (uint8_t) d.route, d.steps, d.nsteps, s->t_start_ns, &s->req,
                &s->out, s->req.keep_alive && !s->close_after, task_done);
  slot_task_begin(s);
  if (tl_executor_for(mode)->start(&s->task) == -EAGAIN) {
    slot_task_cancel(s);
    tl_task_release(&s->task);
    tl_count(&loop->stats.rejected, 1);
    slot_fail(s, 503, "task queue full", "Retry-After: 1\r\n", false);
  }
}

/* ---- parser callbacks ------------------------------------------------ */

static tl_request *on_begin(void *ctx) {
  tl_conn *c = ctx;
  c->parsing = slot_new(c);
  c->req_begin_ms = now_ms(c);
  return &c->parsing->req;
}

/* Tells the client waiting for it to send its body; what the kernel does
 * not take now goes behind in libuv's queue. The body's clock
 * (--body-min-rate) starts here: the client could not send before. */
static void send_continue(tl_conn *c) {
  static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
  uv_buf_t b = uv_buf_init((char *) cont, sizeof(cont) - 1);
  int w = uv_try_write((uv_stream_t *) &c->tcp, &b, 1);
  size_t sent = w > 0 ? (size_t) w : 0;
  c->continue_owed = false;
  c->body_begin_ms = c->last_active_ms = now_ms(c);
  c->body_rate_armed = false;
  if (w < 0 && w != UV_EAGAIN) {
    conn_close(c);
    return;
  }
  if (sent == b.len)
    return;
  write_req *wr = tl_xmalloc(sizeof(*wr) + (b.len - sent));
  memcpy(wr->data, cont + sent, b.len - sent);
  wr->conn = c;
  wr->len = b.len - sent;
  c->out_pending += wr->len;
  uv_buf_t rest = uv_buf_init(wr->data, (unsigned) wr->len);
  if (uv_write(&wr->req, (uv_stream_t *) &c->tcp, &rest, 1, write_cb) != 0) {
    c->out_pending -= wr->len;
    free(wr);
    conn_close(c);
  }
}

/* Every response queued ahead is out: the withheld 100 Continue may go,
 * unless the client already sends its body (RFC 9110 10.1.1: then the
 * 100 may be omitted). */
static void maybe_continue(tl_conn *c) {
  if (!c->continue_owed || c->nslots != 0 || c->out_pending != 0 ||
      c->closing || c->lingering || c->close_after_flush || !c->parsing)
    return;
  if (c->parsing->req.body.len == 0)
    send_continue(c);
  else
    c->continue_owed = false;
}

static void on_headers(void *ctx, tl_request *req) {
  tl_conn *c = ctx;
  c->req_begin_ms = 0;
  c->body_rate_armed = false;
  c->continue_owed = false;
  /* Tell a waiting client to send its body; only when nothing is queued
   * ahead, so that the interim response cannot overtake a final one. */
  if (req->expect_continue && c->nslots == 0 && c->out_pending == 0) {
    send_continue(c);
  } else if (req->expect_continue) {
    /* Owed: sent once the responses ahead are out (maybe_continue). The
     * body's clock waits for it, or for the body's first byte (the
     * sweep). */
    c->continue_owed = true;
    c->body_begin_ms = 0;
  } else {
    c->body_begin_ms = now_ms(c);
  }
}

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
  slot_append(c, s);
  dispatch(c, s);
  /* Steps may have run inline (async CPU): the next request's clock is
   * read anew. */
  if (s->task.nsteps > 0)
    set->read_now_ns = 0;
  if (c->no_more)
    return 1;
  return c->nslots >= MAX_PIPELINE ? 1 : 0;
}

static const tl_http_callbacks parser_cbs = {
    .begin = on_begin, .headers_done = on_headers, .complete = on_complete};

/* ---- input ---------------------------------------------------------- */

static void fail_request(tl_conn *c, int status, const char *text) {
  tl_slot *s = c->parsing ? c->parsing : slot_new(c);
  c->parsing = NULL;
  c->req_begin_ms = 0;
  c->continue_owed = false;
  c->no_more = true;
  s->t_start_ns = tl_now_ns();
  slot_append(c, s);
  slot_fail(s, status, text, "", true);
}

static void feed(tl_conn *c, const char *data, size_t len) {
  while (len > 0 && !c->no_more && !c->paused) {
    size_t used = 0;
    int rc = tl_http_parser_feed(&c->hp, data, len, &used);
    if (rc == TL_HTTP_OK)
      return;
    data += used;
    len -= used;
    if (rc == TL_HTTP_PAUSED) {
      tl_http_parser_resume(&c->hp);
      if (c->no_more)
        return;
      if (c->nslots >= MAX_PIPELINE) {
        /* Keep the rest for later; the shared read buffer is reused. */
        c->paused = true;
        tl_buf_append(&c->stash, data, len);
        return;
      }
      continue;
    }
    if (rc == TL_HTTP_UPGRADE) {
      /* We speak no other protocol: answer what came, then close. The
       * parser already gave the upgrade request keep_alive = false, so
       * on_complete marked its slot close_after before dispatching it.
       * Never write the slot here: its task may be running on a worker
       * that reads close_after (a data race TSan found). */
      c->no_more = true;
      if (!c->tail)
        c->close_after_flush = true;
      return;
    }
    fail_request(c, c->hp.error_status, c->hp.error_text);
    return;
  }
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  tl_conn *c = (tl_conn *) h;
  (void) suggested;
  /* One buffer for every connection: read_cb consumes or copies it all. */
  *buf = uv_buf_init(c->loop->read_buf, sizeof(c->loop->read_buf));
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  tl_conn *c = (tl_conn *) stream;
  if (nread == 0)
    return;
  uint64_t now = now_ms(c);
  if (nread < 0) {
    c->last_active_ms = now;
    if (nread != UV_EOF || c->lingering) {
      conn_close(c);
      return;
    }
    /* EOF: a request cut short is dropped; answered ones still go out.
     * Like nginx, a client that closed is not waited for: tasks still
     * queued or running for it skip their remaining steps. */
    c->no_more = true;
    for (tl_slot *s = c->head; s; s = s->next)
      if (s->in_task)
        atomic_store_explicit(&s->task.cancelled, true, memory_order_relaxed);
    if (c->parsing) {
      slot_free(c->parsing);
      c->parsing = NULL;
    }
    if (c->nslots == 0 && c->out_pending == 0) {
      conn_close(c);
      return;
    }
    c->close_after_flush = true;
    update_reading(c);
    return;
  }
  if (c->lingering) {
    c->last_active_ms = now;
    return; /* discarding until EOF or the linger deadline */
  }
  bool idle = c->parsing == NULL && c->nslots == 0;
  c->loop->conns->read_now_ns = 0;
  feed(c, buf->base, (size_t) nread);
  c->loop->conns->read_now_ns = 0; /* other feeds read the clock */
  /* Bytes that neither began nor completed a request (llhttp skips CR/LF
   * between requests) are not activity: otherwise a peer trickling "\r\n"
   * holds the connection forever, a slowloris the header timeout never
   * sees because no request begins. */
  if (!idle || c->parsing != NULL || c->nslots != 0)
    c->last_active_ms = now;
  update_reading(c);
}

static void update_reading(tl_conn *c) {
  bool want = !c->closing && (c->lingering || (!c->no_more && !c->paused &&
                                               !c->close_after_flush &&
                                               c->out_pending < OUT_HIGH));
  if (want == c->reading)
    return;
  if (want)
    uv_read_start((uv_stream_t *) &c->tcp, alloc_cb, read_cb);
  else
    uv_read_stop((uv_stream_t *) &c->tcp);
  c->reading = want;
}

/* ---- output --------------------------------------------------------- */

static void on_shutdown(uv_shutdown_t *req, int status) {
  tl_conn *c = req->data;
  free(req);
  if (status < 0 || c->closing) {
    conn_close(c);
    return;
  }
  /* Read and drop what the peer still sends, so that closing with unread
   * data does not reset the connection before it read our response. */
  c->lingering = true;
  c->linger_until_ms = now_ms(c) + LINGER_MS;
  update_reading(c);
}

static void graceful_close(tl_conn *c) {
  if (c->closing || c->lingering)
    return;
  uv_shutdown_t *req = tl_xmalloc(sizeof(*req));
  req->data = c;
  if (uv_shutdown(req, (uv_stream_t *) &c->tcp, on_shutdown) != 0) {
    free(req);
    conn_close(c);
  }
}

static void maybe_finish(tl_conn *c) {
  if (c->close_after_flush && c->out_pending == 0 && c->nslots == 0)
    graceful_close(c);
}

static void write_cb(uv_write_t *req, int status) {
  write_req *w = (write_req *) req;
  tl_conn *c = w->conn;
  c->out_pending -= w->len;
  free(w);
  if (c->closing)
    return;
  if (status < 0) {
    conn_close(c);
    return;
  }
  c->last_active_ms = now_ms(c);
  if (c->out_pending < OUT_LOW) {
    /* Held-back requests are parsed by flush() once the output drained. */
    if (c->paused)
      mark_dirty(c);
    update_reading(c);
  }
  maybe_finish(c);
  maybe_continue(c);
}

static void account(tl_loop *loop, tl_slot *s, uint64_t now) {
  tl_loop_counters *st = &loop->stats;
  uint64_t us = (now - s->t_start_ns) / 1000;
  unsigned cls = s->status / 100;
  tl_count(&st->requests, 1);
  if (cls < 6)
    tl_count(&st->by_class[cls], 1);
  tl_count(&st->by_route[s->route < TL_ROUTE_COUNT ? s->route : 0], 1);
  if (!loop->ctx.cfg->no_stats) {
    tl_hist_record(&st->latency_us, us);
    tl_hist_record(
        &st->route_latency_us[s->route < TL_ROUTE_COUNT ? s->route : 0], us);
  }
}

/* Takes the ready prefix of the slot queue (up to FLUSH_IOV responses) off
 * the connection and counts them as answered; the caller owns the slots. */
static unsigned take_ready(tl_conn *c, uv_buf_t *iov, tl_slot **done,
                           size_t *total, uint64_t now) {
  unsigned n = 0;
  *total = 0;
  while (n < FLUSH_IOV && c->head && c->head->ready) {
    tl_slot *s = c->head;
    c->head = s->next;
    if (c->head == NULL)
      c->tail = NULL;
    c->nslots--;
    iov[n] = uv_buf_init(s->out.data, (unsigned) s->out.len);
    done[n++] = s;
    *total += s->out.len;
    if (s->status != 0) { /* 0: cancelled, nothing to send */
      account(c->loop, s, now);
      c->requests++;
    }
    if (s->close_after) {
      c->close_after_flush = true;
      c->no_more = true;
      break;
    }
  }
  return n;
}

/* The kernel took `w` bytes of iov (w < 0: an error, UV_EAGAIN counting as
 * nothing taken): the rest goes to libuv's write queue, which keeps order
 * and waits for the socket. Frees the slots. False if c was closed. */
static bool wrote(tl_conn *c, const uv_buf_t *iov, tl_slot **done, unsigned n,
                  size_t total, ssize_t w) {
  size_t written = w > 0 ? (size_t) w : 0;
  bool ok = true;
  if (w < 0 && w != UV_EAGAIN) {
    ok = false;
  } else if (written < total) {
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
    if (uv_write(&wr->req, (uv_stream_t *) &c->tcp, &b, 1, write_cb) != 0) {
      c->out_pending -= off;
      free(wr);
      ok = false;
    }
  }
  if (ok && written > 0)
    c->last_active_ms = uv_now(c->loop->uv);
  for (unsigned i = 0; i < n; i++)
    slot_free(done[i]);
  if (!ok)
    conn_close(c);
  return ok;
}

/* After the ready responses went out: parse held-back input, read again,
 * close if that was the last response. */
static void after_flush(tl_conn *c) {
  if (c->closing || c->lingering)
    return;
  if (c->paused && c->nslots < MAX_PIPELINE / 2 && c->out_pending < OUT_HIGH) {
    /* Parse what was held back, then read again. Not while the peer is
     * not reading its responses: a held-back read buffer of small
     * requests could otherwise queue ~1,500 responses (of up to 16 MiB
     * files each) past OUT_HIGH; write_cb resumes us below OUT_LOW. */
    c->paused = false;
    tl_buf held = c->stash;
    tl_buf_init(&c->stash, NULL, 0);
    c->loop->conns->read_now_ns = 0; /* input read earlier: a clock now */
    feed(c, held.data, held.len);
    c->loop->conns->read_now_ns = 0;
    tl_buf_close(&held);
  }
  update_reading(c);
  maybe_finish(c);
  maybe_continue(c);
}

/* Writes the ready prefix of the slot queue with one writev per FLUSH_IOV
 * responses (the path without io_uring, and behind a libuv write queue). */
static void flush(tl_conn *c, uint64_t now) {
  while (!c->closing && !c->lingering && c->head && c->head->ready) {
    uv_buf_t iov[FLUSH_IOV];
    tl_slot *done[FLUSH_IOV];
    size_t total;
    unsigned n = take_ready(c, iov, done, &total, now);
    int w = uv_try_write((uv_stream_t *) &c->tcp, iov, n);
    if (!wrote(c, iov, done, n, total, w))
      return;
    if (c->close_after_flush)
      break;
  }
  after_flush(c);
}

/* ---- batched sends (io_uring) ------------------------------------------ */

/* libuv's uv_buf_t is struct iovec's layout on Unix (it hands them to
 * writev); the send queue relies on the same. */
_Static_assert(sizeof(uv_buf_t) == sizeof(struct iovec) &&
                   offsetof(uv_buf_t, base) ==
                       offsetof(struct iovec, iov_base) &&
                   offsetof(uv_buf_t, len) == offsetof(struct iovec, iov_len),
               "uv_buf_t is not an iovec");

tl_conn_set *tl_conn_set_init(bool uring, const char **why) {
  tl_conn_set *set = tl_xcalloc(1, sizeof(*set));
  *why = "--no-uring";
  if (uring && tl_sendq_init(&set->sendq, SENDQ_CAP, why) == 0) {
    set->batches = tl_xcalloc(SENDQ_CAP, sizeof(*set->batches));
    *why = NULL;
  }
  return set;
}

void tl_conn_set_close(tl_conn_set *set) {
  if (!set)
    return;
  while (set->spare) {
    tl_slot *s = set->spare;
    set->spare = s->next;
    free(s);
  }
  tl_sendq_close(set->sendq);
  free(set->batches);
  free(set);
}

size_t tl_conn_count(const tl_conn_set *set) { return set ? set->n : 0; }

static void batch_done(void *tag, int res) {
  out_batch *b = tag;
  tl_conn *c = b->conn;
  if (!wrote(c, b->iov, b->done, b->n, b->total, res))
    return;
  if (!c->close_after_flush && !c->lingering && c->head && c->head->ready) {
    mark_dirty(c); /* more than FLUSH_IOV were ready: the next round */
    return;
  }
  after_flush(c);
}

static void run_batches(tl_loop *loop) {
  tl_conn_set *set = loop->conns;
  if (set->nbatch == 0)
    return;
  tl_count(&loop->stats.send_submits, 1);
  tl_count(&loop->stats.send_writes, set->nbatch);
  set->nbatch = 0;
  tl_sendq_run(set->sendq, batch_done);
}

static void batch_add(tl_conn *c, uint64_t now) {
  tl_conn_set *set = c->loop->conns;
  uv_os_fd_t fd = -1; /* an open handle always has one */
  (void) uv_fileno((uv_handle_t *) &c->tcp, &fd);
  if (set->nbatch == SENDQ_CAP)
    run_batches(c->loop);
  out_batch *b = &set->batches[set->nbatch++];
  b->conn = c;
  b->n = take_ready(c, b->iov, b->done, &b->total, now);
  tl_sendq_add(set->sendq, fd, (const struct iovec *) b->iov, b->n, b);
}

void tl_conn_flush_dirty(tl_loop *loop) {
  tl_conn_set *set = loop->conns;
  /* A flush can make more responses ready (held-back input parsed):
   * keep going until the list stays empty. */
  while (set->dirty) {
    uint64_t now = tl_now_ns();
    tl_conn *list = set->dirty;
    set->dirty = NULL;
    while (list) {
      tl_conn *c = list;
      list = c->dirty_next;
      c->dirty = false;
      c->dirty_next = NULL;
      if (c->closed)
        continue;
      /* Behind queued uv_writes only libuv may write (order). */
      if (set->sendq && c->out_pending == 0 && !c->closing && !c->lingering &&
          c->head && c->head->ready)
        batch_add(c, now);
      else
        flush(c, now);
    }
    run_batches(loop);
  }
}

/* ---- lifetime ------------------------------------------------------- */

static void on_close(uv_handle_t *h) {
  tl_conn *c = (tl_conn *) h;
  tl_conn_set *set = c->loop->conns;
  c->closed = true;
  if (c->prev)
    c->prev->next = c->next;
  else
    set->all = c->next;
  if (c->next)
    c->next->prev = c->prev;
  set->n--;
  tl_count(&c->loop->stats.open, (uint64_t) -1);
  if (c->parsing) {
    slot_free(c->parsing);
    c->parsing = NULL;
  }
  /* Slots whose task is still out stay until it returns (task_done). */
  tl_slot **pp = &c->head;
  while (*pp) {
    tl_slot *s = *pp;
    if (s->in_task) {
      atomic_store_explicit(&s->task.cancelled, true, memory_order_relaxed);
      pp = &s->next;
      continue;
    }
    *pp = s->next;
    c->nslots--;
    slot_free(s);
  }
  if (c->inflight == 0)
    conn_free(c);
}

static void conn_close(tl_conn *c) {
  if (c->closing)
    return;
  c->closing = true;
  if (c->dirty) {
    /* Unlink from the dirty list: it must never point at a freed conn. */
    for (tl_conn **pp = &c->loop->conns->dirty; *pp; pp = &(*pp)->dirty_next) {
      if (*pp == c) {
        *pp = c->dirty_next;
        break;
      }
    }
    c->dirty = false;
  }
  uv_close((uv_handle_t *) &c->tcp, on_close);
}

void tl_conn_accept(tl_loop *loop, uv_stream_t *listener) {
  tl_conn_set *set = loop->conns;
  const tl_config *cfg = loop->ctx.cfg;
  tl_conn *c = tl_xcalloc(1, sizeof(*c));
  c->loop = loop;
  uv_tcp_init(loop->uv, &c->tcp);
  if (uv_accept(listener, (uv_stream_t *) &c->tcp) != 0) {
    uv_close((uv_handle_t *) &c->tcp, (uv_close_cb) free);
    return;
  }
  c->next = set->all;
  if (set->all)
    set->all->prev = c;
  set->all = c;
  set->n++;
  tl_count(&loop->stats.accepted, 1);
  tl_count(&loop->stats.open, 1);
  if (set->n > (size_t) cfg->max_conns || loop->draining) {
    /* Over the limit: a clear answer and a clean close; existing
     * connections are not touched. */
    char mem[512];
    tl_buf busy;
    tl_buf_init(&busy, mem, sizeof(mem));
    tl_resp_error(&busy, 503, "too many connections", 1, false, false,
                  "Retry-After: 1\r\n");
    uv_buf_t b = uv_buf_init(busy.data, (unsigned) busy.len);
    (void) uv_try_write((uv_stream_t *) &c->tcp, &b, 1);
    tl_buf_close(&busy);
    tl_count(&loop->stats.refused, 1);
    c->no_more = true;
    graceful_close(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  tl_http_parser_init(&c->hp, &parser_cbs, c, (size_t) cfg->max_header_bytes,
                      (size_t) cfg->max_body_bytes);
  tl_buf_init(&c->stash, NULL, 0);
  c->last_active_ms = uv_now(loop->uv);
  update_reading(c);
}

/* The sweep's judgement of a body in progress (--body-min-rate). */
static bool body_too_slow(tl_conn *c, uint64_t now, uint64_t min_rate) {
  uint64_t bytes = c->parsing->req.body.len;
  if (!c->body_rate_armed) {
    if (c->body_begin_ms == 0) {
      if (bytes == 0)
        return false; /* still waiting for 100 Continue's answer */
      tl_minrate_start(&c->body_rate, now, bytes);
    } else {
      tl_minrate_start(&c->body_rate, c->body_begin_ms, 0);
    }
    c->body_rate_armed = true;
  }
  return tl_minrate_too_slow(&c->body_rate, now, bytes, min_rate);
}

void tl_conn_sweep(tl_loop *loop, uint64_t now) {
  uint64_t hdr = (uint64_t) loop->ctx.cfg->header_timeout_ms;
  uint64_t idle = (uint64_t) loop->ctx.cfg->idle_timeout_ms;
  uint64_t min_rate = (uint64_t) loop->ctx.cfg->body_min_rate;
  tl_conn *next;
  for (tl_conn *c = loop->conns->all; c; c = next) {
    next = c->next;
    if (c->closing)
      continue;
    if (c->lingering) {
      if (now >= c->linger_until_ms)
        conn_close(c);
      continue;
    }
    if (c->out_pending > 0) {
      /* The peer is not reading its responses. */
      if (now - c->last_active_ms > idle)
        conn_close(c);
      else if (c->body_rate_armed && c->parsing) /* we stopped reading */
        tl_minrate_start(&c->body_rate, now, c->parsing->req.body.len);
      continue;
    }
    if (c->req_begin_ms && now - c->req_begin_ms > hdr) {
      /* Slowloris: headers still incomplete after the header timeout. */
      fail_request(c, 408, "timed out waiting for the request headers");
      update_reading(c);
      continue;
    }
    if (c->parsing && tl_http_parser_in_body(&c->hp) && !c->continue_owed &&
        now - c->last_active_ms > idle) {
      fail_request(c, 408, "timed out waiting for the request body");
      update_reading(c);
      continue;
    }
    if (min_rate && c->parsing && tl_http_parser_in_body(&c->hp) &&
        body_too_slow(c, now, min_rate)) {
      /* Trickled: one client must not hold a connection (and the worker
       * slot its request will need) by sending just inside each idle
       * timeout. */
      fail_request(c, 408, "request body slower than --body-min-rate");
      update_reading(c);
      continue;
    }
    if (c->nslots == 0 && !c->parsing &&
        now - c->last_active_ms > (c->requests ? idle : hdr))
      conn_close(c); /* idle keep-alive, or never sent a byte */
  }
}

void tl_conn_drain_all(tl_loop *loop) {
  tl_conn *next;
  for (tl_conn *c = loop->conns->all; c; c = next) {
    next = c->next;
    if (c->closing)
      continue;
    c->no_more = true;
    c->close_after_flush = true;
    if (c->parsing) {
      slot_free(c->parsing);
      c->parsing = NULL;
    }
    update_reading(c);
    if (c->nslots == 0 && c->out_pending == 0)
      conn_close(c);
  }
}

void tl_conn_close_all(tl_loop *loop) {
  tl_conn *next;
  for (tl_conn *c = loop->conns->all; c; c = next) {
    next = c->next;
    conn_close(c);
  }
}
