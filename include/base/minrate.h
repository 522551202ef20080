/* A minimum transfer rate over a sliding window, for request bodies
 * (--body-min-rate). Fed a running byte count at irregular times (the
 * connection sweep), it tells when the bytes of the last 1-2 seconds came
 * slower than the minimum. The first second is free (a client may start
 * slowly), and nothing earned before the window counts: unlike a credit
 * that grows with every byte (mod_reqtimeout's MinRate), a fast start
 * cannot pay for a trickle later. Pure; any thread, one owner. */
#ifndef TL_BASE_MINRATE_H
#define TL_BASE_MINRATE_H

#include <stdbool.h>
#include <stdint.h>

#define TL_MINRATE_GRACE_MS  1000
#define TL_MINRATE_WINDOW_MS 2000

typedef struct tl_minrate {
  uint64_t start_ms;
  /* The window runs from anchor a to now; b becomes a every half window. */
  uint64_t a_ms, a_bytes;
  uint64_t b_ms, b_bytes;
} tl_minrate;

/* Measurement begins at now_ms with `bytes` already counted. */
void tl_minrate_start(tl_minrate *m, uint64_t now_ms, uint64_t bytes);
/* bytes: the running count at now_ms. True when, after the first second,
 * the window's rate is below min_per_s bytes per second. */
bool tl_minrate_too_slow(tl_minrate *m, uint64_t now_ms, uint64_t bytes,
                         uint64_t min_per_s);

#endif
