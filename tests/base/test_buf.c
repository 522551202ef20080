/* Unit tests: tl_buf's decimal writer (two digits per division) against
 * printf, at every digit-count boundary, and putc growing a buffer. */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tl_check.h"
#include "base/buf.h"

static void check_u64(unsigned long long v) {
  char want[32], inl[8];
  snprintf(want, sizeof(want), "%llu", v);
  tl_buf b;
  tl_buf_init(&b, inl, sizeof(inl)); /* small: 20 digits must grow it */
  tl_buf_putc(&b, '[');
  tl_buf_put_u64(&b, v);
  tl_buf_putc(&b, ']');
  ck_assert_uint_eq(b.len, strlen(want) + 2);
  ck_assert_msg(b.data[0] == '[' && b.data[b.len - 1] == ']' &&
                    memcmp(b.data + 1, want, strlen(want)) == 0,
                "%llu written as %.*s", v, (int) b.len, b.data);
  tl_buf_close(&b);
}

START_TEST(put_u64_matches_printf) {
  /* 0, every power of ten and its neighbours, odd and even digit counts */
  check_u64(0);
  check_u64(UINT64_MAX);
  check_u64(UINT64_MAX - 1);
  unsigned long long p = 1;
  for (int i = 0; i < 20; i++, p *= 10) {
    check_u64(p);
    check_u64(p - 1);
    check_u64(p + 1);
    check_u64(p * 5 + 7);
  }
  for (unsigned long long v = 0; v < 2000; v++)
    check_u64(v);
  check_u64(1234567890123456789ull);
  check_u64(10203040506070809ull);
}
END_TEST

START_TEST(putc_grows_from_empty) {
  tl_buf b;
  tl_buf_init(&b, NULL, 0);
  for (int i = 0; i < 1000; i++)
    tl_buf_putc(&b, (char) ('a' + i % 26));
  ck_assert_uint_eq(b.len, 1000);
  for (int i = 0; i < 1000; i++)
    ck_assert_int_eq(b.data[i], 'a' + i % 26);
  tl_buf_close(&b);
}
END_TEST

TL_CHECK_MAIN("buf", put_u64_matches_printf, putc_grows_from_empty)
