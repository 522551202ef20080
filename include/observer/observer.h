/* The observer: its own thread and libuv loop on --admin-port, so that it
 * answers while the workload loop is blocked. It samples statistics once
 * per period and serves the dashboard, /stats, /stats/stream, /metrics,
 * /healthz and /control. This file is the thread and its lifecycle (start
 * and stop are called on the main thread); the connections are
 * admin_conn.h, what they answer endpoints.h (behind guard.h), control.h
 * and sse.h. */
#ifndef TL_OBSERVER_OBSERVER_H
#define TL_OBSERVER_OBSERVER_H

#include "core/server.h"
#include "base/thread.h"

typedef struct tl_observer tl_observer;

/* Main thread: binds the admin listener and starts the observer thread;
 * returns once it listens (0) or failed (negative, message on stderr). */
int tl_observer_start(tl_observer **out, tl_server *srv, tl_registry *reg);
int tl_observer_port(const tl_observer *obs);
/* Stops the thread (from the main thread) and frees the observer. */
void tl_observer_stop(tl_observer *obs);

#endif
