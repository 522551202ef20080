/* The lab run's state machine (observer/lab_run.h). */
#include "config.h"

#include "observer/lab_run.h"

#include "base/cpulist.h"
#include "base/mode.h"
#include "base/util.h"
#include "observer/lab_child_run.h"
#include "observer/lab_setup.h"
#include "observer/lab_verdict.h"
#include "observer/lab_wrk_proc.h"
#include "observer/sampler.h"
#include "observer/snapshot.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void tl_lab_run_broadcast(tl_lab *lab, json_t *ev) {
  char *s = json_dumps(ev, JSON_COMPACT);
  tl_sse_broadcast_event(lab->sse, "lab", s, strlen(s));
  free(s);
  json_decref(ev);
}

json_t *tl_lab_run_running_json(tl_lab *lab) {
  if (lab->state == TL_LAB_IDLE)
    return json_null();
  static const char *names[] = {"idle", "applying", "running", "restoring"};
  double el = (double) (tl_now_ns() - lab->t0_ns) / 1e9;
  json_t *r = json_pack("{s:s,s:i,s:s,s:f,s:f,s:i,s:s,s:i}", "id",
                        tl_lab_run_str(lab->exp, "id", ""), "run", lab->seq,
                        "state", names[lab->state], "elapsed_s",
                        lab->state == TL_LAB_RUNNING ? el : 0.0, "duration_s",
                        lab->duration_s, "variant", lab->variant, "variant_id",
                        tl_lab_setup_variant_str(lab->exp, lab->variant, "id"),
                        "nvariants", lab->nvariants);
  /* The child server of this variant (its picture: GET /lab/child/stats),
   * or null. */
  json_object_set_new(
      r, "child", lab->in_child ? tl_lab_child_json(&lab->child) : json_null());
  return r;
}

/* Sends a progress event (ev, or a bare one when NULL) with the variant
 * and the phase: setup, load, restore, done. */
static void progress(tl_lab *lab, const char *phase, json_t *ev) {
  if (!ev)
    ev = json_pack("{s:s,s:s,s:i}", "type", "progress", "id",
                   tl_lab_run_str(lab->exp, "id", ""), "run", lab->seq);
  json_object_set_new(ev, "variant", json_integer(lab->variant));
  json_object_set_new(
      ev, "variant_id",
      json_string(tl_lab_setup_variant_str(lab->exp, lab->variant, "id")));
  json_object_set_new(ev, "nvariants", json_integer(lab->nvariants));
  json_object_set_new(ev, "phase", json_string(phase));
  tl_lab_run_broadcast(lab, ev);
}

/* The latest trigger time of exp's variants, s (0: no trigger). */
static double trigger_at_s(json_t *exp) {
  double at = 0;
  json_t *t = json_object_get(exp, "trigger");
  if (json_is_object(t))
    at = tl_lab_run_num(t, "after_s", 1);
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(exp, "variants"), i, v) {
    t = json_object_get(v, "trigger");
    if (json_is_object(t) && tl_lab_run_num(t, "after_s", 1) > at)
      at = tl_lab_run_num(t, "after_s", 1);
  }
  return at;
}

double tl_lab_run_load_s(json_t *exp, int duration_s) {
  if (!json_is_object(json_object_get(exp, "load")))
    return 0; /* no load: the server's own measurements */
  double d = duration_s > 0 ? duration_s
                            : tl_lab_run_num(json_object_get(exp, "load"),
                                             "duration_s", 5);
  /* A trigger's effect (a worker replaced, a deadlock found) needs a few
   * seconds of load after it, whatever a short run asks for. */
  double at = trigger_at_s(exp);
  if (at > 0 && d < at + TL_LAB_AFTER_TRIGGER_S)
    d = at + TL_LAB_AFTER_TRIGGER_S;
  return d > TL_LAB_MAX_DURATION_S ? TL_LAB_MAX_DURATION_S : d < 1 ? 1 : d;
}

/* A load or probe of the experiment with the run's duration (new ref). */
static json_t *load_copy(tl_lab *lab, json_t *load) {
  json_t *c = json_deep_copy(load);
  json_object_set_new(c, "duration_s", json_real(lab->duration_s));
  return c;
}

/* The evidence's "after": this server's latest /stats, or the child's
 * (with what the lab saw of it: "lab_child"). */
static void keep_during(tl_lab *lab) {
  const tl_buf *j =
      lab->in_child ? &lab->child_stats : tl_sampler_json(lab->stats);
  if (lab->in_child && !lab->has_child_stats)
    return;
  lab->during.len = 0;
  tl_buf_append(&lab->during, j->data, j->len);
  lab->has_during = true;
}

static void last_taken(tl_lab *lab);

static void on_child_poll(tl_lab_http *h, int status, const char *body,
                          size_t len) {
  tl_lab *lab = h->data;
  if (!lab->in_child || lab->stopping)
    return;
  tl_lab_child_run_took(lab, status, body, len);
  if (lab->want_last)
    last_taken(lab);
}

/* Polls the child's /stats (the last answer is used by the next tick). */
static void child_poll(tl_lab *lab, tl_lab_http_cb cb) {
  lab->poll.data = lab;
  if (tl_lab_http_get(&lab->poll, lab->uv, lab->child.admin_port, "/stats",
                      cb) != 0)
    cb(&lab->poll, -1, "", 0);
}

static void on_trigger_poll(tl_lab_http *h, int status, const char *body,
                            size_t len) {
  tl_lab *lab = h->data;
  if (!lab->in_child || lab->stopping)
    return;
  tl_lab_child_run_took(lab, status, body, len);
  if (lab->want_last)
    last_taken(lab);
  else if (lab->state == TL_LAB_RUNNING && !lab->cancel)
    tl_lab_child_run_trigger(lab); /* from the counts just read */
}

/* Each second of a child variant's load: its /stats, and the trigger once
 * its time has come (after a fresh /stats, so that "after the trigger"
 * starts there). */
static void child_tick(tl_lab *lab, double el) {
  json_t *t = tl_lab_child_run_trigger_of(lab);
  if (json_is_object(t) && !lab->triggered &&
      el + 0.1 >= tl_lab_run_num(t, "after_s", 1)) /* ticks run late */
    child_poll(lab, on_trigger_poll);
  else
    child_poll(lab, on_child_poll);
}

static void on_tick(uv_timer_t *t) {
  tl_lab *lab = TL_CONTAINER_OF(t, tl_lab, tick);
  if (lab->state != TL_LAB_RUNNING)
    return;
  double el = (double) (tl_now_ns() - lab->t0_ns) / 1e9;
  if (el > lab->duration_s + TL_LAB_GRACE_S) {
    snprintf(lab->fail, sizeof(lab->fail), "wrk ran past its %.0f s: killed",
             lab->duration_s);
    tl_lab_wrk_proc_kill(lab, SIGKILL);
    return;
  }
  double total, up;
  if (lab->in_child) {
    child_tick(lab, el);
    total = lab->child_total;
    up = lab->child_up;
  } else {
    /* The server's counters from the snapshot itself, not its JSON. */
    const tl_snapshot *s = tl_sampler_snapshot(lab->stats);
    total = (double) s->requests;
    up = s->uptime_ms;
  }
  double start_total = lab->start_total, start_up = lab->start_uptime_ms;
  json_t *rate = json_null();
  if (up > lab->last_uptime_ms) {
    rate = json_real((total - lab->last_total) * 1000.0 /
                     (up - lab->last_uptime_ms));
    lab->last_total = total;
    lab->last_uptime_ms = up;
  }
  double so_far =
      up > start_up ? (total - start_total) * 1000.0 / (up - start_up) : 0;
  json_array_append(lab->series, rate);
  /* The evidence's "after": kept as text, parsed once for the result. */
  keep_during(lab);
  double left = lab->duration_s - el;
  json_t *ev = json_pack(
      "{s:s,s:s,s:i,s:f,s:f,s:f,s:O}", "type", "progress", "id",
      tl_lab_run_str(lab->exp, "id", ""), "run", lab->seq, "elapsed_s", el,
      "left_s", left > 0 ? left : 0.0, "rps_so_far", so_far, "rps_now", rate);
  json_decref(rate);
  progress(lab, "load", ev);
}

static void apply_variant(tl_lab *lab);

/* What one load kept (its "before", series, "during", wrk's output):
 * dropped when its variant's record is made and when the run ends. */
static void forget_load(tl_lab *lab) {
  json_decref(lab->before);
  json_decref(lab->series);
  lab->before = lab->series = NULL;
  lab->during.len = 0;
  lab->has_during = false;
  for (int i = 0; i < 2; i++)
    tl_buf_close(&lab->wrk[i].text);
  lab->nwrk = 0;
}

/* A variant's wrk handles have closed: its record; then the next variant,
 * or the restore after the last (or when the run stops). */
static void variant_done(tl_lab *lab) {
  json_t *rec = tl_lab_verdict_variant(lab);
  if (lab->in_child)
    json_object_set_new(rec, "child", tl_lab_child_run_record(lab));
  /* Its figure at once, not only with the run's result. */
  tl_lab_run_broadcast(
      lab, json_pack("{s:s,s:s,s:i,s:i,s:O}", "type", "variant", "id",
                     tl_lab_run_str(lab->exp, "id", ""), "run", lab->seq,
                     "variant", lab->variant, "record", rec));
  json_array_append_new(lab->vresults, rec);
  lab->in_child = false;
  forget_load(lab);
  if (lab->fail[0] || lab->cancel || lab->variant + 1 >= lab->nvariants) {
    tl_lab_run_restore(lab);
    return;
  }
  lab->variant++;
  apply_variant(lab);
}

/* The child has stopped and every handle of it has closed. */
static void on_child_gone(tl_lab *lab) {
  if (lab->stopping)
    return;
  if (lab->state == TL_LAB_RUNNING) {
    variant_done(lab);
    return;
  }
  /* It never got to its load (failed to start or settle, cancelled). */
  lab->in_child = false;
  if (!lab->fail[0] && !lab->cancel)
    snprintf(lab->fail, sizeof(lab->fail),
             "the child server exited before it served");
  tl_lab_run_restore(lab);
}

/* The child's last /stats is in: the evidence's "after", then the child
 * is stopped (on_child_gone goes on). */
static void on_quiet_tick(uv_timer_t *t);

static void last_taken(tl_lab *lab) {
  if (!lab->cancel && !lab->child.exited && !tl_lab_child_run_quiet(lab)) {
    /* Not final yet: again after the child's next sample. */
    uv_timer_start(&lab->tick, on_quiet_tick,
                   (uint64_t) lab->srv->cfg.sample_ms, 0);
    return;
  }
  lab->want_last = false;
  keep_during(lab);
  tl_lab_child_stop(&lab->child);
}

static void on_quiet_tick(uv_timer_t *t) {
  tl_lab *lab = TL_CONTAINER_OF(t, tl_lab, tick);
  if (!lab->stopping && lab->in_child)
    child_poll(lab, on_child_poll);
}

/* A child variant's wrk is done: the child's last /stats (the figures
 * since the trigger end there), then the child is stopped. */
static void child_load_done(tl_lab *lab) {
  uv_timer_stop(&lab->tick);
  lab->want_last = true;
  if (lab->poll.busy)
    return; /* a tick's poll is out: its answer is the last */
  child_poll(lab, on_child_poll);
}

/* An experiment with "settle": true reads its evidence at rest, from the
 * first sample after wrk that finds no task in flight (at most
 * REST_MAX_NS later): some figures are exact only then (race: a step
 * counts its increments a chunk ahead of doing them). */
#define REST_MAX_NS 3000000000ull

static bool at_rest(const tl_snapshot *s) {
  for (int i = 0; i < s->nthreads; i++)
    if (s->threads[i].has_in_flight && s->threads[i].in_flight > 0)
      return false;
  return true;
}

static void on_rest_tick(uv_timer_t *t) {
  tl_lab *lab = TL_CONTAINER_OF(t, tl_lab, tick);
  if (lab->stopping)
    return;
  const tl_snapshot *s = tl_sampler_snapshot(lab->stats);
  if (!lab->cancel && tl_now_ns() < lab->rest_deadline_ns &&
      (s->seq <= lab->rest_after_seq || !at_rest(s))) {
    uv_timer_start(&lab->tick, on_rest_tick, (uint64_t) lab->srv->cfg.sample_ms,
                   0);
    return;
  }
  keep_during(lab);
  variant_done(lab);
}

static void load_done_at_rest(tl_lab *lab) {
  lab->rest_after_seq = tl_sampler_snapshot(lab->stats)->seq;
  lab->rest_deadline_ns = tl_now_ns() + REST_MAX_NS;
  uv_timer_start(&lab->tick, on_rest_tick, (uint64_t) lab->srv->cfg.sample_ms,
                 0);
}

/* After the setup was applied: the load. */
static void start_load(tl_lab *lab) {
  /* A variant may run its own load (shared2: race vs atomic:N vs lock:N). */
  json_t *vload =
      json_object_get(json_array_get(json_object_get(lab->exp, "variants"),
                                     (size_t) lab->variant),
                      "load");
  json_t *load =
      json_is_object(vload) ? vload : json_object_get(lab->exp, "load");
  json_t *probe = json_object_get(lab->exp, "probe");
  lab->duration_s = tl_lab_run_load_s(lab->exp, lab->duration_s_override);
  if (lab->in_child) {
    lab->before = json_loadb(lab->child_stats.data, lab->child_stats.len, 0,
                             NULL); /* the child's, from its last /stats */
    lab->start_total = lab->last_total = lab->child_total;
    lab->start_uptime_ms = lab->last_uptime_ms = lab->child_up;
  } else {
    const tl_buf *j = tl_sampler_json(lab->stats);
    lab->before = json_loadb(j->data, j->len, 0, NULL); /* evidence's paths */
    const tl_snapshot *s = tl_sampler_snapshot(lab->stats);
    lab->start_total = lab->last_total = (double) s->requests;
    lab->start_uptime_ms = lab->last_uptime_ms = s->uptime_ms;
  }
  lab->series = json_array();
  lab->t0_ns = tl_now_ns();
  lab->state = TL_LAB_RUNNING;
  lab->nwrk = 0;
  lab->handles_open = 0;
  lab->wrk_closed = lab->in_child ? child_load_done
                    : json_is_true(json_object_get(lab->exp, "settle"))
                        ? load_done_at_rest
                        : variant_done;
  lab->noload = !json_is_object(load);
  if (lab->noload) {
    variant_done(lab); /* the figures are in the snapshot already */
    return;
  }
  json_t *l = load_copy(lab, load);
  int rc = tl_lab_wrk_proc_spawn(lab, &lab->wrk[lab->nwrk++], l);
  json_decref(l);
  if (rc == 0 && json_is_object(probe)) {
    l = load_copy(lab, probe);
    rc = tl_lab_wrk_proc_spawn(lab, &lab->wrk[lab->nwrk++], l);
    json_decref(l);
  }
  if (rc != 0) {
    if (rc == UV_ENOENT)
      snprintf(lab->fail, sizeof(lab->fail),
               "wrk is not installed: apt-get install wrk (or ./setup-deps)");
    else
      snprintf(lab->fail, sizeof(lab->fail), "cannot start wrk: %s",
               uv_strerror(rc));
    tl_lab_wrk_proc_kill(
        lab, SIGKILL); /* a load already started, if the probe failed */
    return;            /* the close callbacks go on to restore */
  }
  progress(lab, "load", NULL);
  uv_timer_start(&lab->tick, on_tick, 1000, 1000);
}

/* One sample period after the setup: the "before" figures are then read
 * from a sample taken under the new settings, so the moves that applying
 * them caused (pinning, new workers) are not counted as the load's. */
static void on_settled(uv_timer_t *t) {
  tl_lab *lab = TL_CONTAINER_OF(t, tl_lab, tick);
  if (lab->stopping)
    return;
  if (lab->cancel) {
    tl_lab_run_restore(lab);
  } else {
    json_decref(lab->vsettings);
    lab->vsettings = tl_lab_setup_readback(lab);
    start_load(lab);
  }
}

static void on_setup_applied(void *arg, int rc) {
  tl_lab *lab = arg;
  if (lab->stopping)
    return;
  if (rc != 0) {
    snprintf(lab->fail, sizeof(lab->fail),
             "the server could not apply the setup: %s", strerror(-rc));
    tl_lab_run_restore(lab);
  } else if (lab->cancel) {
    tl_lab_run_restore(lab);
  } else {
    uv_timer_start(&lab->tick, on_settled,
                   (uint64_t) lab->srv->cfg.sample_ms * 3 / 2, 0);
  }
}

static void finish_run(tl_lab *lab, int restore_rc) {
  json_t *r = lab->result;
  json_object_set_new(r, "restored", json_boolean(restore_rc == 0));
  if (restore_rc != 0) {
    char why[200];
    snprintf(why, sizeof(why), "could not restore the settings: %s",
             strerror(-restore_rc));
    json_object_set_new(r, "restore_error", json_string(why));
  }
  json_object_set_new(r, "settings_after", tl_lab_setup_readback(lab));
  json_array_append(lab->runs, r);
  while (json_array_size(lab->runs) > TL_LAB_MAX_RUNS)
    json_array_remove(lab->runs, 0);
  json_t *ev = json_pack("{s:s,s:O}", "type", "result", "result", r);
  tl_lab_run_broadcast(lab, ev);
  json_decref(lab->result);
  lab->result = NULL;
  forget_load(lab);
  json_decref(lab->vsetup);
  json_decref(lab->vsettings);
  json_decref(lab->vresults);
  lab->vsetup = lab->vsettings = lab->vresults = NULL;
  progress(lab, "done", NULL);
  lab->state = TL_LAB_IDLE;
  bool stopped = lab->cancel || lab->stopping;
  if (lab->all && (stopped || !tl_lab_run_next_of_all(lab)))
    lab->all = false;
}

bool tl_lab_run_runnable(json_t *exp) {
  int n = tl_lab_setup_nvariants(exp);
  for (int i = 0; i < n; i++) {
    json_t *s = tl_lab_setup_variant(exp, i);
    bool child = tl_lab_setup_needs_child(s);
    json_decref(s);
    /* A child server is this very binary, started again. */
    if (child && access("/proc/self/exe", X_OK) != 0)
      return false;
  }
  return true;
}

static void record_skipped(tl_lab *lab, json_t *exp) {
  lab->seq++;
  json_t *r = json_pack(
      "{s:i,s:s,s:s,s:s,s:s,s:s,s:[],s:{s:s,s:b}}", "run", lab->seq, "id",
      tl_lab_run_str(exp, "id", ""), "idea", tl_lab_run_str(exp, "idea", ""),
      "question", tl_lab_run_str(exp, "question", ""), "status", "skipped",
      "reason",
      "a variant needs a child server and /proc/self/exe cannot be run here",
      "variants", "verdict", "text", "no verdict: not run", "consistent", 0);
  json_array_append_new(lab->runs, r);
  while (json_array_size(lab->runs) > TL_LAB_MAX_RUNS)
    json_array_remove(lab->runs, 0);
}

bool tl_lab_run_next_of_all(tl_lab *lab) {
  json_t *list = json_object_get(lab->book, "experiments");
  while (lab->all_next < json_array_size(list)) {
    json_t *exp = json_array_get(list, lab->all_next++);
    if (!tl_lab_run_runnable(exp)) {
      record_skipped(lab, exp);
      continue;
    }
    if (tl_lab_run_start(lab, exp, tl_lab_run_str(exp, "id", ""),
                         lab->duration_s_override) == 0)
      return true;
  }
  return false;
}

static void on_restored(void *arg, int rc) {
  tl_lab *lab = arg;
  if (!lab->stopping)
    finish_run(lab, rc);
}

void tl_lab_run_restore(tl_lab *lab) {
  tl_lab_verdict_build(lab);
  lab->state = TL_LAB_RESTORING;
  progress(lab, "restore", NULL);
  if (tl_obs_control_apply(lab->ctl, &lab->saved, on_restored, lab) != 0)
    finish_run(lab, -ESHUTDOWN);
}

static void on_settle_tick(uv_timer_t *t);

static void on_settle_poll(tl_lab_http *h, int status, const char *body,
                           size_t len) {
  tl_lab *lab = h->data;
  if (!lab->in_child || lab->stopping)
    return;
  tl_lab_child_run_took(lab, status, body, len);
  if (lab->cancel || lab->child.exited) {
    tl_lab_child_stop(&lab->child);
    return;
  }
  if (lab->has_child_stats && tl_lab_child_run_settled(lab)) {
    json_decref(lab->vsettings);
    lab->vsettings = tl_lab_child_run_readback(lab);
    start_load(lab);
    return;
  }
  if (++lab->settle_polls > TL_LAB_CHILD_START_MS / 250) {
    snprintf(lab->fail, sizeof(lab->fail),
             "the child server did not settle within %d s",
             TL_LAB_CHILD_START_MS / 1000);
    tl_lab_child_stop(&lab->child);
    return;
  }
  uv_timer_start(&lab->tick, on_settle_tick, 250, 0);
}

/* While the child settles: its /stats every 250 ms until its second
 * sample, every worker process up. */
static void on_settle_tick(uv_timer_t *t) {
  tl_lab *lab = TL_CONTAINER_OF(t, tl_lab, tick);
  if (lab->stopping || !lab->in_child)
    return;
  child_poll(lab, on_settle_poll);
}

static void on_child_ready(tl_lab *lab) {
  if (lab->stopping)
    return;
  if (lab->cancel) {
    tl_lab_child_stop(&lab->child);
    return;
  }
  uv_timer_start(&lab->tick, on_settle_tick, (uint64_t) lab->srv->cfg.sample_ms,
                 0);
}

/* A variant that needs a server started for it: the child server. */
static void start_child(tl_lab *lab) {
  /* A trigger that never answers (a deadlocked task) may still hold a slot
   * from the variant before: closed now, free long before this one's. */
  for (int i = 0; i < TL_LAB_MAX_TRIGGERS; i++)
    tl_lab_http_abort(&lab->trig[i]);
  lab->in_child = true;
  lab->settle_polls = 0;
  lab->has_child_stats = false;
  lab->child_answered = false;
  lab->triggered = lab->want_last = false;
  lab->quiet_polls = 0;
  lab->child_total = lab->child_up = 0;
  json_decref(lab->child_last);
  lab->child_last = NULL;
  int rc = tl_lab_child_start(&lab->child, lab, lab->uv, lab->vsetup,
                              lab->srv->cfg.sample_ms);
  if (rc != 0) {
    lab->in_child = false;
    snprintf(lab->fail, sizeof(lab->fail), "cannot start a child server: %s",
             uv_strerror(rc));
    tl_lab_run_restore(lab);
    return;
  }
  lab->child.on_ready = on_child_ready;
  lab->child.on_gone = on_child_gone;
}

/* Applies the current variant's setup (over the saved settings). */
static void apply_variant(tl_lab *lab) {
  json_decref(lab->vsetup);
  lab->vsetup = tl_lab_setup_variant(lab->exp, lab->variant);
  lab->state = TL_LAB_APPLYING;
  progress(lab, "setup", NULL);
  if (tl_lab_setup_needs_child(lab->vsetup)) {
    start_child(lab);
    return;
  }
  tl_control want;
  if (tl_lab_setup_control(lab, lab->vsetup, &want) != 0) {
    snprintf(lab->fail, sizeof(lab->fail),
             "the variant's cpus are not usable here");
    tl_lab_run_restore(lab);
    return;
  }
  if (tl_obs_control_apply(lab->ctl, &want, on_setup_applied, lab) != 0) {
    snprintf(lab->fail, sizeof(lab->fail), "the server is shutting down");
    tl_lab_run_restore(lab);
  }
}

int tl_lab_run_start(tl_lab *lab, json_t *exp, const char *id, int duration_s) {
  tl_lab_setup_save(lab);
  int n = tl_lab_setup_nvariants(exp);
  for (int i = 0; i < n; i++) {
    json_t *setup = tl_lab_setup_variant(exp, i);
    tl_control want;
    int rc = tl_lab_setup_control(lab, setup, &want);
    json_decref(setup);
    if (rc != 0)
      return -1;
  }
  lab->seq++;
  lab->exp = exp;
  lab->cancel = false;
  lab->fail[0] = '\0';
  lab->nwrk = 0;
  lab->variant = 0;
  lab->nvariants = n;
  lab->duration_s_override = duration_s;
  lab->duration_s = tl_lab_run_load_s(exp, duration_s);
  lab->vresults = json_array();
  lab->t0_ns = tl_now_ns();
  lab->result =
      json_pack("{s:i,s:s,s:s,s:s,s:f,s:o}", "run", lab->seq, "id", id, "idea",
                tl_lab_run_str(exp, "idea", ""), "question",
                tl_lab_run_str(exp, "question", ""), "started_unix_ms",
                (double) time(NULL) * 1000.0, "settings_before",
                tl_lab_setup_json(&lab->saved, lab->saved_cpus));
  apply_variant(lab);
  return 0;
}

void tl_lab_run_cancel(tl_lab *lab) {
  lab->cancel = true;
  lab->all = false; /* the experiments after this one do not start */
  if (lab->state == TL_LAB_RUNNING)
    tl_lab_wrk_proc_kill(lab, SIGTERM); /* a child follows when wrk closes */
  else if (lab->state == TL_LAB_APPLYING && lab->in_child && lab->child.ready &&
           !lab->poll.busy) {
    uv_timer_stop(&lab->tick); /* settling: it stops now */
    tl_lab_child_stop(&lab->child);
  }
  /* Starting (no banner yet) or a poll out: its callback sees cancel. */
}
