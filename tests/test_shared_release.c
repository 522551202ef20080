/* After the shared-memory steps end, lock 0 is free again in /stats
 * (mutaudit2): no holder, no waiters, and no thread holding or wanting it,
 * after a hold that another hold waited behind. */
#include "config.h"

#include <check.h>
#include "tl_check.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tl_json.h"
#include "tl_testutil.h"

START_TEST(a_lock_is_free_once_the_holds_end) {
  const char *args[] = {"--mode",      "pool", "--threads", "4",
                        "--sample-ms", "50",   NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  int first = tl_send_get(p.port, "/task?steps=hold:400");
  bool waited = false;
  /* The second hold is sent once the first holds the lock: it waits. */
  ck_assert_msg(
      tl_wait_stats_set(p.admin_port, "server.shared.holder_tid", 300),
      "the first hold never took the lock");
  int second = tl_send_get(p.port, "/task?steps=hold:1");
  ck_assert_int_eq(tl_read_status(first), 200);
  ck_assert_int_eq(tl_read_status(second), 200);
  /* Both done: once the sampler saw both acquisitions, nothing holds or
   * waits for the lock. */
  tj *j = NULL;
  for (int i = 0; i < 200; i++) {
    if (j)
      tj_release(j);
    j = tl_get_stats(p.admin_port);
    if (tj_num(j, "server.shared.acquisitions", 0) == 2 &&
        tj_num(j, "server.shared.running", -1) == 0)
      break;
    usleep(50 * 1000);
  }
  ck_assert_int_eq((int) tj_num(j, "server.shared.acquisitions", 0), 2);
  waited = tj_num(j, "server.shared.contended", 0) >= 1;
  ck_assert_msg(tj_is_null(j, "server.shared.holder_tid"),
                "lock 0 still held by %.0f after every hold ended",
                tj_num(j, "server.shared.holder_tid", 0));
  ck_assert_int_eq((int) tj_num(j, "server.shared.waiters", -1), 0);
  const tj *ts = tj_get(j, "server.shared.threads");
  ck_assert_ptr_nonnull(ts);
  ck_assert_int_ge((int) ts->n, 1);
  for (size_t k = 0; k < ts->n; k++) {
    ck_assert(tj_is_null(&ts->kids[k], "wants"));
    const tj *h = tj_get(&ts->kids[k], "holds");
    ck_assert_msg(h && h->n == 0, "thread %.0f still holds a lock",
                  tj_num(&ts->kids[k], "tid", 0));
  }
  tj_release(j);
  printf("two holds, the second %s behind the first: lock 0 free after\n",
         waited ? "waited" : "did not wait");
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* Its own timeout: a loaded machine takes more than Check's default. */
int main(void) {
  Suite *s = suite_create("shared_release");
  TCase *tc = tcase_create("a_lock_is_free_once_the_holds_end");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, a_lock_is_free_once_the_holds_end);
  suite_add_tcase(s, tc);
  return tl_check_run(s);
}
