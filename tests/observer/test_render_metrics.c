/* Unit tests: the /metrics Prometheus text rendered from a snapshot built
 * by hand, read back by a strict reader of the text exposition format. */
#include "config.h"

#include <check.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl_check.h"
#include "base/hist.h"
#include "base/mode.h"
#include "observer/render_metrics.h"

/* ---- reading the exposition back --------------------------------------- */

#define MAX_FAMILIES 128
#define MAX_SERIES   2048

typedef struct family {
  char name[128];
  char type[16];
  bool help, done; /* done: another family has started since */
  int samples;
} family;

typedef struct series {
  char name[128];
  char labels[256]; /* as written, without the braces */
  double value;
  family *fam;
} series;

static struct {
  family fams[MAX_FAMILIES];
  int nfams;
  series ser[MAX_SERIES];
  int nser;
  family *cur;
  char err[512];
  int line;
} m;

/* line 0: a check made after reading every line. */
static bool reject(const char *what, const char *text) {
  snprintf(m.err, sizeof(m.err), "line %d: %s: %.200s", m.line, what, text);
  return false;
}

static bool metric_name_ok(const char *s, size_t n) {
  if (n == 0 || !(isalpha((unsigned char) s[0]) || s[0] == '_' || s[0] == ':'))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!(isalnum((unsigned char) s[i]) || s[i] == '_' || s[i] == ':'))
      return false;
  return true;
}

static bool label_name_ok(const char *s, size_t n) {
  if (n == 0 || !(isalpha((unsigned char) s[0]) || s[0] == '_') ||
      (n >= 2 && s[0] == '_' && s[1] == '_')) /* __ is reserved */
    return false;
  for (size_t i = 1; i < n; i++)
    if (!(isalnum((unsigned char) s[i]) || s[i] == '_'))
      return false;
  return true;
}

/* A sample value: a decimal float, NaN or +/-Inf (nothing else). */
static bool value_ok(const char *s, double *out) {
  if (!strcmp(s, "NaN")) {
    *out = NAN;
    return true;
  }
  if (!strcmp(s, "+Inf") || !strcmp(s, "-Inf")) {
    *out = s[0] == '-' ? -INFINITY : INFINITY;
    return true;
  }
  const char *p = s;
  if (*p == '-' || *p == '+')
    p++;
  if (!isdigit((unsigned char) *p) && *p != '.')
    return false;
  for (const char *q = p; *q; q++)
    if (!isdigit((unsigned char) *q) && !strchr(".eE+-", *q))
      return false;
  char *end;
  *out = strtod(s, &end);
  return *end == '\0';
}

static family *find_family(const char *name) {
  for (int i = 0; i < m.nfams; i++)
    if (!strcmp(m.fams[i].name, name))
      return &m.fams[i];
  return NULL;
}

/* The family a comment line names: a new one closes the current one, and
 * a family must not come back once another has started. */
static family *enter_family(const char *name) {
  family *f = find_family(name);
  if (f && f->done)
    return NULL;
  if (!f) {
    if (m.nfams == MAX_FAMILIES)
      return NULL;
    f = &m.fams[m.nfams++];
    snprintf(f->name, sizeof(f->name), "%s", name);
  }
  if (m.cur && m.cur != f)
    m.cur->done = true;
  m.cur = f;
  return f;
}

static bool comment_line(const char *l) {
  char kw[8], name[128];
  int off = 0;
  if (sscanf(l, "# %7s %127s %n", kw, name, &off) < 2)
    return true; /* any other comment is allowed */
  bool help = !strcmp(kw, "HELP"), type = !strcmp(kw, "TYPE");
  if (!help && !type)
    return true;
  if (!metric_name_ok(name, strlen(name)))
    return reject("bad metric name", l);
  family *f = enter_family(name);
  if (!f)
    return reject("family split or too many families", l);
  if (f->samples)
    return reject("HELP/TYPE after samples", l);
  if (help) {
    if (f->help)
      return reject("HELP twice", l);
    f->help = true;
    for (const char *p = l + off; *p; p++) /* only \\ and \n escapes */
      if (*p == '\\' && *++p != '\\' && *p != 'n')
        return reject("bad escape in HELP", l);
    return true;
  }
  if (f->type[0])
    return reject("TYPE twice", l);
  const char *t = l + off;
  if (strcmp(t, "counter") && strcmp(t, "gauge") && strcmp(t, "histogram") &&
      strcmp(t, "summary") && strcmp(t, "untyped"))
    return reject("unknown TYPE", l);
  snprintf(f->type, sizeof(f->type), "%s", t);
  return true;
}

/* The family a sample belongs to: its own name, or for a histogram's
 * _bucket/_sum/_count series the name without the suffix. */
static family *family_of(const char *name) {
  family *f = find_family(name);
  if (f && f->type[0])
    return f;
  static const char *const sfx[] = {"_bucket", "_sum", "_count"};
  for (size_t i = 0; i < 3; i++) {
    size_t n = strlen(name), k = strlen(sfx[i]);
    if (n > k && !strcmp(name + n - k, sfx[i])) {
      char base[128];
      snprintf(base, sizeof(base), "%.*s", (int) (n - k), name);
      f = find_family(base);
      if (f && !strcmp(f->type, "histogram"))
        return f;
    }
  }
  return NULL;
}

static bool sample_line(const char *l) {
  series *s = &m.ser[m.nser];
  if (m.nser == MAX_SERIES)
    return reject("too many series", l);
  size_t n = strcspn(l, "{ ");
  if (!metric_name_ok(l, n) || n >= sizeof(s->name))
    return reject("bad metric name", l);
  memcpy(s->name, l, n);
  s->name[n] = '\0';
  const char *p = l + n;
  if (*p == '{') {
    const char *start = ++p;
    while (*p != '}') {
      size_t k = strcspn(p, "=");
      if (!label_name_ok(p, k) || p[k] != '=' || p[k + 1] != '"')
        return reject("bad label name", l);
      p += k + 2;
      for (; *p != '"'; p++) {
        if (!*p)
          return reject("unterminated label value", l);
        if (*p == '\\' && (!*++p || !strchr("\\\"n", *p)))
          return reject("bad escape in label value", l);
      }
      p++;
      if (*p == ',')
        p++;
      else if (*p != '}')
        return reject("expected , or }", l);
    }
    if ((size_t) (p - start) >= sizeof(s->labels))
      return reject("labels too long", l);
    snprintf(s->labels, sizeof(s->labels), "%.*s", (int) (p - start), start);
    p++;
  }
  if (*p++ != ' ')
    return reject("expected a space before the value", l);
  char v[64];
  size_t vn = strcspn(p, " ");
  if (vn == 0 || vn >= sizeof(v))
    return reject("no value", l);
  memcpy(v, p, vn);
  v[vn] = '\0';
  if (!value_ok(v, &s->value))
    return reject("bad value", l);
  if (p[vn]) { /* then only a timestamp: integer milliseconds */
    const char *t = p + vn + 1;
    t += *t == '-';
    if (!*t || strspn(t, "0123456789") != strlen(t))
      return reject("trailing text (not a timestamp)", l);
  }
  s->fam = family_of(s->name);
  if (!s->fam)
    return reject("sample without a TYPE", l);
  if (s->fam != m.cur)
    return reject("sample away from its family's HELP/TYPE", l);
  if (!s->fam->help)
    return reject("sample without a HELP", l);
  for (int i = 0; i < m.nser; i++)
    if (!strcmp(m.ser[i].name, s->name) && !strcmp(m.ser[i].labels, s->labels))
      return reject("series twice", l);
  s->fam->samples++;
  m.nser++;
  return true;
}

/* Removes the le label (and its comma) from a label set. */
static void without_le(const char *labels, char *out, size_t cap, char *le,
                       size_t lecap) {
  const char *p = strstr(labels, "le=\"");
  while (p && p != labels && p[-1] != ',')
    p = strstr(p + 1, "le=\"");
  le[0] = '\0';
  if (!p) {
    snprintf(out, cap, "%s", labels);
    return;
  }
  const char *v = p + 4, *e = strchr(v, '"');
  snprintf(le, lecap, "%.*s", (int) (e - v), v);
  const char *after = e[1] == ',' ? e + 2 : e + 1;
  size_t head = (size_t) (p - labels);
  if (head && !*after)
    head--; /* le was last: drop the comma before it */
  snprintf(out, cap, "%.*s%s", (int) head, labels, after);
}

static series *get(const char *name, const char *labels) {
  for (int i = 0; i < m.nser; i++)
    if (!strcmp(m.ser[i].name, name) && !strcmp(m.ser[i].labels, labels))
      return &m.ser[i];
  return NULL;
}

/* Every histogram series set: buckets in rising le order, cumulative,
 * ending with +Inf equal to _count, with a _sum beside it. */
static bool histograms_ok(void) {
  for (int i = 0; i < m.nser; i++) {
    series *b = &m.ser[i];
    size_t n = strlen(b->name);
    if (strcmp(b->fam->type, "histogram") || n < 7 ||
        strcmp(b->name + n - 7, "_bucket"))
      continue;
    char rest[256], le[32];
    without_le(b->labels, rest, sizeof(rest), le, sizeof(le));
    if (!le[0])
      return reject("bucket without le", b->labels);
    /* Check each set once, from its first bucket. */
    bool first = true;
    for (int k = 0; k < i && first; k++) {
      char r2[256], le2[32];
      if (strcmp(m.ser[k].name, b->name))
        continue;
      without_le(m.ser[k].labels, r2, sizeof(r2), le2, sizeof(le2));
      first = strcmp(r2, rest) != 0;
    }
    if (!first)
      continue;
    double prev_le = -INFINITY, prev = 0;
    bool inf = false;
    for (int k = i; k < m.nser; k++) {
      char r2[256], le2[32];
      if (strcmp(m.ser[k].name, b->name))
        continue;
      without_le(m.ser[k].labels, r2, sizeof(r2), le2, sizeof(le2));
      if (strcmp(r2, rest))
        continue;
      double bound;
      if (inf)
        return reject("bucket after +Inf", m.ser[k].labels);
      if (!value_ok(le2, &bound) || bound <= prev_le)
        return reject("le not rising", m.ser[k].labels);
      if (m.ser[k].value < prev)
        return reject("buckets not cumulative", m.ser[k].labels);
      prev_le = bound;
      prev = m.ser[k].value;
      inf = isinf(bound);
    }
    if (!inf)
      return reject("no le=\"+Inf\" bucket", b->labels);
    char base[128];
    snprintf(base, sizeof(base), "%.*s", (int) (n - 7), b->name);
    char nm[144];
    snprintf(nm, sizeof(nm), "%s_count", base);
    series *count = get(nm, rest);
    if (!count || count->value != prev)
      return reject("+Inf bucket differs from _count", nm);
    snprintf(nm, sizeof(nm), "%s_sum", base);
    if (!get(nm, rest))
      return reject("no _sum", b->labels);
  }
  return true;
}

/* Parses the whole text; false with m.err set at the first problem. */
static bool read_exposition(const char *text, size_t len) {
  memset(&m, 0, sizeof(m));
  if (len == 0 || text[len - 1] != '\n')
    return reject("not ending in a newline", "");
  for (const char *p = text; p < text + len;) {
    const char *nl = memchr(p, '\n', (size_t) (text + len - p));
    char l[512];
    m.line++;
    if ((size_t) (nl - p) >= sizeof(l))
      return reject("line too long", p);
    snprintf(l, sizeof(l), "%.*s", (int) (nl - p), p);
    p = nl + 1;
    if (!l[0])
      continue;
    if (!(l[0] == '#' ? comment_line(l) : sample_line(l)))
      return false;
  }
  m.line = 0;
  for (int i = 0; i < m.nfams; i++) {
    const family *f = &m.fams[i];
    if (!f->type[0])
      return reject("family without TYPE", f->name);
    size_t n = strlen(f->name);
    if (!strcmp(f->type, "counter") &&
        (n < 6 || strcmp(f->name + n - 6, "_total")))
      return reject("counter not named *_total", f->name);
  }
  return histograms_ok();
}

/* ---- a snapshot to render ---------------------------------------------- */

static struct {
  tl_snapshot s;
  tl_thread_snap threads[3];
  tl_hist_snap lat_all, qwait_all, lag_all;
  tl_hist_snap route_all[TL_ROUTE_COUNT];
  tl_buf out;
} f;

static void hist_add(tl_hist_snap *h, uint64_t v, uint64_t n) {
  h->bucket[tl_hist_bucket_of(v)] += n;
  h->count += n;
  h->sum += v * n;
  if (v > h->max)
    h->max = v;
}

static tl_snapshot *busy(void) {
  memset(&f, 0, sizeof(f));
  tl_snapshot *s = &f.s;
  s->threads = f.threads;
  s->lat_all = &f.lat_all;
  s->route_all = f.route_all;
  s->qwait_all = &f.qwait_all;
  s->lag_all = &f.lag_all;
  s->stats_enabled = true;
  s->runq_accounted = true;
  s->mode = TL_MODE_HYBRID;
  s->pool_threads = 4;
  s->pinned = true;
  s->conn_open = 64;
  s->accepted = 70;
  s->refused = 3;
  s->by_class[2] = 99990;
  s->by_class[4] = 10;
  s->by_route[TL_ROUTE_CPU] = 600;
  /* 50 us x3, 300 us x2, 2 s, 20 s. */
  hist_add(&f.lat_all, 50, 3);
  hist_add(&f.lat_all, 300, 2);
  hist_add(&f.lat_all, 2000000, 1);
  hist_add(&f.lat_all, 20000000, 1);
  hist_add(&f.route_all[TL_ROUTE_CPU], 300, 2);
  hist_add(&f.qwait_all, 1000, 5);
  s->queue_depth = 3;
  s->rejected = 17;
  s->send_submits = 5000;
  s->send_writes = 12000;
  s->has_loop_util = true;
  s->loop_util_pct = 45;
  s->cpu_user_s = 1.25;
  s->cpu_sys_s = 0.8;
  s->threads_count = 7;
  s->has_rss = true;
  s->rss_bytes = 5242880;
  s->fds = 12;
  s->has_ctx = true;
  s->ctx_vol = 1000;
  s->ctx_invol = 50;

  tl_thread_snap *w = &f.threads[0];
  w->tid = 1235;
  w->role = TL_ROLE_WORKER;
  w->core = 1;
  w->cpu_user_s = 0.5;
  w->cpu_sys_s = 0.1;
  w->has_oncpu = true;
  w->oncpu_s = 0.61;
  w->has_runq = true;
  w->runq_wait_s = 0.02;
  w->ctx_vol = 100;
  w->ctx_invol = 3;
  w->has_migrations = true;
  w->migrations = 12;
  w->own = true;
  w->tasks = 500;
  w->steps = 900;
  w->has_lock_wait = true;
  w->lock_wait_ms = 250;
  tl_thread_snap *o = &f.threads[1]; /* not ours, nothing optional known */
  o->tid = 1240;
  o->role = TL_ROLE_OTHER;
  o->core = -1;
  o->oncpu_s = 9; /* not shown: has_oncpu is false */
  o->migrations = 9;
  s->nthreads = 2;

  s->ncores = 2;
  s->cores[0] = (tl_core_snap){
      .cpu = 0, .user_pct = 30, .sys_pct = 10, .idle_pct = 59.5, .steps = 7};
  s->cores[1] = (tl_core_snap){.cpu = 1, .steps = 400};
  return s;
}

static void render(const tl_snapshot *s) {
  tl_buf_init(&f.out, NULL, 0);
  tl_render_metrics(s, &f.out);
  ck_assert_msg(read_exposition(f.out.data, f.out.len), "%s", m.err);
}

static void value_is(const char *name, const char *labels, double want) {
  series *s = get(name, labels);
  ck_assert_msg(s != NULL, "no %s{%s}", name, labels);
  ck_assert_msg(fabs(s->value - want) <= 1e-9 * fmax(1, fabs(want)),
                "%s{%s} = %.17g, want %.17g", name, labels, s->value, want);
}

static void absent(const char *name) {
  for (int i = 0; i < m.nser; i++)
    ck_assert_msg(strcmp(m.ser[i].name, name), "%s{%s} present", name,
                  m.ser[i].labels);
}

/* ---- tests ------------------------------------------------------------- */

START_TEST(metrics_reader_rejects_bad_text) {
  /* The reader itself: each of these must be refused. */
  const char *bad[] = {
      "threadlab_x 1\n",                                     /* no TYPE */
      "# HELP a_total x\n# TYPE a_total counter\na_total 1", /* no newline */
      "# HELP a x\n# TYPE a counter\na 1\n",                 /* no _total */
      "# HELP a x\n# TYPE a gauge\na{1b=\"v\"} 1\n",         /* label name */
      "# HELP a x\n# TYPE a gauge\na one\n",                 /* value */
      "# HELP a x\n# TYPE a gauge\n# HELP b x\n# TYPE b gauge\nb 1\na 2\n",
      "# HELP a x\n# TYPE a gauge\na 1\na 2\n", /* series twice */
      "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
      "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", /* not cumulative */
      "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\n"
      "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n", /* +Inf != count */
      "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\n"
      "h_sum 1\nh_count 1\n", /* no +Inf */
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    ck_assert_msg(!read_exposition(bad[i], strlen(bad[i])), "accepted #%zu", i);
  const char *good = "# HELP h x\n# TYPE h histogram\n"
                     "h_bucket{a=\"q\\\"\",le=\"0.5\"} 1\n"
                     "h_bucket{a=\"q\\\"\",le=\"+Inf\"} 2\n"
                     "h_sum{a=\"q\\\"\"} 1.5e0\nh_count{a=\"q\\\"\"} 2\n";
  ck_assert_msg(read_exposition(good, strlen(good)), "%s", m.err);
}
END_TEST

START_TEST(metrics_busy_snapshot) {
  render(busy());
  char l[128];
  snprintf(l, sizeof(l), "version=\"%s\",mode=\"hybrid\"", PACKAGE_VERSION);
  value_is("threadlab_info", l, 1);
  value_is("threadlab_pool_threads", "", 4);
  value_is("threadlab_pool_pinned", "", 1);
  value_is("threadlab_connections_open", "", 64);
  value_is("threadlab_connections_accepted_total", "", 70);
  value_is("threadlab_connections_refused_total", "", 3);
  value_is("threadlab_requests_total", "code=\"1xx\"", 0);
  value_is("threadlab_requests_total", "code=\"2xx\"", 99990);
  value_is("threadlab_requests_total", "code=\"4xx\"", 10);
  value_is("threadlab_route_requests_total", "route=\"/cpu\"", 600);
  value_is("threadlab_route_requests_total", "route=\"other\"", 0);
  value_is("threadlab_queue_depth", "", 3);
  value_is("threadlab_queue_rejected_total", "", 17);
  value_is("threadlab_send_submissions_total", "", 5000);
  value_is("threadlab_send_writes_total", "", 12000);
  value_is("threadlab_loop_utilization_ratio", "", 0.45);

  /* Prometheus buckets count ours whose upper bound fits (see
   * render_metrics.c): 50 us and 300 us fall in buckets that end by
   * 0.1 ms and 0.5 ms, 2 s in one that ends by 2.5 s, 20 s only in +Inf. */
  const char *h = "threadlab_request_duration_seconds";
  char name[128];
  snprintf(name, sizeof(name), "%s_bucket", h);
  value_is(name, "le=\"0.0001\"", 3);
  value_is(name, "le=\"0.00025\"", 3);
  value_is(name, "le=\"0.0005\"", 5);
  value_is(name, "le=\"1\"", 5);
  value_is(name, "le=\"2.5\"", 6);
  value_is(name, "le=\"10\"", 6);
  value_is(name, "le=\"+Inf\"", 7);
  snprintf(name, sizeof(name), "%s_count", h);
  value_is(name, "", 7);
  snprintf(name, sizeof(name), "%s_sum", h);
  value_is(name, "", 22.00075);
  value_is("threadlab_route_request_duration_seconds_bucket",
           "route=\"/cpu\",le=\"0.0005\"", 2);
  value_is("threadlab_route_request_duration_seconds_count", "route=\"/\"", 0);
  value_is("threadlab_queue_wait_seconds_sum", "", 0.005);
  value_is("threadlab_loop_lag_seconds_count", "", 0);

  value_is("threadlab_process_cpu_seconds_total", "mode=\"user\"", 1.25);
  value_is("threadlab_process_cpu_seconds_total", "mode=\"system\"", 0.8);
  absent("threadlab_process_cpu_user_seconds_total");
  value_is("threadlab_process_threads", "", 7);
  value_is("threadlab_process_resident_memory_bytes", "", 5242880);
  value_is("threadlab_process_open_fds", "", 12);
  value_is("threadlab_process_context_switches_total", "kind=\"voluntary\"",
           1000);
  value_is("threadlab_process_context_switches_total", "kind=\"involuntary\"",
           50);

  const char *wl = "tid=\"1235\",role=\"worker\"";
  const char *ol = "tid=\"1240\",role=\"other\"";
  /* node_exporter's convention: one CPU family, the mode a label. */
  value_is("threadlab_thread_cpu_seconds_total",
           "tid=\"1235\",role=\"worker\",mode=\"user\"", 0.5);
  value_is("threadlab_thread_cpu_seconds_total",
           "tid=\"1235\",role=\"worker\",mode=\"system\"", 0.1);
  value_is("threadlab_thread_cpu_seconds_total",
           "tid=\"1240\",role=\"other\",mode=\"user\"", 0);
  absent("threadlab_thread_cpu_user_seconds_total");
  absent("threadlab_thread_cpu_system_seconds_total");
  value_is("threadlab_thread_oncpu_seconds_total", wl, 0.61);
  ck_assert_ptr_null(get("threadlab_thread_oncpu_seconds_total", ol));
  value_is("threadlab_thread_runqueue_wait_seconds_total", wl, 0.02);
  ck_assert_ptr_null(get("threadlab_thread_runqueue_wait_seconds_total", ol));
  value_is("threadlab_thread_context_switches_total",
           "tid=\"1235\",role=\"worker\",kind=\"voluntary\"", 100);
  value_is("threadlab_thread_context_switches_total",
           "tid=\"1235\",role=\"worker\",kind=\"involuntary\"", 3);
  value_is("threadlab_thread_migrations_total", wl, 12);
  ck_assert_ptr_null(get("threadlab_thread_migrations_total", ol));
  value_is("threadlab_thread_tasks_total", wl, 500);
  value_is("threadlab_thread_steps_total", wl, 900);
  ck_assert_ptr_null(get("threadlab_thread_tasks_total", ol));
  /* Waits on threadlab's own locks (the lock wrapper's clock). */
  value_is("threadlab_thread_lock_wait_seconds_total", wl, 0.25);
  ck_assert_ptr_null(get("threadlab_thread_lock_wait_seconds_total", ol));
  value_is("threadlab_thread_last_cpu", wl, 1);
  ck_assert_ptr_null(get("threadlab_thread_last_cpu", ol));

  value_is("threadlab_cpu_utilization_ratio", "cpu=\"0\",mode=\"user\"", 0.3);
  value_is("threadlab_cpu_utilization_ratio", "cpu=\"0\",mode=\"system\"", 0.1);
  value_is("threadlab_cpu_utilization_ratio", "cpu=\"0\",mode=\"idle\"", 0.595);
  value_is("threadlab_cpu_utilization_ratio", "cpu=\"1\",mode=\"iowait\"", 0);
  value_is("threadlab_cpu_steps_total", "cpu=\"0\"", 7);
  value_is("threadlab_cpu_steps_total", "cpu=\"1\"", 400);
  tl_buf_close(&f.out);
}
END_TEST

/* Figures this machine does not give are left out, not written as 0. */
START_TEST(metrics_missing_figures_left_out) {
  tl_snapshot *s = busy();
  s->has_loop_util = false;
  s->has_rss = false;
  s->fds = -1;
  s->has_ctx = false;
  s->runq_accounted = false;
  render(s);
  absent("threadlab_loop_utilization_ratio");
  absent("threadlab_process_resident_memory_bytes");
  absent("threadlab_process_open_fds");
  absent("threadlab_process_context_switches_total");
  absent("threadlab_thread_runqueue_wait_seconds_total");
  value_is("threadlab_process_threads", "", 7);
  tl_buf_close(&f.out);
}
END_TEST

/* Under --no-stats only the server's own counters remain. */
START_TEST(metrics_stats_disabled) {
  tl_snapshot *s = busy();
  s->stats_enabled = false;
  render(s);
  for (int i = 0; i < m.nser; i++)
    ck_assert_msg(strncmp(m.ser[i].name, "threadlab_process_", 18) &&
                      strncmp(m.ser[i].name, "threadlab_thread_", 17) &&
                      strncmp(m.ser[i].name, "threadlab_cpu_", 14),
                  "%s present under --no-stats", m.ser[i].name);
  value_is("threadlab_requests_total", "code=\"2xx\"", 99990);
  value_is("threadlab_request_duration_seconds_count", "", 7);
  tl_buf_close(&f.out);
}
END_TEST

static bool has_line(const char *line) {
  return memmem(f.out.data, f.out.len, line, strlen(line)) != NULL;
}

/* A value that is not finite is written as the text format spells it
 * (+Inf, -Inf, NaN), and a finite one too large for an integer as a
 * float: never "inf" or a wrapped integer. */
START_TEST(metrics_non_finite_values) {
  tl_snapshot *s = busy();
  s->cpu_user_s = INFINITY;
  s->cpu_sys_s = -INFINITY;
  f.threads[0].oncpu_s = NAN;
  f.threads[0].runq_wait_s = 1e300;
  render(s);
  series *u = get("threadlab_process_cpu_seconds_total", "mode=\"user\"");
  series *y = get("threadlab_process_cpu_seconds_total", "mode=\"system\"");
  series *o = get("threadlab_thread_oncpu_seconds_total",
                  "tid=\"1235\",role=\"worker\"");
  ck_assert(u && y && o);
  ck_assert(isinf(u->value) && u->value > 0);
  ck_assert(isinf(y->value) && y->value < 0);
  ck_assert(isnan(o->value));
  ck_assert(
      has_line("threadlab_process_cpu_seconds_total{mode=\"user\"} +Inf\n"));
  ck_assert(
      has_line("threadlab_process_cpu_seconds_total{mode=\"system\"} -Inf\n"));
  value_is("threadlab_thread_runqueue_wait_seconds_total",
           "tid=\"1235\",role=\"worker\"", 1e300);
  tl_buf_close(&f.out);
}
END_TEST

TL_CHECK_MAIN("render_metrics", metrics_reader_rejects_bad_text,
              metrics_busy_snapshot, metrics_missing_figures_left_out,
              metrics_stats_disabled, metrics_non_finite_values)
