/* The observer's numbers held against the kernel and against what we
 * sent: /stats, /stats/stream, /metrics, /control, and the observer's
 * independence from a blocked workload loop. */
#include "config.h"

#include <check.h>
#include "tl_check.h"
#include <arpa/inet.h>
#include <dirent.h>
#include <math.h>
#include <errno.h>
#include <netinet/in.h>
#include <regex.h>
#include <sched.h>
#include <linux/io_uring.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tl_json.h"
#include "tl_testutil.h"

static void start(tl_proc *p, const char *mode, const char *threads) {
  const char *args[] = {"--mode",      mode,  "--threads", threads,
                        "--sample-ms", "100", NULL};
  tl_proc_start(p, args);
}

static int read_file(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  size_t n = fread(buf, 1, cap - 1, f);
  fclose(f);
  buf[n] = '\0';
  return (int) n;
}

/* utime+stime of a thread, in seconds, from the kernel. */
static double kernel_cpu_s(int pid, int tid) {
  char path[96], buf[1024];
  snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
  if (read_file(path, buf, sizeof(buf)) < 0)
    return -1;
  char *p = strrchr(buf, ')');
  unsigned long long ut = 0, st = 0;
  /* after ") ": state(3) ... utime is field 14, stime 15 */
  int field = 2;
  for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " ")) {
    field++;
    if (field == 14)
      ut = strtoull(tok, NULL, 10);
    if (field == 15) {
      st = strtoull(tok, NULL, 10);
      break;
    }
  }
  return (double) (ut + st) / (double) sysconf(_SC_CLK_TCK);
}

/* The kernel's schedstat of one thread: on-CPU and run_delay, ns. */
static bool kernel_schedstat(int pid, int tid, double *oncpu,
                             double *run_delay) {
  char path[96], buf[256];
  snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", pid, tid);
  unsigned long long a, b;
  if (read_file(path, buf, sizeof(buf)) < 0 ||
      sscanf(buf, "%llu %llu", &a, &b) != 2)
    return false;
  *oncpu = (double) a;
  *run_delay = (double) b;
  return true;
}

START_TEST(thread_list_matches_kernel) {
  tl_proc p;
  start(&p, "pool", "3");
  tj *j = tl_fresh_stats(p.admin_port);
  /* The kernel's list, read right after the snapshot; the server is idle
   * so no thread comes or goes in between. */
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/task", p.pid);
  DIR *d = opendir(path);
  ck_assert_ptr_nonnull(d);
  int kernel[256], nk = 0;
  struct dirent *de;
  while ((de = readdir(d)))
    if (de->d_name[0] != '.')
      kernel[nk++] = atoi(de->d_name);
  closedir(d);
  const tj *threads = tj_get(j, "threads");
  ck_assert_ptr_nonnull(threads);
  ck_assert_int_eq((int) threads->n, nk);
  int roles[5] = {0};
  for (size_t i = 0; i < threads->n; i++) {
    const tj *t = &threads->kids[i];
    int tid = (int) tj_num(t, "tid", -1);
    int found = 0;
    for (int k = 0; k < nk; k++)
      found |= kernel[k] == tid;
    ck_assert_msg(found, "tid %d is not in /proc/%d/task", tid, p.pid);
    const char *role = tj_str(t, "role");
    ck_assert_ptr_nonnull(role);
    if (!strcmp(role, "loop"))
      roles[0]++;
    else if (!strcmp(role, "worker"))
      roles[1]++;
    else if (!strcmp(role, "observer"))
      roles[2]++;
    else if (!strcmp(role, "libuv"))
      roles[3]++;
    else
      roles[4]++;
  }
  ck_assert_int_eq(roles[0], 1);
  ck_assert_int_eq(roles[1], 3);
  ck_assert_int_eq(roles[2], 1);
  ck_assert_int_ge(roles[3], 1);
  ck_assert_int_eq(tj_num(j, "process.pid", 0), p.pid);
  ck_assert_int_eq(tj_num(j, "process.threads", 0), nk);
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

START_TEST(cpu_and_switches_agree_with_kernel) {
  tl_proc p;
  start(&p, "pool", "2");
  tl_resp r;
  for (int i = 0; i < 4; i++) {
    ck_assert_int_eq(tl_get(p.port, "/cpu?ms=100", &r), 200);
    tl_resp_free(&r);
  }
  usleep(300000);
  tj *j = tl_fresh_stats(p.admin_port);
  const tj *threads = tj_get(j, "threads");
  double busiest = 0, kernel_delay = 0;
  for (size_t i = 0; i < threads->n; i++) {
    const tj *t = &threads->kids[i];
    int tid = (int) tj_num(t, "tid", -1);
    double ours = tj_num(t, "cpu_user_s", -1) + tj_num(t, "cpu_sys_s", -1);
    double kern = kernel_cpu_s(p.pid, tid);
    double tol = kern * 0.10 > 0.02 ? kern * 0.10 : 0.02;
    ck_assert_msg(ours >= 0 && (ours - kern) <= tol && (kern - ours) <= tol,
                  "tid %d: /stats says %.3f s CPU, kernel %.3f s", tid, ours,
                  kern);
    /* Time on a core: the kernel's schedstat, read right after the
     * snapshot (it can only have grown since, a little: the threads are
     * idle but the observer's, which just answered us). */
    double oncpu = tj_num(t, "oncpu_s", -1), k_on, k_delay;
    ck_assert(kernel_schedstat(p.pid, tid, &k_on, &k_delay));
    k_on /= 1e9;
    ck_assert_msg(oncpu >= 0 && oncpu <= k_on + 0.001 &&
                      k_on - oncpu <= 0.02 + 0.1 * k_on,
                  "tid %d: /stats on a core %.4f s, schedstat %.4f s", tid,
                  oncpu, k_on);
    kernel_delay += k_delay;
    if (ours > busiest)
      busiest = ours;
  }
  ck_assert_msg(busiest >= 0.08,
                "no thread shows the 400 ms of CPU work (max %.3f)", busiest);
  /* Context switches as the kernel counts them: the process figure covers
   * every thread (getrusage), /proc/PID/status only the main (loop) thread,
   * /proc/PID/task/TID/status each thread. Read after the snapshot, so the
   * kernel's numbers can only be a little higher. */
  char path[96], buf[8192];
  snprintf(path, sizeof(path), "/proc/%d/status", p.pid);
  ck_assert_int_gt(read_file(path, buf, sizeof(buf)), 0);
  double leader = atof(strstr(buf, "\nvoluntary_ctxt_switches:") + 25);
  double kernel_sum = 0, ours_sum = 0, ours_loop = -1;
  for (size_t i = 0; i < threads->n; i++) {
    const tj *t = &threads->kids[i];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/status", p.pid,
             (int) tj_num(t, "tid", 0));
    ck_assert_int_gt(read_file(path, buf, sizeof(buf)), 0);
    kernel_sum += atof(strstr(buf, "\nvoluntary_ctxt_switches:") + 25);
    ours_sum += tj_num(t, "ctx_voluntary", 0);
    if (!strcmp(tj_str(t, "role"), "loop"))
      ours_loop = tj_num(t, "ctx_voluntary", 0);
  }
  double ours = tj_num(j, "process.ctx_voluntary", -1);
  ck_assert_msg(ours_loop <= leader && leader - ours_loop <= 50 + 0.1 * leader,
                "loop thread switches: /stats %.0f, /proc/PID/status %.0f",
                ours_loop, leader);
  ck_assert_msg(
      ours_sum <= kernel_sum && kernel_sum - ours_sum <= 50 + 0.1 * kernel_sum,
      "per-thread switches: /stats %.0f, kernel %.0f", ours_sum, kernel_sum);
  ck_assert_msg(ours <= kernel_sum + 5 &&
                    kernel_sum - ours <= 50 + 0.1 * kernel_sum,
                "process switches: /stats %.0f, kernel threads sum %.0f", ours,
                kernel_sum);
  /* Run-queue wait is a number exactly when the kernel accounts it: as
   * the test reads it, some thread of a process that started threads and
   * woke them has waited a little (run_delay > 0); a kernel that does not
   * account it shows 0 everywhere. Otherwise the snapshot says why. */
  const char *src = tj_str(j, "kernel.runq_source");
  ck_assert(tj_get(j, "kernel.runq_self_test.run_delay_ms") != NULL);
  ck_assert_msg((src != NULL) == (kernel_delay > 0),
                "the kernel's run_delay sums to %.0f ns, /stats runq_source %s",
                kernel_delay, src ? src : "null");
  if (src) {
    ck_assert_str_eq(src, "schedstat");
    ck_assert(!tj_is_null(j, "threads.0.runq_wait_s"));
    ck_assert(tj_is_null(j, "kernel.runq_unavailable"));
  } else {
    ck_assert(tj_is_null(j, "threads.0.runq_wait_s"));
    ck_assert_ptr_nonnull(tj_str(j, "kernel.runq_unavailable"));
  }
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

START_TEST(request_counters_match_requests_sent) {
  tl_proc p;
  start(&p, "hybrid", "2");
  double t0 = tl_now_s();
  int fd = tl_connect(p.port);
  for (int i = 0; i < 30; i++)
    tl_send_str(fd, "GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n");
  for (int i = 0; i < 10; i++)
    tl_send_str(fd, "GET /json HTTP/1.1\r\nHost: t\r\n\r\n");
  for (int i = 0; i < 5; i++)
    tl_send_str(fd, "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n");
  for (int i = 0; i < 45; i++) {
    tl_resp r;
    ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
    tl_resp_free(&r);
  }
  double sent_ms = (tl_now_s() - t0) * 1000;
  close(fd);
  usleep(200000);
  tj *j = tl_fresh_stats(p.admin_port);
  ck_assert_int_eq(tj_num(j, "server.requests.total", -1), 45);
  ck_assert_int_eq(tj_num(j, "server.requests.by_route./plaintext.total", -1),
                   30);
  ck_assert_int_eq(tj_num(j, "server.requests.by_route./json.total", -1), 10);
  ck_assert_int_eq(tj_num(j, "server.requests.by_status.2xx", -1), 40);
  ck_assert_int_eq(tj_num(j, "server.requests.by_status.4xx", -1), 5);
  ck_assert_int_eq(tj_num(j, "server.latency_ms.since_start.count", -1), 45);
  /* Every request took some time, none longer than all of them did. */
  double p99 = tj_num(j, "server.latency_ms.since_start.p99", -1);
  ck_assert_msg(p99 > 0 && p99 <= sent_ms,
                "p99 %.3f ms of requests answered within %.1f ms", p99,
                sent_ms);
  ck_assert_int_eq(tj_num(j, "server.connections.accepted", -1), 1);
  ck_assert_str_eq(tj_str(j, "server.mode"), "hybrid");
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* Each server counter's rate is its change over the period the snapshot
 * covers: compared across two consecutive snapshots with requests (on a
 * new connection) made between them. */
static void expect_rate(const tj *prev, const tj *j, const char *total,
                        const char *rate, double period_ms) {
  double d = tj_num(j, total, -1) - tj_num(prev, total, -1);
  double want = d * 1000.0 / period_ms, got = tj_num(j, rate, -1);
  ck_assert_msg(fabs(got - want) <= 0.01 * want + 0.01,
                "%s: %.3f over %.3f ms, got %s %.3f", total, d, period_ms, rate,
                got);
}

START_TEST(server_rates_follow_the_counters) {
  tl_proc p;
  start(&p, "pool", "2");
  int seen = 0;
  for (int attempt = 0; attempt < 20 && seen < 3; attempt++) {
    tj *prev = tl_fresh_stats(p.admin_port);
    int fd = tl_connect(p.port);
    for (int i = 0; i < 20; i++)
      tl_send_str(fd, "GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n");
    for (int i = 0; i < 20; i++) {
      tl_resp r;
      ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
      tl_resp_free(&r);
    }
    close(fd);
    tj *j = tl_stats_after(p.admin_port, tj_num(prev, "seq", 0));
    /* Only two snapshots in a row tell a period's rate. */
    if (tj_num(j, "seq", 0) == tj_num(prev, "seq", 0) + 1 &&
        tj_num(j, "server.requests.total", 0) >
            tj_num(prev, "server.requests.total", 0)) {
      double period_ms = tj_num(j, "period_ms", -1);
      ck_assert(period_ms > 0);
      expect_rate(prev, j, "server.requests.total", "server.requests.rate",
                  period_ms);
      expect_rate(prev, j, "server.requests.by_route./plaintext.total",
                  "server.requests.by_route./plaintext.rate", period_ms);
      expect_rate(prev, j, "server.connections.accepted",
                  "server.connections.accepted_rate", period_ms);
      expect_rate(prev, j, "server.sends.submissions",
                  "server.sends.submissions_rate", period_ms);
      expect_rate(prev, j, "server.sends.writes", "server.sends.writes_rate",
                  period_ms);
      ck_assert(tj_num(j, "server.requests.rate", 0) > 0);
      seen++;
    }
    tj_release(prev);
    tj_release(j);
  }
  ck_assert_msg(seen > 0, "no two consecutive snapshots around the requests");
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

START_TEST(stream_delivers_parseable_events) {
  tl_proc p;
  start(&p, "pool", "2");
  int fd = tl_connect(p.admin_port);
  tl_send_str(fd, "GET /stats/stream HTTP/1.1\r\nHost: localhost\r\n\r\n");
  char *buf = malloc(1 << 22);
  size_t len = 0;
  int events = 0;
  double deadline = tl_now_s() + 10;
  double last_id = -1;
  while (events < 3 && tl_now_s() < deadline) {
    ssize_t n = recv(fd, buf + len, (1 << 22) - 1 - len, 0);
    ck_assert_int_gt(n, 0);
    len += (size_t) n;
    buf[len] = '\0';
    char *hdr_end = strstr(buf, "\r\n\r\n");
    if (!hdr_end)
      continue;
    ck_assert(strstr(buf, "Content-Type: text/event-stream") != NULL);
    if (events == 0 && strstr(hdr_end, "id: "))
      ck_assert(strstr(hdr_end, "retry: ") != NULL &&
                strstr(hdr_end, "retry: ") < strstr(hdr_end, "id: "));
    /* Parse every complete event: "id: N\ndata: JSON\n\n". */
    char *ev;
    while ((ev = strstr(hdr_end + 4, "id: ")) && strstr(ev, "\n\n")) {
      char *end = strstr(ev, "\n\n");
      double id = atof(ev + 4);
      ck_assert(id > last_id);
      last_id = id;
      char *data = strstr(ev, "\ndata: ");
      ck_assert(data && data < end);
      data += 7;
      tj *j = tj_parse(data, (size_t) (end - data));
      ck_assert_msg(j != NULL, "event %d is not JSON", events);
      ck_assert_int_eq(tj_num(j, "seq", -1), id);
      ck_assert_ptr_nonnull(tj_get(j, "threads.0.tid"));
      tj_release(j);
      events++;
      memmove(hdr_end + 4, end + 2, strlen(end + 2) + 1);
      len = strlen(buf);
    }
  }
  ck_assert_int_ge(events, 3);
  free(buf);
  close(fd);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

START_TEST(metrics_follow_exposition_format) {
  tl_proc p;
  start(&p, "pool", "2");
  tl_resp r;
  ck_assert_int_eq(tl_get(p.port, "/cpu?ms=5", &r), 200);
  tl_resp_free(&r);
  usleep(300000);
  ck_assert_int_eq(tl_get(p.admin_port, "/metrics", &r), 200);
  char ct[128];
  ck_assert(tl_resp_find_header(&r, "Content-Type", ct, sizeof(ct)));
  ck_assert(strstr(ct, "text/plain; version=0.0.4") != NULL);
  regex_t help, type, sample;
  ck_assert_int_eq(regcomp(&help, "^# HELP threadlab_[a-zA-Z0-9_:]+ .+$",
                           REG_EXTENDED | REG_NOSUB),
                   0);
  ck_assert_int_eq(regcomp(&type,
                           "^# TYPE (threadlab_[a-zA-Z0-9_:]+) "
                           "(counter|gauge|histogram|summary|untyped)$",
                           REG_EXTENDED),
                   0);
  ck_assert_int_eq(
      regcomp(&sample,
              "^threadlab_[a-zA-Z0-9_:]+(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]"
              "|\\\\.)*\""
              "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\")*\\})? "
              "(-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?|NaN|\\+Inf|-Inf)$",
              REG_EXTENDED | REG_NOSUB),
      0);
  ck_assert(strstr(r.body, "threadlab_request_duration_seconds_count 1\n") !=
            NULL);
  ck_assert(strstr(r.body, "threadlab_thread_cpu_seconds_total{tid=\"") !=
            NULL);
  ck_assert(strstr(r.body, ",role=\"worker\",mode=\"system\"} ") != NULL);
  int lines = 0, counters = 0;
  char *save = NULL;
  double last_bucket = -1;
  for (char *line = strtok_r(r.body, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    lines++;
    regmatch_t m[3];
    if (line[0] == '#') {
      ck_assert_msg(regexec(&help, line, 0, NULL, 0) == 0 ||
                        regexec(&type, line, 3, m, 0) == 0,
                    "bad comment line: %s", line);
      if (regexec(&type, line, 3, m, 0) == 0 &&
          strncmp(line + m[2].rm_so, "counter", 7) == 0) {
        counters++;
        ck_assert_msg(strncmp(line + m[1].rm_eo - 6, "_total", 6) == 0,
                      "counter without _total: %s", line);
      }
      continue;
    }
    ck_assert_msg(regexec(&sample, line, 0, NULL, 0) == 0,
                  "bad sample line: %s", line);
    /* Cumulative buckets never decrease within one series. */
    if (strstr(line, "threadlab_request_duration_seconds_bucket{")) {
      double v = atof(strrchr(line, ' ') + 1);
      ck_assert(v >= last_bucket);
      last_bucket = v;
    }
  }
  ck_assert_int_gt(lines, 50);
  ck_assert_int_gt(counters, 5);
  regfree(&help);
  regfree(&type);
  regfree(&sample);
  tl_resp_free(&r);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

static tl_resp control(int port, const char *query, int keep_fd) {
  char req[256];
  snprintf(
      req, sizeof(req),
      "POST /control?%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Threadlab: 1\r\n"
      "Content-Length: 0\r\n\r\n",
      query, port);
  tl_resp r;
  if (keep_fd >= 0) {
    tl_send_str(keep_fd, req);
    ck_assert_int_eq(tl_read_resp(keep_fd, &r, false), 0);
  } else {
    ck_assert_int_eq(tl_roundtrip(port, req, &r), 0);
  }
  return r;
}

START_TEST(control_switches_mode_under_live_connection) {
  tl_proc p;
  start(&p, "pool", "2");
  int fd = tl_connect(p.port);
  tl_resp r;
  char th[128];
  tl_send_str(fd, "GET /cpu?ms=1 HTTP/1.1\r\nHost: t\r\n\r\n");
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert(tl_resp_find_header(&r, "X-Thread", th, sizeof(th)));
  ck_assert(strncmp(th, "worker-", 7) == 0);
  tl_resp_free(&r);
  /* A task in flight across the switch still completes. */
  int slow = tl_connect(p.port);
  tl_send_str(slow, "GET /io?ms=300 HTTP/1.1\r\nHost: t\r\n\r\n");
  usleep(50000);
  r = control(p.admin_port, "mode=async&threads=3&pin=1", -1);
  ck_assert_int_eq(r.status, 200);
  tj *j = tj_parse(r.body, r.body_len);
  ck_assert_ptr_nonnull(j);
  ck_assert_str_eq(tj_str(j, "mode"), "async");
  ck_assert_int_eq(tj_num(j, "threads", 0), 3);
  tj_release(j);
  tl_resp_free(&r);
  /* Same keep-alive connection, now served in async mode. */
  tl_send_str(fd, "GET /cpu?ms=1 HTTP/1.1\r\nHost: t\r\n\r\n");
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert(tl_resp_find_header(&r, "X-Thread", th, sizeof(th)));
  ck_assert_str_eq(th, "loop");
  tl_resp_free(&r);
  ck_assert_int_eq(tl_read_resp(slow, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert(strstr(r.body, "\"mode\":\"pool\"") != NULL); /* admitted before */
  tl_resp_free(&r);
  close(slow);
  j = tl_fresh_stats(p.admin_port);
  ck_assert_str_eq(tj_str(j, "server.mode"), "async");
  ck_assert_int_eq(tj_num(j, "server.threads", 0), 3);
  ck_assert(tj_get(j, "server.pinned")->b);
  int workers = 0;
  const tj *threads = tj_get(j, "threads");
  for (size_t i = 0; i < threads->n; i++)
    if (!strcmp(tj_str(&threads->kids[i], "role"), "worker")) {
      workers++;
      ck_assert_msg(
          strchr(tj_str(&threads->kids[i], "allowed"), '-') == NULL &&
              strchr(tj_str(&threads->kids[i], "allowed"), ',') == NULL,
          "pinned worker allowed on %s", tj_str(&threads->kids[i], "allowed"));
    }
  ck_assert_int_eq(workers, 3);
  tj_release(j);
  /* Bad values are refused and change nothing. */
  const char *bad[] = {"mode=turbo", "threads=0",  "threads=99999",
                       "pin=2",      "colour=red", ""};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    r = control(p.admin_port, bad[i], -1);
    ck_assert_msg(r.status == 400, "control?%s answered %d", bad[i], r.status);
    ck_assert(strstr(r.body, "\"error\"") != NULL);
    tl_resp_free(&r);
  }
  ck_assert_int_eq(
      tl_roundtrip(p.admin_port, "GET /control?mode=pool HTTP/1.0\r\n\r\n", &r),
      0);
  ck_assert_int_eq(r.status, 405);
  tl_resp_free(&r);
  close(fd);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

START_TEST(observer_answers_while_loop_is_blocked) {
  tl_proc p;
  start(&p, "async", "2");
  int busy = tl_connect(p.port);
  /* 2 s of CPU time takes far longer on a crowded core: wait a minute for
   * its answer, not tl_connect's 15 s. */
  struct timeval tv = {.tv_sec = 60};
  setsockopt(busy, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  tl_send_str(busy, "GET /cpu?ms=2000 HTTP/1.1\r\nHost: t\r\n\r\n");
  usleep(300000);
  double worst = 0;
  for (int i = 0; i < 3; i++) {
    double t0 = tl_now_s();
    tl_resp r;
    ck_assert_int_eq(tl_get(p.admin_port, "/stats", &r), 200);
    double dt = tl_now_s() - t0;
    if (dt > worst)
      worst = dt;
    tl_resp_free(&r);
  }
  /* Blocked behind the loop it would take the rest of the 2 s step. */
  ck_assert_msg(worst < 1.0, "/stats took %.3f s while the loop was blocked",
                worst);
  tl_resp r;
  ck_assert_int_eq(tl_read_resp(busy, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_msg(strstr(r.body, "\"thread\":\"loop\"") != NULL,
                "cpu step not on the loop: %s", r.body);
  tl_resp_free(&r);
  close(busy);
  /* The block shows up as loop lag and as an insight. */
  usleep(250000);
  tj *j = tl_fresh_stats(p.admin_port);
  double lag = tj_num(j, "server.loop.lag_ms.since_start.max", 0);
  ck_assert_msg(lag >= 1000, "loop lag max %.1f ms after a 2 s CPU step", lag);
  const tj *ins = tj_get(j, "insights");
  bool blocked = false;
  for (size_t i = 0; ins && i < ins->n; i++)
    if (!strcmp(tj_str(&ins->kids[i], "id"), "loop_blocked")) {
      blocked = true;
      ck_assert(strstr(tj_str(&ins->kids[i], "text"), "/cpu") != NULL);
      ck_assert(tj_num(&ins->kids[i], "evidence.blocked_ms", 0) >= 1900);
    }
  ck_assert_msg(blocked,
                "no loop_blocked insight after a 2 s CPU step on the loop");
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* Whether this build and this kernel can batch sends, asked of the kernel
 * directly (the flag the server needs at the least). */
static bool uring_expected(void) {
#ifdef HAVE_LIBURING
  struct io_uring_params prm;
  memset(&prm, 0, sizeof(prm));
  prm.flags = IORING_SETUP_SUBMIT_ALL;
  long fd = syscall(__NR_io_uring_setup, 4, &prm);
  if (fd < 0)
    return false;
  close((int) fd);
  return true;
#else
  return false;
#endif
}

/* n sequential keep-alive requests: each response is its own write. */
static void sequential_requests(int port, int n) {
  int fd = tl_connect(port);
  for (int i = 0; i < n; i++) {
    tl_send_str(fd, "GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n");
    tl_resp r;
    double t0 = tl_now_s();
    ck_assert_msg(tl_read_resp(fd, &r, false) == 0,
                  "request %d of %d: no response (after %.1f s)", i + 1, n,
                  tl_now_s() - t0);
    ck_assert_int_eq(r.status, 200);
    tl_resp_free(&r);
  }
  tl_close(fd);
}

START_TEST(sends_report_their_path_and_batches) {
  const char *extra = getenv("THREADLAB_TEST_ARGS");
  bool forced_off = extra && strstr(extra, "--no-uring");
  bool want = uring_expected() && !forced_off;
  const char *args[] = {"--mode", "async", "--sample-ms", "100", NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  sequential_requests(p.port, 40);
  tj *j = tl_fresh_stats(p.admin_port);
  double req = tj_num(j, "server.requests.total", -1);
  double subs = tj_num(j, "server.sends.submissions", -1);
  double writes = tj_num(j, "server.sends.writes", -1);
  ck_assert_int_eq(req, 40);
  ck_assert_msg(tj_get(j, "server.sends.io_uring")->b == want,
                "sends.io_uring is %d, expected %d (why_not: %s)",
                tj_get(j, "server.sends.io_uring")->b, want,
                tj_is_null(j, "server.sends.why_not")
                    ? "null"
                    : tj_str(j, "server.sends.why_not"));
  if (want) {
    /* Sequential requests: one response per write, each write in a
     * submission (a submission may carry several connections' writes). */
    ck_assert(tj_is_null(j, "server.sends.why_not"));
    ck_assert_int_eq(writes, 40);
    ck_assert(subs >= 1 && subs <= writes);
  } else {
    ck_assert(strlen(tj_str(j, "server.sends.why_not")) > 0);
    if (forced_off)
      ck_assert_str_eq(tj_str(j, "server.sends.why_not"), "--no-uring");
    ck_assert_int_eq(subs, 0);
    ck_assert_int_eq(writes, 0);
  }
  tj_release(j);
  tl_resp r;
  ck_assert_int_eq(tl_get(p.admin_port, "/metrics", &r), 200);
  ck_assert(strstr(r.body, "threadlab_send_writes_total ") != NULL);
  tl_resp_free(&r);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

START_TEST(no_stats_reports_nothing_invented) {
  const char *args[] = {"--no-stats", "--sample-ms", "100", NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  tj *j = tl_fresh_stats(p.admin_port);
  ck_assert(!tj_get(j, "stats_enabled")->b);
  ck_assert_int_eq((int) tj_get(j, "threads")->n, 0);
  tj_release(j);
  tl_resp r;
  ck_assert_int_eq(tl_get(p.admin_port, "/healthz", &r), 200);
  tl_resp_free(&r);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* ---- run-queue wait, the period breakdown, pinning within the mask ---- */

/* The calling process's mask narrowed to its first core (like taskset -c
 * 0); returns the old mask. A server started now inherits it. */
static cpu_set_t narrow_to_first_core(int *core) {
  cpu_set_t mine, one;
  ck_assert_int_eq(sched_getaffinity(0, sizeof(mine), &mine), 0);
  *core = -1;
  for (int c = 0; c < CPU_SETSIZE && *core < 0; c++)
    if (CPU_ISSET(c, &mine))
      *core = c;
  CPU_ZERO(&one);
  CPU_SET(*core, &one);
  ck_assert_int_eq(sched_setaffinity(0, sizeof(one), &one), 0);
  return mine;
}

/* Keep-alive connections each carrying `per_conn` pipelined /cpu?ms=MS
 * requests: a bounded CPU load that ends by itself. */
typedef struct cpu_load {
  int fds[16];
  int conns, per_conn;
} cpu_load;

static void cpu_load_start(cpu_load *l, int port, int conns, int per_conn,
                           int ms) {
  char req[128];
  snprintf(req, sizeof(req), "GET /cpu?ms=%d HTTP/1.1\r\nHost: t\r\n\r\n", ms);
  l->conns = conns;
  l->per_conn = per_conn;
  for (int c = 0; c < conns; c++) {
    l->fds[c] = tl_connect(port);
    for (int i = 0; i < per_conn; i++)
      tl_send_str(l->fds[c], req);
  }
}

static void cpu_load_finish(cpu_load *l) {
  for (int c = 0; c < l->conns; c++) {
    for (int i = 0; i < l->per_conn; i++) {
      tl_resp r;
      ck_assert_int_eq(tl_read_resp(l->fds[c], &r, false), 0);
      ck_assert_int_eq(r.status, 200);
      tl_resp_free(&r);
    }
    tl_close(l->fds[c]);
  }
}

static bool has_insight(const tj *j, const char *id) {
  const tj *ins = tj_get(j, "insights");
  for (size_t i = 0; ins && i < ins->n; i++) {
    const char *s = tj_str(&ins->kids[i], "id");
    if (s && !strcmp(s, id))
      return true;
  }
  return false;
}

/* The workers' tids (role worker) of a snapshot, at most cap. */
static int worker_tids(const tj *j, int *tids, int cap) {
  const tj *threads = tj_get(j, "threads");
  int n = 0;
  for (size_t i = 0; threads && i < threads->n && n < cap; i++)
    if (!strcmp(tj_str(&threads->kids[i], "role"), "worker"))
      tids[n++] = (int) tj_num(&threads->kids[i], "tid", 0);
  return n;
}

/* Each worker's run_delay (s) as the kernel's schedstat says now; its
 * time on a core (s) in on, if not NULL. */
static void kernel_delays_on(int pid, const int *tids, int n, double *out,
                             double *on_out) {
  for (int w = 0; w < n; w++) {
    double on, delay;
    ck_assert_msg(kernel_schedstat(pid, tids[w], &on, &delay),
                  "no /proc/%d/task/%d/schedstat", pid, tids[w]);
    out[w] = delay / 1e9;
    if (on_out)
      on_out[w] = on / 1e9;
  }
}

static void kernel_delays(int pid, const int *tids, int n, double *out) {
  kernel_delays_on(pid, tids, n, out, NULL);
}

/* A number of thread tid in snapshot j (-1: no such thread, -2: null). */
static double snap_field(const tj *j, int tid, const char *field) {
  const tj *threads = tj_get(j, "threads");
  for (size_t i = 0; threads && i < threads->n; i++) {
    const tj *t = &threads->kids[i];
    if ((int) tj_num(t, "tid", 0) == tid)
      return tj_is_null(t, field) ? -2 : tj_num(t, field, -1);
  }
  return -1;
}

static double snap_runq(const tj *j, int tid) {
  return snap_field(j, tid, "runq_wait_s");
}

/* A fresh snapshot bracketed by two reads of the kernel's schedstat of
 * each worker (run_delay, time on a core): taken between them. The
 * sequence number is read after the first kernel read, and the snapshot
 * waited for is the second after it: the next one's pass may have begun
 * before that read (its figures then older than "before"), the one after
 * it began once the next was published, after the read. */
static tj *bracketed(tl_proc *p, const int *tids, int n, double *before,
                     double *after, double *on_before, double *on_after) {
  kernel_delays_on(p->pid, tids, n, before, on_before);
  tj *j = tl_get_stats(p->admin_port);
  double seq = tj_num(j, "seq", 0);
  tj_release(j);
  j = tl_stats_after(p->admin_port, seq + 1);
  kernel_delays_on(p->pid, tids, n, after, on_after);
  return j;
}

/* More workers than cores on one core, with whatever kernel.task_delayacct
 * says (0 here): run-queue wait is a number wherever the kernel accounts
 * it, and then it is the kernel's own figure: each worker's wait in a
 * snapshot lies between the kernel's run_delay read just before and just
 * after it, and the wait over the window between two snapshots between
 * the kernel's over the windows that hold it and that it holds. The
 * kernel's word is read independently: workers taking turns on one core
 * either show a run_delay in /proc or the kernel does not account it. */
START_TEST(runq_wait_runs_with_the_kernel) {
  int core;
  cpu_set_t all = narrow_to_first_core(&core);
  tl_proc p;
  const char *args[] = {"--mode",      "pool", "--threads", "4",
                        "--sample-ms", "200",  NULL};
  tl_proc_start(&p, args);
  ck_assert_int_eq(sched_setaffinity(0, sizeof(all), &all), 0);
  tj *j = tl_fresh_stats(p.admin_port);
  int tids[4];
  ck_assert_int_eq(worker_tids(j, tids, 4), 4);
  tj_release(j);
  double k0[4], k1[4], k2[4], k3[4];
  kernel_delays(p.pid, tids, 4, k0);
  cpu_load l;
  cpu_load_start(&l, p.port, 8, 16, 20); /* 2.6 s of CPU for one core */
  usleep(500000);
  /* Two snapshots while the 4 workers take turns: a before b. */
  double on0[4], on1[4], on2[4], on3[4];
  tj *a = bracketed(&p, tids, 4, k0, k1, on0, on1);
  usleep(300000);
  tj *b = bracketed(&p, tids, 4, k2, k3, on2, on3);
  /* Time on a core, the same way (busy threads: read afresh each time). */
  for (int w = 0; w < 4; w++) {
    double oa = snap_field(a, tids[w], "oncpu_s"),
           ob = snap_field(b, tids[w], "oncpu_s");
    ck_assert_msg(
        oa >= on0[w] - 0.002 && oa <= on1[w] + 0.002 && ob >= on2[w] - 0.002 &&
            ob <= on3[w] + 0.002,
        "worker %d: /stats on a core %.4f and %.4f s, the kernel's %.4f..%.4f "
        "and %.4f..%.4f s",
        tids[w], oa, ob, on0[w], on1[w], on2[w], on3[w]);
  }
  const double eps = 0.002; /* /stats rounds, the kernel counts ns */
  double kernel_grew = 0;
  for (int w = 0; w < 4; w++)
    kernel_grew += k3[w] - k0[w];
  bool accounted = kernel_grew > 0;
  ck_assert_msg(accounted == (tj_str(b, "kernel.runq_source") != NULL),
                "4 workers on one core: the kernel's run_delay grew %.3f s, "
                "/stats runq_source %s",
                kernel_grew,
                tj_str(b, "kernel.runq_source")
                    ? tj_str(b, "kernel.runq_source")
                    : "null");
  for (int w = 0; accounted && w < 4; w++) {
    double sa = snap_runq(a, tids[w]), sb = snap_runq(b, tids[w]);
    ck_assert_msg(
        sa >= k0[w] - eps && sa <= k1[w] + eps,
        "worker %d: /stats run-queue wait %.4f s, the kernel's %.4f s "
        "just before and %.4f s just after",
        tids[w], sa, k0[w], k1[w]);
    ck_assert_msg(
        sb >= k2[w] - eps && sb <= k3[w] + eps,
        "worker %d: /stats run-queue wait %.4f s, the kernel's %.4f s "
        "just before and %.4f s just after",
        tids[w], sb, k2[w], k3[w]);
    double ours = sb - sa, lo = k2[w] - k1[w], hi = k3[w] - k0[w];
    ck_assert_msg(ours >= lo - 2 * eps && ours <= hi + 2 * eps,
                  "worker %d: waited %.4f s between the snapshots by /stats, "
                  "the kernel's %.4f..%.4f s",
                  tids[w], ours, lo, hi);
  }
  /* Every thread's period adds up: on a core + waiting + the rest. The
   * kernel credits a wait to run_delay when it ends, so a period can be
   * credited a wait that began periods before (841% of a 400 ms period
   * was seen here under load): waiting is not bounded by 100, time on a
   * core (credited as it runs) is, and the rest is what remains. */
  const tj *threads = tj_get(b, "threads");
  for (size_t i = 0; i < threads->n; i++) {
    const tj *t = &threads->kids[i];
    ck_assert(tj_is_null(t, "runq_pct") == !accounted ||
              tj_is_null(t, "on_cpu_pct"));
    if (tj_is_null(t, "on_cpu_pct") || tj_is_null(t, "runq_pct"))
      continue;
    double on = tj_num(t, "on_cpu_pct", -1), rq = tj_num(t, "runq_pct", -1),
           sl = tj_num(t, "sleep_pct", -1);
    double rest = 100 - on - rq;
    ck_assert_msg(on >= 0 && on <= 110 && rq >= 0 &&
                      fabs(sl - (rest > 0 ? rest : 0)) <= 0.5,
                  "%s: on a core %.1f + waiting %.1f + sleeping %.1f != 100",
                  tj_str(t, "name"), on, rq, sl);
  }
  if (accounted)
    ck_assert_msg(has_insight(b, "oversubscribed"),
                  "4 busy workers on 1 core and no oversubscription insight");
  ck_assert_int_eq((int) tj_num(b, "process.cpus_allowed_count", 0), 1);
  tj_release(a);
  tj_release(b);
  cpu_load_finish(&l);
  /* Idle now, so nothing moves between the snapshot and the kernel read:
   * the figures are the kernel's to within rounding. */
  j = tl_get_stats(p.admin_port);
  double seq = tj_num(j, "seq", 0);
  tj_release(j);
  j = tl_stats_after(p.admin_port, seq + 1);
  kernel_delays(p.pid, tids, 4, k1);
  for (int w = 0; w < 4; w++) {
    double ours = snap_runq(j, tids[w]);
    if (!accounted) {
      ck_assert_msg(ours == -2 && k1[w] == 0,
                    "worker %d: the kernel shows run_delay "
                    "%.4f s, /stats %.4f (-2: null)",
                    tids[w], k1[w], ours);
      continue;
    }
    ck_assert_msg(fabs(ours - k1[w]) <= 0.01 * k1[w] + eps,
                  "worker %d: /stats run-queue wait %.4f s, schedstat %.4f s",
                  tids[w], ours, k1[w]);
  }
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* Cpus_allowed_list of every tl-worker-* thread of pid, by worker index;
 * returns how many were found. */
static int worker_masks(int pid, char lists[][64], int cap) {
  char path[320], buf[4096];
  snprintf(path, sizeof(path), "/proc/%d/task", pid);
  DIR *d = opendir(path);
  if (!d)
    return 0;
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (de->d_name[0] == '.')
      continue;
    snprintf(path, sizeof(path), "/proc/%d/task/%s/status", pid, de->d_name);
    if (read_file(path, buf, sizeof(buf)) < 0)
      continue;
    const char *name = strstr(buf, "Name:\ttl-worker-");
    const char *cal = strstr(buf, "Cpus_allowed_list:\t");
    if (!name || !cal)
      continue;
    int idx = atoi(name + strlen("Name:\ttl-worker-"));
    if (idx < 0 || idx >= cap)
      continue;
    sscanf(cal + strlen("Cpus_allowed_list:\t"), "%63s", lists[idx]);
    n++;
  }
  closedir(d);
  return n;
}

/* Waits until every one of nw workers sits where want(i) says. */
static void expect_worker_masks(int pid, int nw, const int *want) {
  char lists[8][64], exp[8][16];
  for (int i = 0; i < nw; i++)
    snprintf(exp[i], sizeof(exp[i]), "%d", want[i]);
  double deadline = tl_now_s() + 10;
  int bad = -1;
  do {
    memset(lists, 0, sizeof(lists));
    bad = worker_masks(pid, lists, 8) == nw ? -1 : 0;
    for (int i = 0; i < nw && bad < 0; i++)
      if (strcmp(lists[i], exp[i]))
        bad = i;
    if (bad >= 0)
      usleep(20000);
  } while (bad >= 0 && tl_now_s() < deadline);
  ck_assert_msg(bad < 0, "worker %d: Cpus_allowed_list '%s', want '%s'", bad,
                bad >= 0 ? lists[bad] : "", bad >= 0 ? exp[bad] : "");
}

/* taskset -c FIRST threadlab --threads 4 --pin: every worker on that core,
 * none outside the inherited mask; with the whole mask they take its cores
 * in turn. */
START_TEST(pin_stays_within_inherited_mask) {
  int core;
  cpu_set_t all = narrow_to_first_core(&core);
  tl_proc p;
  const char *args[] = {"--threads", "4", "--pin", "--sample-ms", "100", NULL};
  tl_proc_start(&p, args);
  ck_assert_int_eq(sched_setaffinity(0, sizeof(all), &all), 0);
  int want[4] = {core, core, core, core};
  expect_worker_masks(p.pid, 4, want);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);

  tl_proc_start(&p, args);
  for (int i = 0, k = 0, c = 0; i < 4; i++) {
    /* the (i mod n)-th core of the whole mask */
    int nth = i % CPU_COUNT(&all);
    for (c = 0, k = -1; c < CPU_SETSIZE; c++)
      if (CPU_ISSET(c, &all) && ++k == nth)
        break;
    want[i] = c;
  }
  expect_worker_masks(p.pid, 4, want);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* /control?pin=1 answers after the kernel has the new masks, even for
 * workers busy in a long CPU step (not at their next task): read right
 * after the answer, with no waiting. */
START_TEST(pin_reaches_busy_workers_at_once) {
  cpu_set_t all;
  ck_assert_int_eq(sched_getaffinity(0, sizeof(all), &all), 0);
  if (CPU_COUNT(&all) < 2)
    TL_SKIP("one CPU: pinned and unpinned masks are the same");
  tl_proc p;
  const char *args[] = {"--threads", "2", "--sample-ms", "100", NULL};
  tl_proc_start(&p, args);
  int busy[2];
  for (int i = 0; i < 2; i++) {
    busy[i] = tl_connect(p.port);
    tl_send_str(busy[i], "GET /cpu?ms=4000 HTTP/1.1\r\nHost: t\r\n\r\n");
  }
  usleep(300 * 1000); /* both workers inside their step */
  tl_resp r = control(p.admin_port, "pin=1", -1);
  ck_assert_int_eq(r.status, 200);
  tl_resp_free(&r);
  char lists[8][64];
  memset(lists, 0, sizeof(lists));
  ck_assert_int_eq(worker_masks(p.pid, lists, 8), 2);
  for (int i = 0; i < 2; i++) {
    int c, k;
    for (c = 0, k = -1; c < CPU_SETSIZE; c++)
      if (CPU_ISSET(c, &all) && ++k == i % CPU_COUNT(&all))
        break;
    char want[16];
    snprintf(want, sizeof(want), "%d", c);
    ck_assert_msg(!strcmp(lists[i], want),
                  "busy worker %d on '%s' right after pin=1, want '%s'", i,
                  lists[i], want);
  }
  r = control(p.admin_port, "pin=0", -1);
  ck_assert_int_eq(r.status, 200);
  tl_resp_free(&r);
  memset(lists, 0, sizeof(lists));
  ck_assert_int_eq(worker_masks(p.pid, lists, 8), 2);
  for (int i = 0; i < 2; i++)
    ck_assert_msg(strchr(lists[i], '-') || strchr(lists[i], ','),
                  "busy worker %d still on '%s' right after pin=0", i,
                  lists[i]);
  for (int i = 0; i < 2; i++)
    close(busy[i]);
  ck_assert_int_eq(tl_proc_stop(&p, 15000), 0);
}
END_TEST

/* The histogram families /metrics exposes (README.md names them). */
static const char *const HISTOGRAMS[] = {
    "threadlab_request_duration_seconds",
    "threadlab_route_request_duration_seconds",
    "threadlab_queue_wait_seconds",
    "threadlab_loop_lag_seconds",
};
#define N_HIST (sizeof(HISTOGRAMS) / sizeof(HISTOGRAMS[0]))

/* One series of a histogram family: its labels other than le. */
typedef struct {
  char labels[160];
  int buckets;
  double last_le, last_count, fin_count, inf_count, sum, count;
  bool has_inf, has_sum, has_count;
} hseries;

static hseries *series_for(hseries *ss, int *n, const char *labels) {
  for (int i = 0; i < *n; i++)
    if (!strcmp(ss[i].labels, labels))
      return &ss[i];
  ck_assert_int_lt(*n, 64);
  hseries *h = &ss[(*n)++];
  memset(h, 0, sizeof(*h));
  snprintf(h->labels, sizeof(h->labels), "%s", labels);
  h->last_le = -1;
  return h;
}

/* Every histogram family has, for every series, _bucket lines with le
 * labels in increasing order and cumulative counts, a final le="+Inf"
 * bucket equal to _count, and a _sum; no other family is a histogram. */
START_TEST(metrics_histograms_complete) {
  tl_proc p;
  start(&p, "pool", "2");
  tl_resp r;
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(tl_get(p.port, "/cpu?ms=2", &r), 200);
    tl_resp_free(&r);
    ck_assert_int_eq(tl_get(p.port, "/plaintext", &r), 200);
    tl_resp_free(&r);
  }
  usleep(300000);
  tj_release(tl_fresh_stats(p.admin_port));
  ck_assert_int_eq(tl_get(p.admin_port, "/metrics", &r), 200);
  char *text = strdup(r.body);
  int typed[N_HIST] = {0};
  for (char *line = strtok(r.body, "\n"); line; line = strtok(NULL, "\n")) {
    char name[128], type[32];
    if (sscanf(line, "# TYPE %127s %31s", name, type) == 2 &&
        !strcmp(type, "histogram")) {
      bool known = false;
      for (size_t f = 0; f < N_HIST; f++)
        if (!strcmp(name, HISTOGRAMS[f])) {
          typed[f]++;
          known = true;
        }
      ck_assert_msg(known, "histogram %s is not among the documented ones",
                    name);
    }
  }
  tl_resp_free(&r);
  for (size_t f = 0; f < N_HIST; f++) {
    ck_assert_msg(typed[f] == 1, "%s: %d TYPE lines", HISTOGRAMS[f], typed[f]);
    hseries ss[64];
    int n = 0;
    size_t nl = strlen(HISTOGRAMS[f]);
    char *copy = strdup(text), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
      if (strncmp(line, HISTOGRAMS[f], nl) != 0 || line[0] == '#')
        continue;
      const char *rest = line + nl;
      const char *sfx = rest;
      const char *brace = strchr(rest, '{');
      const char *sp = strrchr(rest, ' ');
      ck_assert_ptr_nonnull(sp);
      double v = atof(sp + 1);
      char labels[160] = "", le[32] = "";
      if (brace && brace < sp) {
        const char *end = strchr(brace, '}');
        ck_assert_ptr_nonnull(end);
        /* Split off le="..." (the last label); the rest names the series. */
        char all[160];
        snprintf(all, sizeof(all), "%.*s", (int) (end - brace - 1), brace + 1);
        char *lep = strstr(all, "le=\"");
        if (lep) {
          snprintf(le, sizeof(le), "%s", lep + 4);
          char *q = strchr(le, '"');
          ck_assert_ptr_nonnull(q);
          *q = '\0';
          if (lep > all)
            lep[-1] = '\0'; /* the comma before le */
          else
            *lep = '\0';
        }
        snprintf(labels, sizeof(labels), "%s", all);
      }
      size_t slen = (size_t) ((brace && brace < sp ? brace : sp) - sfx);
      hseries *h = series_for(ss, &n, labels);
      if (slen == 7 && !strncmp(sfx, "_bucket", 7)) {
        ck_assert_msg(le[0] != '\0', "bucket without le: %s", line);
        ck_assert_msg(!h->has_inf, "bucket after +Inf: %s", line);
        if (!strcmp(le, "+Inf")) {
          h->has_inf = true;
          h->inf_count = v;
        } else {
          double b = atof(le);
          ck_assert_msg(b > h->last_le, "le not increasing: %s", line);
          h->last_le = b;
          h->fin_count = v;
        }
        ck_assert_msg(v >= h->last_count, "bucket count decreases: %s", line);
        h->last_count = v;
        h->buckets++;
      } else if (slen == 4 && !strncmp(sfx, "_sum", 4)) {
        ck_assert_msg(le[0] == '\0', "_sum with le: %s", line);
        h->has_sum = true;
        h->sum = v;
      } else if (slen == 6 && !strncmp(sfx, "_count", 6)) {
        ck_assert_msg(le[0] == '\0', "_count with le: %s", line);
        h->has_count = true;
        h->count = v;
      } else {
        ck_abort_msg("unexpected sample in histogram %s: %s", HISTOGRAMS[f],
                     line);
      }
    }
    free(copy);
    ck_assert_msg(n >= 1, "%s has no series", HISTOGRAMS[f]);
    for (int i = 0; i < n; i++) {
      hseries *h = &ss[i];
      ck_assert_msg(h->buckets >= 2 && h->has_inf && h->has_sum && h->has_count,
                    "%s{%s}: %d buckets, +Inf %d, _sum %d, _count %d",
                    HISTOGRAMS[f], h->labels, h->buckets, h->has_inf,
                    h->has_sum, h->has_count);
      ck_assert_msg(h->inf_count == h->count, "%s{%s}: +Inf %.0f, _count %.0f",
                    HISTOGRAMS[f], h->labels, h->inf_count, h->count);
      /* _sum: nothing when nothing was observed; when every observation
       * fell in a finite bucket, at most _count times its bound; request
       * durations are never 0. */
      ck_assert_msg(h->sum >= 0 && (h->count > 0 || h->sum == 0),
                    "%s{%s}: _sum %g of %.0f", HISTOGRAMS[f], h->labels, h->sum,
                    h->count);
      if (h->inf_count == h->fin_count && h->count > 0)
        ck_assert_msg(h->sum <= h->count * h->last_le * 1.000001,
                      "%s{%s}: _sum %g > %.0f x le %g", HISTOGRAMS[f],
                      h->labels, h->sum, h->count, h->last_le);
      if (f <= 1 && h->count > 0)
        ck_assert_msg(h->sum > 0, "%s{%s}: %.0f requests took 0 s",
                      HISTOGRAMS[f], h->labels, h->count);
    }
    if (f == 0) {
      ck_assert_int_eq(n, 1);
      ck_assert_msg(ss[0].count == 6, "request_duration_seconds_count %.0f",
                    ss[0].count);
    }
    if (f == 1) {
      /* One series per route, each labelled; /cpu and /plaintext counted. */
      bool cpu = false, plain = false;
      for (int i = 0; i < n; i++) {
        ck_assert_msg(strncmp(ss[i].labels, "route=\"", 7) == 0,
                      "route histogram series without route: {%s}",
                      ss[i].labels);
        if (!strcmp(ss[i].labels, "route=\"/cpu\""))
          cpu = ss[i].count == 3;
        if (!strcmp(ss[i].labels, "route=\"/plaintext\""))
          plain = ss[i].count == 3;
      }
      ck_assert_msg(cpu && plain,
                    "per-route counts of /cpu and /plaintext are not 3");
    }
  }
  free(text);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* /control changes the server: only loopback clients may (403 for the
 * others), while they may still read /stats. The non-loopback client is
 * this machine itself, from its own address. */
START_TEST(control_refuses_non_loopback) {
  char src[64];
  if (!tl_own_address(src, sizeof(src)))
    TL_SKIP("this machine has no non-loopback IPv4 address");
  tl_proc p;
  start(&p, "pool", "2");
  int fd = tl_connect_from(src, p.admin_port);
  if (fd < 0) {
    int e = errno;
    ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
    TL_SKIP("cannot connect from %s to 127.0.0.1: %s", src, strerror(e));
  }
  tl_resp r = control(p.admin_port, "mode=async&threads=3", fd);
  ck_assert_msg(r.status == 403, "/control from %s answered %d", src, r.status);
  ck_assert(strstr(r.body, "\"error\"") != NULL);
  tl_resp_free(&r);
  tl_send_str(fd, "GET /stats HTTP/1.1\r\nHost: localhost\r\n\r\n");
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  tj *j = tj_parse(r.body, r.body_len);
  ck_assert_ptr_nonnull(j);
  ck_assert_str_eq(tj_str(j, "server.mode"), "pool");
  ck_assert_int_eq(tj_num(j, "server.threads", 0), 2);
  tj_release(j);
  tl_resp_free(&r);
  tl_close(fd);
  /* From loopback the same control is done. */
  r = control(p.admin_port, "mode=async&threads=3", -1);
  ck_assert_int_eq(r.status, 200);
  tl_resp_free(&r);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("stats");
  TCase *tc = tcase_create("stats");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, thread_list_matches_kernel);
  tcase_add_test(tc, cpu_and_switches_agree_with_kernel);
  tcase_add_test(tc, request_counters_match_requests_sent);
  tcase_add_test(tc, server_rates_follow_the_counters);
  tcase_add_test(tc, stream_delivers_parseable_events);
  tcase_add_test(tc, metrics_follow_exposition_format);
  tcase_add_test(tc, control_switches_mode_under_live_connection);
  tcase_add_test(tc, observer_answers_while_loop_is_blocked);
  tcase_add_test(tc, no_stats_reports_nothing_invented);
  tcase_add_test(tc, sends_report_their_path_and_batches);
  tcase_add_test(tc, runq_wait_runs_with_the_kernel);
  tcase_add_test(tc, pin_stays_within_inherited_mask);
  tcase_add_test(tc, pin_reaches_busy_workers_at_once);
  tcase_add_test(tc, metrics_histograms_complete);
  tcase_add_test(tc, control_refuses_non_loopback);
  suite_add_tcase(s, tc);
  return tl_check_run(s);
}
