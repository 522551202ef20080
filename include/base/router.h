/* Maps a request path and method to one of the workload routes (pure:
 * any thread). */
#ifndef TL_BASE_ROUTER_H
#define TL_BASE_ROUTER_H

#include <stddef.h>

typedef enum tl_route {
  TL_ROUTE_OTHER = 0, /* not found, or an error before routing */
  TL_ROUTE_INDEX,
  TL_ROUTE_PLAINTEXT,
  TL_ROUTE_JSON,
  TL_ROUTE_CPU,
  TL_ROUTE_IO,
  TL_ROUTE_TASK,
  TL_ROUTE_ECHO,
  TL_ROUTE_STATIC,
  TL_ROUTE_COUNT
} tl_route;

/* Low-cardinality route label for statistics, e.g. "/plaintext". */
const char *tl_route_name(tl_route r);

/* Returns the route for (path, method). *status is 0 when the route takes
 * the method, 404 when no route matches, 405 when the path matches but the
 * method does not (then *allow names the methods, e.g. "GET, HEAD"). */
tl_route tl_route_match(const char *path, size_t len, int method, int *status,
                        const char **allow);

#endif
