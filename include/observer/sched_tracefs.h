/* Reading the sched tracepoints' format files when tracefs is not
 * mounted, without changing anything global: a short-lived child process,
 * born in its own mount namespace (CLONE_NEWNS, "/" made private so nothing
 * propagates back), mounts tracefs there, sends the files' text back over
 * a pipe and exits, taking its namespace and mount with it. When tracefs
 * is already mounted the files are read directly. Observer thread, at
 * start. */
#ifndef TL_OBSERVER_SCHED_TRACEFS_H
#define TL_OBSERVER_SCHED_TRACEFS_H

#include "observer/sched_format.h"

#include <stddef.h>

/* Reads and parses events/sched/<names[i]>/format into out[i] for i < n.
 * Returns 0, or -1 with a static reason in *why (e.g. the namespace or
 * the mount was refused). */
int tl_sched_tracefs_read(const char *const *names, int n, tl_sched_format *out,
                          const char **why);

#endif
