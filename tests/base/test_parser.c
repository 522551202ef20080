/* Unit tests: The llhttp glue: split and pipelined input, pausing, chunked bodies,
 * limits and errors, Expect and versions, kept headers. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl_check.h"
#include "base/parser.h"

/* ---- llhttp glue ----------------------------------------------------- */

typedef struct {
  tl_request reqs[40];
  int begun, done, headers;
  int pause_after; /* pause when done reaches this (0 = never) */
} collector;

static tl_request *c_begin(void *ctx) {
  collector *c = ctx;
  ck_assert_int_lt(c->begun, 40);
  tl_request_init(&c->reqs[c->begun]);
  return &c->reqs[c->begun++];
}

static void c_headers(void *ctx, tl_request *r) {
  (void) r;
  ((collector *) ctx)->headers++;
}

static int c_complete(void *ctx, tl_request *r) {
  collector *c = ctx;
  ck_assert_ptr_eq(r, &c->reqs[c->done]);
  c->done++;
  return c->pause_after && c->done == c->pause_after;
}

static const tl_http_callbacks cbs = {c_begin, c_headers, c_complete};

static void c_free(collector *c) {
  for (int i = 0; i < c->begun; i++)
    tl_request_close(&c->reqs[i]);
}

static int feed_all(tl_http_parser *p, const char *s, size_t len) {
  size_t used;
  return tl_http_parser_feed(p, s, len, &used);
}

START_TEST(http_split_byte_by_byte) {
  const char req[] =
      "POST /echo?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello";
  collector c = {0};
  tl_http_parser p;
  tl_http_parser_init(&p, &cbs, &c, 8192, 1024);
  for (size_t i = 0; i < sizeof(req) - 1; i++)
    ck_assert_int_eq(feed_all(&p, req + i, 1), TL_HTTP_OK);
  ck_assert_int_eq(c.done, 1);
  ck_assert_int_eq(c.reqs[0].method, HTTP_POST);
  ck_assert_uint_eq(c.reqs[0].target.len, 9);
  ck_assert(memcmp(c.reqs[0].target.data, "/echo?x=1", 9) == 0);
  ck_assert_uint_eq(c.reqs[0].body.len, 5);
  ck_assert(memcmp(c.reqs[0].body.data, "hello", 5) == 0);
  ck_assert(c.reqs[0].keep_alive);
  c_free(&c);
}
END_TEST

START_TEST(http_pipelined_in_order) {
  char buf[4096] = "";
  for (int i = 0; i < 16; i++) {
    char one[64];
    snprintf(one, sizeof(one), "GET /r%d HTTP/1.1\r\nHost: a\r\n\r\n", i);
    strcat(buf, one);
  }
  collector c = {0};
  tl_http_parser p;
  tl_http_parser_init(&p, &cbs, &c, 8192, 1024);
  ck_assert_int_eq(feed_all(&p, buf, strlen(buf)), TL_HTTP_OK);
  ck_assert_int_eq(c.done, 16);
  for (int i = 0; i < 16; i++) {
    char want[16];
    int n = snprintf(want, sizeof(want), "/r%d", i);
    ck_assert_uint_eq(c.reqs[i].target.len, (size_t) n);
    ck_assert(memcmp(c.reqs[i].target.data, want, (size_t) n) == 0);
  }
  c_free(&c);
}
END_TEST

START_TEST(http_pause_and_resume) {
  const char buf[] =
      "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n";
  collector c = {.pause_after = 1};
  tl_http_parser p;
  tl_http_parser_init(&p, &cbs, &c, 8192, 1024);
  size_t used = 0;
  ck_assert_int_eq(tl_http_parser_feed(&p, buf, sizeof(buf) - 1, &used),
                   TL_HTTP_PAUSED);
  ck_assert_int_eq(c.done, 1);
  ck_assert_uint_eq(used, strlen("GET /a HTTP/1.1\r\n\r\n"));
  tl_http_parser_resume(&p);
  size_t used2 = 0;
  ck_assert_int_eq(
      tl_http_parser_feed(&p, buf + used, sizeof(buf) - 1 - used, &used2),
      TL_HTTP_OK);
  ck_assert_int_eq(c.done, 3);
  c_free(&c);
}
END_TEST

START_TEST(http_chunked_body) {
  const char req[] = "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n";
  collector c = {0};
  tl_http_parser p;
  tl_http_parser_init(&p, &cbs, &c, 8192, 1024);
  /* Split in the middle of a chunk size line and of a chunk. */
  ck_assert_int_eq(feed_all(&p, req, 55), TL_HTTP_OK);
  ck_assert_int_eq(feed_all(&p, req + 55, sizeof(req) - 1 - 55), TL_HTTP_OK);
  ck_assert_int_eq(c.done, 1);
  ck_assert_uint_eq(c.reqs[0].body.len, 7);
  ck_assert(memcmp(c.reqs[0].body.data, "abcdefg", 7) == 0);
  c_free(&c);
}
END_TEST

static int expect_error(const char *req, size_t max_header, size_t max_body) {
  collector c = {0};
  tl_http_parser p;
  tl_http_parser_init(&p, &cbs, &c, max_header, max_body);
  int rc = feed_all(&p, req, strlen(req));
  c_free(&c);
  ck_assert_int_eq(rc, TL_HTTP_ERROR);
  ck_assert_ptr_nonnull(p.error_text);
  return p.error_status;
}

START_TEST(http_limits_and_errors) {
  char big[4096];
  snprintf(big, sizeof(big), "GET /%0600d HTTP/1.1\r\n\r\n", 0);
  ck_assert_int_eq(expect_error(big, 512, 1024), 414);
  char hdrs[4096] = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 40; i++)
    strcat(hdrs, "X-Filler: 0123456789012345678901234567890\r\n");
  strcat(hdrs, "\r\n");
  ck_assert_int_eq(expect_error(hdrs, 1024, 1024), 431);
  /* 413 comes from the headers alone: no body byte is needed. */
  ck_assert_int_eq(
      expect_error("POST /echo HTTP/1.1\r\nContent-Length: 2000\r\n\r\n", 8192,
                   100),
      413);
  char chunked[512] =
      "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n80\r\n";
  memset(chunked + strlen(chunked), 'x', 128);
  ck_assert_int_eq(expect_error(chunked, 8192, 100), 413);
  ck_assert_int_eq(expect_error("POST /echo HTTP/1.1\r\nContent-Length: 3\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n",
                                8192, 100),
                   400);
  ck_assert_int_eq(expect_error("POST /echo HTTP/1.1\r\nContent-Length: 3\r\n"
                                "Content-Length: 4\r\n\r\nabc",
                                8192, 100),
                   400);
  ck_assert_int_eq(
      expect_error("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "zz\r\n",
                   8192, 100),
      400);
  ck_assert_int_eq(expect_error("FOO BAR BAZ\r\n\r\n", 8192, 100), 400);
  ck_assert_int_eq(expect_error("GET / HTTP/2.0\r\n\r\n", 8192, 100), 505);
}
END_TEST

START_TEST(http_expect_continue_and_version) {
  const char req[] = "POST /echo HTTP/1.0\r\nExpect: "
                     "100-continue\r\nContent-Length: 1\r\n\r\nx";
  collector c = {0};
  tl_http_parser p;
  tl_http_parser_init(&p, &cbs, &c, 8192, 1024);
  ck_assert_int_eq(feed_all(&p, req, sizeof(req) - 1), TL_HTTP_OK);
  ck_assert_int_eq(c.done, 1);
  ck_assert(c.reqs[0].expect_continue);
  ck_assert_int_eq(c.reqs[0].http_minor, 0);
  ck_assert(!c.reqs[0].keep_alive); /* HTTP/1.0 without keep-alive */
  c_free(&c);
}
END_TEST

/* Kept headers: only when the owner asks, split anywhere, trimmed, and
 * unusable when too long or sent twice. */
typedef struct {
  collector c;
  tl_req_headers h[4];
} keeper;

static tl_request *k_begin(void *ctx) {
  keeper *k = ctx;
  tl_request *r = c_begin(&k->c);
  r->headers = &k->h[k->c.begun - 1];
  return r;
}

static int k_complete(void *ctx, tl_request *r) {
  return c_complete(&((keeper *) ctx)->c, r);
}

static const tl_http_callbacks kcbs = {k_begin, NULL, k_complete};

START_TEST(http_kept_headers) {
  char big[200];
  memset(big, 'a', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  char req[1024];
  snprintf(req, sizeof(req),
           "POST /control HTTP/1.1\r\nhOsT:  127.0.0.1:8081 \t\r\n"
           "X-Threadlab: 1\r\nContent-Type: application/json; charset=utf-8\r\n"
           "Expect: 100-continue\r\nContent-Length: 0\r\n\r\n"
           "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nOrigin: http://%s\r\n\r\n"
           "GET / HTTP/1.0\r\nX-Threadlab:\r\n\r\n",
           big);
  keeper k = {0};
  tl_http_parser p;
  tl_http_parser_init(&p, &kcbs, &k, 8192, 1024);
  for (size_t i = 0; i < strlen(req); i++)
    ck_assert_int_eq(feed_all(&p, req + i, 1), TL_HTTP_OK);
  ck_assert_int_eq(k.c.done, 3);
  const char *v;
  ck_assert_int_eq(tl_request_header(&k.c.reqs[0], TL_HDR_HOST, &v), 14);
  ck_assert_str_eq(v, "127.0.0.1:8081");
  ck_assert_int_eq(tl_request_header(&k.c.reqs[0], TL_HDR_X_THREADLAB, &v), 1);
  ck_assert_str_eq(v, "1");
  ck_assert_int_eq(tl_request_header(&k.c.reqs[0], TL_HDR_CONTENT_TYPE, &v),
                   31);
  ck_assert_str_eq(v, "application/json; charset=utf-8");
  ck_assert_int_eq(tl_request_header(&k.c.reqs[0], TL_HDR_ORIGIN, &v),
                   TL_HDR_ABSENT);
  ck_assert_ptr_null(v);
  ck_assert(k.c.reqs[0].expect_continue);
  ck_assert_int_eq(tl_request_header(&k.c.reqs[1], TL_HDR_HOST, &v),
                   TL_HDR_UNUSABLE);
  ck_assert_int_eq(tl_request_header(&k.c.reqs[1], TL_HDR_ORIGIN, &v),
                   TL_HDR_UNUSABLE);
  ck_assert_int_eq(tl_request_header(&k.c.reqs[1], TL_HDR_X_THREADLAB, &v),
                   TL_HDR_ABSENT);
  ck_assert_int_eq(tl_request_header(&k.c.reqs[2], TL_HDR_HOST, &v),
                   TL_HDR_ABSENT);
  ck_assert_int_eq(tl_request_header(&k.c.reqs[2], TL_HDR_X_THREADLAB, &v), 0);
  ck_assert_str_eq(v, "");
  c_free(&k.c);

  /* An owner that keeps nothing sees nothing, Expect still works. */
  collector c = {0};
  tl_http_parser_init(&p, &cbs, &c, 8192, 1024);
  const char plain[] =
      "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
      "Content-Length: 0\r\n\r\n";
  ck_assert_int_eq(feed_all(&p, plain, sizeof(plain) - 1), TL_HTTP_OK);
  ck_assert_int_eq(tl_request_header(&c.reqs[0], TL_HDR_HOST, &v),
                   TL_HDR_ABSENT);
  ck_assert(c.reqs[0].expect_continue);
  c_free(&c);
}
END_TEST

static bool target_is(const tl_request *r, const char *want) {
  return r->target.len == strlen(want) &&
         memcmp(r->target.data, want, r->target.len) == 0;
}

/* RFC 9112 3.2.2: the absolute form is accepted; its authority stands for
 * Host (a Host field sent beside it is ignored) and routing sees the
 * origin form. An http URI without a host, or with userinfo, is refused
 * (RFC 9110 4.2.1, 4.2.4). */
START_TEST(http_absolute_form) {
  const char req[] = "GET http://127.0.0.1:8081/stats?x=1 HTTP/1.1\r\nHost: "
                     "evil.example\r\n\r\n"
                     "GET HTTP://[::1]:80 HTTP/1.1\r\n\r\n"
                     "GET https://h?q HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
                     "GET /plain/http://x HTTP/1.1\r\nHost: a\r\n\r\n";
  keeper k = {0};
  tl_http_parser p;
  tl_http_parser_init(&p, &kcbs, &k, 8192, 1024);
  for (size_t i = 0; i < strlen(req); i++)
    ck_assert_int_eq(feed_all(&p, req + i, 1), TL_HTTP_OK);
  ck_assert_int_eq(k.c.done, 4);
  const char *v;
  ck_assert(target_is(&k.c.reqs[0], "/stats?x=1"));
  ck_assert_int_eq(tl_request_header(&k.c.reqs[0], TL_HDR_HOST, &v), 14);
  ck_assert_str_eq(v, "127.0.0.1:8081");
  ck_assert(target_is(&k.c.reqs[1], "/"));
  ck_assert_int_eq(tl_request_header(&k.c.reqs[1], TL_HDR_HOST, &v), 8);
  ck_assert_str_eq(v, "[::1]:80");
  ck_assert(target_is(&k.c.reqs[2], "/?q"));
  ck_assert_int_eq(tl_request_header(&k.c.reqs[2], TL_HDR_HOST, &v), 1);
  ck_assert_str_eq(v, "h");
  ck_assert(target_is(&k.c.reqs[3], "/plain/http://x"));
  ck_assert_int_eq(tl_request_header(&k.c.reqs[3], TL_HDR_HOST, &v), 1);
  c_free(&k.c);

  /* An owner that keeps no headers still gets the origin form. */
  collector c = {0};
  tl_http_parser_init(&p, &cbs, &c, 8192, 1024);
  const char plain[] = "GET http://127.0.0.1:8080/plaintext HTTP/1.1\r\n\r\n";
  ck_assert_int_eq(feed_all(&p, plain, sizeof(plain) - 1), TL_HTTP_OK);
  ck_assert(target_is(&c.reqs[0], "/plaintext"));
  c_free(&c);

  const char *bad[] = {"GET http:///plaintext HTTP/1.1\r\n\r\n",
                       "GET http://user@127.0.0.1/plaintext HTTP/1.1\r\n\r\n"};
  for (size_t i = 0; i < 2; i++) {
    collector e = {0};
    tl_http_parser_init(&p, &cbs, &e, 8192, 1024);
    ck_assert_int_eq(feed_all(&p, bad[i], strlen(bad[i])), TL_HTTP_ERROR);
    ck_assert_int_eq(p.error_status, 400);
    c_free(&e);
  }
}
END_TEST

/* The authority of an absolute form is kept as Host up to the same
 * length as a Host field (TL_HDR_VALUE_MAX); one byte more is unusable,
 * which the observer's guard refuses. */
START_TEST(http_absolute_form_longest_authority) {
  char name[TL_HDR_VALUE_MAX + 2];
  for (int longer = 0; longer < 2; longer++) {
    size_t n = TL_HDR_VALUE_MAX + (size_t) longer;
    memset(name, 'a', n);
    name[n] = '\0';
    char req[256];
    snprintf(req, sizeof(req), "GET http://%s/x HTTP/1.1\r\n\r\n", name);
    keeper k = {0};
    tl_http_parser p;
    tl_http_parser_init(&p, &kcbs, &k, 8192, 1024);
    ck_assert_int_eq(feed_all(&p, req, strlen(req)), TL_HTTP_OK);
    ck_assert_int_eq(k.c.done, 1);
    ck_assert(target_is(&k.c.reqs[0], "/x"));
    const char *v = NULL;
    int len = tl_request_header(&k.c.reqs[0], TL_HDR_HOST, &v);
    if (longer) {
      ck_assert_int_eq(len, TL_HDR_UNUSABLE);
    } else {
      ck_assert_int_eq(len, TL_HDR_VALUE_MAX);
      ck_assert_str_eq(v, name);
    }
    c_free(&k.c);
  }
}
END_TEST

TL_CHECK_MAIN("parser", http_split_byte_by_byte, http_pipelined_in_order,
              http_pause_and_resume, http_chunked_body, http_limits_and_errors,
              http_expect_continue_and_version, http_kept_headers,
              http_absolute_form, http_absolute_form_longest_authority)
