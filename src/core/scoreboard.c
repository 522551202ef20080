#include "config.h"

#include "core/scoreboard.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

static int map(tl_scoreboard **out, int fd) {
  void *p = mmap(NULL, sizeof(tl_scoreboard), PROT_READ | PROT_WRITE,
                 MAP_SHARED, fd, 0);
  if (p == MAP_FAILED)
    return -errno;
  *out = p;
  return 0;
}

int tl_scoreboard_init(tl_scoreboard **out, int *fd) {
  int f = memfd_create("threadlab-scoreboard", MFD_CLOEXEC);
  if (f < 0)
    return -errno;
  if (ftruncate(f, sizeof(tl_scoreboard)) != 0) {
    int e = errno;
    close(f);
    return -e;
  }
  int rc = map(out, f); /* a new file reads as zeros: every slot empty */
  if (rc != 0) {
    close(f);
    return rc;
  }
  *fd = f;
  return 0;
}

int tl_scoreboard_attach(tl_scoreboard **out, int fd) { return map(out, fd); }
