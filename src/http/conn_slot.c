/* A request's slot, from its first byte to its written response, and the
 * connection's memory, which its last slot may outlive the handle for. */
#include "config.h"

#include "http/conn_internal.h"

#include "base/response.h"
#include "base/router.h"
#include "base/util.h"

#include <stdlib.h>

/* Freed slots kept for reuse, per loop: a request then costs no malloc
 * and free, and its slot is still in the cache. Not under AddressSanitizer,
 * which must see every slot's use after free. */
#define SLOT_CACHE 4096 /* 64 connections x MAX_PIPELINE */
#if defined(__SANITIZE_ADDRESS__)
#define SLOT_CACHE_ON 0
#else
#define SLOT_CACHE_ON 1
#endif

tl_slot *tl_conn_slot_new(tl_conn *c) {
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

void tl_conn_slot_free(tl_slot *s) {
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

void tl_conn_slot_append(tl_conn *c, tl_slot *s) {
  if (c->tail)
    c->tail->next = s;
  else
    c->head = s;
  c->tail = s;
  c->nslots++;
}

void tl_conn_slot_free_conn(tl_conn *c) {
  tl_buf_close(&c->stash);
  free(c);
}

void tl_conn_slot_ready(tl_slot *s) {
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
    tl_conn_slot_free(s);
    if (c->inflight == 0 && c->nslots == 0)
      tl_conn_slot_free_conn(c);
    return;
  }
  tl_conn_mark_dirty(c);
}

void tl_conn_slot_fail(tl_slot *s, int status, const char *msg,
                       const char *extra_headers, bool close) {
  if (close)
    s->close_after = true;
  s->status = (uint16_t) status;
  s->out.len = 0;
  tl_resp_error(&s->out, status, msg, s->req.http_minor,
                s->req.keep_alive && !s->close_after,
                s->req.method == HTTP_HEAD, extra_headers);
  tl_conn_slot_ready(s);
}
