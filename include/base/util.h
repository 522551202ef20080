/* Small helpers shared by every module: allocation that never returns NULL,
 * container_of, and the monotonic clock. Any thread. */
#ifndef TL_BASE_UTIL_H
#define TL_BASE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TL_CONTAINER_OF(ptr, type, field)                                      \
  ((type *) ((char *) (ptr) -offsetof(type, field)))

#define TL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Like h2o: running out of memory is fatal (abort with a message), so no
 * caller has a NULL check to forget. */
void *tl_xmalloc(size_t n);
void *tl_xcalloc(size_t n, size_t size);
void *tl_xrealloc(void *p, size_t n);

static inline uint64_t tl_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static inline uint64_t tl_thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* Number of online cores (at least 1). */
int tl_ncpu(void);

/* v rounded to a whole number, thousands separated as the dashboard
 * writes them: 1830.4 -> "1,830", -1234 -> "-1,234" (cut to cap). */
void tl_thousands(char *out, size_t cap, double v);

/* host as a URL spells it (RFC 3986): an IPv6 address in brackets. Returns
 * buf, truncated to cap (strlen(host) + 3 holds it). */
const char *tl_url_host(const char *host, char *buf, size_t cap);

#endif
