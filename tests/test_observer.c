/* The observer's guard against the real binary (SPEC "Observer
 * security"): requests a hostile page could make (a foreign Origin, a
 * DNS-rebinding Host, a plain form without the dashboard's header, a CORS
 * preflight) are refused and change nothing; what the dashboard and curl
 * send is answered. */
#include "config.h"

#include <check.h>
#include "tl_check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tl_json.h"
#include "tl_testutil.h"

static void start(tl_proc *p) {
  const char *args[] = {"--mode",      "pool", "--threads", "2",
                        "--sample-ms", "100",  NULL};
  tl_proc_start(p, args);
}

/* One raw request to the observer: its status (the response in *r). */
static int ask(const tl_proc *p, const char *raw, tl_resp *r) {
  ck_assert_int_eq(tl_roundtrip(p->admin_port, raw, r), 0);
  /* No response ever grants anything to another origin. */
  ck_assert_msg(strcasestr(r->head, "Access-Control-Allow") == NULL,
                "a CORS grant in: %s", r->head);
  return r->status;
}

/* POST /control?query with the given extra header lines. */
static int post_control(const tl_proc *p, const char *query, const char *hdrs,
                        tl_resp *r) {
  char raw[1024];
  snprintf(raw, sizeof(raw),
           "POST /control?%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s"
           "Content-Length: 0\r\nConnection: close\r\n\r\n",
           query, p->admin_port, hdrs);
  return ask(p, raw, r);
}

static void expect_error(tl_resp *r, int status, const char *word) {
  ck_assert_int_eq(r->status, status);
  tj *j = tj_parse(r->body, r->body_len);
  ck_assert_msg(j != NULL, "error body is not JSON: %s", r->body);
  ck_assert_int_eq((int) tj_num(j, "status", 0), status);
  ck_assert_msg(strstr(tj_str(j, "error"), word) != NULL,
                "reason '%s' lacks '%s'", tj_str(j, "error"), word);
  tj_release(j);
  tl_resp_free(r);
}

/* The server's mode in a snapshot taken after this call. */
static char *mode_now(const tl_proc *p, char *out, size_t cap) {
  tj *j = tl_get_stats(p->admin_port);
  double seq = tj_num(j, "seq", 0);
  double deadline = tl_now_s() + 10;
  while (tj_num(j, "seq", 0) < seq + 2 && tl_now_s() < deadline) {
    tj_release(j);
    usleep(20000);
    j = tl_get_stats(p->admin_port);
  }
  ck_assert_msg(tj_num(j, "seq", 0) >= seq + 2, "no fresh snapshot");
  snprintf(out, cap, "%s", tj_str(j, "server.mode"));
  tj_release(j);
  return out;
}

START_TEST(observer_refuses_cross_site_posts) {
  tl_proc p;
  start(&p);
  tl_resp r;
  char origin[128], mode[16];
  /* A foreign page's form or fetch: its Origin, with or without the header. */
  post_control(&p, "mode=async", "Origin: http://evil.example\r\n", &r);
  expect_error(&r, 403, "Origin");
  post_control(&p, "mode=async",
               "Origin: http://evil.example\r\nX-Threadlab: 1\r\n", &r);
  expect_error(&r, 403, "Origin");
  /* Another port of this machine is another origin (the workload's). */
  snprintf(origin, sizeof(origin),
           "Origin: http://127.0.0.1:%d\r\nX-Threadlab: 1\r\n", p.port);
  post_control(&p, "mode=async", origin, &r);
  expect_error(&r, 403, "Origin");
  post_control(&p, "mode=async", "Origin: null\r\nX-Threadlab: 1\r\n", &r);
  expect_error(&r, 403, "Origin");
  /* An Origin sent twice (even our own twice) or too long to keep is not
   * an absent one: refused, though X-Threadlab alone would be enough. */
  char twice[256];
  snprintf(twice, sizeof(twice),
           "Origin: http://127.0.0.1:%d\r\nOrigin: http://127.0.0.1:%d\r\n"
           "X-Threadlab: 1\r\n",
           p.admin_port, p.admin_port);
  post_control(&p, "mode=async", twice, &r);
  expect_error(&r, 403, "Origin");
  char longer[512];
  snprintf(longer, sizeof(longer),
           "Origin: http://evil.example/%0300d\r\nX-Threadlab: 1\r\n", 0);
  post_control(&p, "mode=async", longer, &r);
  expect_error(&r, 403, "Origin");
  /* Without the header a cross-site form cannot send. */
  post_control(&p, "mode=async", "", &r);
  expect_error(&r, 403, "X-Threadlab");
  post_control(&p, "mode=async",
               "Content-Type: application/x-www-form-urlencoded\r\n", &r);
  expect_error(&r, 403, "X-Threadlab");
  post_control(&p, "mode=async",
               "Content-Type: text/plain\r\nX-Threadlab: yes\r\n", &r);
  expect_error(&r, 403, "X-Threadlab");
  /* A CORS preflight is never granted. */
  char raw[512];
  snprintf(
      raw, sizeof(raw),
      "OPTIONS /control HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
      "Origin: http://evil.example\r\nAccess-Control-Request-Method: POST\r\n"
      "Access-Control-Request-Headers: x-threadlab\r\nConnection: "
      "close\r\n\r\n",
      p.admin_port);
  ask(&p, raw, &r);
  expect_error(&r, 405, "preflight");
  ck_assert_str_eq(mode_now(&p, mode, sizeof(mode)), "pool");
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

START_TEST(observer_refuses_foreign_hosts) {
  tl_proc p;
  start(&p);
  tl_resp r;
  char raw[512], mode[16];
  /* DNS rebinding: a hostile name that resolves to 127.0.0.1. */
  snprintf(raw, sizeof(raw),
           "POST /control?mode=hybrid HTTP/1.1\r\nHost: evil.example:%d\r\n"
           "X-Threadlab: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
           p.admin_port);
  ask(&p, raw, &r);
  expect_error(&r, 421, "Host");
  const char *paths[] = {"/stats", "/metrics", "/stats/stream", "/",
                         "/healthz"};
  for (size_t i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
    snprintf(
        raw, sizeof(raw),
        "GET %s HTTP/1.1\r\nHost: evil.example:%d\r\nConnection: close\r\n\r\n",
        paths[i], p.admin_port);
    ask(&p, raw, &r);
    ck_assert_msg(r.status == 421, "GET %s with a foreign Host: %d", paths[i],
                  r.status);
    ck_assert(strstr(r.body, "\"error\"") != NULL);
    tl_resp_free(&r);
  }
  /* Our port only; HTTP/1.1 must name a host, HTTP/1.0 need not. */
  snprintf(raw, sizeof(raw),
           "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: "
           "close\r\n\r\n",
           p.port);
  ask(&p, raw, &r);
  expect_error(&r, 421, "Host");
  ask(&p, "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n", &r);
  expect_error(&r, 400, "Host");
  ck_assert_int_eq(ask(&p, "GET /healthz HTTP/1.0\r\n\r\n", &r), 200);
  tl_resp_free(&r);
  /* Names of this observer. */
  const char *hosts[] = {"localhost", "127.0.0.1", "127.0.0.2", "[::1]"};
  for (size_t i = 0; i < sizeof(hosts) / sizeof(*hosts); i++) {
    snprintf(
        raw, sizeof(raw),
        "GET /healthz HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n",
        hosts[i], p.admin_port);
    ck_assert_msg(ask(&p, raw, &r) == 200, "Host %s: %d", hosts[i], r.status);
    tl_resp_free(&r);
  }
  /* The workload listener is not restricted. */
  ck_assert_int_eq(
      tl_roundtrip(p.port,
                   "GET /plaintext HTTP/1.1\r\nHost: evil.example\r\n"
                   "Origin: http://evil.example\r\nConnection: close\r\n\r\n",
                   &r),
      0);
  ck_assert_int_eq(r.status, 200);
  tl_resp_free(&r);
  ck_assert_str_eq(mode_now(&p, mode, sizeof(mode)), "pool");
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

START_TEST(observer_accepts_the_dashboard) {
  tl_proc p;
  start(&p);
  tl_resp r;
  char hdrs[256], mode[16];
  /* What the dashboard sends: its own origin and the header. */
  snprintf(hdrs, sizeof(hdrs),
           "Origin: http://127.0.0.1:%d\r\nX-Threadlab: 1\r\n", p.admin_port);
  ck_assert_int_eq(post_control(&p, "mode=async", hdrs, &r), 200);
  ck_assert(strstr(r.body, "\"mode\":\"async\"") != NULL);
  tl_resp_free(&r);
  ck_assert_str_eq(mode_now(&p, mode, sizeof(mode)), "async");
  snprintf(hdrs, sizeof(hdrs),
           "Origin: http://localhost:%d\r\nX-Threadlab: 1\r\n", p.admin_port);
  ck_assert_int_eq(post_control(&p, "mode=hybrid", hdrs, &r), 200);
  tl_resp_free(&r);
  /* What curl sends; or JSON's content type. */
  ck_assert_int_eq(post_control(&p, "mode=pool", "X-Threadlab: 1\r\n", &r),
                   200);
  tl_resp_free(&r);
  ck_assert_int_eq(
      post_control(&p, "threads=3", "Content-Type: application/json\r\n", &r),
      200);
  ck_assert(strstr(r.body, "\"threads\":3") != NULL);
  tl_resp_free(&r);
  /* A form-encoded body, with the header. */
  char raw[512];
  const char *form = "mode=async&threads=2";
  snprintf(raw, sizeof(raw),
           "POST /control HTTP/1.1\r\nHost: localhost:%d\r\nX-Threadlab: 1\r\n"
           "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "
           "%zu\r\n"
           "Connection: close\r\n\r\n%s",
           p.admin_port, strlen(form), form);
  ck_assert_int_eq(ask(&p, raw, &r), 200);
  ck_assert(strstr(r.body, "\"mode\":\"async\",\"threads\":2") != NULL);
  tl_resp_free(&r);
  /* Any other body is refused, not ignored. */
  const char *json = "{\"mode\":\"pool\"}";
  snprintf(raw, sizeof(raw),
           "POST /control HTTP/1.1\r\nHost: localhost:%d\r\nContent-Type: "
           "application/json\r\n"
           "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
           p.admin_port, strlen(json), json);
  ask(&p, raw, &r);
  expect_error(&r, 415, "form");
  ck_assert_str_eq(mode_now(&p, mode, sizeof(mode)), "async");
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* The dashboard's files (read off the observer's loop, observer/
 * file_reads): HEAD gives the headers of a GET and no body, so that the
 * next response on the connection is read right; HTTP/1.0 without
 * keep-alive gets its file and then the close. */
START_TEST(observer_files_head_and_http10) {
  char dir[] = "/tmp/tl-obsfiles-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[128], body[1234];
  snprintf(path, sizeof(path), "%s/page.html", dir);
  memset(body, 'x', sizeof(body));
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(body, 1, sizeof(body), f), sizeof(body));
  fclose(f);
  const char *args[] = {"--mode", "pool", "--threads", "2", "--www", dir, NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  char raw[512], v[64];
  int fd = tl_connect(p.admin_port);
  snprintf(raw, sizeof(raw),
           "HEAD /page.html HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
           "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n",
           p.admin_port, p.admin_port);
  tl_send_str(fd, raw);
  tl_resp r;
  ck_assert_int_eq(tl_read_resp(fd, &r, true), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert(tl_resp_find_header(&r, "Content-Length", v, sizeof(v)));
  ck_assert_int_eq(atoi(v), (int) sizeof(body));
  tl_resp_free(&r);
  /* Right behind the HEAD's headers: the next response, not a body. */
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_msg(strncmp(r.head, "HTTP/1.1 200", 12) == 0, "after HEAD: %.40s",
                r.head);
  tl_resp_free(&r);
  tl_close(fd);

  fd = tl_connect(p.admin_port);
  tl_send_str(fd, "GET /page.html HTTP/1.0\r\n\r\n");
  ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_uint_eq(r.body_len, sizeof(body));
  ck_assert(!tl_resp_find_header(&r, "Connection", v, sizeof(v)) ||
            strcasecmp(v, "keep-alive") != 0);
  tl_resp_free(&r);
  char rest[256];
  bool eof = false;
  size_t n = tl_recv_rest(fd, rest, sizeof(rest), 5000, &eof);
  ck_assert_msg(eof && n == 0, "HTTP/1.0 file: %zu more bytes, %s", n,
                eof ? "closed" : "still open after 5 s");
  tl_close(fd);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
  unlink(path);
  rmdir(dir);
}
END_TEST

int main(void) {
  Suite *s = suite_create("observer");
  TCase *tc = tcase_create("observer");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, observer_refuses_cross_site_posts);
  tcase_add_test(tc, observer_refuses_foreign_hosts);
  tcase_add_test(tc, observer_accepts_the_dashboard);
  suite_add_tcase(s, tc);
  TCase *files = tcase_create("observer_files");
  tcase_set_timeout(files, 60);
  tcase_add_test(files, observer_files_head_and_http10);
  suite_add_tcase(s, files);
  return tl_check_run(s);
}
