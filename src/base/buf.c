#include "config.h"

#include "base/buf.h"
#include "base/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tl_buf_init(tl_buf *b, char *storage, size_t cap) {
  b->data = storage;
  b->len = 0;
  b->cap = storage ? cap : 0;
  b->inline_data = storage;
  b->inline_cap = b->cap;
}

void tl_buf_reserve(tl_buf *b, size_t extra) {
  size_t need = b->len + extra;
  if (need <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap *= 2;
  if (b->data == b->inline_data) {
    char *p = tl_xmalloc(cap);
    if (b->len)
      memcpy(p, b->data, b->len);
    b->data = p;
  } else {
    b->data = tl_xrealloc(b->data, cap);
  }
  b->cap = cap;
}

void tl_buf_append(tl_buf *b, const void *p, size_t n) {
  if (n == 0)
    return;
  tl_buf_reserve(b, n);
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

void tl_buf_puts(tl_buf *b, const char *s) { tl_buf_append(b, s, strlen(s)); }

void tl_buf_putc(tl_buf *b, char c) {
  tl_buf_reserve(b, 1);
  b->data[b->len++] = c;
}

void tl_buf_vprintf(tl_buf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  size_t room = b->cap - b->len;
  int n = vsnprintf(b->data ? b->data + b->len : NULL, room, fmt, ap);
  if (n >= 0 && (size_t) n >= room) {
    tl_buf_reserve(b, (size_t) n + 1);
    n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
  }
  va_end(ap2);
  if (n > 0)
    b->len += (size_t) n;
}

void tl_buf_printf(tl_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tl_buf_vprintf(b, fmt, ap);
  va_end(ap);
}

void tl_buf_put_u64(tl_buf *b, unsigned long long v) {
  char tmp[24];
  size_t i = sizeof(tmp);
  do {
    tmp[--i] = (char) ('0' + v % 10);
    v /= 10;
  } while (v);
  tl_buf_append(b, tmp + i, sizeof(tmp) - i);
}

void tl_buf_put_json_str(tl_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  tl_buf_reserve(b, n + 2);
  tl_buf_putc(b, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char) s[i];
    if (c == '"' || c == '\\') {
      tl_buf_putc(b, '\\');
      tl_buf_putc(b, (char) c);
    } else if (c < 0x20) {
      char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      tl_buf_append(b, esc, sizeof(esc));
    } else {
      tl_buf_putc(b, (char) c);
    }
  }
  tl_buf_putc(b, '"');
}

void tl_buf_close(tl_buf *b) {
  if (b->data != b->inline_data)
    free(b->data);
  b->data = b->inline_data;
  b->len = 0;
  b->cap = b->inline_cap;
}
