/* --processes N: the supervisor (nginx's master). It reserves the port,
 * creates the scoreboard, starts N worker processes before it creates any
 * thread, then runs the observer (dashboard, /stats, /control) and no
 * task. Each worker is this binary re-executed with hidden arguments
 * (--worker-of INDEX,SHMFD,CHANFD): a full server in the chosen mode with
 * its own loop(s) and pool, on the shared port (SO_REUSEPORT). A worker
 * that dies is logged, recorded and restarted with backoff; SIGTERM or
 * SIGINT drains every worker and exits 0.
 *
 * Threads: everything here runs on the supervisor's main thread (the
 * observer reads the process table under its mutex). */
#ifndef TL_APP_SUPERVISOR_H
#define TL_APP_SUPERVISOR_H

#include "core/options.h"

/* Runs the supervisor until it stops; returns the exit code. */
int tl_supervisor_main(const tl_config *cfg, int argc, char **argv);

#endif
