#include "config.h"

#include "base/parser.h"

#include <string.h>
#include <strings.h>

void tl_request_init(tl_request *r) {
  memset(r, 0, offsetof(tl_request, target));
  tl_buf_init(&r->target, r->target_inline, sizeof(r->target_inline));
  tl_buf_init(&r->body, NULL, 0);
}

void tl_request_close(tl_request *r) {
  tl_buf_close(&r->target);
  tl_buf_close(&r->body);
}

int tl_request_header(const tl_request *r, int which, const char **val) {
  *val = NULL;
  if (!r->headers)
    return TL_HDR_ABSENT;
  int len = r->headers->len[which];
  if (len >= 0)
    *val = r->headers->val[which];
  return len;
}

/* hidx for Expect: past the kept headers. */
#define HDR_EXPECT TL_HDR_COUNT

static tl_http_parser *P(llhttp_t *ll) { return (tl_http_parser *) ll; }

static int fail(tl_http_parser *p, int status, const char *text) {
  p->error_status = status;
  p->error_text = text;
  if (p->req)
    p->req->method = (uint8_t) p->ll.method;
  llhttp_set_error_reason(&p->ll, text);
  return HPE_USER;
}

static int count_header(tl_http_parser *p, size_t len) {
  p->req->header_bytes += len;
  if (p->req->header_bytes > p->max_header_bytes)
    return fail(p, 431, "request header fields too large");
  return 0;
}

static int on_message_begin(llhttp_t *ll) {
  tl_http_parser *p = P(ll);
  p->req = p->cb->begin(p->ctx);
  p->hname_len = p->hval_len = 0;
  p->hidx = -1;
  p->in_body = false;
  if (p->req->headers)
    for (int i = 0; i < TL_HDR_COUNT; i++)
      p->req->headers->len[i] = TL_HDR_ABSENT;
  return 0;
}

static int on_url(llhttp_t *ll, const char *at, size_t len) {
  tl_http_parser *p = P(ll);
  if (p->req->target.len + len > p->max_header_bytes)
    return fail(p, 414, "request target too long");
  tl_buf_append(&p->req->target, at, len);
  return count_header(p, len);
}

static void append_small(char *dst, uint8_t *dlen, size_t cap, const char *at,
                         size_t len) {
  /* Past cap the name or value cannot be one we look for: mark it so. */
  if (*dlen + len > cap) {
    *dlen = (uint8_t) (cap + 1 > 255 ? 255 : cap + 1);
    return;
  }
  memcpy(dst + *dlen, at, len);
  *dlen = (uint8_t) (*dlen + len);
}

static int on_header_field(llhttp_t *ll, const char *at, size_t len) {
  tl_http_parser *p = P(ll);
  append_small(p->hname, &p->hname_len, sizeof(p->hname), at, len);
  return count_header(p, len);
}

static bool name_is(const tl_http_parser *p, const char *lit, size_t n) {
  return p->hname_len == n && strncasecmp(p->hname, lit, n) == 0;
}

/* Which header this is: Expect, one the request keeps, or -1. */
static int8_t header_id(const tl_http_parser *p) {
  if (name_is(p, "expect", 6))
    return HDR_EXPECT;
  if (!p->req->headers)
    return -1;
  if (name_is(p, "host", 4))
    return TL_HDR_HOST;
  if (name_is(p, "origin", 6))
    return TL_HDR_ORIGIN;
  if (name_is(p, "content-type", 12))
    return TL_HDR_CONTENT_TYPE;
  if (name_is(p, "x-threadlab", 11))
    return TL_HDR_X_THREADLAB;
  return -1;
}

static int on_header_field_complete(llhttp_t *ll) {
  tl_http_parser *p = P(ll);
  p->hidx = header_id(p);
  if (p->hidx >= 0 && p->hidx < TL_HDR_COUNT) {
    int16_t *len = &p->req->headers->len[p->hidx];
    /* Sent twice: neither value can be trusted. */
    if (*len != TL_HDR_ABSENT) {
      *len = TL_HDR_UNUSABLE;
      p->hidx = -1;
    } else {
      *len = 0;
    }
  }
  return 0;
}

static int on_header_value(llhttp_t *ll, const char *at, size_t len) {
  tl_http_parser *p = P(ll);
  if (p->hidx == HDR_EXPECT) {
    append_small(p->hval, &p->hval_len, sizeof(p->hval), at, len);
  } else if (p->hidx >= 0) {
    tl_req_headers *h = p->req->headers;
    int16_t *hl = &h->len[p->hidx];
    if ((size_t) *hl + len > TL_HDR_VALUE_MAX) {
      *hl = TL_HDR_UNUSABLE;
      p->hidx = -1;
    } else {
      memcpy(h->val[p->hidx] + *hl, at, len);
      *hl = (int16_t) (*hl + len);
    }
  }
  return count_header(p, len);
}

static int on_header_value_complete(llhttp_t *ll) {
  tl_http_parser *p = P(ll);
  if (p->hidx == HDR_EXPECT) {
    if (p->hval_len == 12 && strncasecmp(p->hval, "100-continue", 12) == 0)
      p->req->expect_continue = true;
  } else if (p->hidx >= 0) {
    tl_req_headers *h = p->req->headers;
    int16_t *hl = &h->len[p->hidx];
    char *v = h->val[p->hidx];
    while (*hl > 0 && (v[*hl - 1] == ' ' || v[*hl - 1] == '\t'))
      (*hl)--;
    v[*hl] = '\0';
  }
  p->hname_len = p->hval_len = 0;
  p->hidx = -1;
  return 0;
}

/* RFC 9112 3.2.2: a target in absolute form ("http://host:port/p?q")
 * names the authority, which stands for Host (a Host field beside it is
 * ignored); routing gets the origin form ("/p?q", "/" for an empty path).
 * An http URI without a host, or with userinfo, is refused (RFC 9110
 * 4.2.1, 4.2.4). Other targets are left as they are. */
static int absolute_form(tl_http_parser *p) {
  tl_request *r = p->req;
  char *t = r->target.data;
  size_t len = r->target.len, s;
  /* Nearly every target is in origin form: no string compare for it. */
  if (len < 7 || (t[0] | 0x20) != 'h')
    return 0;
  if (strncasecmp(t, "http://", 7) == 0)
    s = 7;
  else if (len >= 8 && strncasecmp(t, "https://", 8) == 0)
    s = 8;
  else
    return 0;
  size_t e = s;
  while (e < len && t[e] != '/' && t[e] != '?')
    e++;
  if (e == s || memchr(t + s, '@', e - s))
    return fail(p, 400, "invalid request target");
  if (r->headers) {
    int16_t *hl = &r->headers->len[TL_HDR_HOST];
    if (e - s > TL_HDR_VALUE_MAX) {
      *hl = TL_HDR_UNUSABLE;
    } else {
      memcpy(r->headers->val[TL_HDR_HOST], t + s, e - s);
      r->headers->val[TL_HDR_HOST][e - s] = '\0';
      *hl = (int16_t) (e - s);
    }
  }
  size_t from = e;
  if (e == len || t[e] == '?')
    t[--from] = '/'; /* over the authority's last byte, already copied */
  memmove(t, t + from, len - from);
  r->target.len = len - from;
  return 0;
}

static int on_headers_complete(llhttp_t *ll) {
  tl_http_parser *p = P(ll);
  tl_request *r = p->req;
  r->method = (uint8_t) ll->method;
  r->http_major = ll->http_major;
  r->http_minor = ll->http_minor;
  /* An Upgrade/CONNECT request is the last one we answer on this
   * connection (the bytes after it are not HTTP/1): decide that here,
   * before the request is dispatched, not after. */
  r->keep_alive = llhttp_should_keep_alive(ll) != 0 && !ll->upgrade;
  if (ll->http_major != 1)
    return fail(p, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
  if (absolute_form(p) != 0)
    return HPE_USER;
  if ((ll->flags & F_CONTENT_LENGTH) && ll->content_length > p->max_body_bytes)
    return fail(p, 413, "request body too large");
  p->in_body = true;
  if (p->cb->headers_done)
    p->cb->headers_done(p->ctx, r);
  return 0;
}

static int on_body(llhttp_t *ll, const char *at, size_t len) {
  tl_http_parser *p = P(ll);
  if (p->req->body.len + len > p->max_body_bytes)
    return fail(p, 413, "request body too large");
  tl_buf_append(&p->req->body, at, len);
  return 0;
}

static int on_message_complete(llhttp_t *ll) {
  tl_http_parser *p = P(ll);
  tl_request *r = p->req;
  p->req = NULL;
  return p->cb->complete(p->ctx, r) ? HPE_PAUSED : 0;
}

/* llhttp keeps a pointer to this: it must outlive every parser. Designated
 * initializers because the field order differs between llhttp versions. */
static const llhttp_settings_t settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_field_complete = on_header_field_complete,
    .on_header_value = on_header_value,
    .on_header_value_complete = on_header_value_complete,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void tl_http_parser_init(tl_http_parser *p, const tl_http_callbacks *cb,
                         void *ctx, size_t max_header_bytes,
                         size_t max_body_bytes) {
  memset(p, 0, sizeof(*p));
  llhttp_init(&p->ll, HTTP_REQUEST, &settings);
  p->cb = cb;
  p->ctx = ctx;
  p->max_header_bytes = max_header_bytes;
  p->max_body_bytes = max_body_bytes;
  p->hidx = -1;
}

static const char *error_text(llhttp_errno_t e) {
  switch (e) {
  case HPE_INVALID_METHOD: return "invalid method";
  case HPE_INVALID_URL: return "invalid request target";
  case HPE_INVALID_VERSION: return "invalid HTTP version";
  case HPE_INVALID_HEADER_TOKEN: return "invalid header";
  case HPE_INVALID_CONTENT_LENGTH: return "invalid Content-Length";
  case HPE_UNEXPECTED_CONTENT_LENGTH:
    return "conflicting Content-Length / Transfer-Encoding";
  case HPE_INVALID_CHUNK_SIZE: return "invalid chunk size";
  case HPE_INVALID_TRANSFER_ENCODING: return "invalid Transfer-Encoding";
  case HPE_INVALID_CONSTANT: return "malformed request";
  case HPE_PAUSED_H2_UPGRADE: return "HTTP/2 is not supported";
  default: return "malformed request";
  }
}

int tl_http_parser_feed(tl_http_parser *p, const char *data, size_t len,
                        size_t *consumed) {
  if (p->error_status) {
    *consumed = 0;
    return TL_HTTP_ERROR;
  }
  llhttp_errno_t e = llhttp_execute(&p->ll, data, len);
  switch (e) {
  case HPE_OK: *consumed = len; return TL_HTTP_OK;
  case HPE_PAUSED:
    *consumed = (size_t) (llhttp_get_error_pos(&p->ll) - data);
    return TL_HTTP_PAUSED;
  case HPE_PAUSED_UPGRADE:
    *consumed = (size_t) (llhttp_get_error_pos(&p->ll) - data);
    return TL_HTTP_UPGRADE;
  case HPE_USER:
    *consumed = (size_t) (llhttp_get_error_pos(&p->ll) - data);
    return TL_HTTP_ERROR;
  default:
    *consumed = (size_t) (llhttp_get_error_pos(&p->ll) - data);
    /* on_headers_complete failures surface as HPE_CB_HEADERS_COMPLETE:
     * keep the status our callback chose. */
    if (!p->error_status) {
      p->error_status = 400;
      p->error_text = error_text(e);
    }
    return TL_HTTP_ERROR;
  }
}

void tl_http_parser_resume(tl_http_parser *p) { llhttp_resume(&p->ll); }

int tl_http_parser_finish(tl_http_parser *p) {
  if (p->error_status)
    return TL_HTTP_ERROR;
  llhttp_errno_t e = llhttp_finish(&p->ll);
  if (e != HPE_OK && e != HPE_PAUSED) {
    p->error_status = 400;
    p->error_text = "request cut short";
    return TL_HTTP_ERROR;
  }
  return TL_HTTP_OK;
}

bool tl_http_parser_in_request(const tl_http_parser *p) {
  return p->req != NULL;
}

bool tl_http_parser_in_body(const tl_http_parser *p) {
  return p->req != NULL && p->in_body;
}
