/* A loop's connection set and a connection's life: accepted (or refused
 * over --max-conns), drained, closed with the loop. The work between is in
 * the conn_*.c files (http/conn_internal.h). */
#include "config.h"

#include "http/conn.h"

#include "base/response.h"
#include "base/util.h"
#include "http/conn_internal.h"

#include <stdlib.h>

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
    tl_conn_linger_begin(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  tl_http_parser_init(&c->hp, &tl_conn_parse_cbs, c,
                      (size_t) cfg->max_header_bytes,
                      (size_t) cfg->max_body_bytes);
  tl_buf_init(&c->stash, NULL, 0);
  c->last_active_ms = uv_now(loop->uv);
  tl_conn_read_update(c);
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
      tl_conn_slot_free(c->parsing);
      c->parsing = NULL;
    }
    tl_conn_read_update(c);
    if (c->nslots == 0 && c->out_pending == 0)
      tl_conn_close_now(c);
  }
}

void tl_conn_close_all(tl_loop *loop) {
  tl_conn *next;
  for (tl_conn *c = loop->conns->all; c; c = next) {
    next = c->next;
    tl_conn_close_now(c);
  }
}
