/* Unit tests: the role a command line gives the process (runtime/config). */
#include "config.h"

#include <check.h>
#include <stdio.h>

#include "tl_check.h"
#include "core/options.h"
#include "runtime/config.h"

static tl_proc_role role_of(const char *a0, const char *a1, const char *a2,
                            const char *a3) {
  char *argv[5] = {(char *) "threadlab", (char *) a0, (char *) a1, (char *) a2,
                   (char *) a3};
  int argc = 1;
  while (argc < 5 && argv[argc])
    argc++;
  tl_config cfg;
  tl_options_defaults(&cfg);
  FILE *devnull = fopen("/dev/null", "w");
  ck_assert_ptr_nonnull(devnull);
  ck_assert_int_eq(tl_options_parse(&cfg, argc, argv, devnull, devnull), 0);
  fclose(devnull);
  return tl_config_role(&cfg);
}

START_TEST(roles) {
  ck_assert_int_eq(role_of(NULL, NULL, NULL, NULL), TL_PROC_SINGLE);
  ck_assert_int_eq(role_of("--loops", "2", NULL, NULL), TL_PROC_SINGLE);
  ck_assert_int_eq(role_of("--processes", "2", NULL, NULL), TL_PROC_SUPERVISOR);
  /* A worker is re-executed with the supervisor's command line plus
   * --worker-of: it is a worker, not a second supervisor. */
  ck_assert_int_eq(role_of("--worker-of", "1,5,6", NULL, NULL), TL_PROC_WORKER);
  ck_assert_int_eq(role_of("--processes", "2", "--worker-of", "0,5,6"),
                   TL_PROC_WORKER);
}
END_TEST

TL_CHECK_MAIN("config", roles)
