#include "config.h"

#include "tl_testutil.h"
#include "tl_json.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

double tl_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

const char *tl_bin(void) {
  const char *b = getenv("THREADLAB_BIN");
  return b && *b ? b : "./threadlab";
}

/* The port of a banner line "  NAME: http://HOST:PORT/": the digits after
 * the last ':' of the URL (HOST may be an IPv6 address such as ::1). */
static int banner_port(const char *line) {
  const char *u = strstr(line, "http://");
  const char *nl = strchr(line, '\n');
  if (!u || !nl || u > nl)
    return 0;
  const char *colon = NULL;
  for (const char *c = u + 7; c < nl && *c != '/' && *c != ' '; c++)
    if (*c == ':')
      colon = c;
  return colon ? atoi(colon + 1) : 0;
}

void tl_proc_start(tl_proc *p, const char *const *extra) {
  int pipefd[2];
  ck_assert_int_eq(pipe(pipefd), 0);
  const char *argv[64];
  int n = 0;
  argv[n++] = tl_bin();
  argv[n++] = "--port";
  argv[n++] = "0";
  argv[n++] = "--admin-port";
  argv[n++] = "0";
  for (int i = 0; extra && extra[i] && n < 62; i++)
    argv[n++] = extra[i];
  /* THREADLAB_TEST_ARGS: more options for every server a suite starts
   * (e.g. --no-uring to run a suite on the write(2) path). Split on
   * spaces; the copy lives until exec. */
  char more[256];
  const char *env = getenv("THREADLAB_TEST_ARGS");
  snprintf(more, sizeof(more), "%s", env ? env : "");
  for (char *save = NULL, *tok = strtok_r(more, " ", &save); tok && n < 62;
       tok = strtok_r(NULL, " ", &save))
    argv[n++] = tok;
  argv[n] = NULL;
  pid_t parent = getpid();
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    /* If the test process dies (failed assertion in a forked Check test,
     * timeout), the server must not outlive it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(127);
    dup2(pipefd[1], 1);
    close(pipefd[0]);
    close(pipefd[1]);
    execv(argv[0], (char *const *) argv);
    _exit(127);
  }
  close(pipefd[1]);
  p->pid = pid;
  p->out_fd = pipefd[0];
  p->port = p->admin_port = 0;
  /* Banner: "  workload:  http://127.0.0.1:PORT/" and "  dashboard: ..." */
  char buf[2048];
  size_t len = 0;
  double deadline = tl_now_s() + 20;
  while ((p->port == 0 || p->admin_port == 0) && tl_now_s() < deadline) {
    struct pollfd pfd = {.fd = p->out_fd, .events = POLLIN};
    if (poll(&pfd, 1, 200) <= 0)
      continue;
    ssize_t r = read(p->out_fd, buf + len, sizeof(buf) - 1 - len);
    if (r <= 0)
      break;
    len += (size_t) r;
    buf[len] = '\0';
    const char *w = strstr(buf, "workload:");
    const char *d = strstr(buf, "dashboard:");
    if (w && strchr(w, '\n'))
      p->port = banner_port(w);
    if (d && strchr(d, '\n'))
      p->admin_port = banner_port(d);
  }
  memcpy(p->banner, buf, len);
  p->banner[len] = '\0';
  if (p->port == 0 || p->admin_port == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    ck_abort_msg("threadlab did not start (%s); output: %.*s", tl_bin(),
                 (int) len, buf);
  }
}

int tl_proc_stop(tl_proc *p, int timeout_ms) {
  kill(p->pid, SIGTERM);
  int rc = tl_proc_wait(p, timeout_ms);
  if (rc == -1) {
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    close(p->out_fd);
  }
  return rc;
}

int tl_connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(fd, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t) port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_msg(connect(fd, (struct sockaddr *) &a, sizeof(a)) == 0,
                "connect to port %d: %s", port, strerror(errno));
  struct timeval tv = {.tv_sec = 15};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

void tl_send_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    ck_assert_msg(w > 0, "send: %s", strerror(errno));
    p += w;
    len -= (size_t) w;
  }
}

void tl_send_str(int fd, const char *s) { tl_send_all(fd, s, strlen(s)); }

/* Per-fd read-ahead: responses may arrive together in one segment. The
 * buffer grows to hold a whole response of any size (/stats at 1,000
 * threads is megabytes); it is kept for the next fd that uses the entry. */
typedef struct {
  int fd;
  char *buf;
  size_t cap;
  size_t len;
} rbuf;
static rbuf rbufs[64];

static rbuf *rb_for(int fd) {
  for (int i = 0; i < 64; i++)
    if (rbufs[i].fd == fd + 1000000)
      return &rbufs[i];
  for (int i = 0; i < 64; i++)
    if (rbufs[i].fd == 0) {
      rbufs[i].fd = fd + 1000000;
      rbufs[i].len = 0;
      return &rbufs[i];
    }
  ck_abort_msg("too many test sockets");
  return NULL;
}

/* Forget read-ahead of fds that were closed and reused. */
static void rb_fill(rbuf *b, int fd) {
  ssize_t r;
  /* Room for what recv may bring and the NUL tl_read_resp writes. */
  if (b->cap - b->len < 65536 + 1) {
    b->cap = b->cap ? b->cap * 2 : 1u << 17;
    b->buf = realloc(b->buf, b->cap);
    ck_assert_msg(b->buf != NULL, "out of memory for a response");
  }
  do
    r = recv(fd, b->buf + b->len, b->cap - 1 - b->len, 0);
  while (r < 0 && errno == EINTR);
  if (r <= 0) {
    /* Errors (reset, the 15 s receive timeout) are worth a line in the
     * log; EOF is often what a test waits for. */
    if (r < 0)
      fprintf(stderr, "test: recv on fd %d: %s\n", fd, strerror(errno));
    b->fd = -1; /* mark EOF for this read */
    return;
  }
  b->len += (size_t) r;
}

int tl_read_resp(int fd, tl_resp *r, bool head_only) {
  memset(r, 0, sizeof(*r));
  rbuf *b = rb_for(fd);
  char *end;
  for (;;) {
    if (b->buf)
      b->buf[b->len] = '\0';
    end = b->len ? memmem(b->buf, b->len, "\r\n\r\n", 4) : NULL;
    if (end)
      break;
    rb_fill(b, fd);
    if (b->fd == -1) {
      b->fd = 0;
      return -1;
    }
  }
  size_t hlen = (size_t) (end - b->buf) + 4;
  size_t copy = hlen < sizeof(r->head) - 1 ? hlen : sizeof(r->head) - 1;
  memcpy(r->head, b->buf, copy);
  r->head[copy] = '\0';
  r->status = atoi(r->head + 9);
  char v[64];
  size_t clen = 0;
  if (tl_resp_find_header(r, "Content-Length", v, sizeof(v)))
    clen = (size_t) strtoul(v, NULL, 10);
  if (head_only || r->status == 100 || r->status == 204 || r->status == 304)
    clen = 0;
  while (b->len < hlen + clen) {
    rb_fill(b, fd);
    if (b->fd == -1) {
      b->fd = 0;
      return -1;
    }
  }
  r->body = malloc(clen + 1);
  memcpy(r->body, b->buf + hlen, clen);
  r->body[clen] = '\0';
  r->body_len = clen;
  memmove(b->buf, b->buf + hlen + clen, b->len - hlen - clen);
  b->len -= hlen + clen;
  /* Nothing read ahead: the entry is free for other fds (a test may hold
   * hundreds of keep-alive connections, 64 entries serve them). */
  if (b->len == 0)
    b->fd = 0;
  /* Every JSON body a test reads is strict JSON (jansson), whatever the
   * test then looks for in it. */
  char ct[96];
  if (clen && tl_resp_find_header(r, "Content-Type", ct, sizeof(ct)) &&
      strncmp(ct, "application/json", 16) == 0) {
    tj *j = tj_parse(r->body, clen);
    ck_assert_msg(j != NULL, "a JSON body is not strict JSON: %.200s", r->body);
    tj_release(j);
  }
  return 0;
}

void tl_resp_free(tl_resp *r) {
  free(r->body);
  r->body = NULL;
}

bool tl_resp_find_header(const tl_resp *r, const char *name, char *out,
                         size_t cap) {
  size_t n = strlen(name);
  const char *p = strstr(r->head, "\r\n");
  while (p && p[2] != '\r') {
    p += 2;
    if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
      const char *v = p + n + 1;
      while (*v == ' ')
        v++;
      const char *e = strstr(v, "\r\n");
      size_t l = e ? (size_t) (e - v) : strlen(v);
      if (l >= cap)
        l = cap - 1;
      memcpy(out, v, l);
      out[l] = '\0';
      return true;
    }
    p = strstr(p, "\r\n");
  }
  return false;
}

static void rb_forget(int fd) {
  for (int i = 0; i < 64; i++)
    if (rbufs[i].fd == fd + 1000000)
      rbufs[i].fd = 0;
}

int tl_roundtrip(int port, const char *raw, tl_resp *r) {
  int fd = tl_connect(port);
  tl_send_str(fd, raw);
  bool head = strncmp(raw, "HEAD ", 5) == 0;
  int rc = tl_read_resp(fd, r, head);
  rb_forget(fd);
  close(fd);
  return rc;
}

int tl_get(int port, const char *path, tl_resp *r) {
  char req[2048];
  /* A Host the observer answers to (it refuses other names). */
  snprintf(req, sizeof(req),
           "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n",
           path, port);
  if (tl_roundtrip(port, req, r) != 0)
    return -1;
  return r->status;
}

bool tl_wait_eof(int fd, int timeout_ms) {
  double deadline = tl_now_s() + timeout_ms / 1000.0;
  char buf[4096];
  while (tl_now_s() < deadline) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, 50) <= 0)
      continue;
    ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno == ECONNRESET)) {
      rb_forget(fd);
      return true;
    }
  }
  return false;
}

/* ---- additions for test_http ---------------------------------------- */

int tl_proc_wait(tl_proc *p, int timeout_ms) {
  int status = 0;
  double deadline = tl_now_s() + timeout_ms / 1000.0;
  for (;;) {
    pid_t r = waitpid(p->pid, &status, WNOHANG);
    if (r == p->pid)
      break;
    if (tl_now_s() > deadline)
      return -1;
    usleep(10000);
  }
  close(p->out_fd);
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

long tl_proc_rss_kb(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  long kb = -1;
  while (fgets(line, sizeof(line), f)) {
    if (strncmp(line, "VmRSS:", 6) == 0) {
      kb = strtol(line + 6, NULL, 10);
      break;
    }
  }
  fclose(f);
  return kb;
}

double tl_proc_cpu_s(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *rp = strrchr(buf, ')'); /* the name may hold spaces */
  unsigned long long ut, st;
  /* after ") ": state is field 3; utime 14, stime 15 */
  if (!rp ||
      sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
             &ut, &st) != 2)
    return -1;
  return (double) (ut + st) / (double) sysconf(_SC_CLK_TCK);
}

int tl_proc_fd_count(pid_t pid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
  DIR *d = opendir(path);
  if (!d)
    return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n;
}

void tl_close(int fd) {
  rb_forget(fd);
  close(fd);
}

size_t tl_recv_rest(int fd, char *buf, size_t cap, int timeout_ms, bool *eof) {
  size_t len = 0;
  *eof = false;
  if (cap == 0)
    return 0;
  for (int i = 0; i < 64; i++) {
    rbuf *b = &rbufs[i];
    if (b->fd == fd + 1000000) {
      size_t n = b->len < cap - 1 ? b->len : cap - 1;
      memcpy(buf, b->buf, n);
      len = n;
      b->fd = 0;
      break;
    }
  }
  double deadline = tl_now_s() + timeout_ms / 1000.0;
  while (len < cap - 1) {
    double left = deadline - tl_now_s();
    if (left <= 0)
      break;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int pr = poll(&pfd, 1, (int) (left * 1000) + 1);
    if (pr <= 0)
      continue;
    ssize_t r = recv(fd, buf + len, cap - 1 - len, MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
      *eof = true;
      break;
    }
    if (r > 0)
      len += (size_t) r;
  }
  buf[len] = '\0';
  return len;
}

/* The machine's own first non-loopback IPv4 address, or false. */
bool tl_own_address(char *out, size_t cap) {
  struct ifaddrs *ifs;
  if (getifaddrs(&ifs) != 0)
    return false;
  bool found = false;
  for (struct ifaddrs *i = ifs; i && !found; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
        !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK))
      continue;
    const struct sockaddr_in *a = (const struct sockaddr_in *) i->ifa_addr;
    if ((ntohl(a->sin_addr.s_addr) >> 24) == 127)
      continue;
    found = inet_ntop(AF_INET, &a->sin_addr, out, (socklen_t) cap) != NULL;
  }
  freeifaddrs(ifs);
  return found;
}

int tl_connect_from(const char *src, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(fd, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  ck_assert_int_eq(inet_pton(AF_INET, src, &a.sin_addr), 1);
  struct sockaddr_in to = {.sin_family = AF_INET,
                           .sin_port = htons((uint16_t) port)};
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *) &a, sizeof(a)) != 0 ||
      connect(fd, (struct sockaddr *) &to, sizeof(to)) != 0) {
    close(fd);
    return -1;
  }
  struct timeval tv = {.tv_sec = 15};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

tj *tl_get_json(int port, const char *path) {
  char req[2048];
  snprintf(req, sizeof(req),
           "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n",
           path, port);
  int fd = tl_connect(port);
  tl_send_str(fd, req);
  tl_resp r;
  ck_assert_msg(tl_read_resp(fd, &r, false) == 0, "%s: no complete answer",
                path);
  ck_assert_msg(strncmp(r.head, "HTTP/1.1 200", 12) == 0, "%s answered %.40s",
                path, r.head);
  /* The whole answer was the body: nothing behind it before the close. */
  char rest[64];
  bool eof;
  size_t extra = tl_recv_rest(fd, rest, sizeof(rest), 15000, &eof);
  tl_close(fd);
  ck_assert_msg(extra == 0 && eof, "%s: %zu bytes after the body (%s)", path,
                extra, eof ? "then closed" : "not closed");
  tj *j = tj_parse(r.body, r.body_len);
  ck_assert_msg(j != NULL, "%s is not JSON: %.200s", path, r.body);
  tl_resp_free(&r);
  return j;
}

tj *tl_get_stats(int admin_port) { return tl_get_json(admin_port, "/stats"); }

tj *tl_stats_after(int admin_port, double seq_after) {
  double deadline = tl_now_s() + 10;
  while (tl_now_s() < deadline) {
    tj *j = tl_get_stats(admin_port);
    if (tj_num(j, "seq", 0) > seq_after)
      return j;
    tj_release(j);
    usleep(20000);
  }
  ck_abort_msg("no /stats snapshot after seq %.0f within 10 s", seq_after);
  return NULL;
}

tj *tl_fresh_stats(int admin_port) {
  tj *j = tl_get_stats(admin_port);
  double seq = tj_num(j, "seq", 0);
  tj_release(j);
  return tl_stats_after(admin_port, seq);
}

int tl_send_get(int port, const char *path) {
  char req[2048];
  snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
  int fd = tl_connect(port);
  tl_send_str(fd, req);
  return fd;
}

int tl_read_status(int fd) {
  tl_resp r;
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  int st = r.status;
  tl_resp_free(&r);
  tl_close(fd);
  return st;
}

/* One keep-alive GET, answered 200; the answer in r (free it). */
static void ask(int fd, const char *path, tl_resp *r) {
  char req[2048];
  snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
  tl_send_str(fd, req);
  ck_assert_int_eq(tl_read_resp(fd, r, false), 0);
  ck_assert_int_eq(r->status, 200);
}

void tl_ask_ok(int fd, const char *path) {
  tl_resp r;
  ask(fd, path, &r);
  tl_resp_free(&r);
}

int tl_ask_pid(int fd, const char *path) {
  tl_resp r;
  ask(fd, path, &r);
  char pid[32] = "0";
  ck_assert(tl_resp_find_header(&r, "X-Pid", pid, sizeof(pid)));
  tl_resp_free(&r);
  return atoi(pid);
}

bool tl_wait_stats_set(int admin_port, const char *path, int tries) {
  bool set = false;
  for (int i = 0; i < tries && !set; i++) {
    usleep(20 * 1000);
    tj *j = tl_get_stats(admin_port);
    set = tj_get(j, path) && !tj_is_null(j, path);
    tj_release(j);
  }
  return set;
}
