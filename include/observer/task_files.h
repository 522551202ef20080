/* The sampler's cache of each thread's /proc/self/task/TID files: their
 * descriptors are kept open between samples (re-reading an open seq_file
 * costs one pread, opening it a path walk) within a share of the
 * descriptor limit; beyond it a file is opened, read and closed each time.
 * Each entry also keeps the thread's allowed-cores list, refreshed by
 * sampler_threads. Observer thread only. */
#ifndef TL_OBSERVER_TASK_FILES_H
#define TL_OBSERVER_TASK_FILES_H

#include <sched.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct tl_task_files_entry {
  int tid;
  int stat, schedstat, sched; /* -1: not kept (opened when read) */
  bool seen;                  /* listed in the current sample */
  bool has_allowed;
  char allowed[256]; /* Cpus_allowed list, refreshed every few samples */
  cpu_set_t mask;    /* what `allowed` was formatted from */
} tl_task_files_entry;

typedef struct tl_task_files tl_task_files;

/* cap: the most threads it keeps entries for. */
tl_task_files *tl_task_files_init(int cap);
void tl_task_files_close(tl_task_files *tf);
/* The entry of tid (marked seen), opening its files while the budget
 * allows; NULL when the thread is gone or the cache is full. */
tl_task_files_entry *tl_task_files_for(tl_task_files *tf, int tid);
/* Reads one of tid's files ("stat", "schedstat", "sched") into buf: through
 * its kept descriptor fd, or opened now when fd < 0. Bytes, or -errno. */
ssize_t tl_task_files_read(int fd, int tid, const char *name, char *buf,
                           size_t cap);
/* Drops the entries of threads not seen since the last prune. */
void tl_task_files_prune(tl_task_files *tf);
/* Descriptors open now. */
int tl_task_files_kept(const tl_task_files *tf);
/* How many descriptors the cache may keep open: a quarter of the soft
 * RLIMIT_NOFILE as it is now (the rest is the connections'), at most three
 * per thread of cap. Any thread. */
int tl_task_files_budget(int cap);

#endif
