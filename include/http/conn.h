/* Workload connections: reading, parsing, ordered response slots (one per
 * pipelined request), dispatch, and writing. Loop thread only: only the
 * loop that accepted a connection touches it. While a request's task runs
 * elsewhere, its task and response buffer belong to that thread, and the
 * task comes back through its completion callback. */
#ifndef TL_HTTP_CONN_H
#define TL_HTTP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct tl_loop;
typedef struct tl_conn_set tl_conn_set;

/* A loop's connection state. With uring, responses are batched through
 * io_uring where the kernel allows; *why says why not (static text), or
 * is NULL when they are. */
tl_conn_set *tl_conn_set_init(bool uring, const char **why);
/* After every connection has closed. */
void tl_conn_set_close(tl_conn_set *set);
size_t tl_conn_count(const tl_conn_set *set);

/* Accepts one pending connection from listener. */
void tl_conn_accept(struct tl_loop *loop, uv_stream_t *listener);
/* Write every connection that has ready responses (once per iteration). */
void tl_conn_flush_dirty(struct tl_loop *loop);
/* Enforce header/idle timeouts and lingering closes. */
void tl_conn_sweep(struct tl_loop *loop, uint64_t now_ms);
/* Stop reading everywhere; close idle connections, and the others once
 * their pending responses are written. */
void tl_conn_drain_all(struct tl_loop *loop);
/* Close every connection now. */
void tl_conn_close_all(struct tl_loop *loop);

#endif
