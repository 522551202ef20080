/* The floor: the least a server can do per request over TCP on this
 * kernel, as a reference for bench-core. One thread, one level-triggered
 * epoll loop (as libuv and nginx use), one read per readiness, and for
 * every request head in what was read ("\r\n\r\n") the same fixed response,
 * all in one write. Not an HTTP server: no parsing, no Date, no limits, and
 * a connection whose socket buffer is full is simply closed. Whatever a
 * real server costs above this is its own work; this much is the kernel's.
 *
 *   cc -O2 -o floor loadtest/peers/floor.c && ./floor PORT   (127.0.0.1) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char RESP[] =
    "HTTP/1.1 200 OK\r\nServer: floor\r\n"
    "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\nContent-Type: text/plain\r\n"
    "Content-Length: 13\r\n\r\nHello, World!";
#define RLEN (sizeof(RESP) - 1)
#define MAXREQ 64

static char in[65536];
static char out[RLEN * MAXREQ];

/* Request heads completed in this read; a head split across reads is
 * counted when its last byte arrives (tail keeps the previous 3 bytes). */
static int count_heads(unsigned *tail, const char *p, ssize_t n) {
  int heads = 0;
  unsigned t = *tail;
  for (ssize_t i = 0; i < n; i++) {
    t = (t << 8) | (unsigned char) p[i];
    if (t == 0x0d0a0d0au)
      heads++;
  }
  *tail = t;
  return heads;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: floor PORT\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  for (int i = 0; i < MAXREQ; i++)
    memcpy(out + i * RLEN, RESP, RLEN);
  int one = 1;
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t) atoi(argv[1]))};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(ls, (struct sockaddr *) &a, sizeof(a)) != 0 || listen(ls, 4096) != 0) {
    perror("floor: bind/listen");
    return 1;
  }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t) ls};
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  /* Per-fd head-matching state, indexed by fd. */
  static unsigned tails[65536];
  struct epoll_event evs[512];
  for (;;) {
    int n = epoll_wait(ep, evs, 512, -1);
    if (n < 0 && errno != EINTR)
      return 1;
    for (int i = 0; i < n; i++) {
      int fd = (int) evs[i].data.u64;
      if (fd == ls) {
        int c;
        while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          if (c >= 65536) {
            close(c);
            continue;
          }
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          tails[c] = 0;
          struct epoll_event cev = {.events = EPOLLIN, .data.u64 = (uint64_t) c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
        continue;
      }
      ssize_t r = read(fd, in, sizeof(in));
      if (r < 0 && (errno == EAGAIN || errno == EINTR))
        continue;
      int heads = r > 0 ? count_heads(&tails[fd], in, r) : 0;
      if (heads > MAXREQ)
        heads = MAXREQ;
      size_t len = (size_t) heads * RLEN;
      if (r <= 0 || (len && write(fd, out, len) != (ssize_t) len))
        close(fd); /* EOF, error, or a full socket buffer: drop it */
    }
  }
}
