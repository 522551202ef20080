/* Unit tests: when the sampler lists /proc/self/task again (a listing
 * costs a dentry lookup per thread, so it is skipped while the kernel's
 * thread count and our registry say nothing changed). */
#include "config.h"

#include <check.h>

#include "tl_check.h"
#include "observer/sampler_threads.h"

static bool relist(long count, int known, bool moved, uint64_t seq, bool slow) {
  tl_sampler_pace pace = {.seq = seq, .slow = slow, .refresh_all = false};
  return tl_sampler_threads_relist(count, known, moved, &pace);
}

START_TEST(relist_when_something_changed) {
  /* the first samples always list */
  ck_assert(relist(10, 0, false, 1, true));
  ck_assert(relist(10, 10, false, 1, false));
  /* nothing changed: not even on a slow sample */
  ck_assert(!relist(10, 10, false, 2, false));
  ck_assert(!relist(10, 10, false, 5, true));
  /* the kernel counts another thread, or one fewer */
  ck_assert(relist(11, 10, false, 2, false));
  ck_assert(relist(9, 10, false, 3, false));
  /* our registry changed with the same count (one left, one came) */
  ck_assert(relist(10, 10, true, 3, false));
  /* every TL_SAMPLER_RELIST_EVERY samples anyway */
  ck_assert(relist(10, 10, false, TL_SAMPLER_RELIST_EVERY, false));
  ck_assert(!relist(10, 10, false, TL_SAMPLER_RELIST_EVERY + 1, false));
  ck_assert(relist(10, 10, false, 2 * TL_SAMPLER_RELIST_EVERY, false));
}
END_TEST

START_TEST(relist_on_slow_samples_without_a_usable_count) {
  /* unknown count (0): the slow samples list, as before the count */
  ck_assert(relist(0, 10, false, 5, true));
  ck_assert(!relist(0, 10, false, 6, false));
  /* more threads than the sampler holds: the count can never match */
  ck_assert(
      relist(TL_SAMPLER_MAX_TIDS + 5, TL_SAMPLER_MAX_TIDS, false, 5, true));
  ck_assert(
      !relist(TL_SAMPLER_MAX_TIDS + 5, TL_SAMPLER_MAX_TIDS, false, 6, false));
  /* exactly as many as it holds, all known: a usable count, no listing
   * on a slow sample (mutaudit3) */
  ck_assert(!relist(TL_SAMPLER_MAX_TIDS, TL_SAMPLER_MAX_TIDS, false, 5, true));
  ck_assert(
      relist(TL_SAMPLER_MAX_TIDS, TL_SAMPLER_MAX_TIDS - 1, false, 6, false));
}
END_TEST

TL_CHECK_MAIN("sampler_threads", relist_when_something_changed,
              relist_on_slow_samples_without_a_usable_count)
