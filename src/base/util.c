#include "config.h"

#include "base/util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void die_oom(size_t n) {
  fprintf(stderr, "threadlab: out of memory allocating %zu bytes\n", n);
  abort();
}

void *tl_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (p == NULL)
    die_oom(n);
  return p;
}

void *tl_xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (p == NULL)
    die_oom(n * size);
  return p;
}

void *tl_xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (q == NULL)
    die_oom(n);
  return q;
}

int tl_ncpu(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int) n : 1;
}

const char *tl_url_host(const char *host, char *buf, size_t cap) {
  bool bracket = strchr(host, ':') != NULL;
  snprintf(buf, cap, "%s%s%s", bracket ? "[" : "", host, bracket ? "]" : "");
  return buf;
}

void tl_thousands(char *out, size_t cap, double v) {
  if (cap == 0)
    return;
  char digits[64];
  int n = snprintf(digits, sizeof(digits), "%.0f", v < 0 ? -v : v);
  size_t o = 0;
  if (v <= -0.5 && o + 1 < cap)
    out[o++] = '-';
  for (int i = 0; i < n && o + 1 < cap; i++) {
    if (i > 0 && (n - i) % 3 == 0) {
      if (o + 2 >= cap)
        break;
      out[o++] = ',';
    }
    out[o++] = digits[i];
  }
  out[o] = '\0';
}
