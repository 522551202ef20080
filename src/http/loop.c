#include "config.h"

#include "http/loop.h"

#include "base/listen.h"
#include "http/conn.h"
#include "runtime/hrtimer.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LAG_INTERVAL_MS 50

#define LISTEN_BACKLOG 4096

static void on_connection(uv_stream_t *listener, int status) {
  tl_loop *loop = TL_CONTAINER_OF(listener, tl_loop, listener);
  if (status < 0) {
    /* EMFILE and friends: the pending connection stays in the backlog;
     * libuv retries on the next readiness. */
    return;
  }
  tl_conn_accept(loop, listener);
}

/* Just before the loop blocks: write what became ready this iteration.
 * From here until the poll returns the thread waits for events (epoll):
 * the observer shows it idle, not as event-loop work; or, with tasks of
 * its own in flight (I/O steps on its timers, steps on workers), waiting
 * for them: "idle" beside 447 tasks in flight read as a contradiction. */
static void on_prepare(uv_prepare_t *h) {
  tl_loop *loop = TL_CONTAINER_OF(h, tl_loop, flush_prep);
  tl_conn_flush_dirty(loop);
  if (loop->draining && !loop->drained && tl_conn_count(loop->conns) == 0 &&
      loop->tasks_inflight == 0) {
    loop->drained = true;
    loop->on_drained(loop);
  }
  if (!loop->ctx.cfg->no_stats)
    tl_thread_set_doing(&loop->thread,
                        loop->tasks_inflight ? TL_DOING_WAIT : TL_DOING_IDLE, 0,
                        0);
}

/* Right after the poll: handling events again. */
static void on_poll_check(uv_check_t *h) {
  tl_loop *loop = TL_CONTAINER_OF(h, tl_loop, poll_check);
  if (!loop->ctx.cfg->no_stats)
    tl_thread_set_doing(&loop->thread, TL_DOING_LOOP, 0, 0);
}

static void on_sweep(uv_timer_t *h) {
  tl_loop *loop = TL_CONTAINER_OF(h, tl_loop, sweep_timer);
  tl_conn_sweep(loop, uv_now(loop->uv));
}

/* Loop lag: how late a periodic timer fires. A CPU step running inline on
 * the loop shows up here as one large value. */
static void on_lag(uv_timer_t *h) {
  tl_loop *loop = TL_CONTAINER_OF(h, tl_loop, lag_timer);
  uint64_t now = uv_hrtime();
  uint64_t expected = loop->lag_expected_ns;
  uint64_t lag_us = now > expected ? (now - expected) / 1000 : 0;
  if (!loop->ctx.cfg->no_stats)
    tl_hist_record(&loop->stats.loop_lag_us, lag_us);
  loop->lag_expected_ns = now + (uint64_t) LAG_INTERVAL_MS * 1000000u;
  atomic_store_explicit(&loop->stats.inflight, loop->tasks_inflight,
                        memory_order_relaxed);
  atomic_store_explicit(&loop->stats.loop_idle_ns,
                        uv_metrics_idle_time(loop->uv), memory_order_relaxed);
}

static void on_cmd(uv_async_t *h) {
  tl_loop *loop = TL_CONTAINER_OF(h, tl_loop, cmd_async);
  int cmd = atomic_exchange(&loop->cmd, 0);
  if (cmd & TL_LOOP_LISTEN)
    tl_loop_listen(loop);
  if (cmd & TL_LOOP_DRAIN)
    tl_loop_drain(loop);
  if (cmd & TL_LOOP_CLOSE_CONNS)
    tl_loop_close_conns(loop);
}

void tl_loop_post(tl_loop *loop, int cmd) {
  atomic_fetch_or(&loop->cmd, cmd);
  uv_async_send(&loop->cmd_async);
}

int tl_loop_init(tl_loop *loop, const tl_loop_setup *setup, uv_loop_t *uv,
                 int index) {
  memset(loop, 0, offsetof(tl_loop, read_buf));
  memset(&loop->stats, 0, sizeof(loop->stats));
  loop->owner = setup->owner;
  loop->uv = uv;
  loop->index = index;
  const tl_config *cfg = setup->proc.cfg;
  int rc = tl_hrtimer_init(&loop->hrt, uv);
  if (rc != 0) {
    fprintf(stderr, "threadlab: timerfd: %s\n", strerror(-rc));
    return rc;
  }
  if (setup->defer_listen)
    rc = tl_listen_shared_bound(uv, &loop->listener, cfg->host,
                                setup->listen_port, "", &loop->port);
  else
    rc = (setup->reuseport ? tl_listen_shared : tl_listen)(
        uv, &loop->listener, cfg->host, setup->listen_port, LISTEN_BACKLOG,
        on_connection, "", &loop->port);
  if (rc == 0)
    rc = tl_pool_inbox_init(&loop->inbox, uv);
  if (rc != 0) {
    tl_hrtimer_close(loop->hrt);
    loop->hrt = NULL;
    return rc;
  }
  loop->ctx = setup->proc;
  loop->ctx.uv = uv;
  loop->ctx.index = index;
  loop->ctx.hrt = loop->hrt;
  loop->ctx.inbox = &loop->inbox;
  loop->ctx.stats = &loop->stats;
  uv_async_init(uv, &loop->cmd_async, on_cmd);
  if (index == 0) {
    /* The main thread keeps its program name. */
    tl_thread_ctx_init(&loop->thread, TL_ROLE_LOOP, -1, "loop", NULL);
  } else {
    char label[16], kname[16];
    snprintf(label, sizeof(label), "loop-%d", index);
    snprintf(kname, sizeof(kname), "tl-loop-%d", index);
    tl_thread_ctx_init(&loop->thread, TL_ROLE_LOOP, index, label, kname);
  }
  tl_hrtimer_publish_count(loop->hrt, &loop->thread.in_flight);
  loop->registry = setup->registry;
  tl_registry_add(loop->registry, &loop->thread);
  tl_thread_set_doing(&loop->thread, TL_DOING_LOOP, 0, 0);
  loop->conns = tl_conn_set_init(!cfg->no_uring, &loop->send_why);
  loop->send_uring = loop->send_why == NULL;
  uv_prepare_init(uv, &loop->flush_prep);
  uv_prepare_start(&loop->flush_prep, on_prepare);
  uv_check_init(uv, &loop->poll_check);
  uv_check_start(&loop->poll_check, on_poll_check);
  uv_unref((uv_handle_t *) &loop->poll_check); /* keeps nothing alive */
  int tmin = cfg->header_timeout_ms < cfg->idle_timeout_ms
                 ? cfg->header_timeout_ms
                 : cfg->idle_timeout_ms;
  uint64_t sweep = (uint64_t) tmin / 4;
  sweep = sweep < 25 ? 25 : sweep > 1000 ? 1000 : sweep;
  uv_timer_init(uv, &loop->sweep_timer);
  uv_timer_start(&loop->sweep_timer, on_sweep, sweep, sweep);
  uv_timer_init(uv, &loop->lag_timer);
  loop->lag_expected_ns = uv_hrtime() + (uint64_t) LAG_INTERVAL_MS * 1000000u;
  uv_timer_start(&loop->lag_timer, on_lag, LAG_INTERVAL_MS, LAG_INTERVAL_MS);
  return 0;
}

int tl_loop_listen(tl_loop *loop) {
  if (loop->draining)
    return 0;
  int rc =
      uv_listen((uv_stream_t *) &loop->listener, LISTEN_BACKLOG, on_connection);
  if (rc != 0)
    fprintf(stderr, "threadlab: cannot listen: %s\n", uv_strerror(rc));
  return rc;
}

size_t tl_loop_conn_count(const tl_loop *loop) {
  return tl_conn_count(loop->conns);
}

void tl_loop_drain(tl_loop *loop) {
  if (loop->draining)
    return;
  loop->draining = true;
  uv_close((uv_handle_t *) &loop->listener, NULL);
  tl_conn_drain_all(loop);
}

void tl_loop_close_conns(tl_loop *loop) {
  if (loop->tasks_inflight > 0)
    exit(0); /* workers still hold this loop's tasks: nothing to wait for */
  tl_conn_close_all(loop);
}

void tl_loop_close_handles(tl_loop *loop) {
  tl_pool_inbox_close(&loop->inbox, NULL);
  uv_close((uv_handle_t *) &loop->cmd_async, NULL);
  uv_close((uv_handle_t *) &loop->flush_prep, NULL);
  uv_close((uv_handle_t *) &loop->poll_check, NULL);
  tl_hrtimer_close(loop->hrt);
  loop->hrt = NULL;
  uv_close((uv_handle_t *) &loop->sweep_timer, NULL);
  uv_close((uv_handle_t *) &loop->lag_timer, NULL);
}

void tl_loop_close(tl_loop *loop) {
  tl_conn_set_close(loop->conns);
  loop->conns = NULL;
  if (loop->registry)
    tl_registry_remove(loop->registry, &loop->thread);
}
