/* Unit tests: Step lists (cpu:N,io:N) and their bounds. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tl_check.h"
#include "base/steps.h"

START_TEST(steps_parsing) {
  tl_step_spec s[TL_MAX_STEPS];
  const char *err;
  const char *ok = "cpu:2,io:50,cpu:0";
  ck_assert_int_eq(tl_steps_parse(ok, strlen(ok), s, &err), 3);
  ck_assert_int_eq(s[0].kind, TL_STEP_CPU);
  ck_assert_uint_eq(s[1].ms, 50);
  ck_assert_int_eq(s[1].kind, TL_STEP_IO);
  ck_assert_int_eq(tl_steps_parse("io:10000", 8, s, &err), 1);
  const char *y = "cpu:1,yield,yield:0,io:1";
  ck_assert_int_eq(tl_steps_parse(y, strlen(y), s, &err), 4);
  ck_assert_int_eq(s[1].kind, TL_STEP_YIELD);
  ck_assert_int_eq(s[2].kind, TL_STEP_YIELD);
  ck_assert_uint_eq(s[2].ms, 0);
  ck_assert_int_eq(tl_steps_parse("cpu:1,crash", 11, s, &err), 2);
  ck_assert_int_eq(s[1].kind, TL_STEP_CRASH);
  ck_assert_int_eq(tl_steps_parse("crash:1", 7, s, &err), -1);
  const char *bad[] = {
      "",      "cpu",     "cpu:",   "cpu:10001",   "io:-1",
      "gpu:1", "cpu:1,",  ",cpu:1", "cpu:1,,io:2", "cpu:1x",
      "CPU:1", "yield:1", "yield:", "yields",      "yield:00x"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    err = NULL;
    ck_assert_msg(tl_steps_parse(bad[i], strlen(bad[i]), s, &err) == -1,
                  "accepted '%s'", bad[i]);
    ck_assert_ptr_nonnull(err);
  }
  char many[512] = "";
  for (int i = 0; i < 33; i++)
    strcat(many, i ? ",io:1" : "io:1");
  ck_assert_int_eq(tl_steps_parse(many, strlen(many), s, &err), -1);
  many[strlen(many) - 5] = '\0'; /* 32 steps */
  ck_assert_int_eq(tl_steps_parse(many, strlen(many), s, &err), 32);
}
END_TEST

/* The shared-memory steps: counts up to 100,000,000, hold in ms like cpu,
 * deadlock bare; mixable with the others. */
START_TEST(shared_steps_parsing) {
  tl_step_spec s[TL_MAX_STEPS];
  const char *err;
  const char *ok = "race:100000000,atomic:0,lock:7,hold:10000,deadlock,cpu:1";
  ck_assert_int_eq(tl_steps_parse(ok, strlen(ok), s, &err), 6);
  ck_assert_int_eq(s[0].kind, TL_STEP_RACE);
  ck_assert_uint_eq(s[0].ms, 100000000u);
  ck_assert_int_eq(s[1].kind, TL_STEP_ATOMIC);
  ck_assert_uint_eq(s[1].ms, 0);
  ck_assert_int_eq(s[2].kind, TL_STEP_LOCK);
  ck_assert_uint_eq(s[2].ms, 7);
  ck_assert_int_eq(s[3].kind, TL_STEP_HOLD);
  ck_assert_uint_eq(s[3].ms, 10000);
  ck_assert_int_eq(s[4].kind, TL_STEP_DEADLOCK);
  ck_assert_int_eq(s[5].kind, TL_STEP_CPU);
  ck_assert_str_eq(tl_step_kind_name(TL_STEP_RACE), "race");
  ck_assert_str_eq(tl_step_kind_name(TL_STEP_DEADLOCK), "deadlock");
  ck_assert(tl_step_is_count(TL_STEP_LOCK));
  ck_assert(!tl_step_is_count(TL_STEP_HOLD));
  const char *bad[] = {"race:100000001", "atomic:-1",  "lock:",     "race",
                       "hold:10001",     "deadlock:1", "deadlock:", "deadlocks",
                       "atomic:1e3",     "hold"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    err = NULL;
    ck_assert_msg(tl_steps_parse(bad[i], strlen(bad[i]), s, &err) == -1,
                  "accepted '%s'", bad[i]);
    ck_assert_ptr_nonnull(err);
  }
}
END_TEST

TL_CHECK_MAIN("steps", steps_parsing, shared_steps_parsing)
