/* Renders a snapshot as Prometheus text exposition (/metrics): a pure
 * function of the snapshot. Observer thread. */
#ifndef TL_OBSERVER_RENDER_METRICS_H
#define TL_OBSERVER_RENDER_METRICS_H

#include "base/buf.h"
#include "observer/snapshot.h"

void tl_render_metrics(const tl_snapshot *s, tl_buf *out);

#endif
