/* A worker process's ties to its supervisor (--processes N): it publishes
 * its counters into its scoreboard slot every 50 ms, and reads control
 * messages (mode, threads, pin) from its end of a socketpair; when the
 * supervisor's end closes, the worker drains and exits.
 *
 * Threads: everything here runs on the worker's main loop. */
#ifndef TL_CORE_WORKER_LINK_H
#define TL_CORE_WORKER_LINK_H

#include <sched.h>
#include <stdint.h>

#include "core/scoreboard.h"

struct tl_server;

/* One control message on the channel (SOCK_SEQPACKET: one per read). */
typedef struct tl_ctl_msg {
  int32_t mode;    /* tl_mode, or -1 */
  int32_t threads; /* or 0 */
  int32_t pin;     /* 0/1, or -1 */
  int32_t cpus_op; /* workers' CPUs: -1 keep, 0 all inherited, 1 cpus */
  cpu_set_t cpus;
  int32_t promote; /* 1: a spare starts serving (listens); else 0 */
} tl_ctl_msg;

typedef struct tl_worker_link tl_worker_link;

/* After tl_server_init: marks the slot ready (a spare: TL_SLOT_SPARE
 * until a promote message) and starts publishing. */
int tl_worker_link_start(tl_worker_link **out, struct tl_server *srv,
                         tl_score_slot *slot, int chan_fd);
/* Before the server's handles close: stop and free (in close callbacks). */
void tl_worker_link_stop(tl_worker_link *w);

#endif
