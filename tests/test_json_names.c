/* Thread names are raw bytes from the kernel: /stats, one /stats/stream
 * event and /metrics must stay valid (strict jansson) with a name full of
 * control characters, quotes and ill-formed UTF-8.
 *
 * How the name gets there: the kernel lets only a thread of the same
 * process write /proc/PID/task/TID/comm (EINVAL from anyone else), so the
 * test cannot rename a thread of the server from outside. Instead it execs
 * the server through a symlink whose file name is the nasty name: exec sets
 * the main thread's comm to that base name, and the main thread (the
 * workload loop 0) keeps it. */
#include "config.h"

#include <check.h>
#include "tl_check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tl_json.h"
#include "tl_testutil.h"

/* 13 bytes (comm holds 15): controls, a quote, a backslash, a newline, DEL,
 * a lone 0xff, a truncated sequence, then a valid euro sign. */
static const char nasty[] = "t\x01\x1b\"\\\n\x7f\xff\xc3(\xe2\x82\xac";
/* What it must decode to: the ill-formed bytes each one U+FFFD. */
static const char decoded[] =
    "t\x01\x1b\"\\\n\x7f\xef\xbf\xbd\xef\xbf\xbd(\xe2\x82\xac";

static char dir[64];
static char link_path[128];

/* Starts the server as `<tmpdir>/<nasty>` so its main thread bears the name. */
static void start_named(tl_proc *p) {
  char bin[4096];
  const char *b = tl_bin();
  ck_assert_ptr_nonnull(realpath(b, bin));
  snprintf(dir, sizeof(dir), "/tmp/tl-json-names-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(link_path, sizeof(link_path), "%s/%s", dir, nasty);
  ck_assert_int_eq(symlink(bin, link_path), 0);
  setenv("THREADLAB_BIN", link_path,
         1); /* this test's own process (Check forks) */
  const char *args[] = {"--mode",      "pool", "--threads", "2",
                        "--sample-ms", "100",  NULL};
  tl_proc_start(p, args);
}

static void stop_named(tl_proc *p) {
  ck_assert_int_eq(tl_proc_stop(p, 10000), 0);
  unlink(link_path);
  rmdir(dir);
}

/* The kernel really holds the raw bytes (else the test proves nothing). */
static void check_kernel_name(pid_t pid) {
  char path[64], buf[32];
  snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int) pid, (int) pid);
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  size_t n = fread(buf, 1, sizeof(buf), f);
  fclose(f);
  ck_assert_uint_eq(n, sizeof(nasty)); /* the name plus the kernel's newline */
  ck_assert_mem_eq(buf, nasty, sizeof(nasty) - 1);
}

/* The thread of tid in a parsed snapshot must carry the decoded name. */
static void check_thread_name(const tj *j, int tid) {
  const tj *threads = tj_get(j, "threads");
  ck_assert_ptr_nonnull(threads);
  const char *name = NULL;
  for (size_t i = 0; i < threads->n; i++)
    if ((int) tj_num(&threads->kids[i], "tid", -1) == tid)
      name = tj_str(&threads->kids[i], "name");
  ck_assert_msg(name != NULL, "thread %d has no name in the snapshot", tid);
  ck_assert_str_eq(name, decoded);
}

START_TEST(nasty_thread_name_in_stats) {
  tl_proc p;
  start_named(&p);
  check_kernel_name(p.pid);
  /* Wait for a sample that lists the threads. */
  tj *j = NULL;
  double deadline = tl_now_s() + 10;
  while (tl_now_s() < deadline) {
    tl_resp r;
    ck_assert_int_eq(tl_get(p.admin_port, "/stats", &r), 200);
    j = tj_parse(r.body, r.body_len);
    ck_assert_msg(j != NULL, "/stats is not strict JSON");
    /* the raw bytes never appear in the body */
    ck_assert_ptr_null(memmem(r.body, r.body_len, "\x1b", 1));
    ck_assert_ptr_null(memmem(r.body, r.body_len, "\xff", 1));
    tl_resp_free(&r);
    if (tj_get(j, "threads.1"))
      break;
    tj_release(j);
    j = NULL;
    usleep(50000);
  }
  ck_assert_ptr_nonnull(j);
  check_thread_name(j, p.pid);
  tj_release(j);
  stop_named(&p);
}
END_TEST

START_TEST(nasty_thread_name_in_stream_event) {
  tl_proc p;
  start_named(&p);
  int fd = tl_connect(p.admin_port);
  tl_send_str(fd, "GET /stats/stream HTTP/1.1\r\nHost: localhost\r\n\r\n");
  size_t cap = 1 << 22, len = 0;
  char *buf = malloc(cap);
  bool seen = false;
  double deadline = tl_now_s() + 10;
  while (!seen && tl_now_s() < deadline) {
    ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
    ck_assert_int_gt(n, 0);
    len += (size_t) n;
    buf[len] = '\0';
    char *body = strstr(buf, "\r\n\r\n");
    if (!body)
      continue;
    /* One complete event: "id: N\ndata: JSON\n\n"; its JSON is one line,
     * so a raw newline from the name would have cut it. */
    char *data = strstr(body, "\ndata: ");
    char *end = data ? strstr(data + 7, "\n\n") : NULL;
    if (!end)
      continue;
    data += 7;
    ck_assert_ptr_null(memchr(data, '\n', (size_t) (end - data)));
    tj *j = tj_parse(data, (size_t) (end - data));
    ck_assert_msg(j != NULL, "the stream's event is not strict JSON");
    if (tj_get(j, "threads.1")) {
      check_thread_name(j, p.pid);
      seen = true;
    }
    tj_release(j);
    memmove(body + 4, end + 2, strlen(end + 2) + 1);
    len = strlen(buf);
  }
  ck_assert_msg(seen, "no stream event listed the threads within 10 s");
  free(buf);
  close(fd);
  stop_named(&p);
}
END_TEST

/* /metrics carries no thread names today; whatever it carries stays text
 * format: no raw control bytes or ill-formed UTF-8 leak into it. */
START_TEST(nasty_thread_name_not_in_metrics) {
  tl_proc p;
  start_named(&p);
  usleep(300000);
  tl_resp r;
  ck_assert_int_eq(tl_get(p.admin_port, "/metrics", &r), 200);
  ck_assert_ptr_nonnull(strstr(r.body, "# TYPE threadlab_info gauge"));
  ck_assert_ptr_null(memmem(r.body, r.body_len, "\x1b", 1));
  ck_assert_ptr_null(memmem(r.body, r.body_len, "\xff", 1));
  tl_resp_free(&r);
  stop_named(&p);
}
END_TEST

TL_CHECK_MAIN("json_names", nasty_thread_name_in_stats,
              nasty_thread_name_in_stream_event,
              nasty_thread_name_not_in_metrics)
