/* Reading wrk's --latency summary: requests, Requests/sec, the latency
 * percentiles, non-2xx responses and socket errors. Pure, any thread. */
#ifndef TL_OBSERVER_LAB_WRK_H
#define TL_OBSERVER_LAB_WRK_H

#include <stdbool.h>
#include <stddef.h>

typedef struct tl_lab_wrk {
  bool ok;                       /* a Requests/sec line was found */
  double requests;               /* "N requests in ..." */
  double rps;                    /* Requests/sec */
  double p50_ms, p90_ms, p99_ms; /* -1 when wrk did not print them */
  double non2xx;        /* "Non-2xx or 3xx responses" (0 when absent) */
  double socket_errors; /* connect + read + write + timeout */
} tl_lab_wrk;

void tl_lab_wrk_parse(const char *text, size_t len, tl_lab_wrk *out);

#endif
