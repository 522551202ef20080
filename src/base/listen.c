#include "config.h"

#include "base/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>

static int listen_on(uv_loop_t *uv, uv_tcp_t *tcp, const char *host, int port,
                     int backlog, uv_connection_cb cb, const char *what,
                     int *bound, bool reuseport, bool listen_now) {
  struct sockaddr_storage ss;
  int rc = strchr(host, ':')
               ? uv_ip6_addr(host, port, (struct sockaddr_in6 *) &ss)
               : uv_ip4_addr(host, port, (struct sockaddr_in *) &ss);
  if (rc != 0) {
    fprintf(stderr, "threadlab: bad --host '%s': %s\n", host, uv_strerror(rc));
    return rc;
  }
  /* libuv 1.44 has no flag for SO_REUSEPORT: have it create the socket
   * now (init_ex), set the option, then bind. */
  uv_tcp_init_ex(uv, tcp, ss.ss_family);
  if (reuseport) {
    uv_os_fd_t fd;
    int one = 1;
    rc = uv_fileno((uv_handle_t *) tcp, &fd);
    if (rc == 0 &&
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
      rc = -errno;
  }
  if (rc == 0)
    rc = uv_tcp_bind(tcp, (struct sockaddr *) &ss, 0);
  if (rc == 0 && listen_now)
    rc = uv_listen((uv_stream_t *) tcp, backlog, cb);
  if (rc != 0) {
    fprintf(stderr, "threadlab: cannot listen on %s%s:%d: %s\n", what, host,
            port, uv_strerror(rc));
    uv_close((uv_handle_t *) tcp, NULL);
    return rc;
  }
  int len = sizeof(ss);
  uv_tcp_getsockname(tcp, (struct sockaddr *) &ss, &len);
  *bound =
      ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &ss)->sin6_port
                                     : ((struct sockaddr_in *) &ss)->sin_port);
  return 0;
}

int tl_listen(uv_loop_t *uv, uv_tcp_t *tcp, const char *host, int port,
              int backlog, uv_connection_cb cb, const char *what, int *bound) {
  return listen_on(uv, tcp, host, port, backlog, cb, what, bound, false, true);
}

int tl_listen_shared(uv_loop_t *uv, uv_tcp_t *tcp, const char *host, int port,
                     int backlog, uv_connection_cb cb, const char *what,
                     int *bound) {
  return listen_on(uv, tcp, host, port, backlog, cb, what, bound, true, true);
}

int tl_listen_shared_bound(uv_loop_t *uv, uv_tcp_t *tcp, const char *host,
                           int port, const char *what, int *bound) {
  return listen_on(uv, tcp, host, port, 0, NULL, what, bound, true, false);
}
