/* The lab's HTTP client for its child server (observer/lab_child_http.h). */
#include "config.h"

#include "observer/lab_child_http.h"

#include "base/util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Calls back once with what was read: the status line's code and the body
 * after the header (the child closes: Connection: close). */
static void finish(tl_lab_http *h, bool ok) {
  if (h->called)
    return;
  h->called = true;
  if (h->mute)
    return;
  int status = -1;
  const char *body = "";
  size_t len = 0;
  if (ok && h->resp.len > 12 && memcmp(h->resp.data, "HTTP/1.", 7) == 0) {
    tl_buf_append(&h->resp, "", 1); /* a terminator for the searches */
    h->resp.len--;
    status = atoi(h->resp.data + 9);
    const char *end = strstr(h->resp.data, "\r\n\r\n");
    if (end) {
      body = end + 4;
      len = h->resp.len - (size_t) (body - h->resp.data);
    } else {
      status = -1;
    }
  }
  h->cb(h, status, body, len);
}

static void on_closed(uv_handle_t *hd) {
  tl_lab_http *h = hd->data;
  if (--h->open == 0) {
    h->busy = false;
    h->resp.len = 0;
  }
}

static void close_all(tl_lab_http *h) {
  if (!uv_is_closing((uv_handle_t *) &h->tcp))
    uv_close((uv_handle_t *) &h->tcp, on_closed);
  if (!uv_is_closing((uv_handle_t *) &h->timer))
    uv_close((uv_handle_t *) &h->timer, on_closed);
}

static void on_alloc(uv_handle_t *hd, size_t hint, uv_buf_t *buf) {
  (void) hd;
  (void) hint;
  static char chunk[65536]; /* observer thread only; copied at once */
  buf->base = chunk;
  buf->len = sizeof(chunk);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  tl_lab_http *h = s->data;
  if (n > 0) {
    if (h->resp.len + (size_t) n > TL_LAB_HTTP_MAX_BODY) {
      finish(h, false); /* bounded: a /stats this large is not read */
      close_all(h);
      return;
    }
    tl_buf_append(&h->resp, buf->base, (size_t) n);
    return;
  }
  if (n < 0) {
    finish(h, n == UV_EOF);
    close_all(h);
  }
}

static void on_written(uv_write_t *w, int status) {
  tl_lab_http *h = w->data;
  if (status != 0 && !uv_is_closing((uv_handle_t *) &h->tcp)) {
    finish(h, false);
    close_all(h);
  }
}

static void on_connect(uv_connect_t *c, int status) {
  tl_lab_http *h = c->data;
  if (status != 0) {
    if (status != UV_ECANCELED) {
      finish(h, false);
      close_all(h);
    }
    return;
  }
  uv_buf_t b = uv_buf_init(h->req, (unsigned) strlen(h->req));
  h->wr.data = h;
  if (uv_write(&h->wr, (uv_stream_t *) &h->tcp, &b, 1, on_written) != 0 ||
      uv_read_start((uv_stream_t *) &h->tcp, on_alloc, on_read) != 0) {
    finish(h, false);
    close_all(h);
  }
}

static void on_timeout(uv_timer_t *t) {
  tl_lab_http *h = t->data;
  finish(h, false);
  close_all(h);
}

int tl_lab_http_get(tl_lab_http *h, uv_loop_t *uv, int port, const char *path,
                    tl_lab_http_cb cb) {
  if (h->busy || port <= 0)
    return -1;
  if (!h->resp.data && h->resp.cap == 0)
    tl_buf_init(&h->resp, NULL, 0);
  h->resp.len = 0;
  h->cb = cb;
  h->called = false;
  h->mute = false;
  snprintf(h->req, sizeof(h->req),
           "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n",
           path, port);
  struct sockaddr_in sa;
  uv_ip4_addr("127.0.0.1", port, &sa);
  uv_tcp_init(uv, &h->tcp);
  uv_timer_init(uv, &h->timer);
  h->tcp.data = h->timer.data = h->conn.data = h;
  h->busy = true;
  h->open = 2;
  if (uv_tcp_connect(&h->conn, &h->tcp, (const struct sockaddr *) &sa,
                     on_connect) != 0) {
    h->called = true; /* no callback: the caller hears -1 */
    close_all(h);
    return -1;
  }
  uv_timer_start(&h->timer, on_timeout, TL_LAB_HTTP_TIMEOUT_MS, 0);
  return 0;
}

void tl_lab_http_abort(tl_lab_http *h) {
  if (!h->busy)
    return;
  h->mute = true;
  h->called = true;
  close_all(h);
}

void tl_lab_http_close(tl_lab_http *h) { tl_buf_close(&h->resp); }
