#include "config.h"

#include "observer/sse.h"

#include "base/response.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A client that falls this far behind is dropped, not buffered for. */
#define SSE_MAX_PENDING (8u * 1024 * 1024)
#define SSE_RETRY_MS    2000

typedef struct sse_client {
  struct sse_client *prev, *next;
  tl_sse *sse;
  tl_admin_conn *conn;
} sse_client;

/* Observer thread only. */
struct tl_sse {
  sse_client *clients;
  const char *first_name; /* tl_sse_set_first_event, or NULL */
  tl_sse_render_fn first_render;
  void *first_arg;
};

/* One snapshot framed as an event, shared by every client's write. */
typedef struct shared_event {
  int refs;
  size_t len;
  char data[];
} shared_event;

tl_sse *tl_sse_init(void) { return tl_xcalloc(1, sizeof(tl_sse)); }

void tl_sse_close(tl_sse *sse) { free(sse); }

void tl_sse_set_first_event(tl_sse *sse, const char *name,
                            tl_sse_render_fn render, void *arg) {
  sse->first_name = name;
  sse->first_render = render;
  sse->first_arg = arg;
}

/* "event: NAME\ndata: JSON\n\n"; the JSON is one line. */
static void put_first_event(const tl_sse *sse, tl_buf *b) {
  tl_buf_printf(b, "event: %s\ndata: ", sse->first_name);
  sse->first_render(sse->first_arg, b);
  tl_buf_puts(b, "\n\n");
}

bool tl_sse_any(const tl_sse *sse) { return sse->clients != NULL; }

/* The connection starts closing: forget the client. */
static void client_gone(void *arg) {
  sse_client *cl = arg;
  if (cl->prev)
    cl->prev->next = cl->next;
  else
    cl->sse->clients = cl->next;
  if (cl->next)
    cl->next->prev = cl->prev;
  free(cl);
}

static void event_release(void *arg) {
  shared_event *ev = arg;
  if (--ev->refs == 0)
    free(ev);
}

static void put_event(tl_buf *b, uint64_t seq, const tl_buf *json) {
  tl_buf_printf(b, "id: %llu\ndata: ", (unsigned long long) seq);
  tl_buf_append(b, json->data, json->len);
  tl_buf_puts(b, "\n\n");
}

void tl_sse_start(tl_sse *sse, tl_admin_conn *c, uint64_t seq,
                  const tl_buf *json) {
  tl_buf out;
  tl_buf_init(&out, NULL, 0);
  tl_resp_begin(&out, 200, 1, true);
  tl_buf_printf(&out,
                "Content-Type: text/event-stream\r\nCache-Control: no-store"
                "\r\nX-Accel-Buffering: no\r\nConnection: keep-alive\r\n\r\n"
                "retry: %d\n\n",
                SSE_RETRY_MS);
  tl_admin_conn_send(c, out.data, out.len);
  tl_admin_conn_stream(c);
  out.len = 0;
  if (sse->first_name)
    put_first_event(sse, &out);
  put_event(&out, seq, json);
  tl_admin_conn_send(c, out.data, out.len);
  tl_buf_close(&out);
  if (!tl_admin_conn_is_open(c))
    return;
  sse_client *cl = tl_xcalloc(1, sizeof(*cl));
  cl->sse = sse;
  cl->conn = c;
  cl->next = sse->clients;
  if (sse->clients)
    sse->clients->prev = cl;
  sse->clients = cl;
  tl_admin_conn_on_close(c, client_gone, cl);
}

void tl_sse_broadcast(tl_sse *sse, uint64_t seq, const tl_buf *json) {
  if (!sse->clients)
    return;
  char head[48];
  int hl = snprintf(head, sizeof(head),
                    "id: %llu\ndata: ", (unsigned long long) seq);
  shared_event *ev = tl_xmalloc(sizeof(*ev) + (size_t) hl + json->len + 2);
  ev->refs = 1; /* ours, until every client has it */
  memcpy(ev->data, head, (size_t) hl);
  memcpy(ev->data + hl, json->data, json->len);
  memcpy(ev->data + hl + json->len, "\n\n", 2);
  ev->len = (size_t) hl + json->len + 2;
  sse_client *next;
  for (sse_client *cl = sse->clients; cl; cl = next) {
    next = cl->next; /* closing cl frees it */
    if (tl_admin_conn_out_pending(cl->conn) > SSE_MAX_PENDING) {
      tl_admin_conn_close(cl->conn); /* too slow to follow: it can reconnect */
      continue;
    }
    ev->refs++;
    tl_admin_conn_send_ref(cl->conn, ev->data, ev->len, event_release, ev);
  }
  event_release(ev);
}

void tl_sse_broadcast_event(tl_sse *sse, const char *event, const char *data,
                            size_t len) {
  if (!sse->clients)
    return;
  char head[64];
  int hl = snprintf(head, sizeof(head), "event: %s\ndata: ", event);
  shared_event *ev = tl_xmalloc(sizeof(*ev) + (size_t) hl + len + 2);
  ev->refs = 1;
  memcpy(ev->data, head, (size_t) hl);
  memcpy(ev->data + hl, data, len);
  memcpy(ev->data + hl + len, "\n\n", 2);
  ev->len = (size_t) hl + len + 2;
  sse_client *next;
  for (sse_client *cl = sse->clients; cl; cl = next) {
    next = cl->next;
    if (tl_admin_conn_out_pending(cl->conn) > SSE_MAX_PENDING) {
      tl_admin_conn_close(cl->conn);
      continue;
    }
    ev->refs++;
    tl_admin_conn_send_ref(cl->conn, ev->data, ev->len, event_release, ev);
  }
  event_release(ev);
}
