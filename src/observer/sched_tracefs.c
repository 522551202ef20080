/* The format files through a throw-away mount namespace. The child is a
 * raw clone (no atfork handlers run, so it never waits on a lock another
 * thread held at the time) and uses only system calls. */
#include "config.h"

#include "observer/sched_tracefs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS        8
#define FILE_CAP          8192 /* a sched format file is ~1-2.5 KiB */
#define HELPER_TIMEOUT_MS 3000

static const char *const roots[] = {"/sys/kernel/tracing",
                                    "/sys/kernel/debug/tracing"};

static ssize_t read_all(int fd, char *buf, size_t cap) {
  size_t n = 0;
  while (n < cap) {
    ssize_t r = syscall(SYS_read, fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return r < 0 ? -1 : (ssize_t) n;
    n += (size_t) r;
  }
  return (ssize_t) n;
}

static int parse_file(const char *path, char *buf, tl_sched_format *out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read_all(fd, buf, FILE_CAP);
  close(fd);
  if (n <= 0)
    return -1;
  return tl_sched_format_parse(buf, (size_t) n, out);
}

/* Tracefs already mounted somewhere we look: read it in place. */
static int read_direct(const char *const *names, int n, tl_sched_format *out) {
  char *buf = malloc(FILE_CAP);
  if (!buf)
    return -1;
  for (size_t r = 0; r < sizeof roots / sizeof roots[0]; r++) {
    int ok = 0;
    for (int i = 0; i < n; i++) {
      char path[256];
      snprintf(path, sizeof path, "%s/events/sched/%s/format", roots[r],
               names[i]);
      if (parse_file(path, buf, &out[i]) == 0)
        ok++;
    }
    if (ok == n) {
      free(buf);
      return 0;
    }
  }
  free(buf);
  return -1;
}

static void put_all(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n > 0) {
    ssize_t w = syscall(SYS_write, fd, c, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    c += w;
    n -= (size_t) w;
  }
}

/* The child: system calls only. Writes, per event, a 4-byte length (0:
 * unreadable) and the file's bytes; exit status 0, or 2/3 when the
 * namespace or the mount was refused. */
static void child_main(int wfd, char *const *paths, int n, char *buf) {
  if (syscall(SYS_mount, "none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    syscall(SYS_exit_group, 2);
  if (syscall(SYS_mount, "nodev", roots[0], "tracefs", 0, NULL) != 0)
    syscall(SYS_exit_group, 3);
  for (int i = 0; i < n; i++) {
    uint32_t len = 0;
    int fd =
        (int) syscall(SYS_openat, AT_FDCWD, paths[i], O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ssize_t r = read_all(fd, buf, FILE_CAP);
      syscall(SYS_close, fd);
      if (r > 0)
        len = (uint32_t) r;
    }
    put_all(wfd, &len, sizeof len);
    put_all(wfd, buf, len);
  }
  syscall(SYS_exit_group, 0);
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

/* Reads exactly n bytes before the deadline; 0 or -1. */
static int read_exact(int fd, char *p, size_t n, uint64_t deadline) {
  while (n > 0) {
    uint64_t t = now_ms();
    if (t >= deadline)
      return -1;
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    int pr = poll(&pf, 1, (int) (deadline - t));
    if (pr < 0 && errno == EINTR)
      continue;
    if (pr <= 0)
      return -1;
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    p += r;
    n -= (size_t) r;
  }
  return 0;
}

static int via_helper(const char *const *names, int n, tl_sched_format *out,
                      const char **why) {
  /* Everything the child touches is prepared before it exists. */
  char paths[MAX_EVENTS][128];
  char *pp[MAX_EVENTS];
  for (int i = 0; i < n; i++) {
    snprintf(paths[i], sizeof paths[i], "%s/events/sched/%s/format", roots[0],
             names[i]);
    pp[i] = paths[i];
  }
  char *buf = malloc(FILE_CAP);
  if (!buf) {
    *why = "out of memory";
    return -1;
  }
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) {
    free(buf);
    *why = "pipe failed";
    return -1;
  }
  long pid = syscall(SYS_clone, (unsigned long) (CLONE_NEWNS | SIGCHLD), NULL,
                     NULL, NULL, 0);
  if (pid == 0) {
    syscall(SYS_close, p[0]);
    child_main(p[1], pp, n, buf);
  }
  int saved = errno;
  close(p[1]);
  if (pid < 0) {
    close(p[0]);
    free(buf);
    *why = saved == EPERM ? "tracefs is not mounted and a private mount "
                            "namespace to read the formats was refused (the "
                            "tracepoints need root or CAP_PERFMON and "
                            "CAP_SYS_ADMIN)"
                          : "the tracefs helper could not be started";
    return -1;
  }
  int rc = 0;
  uint64_t deadline = now_ms() + HELPER_TIMEOUT_MS;
  for (int i = 0; i < n && rc == 0; i++) {
    uint32_t len;
    if (read_exact(p[0], (char *) &len, sizeof len, deadline) != 0 ||
        len == 0 || len > FILE_CAP ||
        read_exact(p[0], buf, len, deadline) != 0 ||
        tl_sched_format_parse(buf, len, &out[i]) != 0)
      rc = -1;
  }
  close(p[0]);
  if (rc != 0)
    kill((pid_t) pid, SIGKILL); /* harmless when it already exited */
  int st = 0;
  while (waitpid((pid_t) pid, &st, 0) < 0 && errno == EINTR)
    ;
  free(buf);
  if (rc != 0) {
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    *why = code == 2 ? "making / private in the helper's namespace failed"
           : code == 3
               ? "mounting tracefs in the helper's namespace failed"
               : "the sched tracepoints' format files could not be read";
  }
  return rc;
}

int tl_sched_tracefs_read(const char *const *names, int n, tl_sched_format *out,
                          const char **why) {
  *why = NULL;
  if (n <= 0 || n > MAX_EVENTS) {
    *why = "bad event list";
    return -1;
  }
  if (read_direct(names, n, out) == 0)
    return 0;
  return via_helper(names, n, out, why);
}
