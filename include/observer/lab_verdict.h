/* A lab run's result: wrk's summary, the figure measured against the
 * model's prediction, the kernel's evidence before and after, the
 * experiment's check, and the verdict in words. Observer thread only. */
#ifndef TL_OBSERVER_LAB_VERDICT_H
#define TL_OBSERVER_LAB_VERDICT_H

#include "observer/lab_run.h"

/* wrk is done (or never ran): fills lab->result. */
void tl_lab_verdict_build(tl_lab *lab);

#endif
