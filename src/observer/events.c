#include "config.h"

#include "observer/events.h"

#include "base/util.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Observer thread only. */
struct tl_events {
  tl_event ring[TL_EVENTS_MAX];
  uint64_t added; /* events ever added; the next id is added + 1 */
  /* load detection */
  bool loaded;
  double smooth_rps; /* exponentially smoothed, over TL_EVENTS_SMOOTH_MS */
  double quiet_ms;   /* below the threshold since, while loaded */
  int quiet_periods;
  double load_requests; /* requests since the load started (rate x period) */
  double load_start_ms;
  double load_peak_rps;
};

tl_events *tl_events_init(void) { return tl_xcalloc(1, sizeof(tl_events)); }

void tl_events_close(tl_events *ev) { free(ev); }

int tl_events_count(const tl_events *ev) {
  return ev->added < TL_EVENTS_MAX ? (int) ev->added : TL_EVENTS_MAX;
}

const tl_event *tl_events_at(const tl_events *ev, int i) {
  uint64_t first = ev->added - (uint64_t) tl_events_count(ev);
  return &ev->ring[(first + (uint64_t) i) % TL_EVENTS_MAX];
}

const tl_event *tl_events_add(tl_events *ev, tl_event_kind kind, double time_ms,
                              const char *text) {
  tl_event *e = &ev->ring[ev->added % TL_EVENTS_MAX];
  memset(e, 0, sizeof(*e));
  e->id = ++ev->added;
  e->time_ms = time_ms;
  e->kind = kind;
  snprintf(e->text, sizeof(e->text), "%s", text);
  return e;
}

/* ---- control changes ------------------------------------------------ */

/* The next "key":value of a flat JSON object from *p; the value is kept
 * as its text (a string without its quotes). False at the end. */
static bool next_member(const char **p, char *k, size_t kcap, char *v,
                        size_t vcap) {
  const char *s = strchr(*p, '"');
  if (!s)
    return false;
  const char *ke = strchr(s + 1, '"');
  if (!ke || ke[1] != ':')
    return false;
  snprintf(k, kcap, "%.*s", (int) (ke - s - 1), s + 1);
  const char *vs = ke + 2, *ve;
  if (*vs == '"') {
    vs++;
    ve = strchr(vs, '"');
    if (!ve)
      return false;
    *p = ve + 1;
  } else {
    ve = vs + strcspn(vs, ",}");
    *p = ve;
  }
  snprintf(v, vcap, "%.*s", (int) (ve - vs), vs);
  return true;
}

/* The value of key in a flat JSON object, or false. */
static bool find_member(const char *obj, const char *key, char *v,
                        size_t vcap) {
  char k[24], val[32];
  const char *p = obj;
  while (next_member(&p, k, sizeof(k), val, sizeof(val))) {
    if (strcmp(k, key) == 0) {
      snprintf(v, vcap, "%s", val);
      return true;
    }
  }
  return false;
}

int tl_events_control_diff(tl_events *ev, double time_ms, const char *before,
                           const char *after) {
  char k[24], to[32], from[32];
  const char *p = after;
  int added = 0;
  while (next_member(&p, k, sizeof(k), to, sizeof(to))) {
    if (strcmp(k, "ok") == 0)
      continue;
    if (!find_member(before, k, from, sizeof(from)))
      snprintf(from, sizeof(from), "?");
    if (strcmp(from, to) == 0)
      continue;
    char text[160];
    snprintf(text, sizeof(text), "%s %s \u2192 %s", k, from, to);
    tl_event *e =
        (tl_event *) tl_events_add(ev, TL_EVENT_CONTROL, time_ms, text);
    snprintf(e->key, sizeof(e->key), "%s", k);
    snprintf(e->from, sizeof(e->from), "%s", from);
    snprintf(e->to, sizeof(e->to), "%s", to);
    added++;
  }
  return added;
}

/* ---- load starts and ends -------------------------------------------- */

void tl_events_observe_load(tl_events *ev, double time_ms, double rps,
                            double period_ms) {
  if (!isfinite(rps))
    return;
  char text[160], a[32], b[32];
  if (!(period_ms > 0))
    return;
  /* alpha ~ 1 - exp(-period / smooth), without libm */
  double alpha = period_ms / (period_ms + TL_EVENTS_SMOOTH_MS);
  ev->smooth_rps += alpha * (rps - ev->smooth_rps);
  if (!ev->loaded) {
    if (ev->smooth_rps < TL_EVENTS_LOAD_RPS)
      return;
    ev->loaded = true;
    ev->quiet_periods = 0;
    ev->quiet_ms = 0;
    ev->load_requests = rps * period_ms / 1e3;
    ev->load_start_ms = time_ms;
    ev->load_peak_rps = rps;
    tl_thousands(a, sizeof(a), rps);
    snprintf(text, sizeof(text), "load started: %s req/s in its first period",
             a);
    tl_events_add(ev, TL_EVENT_LOAD_START, time_ms, text);
    return;
  }
  ev->load_requests += rps * period_ms / 1e3;
  if (rps > ev->load_peak_rps)
    ev->load_peak_rps = rps;
  if (rps >= TL_EVENTS_LOAD_RPS) {
    ev->quiet_periods = 0;
    ev->quiet_ms = 0;
    return;
  }
  ev->quiet_ms += period_ms;
  if (++ev->quiet_periods < 2 || ev->quiet_ms < TL_EVENTS_QUIET_MS)
    return;
  ev->loaded = false;
  ev->smooth_rps = 0;
  /* It ended when the quiet began, not when we were sure of it. */
  double end_ms = time_ms - ev->quiet_ms;
  tl_thousands(a, sizeof(a), ev->load_requests);
  tl_thousands(b, sizeof(b), ev->load_peak_rps);
  snprintf(text, sizeof(text),
           "load ended after %.1f s: %s requests, peak %s req/s",
           (end_ms - ev->load_start_ms) / 1e3, a, b);
  tl_events_add(ev, TL_EVENT_LOAD_END, end_ms, text);
}

/* ---- JSON ------------------------------------------------------------- */

static const char *kind_name(tl_event_kind k) {
  switch (k) {
  case TL_EVENT_CONTROL: return "control";
  case TL_EVENT_LOAD_START: return "load_start";
  case TL_EVENT_LOAD_END: return "load_end";
  }
  return "other";
}

void tl_events_render(const tl_events *ev, int latest, tl_buf *b) {
  int n = tl_events_count(ev);
  int from = latest >= 0 && latest < n ? n - latest : 0;
  tl_buf_putc(b, '[');
  for (int i = from; i < n; i++) {
    const tl_event *e = tl_events_at(ev, i);
    tl_buf_printf(b, "%s{\"id\":%llu,\"time_ms\":%.0f,\"kind\":\"%s\",",
                  i > from ? "," : "", (unsigned long long) e->id, e->time_ms,
                  kind_name(e->kind));
    if (e->kind == TL_EVENT_CONTROL) {
      tl_buf_puts(b, "\"key\":");
      tl_buf_put_json_str(b, e->key, strlen(e->key));
      tl_buf_puts(b, ",\"from\":");
      tl_buf_put_json_str(b, e->from, strlen(e->from));
      tl_buf_puts(b, ",\"to\":");
      tl_buf_put_json_str(b, e->to, strlen(e->to));
      tl_buf_putc(b, ',');
    }
    tl_buf_puts(b, "\"text\":");
    tl_buf_put_json_str(b, e->text, strlen(e->text));
    tl_buf_putc(b, '}');
  }
  tl_buf_putc(b, ']');
}
