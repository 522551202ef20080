/* Reading: when a connection reads (back-pressure from pipelining and
 * from a peer that does not read its responses), what a read or EOF does,
 * and feeding the bytes to the parser, whose events conn_parse handles. */
#include "config.h"

#include "http/conn_internal.h"

#include "base/util.h"

#include <stdatomic.h>

void tl_conn_read_fail(tl_conn *c, int status, const char *text) {
  tl_slot *s = c->parsing ? c->parsing : tl_conn_slot_new(c);
  c->parsing = NULL;
  c->req_begin_ms = 0;
  c->continue_owed = false;
  c->no_more = true;
  s->t_start_ns = tl_now_ns();
  tl_conn_slot_append(c, s);
  tl_conn_slot_fail(s, status, text, "", true);
}

/* data is the caller's (the loop's read buffer or the stash it took): what
 * the parser must wait for is copied into c->stash. */
void tl_conn_read_feed(tl_conn *c, const char *data, size_t len) {
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
    tl_conn_read_fail(c, c->hp.error_status, c->hp.error_text);
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
  uint64_t now = tl_conn_now_ms(c);
  if (nread < 0) {
    c->last_active_ms = now;
    if (nread != UV_EOF || c->lingering) {
      tl_conn_close_now(c);
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
      tl_conn_slot_free(c->parsing);
      c->parsing = NULL;
    }
    if (c->nslots == 0 && c->out_pending == 0) {
      tl_conn_close_now(c);
      return;
    }
    c->close_after_flush = true;
    tl_conn_read_update(c);
    return;
  }
  if (c->lingering) {
    c->last_active_ms = now;
    return; /* discarding until EOF or the linger deadline */
  }
  bool idle = c->parsing == NULL && c->nslots == 0;
  c->loop->conns->read_now_ns = 0;
  tl_conn_read_feed(c, buf->base, (size_t) nread);
  c->loop->conns->read_now_ns = 0; /* other feeds read the clock */
  /* Bytes that neither began nor completed a request (llhttp skips CR/LF
   * between requests) are not activity: otherwise a peer trickling "\r\n"
   * holds the connection forever, a slowloris the header timeout never
   * sees because no request begins. */
  if (!idle || c->parsing != NULL || c->nslots != 0)
    c->last_active_ms = now;
  tl_conn_read_update(c);
}

/* Reads while lingering (to discard), else while the parser may take more
 * and the peer reads its responses. */
void tl_conn_read_update(tl_conn *c) {
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
