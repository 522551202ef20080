#include "config.h"

#include "observer/lab_evidence.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Does element `el` match the filter "key=value"? */
static int matches(json_t *el, const char *filter, size_t len) {
  const char *eq = memchr(filter, '=', len);
  if (!eq)
    return 0;
  char key[64], val[64];
  size_t kl = (size_t) (eq - filter), vl = len - kl - 1;
  if (kl >= sizeof(key) || vl >= sizeof(val))
    return 0;
  memcpy(key, filter, kl);
  key[kl] = '\0';
  memcpy(val, eq + 1, vl);
  val[vl] = '\0';
  json_t *v = json_object_get(el, key);
  if (json_is_string(v))
    return strcmp(json_string_value(v), val) == 0;
  if (json_is_number(v))
    return json_number_value(v) == strtod(val, NULL);
  return 0;
}

/* Walks `path` from each value of `in`, appending what it reaches. */
static void walk(json_t *node, const char *path, json_t *out) {
  if (!node)
    return;
  if (*path == '\0') {
    json_array_append(out, node);
    return;
  }
  if (*path == '.')
    path++;
  size_t n = strcspn(path, ".[");
  char name[64];
  if (n >= sizeof(name))
    return;
  memcpy(name, path, n);
  name[n] = '\0';
  json_t *child = n ? json_object_get(node, name) : node;
  const char *rest = path + n;
  if (*rest != '[') {
    walk(child, rest, out);
    return;
  }
  const char *close = strchr(rest, ']');
  if (!close || !json_is_array(child))
    return;
  const char *filter = rest + 1;
  size_t flen = (size_t) (close - filter);
  size_t i;
  json_t *el;
  json_array_foreach(child, i, el) {
    if (flen == 0 || matches(el, filter, flen))
      walk(el, close + 1, out);
  }
}

json_t *tl_lab_evidence_eval(json_t *stats, const char *path, const char *agg) {
  json_t *items = json_array();
  walk(stats, path, items);
  json_t *res = NULL;
  if (strcmp(agg, "count") == 0) {
    res = json_integer((json_int_t) json_array_size(items));
  } else if (strcmp(agg, "each") == 0) {
    res = json_incref(items);
  } else {
    double acc = 0;
    size_t n = 0, i;
    json_t *v;
    json_array_foreach(items, i, v) {
      if (!json_is_number(v))
        continue;
      double x = json_number_value(v);
      if (n == 0 || strcmp(agg, "sum") == 0 || strcmp(agg, "mean") == 0)
        acc = n == 0 ? x : acc + x;
      else if (strcmp(agg, "max") == 0 && x > acc)
        acc = x;
      else if (strcmp(agg, "min") == 0 && x < acc)
        acc = x;
      n++;
    }
    if (n > 0 && strcmp(agg, "mean") == 0)
      acc /= (double) n;
    res = n > 0 ? json_real(acc) : json_null();
  }
  json_decref(items);
  return res;
}

json_t *tl_lab_evidence_delta(json_t *before, json_t *after) {
  if (json_is_number(before) && json_is_number(after))
    return json_real(json_number_value(after) - json_number_value(before));
  return json_null();
}

/* The element of `arr` with this tid, or NULL. */
static json_t *by_tid(json_t *arr, json_int_t tid) {
  size_t i;
  json_t *el;
  json_array_foreach(arr, i, el) if (json_integer_value(json_object_get(
                                         el, "tid")) == tid) return el;
  return NULL;
}

json_t *tl_lab_evidence_counter(json_t *before, json_t *after, const char *path,
                                const char *agg) {
  /* "threads[filter].field" summed: thread by thread. */
  const char *open = strchr(path, '['),
             *close = open ? strchr(open, ']') : NULL;
  if (!open || !close || close[1] != '.' || strcmp(agg, "sum") != 0 ||
      strchr(close + 2, '[') || (size_t) (open - path) >= 64)
    goto plain;
  char arr_name[64];
  memcpy(arr_name, path, (size_t) (open - path));
  arr_name[open - path] = '\0';
  json_t *ba = json_object_get(before, arr_name);
  json_t *aa = json_object_get(after, arr_name);
  if (!json_is_array(ba) || !json_is_array(aa))
    goto plain;
  const char *field = close + 2;
  size_t flen = (size_t) (close - open - 1), i;
  double sum = 0;
  int n = 0;
  json_t *el;
  json_array_foreach(aa, i, el) {
    if (!json_object_get(el, "tid"))
      goto plain;
    if (flen > 0 && !matches(el, open + 1, flen))
      continue;
    json_t *av = json_object_get(el, field);
    if (!json_is_number(av))
      continue;
    json_t *prev = by_tid(ba, json_integer_value(json_object_get(el, "tid")));
    json_t *bv = prev ? json_object_get(prev, field) : NULL;
    /* A thread born since `before` counts from zero. */
    sum += json_number_value(av) -
           (json_is_number(bv) ? json_number_value(bv) : 0);
    n++;
  }
  return n > 0 ? json_real(sum) : json_null();
plain:;
  json_t *b = tl_lab_evidence_eval(before, path, agg);
  json_t *a = tl_lab_evidence_eval(after, path, agg);
  json_t *d = tl_lab_evidence_delta(b, a);
  json_decref(a);
  json_decref(b);
  return d;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

json_t *tl_lab_evidence_wall(json_t *before, json_t *after, const char *path,
                             const char *agg) {
  int pct = 0;
  if (sscanf(agg, "wall_p%d", &pct) != 1 || pct < 0 || pct > 100)
    return json_null();
  json_t *from_j =
      before ? json_object_get(json_object_get(before, "timeline"), "to_ms")
             : NULL;
  double from = json_is_number(from_j) ? json_number_value(from_j) : -INFINITY;
  json_t *items = json_array();
  walk(after, path, items);
  size_t n = 0, i;
  double *w = malloc((json_array_size(items) + 1) * sizeof(*w));
  json_t *el;
  json_array_foreach(items, i, el) {
    json_t *s = json_object_get(el, "start_ms"),
           *e = json_object_get(el, "end_ms");
    if (!json_is_number(s) || !json_is_number(e) || json_number_value(s) < from)
      continue;
    w[n++] = json_number_value(e) - json_number_value(s);
  }
  json_decref(items);
  json_t *res = json_null();
  if (n > 0) {
    qsort(w, n, sizeof(*w), cmp_double);
    size_t k = (size_t) floor((double) pct / 100.0 * (double) (n - 1) + 0.5);
    res = json_real(w[k]);
  }
  free(w);
  return res;
}
