/* A lab run's result: wrk's summary, the figure measured against the
 * model's prediction, the kernel's evidence before and after, the
 * experiment's check, and the verdict in words. Observer thread only. */
#ifndef TL_OBSERVER_LAB_VERDICT_H
#define TL_OBSERVER_LAB_VERDICT_H

#include "observer/lab_run.h"

/* The variant's wrk is done (or never ran): its record (a new reference):
 * id, label, settings read back, measured, predicted (from those
 * settings), ratio, unit, evidence, series, check. */
json_t *tl_lab_verdict_variant(tl_lab *lab);
/* Every variant is done or the run stopped: fills lab->result with the
 * variants and one verdict {"text","consistent"} computed from their
 * figures and settings. */
void tl_lab_verdict_build(tl_lab *lab);
/* The verdict of variants (records as above) for exp; pure. */
json_t *tl_lab_verdict_compare(json_t *exp, json_t *variants);

#endif
