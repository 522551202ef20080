#include "config.h"

#include "observer/file_reads.h"

#include "base/static_file.h"
#include "base/util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* One file request: filled on the observer thread, read on a pool thread
 * (work), answered back on the observer thread (done). Owned by whichever
 * of them runs; libuv orders the hand-overs. */
typedef struct file_job {
  uv_work_t work;
  tl_admin_conn *conn; /* held until done */
  int dirfd;
  int http_minor;
  bool keep_alive, head;
  tl_buf out;
  size_t len;
  char rel[];
} file_job;

static void work(uv_work_t *w) {
  file_job *j = w->data;
  tl_static_respond(&j->out, j->dirfd, j->rel, j->len, j->http_minor,
                    j->keep_alive, j->head);
}

static void done(uv_work_t *w, int status) {
  file_job *j = w->data;
  /* Cancelled (the loop is stopping) or the peer left: nothing to send. */
  if (status == 0 && tl_admin_conn_is_open(j->conn))
    tl_admin_conn_send_response(j->conn, &j->out);
  tl_admin_conn_release(j->conn);
  tl_buf_close(&j->out);
  free(j);
}

void tl_file_reads_serve(tl_admin_conn *c, const tl_request *r, int dirfd,
                         const char *rel, size_t len) {
  file_job *j = tl_xmalloc(sizeof(*j) + len + 1);
  j->work.data = j;
  j->conn = c;
  j->dirfd = dirfd;
  j->http_minor = r->http_minor;
  j->keep_alive = r->keep_alive;
  j->head = r->method == HTTP_HEAD;
  tl_buf_init(&j->out, NULL, 0);
  memcpy(j->rel, rel, len);
  j->rel[len] = '\0';
  j->len = len;
  tl_admin_conn_hold(c);
  if (uv_queue_work(tl_admin_conn_loop(c), &j->work, work, done) != 0) {
    /* Never for a valid loop and callbacks; answer in place then. */
    work(&j->work);
    done(&j->work, 0);
  }
}
