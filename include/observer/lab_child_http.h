/* A minimal HTTP/1.1 GET client on the observer loop, for the lab's child
 * server: its /stats (admin port) and the trigger requests (a crash, a
 * deadlock) sent to its workload port. One request per slot at a time;
 * the slot is embedded in the lab (no allocation but its response
 * buffer). Observer thread only. */
#ifndef TL_OBSERVER_LAB_CHILD_HTTP_H
#define TL_OBSERVER_LAB_CHILD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "base/buf.h"

#define TL_LAB_HTTP_TIMEOUT_MS 3000
#define TL_LAB_HTTP_MAX_BODY   (16u << 20)

typedef struct tl_lab_http tl_lab_http;
/* status: the HTTP status, or -1 (no answer: refused, reset, timed out);
 * body: the bytes after the header (valid during the call). */
typedef void (*tl_lab_http_cb)(tl_lab_http *h, int status, const char *body,
                               size_t len);

struct tl_lab_http {
  void *data; /* the caller's */
  uv_tcp_t tcp;
  uv_connect_t conn;
  uv_write_t wr;
  uv_timer_t timer;
  char req[300];
  tl_buf resp;
  tl_lab_http_cb cb;
  bool busy;   /* a request is in flight or its handles are closing */
  bool called; /* cb already called for this request */
  bool mute;   /* no callback (the lab stops) */
  int open;    /* handles not yet closed */
};

/* Starts GET path on 127.0.0.1:port; cb is called once. 0, or -1 when the
 * slot is busy or the connection cannot be started (no callback then). */
int tl_lab_http_get(tl_lab_http *h, uv_loop_t *uv, int port, const char *path,
                    tl_lab_http_cb cb);
/* Ends the request in flight without calling back (the lab stops). */
void tl_lab_http_abort(tl_lab_http *h);
/* Frees the response buffer (after the loop has finished). */
void tl_lab_http_close(tl_lab_http *h);

#endif
