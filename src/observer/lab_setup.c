/* An experiment's setup and model (observer/lab_setup.h). */
#include "config.h"

#include "observer/lab_setup.h"

#include "base/cpulist.h"
#include "base/mode.h"
#include "base/util.h"

#include <string.h>

int tl_lab_setup_cpus(tl_lab *lab, json_t *setup, cpu_set_t *out, int *op) {
  cpu_set_t cur, inherited;
  tl_server_worker_cpus(lab->srv, &cur, &inherited);
  const char *want = tl_lab_run_str(setup, "cpus", NULL);
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

int tl_lab_setup_threads(json_t *setup, const cpu_set_t *cpus, int current) {
  json_t *t = json_object_get(setup, "threads");
  if (json_is_integer(t))
    return (int) json_integer_value(t);
  if (json_is_string(t) && strcmp(json_string_value(t), "cores") == 0)
    return CPU_COUNT(cpus);
  return current;
}

void tl_lab_setup_model(tl_lab *lab, json_t *exp, tl_lab_model *m) {
  json_t *setup = json_object_get(exp, "setup");
  json_t *params = json_object_get(json_object_get(exp, "prediction"), "params");
  cpu_set_t cpus;
  int op;
  tl_lab_setup_cpus(lab, setup, &cpus, &op);
  memset(m, 0, sizeof(*m));
  m->cores = CPU_COUNT(&cpus);
  m->workers = tl_lab_setup_threads(setup, &cpus, atomic_load(&lab->srv->threads));
  const char *mode = tl_lab_run_str(setup, "mode", tl_mode_name(tl_server_mode(lab->srv)));
  m->async = strcmp(mode, "async") == 0;
  m->connections = (int) tl_lab_run_num(json_object_get(exp, "load"), "connections", 1);
  m->cpu_ms = tl_lab_run_num(params, "cpu_ms", 0);
  m->io_ms = tl_lab_run_num(params, "io_ms", 0);
  m->threshold = tl_lab_run_num(params, "threshold", 0);
}

json_t *tl_lab_setup_prediction(tl_lab *lab, json_t *exp) {
  tl_lab_model m;
  tl_lab_setup_model(lab, exp, &m);
  const char *formula =
      tl_lab_run_str(json_object_get(exp, "prediction"), "formula", "");
  double p = tl_lab_predict(formula, &m);
  return json_pack("{s:o,s:b,s:{s:i,s:i,s:b,s:i,s:f,s:f}}", "predicted",
                   p >= 0 ? json_real(p) : json_null(), "bound",
                   tl_lab_predict_is_bound(formula), "model", "cores", m.cores,
                   "workers", m.workers, "async", m.async, "connections",
                   m.connections, "cpu_ms", m.cpu_ms, "io_ms", m.io_ms);
}

void tl_lab_setup_save(tl_lab *lab) {
  tl_control *s = &lab->saved;
  memset(s, 0, sizeof(*s));
  s->mode = (int) tl_server_mode(lab->srv);
  s->threads = atomic_load(&lab->srv->threads);
  s->pin = atomic_load(&lab->srv->pinned) ? 1 : 0;
  cpu_set_t inherited;
  tl_server_worker_cpus(lab->srv, &s->cpus, &inherited);
  /* Under --processes only the other settings exist live. */
  s->cpus_op = lab->srv->role != TL_PROC_SUPERVISOR
                   ? (CPU_EQUAL(&s->cpus, &inherited) ? 0 : 1) : -1;
  tl_cpulist_format(&s->cpus, lab->saved_cpus, sizeof(lab->saved_cpus));
}

json_t *tl_lab_setup_json(const tl_control *s, const char *cpus) {
  return json_pack("{s:s,s:i,s:b,s:s}", "mode", tl_mode_name((tl_mode) s->mode),
                   "threads", s->threads, "pin", s->pin == 1, "worker_cpus",
                   cpus);
}
