#include "config.h"

#include "observer/json_num.h"

#include <math.h>

/* Formatted by hand: the snapshot has thousands of numbers and printf's
 * %f dominates the render otherwise. */
static void fixed3(tl_buf *b, double v) {
  if (v < 0) {
    tl_buf_putc(b, '-');
    v = -v;
  }
  unsigned long long milli = (unsigned long long) (v * 1000.0 + 0.5);
  tl_buf_put_u64(b, milli / 1000);
  unsigned frac = (unsigned) (milli % 1000);
  if (frac) {
    char d[4] = {'.', (char) ('0' + frac / 100), (char) ('0' + frac / 10 % 10),
                 (char) ('0' + frac % 10)};
    size_t n = 4;
    while (d[n - 1] == '0')
      n--;
    tl_buf_append(b, d, n);
  }
}

void tl_json_num_put(tl_buf *b, double v) {
  if (!isfinite(v))
    tl_buf_puts(b, "null");
  else if (fabs(v) < 1e15)
    fixed3(b, v);
  else
    tl_buf_printf(b, "%.0f", v); /* beyond what milli-units hold exactly */
}
