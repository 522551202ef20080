/* Copy-on-write, measured: what the kernel says about the shared counter's
 * page (exec/shared_steps) across a fork. threadlab's worker processes are
 * re-executed, so none of them ever shares a page with its parent; this
 * probe forks a short-lived child that reads its pagemap entry for the
 * counter before and after its first write to it, while the parent reads
 * its own, so the dashboard can show the one thing a fork does share.
 *
 * Threads: tl_shared_cow_probe once, on the main thread while the process
 * has no other thread (fork is only safe then); the result is then
 * read-only (its readers are threads created later). */
#ifndef TL_EXEC_SHARED_COW_H
#define TL_EXEC_SHARED_COW_H

#include <stdbool.h>
#include <stdint.h>

/* One pagemap entry (/proc/PID/pagemap: bit 63 present, bit 56 the page
 * is mapped exclusively by this process, bits 0-54 the frame, zero unless
 * CAP_SYS_ADMIN) and the frame's map count (/proc/kpagecount, root only;
 * -1 unknown). */
typedef struct tl_cow_page {
  bool present, exclusive;
  uint64_t pfn; /* 0: hidden */
  int64_t mapcount;
} tl_cow_page;

typedef struct tl_shared_cow {
  bool done;                /* the probe ran and its child answered */
  tl_cow_page parent;       /* the parent, before the fork */
  tl_cow_page child_before; /* the child, before its first write */
  tl_cow_page child_after;  /* the child, after it */
  double fork_ms;           /* fork to the child's answer */
} tl_shared_cow;

/* Main thread, single-threaded, at start. */
void tl_shared_cow_probe(void);
/* Any thread created after the probe: its result (done false: not run or
 * failed). */
const tl_shared_cow *tl_shared_cow_result(void);

/* Pure: parses one pagemap entry. */
tl_cow_page tl_shared_cow_entry(uint64_t e);

#endif
