/* History and events on a real server: after some load, /stats/history
 * holds every period since the start with nonzero request rates; a
 * /control change is an event in /stats with its wall-clock time; a new
 * stream client gets the history as its first event. */
#include "config.h"

#include <check.h>
#include "tl_check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "tl_json.h"
#include "tl_testutil.h"

static void start(tl_proc *p) {
  const char *args[] = {"--mode",      "pool", "--threads", "2",
                        "--sample-ms", "100",  NULL};
  tl_proc_start(p, args);
}

/* n requests for path on one keep-alive connection. */
static void load(tl_proc *p, const char *path, int n) {
  int fd = tl_connect(p->port);
  for (int i = 0; i < n; i++)
    tl_ask_ok(fd, path);
  tl_close(fd);
}

static double wall_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (double) tv.tv_sec * 1e3 + (double) tv.tv_usec / 1e3;
}

START_TEST(history_holds_the_periods_since_start) {
  tl_proc p;
  start(&p);
  load(&p, "/cpu?ms=2", 150);
  load(&p, "/plaintext", 300);
  usleep(300000);
  tj *s = tl_get_json(p.admin_port, "/stats");
  double seq_then = tj_num(s, "seq", -1);
  tj_release(s);
  tj *h = tl_get_json(p.admin_port, "/stats/history");
  const tj *seq = tj_get(h, "seq");
  ck_assert_ptr_nonnull(seq);
  ck_assert_int_eq(tj_num(h, "count", -1), (double) seq->n);
  ck_assert_int_ge(tj_num(h, "capacity", -1), 3000); /* 300 s / 100 ms */
  /* every period from the first, none missing, up to the latest */
  ck_assert_int_eq(tj_num(h, "seq.0", -1), 1);
  for (size_t i = 1; i < seq->n; i++)
    ck_assert_double_eq(seq->kids[i].num, seq->kids[i - 1].num + 1);
  ck_assert_double_ge(seq->kids[seq->n - 1].num, seq_then);
  const tj *rate = tj_get(h, "requests_rate"), *t = tj_get(h, "time_ms");
  ck_assert_uint_eq(rate->n, seq->n);
  ck_assert_uint_eq(t->n, seq->n);
  /* the load is in it: rates that add up to about the requests sent */
  double sum = 0;
  int loaded = 0;
  const tj *period = tj_get(h, "period_ms");
  for (size_t i = 0; i < rate->n; i++) {
    if (rate->kids[i].type == TJ_NUM && rate->kids[i].num > 0) {
      loaded++;
      sum += rate->kids[i].num * period->kids[i].num / 1e3;
    }
  }
  ck_assert_int_ge(loaded, 1);
  ck_assert_msg(sum > 450 * 0.8 && sum < 450 * 1.2, "requests in history: %f",
                sum);
  /* per route, and a route with no request is left out */
  ck_assert_ptr_nonnull(tj_get(h, "routes./cpu.p99_ms"));
  ck_assert_ptr_nonnull(tj_get(h, "routes./plaintext.rate"));
  ck_assert_ptr_null(tj_get(h, "routes./io"));
  /* the load was detected */
  const tj *ev = tj_get(h, "events");
  bool started = false;
  for (size_t i = 0; ev && i < ev->n; i++)
    started |= strcmp(tj_str(&ev->kids[i], "kind"), "load_start") == 0;
  ck_assert_msg(started, "no load_start event");
  tj_release(h);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

START_TEST(control_change_is_an_event_with_its_time) {
  tl_proc p;
  start(&p);
  double before = wall_ms();
  char raw[256];
  snprintf(raw, sizeof(raw),
           "POST /control?mode=async HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
           "X-Threadlab: 1\r\nContent-Length: 0\r\n\r\n",
           p.admin_port);
  tl_resp r;
  ck_assert_int_eq(tl_roundtrip(p.admin_port, raw, &r), 0);
  ck_assert_int_eq(r.status, 200);
  tl_resp_free(&r);
  double after = wall_ms();
  /* it shows in the next snapshot */
  const tj *found = NULL;
  tj *s = NULL;
  double deadline = tl_now_s() + 10;
  while (!found && tl_now_s() < deadline) {
    if (s)
      tj_release(s);
    usleep(50000);
    s = tl_get_json(p.admin_port, "/stats");
    const tj *ev = tj_get(s, "events");
    ck_assert_ptr_nonnull(ev);
    for (size_t i = 0; i < ev->n; i++)
      if (strcmp(tj_str(&ev->kids[i], "kind"), "control") == 0)
        found = &ev->kids[i];
  }
  ck_assert_msg(found != NULL, "no control event in /stats");
  ck_assert_str_eq(tj_str(found, "key"), "mode");
  ck_assert_str_eq(tj_str(found, "from"), "pool");
  ck_assert_str_eq(tj_str(found, "to"), "async");
  ck_assert_str_eq(tj_str(found, "text"), "mode pool \u2192 async");
  double t = tj_num(found, "time_ms", -1);
  ck_assert_msg(t >= before - 1 && t <= after + 1,
                "event at %f, not in [%f, %f]", t, before, after);
  tj_release(s);
  /* the same mode again changes nothing: no second event */
  snprintf(raw, sizeof(raw),
           "POST /control?mode=async HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
           "X-Threadlab: 1\r\nContent-Length: 0\r\n\r\n",
           p.admin_port);
  ck_assert_int_eq(tl_roundtrip(p.admin_port, raw, &r), 0);
  tl_resp_free(&r);
  usleep(300000);
  tj *h = tl_get_json(p.admin_port, "/stats/history");
  const tj *ev = tj_get(h, "events");
  int controls = 0;
  for (size_t i = 0; i < ev->n; i++)
    controls += strcmp(tj_str(&ev->kids[i], "kind"), "control") == 0;
  ck_assert_int_eq(controls, 1);
  tj_release(h);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

START_TEST(stream_starts_with_history) {
  tl_proc p;
  start(&p);
  load(&p, "/plaintext", 50);
  usleep(300000);
  int fd = tl_connect(p.admin_port);
  tl_send_str(fd, "GET /stats/stream HTTP/1.1\r\nHost: localhost\r\n\r\n");
  size_t cap = 1 << 22, len = 0;
  char *buf = malloc(cap);
  char *body = NULL, *first_id = NULL;
  double deadline = tl_now_s() + 10;
  while (tl_now_s() < deadline) {
    ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
    ck_assert_int_gt(n, 0);
    len += (size_t) n;
    buf[len] = '\0';
    body = strstr(buf, "\r\n\r\n");
    first_id = body ? strstr(body, "\nid: ") : NULL;
    if (first_id && strstr(first_id, "\n\n"))
      break;
  }
  ck_assert_ptr_nonnull(first_id);
  char *hist = strstr(body, "event: history\ndata: ");
  ck_assert_msg(hist != NULL && hist < first_id,
                "the first event is not history: %.300s", body);
  char *data = hist + strlen("event: history\ndata: ");
  char *end = strstr(data, "\n\n");
  ck_assert_ptr_nonnull(end);
  tj *h = tj_parse(data, (size_t) (end - data));
  ck_assert_msg(h != NULL, "history event is not JSON");
  ck_assert_int_ge(tj_num(h, "count", 0), 2);
  ck_assert_int_eq(tj_num(h, "seq.0", -1), 1);
  const tj *rate = tj_get(h, "requests_rate");
  bool any = false;
  for (size_t i = 0; i < rate->n; i++)
    any |= rate->kids[i].type == TJ_NUM && rate->kids[i].num > 0;
  ck_assert(any);
  tj_release(h);
  free(buf);
  close(fd);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

TL_CHECK_MAIN("history", history_holds_the_periods_since_start,
              control_change_is_an_event_with_its_time,
              stream_starts_with_history)
