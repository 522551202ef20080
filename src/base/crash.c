#include "config.h"

#include "base/crash.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

_Noreturn void tl_crash_process(void) {
  struct rlimit none = {0, 0};
  setrlimit(RLIMIT_CORE, &none);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  fprintf(stderr, "threadlab: pid %d: crash step: SIGSEGV on purpose\n",
          (int) getpid());
  /* The kernel's sigaction, not libc's: a sanitizer intercepts the latter
   * and keeps its own SIGSEGV handler. */
  struct {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
  } dfl = {SIG_DFL, 0, NULL, 0};
  syscall(SYS_rt_sigaction, SIGSEGV, &dfl, NULL, sizeof(dfl.mask));
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGSEGV);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
  /* A real fault, not raise(): the kernel kills the process. */
  /* Not NULL: UBSan would report a null store and exit(1) instead. The
   * first page is never mapped. Volatile: the compiler cannot see it. */
  int *volatile bad = (int *) (uintptr_t) 64;
  *(volatile int *) bad = 1;
  abort(); /* not reached */
}
