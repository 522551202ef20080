/* A growable byte buffer. The struct owns `data` (heap) unless it still
 * points at caller-provided inline storage; tl_buf_close releases only heap.
 * Any thread; a buffer is used by one thread at a time (its owner's). */
#ifndef TL_BASE_BUF_H
#define TL_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct tl_buf {
  char *data;
  size_t len;
  size_t cap;
  char *inline_data; /* initial storage that must not be freed, or NULL */
  size_t inline_cap;
} tl_buf;

/* Start empty, using `storage` (cap bytes, may be NULL/0) before any heap. */
void tl_buf_init(tl_buf *b, char *storage, size_t cap);
void tl_buf_reserve(tl_buf *b, size_t extra);
/* Inline: a response head is a dozen of these per request, nearly always
 * with room to spare, and a literal's strlen folds to a constant. */
static inline void tl_buf_append(tl_buf *b, const void *p, size_t n) {
  if (n == 0)
    return;
  if (b->len + n > b->cap)
    tl_buf_reserve(b, n);
  memcpy(b->data + b->len, p, n);
  b->len += n;
}
static inline void tl_buf_puts(tl_buf *b, const char *s) {
  tl_buf_append(b, s, strlen(s));
}
static inline void tl_buf_putc(tl_buf *b, char c) {
  if (b->len + 1 > b->cap)
    tl_buf_reserve(b, 1);
  b->data[b->len++] = c;
}
void tl_buf_printf(tl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tl_buf_vprintf(tl_buf *b, const char *fmt, va_list ap);
/* Appends the decimal form of v (faster than printf on the hot path). */
void tl_buf_put_u64(tl_buf *b, unsigned long long v);
/* Appends n bytes of s as a JSON string literal (with quotes): `"`, `\`
 * and every control character (C0, DEL, C1) escaped, ill-formed UTF-8
 * replaced by U+FFFD, so raw bytes from outside (thread names, paths,
 * errors) always make valid JSON. The one JSON string writer. */
void tl_buf_put_json_str(tl_buf *b, const char *s, size_t n);
/* Appends s as the inside of a Prometheus label value (no quotes): `\`,
 * `"` and newline escaped (text format 0.0.4), ill-formed UTF-8 replaced
 * by U+FFFD. */
void tl_buf_put_prom_label(tl_buf *b, const char *s, size_t n);
/* Inline: three per request on the hot path, nearly always with nothing
 * on the heap to free. */
static inline void tl_buf_close(tl_buf *b) {
  if (b->data != b->inline_data)
    free(b->data);
  b->data = b->inline_data;
  b->len = 0;
  b->cap = b->inline_cap;
}

#endif
