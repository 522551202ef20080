/* The lab's endpoints (observer/lab.h): GET /lab, GET /lab/runs,
 * POST /lab/run, POST /lab/cancel. The run itself is lab_run.c. */
#include "config.h"

#include "observer/lab.h"

#include "base/cpulist.h"
#include "base/mode.h"
#include "base/query.h"
#include "base/util.h"
#include "observer/guard.h"
#include "observer/lab_report.h"
#include "observer/lab_run.h"
#include "observer/lab_setup.h"
#include "observer/lab_wrk_proc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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
  tl_buf_init(&lab->during, NULL, 0);
  tl_buf_init(&lab->child_stats, NULL, 0);
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
  /* A child server goes with us (it would also by PR_SET_PDEATHSIG). */
  if (lab->child.active)
    tl_lab_child_kill_now(&lab->child);
  tl_lab_http_abort(&lab->poll);
  for (int i = 0; i < TL_LAB_MAX_TRIGGERS; i++)
    tl_lab_http_abort(&lab->trig[i]);
  /* The run's timer may be repeating (a load's ticks): it would keep the
   * loop from ending. */
  if (!uv_is_closing((uv_handle_t *) &lab->tick))
    uv_close((uv_handle_t *) &lab->tick, NULL);
  for (int i = 0; i < lab->nwrk; i++)
    if (lab->wrk[i].spawned &&
        !uv_is_closing((uv_handle_t *) &lab->wrk[i].proc))
      uv_process_kill(&lab->wrk[i].proc, SIGKILL);
}

void tl_lab_close(tl_lab *lab) {
  for (int i = 0; i < 2; i++)
    tl_buf_close(&lab->wrk[i].text);
  json_decref(lab->result);
  json_decref(lab->vsetup);
  json_decref(lab->vsettings);
  json_decref(lab->vresults);
  json_decref(lab->before);
  tl_buf_close(&lab->during);
  json_decref(lab->series);
  json_decref(lab->runs);
  json_decref(lab->book);
  json_decref(lab->child_last);
  tl_buf_close(&lab->child_stats);
  tl_lab_http_close(&lab->poll);
  for (int i = 0; i < TL_LAB_MAX_TRIGGERS; i++)
    tl_lab_http_close(&lab->trig[i]);
  free(lab);
}

static void respond_json(tl_admin_conn *c, int status, json_t *j) {
  char *s = json_dumps(j, JSON_COMPACT);
  size_t n = strlen(s);
  s = realloc(s, n + 2);
  s[n] = '\n';
  tl_admin_conn_respond(c, status, "application/json",
                        "Cache-Control: no-store\r\n", s, n + 1);
  free(s);
  json_decref(j);
}

static json_t *find_exp(tl_lab *lab, const char *id) {
  if (!lab->book)
    return NULL;
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(lab->book, "experiments"), i,
                     e) if (strcmp(tl_lab_run_str(e, "id", ""), id) ==
                            0) return e;
  return NULL;
}

static void get_lab(tl_lab *lab, tl_admin_conn *c) {
  if (!lab->book) {
    json_t *j = json_pack("{s:s,s:s}", "error", "no experiments file", "why",
                          lab->book_error);
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
    json_t *p = tl_lab_setup_prediction(lab, e);
    json_object_update(x, p);
    json_decref(p);
    json_object_set_new(x, "variants", tl_lab_setup_variants_json(lab, e));
    json_array_append_new(list, x);
  }
  bool wrk = tl_lab_wrk_proc_installed();
  json_t *j = json_pack(
      "{s:s,s:{s:i,s:s,s:s,s:i},s:b,s:o,s:o,s:o}", "file", lab->book_path,
      "machine", "online_cpus", tl_ncpu(), "inherited_cpus", inh_s,
      "worker_cpus", cur_s, "workers", atomic_load(&lab->srv->threads),
      "wrk_installed", wrk, "wrk_hint",
      wrk ? json_null()
          : json_string(
                "wrk is not installed: apt-get install wrk (or ./setup-deps)"),
      "running", tl_lab_run_running_json(lab), "experiments", list);
  respond_json(c, 200, j);
}

static void get_runs(tl_lab *lab, tl_admin_conn *c) {
  respond_json(c, 200,
               json_pack("{s:o,s:O}", "running", tl_lab_run_running_json(lab),
                         "runs", lab->runs));
}

/* id=all: every experiment that can run here, in the book's order; the
 * answer says how long that takes (loads and the settling between). */
static void post_all(tl_lab *lab, tl_admin_conn *c, int duration_s) {
  double total = 0, settle = lab->srv->cfg.sample_ms * 1.5 / 1000.0;
  int runnable = 0, skipped = 0;
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(lab->book, "experiments"), i, e) {
    if (!tl_lab_run_runnable(e)) {
      skipped++;
      continue;
    }
    runnable++;
    int nv = tl_lab_setup_nvariants(e);
    total += nv * (tl_lab_run_load_s(e, duration_s) + settle);
    for (int v = 0; v < nv; v++) { /* a child server starts and stops */
      json_t *setup = tl_lab_setup_variant(e, v);
      if (tl_lab_setup_needs_child(setup))
        total += TL_LAB_CHILD_SETUP_S;
      json_decref(setup);
    }
  }
  lab->all = true;
  lab->all_next = 0;
  lab->duration_s_override = duration_s;
  if (!tl_lab_run_next_of_all(lab)) {
    lab->all = false;
    tl_admin_conn_respond_error(c, 503, "no experiment could start", NULL);
    return;
  }
  respond_json(c, 202,
               json_pack("{s:b,s:i,s:s,s:f,s:i,s:i}", "ok", 1, "run", lab->seq,
                         "id", "all", "duration_s", total, "experiments",
                         runnable, "skipped", skipped));
}

static void get_report(tl_lab *lab, tl_admin_conn *c) {
  tl_buf b;
  tl_buf_init(&b, NULL, 0);
  tl_lab_report_html(lab->book ? json_object_get(lab->book, "experiments")
                               : NULL,
                     lab->runs, &b);
  tl_admin_conn_respond(c, 200, "text/html; charset=utf-8",
                        "Cache-Control: no-store\r\n", b.data, b.len);
  tl_buf_close(&b);
}

/* The child server's latest /stats as the lab read it (with "lab_child":
 * what the lab saw of it), while a variant runs in one; `null` otherwise
 * (nothing to show is no error: the page asks every second or two). */
static void get_child_stats(tl_lab *lab, tl_admin_conn *c) {
  if (!lab->in_child || !lab->has_child_stats) {
    tl_admin_conn_respond(c, 200, "application/json",
                          "Cache-Control: no-store\r\n", "null\n", 5);
    return;
  }
  tl_admin_conn_respond(c, 200, "application/json",
                        "Cache-Control: no-store\r\n", lab->child_stats.data,
                        lab->child_stats.len);
}

static void post_run(tl_lab *lab, tl_admin_conn *c, const char *q,
                     size_t qlen) {
  char id[64];
  int n = tl_query_get(q, qlen, "id", id, sizeof(id));
  if (n <= 0) {
    tl_admin_conn_respond_error(c, 400, "give the experiment: /lab/run?id=ID",
                                NULL);
    return;
  }
  bool all = strcmp(id, "all") == 0;
  json_t *exp = all ? NULL : find_exp(lab, id);
  if (!exp && !(all && lab->book)) {
    tl_admin_conn_respond_error(c, 404,
                                lab->book
                                    ? "no such experiment (GET /lab lists them)"
                                    : lab->book_error,
                                NULL);
    return;
  }
  if (lab->state != TL_LAB_IDLE) {
    respond_json(c, 409,
                 json_pack("{s:s,s:i,s:o}", "error",
                           "a lab run is in progress: one at a time", "status",
                           409, "running", tl_lab_run_running_json(lab)));
    return;
  }
  if (exp && !tl_lab_run_runnable(exp)) {
    tl_admin_conn_respond_error(
        c, 503,
        "a variant needs a child server and /proc/self/exe cannot be run here",
        NULL);
    return;
  }
  /* Each variant's load, shorter than the experiment's when asked (tests,
   * a quick look); bounded like every load. */
  char dur[16];
  int duration_s = 0;
  if (tl_query_get(q, qlen, "duration_s", dur, sizeof(dur)) > 0) {
    char *end;
    long d = strtol(dur, &end, 10);
    if (*end != '\0' || d < 1 || d > TL_LAB_MAX_DURATION_S) {
      tl_admin_conn_respond_error(
          c, 400, "duration_s: a whole number of seconds, 1 to 20", NULL);
      return;
    }
    duration_s = (int) d;
  }
  if (all) {
    post_all(lab, c, duration_s);
    return;
  }
  if (tl_lab_run_start(lab, exp, id, duration_s) != 0) {
    tl_admin_conn_respond_error(
        c, 500, "the experiment's cpus are not usable here", NULL);
    return;
  }
  int nv = tl_lab_setup_nvariants(exp);
  respond_json(c, 202,
               json_pack("{s:b,s:i,s:s,s:f,s:i}", "ok", 1, "run", lab->seq,
                         "id", id, "duration_s",
                         nv * tl_lab_run_load_s(exp, duration_s), "nvariants",
                         nv));
}

static void post_cancel(tl_lab *lab, tl_admin_conn *c) {
  if (lab->state == TL_LAB_IDLE || lab->state == TL_LAB_RESTORING) {
    tl_admin_conn_respond_error(c, 409, "no lab run to cancel", NULL);
    return;
  }
  tl_lab_run_cancel(lab);
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
  if (IS("/lab") || IS("/lab/runs") || IS("/lab/report") ||
      IS("/lab/child/stats")) {
    if (!get)
      tl_admin_conn_respond_error(c, 405, "method not allowed",
                                  "Allow: GET, HEAD\r\n");
    else if (IS("/lab/child/stats"))
      get_child_stats(lab, c);
    else if (IS("/lab"))
      get_lab(lab, c);
    else if (IS("/lab/report"))
      get_report(lab, c);
    else
      get_runs(lab, c);
    return;
  }
  if (!IS("/lab/run") && !IS("/lab/cancel")) {
    tl_admin_conn_respond_error(c, 404, "not found", NULL);
    return;
  }
  if (!post) {
    tl_admin_conn_respond_error(c, 405, "method not allowed",
                                "Allow: POST\r\n");
    return;
  }
  if (!peer_is_loopback(c)) {
    tl_admin_conn_respond_error(
        c, 403, "the lab is allowed from loopback clients only", NULL);
    return;
  }
  if (IS("/lab/run"))
    post_run(lab, c, q, qlen);
  else
    post_cancel(lab, c);
#undef IS
}
