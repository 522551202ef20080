/* Unit tests: Command-line parsing: every option, bounds, errors. */
#include "config.h"

#include <check.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "tl_check.h"
#include "core/options.h"

/* ---- command line ----------------------------------------------------- */

static int parse(const char *a0, const char *a1, const char *a2,
                 tl_config *cfg) {
  char *argv[4] = {(char *) "threadlab", (char *) a0, (char *) a1, (char *) a2};
  int argc = 1 + (a0 != NULL) + (a1 != NULL) + (a2 != NULL);
  tl_options_defaults(cfg);
  FILE *devnull = fopen("/dev/null", "w");
  int rc = tl_options_parse(cfg, argc, argv, devnull, devnull);
  fclose(devnull);
  return rc;
}

START_TEST(config_options) {
  tl_config cfg;
  ck_assert_int_eq(parse("--mode", "hybrid", NULL, &cfg), 0);
  ck_assert_int_eq(cfg.mode, TL_MODE_HYBRID);
  ck_assert_int_eq(parse("--threads", "8", "--pin", &cfg), 0);
  ck_assert_int_eq(cfg.threads, 8);
  ck_assert(cfg.pin);
  ck_assert_int_eq(parse("--help", NULL, NULL, &cfg), 1);
  ck_assert_int_eq(parse("-h", NULL, NULL, &cfg), 1);
  ck_assert_int_eq(parse("-x", NULL, NULL, &cfg), -1);
  ck_assert_int_eq(parse("--version", NULL, NULL, &cfg), 1);
  ck_assert_int_eq(parse("--mode", "fast", NULL, &cfg), -1);
  ck_assert_int_eq(parse("--threads", "0", NULL, &cfg), -1);
  ck_assert_int_eq(parse("--threads", "2x", NULL, &cfg), -1);
  ck_assert_int_eq(parse("--port", "70000", NULL, &cfg), -1);
  ck_assert_int_eq(parse("--bogus", NULL, NULL, &cfg), -1);
  ck_assert_int_eq(parse("--port", NULL, NULL, &cfg), -1);
  ck_assert_int_eq(parse("extra", NULL, NULL, &cfg), -1);
  ck_assert_int_eq(parse("--docroot", "/nonexistent/dir", NULL, &cfg), -1);
  ck_assert_int_eq(parse("--sample-ms", "10", NULL, &cfg), -1);
  ck_assert_int_eq(parse(NULL, NULL, NULL, &cfg), 0);
  ck_assert_int_eq(cfg.body_min_rate, 1024);
  ck_assert_int_eq(parse("--body-min-rate", "0", NULL, &cfg), 0);
  ck_assert_int_eq(cfg.body_min_rate, 0);
  ck_assert_int_eq(parse("--body-min-rate", "65536", NULL, &cfg), 0);
  ck_assert_int_eq(cfg.body_min_rate, 65536);
  ck_assert_int_eq(parse("--body-min-rate", "-1", NULL, &cfg), -1);
  ck_assert_int_eq(parse("--body-min-rate", "1k", NULL, &cfg), -1);
  ck_assert_int_eq(parse("--loops", "4", "--allow-crash", &cfg), 0);
  ck_assert_int_eq(cfg.loops, 4);
  ck_assert(cfg.allow_crash);
  ck_assert_int_eq(parse("--processes", "2", NULL, &cfg), 0);
  ck_assert_int_eq(cfg.processes, 2);
  ck_assert_int_eq(parse("--loops", "0", NULL, &cfg), -1);
  ck_assert_int_eq(parse("--loops", "65", NULL, &cfg), -1);
  ck_assert_int_eq(parse("--processes", "-1", NULL, &cfg), -1);
  ck_assert_int_eq(parse("--processes", "65", NULL, &cfg), -1);
}
END_TEST

/* Without --threads, one worker per CPU the process may use (taskset,
 * cpuset), not per CPU the machine has. */
START_TEST(default_threads_follow_the_inherited_mask) {
  cpu_set_t all, one;
  ck_assert_int_eq(sched_getaffinity(0, sizeof(all), &all), 0);
  tl_config cfg;
  ck_assert_int_eq(parse(NULL, NULL, NULL, &cfg), 0);
  ck_assert_int_eq(cfg.threads, CPU_COUNT(&all));
  int first = 0;
  while (!CPU_ISSET(first, &all))
    first++;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ck_assert_int_eq(sched_setaffinity(0, sizeof(one), &one), 0);
  ck_assert_int_eq(parse(NULL, NULL, NULL, &cfg), 0);
  ck_assert_int_eq(cfg.threads, 1);
  ck_assert_int_eq(sched_setaffinity(0, sizeof(all), &all), 0);
}
END_TEST

TL_CHECK_MAIN("options", config_options,
              default_threads_follow_the_inherited_mask)
