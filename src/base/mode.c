#include "config.h"

#include "base/mode.h"

#include <string.h>

static const char *const names[TL_MODE_COUNT] = {"async", "pool", "hybrid",
                                                 "coro"};

const char *tl_mode_name(tl_mode m) {
  return (unsigned) m < TL_MODE_COUNT ? names[m] : "?";
}

int tl_mode_parse(const char *s, tl_mode *out) {
  for (int i = 0; i < TL_MODE_COUNT; i++) {
    if (strcmp(s, names[i]) == 0) {
      *out = (tl_mode) i;
      return 0;
    }
  }
  return -1;
}
