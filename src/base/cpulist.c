#include "config.h"

#include "base/cpulist.h"
#include "base/util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* A decimal number below CPU_SETSIZE at s[*i]; advances *i. */
static int parse_cpu(const char *s, size_t len, size_t *i, int *out) {
  size_t j = *i;
  long v = 0;
  while (j < len && isdigit((unsigned char) s[j])) {
    v = v * 10 + (s[j] - '0');
    if (v >= CPU_SETSIZE)
      return -1;
    j++;
  }
  if (j == *i)
    return -1;
  *i = j;
  *out = (int) v;
  return 0;
}

int tl_cpulist_parse(const char *s, size_t len, cpu_set_t *set) {
  CPU_ZERO(set);
  if (len == 0)
    return -1;
  size_t i = 0;
  for (;;) {
    int lo, hi;
    if (parse_cpu(s, len, &i, &lo) != 0)
      return -1;
    hi = lo;
    if (i < len && s[i] == '-') {
      i++;
      if (parse_cpu(s, len, &i, &hi) != 0 || hi < lo)
        return -1;
    }
    for (int c = lo; c <= hi; c++)
      CPU_SET(c, set);
    if (i == len)
      return 0;
    if (s[i] != ',')
      return -1;
    i++;
  }
}

size_t tl_cpulist_format(const cpu_set_t *set, char *out, size_t cap) {
  size_t n = 0;
  char tmp[32];
  if (cap > 0)
    out[0] = '\0';
  for (int c = 0; c < CPU_SETSIZE; c++) {
    if (!CPU_ISSET(c, set))
      continue;
    int end = c;
    while (end + 1 < CPU_SETSIZE && CPU_ISSET(end + 1, set))
      end++;
    int k = end > c
                ? snprintf(tmp, sizeof(tmp), "%s%d-%d", n ? "," : "", c, end)
                : snprintf(tmp, sizeof(tmp), "%s%d", n ? "," : "", c);
    if (n + (size_t) k < cap)
      memcpy(out + n, tmp, (size_t) k + 1);
    else if (cap > 0)
      out[n < cap ? n : cap - 1] = '\0';
    n += (size_t) k;
    c = end;
  }
  return n;
}

const char *tl_cpulist_check(const cpu_set_t *want,
                             const cpu_set_t *inherited) {
  if (CPU_COUNT(want) == 0)
    return "the CPU list is empty";
  cpu_set_t both;
  CPU_AND(&both, want, inherited);
  if (!CPU_EQUAL(&both, want))
    return "the CPU list names CPUs outside the set the process may use";
  return NULL;
}

void tl_cpulist_self(cpu_set_t *set) {
  if (sched_getaffinity(0, sizeof(*set), set) == 0 && CPU_COUNT(set) > 0)
    return;
  CPU_ZERO(set);
  for (int i = 0, n = tl_ncpu(); i < n && i < CPU_SETSIZE; i++)
    CPU_SET(i, set);
}
