/* Copy-on-write across a fork, measured (exec/shared_cow.h). */
#include "config.h"

#include "exec/shared_cow.h"

#include "base/util.h"
#include "exec/shared_steps.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Written once by tl_shared_cow_probe before any other thread exists. */
static tl_shared_cow result;

tl_cow_page tl_shared_cow_entry(uint64_t e) {
  tl_cow_page p = {.mapcount = -1};
  p.present = (e >> 63) & 1;
  p.exclusive = (e >> 56) & 1;
  p.pfn = p.present ? e & ((1ull << 55) - 1) : 0;
  return p;
}

/* Only async-signal-safe calls (the child runs this too). */
static tl_cow_page read_page(uintptr_t addr) {
  tl_cow_page p = {.mapcount = -1};
  long pg = sysconf(_SC_PAGESIZE);
  int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return p;
  uint64_t e = 0;
  ssize_t n = pread(fd, &e, sizeof(e), (off_t) (addr / (uintptr_t) pg) * 8);
  close(fd);
  if (n != (ssize_t) sizeof(e))
    return p;
  p = tl_shared_cow_entry(e);
  if (p.pfn == 0)
    return p;
  fd = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return p;
  uint64_t c = 0;
  if (pread(fd, &c, sizeof(c), (off_t) p.pfn * 8) == (ssize_t) sizeof(c))
    p.mapcount = (int64_t) c;
  close(fd);
  return p;
}

static bool read_all(int fd, void *buf, size_t len) {
  char *b = buf;
  while (len > 0) {
    ssize_t n = read(fd, b, len);
    if (n <= 0)
      return false;
    b += n;
    len -= (size_t) n;
  }
  return true;
}

void tl_shared_cow_probe(void) {
  uintptr_t addr;
  tl_shared_counter_value(&addr); /* maps the page and writes it once */
  tl_shared_cow r = {0};
  r.parent = read_page(addr);
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) != 0)
    return;
  uint64_t t0 = tl_now_ns();
  pid_t pid = fork();
  if (pid == 0) {
    tl_cow_page two[2];
    two[0] = read_page(addr);
    /* The child's first write to the page: the kernel copies it now. */
    volatile uint64_t *c = (volatile uint64_t *) addr;
    *c = *c;
    two[1] = read_page(addr);
    ssize_t w = write(pfd[1], two, sizeof(two));
    _exit(w == (ssize_t) sizeof(two) ? 0 : 1);
  }
  close(pfd[1]);
  tl_cow_page two[2];
  bool ok = pid > 0 && read_all(pfd[0], two, sizeof(two));
  close(pfd[0]);
  if (pid > 0)
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
      ;
  if (!ok)
    return;
  r.fork_ms = (double) (tl_now_ns() - t0) / 1e6;
  r.child_before = two[0];
  r.child_after = two[1];
  r.done = true;
  result = r;
}

const tl_shared_cow *tl_shared_cow_result(void) { return &result; }
