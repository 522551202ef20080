/* The tests' JSON reader is strict (jansson): what the old hand-written
 * parser let through (\u escapes read as '?', raw bytes >= 0x80 unchecked)
 * is decoded exactly or rejected, so a server bug cannot hide behind it. */
#include "config.h"

#include <check.h>
#include <string.h>

#include "tl_check.h"
#include "tl_json.h"

static bool parses(const char *text) {
  tj *j = tj_parse(text, strlen(text));
  tj_release(j);
  return j != NULL;
}

START_TEST(tl_json_reads_paths) {
  const char *t = "{\"server\":{\"mode\":\"pool\",\"n\":3},\"threads\":[{"
                  "\"tid\":7},{\"tid\":8,\"x\":null}],"
                  "\"b\":true,\"f\":-1.5e3}";
  tj *j = tj_parse(t, strlen(t));
  ck_assert_ptr_nonnull(j);
  ck_assert_str_eq(tj_str(j, "server.mode"), "pool");
  ck_assert(tj_num(j, "server.n", 0) == 3);
  ck_assert(tj_num(j, "threads.1.tid", 0) == 8);
  ck_assert(tj_is_null(j, "threads.1.x"));
  ck_assert(tj_num(j, "f", 0) == -1500);
  ck_assert(tj_get(j, "b")->type == TJ_BOOL && tj_get(j, "b")->b);
  ck_assert_ptr_null(tj_get(j, "threads.2"));
  tj_release(j);
}
END_TEST

START_TEST(tl_json_decodes_escapes_exactly) {
  const char *t = "[\"a\\u00e9\\u20ac\\ud83d\\ude00\\n\\u001b\\\"\\\\\"]";
  tj *j = tj_parse(t, strlen(t));
  ck_assert_ptr_nonnull(j);
  ck_assert_str_eq(tj_str(j, "0"),
                   "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n\x1b\"\\");
  tj_release(j);
}
END_TEST

START_TEST(tl_json_rejects_what_is_not_json) {
  ck_assert(parses("{\"a\":1}"));
  ck_assert(!parses("{\"a\":1} x"));        /* trailing garbage */
  ck_assert(!parses("{\"a\":1}{}"));        /* two values */
  ck_assert(!parses("[\"\xff\"]"));         /* ill-formed UTF-8 */
  ck_assert(!parses("[\"\xed\xa0\x80\"]")); /* an encoded surrogate */
  ck_assert(!parses("[\"\xc0\xaf\"]"));     /* overlong */
  ck_assert(!parses("[\"a\tb\"]"));         /* a bare control character */
  ck_assert(!parses("[\"a\nb\"]"));
  ck_assert(!parses("[\"\\u0000\"]"));     /* NUL would cut the C string */
  ck_assert(!parses("[\"\\ud800\"]"));     /* a lone surrogate escape */
  ck_assert(!parses("{\"a\":1,\"a\":2}")); /* a member named twice */
  ck_assert(!parses("[1,]"));
  ck_assert(!parses("[01]"));
  ck_assert(!parses("{'a':1}"));
}
END_TEST

TL_CHECK_MAIN("tl_json", tl_json_reads_paths, tl_json_decodes_escapes_exactly,
              tl_json_rejects_what_is_not_json)
