#include "config.h"

#include "base/listen.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

int tl_listen(uv_loop_t *uv, uv_tcp_t *tcp, const char *host, int port,
              int backlog, uv_connection_cb cb, const char *what, int *bound) {
  struct sockaddr_storage ss;
  int rc = strchr(host, ':')
               ? uv_ip6_addr(host, port, (struct sockaddr_in6 *) &ss)
               : uv_ip4_addr(host, port, (struct sockaddr_in *) &ss);
  if (rc != 0) {
    fprintf(stderr, "threadlab: bad --host '%s': %s\n", host, uv_strerror(rc));
    return rc;
  }
  uv_tcp_init(uv, tcp);
  rc = uv_tcp_bind(tcp, (struct sockaddr *) &ss, 0);
  if (rc == 0)
    rc = uv_listen((uv_stream_t *) tcp, backlog, cb);
  if (rc != 0) {
    fprintf(stderr, "threadlab: cannot listen on %s%s:%d: %s\n", what, host,
            port, uv_strerror(rc));
    uv_close((uv_handle_t *) tcp, NULL);
    return rc;
  }
  int len = sizeof(ss);
  uv_tcp_getsockname(tcp, (struct sockaddr *) &ss, &len);
  *bound = ntohs(ss.ss_family == AF_INET6
                     ? ((struct sockaddr_in6 *) &ss)->sin6_port
                     : ((struct sockaddr_in *) &ss)->sin_port);
  return 0;
}
