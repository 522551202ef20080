/* Renders the history ring and the event log as the JSON of
 * GET /stats/history and of the stream's first event, `history`
 * (doc/stats-json.md, "History"): one array per series, oldest first, so
 * that five minutes of periods stay small. Observer thread only. */
#ifndef TL_OBSERVER_RENDER_HISTORY_H
#define TL_OBSERVER_RENDER_HISTORY_H

#include "base/buf.h"
#include "observer/events.h"
#include "observer/history.h"

/* ev may be NULL (then "events" is empty). */
void tl_render_history(const tl_history *h, const tl_events *ev, tl_buf *b);

#endif
