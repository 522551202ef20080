/* Unit tests: the one JSON string writer (tl_buf_put_json_str) and the
 * Prometheus label-value escaper. Raw bytes from outside (thread names are
 * whatever was written to /proc/.../comm) must always come out as valid
 * JSON: every output is parsed by jansson in strict mode and compared with
 * the string it should decode to. */
#include "config.h"

#include <check.h>
#include <jansson.h>
#include <string.h>

#include "tl_check.h"
#include "base/buf.h"

#define FFFD "\xef\xbf\xbd"

/* The literal the writer made for the n bytes of in. */
static char *literal(const char *in, size_t n) {
  tl_buf b;
  tl_buf_init(&b, NULL, 0);
  tl_buf_put_json_str(&b, in, n);
  char *out = strndup(b.data, b.len);
  tl_buf_close(&b);
  return out;
}

/* Writes n bytes of in, checks the literal is exactly want_lit (when not
 * NULL) and that jansson, strictly, decodes it to want (want_n bytes). */
static void check_str(const char *in, size_t n, const char *want_lit,
                      const char *want, size_t want_n) {
  char *lit = literal(in, n);
  if (want_lit)
    ck_assert_str_eq(lit, want_lit);
  json_error_t err;
  json_t *v = json_loads(lit, JSON_DECODE_ANY, &err);
  ck_assert_msg(v != NULL, "jansson rejected %s: %s", lit, err.text);
  ck_assert(json_is_string(v));
  ck_assert_uint_eq(json_string_length(v), want_n);
  ck_assert_mem_eq(json_string_value(v), want, want_n);
  json_decref(v);
  free(lit);
}

#define CHECK(in, lit, want)                                                   \
  check_str(in, sizeof(in) - 1, lit, want, sizeof(want) - 1)

START_TEST(json_str_plain_and_quotes) {
  CHECK("tl-worker-3", "\"tl-worker-3\"", "tl-worker-3");
  CHECK("a\"b\\c/d", "\"a\\\"b\\\\c/d\"", "a\"b\\c/d");
  CHECK("", "\"\"", "");
}
END_TEST

START_TEST(json_str_control_characters) {
  CHECK("a\nb\tc\rd\be\ff", "\"a\\nb\\tc\\rd\\be\\ff\"", "a\nb\tc\rd\be\ff");
  CHECK("\x01\x1f\x1b[31m", "\"\\u0001\\u001f\\u001b[31m\"",
        "\x01\x1f\x1b[31m");
  CHECK("del\x7f", "\"del\\u007f\"", "del\x7f");
  /* C1 controls are valid UTF-8 but control characters: escaped */
  CHECK("c1\xc2\x85\xc2\x9f", "\"c1\\u0085\\u009f\"", "c1\xc2\x85\xc2\x9f");
  /* an embedded NUL (n counts it) comes out as \u0000, never cut */
  char *lit = literal("a\0b", 3);
  ck_assert_str_eq(lit, "\"a\\u0000b\"");
  free(lit);
}
END_TEST

START_TEST(json_str_valid_utf8_passes) {
  CHECK("caf\xc3\xa9", "\"caf\xc3\xa9\"", "caf\xc3\xa9"); /* U+00E9 */
  CHECK("\xc2\xa0", "\"\xc2\xa0\"", "\xc2\xa0"); /* U+00A0, first after C1 */
  CHECK("\xe2\x82\xac", "\"\xe2\x82\xac\"", "\xe2\x82\xac"); /* U+20AC */
  CHECK("\xed\x9f\xbf", "\"\xed\x9f\xbf\"", "\xed\x9f\xbf"); /* U+D7FF */
  CHECK("\xee\x80\x80", "\"\xee\x80\x80\"", "\xee\x80\x80"); /* U+E000 */
  CHECK("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"",
        "\xf0\x9f\x98\x80"); /* U+1F600 */
  CHECK("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"",
        "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
}
END_TEST

START_TEST(json_str_lone_and_truncated_bytes) {
  /* bytes >= 0x80 alone: each one is a U+FFFD */
  CHECK("\x80", "\"" FFFD "\"", FFFD);
  CHECK("a\xbf"
        "b",
        "\"a" FFFD "b\"", "a" FFFD "b");
  CHECK("\xff\xfe", "\"" FFFD FFFD "\"", FFFD FFFD);
  CHECK("\xf5\x80", "\"" FFFD FFFD "\"", FFFD FFFD);
  /* truncated sequences: the valid prefix is one U+FFFD, what follows stays */
  CHECK("\xc3", "\"" FFFD "\"", FFFD);
  CHECK("\xc3(", "\"" FFFD "(\"", FFFD "(");
  CHECK("\xe2\x82", "\"" FFFD "\"", FFFD);
  CHECK("\xe2\x82x", "\"" FFFD "x\"", FFFD "x");
  CHECK("\xf0\x9f\x98", "\"" FFFD "\"", FFFD);
  CHECK("\xf0\x9f\x98\n", "\"" FFFD "\\n\"", FFFD "\n");
  /* a truncated sequence before a quote does not swallow the quote */
  CHECK("\xe2\"", "\"" FFFD "\\\"\"", FFFD "\"");
}
END_TEST

START_TEST(json_str_overlongs_surrogates_and_beyond) {
  /* overlong forms of '/' and NUL */
  CHECK("\xc0\xaf", "\"" FFFD FFFD "\"", FFFD FFFD);
  CHECK("\xc1\xbf", "\"" FFFD FFFD "\"", FFFD FFFD);
  CHECK("\xe0\x80\xaf", "\"" FFFD FFFD FFFD "\"", FFFD FFFD FFFD);
  CHECK("\xf0\x80\x80\xaf", "\"" FFFD FFFD FFFD FFFD "\"", FFFD FFFD FFFD FFFD);
  /* UTF-16 surrogates encoded in UTF-8 (CESU) */
  CHECK("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\"", FFFD FFFD FFFD);
  CHECK("\xed\xbf\xbf", "\"" FFFD FFFD FFFD "\"", FFFD FFFD FFFD);
  /* above U+10FFFF */
  CHECK("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"", FFFD FFFD FFFD FFFD);
}
END_TEST

/* Every byte string of length 1..3 over an alphabet of the awkward bytes
 * still makes valid JSON: a sweep that catches what the cases above miss. */
START_TEST(json_str_sweep_is_always_valid) {
  static const unsigned char alpha[] = {
      0x00, 0x0a, 0x1f, 0x22, 0x41, 0x5c, 0x7f, 0x80, 0x9f, 0xa0, 0xbf,
      0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff};
  size_t k = sizeof(alpha);
  for (size_t a = 0; a < k; a++)
    for (size_t b = 0; b < k; b++)
      for (size_t c = 0; c < k; c++) {
        char in[3] = {(char) alpha[a], (char) alpha[b], (char) alpha[c]};
        char *lit = literal(in, 3);
        json_error_t err;
        /* \u0000 is valid JSON; jansson wants to be told it may decode it */
        json_t *v = json_loads(lit, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        ck_assert_msg(v && json_is_string(v), "%02x %02x %02x -> %s: %s",
                      alpha[a], alpha[b], alpha[c], lit, err.text);
        json_decref(v);
        free(lit);
      }
}
END_TEST

static char *label(const char *in, size_t n) {
  tl_buf b;
  tl_buf_init(&b, NULL, 0);
  tl_buf_put_prom_label(&b, in, n);
  char *out = strndup(b.data ? b.data : "", b.len);
  tl_buf_close(&b);
  return out;
}

START_TEST(prom_label_escapes) {
  const char in[] = "a\\b\"c\nd\te\xc3\xa9\x80";
  char *l = label(in, sizeof(in) - 1);
  /* text format 0.0.4: only \, " and newline are escaped */
  ck_assert_str_eq(l, "a\\\\b\\\"c\\nd\te\xc3\xa9" FFFD);
  free(l);
  l = label("plain", 5);
  ck_assert_str_eq(l, "plain");
  free(l);
}
END_TEST

TL_CHECK_MAIN("json_str", json_str_plain_and_quotes,
              json_str_control_characters, json_str_valid_utf8_passes,
              json_str_lone_and_truncated_bytes,
              json_str_overlongs_surrogates_and_beyond,
              json_str_sweep_is_always_valid, prom_label_escapes)
