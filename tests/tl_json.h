/* The tests' JSON reader: jansson parses a document strictly (one value,
 * nothing after it, well-formed UTF-8, no bare control characters, no
 * \u0000, no duplicate member) into a tree looked up by dotted path
 * ("server.requests.total", "threads.0.tid"). Strings are decoded exactly
 * (\u escapes included). */
#ifndef TL_JSON_H
#define TL_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { TJ_NULL, TJ_BOOL, TJ_NUM, TJ_STR, TJ_ARR, TJ_OBJ } tj_type;

typedef struct tj {
  tj_type type;
  char *key; /* member name inside an object */
  double num;
  bool b;
  char *str;
  struct tj *kids; /* array elements or object members */
  size_t n;
} tj;

/* Returns NULL (and says why on stderr) when jansson rejects the text. */
tj *tj_parse(const char *text, size_t len);
void tj_free(tj *v);
/* tj_free plus free of a tree from tj_parse. */
void tj_release(tj *v);
const tj *tj_get(const tj *root, const char *path);
double tj_num(const tj *root, const char *path, double dflt);
const char *tj_str(const tj *root, const char *path);
bool tj_is_null(const tj *root, const char *path);

#endif
