/* The whole hierarchy in /stats (issue 21): each thread's birth (created
 * and first run), --processes shown as one server (the workers' sums,
 * every process's threads, /control?cpus= reaching every worker), the
 * tasks each thread holds now and what a thinned timeline left out. */
#include "config.h"

#include <check.h>
#include "tl_check.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tl_json.h"
#include "tl_testutil.h"

static int post_control(int admin_port, const char *query, tl_resp *r) {
  char req[512];
  snprintf(req, sizeof(req),
           "POST /control?%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
           "X-Threadlab: 1\r\nContent-Length: 0\r\n\r\n",
           query, admin_port);
  ck_assert_int_eq(tl_roundtrip(admin_port, req, r), 0);
  return r->status;
}

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static double num(const tj *o, const char *k) {
  const tj *v = tj_get(o, k);
  ck_assert_msg(v && v->type == TJ_NUM, "%s is not a number", k);
  return v->num;
}

static const char *str(const tj *o, const char *k) {
  const tj *v = tj_get(o, k);
  return v && v->type == TJ_STR ? v->str : NULL;
}

/* Our threads: the creator's ask, then the thread's own first run, in
 * that order, both on the server's clock; threads we did not create:
 * the kernel's start time and no first run. A live resize adds threads
 * born after it was asked for. */
START_TEST(birth_of_every_thread) {
  tl_proc p;
  const char *args[] = {"--threads", "3", "--sample-ms", "100", NULL};
  tl_proc_start(&p, args);
  tj *j = tl_get_stats(p.admin_port);
  const tj *th = tj_get(j, "threads");
  ck_assert_ptr_nonnull(th);
  double start = num(j, "start_ns");
  int workers = 0, libuv = 0, observer = 0, main_seen = 0;
  for (size_t i = 0; i < th->n; i++) {
    const tj *t = &th->kids[i];
    const char *role = str(t, "role");
    ck_assert_int_eq((int) num(t, "pid"), p.pid);
    if (strcmp(role, "worker") == 0 || strcmp(role, "observer") == 0) {
      ck_assert_str_eq(str(t, "created_by"), "creator");
      double c = num(t, "created_ns"), f = num(t, "first_run_ns");
      ck_assert_msg(c >= start && f >= c,
                    "%s: created %.0f first run %.0f "
                    "(start %.0f)",
                    str(t, "name"), c, f, start);
      ck_assert_msg(f - c < 5e9, "a create->run gap of %.0f ns", f - c);
      workers += strcmp(role, "worker") == 0;
      observer += strcmp(role, "observer") == 0;
    } else if (strcmp(role, "libuv") == 0) {
      ck_assert_str_eq(str(t, "created_by"), "kernel");
      ck_assert(tj_is_null(t, "first_run_ns"));
      /* The kernel's clock ticks are 10 ms: near the start, not before
       * the process. */
      ck_assert(num(t, "created_ns") > start - 1e9);
      libuv++;
    } else if ((int) num(t, "tid") == p.pid) {
      /* main: exec'd by our parent (the kernel's word), ran main() */
      ck_assert_str_eq(str(t, "created_by"), "kernel");
      ck_assert(num(t, "first_run_ns") >= num(t, "created_ns"));
      ck_assert(num(t, "first_run_ns") <= start);
      main_seen++;
    }
  }
  ck_assert_int_eq(workers, 3);
  ck_assert_int_eq(observer, 1);
  ck_assert_int_eq(main_seen, 1);
  ck_assert_int_ge(libuv, 1);
  tj_release(j);

  uint64_t asked = mono_ns();
  tl_resp r;
  ck_assert_int_eq(post_control(p.admin_port, "threads=5", &r), 200);
  tl_resp_free(&r);
  int born = 0;
  for (int tries = 0; tries < 40 && born < 2; tries++) {
    usleep(100 * 1000);
    j = tl_get_stats(p.admin_port);
    th = tj_get(j, "threads");
    born = 0;
    for (size_t i = 0; i < th->n; i++) {
      const tj *t = &th->kids[i];
      double idx = tj_num(t, "index", -1);
      if (strcmp(str(t, "role"), "worker") != 0 || idx < 3)
        continue;
      double c = num(t, "created_ns"), f = num(t, "first_run_ns");
      ck_assert_msg(c >= (double) asked && f >= c,
                    "worker %.0f: created %.0f first run %.0f, asked %llu", idx,
                    c, f, (unsigned long long) asked);
      born++;
    }
    tj_release(j);
  }
  ck_assert_int_eq(born, 2);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* n requests on keep-alive connections; each answered 200. */
static void load(int port, const char *path, int n) {
  for (int c = 0; c < 8; c++) {
    int fd = tl_connect(port);
    for (int i = 0; i < n / 8; i++)
      tl_ask_ok(fd, path);
    tl_close(fd);
  }
}

static int worker_pids(const tj *j, int *pids, int cap) {
  const tj *ps = tj_get(j, "processes");
  int n = 0;
  for (size_t i = 0; ps && i < ps->n && n < cap; i++)
    if (strcmp(str(&ps->kids[i], "role"), "worker") == 0 &&
        num(&ps->kids[i], "pid") > 0)
      pids[n++] = (int) num(&ps->kids[i], "pid");
  return n;
}

/* The header, the charts and the table read server.* and threads[]:
 * under --processes they are the workers' sums and every process's
 * threads. */
START_TEST(processes_are_one_server) {
  tl_proc p;
  const char *args[] = {"--processes", "2",   "--threads", "2",
                        "--sample-ms", "100", NULL};
  tl_proc_start(&p, args);
  load(p.port, "/task?steps=cpu:0", 400);
  tj *j = NULL;
  double total = 0;
  for (int tries = 0; tries < 50; tries++) {
    usleep(100 * 1000);
    if (j)
      tj_release(j);
    j = tl_get_stats(p.admin_port);
    total = tj_num(j, "server.requests.total", 0);
    if (total >= 400)
      break;
  }
  ck_assert_msg(total >= 400, "server.requests.total %.0f after 400", total);
  /* The sum is the workers' own counts. */
  double per = 0;
  const tj *ps = tj_get(j, "processes");
  for (size_t i = 0; i < ps->n; i++) {
    per += tj_num(&ps->kids[i], "requests", 0);
    if (strcmp(str(&ps->kids[i], "role"), "worker") == 0)
      ck_assert(num(&ps->kids[i], "requests_rate") >= 0); /* beside the sum */
  }
  ck_assert_msg(per == total, "workers %.0f vs server %.0f", per, total);
  ck_assert(tj_num(j, "server.connections.accepted", 0) >= 8);
  ck_assert(tj_num(j, "server.latency_ms.since_start.count", 0) >= 400);
  ck_assert(tj_num(j, "server.requests.by_route./task.total", 0) >= 400);
  int pids[8];
  int nw = worker_pids(j, pids, 8);
  ck_assert_int_eq(nw, 2);
  /* Every worker's loop and workers are listed with their pid, and
   * their own counters add up to what its process served. */
  const tj *th = tj_get(j, "threads");
  for (int w = 0; w < nw; w++) {
    int loops = 0, workers = 0;
    double tasks = 0;
    for (size_t i = 0; i < th->n; i++) {
      const tj *t = &th->kids[i];
      if ((int) num(t, "pid") != pids[w])
        continue;
      const char *role = str(t, "role");
      if (strcmp(role, "loop") == 0)
        loops++;
      if (strcmp(role, "worker") == 0) {
        workers++;
        tasks += num(t, "tasks");
        ck_assert_str_eq(str(t, "created_by"), "creator");
        ck_assert(num(t, "first_run_ns") >= num(t, "created_ns"));
      }
    }
    ck_assert_int_eq(loops, 1);
    ck_assert_int_eq(workers, 2);
    ck_assert_msg(tasks >= 1, "worker process %d: its workers ran no task",
                  pids[w]);
  }
  tj_release(j);
  /* The history behind the charts has the rate too. */
  tl_resp r;
  ck_assert_int_eq(tl_get(p.admin_port, "/stats/history", &r), 200);
  tj *h = tj_parse(r.body, r.body_len);
  ck_assert_ptr_nonnull(h);
  const tj *rate = tj_get(h, "requests_rate");
  double peak = 0;
  for (size_t i = 0; rate && i < rate->n; i++)
    if (rate->kids[i].type == TJ_NUM && rate->kids[i].num > peak)
      peak = rate->kids[i].num;
  ck_assert_msg(peak > 0, "the history's requests_rate never rose");
  tj_release(h);
  tl_resp_free(&r);
  ck_assert_int_eq(tl_proc_stop(&p, 15000), 0);
}
END_TEST

/* Cpus_allowed_list of every tl-worker-* thread of process pid, compared
 * with want; -1 when none is found. */
static int workers_allowed(int pid, const char *want) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/task", pid);
  DIR *d = opendir(path);
  if (!d)
    return -1;
  int seen = 0, ok = 1;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    char f[320], buf[4096];
    snprintf(f, sizeof(f), "/proc/%d/task/%s/comm", pid, e->d_name);
    FILE *fp = fopen(f, "r");
    if (!fp)
      continue;
    bool worker =
        fgets(buf, sizeof(buf), fp) && strncmp(buf, "tl-worker-", 10) == 0;
    fclose(fp);
    if (!worker)
      continue;
    snprintf(f, sizeof(f), "/proc/%d/task/%s/status", pid, e->d_name);
    fp = fopen(f, "r");
    if (!fp)
      continue;
    while (fgets(buf, sizeof(buf), fp))
      if (strncmp(buf, "Cpus_allowed_list:", 18) == 0) {
        char *v = buf + 18;
        while (*v == ' ' || *v == '\t')
          v++;
        v[strcspn(v, "\n")] = 0;
        seen++;
        ok &= strcmp(v, want) == 0;
      }
    fclose(fp);
  }
  closedir(d);
  return seen ? ok : -1;
}

/* The kernel's word on every worker process's worker threads. */
static bool all_workers_on(int admin_port, const char *want) {
  for (int tries = 0; tries < 30; tries++) {
    tj *j = tl_get_stats(admin_port);
    int pids[8];
    int n = worker_pids(j, pids, 8);
    tj_release(j);
    int good = 0;
    for (int i = 0; i < n; i++)
      good += workers_allowed(pids[i], want) == 1;
    if (n == 2 && good == n)
      return true;
    usleep(100 * 1000);
  }
  return false;
}

START_TEST(processes_cpus_reach_every_worker) {
  if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
    fprintf(stderr, "processes_cpus_reach_every_worker: skipped: one CPU "
                    "(cpus=0 would change nothing)\n");
    return;
  }
  tl_proc p;
  const char *args[] = {"--processes", "2", "--threads", "2", NULL};
  tl_proc_start(&p, args);
  char all[64];
  snprintf(all, sizeof(all), "0-%ld", sysconf(_SC_NPROCESSORS_ONLN) - 1);
  ck_assert_msg(all_workers_on(p.admin_port, all), "workers not on %s", all);
  tl_resp r;
  int st = post_control(p.admin_port, "cpus=0", &r);
  ck_assert_msg(st == 200, "cpus=0: %d %s", st, r.body);
  ck_assert_ptr_nonnull(strstr(r.body, "\"worker_cpus\":\"0\""));
  tl_resp_free(&r);
  ck_assert_msg(all_workers_on(p.admin_port, "0"),
                "a worker process's workers are not on CPU 0");
  ck_assert_int_eq(post_control(p.admin_port, "cpus=all", &r), 200);
  tl_resp_free(&r);
  ck_assert(all_workers_on(p.admin_port, all));
  ck_assert_int_eq(tl_proc_stop(&p, 15000), 0);
}
END_TEST

/* Opens n connections, each sending one request, left to be answered. */
static void start_requests(int port, const char *path, int *fds, int n) {
  char req[256];
  snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
  for (int i = 0; i < n; i++) {
    fds[i] = tl_connect(port);
    tl_send_str(fds[i], req);
  }
}

static void finish_requests(int *fds, int n) {
  for (int i = 0; i < n; i++) {
    tl_resp r;
    ck_assert_int_eq(tl_read_resp(fds[i], &r, false), 0);
    ck_assert_int_eq(r.status, 200);
    tl_resp_free(&r);
    tl_close(fds[i]);
  }
}

/* The sum of tasks_in_flight of the threads of a role, at its highest
 * over a few samples. */
static double in_flight(int admin_port, const char *role) {
  double best = 0;
  for (int tries = 0; tries < 6; tries++) {
    usleep(120 * 1000);
    tj *j = tl_get_stats(admin_port);
    const tj *th = tj_get(j, "threads");
    double sum = 0;
    for (size_t i = 0; i < th->n; i++)
      if (strcmp(str(&th->kids[i], "role"), role) == 0)
        sum += tj_num(&th->kids[i], "tasks_in_flight", 0);
    tj_release(j);
    if (sum > best)
      best = sum;
  }
  return best;
}

START_TEST(tasks_in_flight_where_they_live) {
  enum { N = 40 };
  int fds[N];
  /* async: every IO wait is a timer on the loop, no worker holds one. */
  tl_proc p;
  const char *a[] = {"--mode",      "async", "--threads", "2",
                     "--sample-ms", "100",   NULL};
  tl_proc_start(&p, a);
  start_requests(p.port, "/io?ms=1500", fds, N);
  double loop = in_flight(p.admin_port, "loop");
  ck_assert_msg(loop >= N - 2 && loop <= N, "loop holds %.0f of %d", loop, N);
  ck_assert(in_flight(p.admin_port, "worker") == 0);
  finish_requests(fds, N);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
  /* pool: each worker holds the one task it blocks in. */
  const char *b[] = {"--mode",      "pool", "--threads", "2",
                     "--sample-ms", "100",  NULL};
  tl_proc_start(&p, b);
  start_requests(p.port, "/io?ms=1500", fds, 4);
  ck_assert(in_flight(p.admin_port, "worker") == 2);
  ck_assert(in_flight(p.admin_port, "loop") == 0);
  finish_requests(fds, 4);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* A thinned timeline says, per update and per lane, how many steps it
 * did not carry; once no step is left out, it says 0. */
START_TEST(timeline_says_what_it_left_out_now) {
  tl_proc p;
  const char *a[] = {"--mode", "async", "--sample-ms", "100", NULL};
  tl_proc_start(&p, a);
  load(p.port, "/task?steps=cpu:0,cpu:0,cpu:0,cpu:0", 1200); /* 4,800 steps */
  usleep(250 * 1000);
  tj *j = tl_get_stats(p.admin_port);
  double left = num(j, "timeline.left_out");
  const tj *steps = tj_get(j, "timeline.steps");
  ck_assert_msg(left > 0 && steps->n > 0, "left out %.0f, carried %zu", left,
                steps->n);
  double lanes = 0;
  const tj *th = tj_get(j, "threads");
  for (size_t i = 0; i < th->n; i++)
    lanes += tj_num(&th->kids[i], "steps_left_out", 0);
  ck_assert_msg(lanes == left, "lanes %.0f vs total %.0f", lanes, left);
  tj_release(j);
  /* The window (5 s) empties: nothing is left out any more. */
  double now = -1;
  for (int tries = 0; tries < 80 && now != 0; tries++) {
    usleep(100 * 1000);
    j = tl_get_stats(p.admin_port);
    now = num(j, "timeline.left_out");
    tj_release(j);
  }
  ck_assert_msg(now == 0, "still %.0f left out with no load", now);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* One test case per test, so that tests/mutants can run one by name. */
int main(void) {
  const struct {
    const char *name;
    const TTest *fn;
  } t[] = {
      {"birth_of_every_thread", birth_of_every_thread},
      {"processes_are_one_server", processes_are_one_server},
      {"processes_cpus_reach_every_worker", processes_cpus_reach_every_worker},
      {"tasks_in_flight_where_they_live", tasks_in_flight_where_they_live},
      {"timeline_says_what_it_left_out_now",
       timeline_says_what_it_left_out_now},
  };
  Suite *s = suite_create("hierarchy");
  for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    TCase *tc = tcase_create(t[i].name);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, t[i].fn);
    suite_add_tcase(s, tc);
  }
  return tl_check_run(s);
}
