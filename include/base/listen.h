/* A TCP listener on a libuv loop, for the workload loops and the observer
 * alike. Call it on the thread that runs `uv`. */
#ifndef TL_BASE_LISTEN_H
#define TL_BASE_LISTEN_H

#include <uv.h>

/* Binds host:port (IPv4 or IPv6 literal; port 0 picks a free one) and
 * listens. Returns 0 and the bound port in *bound, or a negative UV code
 * after a message on stderr naming `what` (the handle is then closing). */
int tl_listen(uv_loop_t *uv, uv_tcp_t *tcp, const char *host, int port,
              int backlog, uv_connection_cb cb, const char *what, int *bound);

/* The same with SO_REUSEPORT set before bind, so that several loops or
 * processes (same user) each have their own listener on one port and the
 * kernel spreads new connections over them. */
int tl_listen_shared(uv_loop_t *uv, uv_tcp_t *tcp, const char *host, int port,
                     int backlog, uv_connection_cb cb, const char *what,
                     int *bound);

/* The same, bound but not listening: a socket in the SO_REUSEPORT group
 * that the kernel gives no connection until uv_listen (a spare worker's
 * listener before it is promoted). */
int tl_listen_shared_bound(uv_loop_t *uv, uv_tcp_t *tcp, const char *host,
                           int port, const char *what, int *bound);

#endif
