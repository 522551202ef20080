/* The lab's child server (observer/lab_child.h). */
#include "config.h"

#include "observer/lab_child.h"

#include "base/util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int tl_lab_child_banner_port(const char *line, const char *name) {
  const char *p = strstr(line, name);
  if (!p)
    return 0;
  p = strstr(p, "http://");
  if (!p)
    return 0;
  p += 7;
  if (*p == '[') { /* an IPv6 host */
    p = strchr(p, ']');
    if (!p)
      return 0;
    p++;
  } else {
    p = strchr(p, ':');
    if (!p)
      return 0;
  }
  if (*p != ':')
    return 0;
  char *end;
  long port = strtol(p + 1, &end, 10);
  return port > 0 && port < 65536 &&
                 (*end == '/' || *end == '\0' || *end == ' ' || *end == '\n')
             ? (int) port
             : 0;
}

static void on_closed(uv_handle_t *h) {
  tl_lab_child *ch = h->data;
  if (--ch->handles_open > 0)
    return;
  ch->active = false;
  if (ch->on_gone)
    ch->on_gone(ch->lab);
}

static void close_handles(tl_lab_child *ch) {
  uv_handle_t *hs[] = {(uv_handle_t *) &ch->out, (uv_handle_t *) &ch->timer};
  for (size_t i = 0; i < TL_ARRAY_SIZE(hs); i++)
    if (!uv_is_closing(hs[i]))
      uv_close(hs[i], on_closed);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int sig) {
  tl_lab_child *ch = TL_CONTAINER_OF(p, tl_lab_child, proc);
  ch->exited = true;
  ch->exit_status = status;
  ch->term_signal = sig;
  uv_close((uv_handle_t *) p, on_closed);
  if (ch->stopping || !ch->ready)
    close_handles(ch); /* asked to stop, or died before it listened */
}

static void on_timer(uv_timer_t *t) {
  tl_lab_child *ch = t->data;
  if (ch->exited)
    return;
  /* The start's deadline or the stop's bound: either way it goes now. */
  ch->killed = true;
  ch->stopping = true;
  uv_process_kill(&ch->proc, SIGKILL);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void) h;
  (void) hint;
  static char chunk[4096]; /* observer thread only; consumed at once */
  buf->base = chunk;
  buf->len = sizeof(chunk);
}

static void on_line(tl_lab_child *ch) {
  ch->line[ch->linelen] = '\0';
  if (!ch->port)
    ch->port = tl_lab_child_banner_port(ch->line, "workload:");
  if (!ch->admin_port)
    ch->admin_port = tl_lab_child_banner_port(ch->line, "dashboard:");
  ch->linelen = 0;
  if (!ch->ready && ch->port && ch->admin_port) {
    ch->ready = true;
    uv_timer_stop(&ch->timer);
    if (ch->on_ready)
      ch->on_ready(ch->lab);
  }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  tl_lab_child *ch = s->data;
  if (n < 0) {
    uv_read_stop(s); /* the pipe closes with the others */
    return;
  }
  for (ssize_t i = 0; i < n; i++) {
    char c = buf->base[i];
    if (c == '\n')
      on_line(ch);
    else if (ch->linelen < sizeof(ch->line) - 1)
      ch->line[ch->linelen++] = c;
  }
}

static void add_arg(char **argv, int *n, char (*store)[32], const char *flag,
                    long v) {
  argv[(*n)++] = (char *) flag;
  snprintf(store[*n], sizeof(store[0]), "%ld", v);
  argv[*n] = store[*n];
  (*n)++;
}

int tl_lab_child_start(tl_lab_child *ch, struct tl_lab *lab, uv_loop_t *uv,
                       json_t *setup, int sample_ms) {
  memset(ch, 0, sizeof(*ch));
  ch->lab = lab;
  char *argv[40];
  char store[40][32];
  int n = 0;
  argv[n++] = "threadlab";
  argv[n++] = "--host";
  argv[n++] = "127.0.0.1";
  argv[n++] = "--port";
  argv[n++] = "0";
  argv[n++] = "--admin-port";
  argv[n++] = "0";
  add_arg(argv, &n, store, "--sample-ms", sample_ms);
  json_t *v = json_object_get(setup, "mode");
  if (json_is_string(v)) {
    argv[n++] = "--mode";
    argv[n++] = (char *) json_string_value(v);
  }
  v = json_object_get(setup, "threads");
  if (json_is_integer(v))
    add_arg(argv, &n, store, "--threads", (long) json_integer_value(v));
  v = json_object_get(setup, "processes");
  if (json_is_integer(v) && json_integer_value(v) > 0)
    add_arg(argv, &n, store, "--processes", (long) json_integer_value(v));
  v = json_object_get(setup, "coro_slice_ms");
  if (json_is_integer(v))
    add_arg(argv, &n, store, "--coro-slice-ms", (long) json_integer_value(v));
  if (json_is_true(json_object_get(setup, "pin")))
    argv[n++] = "--pin";
  if (json_is_true(json_object_get(setup, "allow_crash")))
    argv[n++] = "--allow-crash";
  if (json_is_true(json_object_get(setup, "allow_deadlock")))
    argv[n++] = "--allow-deadlock";
  argv[n] = NULL;
  /* Its environment: ours, and the guard's parent pid (it arms
   * PR_SET_PDEATHSIG and checks it was not orphaned already). */
  extern char **environ;
  size_t ne = 0;
  while (environ[ne])
    ne++;
  char **env = tl_xcalloc(ne + 2, sizeof(char *));
  size_t k = 0;
  for (size_t i = 0; i < ne; i++)
    if (strncmp(environ[i], "TL_LAB_PARENT_PID=", 18) != 0)
      env[k++] = environ[i];
  char parent[48];
  snprintf(parent, sizeof(parent), "TL_LAB_PARENT_PID=%d", (int) getpid());
  env[k++] = parent;
  env[k] = NULL;
  uv_pipe_init(uv, &ch->out, 0);
  uv_timer_init(uv, &ch->timer);
  ch->out.data = ch->timer.data = ch->proc.data = ch;
  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[1].data.stream = (uv_stream_t *) &ch->out;
  stdio[2].flags = UV_INHERIT_FD; /* its errors beside ours */
  stdio[2].data.fd = 2;
  uv_process_options_t opt = {0};
  opt.file = "/proc/self/exe";
  opt.args = argv;
  opt.env = env;
  opt.exit_cb = on_exit_cb;
  opt.stdio = stdio;
  opt.stdio_count = 3;
  ch->handles_open = 2;
  ch->active = true;
  int rc = uv_spawn(uv, &ch->proc, &opt);
  free(env);
  if (rc != 0) {
    ch->handles_open++;
    ch->on_gone = NULL; /* the caller hears rc, not a callback */
    uv_close((uv_handle_t *) &ch->proc, on_closed);
    close_handles(ch);
    return rc;
  }
  ch->handles_open++;
  ch->pid = ch->proc.pid;
  uv_read_start((uv_stream_t *) &ch->out, on_alloc, on_read);
  uv_timer_start(&ch->timer, on_timer, TL_LAB_CHILD_START_MS, 0);
  return 0;
}

void tl_lab_child_stop(tl_lab_child *ch) {
  if (!ch->active || ch->stopping)
    return;
  ch->stopping = true;
  if (ch->exited) {
    close_handles(ch);
    return;
  }
  uv_process_kill(&ch->proc, SIGTERM);
  uv_timer_start(&ch->timer, on_timer, TL_LAB_CHILD_KILL_MS, 0);
}

void tl_lab_child_kill_now(tl_lab_child *ch) {
  if (!ch->active)
    return;
  ch->on_gone = NULL;
  ch->on_ready = NULL;
  ch->stopping = true;
  if (!ch->exited && ch->pid > 0)
    kill(ch->pid, SIGKILL);
  /* Every handle now: the loop is ending (the zombie goes with us). */
  if (!uv_is_closing((uv_handle_t *) &ch->proc))
    uv_close((uv_handle_t *) &ch->proc, on_closed);
  close_handles(ch);
}

void tl_lab_child_exit_text(const tl_lab_child *ch, char *out, size_t cap) {
  if (!ch->exited)
    snprintf(out, cap, "%s", "");
  else if (ch->term_signal)
    snprintf(out, cap, "signal %d (SIG%s)", ch->term_signal,
             sigabbrev_np(ch->term_signal) ? sigabbrev_np(ch->term_signal)
                                           : "?");
  else
    snprintf(out, cap, "exit code %lld", (long long) ch->exit_status);
}

json_t *tl_lab_child_json(const tl_lab_child *ch) {
  char ex[64];
  tl_lab_child_exit_text(ch, ex, sizeof(ex));
  const char *state = ch->exited     ? "exited"
                      : ch->stopping ? "stopping"
                      : ch->ready    ? "running"
                                     : "starting";
  return json_pack("{s:i,s:i,s:i,s:s,s:o,s:b}", "pid", ch->pid, "port",
                   ch->port, "admin_port", ch->admin_port, "state", state,
                   "exit", ch->exited ? json_string(ex) : json_null(), "killed",
                   ch->killed);
}

int tl_lab_child_has_flag(int pid, const char *flag) {
  char path[64], buf[4096];
  snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  for (ssize_t i = 0; i < n;) {
    if (strcmp(buf + i, flag) == 0)
      return 1;
    i += (ssize_t) strlen(buf + i) + 1;
  }
  return 0;
}
