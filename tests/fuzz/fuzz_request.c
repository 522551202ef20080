/* fuzz_request.c - libFuzzer target over threadlab's request path, without
 * sockets: bytes -> tl_http_parser (fed in pieces, pausing like
 * conn_read.c) -> route matching -> query and step parsing -> response
 * building (tl_resp_error, tl_static_respond against a small temp docroot).
 *
 * Input layout: byte 0 = flags (bit 0: pause after every request as
 * conn_parse.c does at its pipeline limit; bits 1-2: header limit; bits
 * 3-4: body limit; bit 5: keep the observer's headers and judge them with
 * its guard),
 * bytes 1-3 = three split points (scaled to the rest), then the bytes of
 * the connection.
 *
 * Every response built is checked: a status line, a header block ending in
 * CRLF CRLF, a Content-Length that matches the body (none after HEAD), and
 * never a byte of a file outside the docroot. A violation aborts.
 *
 * Build and run: tests/fuzz/run-fuzz [SECONDS]. */
#include "config.h"

#include "base/buf.h"
#include "base/parser.h"
#include "base/query.h"
#include "base/response.h"
#include "base/router.h"
#include "base/static_file.h"
#include "base/steps.h"
#include "observer/guard.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "fuzz_request: check failed at line %d: %s\n", __LINE__, \
              #cond);                                                          \
      abort();                                                                 \
    }                                                                          \
  } while (0)

/* A secret outside the docroot; a symlink inside points at it. */
#define SECRET "OUTSIDE-THE-DOCROOT-7f3a"

static int docroot_fd = -1;
static char base_dir[64];

static void put_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  fputs(text, f);
  fclose(f);
}

static void cleanup_docroot(void) {
  static const char *const names[] = {
      "root/out_abs", "root/out_rel",        "root/dir_out",
      "root/in",      "root/sub/index.html", "root/index.html",
      "root/a.txt",   "root/empty.json",     "outside/secret.txt"};
  char p[256];
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    snprintf(p, sizeof(p), "%s/%s", base_dir, names[i]);
    unlink(p);
  }
  snprintf(p, sizeof(p), "%s/root/sub", base_dir);
  rmdir(p);
  snprintf(p, sizeof(p), "%s/root", base_dir);
  rmdir(p);
  snprintf(p, sizeof(p), "%s/outside", base_dir);
  rmdir(p);
  rmdir(base_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void) argc;
  (void) argv;
  snprintf(base_dir, sizeof(base_dir), "/tmp/tl-fuzz-XXXXXX");
  CHECK(mkdtemp(base_dir) != NULL);
  char p[256], t[256];
  snprintf(p, sizeof(p), "%s/root", base_dir);
  CHECK(mkdir(p, 0755) == 0);
  snprintf(p, sizeof(p), "%s/root/sub", base_dir);
  CHECK(mkdir(p, 0755) == 0);
  snprintf(p, sizeof(p), "%s/outside", base_dir);
  CHECK(mkdir(p, 0755) == 0);
  snprintf(p, sizeof(p), "%s/outside/secret.txt", base_dir);
  put_file(p, SECRET "\n");
  snprintf(p, sizeof(p), "%s/root/index.html", base_dir);
  put_file(p, "<p>index</p>\n");
  snprintf(p, sizeof(p), "%s/root/sub/index.html", base_dir);
  put_file(p, "<p>sub</p>\n");
  snprintf(p, sizeof(p), "%s/root/a.txt", base_dir);
  put_file(p, "a file\n");
  snprintf(p, sizeof(p), "%s/root/empty.json", base_dir);
  put_file(p, "");
  snprintf(p, sizeof(p), "%s/root/in", base_dir);
  CHECK(symlink("a.txt", p) == 0);
  snprintf(p, sizeof(p), "%s/root/out_rel", base_dir);
  CHECK(symlink("../outside/secret.txt", p) == 0);
  snprintf(p, sizeof(p), "%s/root/dir_out", base_dir);
  CHECK(symlink("../outside", p) == 0);
  snprintf(p, sizeof(p), "%s/root/out_abs", base_dir);
  snprintf(t, sizeof(t), "%s/outside/secret.txt", base_dir);
  CHECK(symlink(t, p) == 0);
  snprintf(p, sizeof(p), "%s/root", base_dir);
  docroot_fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK(docroot_fd >= 0);
  atexit(cleanup_docroot);
  return 0;
}

/* ---- response checks ------------------------------------------------- */

static void check_response(const tl_buf *out, bool head, bool from_static) {
  CHECK(out->len > 13);
  CHECK(memcmp(out->data, "HTTP/1.1 ", 9) == 0);
  int status = atoi(out->data + 9);
  CHECK(status >= 100 && status <= 599);
  const char *end = memmem(out->data, out->len, "\r\n\r\n", 4);
  CHECK(end != NULL);
  size_t hlen = (size_t) (end - out->data) + 4;
  /* Header lines: no NUL, no bare CR or LF (no header injection). */
  for (size_t i = 0; i + 4 < hlen; i++) {
    char c = out->data[i];
    CHECK(c != '\0');
    if (c == '\r')
      CHECK(out->data[i + 1] == '\n');
    if (c == '\n')
      CHECK(i > 0 && out->data[i - 1] == '\r');
  }
  const char *cl = memmem(out->data, hlen, "\r\nContent-Length: ", 18);
  CHECK(cl != NULL);
  char *e;
  unsigned long long n = strtoull(cl + 18, &e, 10);
  CHECK(e[0] == '\r' && e[1] == '\n');
  if (head)
    CHECK(out->len == hlen);
  else
    CHECK(out->len - hlen == n);
  /* /echo may send the string back; a file response never may. */
  if (from_static)
    CHECK(memmem(out->data, out->len, SECRET, sizeof(SECRET) - 1) == NULL);
}

/* Checks that a JSON string literal built by tl_buf_put_json_str has no
 * raw control character and ends where it should. */
static void check_json_str(const char *s, size_t n) {
  char inl[64];
  tl_buf b;
  tl_buf_init(&b, inl, sizeof(inl));
  tl_buf_put_json_str(&b, s, n);
  CHECK(b.len >= 2 && b.data[0] == '"' && b.data[b.len - 1] == '"');
  for (size_t i = 1; i + 1 < b.len; i++) {
    unsigned char c = (unsigned char) b.data[i];
    CHECK(c >= 0x20);
    if (c == '\\') {
      i++;
      CHECK(i + 1 < b.len);
    } else {
      CHECK(c != '"');
    }
  }
  tl_buf_close(&b);
}

/* ---- what tl_dispatch + tl_handler_respond do, minus the executor ---- */

/* The server's own parsing of /cpu, /io and /task parameters, with the
 * invariants its callers rely on. */
static int task_steps(tl_route route, const char *q, size_t qlen,
                      tl_step_spec *steps, const char **err) {
  int kind = route == TL_ROUTE_TASK  ? -1
             : route == TL_ROUTE_CPU ? TL_STEP_CPU
                                     : TL_STEP_IO;
  *err = NULL;
  int k = tl_steps_from_query(q, qlen, kind, steps, err);
  CHECK(k <= TL_MAX_STEPS);
  CHECK(k != 0);
  if (k < 0)
    CHECK(*err != NULL);
  /* cpu, io and hold last 0..TL_MAX_STEP_MS; race, atomic and lock count
   * 0..TL_MAX_STEP_COUNT; yield, crash and deadlock stand alone. */
  for (int i = 0; i < k; i++) {
    tl_step_kind sk = steps[i].kind;
    if (sk == TL_STEP_CPU || sk == TL_STEP_IO || sk == TL_STEP_HOLD)
      CHECK(steps[i].ms <= TL_MAX_STEP_MS);
    else if (tl_step_is_count(sk))
      CHECK(steps[i].ms <= TL_MAX_STEP_COUNT);
    else
      CHECK((sk == TL_STEP_YIELD || sk == TL_STEP_CRASH ||
             sk == TL_STEP_DEADLOCK) &&
            steps[i].ms == 0);
  }
  return k;
}

static void handle(const tl_request *r) {
  char inl[256];
  tl_buf out;
  tl_buf_init(&out, inl, sizeof(inl));
  size_t plen, qlen;
  const char *q;
  tl_split_target(r->target.data, r->target.len, &plen, &q, &qlen);
  CHECK(plen <= r->target.len);
  CHECK(q >= r->target.data && q + qlen <= r->target.data + r->target.len);
  int status = -1;
  const char *allow = NULL;
  tl_route route =
      tl_route_match(r->target.data, plen, r->method, &status, &allow);
  CHECK((unsigned) route < TL_ROUTE_COUNT);
  CHECK(tl_route_name(route) != NULL);
  bool head = r->method == HTTP_HEAD;
  bool ka = r->keep_alive;
  check_json_str(r->target.data, r->target.len);
  if (status == 404) {
    tl_resp_error(&out, 404, "not found", r->http_minor, ka, head, "");
  } else if (status == 405) {
    CHECK(allow != NULL);
    char hdr[64];
    snprintf(hdr, sizeof(hdr), "Allow: %s\r\n", allow);
    tl_resp_error(&out, 405, "method not allowed", r->http_minor, ka, head,
                  hdr);
  } else {
    CHECK(status == 0);
    switch (route) {
    case TL_ROUTE_CPU:
    case TL_ROUTE_IO:
    case TL_ROUTE_TASK: {
      tl_step_spec steps[TL_MAX_STEPS];
      const char *err = NULL;
      int n = task_steps(route, q, qlen, steps, &err);
      if (n < 0) {
        tl_resp_error(&out, 400, err, r->http_minor, ka, head, "");
        break;
      }
      char bb[512];
      tl_buf body;
      tl_buf_init(&body, bb, sizeof(bb));
      tl_buf_puts(&body, "{\"steps\":[");
      for (int i = 0; i < n; i++) {
        CHECK(steps[i].ms <= TL_MAX_STEP_MS);
        tl_buf_printf(&body, "%s{\"kind\":\"%s\",\"ms\":%u}", i ? "," : "",
                      tl_step_kind_name(steps[i].kind), steps[i].ms);
      }
      tl_buf_puts(&body, "]}\n");
      tl_resp_begin(&out, 200, r->http_minor, ka);
      tl_resp_header(&out, "X-Task-Id", "1");
      tl_resp_finish(&out, "application/json", body.data, body.len, head);
      tl_buf_close(&body);
      break;
    }
    case TL_ROUTE_STATIC: {
      CHECK(plen >= 8);
      int st = tl_static_respond(&out, docroot_fd, r->target.data + 8, plen - 8,
                                 r->http_minor, ka, head);
      CHECK(st == 200 || st == 400 || st == 403 || st == 404 || st == 500);
      CHECK(atoi(out.data + 9) == st);
      break;
    }
    case TL_ROUTE_ECHO:
      tl_resp_begin(&out, 200, r->http_minor, ka);
      tl_resp_finish(&out, "application/octet-stream", r->body.data,
                     r->body.len, head);
      break;
    default:
      tl_resp_begin(&out, 200, r->http_minor, ka);
      tl_resp_finish(&out, "text/plain", "Hello, World!", 13, head);
      break;
    }
  }
  check_response(&out, head, route == TL_ROUTE_STATIC);
  tl_buf_close(&out);
}

/* Kept header values are whole, trimmed and NUL-terminated; the guard
 * answers only with its statuses and a reason. */
static void judge(const tl_request *r) {
  for (int i = 0; i < TL_HDR_COUNT; i++) {
    const char *v;
    int len = tl_request_header(r, i, &v);
    CHECK(len >= TL_HDR_UNUSABLE && len <= TL_HDR_VALUE_MAX);
    if (len < 0) {
      CHECK(v == NULL);
      continue;
    }
    CHECK(strlen(v) == (size_t) len);
    CHECK(len == 0 || (v[len - 1] != ' ' && v[len - 1] != '\t'));
  }
  static const struct sockaddr_in local = {.sin_family = AF_INET};
  tl_guard_site site = {.bound_host = "127.0.0.1",
                        .port = 8081,
                        .local = (const struct sockaddr *) &local};
  const char *why = NULL;
  int st = tl_guard_host(&site, r, &why);
  CHECK(st == 0 || ((st == 400 || st == 421) && why));
  why = NULL;
  st = tl_guard_post(&site, r, &why);
  CHECK(st == 0 || (st == 403 && why));
  (void) tl_guard_content_type_is(r, "application/x-www-form-urlencoded");
}

/* ---- the parser ------------------------------------------------------- */

static tl_request cur;
static tl_req_headers kept;
static bool keep_headers;
static bool cur_live;
static size_t max_body;
static unsigned completed;
static bool pause_each;

static tl_request *cb_begin(void *ctx) {
  (void) ctx;
  CHECK(!cur_live);
  tl_request_init(&cur);
  if (keep_headers)
    cur.headers = &kept;
  cur_live = true;
  return &cur;
}

static void cb_headers(void *ctx, tl_request *req) {
  (void) ctx;
  CHECK(req == &cur && cur_live);
  CHECK(req->http_major == 1);
}

static int cb_complete(void *ctx, tl_request *req) {
  (void) ctx;
  CHECK(req == &cur && cur_live);
  CHECK(req->body.len <= max_body);
  if (keep_headers)
    judge(req);
  handle(req);
  tl_request_close(&cur);
  cur_live = false;
  completed++;
  return pause_each ? 1 : 0;
}

static const tl_http_callbacks cbs = {
    .begin = cb_begin, .headers_done = cb_headers, .complete = cb_complete};

static void answer_error(const tl_http_parser *p) {
  CHECK(p->error_status >= 400 && p->error_status <= 505);
  CHECK(p->error_text != NULL);
  char inl[256];
  tl_buf out;
  tl_buf_init(&out, inl, sizeof(inl));
  tl_resp_error(&out, p->error_status, p->error_text, 1, false, false, "");
  check_response(&out, false, false);
  tl_buf_close(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4)
    return 0;
  static const size_t hdr_limits[] = {256, 1024, 8192, 65536};
  static const size_t body_limits[] = {0, 16, 4096, 1 << 20};
  uint8_t flags = data[0];
  pause_each = flags & 1;
  keep_headers = flags & 32;
  size_t max_hdr = hdr_limits[(flags >> 1) & 3];
  max_body = body_limits[(flags >> 3) & 3];
  const char *in = (const char *) data + 4;
  size_t len = size - 4;
  size_t cuts[5] = {0, 0, 0, 0, len};
  for (int i = 0; i < 3; i++)
    cuts[i + 1] = (size_t) data[i + 1] * len / 256;
  /* sort the three cut points */
  for (int i = 1; i < 4; i++)
    for (int j = i + 1; j < 4; j++)
      if (cuts[j] < cuts[i]) {
        size_t t = cuts[i];
        cuts[i] = cuts[j];
        cuts[j] = t;
      }

  tl_http_parser p;
  tl_http_parser_init(&p, &cbs, NULL, max_hdr, max_body);
  cur_live = false;
  completed = 0;
  bool stop = false;
  for (int piece = 0; piece < 4 && !stop; piece++) {
    const char *d = in + cuts[piece];
    size_t n = cuts[piece + 1] - cuts[piece];
    /* Like tl_conn_read_feed() (conn_read.c): resume after a pause and go
     * on with the rest. */
    while (n > 0) {
      size_t used = (size_t) -1;
      int rc = tl_http_parser_feed(&p, d, n, &used);
      CHECK(used <= n);
      if (rc == TL_HTTP_OK) {
        CHECK(used == n);
        break;
      }
      d += used;
      n -= used;
      if (rc == TL_HTTP_PAUSED) {
        tl_http_parser_resume(&p);
        continue;
      }
      if (rc == TL_HTTP_UPGRADE) {
        stop = true;
        break;
      }
      CHECK(rc == TL_HTTP_ERROR);
      answer_error(&p);
      /* Errors are sticky. */
      size_t again = 1;
      CHECK(tl_http_parser_feed(&p, "G", 1, &again) == TL_HTTP_ERROR);
      stop = true;
      break;
    }
    (void) tl_http_parser_in_request(&p);
    (void) tl_http_parser_in_body(&p);
  }
  if (!stop && tl_http_parser_finish(&p) == TL_HTTP_ERROR)
    answer_error(&p);
  if (cur_live) {
    tl_request_close(&cur);
    cur_live = false;
  }
  return 0;
}
