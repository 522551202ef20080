/* GET /lab/report: the lab's runs as one self-contained HTML page (no
 * external asset: inline CSS and SVG), printable: per experiment its
 * question, the latest run's variants with their settings, figures and
 * prediction, a bar chart (one unit a chart) and the verdict. Pure, any
 * thread. */
#ifndef TL_OBSERVER_LAB_REPORT_H
#define TL_OBSERVER_LAB_REPORT_H

#include <jansson.h>

#include "base/buf.h"

/* Appends the page to out: experiments (GET /lab's list, for the order
 * and the questions) and runs (GET /lab/runs' runs, oldest first; the
 * latest run of each experiment is shown). */
void tl_lab_report_html(json_t *experiments, json_t *runs, tl_buf *out);

#endif
