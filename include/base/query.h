/* Query-string and path helpers (pure functions, no allocation; any
 * thread). */
#ifndef TL_BASE_QUERY_H
#define TL_BASE_QUERY_H

#include <stdbool.h>
#include <stddef.h>

/* Finds parameter `name` in the query `q` (without '?') and percent-decodes
 * its value into out (NUL-terminated). Returns the decoded length, -1 when
 * absent, -2 when malformed or longer than cap-1 (or decodes to a NUL). */
int tl_query_get(const char *q, size_t qlen, const char *name, char *out,
                 size_t cap);

/* Parses an unsigned decimal in [lo, hi]; the whole string must be digits. */
int tl_parse_uint(const char *s, size_t len, unsigned long lo, unsigned long hi,
                  unsigned long *out);

/* Percent-decodes src into dst (cap bytes incl. NUL). Returns the length, or
 * -1 for bad escapes, an embedded NUL (%00) or no room. '+' stays '+'. */
int tl_percent_decode(const char *src, size_t len, char *dst, size_t cap);

/* Splits a request target into path and query (query excludes '?'). */
void tl_split_target(const char *target, size_t len, size_t *path_len,
                     const char **query, size_t *query_len);

#endif
