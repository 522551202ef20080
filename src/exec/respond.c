#include "config.h"

#include "exec/respond.h"
#include "base/query.h"
#include "base/response.h"
#include "base/router.h"
#include "base/static_file.h"
#include "base/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

bool tl_respond_blocks(const tl_task *t) { return t->route == TL_ROUTE_STATIC; }

static void put_json_u64(tl_buf *b, const char *key, uint64_t v) {
  tl_buf_putc(b, '"');
  tl_buf_puts(b, key);
  tl_buf_puts(b, "\":");
  tl_buf_put_u64(b, v);
}

/* The per-step report of /cpu, /io and /task, plus its X-* headers. */
static void respond_task(const tl_request *req, const tl_task *t,
                         bool keep_alive, tl_buf *o) {
  uint64_t now = tl_now_ns();
  uint64_t pid = (uint64_t) getpid(); /* a system call: once per response */
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
  tl_buf_put_u64(&body, pid);
  tl_buf_puts(&body, ",\"steps\":[");
  char threads[TL_MAX_STEPS * 17 + 1] = "", cores[TL_MAX_STEPS * 6 + 1] = "";
  size_t tl = 0, cl = 0;
  for (int i = 0; i < t->nsteps; i++) {
    const tl_step_rec *s = &t->steps[i];
    if (i)
      tl_buf_putc(&body, ',');
    tl_buf_printf(&body,
                  "{\"i\":%d,\"kind\":\"%s\",\"%s\":%u,\"thread\":\"%s\","
                  "\"tid\":%d,\"core\":%d,\"start_us\":%llu,\"end_us\":%llu,"
                  "\"cpu_us\":%llu}",
                  i, tl_step_kind_name(s->spec.kind),
                  tl_step_is_count(s->spec.kind) ? "n" : "ms", s->spec.ms,
                  s->thread, s->tid, s->core,
                  (unsigned long long) ((s->start_ns - t->created_ns) / 1000),
                  (unsigned long long) ((s->end_ns - t->created_ns) / 1000),
                  (unsigned long long) (s->cpu_ns / 1000));
    if (s->coro) { /* coro mode: which coroutine, on which stack */
      body.len--;
      tl_buf_printf(&body, ",\"coro\":%llu,\"stack\":\"0x%llx\"}",
                    (unsigned long long) s->coro,
                    (unsigned long long) s->stack);
    }
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
  tl_resp_begin(o, 200, req->http_minor, keep_alive);
  tl_buf_puts(o, "X-Task-Id: ");
  tl_buf_put_u64(o, t->id);
  tl_buf_puts(o, "\r\nX-Pid: ");
  tl_buf_put_u64(o, pid); /* which process: --processes N */
  tl_buf_puts(o, "\r\nX-Thread: ");
  tl_buf_puts(o, threads);
  tl_buf_puts(o, "\r\nX-Core: ");
  tl_buf_puts(o, cores);
  tl_buf_puts(o, "\r\nX-Queue-Us: ");
  tl_buf_put_u64(o, t->queue_ns / 1000);
  tl_buf_puts(o, "\r\nX-Run-Us: ");
  tl_buf_put_u64(o, t->run_ns / 1000);
  tl_buf_puts(o, "\r\n");
  if (t->nsteps > 0 && t->steps[0].coro) {
    tl_buf_puts(o, "X-Coro: ");
    tl_buf_put_u64(o, t->steps[0].coro);
    tl_buf_puts(o, "\r\n");
  }
  tl_resp_finish(o, "application/json", body.data, body.len,
                 req->method == HTTP_HEAD);
  tl_buf_close(&body);
}

static void respond_index(const tl_request *req, const tl_task *t,
                          bool keep_alive, tl_buf *o) {
  const tl_config *cfg = t->loop->cfg;
  int admin = atomic_load_explicit(t->loop->admin_port, memory_order_relaxed);
  tl_buf b;
  tl_buf_init(&b, NULL, 0);
  char uh[sizeof(cfg->host) + 2];
  tl_url_host(cfg->host, uh, sizeof(uh));
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
      PACKAGE_VERSION, tl_mode_name(t->mode), (int) getpid(), uh, admin, uh,
      admin);
  tl_resp_begin(o, 200, req->http_minor, keep_alive);
  tl_resp_finish(o, "text/html; charset=utf-8", b.data, b.len,
                 req->method == HTTP_HEAD);
  tl_buf_close(&b);
}

/* /plaintext's usual answer (HTTP/1.1, keep-alive, GET) is the same bytes
 * for a whole second: built once per Date, per thread, then copied. */
static void respond_plaintext(const tl_request *r, bool ka, bool head,
                              tl_buf *o, const char *hello, size_t n) {
  static __thread char date[40], resp[256];
  static __thread size_t resp_len;
  if (r->http_minor != 1 || !ka || head) {
    tl_resp_begin(o, 200, r->http_minor, ka);
    tl_resp_finish(o, "text/plain", hello, n, head);
    return;
  }
  const char *now = tl_http_date();
  if (resp_len == 0 || strcmp(now, date) != 0) {
    tl_buf b;
    tl_buf_init(&b, resp, sizeof(resp));
    tl_resp_begin(&b, 200, 1, true);
    tl_resp_finish(&b, "text/plain", hello, n, false);
    resp_len = b.data == resp ? b.len : 0; /* always fits; else no cache */
    snprintf(date, sizeof(date), "%s", now);
    if (resp_len == 0) {
      tl_buf_append(o, b.data, b.len);
      tl_buf_close(&b);
      return;
    }
  }
  tl_buf_append(o, resp, resp_len);
}

int tl_respond(const tl_request *r, const tl_task *t, bool ka, tl_buf *o) {
  bool head = r->method == HTTP_HEAD;
  static const char hello[] = "Hello, World!";
  int status = 200;
  switch ((tl_route) t->route) {
  case TL_ROUTE_PLAINTEXT:
    respond_plaintext(r, ka, head, o, hello, sizeof(hello) - 1);
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
    tl_buf_close(&j);
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
    status = tl_static_respond(o, t->loop->docroot_fd, r->target.data + 8,
                               plen - 8, r->http_minor, ka, head);
    break;
  }
  case TL_ROUTE_INDEX: respond_index(r, t, ka, o); break;
  default: respond_task(r, t, ka, o); break;
  }
  tl_thread_ctx *self = tl_thread_self();
  if (self) /* owner-written: a plain add, no locked instruction */
    atomic_store_explicit(
        &self->tasks,
        atomic_load_explicit(&self->tasks, memory_order_relaxed) + 1,
        memory_order_relaxed);
  return status;
}
