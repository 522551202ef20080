/* The one writer of a JSON number for every document the observer renders
 * (/stats, /stats/stream, /stats/history): at most three decimals, trailing
 * zeros dropped ("12.5", "3"), and null for NaN or an infinity, which JSON
 * cannot carry. Pure, any thread. (Prometheus text has its own writer:
 * render_metrics.) */
#ifndef TL_OBSERVER_JSON_NUM_H
#define TL_OBSERVER_JSON_NUM_H

#include "base/buf.h"

void tl_json_num_put(tl_buf *b, double v);

#endif
