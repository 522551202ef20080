/* process_sums with no worker listed yet (every worker dead between two
 * samples, as in a run of young deaths): nothing to sort. Its list is
 * NULL then, and qsort(NULL, 0) is undefined (UBSan stopped the
 * supervisor on it in the sanitizer suite). */
#include "config.h"

#include <check.h>
#include "tl_check.h"
#include <stdlib.h>
#include <string.h>

#include "core/server.h"
#include "observer/process_sums.h"
#include "observer/snapshot.h"

START_TEST(no_worker_listed) {
  tl_process_sums *ps = tl_process_sums_init();
  static tl_server srv;
  static tl_snapshot snap;
  memset(&srv, 0, sizeof(srv));
  memset(&snap, 0, sizeof(snap));
  srv.procs = (struct tl_proc_table *) &srv; /* never read: no worker */
  for (int k = 0; k < 3; k++)
    tl_process_sums_threads(ps, &srv, NULL, &snap, 0, 0.5);
  ck_assert_int_eq(snap.nthreads, 0);
  tl_process_sums_close(ps);
}
END_TEST

TL_CHECK_MAIN("process_sums_empty", no_worker_listed)
