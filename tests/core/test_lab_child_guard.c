/* The lab child's guard (core/lab_child_guard), in a forked child of the
 * test: with its parent's pid it arms the death signal (SIGKILL), drops
 * the variable and goes on; with a pid that is not its parent's it ends
 * with status 3; without the variable it arms nothing. */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tl_check.h"
#include "core/lab_child_guard.h"

/* Runs the guard in a child with TL_LAB_PARENT_PID as `pid` (0: unset);
 * the child exits 10 + the death signal it has armed (10 for none), or 9
 * when the variable survived the guard. Returns the child's status. */
static int guarded_child(long pid) {
  pid_t c = fork();
  ck_assert_int_ge(c, 0);
  if (c == 0) {
    char v[32];
    snprintf(v, sizeof(v), "%ld", pid == -1 ? (long) getppid() : pid);
    if (pid != 0)
      setenv("TL_LAB_PARENT_PID", v, 1);
    else
      unsetenv("TL_LAB_PARENT_PID");
    tl_lab_child_guard_arm();
    if (getenv("TL_LAB_PARENT_PID"))
      _exit(9);
    int sig = 0;
    if (prctl(PR_GET_PDEATHSIG, &sig) != 0)
      _exit(8);
    _exit(10 + sig);
  }
  int st = 0;
  ck_assert_int_eq(waitpid(c, &st, 0), c);
  ck_assert_msg(WIFEXITED(st), "the child did not exit (status %d)", st);
  return WEXITSTATUS(st);
}

START_TEST(armed_with_the_parents_pid) {
  ck_assert_int_eq(guarded_child(-1), 10 + SIGKILL);
}
END_TEST

START_TEST(another_parent_ends_the_child) {
  /* pid 1 is not this test's child's parent (the test is). */
  ck_assert_int_ne(getpid(), 1);
  ck_assert_int_eq(guarded_child(1), 3);
}
END_TEST

START_TEST(nothing_armed_without_the_variable) {
  ck_assert_int_eq(guarded_child(0), 10);
}
END_TEST

TL_CHECK_MAIN("lab_child_guard", armed_with_the_parents_pid,
              another_parent_ends_the_child, nothing_armed_without_the_variable)
