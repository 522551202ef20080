/* The wait-for graph's cycles (base/deadlock.h). */
#include "config.h"

#include "base/deadlock.h"

#include <stdlib.h>

/* The node that holds lock `id`, or -1. */
static int holder_of(const tl_wait_node *nodes, int n, int id) {
  if (id < 0 || id >= (int) (8 * sizeof(unsigned)))
    return -1;
  for (int i = 0; i < n; i++)
    if (nodes[i].holds & (1u << id))
      return i;
  return -1;
}

int tl_deadlock_find(const tl_wait_node *nodes, int n, tl_deadlock_cycle *out,
                     int cap) {
  if (n <= 0)
    return 0;
  int *next = malloc(sizeof(int) * (size_t) n);
  /* 0: unvisited; k+1: visited by the walk from node k. */
  int *seen = calloc((size_t) n, sizeof(int));
  if (!next || !seen) {
    free(next);
    free(seen);
    return 0;
  }
  for (int i = 0; i < n; i++) {
    next[i] = holder_of(nodes, n, nodes[i].wants);
    if (next[i] == i) /* wants what it holds: not a wait on another */
      next[i] = -1;
  }
  int found = 0;
  for (int start = 0; start < n; start++) {
    int v = start;
    while (v >= 0 && seen[v] == 0) {
      seen[v] = start + 1;
      v = next[v];
    }
    if (v < 0 || seen[v] != start + 1)
      continue; /* ran off the graph, or into an earlier walk */
    /* v is on a new cycle: start it at its smallest tid. */
    int first = v, len = 0;
    for (int u = next[v]; u != v; u = next[u])
      if (nodes[u].tid < nodes[first].tid)
        first = u;
    if (found < cap) {
      tl_deadlock_cycle *c = &out[found];
      int u = first;
      do {
        if (len < TL_DEADLOCK_MAX_LEN)
          c->node[len] = u;
        len++;
        u = next[u];
      } while (u != first);
      c->len = len < TL_DEADLOCK_MAX_LEN ? len : TL_DEADLOCK_MAX_LEN;
    }
    found++;
  }
  free(next);
  free(seen);
  return found;
}
