#include "config.h"

#include "base/buf.h"
#include "base/listen.h"
#include "http/parser.h"
#include "observer/observer.h"
#include "base/query.h"
#include "base/response.h"
#include "base/static_file.h"
#include "observer/sampler.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* An SSE client that falls this far behind is dropped, not buffered for. */
#define SSE_MAX_PENDING (8u * 1024 * 1024)
#define SSE_RETRY_MS 2000

typedef struct obs_conn obs_conn;

struct tl_observer {
  uv_thread_t thread;
  uv_loop_t loop;
  uv_tcp_t listener;
  uv_async_t stop_async;
  uv_async_t ack_async;
  uv_timer_t sample_timer;
  uv_sem_t started;
  int start_rc;
  int port;
  tl_server *srv;
  tl_registry *reg;
  tl_stats *stats;
  tl_thread_ctx ctx;
  int www_fd;
  int chart_dirfd;
  char chart_name[256];
  obs_conn *conns;
  pthread_mutex_t ack_mu;   /* guards acks: filled by the workload loop */
  tl_control *acks;
  char read_buf[16384];
};

/* A snapshot framed as one SSE event, shared by every stream client. */
typedef struct shared_event {
  int refs;
  size_t len;
  char data[];
} shared_event;

struct obs_conn {
  uv_tcp_t tcp;
  tl_observer *obs;
  obs_conn *prev, *next;
  tl_http_parser hp;
  tl_request req;
  tl_control ctl;
  tl_buf stash;          /* input held while a /control waits */
  size_t out_pending;
  bool sse;
  bool waiting;          /* a /control is out on the workload loop */
  bool close_after;
  bool closing;
  bool closed;
};

typedef struct {
  uv_write_t req;
  obs_conn *conn;
  shared_event *shared;  /* or NULL: data[] holds a private copy */
  size_t len;
  char data[];
} obs_write;

static void conn_close(obs_conn *c);
static void feed(obs_conn *c, const char *data, size_t len);
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* ---- writing -------------------------------------------------------- */

static void write_cb(uv_write_t *req, int status) {
  obs_write *w = (obs_write *) req;
  obs_conn *c = w->conn;
  c->out_pending -= w->len;
  if (w->shared && --w->shared->refs == 0)
    free(w->shared);
  free(w);
  if (status < 0) {
    conn_close(c);
    return;
  }
  if (c->close_after && c->out_pending == 0)
    conn_close(c);
}

static void send_bytes(obs_conn *c, const char *data, size_t len,
                       shared_event *shared) {
  if (c->closing)
    return;
  uv_buf_t b = uv_buf_init((char *) data, (unsigned) len);
  int n = uv_try_write((uv_stream_t *) &c->tcp, &b, 1);
  if (n < 0 && n != UV_EAGAIN) {
    conn_close(c);
    return;
  }
  size_t done = n > 0 ? (size_t) n : 0;
  if (done == len)
    return;
  size_t rest = len - done;
  obs_write *w;
  if (shared) {
    w = tl_xmalloc(sizeof(*w));
    shared->refs++;
    b = uv_buf_init((char *) data + done, (unsigned) rest);
  } else {
    w = tl_xmalloc(sizeof(*w) + rest);
    memcpy(w->data, data + done, rest);
    b = uv_buf_init(w->data, (unsigned) rest);
  }
  w->conn = c;
  w->shared = shared;
  w->len = rest;
  c->out_pending += rest;
  if (uv_write(&w->req, (uv_stream_t *) &c->tcp, &b, 1, write_cb) != 0) {
    c->out_pending -= rest;
    if (shared)
      shared->refs--;
    free(w);
    conn_close(c);
  }
}

static void send_buf(obs_conn *c, tl_buf *b) {
  send_bytes(c, b->data, b->len, NULL);
  if (!c->req.keep_alive) {
    c->close_after = true;
    if (c->out_pending == 0)
      conn_close(c);
  }
}

static void respond(obs_conn *c, int status, const char *ctype,
                    const char *extra, const char *body, size_t len) {
  tl_buf out;
  tl_buf_init(&out, NULL, 0);
  tl_resp_begin(&out, status, c->req.http_minor, c->req.keep_alive);
  if (extra)
    tl_buf_puts(&out, extra);
  tl_resp_finish(&out, ctype, body, len, c->req.method == HTTP_HEAD);
  send_buf(c, &out);
  tl_buf_free(&out);
}

static void respond_error(obs_conn *c, int status, const char *msg,
                          const char *extra) {
  tl_buf out;
  tl_buf_init(&out, NULL, 0);
  tl_resp_error(&out, status, msg, c->req.http_minor, c->req.keep_alive,
                c->req.method == HTTP_HEAD, extra ? extra : "");
  send_buf(c, &out);
  tl_buf_free(&out);
}

/* ---- endpoints ------------------------------------------------------ */

static bool peer_is_loopback(obs_conn *c) {
  struct sockaddr_storage ss;
  int len = sizeof(ss);
  if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *) &ss, &len) != 0)
    return false;
  if (ss.ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *) &ss;
    return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
  }
  if (ss.ss_family == AF_INET6) {
    const struct in6_addr *a = &((const struct sockaddr_in6 *) &ss)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(a))
      return true;
    return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
  }
  return false;
}

static void control_state_json(tl_observer *obs, tl_buf *b) {
  tl_server *srv = obs->srv;
  tl_buf_printf(b, "{\"ok\":true,\"mode\":\"%s\",\"threads\":%d,\"pinned\":%s}\n",
                tl_mode_name(tl_server_mode(srv)), atomic_load(&srv->threads),
                atomic_load(&srv->pinned) ? "true" : "false");
}

/* Workload loop thread: hand the answered control back to the observer. */
static void control_done(tl_control *ctl) {
  tl_observer *obs = ((obs_conn *) ctl->data)->obs;
  pthread_mutex_lock(&obs->ack_mu);
  ctl->next = obs->acks;
  obs->acks = ctl;
  uv_async_send(&obs->ack_async);
  pthread_mutex_unlock(&obs->ack_mu);
}

static void conn_free(obs_conn *c) {
  tl_request_free(&c->req);
  tl_buf_free(&c->stash);
  free(c);
}

static void on_ack(uv_async_t *h) {
  tl_observer *obs = TL_CONTAINER_OF(h, tl_observer, ack_async);
  pthread_mutex_lock(&obs->ack_mu);
  tl_control *list = obs->acks;
  obs->acks = NULL;
  pthread_mutex_unlock(&obs->ack_mu);
  while (list) {
    tl_control *ctl = list;
    list = ctl->next;
    obs_conn *c = ctl->data;
    c->waiting = false;
    if (c->closed) {
      conn_free(c);
      continue;
    }
    if (c->closing)
      continue;
    if (ctl->rc != 0) {
      char msg[128];
      snprintf(msg, sizeof(msg), "control failed: %s", strerror(-ctl->rc));
      respond_error(c, 500, msg, NULL);
    } else {
      tl_buf b;
      tl_buf_init(&b, NULL, 0);
      control_state_json(obs, &b);
      respond(c, 200, "application/json", "Cache-Control: no-store\r\n",
              b.data, b.len);
      tl_buf_free(&b);
    }
    /* Continue with requests that arrived behind the control. */
    tl_buf held = c->stash;
    tl_buf_init(&c->stash, NULL, 0);
    if (!c->closing)
      feed(c, held.data, held.len);
    tl_buf_free(&held);
    if (!c->closing && !c->waiting && !c->close_after)
      uv_read_start((uv_stream_t *) &c->tcp, alloc_cb, read_cb);
  }
}

static void handle_control(obs_conn *c, const char *q, size_t qlen) {
  char val[64];
  c->ctl.mode = -1;
  c->ctl.threads = 0;
  c->ctl.pin = -1;
  if (!peer_is_loopback(c)) {
    respond_error(c, 403, "control is allowed from loopback clients only",
                  NULL);
    return;
  }
  /* Every parameter must be one we know, with a valid value. */
  size_t i = 0;
  int changes = 0;
  while (i < qlen) {
    size_t j = i;
    while (j < qlen && q[j] != '&')
      j++;
    const char *eq = memchr(q + i, '=', j - i);
    size_t klen = eq ? (size_t) (eq - (q + i)) : j - i;
    char key[16];
    if (klen == 0 || klen >= sizeof(key)) {
      respond_error(c, 400, "unknown control parameter", NULL);
      return;
    }
    memcpy(key, q + i, klen);
    key[klen] = '\0';
    int n = tl_query_get(q + i, j - i, key, val, sizeof(val));
    unsigned long v;
    if (strcmp(key, "mode") == 0) {
      tl_mode m;
      if (n < 0 || tl_mode_parse(val, &m) != 0) {
        respond_error(c, 400, "mode must be async, pool or hybrid", NULL);
        return;
      }
      c->ctl.mode = (int) m;
    } else if (strcmp(key, "threads") == 0) {
      if (n < 0 || tl_parse_uint(val, (size_t) n, 1, TL_POOL_MAX_THREADS, &v) != 0) {
        respond_error(c, 400, "threads must be a whole number in 1..1024", NULL);
        return;
      }
      c->ctl.threads = (int) v;
    } else if (strcmp(key, "pin") == 0) {
      if (n == 1 && (val[0] == '0' || val[0] == '1'))
        c->ctl.pin = val[0] - '0';
      else if (n > 0 && strcmp(val, "true") == 0)
        c->ctl.pin = 1;
      else if (n > 0 && strcmp(val, "false") == 0)
        c->ctl.pin = 0;
      else {
        respond_error(c, 400, "pin must be 0 or 1", NULL);
        return;
      }
    } else {
      respond_error(c, 400, "unknown control parameter (use mode, threads, pin)", NULL);
      return;
    }
    changes++;
    i = j + 1;
  }
  if (changes == 0) {
    respond_error(c, 400, "nothing to change: give mode, threads and/or pin", NULL);
    return;
  }
  c->ctl.done = control_done;
  c->ctl.data = c;
  if (tl_server_post_control(c->obs->srv, &c->ctl) != 0) {
    respond_error(c, 503, "the server is shutting down", NULL);
    return;
  }
  c->waiting = true;
}

static void handle_stream(obs_conn *c) {
  tl_buf out;
  tl_buf_init(&out, NULL, 0);
  tl_buf_puts(&out, "HTTP/1.1 200 OK\r\nServer: " TL_SERVER_NAME "\r\nDate: ");
  tl_buf_puts(&out, tl_http_date());
  tl_buf_printf(&out,
                "\r\nContent-Type: text/event-stream\r\nCache-Control: no-store"
                "\r\nX-Accel-Buffering: no\r\nConnection: keep-alive\r\n\r\n"
                "retry: %d\n\n",
                SSE_RETRY_MS);
  send_bytes(c, out.data, out.len, NULL);
  tl_buf_free(&out);
  c->sse = true;
  /* The current snapshot at once, so a new client draws immediately. */
  const tl_buf *j = tl_stats_json(c->obs->stats);
  tl_buf ev;
  tl_buf_init(&ev, NULL, 0);
  tl_buf_printf(&ev, "id: %llu\ndata: ", (unsigned long long) tl_stats_seq(c->obs->stats));
  tl_buf_append(&ev, j->data, j->len);
  tl_buf_puts(&ev, "\n\n");
  send_bytes(c, ev.data, ev.len, NULL);
  tl_buf_free(&ev);
}

static void serve_file(obs_conn *c, int dirfd, const char *rel, size_t len) {
  tl_buf out;
  tl_buf_init(&out, NULL, 0);
  tl_static_respond(&out, dirfd, rel, len, c->req.http_minor,
                    c->req.keep_alive, c->req.method == HTTP_HEAD);
  send_buf(c, &out);
  tl_buf_free(&out);
}

static void route(obs_conn *c) {
  tl_observer *obs = c->obs;
  tl_request *r = &c->req;
  size_t plen, qlen;
  const char *q;
  tl_split_target(r->target.data, r->target.len, &plen, &q, &qlen);
  const char *p = r->target.data;
  bool get = r->method == HTTP_GET || r->method == HTTP_HEAD;
#define IS(lit) (plen == sizeof(lit) - 1 && memcmp(p, lit, plen) == 0)
  if (IS("/control")) {
    if (r->method != HTTP_POST)
      respond_error(c, 405, "method not allowed", "Allow: POST\r\n");
    else
      handle_control(c, q, qlen);
    return;
  }
  if (!get) {
    respond_error(c, 405, "method not allowed", "Allow: GET, HEAD\r\n");
    return;
  }
  if (IS("/stats")) {
    const tl_buf *j = tl_stats_json(obs->stats);
    respond(c, 200, "application/json", "Cache-Control: no-store\r\n", j->data,
            j->len);
  } else if (IS("/metrics")) {
    const tl_buf *m = tl_stats_metrics(obs->stats);
    respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, m->data,
            m->len);
  } else if (IS("/stats/stream")) {
    handle_stream(c);
  } else if (IS("/healthz")) {
    static const char ok[] = "{\"status\":\"ok\"}\n";
    respond(c, 200, "application/json", "Cache-Control: no-store\r\n", ok,
            sizeof(ok) - 1);
  } else if (IS("/vendor/chart.js")) {
    if (obs->chart_dirfd < 0)
      respond_error(c, 404, "Chart.js is not installed (apt-get install libjs-chart.js)", NULL);
    else
      serve_file(c, obs->chart_dirfd, obs->chart_name, strlen(obs->chart_name));
  } else if (plen >= 1 && p[0] == '/') {
    serve_file(c, obs->www_fd, p + 1, plen - 1);
  } else {
    respond_error(c, 404, "not found", NULL);
  }
#undef IS
}

/* ---- parsing -------------------------------------------------------- */

static tl_request *on_begin(void *ctx) {
  obs_conn *c = ctx;
  tl_request_free(&c->req);
  tl_request_init(&c->req);
  return &c->req;
}

static int on_complete(void *ctx, tl_request *req) {
  obs_conn *c = ctx;
  (void) req;
  route(c);
  /* One at a time while a control is pending, or after a stream began. */
  return c->waiting || c->sse || c->close_after || c->closing;
}

static const tl_http_callbacks obs_cbs = {.begin = on_begin,
                                          .complete = on_complete};

static void feed(obs_conn *c, const char *data, size_t len) {
  while (len > 0 && !c->closing) {
    size_t used = 0;
    int rc = tl_http_parser_feed(&c->hp, data, len, &used);
    if (rc == TL_HTTP_OK)
      return;
    data += used;
    len -= used;
    if (rc == TL_HTTP_PAUSED) {
      tl_http_parser_resume(&c->hp);
      if (c->waiting) {
        tl_buf_append(&c->stash, data, len);
        uv_read_stop((uv_stream_t *) &c->tcp);
        return;
      }
      if (c->sse || c->close_after)
        return; /* nothing more is read from a stream client */
      continue;
    }
    if (rc == TL_HTTP_UPGRADE) {
      c->close_after = true;
      return;
    }
    c->req.keep_alive = false;
    respond_error(c, c->hp.error_status, c->hp.error_text, NULL);
    return;
  }
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  obs_conn *c = (obs_conn *) h;
  (void) suggested;
  *buf = uv_buf_init(c->obs->read_buf, sizeof(c->obs->read_buf));
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  obs_conn *c = (obs_conn *) s;
  if (nread < 0) {
    conn_close(c);
    return;
  }
  if (nread == 0 || c->sse)
    return;
  feed(c, buf->base, (size_t) nread);
}

static void on_conn_closed(uv_handle_t *h) {
  obs_conn *c = (obs_conn *) h;
  c->closed = true;
  if (c->prev)
    c->prev->next = c->next;
  else
    c->obs->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  /* A pending control still points at us: its ack frees us. */
  if (!c->waiting)
    conn_free(c);
}

static void conn_close(obs_conn *c) {
  if (c->closing)
    return;
  c->closing = true;
  uv_close((uv_handle_t *) &c->tcp, on_conn_closed);
}

static void on_connection(uv_stream_t *l, int status) {
  tl_observer *obs = TL_CONTAINER_OF(l, tl_observer, listener);
  if (status < 0)
    return;
  obs_conn *c = tl_xcalloc(1, sizeof(*c));
  c->obs = obs;
  uv_tcp_init(&obs->loop, &c->tcp);
  if (uv_accept(l, (uv_stream_t *) &c->tcp) != 0) {
    uv_close((uv_handle_t *) &c->tcp, (uv_close_cb) free);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  tl_request_init(&c->req);
  tl_buf_init(&c->stash, NULL, 0);
  tl_http_parser_init(&c->hp, &obs_cbs, c, 16384, 4096);
  c->next = obs->conns;
  if (obs->conns)
    obs->conns->prev = c;
  obs->conns = c;
  uv_read_start((uv_stream_t *) &c->tcp, alloc_cb, read_cb);
}

/* ---- sampling and the thread ----------------------------------------- */

static void on_sample(uv_timer_t *t) {
  tl_observer *obs = TL_CONTAINER_OF(t, tl_observer, sample_timer);
  tl_stats_sample(obs->stats);
  bool any = false;
  for (obs_conn *c = obs->conns; c; c = c->next)
    if (c->sse && !c->closing)
      any = true;
  if (!any)
    return;
  const tl_buf *j = tl_stats_json(obs->stats);
  char head[48];
  int hl = snprintf(head, sizeof(head), "id: %llu\ndata: ",
                    (unsigned long long) tl_stats_seq(obs->stats));
  shared_event *ev = tl_xmalloc(sizeof(*ev) + (size_t) hl + j->len + 2);
  ev->refs = 1;
  memcpy(ev->data, head, (size_t) hl);
  memcpy(ev->data + hl, j->data, j->len);
  memcpy(ev->data + hl + j->len, "\n\n", 2);
  ev->len = (size_t) hl + j->len + 2;
  obs_conn *next;
  for (obs_conn *c = obs->conns; c; c = next) {
    next = c->next;
    if (!c->sse || c->closing)
      continue;
    if (c->out_pending > SSE_MAX_PENDING) {
      conn_close(c); /* too slow to follow: it can reconnect */
      continue;
    }
    send_bytes(c, ev->data, ev->len, ev);
  }
  if (--ev->refs == 0)
    free(ev);
}

static void walk_close(uv_handle_t *h, void *arg) {
  (void) arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static void on_stop(uv_async_t *h) {
  tl_observer *obs = TL_CONTAINER_OF(h, tl_observer, stop_async);
  obs_conn *next;
  for (obs_conn *c = obs->conns; c; c = next) {
    next = c->next;
    conn_close(c);
  }
  uv_close((uv_handle_t *) &obs->listener, NULL);
  uv_close((uv_handle_t *) &obs->sample_timer, NULL);
  uv_close((uv_handle_t *) &obs->ack_async, NULL);
  uv_close((uv_handle_t *) &obs->stop_async, NULL);
}

static int bind_admin(tl_observer *obs) {
  const tl_config *cfg = &obs->srv->cfg;
  return tl_listen(&obs->loop, &obs->listener, cfg->host, cfg->admin_port, 256,
                   on_connection, "admin port ", &obs->port);
}

static void observer_main(void *arg) {
  tl_observer *obs = arg;
  tl_thread_ctx_init(&obs->ctx, TL_ROLE_OBSERVER, -1, "observer",
                     "tl-observer");
  uv_loop_init(&obs->loop);
  int rc = bind_admin(obs);
  if (rc != 0) {
    obs->start_rc = rc;
    uv_walk(&obs->loop, walk_close, NULL);
    uv_run(&obs->loop, UV_RUN_DEFAULT);
    uv_loop_close(&obs->loop);
    uv_sem_post(&obs->started);
    return;
  }
  tl_registry_add(obs->reg, &obs->ctx);
  uv_async_init(&obs->loop, &obs->stop_async, on_stop);
  uv_async_init(&obs->loop, &obs->ack_async, on_ack);
  obs->stats = tl_stats_new(obs->srv, obs->reg);
  tl_stats_sample(obs->stats);
  uv_timer_init(&obs->loop, &obs->sample_timer);
  uint64_t period = (uint64_t) obs->srv->cfg.sample_ms;
  uv_timer_start(&obs->sample_timer, on_sample, period, period);
  uv_sem_post(&obs->started);
  uv_run(&obs->loop, UV_RUN_DEFAULT);
  uv_walk(&obs->loop, walk_close, NULL);
  uv_run(&obs->loop, UV_RUN_DEFAULT);
  uv_loop_close(&obs->loop);
  /* Controls answered after we stopped listening: free their closed conns. */
  for (tl_control *ctl = obs->acks, *n; ctl; ctl = n) {
    n = ctl->next;
    conn_free(ctl->data);
  }
  tl_stats_free(obs->stats);
  tl_registry_remove(obs->reg, &obs->ctx);
}

int tl_observer_start(tl_observer **out, tl_server *srv, tl_registry *reg) {
  tl_observer *obs = tl_xcalloc(1, sizeof(*obs));
  obs->srv = srv;
  obs->reg = reg;
  obs->www_fd = open(srv->cfg.www, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  obs->chart_dirfd = -1;
  if (TL_CHARTJS_PATH[0]) {
    char dir[4096], base[4096];
    snprintf(dir, sizeof(dir), "%s", TL_CHARTJS_PATH);
    snprintf(base, sizeof(base), "%s", TL_CHARTJS_PATH);
    obs->chart_dirfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    snprintf(obs->chart_name, sizeof(obs->chart_name), "%s", basename(base));
  }
  pthread_mutex_init(&obs->ack_mu, NULL);
  uv_sem_init(&obs->started, 0);
  int rc = 0;
  if (uv_thread_create(&obs->thread, observer_main, obs) != 0) {
    fprintf(stderr, "threadlab: cannot start the observer thread\n");
    rc = -EAGAIN;
  } else {
    uv_sem_wait(&obs->started);
    rc = obs->start_rc;
    if (rc != 0)
      uv_thread_join(&obs->thread);
  }
  if (rc != 0) {
    if (obs->www_fd >= 0)
      close(obs->www_fd);
    if (obs->chart_dirfd >= 0)
      close(obs->chart_dirfd);
    pthread_mutex_destroy(&obs->ack_mu);
    uv_sem_destroy(&obs->started);
    free(obs);
    return rc;
  }
  *out = obs;
  return 0;
}

int tl_observer_port(const tl_observer *obs) { return obs->port; }

void tl_observer_stop(tl_observer *obs) {
  uv_async_send(&obs->stop_async);
  uv_thread_join(&obs->thread);
  uv_sem_destroy(&obs->started);
  pthread_mutex_destroy(&obs->ack_mu);
  if (obs->www_fd >= 0)
    close(obs->www_fd);
  if (obs->chart_dirfd >= 0)
    close(obs->chart_dirfd);
  free(obs);
}
