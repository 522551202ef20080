#include "config.h"

#include "base/router.h"

#include <llhttp.h>
#include <string.h>

static const char *const route_names[TL_ROUTE_COUNT] = {
    "other", "/",     "/plaintext", "/json",  "/cpu",
    "/io",   "/task", "/echo",      "/static"};

const char *tl_route_name(tl_route r) {
  return (unsigned) r < TL_ROUTE_COUNT ? route_names[r] : "other";
}

typedef struct {
  const char *path;
  size_t len;
  int prefix; /* match "path" followed by anything */
  tl_route route;
  int post; /* takes POST instead of GET/HEAD */
} route_def;

#define R(p, pre, r, post)                                                     \
  { p, sizeof(p) - 1, pre, r, post }
static const route_def routes[] = {
    R("/plaintext", 0, TL_ROUTE_PLAINTEXT, 0),
    R("/json", 0, TL_ROUTE_JSON, 0),
    R("/cpu", 0, TL_ROUTE_CPU, 0),
    R("/io", 0, TL_ROUTE_IO, 0),
    R("/task", 0, TL_ROUTE_TASK, 0),
    R("/echo", 0, TL_ROUTE_ECHO, 1),
    R("/static/", 1, TL_ROUTE_STATIC, 0),
    R("/", 0, TL_ROUTE_INDEX, 0),
};
#undef R

tl_route tl_route_match(const char *path, size_t len, int method, int *status,
                        const char **allow) {
  for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
    const route_def *d = &routes[i];
    if (d->prefix ? (len < d->len || memcmp(path, d->path, d->len) != 0)
                  : (len != d->len || memcmp(path, d->path, len) != 0))
      continue;
    int ok = d->post ? method == HTTP_POST
                     : (method == HTTP_GET || method == HTTP_HEAD);
    if (!ok) {
      *status = 405;
      *allow = d->post ? "POST" : "GET, HEAD";
      return d->route;
    }
    *status = 0;
    *allow = NULL;
    return d->route;
  }
  *status = 404;
  *allow = NULL;
  return TL_ROUTE_OTHER;
}
