#include "config.h"

#include "tl_json.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *p, *end;
  int depth;
} rd;

static void ws(rd *r) {
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
    r->p++;
}

static bool value(rd *r, tj *out);

static char *string(rd *r) {
  if (r->p >= r->end || *r->p != '"')
    return NULL;
  r->p++;
  size_t cap = 16, n = 0;
  char *s = malloc(cap);
  while (r->p < r->end && *r->p != '"') {
    char c = *r->p++;
    if ((unsigned char) c < 0x20) {
      free(s);
      return NULL;
    }
    if (c == '\\') {
      if (r->p >= r->end) {
        free(s);
        return NULL;
      }
      char e = *r->p++;
      switch (e) {
      case 'n': c = '\n'; break;
      case 't': c = '\t'; break;
      case 'r': c = '\r'; break;
      case 'b': c = '\b'; break;
      case 'f': c = '\f'; break;
      case '"': case '\\': case '/': c = e; break;
      case 'u':
        if (r->end - r->p < 4) {
          free(s);
          return NULL;
        }
        for (int i = 0; i < 4; i++)
          if (!isxdigit((unsigned char) r->p[i])) {
            free(s);
            return NULL;
          }
        c = '?';
        r->p += 4;
        break;
      default:
        free(s);
        return NULL;
      }
    }
    if (n + 2 > cap)
      s = realloc(s, cap *= 2);
    s[n++] = c;
  }
  if (r->p >= r->end) {
    free(s);
    return NULL;
  }
  r->p++;
  s[n] = '\0';
  return s;
}

static bool add_kid(tj *parent, tj *kid) {
  parent->kids = realloc(parent->kids, (parent->n + 1) * sizeof(tj));
  parent->kids[parent->n++] = *kid;
  return true;
}

static bool value(rd *r, tj *out) {
  memset(out, 0, sizeof(*out));
  if (++r->depth > 64)
    return false;
  ws(r);
  if (r->p >= r->end)
    return false;
  char c = *r->p;
  bool ok = true;
  if (c == '{' || c == '[') {
    out->type = c == '{' ? TJ_OBJ : TJ_ARR;
    r->p++;
    ws(r);
    if (r->p < r->end && *r->p == (c == '{' ? '}' : ']')) {
      r->p++;
    } else {
      for (;;) {
        tj kid;
        char *k = NULL;
        ws(r);
        if (out->type == TJ_OBJ) {
          k = string(r);
          ws(r);
          if (!k || r->p >= r->end || *r->p != ':') {
            free(k);
            ok = false;
            break;
          }
          r->p++;
        }
        if (!value(r, &kid)) {
          free(k);
          tj_free(&kid);
          ok = false;
          break;
        }
        kid.key = k;
        add_kid(out, &kid);
        ws(r);
        if (r->p < r->end && *r->p == ',') {
          r->p++;
          continue;
        }
        if (r->p < r->end && *r->p == (out->type == TJ_OBJ ? '}' : ']')) {
          r->p++;
          break;
        }
        ok = false;
        break;
      }
    }
  } else if (c == '"') {
    out->type = TJ_STR;
    out->str = string(r);
    ok = out->str != NULL;
  } else if (r->end - r->p >= 4 && memcmp(r->p, "null", 4) == 0) {
    out->type = TJ_NULL;
    r->p += 4;
  } else if (r->end - r->p >= 4 && memcmp(r->p, "true", 4) == 0) {
    out->type = TJ_BOOL;
    out->b = true;
    r->p += 4;
  } else if (r->end - r->p >= 5 && memcmp(r->p, "false", 5) == 0) {
    out->type = TJ_BOOL;
    r->p += 5;
  } else if (c == '-' || isdigit((unsigned char) c)) {
    char tmp[64];
    size_t n = 0;
    while (r->p < r->end && n < sizeof(tmp) - 1 &&
           (isdigit((unsigned char) *r->p) || strchr("+-.eE", *r->p)))
      tmp[n++] = *r->p++;
    tmp[n] = '\0';
    char *e;
    out->type = TJ_NUM;
    out->num = strtod(tmp, &e);
    ok = *e == '\0' && n > 0;
  } else {
    ok = false;
  }
  r->depth--;
  return ok;
}

tj *tj_parse(const char *text, size_t len) {
  rd r = {text, text + len, 0};
  tj *v = calloc(1, sizeof(*v));
  if (!value(&r, v)) {
    tj_free(v);
    free(v);
    return NULL;
  }
  ws(&r);
  if (r.p != r.end) {
    tj_free(v);
    free(v);
    return NULL;
  }
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
      for (size_t i = 0; i < cur->n; i++)
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

void tj_release(tj *v) {
  tj_free(v);
  free(v);
}
