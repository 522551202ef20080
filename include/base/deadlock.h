/* Finding deadlocks in a wait-for graph. Pure: no state, any thread (the
 * observer calls it on what exec/shared_steps publishes).
 *
 * Each node is a thread: the locks it holds (a bit per lock) and the one
 * lock it waits for, if any. Thread A waits for thread B when A wants a
 * lock B holds; every node has at most one such edge, so each cycle is
 * found by walking from every node until a node repeats. */
#ifndef TL_BASE_DEADLOCK_H
#define TL_BASE_DEADLOCK_H

#define TL_DEADLOCK_MAX_LEN 16

typedef struct tl_wait_node {
  int tid;
  unsigned holds; /* bit i: holds lock i */
  int wants;      /* lock id it waits for, -1: none */
} tl_wait_node;

typedef struct tl_deadlock_cycle {
  int len;
  /* Indexes into the node array, starting at the cycle's smallest tid, in
   * wait order: node[i] wants what node[i+1] holds (and the last the
   * first's). */
  int node[TL_DEADLOCK_MAX_LEN];
} tl_deadlock_cycle;

/* Writes up to cap cycles (each once) and returns how many there are. A
 * thread that waits for a lock nobody holds, or for a thread that is not
 * itself waiting in a circle, is in no cycle. */
int tl_deadlock_find(const tl_wait_node *nodes, int n, tl_deadlock_cycle *out,
                     int cap);

#endif
