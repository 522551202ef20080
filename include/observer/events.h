/* The event log: a bounded record (the last TL_EVENTS_MAX) of what changed
 * while the server ran, each with its wall-clock time and a plain text:
 * control changes (any key of the /control state, found by comparing the
 * state before and after, so a new control key needs no code here) and
 * starts and ends of load (the request rate crossing a threshold after
 * idle). The dashboard draws them as chart markers and an event log.
 * Observer thread only. */
#ifndef TL_OBSERVER_EVENTS_H
#define TL_OBSERVER_EVENTS_H

#include <stdint.h>

#include "base/buf.h"

#define TL_EVENTS_MAX       200
/* Requests per second at or above which the server counts as loaded. */
#define TL_EVENTS_LOAD_RPS  5.0
/* Load starts when the rate, smoothed over about this long, reaches the
 * threshold: one stray request in a 100 ms period is not a load. */
#define TL_EVENTS_SMOOTH_MS 1000.0
/* Load ends after this long below the threshold (and two periods at
 * least): a short pause inside a run (a wrk restart) is not an end. */
#define TL_EVENTS_QUIET_MS  2000.0

typedef enum tl_event_kind {
  TL_EVENT_CONTROL,
  TL_EVENT_LOAD_START,
  TL_EVENT_LOAD_END
} tl_event_kind;

typedef struct tl_event {
  uint64_t id;    /* 1, 2, ...: the dashboard's key for "new" */
  double time_ms; /* wall clock, Unix epoch ms */
  tl_event_kind kind;
  char key[24];          /* control: the state key ("mode"); else "" */
  char from[32], to[32]; /* control: old and new value as JSON text */
  char text[160]; /* "mode pool → async", "load started: 1,830 req/s" */
} tl_event;

typedef struct tl_events tl_events;

tl_events *tl_events_init(void);
void tl_events_close(tl_events *ev);

/* Appends one event (the oldest is forgotten when the log is full). */
const tl_event *tl_events_add(tl_events *ev, tl_event_kind kind, double time_ms,
                              const char *text);
/* One control event per key whose value differs between two flat JSON
 * objects of the /control state ({"mode":"pool","threads":2,...}; "ok" is
 * ignored). Returns how many were added. */
int tl_events_control_diff(tl_events *ev, double time_ms, const char *before,
                           const char *after);
/* Feeds one period's request rate: adds "load started" when the smoothed
 * rate reaches TL_EVENTS_LOAD_RPS after idle, "load ended" once the rate
 * stayed below it for TL_EVENTS_QUIET_MS. */
void tl_events_observe_load(tl_events *ev, double time_ms, double rps,
                            double period_ms);

/* Events held, oldest first: index 0 .. count-1. */
int tl_events_count(const tl_events *ev);
const tl_event *tl_events_at(const tl_events *ev, int i);
/* A JSON array of the latest `latest` events (all: latest < 0), oldest
 * first (doc/stats-json.md, "events"). */
void tl_events_render(const tl_events *ev, int latest, tl_buf *b);

#endif
