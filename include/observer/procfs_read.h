/* Readers of /proc (observer/procfs.h parses what they read): the only
 * procfs functions that touch the filesystem. Any thread; no malloc. */
#ifndef TL_OBSERVER_PROCFS_READ_H
#define TL_OBSERVER_PROCFS_READ_H

#include <stddef.h>
#include <sys/types.h>

/* Return the number of bytes read, or -errno. The whole file must fit: if
 * it does not, -EOVERFLOW (the buffer content is then unspecified). No NUL
 * is appended. */
ssize_t tl_procfs_read(const char *path, char *buf, size_t cap);
/* openat() variant: dirfd is e.g. an fd of /proc/self/task/TID opened with
 * O_RDONLY|O_DIRECTORY, relpath "stat", "status", ... */
ssize_t tl_procfs_read_at(int dirfd, const char *relpath, char *buf,
                          size_t cap);
/* TIDs of this process (/proc/self/task), ascending. Returns the count, or
 * -errno. If there are more than cap, returns -ENOBUFS with tids[] holding the
 * cap smallest TIDs, ascending. No malloc (getdents64 on a stack buffer). */
int tl_procfs_read_tids(int *tids, int cap);
/* Number of open file descriptors of this process (/proc/self/fd, not counting
 * the one used to read it), or -errno. */
int tl_procfs_read_fd_count(void);

#endif
