/* The lab's state and the state machine of its one run (internal to the
 * lab*.c files; observer/lab.h is the lab's interface): IDLE -> APPLYING
 * (the setup through /control) -> RUNNING (wrk, a progress event per
 * second) -> RESTORING (result built, settings put back) -> IDLE.
 * Observer thread only. */
#ifndef TL_OBSERVER_LAB_RUN_H
#define TL_OBSERVER_LAB_RUN_H

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

#include "base/buf.h"
#include "observer/lab.h"
#include "observer/lab_child.h"
#include "observer/lab_child_http.h"

#define TL_LAB_MAX_RUNS        50
#define TL_LAB_MAX_DURATION_S  20
#define TL_LAB_GRACE_S         5 /* wrk past its duration by this much: killed */
#define TL_LAB_MAX_TRIGGERS    4 /* requests a trigger sends at once */
#define TL_LAB_AFTER_TRIGGER_S 3 /* load at least this long after a trigger */
#define TL_LAB_CHILD_SETUP_S                                                   \
  2 /* a child's start, settling and stop (id=all's estimate) */

typedef enum {
  TL_LAB_IDLE,
  TL_LAB_APPLYING,
  TL_LAB_RUNNING,
  TL_LAB_RESTORING
} tl_lab_state;

/* One wrk process and the pipe its stdout comes through. */
typedef struct tl_lab_wrk_proc {
  struct tl_lab *lab;
  uv_process_t proc;
  uv_pipe_t out;
  tl_buf text; /* what it printed */
  bool spawned;
  int64_t exit_status;
  int term_signal;
} tl_lab_wrk_proc;

struct tl_lab {
  /* Immutable after init. */
  tl_server *srv;
  uv_loop_t *uv;
  tl_sampler *stats;
  tl_sse *sse;
  tl_obs_control *ctl;
  json_t *book; /* experiments.json, or NULL (book_error says why) */
  char book_path[4096];
  char book_error[4400];
  /* The run in progress (observer thread). */
  tl_lab_state state;
  bool stopping;
  bool cancel;
  int seq;                /* runs started since start */
  json_t *exp;            /* borrowed from book */
  int variant, nvariants; /* the variant running, of how many */
  json_t *vsetup;    /* its setup (the variant's keys over the experiment's) */
  json_t *vsettings; /* the settings read back once it was applied */
  json_t *vresults;  /* the finished variants' records */
  int duration_s_override; /* each variant's load, s (0: the experiment's) */
  bool all;                /* POST /lab/run?id=all: the experiments in order */
  bool noload;      /* the experiment has no load: figures from a snapshot */
  size_t all_next;  /* the index of the next experiment to try */
  json_t *result;   /* being built */
  tl_control saved; /* the settings to restore */
  char saved_cpus[256];
  char fail[300];         /* why the run failed, "" if it did not */
  tl_lab_wrk_proc wrk[2]; /* the load and, for some ideas, a probe */
  int nwrk, handles_open;
  /* Called once every wrk handle has closed (the run's restore): set by
   * lab_run, so that lab_wrk_proc does not call back into it by name. */
  void (*wrk_closed)(struct tl_lab *lab);
  uv_timer_t tick;
  bool tick_init;
  uint64_t t0_ns;
  double duration_s;
  json_t *before; /* /stats at the start (the evidence's "before") */
  tl_buf during;  /* /stats text, the last while wrk ran: parsed
                            only for the result */
  bool has_during;
  json_t *series; /* req/s per tick, from the server's counters */
  double start_total, start_uptime_ms; /* the snapshot's, at the start */
  double last_total, last_uptime_ms;   /* at the last tick */
  json_t *runs; /* the last TL_LAB_MAX_RUNS results, oldest first */
  /* A variant that needs a server started for it runs in a child server
   * (lab_child; SPEC "Lab 2"): wrk drives it, its /stats is polled. */
  tl_lab_child child;
  tl_lab_http poll;                      /* the child's /stats */
  tl_lab_http trig[TL_LAB_MAX_TRIGGERS]; /* the trigger's requests */
  bool in_child;    /* the current variant runs in the child */
  int settle_polls; /* /stats polls while it settles */
  /* "settle": the evidence waits for rest after the load (lab_run). */
  uint64_t rest_after_seq, rest_deadline_ns;
  tl_buf child_stats; /* its latest /stats with "lab_child" added: the
                         evidence's "after", GET /lab/child/stats */
  bool has_child_stats;
  json_t *child_last;           /* its last /stats that answered, parsed */
  double child_total, child_up; /* its requests and uptime_ms, last read */
  bool child_answered;          /* the last poll got an answer */
  bool triggered;               /* the trigger was sent */
  bool want_last;               /* the load is over: the poll out is the last */
  double quiet_total,
      quiet_count;            /* a race load's figures at the poll before */
  int quiet_polls;            /* polls since the load ended */
  double trig_total, trig_up; /* requests, uptime_ms when it was sent */
  double trig_at_ns;          /* when (tl_now_ns) */
  double after_total;         /* requests at the last answer since */
};

/* An experiment's string / number field, or dflt. */
static inline const char *tl_lab_run_str(json_t *o, const char *k,
                                         const char *dflt) {
  json_t *v = json_object_get(o, k);
  return json_is_string(v) ? json_string_value(v) : dflt;
}
static inline double tl_lab_run_num(json_t *o, const char *k, double dflt) {
  json_t *v = json_object_get(o, k);
  return json_is_number(v) ? json_number_value(v) : dflt;
}

/* Starts a run of exp (the lab is idle): saves the settings, applies its
 * first variant; the variants run one after another. duration_s: each
 * variant's load (0: the experiment's). 0, or -1 when the server is
 * shutting down or a variant's setup is not usable here (nothing
 * started). */
int tl_lab_run_start(tl_lab *lab, json_t *exp, const char *id, int duration_s);
/* id=all: starts the next experiment from lab->all_next that can run here
 * (recording those that cannot as skipped). False when none is left. */
bool tl_lab_run_next_of_all(tl_lab *lab);
/* Whether exp can run in this server (no variant needs a child server). */
bool tl_lab_run_runnable(json_t *exp);
/* The load of each variant of exp, s (bounded; at least
 * TL_LAB_AFTER_TRIGGER_S past its trigger). */
double tl_lab_run_load_s(json_t *exp, int duration_s);
/* Asks the run in progress to stop (APPLYING or RUNNING). */
void tl_lab_run_cancel(tl_lab *lab);
/* The last variant is done, or the run stops: builds the result,
 * restores the settings. */
void tl_lab_run_restore(tl_lab *lab);
/* {"id","run","state","elapsed_s","duration_s"} of the run, or null. */
json_t *tl_lab_run_running_json(tl_lab *lab);
/* Sends ev (consumed) to the stream's clients as SSE event `lab`. */
void tl_lab_run_broadcast(tl_lab *lab, json_t *ev);

#endif
