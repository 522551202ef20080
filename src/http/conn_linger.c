/* The end of a connection that answered: shut the write side once every
 * response is out, then read and drop what the peer still sends, so that
 * closing with unread data does not reset the connection before the peer
 * read our response. The sweep ends the linger at its deadline. */
#include "config.h"

#include "http/conn_internal.h"

#include "base/util.h"

#include <stdlib.h>

#define LINGER_MS 2000

static void on_shutdown(uv_shutdown_t *req, int status) {
  tl_conn *c = req->data;
  free(req);
  if (status < 0 || c->closing) {
    tl_conn_close_now(c);
    return;
  }
  /* Read and drop what the peer still sends, so that closing with unread
   * data does not reset the connection before it read our response. */
  c->lingering = true;
  c->linger_until_ms = tl_conn_now_ms(c) + LINGER_MS;
  tl_conn_read_update(c);
}

void tl_conn_linger_begin(tl_conn *c) {
  if (c->closing || c->lingering)
    return;
  uv_shutdown_t *req = tl_xmalloc(sizeof(*req));
  req->data = c;
  if (uv_shutdown(req, (uv_stream_t *) &c->tcp, on_shutdown) != 0) {
    free(req);
    tl_conn_close_now(c);
  }
}

void tl_conn_linger_if_done(tl_conn *c) {
  if (c->close_after_flush && c->out_pending == 0 && c->nslots == 0)
    tl_conn_linger_begin(c);
}
