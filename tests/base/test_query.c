/* Unit tests: Query-string parsing and its bounds. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tl_check.h"
#include "base/query.h"

START_TEST(query_parsing) {
  char v[32];
  const char *q = "a=1&ms=250&b=%41%42&empty=&flag";
  ck_assert_int_eq(tl_query_get(q, strlen(q), "ms", v, sizeof(v)), 3);
  ck_assert_str_eq(v, "250");
  ck_assert_int_eq(tl_query_get(q, strlen(q), "b", v, sizeof(v)), 2);
  ck_assert_str_eq(v, "AB");
  ck_assert_int_eq(tl_query_get(q, strlen(q), "empty", v, sizeof(v)), 0);
  ck_assert_int_eq(tl_query_get(q, strlen(q), "flag", v, sizeof(v)), 0);
  ck_assert_int_eq(tl_query_get(q, strlen(q), "m", v, sizeof(v)), -1);
  ck_assert_int_eq(tl_query_get("x=%zz", 5, "x", v, sizeof(v)), -2);
  ck_assert_int_eq(tl_query_get("x=%00", 5, "x", v, sizeof(v)), -2);
  ck_assert_int_eq(tl_query_get("x=%4", 4, "x", v, sizeof(v)), -2);
  ck_assert_int_eq(tl_query_get("x=0123456789", 12, "x", v, 5), -2);
  unsigned long n;
  ck_assert_int_eq(tl_parse_uint("10000", 5, 0, 10000, &n), 0);
  ck_assert_uint_eq(n, 10000);
  ck_assert_int_eq(tl_parse_uint("10001", 5, 0, 10000, &n), -1);
  ck_assert_int_eq(tl_parse_uint("-1", 2, 0, 10000, &n), -1);
  ck_assert_int_eq(tl_parse_uint("", 0, 0, 10000, &n), -1);
  ck_assert_int_eq(tl_parse_uint("1e3", 3, 0, 10000, &n), -1);
  ck_assert_int_eq(tl_parse_uint("99999999999999999999", 20, 0, 10000, &n), -1);
  char d[16];
  ck_assert_int_eq(tl_percent_decode("%2e%2e%2fx", 10, d, sizeof(d)), 4);
  ck_assert_str_eq(d, "../x");
  size_t pl, ql;
  const char *qq;
  tl_split_target("/io?ms=5", 8, &pl, &qq, &ql);
  ck_assert_uint_eq(pl, 3);
  ck_assert_uint_eq(ql, 4);
}
END_TEST

/* An escape cut by the length is refused, whatever bytes follow it in
 * memory: only len bytes are the input. */
START_TEST(query_escape_cut_by_the_length) {
  char d[16];
  ck_assert_int_eq(tl_percent_decode("%41", 2, d, sizeof(d)), -1);
  ck_assert_int_eq(tl_percent_decode("a%4142", 3, d, sizeof(d)), -1);
  ck_assert_int_eq(tl_percent_decode("a%41", 4, d, sizeof(d)), 2);
  ck_assert_str_eq(d, "aA");
  char v[16];
  ck_assert_int_eq(tl_query_get("x=%4A", 4, "x", v, sizeof(v)), -2);
}
END_TEST

TL_CHECK_MAIN("query", query_parsing, query_escape_cut_by_the_length)
