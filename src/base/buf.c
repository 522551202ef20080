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
  /* Two digits per division: half the divisions of the digit loop (the
   * observer writes ~100,000 numbers per /stats at 1,000 threads). */
  static const char pairs[201] = "00010203040506070809"
                                 "10111213141516171819"
                                 "20212223242526272829"
                                 "30313233343536373839"
                                 "40414243444546474849"
                                 "50515253545556575859"
                                 "60616263646566676869"
                                 "70717273747576777879"
                                 "80818283848586878889"
                                 "90919293949596979899";
  char tmp[24];
  size_t i = sizeof(tmp);
  while (v >= 100) {
    unsigned d = (unsigned) (v % 100) * 2;
    v /= 100;
    tmp[--i] = pairs[d + 1];
    tmp[--i] = pairs[d];
  }
  if (v >= 10) {
    unsigned d = (unsigned) v * 2;
    tmp[--i] = pairs[d + 1];
    tmp[--i] = pairs[d];
  } else {
    tmp[--i] = (char) ('0' + v);
  }
  tl_buf_append(b, tmp + i, sizeof(tmp) - i);
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0; *bad gets how many bytes of an
 * ill-formed one to replace with a single U+FFFD (its maximal valid prefix,
 * as Unicode's "substitution of maximal subparts" counts, at least 1). */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t *bad) {
  unsigned char c = s[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
  if (c >= 0xc2 && c <= 0xdf)
    len = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0)
      lo = 0xa0; /* overlong below */
    else if (c == 0xed)
      hi = 0x9f; /* surrogates above */
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0)
      lo = 0x90;
    else if (c == 0xf4)
      hi = 0x8f; /* beyond U+10FFFF */
  } else {
    *bad = 1; /* a continuation byte alone, C0/C1 (overlong), F5..FF */
    return 0;
  }
  size_t i = 1;
  for (; i < len && i < n; i++) {
    unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xbf;
    if (s[i] < min || s[i] > max)
      break;
  }
  if (i == len)
    return len;
  *bad = i;
  return 0;
}

void tl_buf_put_json_str(tl_buf *b, const char *str, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *) str;
  tl_buf_reserve(b, n + 2);
  tl_buf_putc(b, '"');
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    const char *shortform = NULL;
    switch (c) {
    case '"': shortform = "\\\""; break;
    case '\\': shortform = "\\\\"; break;
    case '\b': shortform = "\\b"; break;
    case '\f': shortform = "\\f"; break;
    case '\n': shortform = "\\n"; break;
    case '\r': shortform = "\\r"; break;
    case '\t': shortform = "\\t"; break;
    default: break;
    }
    if (shortform) {
      tl_buf_append(b, shortform, 2);
      i++;
    } else if (c < 0x20 || c == 0x7f) {
      char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      tl_buf_append(b, esc, sizeof(esc));
      i++;
    } else if (c < 0x80) {
      tl_buf_putc(b, (char) c);
      i++;
    } else {
      size_t bad = 0, len = utf8_seq(s + i, n - i, &bad);
      if (len == 2 && c == 0xc2 && s[i + 1] < 0xa0) {
        /* C1 controls (U+0080..U+009F) are control characters too */
        char esc[6] = {
            '\\', 'u', '0', '0', hex[s[i + 1] >> 4], hex[s[i + 1] & 15]};
        tl_buf_append(b, esc, sizeof(esc));
      } else if (len) {
        tl_buf_append(b, s + i, len);
      } else {
        tl_buf_append(b, "\xef\xbf\xbd", 3); /* U+FFFD */
        len = bad;
      }
      i += len;
    }
  }
  tl_buf_putc(b, '"');
}

void tl_buf_put_prom_label(tl_buf *b, const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *) str;
  tl_buf_reserve(b, n);
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    if (c == '\\' || c == '"') {
      tl_buf_putc(b, '\\');
      tl_buf_putc(b, (char) c);
      i++;
    } else if (c == '\n') {
      tl_buf_append(b, "\\n", 2);
      i++;
    } else if (c < 0x80) {
      tl_buf_putc(b, (char) c);
      i++;
    } else {
      size_t bad = 0, len = utf8_seq(s + i, n - i, &bad);
      if (len) {
        tl_buf_append(b, s + i, len);
      } else {
        tl_buf_append(b, "\xef\xbf\xbd", 3); /* U+FFFD */
        len = bad;
      }
      i += len;
    }
  }
}
