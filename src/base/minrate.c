#include "config.h"

#include "base/minrate.h"

void tl_minrate_start(tl_minrate *m, uint64_t now_ms, uint64_t bytes) {
  m->start_ms = m->a_ms = m->b_ms = now_ms;
  m->a_bytes = m->b_bytes = bytes;
}

bool tl_minrate_too_slow(tl_minrate *m, uint64_t now_ms, uint64_t bytes,
                         uint64_t min_per_s) {
  if (now_ms < m->a_ms || bytes < m->a_bytes)
    return false; /* not a running count: nothing to judge */
  uint64_t span = now_ms - m->a_ms;
  bool slow = now_ms - m->start_ms >= TL_MINRATE_GRACE_MS &&
              span >= TL_MINRATE_GRACE_MS &&
              (bytes - m->a_bytes) * 1000 < min_per_s * span;
  if (now_ms - m->b_ms >= TL_MINRATE_WINDOW_MS / 2) {
    m->a_ms = m->b_ms;
    m->a_bytes = m->b_bytes;
    m->b_ms = now_ms;
    m->b_bytes = bytes;
  }
  return slow;
}
