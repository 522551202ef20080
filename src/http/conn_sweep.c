/* The sweep's timers, run every so often by the loop: a linger's deadline,
 * a peer that does not read its responses, headers or a body too slow
 * (slowloris, --body-min-rate), an idle keep-alive connection. */
#include "config.h"

#include "http/conn_internal.h"

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
        tl_conn_close_now(c);
      continue;
    }
    if (c->out_pending > 0) {
      /* The peer is not reading its responses. */
      if (now - c->last_active_ms > idle)
        tl_conn_close_now(c);
      else if (c->body_rate_armed && c->parsing) /* we stopped reading */
        tl_minrate_start(&c->body_rate, now, c->parsing->req.body.len);
      continue;
    }
    if (c->req_begin_ms && now - c->req_begin_ms > hdr) {
      /* Slowloris: headers still incomplete after the header timeout. */
      tl_conn_read_fail(c, 408, "timed out waiting for the request headers");
      tl_conn_read_update(c);
      continue;
    }
    if (c->parsing && tl_http_parser_in_body(&c->hp) && !c->continue_owed &&
        now - c->last_active_ms > idle) {
      tl_conn_read_fail(c, 408, "timed out waiting for the request body");
      tl_conn_read_update(c);
      continue;
    }
    if (min_rate && c->parsing && tl_http_parser_in_body(&c->hp) &&
        body_too_slow(c, now, min_rate)) {
      /* Trickled: one client must not hold a connection (and the worker
       * slot its request will need) by sending just inside each idle
       * timeout. */
      tl_conn_read_fail(c, 408, "request body slower than --body-min-rate");
      tl_conn_read_update(c);
      continue;
    }
    if (c->nslots == 0 && !c->parsing &&
        now - c->last_active_ms > (c->requests ? idle : hdr))
      tl_conn_close_now(c); /* idle keep-alive, or never sent a byte */
  }
}
