/* The one way every Check test program runs its suite. */
#ifndef TL_CHECK_H
#define TL_CHECK_H

#include <check.h>
#include <stdlib.h>

/* Runs the suite (forked per test, as Check does by default) and turns
 * the failure count into the exit status make check reads. */
static inline int tl_check_run(Suite *s) {
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* A module's suite of one test case: TL_CHECK_MAIN("hist", test_a, test_b)
 * is the whole main() of a unit-test program. */
static inline int tl_check_main(const char *name, const TTest *const *tests,
                                size_t n) {
  Suite *s = suite_create(name);
  TCase *tc = tcase_create(name);
  for (size_t i = 0; i < n; i++)
    tcase_add_test(tc, tests[i]);
  suite_add_tcase(s, tc);
  return tl_check_run(s);
}

#define TL_CHECK_MAIN(name, ...)                                          \
  int main(void) {                                                        \
    const TTest *const tests_[] = {__VA_ARGS__};                          \
    return tl_check_main(name, tests_, sizeof(tests_) / sizeof(*tests_)); \
  }

#endif
