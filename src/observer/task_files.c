/* The /proc/self/task/TID descriptor cache (observer/task_files.h). */
#include "config.h"

#include "observer/task_files.h"

#include "base/util.h"
#include "observer/procfs.h"
#include "observer/procfs_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* The sampler keeps /proc descriptors open within this share of the soft
 * RLIMIT_NOFILE: the rest belongs to connections (and whatever else). */
#define FD_SHARE_DIV 4

struct tl_task_files {
  tl_task_files_entry *fds; /* sorted by tid */
  int nfds, cap;
  int fds_kept;   /* descriptors open in fds[] */
  int fds_budget; /* at most this many (FD_SHARE_DIV of the limit) */
};

int tl_task_files_budget(int cap) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return 0;
  rlim_t soft = rl.rlim_cur == RLIM_INFINITY ? (rlim_t) 1 << 20 : rl.rlim_cur;
  rlim_t share = soft / FD_SHARE_DIV;
  return share > (rlim_t) cap * 3 ? cap * 3 : (int) share;
}

tl_task_files *tl_task_files_init(int cap) {
  tl_task_files *tf = tl_xcalloc(1, sizeof(*tf));
  tf->cap = cap;
  tf->fds = tl_xcalloc((size_t) cap, sizeof(tl_task_files_entry));
  tf->fds_budget = tl_task_files_budget(cap);
  return tf;
}

static void close_fds(tl_task_files *tf, tl_task_files_entry *f);

void tl_task_files_close(tl_task_files *tf) {
  if (!tf)
    return;
  for (int i = 0; i < tf->nfds; i++)
    close_fds(tf, &tf->fds[i]);
  free(tf->fds);
  free(tf);
}

int tl_task_files_kept(const tl_task_files *tf) { return tf->fds_kept; }

/* Reads a /proc file that the cache keeps open, from its start. */
static ssize_t pread_all(int fd, char *buf, size_t cap) {
  /* A seq_file hands over its whole text in one read when it fits; a
   * full buffer means it did not. */
  ssize_t n;
  do
    n = pread(fd, buf, cap, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -errno;
  return (size_t) n == cap ? -EOVERFLOW : n;
}

/* Opens relpath under dfd when the budget allows one more descriptor. */
static int keep_open(tl_task_files *st, int dfd, const char *relpath) {
  if (st->fds_kept >= st->fds_budget)
    return -1;
  int fd = openat(dfd, relpath, O_RDONLY | O_CLOEXEC);
  if (fd >= 0)
    st->fds_kept++;
  return fd;
}

ssize_t tl_task_files_read(int fd, int tid, const char *name, char *buf,
                           size_t cap) {
  if (fd >= 0)
    return pread_all(fd, buf, cap);
  char path[64];
  snprintf(path, sizeof(path), "/proc/self/task/%d/%s", tid, name);
  return tl_procfs_read(path, buf, cap);
}

/* The open descriptors of one thread's /proc files, kept between samples:
 * re-reading an open seq_file costs one pread, opening it a path walk.
 * schedstat first (it is read every sample), then stat, then sched. */
tl_task_files_entry *tl_task_files_for(tl_task_files *st, int tid) {
  /* Kept sorted by tid: binary search, insert in place. */
  int lo = 0, hi = st->nfds;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (st->fds[mid].tid < tid)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < st->nfds && st->fds[lo].tid == tid) {
    st->fds[lo].seen = true;
    return &st->fds[lo];
  }
  if (st->nfds == st->cap)
    return NULL;
  int dfd = -1;
  if (st->fds_kept < st->fds_budget) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/task/%d", tid);
    dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
      return NULL; /* gone since it was listed */
  }
  memmove(&st->fds[lo + 1], &st->fds[lo],
          (size_t) (st->nfds - lo) * sizeof(tl_task_files_entry));
  st->nfds++;
  tl_task_files_entry *f = &st->fds[lo];
  f->tid = tid;
  f->has_allowed = false;
  f->stat = f->schedstat = f->sched = -1;
  if (dfd >= 0) {
    f->schedstat = keep_open(st, dfd, "schedstat");
    f->stat = keep_open(st, dfd, "stat");
    f->sched = keep_open(st, dfd, "sched");
    close(dfd);
  }
  f->seen = true;
  return f;
}

static void close_fds(tl_task_files *st, tl_task_files_entry *f) {
  int *fd[3] = {&f->stat, &f->schedstat, &f->sched};
  for (int i = 0; i < 3; i++)
    if (*fd[i] >= 0) {
      close(*fd[i]);
      *fd[i] = -1;
      st->fds_kept--;
    }
}

/* Drops the descriptors of threads that were not listed this time. */
void tl_task_files_prune(tl_task_files *st) {
  int o = 0;
  for (int i = 0; i < st->nfds; i++) {
    if (st->fds[i].seen) {
      st->fds[i].seen = false;
      st->fds[o++] = st->fds[i];
    } else {
      close_fds(st, &st->fds[i]);
    }
  }
  st->nfds = o;
}
