/* Shared-nothing loops and processes against the real server: --loops N
 * share the port and each serves; every mode hands results back to the
 * loop that owns the connection; bounds exit 2. */
#include "config.h"

#include <check.h>
#include "tl_check.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tl_json.h"
#include "tl_testutil.h"

#define NCONN 64

/* A replacement must serve within 1 s; a sanitized binary starts several
 * times slower (shadow memory set-up at exec), so it gets 3 s. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define REPLACE_S 3.0
#else
#define REPLACE_S 1.0
#endif

/* NCONN connections at once, one request each; every answer 200. Returns
 * how many X-Thread values name a loop other than the main one. */
static int burst(int port, const char *path) {
  int fds[NCONN];
  char req[256];
  snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
  for (int i = 0; i < NCONN; i++)
    fds[i] = tl_connect(port);
  for (int i = 0; i < NCONN; i++)
    tl_send_str(fds[i], req);
  int other = 0;
  for (int i = 0; i < NCONN; i++) {
    tl_resp r;
    ck_assert_int_eq(tl_read_resp(fds[i], &r, false), 0);
    ck_assert_int_eq(r.status, 200);
    char th[256];
    if (tl_resp_find_header(&r, "X-Thread", th, sizeof(th)) &&
        strstr(th, "loop-"))
      other++;
    tl_resp_free(&r);
    tl_close(fds[i]);
  }
  return other;
}

START_TEST(loops_share_the_port_and_each_serves) {
  tl_proc p;
  const char *args[] = {"--loops",     "2",   "--mode", "async",
                        "--sample-ms", "100", NULL};
  tl_proc_start(&p, args);
  int other = 0;
  /* The kernel hashes each connection to one listener: a few bursts make
   * it all but certain that both get some. */
  for (int i = 0; i < 4 && other == 0; i++)
    other += burst(p.port, "/task?steps=cpu:1");
  ck_assert_msg(other > 0, "no request ran on loop-1");
  usleep(400 * 1000);
  tj *j = tl_get_stats(p.admin_port);
  ck_assert_int_eq((int) tj_num(j, "server.loops.1.index", -1), 1);
  double r0 = tj_num(j, "server.loops.0.requests.total", 0);
  double r1 = tj_num(j, "server.loops.1.requests.total", 0);
  double all = tj_num(j, "server.requests.total", 0);
  ck_assert_msg(r0 >= 1 && r1 >= 1, "requests per loop %.0f / %.0f", r0, r1);
  ck_assert_msg(all >= r0 + r1, "total %.0f < %.0f + %.0f", all, r0, r1);
  ck_assert(tj_get(j, "server.loops.1.utilization_pct"));
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* Pool and hybrid: a worker hands the result back to the loop that owns
 * the connection, whichever loop that is. */
START_TEST(loops_every_mode_answers) {
  const char *modes[] = {"pool", "hybrid", "async"};
  for (int m = 0; m < 3; m++) {
    tl_proc p;
    const char *args[] = {"--loops",   "3", "--mode", modes[m],
                          "--threads", "2", NULL};
    tl_proc_start(&p, args);
    burst(p.port, "/task?steps=cpu:1,io:2,cpu:1");
    ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
  }
}
END_TEST

START_TEST(crash_needs_allow_crash) {
  tl_proc p;
  tl_proc_start(&p, NULL);
  tl_resp r;
  ck_assert_int_eq(tl_get(p.port, "/task?steps=crash", &r), 403);
  ck_assert_ptr_nonnull(strstr(r.body, "--allow-crash"));
  tl_resp_free(&r);
  ck_assert_int_eq(tl_get(p.port, "/task?steps=cpu:1", &r), 200);
  char pid[32];
  ck_assert(tl_resp_find_header(&r, "X-Pid", pid, sizeof(pid)));
  ck_assert_int_eq(atoi(pid), p.pid);
  tl_resp_free(&r);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* One process: a crash takes the whole server, every loop with it. */
START_TEST(one_process_crash_kills_it) {
  const char *modes[] = {"async", "pool"};
  for (int m = 0; m < 2; m++) {
    tl_proc p;
    const char *args[] = {"--allow-crash", "--loops", "2",
                          "--mode",        modes[m],  NULL};
    tl_proc_start(&p, args);
    int fd = tl_connect(p.port);
    tl_send_str(fd, "GET /task?steps=crash HTTP/1.1\r\nHost: t\r\n\r\n");
    ck_assert(tl_wait_eof(fd, 5000));
    tl_close(fd);
    ck_assert_int_eq(tl_proc_wait(&p, 5000), 128 + SIGSEGV);
  }
}
END_TEST

/* ---- --processes N ------------------------------------------------- */

/* The live children of pid, from /proc/X/stat's ppid field. */
static int children_of(int pid, int *out, int cap) {
  DIR *d = opendir("/proc");
  ck_assert_ptr_nonnull(d);
  struct dirent *e;
  int n = 0;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9')
      continue;
    char path[300], buf[512];
    snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f)
      continue;
    size_t len = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[len] = '\0';
    char *rp = strrchr(buf, ')');
    if (!strstr(buf, "(threadlab)"))
      continue; /* e.g. the costs probe */
    char state;
    int ppid;
    if (rp && sscanf(rp + 2, "%c %d", &state, &ppid) == 2 && ppid == pid &&
        state != 'Z' && n < cap)
      out[n++] = atoi(e->d_name);
  }
  closedir(d);
  return n;
}

static bool alive(int pid) { return kill(pid, 0) == 0 || errno != ESRCH; }

/* The pids of processes[] entries of a role ("worker", "spare"). */
static int role_pids(const tj *j, const char *role, int *out) {
  int n = 0;
  for (int i = 1; i < 8; i++) {
    char path[64];
    snprintf(path, sizeof(path), "processes.%d.pid", i);
    int pid = (int) tj_num(j, path, -1);
    if (pid < 0)
      break;
    snprintf(path, sizeof(path), "processes.%d.role", i);
    const char *r = tj_str(j, path);
    if (pid > 0 && r && strcmp(r, role) == 0)
      out[n++] = pid;
  }
  return n;
}

static int worker_pids(const tj *j, int *out) {
  return role_pids(j, "worker", out);
}

/* How many of pid's threads in /stats are named name, and of those how
 * many have role. */
static int threads_named(const tj *j, int pid, const char *name,
                         const char *role, int *with_role) {
  int n = 0;
  *with_role = 0;
  for (int i = 0; i < 256; i++) {
    char path[64];
    snprintf(path, sizeof(path), "threads.%d.pid", i);
    int tp = (int) tj_num(j, path, -1);
    if (tp < 0)
      break;
    snprintf(path, sizeof(path), "threads.%d.name", i);
    const char *nm = tj_str(j, path);
    if (tp != pid || !nm || strncmp(nm, name, strlen(name)) != 0)
      continue;
    n++;
    snprintf(path, sizeof(path), "threads.%d.role", i);
    const char *r = tj_str(j, path);
    *with_role += r && strcmp(r, role) == 0;
  }
  return n;
}

START_TEST(stats_list_supervisor_and_workers) {
  tl_proc p;
  const char *args[] = {"--processes", "2", "--sample-ms", "100", NULL};
  tl_proc_start(&p, args);
  /* The dashboard's page, read on the supervisor's libuv pool. */
  tl_resp page;
  ck_assert_int_eq(tl_get(p.admin_port, "/", &page), 200);
  tl_resp_free(&page);
  usleep(300 * 1000);
  tj *j = tl_get_stats(p.admin_port);
  /* The supervisor's threads say what they are: one observer, libuv's
   * pool named and registered as libuv's (unregistered, each inherited
   * the observer's name: five "tl-observer"). */
  int as_role;
  ck_assert_int_eq(threads_named(j, p.pid, "tl-observer", "observer", &as_role),
                   1);
  ck_assert_int_eq(as_role, 1);
  int nlibuv = threads_named(j, p.pid, "tl-libuv-", "libuv", &as_role);
  ck_assert_int_ge(nlibuv, 1);
  ck_assert_int_eq(as_role, nlibuv);
  ck_assert_str_eq(tj_str(j, "processes.0.role"), "supervisor");
  ck_assert_int_eq((int) tj_num(j, "processes.0.pid", -1), p.pid);
  ck_assert_str_eq(tj_str(j, "processes.1.role"), "worker");
  ck_assert(tj_get(j, "processes.1.pss_kb") &&
            !tj_is_null(j, "processes.1.pss_kb"));
  ck_assert(tj_num(j, "processes.1.uss_kb", 0) > 0);
  int w[8];
  ck_assert_int_eq(worker_pids(j, w), 2);
  ck_assert_int_eq(role_pids(j, "spare", w + 2), 1); /* the default spare */
  ck_assert_str_eq(tj_str(j, "processes.3.state"), "spare");
  int kids[16];
  int nk = children_of(p.pid, kids, 16);
  ck_assert_int_eq(nk, 3);
  for (int i = 0; i < 3; i++)
    ck_assert_msg(kids[i] == w[0] || kids[i] == w[1] || kids[i] == w[2],
                  "child %d not in processes[]", kids[i]);
  /* Its threads are /proc/PID/task's. */
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/task", w[0]);
  int nt = 0;
  DIR *d = opendir(path);
  for (struct dirent *e; d && (e = readdir(d));)
    nt += e->d_name[0] != '.';
  if (d)
    closedir(d);
  ck_assert_int_eq((int) tj_num(j, "processes.1.nthreads", -1), nt);
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 15000), 0);
  ck_assert(!alive(w[0]) && !alive(w[1]) && !alive(w[2]));
}
END_TEST

START_TEST(crash_restarts_one_worker_the_other_serves_on) {
  tl_proc p;
  /* Without a spare: the dead worker's own restart. */
  const char *args[] = {
      "--processes", "2",  "--allow-crash",   "--mode", "pool",
      "--sample-ms", "50", "--spare-workers", "0",      NULL};
  tl_proc_start(&p, args);
  /* Keep-alive connections until both workers hold some. */
  int fds[NCONN], pids[NCONN], n = 0, a = 0, b = 0;
  for (; n < NCONN && (a == 0 || b == 0 || n < 8); n++) {
    fds[n] = tl_connect(p.port);
    pids[n] = tl_ask_pid(fds[n], "/task?steps=cpu:1");
    if (a == 0)
      a = pids[n];
    else if (pids[n] != a && b == 0)
      b = pids[n];
  }
  ck_assert_msg(a && b, "every connection went to pid %d", a);
  /* Crash worker a through one of its connections. */
  int victim = -1;
  for (int i = 0; i < n && victim < 0; i++)
    if (pids[i] == a)
      victim = i;
  double t0 = tl_now_s();
  tl_send_str(fds[victim], "GET /task?steps=crash HTTP/1.1\r\nHost: t\r\n\r\n");
  ck_assert(tl_wait_eof(fds[victim], 5000));
  /* b's connections never notice. */
  for (int i = 0; i < n; i++)
    if (pids[i] == b)
      ck_assert_int_eq(tl_ask_pid(fds[i], "/task?steps=cpu:1"), b);
  /* A new worker serves within 1 s: the stats name it ready. */
  int fresh = 0;
  double ready_at = 0;
  while (tl_now_s() - t0 < REPLACE_S + 2 && !fresh) {
    tj *j = tl_get_stats(p.admin_port);
    int w[8];
    int nw = worker_pids(j, w);
    for (int i = 0; i < nw; i++) {
      char path[64];
      snprintf(path, sizeof(path), "processes.%d.state", i + 1);
      const char *st = tj_str(j, path);
      if (w[i] != a && w[i] != b && st && strcmp(st, "ready") == 0) {
        fresh = w[i];
        ready_at = tl_now_s();
        snprintf(path, sizeof(path), "processes.%d.last_exit.how", i + 1);
        ck_assert_ptr_nonnull(strstr(tj_str(j, path), "signal 11"));
        snprintf(path, sizeof(path), "processes.%d.restarts", i + 1);
        ck_assert_int_eq((int) tj_num(j, path, 0), 1);
      }
    }
    tj_release(j);
    if (!fresh)
      usleep(20 * 1000);
  }
  ck_assert_msg(fresh, "no new worker within %.0f s", REPLACE_S + 2);
  ck_assert_msg(ready_at - t0 < REPLACE_S, "new worker after %.2f s",
                ready_at - t0);
  ck_assert(!alive(a));
  for (int i = 0; i < n; i++)
    if (pids[i] == b)
      ck_assert_int_eq(tl_ask_pid(fds[i], "/task?steps=cpu:1"), b);
  for (int i = 0; i < n; i++)
    tl_close(fds[i]);
  ck_assert_int_eq(tl_proc_stop(&p, 15000), 0);
  ck_assert(!alive(b) && !alive(fresh));
}
END_TEST

/* The X-Pid of one request on a new connection (0: no answer). */
static int ask_new(int port) {
  int fd = tl_connect(port);
  int pid = tl_ask_pid(fd, "/task?steps=cpu:1");
  tl_close(fd);
  return pid;
}

/* Load from a child: wrk if installed, else nothing (the test still
 * checks every behaviour, without the load). */
static pid_t start_load(int port) {
  if (access("/usr/bin/wrk", X_OK) != 0)
    return -1;
  char url[64];
  snprintf(url, sizeof(url), "http://127.0.0.1:%d/plaintext", port);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int dn = open("/dev/null", O_WRONLY);
    dup2(dn, 1);
    dup2(dn, 2);
    execl("/usr/bin/wrk", "wrk", "-t1", "-c16", "-d20s", url, (char *) NULL);
    _exit(127);
  }
  return pid;
}

/* --processes 2 with its default spare: the spare is up before any death
 * and takes no connection (bound, not listening); a crashed worker's place
 * goes to that very process (started before the death) at once, and a new
 * spare follows. */
START_TEST(spare_takes_a_dead_workers_place) {
  tl_proc p;
  const char *args[] = {"--processes", "2",    "--allow-crash",
                        "--mode",      "pool", "--sample-ms",
                        "50",          NULL};
  tl_proc_start(&p, args);
  tj *j = tl_get_stats(p.admin_port);
  int w[8], spare = 0;
  ck_assert_int_eq(worker_pids(j, w), 2);
  ck_assert_int_eq(role_pids(j, "spare", &spare), 1);
  ck_assert_str_eq(tj_str(j, "processes.3.state"), "spare");
  tj_release(j);
  /* 64 new connections: none reaches the spare. */
  for (int i = 0; i < NCONN; i++)
    ck_assert_int_ne(ask_new(p.port), spare);
  pid_t load = start_load(p.port);
  usleep(300 * 1000);
  /* Crash the worker that answers a new connection. */
  int fd = tl_connect(p.port);
  int victim = tl_ask_pid(fd, "/task?steps=cpu:1");
  ck_assert(victim == w[0] || victim == w[1]);
  double t0 = tl_now_s();
  tl_send_str(fd, "GET /task?steps=crash HTTP/1.1\r\nHost: t\r\n\r\n");
  ck_assert(tl_wait_eof(fd, 5000));
  tl_close(fd);
  /* The spare, not a fresh process, now serves in the victim's place. */
  bool promoted = false;
  double replaced = -1;
  while (!promoted && tl_now_s() - t0 < REPLACE_S + 2) {
    j = tl_get_stats(p.admin_port);
    for (int i = 1; i <= 2; i++) {
      char path[64];
      snprintf(path, sizeof(path), "processes.%d.pid", i);
      if ((int) tj_num(j, path, 0) != spare)
        continue;
      snprintf(path, sizeof(path), "processes.%d.state", i);
      if (strcmp(tj_str(j, path), "ready") != 0)
        continue;
      promoted = true;
      snprintf(path, sizeof(path), "processes.%d.last_exit.pid", i);
      ck_assert_int_eq((int) tj_num(j, path, 0), victim);
      snprintf(path, sizeof(path), "processes.%d.last_exit.by_spare", i);
      const tj *bs = tj_get(j, path);
      ck_assert(bs && bs->type == TJ_BOOL && bs->b);
      snprintf(path, sizeof(path), "processes.%d.last_exit.replaced_ms", i);
      replaced = tj_num(j, path, -1);
    }
    tj_release(j);
    if (!promoted)
      usleep(10 * 1000);
  }
  ck_assert_msg(promoted, "the spare %d did not take the place of %d", spare,
                victim);
  ck_assert_msg(replaced >= 0 && replaced < REPLACE_S * 1000,
                "death -> spare serving: %.1f ms", replaced);
  /* It listens now: a new connection reaches it. */
  bool served = false;
  for (int i = 0; i < 4 * NCONN && !served; i++)
    served = ask_new(p.port) == spare;
  ck_assert_msg(served, "no connection reached the promoted spare %d", spare);
  /* A new spare follows in the background. */
  int fresh = 0;
  while (!fresh && tl_now_s() - t0 < REPLACE_S + 5) {
    j = tl_get_stats(p.admin_port);
    int s2 = 0;
    if (role_pids(j, "spare", &s2) == 1 && s2 != spare && s2 != victim &&
        strcmp(tj_str(j, "processes.3.state"), "spare") == 0)
      fresh = s2;
    tj_release(j);
    if (!fresh)
      usleep(20 * 1000);
  }
  ck_assert_msg(fresh, "no new spare after the promotion");
  if (load > 0) {
    kill(load, SIGTERM);
    waitpid(load, NULL, 0);
  }
  ck_assert_int_eq(tl_proc_stop(&p, 15000), 0);
  ck_assert(!alive(spare) && !alive(fresh));
}
END_TEST

/* The worker of slot 1 once it is not old_pid and has `restarts`
 * restarts; its /stats entry's gap between the last death and this start
 * (last_exit.ago_s - uptime_s, one snapshot's clock) in *gap. */
static int next_worker(const tl_proc *p, int old_pid, int restarts, double *gap,
                       double *uptime) {
  double deadline = tl_now_s() + 15;
  while (tl_now_s() < deadline) {
    tj *j = tl_get_stats(p->admin_port);
    int pid = (int) tj_num(j, "processes.1.pid", -1);
    if (pid > 0 && pid != old_pid &&
        (int) tj_num(j, "processes.1.restarts", -1) == restarts) {
      *uptime = tj_num(j, "processes.1.uptime_s", -1);
      *gap = tj_num(j, "processes.1.last_exit.ago_s", -1) - *uptime;
      ck_assert_msg(strstr(tj_str(j, "processes.1.last_exit.how"), "signal 9"),
                    "last exit: %s", tj_str(j, "processes.1.last_exit.how"));
      tj_release(j);
      return pid;
    }
    tj_release(j);
    usleep(10 * 1000);
  }
  ck_abort_msg("no restart %d within 15 s", restarts);
  return -1;
}

/* A worker that dies within 1 s of its start is replaced after a delay
 * that grows (ARCHITECTURE.md: at once, then 100 ms doubling up to 5 s),
 * so that one that cannot start does not make the supervisor spin; one
 * that lived longer is replaced at once, and the backoff starts over.
 * The test kills each new worker (SIGKILL) as soon as /stats lists it;
 * the supervisor's own figures say how long each slot stayed empty. */
START_TEST(young_deaths_back_off) {
  tl_proc p;
  /* The cold restart's backoff: no spare to take the place. */
  const char *args[] = {"--processes",     "1", "--sample-ms", "50",
                        "--spare-workers", "0", NULL};
  tl_proc_start(&p, args);
  double gap, up;
  int pid = 0;
  for (double t0 = tl_now_s(); pid <= 0 && tl_now_s() - t0 < 10;
       usleep(10000)) {
    tj *j = tl_get_stats(p.admin_port);
    pid = (int) tj_num(j, "processes.1.pid", -1);
    tj_release(j);
  }
  ck_assert_int_gt(pid, 0);
  /* Expected empty slot after each young death: 0, 0.1, 0.2, 0.4, 0.8 s.
   * A timer fires no earlier than asked (less 10% and 5 ms for clock
   * granularity); a loaded machine may add a second. */
  const double want[] = {0, 0.1, 0.2, 0.4, 0.8};
  for (int k = 1; k <= 5; k++) {
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    pid = next_worker(&p, pid, k, &gap, &up);
    fprintf(stderr, "young_deaths_back_off: death %d, slot empty %.3f s\n", k,
            gap);
    ck_assert_msg(gap >= want[k - 1] * 0.9 - 0.005 && gap <= want[k - 1] + 1.0,
                  "young death %d: slot empty %.3f s, want about %.1f s", k,
                  gap, want[k - 1]);
  }
  /* This one lives past 1 s: replaced at once (not after 1.6 s). */
  for (double t0 = tl_now_s(); up < 1.2 && tl_now_s() - t0 < 10;
       usleep(50000)) {
    tj *j = tl_get_stats(p.admin_port);
    up = tj_num(j, "processes.1.uptime_s", 0);
    tj_release(j);
  }
  ck_assert_msg(up >= 1.2, "the worker never reached 1.2 s (%.2f)", up);
  ck_assert_int_eq(kill(pid, SIGKILL), 0);
  pid = next_worker(&p, pid, 6, &gap, &up);
  ck_assert_msg(gap < 0.8,
                "a worker that lived %.1f s replaced after %.3f s, "
                "want at once",
                1.2, gap);
  /* And the backoff starts over: the next young death waits 100 ms. */
  ck_assert_int_eq(kill(pid, SIGKILL), 0);
  pid = next_worker(&p, pid, 7, &gap, &up);
  ck_assert_msg(gap >= 0.085 && gap <= 1.1,
                "young death after a long life: slot empty %.3f s, want 0.1 s",
                gap);
  ck_assert_int_eq(tl_proc_stop(&p, 15000), 0);
  ck_assert(!alive(pid));
}
END_TEST

/* POST /control?QUERY on the admin port; the status. */
static int control(int admin_port, const char *query) {
  char req[200];
  snprintf(req, sizeof(req),
           "POST /control?%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
           "X-Threadlab: 1\r\nContent-Length: 0\r\n\r\n",
           query, admin_port);
  tl_resp r;
  ck_assert_int_eq(tl_roundtrip(admin_port, req, &r), 0);
  int st = r.status;
  tl_resp_free(&r);
  return st;
}

/* Memory (smaps_rollup), descriptors and the thread listing cost a walk
 * per thread: they are read every 10 s, not every period, and say how old
 * they are; the listing is read again at once when the thread count
 * changes. */
START_TEST(slow_figures_say_their_age) {
  tl_proc p;
  const char *args[] = {"--mode",      "pool", "--threads", "4",
                        "--sample-ms", "100",  NULL};
  tl_proc_start(&p, args);
  usleep(400 * 1000);
  tj *a = tl_get_stats(p.admin_port);
  usleep(600 * 1000);
  tj *b = tl_get_stats(p.admin_port);
  const char *keys[] = {"processes.0.mem_age_s", "processes.0.fds_age_s",
                        "processes.0.threads_age_s", "process.fds_age_s"};
  for (int k = 0; k < 4; k++) {
    double x = tj_num(a, keys[k], -1), y = tj_num(b, keys[k], -1);
    ck_assert_msg(x >= 0 && y >= 0, "%s missing", keys[k]);
    /* Not re-read in between: it aged with the wall clock (0.6 s). */
    ck_assert_msg(y >= x + 0.3 && y >= 0.7 && y < 10.5, "%s %.3f then %.3f",
                  keys[k], x, y);
  }
  int n0 = (int) tj_num(b, "processes.0.nthreads", 0);
  tj_release(a);
  tj_release(b);
  double t_ctl = tl_now_s();
  ck_assert_int_eq(control(p.admin_port, "threads=8"), 200);
  usleep(500 * 1000);
  tj *c = tl_get_stats(p.admin_port);
  ck_assert_int_eq((int) tj_num(c, "processes.0.nthreads", 0), n0 + 4);
  /* Listed since the change (not 10 s after the previous listing). */
  double age = tj_num(c, "processes.0.threads_age_s", 99);
  ck_assert_msg(age < tl_now_s() - t_ctl,
                "the listing is %.3f s old, the "
                "change %.3f s",
                age, tl_now_s() - t_ctl);
  tj_release(c);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* /control on the supervisor reaches every worker over its channel. */
START_TEST(control_reaches_every_worker) {
  tl_proc p;
  const char *args[] = {"--processes", "2", "--mode", "pool", NULL};
  tl_proc_start(&p, args);
  tl_resp r;
  char req[160];
  snprintf(req, sizeof(req),
           "POST /control?mode=async HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
           "X-Threadlab: 1\r\nContent-Length: 0\r\n\r\n",
           p.admin_port);
  ck_assert_int_eq(tl_roundtrip(p.admin_port, req, &r), 0);
  ck_assert_int_eq(r.status, 200);
  tl_resp_free(&r);
  usleep(200 * 1000);
  int seen[2] = {0, 0}, nseen = 0;
  for (int i = 0; i < 32; i++) {
    ck_assert_int_eq(tl_get(p.port, "/task?steps=cpu:1", &r), 200);
    char th[64], pid[32];
    ck_assert(tl_resp_find_header(&r, "X-Thread", th, sizeof(th)));
    ck_assert(tl_resp_find_header(&r, "X-Pid", pid, sizeof(pid)));
    ck_assert_str_eq(th, "loop"); /* async: the step ran on the loop */
    int q = atoi(pid);
    if (nseen < 2 && q != seen[0] && q != seen[1])
      seen[nseen++] = q;
    tl_resp_free(&r);
  }
  ck_assert_msg(nseen == 2, "32 connections all went to pid %d", seen[0]);
  ck_assert_int_eq(tl_proc_stop(&p, 15000), 0);
}
END_TEST

/* SIGTERM and SIGINT drain every worker and exit 0; a supervisor killed
 * outright takes its workers with it (PR_SET_PDEATHSIG). */
START_TEST(no_child_survives_a_stop) {
  int sigs[] = {SIGTERM, SIGINT, SIGKILL};
  for (int k = 0; k < 3; k++) {
    tl_proc p;
    const char *args[] = {"--processes", "2", "--shutdown-timeout-ms", "1000",
                          NULL};
    tl_proc_start(&p, args);
    int kids[16];
    int nk = children_of(p.pid, kids, 16);
    ck_assert_int_eq(nk, 3); /* two workers and the spare */
    kill(p.pid, sigs[k]);
    int st = tl_proc_wait(&p, 10000);
    ck_assert_int_eq(st, sigs[k] == SIGKILL ? 128 + SIGKILL : 0);
    double t0 = tl_now_s();
    while ((alive(kids[0]) || alive(kids[1]) || alive(kids[2])) &&
           tl_now_s() - t0 < 5)
      usleep(10 * 1000);
    ck_assert_msg(!alive(kids[0]) && !alive(kids[1]) && !alive(kids[2]),
                  "a worker outlived its supervisor (signal %d)", sigs[k]);
  }
}
END_TEST

static int run_status(const char *const *argv_tail) {
  const char *argv[16] = {tl_bin()};
  int n = 1;
  for (; argv_tail[n - 1]; n++)
    argv[n] = argv_tail[n - 1];
  argv[n] = NULL;
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int dn = open("/dev/null", O_WRONLY);
    dup2(dn, 1);
    dup2(dn, 2);
    execv(argv[0], (char *const *) argv);
    _exit(127);
  }
  int st;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(bounds_exit_2) {
  const char *a[] = {"--loops", "0", NULL};
  ck_assert_int_eq(run_status(a), 2);
  const char *b[] = {"--loops", "65", NULL};
  ck_assert_int_eq(run_status(b), 2);
  const char *c[] = {"--processes", "-1", NULL};
  ck_assert_int_eq(run_status(c), 2);
  const char *d[] = {"--processes", "65", NULL};
  ck_assert_int_eq(run_status(d), 2);
  const char *e[] = {"--processes", "2", "--spare-workers", "5", NULL};
  ck_assert_int_eq(run_status(e), 2);
  const char *f[] = {"--spare-workers", "1", NULL}; /* needs --processes */
  ck_assert_int_eq(run_status(f), 2);
}
END_TEST

TL_CHECK_MAIN("processes", loops_share_the_port_and_each_serves,
              loops_every_mode_answers, bounds_exit_2, crash_needs_allow_crash,
              one_process_crash_kills_it, stats_list_supervisor_and_workers,
              crash_restarts_one_worker_the_other_serves_on,
              spare_takes_a_dead_workers_place, no_child_survives_a_stop,
              control_reaches_every_worker, young_deaths_back_off,
              slow_figures_say_their_age)
