/* The loops beyond the first (--loops N): each on its own thread
 * (tl-loop-K, role loop, index K) with its own libuv loop and listener on
 * the shared port. Loop 0 stays on the main thread.
 *
 * Threads: start and join run on the main thread; the rest of a loop's
 * life runs on its own thread. */
#ifndef TL_CORE_LOOP_THREADS_H
#define TL_CORE_LOOP_THREADS_H

struct tl_server;
typedef struct tl_loop_threads tl_loop_threads;

/* Main thread, after loop 0 is bound: starts loops 1..nloops-1 and waits
 * until each has bound its listener (or failed). Each loop calls
 * `on_finished` on its thread once it has drained and closed. Returns 0,
 * or a negative code after draining and joining what had started. */
int tl_loop_threads_start(tl_loop_threads **out, struct tl_server *srv,
                          void (*on_finished)(struct tl_server *srv));
/* Main thread, after every loop finished: join the threads and free. */
void tl_loop_threads_join(tl_loop_threads *lt);

#endif
