/* Serialising HTTP/1.x responses into a tl_buf. Safe on any thread: the
 * Date cache is per thread. */
#ifndef TL_BASE_RESPONSE_H
#define TL_BASE_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"

#define TL_SERVER_NAME "threadlab/" PACKAGE_VERSION

const char *tl_http_reason(int status);

/* "Sun, 06 Nov 1994 08:49:37 GMT", regenerated at most once a second per
 * thread. */
const char *tl_http_date(void);

/* Status line, Server, Date and the Connection header that the request's
 * version and keep-alive decision need. */
void tl_resp_begin(tl_buf *out, int status, int http_minor, bool keep_alive);
void tl_resp_header(tl_buf *out, const char *name, const char *value);
/* Content-Type, Content-Length, the blank line, then the body unless head. */
void tl_resp_finish(tl_buf *out, const char *ctype, const void *body,
                    size_t len, bool head);
/* A whole error response with a JSON body {"error":msg,"status":N}.
 * extra_headers is "" or complete "Name: value\r\n" lines. */
void tl_resp_error(tl_buf *out, int status, const char *msg, int http_minor,
                   bool keep_alive, bool head, const char *extra_headers);

#endif
