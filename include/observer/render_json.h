/* Renders a snapshot as the /stats JSON document (doc/stats-json.md):
 * a pure function of the snapshot. Observer thread. */
#ifndef TL_OBSERVER_RENDER_JSON_H
#define TL_OBSERVER_RENDER_JSON_H

#include "base/buf.h"
#include "observer/snapshot.h"

void tl_render_json(const tl_snapshot *s, tl_buf *out);

#endif
