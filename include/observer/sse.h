/* Server-Sent Events fan-out for /stats/stream: each snapshot is framed
 * once as an event and that one buffer (reference counted) is written to
 * every stream client; a client that falls too far behind is dropped, not
 * buffered for (it reconnects). Observer thread only. */
#ifndef TL_OBSERVER_SSE_H
#define TL_OBSERVER_SSE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "observer/admin_conn.h"

typedef struct tl_sse tl_sse;

tl_sse *tl_sse_init(void);
/* After every client has closed (tl_admin_conn_close_all). */
void tl_sse_close(tl_sse *sse);

/* Turns c into a stream client: the response head, a retry hint and the
 * current snapshot at once (json, numbered seq), so that it draws
 * immediately. */
void tl_sse_start(tl_sse *sse, tl_admin_conn *c, uint64_t seq,
                  const tl_buf *json);
/* The named event a new client gets before its first snapshot (the
 * history, observer/render_history.h): render(arg, out) appends its JSON
 * to out. Sent as "event: <name>\ndata: <json>" without an id, so the
 * snapshots' ids and the default message event are unchanged. */
typedef void (*tl_sse_render_fn)(void *arg, tl_buf *out);
void tl_sse_set_first_event(tl_sse *sse, const char *name,
                            tl_sse_render_fn render, void *arg);
/* True when some client is listening (render an event only then). */
bool tl_sse_any(const tl_sse *sse);
/* Sends one snapshot to every client. */
void tl_sse_broadcast(tl_sse *sse, uint64_t seq, const tl_buf *json);

/* Sends a named event (`event: NAME`, one line of JSON data, no id) to
 * every client: the lab's progress and results. */
void tl_sse_broadcast_event(tl_sse *sse, const char *event, const char *data,
                            size_t len);

#endif
