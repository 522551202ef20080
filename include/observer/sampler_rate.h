/* The sampler's per-second rate of a cumulative counter, shared by its
 * parts (sampler_*.c). A counter that went back (a restart) gives 0. */
#ifndef TL_OBSERVER_SAMPLER_RATE_H
#define TL_OBSERVER_SAMPLER_RATE_H

#include <stdint.h>

static inline double tl_sampler_rate(uint64_t now, uint64_t before,
                                     double period_s) {
  return period_s > 0 && now >= before ? (double) (now - before) / period_s
                                       : 0.0;
}

#endif
