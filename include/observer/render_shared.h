/* server.shared in /stats (doc/stats-json.md) and the deadlock insight,
 * from the snapshot's tl_shared_obs. Observer thread. */
#ifndef TL_OBSERVER_RENDER_SHARED_H
#define TL_OBSERVER_RENDER_SHARED_H

#include "base/buf.h"
#include "observer/snapshot.h"

/* Appends ,"shared":{...} (inside "server"). */
void tl_render_shared_json(tl_buf *b, const tl_snapshot *s);
/* Appends "shared":{counter, counter_addr, counter_page}, (or null,) for
 * one entry of processes[]. */
void tl_render_shared_process(tl_buf *b, const tl_process_snap *p);
/* Adds the "deadlock" insight when a cycle is found. */
void tl_render_shared_insights(tl_snapshot *s);

#endif
