#include "config.h"

#include "http/conn.h"
#include "exec/executor.h"
#include "http/hrtimer.h"
#include "core/libuv_threads.h"
#include "core/server.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LAG_INTERVAL_MS 50

static void on_connection(uv_stream_t *listener, int status) {
  tl_server *srv = TL_CONTAINER_OF(listener, tl_server, listener);
  if (status < 0) {
    /* EMFILE and friends: the pending connection stays in the backlog;
     * libuv retries on the next readiness. */
    return;
  }
  tl_conn_accept(srv);
}

static void finish_shutdown(tl_server *srv);

static void on_prepare(uv_prepare_t *h) {
  tl_server *srv = TL_CONTAINER_OF(h, tl_server, flush_prep);
  tl_conn_flush_dirty(srv);
  if (srv->draining && !srv->stopped && srv->nconns == 0 &&
      srv->tasks_inflight == 0)
    finish_shutdown(srv);
}

static void on_sweep(uv_timer_t *h) {
  tl_server *srv = TL_CONTAINER_OF(h, tl_server, sweep_timer);
  tl_conn_sweep(srv, uv_now(srv->loop));
}

/* Loop lag: how late a periodic timer fires. A CPU step running inline on
 * the loop shows up here as one large value. */
static void on_lag(uv_timer_t *h) {
  tl_server *srv = TL_CONTAINER_OF(h, tl_server, lag_timer);
  uint64_t now = uv_hrtime();
  uint64_t expected = srv->lag_expected_ns;
  uint64_t lag_us = now > expected ? (now - expected) / 1000 : 0;
  if (!srv->cfg.no_stats)
    tl_hist_record(&srv->stats.loop_lag_us, lag_us);
  srv->lag_expected_ns = now + (uint64_t) LAG_INTERVAL_MS * 1000000u;
  atomic_store_explicit(&srv->stats.loop_idle_ns,
                        uv_metrics_idle_time(srv->loop), memory_order_relaxed);
}

static void on_signal(uv_signal_t *h, int signum) {
  tl_server *srv = h->data;
  (void) signum;
  tl_server_shutdown(srv);
}

static void on_shutdown_timeout(uv_timer_t *h) {
  tl_server *srv = TL_CONTAINER_OF(h, tl_server, shutdown_timer);
  fprintf(stderr,
          "threadlab: shutdown timeout: closing %zu connection(s), "
          "abandoning %llu task(s)\n",
          srv->nconns, (unsigned long long) srv->tasks_inflight);
  if (srv->tasks_inflight > 0)
    exit(0);
  tl_conn_close_all(srv);
}

static void publish_exec(tl_server *srv);

static void on_control(uv_async_t *h) {
  tl_server *srv = TL_CONTAINER_OF(h, tl_server, ctl_async);
  pthread_mutex_lock(&srv->ctl_mu);
  tl_control *list = srv->ctl_head;
  srv->ctl_head = NULL;
  pthread_mutex_unlock(&srv->ctl_mu);
  while (list) {
    tl_control *ctl = list;
    list = ctl->next;
    int rc = 0;
    if (ctl->threads > 0)
      rc = tl_server_set_threads(srv, ctl->threads);
    if (rc == 0 && ctl->pin >= 0)
      tl_server_set_pin(srv, ctl->pin != 0);
    if (rc == 0 && ctl->mode >= 0)
      rc = tl_server_set_mode(srv, (tl_mode) ctl->mode);
    ctl->rc = rc;
    ctl->done(ctl);
  }
}

int tl_server_post_control(tl_server *srv, tl_control *ctl) {
  pthread_mutex_lock(&srv->ctl_mu);
  if (srv->ctl_closed) {
    pthread_mutex_unlock(&srv->ctl_mu);
    return -ESHUTDOWN;
  }
  ctl->next = srv->ctl_head;
  srv->ctl_head = ctl;
  uv_async_send(&srv->ctl_async);
  pthread_mutex_unlock(&srv->ctl_mu);
  return 0;
}

static void publish_exec(tl_server *srv) {
  atomic_store_explicit(&srv->stats.mode, (uint64_t) srv->mode,
                        memory_order_relaxed);
  atomic_store_explicit(&srv->stats.threads,
                        (uint64_t) tl_pool_threads(srv->pool),
                        memory_order_relaxed);
  atomic_store_explicit(&srv->stats.pinned, tl_pool_pinned(srv->pool),
                        memory_order_relaxed);
}

static int bind_listener(tl_server *srv) {
  struct sockaddr_storage ss;
  int rc;
  if (strchr(srv->cfg.host, ':'))
    rc = uv_ip6_addr(srv->cfg.host, srv->cfg.port, (struct sockaddr_in6 *) &ss);
  else
    rc = uv_ip4_addr(srv->cfg.host, srv->cfg.port, (struct sockaddr_in *) &ss);
  if (rc != 0) {
    fprintf(stderr, "threadlab: bad --host '%s': %s\n", srv->cfg.host,
            uv_strerror(rc));
    return rc;
  }
  uv_tcp_init(srv->loop, &srv->listener);
  rc = uv_tcp_bind(&srv->listener, (struct sockaddr *) &ss, 0);
  if (rc == 0)
    rc = uv_listen((uv_stream_t *) &srv->listener, 4096, on_connection);
  if (rc != 0) {
    fprintf(stderr, "threadlab: cannot listen on %s:%d: %s\n", srv->cfg.host,
            srv->cfg.port, uv_strerror(rc));
    uv_close((uv_handle_t *) &srv->listener, NULL);
    return rc;
  }
  int len = sizeof(ss);
  uv_tcp_getsockname(&srv->listener, (struct sockaddr *) &ss, &len);
  srv->port = ntohs(ss.ss_family == AF_INET6
                        ? ((struct sockaddr_in6 *) &ss)->sin6_port
                        : ((struct sockaddr_in *) &ss)->sin_port);
  return 0;
}

/* Undoes a start that failed half-way; the caller runs the loop once more
 * so that the closed handles and libuv's thread registration finish. */
static int init_failed(tl_server *srv, int rc) {
  tl_hrtimer_close(srv->hrt);
  srv->hrt = NULL;
  if (srv->pool)
    tl_pool_destroy(srv->pool);
  srv->pool = NULL;
  if (srv->docroot_fd >= 0)
    close(srv->docroot_fd);
  srv->docroot_fd = -1;
  tl_registry_remove(srv->registry, &srv->loop_ctx);
  return rc;
}

int tl_server_init(tl_server *srv, uv_loop_t *loop, const tl_config *cfg,
                   tl_registry *registry) {
  memset(srv, 0, offsetof(tl_server, read_buf));
  memset(&srv->stats, 0, sizeof(srv->stats));
  srv->loop = loop;
  srv->start_ns = tl_now_ns();
  srv->cfg = *cfg;
  srv->registry = registry;
  srv->mode = cfg->mode;
  srv->exec = tl_executor_for(cfg->mode);
  tl_thread_ctx_init(&srv->loop_ctx, TL_ROLE_LOOP, -1, "loop", NULL);
  tl_registry_add(registry, &srv->loop_ctx);
  tl_thread_set_doing(&srv->loop_ctx, TL_DOING_LOOP, 0, 0);

  srv->docroot_fd = open(cfg->docroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (srv->docroot_fd < 0) {
    int err = errno;
    fprintf(stderr, "threadlab: cannot open docroot '%s': %s\n", cfg->docroot,
            strerror(err));
    return init_failed(srv, -err);
  }
  int rc = tl_pool_create(&srv->pool, loop, registry, cfg->threads,
                          (size_t) cfg->queue_max, cfg->pin);
  if (rc != 0) {
    fprintf(stderr, "threadlab: cannot start %d worker threads: %s\n",
            cfg->threads, strerror(-rc));
    return init_failed(srv, rc);
  }
  rc = tl_hrtimer_init(&srv->hrt, loop);
  if (rc != 0) {
    fprintf(stderr, "threadlab: timerfd: %s\n", strerror(-rc));
    return init_failed(srv, rc);
  }
  publish_exec(srv);
  tl_libuv_threads_register(loop, registry);
  rc = bind_listener(srv);
  if (rc != 0)
    return init_failed(srv, rc);
  srv->sendq_why = "--no-uring";
  if (!cfg->no_uring)
    (void) tl_conn_sendq_setup(srv, &srv->sendq_why);
  uv_prepare_init(loop, &srv->flush_prep);
  uv_prepare_start(&srv->flush_prep, on_prepare);
  int tmin = cfg->header_timeout_ms < cfg->idle_timeout_ms
                 ? cfg->header_timeout_ms : cfg->idle_timeout_ms;
  uint64_t sweep = (uint64_t) tmin / 4;
  sweep = sweep < 25 ? 25 : sweep > 1000 ? 1000 : sweep;
  uv_timer_init(loop, &srv->sweep_timer);
  uv_timer_start(&srv->sweep_timer, on_sweep, sweep, sweep);
  uv_timer_init(loop, &srv->lag_timer);
  srv->lag_expected_ns = uv_hrtime() + (uint64_t) LAG_INTERVAL_MS * 1000000u;
  uv_timer_start(&srv->lag_timer, on_lag, LAG_INTERVAL_MS, LAG_INTERVAL_MS);
  uv_timer_init(loop, &srv->shutdown_timer);
  pthread_mutex_init(&srv->ctl_mu, NULL);
  uv_async_init(loop, &srv->ctl_async, on_control);
  uv_signal_init(loop, &srv->sig_int);
  uv_signal_init(loop, &srv->sig_term);
  srv->sig_int.data = srv->sig_term.data = srv;
  uv_signal_start(&srv->sig_int, on_signal, SIGINT);
  uv_signal_start(&srv->sig_term, on_signal, SIGTERM);
  return 0;
}

void tl_server_shutdown(tl_server *srv) {
  if (srv->draining)
    return;
  srv->draining = true;
  uv_close((uv_handle_t *) &srv->listener, NULL);
  uv_signal_stop(&srv->sig_int);
  uv_signal_stop(&srv->sig_term);
  tl_conn_drain_all(srv);
  uv_timer_start(&srv->shutdown_timer, on_shutdown_timeout,
                 (uint64_t) srv->cfg.shutdown_timeout_ms, 0);
}

static void finish_shutdown(tl_server *srv) {
  srv->stopped = true;
  if (srv->before_stop)
    srv->before_stop(srv->before_stop_arg);
  pthread_mutex_lock(&srv->ctl_mu);
  srv->ctl_closed = true;
  pthread_mutex_unlock(&srv->ctl_mu);
  /* Answer what was posted before the close, then close. */
  on_control(&srv->ctl_async);
  uv_close((uv_handle_t *) &srv->ctl_async, NULL);
  uv_close((uv_handle_t *) &srv->flush_prep, NULL);
  tl_hrtimer_close(srv->hrt);
  srv->hrt = NULL;
  uv_close((uv_handle_t *) &srv->sweep_timer, NULL);
  uv_close((uv_handle_t *) &srv->lag_timer, NULL);
  uv_close((uv_handle_t *) &srv->shutdown_timer, NULL);
  uv_close((uv_handle_t *) &srv->sig_int, NULL);
  uv_close((uv_handle_t *) &srv->sig_term, NULL);
  tl_pool_destroy(srv->pool);
  srv->pool = NULL;
}

int tl_server_set_mode(tl_server *srv, tl_mode mode) {
  if ((unsigned) mode >= TL_MODE_COUNT)
    return -EINVAL;
  /* Tasks in flight finish under the executor that admitted them. */
  srv->mode = mode;
  srv->exec = tl_executor_for(mode);
  publish_exec(srv);
  return 0;
}

int tl_server_set_threads(tl_server *srv, int n) {
  int rc = tl_pool_resize(srv->pool, n);
  publish_exec(srv);
  return rc;
}

void tl_server_set_pin(tl_server *srv, bool pin) {
  tl_pool_set_pin(srv->pool, pin);
  publish_exec(srv);
}

void tl_server_cleanup(tl_server *srv) {
  tl_conn_sendq_teardown(srv);
  pthread_mutex_destroy(&srv->ctl_mu);
  tl_registry_remove(srv->registry, &srv->loop_ctx);
  if (srv->docroot_fd >= 0)
    close(srv->docroot_fd);
  srv->docroot_fd = -1;
}
