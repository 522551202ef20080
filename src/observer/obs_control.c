#include "config.h"

#include <errno.h>

#include "observer/obs_control.h"

#include "base/cpulist.h"
#include "base/query.h"
#include "base/util.h"
#include "exec/coro.h"
#include "observer/events.h"
#include "observer/guard.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tl_obs_control {
  /* Immutable after create. */
  tl_server *srv;
  /* Observer thread only. */
  uv_async_t ack_async;
  /* Under ack_mu: pushed by the main loop's thread (control_done), taken
   * by the observer (on_ack). */
  pthread_mutex_t ack_mu;
  tl_control *acks;
  /* Observer thread only: where applied changes are logged, or NULL. */
  tl_events *events;
};

/* One control out on the main loop. While it is out, the main loop's
 * thread owns ctl; conn stays held on the observer. */
typedef struct pending {
  tl_control ctl;
  tl_obs_control *owner;
  tl_admin_conn *conn;
  char before[256]; /* the state JSON when the request came */
  /* Set by tl_obs_control_apply (the lab): called instead of answering
   * a connection. */
  void (*applied)(void *arg, int rc);
  void *applied_arg;
} pending;

static bool peer_is_loopback(const tl_admin_conn *c) {
  struct sockaddr_storage ss;
  return tl_admin_conn_peer_addr(c, &ss) == 0 &&
         tl_guard_is_loopback((const struct sockaddr *) &ss);
}

static void state_json(tl_server *srv, tl_buf *b) {
  cpu_set_t cpus;
  char list[256];
  tl_server_worker_cpus(srv, &cpus, NULL);
  tl_cpulist_format(&cpus, list, sizeof(list));
  tl_buf_printf(b,
                "{\"ok\":true,\"mode\":\"%s\",\"threads\":%d,\"pinned\":%s,"
                "\"worker_cpus\":\"%s\",\"coro_slice_ms\":%d}\n",
                tl_mode_name(tl_server_mode(srv)), atomic_load(&srv->threads),
                atomic_load(&srv->pinned) ? "true" : "false", list,
                tl_coro_slice_ms(&srv->cfg));
}

/* Main loop's thread: hand the answered control back to the observer. */
static void control_done(tl_control *ctl) {
  tl_obs_control *oc = ((pending *) ctl->data)->owner;
  pthread_mutex_lock(&oc->ack_mu);
  ctl->next = oc->acks;
  oc->acks = ctl;
  uv_async_send(&oc->ack_async);
  pthread_mutex_unlock(&oc->ack_mu);
}

/* Every key of the state that the control changed becomes an event: the
 * state before and after are compared as a whole, so a new control key
 * needs nothing here. */
static void log_changes(tl_obs_control *oc, const pending *p,
                        const tl_buf *after) {
  if (!oc->events)
    return;
  struct timespec wall;
  clock_gettime(CLOCK_REALTIME, &wall);
  char now[256];
  snprintf(now, sizeof(now), "%.*s", (int) after->len, after->data);
  tl_events_control_diff(
      oc->events, (double) wall.tv_sec * 1e3 + (double) wall.tv_nsec / 1e6,
      p->before, now);
}

void tl_obs_control_set_events(tl_obs_control *oc, tl_events *ev) {
  oc->events = ev;
}

/* Changes made for the lab (applied != NULL) are logged like the ones a
 * POST makes; only the answer differs. */
static void answer(tl_obs_control *oc, pending *p) {
  tl_buf b;
  tl_buf_init(&b, NULL, 0);
  if (p->ctl.rc == 0) {
    state_json(oc->srv, &b);
    log_changes(oc, p, &b);
  }
  if (p->applied) {
    p->applied(p->applied_arg, p->ctl.rc);
  } else {
    tl_admin_conn *c = p->conn;
    if (tl_admin_conn_is_open(c)) {
      if (p->ctl.rc != 0) {
        /* Refused, never a server error: the reason says why. */
        char msg[160];
        if (p->ctl.rc == -EAGAIN)
          snprintf(msg, sizeof(msg),
                   "control refused: a worker process did "
                   "not take the change (its channel is busy); try again");
        else
          snprintf(msg, sizeof(msg), "control refused: %s",
                   strerror(-p->ctl.rc));
        tl_admin_conn_respond_error(c, p->ctl.rc == -EINVAL ? 400 : 409, msg,
                                    NULL);
      } else {
        tl_admin_conn_respond(c, 200, "application/json",
                              "Cache-Control: no-store\r\n", b.data, b.len);
      }
    }
    tl_admin_conn_release(c);
  }
  tl_buf_close(&b);
  free(p);
}

/* The state before the change, for the event log's comparison. */
static void remember_before(tl_obs_control *oc, pending *p) {
  tl_buf before;
  tl_buf_init(&before, NULL, 0);
  state_json(oc->srv, &before);
  snprintf(p->before, sizeof(p->before), "%.*s", (int) before.len, before.data);
  tl_buf_close(&before);
}

static void on_ack(uv_async_t *h) {
  tl_obs_control *oc = TL_CONTAINER_OF(h, tl_obs_control, ack_async);
  pthread_mutex_lock(&oc->ack_mu);
  tl_control *list = oc->acks;
  oc->acks = NULL;
  pthread_mutex_unlock(&oc->ack_mu);
  while (list) {
    tl_control *ctl = list;
    list = ctl->next;
    answer(oc, ctl->data);
  }
}

tl_obs_control *tl_obs_control_init(uv_loop_t *uv, tl_server *srv) {
  tl_obs_control *oc = tl_xcalloc(1, sizeof(*oc));
  oc->srv = srv;
  pthread_mutex_init(&oc->ack_mu, NULL);
  uv_async_init(uv, &oc->ack_async, on_ack);
  return oc;
}

void tl_obs_control_close_handles(tl_obs_control *oc) {
  uv_close((uv_handle_t *) &oc->ack_async, NULL);
}

void tl_obs_control_close(tl_obs_control *oc) {
  /* Answered after we stopped listening: free their closed connections. */
  for (tl_control *ctl = oc->acks, *n; ctl; ctl = n) {
    n = ctl->next;
    pending *p = ctl->data;
    if (p->conn)
      tl_admin_conn_release(p->conn);
    free(p);
  }
  pthread_mutex_destroy(&oc->ack_mu);
  free(oc);
}

/* Every parameter must be one we know, with a valid value. Returns NULL,
 * or why the request is refused (400). */
/* cpus=LIST or cpus=all, within the mask the process inherited. */
static const char *parse_cpus(tl_server *srv, tl_control *ctl, const char *val,
                              int n) {
  if (n > 0 && strcmp(val, "all") == 0) {
    ctl->cpus_op = 0;
    return NULL;
  }
  cpu_set_t inherited;
  tl_server_worker_cpus(srv, NULL, &inherited);
  if (n <= 0 || tl_cpulist_parse(val, (size_t) n, &ctl->cpus) != 0)
    return "cpus must be a CPU list (e.g. 0, 0-1, 0,2-3) or all";
  const char *why = tl_cpulist_check(&ctl->cpus, &inherited);
  if (why)
    return why;
  ctl->cpus_op = 1;
  return NULL;
}

static const char *parse_params(tl_server *srv, tl_control *ctl, const char *q,
                                size_t qlen, int *changes) {
  char val[64];
  size_t i = 0;
  while (i < qlen) {
    size_t j = i;
    while (j < qlen && q[j] != '&')
      j++;
    const char *eq = memchr(q + i, '=', j - i);
    size_t klen = eq ? (size_t) (eq - (q + i)) : j - i;
    char key[16];
    if (klen == 0 || klen >= sizeof(key))
      return "unknown control parameter";
    memcpy(key, q + i, klen);
    key[klen] = '\0';
    int n = tl_query_get(q + i, j - i, key, val, sizeof(val));
    unsigned long v;
    if (strcmp(key, "mode") == 0) {
      tl_mode m;
      if (n < 0 || tl_mode_parse(val, &m) != 0)
        return "mode must be async, pool or hybrid";
      ctl->mode = (int) m;
    } else if (strcmp(key, "threads") == 0) {
      if (n < 0 ||
          tl_parse_uint(val, (size_t) n, 1, TL_POOL_MAX_THREADS, &v) != 0)
        return "threads must be a whole number in 1..1024";
      ctl->threads = (int) v;
    } else if (strcmp(key, "pin") == 0) {
      if (n == 1 && (val[0] == '0' || val[0] == '1'))
        ctl->pin = val[0] - '0';
      else if (n > 0 && strcmp(val, "true") == 0)
        ctl->pin = 1;
      else if (n > 0 && strcmp(val, "false") == 0)
        ctl->pin = 0;
      else
        return "pin must be 0 or 1";
    } else if (strcmp(key, "coro_slice_ms") == 0) {
      if (n < 0 || tl_parse_uint(val, (size_t) n, 0, 10000, &v) != 0)
        return "coro_slice_ms must be a whole number in 0..10000 (0 = never)";
      ctl->set_coro_slice = true;
      ctl->coro_slice_ms = (int) v;
    } else if (strcmp(key, "cpus") == 0) {
      const char *why = parse_cpus(srv, ctl, val, n);
      if (why)
        return why;
    } else {
      return "unknown control parameter (use mode, threads, pin, cpus, "
             "coro_slice_ms)";
    }
    (*changes)++;
    i = j + 1;
  }
  return NULL;
}

void tl_obs_control_handle(tl_obs_control *oc, tl_admin_conn *c,
                           const tl_request *req) {
  if (!peer_is_loopback(c)) {
    tl_admin_conn_respond_error(
        c, 403, "control is allowed from loopback clients only", NULL);
    return;
  }
  size_t plen, qlen;
  const char *q;
  tl_split_target(req->target.data, req->target.len, &plen, &q, &qlen);
  pending *p = tl_xcalloc(1, sizeof(*p));
  p->ctl.mode = -1;
  p->ctl.threads = 0;
  p->ctl.pin = -1;
  p->ctl.cpus_op = -1;
  /* The parameters come in the query, in a form-encoded body, or both. */
  int changes = 0, status = 400;
  const char *bad = parse_params(oc->srv, &p->ctl, q, qlen, &changes);
  if (!bad && req->body.len > 0) {
    if (tl_guard_content_type_is(req, "application/x-www-form-urlencoded")) {
      bad = parse_params(oc->srv, &p->ctl, req->body.data, req->body.len,
                         &changes);
    } else {
      status = 415;
      bad = "the body must be application/x-www-form-urlencoded "
            "(or give the parameters in the query)";
    }
  }
  if (!bad && changes == 0)
    bad =
        "nothing to change: give mode, threads, pin, cpus and/or coro_slice_ms";
  if (bad) {
    free(p);
    tl_admin_conn_respond_error(c, status, bad, NULL);
    return;
  }
  p->owner = oc;
  p->conn = c;
  remember_before(oc, p);
  p->ctl.done = control_done;
  p->ctl.data = p;
  if (tl_server_post_control(oc->srv, &p->ctl) != 0) {
    free(p);
    tl_admin_conn_respond_error(c, 503, "the server is shutting down", NULL);
    return;
  }
  tl_admin_conn_hold(c);
}

int tl_obs_control_apply(tl_obs_control *oc, const tl_control *want,
                         void (*applied)(void *arg, int rc), void *arg) {
  pending *p = tl_xcalloc(1, sizeof(*p));
  p->ctl = *want;
  p->ctl.next = NULL;
  p->owner = oc;
  p->applied = applied;
  p->applied_arg = arg;
  remember_before(oc, p);
  p->ctl.done = control_done;
  p->ctl.data = p;
  int rc = tl_server_post_control(oc->srv, &p->ctl);
  if (rc != 0)
    free(p);
  return rc;
}
