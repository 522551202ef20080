/* A lab variant in the child server (observer/lab_child_run.h). */
#include "config.h"

#include "observer/lab_child_run.h"

#include "base/util.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static double num_at(json_t *o, const char *a, const char *b) {
  json_t *v = json_object_get(json_object_get(o, a), b);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

bool tl_lab_child_run_counts(json_t *stats, double *total, double *up) {
  json_t *u = json_object_get(stats, "uptime_ms");
  double t = num_at(stats, "process_totals", "requests");
  if (isnan(t))
    t = num_at(json_object_get(stats, "server"), "requests", "total");
  if (!json_is_number(u) || isnan(t))
    return false;
  *total = t;
  *up = json_number_value(u);
  return true;
}

/* The counters the race steps increment: each worker process's own
 * (processes[].shared, under --processes), else the one process's. */
static double counters_sum(json_t *stats) {
  double sum = 0;
  int workers = 0;
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(stats, "processes"), i, p) {
    const char *role = json_string_value(json_object_get(p, "role"));
    if (!role || strcmp(role, "worker") != 0)
      continue;
    double c = num_at(p, "shared", "counter");
    if (isnan(c))
      return NAN;
    sum += c;
    workers++;
  }
  return workers
             ? sum
             : num_at(json_object_get(stats, "server"), "shared", "counter");
}

/* N of a load whose task is race:N (0: it is not). */
static long race_n(json_t *exp) {
  const char *path = tl_lab_run_str(json_object_get(exp, "load"), "path", "");
  const char *r = strstr(path, "race:");
  return r ? strtol(r + 5, NULL, 10) : 0;
}

/* A race load's lost updates, counted the same way in one process and
 * in several: every request is one race:N task, so the increments done
 * since the load's start are requests x N; the counters (each process
 * its own) rose by `counted`; the rest was lost. Null before the load. */
static json_t *race_json(tl_lab *lab, json_t *now) {
  long n = race_n(lab->exp);
  double t0, u0, t1, u1;
  if (n <= 0 || !lab->before || !now ||
      !tl_lab_child_run_counts(lab->before, &t0, &u0) ||
      !tl_lab_child_run_counts(now, &t1, &u1))
    return json_null();
  double c0 = counters_sum(lab->before), c1 = counters_sum(now);
  if (isnan(c0) || isnan(c1))
    return json_null();
  double inc = (t1 - t0) * (double) n, counted = c1 - c0;
  return json_pack("{s:I,s:f,s:f,s:f,s:f}", "n", (json_int_t) n, "tasks",
                   t1 - t0, "increments", inc, "counted", counted, "lost",
                   inc - counted);
}

bool tl_lab_child_run_quiet(tl_lab *lab) {
  double t, u;
  if (race_n(lab->exp) <= 0 || !lab->child_answered ||
      !tl_lab_child_run_counts(lab->child_last, &t, &u))
    return true;
  double c = counters_sum(lab->child_last);
  bool same = lab->quiet_polls > 0 && t == lab->quiet_total &&
              (c == lab->quiet_count || (isnan(c) && isnan(lab->quiet_count)));
  lab->quiet_total = t;
  lab->quiet_count = c;
  return same || ++lab->quiet_polls > TL_LAB_QUIET_POLLS;
}

/* "lab_child": what the lab saw of the child, beside its own figures. */
static json_t *lab_child_json(tl_lab *lab) {
  char ex[64];
  tl_lab_child_exit_text(&lab->child, ex, sizeof(ex));
  json_t *o = json_pack("{s:i,s:i,s:o,s:b}", "pid", lab->child.pid, "alive",
                        lab->child_answered ? 1 : 0, "exit",
                        lab->child.exited ? json_string(ex) : json_null(),
                        "triggered", lab->triggered);
  if (lab->triggered) {
    double n = lab->after_total - lab->trig_total;
    double s = (tl_now_ns() - lab->trig_at_ns) / 1e9;
    json_object_set_new(o, "requests_after_trigger", json_real(n));
    json_object_set_new(o, "rps_after_trigger",
                        s > 0 ? json_real(n / s) : json_null());
  } else {
    json_object_set_new(o, "requests_after_trigger", json_null());
    json_object_set_new(o, "rps_after_trigger", json_null());
  }
  return o;
}

void tl_lab_child_run_took(tl_lab *lab, int status, const char *body,
                           size_t len) {
  json_t *j = status == 200 ? json_loadb(body, len, 0, NULL) : NULL;
  double total, up;
  if (j && tl_lab_child_run_counts(j, &total, &up)) {
    json_decref(lab->child_last);
    lab->child_last = j;
    lab->child_answered = true;
    lab->child_total = total;
    lab->child_up = up;
    if (lab->triggered)
      lab->after_total = total;
  } else {
    json_decref(j);
    lab->child_answered = false;
  }
  if (!lab->child_last)
    return;
  json_t *out = json_copy(lab->child_last);
  json_t *lc = lab_child_json(lab);
  json_object_set_new(lc, "race", race_json(lab, lab->child_last));
  json_object_set_new(out, "lab_child", lc);
  char *s = json_dumps(out, JSON_COMPACT);
  json_decref(out);
  lab->child_stats.len = 0;
  tl_buf_puts(&lab->child_stats, s);
  free(s);
  lab->has_child_stats = true;
}

bool tl_lab_child_run_settled(tl_lab *lab) {
  json_t *j = lab->child_last;
  json_t *seq = json_object_get(j, "seq");
  if (!json_is_number(seq) || json_number_value(seq) < 2)
    return false;
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(j, "processes"), i, p) {
    const char *st = json_string_value(json_object_get(p, "state"));
    if (st && strcmp(st, "starting") == 0)
      return false;
  }
  return true;
}

json_t *tl_lab_child_run_readback(tl_lab *lab) {
  json_t *srv = json_object_get(lab->child_last, "server");
  int workers = 0;
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(lab->child_last, "processes"), i, p) {
    const char *role = json_string_value(json_object_get(p, "role"));
    if (role && strcmp(role, "worker") == 0)
      workers++;
  }
  int crash = tl_lab_child_has_flag(lab->child.pid, "--allow-crash");
  int dl = tl_lab_child_has_flag(lab->child.pid, "--allow-deadlock");
#define OR_NULL(k)                                                             \
  json_object_get(srv, k) ? json_incref(json_object_get(srv, k)) : json_null()
  json_t *o =
      json_pack("{s:o,s:o,s:o,s:o,s:o,s:i,s:o,s:o,s:b,s:i}", "mode",
                OR_NULL("mode"), "threads", OR_NULL("threads"), "pin",
                OR_NULL("pinned"), "worker_cpus", OR_NULL("worker_cpus"),
                "coro_slice_ms", OR_NULL("coro_slice_ms"), "processes", workers,
                "allow_crash", crash < 0 ? json_null() : json_boolean(crash),
                "allow_deadlock", dl < 0 ? json_null() : json_boolean(dl),
                "child", 1, "pid", lab->child.pid);
#undef OR_NULL
  return o;
}

json_t *tl_lab_child_run_trigger_of(tl_lab *lab) {
  json_t *v = json_array_get(json_object_get(lab->exp, "variants"),
                             (size_t) lab->variant);
  json_t *t = json_object_get(v, "trigger");
  return json_is_object(t) ? t : json_object_get(lab->exp, "trigger");
}

static void on_trigger_answer(tl_lab_http *h, int status, const char *body,
                              size_t len) {
  (void) h;
  (void) status;
  (void) body;
  (void) len; /* a crash resets it, a deadlock never answers: either is it */
}

void tl_lab_child_run_trigger(tl_lab *lab) {
  json_t *t = tl_lab_child_run_trigger_of(lab);
  const char *path = tl_lab_run_str(t, "path", "/");
  int n = (int) tl_lab_run_num(t, "count", 1);
  if (n < 1)
    n = 1;
  if (n > TL_LAB_MAX_TRIGGERS)
    n = TL_LAB_MAX_TRIGGERS;
  lab->triggered = true;
  lab->trig_total = lab->after_total = lab->child_total;
  lab->trig_up = lab->child_up;
  lab->trig_at_ns = (double) tl_now_ns();
  for (int i = 0; i < n; i++) {
    lab->trig[i].data = lab;
    tl_lab_http_get(&lab->trig[i], lab->uv, lab->child.port, path,
                    on_trigger_answer);
  }
}

json_t *tl_lab_child_run_record(tl_lab *lab) {
  json_t *o = tl_lab_child_json(&lab->child);
  bool gone =
      lab->child.pid > 0 && kill(lab->child.pid, 0) != 0 && errno == ESRCH;
  json_object_set_new(o, "gone", json_boolean(gone));
  return o;
}
