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

#endif
