/* Serving files from a directory, never outside it: paths are
 * percent-decoded, ".." segments and NUL bytes refused, and the open itself
 * is confined with openat2(RESOLVE_BENEATH), so symlinks that lead out of
 * the directory are refused by the kernel. Blocking file I/O: call it from a
 * worker or libuv's pool, not from an event loop. */
#ifndef TL_BASE_STATIC_FILE_H
#define TL_BASE_STATIC_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"

#define TL_STATIC_MAX_FILE (16u * 1024 * 1024)

const char *tl_static_mime(const char *path);

/* Opens `rel` (already decoded, relative) read-only beneath dirfd. Returns
 * an fd or a negative errno (-EXDEV / -ELOOP for escapes). */
int tl_static_open(int dirfd, const char *rel);

/* Appends a complete response for the raw (still percent-encoded) path
 * below the directory to out; "" or a directory means its index.html.
 * Returns the status it answered (200, 400, 403, 404). */
int tl_static_respond(tl_buf *out, int dirfd, const char *raw, size_t len,
                      int http_minor, bool keep_alive, bool head);

#endif
