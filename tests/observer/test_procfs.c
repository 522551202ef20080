/* test_procfs.c - Check suite for the /proc parsers and readers.
 *
 * Fixtures (tests/fixtures/proc) are real files captured from the
 * development machine (kernel 6.18, 2 cores, USER_HZ 100) except those named
 * malformed_* and handmade_*. The expected numbers below were copied by hand
 * from the fixture text. Every parser input is copied into a malloc block of
 * exactly its length, so ASan flags any read past the end. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* gettid */
#endif

#include "observer/procfs.h"
#include "observer/procfs_read.h"
#include "base/cpulist.h"

#include <check.h>
#include "tl_check.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef TL_FIXTURES_DIR
#define TL_FIXTURES_DIR "tests/fixtures"
#endif

/* ---- helpers ----------------------------------------------------------- */

static const char *fixtures_dir(void) {
  const char *e = getenv("TL_FIXTURES");
  return e && *e ? e : TL_FIXTURES_DIR;
}

/* Fixture "proc/<name>" in an exact-size heap block (caller frees). */
static char *load(const char *name, size_t *len) {
  static char tmp[65536];
  char path[1024];
  ssize_t n;
  char *b;

  snprintf(path, sizeof path, "%s/proc/%s", fixtures_dir(), name);
  n = tl_procfs_read(path, tmp, sizeof tmp);
  ck_assert_msg(n >= 0, "cannot read fixture %s: %s", path, strerror((int) -n));
  b = malloc(n ? (size_t) n : 1);
  ck_assert_ptr_nonnull(b);
  memcpy(b, tmp, (size_t) n);
  *len = (size_t) n;
  return b;
}

static char *dup_exact(const char *s, size_t n) {
  char *b = malloc(n ? n : 1);
  ck_assert_ptr_nonnull(b);
  memcpy(b, s, n);
  return b;
}

/* Parse a string literal through an exact-size copy. */
#define DEF_PARSE_STR(fn, type)                                                \
  static int fn##_str(const char *s, type *out) {                              \
    size_t n = strlen(s);                                                      \
    char *b = dup_exact(s, n);                                                 \
    int rc = fn(b, n, out);                                                    \
    free(b);                                                                   \
    return rc;                                                                 \
  }
DEF_PARSE_STR(tl_procfs_parse_stat, tl_procfs_stat)
DEF_PARSE_STR(tl_procfs_parse_status, tl_procfs_status)
DEF_PARSE_STR(tl_procfs_parse_schedstat, tl_procfs_schedstat)
DEF_PARSE_STR(tl_procfs_parse_statm, tl_procfs_statm)
DEF_PARSE_STR(tl_procfs_parse_sched, tl_procfs_sched)

static tl_procfs_sysstat sysstat_a,
    sysstat_b; /* too big for comfort on the stack */

static int sysstat_str(const char *s, tl_procfs_sysstat *out) {
  size_t n = strlen(s);
  char *b = dup_exact(s, n);
  int rc = tl_procfs_parse_sysstat(b, n, out);
  free(b);
  return rc;
}

static double ts_ms(const struct timespec *t) {
  return (double) t->tv_sec * 1e3 + (double) t->tv_nsec / 1e6;
}

/* ---- stat -------------------------------------------------------------- */

START_TEST(stat_self_fixture) {
  size_t n;
  char *b = load("self_stat", &n);
  tl_procfs_stat s;

  ck_assert_int_eq(tl_procfs_parse_stat(b, n, &s), 0);
  ck_assert_int_eq(s.pid, 5208);
  ck_assert_str_eq(s.comm, "cap");
  ck_assert_int_eq(s.state, 'R');
  ck_assert_uint_eq(s.utime_ticks, 35);
  ck_assert_uint_eq(s.stime_ticks, 1);
  ck_assert_int_eq(s.num_threads, 2);
  ck_assert_uint_eq(s.starttime_ticks, 21235);
  ck_assert_uint_eq(s.rss_pages, 351);
  ck_assert_int_eq(s.processor, 1);
  free(b);
}
END_TEST

START_TEST(stat_paren_fixture) {
  size_t n;
  char *b = load("task_paren_stat", &n);
  tl_procfs_stat s;

  ck_assert_int_eq(tl_procfs_parse_stat(b, n, &s), 0);
  ck_assert_int_eq(s.pid, 5209);
  ck_assert_str_eq(s.comm, "a) b (c");
  ck_assert_int_eq(s.state, 'S');
  ck_assert_uint_eq(s.utime_ticks, 12);
  ck_assert_uint_eq(s.stime_ticks, 0);
  ck_assert_int_eq(s.num_threads, 2);
  ck_assert_uint_eq(s.starttime_ticks, 21261);
  ck_assert_uint_eq(s.rss_pages, 351);
  ck_assert_int_eq(s.processor, 0);
  free(b);
}
END_TEST

START_TEST(stat_kthread_fixture) {
  size_t n;
  char *b = load("kthread_stat", &n);
  tl_procfs_stat s;

  ck_assert_int_eq(tl_procfs_parse_stat(b, n, &s), 0);
  ck_assert_int_eq(s.pid, 2);
  ck_assert_str_eq(s.comm, "kthreadd");
  ck_assert_int_eq(s.state, 'S');
  ck_assert_uint_eq(s.rss_pages, 0);
  ck_assert_uint_eq(s.starttime_ticks, 24);
  ck_assert_int_eq(s.processor, 0);
  free(b);
}
END_TEST

/* 24 fields after the name, then fields 25..39 with 39 = 7. */
#define STAT_TAIL_24 " 1 1 1 0 -1 0 0 0 0 0 5 6 0 0 20 0 3 0 77 100 9"
#define STAT_TAIL_39 STAT_TAIL_24 " 0 0 0 0 0 0 0 0 0 0 0 0 0 17 7"

START_TEST(stat_odd_names) {
  tl_procfs_stat s;

  ck_assert_int_eq(tl_procfs_parse_stat_str("42 () R" STAT_TAIL_39 "\n", &s),
                   0);
  ck_assert_str_eq(s.comm, "");
  ck_assert_int_eq(s.processor, 7);
  ck_assert_int_eq(tl_procfs_parse_stat_str("42 ())) R" STAT_TAIL_39 "\n", &s),
                   0);
  ck_assert_str_eq(s.comm, "))");
  ck_assert_int_eq(
      tl_procfs_parse_stat_str("42 (x) S 1 2 (y) R" STAT_TAIL_39 "\n", &s), 0);
  ck_assert_str_eq(s.comm, "x) S 1 2 (y");
  ck_assert_int_eq(s.state, 'R');
  /* A newline in the name (allowed by PR_SET_NAME). */
  ck_assert_int_eq(
      tl_procfs_parse_stat_str("42 (a\nb) D" STAT_TAIL_39 "\n", &s), 0);
  ck_assert_str_eq(s.comm, "a\nb");
  ck_assert_int_eq(s.state, 'D');
  ck_assert_uint_eq(s.utime_ticks, 5);
  ck_assert_uint_eq(s.stime_ticks, 6);
  ck_assert_int_eq(s.num_threads, 3);
  ck_assert_uint_eq(s.starttime_ticks, 77);
  ck_assert_uint_eq(s.rss_pages, 9);
  /* Longer than the buffer: cut, not an error. */
  ck_assert_int_eq(
      tl_procfs_parse_stat_str("42 "
                               "(0123456789012345678901234567890123456789012345"
                               "678901234567890123456789) R" STAT_TAIL_39 "\n",
                               &s),
      0);
  ck_assert_uint_eq(strlen(s.comm), 63);
}
END_TEST

START_TEST(stat_absent_and_bad) {
  tl_procfs_stat s;
  size_t n;
  char *b;

  /* Only 24 fields: processor absent. */
  ck_assert_int_eq(tl_procfs_parse_stat_str("42 (x) R" STAT_TAIL_24 "\n", &s),
                   0);
  ck_assert_int_eq(s.processor, -1);
  ck_assert_uint_eq(s.rss_pages, 9);
  /* Field 24 not terminated: may be cut short, so it must not count. */
  ck_assert_int_eq(tl_procfs_parse_stat_str("42 (x) R" STAT_TAIL_24, &s),
                   -EINVAL);
  ck_assert_int_eq(tl_procfs_parse_stat_str("42 (x) R" STAT_TAIL_39, &s), 0);
  ck_assert_int_eq(s.processor, -1);

  ck_assert_int_eq(tl_procfs_parse_stat(NULL, 0, &s), -EINVAL);
  ck_assert_int_eq(tl_procfs_parse_stat_str("", &s), -EINVAL);
  ck_assert_int_eq(tl_procfs_parse_stat_str("42 x) R" STAT_TAIL_39 "\n", &s),
                   -EINVAL);
  ck_assert_int_eq(tl_procfs_parse_stat_str("42 (x R" STAT_TAIL_39 "\n", &s),
                   -EINVAL);
  ck_assert_int_eq(tl_procfs_parse_stat_str("-4 (x) R" STAT_TAIL_39 "\n", &s),
                   -EINVAL);
  ck_assert_int_eq(tl_procfs_parse_stat_str("42 (x) 5" STAT_TAIL_39 "\n", &s),
                   -EINVAL);
  ck_assert_int_eq(tl_procfs_parse_stat_str("42 (x)  R" STAT_TAIL_39 "\n", &s),
                   -EINVAL);
  ck_assert_int_eq(
      tl_procfs_parse_stat_str(
          "42 (x) R 1 1 1 0 -1 0 0 0 0 0 5x 6 0 0 20 0 3 0 77 100 9\n", &s),
      -EINVAL);
  ck_assert_int_eq(
      tl_procfs_parse_stat_str(
          "42 (x) R 1 1 1 0 -1 0 0 0 0 0 -5 6 0 0 20 0 3 0 77 100 9\n", &s),
      -EINVAL);
  ck_assert_int_eq(
      tl_procfs_parse_stat_str("42 (x) R 1 1 1 0 -1 0 0 0 0 0 "
                               "18446744073709551616 6 0 0 20 0 3 0 77 100 9\n",
                               &s),
      -ERANGE);
  /* UINT64_MAX itself is fine where unsigned. */
  ck_assert_int_eq(
      tl_procfs_parse_stat_str("42 (x) R 1 1 1 0 -1 0 0 0 0 0 "
                               "18446744073709551615 6 0 0 20 0 3 0 77 100 9\n",
                               &s),
      0);
  ck_assert_uint_eq(s.utime_ticks, UINT64_MAX);

  b = load("malformed_stat_cut", &n);
  ck_assert_int_eq(tl_procfs_parse_stat(b, n, &s), -EINVAL);
  free(b);
}
END_TEST

/* ---- status ------------------------------------------------------------ */

START_TEST(status_fixtures) {
  size_t n;
  char *b;
  tl_procfs_status s;

  b = load("self_status", &n);
  ck_assert_int_eq(tl_procfs_parse_status(b, n, &s), 0);
  ck_assert_str_eq(s.name, "cap");
  ck_assert_int_eq(s.state, 'R');
  ck_assert(s.has_threads);
  ck_assert_int_eq(s.threads, 2);
  ck_assert(s.has_vmrss);
  ck_assert_uint_eq(s.vmrss_kb, 1592);
  ck_assert(s.has_ctxt);
  ck_assert_uint_eq(s.voluntary_ctxt, 11);
  ck_assert_uint_eq(s.nonvoluntary_ctxt, 2);
  ck_assert(s.has_cpus_allowed);
  ck_assert_str_eq(s.cpus_allowed_list, "0-1");
  free(b);

  b = load("task_paren_status", &n);
  ck_assert_int_eq(tl_procfs_parse_status(b, n, &s), 0);
  ck_assert_str_eq(s.name, "a) b (c");
  ck_assert_int_eq(s.state, 'S');
  ck_assert_int_eq(s.threads, 2);
  ck_assert_uint_eq(s.vmrss_kb, 1588);
  ck_assert_uint_eq(s.voluntary_ctxt, 21);
  ck_assert_uint_eq(s.nonvoluntary_ctxt, 3);
  ck_assert_str_eq(s.cpus_allowed_list, "0-1");
  free(b);

  /* A real kernel thread: no VmRSS line at all. */
  b = load("kthread_status", &n);
  ck_assert_int_eq(tl_procfs_parse_status(b, n, &s), 0);
  ck_assert_str_eq(s.name, "kthreadd");
  ck_assert(!s.has_vmrss);
  ck_assert_uint_eq(s.vmrss_kb, 0);
  ck_assert(s.has_threads);
  ck_assert_int_eq(s.threads, 1);
  ck_assert(s.has_ctxt);
  ck_assert_uint_eq(s.voluntary_ctxt, 58);
  ck_assert_uint_eq(s.nonvoluntary_ctxt, 0);
  free(b);

  b = load("malformed_status_noname", &n);
  ck_assert_int_eq(tl_procfs_parse_status(b, n, &s), -EINVAL);
  free(b);
}
END_TEST

START_TEST(status_absent_keys) {
  tl_procfs_status s;
  char longlist[1024];

  ck_assert_int_eq(
      tl_procfs_parse_status_str("Name:\tx\nState:\tI (idle)\n", &s), 0);
  ck_assert_str_eq(s.name, "x");
  ck_assert_int_eq(s.state, 'I');
  ck_assert(!s.has_threads && !s.has_vmrss && !s.has_ctxt &&
            !s.has_cpus_allowed);

  /* Only one of the two ctxt keys: the pair is absent. */
  ck_assert_int_eq(
      tl_procfs_parse_status_str(
          "Name:\tx\nState:\tS (sleeping)\nvoluntary_ctxt_switches:\t5\n", &s),
      0);
  ck_assert(!s.has_ctxt);
  ck_assert_uint_eq(s.voluntary_ctxt, 0);
  ck_assert_int_eq(
      tl_procfs_parse_status_str(
          "Name:\tx\nState:\tS (sleeping)\nnonvoluntary_ctxt_switches:\t5\n",
          &s),
      0);
  ck_assert(!s.has_ctxt);

  /* Last line cut off (no '\n'): treated as absent, never as a short number. */
  ck_assert_int_eq(tl_procfs_parse_status_str(
                       "Name:\tx\nState:\tS (sleeping)\nVmRSS:\t  12", &s),
                   0);
  ck_assert(!s.has_vmrss);

  /* Keys that only resemble ours. */
  ck_assert_int_eq(
      tl_procfs_parse_status_str(
          "Name:\tx\nState:\tS\nVmRSSx:\t1 kB\nThread:\t3\nCpus_allowed:\tff\n",
          &s),
      0);
  ck_assert(!s.has_vmrss && !s.has_threads && !s.has_cpus_allowed);

  /* Required keys. */
  ck_assert_int_eq(tl_procfs_parse_status_str("State:\tS (sleeping)\n", &s),
                   -EINVAL);
  ck_assert_int_eq(tl_procfs_parse_status_str("Name:\tx\n", &s), -EINVAL);
  ck_assert_int_eq(tl_procfs_parse_status_str("", &s), -EINVAL);
  ck_assert_int_eq(tl_procfs_parse_status(NULL, 0, &s), -EINVAL);

  /* Malformed values of keys we use. */
  ck_assert_int_eq(
      tl_procfs_parse_status_str("Name:\tx\nState:\tS\nVmRSS:\tabc kB\n", &s),
      -EINVAL);
  ck_assert_int_eq(
      tl_procfs_parse_status_str("Name:\tx\nState:\tS\nVmRSS:\t12 MB\n", &s),
      -EINVAL);
  ck_assert_int_eq(
      tl_procfs_parse_status_str("Name:\tx\nState:\t\nThreads:\t1\n", &s),
      -EINVAL);
  ck_assert_int_eq(
      tl_procfs_parse_status_str("Name:\tx\nState:\tS\nThreads:\t-1\n", &s),
      -EINVAL);
  ck_assert_int_eq(
      tl_procfs_parse_status_str("Name:\tx\nState:\tS\nvoluntary_ctxt_switches:"
                                 "\t99999999999999999999\n",
                                 &s),
      -ERANGE);

  /* Name with spaces and a tab kept verbatim; empty name allowed. */
  ck_assert_int_eq(tl_procfs_parse_status_str("Name:\t a\tb \nState:\tR\n", &s),
                   0);
  ck_assert_str_eq(s.name, " a\tb ");
  ck_assert_int_eq(tl_procfs_parse_status_str("Name:\t\nState:\tR\n", &s), 0);
  ck_assert_str_eq(s.name, "");

  /* A Cpus_allowed_list too long for the buffer is reported absent. */
  strcpy(longlist, "Name:\tx\nState:\tS\nCpus_allowed_list:\t");
  for (int i = 0; i < 200; i++)
    strcat(longlist, i ? ",1" : "1");
  strcat(longlist, "\n");
  ck_assert_int_eq(tl_procfs_parse_status_str(longlist, &s), 0);
  ck_assert(!s.has_cpus_allowed);
  ck_assert_str_eq(s.cpus_allowed_list, "");
}
END_TEST

/* ---- statm ------------------------------------------------------------- */

START_TEST(statm_text_and_bad) {
  tl_procfs_statm m;

  ck_assert_int_eq(tl_procfs_parse_statm_str("2574 2096 341 1 0 1012 0\n", &m),
                   0);
  ck_assert_uint_eq(m.size_pages, 2574);
  ck_assert_uint_eq(m.resident_pages, 2096);
  ck_assert_int_eq(tl_procfs_parse_statm_str("2574 2096\n", &m), 0);
  ck_assert_uint_eq(m.resident_pages, 2096);
  ck_assert_int_eq(tl_procfs_parse_statm_str("2574 209", &m),
                   -EINVAL); /* 209 may be 2096 */
  ck_assert_int_eq(tl_procfs_parse_statm_str("2574\n", &m), -EINVAL);
  ck_assert_int_eq(tl_procfs_parse_statm_str("2574 x 1\n", &m), -EINVAL);
  ck_assert_int_eq(tl_procfs_parse_statm_str("", &m), -EINVAL);
  ck_assert_int_eq(tl_procfs_parse_statm_str("1 99999999999999999999 3\n", &m),
                   -ERANGE);
  ck_assert_int_eq(tl_procfs_parse_statm(NULL, 0, &m), -EINVAL);
}
END_TEST

/* statm's resident figure is the one status prints as VmRSS (the sampler
 * reads statm instead): the two, read back to back, agree closely. */
START_TEST(statm_live_matches_status) {
  char buf[8192];
  tl_procfs_statm m;
  tl_procfs_status st;
  ssize_t n = tl_procfs_read("/proc/self/statm", buf, sizeof buf);
  ck_assert_int_gt(n, 0);
  ck_assert_int_eq(tl_procfs_parse_statm(buf, (size_t) n, &m), 0);
  uint64_t statm_kb =
      m.resident_pages * (uint64_t) sysconf(_SC_PAGESIZE) / 1024;
  n = tl_procfs_read("/proc/self/status", buf, sizeof buf);
  ck_assert_int_gt(n, 0);
  ck_assert_int_eq(tl_procfs_parse_status(buf, (size_t) n, &st), 0);
  ck_assert(st.has_vmrss);
  ck_assert_uint_gt(statm_kb, 0);
  /* A few pages may come or go between the two reads. */
  uint64_t diff =
      statm_kb > st.vmrss_kb ? statm_kb - st.vmrss_kb : st.vmrss_kb - statm_kb;
  ck_assert_msg(diff <= 256, "statm %llu kB, VmRSS %llu kB",
                (unsigned long long) statm_kb,
                (unsigned long long) st.vmrss_kb);
}
END_TEST

/* ---- schedstat --------------------------------------------------------- */

START_TEST(schedstat_fixtures_and_bad) {
  size_t n;
  char *b;
  tl_procfs_schedstat s;

  b = load("self_schedstat", &n);
  ck_assert_int_eq(tl_procfs_parse_schedstat(b, n, &s), 0);
  ck_assert_uint_eq(s.oncpu_ns, 251181301);
  ck_assert_uint_eq(s.runq_wait_ns, 68633);
  ck_assert_uint_eq(s.timeslices, 14);
  free(b);

  b = load("task_paren_schedstat", &n);
  ck_assert_int_eq(tl_procfs_parse_schedstat(b, n, &s), 0);
  ck_assert_uint_eq(s.oncpu_ns, 120539420);
  ck_assert_uint_eq(s.runq_wait_ns, 26710);
  ck_assert_uint_eq(s.timeslices, 24);
  free(b);

  ck_assert_int_eq(tl_procfs_parse_schedstat_str("0 0 1\n", &s), 0);
  ck_assert_uint_eq(s.timeslices, 1);
  ck_assert_int_eq(tl_procfs_parse_schedstat_str("0 0 1", &s),
                   -EINVAL); /* 1 may be 12... */
  ck_assert_int_eq(tl_procfs_parse_schedstat_str("1 2\n", &s), -EINVAL);
  ck_assert_int_eq(tl_procfs_parse_schedstat_str("1 2 x\n", &s), -EINVAL);
  ck_assert_int_eq(tl_procfs_parse_schedstat_str("1  2 3\n", &s), -EINVAL);
  ck_assert_int_eq(tl_procfs_parse_schedstat_str("-1 2 3\n", &s), -EINVAL);
  ck_assert_int_eq(tl_procfs_parse_schedstat_str("", &s), -EINVAL);
  ck_assert_int_eq(
      tl_procfs_parse_schedstat_str("1 99999999999999999999 3\n", &s), -ERANGE);
  ck_assert_int_eq(tl_procfs_parse_schedstat(NULL, 0, &s), -EINVAL);
}
END_TEST

/* ---- sched ------------------------------------------------------------- */

#define SCHED_HDR                                                              \
  "x (1, #threads: 1)\n"                                                       \
  "-------------------------------------------------------------------\n"

START_TEST(sched_fixtures) {
  size_t n;
  char *b;
  tl_procfs_sched s;

  b = load("self_sched", &n);
  ck_assert_int_eq(tl_procfs_parse_sched(b, n, &s), 0);
  ck_assert(s.has_migrations);
  ck_assert_uint_eq(s.nr_migrations, 0);
  ck_assert(s.has_switches);
  ck_assert_uint_eq(s.nr_switches, 13);
  ck_assert_uint_eq(s.nr_voluntary_switches, 11);
  ck_assert_uint_eq(s.nr_involuntary_switches, 2);
  ck_assert(s.has_sum_exec);
  ck_assert_uint_eq(s.sum_exec_runtime_ns,
                    251181301); /* 251.181301 ms; = schedstat field 1 */
  ck_assert(!s.has_wait_sum);   /* no CONFIG_SCHEDSTATS on this kernel */
  free(b);

  b = load("task_paren_sched", &n);
  ck_assert_int_eq(tl_procfs_parse_sched(b, n, &s), 0);
  ck_assert_uint_eq(s.nr_migrations, 0);
  ck_assert_uint_eq(s.nr_switches, 24);
  ck_assert_uint_eq(s.nr_voluntary_switches, 21);
  ck_assert_uint_eq(s.nr_involuntary_switches, 3);
  ck_assert_uint_eq(s.sum_exec_runtime_ns, 120539420);
  ck_assert(!s.has_wait_sum);
  free(b);

  b = load("handmade_sched_schedstats", &n);
  ck_assert_int_eq(tl_procfs_parse_sched(b, n, &s), 0);
  ck_assert(s.has_wait_sum);
  ck_assert_uint_eq(s.wait_sum_ns, 5000042);
  ck_assert_uint_eq(s.sum_exec_runtime_ns, 251181301);
  ck_assert_uint_eq(s.nr_switches, 13);
  free(b);
}
END_TEST

START_TEST(sched_absent_and_bad) {
  tl_procfs_sched s;

  ck_assert_int_eq(tl_procfs_parse_sched_str(SCHED_HDR, &s), 0);
  ck_assert(!s.has_migrations && !s.has_switches && !s.has_sum_exec &&
            !s.has_wait_sum);

  ck_assert_int_eq(tl_procfs_parse_sched_str(SCHED_HDR
                                             "se.statistics.wait_sum : 0.5\n"
                                             "se.sum_exec_runtime : 12\n"
                                             "nr_switches : 3\n"
                                             "nr_voluntary_switches : 2\n",
                                             &s),
                   0);
  ck_assert(s.has_wait_sum);
  ck_assert_uint_eq(s.wait_sum_ns, 500000);
  ck_assert_uint_eq(s.sum_exec_runtime_ns, 12000000);
  ck_assert(!s.has_switches); /* involuntary missing */
  ck_assert_uint_eq(s.nr_switches, 0);
  ck_assert(!s.has_migrations);

  /* The header holds the task name: a name imitating a key is ignored. */
  ck_assert_int_eq(
      tl_procfs_parse_sched_str("\nnr_switches:9 (1, #threads: 1)\n"
                                "----------------------------------------------"
                                "---------------------\n",
                                &s),
      0);
  ck_assert(!s.has_switches);
  ck_assert_int_eq(tl_procfs_parse_sched_str(
                       "\nse.nr_migrations:9\n------------------\n", &s),
                   -EINVAL); /* 18 dashes: no separator */

  /* Cut-off last line: absent, not a short value. */
  ck_assert_int_eq(
      tl_procfs_parse_sched_str(SCHED_HDR "se.sum_exec_runtime : 12.5", &s), 0);
  ck_assert(!s.has_sum_exec);

  ck_assert_int_eq(tl_procfs_parse_sched_str("", &s), -EINVAL);
  ck_assert_int_eq(tl_procfs_parse_sched(NULL, 0, &s), -EINVAL);
  ck_assert_int_eq(
      tl_procfs_parse_sched_str(SCHED_HDR "se.sum_exec_runtime : 1.2x\n", &s),
      -EINVAL);
  ck_assert_int_eq(
      tl_procfs_parse_sched_str(SCHED_HDR "se.sum_exec_runtime : 1.\n", &s),
      -EINVAL);
  ck_assert_int_eq(
      tl_procfs_parse_sched_str(SCHED_HDR "se.sum_exec_runtime : -1.0\n", &s),
      -EINVAL);
  ck_assert_int_eq(tl_procfs_parse_sched_str(
                       SCHED_HDR "se.sum_exec_runtime : 1.0000001\n", &s),
                   -EINVAL);
  ck_assert_int_eq(
      tl_procfs_parse_sched_str(SCHED_HDR "se.nr_migrations : 1.5\n", &s),
      -EINVAL);
  ck_assert_int_eq(tl_procfs_parse_sched_str(SCHED_HDR "nr_switches :\n", &s),
                   -EINVAL);
  ck_assert_int_eq(
      tl_procfs_parse_sched_str(
          SCHED_HDR "se.sum_exec_runtime : 18446744073709.551615\n", &s),
      0);
  ck_assert_uint_eq(s.sum_exec_runtime_ns, UINT64_MAX);
  ck_assert_int_eq(
      tl_procfs_parse_sched_str(
          SCHED_HDR "se.sum_exec_runtime : 18446744073709.551616\n", &s),
      -ERANGE);
  /* Unknown keys with odd values are none of our business. */
  ck_assert_int_eq(tl_procfs_parse_sched_str(
                       SCHED_HDR "numa_preferred_nid : -1\nfoo : bar\n", &s),
                   0);
}
END_TEST

/* ---- /proc/stat -------------------------------------------------------- */

static void assert_times(const tl_procfs_cpu_times *t, uint64_t user,
                         uint64_t nice, uint64_t system, uint64_t idle,
                         uint64_t iowait, uint64_t irq, uint64_t softirq,
                         uint64_t steal) {
  ck_assert_uint_eq(t->user, user);
  ck_assert_uint_eq(t->nice, nice);
  ck_assert_uint_eq(t->system, system);
  ck_assert_uint_eq(t->idle, idle);
  ck_assert_uint_eq(t->iowait, iowait);
  ck_assert_uint_eq(t->irq, irq);
  ck_assert_uint_eq(t->softirq, softirq);
  ck_assert_uint_eq(t->steal, steal);
}

START_TEST(sysstat_fixture) {
  size_t n;
  char *b = load("stat", &n);
  tl_procfs_sysstat *s = &sysstat_a;

  ck_assert_int_eq(tl_procfs_parse_sysstat(b, n, s), 0);
  assert_times(&s->total, 2185, 0, 1780, 38041, 258, 0, 47, 7);
  ck_assert_int_eq(s->ncpu, 2);
  ck_assert_int_eq(s->max_cpu_id, 1);
  ck_assert_int_eq(s->skipped_cpus, 0);
  ck_assert(s->present[0] && s->present[1] && !s->present[2]);
  assert_times(&s->cpu[0], 875, 0, 610, 19653, 9, 0, 4, 1);
  assert_times(&s->cpu[1], 1310, 0, 1170, 18388, 248, 0, 43, 5);
  ck_assert(s->has_ctxt);
  ck_assert_uint_eq(s->ctxt, 367871);
  free(b);
}
END_TEST

START_TEST(sysstat_absent_and_bad) {
  tl_procfs_sysstat *s = &sysstat_a;

  /* Offline core 1 (no line), a core beyond our table, no ctxt. */
  ck_assert_int_eq(sysstat_str("cpu  1 2 3 4 5 6 7 8 9 10\n"
                               "cpu0 1 0 0 0 0 0 0 0 0 0\n"
                               "cpu2 2 0 0 0 0 0 0 0 0 0\n"
                               "cpu300 3 0 0 0 0 0 0 0 0 0\n"
                               "intr 1 2 3\n",
                               s),
                   0);
  assert_times(&s->total, 1, 2, 3, 4, 5, 6, 7, 8);
  ck_assert_int_eq(s->ncpu, 2);
  ck_assert_int_eq(s->max_cpu_id, 2);
  ck_assert(s->present[0] && !s->present[1] && s->present[2]);
  ck_assert_uint_eq(s->cpu[2].user, 2);
  ck_assert_int_eq(s->skipped_cpus, 1);
  ck_assert(!s->has_ctxt);
  ck_assert_uint_eq(s->ctxt, 0);

  /* Eight columns are enough; cut-off lines are ignored. */
  ck_assert_int_eq(
      sysstat_str("cpu 1 2 3 4 5 6 7 8\nctxt 5\ncpu0 1 2 3 4 5 6 7 8", s), 0);
  ck_assert_int_eq(s->ncpu, 0);
  ck_assert_int_eq(s->max_cpu_id, -1);
  ck_assert_uint_eq(s->ctxt, 5);

  ck_assert_int_eq(sysstat_str("cpu 1 2 3 4\n", s),
                   -EINVAL); /* too few columns */
  ck_assert_int_eq(sysstat_str("cpu0 1 2 3 4 5 6 7 8\n", s),
                   -EINVAL); /* no aggregate */
  ck_assert_int_eq(sysstat_str("cpu  1 2 3 4 5 6 7 8", s),
                   -EINVAL); /* aggregate cut off */
  ck_assert_int_eq(sysstat_str("cpu 1 2 3 4 5 6 7 8x\n", s), -EINVAL);
  ck_assert_int_eq(sysstat_str("cpu 1 2 3 4 5 6 7 8\nctxt x\n", s), -EINVAL);
  ck_assert_int_eq(sysstat_str("cpu 1 2 3 4 5 6 7 8\ncpu1 1 2\n", s), -EINVAL);
  ck_assert_int_eq(sysstat_str("", s), -EINVAL);
  ck_assert_int_eq(tl_procfs_parse_sysstat(NULL, 0, s), -EINVAL);
}
END_TEST

/* ---- truncation and garbage -------------------------------------------- */

/* Every prefix of each real fixture, in an exact-size block: an error, or
 * success where every figure reported present equals the full file's. */
START_TEST(prefixes_stat) {
  static const char *names[] = {"self_stat", "task_paren_stat", "kthread_stat"};
  for (size_t f = 0; f < sizeof names / sizeof names[0]; f++) {
    size_t len;
    char *full = load(names[f], &len);
    tl_procfs_stat ref, s;
    int partial = 0;
    ck_assert_int_eq(tl_procfs_parse_stat(full, len, &ref), 0);
    for (size_t n = 0; n <= len; n++) {
      char *b = dup_exact(full, n);
      int rc = tl_procfs_parse_stat(b, n, &s);
      free(b);
      if (rc < 0)
        continue;
      ck_assert_msg(rc == 0, "%s prefix %zu rc %d", names[f], n, rc);
      partial += n < len;
      ck_assert_int_eq(s.pid, ref.pid);
      ck_assert_str_eq(s.comm, ref.comm);
      ck_assert_int_eq(s.state, ref.state);
      ck_assert_uint_eq(s.utime_ticks, ref.utime_ticks);
      ck_assert_uint_eq(s.stime_ticks, ref.stime_ticks);
      ck_assert_int_eq(s.num_threads, ref.num_threads);
      ck_assert_uint_eq(s.starttime_ticks, ref.starttime_ticks);
      ck_assert_uint_eq(s.rss_pages, ref.rss_pages);
      ck_assert(s.processor == ref.processor || s.processor == -1);
    }
    /* Cut after the fields we need, a prefix parses: the checks above
     * ran on more than the full file (they pass vacuously otherwise). */
    ck_assert_msg(partial > 0, "%s: no prefix parses", names[f]);
    free(full);
  }
}
END_TEST

START_TEST(prefixes_status) {
  static const char *names[] = {"self_status", "task_paren_status",
                                "kthread_status"};
  for (size_t f = 0; f < sizeof names / sizeof names[0]; f++) {
    size_t len;
    char *full = load(names[f], &len);
    tl_procfs_status ref, s;
    int ok = 0;
    ck_assert_int_eq(tl_procfs_parse_status(full, len, &ref), 0);
    for (size_t n = 0; n <= len; n++) {
      char *b = dup_exact(full, n);
      int rc = tl_procfs_parse_status(b, n, &s);
      free(b);
      if (rc < 0)
        continue;
      ok++;
      ck_assert_str_eq(s.name, ref.name);
      ck_assert_int_eq(s.state, ref.state);
      if (s.has_threads)
        ck_assert_int_eq(s.threads, ref.threads);
      if (s.has_vmrss)
        ck_assert_uint_eq(s.vmrss_kb, ref.vmrss_kb);
      if (s.has_ctxt) {
        ck_assert_uint_eq(s.voluntary_ctxt, ref.voluntary_ctxt);
        ck_assert_uint_eq(s.nonvoluntary_ctxt, ref.nonvoluntary_ctxt);
      }
      if (s.has_cpus_allowed)
        ck_assert_str_eq(s.cpus_allowed_list, ref.cpus_allowed_list);
    }
    ck_assert_int_gt(ok, 1); /* partial success does happen */
    free(full);
  }
}
END_TEST

START_TEST(prefixes_sched_schedstat) {
  static const char *names[] = {"self_sched", "task_paren_sched",
                                "handmade_sched_schedstats"};
  for (size_t f = 0; f < sizeof names / sizeof names[0]; f++) {
    size_t len;
    char *full = load(names[f], &len);
    tl_procfs_sched ref, s;
    int partial = 0, mig = 0, sw = 0, ex = 0, ws = 0;
    ck_assert_int_eq(tl_procfs_parse_sched(full, len, &ref), 0);
    for (size_t n = 0; n <= len; n++) {
      char *b = dup_exact(full, n);
      int rc = tl_procfs_parse_sched(b, n, &s);
      free(b);
      if (rc < 0)
        continue;
      if (n < len) {
        partial++;
        mig += s.has_migrations;
        sw += s.has_switches;
        ex += s.has_sum_exec;
        ws += s.has_wait_sum;
      }
      if (s.has_migrations)
        ck_assert_uint_eq(s.nr_migrations, ref.nr_migrations);
      if (s.has_switches) {
        ck_assert_uint_eq(s.nr_switches, ref.nr_switches);
        ck_assert_uint_eq(s.nr_voluntary_switches, ref.nr_voluntary_switches);
        ck_assert_uint_eq(s.nr_involuntary_switches,
                          ref.nr_involuntary_switches);
      }
      if (s.has_sum_exec)
        ck_assert_uint_eq(s.sum_exec_runtime_ns, ref.sum_exec_runtime_ns);
      if (s.has_wait_sum)
        ck_assert_uint_eq(s.wait_sum_ns, ref.wait_sum_ns);
    }
    /* The conditional checks above must each have run on a prefix (a
     * parser that failed every prefix, or never found a field in one,
     * would pass them vacuously). */
    ck_assert_msg(partial > 0, "%s: no prefix parses", names[f]);
    ck_assert_msg(!ref.has_migrations || mig > 0, "%s: migrations in no prefix",
                  names[f]);
    ck_assert_msg(!ref.has_switches || sw > 0, "%s: switches in no prefix",
                  names[f]);
    ck_assert_msg(!ref.has_sum_exec || ex > 0, "%s: sum_exec in no prefix",
                  names[f]);
    ck_assert_msg(!ref.has_wait_sum || ws > 0, "%s: wait_sum in no prefix",
                  names[f]);
    free(full);
  }

  static const char *ss[] = {"self_schedstat", "task_paren_schedstat"};
  for (size_t f = 0; f < 2; f++) {
    size_t len;
    char *full = load(ss[f], &len);
    tl_procfs_schedstat s;
    for (size_t n = 0; n < len; n++) {
      char *b = dup_exact(full, n);
      /* Only the complete line can succeed. */
      ck_assert_int_lt(tl_procfs_parse_schedstat(b, n, &s), 0);
      free(b);
    }
    ck_assert_int_eq(tl_procfs_parse_schedstat(full, len, &s), 0);
    free(full);
  }
}
END_TEST

START_TEST(prefixes_sysstat) {
  size_t len;
  char *full = load("stat", &len);
  tl_procfs_sysstat *ref = &sysstat_a, *s = &sysstat_b;

  int partial = 0, cpus = 0, ctxt = 0;
  ck_assert_int_eq(tl_procfs_parse_sysstat(full, len, ref), 0);
  for (size_t n = 0; n <= len; n++) {
    char *b = dup_exact(full, n);
    int rc = tl_procfs_parse_sysstat(b, n, s);
    free(b);
    if (rc < 0)
      continue;
    ck_assert(memcmp(&s->total, &ref->total, sizeof s->total) == 0);
    for (int c = 0; c < TL_PROCFS_MAX_CPUS; c++)
      if (s->present[c]) {
        ck_assert(memcmp(&s->cpu[c], &ref->cpu[c], sizeof s->cpu[c]) == 0);
        cpus += n < len;
      }
    if (s->has_ctxt) {
      ck_assert_uint_eq(s->ctxt, ref->ctxt);
      ctxt += n < len;
    }
    partial += n < len;
  }
  /* As above: the checks must have run on prefixes, per CPU and ctxt. */
  ck_assert_msg(partial > 0, "stat: no prefix parses");
  ck_assert_msg(cpus > 0, "stat: no prefix has a per-CPU line");
  ck_assert_msg(!ref->has_ctxt || ctxt > 0, "stat: no prefix has ctxt");
  free(full);
}
END_TEST

static int parse_any(int which, const char *b, size_t n) {
  tl_procfs_stat st;
  tl_procfs_status stu;
  tl_procfs_schedstat ss;
  tl_procfs_sched sc;
  cpu_set_t cs;

  switch (which) {
  case 0: return tl_procfs_parse_stat(b, n, &st);
  case 1: return tl_procfs_parse_status(b, n, &stu);
  case 2: return tl_procfs_parse_schedstat(b, n, &ss);
  case 3: return tl_procfs_parse_sched(b, n, &sc);
  case 4: return tl_procfs_parse_sysstat(b, n, &sysstat_b);
  default: return tl_cpulist_parse(b, n, &cs);
  }
}

/* Single-byte mutations of every fixture at every position, fed to every
 * parser, plus random text: nothing may crash or report success wrongly
 * shaped (rc must be 0 or negative). */
START_TEST(garbage) {
  static const char *names[] = {
      "self_stat",      "task_paren_stat", "self_status",
      "self_schedstat", "self_sched",      "stat",
      "kthread_status",
  };
  static const char subst[] = " \n)(:-9.\t\0xk";
  uint32_t rng = 12345;

  for (size_t f = 0; f < sizeof names / sizeof names[0]; f++) {
    size_t len;
    char *full = load(names[f], &len);
    for (size_t i = 0; i < len; i++) {
      for (size_t k = 0; k < sizeof subst - 1; k++) {
        char *b = dup_exact(full, len);
        b[i] = subst[k];
        for (int w = 0; w < 6; w++)
          ck_assert_int_le(parse_any(w, b, len), 0);
        free(b);
      }
    }
    free(full);
  }

  for (int iter = 0; iter < 20000; iter++) {
    static const char alpha[] = "0123456789 \n():-.,\tabcRSkB";
    size_t n;
    char *b;
    rng = rng * 1103515245u + 12345u;
    n = (rng >> 16) % 200;
    b = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
      rng = rng * 1103515245u + 12345u;
      b[i] = alpha[(rng >> 16) % (sizeof alpha - 1)];
    }
    for (int w = 0; w < 6; w++)
      ck_assert_int_le(parse_any(w, b, n), 0);
    free(b);
  }
}
END_TEST

/* ---- readers ------------------------------------------------------------ */

START_TEST(readers) {
  char path[1024], buf[4096];
  ssize_t n;
  int dfd;

  snprintf(path, sizeof path, "%s/proc/self_schedstat", fixtures_dir());
  n = tl_procfs_read(path, buf, sizeof buf);
  ck_assert_int_eq(n, 19);
  ck_assert(memcmp(buf, "251181301 68633 14\n", 19) == 0);
  ck_assert_int_eq(tl_procfs_read(path, buf, 19), 19); /* exact fit */
  ck_assert_int_eq(tl_procfs_read(path, buf, 18), -EOVERFLOW);
  ck_assert_int_eq(tl_procfs_read(path, NULL, 0), -EOVERFLOW);
  snprintf(path, sizeof path, "%s/proc/no_such_file", fixtures_dir());
  ck_assert_int_eq(tl_procfs_read(path, buf, sizeof buf), -ENOENT);

  snprintf(path, sizeof path, "%s/proc", fixtures_dir());
  dfd = open(path, O_RDONLY | O_DIRECTORY);
  ck_assert_int_ge(dfd, 0);
  ck_assert_int_eq(tl_procfs_read_at(dfd, "self_schedstat", buf, sizeof buf),
                   19);
  ck_assert_int_eq(tl_procfs_read_at(dfd, "nope", buf, sizeof buf), -ENOENT);
  close(dfd);
  ck_assert_int_eq(tl_procfs_read_at(-1, "x", buf, sizeof buf), -EBADF);

  /* /proc files report size 0 yet have content; a too-small cap is caught. */
  ck_assert_int_eq(tl_procfs_read("/proc/self/status", buf, 16), -EOVERFLOW);
}
END_TEST

START_TEST(live_self_files) {
  static char buf[65536];
  ssize_t n;
  tl_procfs_stat st;
  tl_procfs_status su;
  tl_procfs_schedstat ss;
  tl_procfs_sched sc;

  n = tl_procfs_read("/proc/self/stat", buf, sizeof buf);
  ck_assert_int_gt(n, 0);
  ck_assert_int_eq(tl_procfs_parse_stat(buf, (size_t) n, &st), 0);
  ck_assert_int_eq(st.pid, getpid());
  ck_assert_int_ge(st.processor, 0);

  n = tl_procfs_read("/proc/self/status", buf, sizeof buf);
  ck_assert_int_gt(n, 0);
  ck_assert_int_eq(tl_procfs_parse_status(buf, (size_t) n, &su), 0);
  ck_assert(su.has_threads && su.has_vmrss && su.has_ctxt &&
            su.has_cpus_allowed);
  ck_assert_int_eq(su.threads, st.num_threads);

  n = tl_procfs_read("/proc/self/schedstat", buf, sizeof buf);
  ck_assert_int_eq(tl_procfs_parse_schedstat(buf, (size_t) n, &ss), 0);
  n = tl_procfs_read("/proc/self/sched", buf, sizeof buf);
  ck_assert_int_eq(tl_procfs_parse_sched(buf, (size_t) n, &sc), 0);
  ck_assert(sc.has_sum_exec && sc.has_switches && sc.has_migrations);

  n = tl_procfs_read("/proc/stat", buf, sizeof buf);
  ck_assert_int_eq(tl_procfs_parse_sysstat(buf, (size_t) n, &sysstat_a), 0);
  ck_assert_int_eq(sysstat_a.ncpu, (int) sysconf(_SC_NPROCESSORS_ONLN));
  ck_assert(sysstat_a.has_ctxt);
}
END_TEST

/* ---- live: threads, fds, CPU time -------------------------------------- */

static pthread_barrier_t tid_barrier;
static pid_t worker_tids[3];

static void *tid_worker(void *arg) {
  worker_tids[(size_t) arg] = gettid();
  pthread_barrier_wait(&tid_barrier); /* tid published */
  pthread_barrier_wait(&tid_barrier); /* main has listed */
  return NULL;
}

static int has_tid(const int *tids, int n, int tid) {
  for (int i = 0; i < n; i++)
    if (tids[i] == tid)
      return 1;
  return 0;
}

START_TEST(live_list_tids) {
  pthread_t th[3];
  int tids[64], small[2], n, m = 0, base;
  DIR *d;
  struct dirent *e;

  /* Sanitizer runtimes may add threads of their own (TSan does): count
   * what is there before ours start. */
  base = tl_procfs_read_tids(tids, 64);
  ck_assert_int_ge(base, 1);
  ck_assert_int_eq(pthread_barrier_init(&tid_barrier, NULL, 4), 0);
  for (size_t i = 0; i < 3; i++)
    ck_assert_int_eq(pthread_create(&th[i], NULL, tid_worker, (void *) i), 0);
  pthread_barrier_wait(&tid_barrier);

  n = tl_procfs_read_tids(tids, 64);
  /* TSan starts its helper thread lazily, with our first thread: at least
   * our three are new; the readdir below pins the exact set. */
  ck_assert_int_ge(n, base + 3);
  ck_assert(has_tid(tids, n, gettid()));
  for (int i = 0; i < 3; i++)
    ck_assert(has_tid(tids, n, worker_tids[i]));
  for (int i = 1; i < n; i++)
    ck_assert_int_lt(tids[i - 1], tids[i]);
  /* Same set as a plain readdir of /proc/self/task. */
  d = opendir("/proc/self/task");
  ck_assert_ptr_nonnull(d);
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    ck_assert(has_tid(tids, n, atoi(e->d_name)));
    m++;
  }
  closedir(d);
  ck_assert_int_eq(m, n);

  /* Too small: -ENOBUFS, holding the smallest ones, ascending. */
  ck_assert_int_eq(tl_procfs_read_tids(small, 2), -ENOBUFS);
  ck_assert_int_eq(small[0], tids[0]);
  ck_assert_int_eq(small[1], tids[1]);
  ck_assert_int_eq(tl_procfs_read_tids(NULL, 0), -ENOBUFS);
  ck_assert_int_eq(tl_procfs_read_tids(tids, n), n);

  pthread_barrier_wait(&tid_barrier);
  for (int i = 0; i < 3; i++)
    pthread_join(th[i], NULL);
  pthread_barrier_destroy(&tid_barrier);
}
END_TEST

START_TEST(live_count_fds) {
  int n0 = tl_procfs_read_fd_count(), n1, n2, fd;

  ck_assert_int_ge(n0, 3);
  fd = open("/dev/null", O_RDONLY);
  ck_assert_int_ge(fd, 0);
  n1 = tl_procfs_read_fd_count();
  close(fd);
  n2 = tl_procfs_read_fd_count();
  ck_assert_int_eq(n1, n0 + 1);
  ck_assert_int_eq(n2, n0);
}
END_TEST

struct burn_result {
  double clock_ms;     /* CLOCK_THREAD_CPUTIME_ID after reading /proc */
  double clock_ms_pre; /* ... and before */
  int rc_stat, rc_schedstat, rc_sched;
  tl_procfs_stat st;
  tl_procfs_schedstat ss;
  tl_procfs_sched sc;
};

static volatile uint64_t
    burn_sink; /* keeps the burn loop from being optimised out */

static void *burner(void *arg) {
  struct burn_result *r = arg;
  struct timespec t;
  char path[64], buf[4096];
  ssize_t n;
  int dfd;

  do {
    for (int i = 0; i < 20000; i++)
      burn_sink += (uint64_t) i * 7;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  } while (ts_ms(&t) < 50.0);

  snprintf(path, sizeof path, "/proc/self/task/%d", (int) gettid());
  dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  r->clock_ms_pre = ts_ms(&t);
  n = tl_procfs_read_at(dfd, "stat", buf, sizeof buf);
  r->rc_stat = n < 0 ? (int) n : tl_procfs_parse_stat(buf, (size_t) n, &r->st);
  n = tl_procfs_read_at(dfd, "schedstat", buf, sizeof buf);
  r->rc_schedstat =
      n < 0 ? (int) n : tl_procfs_parse_schedstat(buf, (size_t) n, &r->ss);
  n = tl_procfs_read_at(dfd, "sched", buf, sizeof buf);
  r->rc_sched =
      n < 0 ? (int) n : tl_procfs_parse_sched(buf, (size_t) n, &r->sc);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  r->clock_ms = ts_ms(&t);
  if (dfd >= 0)
    close(dfd);
  return NULL;
}

START_TEST(live_cpu_time) {
  pthread_t th;
  struct burn_result r;
  double tick_ms = 1000.0 / (double) sysconf(_SC_CLK_TCK);
  double stat_ms, oncpu_ms, exec_ms;

  memset(&r, 0, sizeof r);
  ck_assert_int_eq(pthread_create(&th, NULL, burner, &r), 0);
  pthread_join(th, NULL);
  ck_assert_int_eq(r.rc_stat, 0);
  ck_assert_int_eq(r.rc_schedstat, 0);
  ck_assert_int_eq(r.rc_sched, 0);

  stat_ms = (double) (r.st.utime_ticks + r.st.stime_ticks) * tick_ms;
  oncpu_ms = (double) r.ss.oncpu_ns / 1e6;
  exec_ms = (double) r.sc.sum_exec_runtime_ns / 1e6;
  fprintf(stderr,
          "live_cpu_time: clock %.3f ms, stat %.1f ms, schedstat %.3f ms, "
          "sched %.3f ms\n",
          r.clock_ms, stat_ms, oncpu_ms, exec_ms);
  ck_assert_msg(r.clock_ms >= 50.0, "burned only %.3f ms", r.clock_ms);
  /* Ticks are truncated separately for utime and stime: < 2 ticks low. */
  ck_assert_msg(stat_ms > r.clock_ms_pre - 20.0 && stat_ms < r.clock_ms + 20.0,
                "stat %.1f ms vs clock %.3f ms", stat_ms, r.clock_ms);
  ck_assert_msg(oncpu_ms > r.clock_ms_pre - 20.0 &&
                    oncpu_ms <= r.clock_ms + 0.001,
                "schedstat %.3f ms vs clock %.3f ms", oncpu_ms, r.clock_ms);
  ck_assert_msg(exec_ms > r.clock_ms_pre - 20.0 &&
                    exec_ms <= r.clock_ms + 0.001,
                "sched %.3f ms vs clock %.3f ms", exec_ms, r.clock_ms);
}
END_TEST

/* The observer parses four files per thread every period: keep that cheap.
 * The bound is loose (sanitizer builds are slow); the figure is printed. */
START_TEST(speed) {
  static const char *names[] = {"task_paren_stat", "task_paren_status",
                                "task_paren_schedstat", "task_paren_sched"};
  char *b[4];
  size_t n[4];
  tl_procfs_stat st;
  tl_procfs_status su;
  tl_procfs_schedstat ss;
  tl_procfs_sched sc;
  struct timespec t0, t1;
  const int iters = 20000;
  double us;

  for (int i = 0; i < 4; i++)
    b[i] = load(names[i], &n[i]);
  /* CPU time, not wall time: other processes on a busy machine do not
   * count against the parser. */
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
  for (int k = 0; k < iters; k++) {
    ck_assert(tl_procfs_parse_stat(b[0], n[0], &st) == 0);
    ck_assert(tl_procfs_parse_status(b[1], n[1], &su) == 0);
    ck_assert(tl_procfs_parse_schedstat(b[2], n[2], &ss) == 0);
    ck_assert(tl_procfs_parse_sched(b[3], n[3], &sc) == 0);
  }
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
  us = (ts_ms(&t1) - ts_ms(&t0)) * 1e3 / iters;
  fprintf(stderr, "speed: %.2f us to parse one thread's four files\n", us);
  /* A sanitizer's instrumentation multiplies the cost (TSan read 102 us). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  ck_assert_msg(us < 1000.0, "%.2f us per thread", us);
#else
  ck_assert_msg(us < 100.0, "%.2f us per thread", us);
#endif
  for (int i = 0; i < 4; i++)
    free(b[i]);
}
END_TEST

/* ---- main --------------------------------------------------------------- */

static Suite *procfs_suite(void) {
  Suite *s = suite_create("procfs");
  TCase *tc = tcase_create("parse");
  TCase *tt = tcase_create("robustness");
  TCase *tl = tcase_create("live");

  tcase_add_test(tc, stat_self_fixture);
  tcase_add_test(tc, stat_paren_fixture);
  tcase_add_test(tc, stat_kthread_fixture);
  tcase_add_test(tc, stat_odd_names);
  tcase_add_test(tc, stat_absent_and_bad);
  tcase_add_test(tc, status_fixtures);
  tcase_add_test(tc, status_absent_keys);
  tcase_add_test(tc, schedstat_fixtures_and_bad);
  tcase_add_test(tc, statm_text_and_bad);
  tcase_add_test(tc, statm_live_matches_status);
  tcase_add_test(tc, sched_fixtures);
  tcase_add_test(tc, sched_absent_and_bad);
  tcase_add_test(tc, sysstat_fixture);
  tcase_add_test(tc, sysstat_absent_and_bad);
  tcase_add_test(tc, readers);
  suite_add_tcase(s, tc);

  tcase_add_test(tt, prefixes_stat);
  tcase_add_test(tt, prefixes_status);
  tcase_add_test(tt, prefixes_sched_schedstat);
  tcase_add_test(tt, prefixes_sysstat);
  tcase_add_test(tt, garbage);
  tcase_set_timeout(tt, 120);
  suite_add_tcase(s, tt);

  tcase_add_test(tl, live_self_files);
  tcase_add_test(tl, live_list_tids);
  tcase_add_test(tl, live_count_fds);
  tcase_add_test(tl, live_cpu_time);
  tcase_add_test(tl, speed);
  tcase_set_timeout(tl, 30);
  suite_add_tcase(s, tl);
  return s;
}

int main(void) { return tl_check_run(procfs_suite()); }
