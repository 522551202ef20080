/* When each thread was born: for our threads, the creator's clock just
 * before pthread_create (created_ns) and the thread's own clock first
 * thing in its start routine (first_run_ns); for threads we did not
 * create (libuv's pool, the main thread's exec, the kernel's io_uring
 * workers), the kernel's start time (/proc/PID/task/TID/stat field 22,
 * boot-based clock ticks, converted to CLOCK_MONOTONIC: 1/CLK_TCK
 * resolution) as created_ns, and first_run_ns unknown (0, null) unless it
 * is the main thread (main()'s entry). Observer thread only. */
#ifndef TL_OBSERVER_THREAD_BIRTH_H
#define TL_OBSERVER_THREAD_BIRTH_H

#include <stdint.h>

#include "base/thread.h"
#include "observer/snapshot.h"

typedef struct tl_thread_birth tl_thread_birth;

tl_thread_birth *tl_thread_birth_init(void);
void tl_thread_birth_close(tl_thread_birth *b);
/* Once per sample, before the fills: the boot-to-monotonic offset. */
void tl_thread_birth_begin(tl_thread_birth *b);
/* Fills t's birth for thread t->tid of process pid from what its
 * context recorded (created_ns, first_run_ns; 0 unknown or not ours);
 * main_first_run_ns: when pid's main() started (0 unknown). */
void tl_thread_birth_fill(tl_thread_birth *b, int pid, tl_thread_snap *t,
                          uint64_t created_ns, uint64_t first_run_ns,
                          uint64_t main_first_run_ns);
const char *tl_thread_birth_by_name(int by);

#endif
