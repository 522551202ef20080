#include "config.h"

#include "observer/lab.h"

#include "base/cpulist.h"
#include "base/query.h"
#include "base/util.h"
#include "observer/guard.h"
#include "observer/lab_evidence.h"
#include "observer/lab_predict.h"
#include "observer/lab_wrk.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LAB_MAX_RUNS 50
#define LAB_MAX_DURATION_S 20
#define LAB_GRACE_S 5 /* wrk past its duration by this much: killed */

typedef enum { LAB_IDLE, LAB_APPLYING, LAB_RUNNING, LAB_RESTORING } lab_state;

/* One wrk process and the pipe its stdout comes through. */
typedef struct wrk_proc {
  struct tl_lab *lab;
  uv_process_t proc;
  uv_pipe_t out;
  tl_buf text;       /* what it printed */
  bool spawned;
  int64_t exit_status;
  int term_signal;
} wrk_proc;

struct tl_lab {
  /* Immutable after init. */
  tl_server *srv;
  uv_loop_t *uv;
  tl_sampler *stats;
  tl_sse *sse;
  tl_obs_control *ctl;
  json_t *book;          /* experiments.json, or NULL (book_error says why) */
  char book_path[4096];
  char book_error[4400];
  /* The run in progress (observer thread). */
  lab_state state;
  bool stopping;
  bool cancel;
  int seq;               /* runs started since start */
  json_t *exp;           /* borrowed from book */
  json_t *result;        /* being built */
  tl_control saved;      /* the settings to restore */
  char saved_cpus[256];
  char fail[300];        /* why the run failed, "" if it did not */
  wrk_proc wrk[2];       /* the load and, for some ideas, a probe */
  int nwrk, handles_open;
  uv_timer_t tick;
  bool tick_init;
  uint64_t t0_ns;
  double duration_s;
  json_t *before, *during; /* /stats at the start, the last while wrk ran */
  json_t *series;        /* req/s per tick, from the server's counters */
  double last_total, last_uptime_ms;
  json_t *runs;          /* the last LAB_MAX_RUNS results, oldest first */
};

static const char *find_book(char *out, size_t cap) {
  const char *cands[] = {TL_PKGDATADIR "/experiments.json",
                         TL_SRCDIR "/loadtest/experiments.json"};
  struct stat st;
  for (size_t i = 0; i < TL_ARRAY_SIZE(cands); i++)
    if (stat(cands[i], &st) == 0) {
      snprintf(out, cap, "%s", cands[i]);
      return out;
    }
  snprintf(out, cap, "%s", cands[1]);
  return out;
}

tl_lab *tl_lab_init(uv_loop_t *uv, tl_server *srv, tl_sampler *stats,
                    tl_sse *sse, tl_obs_control *ctl) {
  tl_lab *lab = tl_xcalloc(1, sizeof(*lab));
  lab->uv = uv;
  lab->srv = srv;
  lab->stats = stats;
  lab->sse = sse;
  lab->ctl = ctl;
  lab->runs = json_array();
  find_book(lab->book_path, sizeof(lab->book_path));
  json_error_t err;
  lab->book = json_load_file(lab->book_path, 0, &err);
  if (!lab->book)
    snprintf(lab->book_error, sizeof(lab->book_error), "%s: line %d: %s",
             lab->book_path, err.line, err.text);
  else if (!json_is_array(json_object_get(lab->book, "experiments"))) {
    snprintf(lab->book_error, sizeof(lab->book_error),
             "%s: no \"experiments\" array", lab->book_path);
    json_decref(lab->book);
    lab->book = NULL;
  }
  uv_timer_init(uv, &lab->tick);
  lab->tick_init = true;
  return lab;
}

void tl_lab_stop(tl_lab *lab) {
  lab->stopping = true;
  for (int i = 0; i < lab->nwrk; i++)
    if (lab->wrk[i].spawned && !uv_is_closing((uv_handle_t *) &lab->wrk[i].proc))
      uv_process_kill(&lab->wrk[i].proc, SIGKILL);
}

void tl_lab_close(tl_lab *lab) {
  for (int i = 0; i < 2; i++)
    tl_buf_close(&lab->wrk[i].text);
  json_decref(lab->result);
  json_decref(lab->before);
  json_decref(lab->during);
  json_decref(lab->series);
  json_decref(lab->runs);
  json_decref(lab->book);
  free(lab);
}

/* ---- small helpers ------------------------------------------------- */

static void respond_json(tl_admin_conn *c, int status, json_t *j) {
  char *s = json_dumps(j, JSON_COMPACT);
  size_t n = strlen(s);
  s = realloc(s, n + 2);
  s[n] = '\n';
  tl_admin_conn_respond(c, status, "application/json", "Cache-Control: no-store\r\n",
                   s, n + 1);
  free(s);
  json_decref(j);
}

static void broadcast(tl_lab *lab, json_t *ev) {
  char *s = json_dumps(ev, JSON_COMPACT);
  tl_sse_broadcast_event(lab->sse, "lab", s, strlen(s));
  free(s);
  json_decref(ev);
}

static json_t *stats_now(tl_lab *lab) {
  const tl_buf *b = tl_sampler_json(lab->stats);
  return json_loadb(b->data, b->len, 0, NULL);
}

static double num_at(json_t *root, const char *path) {
  json_t *v = tl_lab_evidence_eval(root, path, "max");
  double x = json_is_number(v) ? json_number_value(v) : NAN;
  json_decref(v);
  return x;
}

static const char *str_of(json_t *o, const char *k, const char *dflt) {
  json_t *v = json_object_get(o, k);
  return json_is_string(v) ? json_string_value(v) : dflt;
}

static double num_of(json_t *o, const char *k, double dflt) {
  json_t *v = json_object_get(o, k);
  return json_is_number(v) ? json_number_value(v) : dflt;
}

static json_t *find_exp(tl_lab *lab, const char *id) {
  if (!lab->book)
    return NULL;
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(lab->book, "experiments"), i, e)
    if (strcmp(str_of(e, "id", ""), id) == 0)
      return e;
  return NULL;
}

static bool wrk_installed(void) {
  const char *path = getenv("PATH");
  if (!path)
    return false;
  char dir[4096];
  while (*path) {
    size_t n = strcspn(path, ":");
    if (n > 0 && n < sizeof(dir) - 5) {
      snprintf(dir, sizeof(dir), "%.*s/wrk", (int) n, path);
      if (access(dir, X_OK) == 0)
        return true;
    }
    path += n + (path[n] == ':');
  }
  return false;
}

/* The workers' CPU set an experiment's setup asks for ("all", "first", a
 * cpulist; absent: the current one). -1 when the text is bad. */
static int setup_cpus(tl_lab *lab, json_t *setup, cpu_set_t *out, int *op) {
  cpu_set_t cur, inherited;
  tl_server_worker_cpus(lab->srv, &cur, &inherited);
  const char *want = str_of(setup, "cpus", NULL);
  *op = -1;
  *out = cur;
  if (!want)
    return 0;
  if (strcmp(want, "all") == 0) {
    *op = 0;
    *out = inherited;
    return 0;
  }
  if (strcmp(want, "first") == 0) {
    CPU_ZERO(out);
    for (int c = 0; c < CPU_SETSIZE; c++)
      if (CPU_ISSET(c, &inherited)) {
        CPU_SET(c, out);
        break;
      }
  } else if (tl_cpulist_parse(want, strlen(want), out) != 0 ||
             tl_cpulist_check(out, &inherited) != NULL) {
    return -1;
  }
  *op = 1;
  return 0;
}

static int setup_threads(json_t *setup, const cpu_set_t *cpus, int current) {
  json_t *t = json_object_get(setup, "threads");
  if (json_is_integer(t))
    return (int) json_integer_value(t);
  if (json_is_string(t) && strcmp(json_string_value(t), "cores") == 0)
    return CPU_COUNT(cpus);
  return current;
}

/* The model's inputs for `exp` on this machine. */
static void model_of(tl_lab *lab, json_t *exp, tl_lab_model *m) {
  json_t *setup = json_object_get(exp, "setup");
  json_t *params = json_object_get(json_object_get(exp, "prediction"), "params");
  cpu_set_t cpus;
  int op;
  setup_cpus(lab, setup, &cpus, &op);
  memset(m, 0, sizeof(*m));
  m->cores = CPU_COUNT(&cpus);
  m->workers = setup_threads(setup, &cpus, atomic_load(&lab->srv->threads));
  const char *mode = str_of(setup, "mode", tl_mode_name(tl_server_mode(lab->srv)));
  m->async = strcmp(mode, "async") == 0;
  m->connections = (int) num_of(json_object_get(exp, "load"), "connections", 1);
  m->cpu_ms = num_of(params, "cpu_ms", 0);
  m->io_ms = num_of(params, "io_ms", 0);
  m->threshold = num_of(params, "threshold", 0);
}

static json_t *prediction_json(tl_lab *lab, json_t *exp) {
  tl_lab_model m;
  model_of(lab, exp, &m);
  const char *formula =
      str_of(json_object_get(exp, "prediction"), "formula", "");
  double p = tl_lab_predict(formula, &m);
  return json_pack("{s:o,s:b,s:{s:i,s:i,s:b,s:i,s:f,s:f}}", "predicted",
                   p >= 0 ? json_real(p) : json_null(), "bound",
                   tl_lab_predict_is_bound(formula), "model", "cores", m.cores,
                   "workers", m.workers, "async", m.async, "connections",
                   m.connections, "cpu_ms", m.cpu_ms, "io_ms", m.io_ms);
}

/* ---- GET /lab, GET /lab/runs --------------------------------------- */

static json_t *running_json(tl_lab *lab) {
  if (lab->state == LAB_IDLE)
    return json_null();
  static const char *names[] = {"idle", "applying", "running", "restoring"};
  double el = (double) (tl_now_ns() - lab->t0_ns) / 1e9;
  return json_pack("{s:s,s:i,s:s,s:f,s:f}", "id", str_of(lab->exp, "id", ""),
                   "run", lab->seq, "state", names[lab->state], "elapsed_s",
                   lab->state == LAB_RUNNING ? el : 0.0, "duration_s",
                   lab->duration_s);
}

static void get_lab(tl_lab *lab, tl_admin_conn *c) {
  if (!lab->book) {
    json_t *j = json_pack("{s:s,s:s}", "error", "no experiments file",
                          "why", lab->book_error);
    respond_json(c, 500, j);
    return;
  }
  cpu_set_t cur, inherited;
  char cur_s[256], inh_s[256];
  tl_server_worker_cpus(lab->srv, &cur, &inherited);
  tl_cpulist_format(&cur, cur_s, sizeof(cur_s));
  tl_cpulist_format(&inherited, inh_s, sizeof(inh_s));
  json_t *list = json_array();
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(lab->book, "experiments"), i, e) {
    json_t *x = json_deep_copy(e);
    json_t *p = prediction_json(lab, e);
    json_object_update(x, p);
    json_decref(p);
    json_array_append_new(list, x);
  }
  bool wrk = wrk_installed();
  json_t *j = json_pack(
      "{s:s,s:{s:i,s:s,s:s,s:i},s:b,s:o,s:o,s:o}", "file", lab->book_path,
      "machine", "online_cpus", tl_ncpu(), "inherited_cpus", inh_s,
      "worker_cpus", cur_s, "workers", atomic_load(&lab->srv->threads),
      "wrk_installed", wrk, "wrk_hint",
      wrk ? json_null() : json_string("wrk is not installed: apt-get install wrk (or ./setup-deps)"),
      "running", running_json(lab), "experiments", list);
  respond_json(c, 200, j);
}

static void get_runs(tl_lab *lab, tl_admin_conn *c) {
  respond_json(c, 200, json_pack("{s:o,s:O}", "running", running_json(lab),
                                 "runs", lab->runs));
}

/* ---- a run ---------------------------------------------------------- */

static void start_restore(tl_lab *lab);

static void save_settings(tl_lab *lab) {
  tl_control *s = &lab->saved;
  memset(s, 0, sizeof(*s));
  s->mode = (int) tl_server_mode(lab->srv);
  s->threads = atomic_load(&lab->srv->threads);
  s->pin = atomic_load(&lab->srv->pinned) ? 1 : 0;
  cpu_set_t inherited;
  tl_server_worker_cpus(lab->srv, &s->cpus, &inherited);
  /* Under --processes only the other settings exist live. */
  s->cpus_op = lab->srv->pool ? (CPU_EQUAL(&s->cpus, &inherited) ? 0 : 1) : -1;
  tl_cpulist_format(&s->cpus, lab->saved_cpus, sizeof(lab->saved_cpus));
}

static json_t *settings_json(const tl_control *s, const char *cpus) {
  return json_pack("{s:s,s:i,s:b,s:s}", "mode", tl_mode_name((tl_mode) s->mode),
                   "threads", s->threads, "pin", s->pin == 1, "worker_cpus",
                   cpus);
}

static void on_wrk_closed(uv_handle_t *h) {
  tl_lab *lab = h->data;
  if (--lab->handles_open > 0 || lab->stopping)
    return;
  uv_timer_stop(&lab->tick);
  start_restore(lab);
}

static void on_wrk_exit(uv_process_t *p, int64_t status, int sig) {
  wrk_proc *w = TL_CONTAINER_OF(p, wrk_proc, proc);
  w->exit_status = status;
  w->term_signal = sig;
  uv_close((uv_handle_t *) p, on_wrk_closed);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void) h;
  (void) hint;
  static char chunk[4096]; /* observer thread only; consumed at once */
  buf->base = chunk;
  buf->len = sizeof(chunk);
}

static void on_wrk_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  wrk_proc *w = TL_CONTAINER_OF(s, wrk_proc, out);
  if (n > 0 && w->text.len < 65536)
    tl_buf_append(&w->text, buf->base, (size_t) n);
  if (n < 0)
    uv_close((uv_handle_t *) s, on_wrk_closed);
}

/* Spawns wrk for `load` against the workload listener; 0 or a UV error. */
static int spawn_wrk(tl_lab *lab, wrk_proc *w, json_t *load) {
  char conns[16], thr[16], dur[16], url[512];
  int c = (int) num_of(load, "connections", 1);
  int d = (int) num_of(load, "duration_s", 5);
  if (c < 1)
    c = 1;
  if (d < 1 || d > LAB_MAX_DURATION_S)
    d = d < 1 ? 1 : LAB_MAX_DURATION_S;
  snprintf(conns, sizeof(conns), "%d", c);
  snprintf(thr, sizeof(thr), "%d", c < 2 ? 1 : 2);
  snprintf(dur, sizeof(dur), "%ds", d);
  const char *host = lab->srv->cfg.host;
  if (strcmp(host, "0.0.0.0") == 0 || host[0] == '\0')
    host = "127.0.0.1";
  bool v6 = strchr(host, ':') != NULL;
  snprintf(url, sizeof(url), "http://%s%s%s:%d%s", v6 ? "[" : "", host,
           v6 ? "]" : "", lab->srv->listen_port, str_of(load, "path", "/"));
  char *args[] = {"wrk", "-t", thr, "-c", conns, "-d", dur, "--latency",
                  "--timeout", "5s", url, NULL};
  memset(w, 0, sizeof(*w));
  w->lab = lab;
  tl_buf_init(&w->text, NULL, 0);
  uv_pipe_init(lab->uv, &w->out, 0);
  w->out.data = lab;
  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
  stdio[1].data.stream = (uv_stream_t *) &w->out;
  stdio[2].flags = UV_IGNORE; /* its summary is on stdout; the exit status says the rest */
  uv_process_options_t opt = {0};
  opt.file = "wrk";
  opt.args = args;
  opt.exit_cb = on_wrk_exit;
  opt.stdio = stdio;
  opt.stdio_count = 3;
  w->proc.data = lab;
  lab->handles_open++;                /* the pipe */
  int rc = uv_spawn(lab->uv, &w->proc, &opt);
  if (rc != 0) {
    /* libuv wants the process handle closed even when spawn failed. */
    lab->handles_open++;
    uv_close((uv_handle_t *) &w->proc, on_wrk_closed);
    uv_close((uv_handle_t *) &w->out, on_wrk_closed);
    return rc;
  }
  w->spawned = true;
  lab->handles_open++;
  uv_read_start((uv_stream_t *) &w->out, on_alloc, on_wrk_read);
  return 0;
}

static void kill_wrk(tl_lab *lab, int sig) {
  for (int i = 0; i < lab->nwrk; i++)
    if (lab->wrk[i].spawned && !uv_is_closing((uv_handle_t *) &lab->wrk[i].proc))
      uv_process_kill(&lab->wrk[i].proc, sig);
}

static void on_tick(uv_timer_t *t) {
  tl_lab *lab = TL_CONTAINER_OF(t, tl_lab, tick);
  if (lab->state != LAB_RUNNING)
    return;
  double el = (double) (tl_now_ns() - lab->t0_ns) / 1e9;
  if (el > lab->duration_s + LAB_GRACE_S) {
    snprintf(lab->fail, sizeof(lab->fail),
             "wrk ran past its %.0f s: killed", lab->duration_s);
    kill_wrk(lab, SIGKILL);
    return;
  }
  json_t *now = stats_now(lab);
  if (!now)
    return;
  double total = num_at(now, "server.requests.total");
  double up = num_at(now, "uptime_ms");
  double start_total = num_at(lab->before, "server.requests.total");
  double start_up = num_at(lab->before, "uptime_ms");
  json_t *rate = json_null();
  if (up > lab->last_uptime_ms && !isnan(total)) {
    rate = json_real((total - lab->last_total) * 1000.0 / (up - lab->last_uptime_ms));
    lab->last_total = total;
    lab->last_uptime_ms = up;
  }
  double so_far = up > start_up ? (total - start_total) * 1000.0 / (up - start_up) : 0;
  json_array_append(lab->series, rate);
  json_decref(lab->during);
  lab->during = now;
  double left = lab->duration_s - el;
  broadcast(lab, json_pack("{s:s,s:s,s:i,s:f,s:f,s:f,s:O}", "type", "progress",
                           "id", str_of(lab->exp, "id", ""), "run", lab->seq,
                           "elapsed_s", el, "left_s", left > 0 ? left : 0.0,
                           "rps_so_far", so_far, "rps_now", rate));
  json_decref(rate);
}

/* After the setup was applied: the load. */
static void start_load(tl_lab *lab) {
  json_t *load = json_object_get(lab->exp, "load");
  json_t *probe = json_object_get(lab->exp, "probe");
  lab->duration_s = num_of(load, "duration_s", 5);
  if (lab->duration_s > LAB_MAX_DURATION_S)
    lab->duration_s = LAB_MAX_DURATION_S;
  lab->before = stats_now(lab);
  lab->last_total = num_at(lab->before, "server.requests.total");
  lab->last_uptime_ms = num_at(lab->before, "uptime_ms");
  lab->series = json_array();
  lab->t0_ns = tl_now_ns();
  lab->state = LAB_RUNNING;
  lab->nwrk = 0;
  lab->handles_open = 0;
  int rc = spawn_wrk(lab, &lab->wrk[lab->nwrk++], load);
  if (rc == 0 && json_is_object(probe))
    rc = spawn_wrk(lab, &lab->wrk[lab->nwrk++], probe);
  if (rc != 0) {
    if (rc == UV_ENOENT)
      snprintf(lab->fail, sizeof(lab->fail),
               "wrk is not installed: apt-get install wrk (or ./setup-deps)");
    else
      snprintf(lab->fail, sizeof(lab->fail), "cannot start wrk: %s",
               uv_strerror(rc));
    kill_wrk(lab, SIGKILL); /* a load already started, if the probe failed */
    return;                 /* the close callbacks go on to restore */
  }
  uv_timer_start(&lab->tick, on_tick, 1000, 1000);
}

/* One sample period after the setup: the "before" figures are then read
 * from a sample taken under the new settings, so the moves that applying
 * them caused (pinning, new workers) are not counted as the load's. */
static void on_settled(uv_timer_t *t) {
  tl_lab *lab = TL_CONTAINER_OF(t, tl_lab, tick);
  if (lab->stopping)
    return;
  if (lab->cancel)
    start_restore(lab);
  else
    start_load(lab);
}

static void on_setup_applied(void *arg, int rc) {
  tl_lab *lab = arg;
  if (lab->stopping)
    return;
  if (rc != 0) {
    snprintf(lab->fail, sizeof(lab->fail),
             "the server could not apply the setup: %s", strerror(-rc));
    start_restore(lab);
  } else if (lab->cancel) {
    start_restore(lab);
  } else {
    uv_timer_start(&lab->tick, on_settled,
                   (uint64_t) lab->srv->cfg.sample_ms * 3 / 2, 0);
  }
}

static json_t *evidence_json(tl_lab *lab, json_t *after) {
  json_t *out = json_array();
  size_t i;
  json_t *ev;
  json_array_foreach(json_object_get(lab->exp, "evidence"), i, ev) {
    const char *path = str_of(ev, "path", ""), *agg = str_of(ev, "agg", "max");
    json_t *b = lab->before ? tl_lab_evidence_eval(lab->before, path, agg) : json_null();
    json_t *a = after ? tl_lab_evidence_eval(after, path, agg) : json_null();
    bool counter = json_is_true(json_object_get(ev, "counter"));
    json_t *item = json_pack("{s:s,s:s,s:o,s:o,s:b}", "label",
                             str_of(ev, "label", path), "path", path, "before",
                             b, "after", a, "counter", counter);
    if (counter)
      json_object_set_new(item, "delta",
                          lab->before && after
                              ? tl_lab_evidence_counter(lab->before, after, path, agg)
                              : json_null());
    json_array_append_new(out, item);
  }
  return out;
}

/* The figure an evidence label stands for: its delta for a counter, else
 * its value while the load ran. NAN when the kernel did not give it. */
static double evidence_value(json_t *evidence, const char *label) {
  size_t i;
  json_t *item;
  json_array_foreach(evidence, i, item) {
    if (strcmp(str_of(item, "label", ""), label) != 0)
      continue;
    json_t *v = json_object_get(item, json_is_true(json_object_get(item, "counter"))
                                          ? "delta" : "after");
    return json_is_number(v) ? json_number_value(v) : NAN;
  }
  return NAN;
}

static json_t *wrk_json(const tl_lab_wrk *w) {
  if (!w->ok)
    return json_null();
#define MS(x) ((x) >= 0 ? json_real(x) : json_null())
  return json_pack("{s:f,s:f,s:o,s:o,s:o,s:f,s:f}", "requests", w->requests,
                   "rps", w->rps, "p50_ms", MS(w->p50_ms), "p90_ms",
                   MS(w->p90_ms), "p99_ms", MS(w->p99_ms), "non2xx", w->non2xx,
                   "socket_errors", w->socket_errors);
#undef MS
}

static double measured_of(tl_lab *lab, const char *what, json_t *evidence,
                          const tl_lab_wrk *load) {
  if (strcmp(what, "rps") == 0)
    return load->ok ? load->rps : NAN;
  const char *slash = strstr(what, " / ");
  if (slash) {
    char a[128];
    snprintf(a, sizeof(a), "%.*s", (int) (slash - what), what);
    double x = evidence_value(evidence, a), y = evidence_value(evidence, slash + 3);
    return y > 0 ? x / y : NAN;
  }
  (void) lab;
  return evidence_value(evidence, what);
}

/* wrk is done (or never ran): measure, compare, gather the evidence. */
static void build_result(tl_lab *lab) {
  json_t *exp = lab->exp;
  json_t *pred = json_object_get(exp, "prediction");
  const char *formula = str_of(pred, "formula", "");
  tl_lab_model m;
  model_of(lab, exp, &m);
  double predicted = tl_lab_predict(formula, &m);
  double tol = num_of(exp, "tolerance", 0.3);
  tl_lab_wrk load = {0}, probe = {0};
  bool ran = lab->nwrk > 0 && lab->wrk[0].spawned;
  if (ran)
    tl_lab_wrk_parse(lab->wrk[0].text.data, lab->wrk[0].text.len, &load);
  if (lab->nwrk > 1 && lab->wrk[1].spawned)
    tl_lab_wrk_parse(lab->wrk[1].text.data, lab->wrk[1].text.len, &probe);
  json_t *after = lab->during ? json_incref(lab->during) : stats_now(lab);
  json_t *evidence = ran ? evidence_json(lab, after) : json_array();
  json_decref(after);
  const char *status = lab->fail[0] ? "failed" : lab->cancel ? "cancelled" : "done";
  if (!lab->fail[0] && !lab->cancel && ran && !load.ok) {
    const tl_buf *t = &lab->wrk[0].text;
    int tl = t->len > 200 ? 200 : (int) t->len;
    snprintf(lab->fail, sizeof(lab->fail), "wrk gave no summary (exit %lld): %.*s",
             (long long) lab->wrk[0].exit_status, tl, t->data ? t->data : "");
    status = "failed";
  }
  double measured = strcmp(status, "done") == 0
                        ? measured_of(lab, str_of(exp, "measured", "rps"), evidence, &load)
                        : NAN;
  json_t *r = lab->result;
  json_object_set_new(r, "status", json_string(status));
  json_object_set_new(r, "reason", lab->fail[0] ? json_string(lab->fail) : json_null());
  json_object_set_new(r, "formula", json_string(formula));
  json_object_set_new(r, "measured_what", json_string(str_of(exp, "measured", "rps")));
  json_object_set_new(r, "predicted", predicted >= 0 ? json_real(predicted) : json_null());
  json_object_set_new(r, "measured", isnan(measured) ? json_null() : json_real(measured));
  json_object_set_new(r, "tolerance", json_real(tol));
  json_object_set_new(r, "load", wrk_json(&load));
  json_object_set_new(r, "probe", lab->nwrk > 1 ? wrk_json(&probe) : json_null());
  json_object_set_new(r, "series", json_incref(lab->series ? lab->series : json_array()));
  json_object_set_new(r, "model", json_pack("{s:i,s:i,s:b,s:i}", "cores", m.cores,
                                            "workers", m.workers, "async", m.async,
                                            "connections", m.connections));
  char verdict[400];
  json_t *within = json_null();
  bool check_ok = true;
  json_t *check = json_object_get(exp, "check");
  if (json_is_object(check) && strcmp(status, "done") == 0) {
    const char *lbl = str_of(check, "evidence", "");
    double v = strcmp(lbl, "probe_p99_ms") == 0 ? (probe.ok ? probe.p99_ms : NAN)
                                                 : evidence_value(evidence, lbl);
    double want = num_of(check, "value", 0);
    const char *op = str_of(check, "op", ">");
    check_ok = !isnan(v) && (strcmp(op, ">") == 0 ? v > want
                             : strcmp(op, "<=") == 0 ? v <= want
                             : strcmp(op, ">=") == 0 ? v >= want : v < want);
    json_object_set_new(r, "check", json_pack("{s:s,s:o,s:s,s:f,s:b,s:s}", "evidence", lbl,
                                              "value", isnan(v) ? json_null() : json_real(v),
                                              "op", op, "want", want, "passed", check_ok,
                                              "explain", str_of(check, "explain", "")));
  }
  if (strcmp(status, "done") == 0 && !isnan(measured) && predicted >= 0) {
    bool in = tl_lab_predict_within(formula, measured, predicted, tol);
    json_object_set_new(r, "ratio", predicted > 0 ? json_real(measured / predicted) : json_null());
    within = json_boolean(in && check_ok);
    if (tl_lab_predict_is_bound(formula))
      snprintf(verdict, sizeof(verdict), "measured %.3g, the model says more than %.3g: %s%s",
               measured, predicted, in ? "as predicted" : "NOT as predicted",
               check_ok ? "" : "; and the kernel's evidence disagrees");
    else
      snprintf(verdict, sizeof(verdict),
               "predicted %.4g, measured %.4g (ratio %.2f): %s tolerance of +/-%.0f%%%s%s",
               predicted, measured, measured / predicted, in ? "within the" : "outside the",
               tol * 100, !in ? (measured < predicted
                                     ? ": below the model (the cores are shared with wrk and other processes, or the model misses a cost)"
                                     : ": above the model (the model misses a shortcut)")
                              : "",
               check_ok ? "" : "; the kernel's evidence disagrees with the idea");
  } else if (strcmp(status, "done") == 0) {
    json_object_set_new(r, "ratio", json_null());
    snprintf(verdict, sizeof(verdict), "no verdict: the kernel did not give the figure measured (%s)",
             str_of(exp, "measured", "rps"));
  } else {
    json_object_set_new(r, "ratio", json_null());
    snprintf(verdict, sizeof(verdict), "no verdict: the run %s%s%s", status,
             lab->fail[0] ? ": " : "", lab->fail);
  }
  json_object_set_new(r, "within", within);
  json_object_set_new(r, "verdict", json_string(verdict));
  json_object_set_new(r, "why", json_string(str_of(pred, "explain", "")));
  json_object_set_new(r, "evidence", evidence);
  json_object_set_new(r, "duration_s",
                      json_real(ran ? (double) (tl_now_ns() - lab->t0_ns) / 1e9 : 0));
}

static void finish_run(tl_lab *lab, int restore_rc) {
  json_t *r = lab->result;
  json_object_set_new(r, "restored", json_boolean(restore_rc == 0));
  if (restore_rc != 0) {
    char why[200];
    snprintf(why, sizeof(why), "could not restore the settings: %s", strerror(-restore_rc));
    json_object_set_new(r, "restore_error", json_string(why));
  }
  char cpus[256];
  cpu_set_t now;
  tl_server_worker_cpus(lab->srv, &now, NULL);
  tl_cpulist_format(&now, cpus, sizeof(cpus));
  json_object_set_new(r, "settings_after",
                      json_pack("{s:s,s:i,s:b,s:s}", "mode",
                                tl_mode_name(tl_server_mode(lab->srv)), "threads",
                                atomic_load(&lab->srv->threads), "pin",
                                atomic_load(&lab->srv->pinned), "worker_cpus", cpus));
  json_array_append(lab->runs, r);
  while (json_array_size(lab->runs) > LAB_MAX_RUNS)
    json_array_remove(lab->runs, 0);
  json_t *ev = json_pack("{s:s,s:O}", "type", "result", "result", r);
  broadcast(lab, ev);
  json_decref(lab->result);
  lab->result = NULL;
  json_decref(lab->before);
  json_decref(lab->during);
  json_decref(lab->series);
  lab->before = lab->during = lab->series = NULL;
  for (int i = 0; i < 2; i++)
    tl_buf_close(&lab->wrk[i].text);
  lab->nwrk = 0;
  lab->state = LAB_IDLE;
}

static void on_restored(void *arg, int rc) {
  tl_lab *lab = arg;
  if (!lab->stopping)
    finish_run(lab, rc);
}

static void start_restore(tl_lab *lab) {
  build_result(lab);
  lab->state = LAB_RESTORING;
  if (tl_obs_control_apply(lab->ctl, &lab->saved, on_restored, lab) != 0)
    finish_run(lab, -ESHUTDOWN);
}

/* ---- POST /lab/run, POST /lab/cancel -------------------------------- */

static void post_run(tl_lab *lab, tl_admin_conn *c, const char *q, size_t qlen) {
  char id[64];
  int n = tl_query_get(q, qlen, "id", id, sizeof(id));
  if (n <= 0) {
    tl_admin_conn_respond_error(c, 400, "give the experiment: /lab/run?id=ID", NULL);
    return;
  }
  json_t *exp = find_exp(lab, id);
  if (!exp) {
    tl_admin_conn_respond_error(c, 404, lab->book ? "no such experiment (GET /lab lists them)"
                                             : lab->book_error, NULL);
    return;
  }
  if (lab->state != LAB_IDLE) {
    respond_json(c, 409, json_pack("{s:s,s:i,s:o}", "error",
                                   "a lab run is in progress: one at a time",
                                   "status", 409, "running", running_json(lab)));
    return;
  }
  const char *restart = str_of(exp, "needs_restart", NULL);
  if (restart) {
    respond_json(c, 422, json_pack("{s:s,s:i,s:s}", "error",
                                   "this experiment's setup cannot be applied live: "
                                   "it needs a server started with this command line",
                                   "status", 422, "command", restart));
    return;
  }
  json_t *setup = json_object_get(exp, "setup");
  tl_control want;
  memset(&want, 0, sizeof(want));
  want.mode = -1;
  want.pin = -1;
  cpu_set_t cpus;
  if (setup_cpus(lab, setup, &cpus, &want.cpus_op) != 0) {
    tl_admin_conn_respond_error(c, 500, "the experiment's cpus are not usable here", NULL);
    return;
  }
  want.cpus = cpus;
  tl_mode mode;
  const char *ms = str_of(setup, "mode", NULL);
  if (ms && tl_mode_parse(ms, &mode) == 0)
    want.mode = (int) mode;
  want.threads = setup_threads(setup, &cpus, 0);
  json_t *pin = json_object_get(setup, "pin");
  if (json_is_boolean(pin))
    want.pin = json_is_true(pin);
  lab->seq++;
  lab->exp = exp;
  lab->cancel = false;
  lab->fail[0] = '\0';
  lab->nwrk = 0;
  lab->t0_ns = tl_now_ns();
  save_settings(lab);
  lab->result = json_pack("{s:i,s:s,s:s,s:s,s:f,s:o}", "run", lab->seq, "id", id,
                          "idea", str_of(exp, "idea", ""), "question",
                          str_of(exp, "question", ""), "started_unix_ms",
                          (double) time(NULL) * 1000.0, "settings_before",
                          settings_json(&lab->saved, lab->saved_cpus));
  lab->state = LAB_APPLYING;
  if (tl_obs_control_apply(lab->ctl, &want, on_setup_applied, lab) != 0) {
    lab->state = LAB_IDLE;
    json_decref(lab->result);
    lab->result = NULL;
    tl_admin_conn_respond_error(c, 503, "the server is shutting down", NULL);
    return;
  }
  json_t *load = json_object_get(exp, "load");
  respond_json(c, 202, json_pack("{s:b,s:i,s:s,s:f}", "ok", 1, "run", lab->seq,
                                 "id", id, "duration_s",
                                 num_of(load, "duration_s", 5)));
}

static void post_cancel(tl_lab *lab, tl_admin_conn *c) {
  if (lab->state == LAB_IDLE || lab->state == LAB_RESTORING) {
    tl_admin_conn_respond_error(c, 409, "no lab run to cancel", NULL);
    return;
  }
  lab->cancel = true;
  if (lab->state == LAB_RUNNING)
    kill_wrk(lab, SIGTERM);
  respond_json(c, 200, json_pack("{s:b,s:i}", "ok", 1, "run", lab->seq));
}

static bool peer_is_loopback(tl_admin_conn *c) {
  struct sockaddr_storage ss;
  return tl_admin_conn_peer_addr(c, &ss) == 0 &&
         tl_guard_is_loopback((const struct sockaddr *) &ss);
}

void tl_lab_handle(tl_lab *lab, tl_admin_conn *c, const tl_request *req,
                   const char *path, size_t plen, const char *q, size_t qlen) {
#define IS(lit) (plen == sizeof(lit) - 1 && memcmp(path, lit, plen) == 0)
  bool get = req->method == HTTP_GET || req->method == HTTP_HEAD;
  bool post = req->method == HTTP_POST;
  if (IS("/lab") || IS("/lab/runs")) {
    if (!get)
      tl_admin_conn_respond_error(c, 405, "method not allowed", "Allow: GET, HEAD\r\n");
    else if (IS("/lab"))
      get_lab(lab, c);
    else
      get_runs(lab, c);
    return;
  }
  if (!IS("/lab/run") && !IS("/lab/cancel")) {
    tl_admin_conn_respond_error(c, 404, "not found", NULL);
    return;
  }
  if (!post) {
    tl_admin_conn_respond_error(c, 405, "method not allowed", "Allow: POST\r\n");
    return;
  }
  if (!peer_is_loopback(c)) {
    tl_admin_conn_respond_error(c, 403, "the lab is allowed from loopback clients only", NULL);
    return;
  }
  if (IS("/lab/run"))
    post_run(lab, c, q, qlen);
  else
    post_cancel(lab, c);
#undef IS
}
