/* Closing a connection at once (errors, timeouts, shutdown): its slots go
 * with the handle, except those a task still owns, which keep the
 * connection's memory until the task returns (tl_conn_slot_ready). */
#include "config.h"

#include "http/conn_internal.h"

#include <stdatomic.h>

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
    tl_conn_slot_free(c->parsing);
    c->parsing = NULL;
  }
  /* Slots whose task is still out stay until it returns (conn_task). */
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
    tl_conn_slot_free(s);
  }
  if (c->inflight == 0)
    tl_conn_slot_free_conn(c);
}

void tl_conn_close_now(tl_conn *c) {
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
