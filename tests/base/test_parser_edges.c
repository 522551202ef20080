/* The parser's Expect at its edges (mutaudit2): the 100-continue
 * expectation is matched without regard to case (RFC 9110 10.1.1), and
 * only as the whole value: a longer token is another expectation. */
#include "config.h"

#include <check.h>
#include <string.h>

#include "tl_check.h"
#include "base/parser.h"

typedef struct {
  tl_request reqs[4];
  int begun, done;
} collector;

static tl_request *c_begin(void *ctx) {
  collector *c = ctx;
  ck_assert_int_lt(c->begun, 4);
  tl_request_init(&c->reqs[c->begun]);
  return &c->reqs[c->begun++];
}

static int c_complete(void *ctx, tl_request *r) {
  (void) r;
  ((collector *) ctx)->done++;
  return 0;
}

static const tl_http_callbacks cbs = {c_begin, NULL, c_complete};

/* Whether a POST with this Expect value asks for 100 Continue. */
static bool expects_continue(const char *value) {
  char req[256];
  snprintf(req, sizeof req,
           "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: %s\r\n"
           "Content-Length: 1\r\n\r\nx",
           value);
  collector c = {0};
  tl_http_parser p;
  tl_http_parser_init(&p, &cbs, &c, 8192, 1024);
  size_t used;
  ck_assert_int_eq(tl_http_parser_feed(&p, req, strlen(req), &used),
                   TL_HTTP_OK);
  ck_assert_int_eq(c.done, 1);
  bool e = c.reqs[0].expect_continue;
  for (int i = 0; i < c.begun; i++)
    tl_request_close(&c.reqs[i]);
  return e;
}

START_TEST(expect_continue_any_case_whole_value) {
  ck_assert(expects_continue("100-continue"));
  ck_assert(expects_continue("100-Continue"));
  ck_assert(expects_continue("100-CONTINUE"));
  ck_assert(!expects_continue("100-continued"));
  ck_assert(!expects_continue("100-continue-later"));
  ck_assert(!expects_continue("100"));
}
END_TEST

TL_CHECK_MAIN("parser_edges", expect_continue_any_case_whole_value)
