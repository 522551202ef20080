#include "config.h"

#include "base/heap.h"

#include <malloc.h>

int tl_heap_tune(void) {
  /* Setting the threshold also stops glibc from moving it (and the mmap
   * threshold) on its own. */
  return mallopt(M_TRIM_THRESHOLD, (int) TL_HEAP_TRIM_BYTES) == 1 ? 0 : -1;
}
