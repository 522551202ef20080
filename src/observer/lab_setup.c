/* An experiment's setup and model (observer/lab_setup.h). */
#include "config.h"

#include "observer/lab_setup.h"

#include "base/cpulist.h"
#include "base/mode.h"
#include "base/util.h"
#include "exec/coro.h"

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
  tl_lab_setup_model_for(lab, exp, json_object_get(exp, "setup"), m);
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
                   ? (CPU_EQUAL(&s->cpus, &inherited) ? 0 : 1)
                   : -1;
  tl_cpulist_format(&s->cpus, lab->saved_cpus, sizeof(lab->saved_cpus));
  /* The live slice is this process's (not carried to worker processes). */
  s->set_coro_slice = lab->srv->role != TL_PROC_SUPERVISOR;
  s->coro_slice_ms = tl_coro_slice_ms(&lab->srv->cfg);
}

json_t *tl_lab_setup_json(const tl_control *s, const char *cpus) {
  return json_pack("{s:s,s:i,s:b,s:s}", "mode", tl_mode_name((tl_mode) s->mode),
                   "threads", s->threads, "pin", s->pin == 1, "worker_cpus",
                   cpus);
}

int tl_lab_setup_nvariants(json_t *exp) {
  json_t *v = json_object_get(exp, "variants");
  size_t n = json_is_array(v) ? json_array_size(v) : 0;
  return n > 0 ? (int) n : 1;
}

static json_t *variant_obj(json_t *exp, int i) {
  json_t *v = json_array_get(json_object_get(exp, "variants"), (size_t) i);
  return json_is_object(v) ? v : NULL;
}

json_t *tl_lab_setup_variant(json_t *exp, int i) {
  json_t *base = json_object_get(exp, "setup");
  json_t *out = json_is_object(base) ? json_deep_copy(base) : json_object();
  json_t *v = variant_obj(exp, i);
  json_t *over = v ? json_object_get(v, "setup") : NULL;
  if (json_is_object(over))
    json_object_update(out, over);
  return out;
}

const char *tl_lab_setup_variant_str(json_t *exp, int i, const char *key) {
  json_t *v = variant_obj(exp, i);
  if (v)
    return tl_lab_run_str(v, key, "");
  return strcmp(key, "id") == 0 ? "setup" : tl_lab_run_str(exp, "idea", "");
}

json_t *tl_lab_setup_variant_check(json_t *exp, int i) {
  json_t *v = variant_obj(exp, i);
  json_t *c = v ? json_object_get(v, "check") : NULL;
  if (c)
    return json_is_object(c) ? c : NULL;
  c = json_object_get(exp, "check");
  return json_is_object(c) ? c : NULL;
}

json_t *tl_lab_setup_variant_exp(json_t *exp, int i) {
  json_t *out = json_copy(exp);
  json_t *v = variant_obj(exp, i);
  json_t *p = v ? json_object_get(v, "prediction") : NULL;
  if (json_is_object(p))
    json_object_set(out, "prediction", p);
  json_t *m = v ? json_object_get(v, "measured") : NULL;
  if (json_is_string(m))
    json_object_set(out, "measured", m);
  return out;
}

bool tl_lab_setup_needs_child(json_t *setup) {
  json_t *p = json_object_get(setup, "processes");
  return (json_is_integer(p) && json_integer_value(p) > 0) ||
         json_is_true(json_object_get(setup, "child")) ||
         json_is_true(json_object_get(setup, "allow_crash")) ||
         json_is_true(json_object_get(setup, "allow_deadlock"));
}

const char *tl_lab_setup_unit(json_t *exp) {
  const char *u = tl_lab_run_str(exp, "unit", NULL);
  if (u)
    return u;
  const char *what = tl_lab_run_str(exp, "measured", "rps");
  return strcmp(what, "rps") == 0 ? "req/s" : what;
}

int tl_lab_setup_control(tl_lab *lab, json_t *setup, tl_control *want) {
  *want = lab->saved;
  want->next = NULL;
  want->done = NULL;
  want->data = NULL;
  cpu_set_t cpus;
  int op;
  if (tl_lab_setup_cpus(lab, setup, &cpus, &op) != 0)
    return -1;
  if (op >= 0) {
    want->cpus_op = op;
    want->cpus = cpus;
  } else {
    cpus = lab->saved.cpus;
  }
  tl_mode mode;
  const char *ms = tl_lab_run_str(setup, "mode", NULL);
  if (ms && tl_mode_parse(ms, &mode) == 0)
    want->mode = (int) mode;
  want->threads = tl_lab_setup_threads(setup, &cpus, lab->saved.threads);
  json_t *pin = json_object_get(setup, "pin");
  if (json_is_boolean(pin))
    want->pin = json_is_true(pin);
  json_t *slice = json_object_get(setup, "coro_slice_ms");
  if (json_is_integer(slice)) {
    if (json_integer_value(slice) < 0 || json_integer_value(slice) > 10000)
      return -1;
    want->set_coro_slice = true;
    want->coro_slice_ms = (int) json_integer_value(slice);
  }
  return 0;
}

void tl_lab_setup_model_for(tl_lab *lab, json_t *exp, json_t *setup,
                            tl_lab_model *m) {
  json_t *params =
      json_object_get(json_object_get(exp, "prediction"), "params");
  cpu_set_t cpus;
  int op;
  tl_lab_setup_cpus(lab, setup, &cpus, &op);
  memset(m, 0, sizeof(*m));
  m->cores = CPU_COUNT(&cpus);
  m->workers =
      tl_lab_setup_threads(setup, &cpus, atomic_load(&lab->srv->threads));
  const char *mode =
      tl_lab_run_str(setup, "mode", tl_mode_name(tl_server_mode(lab->srv)));
  m->async = strcmp(mode, "async") == 0;
  m->connections =
      (int) tl_lab_run_num(json_object_get(exp, "load"), "connections", 1);
  m->cpu_ms = tl_lab_run_num(params, "cpu_ms", 0);
  m->io_ms = tl_lab_run_num(params, "io_ms", 0);
  m->threshold = tl_lab_run_num(params, "threshold", 0);
}

void tl_lab_setup_model_settings(json_t *exp, json_t *settings,
                                 tl_lab_model *m) {
  json_t *params =
      json_object_get(json_object_get(exp, "prediction"), "params");
  memset(m, 0, sizeof(*m));
  const char *cl = tl_lab_run_str(settings, "worker_cpus", "");
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  m->cores =
      tl_cpulist_parse(cl, strlen(cl), &cpus) == 0 ? CPU_COUNT(&cpus) : 0;
  m->workers = (int) tl_lab_run_num(settings, "threads", 0);
  m->async = strcmp(tl_lab_run_str(settings, "mode", ""), "async") == 0;
  m->connections =
      (int) tl_lab_run_num(json_object_get(exp, "load"), "connections", 1);
  m->cpu_ms = tl_lab_run_num(params, "cpu_ms", 0);
  m->io_ms = tl_lab_run_num(params, "io_ms", 0);
  m->threshold = tl_lab_run_num(params, "threshold", 0);
}

json_t *tl_lab_setup_readback(tl_lab *lab) {
  char cpus[256];
  cpu_set_t now;
  tl_server_worker_cpus(lab->srv, &now, NULL);
  tl_cpulist_format(&now, cpus, sizeof(cpus));
  return json_pack("{s:s,s:i,s:b,s:s,s:i,s:i}", "mode",
                   tl_mode_name(tl_server_mode(lab->srv)), "threads",
                   atomic_load(&lab->srv->threads), "pin",
                   atomic_load(&lab->srv->pinned), "worker_cpus", cpus,
                   "coro_slice_ms", tl_coro_slice_ms(&lab->srv->cfg),
                   "processes", lab->srv->cfg.processes);
}

json_t *tl_lab_setup_variants_json(tl_lab *lab, json_t *exp) {
  json_t *out = json_array();
  int n = tl_lab_setup_nvariants(exp);
  for (int i = 0; i < n; i++) {
    json_t *setup = tl_lab_setup_variant(exp, i);
    json_t *vexp = tl_lab_setup_variant_exp(exp, i);
    const char *formula =
        tl_lab_run_str(json_object_get(vexp, "prediction"), "formula", "");
    tl_lab_model m;
    tl_lab_setup_model_for(lab, vexp, setup, &m);
    double p = tl_lab_predict(formula, &m);
    json_array_append_new(
        out, json_pack("{s:s,s:s,s:o,s:b,s:o,s:s,s:s}", "id",
                       tl_lab_setup_variant_str(exp, i, "id"), "label",
                       tl_lab_setup_variant_str(exp, i, "label"), "setup",
                       setup, "needs_child", tl_lab_setup_needs_child(setup),
                       "predicted", p >= 0 ? json_real(p) : json_null(), "unit",
                       tl_lab_setup_unit(exp), "formula", formula));
    json_decref(vexp); /* formula is its string */
  }
  return out;
}
