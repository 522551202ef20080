#include "config.h"

#include "core/server.h"

#include "base/cpulist.h"
#include "base/util.h"
#include "core/libuv_threads.h"
#include "core/loop_threads.h"
#include "exec/coro.h"
#include "exec/shared_steps.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_signal(uv_signal_t *h, int signum) {
  tl_server *srv = h->data;
  (void) signum;
  tl_server_shutdown(srv);
}

static void on_shutdown_timeout(uv_timer_t *h) {
  tl_server *srv = TL_CONTAINER_OF(h, tl_server, shutdown_timer);
  tl_loop *l0 = &srv->loops[0];
  fprintf(stderr,
          "threadlab: shutdown timeout: closing %zu connection(s), "
          "abandoning %llu task(s)%s\n",
          tl_loop_conn_count(l0), (unsigned long long) l0->tasks_inflight,
          srv->nloops > 1 ? " on loop 0; the other loops likewise" : "");
  for (int k = 1; k < srv->nloops; k++)
    tl_loop_post(&srv->loops[k], TL_LOOP_CLOSE_CONNS);
  tl_loop_close_conns(l0);
}

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
    if (srv->role == TL_PROC_SUPERVISOR) {
      if (ctl->mode >= (int) TL_MODE_COUNT || ctl->threads > TL_MAX_THREADS)
        rc = -EINVAL;
      if (ctl->set_coro_slice)
        rc = -EOPNOTSUPP; /* not carried to the worker processes: refused */
      if (rc == 0) {
        /* Recorded first: a worker started from now on gets it too. */
        if (ctl->cpus_op >= 0) {
          pthread_mutex_lock(&srv->ctl_mu);
          srv->sup_cpus_op = ctl->cpus_op;
          srv->sup_cpus = ctl->cpus;
          pthread_mutex_unlock(&srv->ctl_mu);
        }
        if (srv->forward_control(srv, ctl) > 0)
          rc = -EAGAIN; /* a live worker did not take it: say so (409) */
        if (ctl->threads > 0)
          atomic_store(&srv->threads, ctl->threads);
        if (ctl->pin >= 0)
          atomic_store(&srv->pinned, ctl->pin != 0);
        if (ctl->mode >= 0)
          atomic_store(&srv->mode, ctl->mode);
      }
      ctl->rc = rc;
      ctl->done(ctl);
      continue;
    }
    if (ctl->threads > 0)
      rc = tl_server_set_threads(srv, ctl->threads);
    if (rc == 0 && ctl->cpus_op >= 0)
      rc = tl_pool_set_cpus(srv->pool, ctl->cpus_op ? &ctl->cpus : NULL);
    if (rc == 0 && ctl->pin >= 0)
      tl_server_set_pin(srv, ctl->pin != 0);
    if (rc == 0 && ctl->mode >= 0)
      rc = tl_server_set_mode(srv, (tl_mode) ctl->mode);
    if (rc == 0 && ctl->set_coro_slice)
      tl_coro_set_slice_ms(ctl->coro_slice_ms);
    ctl->rc = rc;
    ctl->done(ctl);
  }
}

void tl_server_worker_cpus(tl_server *srv, cpu_set_t *cpus,
                           cpu_set_t *inherited) {
  if (srv->role != TL_PROC_SUPERVISOR) {
    tl_pool_get_cpus(srv->pool, cpus, inherited);
    return;
  }
  cpu_set_t all;
  tl_cpulist_self(&all);
  if (cpus) {
    pthread_mutex_lock(&srv->ctl_mu);
    *cpus = srv->sup_cpus_op == 1   ? srv->sup_cpus
            : srv->sup_cpus_op == 0 ? all
            : srv->cfg.has_cpus     ? srv->cfg.cpus
                                    : all;
    pthread_mutex_unlock(&srv->ctl_mu);
  }
  if (inherited)
    *inherited = all;
}

size_t tl_server_queue_depth(const tl_server *srv) {
  return srv->role != TL_PROC_SUPERVISOR ? tl_pool_depth(srv->pool) : 0;
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

/* Every loop has drained: close what the server owns, stop the pool. */
static void stop_all(tl_server *srv) {
  if (srv->stopped || !srv->loops[0].drained ||
      atomic_load(&srv->loops_finished) < srv->nloops - 1)
    return;
  srv->stopped = true;
  tl_loop *loop = &srv->loops[0];
  pthread_mutex_lock(&srv->ctl_mu);
  srv->ctl_closed = true;
  pthread_mutex_unlock(&srv->ctl_mu);
  /* Answer what was posted before the close, then close: before the
   * observer stops, since done() hands each answer back to it. */
  on_control(&srv->ctl_async);
  uv_close((uv_handle_t *) &srv->ctl_async, NULL);
  if (srv->before_stop)
    srv->before_stop(srv->before_stop_arg);
  tl_loop_close_handles(loop);
  uv_close((uv_handle_t *) &srv->shutdown_timer, NULL);
  uv_close((uv_handle_t *) &srv->sig_int, NULL);
  uv_close((uv_handle_t *) &srv->sig_term, NULL);
  uv_close((uv_handle_t *) &srv->loops_async, NULL);
  tl_pool_close(srv->pool);
  srv->pool = NULL;
}

static void on_drained(tl_loop *loop) { stop_all(loop->owner); }

static void on_loop_finished_async(uv_async_t *h) {
  stop_all(TL_CONTAINER_OF(h, tl_server, loops_async));
}

/* On loop K's thread, once it has closed. */
static void on_loop_finished(tl_server *srv) {
  atomic_fetch_add(&srv->loops_finished, 1);
  uv_async_send(&srv->loops_async);
}

/* Undoes a start that failed half-way; the caller runs the loop once more
 * so that the closed handles and libuv's thread registration finish. */
static int init_failed(tl_server *srv, int rc) {
  if (!uv_is_closing((uv_handle_t *) &srv->loops_async))
    uv_close((uv_handle_t *) &srv->loops_async, NULL);
  if (srv->loops[0].uv) {
    /* Loop 0 had started: close what it opened. */
    srv->loops[0].draining = srv->loops[0].drained = true;
    uv_close((uv_handle_t *) &srv->loops[0].listener, NULL);
    tl_loop_close_handles(&srv->loops[0]);
  }
  if (srv->pool)
    tl_pool_close(srv->pool);
  srv->pool = NULL;
  if (srv->docroot_fd >= 0)
    close(srv->docroot_fd);
  srv->docroot_fd = -1;
  return rc;
}

int tl_server_init(tl_server *srv, uv_loop_t *uv, const tl_config *cfg,
                   tl_registry *registry) {
  memset(srv, 0, sizeof(*srv));
  srv->uv = uv;
  srv->start_ns = tl_now_ns();
  srv->cfg = *cfg;
  srv->role = tl_config_role(cfg);
  srv->registry = registry;
  srv->costs_fd = -1;
  atomic_store(&srv->mode, (int) cfg->mode);
  srv->nloops = cfg->loops > 0 ? cfg->loops : 1;
  srv->loops = tl_xcalloc((size_t) srv->nloops, sizeof(tl_loop));
  srv->listen_port = cfg->port;
  srv->reuseport = srv->nloops > 1 || srv->role == TL_PROC_WORKER;
  uv_async_init(uv, &srv->loops_async, on_loop_finished_async);

  srv->docroot_fd = open(cfg->docroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (srv->docroot_fd < 0) {
    int err = errno;
    fprintf(stderr, "threadlab: cannot open docroot '%s': %s\n", cfg->docroot,
            strerror(err));
    return init_failed(srv, -err);
  }
  int rc = tl_pool_init(&srv->pool, uv, registry, cfg->threads,
                        (size_t) cfg->queue_max, cfg->pin);
  if (rc != 0) {
    fprintf(stderr, "threadlab: cannot start %d worker threads: %s\n",
            cfg->threads, strerror(-rc));
    return init_failed(srv, rc);
  }
  if (cfg->has_cpus)
    tl_pool_set_cpus(srv->pool, &cfg->cpus); /* checked by the options */
  atomic_store(&srv->threads, tl_pool_threads(srv->pool));
  atomic_store(&srv->pinned, tl_pool_pinned(srv->pool));
  tl_libuv_threads_register(uv, registry);
  srv->loop_setup = (tl_loop_setup){.proc = {.cfg = &srv->cfg,
                                             .pool = srv->pool,
                                             .mode = &srv->mode,
                                             .admin_port = &srv->admin_port,
                                             .docroot_fd = srv->docroot_fd},
                                    .registry = registry,
                                    .listen_port = srv->listen_port,
                                    .reuseport = srv->reuseport,
                                    .defer_listen = cfg->worker_spare,
                                    .owner = srv};
  rc = tl_loop_init(&srv->loops[0], &srv->loop_setup, uv, 0);
  if (rc != 0) {
    srv->loops[0].uv = NULL; /* nothing of it to close */
    return init_failed(srv, rc);
  }
  srv->loops[0].on_drained = on_drained;
  srv->listen_port = srv->loop_setup.listen_port = srv->loops[0].port;
  if (srv->nloops > 1) {
    rc = tl_loop_threads_start(&srv->lthreads, srv, on_loop_finished);
    if (rc != 0)
      return init_failed(srv, rc);
  }
  uv_timer_init(uv, &srv->shutdown_timer);
  pthread_mutex_init(&srv->ctl_mu, NULL);
  uv_async_init(uv, &srv->ctl_async, on_control);
  uv_signal_init(uv, &srv->sig_int);
  uv_signal_init(uv, &srv->sig_term);
  srv->sig_int.data = srv->sig_term.data = srv;
  uv_signal_start(&srv->sig_int, on_signal, SIGINT);
  uv_signal_start(&srv->sig_term, on_signal, SIGTERM);
  return 0;
}

void tl_server_init_supervisor(tl_server *srv, uv_loop_t *uv,
                               const tl_config *cfg, tl_registry *registry) {
  memset(srv, 0, sizeof(*srv));
  srv->uv = uv;
  srv->start_ns = tl_now_ns();
  srv->cfg = *cfg;
  srv->role = TL_PROC_SUPERVISOR;
  srv->registry = registry;
  srv->docroot_fd = -1;
  srv->costs_fd = -1;
  atomic_store(&srv->mode, (int) cfg->mode);
  atomic_store(&srv->threads, cfg->threads);
  atomic_store(&srv->pinned, cfg->pin);
  srv->sup_cpus_op = -1;
  pthread_mutex_init(&srv->ctl_mu, NULL);
  uv_async_init(uv, &srv->ctl_async, on_control);
}

void tl_server_close_control(tl_server *srv) {
  pthread_mutex_lock(&srv->ctl_mu);
  srv->ctl_closed = true;
  pthread_mutex_unlock(&srv->ctl_mu);
  on_control(&srv->ctl_async);
  uv_close((uv_handle_t *) &srv->ctl_async, NULL);
}

void tl_server_shutdown(tl_server *srv) {
  if (srv->draining)
    return;
  srv->draining = true;
  tl_shared_abandon(); /* deadlocked threads let go, so they can be joined */
  uv_signal_stop(&srv->sig_int);
  uv_signal_stop(&srv->sig_term);
  for (int k = 1; k < srv->nloops; k++)
    tl_loop_post(&srv->loops[k], TL_LOOP_DRAIN);
  tl_loop_drain(&srv->loops[0]);
  uv_timer_start(&srv->shutdown_timer, on_shutdown_timeout,
                 (uint64_t) srv->cfg.shutdown_timeout_ms, 0);
}

int tl_server_listen(tl_server *srv) {
  for (int k = 1; k < srv->nloops; k++)
    tl_loop_post(&srv->loops[k], TL_LOOP_LISTEN);
  return tl_loop_listen(&srv->loops[0]);
}

int tl_server_set_mode(tl_server *srv, tl_mode mode) {
  if ((unsigned) mode >= TL_MODE_COUNT)
    return -EINVAL;
  /* Tasks in flight finish under the executor that admitted them. */
  atomic_store_explicit(&srv->mode, (int) mode, memory_order_relaxed);
  return 0;
}

int tl_server_set_threads(tl_server *srv, int n) {
  int rc = tl_pool_resize(srv->pool, n);
  atomic_store_explicit(&srv->threads, tl_pool_threads(srv->pool),
                        memory_order_relaxed);
  return rc;
}

void tl_server_set_pin(tl_server *srv, bool pin) {
  tl_pool_set_pin(srv->pool, pin);
  atomic_store_explicit(&srv->pinned, tl_pool_pinned(srv->pool),
                        memory_order_relaxed);
}

void tl_server_close(tl_server *srv) {
  tl_loop_threads_join(srv->lthreads);
  srv->lthreads = NULL;
  if (srv->loops)
    tl_loop_close(&srv->loops[0]);
  free(srv->loops);
  srv->loops = NULL;
  pthread_mutex_destroy(&srv->ctl_mu);
  if (srv->docroot_fd >= 0)
    close(srv->docroot_fd);
  srv->docroot_fd = -1;
}
