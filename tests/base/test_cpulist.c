/* The one CPU-list parser and formatter (base/cpulist): the kernel's
 * cpulist syntax both ways, canonical output, every malformed text
 * refused, output cut only at a range boundary. */
#include "config.h"

#include <check.h>
#include "tl_check.h"
#include <string.h>

#include "base/cpulist.h"

static int parse_str(const char *s, cpu_set_t *set) {
  return tl_cpulist_parse(s, strlen(s), set);
}

static void roundtrip(const char *in, const char *canon) {
  cpu_set_t set;
  char out[8192];
  ck_assert_msg(parse_str(in, &set) == 0, "parse \"%s\"", in);
  ck_assert_uint_eq(tl_cpulist_format(&set, out, sizeof out), strlen(canon));
  ck_assert_str_eq(out, canon);
}

START_TEST(parses_and_formats_canonically) {
  roundtrip("0", "0");
  roundtrip("0-1", "0-1");
  roundtrip("0-3,5,7-8", "0-3,5,7-8");
  roundtrip("1,3,5", "1,3,5");
  roundtrip("0,1,2,4", "0-2,4");
  roundtrip("5-5", "5");
  roundtrip("7-8,0-3,2", "0-3,7-8");
  roundtrip("1023", "1023");
  roundtrip("0-1023", "0-1023");
  cpu_set_t set;
  ck_assert_int_eq(parse_str("0-3,5,7-8", &set), 0);
  ck_assert(CPU_ISSET(0, &set) && CPU_ISSET(3, &set));
  ck_assert(!CPU_ISSET(4, &set) && CPU_ISSET(5, &set));
  ck_assert(!CPU_ISSET(6, &set) && CPU_ISSET(8, &set));
  ck_assert(!CPU_ISSET(9, &set));
  ck_assert_int_eq(CPU_COUNT(&set), 7);
}
END_TEST

START_TEST(refuses_what_is_not_a_cpulist) {
  cpu_set_t set;
  const char *bad[] = {
      "3-1",  "",   "\n", "a",  "0-99999", "1024", "99999999999999999999999",
      "1,",   ",1", "1-", "-1", "1--2",    "1 2",  "0-7:2/4",
      "1\n\n"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
    ck_assert_msg(parse_str(bad[i], &set) == -1, "\"%s\" accepted", bad[i]);
}
END_TEST

START_TEST(formats_empty_and_cuts_at_a_range) {
  cpu_set_t set;
  char out[16];
  CPU_ZERO(&set);
  ck_assert_uint_eq(tl_cpulist_format(&set, out, sizeof out), 0);
  ck_assert_str_eq(out, "");
  ck_assert_int_eq(parse_str("0-3,10", &set), 0);
  ck_assert_uint_eq(tl_cpulist_format(&set, out, 7), 6);
  ck_assert_str_eq(out, "0-3,10");
  /* One byte short: the length it needed, the text cut before ",10". */
  ck_assert_uint_eq(tl_cpulist_format(&set, out, 6), 6);
  ck_assert_str_eq(out, "0-3");
  ck_assert_uint_eq(tl_cpulist_format(&set, out, 0), 6);
}
END_TEST

START_TEST(checks_a_set_against_the_inherited_mask) {
  cpu_set_t want, inherited;
  ck_assert_int_eq(parse_str("0-1", &inherited), 0);
  ck_assert_int_eq(parse_str("1", &want), 0);
  ck_assert_ptr_null(tl_cpulist_check(&want, &inherited));
  ck_assert_int_eq(parse_str("1-2", &want), 0);
  ck_assert_ptr_nonnull(tl_cpulist_check(&want, &inherited));
  CPU_ZERO(&want);
  ck_assert_ptr_nonnull(tl_cpulist_check(&want, &inherited));
}
END_TEST

TL_CHECK_MAIN("cpulist", parses_and_formats_canonically,
              refuses_what_is_not_a_cpulist, formats_empty_and_cuts_at_a_range,
              checks_a_set_against_the_inherited_mask)
