#include "config.h"

#include "observer/render_history.h"

#include "observer/json_num.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* A float series value: null when unknown. */
static void put_val(tl_buf *b, double v) { tl_json_num_put(b, v); }

static void put_pct(tl_buf *b, uint8_t v) {
  if (v == TL_HISTORY_NO_PCT)
    tl_buf_puts(b, "null");
  else
    tl_buf_put_u64(b, v);
}

/* "name":[f(period 0),f(period 1),...] for a float member at `off`. */
static void series(tl_buf *b, const tl_history *h, const char *name,
                   size_t off) {
  tl_buf_printf(b, "\"%s\":[", name);
  int n = tl_history_count(h);
  for (int i = 0; i < n; i++) {
    const char *p = (const char *) tl_history_at(h, i);
    float v;
    memcpy(&v, p + off, sizeof(v));
    if (i)
      tl_buf_putc(b, ',');
    put_val(b, v);
  }
  tl_buf_puts(b, "],");
}

#define SERIES(b, h, name, member)                                             \
  series(b, h, name, offsetof(tl_history_period, member))

/* "name":[[a0,a1,...] per period] for a byte array member. */
static void pct_rows(tl_buf *b, const tl_history *h, const char *name,
                     size_t off, bool cores) {
  tl_buf_printf(b, "\"%s\":[", name);
  int n = tl_history_count(h);
  for (int i = 0; i < n; i++) {
    const tl_history_period *p = tl_history_at(h, i);
    const uint8_t *row = (const uint8_t *) p + off;
    int k = cores ? p->ncores : p->nworkers;
    tl_buf_puts(b, i ? ",[" : "[");
    for (int j = 0; j < k; j++) {
      if (j)
        tl_buf_putc(b, ',');
      put_pct(b, row[j]);
    }
    tl_buf_putc(b, ']');
  }
  tl_buf_puts(b, "],");
}

static void routes(tl_buf *b, const tl_history *h) {
  int n = tl_history_count(h);
  tl_buf_puts(b, "\"routes\":{");
  bool first = true;
  for (int r = 0; r < TL_ROUTE_COUNT; r++) {
    /* A route with no request in the whole window is left out. */
    bool any = false;
    for (int i = 0; i < n && !any; i++)
      any = tl_history_at(h, i)->route_rate[r] > 0 ||
            isfinite(tl_history_at(h, i)->route_p50[r]);
    if (!any)
      continue;
    tl_buf_printf(b, "%s\"%s\":{", first ? "" : ",",
                  tl_route_name((tl_route) r));
    first = false;
    SERIES(b, h, "rate", route_rate[r]);
    SERIES(b, h, "p50_ms", route_p50[r]);
    SERIES(b, h, "p99_ms", route_p99[r]);
    b->len--; /* the trailing comma */
    tl_buf_putc(b, '}');
  }
  tl_buf_puts(b, "},");
}

void tl_render_history(const tl_history *h, const tl_events *ev, tl_buf *b) {
  int n = tl_history_count(h);
  tl_buf_reserve(b, 4096 + (size_t) n * 400);
  tl_buf_printf(
      b, "{\"seconds\":%d,\"capacity\":%d,\"count\":%d,\"bytes\":%zu,",
      TL_HISTORY_SECONDS, tl_history_capacity(h), n, tl_history_bytes(h));
  tl_buf_puts(b, "\"seq\":[");
  for (int i = 0; i < n; i++)
    tl_buf_printf(b, "%s%llu", i ? "," : "",
                  (unsigned long long) tl_history_at(h, i)->seq);
  tl_buf_puts(b, "],\"time_ms\":[");
  for (int i = 0; i < n; i++)
    tl_buf_printf(b, "%s%.0f", i ? "," : "", tl_history_at(h, i)->time_ms);
  tl_buf_puts(b, "],");
  SERIES(b, h, "period_ms", period_ms);
  SERIES(b, h, "requests_rate", requests_rate);
  SERIES(b, h, "errors_rate", errors_rate);
  SERIES(b, h, "latency_p50_ms", lat_p50);
  SERIES(b, h, "latency_p90_ms", lat_p90);
  SERIES(b, h, "latency_p99_ms", lat_p99);
  routes(b, h);
  SERIES(b, h, "queue_depth", queue_depth);
  SERIES(b, h, "lag_p50_ms", lag_p50);
  SERIES(b, h, "lag_p99_ms", lag_p99);
  SERIES(b, h, "lag_max_ms", lag_max);
  SERIES(b, h, "loop_utilization_pct", loop_util_pct);
  SERIES(b, h, "coro_alive", coro_alive);
  SERIES(b, h, "coro_runnable", coro_runnable);
  pct_rows(b, h, "core_busy_pct", offsetof(tl_history_period, core_busy_pct),
           true);
  pct_rows(b, h, "worker_cpu_pct", offsetof(tl_history_period, worker_cpu_pct),
           false);
  pct_rows(b, h, "worker_on_cpu_pct",
           offsetof(tl_history_period, worker_on_cpu_pct), false);
  pct_rows(b, h, "worker_runq_pct",
           offsetof(tl_history_period, worker_runq_pct), false);
  tl_buf_puts(b, "\"events\":");
  if (ev)
    tl_events_render(ev, -1, b);
  else
    tl_buf_puts(b, "[]");
  tl_buf_putc(b, '}');
}
