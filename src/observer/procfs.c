/* procfs.c - parsers for /proc text and the few readers that touch it.
 * Every scan is bounded by [p, end); nothing assumes a NUL terminator. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* getdents64 */
#endif

#include "observer/procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* ---- scanning helpers ------------------------------------------------- */

static int is_digit(char c)
{
  return c >= '0' && c <= '9';
}

static int is_blank(char c)
{
  return c == ' ' || c == '\t';
}

/* Unsigned decimal at *pp; at least one digit. Advances *pp past the digits. */
static int scan_u64(const char **pp, const char *end, uint64_t *v)
{
  const char *p = *pp;
  uint64_t x = 0;

  if (p >= end || !is_digit(*p))
    return -EINVAL;
  while (p < end && is_digit(*p)) {
    unsigned d = (unsigned)(*p - '0');
    if (x > (UINT64_MAX - d) / 10)
      return -ERANGE;
    x = x * 10 + d;
    p++;
  }
  *pp = p;
  *v = x;
  return 0;
}

/* "ms.ffffff" (as printed by the kernel's SPLIT_NS) -> ns, exactly. The
 * fraction is left-aligned: ".5" is 500000 ns. No sign: the values we read
 * cannot be negative. */
static int scan_ms_ns(const char **pp, const char *end, uint64_t *ns)
{
  const char *p = *pp;
  uint64_t ms, frac = 0;
  int rc, digits = 0;

  if ((rc = scan_u64(&p, end, &ms)) < 0)
    return rc;
  if (p < end && *p == '.') {
    p++;
    while (p < end && is_digit(*p)) {
      if (digits == 6)
        return -EINVAL; /* finer than ns: not what the kernel prints */
      frac = frac * 10 + (uint64_t)(*p - '0');
      digits++;
      p++;
    }
    if (digits == 0)
      return -EINVAL;
    for (; digits < 6; digits++)
      frac *= 10;
  }
  if (ms > (UINT64_MAX - frac) / 1000000)
    return -ERANGE;
  *ns = ms * 1000000 + frac;
  *pp = p;
  return 0;
}

static const char *skip_blanks(const char *p, const char *end)
{
  while (p < end && is_blank(*p))
    p++;
  return p;
}

/* End of the line starting at p (the '\n'), or NULL if the line is cut off. */
static const char *line_end(const char *p, const char *end)
{
  return memchr(p, '\n', (size_t)(end - p));
}

/* Key matching without a NUL: exact length and bytes. */
static int key_is(const char *k, size_t klen, const char *lit)
{
  size_t n = strlen(lit);
  return klen == n && memcmp(k, lit, n) == 0;
}

/* Copy [p, q) into dst (cap >= 1), cut to fit, NUL-terminated. */
static void copy_cut(char *dst, size_t cap, const char *p, const char *q)
{
  size_t n = (size_t)(q - p);
  if (n > cap - 1)
    n = cap - 1;
  memcpy(dst, p, n);
  dst[n] = '\0';
}

/* ---- /proc/.../stat ---------------------------------------------------- */

int tl_procfs_parse_stat(const char *buf, size_t len, tl_procfs_stat *out)
{
  const char *p, *end, *open, *close;
  uint64_t pid;
  int field, rc;

  if (!buf || !out)
    return -EINVAL;
  memset(out, 0, sizeof *out);
  out->processor = -1;
  p = buf;
  end = buf + len;

  if ((rc = scan_u64(&p, end, &pid)) < 0)
    return rc;
  if (pid > INT32_MAX)
    return -EINVAL;
  out->pid = (int)pid;
  if (end - p < 2 || p[0] != ' ' || p[1] != '(')
    return -EINVAL;
  open = p + 1;

  /* The name is arbitrary bytes, so only the last ')' is trustworthy. */
  close = NULL;
  for (const char *q = end; q > open + 1;) {
    q--;
    if (*q == ')') {
      close = q;
      break;
    }
  }
  if (!close)
    return -EINVAL;
  copy_cut(out->comm, sizeof out->comm, open + 1, close);

  /* ") S " */
  p = close + 1;
  if (end - p < 3 || p[0] != ' ' || p[2] != ' ')
    return -EINVAL;
  if (!((p[1] >= 'A' && p[1] <= 'Z') || (p[1] >= 'a' && p[1] <= 'z')))
    return -EINVAL;
  out->state = p[1];
  p += 3;

  /* Fields 4.. are all integers separated by one space; a number must be
   * followed by ' ' or '\n' to count, so a cut-off read never passes a
   * shortened number as a real one. */
  for (field = 4; field <= 39; field++) {
    int neg = 0;
    uint64_t u;

    /* Fields mix signed (-1 is common) and unsigned up to UINT64_MAX
     * (rsslim), so scan sign and magnitude separately. */
    if (p < end && *p == '-') {
      neg = 1;
      p++;
    }
    rc = scan_u64(&p, end, &u);
    if (rc == -EINVAL && p >= end)
      break; /* cut off before or inside this field */
    if (rc < 0)
      return rc;
    if (p >= end)
      break; /* number may be incomplete */
    if (*p != ' ' && *p != '\n')
      return -EINVAL;

    switch (field) {
    case 14: case 15: case 22: case 24:
      if (neg)
        return -EINVAL;
      if (field == 14)
        out->utime_ticks = u;
      else if (field == 15)
        out->stime_ticks = u;
      else if (field == 22)
        out->starttime_ticks = u;
      else
        out->rss_pages = u;
      break;
    case 20:
      if (neg || u > INT32_MAX)
        return -EINVAL;
      out->num_threads = (long)u;
      break;
    case 39:
      if (neg ? u > 1 : u > INT32_MAX)
        return -EINVAL;
      out->processor = neg ? -(int)u : (int)u;
      break;
    default:
      break;
    }
    if (*p == '\n') {
      field++;
      break;
    }
    p++;
  }
  /* field is now the first field NOT parsed. */
  if (field <= 24)
    return -EINVAL;
  return 0;
}

/* ---- /proc/.../statm --------------------------------------------------- */

int tl_procfs_parse_statm(const char *buf, size_t len, tl_procfs_statm *out)
{
  const char *p, *end;
  uint64_t v[2];
  int rc;

  if (!buf || !out)
    return -EINVAL;
  memset(out, 0, sizeof *out);
  p = buf;
  end = buf + len;
  for (int i = 0; i < 2; i++) {
    if ((rc = scan_u64(&p, end, &v[i])) < 0)
      return rc;
    /* Terminated, else it may be cut short. */
    if (p >= end || (*p != ' ' && *p != '\n'))
      return -EINVAL;
    if (i == 0 && *p != ' ')
      return -EINVAL;
    p++;
  }
  out->size_pages = v[0];
  out->resident_pages = v[1];
  return 0;
}

/* ---- /proc/.../status -------------------------------------------------- */

/* Value "123" or "123 kB" followed only by blanks up to the line end. */
static int status_number(const char *v, const char *eol, uint64_t *out)
{
  int rc = scan_u64(&v, eol, out);
  if (rc < 0)
    return rc;
  v = skip_blanks(v, eol);
  if (eol - v >= 2 && v[0] == 'k' && v[1] == 'B')
    v += 2;
  v = skip_blanks(v, eol);
  return v == eol ? 0 : -EINVAL;
}

int tl_procfs_parse_status(const char *buf, size_t len, tl_procfs_status *out)
{
  const char *p, *end, *eol;
  int has_name = 0, has_state = 0, has_vol = 0, has_nonvol = 0;
  int rc;

  if (!buf || !out)
    return -EINVAL;
  memset(out, 0, sizeof *out);
  p = buf;
  end = buf + len;

  for (; p < end && (eol = line_end(p, end)) != NULL; p = eol + 1) {
    const char *colon = memchr(p, ':', (size_t)(eol - p));
    const char *v;
    size_t klen;
    uint64_t u;

    if (!colon)
      continue;
    klen = (size_t)(colon - p);
    v = skip_blanks(colon + 1, eol);

    switch (p[0]) {
    case 'N':
      if (key_is(p, klen, "Name")) {
        /* Keep the value verbatim, minus the separator tab. */
        copy_cut(out->name, sizeof out->name, colon + 1 < eol && colon[1] == '\t' ? colon + 2 : colon + 1, eol);
        has_name = 1;
      }
      break;
    case 'S':
      if (key_is(p, klen, "State")) {
        if (v >= eol || !((*v >= 'A' && *v <= 'Z') || (*v >= 'a' && *v <= 'z')))
          return -EINVAL;
        out->state = *v;
        has_state = 1;
      }
      break;
    case 'T':
      if (key_is(p, klen, "Threads")) {
        if ((rc = status_number(v, eol, &u)) < 0)
          return rc;
        if (u > (uint64_t)INT32_MAX)
          return -ERANGE;
        out->threads = (long)u;
        out->has_threads = 1;
      }
      break;
    case 'V':
      if (key_is(p, klen, "VmRSS")) {
        if ((rc = status_number(v, eol, &out->vmrss_kb)) < 0)
          return rc;
        out->has_vmrss = 1;
      }
      break;
    case 'v':
      if (key_is(p, klen, "voluntary_ctxt_switches")) {
        if ((rc = status_number(v, eol, &out->voluntary_ctxt)) < 0)
          return rc;
        has_vol = 1;
      }
      break;
    case 'n':
      if (key_is(p, klen, "nonvoluntary_ctxt_switches")) {
        if ((rc = status_number(v, eol, &out->nonvoluntary_ctxt)) < 0)
          return rc;
        has_nonvol = 1;
      }
      break;
    case 'C':
      if (key_is(p, klen, "Cpus_allowed_list")) {
        const char *q = eol;
        while (q > v && is_blank(q[-1]))
          q--;
        /* A cut list would be a wrong list: report absent instead. */
        if ((size_t)(q - v) < sizeof out->cpus_allowed_list) {
          copy_cut(out->cpus_allowed_list, sizeof out->cpus_allowed_list, v, q);
          out->has_cpus_allowed = 1;
        } else {
          out->cpus_allowed_list[0] = '\0';
          out->has_cpus_allowed = 0;
        }
      }
      break;
    default:
      break;
    }
  }
  if (!has_name || !has_state)
    return -EINVAL;
  if (has_vol && has_nonvol)
    out->has_ctxt = 1;
  else
    out->voluntary_ctxt = out->nonvoluntary_ctxt = 0;
  return 0;
}

/* ---- /proc/.../schedstat ----------------------------------------------- */

int tl_procfs_parse_schedstat(const char *buf, size_t len, tl_procfs_schedstat *out)
{
  const char *p, *end;
  uint64_t v[3];
  int rc;

  if (!buf || !out)
    return -EINVAL;
  memset(out, 0, sizeof *out);
  p = buf;
  end = buf + len;
  for (int i = 0; i < 3; i++) {
    if ((rc = scan_u64(&p, end, &v[i])) < 0)
      return rc;
    /* Each number must be terminated, else it may be cut short. */
    if (p >= end)
      return -EINVAL;
    if (i < 2 ? *p != ' ' : (*p != '\n' && *p != ' '))
      return -EINVAL;
    p++;
  }
  out->oncpu_ns = v[0];
  out->runq_wait_ns = v[1];
  out->timeslices = v[2];
  return 0;
}

/* ---- /proc/.../sched --------------------------------------------------- */

/* The separator is a run of dashes (67 today). A task name is at most 15
 * bytes, so 20 dashes cannot come from the header. */
#define SCHED_DASHES_MIN 20

static int is_dash_line(const char *p, const char *eol)
{
  if (eol - p < SCHED_DASHES_MIN)
    return 0;
  for (; p < eol; p++)
    if (*p != '-')
      return 0;
  return 1;
}

int tl_procfs_parse_sched(const char *buf, size_t len, tl_procfs_sched *out)
{
  const char *p, *end, *eol;
  int has_sw = 0, has_vol = 0, has_invol = 0, seen_dashes = 0;
  int rc;

  if (!buf || !out)
    return -EINVAL;
  memset(out, 0, sizeof *out);
  p = buf;
  end = buf + len;

  for (; p < end && (eol = line_end(p, end)) != NULL; p = eol + 1) {
    const char *colon, *k, *ke, *v, *ve;
    size_t klen;

    if (!seen_dashes) {
      seen_dashes = is_dash_line(p, eol);
      continue;
    }
    colon = memchr(p, ':', (size_t)(eol - p));
    if (!colon)
      continue;
    k = skip_blanks(p, colon);
    ke = colon;
    while (ke > k && is_blank(ke[-1]))
      ke--;
    klen = (size_t)(ke - k);
    v = skip_blanks(colon + 1, eol);
    ve = eol;
    while (ve > v && is_blank(ve[-1]))
      ve--;

    if (key_is(k, klen, "se.sum_exec_runtime")) {
      if ((rc = scan_ms_ns(&v, ve, &out->sum_exec_runtime_ns)) < 0)
        return rc;
      out->has_sum_exec = 1;
    } else if (key_is(k, klen, "stats.wait_sum") ||
               key_is(k, klen, "se.statistics.wait_sum")) {
      if ((rc = scan_ms_ns(&v, ve, &out->wait_sum_ns)) < 0)
        return rc;
      out->has_wait_sum = 1;
    } else if (key_is(k, klen, "se.nr_migrations")) {
      if ((rc = scan_u64(&v, ve, &out->nr_migrations)) < 0)
        return rc;
      out->has_migrations = 1;
    } else if (key_is(k, klen, "nr_switches")) {
      if ((rc = scan_u64(&v, ve, &out->nr_switches)) < 0)
        return rc;
      has_sw = 1;
    } else if (key_is(k, klen, "nr_voluntary_switches")) {
      if ((rc = scan_u64(&v, ve, &out->nr_voluntary_switches)) < 0)
        return rc;
      has_vol = 1;
    } else if (key_is(k, klen, "nr_involuntary_switches")) {
      if ((rc = scan_u64(&v, ve, &out->nr_involuntary_switches)) < 0)
        return rc;
      has_invol = 1;
    } else {
      continue;
    }
    if (v != ve)
      return -EINVAL; /* trailing junk after a value we use */
  }
  if (!seen_dashes)
    return -EINVAL;
  if (has_sw && has_vol && has_invol)
    out->has_switches = 1;
  else
    out->nr_switches = out->nr_voluntary_switches = out->nr_involuntary_switches = 0;
  return 0;
}

/* ---- /proc/stat -------------------------------------------------------- */

/* The columns after "cpu"/"cpuN": at least eight numbers. */
static int cpu_times(const char *p, const char *eol, tl_procfs_cpu_times *t)
{
  uint64_t v[8];
  int rc;

  for (int i = 0; i < 8; i++) {
    const char *q = skip_blanks(p, eol);
    if (q == p)
      return -EINVAL; /* columns need a separator */
    p = q;
    if ((rc = scan_u64(&p, eol, &v[i])) < 0)
      return rc;
  }
  if (p < eol && !is_blank(*p))
    return -EINVAL;
  t->user = v[0];
  t->nice = v[1];
  t->system = v[2];
  t->idle = v[3];
  t->iowait = v[4];
  t->irq = v[5];
  t->softirq = v[6];
  t->steal = v[7];
  return 0;
}

int tl_procfs_parse_sysstat(const char *buf, size_t len, tl_procfs_sysstat *out)
{
  const char *p, *end, *eol;
  int has_total = 0;
  int rc;

  if (!buf || !out)
    return -EINVAL;
  memset(out, 0, sizeof *out);
  out->max_cpu_id = -1;
  p = buf;
  end = buf + len;

  for (; p < end && (eol = line_end(p, end)) != NULL; p = eol + 1) {
    size_t n = (size_t)(eol - p);

    if (n >= 3 && memcmp(p, "cpu", 3) == 0) {
      const char *q = p + 3;
      uint64_t id;

      if (q < eol && is_blank(*q)) {
        if ((rc = cpu_times(q, eol, &out->total)) < 0)
          return rc;
        has_total = 1;
        continue;
      }
      if ((rc = scan_u64(&q, eol, &id)) < 0) {
        if (rc == -EINVAL)
          continue; /* some other "cpu..." line: not ours to judge */
        return rc;
      }
      if (id >= TL_PROCFS_MAX_CPUS) {
        tl_procfs_cpu_times scratch;
        if ((rc = cpu_times(q, eol, &scratch)) < 0)
          return rc;
        out->skipped_cpus++;
        continue;
      }
      if ((rc = cpu_times(q, eol, &out->cpu[id])) < 0)
        return rc;
      if (!out->present[id]) {
        out->present[id] = 1;
        out->ncpu++;
      }
      if ((int)id > out->max_cpu_id)
        out->max_cpu_id = (int)id;
    } else if (n >= 5 && memcmp(p, "ctxt ", 5) == 0) {
      const char *q = skip_blanks(p + 5, eol);
      if ((rc = scan_u64(&q, eol, &out->ctxt)) < 0)
        return rc;
      if (skip_blanks(q, eol) != eol)
        return -EINVAL;
      out->has_ctxt = 1;
    }
  }
  return has_total ? 0 : -EINVAL;
}

/* ---- cpu lists ---------------------------------------------------------- */

int tl_procfs_parse_cpulist(const char *s, size_t len, tl_procfs_cpuset *out)
{
  const char *p, *end;
  int rc;

  if (!s || !out)
    return -EINVAL;
  tl_procfs_cpuset_zero(out);
  end = s + len;
  if (end > s && end[-1] == '\n')
    end--;
  if (end == s)
    return -EINVAL;

  for (p = s;;) {
    uint64_t lo, hi;

    if ((rc = scan_u64(&p, end, &lo)) < 0)
      return rc;
    hi = lo;
    if (p < end && *p == '-') {
      p++;
      if ((rc = scan_u64(&p, end, &hi)) < 0)
        return rc;
    }
    if (lo >= TL_PROCFS_CPUSET_BITS || hi >= TL_PROCFS_CPUSET_BITS)
      return -ERANGE;
    if (hi < lo)
      return -EINVAL;
    for (uint64_t c = lo; c <= hi; c++)
      tl_procfs_cpuset_set(out, (unsigned)c);
    if (p == end)
      return 0;
    if (*p != ',')
      return -EINVAL;
    p++;
  }
}

/* Append "n" in decimal; returns chars written or -EOVERFLOW. */
static int put_uint(char *buf, size_t cap, size_t at, unsigned n)
{
  char tmp[12];
  int k = 0;

  do {
    tmp[k++] = (char)('0' + n % 10);
    n /= 10;
  } while (n);
  if (at + (size_t)k >= cap)
    return -EOVERFLOW;
  for (int i = 0; i < k; i++)
    buf[at + (size_t)i] = tmp[k - 1 - i];
  return k;
}

int tl_procfs_format_cpulist(const tl_procfs_cpuset *set, char *buf, size_t cap)
{
  size_t at = 0;
  int rc;

  if (!set || !buf || cap == 0)
    return -EINVAL;
  for (unsigned c = 0; c < TL_PROCFS_CPUSET_BITS;) {
    unsigned lo, hi;

    if (!tl_procfs_cpuset_isset(set, c)) {
      c++;
      continue;
    }
    lo = hi = c;
    while (hi + 1 < TL_PROCFS_CPUSET_BITS && tl_procfs_cpuset_isset(set, hi + 1))
      hi++;
    if (at > 0) {
      if (at + 1 >= cap)
        goto overflow;
      buf[at++] = ',';
    }
    if ((rc = put_uint(buf, cap, at, lo)) < 0)
      goto overflow;
    at += (size_t)rc;
    if (hi > lo) {
      if (at + 1 >= cap)
        goto overflow;
      buf[at++] = '-';
      if ((rc = put_uint(buf, cap, at, hi)) < 0)
        goto overflow;
      at += (size_t)rc;
    }
    c = hi + 1;
  }
  buf[at] = '\0';
  return (int)at;

overflow:
  buf[0] = '\0';
  return -EOVERFLOW;
}

/* ---- readers ------------------------------------------------------------ */

/* Read fd to EOF into buf; closes fd. */
static ssize_t read_all(int fd, char *buf, size_t cap)
{
  size_t got = 0;
  ssize_t n;
  int err = 0;

  for (;;) {
    if (got == cap) {
      /* Full: one probe byte tells "exactly fits" from "truncated". */
      char probe;
      do
        n = read(fd, &probe, 1);
      while (n < 0 && errno == EINTR);
      if (n < 0)
        err = errno;
      else if (n > 0)
        err = EOVERFLOW;
      break;
    }
    n = read(fd, buf + got, cap - got);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      err = errno;
      break;
    }
    if (n == 0)
      break;
    got += (size_t)n;
  }
  close(fd);
  return err ? -(ssize_t)err : (ssize_t)got;
}

ssize_t tl_procfs_read(const char *path, char *buf, size_t cap)
{
  return tl_procfs_read_at(AT_FDCWD, path, buf, cap);
}

ssize_t tl_procfs_read_at(int dirfd, const char *relpath, char *buf, size_t cap)
{
  int fd;

  if (!relpath || (!buf && cap > 0))
    return -EINVAL;
  do
    fd = openat(dirfd, relpath, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return -errno;
  return read_all(fd, buf, cap);
}

/* Calls fn(name, arg) for each entry of the directory other than "." and
 * "..", using getdents64 on a stack buffer (opendir would malloc). */
typedef int (*dir_fn)(const char *name, void *arg);

static int for_each_entry(const char *path, dir_fn fn, void *arg)
{
  /* Aligned for struct dirent64; 4 KiB holds ~170 entries per call. */
  _Alignas(8) char dbuf[4096];
  int fd, rc = 0;

  do
    fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return -errno;
  for (;;) {
    ssize_t n = getdents64(fd, dbuf, sizeof dbuf);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      rc = -errno;
      break;
    }
    if (n == 0)
      break;
    for (ssize_t off = 0; off < n;) {
      const struct dirent64 *d = (const struct dirent64 *)(dbuf + off);
      const char *nm = d->d_name;
      off += d->d_reclen;
      if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0')))
        continue;
      if ((rc = fn(nm, arg)) < 0)
        goto out;
    }
  }
out:
  close(fd);
  return rc;
}

struct tid_acc {
  int *tids;
  int cap;
  int n;        /* stored, <= cap */
  int overflow; /* saw more than cap */
};

static int add_tid(const char *name, void *arg)
{
  struct tid_acc *a = arg;
  const char *p = name, *end = name + strlen(name);
  uint64_t v;
  int i, tid;

  if (scan_u64(&p, end, &v) < 0 || p != end || v > INT32_MAX)
    return 0; /* not a tid; /proc/self/task holds nothing else today */
  tid = (int)v;
  if (a->n == a->cap) {
    a->overflow = 1;
    /* Keep the cap smallest, so the result is well defined. */
    if (a->cap == 0 || tid >= a->tids[a->n - 1])
      return 0;
    a->n--;
  }
  /* Insertion sort: the kernel lists tasks ascending, so this is ~O(1). */
  for (i = a->n; i > 0 && a->tids[i - 1] > tid; i--)
    a->tids[i] = a->tids[i - 1];
  a->tids[i] = tid;
  a->n++;
  return 0;
}

int tl_procfs_list_tids(int *tids, int cap)
{
  struct tid_acc a = { tids, cap, 0, 0 };
  int rc;

  if (cap < 0 || (!tids && cap > 0))
    return -EINVAL;
  if ((rc = for_each_entry("/proc/self/task", add_tid, &a)) < 0)
    return rc;
  return a.overflow ? -ENOBUFS : a.n;
}

static int count_one(const char *name, void *arg)
{
  (void)name;
  (*(int *)arg)++;
  return 0;
}

int tl_procfs_count_fds(void)
{
  int n = 0, rc;

  if ((rc = for_each_entry("/proc/self/fd", count_one, &n)) < 0)
    return rc;
  /* The directory fd we were reading through was one of them. */
  return n > 0 ? n - 1 : 0;
}
