/* test_http.c - integration tests of the workload listener against the real
 * threadlab binary (THREADLAB_BIN): keep-alive, pipelining and response
 * order, request bodies, every error status, limits and timeouts, static
 * file confinement, hostile peers (slowloris, trickled bodies), graceful
 * shutdown.
 *
 * Each test starts its own server on ephemeral loopback ports and stops it
 * with SIGTERM, asserting exit status 0 (graceful shutdown). Time bounds
 * are deliberately generous: the machine is small and noisy, so the tests
 * assert "within seconds", never exact timings. */
#include "config.h"

#include "tl_json.h"
#include "tl_testutil.h"

#include <check.h>
#include "tl_check.h"
#include <dirent.h>
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef TL_FIXTURES_DIR
#define TL_FIXTURES_DIR "tests/fixtures"
#endif

/* Sanitizer builds have a much larger baseline RSS (shadow memory). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TL_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TL_SANITIZED 1
#endif
#endif
#ifndef TL_SANITIZED
#define TL_SANITIZED 0
#endif

#define STOP_TIMEOUT_MS 30000
#define RSS_LIMIT_KB    (64L * 1024)

/* ---- helpers ----------------------------------------------------------- */

/* Starts the server with the NULL-terminated extra arguments. */
static void start(tl_proc *p, ...) {
  const char *args[48];
  int n = 0;
  va_list ap;
  va_start(ap, p);
  const char *a;
  while ((a = va_arg(ap, const char *)) != NULL && n < 46)
    args[n++] = a;
  va_end(ap);
  args[n] = NULL;
  tl_proc_start(p, args);
}

static void stop_ok(tl_proc *p) {
  int st = tl_proc_stop(p, STOP_TIMEOUT_MS);
  ck_assert_msg(st == 0, "graceful shutdown failed: exit status %d", st);
}

/* The source tree (TL_FIXTURES_DIR is <srcdir>/tests/fixtures). */
static void srcdir(char *out, size_t cap) {
  snprintf(out, cap, "%s", TL_FIXTURES_DIR);
  char *t = strstr(out, "/tests/fixtures");
  if (t)
    *t = '\0';
  else
    snprintf(out, cap, ".");
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t) n + 1);
  ck_assert_int_eq(fread(b, 1, (size_t) n, f), (size_t) n);
  b[n] = '\0';
  fclose(f);
  *len = (size_t) n;
  return b;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  ck_assert_msg(f != NULL, "cannot create %s: %s", path, strerror(errno));
  fputs(text, f);
  fclose(f);
}

/* A minimal JSON validator: the whole text must be one JSON value. */
static const char *js_ws(const char *s, const char *e) {
  while (s < e && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
    s++;
  return s;
}
static const char *js_value(const char *s, const char *e, int depth);
static const char *js_string(const char *s, const char *e) {
  if (s >= e || *s != '"')
    return NULL;
  for (s++; s < e; s++) {
    unsigned char c = (unsigned char) *s;
    if (c == '"')
      return s + 1;
    if (c < 0x20)
      return NULL;
    if (c == '\\') {
      s++;
      if (s >= e)
        return NULL;
      if (*s == 'u') {
        for (int i = 0; i < 4; i++)
          if (++s >= e || !strchr("0123456789abcdefABCDEF", *s))
            return NULL;
      } else if (!strchr("\"\\/bfnrt", *s)) {
        return NULL;
      }
    }
  }
  return NULL;
}
static const char *js_value(const char *s, const char *e, int depth) {
  if (depth > 32)
    return NULL;
  s = js_ws(s, e);
  if (s >= e)
    return NULL;
  if (*s == '"')
    return js_string(s, e);
  if (*s == '{' || *s == '[') {
    char close = *s == '{' ? '}' : ']';
    bool obj = *s == '{';
    s = js_ws(s + 1, e);
    if (s < e && *s == close)
      return s + 1;
    for (;;) {
      if (obj) {
        s = js_string(js_ws(s, e), e);
        if (!s)
          return NULL;
        s = js_ws(s, e);
        if (s >= e || *s != ':')
          return NULL;
        s++;
      }
      s = js_value(s, e, depth + 1);
      if (!s)
        return NULL;
      s = js_ws(s, e);
      if (s < e && *s == ',') {
        s++;
        continue;
      }
      if (s < e && *s == close)
        return s + 1;
      return NULL;
    }
  }
  if (e - s >= 4 && (!strncmp(s, "true", 4) || !strncmp(s, "null", 4)))
    return s + 4;
  if (e - s >= 5 && !strncmp(s, "false", 5))
    return s + 5;
  const char *n = s;
  if (n < e && *n == '-')
    n++;
  const char *d = n;
  while (n < e && ((*n >= '0' && *n <= '9') || *n == '.' || *n == 'e' ||
                   *n == 'E' || *n == '+' || *n == '-'))
    n++;
  return n > d ? n : NULL;
}
static bool json_valid(const char *s, size_t len) {
  const char *e = s + len;
  const char *r = js_value(s, e, 0);
  return r && js_ws(r, e) == e;
}

/* An error response: the status, a JSON body {"error":..., "status":N}. */
static void check_error_body(const tl_resp *r, int status) {
  char v[128], want[32];
  ck_assert_msg(r->status == status, "status %d, expected %d; head:\n%s",
                r->status, status, r->head);
  ck_assert_msg(tl_resp_find_header(r, "Content-Type", v, sizeof(v)) &&
                    strstr(v, "application/json"),
                "error %d without JSON content type:\n%s", status, r->head);
  ck_assert_msg(json_valid(r->body, r->body_len),
                "error %d body is not valid JSON: '%s'", status, r->body);
  snprintf(want, sizeof(want), "\"status\":%d", status);
  ck_assert_msg(strstr(r->body, want) && strstr(r->body, "\"error\":"),
                "error body lacks error/status: '%s'", r->body);
  ck_assert_msg(tl_resp_find_header(r, "Date", v, sizeof(v)) || status == 503,
                "error %d without Date", status);
}

/* Sends raw on a fresh connection; expects an error response with status,
 * and (when must_close) EOF right after it. */
static void expect_error(int port, const char *raw, int status,
                         bool must_close) {
  int fd = tl_connect(port);
  tl_send_str(fd, raw);
  tl_resp r;
  ck_assert_msg(tl_read_resp(fd, &r, strncmp(raw, "HEAD ", 5) == 0) == 0,
                "no complete response to: %.80s", raw);
  check_error_body(&r, status);
  if (must_close) {
    char v[64];
    ck_assert_msg(tl_resp_find_header(&r, "Connection", v, sizeof(v)) &&
                      strcasecmp(v, "close") == 0,
                  "error %d without Connection: close", status);
    ck_assert_msg(tl_wait_eof(fd, 5000), "no EOF after error %d", status);
  }
  tl_resp_free(&r);
  tl_close(fd);
}

static int get_status(int port, const char *path) {
  tl_resp r;
  int st = tl_get(port, path, &r);
  tl_resp_free(&r);
  return st;
}

/* Reads one response on a keep-alive fd and checks it is /plaintext's. */
static void expect_plaintext(int fd) {
  tl_resp r;
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(r.body, "Hello, World!");
  tl_resp_free(&r);
}

static const char GET_PLAIN[] = "GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n";

static unsigned long header_ul(const tl_resp *r, const char *name) {
  char v[64];
  ck_assert_msg(tl_resp_find_header(r, name, v, sizeof(v)), "missing %s:\n%s",
                name, r->head);
  return strtoul(v, NULL, 10);
}

/* Sets SO_LINGER {1, 0} and closes: the kernel sends a RST. */
static void reset_close(int fd) {
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  tl_close(fd);
}

/* Counts complete responses in a byte stream (Content-Length framing).
 * Returns the number of bytes that formed complete responses. The body
 * expected of the 200s is `body`, or when `body` is a printf format with
 * one %zu, that format of the response's index in the stream (distinct
 * bodies: a response out of place shows). */
typedef struct {
  size_t count;     /* complete responses seen */
  size_t ok;        /* of which 200 */
  size_t bad_body;  /* 200s whose body was not the expected one */
  size_t first_bad; /* index of the first of those */
} resp_count;
static size_t count_responses(const char *b, size_t len, const char *body,
                              resp_count *rc) {
  size_t off = 0;
  for (;;) {
    const char *end = memmem(b + off, len - off, "\r\n\r\n", 4);
    if (!end)
      return off;
    size_t hlen = (size_t) (end - (b + off)) + 4;
    const char *cl = memmem(b + off, hlen, "Content-Length: ", 16);
    ck_assert_msg(cl != NULL, "response without Content-Length");
    size_t clen = strtoul(cl + 16, NULL, 10);
    if (off + hlen + clen > len)
      return off;
    int status = atoi(b + off + 9);
    size_t index = rc->count++;
    if (status == 200) {
      rc->ok++;
      char want[64];
      const char *w = body;
      if (body && strstr(body, "%zu")) {
        snprintf(want, sizeof(want), body, index);
        w = want;
      }
      if (w && (clen != strlen(w) || memcmp(b + off + hlen, w, clen) != 0)) {
        if (rc->bad_body++ == 0)
          rc->first_bad = index;
      }
    }
    off += hlen + clen;
  }
}

/* ---- keep-alive, pipelining, ordering ---------------------------------- */

START_TEST(test_keepalive) {
  tl_proc p;
  start(&p, "--threads", "2", NULL);
  int fd = tl_connect(p.port);
  const char *paths[] = {"/plaintext", "/json", "/io?ms=1",
                         "/cpu?ms=1",  "/",     "/task?steps=cpu:1,io:1",
                         "/plaintext"};
  for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
    char req[256];
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", paths[i]);
    tl_send_str(fd, req);
    tl_resp r;
    ck_assert_msg(tl_read_resp(fd, &r, false) == 0, "no response to %s",
                  paths[i]);
    ck_assert_int_eq(r.status, 200);
    char v[256];
    ck_assert(tl_resp_find_header(&r, "Server", v, sizeof(v)));
    ck_assert(tl_resp_find_header(&r, "Date", v, sizeof(v)));
    ck_assert(tl_resp_find_header(&r, "Content-Type", v, sizeof(v)));
    ck_assert(!tl_resp_find_header(&r, "Connection", v, sizeof(v)) ||
              strcasecmp(v, "close") != 0);
    ck_assert_int_eq(header_ul(&r, "Content-Length"), r.body_len);
    if (!strcmp(paths[i], "/plaintext")) {
      ck_assert_str_eq(r.body, "Hello, World!");
      ck_assert(tl_resp_find_header(&r, "Content-Type", v, sizeof(v)));
      ck_assert_str_eq(v, "text/plain");
    } else if (!strcmp(paths[i], "/json")) {
      ck_assert_str_eq(r.body, "{\"message\":\"Hello, World!\"}");
    } else if (paths[i][1] == 'i' || paths[i][1] == 'c' || paths[i][1] == 't') {
      ck_assert_msg(json_valid(r.body, r.body_len), "bad JSON: %s", r.body);
      ck_assert(tl_resp_find_header(&r, "X-Task-Id", v, sizeof(v)));
      ck_assert(tl_resp_find_header(&r, "X-Thread", v, sizeof(v)));
      ck_assert(tl_resp_find_header(&r, "X-Core", v, sizeof(v)));
      ck_assert(tl_resp_find_header(&r, "X-Queue-Us", v, sizeof(v)));
      ck_assert(tl_resp_find_header(&r, "X-Run-Us", v, sizeof(v)));
    }
    tl_resp_free(&r);
  }
  tl_close(fd);
  stop_ok(&p);
}
END_TEST

START_TEST(test_pipeline16) {
  tl_proc p;
  start(&p, NULL);
  int fd = tl_connect(p.port);
  char batch[16 * sizeof(GET_PLAIN)];
  size_t len = 0;
  for (int i = 0; i < 16; i++) {
    memcpy(batch + len, GET_PLAIN, sizeof(GET_PLAIN) - 1);
    len += sizeof(GET_PLAIN) - 1;
  }
  /* Twice: the second batch reuses the same connection. */
  for (int round = 0; round < 2; round++) {
    tl_send_all(fd, batch, len);
    for (int i = 0; i < 16; i++)
      expect_plaintext(fd);
  }
  tl_close(fd);
  stop_ok(&p);
}
END_TEST

/* A slow task ahead of fast ones: the responses still leave in request
 * order, in every mode. */
static const char *const order_modes[] = {"pool", "hybrid", "async"};

START_TEST(test_pipeline_order) {
  tl_proc p;
  start(&p, "--mode", order_modes[_i], "--threads", "2", NULL);
  int fd = tl_connect(p.port);
  tl_send_str(fd, "GET /io?ms=200 HTTP/1.1\r\nHost: t\r\n\r\n"
                  "GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n"
                  "GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n"
                  "GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n"
                  "GET /cpu?ms=1 HTTP/1.1\r\nHost: t\r\n\r\n"
                  "GET /io?ms=1 HTTP/1.1\r\nHost: t\r\n\r\n"
                  "GET /json HTTP/1.1\r\nHost: t\r\n\r\n");
  tl_resp r;
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_msg(strstr(r.body, "\"route\":\"/io\""), "first: %s", r.body);
  unsigned long id0 = header_ul(&r, "X-Task-Id");
  /* The IO step really waited (a wait never ends early). */
  ck_assert_uint_ge(header_ul(&r, "X-Run-Us"), 190000);
  tl_resp_free(&r);
  for (int i = 0; i < 3; i++)
    expect_plaintext(fd);
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_msg(strstr(r.body, "\"route\":\"/cpu\""), "5th: %s", r.body);
  unsigned long id4 = header_ul(&r, "X-Task-Id");
  tl_resp_free(&r);
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_msg(strstr(r.body, "\"route\":\"/io\""), "6th: %s", r.body);
  unsigned long id5 = header_ul(&r, "X-Task-Id");
  tl_resp_free(&r);
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_str_eq(r.body, "{\"message\":\"Hello, World!\"}");
  tl_resp_free(&r);
  /* Task ids are given in request order. */
  ck_assert_uint_lt(id0, id4);
  ck_assert_uint_lt(id4, id5);
  tl_close(fd);
  stop_ok(&p);
}
END_TEST

/* /plaintext's usual answer is built once per Date second and reused:
 * its Date still moves with the clock, on one connection (one loop). */
static time_t date_of(const tl_resp *r) {
  char v[128];
  ck_assert(tl_resp_find_header(r, "Date", v, sizeof(v)));
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  const char *end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  ck_assert_msg(end && *end == '\0', "bad Date: %s", v);
  return timegm(&tm);
}

START_TEST(test_plaintext_date_moves) {
  tl_proc p;
  start(&p, NULL);
  int fd = tl_connect(p.port);
  tl_resp r;
  tl_send_str(fd, GET_PLAIN);
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  time_t d0 = date_of(&r), d = d0;
  tl_resp_free(&r);
  for (int i = 0; i < 40 && d == d0; i++) {
    usleep(100 * 1000);
    tl_send_str(fd, GET_PLAIN);
    ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
    ck_assert_str_eq(r.body, "Hello, World!");
    ck_assert_uint_eq(header_ul(&r, "Content-Length"), 13);
    d = date_of(&r);
    tl_resp_free(&r);
  }
  ck_assert_msg(d > d0, "Date stayed at %ld for 4 s", (long) d0);
  time_t now = time(NULL);
  ck_assert_msg(d <= now && now - d <= 5, "Date %ld, clock %ld", (long) d,
                (long) now);
  tl_close(fd);
  stop_ok(&p);
}
END_TEST

/* Requests that complete in one read share one clock read, but not across
 * a CPU step run inline (async): the request parsed after it starts its
 * latency after it, not before. */
START_TEST(test_request_clock_after_inline_cpu) {
  tl_proc p;
  start(&p, "--mode", "async", NULL);
  int fd = tl_connect(p.port);
  tl_send_str(fd, "GET /cpu?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n"
                  "GET /io?ms=1 HTTP/1.1\r\nHost: t\r\n\r\n");
  tl_resp r;
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  tj *a = tj_parse(r.body, r.body_len);
  ck_assert_ptr_nonnull(a);
  double cpu_run = tj_num(a, "run_us", -1);
  tj_release(a);
  tl_resp_free(&r);
  ck_assert_msg(cpu_run >= 290000, "cpu step ran %.0f us", cpu_run);
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  tj *b = tj_parse(r.body, r.body_len);
  ck_assert_ptr_nonnull(b);
  double io_total = tj_num(b, "total_us", -1);
  tj_release(b);
  tl_resp_free(&r);
  ck_assert_msg(io_total >= 1000 && io_total < cpu_run / 2,
                "the second request's total %.0f us (the CPU step ran %.0f)",
                io_total, cpu_run);
  tl_close(fd);
  stop_ok(&p);
}
END_TEST

/* ---- request bodies ---------------------------------------------------- */

START_TEST(test_echo_bodies) {
  tl_proc p;
  start(&p, NULL);
  int fd = tl_connect(p.port);
  /* Chunked, split across writes at awkward places (inside a chunk size,
   * inside data, inside the CRLFs), with an extension and a trailer. */
  const char *parts[] = {
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n",
      "5\r\nhel",
      "lo\r\n1",
      "\r\n \r\n6;ext=1\r\nworld!\r",
      "\nA\r\n0123456789",
      "\r\n0\r\nX-Trailer: yes\r\n",
      "\r\n"};
  for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
    tl_send_str(fd, parts[i]);
    usleep(20000);
  }
  tl_resp r;
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(r.body, "hello world!0123456789");
  tl_resp_free(&r);

  /* Content-Length, binary, split across writes. */
  static const char bin[] = "a\0b\r\n\r\nc\xff";
  tl_send_str(fd,
              "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n");
  usleep(20000);
  tl_send_all(fd, bin, 4);
  usleep(20000);
  tl_send_all(fd, bin + 4, 6);
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_uint_eq(r.body_len, 10);
  ck_assert(memcmp(r.body, bin, 10) == 0);
  tl_resp_free(&r);

  /* An empty body, then a large one over many reads (default limit 1 MiB). */
  tl_send_str(fd,
              "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_uint_eq(r.body_len, 0);
  tl_resp_free(&r);
  size_t big = 40000;
  char *body = malloc(big);
  for (size_t i = 0; i < big; i++)
    body[i] = (char) ('a' + i % 26);
  char hdr[128];
  snprintf(hdr, sizeof(hdr),
           "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n",
           big);
  tl_send_str(fd, hdr);
  tl_send_all(fd, body, big);
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_uint_eq(r.body_len, big);
  ck_assert(memcmp(r.body, body, big) == 0);
  tl_resp_free(&r);
  free(body);

  /* The connection is still good. */
  tl_send_str(fd, GET_PLAIN);
  expect_plaintext(fd);
  tl_close(fd);
  stop_ok(&p);
}
END_TEST

START_TEST(test_expect_continue) {
  tl_proc p;
  start(&p, "--max-body-bytes", "100", NULL);
  int fd = tl_connect(p.port);
  tl_send_str(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                  "Expect: 100-continue\r\n\r\n");
  tl_resp r;
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_int_eq(r.status, 100);
  tl_resp_free(&r);
  tl_send_str(fd, "hello");
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(r.body, "hello");
  tl_resp_free(&r);
  tl_close(fd);

  /* Too large: the final 413 comes instead of 100 Continue. */
  fd = tl_connect(p.port);
  tl_send_str(fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n"
                  "Expect: 100-continue\r\n\r\n");
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  check_error_body(&r, 413);
  tl_resp_free(&r);
  tl_close(fd);
  stop_ok(&p);
}
END_TEST

/* ---- HEAD, HTTP/1.0 ---------------------------------------------------- */

START_TEST(test_head) {
  tl_proc p;
  start(&p, NULL);
  int fd = tl_connect(p.port);
  const char *heads[] = {"/plaintext",         "/json", "/cpu?ms=1",
                         "/static/index.html", "/nope", "/cpu?ms=x"};
  const int want[] = {200, 200, 200, 200, 404, 400};
  for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
    char req[256];
    /* HEAD and a GET in one write: the GET's response must parse right
     * after the HEAD's headers. */
    snprintf(req, sizeof(req),
             "HEAD %s HTTP/1.1\r\nHost: t\r\n\r\nGET /json HTTP/1.1\r\nHost: "
             "t\r\n\r\n",
             heads[i]);
    tl_send_str(fd, req);
    tl_resp r;
    ck_assert_int_eq(tl_read_resp(fd, &r, true), 0);
    ck_assert_msg(r.status == want[i], "HEAD %s: %d", heads[i], r.status);
    unsigned long cl = header_ul(&r, "Content-Length");
    if (i == 0)
      ck_assert_uint_eq(cl, 13);
    ck_assert_uint_gt(cl, 0);
    char type[128], gtype[128];
    ck_assert(tl_resp_find_header(&r, "Content-Type", type, sizeof(type)));
    tl_resp_free(&r);
    ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "{\"message\":\"Hello, World!\"}");
    tl_resp_free(&r);
    /* The same target by GET: the same status, type and length (RFC 9110
     * 9.3.2). A task's JSON report differs in its timings only, so its
     * length may differ by a few digits. */
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", heads[i]);
    tl_send_str(fd, req);
    ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
    ck_assert_int_eq(r.status, want[i]);
    ck_assert_uint_eq(header_ul(&r, "Content-Length"), r.body_len);
    ck_assert(tl_resp_find_header(&r, "Content-Type", gtype, sizeof(gtype)));
    ck_assert_str_eq(type, gtype);
    if (strcmp(heads[i], "/cpu?ms=1") == 0)
      ck_assert_msg(cl + 16 > r.body_len && r.body_len + 16 > cl,
                    "HEAD %s: Content-Length %lu, GET's body %zu bytes",
                    heads[i], cl, r.body_len);
    else
      ck_assert_msg(cl == r.body_len,
                    "HEAD %s: Content-Length %lu, GET's body "
                    "%zu bytes",
                    heads[i], cl, r.body_len);
    tl_resp_free(&r);
  }
  tl_close(fd);
  stop_ok(&p);
}
END_TEST

START_TEST(test_http10) {
  tl_proc p;
  start(&p, NULL);
  /* Plain HTTP/1.0: one response, then the server closes. */
  int fd = tl_connect(p.port);
  tl_send_str(fd, "GET /plaintext HTTP/1.0\r\n\r\n");
  tl_resp r;
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(r.body, "Hello, World!");
  char v[64];
  ck_assert(!tl_resp_find_header(&r, "Connection", v, sizeof(v)) ||
            strcasecmp(v, "keep-alive") != 0);
  tl_resp_free(&r);
  ck_assert(tl_wait_eof(fd, 5000));
  tl_close(fd);

  /* HTTP/1.0 with keep-alive: answered with keep-alive and kept open. */
  fd = tl_connect(p.port);
  for (int i = 0; i < 3; i++) {
    tl_send_str(fd, "GET /json HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert(tl_resp_find_header(&r, "Connection", v, sizeof(v)));
    ck_assert_str_eq(v, "keep-alive");
    ck_assert_str_eq(r.body, "{\"message\":\"Hello, World!\"}");
    tl_resp_free(&r);
  }
  /* HTTP/1.1 with Connection: close. */
  tl_send_str(fd, "GET /plaintext HTTP/1.1\r\nConnection: close\r\n\r\n");
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert(tl_resp_find_header(&r, "Connection", v, sizeof(v)));
  ck_assert_str_eq(v, "close");
  tl_resp_free(&r);
  ck_assert(tl_wait_eof(fd, 5000));
  tl_close(fd);
  stop_ok(&p);
}
END_TEST

/* ---- error statuses ---------------------------------------------------- */

START_TEST(test_errors_400) {
  tl_proc p;
  start(&p, NULL);
  /* Malformed HTTP: 400 and the connection closes. */
  expect_error(p.port, "GARBAGE\r\n\r\n", 400, true);
  expect_error(p.port, "GET\r\n\r\n", 400, true);
  expect_error(p.port, "GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400, true);
  expect_error(
      p.port,
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
      "\r\nzz\r\nhello\r\n0\r\n\r\n",
      400, true);
  expect_error(p.port,
               "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
               "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
               400, true);
  expect_error(p.port,
               "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
               "Content-Length: 5\r\n\r\nhello",
               400, true);
  expect_error(p.port,
               "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: -5\r\n\r\n",
               400, true);
  /* Bad task parameters: 400, and the connection stays usable. */
  char steps33[512] = "GET /task?steps=";
  for (int i = 0; i < 33; i++)
    strcat(steps33, i ? ",cpu:0" : "cpu:0");
  strcat(steps33, " HTTP/1.1\r\nHost: t\r\n\r\n");
  const char *bad[] = {
      "GET /cpu?ms=abc HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /cpu?ms=10001 HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /cpu HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /io?ms=-1 HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /io?ms=99999999999999999999999 HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /task?steps= HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /task HTTP/1.1\r\nHost: t\r\n\r\n",
      steps33,
      "GET /task?steps=io:-1 HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /task?steps=gpu:1 HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /task?steps=cpu:1, HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /task?steps=cpu:1,,io:1 HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /task?steps=cpu:%zz HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /task?steps=io:10001 HTTP/1.1\r\nHost: t\r\n\r\n",
  };
  int fd = tl_connect(p.port);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    tl_send_str(fd, bad[i]);
    tl_resp r;
    ck_assert_msg(tl_read_resp(fd, &r, false) == 0, "no response: %s", bad[i]);
    check_error_body(&r, 400);
    tl_resp_free(&r);
  }
  tl_send_str(fd, GET_PLAIN);
  expect_plaintext(fd);
  tl_close(fd);
  /* The upper bounds themselves are accepted. */
  char ok32[512] = "/task?steps=";
  for (int i = 0; i < 32; i++)
    strcat(ok32, i ? ",cpu:0" : "cpu:0");
  ck_assert_int_eq(get_status(p.port, ok32), 200);
  ck_assert_int_eq(get_status(p.port, "/cpu?ms=0"), 200);
  stop_ok(&p);
}
END_TEST

START_TEST(test_errors_404_405) {
  tl_proc p;
  start(&p, NULL);
  int fd = tl_connect(p.port);
  const char *reqs[] = {
      "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /plaintextX HTTP/1.1\r\nHost: t\r\n\r\n",
      "GET /static HTTP/1.1\r\nHost: t\r\n\r\n",
      "POST /plaintext HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc",
      "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n",
      "DELETE /json HTTP/1.1\r\nHost: t\r\n\r\n",
      "PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi",
  };
  const int want[] = {404, 404, 404, 405, 405, 405, 405};
  const char *allow[] = {NULL,   NULL,        NULL,  "GET, HEAD",
                         "POST", "GET, HEAD", "POST"};
  for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
    tl_send_str(fd, reqs[i]);
    tl_resp r;
    ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
    check_error_body(&r, want[i]);
    if (allow[i]) {
      char v[64];
      ck_assert_msg(tl_resp_find_header(&r, "Allow", v, sizeof(v)),
                    "405 without Allow");
      ck_assert_str_eq(v, allow[i]);
    }
    tl_resp_free(&r);
  }
  tl_send_str(fd, GET_PLAIN);
  expect_plaintext(fd);
  tl_close(fd);
  stop_ok(&p);
}
END_TEST

START_TEST(test_header_timeout) {
  tl_proc p;
  start(&p, "--header-timeout-ms", "300", NULL);
  int fd = tl_connect(p.port);
  double t0 = tl_now_s();
  tl_send_str(fd, "GET /plain");
  tl_resp r;
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  double dt = tl_now_s() - t0;
  check_error_body(&r, 408);
  tl_resp_free(&r);
  ck_assert_msg(dt > 0.2 && dt < 5.0, "408 after %.3f s", dt);
  ck_assert(tl_wait_eof(fd, 5000));
  tl_close(fd);

  /* Nothing but CRLFs (skipped between requests) one every 100 ms: no
   * request ever begins, and the connection is still closed. */
  fd = tl_connect(p.port);
  t0 = tl_now_s();
  bool closed = false;
  while (!closed && tl_now_s() - t0 < 8.0) {
    if (send(fd, "\r\n", 2, MSG_NOSIGNAL) != 2)
      break;
    closed = tl_wait_eof(fd, 100);
  }
  dt = tl_now_s() - t0;
  ck_assert_msg(dt < 6.0, "CRLF trickle kept the connection %.1f s", dt);
  tl_close(fd);

  /* A connection that never sends a byte is closed too. */
  fd = tl_connect(p.port);
  ck_assert(tl_wait_eof(fd, 5000));
  tl_close(fd);
  ck_assert_int_eq(get_status(p.port, "/plaintext"), 200);
  stop_ok(&p);
}
END_TEST

/* One byte per 100 ms of a request that never ends: 408 and close within a
 * few seconds, while another client is answered quickly throughout. */
START_TEST(test_slowloris) {
  tl_proc p;
  start(&p, "--header-timeout-ms", "1000", NULL);
  int slow = tl_connect(p.port);
  int fast = tl_connect(p.port);
  static const char trickle[] =
      "GET /plaintext HTTP/1.1\r\nHost: t\r\nX-Slow: "
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  double t0 = tl_now_s(), worst = 0;
  size_t i = 0;
  bool answered = false;
  int fast_ok = 0;
  while (tl_now_s() - t0 < 10.0) {
    if (i < sizeof(trickle) - 1) {
      if (send(slow, trickle + i, 1, MSG_NOSIGNAL) == 1)
        i++;
    }
    double a = tl_now_s();
    tl_send_str(fast, GET_PLAIN);
    expect_plaintext(fast);
    double lat = tl_now_s() - a;
    worst = lat > worst ? lat : worst;
    fast_ok++;
    struct pollfd pfd = {.fd = slow, .events = POLLIN};
    if (poll(&pfd, 1, 100) > 0) {
      answered = true;
      break;
    }
  }
  double dt = tl_now_s() - t0;
  ck_assert_msg(answered, "slowloris not cut off after %.1f s", dt);
  ck_assert_msg(dt < 8.0, "slowloris cut off only after %.1f s", dt);
  tl_resp r;
  ck_assert_int_eq(tl_read_resp(slow, &r, false), 0);
  check_error_body(&r, 408);
  tl_resp_free(&r);
  ck_assert(tl_wait_eof(slow, 5000));
  ck_assert_msg(worst < 2.0, "fast client waited %.3f s", worst);
  ck_assert_int_ge(fast_ok, 5);
  tl_close(slow);
  tl_close(fast);
  stop_ok(&p);
}
END_TEST

/* --body-min-rate (default 1024 bytes/s): a body trickled one byte every
 * 200 ms after its headers is cut with 408 and a close within a few
 * seconds, and its task never starts; an honest slow upload beside it
 * (64 KiB at 8 KiB/s) completes. With 0 the trickle is left alone. */
START_TEST(test_body_min_rate) {
  tl_proc p;
  start(&p, NULL);
  enum { HONEST = 64 * 1024, PIECE = 1024 };
  char *body = malloc(HONEST);
  for (size_t i = 0; i < HONEST; i++)
    body[i] = (char) ('a' + i % 26);
  int slow = tl_connect(p.port);
  int honest = tl_connect(p.port);
  tl_send_str(slow,
              "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n");
  char hdr[128];
  snprintf(hdr, sizeof(hdr),
           "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n",
           HONEST);
  tl_send_str(honest, hdr);
  double t0 = tl_now_s(), cut = 0, next_byte = t0, next_piece = t0;
  size_t sent = 0;
  tl_resp r;
  /* 1 KiB every 125 ms to one, 1 byte every 200 ms to the other. */
  while (sent < HONEST && tl_now_s() - t0 < 20.0) {
    double now = tl_now_s();
    if (now >= next_piece) {
      tl_send_all(honest, body + sent, PIECE);
      sent += PIECE;
      next_piece += 0.125;
    }
    if (!cut && now >= next_byte) {
      (void) send(slow, "x", 1, MSG_NOSIGNAL);
      next_byte += 0.2;
    }
    struct pollfd pfd = {.fd = slow, .events = POLLIN};
    if (!cut && poll(&pfd, 1, 0) > 0) {
      cut = tl_now_s() - t0;
      ck_assert_int_eq(tl_read_resp(slow, &r, false), 0);
      check_error_body(&r, 408);
      tl_resp_free(&r);
      ck_assert(tl_wait_eof(slow, 5000));
    }
    usleep(5000);
  }
  ck_assert_msg(cut > 0.9 && cut < 5.0,
                "trickled body cut after %.2f s (0: never)", cut);
  ck_assert_int_eq(tl_read_resp(honest, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_uint_eq(r.body_len, HONEST);
  ck_assert(memcmp(r.body, body, HONEST) == 0);
  tl_resp_free(&r);
  /* Task ids count dispatched requests: the upload was 1, the trickled
   * body none, so the next task is 2. */
  tl_send_str(honest, "GET /cpu?ms=1 HTTP/1.1\r\nHost: t\r\n\r\n");
  ck_assert_int_eq(tl_read_resp(honest, &r, false), 0);
  char id[32];
  ck_assert(tl_resp_find_header(&r, "X-Task-Id", id, sizeof(id)));
  ck_assert_str_eq(id, "2");
  tl_resp_free(&r);
  tl_close(slow);
  tl_close(honest);
  stop_ok(&p);

  /* Off: the same trickle for 2.5 s, then the rest of it, is answered. */
  start(&p, "--body-min-rate", "0", NULL);
  slow = tl_connect(p.port);
  tl_send_str(slow,
              "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 20\r\n\r\n");
  for (int i = 0; i < 13; i++) {
    tl_send_str(slow, "x");
    struct pollfd pfd = {.fd = slow, .events = POLLIN};
    ck_assert_msg(poll(&pfd, 1, 200) == 0,
                  "--body-min-rate 0 still answered early");
  }
  tl_send_str(slow, "xxxxxxx");
  ck_assert_int_eq(tl_read_resp(slow, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_uint_eq(r.body_len, 20);
  tl_resp_free(&r);
  tl_close(slow);
  stop_ok(&p);
  free(body);
}
END_TEST

START_TEST(test_body_limits) {
  tl_proc p;
  start(&p, "--max-body-bytes", "100", NULL);
  /* Content-Length over the limit: 413 before any body byte is sent. */
  int fd = tl_connect(p.port);
  tl_send_str(fd,
              "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n");
  tl_resp r;
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  check_error_body(&r, 413);
  tl_resp_free(&r);
  ck_assert(tl_wait_eof(fd, 5000));
  tl_close(fd);
  /* Chunked over the limit (two 64-byte chunks). */
  fd = tl_connect(p.port);
  char chunk[64];
  memset(chunk, 'x', sizeof(chunk));
  tl_send_str(
      fd,
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
  for (int i = 0; i < 2; i++) {
    tl_send_str(fd, "40\r\n");
    tl_send_all(fd, chunk, sizeof(chunk));
    tl_send_str(fd, "\r\n");
  }
  /* The terminating chunk may race the server's close; ignore errors. */
  (void) send(fd, "0\r\n\r\n", 5, MSG_NOSIGNAL);
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  check_error_body(&r, 413);
  tl_resp_free(&r);
  tl_close(fd);
  /* Exactly at the limit is fine. */
  fd = tl_connect(p.port);
  char body[100];
  memset(body, 'y', sizeof(body));
  tl_send_str(fd,
              "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n");
  tl_send_all(fd, body, sizeof(body));
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_uint_eq(r.body_len, 100);
  tl_resp_free(&r);
  tl_close(fd);
  stop_ok(&p);
}
END_TEST

START_TEST(test_header_limits) {
  tl_proc p;
  start(&p, "--max-header-bytes", "1024", NULL);
  char req[8192];
  int n = snprintf(req, sizeof(req), "GET /plaintext?x=");
  for (int i = 0; i < 2000; i++)
    req[n++] = 'a';
  snprintf(req + n, sizeof(req) - (size_t) n, " HTTP/1.1\r\nHost: t\r\n\r\n");
  expect_error(p.port, req, 414, true);

  n = snprintf(req, sizeof(req), "GET /plaintext HTTP/1.1\r\nHost: t\r\n");
  for (int i = 0; i < 60; i++)
    n += snprintf(req + n, sizeof(req) - (size_t) n,
                  "X-Header-%02d: 0123456789012345678901234567890123456789\r\n",
                  i);
  snprintf(req + n, sizeof(req) - (size_t) n, "\r\n");
  expect_error(p.port, req, 431, true);

  /* One huge header value, sent in pieces. */
  int fd = tl_connect(p.port);
  tl_send_str(fd, "GET /plaintext HTTP/1.1\r\nX-Big: ");
  char blob[600];
  memset(blob, 'b', sizeof(blob));
  tl_send_all(fd, blob, sizeof(blob));
  (void) send(fd, blob, sizeof(blob), MSG_NOSIGNAL);
  tl_resp r;
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  check_error_body(&r, 431);
  tl_resp_free(&r);
  tl_close(fd);

  /* Under the limit still works. */
  ck_assert_int_eq(get_status(p.port, "/plaintext?x=aaaaaaaaaaaaaaaa"), 200);
  stop_ok(&p);
}
END_TEST

START_TEST(test_queue_full_503) {
  tl_proc p;
  start(&p, "--mode", "pool", "--threads", "1", "--queue-max", "2",
        "--sample-ms", "100", NULL);
  /* One task runs for 1 s; of five more sent meanwhile, two wait in the
   * queue and three are refused: exactly 3 x 200 and 3 x 503. */
  static const char slow[] = "GET /io?ms=1000 HTTP/1.1\r\nHost: t\r\n\r\n";
  int fds[6];
  for (int i = 0; i < 6; i++)
    fds[i] = tl_connect(p.port);
  tl_send_str(fds[0], slow);
  usleep(200000); /* the worker took it: the queue is empty again */
  for (int i = 1; i < 6; i++)
    tl_send_str(fds[i], slow);
  int n200 = 0, n503 = 0;
  for (int i = 0; i < 6; i++) {
    tl_resp r;
    ck_assert_int_eq(tl_read_resp(fds[i], &r, false), 0);
    if (r.status == 200) {
      n200++;
    } else {
      ck_assert_msg(i > 0, "the first task was refused");
      check_error_body(&r, 503);
      ck_assert_msg(strstr(r.body, "queue full") != NULL, "503 body: %s",
                    r.body);
      char v[32];
      ck_assert_msg(tl_resp_find_header(&r, "Retry-After", v, sizeof(v)),
                    "503 without Retry-After");
      ck_assert_str_eq(v, "1");
      n503++;
    }
    tl_resp_free(&r);
  }
  ck_assert_int_eq(n200, 3);
  ck_assert_int_eq(n503, 3);
  /* The connections stay usable after a 503. */
  for (int i = 0; i < 6; i++) {
    tl_send_str(fds[i], GET_PLAIN);
    expect_plaintext(fds[i]);
    tl_close(fds[i]);
  }
  tj *j = tl_fresh_stats(p.admin_port);
  ck_assert_int_eq(tj_num(j, "server.queue.rejected", -1), 3);
  ck_assert_int_eq(tj_num(j, "server.requests.by_status.5xx", -1), 3);
  ck_assert_int_eq(tj_num(j, "server.requests.by_status.2xx", -1), 9);
  ck_assert_int_eq(tj_num(j, "server.requests.total", -1), 12);
  tj_release(j);
  stop_ok(&p);
}
END_TEST

START_TEST(test_max_conns) {
  tl_proc p;
  start(&p, "--max-conns", "4", NULL);
  int fds[4];
  for (int i = 0; i < 4; i++) {
    fds[i] = tl_connect(p.port);
    tl_send_str(fds[i], GET_PLAIN);
    expect_plaintext(fds[i]);
  }
  int extra = tl_connect(p.port);
  tl_resp r;
  ck_assert_int_eq(tl_read_resp(extra, &r, false), 0);
  check_error_body(&r, 503);
  char v[64];
  ck_assert(tl_resp_find_header(&r, "Connection", v, sizeof(v)));
  ck_assert_str_eq(v, "close");
  ck_assert(tl_resp_find_header(&r, "Retry-After", v, sizeof(v)));
  ck_assert_str_eq(v, "1");
  ck_assert_msg(tl_resp_find_header(&r, "Date", v, sizeof(v)) &&
                    strlen(v) == 29,
                "503 over --max-conns without a Date header");
  tl_resp_free(&r);
  ck_assert(tl_wait_eof(extra, 5000));
  tl_close(extra);
  for (int i = 0; i < 4; i++) {
    tl_send_str(fds[i], GET_PLAIN);
    expect_plaintext(fds[i]);
  }
  /* Once one leaves, a new connection is served again. */
  tl_close(fds[0]);
  bool served = false;
  double t0 = tl_now_s();
  while (!served && tl_now_s() - t0 < 5.0) {
    tl_resp rr;
    if (tl_get(p.port, "/plaintext", &rr) == 200)
      served = true;
    tl_resp_free(&rr);
    if (!served)
      usleep(50000);
  }
  ck_assert(served);
  for (int i = 1; i < 4; i++)
    tl_close(fds[i]);
  stop_ok(&p);
}
END_TEST

START_TEST(test_idle_timeout) {
  tl_proc p;
  start(&p, "--idle-timeout-ms", "1000", NULL);
  int fd = tl_connect(p.port);
  /* Activity every 100 ms keeps it open well past the timeout (a timeout
   * ten gaps long: a loaded machine may stretch one gap to several). */
  for (int i = 0; i < 15; i++) {
    tl_send_str(fd, GET_PLAIN);
    expect_plaintext(fd);
    usleep(100000);
  }
  double t0 = tl_now_s();
  ck_assert(tl_wait_eof(fd, 5000));
  double dt = tl_now_s() - t0;
  ck_assert_msg(dt > 0.5 && dt < 5.0, "idle close after %.3f s", dt);
  tl_close(fd);
  stop_ok(&p);
}
END_TEST

/* ---- static files ------------------------------------------------------ */

START_TEST(test_static_docroot) {
  char src[PATH_MAX], www[PATH_MAX + 8], file[PATH_MAX + 32];
  srcdir(src, sizeof(src));
  snprintf(www, sizeof(www), "%s/www", src);
  snprintf(file, sizeof(file), "%s/index.html", www);
  size_t flen;
  char *want = read_file(file, &flen);
  tl_proc p;
  start(&p, "--docroot", www, NULL);
  tl_resp r;
  ck_assert_int_eq(tl_get(p.port, "/static/index.html", &r), 200);
  char v[128];
  ck_assert(tl_resp_find_header(&r, "Content-Type", v, sizeof(v)));
  ck_assert_msg(strncmp(v, "text/html", 9) == 0, "type %s", v);
  ck_assert_uint_eq(r.body_len, flen);
  ck_assert(memcmp(r.body, want, flen) == 0);
  tl_resp_free(&r);
  /* The directory means its index.html. */
  ck_assert_int_eq(tl_get(p.port, "/static/", &r), 200);
  ck_assert_uint_eq(r.body_len, flen);
  tl_resp_free(&r);
  free(want);

  const char *evil[] = {
      "/static/../configure.ac",
      "/static/..%2fconfigure.ac",
      "/static/%2e%2e/configure.ac",
      "/static/%2e%2e/%2e%2e/etc/passwd",
      "/static/%2e%2e%2fetc%2fpasswd",
      "/static/%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
      "/static/a%00b",
      "/static/index.html%00.txt",
      "/static//etc/passwd",
      "/static/%2fetc%2fpasswd",
      "/static/./index.html/..",
      "/static/%",
      "/static/%g0",
      "/static/../../../../../../../../etc/passwd",
  };
  for (size_t i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
    char req[512];
    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
             evil[i]);
    int fd = tl_connect(p.port);
    tl_send_str(fd, req);
    char buf[65536];
    bool eof;
    tl_recv_rest(fd, buf, sizeof(buf), 5000, &eof);
    tl_close(fd);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 ", 9) == 0, "%s: no response",
                  evil[i]);
    int st = atoi(buf + 9);
    ck_assert_msg(st == 400 || st == 403 || st == 404, "%s answered %d",
                  evil[i], st);
    ck_assert_msg(!strstr(buf, "root:") && !strstr(buf, "AC_INIT"),
                  "%s leaked a file outside the docroot", evil[i]);
  }
  stop_ok(&p);
}
END_TEST

START_TEST(test_static_symlinks) {
  char base[] = "/tmp/tl-http-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(base));
  char root[256], out[256], path[512], target[512];
  snprintf(root, sizeof(root), "%s/root", base);
  snprintf(out, sizeof(out), "%s/outside", base);
  ck_assert_int_eq(mkdir(root, 0755), 0);
  ck_assert_int_eq(mkdir(out, 0755), 0);
  snprintf(path, sizeof(path), "%s/secret.txt", out);
  write_file(path, "TOP-SECRET\n");
  snprintf(path, sizeof(path), "%s/index.html", root);
  write_file(path, "<p>inside</p>\n");
  snprintf(path, sizeof(path), "%s/real.txt", root);
  write_file(path, "REAL\n");
  snprintf(path, sizeof(path), "%s/sub", root);
  ck_assert_int_eq(mkdir(path, 0755), 0);
  snprintf(path, sizeof(path), "%s/sub/index.html", root);
  write_file(path, "SUB\n");
  struct {
    const char *name, *to;
  } links[] = {
      {"link_in", "real.txt"},
      {"link_sub", "sub/index.html"},
      {"link_up_in", "sub/../real.txt"},
      {"link_rel_out", "../outside/secret.txt"},
      {"dir_out", "../outside"},
      {"link_etc", "/etc/passwd"},
      {"link_abs_out", NULL}, /* absolute path of outside/secret.txt */
      {"loop", "loop"},
  };
  for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
    snprintf(path, sizeof(path), "%s/%s", root, links[i].name);
    if (links[i].to)
      snprintf(target, sizeof(target), "%s", links[i].to);
    else
      snprintf(target, sizeof(target), "%s/secret.txt", out);
    ck_assert_int_eq(symlink(target, path), 0);
  }
  /* A FIFO must be refused, not block the thread that opens it. */
  snprintf(path, sizeof(path), "%s/fifo", root);
  ck_assert_int_eq(mkfifo(path, 0644), 0);
  tl_proc p;
  start(&p, "--docroot", root, NULL);
  struct {
    const char *path;
    int status;
    const char *body;
  } cases[] = {
      {"/static/", 200, "<p>inside</p>\n"},
      {"/static/real.txt", 200, "REAL\n"},
      {"/static/link_in", 200, "REAL\n"},
      {"/static/link_sub", 200, "SUB\n"},
      {"/static/link_up_in", 200, "REAL\n"},
      {"/static/sub/", 200, "SUB\n"},
      {"/static/sub", 200, "SUB\n"},
      {"/static/fifo", 404, NULL},
      {"/static/link_rel_out", 0, NULL},
      {"/static/dir_out/secret.txt", 0, NULL},
      {"/static/dir_out/", 0, NULL},
      {"/static/link_etc", 0, NULL},
      {"/static/link_abs_out", 0, NULL},
      {"/static/loop", 0, NULL},
      {"/static/missing", 404, NULL},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    tl_resp r;
    int st = tl_get(p.port, cases[i].path, &r);
    if (cases[i].status == 0) {
      ck_assert_msg(st == 400 || st == 403 || st == 404, "%s answered %d",
                    cases[i].path, st);
      ck_assert_msg(!strstr(r.body, "TOP-SECRET") && !strstr(r.body, "root:"),
                    "%s leaked", cases[i].path);
    } else {
      ck_assert_msg(st == cases[i].status, "%s answered %d", cases[i].path, st);
      if (cases[i].body)
        ck_assert_str_eq(r.body, cases[i].body);
      char v[128];
      if (strstr(cases[i].body ? cases[i].body : "", "<p>") ||
          !strcmp(cases[i].path, "/static/sub")) {
        /* A directory's index.html is served as HTML. */
        ck_assert(tl_resp_find_header(&r, "Content-Type", v, sizeof(v)));
        ck_assert_msg(strncmp(v, "text/html", 9) == 0, "%s: type %s",
                      cases[i].path, v);
      }
    }
    tl_resp_free(&r);
  }
  stop_ok(&p);
  /* Clean up the temp tree. */
  for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
    snprintf(path, sizeof(path), "%s/%s", root, links[i].name);
    unlink(path);
  }
  const char *files[] = {"root/index.html", "root/real.txt",
                         "root/sub/index.html", "outside/secret.txt",
                         "root/fifo"};
  for (size_t i = 0; i < 5; i++) {
    snprintf(path, sizeof(path), "%s/%s", base, files[i]);
    unlink(path);
  }
  snprintf(path, sizeof(path), "%s/sub", root);
  rmdir(path);
  rmdir(root);
  rmdir(out);
  rmdir(base);
}
END_TEST

/* ---- hostile peers ----------------------------------------------------- */

START_TEST(test_reset_peers) {
  tl_proc p;
  start(&p, "--mode", order_modes[_i], "--threads", "2", NULL);
  for (int round = 0; round < 5; round++) {
    /* Mid-body. */
    int fd = tl_connect(p.port);
    tl_send_str(
        fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc");
    usleep(10000);
    reset_close(fd);
    /* Mid-headers. */
    fd = tl_connect(p.port);
    tl_send_str(fd, "GET /plaintext HTTP/1.1\r\nHo");
    usleep(10000);
    reset_close(fd);
    /* With tasks in flight and responses pending. */
    fd = tl_connect(p.port);
    tl_send_str(fd,
                "GET /io?ms=100 HTTP/1.1\r\n\r\nGET /cpu?ms=5 HTTP/1.1\r\n\r\n"
                "GET /static/index.html HTTP/1.1\r\n\r\nGET /plaintext "
                "HTTP/1.1\r\n\r\n");
    usleep(10000);
    reset_close(fd);
    /* Right after a complete request. */
    fd = tl_connect(p.port);
    tl_send_str(fd, GET_PLAIN);
    reset_close(fd);
    ck_assert_int_eq(get_status(p.port, "/plaintext"), 200);
  }
  usleep(300000); /* the abandoned tasks finish */
  ck_assert_int_eq(get_status(p.port, "/json"), 200);
  stop_ok(&p);
}
END_TEST

/* Sends as much of buf as the peer takes within secs, without reading. */
static size_t send_until_blocked(int fd, const char *buf, size_t len,
                                 double secs) {
  size_t sent = 0;
  double t0 = tl_now_s();
  while (sent < len && tl_now_s() - t0 < secs) {
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};
    if (poll(&pfd, 1, 100) <= 0)
      continue;
    ssize_t w = send(fd, buf + sent, len - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w > 0)
      sent += (size_t) w;
    else if (w < 0 && errno != EAGAIN && errno != EINTR)
      break;
  }
  return sent;
}

/* Sends the rest while reading; returns the counted responses. */
static void drain_responses(int fd, const char *buf, size_t len, size_t sent,
                            size_t expect, const char *body, resp_count *rc,
                            double secs) {
  size_t cap = 1 << 20, have = 0;
  char *in = malloc(cap);
  double t0 = tl_now_s();
  while (rc->count < expect && tl_now_s() - t0 < secs) {
    struct pollfd pfd = {.fd = fd,
                         .events = POLLIN | (sent < len ? POLLOUT : 0)};
    if (poll(&pfd, 1, 100) <= 0)
      continue;
    if ((pfd.revents & POLLOUT) && sent < len) {
      ssize_t w = send(fd, buf + sent, len - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (w > 0)
        sent += (size_t) w;
    }
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = recv(fd, in + have, cap - have, MSG_DONTWAIT);
      if (r == 0)
        break;
      if (r < 0)
        continue;
      have += (size_t) r;
      size_t used = count_responses(in, have, body, rc);
      memmove(in, in + used, have - used);
      have -= used;
    }
  }
  free(in);
}

/* Pipelines n copies of req into one buffer. */
static char *repeat(const char *req, size_t n, size_t *len) {
  size_t l = strlen(req);
  char *b = malloc(l * n);
  for (size_t i = 0; i < n; i++)
    memcpy(b + i * l, req, l);
  *len = l * n;
  return b;
}

START_TEST(test_nonreading_peers) {
  tl_proc p;
  start(&p, "--mode", order_modes[_i], "--threads", "2",
        "--shutdown-timeout-ms", "3000", NULL);
  char src[PATH_MAX];
  srcdir(src, sizeof(src));
  long base_kb = tl_proc_rss_kb(p.pid);
  ck_assert_int_gt(base_kb, 0);

  /* Two peers that pipeline 2000 requests and do not read: small
   * responses, and 8 KiB files (17 MB in all, far more than the socket
   * buffers hold). A small receive buffer makes backpressure come soon. */
  int a = tl_connect(p.port), b = tl_connect(p.port);
  int small = 4096;
  setsockopt(a, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  setsockopt(b, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  size_t alen, blen;
  /* Peer a's requests have distinct bodies, echoed: each response must be
   * its own request's, in order. */
  char *abuf = malloc(2000 * 96);
  alen = 0;
  for (size_t i = 0; i < 2000; i++) {
    char body[32];
    int bl = snprintf(body, sizeof(body), "echo-%zu", i);
    alen += (size_t) snprintf(abuf + alen, 96,
                              "POST /echo HTTP/1.1\r\nHost: t\r\n"
                              "Content-Length: %d\r\n\r\n%s",
                              bl, body);
  }
  char *bbuf =
      repeat("GET /static/index.html HTTP/1.1\r\nHost: t\r\n\r\n", 2000, &blen);
  size_t asent = send_until_blocked(a, abuf, alen, 2.0);
  size_t bsent = send_until_blocked(b, bbuf, blen, 2.0);

  /* Others are still served promptly. */
  int c = tl_connect(p.port);
  double worst = 0;
  for (int i = 0; i < 50; i++) {
    double t = tl_now_s();
    tl_send_str(c, GET_PLAIN);
    expect_plaintext(c);
    double dt = tl_now_s() - t;
    worst = dt > worst ? dt : worst;
  }
  ck_assert_msg(worst < 2.0, "others waited %.3f s", worst);
  ck_assert_int_eq(get_status(p.port, "/static/index.html"), 200);
  usleep(500000);
  long kb = tl_proc_rss_kb(p.pid);
  fprintf(stderr, "nonreading_peers[%s]: RSS %ld -> %ld KiB (sent %zu + %zu)\n",
          order_modes[_i], base_kb, kb, asent, bsent);
  ck_assert_msg(kb - base_kb < RSS_LIMIT_KB,
                "RSS grew from %ld to %ld KiB with non-reading peers", base_kb,
                kb);
  if (!TL_SANITIZED)
    ck_assert_msg(kb < RSS_LIMIT_KB, "RSS %ld KiB >= 64 MiB", kb);

  /* Now the first peer reads: all 2000 responses arrive, in order. */
  resp_count rc = {0, 0, 0, 0};
  drain_responses(a, abuf, alen, asent, 2000, "echo-%zu", &rc, 30.0);
  ck_assert_uint_eq(rc.count, 2000);
  ck_assert_uint_eq(rc.ok, 2000);
  ck_assert_msg(rc.bad_body == 0,
                "%zu responses not their request's, the "
                "first at %zu",
                rc.bad_body, rc.first_bad);
  tl_close(a);
  tl_close(c);
  /* b never reads: shutdown must still end (the shutdown timeout closes
   * it) with status 0. */
  stop_ok(&p);
  tl_close(b);
  free(abuf);
  free(bbuf);
}
END_TEST

START_TEST(test_graceful_inflight) {
  tl_proc p;
  start(&p, "--mode", order_modes[_i], "--threads", "2", NULL);
  int fd = tl_connect(p.port);
  tl_send_str(fd, "GET /io?ms=500 HTTP/1.1\r\nHost: t\r\n\r\n");
  int idle = tl_connect(p.port);
  tl_send_str(idle, GET_PLAIN);
  expect_plaintext(idle);
  usleep(100000);
  kill(p.pid, SIGTERM);
  /* The in-flight task is finished and answered, with Connection: close. */
  tl_resp r;
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  tl_resp_free(&r);
  ck_assert(tl_wait_eof(fd, 5000));
  ck_assert(tl_wait_eof(idle, 5000));
  int st = tl_proc_wait(&p, STOP_TIMEOUT_MS);
  ck_assert_msg(st == 0, "exit status %d", st);
  tl_close(fd);
  tl_close(idle);
}
END_TEST

/* Runs the server binary with args to its exit (20 s at most); returns
 * its wait status and what it wrote to stderr. */
static int run_to_exit(const char *const *args, char *err, size_t cap) {
  const char *argv[16];
  int n = 0;
  argv[n++] = tl_bin();
  for (int i = 0; args[i] && n < 15; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  int pfd[2];
  ck_assert_int_eq(pipe(pfd), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(pfd[1], 2);
    close(pfd[0]);
    execv(argv[0], (char *const *) argv);
    _exit(127);
  }
  close(pfd[1]);
  size_t len = 0;
  double t0 = tl_now_s();
  for (;;) {
    struct pollfd pf = {.fd = pfd[0], .events = POLLIN};
    if (poll(&pf, 1, 1000) > 0) {
      ssize_t r = read(pfd[0], err + len, cap - 1 - len);
      if (r <= 0)
        break;
      len += (size_t) r;
    }
    ck_assert_msg(tl_now_s() - t0 < 20, "threadlab did not exit");
  }
  err[len] = '\0';
  close(pfd[0]);
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  return status;
}

/* A start that fails (port taken, workload or admin; a bad option) says
 * why on stderr and exits 1 (2 for options) having released what it had
 * set up: under ASan, LeakSanitizer would say otherwise on stderr. */
START_TEST(test_start_failures) {
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t alen = sizeof(a);
  ck_assert_int_eq(bind(ls, (struct sockaddr *) &a, sizeof(a)), 0);
  ck_assert_int_eq(listen(ls, 1), 0);
  ck_assert_int_eq(getsockname(ls, (struct sockaddr *) &a, &alen), 0);
  char port[16], err[4096];
  snprintf(port, sizeof(port), "%d", ntohs(a.sin_port));
  const char *taken[] = {"--port", port, "--admin-port", "0", NULL};
  int st = run_to_exit(taken, err, sizeof(err));
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d: %s", st,
                err);
  ck_assert_msg(strstr(err, "cannot listen on") &&
                    strstr(err, "address already in use"),
                "stderr: %s", err);
  /* LeakSanitizer reports without changing a non-zero exit status. */
  ck_assert_msg(strstr(err, "Sanitizer") == NULL, "stderr: %s", err);
  const char *admin_taken[] = {"--port", "0", "--admin-port", port, NULL};
  st = run_to_exit(admin_taken, err, sizeof(err));
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d: %s", st,
                err);
  ck_assert_msg(strstr(err, "cannot listen on admin port") != NULL,
                "stderr: %s", err);
  ck_assert_msg(strstr(err, "Sanitizer") == NULL, "stderr: %s", err);
  const char *bad[] = {"--threads", "0", NULL};
  st = run_to_exit(bad, err, sizeof(err));
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 2, "status %d: %s", st,
                err);
  ck_assert_msg(strstr(err, "--threads") != NULL, "stderr: %s", err);
  close(ls);
}
END_TEST

START_TEST(test_odd_requests) {
  tl_proc p;
  start(&p, NULL);
  /* Upgrade requests, HTTP/2 preface, absolute-form, OPTIONS *: each gets
   * its well-formed answer at once; those that end the exchange close
   * right after it, the others leave the connection usable. */
  static const struct {
    const char *raw;
    int status;
    bool close;
  } odd[] = {
      /* We speak no other protocol: answered, then closed. */
      {"GET /plaintext HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\n"
       "Upgrade: websocket\r\n\r\nxxxxxxxx",
       200, true},
      {"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, true},
      /* Absolute-form: accepted, its path routed (RFC 9112 3.2.2). */
      {"GET http://t/plaintext HTTP/1.1\r\nHost: t\r\n\r\n", 200, false},
      {"OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n", 404, false},
      {"CONNECT t:443 HTTP/1.1\r\nHost: t\r\n\r\n", 404, true},
      {"GET / HTTP/2.0\r\n\r\n", 505, true},
      {"GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 400,
       true},
      /* CRLFs before a request are skipped (RFC 9112 2.2). */
      {"\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n", 200, false},
  };
  for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
    int fd = tl_connect(p.port);
    double t0 = tl_now_s();
    tl_send_str(fd, odd[i].raw);
    tl_resp r;
    ck_assert_msg(tl_read_resp(fd, &r, false) == 0,
                  "odd request %zu: no response", i);
    double dt = tl_now_s() - t0;
    ck_assert_msg(dt < 2.0, "odd request %zu answered after %.2f s", i, dt);
    ck_assert_msg(strncmp(r.head, "HTTP/1.1 ", 9) == 0,
                  "odd request %zu: '%.60s'", i, r.head);
    ck_assert_msg(r.status == odd[i].status, "odd request %zu: %d, expected %d",
                  i, r.status, odd[i].status);
    if (r.status >= 400)
      check_error_body(&r, odd[i].status);
    else
      ck_assert_str_eq(r.body, "Hello, World!");
    char v[64];
    bool says_close = tl_resp_find_header(&r, "Connection", v, sizeof(v)) &&
                      strcasecmp(v, "close") == 0;
    ck_assert_msg(says_close == odd[i].close, "odd request %zu: Connection: %s",
                  i, says_close ? "close" : "(keep-alive)");
    tl_resp_free(&r);
    if (odd[i].close) {
      ck_assert_msg(tl_wait_eof(fd, 2000), "odd request %zu: no close", i);
    } else {
      tl_send_str(fd, GET_PLAIN);
      expect_plaintext(fd);
    }
    tl_close(fd);
  }
  ck_assert_int_eq(get_status(p.port, "/plaintext"), 200);
  stop_ok(&p);
}
END_TEST

/* ---- the safety net: order, cancellation, interim responses ---------- */

/* The fixture docroot: a 9,000-byte file of numbered lines, so that any
 * byte out of place shows. */
static void fixture_docroot(char *out, size_t cap) {
  snprintf(out, cap, "%s/docroot", TL_FIXTURES_DIR);
}

/* Checks a byte stream of responses against what was asked, in order:
 * response i must be exactly a 200 with body want[i % 2]. Returns the bytes
 * consumed by complete responses; fails at the first one that is not
 * byte-exact (an interleaved write shows as a bad status line, a wrong
 * length or a wrong body). */
static size_t check_stream(const char *b, size_t len, size_t *next,
                           const char *const want[2],
                           const size_t want_len[2]) {
  size_t off = 0;
  for (;;) {
    size_t left = len - off;
    const char *h = b + off;
    if (left >= 17)
      ck_assert_msg(memcmp(h, "HTTP/1.1 200 OK\r\n", 17) == 0,
                    "response %zu does not begin with a 200 status line: "
                    "'%.40s'",
                    *next, h);
    const char *end = left ? memmem(h, left, "\r\n\r\n", 4) : NULL;
    if (!end) {
      ck_assert_msg(left < 4096, "response %zu: no end of headers in %zu bytes",
                    *next, left);
      return off;
    }
    size_t hlen = (size_t) (end - h) + 4;
    const char *cl = memmem(h, hlen, "\r\nContent-Length: ", 18);
    ck_assert_msg(cl != NULL, "response %zu without Content-Length", *next);
    size_t clen = strtoul(cl + 18, NULL, 10);
    size_t k = *next % 2;
    ck_assert_msg(clen == want_len[k],
                  "response %zu: Content-Length %zu, "
                  "expected %zu",
                  *next, clen, want_len[k]);
    if (left < hlen + clen)
      return off;
    ck_assert_msg(memcmp(h + hlen, want[k], clen) == 0,
                  "response %zu: body differs from the expected one", *next);
    off += hlen + clen;
    (*next)++;
  }
}

/* 3000 pipelined requests, alternating a 9 KB file and /plaintext, read
 * slowly through a small receive buffer, so that the server's responses
 * queue behind the socket (in libuv's write queue) while more become
 * ready. The stream must stay byte-exact and in request order: a batched
 * (io_uring) send must never overtake bytes still queued in libuv. */
START_TEST(test_slow_reader_stream_exact) {
  char root[PATH_MAX], path[PATH_MAX + 32];
  fixture_docroot(root, sizeof(root));
  snprintf(path, sizeof(path), "%s/lines-9k.txt", root);
  size_t flen;
  char *file = read_file(path, &flen);
  ck_assert_uint_ge(flen, 8192);
  static const char hello[] = "Hello, World!";
  const char *want[2] = {file, hello};
  const size_t want_len[2] = {flen, sizeof(hello) - 1};
  tl_proc p;
  start(&p, "--mode", order_modes[_i], "--threads", "2", "--docroot", root,
        NULL);
  enum { N = 3000 };
  static const char req_file[] =
      "GET /static/lines-9k.txt HTTP/1.1\r\nHost: t\r\n\r\n";
  size_t cap = N * sizeof(req_file), len = 0;
  char *reqs = malloc(cap);
  for (int i = 0; i < N; i++) {
    const char *r = i % 2 ? GET_PLAIN : req_file;
    size_t l = strlen(r);
    memcpy(reqs + len, r, l);
    len += l;
  }
  int fd = tl_connect(p.port);
  int small = 32768;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  size_t sent = 0, have = 0, got = 0, inbuf = 1 << 17, reads = 0;
  char *in = malloc(inbuf);
  double t0 = tl_now_s();
  while (got < N && tl_now_s() - t0 < 90) {
    struct pollfd pfd = {.fd = fd,
                         .events = POLLIN | (sent < len ? POLLOUT : 0)};
    if (poll(&pfd, 1, 200) <= 0)
      continue;
    if ((pfd.revents & POLLOUT) && sent < len) {
      ssize_t w =
          send(fd, reqs + sent, len - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (w > 0)
        sent += (size_t) w;
    }
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
      /* Small reads with a pause now and then: the server's queue fills
       * and drains over and over. */
      size_t want_n = 4096 + (reads * 7919) % 16384;
      if (want_n > inbuf - have)
        want_n = inbuf - have;
      ssize_t r = recv(fd, in + have, want_n, MSG_DONTWAIT);
      ck_assert_msg(r != 0, "EOF after %zu of %d responses", got, N);
      if (r < 0)
        continue;
      have += (size_t) r;
      size_t used = check_stream(in, have, &got, want, want_len);
      memmove(in, in + used, have - used);
      have -= used;
      if (++reads % 4 == 0)
        usleep(1000);
    }
  }
  ck_assert_msg(got == N, "%zu of %d responses in %.0f s", got, N,
                tl_now_s() - t0);
  ck_assert_uint_eq(have, 0);
  tl_close(fd);
  free(in);
  free(reqs);
  free(file);
  stop_ok(&p);
}
END_TEST

/* Twelve 250 ms IO steps: 3 s of work for a client that will not wait. */
static const char LONG_TASK[] =
    "/task?steps=io:250,io:250,io:250,io:250,io:250,io:250,io:250,io:250,"
    "io:250,io:250,io:250,io:250";

/* Sends GET path, waits until its task runs, then goes away: by EOF (the
 * write side shut, the socket kept open and returned) or by a reset
 * (SO_LINGER 0; returns -1). */
static int send_then_leave(int port, const char *path, bool reset) {
  int fd = tl_connect(port);
  char req[512];
  snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
  tl_send_str(fd, req);
  usleep(200000); /* read, parsed, admitted: the first step is running */
  if (reset) {
    reset_close(fd);
    return -1;
  }
  ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
  return fd;
}

/* Twelve 250 ms CPU steps: in hybrid mode they run on a worker, one after
 * the other (the worker checks for cancellation between them). */
static const char LONG_CPU_TASK[] =
    "/task?steps=cpu:250,cpu:250,cpu:250,cpu:250,cpu:250,cpu:250,cpu:250,"
    "cpu:250,cpu:250,cpu:250,cpu:250,cpu:250";

/* One worker: a client asks for 3 s of steps and goes away (_i % 2 = 0:
 * EOF, 1: reset). Its task must skip its remaining steps (like nginx, a
 * client that left is not waited for), so that the next client, whose
 * request waits for the same worker, is answered after at most the step in
 * progress. _i / 2 = 0: pool mode, IO steps (every request is a task on
 * the pool, /plaintext too); 1: hybrid mode, CPU steps (then /cpu needs
 * the worker). */
/* The --body-min-rate window's length: 2 s (ARCHITECTURE.md), a second
 * of grace, its anchor moved every half window. A body that sends 5 s
 * worth of the rate at once and then nothing is cut once the window no
 * longer holds that burst: not before 2 s (the burst covers the first
 * window), and well before 5 s (a 5 s window would keep it until then). */
START_TEST(test_body_min_rate_window) {
  tl_proc p;
  start(&p, "--body-min-rate", "1000", "--idle-timeout-ms", "30000", NULL);
  int fd = tl_connect(p.port);
  char req[8192];
  int n = snprintf(req, sizeof(req),
                   "POST /echo HTTP/1.1\r\nHost: t\r\n"
                   "Content-Length: 100000\r\n\r\n");
  memset(req + n, 'b', 5000);
  double t0 = tl_now_s();
  tl_send_all(fd, req, (size_t) n + 5000);
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  ck_assert_msg(poll(&pfd, 1, 15000) == 1, "a stalled body was never cut");
  double cut = tl_now_s() - t0;
  tl_resp r;
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  check_error_body(&r, 408);
  tl_resp_free(&r);
  ck_assert_msg(cut >= 1.95 && cut < 4.5,
                "5000 B at once, then nothing, at 1000 B/s: cut after %.2f s "
                "(the 2 s window: between 2 and ~3 s)",
                cut);
  tl_close(fd);
  stop_ok(&p);
}
END_TEST

/* Reads one response too large for tl_read_resp (its head byte by byte,
 * then exactly its body, nothing of the next); checks its status and
 * returns its body's length. */
static size_t read_big_response(int fd, int status) {
  char head[4096];
  size_t h = 0;
  while (h < 4 || memcmp(head + h - 4, "\r\n\r\n", 4) != 0) {
    ck_assert_msg(h + 1 < sizeof(head), "response head too long");
    ck_assert_msg(recv(fd, head + h, 1, 0) == 1, "no response head: %s",
                  strerror(errno));
    h++;
  }
  head[h] = '\0';
  ck_assert_msg(atoi(head + 9) == status, "response: %.100s", head);
  const char *cl = strcasestr(head, "\r\nContent-Length:");
  ck_assert_ptr_nonnull(cl);
  size_t len = strtoul(cl + 17, NULL, 10), got = 0;
  char buf[65536];
  while (got < len) {
    size_t want = len - got < sizeof(buf) ? len - got : sizeof(buf);
    ssize_t k = recv(fd, buf, want, 0);
    ck_assert_msg(k > 0, "response body ended at %zu of %zu", got, len);
    got += (size_t) k;
  }
  return len;
}

/* While the server does not read a connection (its responses are backed
 * up: the client is not reading them), the body's rate window starts
 * again: a client that waits for its answers is not cut for the time it
 * waited, and once it reads them, it has the grace again to go on. Pool
 * mode, one worker kept busy, so that the 2 MB echo (request 1) is
 * answered only after the body of request 2 began and was judged. */
START_TEST(test_body_min_rate_paused) {
  tl_proc p;
  /* --header-timeout-ms 1000: the sweep then runs every 250 ms. */
  start(&p, "--mode", "pool", "--threads", "1", "--body-min-rate", "1000",
        "--idle-timeout-ms", "30000", "--header-timeout-ms", "1000",
        "--max-body-bytes", "8000000", NULL);
  int hog = tl_connect(p.port);
  tl_send_str(hog, "GET /cpu?ms=1200 HTTP/1.1\r\nHost: t\r\n\r\n");
  usleep(100000);
  /* 7 MB: more than the kernel's buffers take (tcp_wmem's 4 MB at most
   * on the server's side, a fixed 64 KiB on ours) plus the 1 MB after
   * which the server stops reading. */
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int rcv = 65536;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t) p.port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(connect(fd, (struct sockaddr *) &a, sizeof(a)), 0);
  struct timeval tv = {.tv_sec = 15};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  enum { BIG = 7000000, BODY2 = 40000, PIECE = 200 };
  char *big = malloc(BIG + 512);
  int n = snprintf(
      big, 512, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n",
      BIG);
  memset(big + n, 'e', BIG);
  tl_send_all(fd, big, (size_t) n + BIG);
  tl_send_str(
      fd, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 40000\r\n\r\n");
  /* 2000 B/s (twice the rate) until the echo starts coming back. */
  size_t sent = 0;
  double t0 = tl_now_s();
  char piece[PIECE];
  memset(piece, 'q', sizeof(piece));
  for (;;) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, 100) == 1)
      break;
    ck_assert_msg(tl_now_s() - t0 < 15, "the echo never came back");
    ck_assert_msg(sent + PIECE < BODY2, "the busy worker was never free");
    tl_send_all(fd, piece, PIECE);
    sent += PIECE;
  }
  ck_assert_msg(sent >= 2 * PIECE,
                "the echo came back after %zu bytes of body 2", sent);
  /* The server now has megabytes for us and stops reading; we wait 5 s,
   * far beyond the grace, then read them all. */
  usleep(5000000);
  ck_assert_uint_eq(read_big_response(fd, 200), BIG);
  tl_resp r;
  /* Body 2 goes on: 2000 bytes at once (two seconds of the rate: the
   * server restarts the window at its last look while not reading, a
   * sweep before we read), then 2000 B/s for 1.5 s, then the rest at
   * once; it must be answered. A window judged over the 5 s wait would
   * see 1000 B/s * 5 s owed and cut it as soon as the server reads. */
  char burst[2000];
  memset(burst, 'q', sizeof(burst));
  tl_send_all(fd, burst, sizeof(burst));
  sent += sizeof(burst);
  double t1 = tl_now_s();
  while (tl_now_s() - t1 < 1.5) {
    tl_send_all(fd, piece, PIECE);
    sent += PIECE;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, 100) == 1)
      break; /* answered early: an error (checked below) */
  }
  char *rest = calloc(1, BODY2);
  if (sent < BODY2)
    send(fd, rest, BODY2 - sent, MSG_NOSIGNAL);
  free(rest);
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_msg(r.status == 200,
                "body 2, sent at twice the rate except while "
                "the server was not reading, answered %d: %s",
                r.status, r.body);
  ck_assert_uint_eq(r.body_len, BODY2);
  tl_resp_free(&r);
  tl_close(fd);
  ck_assert_int_eq(tl_read_resp(hog, &r, false), 0);
  tl_resp_free(&r);
  tl_close(hog);
  free(big);
  stop_ok(&p);
}
END_TEST

/* Expect: 100-continue behind a pipelined request: the 100 is withheld
 * until the response ahead is out (1.5 s, longer than the body's 1 s
 * grace). The body's clock (--body-min-rate) must not run while it is
 * withheld: it starts with the 100, so a body sent at once on the 100 is
 * read, where a clock started at the headers would have cut it (408)
 * before the 100 came. (The 100 may arrive in the same read as the 200:
 * tl_read_resp keeps what it read ahead, so it is read, never polled for.) */
START_TEST(test_continue_withheld_clock) {
  tl_proc p;
  start(&p, "--mode", "pool", "--threads", "2", "--body-min-rate", "1000",
        "--idle-timeout-ms", "30000", NULL);
  int fd = tl_connect(p.port);
  /* Withheld 3 s, longer than the rate's 2 s window: a clock started at
   * the headers would cut the request before its 100 Continue. */
  tl_send_str(fd, "GET /io?ms=3000 HTTP/1.1\r\nHost: t\r\n\r\n"
                  "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3000\r\n"
                  "Expect: 100-continue\r\n\r\n");
  tl_resp r;
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  tl_resp_free(&r);
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_msg(r.status == 100,
                "after the response ahead, while the client "
                "waited for 100 Continue: %d %s",
                r.status, r.body);
  tl_resp_free(&r);
  char body[3000];
  memset(body, 'c', sizeof(body));
  tl_send_all(fd, body, sizeof(body));
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_msg(r.status == 200,
                "body sent at once on a 100 Continue withheld "
                "3 s answered %d: %s",
                r.status, r.body);
  ck_assert_uint_eq(r.body_len, sizeof(body));
  tl_resp_free(&r);
  tl_close(fd);
  stop_ok(&p);
}
END_TEST

START_TEST(test_cancel_on_client_gone) {
  bool reset = _i % 2 == 1, hybrid = _i / 2 == 1;
  const char *how = reset ? "reset" : "EOF";
  tl_proc p;
  start(&p, "--mode", hybrid ? "hybrid" : "pool", "--threads", "1",
        "--sample-ms", "100", NULL);
  double cpu0 = tl_proc_cpu_s(p.pid);
  int gone = send_then_leave(p.port, hybrid ? LONG_CPU_TASK : LONG_TASK, reset);
  int fd = tl_connect(p.port);
  double t0 = tl_now_s();
  if (hybrid) {
    tl_send_str(fd, "GET /cpu?ms=1 HTTP/1.1\r\nHost: t\r\n\r\n");
    tl_resp r;
    ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
    ck_assert_int_eq(r.status, 200);
    tl_resp_free(&r);
  } else {
    tl_send_str(fd, GET_PLAIN);
    expect_plaintext(fd);
  }
  double dt = tl_now_s() - t0;
  if (hybrid) {
    /* The next client waits for the CPU step in progress: 250 ms of CPU
     * time, which a crowded core stretches to seconds of wall time (4 s
     * at load 31). The server's own CPU time is what load cannot
     * stretch: up to the answer, the cancelled task burnt at most two of
     * its steps (0.5 s); not cancelled, all twelve (3 s) came first. */
    double cpu = tl_proc_cpu_s(p.pid) - cpu0;
    ck_assert_msg(cpu0 >= 0 && cpu < 1.5,
                  "hybrid/%s: the server burnt %.2f s of CPU before the next "
                  "client's answer (%.2f s later): the task of the client "
                  "that left ran on",
                  how, cpu, dt);
    ck_assert_msg(dt < 20, "hybrid/%s: the next client waited %.2f s", how, dt);
  } else {
    /* At most the IO step in progress (250 ms); not cancelled, the 2.8 s
     * of steps left, which load only stretches further. */
    ck_assert_msg(dt < 2.5,
                  "pool/%s: the next client waited %.2f s behind the task "
                  "of a client that left (3 s of steps if not cancelled)",
                  how, dt);
  }
  if (gone >= 0) {
    /* Nobody to answer: the connection just closes, with no response. */
    char buf[512];
    bool eof;
    size_t n = tl_recv_rest(gone, buf, sizeof(buf), 5000, &eof);
    ck_assert_msg(eof && n == 0,
                  "client that left got %zu bytes (eof %d): %.80s", n, eof,
                  buf);
    tl_close(gone);
  }
  tl_close(fd);
  /* A cancelled task sends nothing, so it is no answered request. */
  tj *j = tl_fresh_stats(p.admin_port);
  ck_assert_int_eq(tj_num(j, "server.requests.total", -1), 1);
  ck_assert_int_eq(tj_num(j, "server.requests.by_status.2xx", -1), 1);
  tj_release(j);
  stop_ok(&p);
}
END_TEST

/* In every mode (_i / 2: pool, hybrid, async, coro) and both ways of leaving (_i % 2: 0 EOF, 1
 * reset): a task of a client that left ends at its next step, so SIGTERM
 * right after is not held up by the 3 s the task asked for. */
static const char *const cancel_modes[] = {"pool", "hybrid", "async", "coro"};

START_TEST(test_cancel_releases_shutdown) {
  const char *mode = cancel_modes[_i / 2];
  bool reset = _i % 2 == 1;
  tl_proc p;
  start(&p, "--mode", mode, "--threads", "1", NULL);
  int gone = send_then_leave(p.port, LONG_TASK, reset);
  usleep(50000);
  double t0 = tl_now_s();
  kill(p.pid, SIGTERM);
  int st = tl_proc_wait(&p, 20000);
  double dt = tl_now_s() - t0;
  if (st == -1) {
    kill(p.pid, SIGKILL);
    waitpid(p.pid, NULL, 0);
  }
  ck_assert_msg(st == 0, "%s/%s: exit status %d", mode, reset ? "reset" : "EOF",
                st);
  ck_assert_msg(dt < 2.5,
                "%s/%s: shutdown took %.2f s: the task of a client "
                "that left was not cancelled",
                mode, reset ? "reset" : "EOF", dt);
  if (gone >= 0)
    tl_close(gone);
}
END_TEST

/* A request with Expect: 100-continue pipelined behind a slow one: the
 * interim 100 must not overtake the earlier request's final response
 * (RFC 9110 15.2: responses go in request order), and must come once that
 * response is out: the client sends no body before it. While it is held
 * back, neither the idle timeout nor --body-min-rate's clock runs (the
 * slow request takes longer than both allow a body). */
START_TEST(test_continue_after_pipelined) {
  tl_proc p;
  start(&p, "--mode", order_modes[_i], "--threads", "2", "--idle-timeout-ms",
        "1000", "--body-min-rate", "1024", NULL);
  int fd = tl_connect(p.port);
  tl_send_str(fd, "GET /io?ms=1500 HTTP/1.1\r\nHost: t\r\n\r\n"
                  "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                  "Expect: 100-continue\r\n\r\n");
  tl_resp r;
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_msg(r.status == 200, "first response is %d, not the GET's 200:\n%s",
                r.status, r.head);
  ck_assert_msg(strstr(r.body, "\"route\":\"/io\"") != NULL, "first: %s",
                r.body);
  tl_resp_free(&r);
  ck_assert_msg(tl_read_resp(fd, &r, false) == 0,
                "no 100 Continue after the response ahead went out");
  ck_assert_msg(r.status == 100, "second response is %d, not 100:\n%s%s",
                r.status, r.head, r.body);
  tl_resp_free(&r);
  tl_send_str(fd, "hello");
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_msg(r.status == 200, "third response is %d:\n%s", r.status, r.head);
  ck_assert_str_eq(r.body, "hello");
  tl_resp_free(&r);
  /* Nothing else follows (no second 100). */
  tl_send_str(fd, GET_PLAIN);
  expect_plaintext(fd);
  tl_close(fd);
  stop_ok(&p);
}
END_TEST

/* A request whose headers arrived but whose body stalls: 408 once the
 * connection was idle for --idle-timeout-ms, then a close. A body that
 * keeps coming (for twice the timeout, in gaps of a tenth of it) is not
 * cut off. */
START_TEST(test_body_timeout) {
  tl_proc p;
  /* The trickle below is slower than the default --body-min-rate: this
   * test is about the idle timeout alone. */
  start(&p, "--idle-timeout-ms", "1000", "--body-min-rate", "0", NULL);
  int fd = tl_connect(p.port);
  tl_send_str(fd,
              "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n"
              "0123456789");
  double t0 = tl_now_s();
  struct pollfd pfd = {.fd = fd, .events = POLLIN};
  ck_assert_msg(
      poll(&pfd, 1, 5000) == 1,
      "no answer 5 s after the body stalled (--idle-timeout-ms 1000)");
  tl_resp r;
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  double dt = tl_now_s() - t0;
  check_error_body(&r, 408);
  ck_assert_msg(strstr(r.body, "body") != NULL, "408 body: %s", r.body);
  char v[64];
  ck_assert(tl_resp_find_header(&r, "Connection", v, sizeof(v)));
  ck_assert_str_eq(v, "close");
  tl_resp_free(&r);
  ck_assert_msg(dt > 0.8 && dt < 5.0, "408 after %.3f s", dt);
  ck_assert(tl_wait_eof(fd, 5000));
  tl_close(fd);

  fd = tl_connect(p.port);
  tl_send_str(fd,
              "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n");
  for (int i = 0; i < 20; i++) {
    usleep(100000);
    tl_send_str(fd, "abcde");
  }
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_uint_eq(r.body_len, 100);
  tl_resp_free(&r);
  tl_close(fd);
  stop_ok(&p);
}
END_TEST

/* SIGTERM with a task that would run for 10 s: the server waits
 * --shutdown-timeout-ms for it, then abandons it and exits 0. */
START_TEST(test_shutdown_timeout_abandons) {
  tl_proc p;
  start(&p, "--mode", "pool", "--threads", "1", "--shutdown-timeout-ms", "500",
        NULL);
  int fd = tl_connect(p.port);
  tl_send_str(fd, "GET /io?ms=10000 HTTP/1.1\r\nHost: t\r\n\r\n");
  usleep(200000);
  double t0 = tl_now_s();
  kill(p.pid, SIGTERM);
  int st = tl_proc_wait(&p, 20000);
  double dt = tl_now_s() - t0;
  if (st == -1) {
    kill(p.pid, SIGKILL);
    waitpid(p.pid, NULL, 0);
  }
  ck_assert_msg(st == 0, "exit status %d", st);
  ck_assert_msg(dt >= 0.4, "exited after %.2f s: did not wait for the task",
                dt);
  ck_assert_msg(dt < 5.0, "exited after %.2f s with --shutdown-timeout-ms 500",
                dt);
  char buf[512];
  bool eof;
  size_t n = tl_recv_rest(fd, buf, sizeof(buf), 5000, &eof);
  ck_assert_msg(eof && n == 0, "abandoned task: %zu bytes: %.80s", n, buf);
  tl_close(fd);
}
END_TEST

/* Connects to ip (IPv4 or IPv6 text) and port; -errno on failure. */
static int connect_ip(const char *ip, int port) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof(ss));
  socklen_t len;
  if (strchr(ip, ':')) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *) &ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t) port);
    ck_assert_int_eq(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
    len = sizeof(*a);
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *) &ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t) port);
    ck_assert_int_eq(inet_pton(AF_INET, ip, &a->sin_addr), 1);
    len = sizeof(*a);
  }
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(fd, 0);
  if (connect(fd, (struct sockaddr *) &ss, len) != 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  struct timeval tv = {.tv_sec = 15};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

static void expect_plaintext_at(const char *ip, int port) {
  int fd = connect_ip(ip, port);
  ck_assert_msg(fd >= 0, "connect to %s port %d: %s", ip, port, strerror(-fd));
  tl_send_str(fd, GET_PLAIN);
  expect_plaintext(fd);
  tl_close(fd);
}

static void expect_healthz_at(const char *ip, int port) {
  int fd = connect_ip(ip, port);
  ck_assert_msg(fd >= 0, "connect to %s admin port %d: %s", ip, port,
                strerror(-fd));
  tl_send_str(fd, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
  tl_resp r;
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  tl_resp_free(&r);
  tl_close(fd);
}

static bool ipv6_loopback(void) {
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0)
    return false;
  struct sockaddr_in6 a = {.sin6_family = AF_INET6,
                           .sin6_addr = IN6ADDR_LOOPBACK_INIT};
  bool ok = bind(fd, (struct sockaddr *) &a, sizeof(a)) == 0;
  close(fd);
  return ok;
}

/* RFC 9112 3.2.2: a server MUST accept the absolute form. The workload
 * routes its path; the observer judges its authority in place of Host
 * (its DNS-rebinding guard): a foreign authority is refused whatever Host
 * says, its own is answered whatever Host says. */
START_TEST(test_absolute_form) {
  tl_proc p;
  start(&p, NULL);
  char req[256];
  snprintf(req, sizeof(req),
           "GET http://127.0.0.1:%d/plaintext HTTP/1.1\r\nHost: "
           "127.0.0.1:%d\r\n\r\n",
           p.port, p.port);
  int fd = tl_connect(p.port);
  tl_send_str(fd, req);
  expect_plaintext(fd);
  tl_close(fd);
  tl_resp r;
  ck_assert_int_eq(
      tl_roundtrip(p.port, "GET HTTP://localhost HTTP/1.1\r\n\r\n", &r), 0);
  ck_assert_int_eq(r.status, 200); /* the index page */
  tl_resp_free(&r);
  expect_error(p.port, "GET http:///plaintext HTTP/1.1\r\nHost: t\r\n\r\n", 400,
               true);
  expect_error(p.port, "GET http://u@127.0.0.1/plaintext HTTP/1.1\r\n\r\n", 400,
               true);

  snprintf(req, sizeof(req),
           "GET http://127.0.0.1:%d/healthz HTTP/1.1\r\nHost: evil.example\r\n"
           "Connection: close\r\n\r\n",
           p.admin_port);
  ck_assert_int_eq(tl_roundtrip(p.admin_port, req, &r), 0);
  ck_assert_msg(r.status == 200, "own authority, foreign Host: %d", r.status);
  tl_resp_free(&r);
  snprintf(
      req, sizeof(req),
      "GET http://evil.example:%d/healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
      "Connection: close\r\n\r\n",
      p.admin_port, p.admin_port);
  ck_assert_int_eq(tl_roundtrip(p.admin_port, req, &r), 0);
  ck_assert_msg(r.status == 421, "foreign authority, own Host: %d", r.status);
  tl_resp_free(&r);
  stop_ok(&p);
}
END_TEST

/* The listening sockets process pid owns on port, other than at the
 * address want (as /proc/net/tcp{,6} writes it): read from the kernel's
 * tables and the process's descriptors, so that another program that
 * happens to listen on the same port number elsewhere does not count. */
static int other_listeners(pid_t pid, int port, const char *want) {
  char path[64], line[512], link[64], tgt[64];
  int n = 0;
  for (int v6 = 0; v6 < 2; v6++) {
    snprintf(path, sizeof(path), "/proc/%d/net/tcp%s", (int) pid,
             v6 ? "6" : "");
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    while (fgets(line, sizeof(line), f)) {
      char addr[64];
      unsigned lport, st;
      unsigned long inode;
      if (sscanf(line, " %*d: %63[0-9A-F]:%x %*s %x %*s %*s %*s %*d %*d %lu",
                 addr, &lport, &st, &inode) != 4 ||
          (int) lport != port || st != 0x0A || !strcmp(addr, want))
        continue;
      snprintf(tgt, sizeof(tgt), "socket:[%lu]", inode);
      snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
      DIR *d = opendir(path);
      ck_assert_ptr_nonnull(d);
      for (struct dirent *e; (e = readdir(d));) {
        char fdp[400];
        snprintf(fdp, sizeof(fdp), "%s/%s", path, e->d_name);
        ssize_t k = readlink(fdp, link, sizeof(link) - 1);
        if (k > 0 && (link[k] = '\0', !strcmp(link, tgt)))
          n++;
      }
      closedir(d);
    }
    fclose(f);
  }
  return n;
}

/* --host: both listeners bind that address and only that one. */
START_TEST(test_host_option) {
  tl_proc p;
  /* 127.0.0.2 is loopback too, yet another address than 127.0.0.1. */
  start(&p, "--host", "127.0.0.2", NULL);
  expect_plaintext_at("127.0.0.2", p.port);
  expect_healthz_at("127.0.0.2", p.admin_port);
  ck_assert_msg(other_listeners(p.pid, p.port, "0200007F") == 0,
                "--host 127.0.0.2 also listens elsewhere on port %d", p.port);
  stop_ok(&p);

  if (ipv6_loopback()) {
    start(&p, "--host", "::1", NULL);
    expect_plaintext_at("::1", p.port);
    expect_healthz_at("::1", p.admin_port);
    /* Every URL printed with the host is a URL: IPv6 in brackets. */
    char url[64];
    snprintf(url, sizeof(url), "workload:  http://[::1]:%d/\n", p.port);
    ck_assert_msg(strstr(p.banner, url), "banner: %s", p.banner);
    snprintf(url, sizeof(url), "dashboard: http://[::1]:%d/\n", p.admin_port);
    ck_assert_msg(strstr(p.banner, url), "banner: %s", p.banner);
    int fd = connect_ip("::1", p.port);
    ck_assert_int_ge(fd, 0);
    tl_send_str(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    tl_resp idx;
    ck_assert_int_eq(tl_read_resp(fd, &idx, false), 0);
    snprintf(url, sizeof(url), "\"http://[::1]:%d/\"", p.admin_port);
    ck_assert_msg(strstr(idx.body, url), "index page: %s", idx.body);
    tl_resp_free(&idx);
    tl_close(fd);
    ck_assert_msg(
        other_listeners(p.pid, p.port, "00000000000000000000000001000000") == 0,
        "--host ::1 also listens elsewhere on port %d", p.port);
    stop_ok(&p);
  } else {
    fprintf(stderr, "host_option: no IPv6 loopback here; ::1 not tested\n");
  }

  /* Not an address: refused at start, saying why. */
  char err[4096];
  const char *bad[] = {
      "--host", "not-an-address", "--port", "0", "--admin-port", "0", NULL};
  int st = run_to_exit(bad, err, sizeof(err));
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d: %s", st,
                err);
  ck_assert_msg(strstr(err, "--host") != NULL, "stderr: %s", err);
}
END_TEST

/* A free loopback port (bound and released: a race nobody else runs). */
static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  ck_assert_int_eq(bind(fd, (struct sockaddr *) &a, sizeof(a)), 0);
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *) &a, &len), 0);
  close(fd);
  return ntohs(a.sin_port);
}

/* --quiet: no banner at all (so the ports are given, and the test polls
 * for the listener instead of reading the banner). */
START_TEST(test_quiet) {
  char port[16], admin[16];
  snprintf(port, sizeof(port), "%d", free_port());
  snprintf(admin, sizeof(admin), "%d", free_port());
  int out[2];
  ck_assert_int_eq(pipe(out), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    close(out[1]);
    execl(tl_bin(), tl_bin(), "--quiet", "--port", port, "--admin-port", admin,
          (char *) NULL);
    _exit(127);
  }
  close(out[1]);
  tl_proc p = {.pid = pid,
               .port = atoi(port),
               .admin_port = atoi(admin),
               .out_fd = dup(out[0])};
  int fd = -1;
  double t0 = tl_now_s();
  while (tl_now_s() - t0 < 20) {
    fd = connect_ip("127.0.0.1", p.port);
    if (fd >= 0)
      break;
    ck_assert_msg(waitpid(pid, NULL, WNOHANG) == 0, "threadlab --quiet exited");
    usleep(20000);
  }
  ck_assert_msg(fd >= 0, "threadlab --quiet never listened on %s", port);
  tl_send_str(fd, GET_PLAIN);
  expect_plaintext(fd);
  tl_close(fd);
  expect_healthz_at("127.0.0.1", p.admin_port);
  stop_ok(&p);
  char buf[256];
  ssize_t n = read(out[0], buf, sizeof(buf) - 1);
  close(out[0]);
  ck_assert_msg(n == 0, "--quiet wrote %zd bytes to stdout: %.*s", n,
                n > 0 ? (int) n : 0, buf);
}
END_TEST

/* --www: the dashboard's files come from that directory; the workload's
 * /static/ docroot is another setting and does not follow. */
START_TEST(test_www_option) {
  char base[] = "/tmp/tl-www-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(base));
  char path[512];
  snprintf(path, sizeof(path), "%s/index.html", base);
  write_file(path, "<p>www-option-marker</p>\n");
  snprintf(path, sizeof(path), "%s/extra.css", base);
  write_file(path, "p{color:red}\n");
  tl_proc p;
  start(&p, "--www", base, NULL);
  tl_resp r;
  ck_assert_int_eq(tl_get(p.admin_port, "/", &r), 200);
  ck_assert_str_eq(r.body, "<p>www-option-marker</p>\n");
  tl_resp_free(&r);
  ck_assert_int_eq(tl_get(p.admin_port, "/extra.css", &r), 200);
  ck_assert_str_eq(r.body, "p{color:red}\n");
  tl_resp_free(&r);
  ck_assert_int_eq(tl_get(p.port, "/static/index.html", &r), 200);
  ck_assert_msg(strstr(r.body, "www-option-marker") == NULL,
                "--www changed the workload docroot");
  tl_resp_free(&r);
  ck_assert_int_eq(get_status(p.port, "/static/extra.css"), 404);
  stop_ok(&p);
  unlink(path);
  snprintf(path, sizeof(path), "%s/index.html", base);
  unlink(path);
  rmdir(base);
}
END_TEST

static Suite *http_suite(void) {
  Suite *s = suite_create("http");
  struct {
    const char *name;
    const TTest *fn;
    int loop; /* 1: run once per mode; n > 1: _i = 0..n-1 */
  } t[] = {
      {"keepalive", test_keepalive, 0},
      {"pipeline16", test_pipeline16, 0},
      {"pipeline_order", test_pipeline_order, 1},
      {"plaintext_date_moves", test_plaintext_date_moves, 0},
      {"request_clock_after_inline_cpu", test_request_clock_after_inline_cpu,
       0},
      {"echo_bodies", test_echo_bodies, 0},
      {"expect_continue", test_expect_continue, 0},
      {"head", test_head, 0},
      {"http10", test_http10, 0},
      {"errors_400", test_errors_400, 0},
      {"errors_404_405", test_errors_404_405, 0},
      {"header_timeout", test_header_timeout, 0},
      {"slowloris", test_slowloris, 0},
      {"body_min_rate", test_body_min_rate, 0},
      {"body_min_rate_window", test_body_min_rate_window, 0},
      {"body_min_rate_paused", test_body_min_rate_paused, 0},
      {"continue_withheld_clock", test_continue_withheld_clock, 0},
      {"body_limits", test_body_limits, 0},
      {"header_limits", test_header_limits, 0},
      {"queue_full_503", test_queue_full_503, 0},
      {"max_conns", test_max_conns, 0},
      {"idle_timeout", test_idle_timeout, 0},
      {"static_docroot", test_static_docroot, 0},
      {"static_symlinks", test_static_symlinks, 0},
      {"reset_peers", test_reset_peers, 1},
      {"nonreading_peers", test_nonreading_peers, 1},
      {"graceful_inflight", test_graceful_inflight, 1},
      {"odd_requests", test_odd_requests, 0},
      {"start_failures", test_start_failures, 0},
      {"slow_reader_stream_exact", test_slow_reader_stream_exact, 1},
      {"cancel_on_client_gone", test_cancel_on_client_gone, 4},
      {"cancel_releases_shutdown", test_cancel_releases_shutdown, 8},
      {"continue_after_pipelined", test_continue_after_pipelined, 1},
      {"body_timeout", test_body_timeout, 0},
      {"shutdown_timeout_abandons", test_shutdown_timeout_abandons, 0},
      {"host_option", test_host_option, 0},
      {"absolute_form", test_absolute_form, 0},
      {"quiet", test_quiet, 0},
      {"www_option", test_www_option, 0},
  };
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    TCase *tc = tcase_create(t[i].name);
    tcase_set_timeout(tc, 120);
    if (t[i].loop)
      tcase_add_loop_test(tc, t[i].fn, 0, t[i].loop == 1 ? 3 : t[i].loop);
    else
      tcase_add_test(tc, t[i].fn);
    suite_add_tcase(s, tc);
  }
  return s;
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  return tl_check_run(http_suite());
}
