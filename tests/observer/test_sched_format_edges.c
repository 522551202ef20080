/* The tracepoint field readers at their edges (mutaudit2): a string cut
 * to the caller's buffer (always terminated inside it), and signed fields
 * narrower than 4 bytes sign-extended. Handmade formats. */
#include "observer/sched_format.h"

#include <check.h>
#include "tl_check.h"
#include <stdint.h>
#include <string.h>

static const char FMT[] = "name: edges\n"
                          "ID: 7\n"
                          "format:\n"
                          "\tfield:short s16;\toffset:0;\tsize:2;\tsigned:1;\n"
                          "\tfield:char s8;\toffset:2;\tsize:1;\tsigned:1;\n"
                          "\tfield:unsigned short u16;\toffset:4;\tsize:2;"
                          "\tsigned:0;\n"
                          "\tfield:char comm[8];\toffset:8;\tsize:8;"
                          "\tsigned:1;\n";

START_TEST(narrow_signed_fields_sign_extend) {
  tl_sched_format f;
  ck_assert_int_eq(tl_sched_format_parse(FMT, sizeof FMT - 1, &f), 0);
  uint8_t raw[16] = {0};
  int16_t s16 = -2;
  int8_t s8 = -3;
  uint16_t u16 = 0xfffe;
  memcpy(raw, &s16, 2);
  memcpy(raw + 2, &s8, 1);
  memcpy(raw + 4, &u16, 2);
  int64_t v;
  ck_assert(tl_sched_field_int(tl_sched_format_field(&f, "s16"), raw, 16, &v));
  ck_assert_int_eq(v, -2);
  ck_assert(tl_sched_field_int(tl_sched_format_field(&f, "s8"), raw, 16, &v));
  ck_assert_int_eq(v, -3);
  ck_assert(tl_sched_field_int(tl_sched_format_field(&f, "u16"), raw, 16, &v));
  ck_assert_int_eq(v, 0xfffe);
}
END_TEST

START_TEST(a_string_is_cut_to_the_buffer) {
  tl_sched_format f;
  ck_assert_int_eq(tl_sched_format_parse(FMT, sizeof FMT - 1, &f), 0);
  uint8_t raw[16] = {0};
  memcpy(raw + 8, "wrk12345", 8); /* the full 8 bytes, no NUL */
  /* A buffer of 4 given as 4 inside a larger one: the text is cut to 3
   * characters and the byte after the 4 is never written. */
  char out[8];
  memset(out, 'Z', sizeof out);
  ck_assert(
      tl_sched_field_str(tl_sched_format_field(&f, "comm"), raw, 16, out, 4));
  ck_assert_str_eq(out, "wrk");
  ck_assert_int_eq(out[4], 'Z');
  /* A buffer large enough: all 8 characters, terminated. */
  char full[16];
  ck_assert(tl_sched_field_str(tl_sched_format_field(&f, "comm"), raw, 16, full,
                               sizeof full));
  ck_assert_str_eq(full, "wrk12345");
}
END_TEST

TL_CHECK_MAIN("sched_format_edges", narrow_signed_fields_sign_extend,
              a_string_is_cut_to_the_buffer)
