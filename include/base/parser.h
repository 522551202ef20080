/* The llhttp glue: turns bytes into complete requests and enforces our
 * limits (llhttp itself has no header cap). One parser per connection, used
 * by the thread that owns the connection (a workload loop, the observer). */
#ifndef TL_BASE_PARSER_H
#define TL_BASE_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <llhttp.h>

#include "base/buf.h"

#define TL_TARGET_INLINE 112

/* Header values a request owner may ask the parser to keep (the observer
 * does, for its Host and Origin checks; the workload does not, and pays
 * nothing for them). */
enum {
  TL_HDR_HOST,
  TL_HDR_ORIGIN,
  TL_HDR_CONTENT_TYPE,
  TL_HDR_X_THREADLAB,
  TL_HDR_COUNT
};
#define TL_HDR_VALUE_MAX 95
#define TL_HDR_ABSENT    (-1)
#define TL_HDR_UNUSABLE  (-2) /* longer than TL_HDR_VALUE_MAX, or sent twice */

/* Each value as sent, without surrounding whitespace, NUL-terminated;
 * len is its length, TL_HDR_ABSENT or TL_HDR_UNUSABLE. */
typedef struct tl_req_headers {
  int16_t len[TL_HDR_COUNT];
  char val[TL_HDR_COUNT][TL_HDR_VALUE_MAX + 1];
} tl_req_headers;

/* One parsed request. The owner (a connection slot) provides the storage;
 * the parser fills it between begin() and complete(). */
typedef struct tl_request {
  uint8_t method; /* llhttp_method_t */
  uint8_t http_major;
  uint8_t http_minor;
  bool keep_alive;      /* llhttp_should_keep_alive */
  bool expect_continue; /* "Expect: 100-continue" was sent */
  size_t header_bytes;  /* request line + header bytes seen */
  /* NULL (tl_request_init), or where begin() wants the values of the
   * TL_HDR_* headers kept. */
  tl_req_headers *headers;
  tl_buf target; /* request target as sent, e.g. "/io?ms=5" */
  tl_buf body;
  char target_inline[TL_TARGET_INLINE];
} tl_request;

void tl_request_init(tl_request *r);
void tl_request_close(tl_request *r);
/* The kept value of header `which` (TL_HDR_*) in *val; returns its length,
 * TL_HDR_ABSENT (also when nothing was kept) or TL_HDR_UNUSABLE. */
int tl_request_header(const tl_request *r, int which, const char **val);

typedef struct tl_http_callbacks {
  /* A request starts: return the storage to fill (never NULL). */
  tl_request *(*begin)(void *ctx);
  /* Headers complete, limits passed (a place to send 100 Continue). */
  void (*headers_done)(void *ctx, tl_request *req);
  /* Request complete: return 0 to keep parsing, 1 to pause after it. */
  int (*complete)(void *ctx, tl_request *req);
} tl_http_callbacks;

typedef struct tl_http_parser {
  llhttp_t ll;
  const tl_http_callbacks *cb;
  void *ctx;
  tl_request *req; /* request being parsed, or NULL between them */
  size_t max_header_bytes;
  size_t max_body_bytes;
  int error_status;       /* after TL_HTTP_ERROR: 400, 413, 414, 431, 505 */
  const char *error_text; /* after TL_HTTP_ERROR: a short reason */
  /* Header names are tracked in a small fixed buffer (longer ones are none
   * we look for); hidx says what the current one is: Expect, whose value
   * goes to hval, a TL_HDR_* the request keeps, or -1: skipped. */
  char hname[16];
  uint8_t hname_len;
  int8_t hidx;
  char hval[16];
  uint8_t hval_len;
  bool in_body; /* headers of the current request are complete */
} tl_http_parser;

enum {
  TL_HTTP_OK = 0,      /* every byte consumed */
  TL_HTTP_PAUSED = 1,  /* complete() asked to pause: resume, then feed rest */
  TL_HTTP_UPGRADE = 2, /* an Upgrade/CONNECT request ended; rest is not HTTP */
  TL_HTTP_ERROR = -1   /* error_status and error_text are set; sticky */
};

void tl_http_parser_init(tl_http_parser *p, const tl_http_callbacks *cb,
                         void *ctx, size_t max_header_bytes,
                         size_t max_body_bytes);
/* Feeds len bytes. *consumed tells how many were used (all unless PAUSED,
 * UPGRADE or ERROR). */
int tl_http_parser_feed(tl_http_parser *p, const char *data, size_t len,
                        size_t *consumed);
void tl_http_parser_resume(tl_http_parser *p);
/* At EOF: TL_HTTP_ERROR if a request was cut short, else TL_HTTP_OK. */
int tl_http_parser_finish(tl_http_parser *p);
/* True while a request has begun but not completed. */
bool tl_http_parser_in_request(const tl_http_parser *p);
/* True once the current request's headers are complete (body phase). */
bool tl_http_parser_in_body(const tl_http_parser *p);

#endif
