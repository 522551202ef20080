/* --processes N seen as one server: the supervisor's /stats shows the
 * workers' counters summed (requests, connections, latency, queue, lag:
 * every chart and the header read them) and lists every worker's threads
 * beside its own, each with its pid, from the scoreboard (core/
 * score_publish.h) and /proc/PID/task. A worker that died keeps counting
 * with its last figures, so that totals never go backwards. Observer
 * thread only. */
#ifndef TL_OBSERVER_PROCESS_SUMS_H
#define TL_OBSERVER_PROCESS_SUMS_H

#include "http/loop.h"
#include "observer/snapshot.h"
#include "observer/thread_birth.h"

struct tl_server;

typedef struct tl_process_sums tl_process_sums;

tl_process_sums *tl_process_sums_init(void);
void tl_process_sums_close(tl_process_sums *ps);
/* Supervisor only (srv->procs): adds the workers' counters into sum (the
 * supervisor's own loops: none); loop_idle_ns is the mean over their
 * loops, as the utilisation reads it. Returns false without a table. */
bool tl_process_sums_add(tl_process_sums *ps, const struct tl_server *srv,
                         tl_loop_counters *sum);
/* The workers' pool queues, summed at the last tl_process_sums_add. */
uint64_t tl_process_sums_queue_depth(const tl_process_sums *ps);
/* Appends every worker process's threads to s->threads (up to cap),
 * from s->procs (sampled before). */
void tl_process_sums_threads(tl_process_sums *ps, const struct tl_server *srv,
                             tl_thread_birth *birth, tl_snapshot *s, int cap,
                             double period_s);

#endif
