#include "config.h"

#include "observer/lab_wrk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "1.23ms" -> 1.23; wrk prints us, ms, s or m. */
static double to_ms(const char *s) {
  char *end;
  double v = strtod(s, &end);
  if (end == s)
    return -1;
  if (strncmp(end, "us", 2) == 0)
    return v / 1000.0;
  if (strncmp(end, "ms", 2) == 0)
    return v;
  if (end[0] == 's')
    return v * 1000.0;
  if (end[0] == 'm')
    return v * 60000.0;
  return -1;
}

static void parse_line(const char *line, tl_lab_wrk *w) {
  while (*line == ' ' || *line == '\t')
    line++;
  double a, b, c, d;
  char unit[16];
  if (sscanf(line, "Requests/sec: %lf", &a) == 1) {
    w->rps = a;
    w->ok = true;
  } else if (sscanf(line, "Non-2xx or 3xx responses: %lf", &a) == 1) {
    w->non2xx = a;
  } else if (sscanf(
                 line,
                 "Socket errors: connect %lf, read %lf, write %lf, timeout %lf",
                 &a, &b, &c, &d) == 4) {
    w->socket_errors = a + b + c + d;
  } else if (sscanf(line, "%lf requests in %15s", &a, unit) == 2) {
    w->requests = a;
  } else if (strncmp(line, "50%", 3) == 0) {
    w->p50_ms = to_ms(line + 3 + strspn(line + 3, " \t"));
  } else if (strncmp(line, "90%", 3) == 0) {
    w->p90_ms = to_ms(line + 3 + strspn(line + 3, " \t"));
  } else if (strncmp(line, "99%", 3) == 0) {
    w->p99_ms = to_ms(line + 3 + strspn(line + 3, " \t"));
  }
}

void tl_lab_wrk_parse(const char *text, size_t len, tl_lab_wrk *out) {
  memset(out, 0, sizeof(*out));
  out->p50_ms = out->p90_ms = out->p99_ms = -1;
  char line[512];
  size_t i = 0;
  while (i < len) {
    size_t j = i;
    while (j < len && text[j] != '\n')
      j++;
    size_t n = j - i < sizeof(line) - 1 ? j - i : sizeof(line) - 1;
    memcpy(line, text + i, n);
    line[n] = '\0';
    parse_line(line, out);
    i = j + 1;
  }
}
