/* Blocked slices inside lock steps: a binary search per slice in the
 * steps sorted by (tid, start). Steps of one thread never overlap. */
#include "config.h"

#include "observer/sched_lockwait.h"

#include <stdlib.h>

static int step_cmp(const void *a, const void *b) {
  const tl_sched_lockstep *x = a, *y = b;
  if (x->tid != y->tid)
    return x->tid < y->tid ? -1 : 1;
  return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

/* The step of tid that starts last at or before t, or NULL. */
static const tl_sched_lockstep *step_at(const tl_sched_lockstep *st, size_t n,
                                        int tid, uint64_t t) {
  size_t lo = 0, hi = n; /* first index whose (tid, start) > (tid, t) */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (st[mid].tid < tid || (st[mid].tid == tid && st[mid].start_ns <= t))
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo > 0 && st[lo - 1].tid == tid ? &st[lo - 1] : NULL;
}

size_t tl_sched_lockwait_mark(tl_sched_slice *sl, size_t n,
                              tl_sched_lockstep *steps, size_t nsteps) {
  if (nsteps == 0)
    return 0;
  qsort(steps, nsteps, sizeof *steps, step_cmp);
  size_t marked = 0;
  for (size_t i = 0; i < n; i++) {
    if (sl[i].end != TL_SEND_BLOCKED)
      continue;
    const tl_sched_lockstep *p =
        step_at(steps, nsteps, sl[i].tid, sl[i].end_ns);
    if (p && sl[i].end_ns < p->end_ns) {
      sl[i].on_lock = true;
      marked++;
    }
  }
  return marked;
}
