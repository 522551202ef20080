#include "config.h"

#include "base/query.h"
#include "base/steps.h"

#include <stdbool.h>
#include <string.h>

const char *tl_step_kind_name(int kind) {
  switch (kind) {
  case TL_STEP_CPU: return "cpu";
  case TL_STEP_IO: return "io";
  case TL_STEP_YIELD: return "yield";
  default: return "crash";
  }
}

int tl_steps_from_query(const char *q, size_t qlen, int single_kind,
                        tl_step_spec *out, const char **err) {
  char val[1024];
  if (single_kind < 0) {
    int n = tl_query_get(q, qlen, "steps", val, sizeof(val));
    if (n < 0) {
      *err = n == -1 ? "missing query parameter steps (e.g. steps=cpu:2,io:50)"
                     : "malformed steps parameter";
      return -1;
    }
    return tl_steps_parse(val, (size_t) n, out, err);
  }
  int n = tl_query_get(q, qlen, "ms", val, sizeof(val));
  unsigned long ms;
  if (n < 0) {
    *err = n == -1 ? "missing query parameter ms (e.g. ?ms=5)"
                   : "malformed ms parameter";
    return -1;
  }
  if (tl_parse_uint(val, (size_t) n, 0, TL_MAX_STEP_MS, &ms) != 0) {
    *err = "ms must be a whole number in 0..10000";
    return -1;
  }
  out[0].kind = (uint8_t) single_kind;
  out[0].ms = (uint32_t) ms;
  return 1;
}

int tl_steps_parse(const char *s, size_t len, tl_step_spec *out,
                   const char **err) {
  size_t i = 0;
  int n = 0;
  if (len == 0) {
    *err = "steps is empty; expected e.g. cpu:2,io:50,cpu:2";
    return -1;
  }
  while (i < len) {
    size_t j = i;
    while (j < len && s[j] != ',')
      j++;
    const char *tok = s + i;
    size_t tlen = j - i;
    const char *colon = memchr(tok, ':', tlen);
    /* "yield" and "crash" stand alone: no duration. */
    bool bare = tlen == 5 && (memcmp(tok, "yield", 5) == 0 ||
                              memcmp(tok, "crash", 5) == 0);
    if (bare)
      colon = tok + 5;
    if (colon == NULL) {
      *err = "a step must look like cpu:MS, io:MS, yield or crash";
      return -1;
    }
    size_t klen = (size_t) (colon - tok);
    uint8_t kind;
    if (klen == 3 && memcmp(tok, "cpu", 3) == 0)
      kind = TL_STEP_CPU;
    else if (klen == 2 && memcmp(tok, "io", 2) == 0)
      kind = TL_STEP_IO;
    else if (klen == 5 && memcmp(tok, "yield", 5) == 0)
      kind = TL_STEP_YIELD;
    else if (bare)
      kind = TL_STEP_CRASH;
    else {
      *err = "unknown step kind; use cpu, io, yield or crash";
      return -1;
    }
    unsigned long ms = 0;
    if (kind == TL_STEP_YIELD) {
      if (colon != tok + tlen &&
          (tlen != 7 || memcmp(tok, "yield:0", 7) != 0)) {
        *err = "yield takes no duration (yield or yield:0)";
        return -1;
      }
    } else if (kind != TL_STEP_CRASH &&
               tl_parse_uint(colon + 1, tlen - klen - 1, 0, TL_MAX_STEP_MS, &ms) != 0) {
      *err = "step duration must be a whole number of ms in 0..10000";
      return -1;
    }
    if (n == TL_MAX_STEPS) {
      *err = "too many steps (at most 32)";
      return -1;
    }
    out[n].kind = kind;
    out[n].ms = (uint32_t) ms;
    n++;
    if (j == len)
      break;
    i = j + 1;
    if (i == len) {
      *err = "trailing comma in steps";
      return -1;
    }
  }
  return n;
}
