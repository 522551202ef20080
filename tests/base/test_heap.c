/* base/heap: after tl_heap_tune, freeing the top of the heap does not give
 * it back to the kernel (the program break stays where it was); glibc's
 * default would have trimmed it. */
#include "config.h"

#include <check.h>
#include "tl_check.h"
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/heap.h"

#define NBLK 64
#define BLK  (32 * 1024) /* below the mmap threshold: from the heap */

START_TEST(freed_top_of_heap_stays) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  TL_SKIP("a sanitizer's allocator replaces glibc's heap");
#endif
  ck_assert_int_eq(tl_heap_tune(), 0);
  void *b[NBLK];
  char *before = sbrk(0);
  for (int i = 0; i < NBLK; i++) {
    b[i] = malloc(BLK);
    ck_assert_ptr_nonnull(b[i]);
    ((volatile char *) b[i])[0] = 1;
  }
  char *grown = sbrk(0);
  /* 2 MiB came from the break (the test's heap had not that much free). */
  ck_assert_msg(grown - before >= (NBLK / 2) * BLK, "break grew %td bytes",
                grown - before);
  for (int i = NBLK - 1; i >= 0; i--)
    free(b[i]);
  char *after = sbrk(0);
  ck_assert_msg(after == grown, "the heap shrank by %td bytes", grown - after);
}
END_TEST

TL_CHECK_MAIN("heap", freed_top_of_heap_stays)
