/* procfs.c - parsers for /proc text (observer/procfs.h); the readers
 * that touch the filesystem are procfs_read.c.
 * Every scan is bounded by [p, end); nothing assumes a NUL terminator. */

#include "observer/procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* ---- scanning helpers ------------------------------------------------- */

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* Unsigned decimal at *pp; at least one digit. Advances *pp past the digits. */
static int scan_u64(const char **pp, const char *end, uint64_t *v) {
  const char *p = *pp;
  uint64_t x = 0;

  if (p >= end || !is_digit(*p))
    return -EINVAL;
  while (p < end && is_digit(*p)) {
    unsigned d = (unsigned) (*p - '0');
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
static int scan_ms_ns(const char **pp, const char *end, uint64_t *ns) {
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
      frac = frac * 10 + (uint64_t) (*p - '0');
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

static const char *skip_blanks(const char *p, const char *end) {
  while (p < end && is_blank(*p))
    p++;
  return p;
}

/* End of the line starting at p (the '\n'), or NULL if the line is cut off. */
static const char *line_end(const char *p, const char *end) {
  return memchr(p, '\n', (size_t) (end - p));
}

/* Key matching without a NUL: exact length and bytes. */
static int key_is(const char *k, size_t klen, const char *lit) {
  size_t n = strlen(lit);
  return klen == n && memcmp(k, lit, n) == 0;
}

/* Copy [p, q) into dst (cap >= 1), cut to fit, NUL-terminated. */
static void copy_cut(char *dst, size_t cap, const char *p, const char *q) {
  size_t n = (size_t) (q - p);
  if (n > cap - 1)
    n = cap - 1;
  memcpy(dst, p, n);
  dst[n] = '\0';
}

/* ---- /proc/.../stat ---------------------------------------------------- */

int tl_procfs_parse_stat(const char *buf, size_t len, tl_procfs_stat *out) {
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
  out->pid = (int) pid;
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
    case 14:
    case 15:
    case 22:
    case 24:
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
      out->num_threads = (long) u;
      break;
    case 39:
      if (neg ? u > 1 : u > INT32_MAX)
        return -EINVAL;
      out->processor = neg ? -(int) u : (int) u;
      break;
    default: break;
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

int tl_procfs_parse_statm(const char *buf, size_t len, tl_procfs_statm *out) {
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
static int status_number(const char *v, const char *eol, uint64_t *out) {
  int rc = scan_u64(&v, eol, out);
  if (rc < 0)
    return rc;
  v = skip_blanks(v, eol);
  if (eol - v >= 2 && v[0] == 'k' && v[1] == 'B')
    v += 2;
  v = skip_blanks(v, eol);
  return v == eol ? 0 : -EINVAL;
}

int tl_procfs_parse_status(const char *buf, size_t len, tl_procfs_status *out) {
  const char *p, *end, *eol;
  int has_name = 0, has_state = 0, has_vol = 0, has_nonvol = 0;
  int rc;

  if (!buf || !out)
    return -EINVAL;
  memset(out, 0, sizeof *out);
  p = buf;
  end = buf + len;

  for (; p < end && (eol = line_end(p, end)) != NULL; p = eol + 1) {
    const char *colon = memchr(p, ':', (size_t) (eol - p));
    const char *v;
    size_t klen;
    uint64_t u;

    if (!colon)
      continue;
    klen = (size_t) (colon - p);
    v = skip_blanks(colon + 1, eol);

    switch (p[0]) {
    case 'N':
      if (key_is(p, klen, "Name")) {
        /* Keep the value verbatim, minus the separator tab. */
        copy_cut(out->name, sizeof out->name,
                 colon + 1 < eol && colon[1] == '\t' ? colon + 2 : colon + 1,
                 eol);
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
        if (u > (uint64_t) INT32_MAX)
          return -ERANGE;
        out->threads = (long) u;
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
        if ((size_t) (q - v) < sizeof out->cpus_allowed_list) {
          copy_cut(out->cpus_allowed_list, sizeof out->cpus_allowed_list, v, q);
          out->has_cpus_allowed = 1;
        } else {
          out->cpus_allowed_list[0] = '\0';
          out->has_cpus_allowed = 0;
        }
      }
      break;
    default: break;
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

int tl_procfs_parse_schedstat(const char *buf, size_t len,
                              tl_procfs_schedstat *out) {
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

static int is_dash_line(const char *p, const char *eol) {
  if (eol - p < SCHED_DASHES_MIN)
    return 0;
  for (; p < eol; p++)
    if (*p != '-')
      return 0;
  return 1;
}

int tl_procfs_parse_sched(const char *buf, size_t len, tl_procfs_sched *out) {
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
    colon = memchr(p, ':', (size_t) (eol - p));
    if (!colon)
      continue;
    k = skip_blanks(p, colon);
    ke = colon;
    while (ke > k && is_blank(ke[-1]))
      ke--;
    klen = (size_t) (ke - k);
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
    out->nr_switches = out->nr_voluntary_switches =
        out->nr_involuntary_switches = 0;
  return 0;
}

/* ---- /proc/stat -------------------------------------------------------- */

/* The columns after "cpu"/"cpuN": at least eight numbers. */
static int cpu_times(const char *p, const char *eol, tl_procfs_cpu_times *t) {
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

int tl_procfs_parse_sysstat(const char *buf, size_t len,
                            tl_procfs_sysstat *out) {
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
    size_t n = (size_t) (eol - p);

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
      if ((int) id > out->max_cpu_id)
        out->max_cpu_id = (int) id;
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
