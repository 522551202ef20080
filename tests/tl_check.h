/* The one way every Check test program runs its suite, and the one way a
 * test that cannot run here says so (TL_SKIP). */
#ifndef TL_CHECK_H
#define TL_CHECK_H

#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Automake's exit status for a test program that did not run. */
#define TL_CHECK_EXIT_SKIP 77

/* Records why the running test cannot run here: one line "NAME: why" on
 * the descriptor tl_check_run named in TL_SKIP_FD (Check forks each test,
 * so memory cannot carry it back). Use TL_SKIP, which also ends the test. */
static inline void tl_check_skip_note(const char *fn, const char *fmt, ...) {
  char line[512];
  size_t n = strlen(fn);
  if (n > 3 && strcmp(fn + n - 3, "_fn") == 0) /* START_TEST's suffix */
    n -= 3;
  int k = snprintf(line, sizeof(line), "%.*s: ", (int) n, fn);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line + k, sizeof(line) - (size_t) k - 1, fmt, ap);
  va_end(ap);
  strcat(line, "\n");
  fprintf(stderr, "SKIP %s", line);
  const char *fd = getenv("TL_SKIP_FD");
  if (fd) {
    ssize_t w = write(atoi(fd), line, strlen(line));
    (void) w;
  }
}

/* Ends the running test as skipped, with its reason (printf format). The
 * program's summary counts it; a program whose every test skipped exits
 * 77, which make check reports as SKIP. */
#define TL_SKIP(...)                                                           \
  do {                                                                         \
    tl_check_skip_note(__func__, __VA_ARGS__);                                 \
    return;                                                                    \
  } while (0)

/* Runs the suite (forked per test, as Check does by default) and turns
 * the failure count into the exit status make check reads. Skips are
 * listed as "SKIP: NAME: why" lines (tests/check-all counts them) and
 * "N of M tests skipped"; every test skipped and none failed: 77. */
static inline int tl_check_run(Suite *s) {
  FILE *skips = tmpfile();
  char fdtext[16];
  if (skips) {
    /* Not for the servers the tests exec. */
    fcntl(fileno(skips), F_SETFD, FD_CLOEXEC);
    snprintf(fdtext, sizeof(fdtext), "%d", fileno(skips));
    setenv("TL_SKIP_FD", fdtext, 1);
  }
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  int ran = srunner_ntests_run(sr);
  srunner_free(sr);
  int skipped = 0;
  if (skips) {
    unsetenv("TL_SKIP_FD");
    rewind(skips);
    char line[512];
    while (fgets(line, sizeof(line), skips)) {
      printf("SKIP: %s", line);
      skipped++;
    }
    fclose(skips);
    if (skipped)
      printf("%d of %d tests skipped\n", skipped, ran);
    fflush(stdout);
  }
  if (failed)
    return EXIT_FAILURE;
  return ran > 0 && skipped >= ran ? TL_CHECK_EXIT_SKIP : EXIT_SUCCESS;
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

#define TL_CHECK_MAIN(name, ...)                                               \
  int main(void) {                                                             \
    const TTest *const tests_[] = {__VA_ARGS__};                               \
    return tl_check_main(name, tests_, sizeof(tests_) / sizeof(*tests_));      \
  }

#endif
