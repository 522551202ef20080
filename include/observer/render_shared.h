/* server.shared in /stats (doc/stats-json.md) and the deadlock insight,
 * from the snapshot's tl_shared_obs. Observer thread. */
#ifndef TL_OBSERVER_RENDER_SHARED_H
#define TL_OBSERVER_RENDER_SHARED_H

#include "base/buf.h"
#include "observer/snapshot.h"

/* Appends ,"shared":{...} (inside "server"). */
void tl_render_shared_json(tl_buf *b, const tl_snapshot *s);
/* Adds the "deadlock" insight when a cycle is found. */
void tl_render_shared_insights(tl_snapshot *s);

#endif
