#include "config.h"

#include "observer/sched.h"
#include "observer/observer.h"

#include "base/listen.h"
#include "base/util.h"
#include "observer/admin_conn.h"
#include "observer/obs_control.h"
#include "observer/endpoints.h"
#include "observer/events.h"
#include "observer/history.h"
#include "observer/lab.h"
#include "observer/sampler.h"
#include "observer/sse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct tl_observer {
  /* Immutable after tl_observer_start. */
  tl_server *srv;
  tl_registry *reg;
  uv_thread_t thread;
  uint64_t created_ns; /* set before the thread is created */
  int port;            /* the bound port (written before `started`) */
  /* Start-up handshake: the observer thread sets start_rc, then posts. */
  uv_sem_t started;
  int start_rc;
  /* Any thread: the one way in from outside (tl_observer_stop). */
  uv_async_t stop_async;
  /* Observer thread only. */
  uv_loop_t loop;
  uv_tcp_t listener;
  uv_timer_t sample_timer;
  tl_thread_ctx ctx;
  tl_sampler *stats;
  tl_sse *sse;
  tl_obs_control *control;
  tl_lab *lab;
  tl_sched *sched;
  tl_endpoints *endpoints;
  tl_admin_conns *conns;
  tl_history *history;
  tl_events *events;
};

static void on_connection(uv_stream_t *l, int status) {
  tl_observer *obs = TL_CONTAINER_OF(l, tl_observer, listener);
  if (status < 0)
    return;
  tl_admin_conn_accept(obs->conns, l);
}

static void on_sample(uv_timer_t *t) {
  tl_observer *obs = TL_CONTAINER_OF(t, tl_observer, sample_timer);
  tl_sampler_sample(obs->stats);
  if (tl_sse_any(obs->sse))
    tl_sse_broadcast(obs->sse, tl_sampler_seq(obs->stats),
                     tl_sampler_stream_json(obs->stats));
}

static void walk_close(uv_handle_t *h, void *arg) {
  (void) arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static void on_stop(uv_async_t *h) {
  tl_observer *obs = TL_CONTAINER_OF(h, tl_observer, stop_async);
  tl_lab_stop(obs->lab);
  tl_sched_close_handles(obs->sched);
  tl_admin_conn_close_all(obs->conns);
  uv_close((uv_handle_t *) &obs->listener, NULL);
  uv_close((uv_handle_t *) &obs->sample_timer, NULL);
  tl_obs_control_close_handles(obs->control);
  uv_close((uv_handle_t *) &obs->stop_async, NULL);
}

static int bind_admin(tl_observer *obs) {
  const tl_config *cfg = &obs->srv->cfg;
  return tl_listen(&obs->loop, &obs->listener, cfg->host, cfg->admin_port, 256,
                   on_connection, "admin port ", &obs->port);
}

static void observer_main(void *arg) {
  uint64_t first_run = tl_now_ns(); /* the scheduler ran us: first thing */
  tl_observer *obs = arg;
  tl_thread_ctx_init(&obs->ctx, TL_ROLE_OBSERVER, -1, "observer",
                     "tl-observer");
  tl_thread_ctx_set_birth(&obs->ctx, obs->created_ns, first_run);
  uv_loop_init(&obs->loop);
  int rc = bind_admin(obs);
  if (rc != 0) {
    obs->start_rc = rc;
    uv_walk(&obs->loop, walk_close, NULL);
    uv_run(&obs->loop, UV_RUN_DEFAULT);
    uv_loop_close(&obs->loop);
    uv_sem_post(&obs->started);
    return;
  }
  tl_registry_add(obs->reg, &obs->ctx);
  uv_async_init(&obs->loop, &obs->stop_async, on_stop);
  obs->stats = tl_sampler_init(obs->srv, obs->reg);
  obs->history = tl_history_init(obs->srv->cfg.sample_ms);
  obs->events = tl_events_init();
  tl_sampler_attach(obs->stats, obs->history, obs->events);
  obs->sse = tl_sse_init();
  /* Before the first sample, which shows the source it chose. */
  obs->sched = tl_sched_init(&obs->loop, obs->srv, obs->sse);
  tl_sampler_set_sched(obs->stats, obs->sched);
  tl_sched_set_snapshot(obs->sched, tl_sampler_snapshot(obs->stats));
  tl_sampler_sample(obs->stats);
  obs->control = tl_obs_control_init(&obs->loop, obs->srv);
  obs->endpoints = tl_endpoints_init(obs->srv, obs->port, obs->stats, obs->sse,
                                     obs->control);
  tl_endpoints_set_history(obs->endpoints, obs->history, obs->events);
  tl_obs_control_set_events(obs->control, obs->events);
  obs->lab =
      tl_lab_init(&obs->loop, obs->srv, obs->stats, obs->sse, obs->control);
  tl_endpoints_set_lab(obs->endpoints, obs->lab);
  tl_endpoints_set_sched(obs->endpoints, obs->sched);
  obs->conns =
      tl_admin_conn_conns_init(&obs->loop, tl_endpoints_handle, obs->endpoints);
  uv_timer_init(&obs->loop, &obs->sample_timer);
  uint64_t period = (uint64_t) obs->srv->cfg.sample_ms;
  uv_timer_start(&obs->sample_timer, on_sample, period, period);
  uv_sem_post(&obs->started);
  uv_run(&obs->loop, UV_RUN_DEFAULT);
  uv_walk(&obs->loop, walk_close, NULL);
  uv_run(&obs->loop, UV_RUN_DEFAULT);
  uv_loop_close(&obs->loop);
  tl_obs_control_close(obs->control);
  tl_lab_close(obs->lab);
  tl_sched_free(obs->sched);
  tl_endpoints_close(obs->endpoints);
  tl_sse_close(obs->sse);
  tl_admin_conn_conns_close(obs->conns);
  tl_sampler_close(obs->stats);
  tl_history_close(obs->history);
  tl_events_close(obs->events);
  tl_registry_remove(obs->reg, &obs->ctx);
}

int tl_observer_start(tl_observer **out, tl_server *srv, tl_registry *reg) {
  tl_observer *obs = tl_xcalloc(1, sizeof(*obs));
  obs->srv = srv;
  obs->reg = reg;
  uv_sem_init(&obs->started, 0);
  int rc = 0;
  obs->created_ns = tl_now_ns();
  if (uv_thread_create(&obs->thread, observer_main, obs) != 0) {
    fprintf(stderr, "threadlab: cannot start the observer thread\n");
    rc = -EAGAIN;
  } else {
    uv_sem_wait(&obs->started);
    rc = obs->start_rc;
    if (rc != 0)
      uv_thread_join(&obs->thread);
  }
  if (rc != 0) {
    uv_sem_destroy(&obs->started);
    free(obs);
    return rc;
  }
  *out = obs;
  return 0;
}

int tl_observer_port(const tl_observer *obs) { return obs->port; }

void tl_observer_stop(tl_observer *obs) {
  uv_async_send(&obs->stop_async);
  uv_thread_join(&obs->thread);
  uv_sem_destroy(&obs->started);
  free(obs);
}
