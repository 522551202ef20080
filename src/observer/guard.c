#include "config.h"

#include "observer/guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* An IP address reduced to compare: v4-mapped IPv6 counts as IPv4 (a
 * dual-stack socket reports IPv4 peers that way). */
typedef struct ip {
  int family; /* AF_INET, AF_INET6, or 0: not an address */
  uint8_t b[16];
} ip;

static ip ip_from_v6(const struct in6_addr *a) {
  ip r = {0};
  if (IN6_IS_ADDR_V4MAPPED(a)) {
    r.family = AF_INET;
    memcpy(r.b, a->s6_addr + 12, 4);
  } else {
    r.family = AF_INET6;
    memcpy(r.b, a->s6_addr, 16);
  }
  return r;
}

static ip ip_from_sockaddr(const struct sockaddr *sa) {
  ip r = {0};
  if (sa && sa->sa_family == AF_INET) {
    r.family = AF_INET;
    memcpy(r.b, &((const struct sockaddr_in *) sa)->sin_addr, 4);
  } else if (sa && sa->sa_family == AF_INET6) {
    r = ip_from_v6(&((const struct sockaddr_in6 *) sa)->sin6_addr);
  }
  return r;
}

/* A literal: IPv6 when v6 (it was in brackets), else dotted IPv4.
 * inet_pton is strict: no octal, no short forms such as 127.1. */
static ip ip_parse(const char *s, bool v6) {
  ip r = {0};
  struct in6_addr a6;
  if (v6) {
    if (inet_pton(AF_INET6, s, &a6) == 1)
      r = ip_from_v6(&a6);
  } else if (inet_pton(AF_INET, s, r.b) == 1) {
    r.family = AF_INET;
  }
  return r;
}

static bool ip_loopback(const ip *a) {
  static const uint8_t v6_loop[16] = {[15] = 1};
  if (a->family == AF_INET)
    return a->b[0] == 127;
  return a->family == AF_INET6 && memcmp(a->b, v6_loop, 16) == 0;
}

static bool ip_eq(const ip *a, const ip *b) {
  return a->family != 0 && a->family == b->family &&
         memcmp(a->b, b->b, a->family == AF_INET ? 4 : 16) == 0;
}

bool tl_guard_is_loopback(const struct sockaddr *sa) {
  ip a = ip_from_sockaddr(sa);
  return ip_loopback(&a);
}

/* Splits an authority, "name[:port]" or "[v6][:port]", into name (without
 * brackets) and port (-1 when absent). False when malformed. */
static bool split_authority(const char *s, size_t n, char *name, size_t cap,
                            bool *v6, long *port) {
  const char *end = s + n, *name_end, *rest;
  *v6 = n > 0 && s[0] == '[';
  if (*v6) {
    const char *close = memchr(s, ']', n);
    if (!close)
      return false;
    s++;
    name_end = close;
    rest = close + 1;
  } else {
    name_end = memchr(s, ':', n);
    if (!name_end)
      name_end = end;
    rest = name_end;
  }
  size_t len = (size_t) (name_end - s);
  if (len == 0 || len >= cap)
    return false;
  for (const char *q = s; q < name_end; q++) {
    char ch = *q;
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
              (*v6 && ch == ':');
    if (!ok)
      return false;
  }
  memcpy(name, s, len);
  name[len] = '\0';
  *port = -1;
  if (rest == end)
    return true;
  if (*rest != ':' || rest + 1 == end || end - rest > 6)
    return false;
  long v = 0;
  for (const char *q = rest + 1; q < end; q++) {
    if (*q < '0' || *q > '9')
      return false;
    v = v * 10 + (*q - '0');
  }
  if (v < 1 || v > 65535)
    return false;
  *port = v;
  return true;
}

/* True when the authority names this observer: a loopback literal,
 * localhost, or our bound or local address; and our port, or none when
 * default_port is -1 (Host) or the scheme's default (Origin). */
static bool authority_is_ours(const tl_guard_site *site, const char *s,
                              size_t n, long default_port) {
  char name[64];
  bool v6;
  long port;
  if (!split_authority(s, n, name, sizeof(name), &v6, &port))
    return false;
  if (port < 0)
    port = default_port;
  if (port >= 0 && port != site->port)
    return false;
  if (!v6 && strcasecmp(name, "localhost") == 0)
    return true;
  /* Any other name could resolve to us only through someone's DNS. */
  ip a = ip_parse(name, v6);
  if (a.family == 0)
    return false;
  if (ip_loopback(&a))
    return true;
  ip bound = ip_parse(site->bound_host, strchr(site->bound_host, ':') != NULL);
  ip local = ip_from_sockaddr(site->local);
  return ip_eq(&a, &bound) || ip_eq(&a, &local);
}

int tl_guard_host(const tl_guard_site *site, const tl_request *req,
                  const char **why) {
  const char *v;
  int len = tl_request_header(req, TL_HDR_HOST, &v);
  if (len == TL_HDR_ABSENT) {
    if (req->http_major == 1 && req->http_minor == 0)
      return 0;
    *why = "HTTP/1.1 requests need a Host header";
    return 400;
  }
  if (len == TL_HDR_UNUSABLE) {
    *why = "bad Host header (sent twice, or too long)";
    return 400;
  }
  if (authority_is_ours(site, v, (size_t) len, -1))
    return 0;
  *why = "misdirected request: Host must be a loopback address, localhost "
         "or the observer's own address and port (a page on another name "
         "that resolves here is refused: DNS rebinding)";
  return 421;
}

bool tl_guard_content_type_is(const tl_request *req, const char *type) {
  const char *v;
  int len = tl_request_header(req, TL_HDR_CONTENT_TYPE, &v);
  if (len <= 0)
    return false;
  size_t n = strcspn(v, ";");
  while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
    n--;
  return n == strlen(type) && strncasecmp(v, type, n) == 0;
}

int tl_guard_post(const tl_guard_site *site, const tl_request *req,
                  const char **why) {
  const char *v;
  int len = tl_request_header(req, TL_HDR_ORIGIN, &v);
  if (len != TL_HDR_ABSENT) {
    /* "null" (sandboxed pages, file:, redirects) is nobody we know. */
    bool ours = len > 7 && strncasecmp(v, "http://", 7) == 0 &&
                authority_is_ours(site, v + 7, (size_t) len - 7, 80);
    if (!ours) {
      *why = "cross-origin request refused: Origin is not this observer's "
             "own, and only the dashboard may change anything";
      return 403;
    }
  }
  len = tl_request_header(req, TL_HDR_X_THREADLAB, &v);
  if ((len == 1 && v[0] == '1') ||
      tl_guard_content_type_is(req, "application/json"))
    return 0;
  *why = "a request that changes anything needs the header X-Threadlab: 1 "
         "(or Content-Type: application/json), which a cross-site form "
         "cannot send";
  return 403;
}
