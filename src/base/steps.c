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
  case TL_STEP_RACE: return "race";
  case TL_STEP_ATOMIC: return "atomic";
  case TL_STEP_LOCK: return "lock";
  case TL_STEP_HOLD: return "hold";
  case TL_STEP_DEADLOCK: return "deadlock";
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
    /* "yield", "crash" and "deadlock" stand alone: no duration. */
    bool bare = (tlen == 5 && (memcmp(tok, "yield", 5) == 0 ||
                               memcmp(tok, "crash", 5) == 0)) ||
                (tlen == 8 && memcmp(tok, "deadlock", 8) == 0);
    if (bare)
      colon = tok + tlen;
    if (colon == NULL) {
      *err = "a step must look like cpu:MS, io:MS, race:N, atomic:N, lock:N, "
             "hold:MS, yield, crash or deadlock";
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
    else if (klen == 4 && memcmp(tok, "race", 4) == 0)
      kind = TL_STEP_RACE;
    else if (klen == 6 && memcmp(tok, "atomic", 6) == 0)
      kind = TL_STEP_ATOMIC;
    else if (klen == 4 && memcmp(tok, "lock", 4) == 0)
      kind = TL_STEP_LOCK;
    else if (klen == 4 && memcmp(tok, "hold", 4) == 0)
      kind = TL_STEP_HOLD;
    else if (bare) /* "deadlock:1" is not bare, so it is no step */
      kind = tlen == 8 ? TL_STEP_DEADLOCK : TL_STEP_CRASH;
    else {
      *err = "unknown step kind; use cpu, io, race, atomic, lock, hold, "
             "yield, crash or deadlock";
      return -1;
    }
    unsigned long ms = 0;
    if (kind == TL_STEP_YIELD) {
      if (colon != tok + tlen &&
          (tlen != 7 || memcmp(tok, "yield:0", 7) != 0)) {
        *err = "yield takes no duration (yield or yield:0)";
        return -1;
      }
    } else if (tl_step_is_count(kind)) {
      if (tl_parse_uint(colon + 1, tlen - klen - 1, 0, TL_MAX_STEP_COUNT,
                        &ms) != 0) {
        *err = "race, atomic and lock take a count N in 0..100000000";
        return -1;
      }
    } else if (kind != TL_STEP_CRASH && kind != TL_STEP_DEADLOCK &&
               tl_parse_uint(colon + 1, tlen - klen - 1, 0, TL_MAX_STEP_MS,
                             &ms) != 0) {
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
