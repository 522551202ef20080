#include "config.h"

#include "exec/executor.h"
#include "exec/respond.h"
#include "base/query.h"
#include "base/response.h"
#include "http/router.h"
#include "exec/static_file.h"
#include "base/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool is_head(const tl_slot *s) { return s->req.method == HTTP_HEAD; }

void tl_slot_fail(tl_slot *slot, int status, const char *msg,
                  const char *extra_headers, bool close) {
  if (close)
    slot->close_after = true;
  slot->status = (uint16_t) status;
  slot->out.len = 0;
  tl_resp_error(&slot->out, status, msg, slot->req.http_minor,
                slot->req.keep_alive && !slot->close_after, is_head(slot),
                extra_headers ? extra_headers : "");
  tl_slot_ready(slot);
}

void tl_dispatch(tl_server *srv, tl_slot *slot) {
  tl_request *r = &slot->req;
  size_t plen, qlen;
  const char *q;
  int status;
  const char *allow;
  tl_split_target(r->target.data, r->target.len, &plen, &q, &qlen);
  tl_route route = tl_route_match(r->target.data, plen, r->method, &status,
                                  &allow);
  slot->route = (uint8_t) route;
  if (status == 404) {
    tl_slot_fail(slot, 404, "not found", NULL, false);
    return;
  }
  if (status == 405) {
    char hdr[64];
    snprintf(hdr, sizeof(hdr), "Allow: %s\r\n", allow);
    tl_slot_fail(slot, 405, "method not allowed", hdr, false);
    return;
  }
  tl_step_spec specs[TL_MAX_STEPS];
  int nsteps = 0;
  if (route == TL_ROUTE_CPU || route == TL_ROUTE_IO || route == TL_ROUTE_TASK) {
    const char *err = NULL;
    int kind = route == TL_ROUTE_TASK ? -1
               : route == TL_ROUTE_CPU ? TL_STEP_CPU : TL_STEP_IO;
    nsteps = tl_steps_from_query(q, qlen, kind, specs, &err);
    if (nsteps < 0) {
      tl_slot_fail(slot, 400, err, NULL, false);
      return;
    }
  }
  tl_task *t = &slot->task;
  memset(t, 0, sizeof(*t));
  t->id = ++srv->next_task_id;
  t->mode = srv->mode;
  t->route = (uint8_t) route;
  t->slot = slot;
  t->created_ns = slot->t_start_ns;
  t->nsteps = (uint8_t) nsteps;
  if (nsteps > 0) {
    t->steps = tl_xcalloc((size_t) nsteps, sizeof(*t->steps));
    for (int i = 0; i < nsteps; i++)
      t->steps[i].spec = specs[i];
  }
  tl_slot_task_begin(slot);
  if (srv->exec->start(srv, t) == -EAGAIN) {
    tl_slot_task_cancel(slot);
    tl_task_release(t);
    tl_count(&srv->stats.rejected, 1);
    tl_slot_fail(slot, 503, "task queue full", "Retry-After: 1\r\n", false);
  }
}

bool tl_handler_blocks(const tl_slot *slot) {
  return slot->route == TL_ROUTE_STATIC;
}

static void put_json_u64(tl_buf *b, const char *key, uint64_t v) {
  tl_buf_putc(b, '"');
  tl_buf_puts(b, key);
  tl_buf_puts(b, "\":");
  tl_buf_put_u64(b, v);
}

/* The per-step report of /cpu, /io and /task, plus its X-* headers. */
static void respond_task(tl_slot *slot, tl_server *srv, bool keep_alive) {
  tl_task *t = &slot->task;
  uint64_t now = tl_now_ns();
  char bodybuf[1024];
  tl_buf body;
  tl_buf_init(&body, bodybuf, sizeof(bodybuf));
  tl_buf_puts(&body, "{");
  put_json_u64(&body, "task", t->id);
  tl_buf_puts(&body, ",\"route\":\"");
  tl_buf_puts(&body, tl_route_name((tl_route) t->route));
  tl_buf_puts(&body, "\",\"mode\":\"");
  tl_buf_puts(&body, tl_mode_name(t->mode));
  tl_buf_puts(&body, "\",");
  put_json_u64(&body, "queue_us", t->queue_ns / 1000);
  tl_buf_putc(&body, ',');
  put_json_u64(&body, "run_us", t->run_ns / 1000);
  tl_buf_putc(&body, ',');
  put_json_u64(&body, "total_us", (now - t->created_ns) / 1000);
  tl_buf_puts(&body, ",\"pid\":");
  tl_buf_put_u64(&body, (unsigned long long) getpid());
  tl_buf_puts(&body, ",\"steps\":[");
  char threads[TL_MAX_STEPS * 17 + 1] = "", cores[TL_MAX_STEPS * 6 + 1] = "";
  size_t tl = 0, cl = 0;
  for (int i = 0; i < t->nsteps; i++) {
    tl_step_rec *s = &t->steps[i];
    if (i)
      tl_buf_putc(&body, ',');
    tl_buf_printf(&body,
                  "{\"i\":%d,\"kind\":\"%s\",\"ms\":%u,\"thread\":\"%s\","
                  "\"tid\":%d,\"core\":%d,\"start_us\":%llu,\"end_us\":%llu}",
                  i, tl_step_kind_name(s->spec.kind), s->spec.ms, s->thread,
                  s->tid, s->core,
                  (unsigned long long) ((s->start_ns - t->created_ns) / 1000),
                  (unsigned long long) ((s->end_ns - t->created_ns) / 1000));
    tl += (size_t) snprintf(threads + tl, sizeof(threads) - tl, "%s%s",
                            i ? "," : "", s->thread);
    cl += (size_t) snprintf(cores + cl, sizeof(cores) - cl, "%s%d",
                            i ? "," : "", s->core);
  }
  tl_buf_puts(&body, "]}\n");
  if (t->nsteps == 0) {
    tl_thread_ctx *self = tl_thread_self();
    snprintf(threads, sizeof(threads), "%s", self ? self->label : "?");
    snprintf(cores, sizeof(cores), "%d", sched_getcpu());
  }
  (void) srv;
  tl_buf *o = &slot->out;
  tl_resp_begin(o, 200, slot->req.http_minor, keep_alive);
  tl_buf_puts(o, "X-Task-Id: ");
  tl_buf_put_u64(o, t->id);
  tl_buf_puts(o, "\r\nX-Thread: ");
  tl_buf_puts(o, threads);
  tl_buf_puts(o, "\r\nX-Core: ");
  tl_buf_puts(o, cores);
  tl_buf_puts(o, "\r\nX-Queue-Us: ");
  tl_buf_put_u64(o, t->queue_ns / 1000);
  tl_buf_puts(o, "\r\nX-Run-Us: ");
  tl_buf_put_u64(o, t->run_ns / 1000);
  tl_buf_puts(o, "\r\n");
  tl_resp_finish(o, "application/json", body.data, body.len,
                 slot->req.method == HTTP_HEAD);
  tl_buf_free(&body);
}

static void respond_index(tl_slot *slot, tl_server *srv, bool keep_alive) {
  tl_buf b;
  tl_buf_init(&b, NULL, 0);
  tl_buf_printf(
      &b,
      "<!doctype html><html><head><meta charset=\"utf-8\">"
      "<title>threadlab</title></head><body><h1>threadlab %s</h1>"
      "<p>Mode <b>%s</b>, pid %d. Dashboard: "
      "<a href=\"http://%s:%d/\">http://%s:%d/</a></p><ul>"
      "<li><a href=\"/plaintext\">GET /plaintext</a></li>"
      "<li><a href=\"/json\">GET /json</a></li>"
      "<li><a href=\"/cpu?ms=5\">GET /cpu?ms=N</a>: burn N ms of CPU</li>"
      "<li><a href=\"/io?ms=50\">GET /io?ms=N</a>: wait N ms</li>"
      "<li><a href=\"/task?steps=cpu:2,io:50,cpu:2\">GET "
      "/task?steps=cpu:2,io:50,cpu:2</a></li>"
      "<li>POST /echo: the body back</li>"
      "<li><a href=\"/static/\">GET /static/PATH</a>: files</li></ul>"
      "</body></html>\n",
      PACKAGE_VERSION, tl_mode_name(slot->task.mode), (int) getpid(),
      srv->cfg.host, srv->admin_port, srv->cfg.host, srv->admin_port);
  tl_resp_begin(&slot->out, 200, slot->req.http_minor, keep_alive);
  tl_resp_finish(&slot->out, "text/html; charset=utf-8", b.data, b.len,
                 slot->req.method == HTTP_HEAD);
  tl_buf_free(&b);
}

void tl_handler_respond(tl_slot *slot) {
  tl_server *srv = tl_task_server(&slot->task);
  tl_request *r = &slot->req;
  bool ka = r->keep_alive && !slot->close_after;
  bool head = r->method == HTTP_HEAD;
  tl_buf *o = &slot->out;
  static const char hello[] = "Hello, World!";
  int status = 200;
  switch ((tl_route) slot->route) {
  case TL_ROUTE_PLAINTEXT:
    tl_resp_begin(o, 200, r->http_minor, ka);
    tl_resp_finish(o, "text/plain", hello, sizeof(hello) - 1, head);
    break;
  case TL_ROUTE_JSON: {
    /* Serialised per request, as the TechEmpower rules ask. */
    char jb[64];
    tl_buf j;
    tl_buf_init(&j, jb, sizeof(jb));
    tl_buf_puts(&j, "{\"message\":");
    tl_buf_put_json_str(&j, hello, sizeof(hello) - 1);
    tl_buf_putc(&j, '}');
    tl_resp_begin(o, 200, r->http_minor, ka);
    tl_resp_finish(o, "application/json", j.data, j.len, head);
    tl_buf_free(&j);
    break;
  }
  case TL_ROUTE_ECHO:
    tl_resp_begin(o, 200, r->http_minor, ka);
    tl_resp_finish(o, "application/octet-stream", r->body.data, r->body.len,
                   head);
    break;
  case TL_ROUTE_STATIC: {
    size_t plen, qlen;
    const char *q;
    tl_split_target(r->target.data, r->target.len, &plen, &q, &qlen);
    status = tl_static_respond(o, srv->docroot_fd, r->target.data + 8,
                               plen - 8, r->http_minor, ka, head);
    break;
  }
  case TL_ROUTE_INDEX:
    respond_index(slot, srv, ka);
    break;
  default:
    respond_task(slot, srv, ka);
    break;
  }
  slot->status = (uint16_t) status;
  tl_thread_ctx *self = tl_thread_self();
  if (self)
    atomic_fetch_add_explicit(&self->tasks, 1, memory_order_relaxed);
}
