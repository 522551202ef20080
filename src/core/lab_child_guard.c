/* The lab child's death signal (core/lab_child_guard.h). */
#include "config.h"

#include "core/lab_child_guard.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

void tl_lab_child_guard_arm(void) {
  const char *v = getenv("TL_LAB_PARENT_PID");
  if (!v)
    return;
  long parent = strtol(v, NULL, 10);
  unsetenv("TL_LAB_PARENT_PID");
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
    perror("threadlab: PR_SET_PDEATHSIG");
  if (parent > 0 && getppid() != (pid_t) parent) {
    fprintf(stderr, "threadlab: the lab that started this server is gone\n");
    exit(3);
  }
}
