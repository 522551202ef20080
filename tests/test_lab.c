/* The lab against the real binary (SPEC "Lab"): --cpus and
 * /control?cpus= confine the workers (the kernel's Cpus_allowed_list says
 * so); one experiment runs through POST /lab/run with wrk, streams `lab`
 * progress events, ends with a verdict with numbers and the settings
 * restored; a second run meanwhile gets 409; a non-loopback client gets
 * 403; without wrk the run fails cleanly, saying how to install it. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include "tl_check.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tl_json.h"
#include "tl_testutil.h"

/* The n-th CPU this process may use, or -1. */
static int nth_allowed_cpu(int n) {
  cpu_set_t set;
  ck_assert_int_eq(sched_getaffinity(0, sizeof(set), &set), 0);
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &set) && n-- == 0)
      return c;
  return -1;
}

/* Cpus_allowed_list of every tl-worker-* thread of pid agree with want
 * (and there are `workers` of them). */
static bool workers_allowed(pid_t pid, const char *want, int workers) {
  char dir[64], path[400], line[256], comm[64];
  snprintf(dir, sizeof(dir), "/proc/%d/task", (int) pid);
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  int seen = 0;
  bool all = true;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof(path), "%s/%s/comm", dir, e->d_name);
    FILE *f = fopen(path, "r");
    if (!f)
      continue;
    bool worker =
        fgets(comm, sizeof(comm), f) && strncmp(comm, "tl-worker-", 10) == 0;
    fclose(f);
    if (!worker)
      continue;
    seen++;
    snprintf(path, sizeof(path), "%s/%s/status", dir, e->d_name);
    f = fopen(path, "r");
    if (!f)
      continue;
    while (fgets(line, sizeof(line), f))
      if (strncmp(line, "Cpus_allowed_list:", 18) == 0) {
        char *v = line + 18 + strspn(line + 18, " \t");
        v[strcspn(v, "\n")] = '\0';
        if (strcmp(v, want) != 0)
          all = false;
      }
    fclose(f);
  }
  closedir(d);
  return all && seen == workers;
}

static bool wait_workers_allowed(pid_t pid, const char *want, int workers) {
  for (int i = 0; i < 100; i++) {
    if (workers_allowed(pid, want, workers))
      return true;
    usleep(50000);
  }
  return false;
}

static tl_resp post(const tl_proc *p, const char *target, int fd) {
  char req[512];
  snprintf(req, sizeof(req),
           "POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Threadlab: 1\r\n"
           "Content-Length: 0\r\n\r\n",
           target, p->admin_port);
  tl_resp r;
  if (fd >= 0) {
    tl_send_str(fd, req);
    ck_assert_int_eq(tl_read_resp(fd, &r, false), 0);
  } else {
    ck_assert_int_eq(tl_roundtrip(p->admin_port, req, &r), 0);
  }
  return r;
}

START_TEST(cpus_confines_workers) {
  int first = nth_allowed_cpu(0);
  char a[16];
  snprintf(a, sizeof(a), "%d", first);
  const char *args[] = {"--threads",   "3",   "--cpus", a,
                        "--sample-ms", "100", NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  ck_assert_msg(wait_workers_allowed(p.pid, a, 3),
                "--cpus %s: the workers' Cpus_allowed_list is not %s", a, a);
  tj *j = tl_get_json(p.admin_port, "/stats");
  ck_assert_str_eq(tj_str(j, "server.worker_cpus"), a);
  tj_release(j);
  tl_resp r;
  /* Bad lists change nothing: 400 with a JSON error. */
  const char *bad[] = {"/control?cpus=abc", "/control?cpus=1-0",
                       "/control?cpus=100000",
                       "/control?cpus=", "/control?cpus=4095"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    r = post(&p, bad[i], -1);
    ck_assert_msg(r.status == 400, "%s answered %d", bad[i], r.status);
    ck_assert(strstr(r.body, "\"error\"") != NULL);
    tl_resp_free(&r);
  }
  r = post(&p, "/control?cpus=all", -1);
  ck_assert_int_eq(r.status, 200);
  tl_resp_free(&r);
  j = tl_get_json(p.admin_port, "/stats");
  char inherited[256];
  snprintf(inherited, sizeof(inherited), "%s",
           tj_str(j, "server.inherited_cpus"));
  tj_release(j);
  ck_assert_msg(wait_workers_allowed(p.pid, inherited, 3),
                "cpus=all did not give the workers %s back", inherited);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* /control?cpus=SECOND moves workers started on FIRST. */
START_TEST(control_cpus_moves_workers) {
  int first = nth_allowed_cpu(0), second = nth_allowed_cpu(1);
  if (second < 0)
    TL_SKIP("one CPU: nowhere to move the workers to");
  char a[16], b[16], q[64];
  snprintf(a, sizeof(a), "%d", first);
  snprintf(b, sizeof(b), "%d", second);
  const char *args[] = {"--threads",   "3",   "--cpus", a,
                        "--sample-ms", "100", NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  ck_assert(wait_workers_allowed(p.pid, a, 3));
  snprintf(q, sizeof(q), "/control?cpus=%s", b);
  tl_resp r = post(&p, q, -1);
  ck_assert_int_eq(r.status, 200);
  ck_assert_msg(strstr(r.body, "\"worker_cpus\"") != NULL, "%s", r.body);
  tl_resp_free(&r);
  ck_assert_msg(wait_workers_allowed(p.pid, b, 3),
                "/control?cpus=%s did not move the workers", b);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* Exit status of the binary with these arguments, confined to `cpu` (-1:
 * not confined). */
static int run_bin(int cpu, const char *const *args) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    if (cpu >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      sched_setaffinity(0, sizeof(set), &set);
    }
    const char *argv[16] = {tl_bin(),       "--port", "0",
                            "--admin-port", "0",      "--quiet"};
    int n = 6;
    for (int i = 0; args[i] && n < 15; i++)
      argv[n++] = args[i];
    argv[n] = NULL;
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    execv(argv[0], (char *const *) argv);
    _exit(127);
  }
  /* A binary that accepted the list runs on: stop it, as a failure. */
  int st;
  for (int i = 0; i < 100; i++) {
    if (waitpid(pid, &st, WNOHANG) == pid)
      return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    usleep(50000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &st, 0);
  return -2;
}

START_TEST(cpus_bad_lists_exit_2) {
  const char *a1[] = {"--cpus", "abc", NULL};
  const char *a2[] = {"--cpus", "1-0", NULL};
  const char *a3[] = {"--cpus", "", NULL};
  const char *a4[] = {"--cpus", "100000", NULL};
  ck_assert_int_eq(run_bin(-1, a1), 2);
  ck_assert_int_eq(run_bin(-1, a2), 2);
  ck_assert_int_eq(run_bin(-1, a3), 2);
  ck_assert_int_eq(run_bin(-1, a4), 2);
}
END_TEST

/* Under taskset -c FIRST, --cpus SECOND leaves the inherited mask: exit 2. */
START_TEST(cpus_outside_inherited_mask_exit_2) {
  int first = nth_allowed_cpu(0), second = nth_allowed_cpu(1);
  if (second < 0)
    TL_SKIP("one CPU: no CPU outside the inherited mask to name");
  char b[16];
  snprintf(b, sizeof(b), "%d", second);
  const char *a5[] = {"--cpus", b, NULL};
  ck_assert_int_eq(run_bin(first, a5), 2);
}
END_TEST

/* Reads the stream on fd until a `lab` result event (or timeout_s);
 * counts the progress events; returns the result's JSON text (malloc'd)
 * or NULL. */
/* A connection reading /stats/stream (the lab's progress and result). */
static int open_stream(const tl_proc *p) {
  int fd = tl_connect(p->admin_port);
  char req[256];
  snprintf(req, sizeof(req),
           "GET /stats/stream HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n",
           p->admin_port);
  tl_send_str(fd, req);
  return fd;
}

/* The data of the last load tick read_lab_events saw, and how many
 * variants' setup phases it saw. */
static char last_progress[1024];
static int setup_events;

/* The "variant" events of the last read_lab_events: each variant's record
 * as it was made, before the result. */
#define MAX_VARIANT_EVENTS 8
static char *variant_events[MAX_VARIANT_EVENTS];
static int nvariant_events;

static char *read_lab_events(int fd, int timeout_s, int *progress) {
  size_t cap = 1 << 20, len = 0;
  char *buf = malloc(cap);
  double end = tl_now_s() + timeout_s;
  *progress = 0;
  setup_events = 0;
  for (int i = 0; i < nvariant_events; i++)
    free(variant_events[i]);
  nvariant_events = 0;
  char *result = NULL;
  while (!result && tl_now_s() < end) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, 500) <= 0)
      continue;
    if (len + 65536 > cap) {
      /* Keep only the tail: snapshots are large, events are small. */
      memmove(buf, buf + len - 65536, 65536);
      len = 65536;
    }
    ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
    if (n <= 0)
      break;
    len += (size_t) n;
    buf[len] = '\0';
    char *ev;
    while ((ev = strstr(buf, "event: lab\ndata: ")) != NULL) {
      char *data = ev + 17, *nl = strstr(data, "\n\n");
      if (!nl)
        break;
      *nl = '\0';
      if (strstr(data, "\"type\":\"progress\"")) {
        (*progress)++;
        if (strstr(data, "\"rps_so_far\"")) /* a load tick */
          snprintf(last_progress, sizeof(last_progress), "%s", data);
        if (strstr(data, "\"phase\":\"setup\""))
          setup_events++;
      } else if (strstr(data, "\"type\":\"variant\"")) {
        if (nvariant_events < MAX_VARIANT_EVENTS)
          variant_events[nvariant_events++] = strdup(data);
      } else if (strstr(data, "\"type\":\"result\""))
        result = strdup(data);
      size_t used = (size_t) (nl + 2 - buf);
      memmove(buf, nl + 2, len - used + 1);
      len -= used;
    }
  }
  free(buf);
  return result;
}

START_TEST(lab_runs_one_experiment) {
  const char *args[] = {"--mode",      "pool", "--threads", "2",
                        "--sample-ms", "200",  NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  tj *book = tl_get_json(p.admin_port, "/lab");
  size_t nexp = tj_get(book, "experiments")->n;
  ck_assert_int_ge((int) nexp, 11);
  ck_assert_int_eq((int) tj_num(book, "experiments.1.predicted", -1) > 0, 1);
  /* Every experiment is a comparison: 2-3 variants, each with its setup,
   * unit and prediction (a number, or null where the model has none). */
  for (size_t i = 0; i < nexp; i++) {
    char path[96];
    snprintf(path, sizeof(path), "experiments.%zu.variants", i);
    const tj *vs = tj_get(book, path);
    ck_assert_msg(vs && vs->n >= 2 && vs->n <= 3, "%s: not 2-3 variants", path);
    for (size_t k = 0; k < vs->n; k++) {
      snprintf(path, sizeof(path), "experiments.%zu.variants.%zu.setup.mode", i,
               k);
      ck_assert_msg(tj_str(book, path) != NULL, "%s missing", path);
      snprintf(path, sizeof(path), "experiments.%zu.variants.%zu.unit", i, k);
      ck_assert_msg(tj_str(book, path) != NULL, "%s missing", path);
      snprintf(path, sizeof(path), "experiments.%zu.variants.%zu.predicted", i,
               k);
      ck_assert_msg(tj_get(book, path) != NULL, "%s missing", path);
    }
  }
  /* Each variant names its own formula: crash-isolation's one process is
   * bounded above ("at most 0 req/s"), its two processes below. */
  for (size_t i = 0; i < nexp; i++) {
    char path[96];
    snprintf(path, sizeof(path), "experiments.%zu.id", i);
    if (strcmp(tj_str(book, path), "crash-isolation") != 0)
      continue;
    snprintf(path, sizeof(path), "experiments.%zu.variants.0.formula", i);
    ck_assert_str_eq(tj_str(book, path), "at_most");
    snprintf(path, sizeof(path), "experiments.%zu.variants.1.formula", i);
    ck_assert_str_eq(tj_str(book, path), "greater_than");
  }
  /* one-core (experiments.2): one CPU predicts half of two (on 2+ CPUs). */
  ck_assert_str_eq(tj_str(book, "experiments.2.id"), "one-core");
  if (nth_allowed_cpu(1) >= 0)
    ck_assert(tj_num(book, "experiments.2.variants.1.predicted", 0) >
              1.5 * tj_num(book, "experiments.2.variants.0.predicted", 0));
  tj_release(book);
  int sfd = open_stream(&p);
  /* Unknown or missing id: no run. */
  tl_resp r = post(&p, "/lab/run?id=no-such-idea", -1);
  ck_assert_int_eq(r.status, 404);
  tl_resp_free(&r);
  r = post(&p, "/lab/run", -1);
  ck_assert_int_eq(r.status, 400);
  tl_resp_free(&r);
  r = post(&p, "/lab/run?id=process-threads&duration_s=0", -1);
  ck_assert_int_eq(r.status, 400); /* a load of 1 to 20 s only */
  tl_resp_free(&r);
  /* process-threads: 3, then 6 workers for 2 s of /plaintext each; the
   * kernel must list exactly that many worker threads while each runs. */
  r = post(&p, "/lab/run?id=process-threads&duration_s=2", -1);
  ck_assert_msg(r.status == 202, "run answered %d: %s", r.status, r.body);
  tl_resp_free(&r);
  r = post(&p, "/lab/run?id=scheduler", -1);
  ck_assert_msg(r.status == 409, "a second run answered %d", r.status);
  ck_assert(strstr(r.body, "\"error\"") != NULL);
  tl_resp_free(&r);
  int progress;
  char *res = read_lab_events(sfd, 25, &progress);
  tl_close(sfd);
  ck_assert_msg(res != NULL, "no lab result event within 25 s");
  ck_assert_msg(progress >= 1, "no lab progress event");
  ck_assert_int_eq(setup_events, 2); /* one setup phase per variant */
  tj *j = tj_parse(res, strlen(res));
  ck_assert_ptr_nonnull(j);
  ck_assert_str_eq(tj_str(j, "result.status"), "done");
  ck_assert_str_eq(tj_str(j, "result.id"), "process-threads");
  ck_assert_int_eq((int) tj_num(j, "result.predicted", -1), 3);
  ck_assert_int_eq((int) tj_num(j, "result.measured", -1), 3);
  ck_assert(tj_get(j, "result.within")->b);
  ck_assert(tj_num(j, "result.load.rps", 0) > 0);
  /* The progress and the series count the server's requests per second
   * (its own counters, while wrk ran): the same load wrk measured, within
   * a factor that a loaded machine's tick jitter cannot reach. */
  double wrk_rps = tj_num(j, "result.load.rps", 0);
  tj *pj = tj_parse(last_progress, strlen(last_progress));
  ck_assert_msg(pj != NULL, "progress event not JSON: %s", last_progress);
  double so_far = tj_num(pj, "rps_so_far", -1);
  ck_assert_msg(so_far > wrk_rps / 4 && so_far < wrk_rps * 4,
                "rps_so_far %.1f, wrk measured %.1f", so_far, wrk_rps);
  tj_release(pj);
  const tj *series = tj_get(j, "result.series");
  ck_assert_msg(series && series->n >= 1, "no series");
  double best = 0;
  for (size_t i = 0; i < series->n; i++) {
    char path[48];
    snprintf(path, sizeof(path), "result.series.%zu", i);
    if (tj_num(j, path, 0) > best)
      best = tj_num(j, path, 0);
  }
  ck_assert_msg(best > wrk_rps / 4 && best < wrk_rps * 4,
                "series peaks at %.1f req/s, wrk measured %.1f", best, wrk_rps);
  /* Both variants, each measured from its settings read back. */
  ck_assert_int_eq((int) tj_get(j, "result.variants")->n, 2);
  ck_assert_int_eq((int) tj_num(j, "result.variants.0.settings.threads", 0), 3);
  ck_assert_int_eq((int) tj_num(j, "result.variants.1.settings.threads", 0), 6);
  ck_assert_int_eq((int) tj_num(j, "result.variants.1.predicted", -1), 6);
  ck_assert_int_eq((int) tj_num(j, "result.variants.1.measured", -1), 6);
  ck_assert_msg(strstr(tj_str(j, "result.verdict.text"), "as the model says") !=
                    NULL,
                "%s", tj_str(j, "result.verdict.text"));
  ck_assert(tj_get(j, "result.verdict.consistent")->b);
  ck_assert(tj_get(j, "result.restored")->b);
  ck_assert_int_eq((int) tj_num(j, "result.settings_after.threads", 0), 2);
  /* 3 workers served 3 s of /plaintext (each request a task in pool
   * mode): they used CPU time, at most all of theirs. */
  ck_assert_str_eq(tj_str(j, "result.evidence.3.label"), "worker CPU time (s)");
  double cpu = tj_num(j, "result.evidence.3.delta", -1);
  double ran = tj_num(j, "result.duration_s", 0);
  ck_assert_msg(cpu > 0 && cpu <= 3 * ran + 0.5,
                "workers' CPU time over the run %.3f s (run %.2f s, 3 workers)",
                cpu, ran);
  /* "before" is read under the experiment's setup (3 workers), not from a
   * sample taken before it was applied. */
  ck_assert_str_eq(tj_str(j, "result.evidence.0.label"), "worker threads");
  ck_assert_int_eq((int) tj_num(j, "result.evidence.0.before", -1), 3);
  tj_release(j);
  free(res);
  /* The report page shows it: the question, both variants, a chart. */
  ck_assert_int_eq(tl_get(p.admin_port, "/lab/report", &r), 200);
  ck_assert_msg(strstr(r.body, "<!doctype html>") && strstr(r.body, "<svg") &&
                    strstr(r.body, "6 worker threads") &&
                    strstr(r.body, "one process with many threads"),
                "%.400s", r.body);
  tl_resp_free(&r);
  /* The runs list has it, and the server is back to its settings. */
  j = tl_get_json(p.admin_port, "/lab/runs");
  ck_assert_int_eq((int) tj_get(j, "runs")->n, 1);
  ck_assert_str_eq(tj_str(j, "runs.0.status"), "done");
  ck_assert(tj_is_null(j, "running"));
  tj_release(j);
  /* The kernel lists 2 workers again (the third left), on their set. */
  j = tl_get_json(p.admin_port, "/stats");
  char inherited[256];
  snprintf(inherited, sizeof(inherited), "%s",
           tj_str(j, "server.inherited_cpus"));
  tj_release(j);
  ck_assert(wait_workers_allowed(p.pid, inherited, 2));
  r = post(&p, "/lab/cancel", -1);
  ck_assert_int_eq(r.status, 409); /* nothing runs */
  tl_resp_free(&r);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* The CPUs the loop thread may use (never narrowed by --cpus): what "every
 * CPU" means to the lab. */
static void loop_allowed(const tj *j, char *out, size_t cap) {
  out[0] = '\0';
  for (int i = 0; i < 256; i++) {
    char path[64];
    snprintf(path, sizeof(path), "threads.%d.role", i);
    const char *role = tj_str(j, path);
    if (!role)
      break;
    snprintf(path, sizeof(path), "threads.%d.allowed", i);
    if (strcmp(role, "loop") == 0 && tj_str(j, path)) {
      snprintf(out, cap, "%s", tj_str(j, path));
      return;
    }
  }
}

/* one-core puts 4 workers on the first CPU for its 5 s of load, then on
 * every CPU; when it ends the workers are back on the CPU they were given
 * (--cpus: the second; the result says so and the kernel's
 * Cpus_allowed_list agrees). Started on every CPU, the last variant would
 * leave them there and a missing restore would go unseen. */
START_TEST(lab_one_core_restores_worker_cpus) {
  if (nth_allowed_cpu(1) < 0)
    TL_SKIP("one CPU: the experiment's one core is all the workers had");
  char first[16], second[16];
  snprintf(first, sizeof(first), "%d", nth_allowed_cpu(0));
  snprintf(second, sizeof(second), "%d", nth_allowed_cpu(1));
  const char *args[] = {"--mode", "pool",        "--threads", "2", "--cpus",
                        second,   "--sample-ms", "200",       NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  tj *j = tl_get_json(p.admin_port, "/stats");
  char before[256], every[256];
  snprintf(before, sizeof(before), "%s", tj_str(j, "server.worker_cpus"));
  loop_allowed(j, every, sizeof(every));
  tj_release(j);
  ck_assert_str_eq(before, second);
  ck_assert_msg(every[0] && strcmp(every, second) != 0, "every CPU: '%s'",
                every);
  ck_assert(wait_workers_allowed(p.pid, before, 2));
  int sfd = open_stream(&p);
  tl_resp r = post(&p, "/lab/run?id=one-core&duration_s=2", -1);
  ck_assert_msg(r.status == 202, "run answered %d: %s", r.status, r.body);
  tl_resp_free(&r);
  /* While it runs: 4 workers, all on the first CPU. */
  ck_assert_msg(wait_workers_allowed(p.pid, first, 4),
                "one-core did not put 4 workers on CPU %s", first);
  int progress;
  char *res = read_lab_events(sfd, 30, &progress);
  tl_close(sfd);
  ck_assert_msg(res != NULL, "no lab result event within 30 s");
  j = tj_parse(res, strlen(res));
  ck_assert_ptr_nonnull(j);
  ck_assert_str_eq(tj_str(j, "result.id"), "one-core");
  ck_assert_str_eq(tj_str(j, "result.status"), "done");
  /* The two variants, under the same load, from the settings read back:
   * one CPU, then every CPU; the verdict follows their figures. */
  ck_assert_int_eq((int) tj_get(j, "result.variants")->n, 2);
  ck_assert_str_eq(tj_str(j, "result.variants.0.settings.worker_cpus"), first);
  ck_assert_str_eq(tj_str(j, "result.variants.1.settings.worker_cpus"), every);
  double m0 = tj_num(j, "result.variants.0.measured", 0);
  double m1 = tj_num(j, "result.variants.1.measured", 0);
  double p0 = tj_num(j, "result.variants.0.predicted", 0);
  double p1 = tj_num(j, "result.variants.1.predicted", 0);
  ck_assert_msg(m0 > 0 && m1 > 0 && p0 > 0 && p1 > 1.5 * p0, "%g %g %g %g", m0,
                m1, p0, p1);
  bool agree = fabs((m1 / m0) / (p1 / p0) - 1) <=
               tj_num(j, "result.tolerance", 0) + 1e-9;
  ck_assert_msg(tj_get(j, "result.verdict.consistent")->b == agree,
                "%s (%g vs %g)", tj_str(j, "result.verdict.text"), m1 / m0,
                p1 / p0);
  ck_assert(strstr(tj_str(j, "result.verdict.text"),
                   agree ? "as the model says" : "but the model says") != NULL);
  /* Each variant's record came on its own as it was made, before the
   * result, with the figure the result then gives it. */
  ck_assert_int_eq(nvariant_events, 2);
  for (int i = 0; i < 2; i++) {
    tj *ve = tj_parse(variant_events[i], strlen(variant_events[i]));
    ck_assert_ptr_nonnull(ve);
    ck_assert_str_eq(tj_str(ve, "id"), "one-core");
    ck_assert_int_eq((int) tj_num(ve, "variant", -1), i);
    char path[64];
    snprintf(path, sizeof(path), "result.variants.%d.measured", i);
    ck_assert_msg(tj_num(ve, "record.measured", -1) == tj_num(j, path, -2),
                  "variant %d: %g in its event, %g in the result", i,
                  tj_num(ve, "record.measured", -1), tj_num(j, path, -2));
    tj_release(ve);
  }
  ck_assert(tj_get(j, "result.restored")->b);
  ck_assert_str_eq(tj_str(j, "result.settings_after.worker_cpus"), before);
  ck_assert_int_eq((int) tj_num(j, "result.settings_after.threads", 0), 2);
  ck_assert_str_eq(tj_str(j, "result.settings_after.mode"), "pool");
  tj_release(j);
  free(res);
  ck_assert_msg(wait_workers_allowed(p.pid, before, 2),
                "after one-core the 2 workers are not back on %s", before);
  /* A snapshot taken after the restore says so too. */
  j = tl_get_json(p.admin_port, "/stats");
  double seq = tj_num(j, "seq", 0);
  for (double t0 = tl_now_s();
       tj_num(j, "seq", 0) < seq + 2 && tl_now_s() - t0 < 10;) {
    tj_release(j);
    usleep(50000);
    j = tl_get_json(p.admin_port, "/stats");
  }
  ck_assert_str_eq(tj_str(j, "server.worker_cpus"), before);
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

START_TEST(lab_cancel_restores) {
  const char *args[] = {"--mode",      "async", "--threads", "2",
                        "--sample-ms", "200",   NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  int sfd = open_stream(&p);
  tl_resp r = post(&p, "/lab/run?id=scheduler", -1); /* pool, 8 workers, 5 s */
  ck_assert_int_eq(r.status, 202);
  tl_resp_free(&r);
  usleep(1500000);
  r = post(&p, "/lab/cancel", -1);
  ck_assert_int_eq(r.status, 200);
  tl_resp_free(&r);
  int progress;
  double t0 = tl_now_s();
  char *res = read_lab_events(sfd, 15, &progress);
  tl_close(sfd);
  ck_assert_ptr_nonnull(res);
  ck_assert_msg(tl_now_s() - t0 < 4.5, "cancel did not stop wrk early");
  tj *j = tj_parse(res, strlen(res));
  ck_assert_str_eq(tj_str(j, "result.status"), "cancelled");
  ck_assert(tj_is_null(j, "result.within"));
  ck_assert(tj_get(j, "result.restored")->b);
  ck_assert_str_eq(tj_str(j, "result.settings_after.mode"), "async");
  ck_assert_int_eq((int) tj_num(j, "result.settings_after.threads", 0), 2);
  tj_release(j);
  free(res);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* A page that starts a run and goes away (its stream reset mid-run) stops
 * nothing: the run ends, is listed and restores the settings. */
START_TEST(lab_run_outlives_its_page) {
  const char *args[] = {"--mode",      "async", "--threads", "2",
                        "--sample-ms", "200",   NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  int sfd = open_stream(&p);
  tl_resp r = post(&p, "/lab/run?id=process-threads&duration_s=2", -1);
  ck_assert_int_eq(r.status, 202);
  tl_resp_free(&r);
  usleep(1500000);
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  setsockopt(sfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  close(sfd); /* a reset, as a killed tab gives */
  tj *j = NULL;
  for (double t0 = tl_now_s(); tl_now_s() - t0 < 25; usleep(200000)) {
    j = tl_get_json(p.admin_port, "/lab/runs");
    if (tj_get(j, "runs")->n == 1 && tj_is_null(j, "running"))
      break;
    tj_release(j);
    j = NULL;
  }
  ck_assert_msg(j != NULL,
                "the run did not end within 25 s of its page leaving");
  ck_assert_str_eq(tj_str(j, "runs.0.status"), "done");
  ck_assert(tj_get(j, "runs.0.restored")->b);
  ck_assert_str_eq(tj_str(j, "runs.0.settings_after.mode"), "async");
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* id=all: every experiment in order, the answer says how long; a cancel
 * stops the series (no experiment after it starts) and restores. */
START_TEST(lab_run_all_then_cancel) {
  const char *args[] = {"--mode",      "async", "--threads", "2",
                        "--sample-ms", "200",   NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  tj *book = tl_get_json(p.admin_port, "/lab");
  int nexp = (int) tj_get(book, "experiments")->n;
  tj_release(book);
  tl_resp r = post(&p, "/lab/run?id=all&duration_s=1", -1);
  ck_assert_msg(r.status == 202, "id=all answered %d: %s", r.status, r.body);
  tj *j = tj_parse(r.body, r.body_len);
  int runnable = (int) tj_num(j, "experiments", 0),
      skipped = (int) tj_num(j, "skipped", -1);
  ck_assert_int_eq(runnable + skipped, nexp);
  /* A child server runs what needs a restart: nothing is skipped. */
  ck_assert_int_eq(skipped, 0);
  /* At least one variant of 1 s per experiment that runs. */
  ck_assert_msg(tj_num(j, "duration_s", 0) >= 2.0 * runnable, "%s", r.body);
  tj_release(j);
  tl_resp_free(&r);
  /* The first experiment ends and the second starts on its own. */
  j = NULL;
  for (double t0 = tl_now_s(); tl_now_s() - t0 < 30; usleep(200000)) {
    j = tl_get_json(p.admin_port, "/lab/runs");
    if (tj_get(j, "runs")->n >= 1 && !tj_is_null(j, "running"))
      break;
    tj_release(j);
    j = NULL;
  }
  ck_assert_msg(j != NULL, "the series did not go on to a second experiment");
  ck_assert_str_eq(tj_str(j, "runs.0.id"), "process-threads");
  tj_release(j);
  r = post(&p, "/lab/cancel", -1);
  ck_assert_int_eq(r.status, 200);
  tl_resp_free(&r);
  j = NULL;
  for (double t0 = tl_now_s(); tl_now_s() - t0 < 20; usleep(200000)) {
    j = tl_get_json(p.admin_port, "/lab/runs");
    if (tj_is_null(j, "running"))
      break;
    tj_release(j);
    j = NULL;
  }
  ck_assert_msg(j != NULL, "the cancelled series did not stop");
  int n = (int) tj_get(j, "runs")->n;
  char path[48];
  snprintf(path, sizeof(path), "runs.%d.status", n - 1);
  ck_assert_str_eq(tj_str(j, path), "cancelled");
  tj_release(j);
  /* Nothing more starts, and the settings are the server's again. */
  usleep(1000000);
  j = tl_get_json(p.admin_port, "/lab/runs");
  ck_assert(tj_is_null(j, "running"));
  ck_assert_int_eq((int) tj_get(j, "runs")->n, n);
  tj_release(j);
  j = tl_get_json(p.admin_port, "/stats");
  ck_assert_str_eq(tj_str(j, "server.mode"), "async");
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* process-costs has no load: each variant is the server's repeated
 * measurement (a median with its 10th-90th percentile spread), and the
 * verdict calls a difference only where the spreads part. */
START_TEST(lab_process_costs_medians_and_spread) {
  const char *args[] = {"--threads", "2", "--sample-ms", "200", NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  tj *j = NULL;
  for (double t0 = tl_now_s(); tl_now_s() - t0 < 20; usleep(200000)) {
    j = tl_get_json(p.admin_port, "/stats");
    if (tj_num(j, "costs.fork_to_ready_p90_us", -1) > 0)
      break;
    tj_release(j);
    j = NULL;
  }
  ck_assert_msg(j != NULL, "the costs were never measured");
  tj_release(j);
  tl_resp r = post(&p, "/lab/run?id=process-costs", -1);
  ck_assert_msg(r.status == 202, "%d %s", r.status, r.body);
  ck_assert(strstr(r.body, "\"duration_s\":0") != NULL); /* no load */
  tl_resp_free(&r);
  j = NULL;
  for (double t0 = tl_now_s(); tl_now_s() - t0 < 15; usleep(100000)) {
    j = tl_get_json(p.admin_port, "/lab/runs");
    if (tj_get(j, "runs")->n == 1 && tj_is_null(j, "running"))
      break;
    tj_release(j);
    j = NULL;
  }
  ck_assert_msg(j != NULL, "process-costs did not end");
  ck_assert_str_eq(tj_str(j, "runs.0.status"), "done");
  ck_assert(tj_is_null(j, "runs.0.load"));
  ck_assert_str_eq(tj_str(j, "runs.0.variants.0.id"), "thread");
  ck_assert_str_eq(tj_str(j, "runs.0.variants.1.id"), "process");
  double lo[2], hi[2];
  for (int i = 0; i < 2; i++) {
    char path[64];
    snprintf(path, sizeof(path), "runs.0.variants.%d.measured", i);
    double m = tj_num(j, path, -1);
    snprintf(path, sizeof(path), "runs.0.variants.%d.spread.0", i);
    lo[i] = tj_num(j, path, -1);
    snprintf(path, sizeof(path), "runs.0.variants.%d.spread.1", i);
    hi[i] = tj_num(j, path, -1);
    ck_assert_msg(lo[i] > 0 && lo[i] <= m && m <= hi[i],
                  "variant %d: %g not in %g-%g", i, m, lo[i], hi[i]);
  }
  bool apart = lo[1] > hi[0];
  /* And the memory each adds, the same way (a process above a thread: in
   * a sanitizer build a thread carries the sanitizer's own per-thread
   * state, 102 KiB against a process's 36 KiB under ASan, and the verdict
   * must then say NOT). */
  double mlo[2], mhi[2];
  for (int i = 0; i < 2; i++) {
    char path[64];
    snprintf(path, sizeof(path), "runs.0.variants.%d.also.0.spread.0", i);
    mlo[i] = tj_num(j, path, -1);
    snprintf(path, sizeof(path), "runs.0.variants.%d.also.0.spread.1", i);
    mhi[i] = tj_num(j, path, -1);
    ck_assert_msg(mlo[i] > 0 && mlo[i] <= mhi[i], "variant %d memory %g-%g", i,
                  mlo[i], mhi[i]);
  }
  bool mem_apart = mlo[1] > mhi[0];
  ck_assert_msg(
      tj_get(j, "runs.0.verdict.consistent")->b == (apart && mem_apart),
      "time %s, memory %s: %s", apart ? "apart" : "overlap",
      mem_apart ? "apart" : "not above", tj_str(j, "runs.0.verdict.text"));
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

START_TEST(lab_without_wrk_says_how_to_install) {
  setenv("PATH", "/nonexistent", 1);
  const char *args[] = {"--threads", "2", "--sample-ms", "200", NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  tj *j = tl_get_json(p.admin_port, "/lab");
  ck_assert(!tj_get(j, "wrk_installed")->b);
  tj_release(j);
  tl_resp r = post(&p, "/lab/run?id=pin", -1);
  ck_assert_int_eq(r.status, 202);
  tl_resp_free(&r);
  j = NULL;
  for (int i = 0; i < 100; i++) {
    j = tl_get_json(p.admin_port, "/lab/runs");
    if (tj_get(j, "runs")->n == 1)
      break;
    tj_release(j);
    j = NULL;
    usleep(50000);
  }
  ck_assert_msg(j != NULL, "the run never ended");
  ck_assert_str_eq(tj_str(j, "runs.0.status"), "failed");
  ck_assert(strstr(tj_str(j, "runs.0.reason"), "apt-get install wrk") != NULL);
  ck_assert(tj_get(j, "runs.0.restored")->b);
  ck_assert(!tj_get(j, "runs.0.settings_after.pin")->b);
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

START_TEST(lab_refuses_non_loopback) {
  char src[64];
  if (!tl_own_address(src, sizeof(src)))
    TL_SKIP("this machine has no non-loopback IPv4 address");
  const char *args[] = {"--threads", "2", NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  const char *targets[] = {"/lab/run?id=pin", "/lab/cancel"};
  for (int i = 0; i < 2; i++) {
    int fd = tl_connect_from(src, p.admin_port);
    ck_assert_msg(fd >= 0, "cannot connect from %s: %s", src, strerror(errno));
    tl_resp r = post(&p, targets[i], fd);
    ck_assert_msg(r.status == 403, "%s from %s answered %d", targets[i], src,
                  r.status);
    ck_assert(strstr(r.body, "\"error\"") != NULL);
    tl_resp_free(&r);
    tl_close(fd);
  }
  /* Nothing ran. */
  tj *j = tl_get_json(p.admin_port, "/lab/runs");
  ck_assert_int_eq((int) tj_get(j, "runs")->n, 0);
  ck_assert(tj_is_null(j, "running"));
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* A pid that no longer runs: gone, or a zombie nobody reaped yet (an
 * orphan's reaper here may be slow). */
static bool pid_gone(pid_t pid) {
  if (kill(pid, 0) != 0)
    return errno == ESRCH;
  char path[64], buf[512];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return true;
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *rp = strrchr(buf, ')');
  return rp && (rp[2] == 'Z' || rp[2] == 'X');
}

static bool wait_pid_gone(pid_t pid, double timeout_s) {
  for (double t0 = tl_now_s(); tl_now_s() - t0 < timeout_s; usleep(50000))
    if (pid_gone(pid))
      return true;
  return pid_gone(pid);
}

/* /lab/runs once the run is over (running null, a result listed). */
static tj *wait_run_over(const tl_proc *p, double timeout_s) {
  for (double t0 = tl_now_s(); tl_now_s() - t0 < timeout_s; usleep(200000)) {
    tj *j = tl_get_json(p->admin_port, "/lab/runs");
    if (tj_get(j, "runs")->n >= 1 && tj_is_null(j, "running"))
      return j;
    tj_release(j);
  }
  ck_abort_msg("the lab run did not end within %.0f s", timeout_s);
  return NULL;
}

/* The pids of a running child server: its own (from the run's status)
 * and every process its /stats lists (its workers under --processes),
 * read through the parent's GET /lab/child/stats. Waits until a variant
 * runs in a child with a load; returns how many pids. */
static int child_pids(const tl_proc *p, pid_t *out, int cap, double timeout_s) {
  for (double t0 = tl_now_s(); tl_now_s() - t0 < timeout_s; usleep(100000)) {
    tj *j = tl_get_json(p->admin_port, "/lab/runs");
    bool running = !tj_is_null(j, "running") &&
                   strcmp(tj_str(j, "running.state"), "running") == 0 &&
                   !tj_is_null(j, "running.child");
    pid_t cpid = running ? (pid_t) tj_num(j, "running.child.pid", 0) : 0;
    tj_release(j);
    if (!running)
      continue;
    tl_resp r;
    int st = tl_get(p->admin_port, "/lab/child/stats", &r);
    if (st != 200 || strcmp(r.body, "null\n") == 0) {
      tl_resp_free(&r);
      continue;
    }
    tj *c = tj_parse(r.body, r.body_len);
    tl_resp_free(&r);
    ck_assert_ptr_nonnull(c);
    /* The child's picture, not the parent's: its own pid. */
    ck_assert_int_eq((int) tj_num(c, "lab_child.pid", 0), (int) cpid);
    ck_assert_int_eq((int) tj_num(c, "process.pid", 0), (int) cpid);
    ck_assert_int_ne((int) cpid, (int) p->pid);
    int n = 0;
    out[n++] = cpid;
    const tj *procs = tj_get(c, "processes");
    for (size_t i = 0; procs && i < procs->n && n < cap; i++) {
      char path[48];
      snprintf(path, sizeof(path), "processes.%zu.pid", i);
      pid_t q = (pid_t) tj_num(c, path, 0);
      if (q > 0 && q != cpid)
        out[n++] = q;
    }
    tj_release(c);
    return n;
  }
  ck_abort_msg("no variant ran in a child server within %.0f s", timeout_s);
  return 0;
}

/* The evidence item `label` of variant vi: its value while the load ran. */
static double variant_evidence(const tj *j, int vi, const char *label) {
  char path[96];
  for (int k = 0; k < 20; k++) {
    snprintf(path, sizeof(path), "runs.0.variants.%d.evidence.%d.label", vi, k);
    const char *l = tj_str(j, path);
    if (!l)
      break;
    if (strcmp(l, label) == 0) {
      snprintf(path, sizeof(path), "runs.0.variants.%d.evidence.%d.after", vi,
               k);
      return tj_num(j, path, NAN);
    }
  }
  return NAN;
}

/* SPEC "Lab 2": crash-isolation needs --allow-crash and --processes 2,
 * which this server was not started with: each variant runs in a child
 * server the lab starts (no 422). The one-process child dies of the
 * crash (SIGSEGV, seen by its parent), the --processes 2 child keeps
 * serving and replaces its worker; the figures are the child's (its
 * processes, not this server's one); both children are gone after. */
START_TEST(lab_child_runs_crash_isolation) {
  const char *args[] = {"--mode",      "pool", "--threads", "2",
                        "--sample-ms", "200",  NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  tl_resp r = post(&p, "/lab/run?id=crash-isolation&duration_s=2", -1);
  ck_assert_msg(r.status == 202, "crash-isolation answered %d: %s", r.status,
                r.body);
  /* Its trigger (the crash) at 1 s needs 3 s of load after it: each of
   * the 2 variants' loads lasts 4 s, not the 2 asked for. */
  tj *a = tj_parse(r.body, r.body_len);
  ck_assert_msg(tj_num(a, "duration_s", 0) == 8, "%s", r.body);
  tj_release(a);
  tl_resp_free(&r);
  tj *j = wait_run_over(&p, 60);
  ck_assert_str_eq(tj_str(j, "runs.0.status"), "done");
  /* Variant 0: one process, --allow-crash, read back from the child. */
  ck_assert(tj_get(j, "runs.0.variants.0.settings.child")->b);
  ck_assert(tj_get(j, "runs.0.variants.0.settings.allow_crash")->b);
  ck_assert_int_eq((int) tj_num(j, "runs.0.variants.0.settings.processes", -1),
                   0);
  pid_t c0 = (pid_t) tj_num(j, "runs.0.variants.0.child.pid", 0);
  ck_assert_int_gt((int) c0, 0);
  ck_assert_int_ne((int) c0, (int) p.pid);
  ck_assert_msg(strstr(tj_str(j, "runs.0.variants.0.child.exit"), "SIGSEGV"),
                "the one-process child: %s",
                tj_str(j, "runs.0.variants.0.child.exit"));
  ck_assert(tj_num(j, "runs.0.variants.0.measured", -1) == 0);
  ck_assert(variant_evidence(j, 0, "child server answering at the end") == 0);
  /* Variant 1: --processes 2, read back; it served after the crash. */
  ck_assert_int_eq((int) tj_num(j, "runs.0.variants.1.settings.processes", -1),
                   2);
  pid_t c1 = (pid_t) tj_num(j, "runs.0.variants.1.child.pid", 0);
  ck_assert_int_gt((int) c1, 0);
  ck_assert_int_ne((int) c1, (int) c0);
  ck_assert_msg(tj_num(j, "runs.0.variants.1.measured", 0) > 0,
                "no request served after the crash under --processes 2");
  ck_assert_msg(variant_evidence(j, 1, "worker restarts") > 0,
                "the crashed worker process was not replaced");
  /* The child's processes (supervisor, 2 workers, spare), not ours. */
  ck_assert_msg(variant_evidence(j, 1, "processes") >= 3, "processes: %g",
                variant_evidence(j, 1, "processes"));
  ck_assert(tj_get(j, "runs.0.verdict.consistent")->b);
  ck_assert(tj_get(j, "runs.0.variants.1.child.gone")->b);
  tj_release(j);
  ck_assert(wait_pid_gone(c0, 5));
  ck_assert(wait_pid_gone(c1, 5));
  /* This server never crashed and is still one process. */
  j = tl_get_json(p.admin_port, "/stats");
  ck_assert_int_eq((int) tj_num(j, "process.pid", 0), (int) p.pid);
  ck_assert_int_eq((int) tj_get(j, "processes")->n, 1);
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* A cancel while a variant runs in a child server stops the child and
 * every process of it (its workers under --processes too): all gone,
 * checked by pid; the child's picture is then null. */
START_TEST(lab_child_cancel_leaves_none) {
  const char *args[] = {"--mode",      "pool", "--threads", "2",
                        "--sample-ms", "200",  NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  /* race-processes' variants both run in children; 10 s each. */
  tl_resp r = post(&p, "/lab/run?id=race-processes&duration_s=10", -1);
  ck_assert_int_eq(r.status, 202);
  tl_resp_free(&r);
  pid_t pids[16];
  int n = child_pids(&p, pids, 16, 30);
  ck_assert_int_ge(n, 1);
  r = post(&p, "/lab/cancel", -1);
  ck_assert_int_eq(r.status, 200);
  tl_resp_free(&r);
  tj *j = wait_run_over(&p, 20);
  ck_assert_str_eq(tj_str(j, "runs.0.status"), "cancelled");
  ck_assert_int_eq((int) tj_get(j, "runs.0.variants")->n, 1);
  ck_assert_int_eq((int) tj_num(j, "runs.0.variants.0.child.pid", 0),
                   (int) pids[0]);
  tj_release(j);
  for (int i = 0; i < n; i++)
    ck_assert_msg(wait_pid_gone(pids[i], 5), "pid %d outlived the cancel",
                  (int) pids[i]);
  ck_assert_int_eq(tl_get(p.admin_port, "/lab/child/stats", &r), 200);
  ck_assert_str_eq(r.body, "null\n");
  tl_resp_free(&r);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

/* The parent stops while its child server runs under --processes 2 (the
 * deadlock experiment's second variant): on SIGTERM the lab kills it; on
 * SIGKILL (no chance to) the child's PR_SET_PDEATHSIG does. No process of
 * either child is left. */
START_TEST(lab_child_dies_with_parent) {
  const char *args[] = {"--mode",      "pool", "--threads", "2",
                        "--sample-ms", "200",  NULL};
  for (int how = 0; how < 2; how++) {
    tl_proc p;
    tl_proc_start(&p, args);
    /* deadlock's second variant: --processes 2 (after 3 s of the first). */
    tl_resp r = post(&p, "/lab/run?id=deadlock&duration_s=4", -1);
    ck_assert_int_eq(r.status, 202);
    tl_resp_free(&r);
    pid_t pids[16];
    int n = 0;
    /* Generous: a sanitizer build on a loaded machine starts slowly. */
    for (double t0 = tl_now_s(); tl_now_s() - t0 < 80 && n < 3;) {
      n = child_pids(&p, pids, 16, 80);
      if (n < 3)
        usleep(300000);
    }
    ck_assert_msg(n >= 3, "no child server with worker processes (%d pids)", n);
    if (how == 0) {
      ck_assert_int_eq(tl_proc_stop(&p, 15000), 0);
    } else {
      kill(p.pid, SIGKILL);
      tl_proc_wait(&p, 5000);
    }
    for (int i = 0; i < n; i++)
      ck_assert_msg(wait_pid_gone(pids[i], 8),
                    "pid %d outlived its parent (%s)", (int) pids[i],
                    how ? "SIGKILL" : "SIGTERM");
  }
}
END_TEST

/* Bad input stays a clean 4xx with the child servers in place. */
START_TEST(lab_child_bad_input) {
  const char *args[] = {"--threads", "2", NULL};
  tl_proc p;
  tl_proc_start(&p, args);
  tl_resp r;
  ck_assert_int_eq(tl_get(p.admin_port, "/lab/child/stats", &r), 200);
  ck_assert_str_eq(r.body, "null\n");
  tl_resp_free(&r);
  r = post(&p, "/lab/child/stats", -1);
  ck_assert_int_eq(r.status, 405);
  tl_resp_free(&r);
  r = post(&p, "/lab/run?id=crash-isolation&duration_s=0", -1);
  ck_assert_int_eq(r.status, 400);
  tl_resp_free(&r);
  r = post(&p, "/lab/run?id=crash-isolation&duration_s=99", -1);
  ck_assert_int_eq(r.status, 400);
  tl_resp_free(&r);
  r = post(&p, "/lab/run?id=deadlock%00", -1);
  ck_assert_int_ge(r.status, 400);
  ck_assert_int_lt(r.status, 500);
  tl_resp_free(&r);
  /* Nothing ran, no child started. */
  tj *j = tl_get_json(p.admin_port, "/lab/runs");
  ck_assert_int_eq((int) tj_get(j, "runs")->n, 0);
  ck_assert(tj_is_null(j, "running"));
  tj_release(j);
  ck_assert_int_eq(tl_proc_stop(&p, 10000), 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("lab");
  TCase *tc = tcase_create("lab");
  tcase_set_timeout(tc, 90);
  tcase_add_test(tc, cpus_confines_workers);
  tcase_add_test(tc, control_cpus_moves_workers);
  tcase_add_test(tc, cpus_bad_lists_exit_2);
  tcase_add_test(tc, cpus_outside_inherited_mask_exit_2);
  tcase_add_test(tc, lab_runs_one_experiment);
  tcase_add_test(tc, lab_one_core_restores_worker_cpus);
  tcase_add_test(tc, lab_cancel_restores);
  tcase_add_test(tc, lab_run_outlives_its_page);
  tcase_add_test(tc, lab_run_all_then_cancel);
  tcase_add_test(tc, lab_process_costs_medians_and_spread);
  tcase_add_test(tc, lab_without_wrk_says_how_to_install);
  tcase_add_test(tc, lab_refuses_non_loopback);
  suite_add_tcase(s, tc);
  /* Variants that need a restart, run in child servers (SPEC "Lab 2"). */
  TCase *child = tcase_create("child");
  tcase_set_timeout(child, 240);
  tcase_add_test(child, lab_child_runs_crash_isolation);
  tcase_add_test(child, lab_child_cancel_leaves_none);
  tcase_add_test(child, lab_child_dies_with_parent);
  tcase_add_test(child, lab_child_bad_input);
  suite_add_tcase(s, child);
  return tl_check_run(s);
}
