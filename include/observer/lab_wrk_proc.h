/* The lab's wrk processes: spawned on the observer loop (uv_spawn)
 * against the workload listener, their stdout gathered for lab_wrk's
 * parser; when the last handle closes, the run goes on to restore.
 * Observer thread only. */
#ifndef TL_OBSERVER_LAB_WRK_PROC_H
#define TL_OBSERVER_LAB_WRK_PROC_H

#include <jansson.h>
#include <stdbool.h>

#include "observer/lab_run.h"

/* Spawns wrk for `load` ({"connections","duration_s","path"}) into w; 0 or
 * a UV error (its handles are closed then too). */
int tl_lab_wrk_proc_spawn(tl_lab *lab, tl_lab_wrk_proc *w, json_t *load);
/* Sends sig to every wrk of the run still running. */
void tl_lab_wrk_proc_kill(tl_lab *lab, int sig);
/* Whether a wrk is on the PATH. */
bool tl_lab_wrk_proc_installed(void);

#endif
