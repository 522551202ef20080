#include "config.h"

#include "base/query.h"

#include <string.h>

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int tl_percent_decode(const char *src, size_t len, char *dst, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    char c = src[i];
    if (c == '%') {
      if (i + 2 >= len)
        return -1;
      int hi = hexval(src[i + 1]), lo = hexval(src[i + 2]);
      if (hi < 0 || lo < 0)
        return -1;
      c = (char) (hi * 16 + lo);
      i += 2;
    }
    if (c == '\0' || o + 1 >= cap)
      return -1;
    dst[o++] = c;
  }
  if (cap == 0)
    return -1;
  dst[o] = '\0';
  return (int) o;
}

int tl_query_get(const char *q, size_t qlen, const char *name, char *out,
                 size_t cap) {
  size_t nlen = strlen(name);
  size_t i = 0;
  while (i <= qlen && qlen > 0) {
    size_t j = i;
    while (j < qlen && q[j] != '&')
      j++;
    /* q[i..j) is one "key=value" pair */
    const char *eq = memchr(q + i, '=', j - i);
    size_t klen = eq ? (size_t) (eq - (q + i)) : j - i;
    if (klen == nlen && memcmp(q + i, name, nlen) == 0) {
      const char *v = eq ? eq + 1 : q + j;
      size_t vlen = eq ? (size_t) (q + j - v) : 0;
      int n = tl_percent_decode(v, vlen, out, cap);
      return n < 0 ? -2 : n;
    }
    i = j + 1;
  }
  return -1;
}

int tl_parse_uint(const char *s, size_t len, unsigned long lo, unsigned long hi,
                  unsigned long *out) {
  if (len == 0 || len > 18)
    return -1;
  unsigned long v = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    v = v * 10 + (unsigned long) (s[i] - '0');
  }
  if (v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}

void tl_split_target(const char *target, size_t len, size_t *path_len,
                     const char **query, size_t *query_len) {
  const char *qm = memchr(target, '?', len);
  if (qm) {
    *path_len = (size_t) (qm - target);
    *query = qm + 1;
    *query_len = len - *path_len - 1;
  } else {
    *path_len = len;
    *query = target + len;
    *query_len = 0;
  }
}
