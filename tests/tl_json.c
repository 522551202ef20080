/* The tests' JSON reader: jansson parses (strictly), and the result is
 * copied into the small tree the tests walk by dotted path. */
#include "config.h"

#include "tl_json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Strict: one value and nothing after it (jansson's default EOF check),
 * well-formed UTF-8 and no bare control characters (jansson always checks
 * these), no \u0000 (no JSON_ALLOW_NUL), no member named twice. */
#define TJ_STRICT (JSON_DECODE_ANY | JSON_REJECT_DUPLICATES)

static void copy(const json_t *j, tj *out) {
  memset(out, 0, sizeof(*out));
  switch (json_typeof(j)) {
  case JSON_OBJECT: {
    out->type = TJ_OBJ;
    out->kids = calloc(json_object_size(j) + 1, sizeof(tj));
    const char *k;
    json_t *v;
    /* json_object_foreach casts the const away; it does not write */
    json_object_foreach((json_t *) j, k, v) {
      copy(v, &out->kids[out->n]);
      out->kids[out->n++].key = strdup(k);
    }
    break;
  }
  case JSON_ARRAY:
    out->type = TJ_ARR;
    out->kids = calloc(json_array_size(j) + 1, sizeof(tj));
    for (size_t i = 0; i < json_array_size(j); i++)
      copy(json_array_get(j, i), &out->kids[out->n++]);
    break;
  case JSON_STRING:
    out->type = TJ_STR;
    out->str = strdup(json_string_value(j));
    break;
  case JSON_INTEGER:
  case JSON_REAL:
    out->type = TJ_NUM;
    out->num = json_number_value(j);
    break;
  case JSON_TRUE:
  case JSON_FALSE:
    out->type = TJ_BOOL;
    out->b = json_is_true(j);
    break;
  case JSON_NULL: out->type = TJ_NULL; break;
  }
}

tj *tj_parse(const char *text, size_t len) {
  json_error_t err;
  json_t *j = json_loadb(text, len, TJ_STRICT, &err);
  if (!j) {
    /* Say why: a test that gets NULL fails, and this is its reason. */
    fprintf(stderr, "tj_parse: %s (line %d, column %d, byte %d of %zu)\n",
            err.text, err.line, err.column, err.position, len);
    return NULL;
  }
  tj *v = calloc(1, sizeof(*v));
  copy(j, v);
  json_decref(j);
  return v;
}

static void free_inner(tj *v) {
  for (size_t i = 0; i < v->n; i++)
    free_inner(&v->kids[i]);
  free(v->kids);
  free(v->key);
  free(v->str);
}

void tj_free(tj *v) {
  if (!v)
    return;
  free_inner(v);
  memset(v, 0, sizeof(*v));
}

void tj_release(tj *v) {
  tj_free(v);
  free(v);
}

const tj *tj_get(const tj *root, const char *path) {
  const tj *cur = root;
  char seg[128];
  while (cur && *path) {
    size_t n = strcspn(path, ".");
    if (n >= sizeof(seg))
      return NULL;
    memcpy(seg, path, n);
    seg[n] = '\0';
    path += n + (path[n] == '.');
    const tj *next = NULL;
    if (cur->type == TJ_OBJ) {
      for (size_t i = 0; i < cur->n && !next; i++)
        if (strcmp(cur->kids[i].key, seg) == 0)
          next = &cur->kids[i];
    } else if (cur->type == TJ_ARR) {
      char *e;
      unsigned long idx = strtoul(seg, &e, 10);
      if (*e == '\0' && idx < cur->n)
        next = &cur->kids[idx];
    }
    cur = next;
  }
  return cur;
}

double tj_num(const tj *root, const char *path, double dflt) {
  const tj *v = tj_get(root, path);
  return v && v->type == TJ_NUM ? v->num : dflt;
}

const char *tj_str(const tj *root, const char *path) {
  const tj *v = tj_get(root, path);
  return v && v->type == TJ_STR ? v->str : NULL;
}

bool tj_is_null(const tj *root, const char *path) {
  const tj *v = tj_get(root, path);
  return v && v->type == TJ_NULL;
}
