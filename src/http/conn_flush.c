/* Responses out, once per loop iteration: each dirty connection's ready
 * prefix of slots (in request order) is counted and written, with one
 * writev per connection or, with io_uring, one submission for them all;
 * the rest goes to libuv's queue (conn_write). Then held-back requests are
 * parsed and reading resumes. */
#include "config.h"

#include "http/conn_internal.h"

#include "base/router.h"
#include "base/util.h"

#include <stddef.h>

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
  if (w < 0 && w != UV_EAGAIN)
    ok = false;
  else if (written < total)
    ok = tl_conn_write_queue(c, iov, n, total, written) == 0;
  if (ok && written > 0)
    c->last_active_ms = uv_now(c->loop->uv);
  for (unsigned i = 0; i < n; i++)
    tl_conn_slot_free(done[i]);
  if (!ok)
    tl_conn_close_now(c);
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
    tl_conn_read_feed(c, held.data, held.len);
    c->loop->conns->read_now_ns = 0;
    tl_buf_close(&held);
  }
  tl_conn_read_update(c);
  tl_conn_linger_if_done(c);
  tl_conn_write_continue_if_due(c);
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

static void batch_done(void *tag, int res) {
  out_batch *b = tag;
  tl_conn *c = b->conn;
  if (!wrote(c, b->iov, b->done, b->n, b->total, res))
    return;
  if (!c->close_after_flush && !c->lingering && c->head && c->head->ready) {
    tl_conn_mark_dirty(c); /* more than FLUSH_IOV were ready: the next round */
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
