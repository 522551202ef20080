#include "config.h"

#include "core/worker_link.h"

#include "base/util.h"
#include "core/score_publish.h"
#include "core/server.h"
#include "exec/shared_steps.h"
#include "http/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define PUBLISH_MS 50

struct tl_worker_link {
  tl_server *srv;
  tl_score_slot *slot;
  tl_score_pub *pub; /* the one-server figures the supervisor shows */
  int chan_fd;
  uv_timer_t publish;
  uv_poll_t chan;
  unsigned publishes;
  bool has_chan;
  bool spare; /* bound, not listening, until promoted */
  int closing;
};

static uint64_t ld(const _Atomic uint64_t *v) {
  return atomic_load_explicit(v, memory_order_relaxed);
}

static void st(_Atomic uint64_t *v, uint64_t x) {
  atomic_store_explicit(v, x, memory_order_relaxed);
}

/* This process's counter and where it lives; the page (a /proc read)
 * once a second. */
static void publish_shared(tl_worker_link *w) {
  uintptr_t addr;
  st(&w->slot->shared_counter, tl_shared_counter_value(&addr));
  st(&w->slot->shared_addr, addr);
  uint64_t pfn = 0;
  if (w->publishes++ % 20 == 0)
    st(&w->slot->shared_page, tl_shared_counter_page(&pfn) ? pfn : 0);
}

/* Sums the loops' counters (lock-free reads, as the observer does) into
 * the slot; only this process writes it. */
static void publish(tl_worker_link *w) {
  uint64_t acc = 0, req = 0, open = 0, inflight = 0;
  for (int k = 0; k < w->srv->nloops; k++) {
    const tl_loop_counters *c = &w->srv->loops[k].stats;
    acc += ld(&c->accepted);
    req += ld(&c->requests);
    open += ld(&c->open);
    inflight += ld(&c->inflight);
  }
  st(&w->slot->accepted, acc);
  st(&w->slot->requests, req);
  st(&w->slot->open, open);
  st(&w->slot->inflight, inflight);
  tl_score_publish(w->pub, w->srv, w->slot);
  if (w->srv->draining)
    atomic_store(&w->slot->state, TL_SLOT_DRAINING);
  publish_shared(w);
}

static void on_publish(uv_timer_t *h) {
  publish(TL_CONTAINER_OF(h, tl_worker_link, publish));
}

/* A spare takes a dead worker's place: listen, then say so. ready_ns is
 * when it accepts, which the supervisor compares with the death. */
static void promote(tl_worker_link *w) {
  if (!w->spare || w->srv->draining)
    return;
  w->spare = false;
  if (tl_server_listen(w->srv) != 0) {
    tl_server_shutdown(w->srv); /* the supervisor replaces us */
    return;
  }
  atomic_store(&w->slot->ready_ns, tl_now_ns());
  atomic_store(&w->slot->state, TL_SLOT_READY);
}

static void on_chan(uv_poll_t *h, int status, int events) {
  tl_worker_link *w = TL_CONTAINER_OF(h, tl_worker_link, chan);
  (void) events;
  tl_ctl_msg m;
  ssize_t n = status < 0 ? -1 : recv(w->chan_fd, &m, sizeof(m), MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n != (ssize_t) sizeof(m)) {
    /* The supervisor is gone (EOF) or speaks nonsense: stop serving. */
    uv_poll_stop(h);
    tl_server_shutdown(w->srv);
    return;
  }
  if (m.promote == 1)
    promote(w);
  /* Same order as a local /control: threads, pin, then mode. */
  if (m.threads > 0)
    tl_server_set_threads(w->srv, m.threads);
  if (m.cpus_op >= 0 && w->srv->pool)
    tl_pool_set_cpus(w->srv->pool, m.cpus_op ? &m.cpus : NULL);
  if (m.pin >= 0)
    tl_server_set_pin(w->srv, m.pin != 0);
  if (m.mode >= 0)
    tl_server_set_mode(w->srv, (tl_mode) m.mode);
}

int tl_worker_link_start(tl_worker_link **out, tl_server *srv,
                         tl_score_slot *slot, int chan_fd) {
  tl_worker_link *w = tl_xcalloc(1, sizeof(*w));
  w->srv = srv;
  w->slot = slot;
  w->chan_fd = chan_fd;
  w->pub = tl_score_pub_init();
  w->spare = srv->cfg.worker_spare;
  /* A deadlock among this process's threads is reported in the slot. */
  tl_shared_set_stuck_flag(&slot->stuck_ns);
  publish(w);
  if (!w->spare)
    atomic_store(&slot->ready_ns, tl_now_ns());
  atomic_store(&slot->state, w->spare ? TL_SLOT_SPARE : TL_SLOT_READY);
  uv_timer_init(srv->uv, &w->publish);
  uv_timer_start(&w->publish, on_publish, PUBLISH_MS, PUBLISH_MS);
  if (chan_fd >= 0 && uv_poll_init(srv->uv, &w->chan, chan_fd) == 0) {
    w->has_chan = true;
    uv_poll_start(&w->chan, UV_READABLE | UV_DISCONNECT, on_chan);
  }
  *out = w;
  return 0;
}

static void on_closed(uv_handle_t *h) {
  tl_worker_link *w = h->data;
  if (--w->closing == 0) {
    if (w->chan_fd >= 0)
      close(w->chan_fd);
    tl_score_pub_close(w->pub);
    free(w);
  }
}

void tl_worker_link_stop(tl_worker_link *w) {
  if (!w)
    return;
  publish(w);
  w->closing = 1 + w->has_chan;
  w->publish.data = w->chan.data = w;
  uv_close((uv_handle_t *) &w->publish, on_closed);
  if (w->has_chan)
    uv_close((uv_handle_t *) &w->chan, on_closed);
}
