#include "config.h"

#include "observer/endpoints.h"

#include "base/query.h"
#include "base/util.h"
#include "observer/file_reads.h"
#include "observer/guard.h"
#include "observer/render_history.h"

#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Immutable after create; what they point to is observer-thread only. */
struct tl_endpoints {
  tl_server *srv;
  int port;
  tl_sampler *stats;
  tl_sse *sse;
  tl_obs_control *ctl;
  tl_lab *lab;     /* set once after create (tl_endpoints_set_lab) */
  tl_sched *sched; /* set once after create (tl_endpoints_set_sched) */
  int www_fd;
  int chart_dirfd;
  const tl_history *history; /* tl_endpoints_set_history, or NULL */
  const tl_events *events;
  char chart_name[256];
};

tl_endpoints *tl_endpoints_init(tl_server *srv, int port, tl_sampler *stats,
                                tl_sse *sse, tl_obs_control *ctl) {
  tl_endpoints *ep = tl_xcalloc(1, sizeof(*ep));
  ep->srv = srv;
  ep->port = port;
  ep->stats = stats;
  ep->sse = sse;
  ep->ctl = ctl;
  ep->www_fd = open(srv->cfg.www, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ep->chart_dirfd = -1;
  if (TL_CHARTJS_PATH[0]) {
    char dir[4096], base[4096];
    snprintf(dir, sizeof(dir), "%s", TL_CHARTJS_PATH);
    snprintf(base, sizeof(base), "%s", TL_CHARTJS_PATH);
    ep->chart_dirfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    snprintf(ep->chart_name, sizeof(ep->chart_name), "%s", basename(base));
  }
  return ep;
}

void tl_endpoints_set_lab(tl_endpoints *ep, tl_lab *lab) { ep->lab = lab; }

void tl_endpoints_set_sched(tl_endpoints *ep, tl_sched *s) { ep->sched = s; }

void tl_endpoints_close(tl_endpoints *ep) {
  if (ep->www_fd >= 0)
    close(ep->www_fd);
  if (ep->chart_dirfd >= 0)
    close(ep->chart_dirfd);
  free(ep);
}

/* tl_sse_render_fn for the stream's first event. */
static void render_history(void *arg, tl_buf *out) {
  tl_endpoints *ep = arg;
  tl_render_history(ep->history, ep->events, out);
}

void tl_endpoints_set_history(tl_endpoints *ep, const tl_history *h,
                              const tl_events *ev) {
  ep->history = h;
  ep->events = ev;
  if (h)
    tl_sse_set_first_event(ep->sse, "history", render_history, ep);
}

/* Off the loop: a slow disk must not stall /stats (observer/file_reads). */
static void serve_file(tl_admin_conn *c, const tl_request *r, int dirfd,
                       const char *rel, size_t len) {
  tl_file_reads_serve(c, r, dirfd, rel, len);
}

/* Host for every request; Origin and the dashboard's header for a POST.
 * False after answering a refusal. */
static bool guard(tl_endpoints *ep, tl_admin_conn *c, const tl_request *r) {
  struct sockaddr_storage local;
  tl_guard_site site = {.bound_host = ep->srv->cfg.host, .port = ep->port};
  if (tl_admin_conn_local_addr(c, &local) == 0)
    site.local = (const struct sockaddr *) &local;
  const char *why = NULL;
  int status = tl_guard_host(&site, r, &why);
  if (status == 0 && r->method == HTTP_POST)
    status = tl_guard_post(&site, r, &why);
  if (status == 0)
    return true;
  tl_admin_conn_respond_error(c, status, why, NULL);
  return false;
}

static void not_allowed(tl_admin_conn *c, const tl_request *r,
                        const char *allow) {
  /* A CORS preflight gets no Access-Control-Allow-* from us, ever. */
  const char *msg = r->method == HTTP_OPTIONS
                        ? "method not allowed: no CORS preflight is granted"
                        : "method not allowed";
  tl_admin_conn_respond_error(c, 405, msg, allow);
}

void tl_endpoints_handle(void *ctx, tl_admin_conn *c, tl_request *r) {
  tl_endpoints *ep = ctx;
  if (!guard(ep, c, r))
    return;
  size_t plen, qlen;
  const char *q;
  tl_split_target(r->target.data, r->target.len, &plen, &q, &qlen);
  const char *p = r->target.data;
  bool get = r->method == HTTP_GET || r->method == HTTP_HEAD;
#define IS(lit) (plen == sizeof(lit) - 1 && memcmp(p, lit, plen) == 0)
  if (ep->lab && plen >= 4 && memcmp(p, "/lab", 4) == 0 &&
      (plen == 4 || p[4] == '/')) {
    tl_lab_handle(ep->lab, c, r, p, plen, q, qlen);
    return;
  }
  if (IS("/control")) {
    if (r->method != HTTP_POST)
      not_allowed(c, r, "Allow: POST\r\n");
    else
      tl_obs_control_handle(ep->ctl, c, r);
    return;
  }
  if (!get) {
    not_allowed(c, r, "Allow: GET, HEAD\r\n");
    return;
  }
  if (ep->sched && plen >= 6 && memcmp(p, "/sched", 6) == 0 &&
      (plen == 6 || p[6] == '/')) {
    tl_sched_handle(ep->sched, c, p, plen, q, qlen);
    return;
  }
  if (IS("/stats")) {
    const tl_buf *j = tl_sampler_json(ep->stats);
    tl_admin_conn_respond(c, 200, "application/json",
                          "Cache-Control: no-store\r\n", j->data, j->len);
  } else if (IS("/metrics")) {
    const tl_buf *m = tl_sampler_metrics(ep->stats);
    tl_admin_conn_respond(c, 200, "text/plain; version=0.0.4; charset=utf-8",
                          NULL, m->data, m->len);
  } else if (IS("/stats/stream")) {
    tl_sse_start(ep->sse, c, tl_sampler_seq(ep->stats),
                 tl_sampler_stream_json(ep->stats));
  } else if (IS("/stats/history") && ep->history) {
    tl_buf h;
    tl_buf_init(&h, NULL, 0);
    tl_render_history(ep->history, ep->events, &h);
    tl_admin_conn_respond(c, 200, "application/json",
                          "Cache-Control: no-store\r\n", h.data, h.len);
    tl_buf_close(&h);
  } else if (IS("/healthz")) {
    static const char ok[] = "{\"status\":\"ok\"}\n";
    tl_admin_conn_respond(c, 200, "application/json",
                          "Cache-Control: no-store\r\n", ok, sizeof(ok) - 1);
  } else if (IS("/vendor/chart.js")) {
    if (ep->chart_dirfd < 0)
      tl_admin_conn_respond_error(
          c, 404, "Chart.js is not installed (apt-get install libjs-chart.js)",
          NULL);
    else
      serve_file(c, r, ep->chart_dirfd, ep->chart_name, strlen(ep->chart_name));
  } else if (plen >= 1 && p[0] == '/') {
    serve_file(c, r, ep->www_fd, p + 1, plen - 1);
  } else {
    tl_admin_conn_respond_error(c, 404, "not found", NULL);
  }
#undef IS
}
