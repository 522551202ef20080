/* Dashboard files answered without blocking the observer's loop: the open
 * and read (base/static_file, blocking) run on libuv's pool while the
 * connection is held, so a slow disk delays that one response, never
 * /stats or the stream. Observer thread only. */
#ifndef TL_OBSERVER_FILE_READS_H
#define TL_OBSERVER_FILE_READS_H

#include <stddef.h>

#include "base/parser.h"
#include "observer/admin_conn.h"

/* Answers r (the raw, still percent-encoded path rel below dirfd) later,
 * from the loop c belongs to. dirfd must stay open while the observer
 * runs. */
void tl_file_reads_serve(tl_admin_conn *c, const tl_request *r, int dirfd,
                         const char *rel, size_t len);

#endif
