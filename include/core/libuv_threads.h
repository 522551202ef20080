/* libuv's own threadpool (used here for static files in async/hybrid mode
 * and by uv_fs_*) is global and, in libuv 1.44, unnamed. To show those
 * threads with role "libuv", we start the pool at once and have each of
 * its threads name and register itself. */
#ifndef TL_CORE_LIBUV_THREADS_H
#define TL_CORE_LIBUV_THREADS_H

#include <uv.h>

#include "base/thread.h"

/* Blocks until every libuv pool thread registered (or ~2 s passed).
 * Returns how many registered. The loop must later run to finish the
 * queued no-op requests. */
int tl_libuv_threads_register(uv_loop_t *loop, tl_registry *reg);

#endif
