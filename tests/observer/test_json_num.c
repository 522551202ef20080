/* The observer's one JSON number writer: three decimals at most, trailing
 * zeros dropped, null for what JSON cannot carry (NaN, infinities). */
#include "config.h"

#include <check.h>
#include "tl_check.h"
#include <math.h>
#include <string.h>

#include "observer/json_num.h"

static void expect(double v, const char *want) {
  tl_buf b;
  tl_buf_init(&b, NULL, 0);
  tl_json_num_put(&b, v);
  tl_buf_putc(&b, '\0');
  ck_assert_msg(strcmp(b.data, want) == 0, "%g: got \"%s\", want \"%s\"", v,
                b.data, want);
  tl_buf_close(&b);
}

START_TEST(finite_numbers_keep_three_decimals) {
  expect(0, "0");
  expect(3, "3");
  expect(12.5, "12.5");
  expect(0.001, "0.001");
  expect(1.0004, "1");
  expect(1.0006, "1.001");
  expect(-0.25, "-0.25");
  expect(123456.789, "123456.789");
  expect(1e16, "10000000000000000");
}
END_TEST

START_TEST(nan_and_infinities_are_null) {
  expect(NAN, "null");
  expect(INFINITY, "null");
  expect(-INFINITY, "null");
}
END_TEST

TL_CHECK_MAIN("json_num", finite_numbers_keep_three_decimals,
              nan_and_infinities_are_null)
