/* The lab's wrk processes (observer/lab_wrk_proc.h). */
#include "config.h"

#include "observer/lab_wrk_proc.h"

#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool tl_lab_wrk_proc_installed(void) {
  const char *path = getenv("PATH");
  if (!path)
    return false;
  char dir[4096];
  while (*path) {
    size_t n = strcspn(path, ":");
    if (n > 0 && n < sizeof(dir) - 5) {
      snprintf(dir, sizeof(dir), "%.*s/wrk", (int) n, path);
      if (access(dir, X_OK) == 0)
        return true;
    }
    path += n + (path[n] == ':');
  }
  return false;
}

static void on_wrk_closed(uv_handle_t *h) {
  tl_lab *lab = h->data;
  if (--lab->handles_open > 0 || lab->stopping)
    return;
  uv_timer_stop(&lab->tick);
  lab->wrk_closed(lab);
}

static void on_wrk_exit(uv_process_t *p, int64_t status, int sig) {
  tl_lab_wrk_proc *w = TL_CONTAINER_OF(p, tl_lab_wrk_proc, proc);
  w->exit_status = status;
  w->term_signal = sig;
  uv_close((uv_handle_t *) p, on_wrk_closed);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void) h;
  (void) hint;
  static char chunk[4096]; /* observer thread only; consumed at once */
  buf->base = chunk;
  buf->len = sizeof(chunk);
}

static void on_wrk_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  tl_lab_wrk_proc *w = TL_CONTAINER_OF(s, tl_lab_wrk_proc, out);
  if (n > 0 && w->text.len < 65536)
    tl_buf_append(&w->text, buf->base, (size_t) n);
  if (n < 0)
    uv_close((uv_handle_t *) s, on_wrk_closed);
}

int tl_lab_wrk_proc_spawn(tl_lab *lab, tl_lab_wrk_proc *w, json_t *load) {
  char conns[16], thr[16], dur[16], url[512];
  int c = (int) tl_lab_run_num(load, "connections", 1);
  int d = (int) tl_lab_run_num(load, "duration_s", 5);
  if (c < 1)
    c = 1;
  if (d < 1 || d > TL_LAB_MAX_DURATION_S)
    d = d < 1 ? 1 : TL_LAB_MAX_DURATION_S;
  snprintf(conns, sizeof(conns), "%d", c);
  snprintf(thr, sizeof(thr), "%d", c < 2 ? 1 : 2);
  snprintf(dur, sizeof(dur), "%ds", d);
  const char *host = lab->srv->cfg.host;
  if (strcmp(host, "0.0.0.0") == 0 || host[0] == '\0' || lab->in_child)
    host = "127.0.0.1"; /* a child server listens there */
  int port = lab->in_child ? lab->child.port : lab->srv->listen_port;
  bool v6 = strchr(host, ':') != NULL;
  snprintf(url, sizeof(url), "http://%s%s%s:%d%s", v6 ? "[" : "", host,
           v6 ? "]" : "", port, tl_lab_run_str(load, "path", "/"));
  char *args[] = {"wrk", "-t",        thr,         "-c", conns, "-d",
                  dur,   "--latency", "--timeout", "5s", url,   NULL};
  memset(w, 0, sizeof(*w));
  w->lab = lab;
  tl_buf_init(&w->text, NULL, 0);
  uv_pipe_init(lab->uv, &w->out, 0);
  w->out.data = lab;
  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[1].data.stream = (uv_stream_t *) &w->out;
  stdio[2].flags =
      UV_IGNORE; /* its summary is on stdout; the exit status says the rest */
  uv_process_options_t opt = {0};
  opt.file = "wrk";
  opt.args = args;
  opt.exit_cb = on_wrk_exit;
  opt.stdio = stdio;
  opt.stdio_count = 3;
  w->proc.data = lab;
  lab->handles_open++; /* the pipe */
  int rc = uv_spawn(lab->uv, &w->proc, &opt);
  if (rc != 0) {
    /* libuv wants the process handle closed even when spawn failed. */
    lab->handles_open++;
    uv_close((uv_handle_t *) &w->proc, on_wrk_closed);
    uv_close((uv_handle_t *) &w->out, on_wrk_closed);
    return rc;
  }
  w->spawned = true;
  lab->handles_open++;
  uv_read_start((uv_stream_t *) &w->out, on_alloc, on_wrk_read);
  return 0;
}

void tl_lab_wrk_proc_kill(tl_lab *lab, int sig) {
  for (int i = 0; i < lab->nwrk; i++)
    if (lab->wrk[i].spawned &&
        !uv_is_closing((uv_handle_t *) &lab->wrk[i].proc))
      uv_process_kill(&lab->wrk[i].proc, sig);
}
