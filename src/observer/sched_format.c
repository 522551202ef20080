/* Tracepoint format files: a line-by-line parser that keeps the last
 * identifier of each "field:" declaration as its name. */
#include "config.h"

#include "observer/sched_format.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One "field:<decl>;\toffset:N;\tsize:N;\tsigned:N;" line. */
static int parse_field(const char *line, size_t len, tl_sched_field *fd) {
  char buf[256];
  if (len >= sizeof buf)
    return -1;
  memcpy(buf, line, len);
  buf[len] = '\0';
  char *decl = buf + strlen("field:");
  char *semi = strchr(decl, ';');
  if (!semi)
    return -1;
  *semi = '\0';
  const char *o = strstr(semi + 1, "offset:");
  const char *s = strstr(semi + 1, "size:");
  const char *g = strstr(semi + 1, "signed:");
  if (!o || !s)
    return -1;
  char *end;
  long off = strtol(o + 7, &end, 10);
  if (end == o + 7 || off < 0 || off > 65535)
    return -1;
  long sz = strtol(s + 5, &end, 10);
  if (end == s + 5 || sz <= 0 || sz > 65535)
    return -1;
  fd->offset = (int) off;
  fd->size = (int) sz;
  fd->is_signed = g && g[7] == '1';
  fd->data_loc = strstr(decl, "__data_loc") != NULL;
  /* The name: the last identifier once every "[...]" is blanked
   * ("char prev_comm[16]", "__data_loc char[] comm"). */
  for (char *br = strchr(decl, '['); br; br = strchr(br, '[')) {
    char *cl = strchr(br, ']');
    if (!cl)
      return -1;
    memset(br, ' ', (size_t) (cl - br) + 1);
  }
  size_t n = strlen(decl);
  while (n > 0 && !(isalnum((unsigned char) decl[n - 1]) || decl[n - 1] == '_'))
    n--;
  size_t b = n;
  while (b > 0 && (isalnum((unsigned char) decl[b - 1]) || decl[b - 1] == '_'))
    b--;
  if (n == b || n - b >= sizeof fd->name)
    return -1;
  memcpy(fd->name, decl + b, n - b);
  fd->name[n - b] = '\0';
  return 0;
}

int tl_sched_format_parse(const char *text, size_t len, tl_sched_format *out) {
  memset(out, 0, sizeof *out);
  out->id = -1;
  size_t i = 0;
  while (i < len) {
    size_t e = i;
    while (e < len && text[e] != '\n')
      e++;
    const char *l = text + i;
    size_t ll = e - i;
    while (ll > 0 && (*l == ' ' || *l == '\t')) {
      l++;
      ll--;
    }
    if (ll > 5 && memcmp(l, "name:", 5) == 0) {
      const char *v = l + 5;
      size_t vl = ll - 5;
      while (vl > 0 && *v == ' ') {
        v++;
        vl--;
      }
      if (vl == 0 || vl >= sizeof out->name)
        return -1;
      memcpy(out->name, v, vl);
      out->name[vl] = '\0';
    } else if (ll > 3 && memcmp(l, "ID:", 3) == 0) {
      char num[24];
      size_t nl = ll - 3 < sizeof num - 1 ? ll - 3 : sizeof num - 1;
      memcpy(num, l + 3, nl);
      num[nl] = '\0';
      char *end;
      long id = strtol(num, &end, 10);
      if (end == num || id < 0 || id > 1000000)
        return -1;
      out->id = (int) id;
    } else if (ll > 6 && memcmp(l, "field:", 6) == 0) {
      if (out->nfields == TL_SCHED_FMT_MAX_FIELDS)
        return -1;
      if (parse_field(l, ll, &out->fields[out->nfields]) != 0)
        return -1;
      out->nfields++;
    }
    i = e + 1;
  }
  return out->name[0] && out->id >= 0 && out->nfields > 0 ? 0 : -1;
}

const tl_sched_field *tl_sched_format_field(const tl_sched_format *f,
                                            const char *name) {
  for (int i = 0; i < f->nfields; i++)
    if (strcmp(f->fields[i].name, name) == 0)
      return &f->fields[i];
  return NULL;
}

bool tl_sched_field_int(const tl_sched_field *fd, const uint8_t *raw,
                        size_t rawlen, int64_t *out) {
  if (!fd || (size_t) fd->offset + (size_t) fd->size > rawlen)
    return false;
  const uint8_t *p = raw + fd->offset;
  switch (fd->size) {
  case 1: {
    uint8_t v = p[0];
    *out = fd->is_signed ? (int64_t) (int8_t) v : (int64_t) v;
    return true;
  }
  case 2: {
    uint16_t v;
    memcpy(&v, p, 2);
    *out = fd->is_signed ? (int64_t) (int16_t) v : (int64_t) v;
    return true;
  }
  case 4: {
    uint32_t v;
    memcpy(&v, p, 4);
    *out = fd->is_signed ? (int64_t) (int32_t) v : (int64_t) v;
    return true;
  }
  case 8: {
    uint64_t v;
    memcpy(&v, p, 8);
    *out = (int64_t) v;
    return true;
  }
  default: return false;
  }
}

bool tl_sched_field_str(const tl_sched_field *fd, const uint8_t *raw,
                        size_t rawlen, char *out, size_t cap) {
  if (cap == 0)
    return false;
  out[0] = '\0';
  if (!fd)
    return false;
  size_t off, n;
  if (fd->data_loc) {
    if (fd->size != 4 || (size_t) fd->offset + 4 > rawlen)
      return false;
    uint32_t loc;
    memcpy(&loc, raw + fd->offset, 4);
    off = loc & 0xffff;
    n = loc >> 16;
  } else {
    off = (size_t) fd->offset;
    n = (size_t) fd->size;
  }
  if (off + n > rawlen)
    return false;
  size_t k = 0;
  while (k < n && k + 1 < cap && raw[off + k] != '\0') {
    out[k] = (char) raw[off + k];
    k++;
  }
  out[k] = '\0';
  return true;
}
