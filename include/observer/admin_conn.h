/* The observer's connections: reading, parsing with the base/parser glue
 * (one request at a time), and writing through a small queue. Observer
 * thread only. What a request means is not decided here: each complete
 * request goes to the handler given at tl_admin_conn_conns_init, which answers
 * through the functions below; this module never calls the endpoints. */
#ifndef TL_OBSERVER_ADMIN_CONN_H
#define TL_OBSERVER_ADMIN_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

#include "base/buf.h"
#include "base/parser.h"

typedef struct tl_admin_conns tl_admin_conns;
typedef struct tl_admin_conn tl_admin_conn;

/* One complete request. The request (with its captured headers) stays
 * valid until the handler returns, or while the handler holds the
 * connection (tl_admin_conn_hold). */
typedef void (*tl_admin_handler)(void *ctx, tl_admin_conn *c, tl_request *req);

tl_admin_conns *tl_admin_conn_conns_init(uv_loop_t *uv,
                                         tl_admin_handler handler, void *ctx);
/* Accepts one pending connection from listener. */
void tl_admin_conn_accept(tl_admin_conns *set, uv_stream_t *listener);
/* Closes every connection (their close callbacks run on the next loop
 * turn). */
void tl_admin_conn_close_all(tl_admin_conns *set);
/* After the loop has finished: frees the set. Held connections are freed
 * by their tl_admin_conn_release. */
void tl_admin_conn_conns_close(tl_admin_conns *set);

/* ---- answering the current request --------------------------------- */

/* A response with a body; extra is NULL or complete "Name: value\r\n"
 * lines. The connection closes after it unless the request keeps alive. */
void tl_admin_conn_respond(tl_admin_conn *c, int status, const char *ctype,
                           const char *extra, const void *body, size_t len);
/* An error response with a JSON body {"error":msg,"status":N}. */
void tl_admin_conn_respond_error(tl_admin_conn *c, int status, const char *msg,
                                 const char *extra);
/* A whole response the caller built (e.g. tl_static_respond). */
void tl_admin_conn_send_response(tl_admin_conn *c, const tl_buf *out);

/* ---- streams (one endless response) --------------------------------- */

/* From now on no request is read from c: it carries one endless response
 * (Server-Sent Events). */
void tl_admin_conn_stream(tl_admin_conn *c);
/* Bytes, copied if they cannot be written at once. */
void tl_admin_conn_send(tl_admin_conn *c, const void *data, size_t len);
/* Bytes the caller keeps alive until release(arg), which is called exactly
 * once: at once when the kernel took them all (or on error), else when the
 * queued write finished. No copy: for one event sent to many clients. */
void tl_admin_conn_send_ref(tl_admin_conn *c, const void *data, size_t len,
                            void (*release)(void *arg), void *arg);
/* Bytes queued behind the kernel's socket buffer. */
size_t tl_admin_conn_out_pending(const tl_admin_conn *c);
/* Called once, when c starts closing (not when already closing). */
void tl_admin_conn_on_close(tl_admin_conn *c, void (*cb)(void *arg), void *arg);
void tl_admin_conn_close(tl_admin_conn *c);

/* ---- answering later (the request goes to another thread) ---------- */

/* Reading and parsing stop, input that arrives is held, and c is not freed
 * even if it closes, until tl_admin_conn_release. */
void tl_admin_conn_hold(tl_admin_conn *c);
/* False once c is closing: an answer would go nowhere. */
bool tl_admin_conn_is_open(const tl_admin_conn *c);
/* Ends a hold: parses the held input and reads again, or frees c if it
 * closed meanwhile. Also safe after the loop has finished (it only frees
 * then). */
void tl_admin_conn_release(tl_admin_conn *c);

/* The loop c belongs to (for work it hands to libuv's pool). */
uv_loop_t *tl_admin_conn_loop(const tl_admin_conn *c);

/* ---- who is talking -------------------------------------------------- */

/* The peer's and our own address of c: 0, or a negative UV code. */
int tl_admin_conn_peer_addr(const tl_admin_conn *c,
                            struct sockaddr_storage *ss);
int tl_admin_conn_local_addr(const tl_admin_conn *c,
                             struct sockaddr_storage *ss);

#endif
