/* Who may talk to the observer (SPEC "Observer security"). A browser on
 * this machine is a loopback peer, so the peer's address is not enough:
 * - Host must name this observer (a loopback address, localhost, or the
 *   address it is bound to or was reached on; with its port, if any), or
 *   a page on a hostile name that resolves to 127.0.0.1 (DNS rebinding)
 *   could read and drive it as if it were the dashboard;
 * - a POST must come from the dashboard: no Origin or our own, plus a
 *   header that a cross-site form cannot send (X-Threadlab: 1 or
 *   Content-Type: application/json), which a cross-site fetch could only
 *   send after a CORS preflight that is never granted.
 * Pure functions of the request and the site; the observer calls them on
 * its thread. */
#ifndef TL_OBSERVER_GUARD_H
#define TL_OBSERVER_GUARD_H

#include <stdbool.h>
#include <sys/socket.h>

#include "base/parser.h"

typedef struct tl_guard_site {
  const char *bound_host;       /* --host: an IPv4 or IPv6 literal */
  int port;                     /* the observer's bound port */
  const struct sockaddr *local; /* the connection's local address, or NULL */
} tl_guard_site;

/* 0 when the request's Host names this observer (HTTP/1.0 may omit it);
 * else the status to refuse with (400: missing, repeated or too long;
 * 421: another name) and *why. */
int tl_guard_host(const tl_guard_site *site, const tl_request *req,
                  const char **why);
/* 0 when the request may change state; else 403 and *why. */
int tl_guard_post(const tl_guard_site *site, const tl_request *req,
                  const char **why);
/* 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104. */
bool tl_guard_is_loopback(const struct sockaddr *sa);
/* True when the request's Content-Type has media type `type` (parameters
 * such as charset ignored, case-insensitive). */
bool tl_guard_content_type_is(const tl_request *req, const char *type);

#endif
