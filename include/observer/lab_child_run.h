/* A lab variant run in the child server (lab_child): what the lab reads
 * from the child's /stats — its settings read back, its request counters,
 * the figures of the trigger (requests served after a crash or a
 * deadlock was set off) — and the "child" record of the variant. The
 * state machine that calls these is lab_run. Observer thread only. */
#ifndef TL_OBSERVER_LAB_CHILD_RUN_H
#define TL_OBSERVER_LAB_CHILD_RUN_H

#include <jansson.h>
#include <stdbool.h>

#include "observer/lab_run.h"

/* Requests served (process_totals.requests under --processes: it never
 * goes backwards when a worker dies; else server.requests.total) and
 * uptime_ms of a /stats (pure). False when absent. */
bool tl_lab_child_run_counts(json_t *stats, double *total, double *up);
/* A poll's answer (status -1: none): remembered, parsed, and written back
 * with "lab_child" (alive, exit, requests and req/s since the trigger)
 * into lab->child_stats. */
void tl_lab_child_run_took(tl_lab *lab, int status, const char *body,
                           size_t len);
/* The child's settings read back from its last /stats and its command
 * line: {"mode","threads","pin","worker_cpus","coro_slice_ms",
 * "processes","allow_crash","allow_deadlock","child":true,"pid"}. */
json_t *tl_lab_child_run_readback(tl_lab *lab);
/* Whether the child's last /stats shows it settled: its second sample or
 * later, no worker process still starting. */
bool tl_lab_child_run_settled(tl_lab *lab);
/* The trigger of the variant running: its own, else the experiment's
 * (borrowed; NULL: none). */
json_t *tl_lab_child_run_trigger_of(tl_lab *lab);
/* Sends the experiment's trigger ({"path","count"}) to the child's
 * workload port; records the counts it starts from. */
void tl_lab_child_run_trigger(tl_lab *lab);
/* After the load: whether the child's figures are final. A race load's
 * count is exact only once no task runs and every process has published
 * its counter: the requests and the counters must read the same twice in
 * a row (bounded by TL_LAB_QUIET_POLLS). Other loads: at once. */
#define TL_LAB_QUIET_POLLS 12
bool tl_lab_child_run_quiet(tl_lab *lab);
/* The variant record's "child": pid, ports, exit, killed, gone (the pid
 * no longer exists: kill(pid, 0) fails). */
json_t *tl_lab_child_run_record(tl_lab *lab);

#endif
