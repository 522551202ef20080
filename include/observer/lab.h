/* The lab (SPEC "Lab"): the experiments of loadtest/experiments.json, each
 * with the model's prediction for this machine; one run at a time applies
 * an experiment's setup through the /control path, runs wrk (uv_spawn on
 * the observer loop) against the workload listener for a bounded time,
 * streams progress as SSE event `lab`, then measures against the
 * prediction, gathers the kernel's evidence and restores the settings.
 * GET /lab, GET /lab/runs, POST /lab/run?id=ID, POST /lab/cancel.
 * Observer thread only. */
#ifndef TL_OBSERVER_LAB_H
#define TL_OBSERVER_LAB_H

#include <uv.h>

#include "core/server.h"
#include "base/parser.h"
#include "observer/admin_conn.h"
#include "observer/obs_control.h"
#include "observer/sampler.h"
#include "observer/sse.h"

typedef struct tl_lab tl_lab;

/* Reads the experiments file (installed, else the source tree's). */
tl_lab *tl_lab_init(uv_loop_t *uv, tl_server *srv, tl_sampler *stats,
                    tl_sse *sse, tl_obs_control *ctl);
/* On stop: kills a running wrk; the loop's close-all closes the handles. */
void tl_lab_stop(tl_lab *lab);
/* After the loop has finished. */
void tl_lab_close(tl_lab *lab);

/* Handles a request whose path starts with /lab (path without query). */
void tl_lab_handle(tl_lab *lab, tl_admin_conn *c, const tl_request *req,
                   const char *path, size_t plen, const char *q, size_t qlen);

#endif
