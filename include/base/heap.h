/* The allocator's settings for a serving process. Main thread, before any
 * other thread exists. */
#ifndef TL_BASE_HEAP_H
#define TL_BASE_HEAP_H

#include <stddef.h>

/* Free memory at the top of a heap below this stays mapped. */
#define TL_HEAP_TRIM_BYTES ((size_t) 64 << 20)

/* glibc gives the top of its heap back to the kernel (brk, or madvise for
 * a thread's arena) as soon as 128 KiB of it are free, and the next
 * allocations fault the pages in again: under pipelined load perf showed
 * that shrink-and-regrow cycle (brk, page faults, page clearing) as about
 * a tenth of the server's CPU. Keeping up to TL_HEAP_TRIM_BYTES of free
 * heap mapped ends it; the price is a resident size that stays at its
 * high-water mark plus at most that much. Returns 0, or -1 when the
 * allocator refused. */
int tl_heap_tune(void);

#endif
