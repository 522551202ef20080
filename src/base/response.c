#include "config.h"

#include "base/response.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

const char *tl_http_reason(int status) {
  switch (status) {
  case 100: return "Continue";
  case 200: return "OK";
  case 204: return "No Content";
  case 301: return "Moved Permanently";
  case 304: return "Not Modified";
  case 400: return "Bad Request";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 413: return "Content Too Large";
  case 414: return "URI Too Long";
  case 415: return "Unsupported Media Type";
  case 421: return "Misdirected Request";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 503: return "Service Unavailable";
  case 505: return "HTTP Version Not Supported";
  default: return "Unknown";
  }
}

static __thread time_t date_sec = -1;
static __thread char date_str[40];

const char *tl_http_date(void) {
  struct timespec ts;
  /* The coarse clock is a vDSO read: no system call per response. */
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  if (ts.tv_sec != date_sec) {
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    strftime(date_str, sizeof(date_str), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    date_sec = ts.tv_sec;
  }
  return date_str;
}

void tl_resp_begin(tl_buf *out, int status, int http_minor, bool keep_alive) {
  const char *reason = tl_http_reason(status);
  tl_buf_reserve(out, 160);
  tl_buf_puts(out, "HTTP/1.1 ");
  tl_buf_put_u64(out, (unsigned) status);
  tl_buf_putc(out, ' ');
  tl_buf_puts(out, reason);
  tl_buf_puts(out, "\r\nServer: " TL_SERVER_NAME "\r\nDate: ");
  tl_buf_puts(out, tl_http_date());
  tl_buf_puts(out, "\r\n");
  if (!keep_alive)
    tl_buf_puts(out, "Connection: close\r\n");
  else if (http_minor == 0)
    tl_buf_puts(out, "Connection: keep-alive\r\n");
}

void tl_resp_header(tl_buf *out, const char *name, const char *value) {
  tl_buf_puts(out, name);
  tl_buf_puts(out, ": ");
  tl_buf_puts(out, value);
  tl_buf_puts(out, "\r\n");
}

void tl_resp_finish(tl_buf *out, const char *ctype, const void *body,
                    size_t len, bool head) {
  if (ctype) {
    tl_buf_puts(out, "Content-Type: ");
    tl_buf_puts(out, ctype);
    tl_buf_puts(out, "\r\n");
  }
  tl_buf_puts(out, "Content-Length: ");
  tl_buf_put_u64(out, len);
  tl_buf_puts(out, "\r\n\r\n");
  if (!head)
    tl_buf_append(out, body, len);
}

void tl_resp_error(tl_buf *out, int status, const char *msg, int http_minor,
                   bool keep_alive, bool head, const char *extra_headers) {
  char body[512];
  tl_buf b;
  tl_buf_init(&b, body, sizeof(body));
  tl_buf_puts(&b, "{\"error\":");
  tl_buf_put_json_str(&b, msg, strlen(msg));
  tl_buf_puts(&b, ",\"status\":");
  tl_buf_put_u64(&b, (unsigned) status);
  tl_buf_puts(&b, "}\n");
  tl_resp_begin(out, status, http_minor, keep_alive);
  if (extra_headers)
    tl_buf_puts(out, extra_headers);
  tl_resp_finish(out, "application/json", b.data, b.len, head);
  tl_buf_close(&b);
}
