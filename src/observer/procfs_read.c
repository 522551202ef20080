/* procfs_read.c - the readers of /proc (observer/procfs_read.h): whole
 * files into a caller's buffer, and directory listings without malloc. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* getdents64 */
#endif

#include "observer/procfs_read.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* Read fd to EOF into buf; closes fd. */
static ssize_t read_all(int fd, char *buf, size_t cap) {
  size_t got = 0;
  ssize_t n;
  int err = 0;

  for (;;) {
    if (got == cap) {
      /* Full: one probe byte tells "exactly fits" from "truncated". */
      char probe;
      do
        n = read(fd, &probe, 1);
      while (n < 0 && errno == EINTR);
      if (n < 0)
        err = errno;
      else if (n > 0)
        err = EOVERFLOW;
      break;
    }
    n = read(fd, buf + got, cap - got);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      err = errno;
      break;
    }
    if (n == 0)
      break;
    got += (size_t) n;
  }
  close(fd);
  return err ? -(ssize_t) err : (ssize_t) got;
}

ssize_t tl_procfs_read(const char *path, char *buf, size_t cap) {
  return tl_procfs_read_at(AT_FDCWD, path, buf, cap);
}

ssize_t tl_procfs_read_at(int dirfd, const char *relpath, char *buf,
                          size_t cap) {
  int fd;

  if (!relpath || (!buf && cap > 0))
    return -EINVAL;
  do
    fd = openat(dirfd, relpath, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return -errno;
  return read_all(fd, buf, cap);
}

/* Calls fn(name, arg) for each entry of the directory other than "." and
 * "..", using getdents64 on a stack buffer (opendir would malloc). */
typedef int (*dir_fn)(const char *name, void *arg);

static int for_each_entry(const char *path, dir_fn fn, void *arg) {
  /* Aligned for struct dirent64; 4 KiB holds ~170 entries per call. */
  _Alignas(8) char dbuf[4096];
  int fd, rc = 0;

  do
    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return -errno;
  for (;;) {
    ssize_t n = getdents64(fd, dbuf, sizeof dbuf);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      rc = -errno;
      break;
    }
    if (n == 0)
      break;
    for (ssize_t off = 0; off < n;) {
      const struct dirent64 *d = (const struct dirent64 *) (dbuf + off);
      const char *nm = d->d_name;
      off += d->d_reclen;
      if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0')))
        continue;
      if ((rc = fn(nm, arg)) < 0)
        goto out;
    }
  }
out:
  close(fd);
  return rc;
}

struct tid_acc {
  int *tids;
  int cap;
  int n;        /* stored, <= cap */
  int overflow; /* saw more than cap */
};

static int add_tid(const char *name, void *arg) {
  struct tid_acc *a = arg;
  uint64_t v = 0;
  int i, tid;

  /* Decimal digits only, and an int: else not a tid (/proc/self/task
   * holds nothing else today). */
  if (!*name)
    return 0;
  for (const char *p = name; *p; p++) {
    if (*p < '0' || *p > '9')
      return 0;
    v = v * 10 + (uint64_t) (*p - '0');
    if (v > INT32_MAX)
      return 0;
  }
  tid = (int) v;
  if (a->n == a->cap) {
    a->overflow = 1;
    /* Keep the cap smallest, so the result is well defined. */
    if (a->cap == 0 || tid >= a->tids[a->n - 1])
      return 0;
    a->n--;
  }
  /* Insertion sort: the kernel lists tasks ascending, so this is ~O(1). */
  for (i = a->n; i > 0 && a->tids[i - 1] > tid; i--)
    a->tids[i] = a->tids[i - 1];
  a->tids[i] = tid;
  a->n++;
  return 0;
}

int tl_procfs_read_tids(int *tids, int cap) {
  struct tid_acc a = {tids, cap, 0, 0};
  int rc;

  if (cap < 0 || (!tids && cap > 0))
    return -EINVAL;
  if ((rc = for_each_entry("/proc/self/task", add_tid, &a)) < 0)
    return rc;
  return a.overflow ? -ENOBUFS : a.n;
}

static int count_one(const char *name, void *arg) {
  (void) name;
  (*(int *) arg)++;
  return 0;
}

int tl_procfs_read_fd_count(void) {
  int n = 0, rc;

  if ((rc = for_each_entry("/proc/self/fd", count_one, &n)) < 0)
    return rc;
  /* The directory fd we were reading through was one of them. */
  return n > 0 ? n - 1 : 0;
}
