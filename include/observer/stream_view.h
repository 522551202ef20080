/* What /stats/stream carries: the snapshot as /stats has it while it is
 * small; with more than TL_STREAM_THREADS threads, the busiest of them
 * (plus every thread that is not a worker) and one aggregate of the rest
 * ("folded"), and a thinned timeline, so that an update stays well under
 * 100 KB at 1,000 threads. /stats stays complete. Observer thread only. */
#ifndef TL_OBSERVER_STREAM_VIEW_H
#define TL_OBSERVER_STREAM_VIEW_H

#include "base/buf.h"
#include "observer/snapshot.h"

/* Threads listed before the rest is folded. */
#define TL_STREAM_THREADS  64
/* Timeline steps the stream keeps once it folds threads. */
#define TL_STREAM_TIMELINE 300

typedef struct tl_stream_view tl_stream_view;

tl_stream_view *tl_stream_view_init(void);
void tl_stream_view_close(tl_stream_view *v);
/* Renders the stream's JSON of s into out (cleared first). */
void tl_stream_view_render(tl_stream_view *v, const tl_snapshot *s,
                           tl_buf *out);

#endif
