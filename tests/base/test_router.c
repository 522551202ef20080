/* Unit tests: Routing: paths and methods to routes, 404 and 405 with Allow. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tl_check.h"
#include <llhttp.h>

#include "base/router.h"

START_TEST(router_routes) {
  int st;
  const char *allow;
  ck_assert_int_eq(tl_route_match("/plaintext", 10, HTTP_GET, &st, &allow),
                   TL_ROUTE_PLAINTEXT);
  ck_assert_int_eq(st, 0);
  ck_assert_int_eq(tl_route_match("/plaintext", 10, HTTP_HEAD, &st, &allow),
                   TL_ROUTE_PLAINTEXT);
  ck_assert_int_eq(st, 0);
  tl_route_match("/plaintext", 10, HTTP_POST, &st, &allow);
  ck_assert_int_eq(st, 405);
  ck_assert_str_eq(allow, "GET, HEAD");
  tl_route_match("/echo", 5, HTTP_GET, &st, &allow);
  ck_assert_int_eq(st, 405);
  ck_assert_str_eq(allow, "POST");
  ck_assert_int_eq(tl_route_match("/static/a/b.css", 15, HTTP_GET, &st, &allow),
                   TL_ROUTE_STATIC);
  ck_assert_int_eq(tl_route_match("/", 1, HTTP_GET, &st, &allow),
                   TL_ROUTE_INDEX);
  tl_route_match("/plaintextX", 11, HTTP_GET, &st, &allow);
  ck_assert_int_eq(st, 404);
  tl_route_match("/static", 7, HTTP_GET, &st, &allow);
  ck_assert_int_eq(st, 404);
  ck_assert_str_eq(tl_route_name(TL_ROUTE_CPU), "/cpu");
}
END_TEST

TL_CHECK_MAIN("router", router_routes)
