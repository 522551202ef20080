/* Scheduler lanes on the observer loop. The rings hold ~400 ms of
 * records at 50,000 switches/s and are drained by a thread of their own
 * (sched_drain) as well as by a 25 ms timer here: the observer can be held
 * off for far longer than a tick (measured: 60-230 ms between ticks with
 * wrk, Chromium and the lab on 2 cores; a 512 KiB ring drained by the
 * timer alone lost 13% of the records in bursts). The timer refreshes our tids from /proc/self/task every 250 ms (new
 * threads join the kernel filter; the same sorted list is the exact
 * user-space check), turns records into slices behind a 10 ms reorder
 * window and keeps them in the flight recorder. In auto mode tracing runs
 * only while someone watches: a stream client, or a GET /sched in the
 * last 10 s; with no one watching the events are disabled (no cost). */
#include "config.h"

#include "observer/sched.h"

#include "base/hist.h"
#include "base/query.h"
#include "base/util.h"
#include "core/options.h"
#include "observer/sched_drain.h"
#include "observer/sched_lockwait.h"
#include "observer/sched_render.h"
#include "observer/sched_slices.h"
#include "observer/sched_trace.h"
#include "base/steps.h"
#include "observer/snapshot.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TICK_MS          25
#define WINDOW_NS        10000000ull /* reorder window */
#define TIDS_EVERY_NS    250000000ull
#define WATCH_NS         10000000000ull /* a GET /sched keeps tracing 10 s */
#define RECORD_NS        10000000000ull /* the flight recorder's 10 s */
#define RECORD_CAP       (1u << 17)     /* slices: 8 MiB at most */
#define RING_BUDGET      (8u << 20)     /* bytes, over all CPUs */
#define RING_MIN_PAGES   128            /* per CPU */
#define RING_MAX_PAGES   1024
#define STREAM_EVERY_NS  100000000ull /* <= 10 events a second */
#define STREAM_RAW_MAX   1000         /* slices an event carries unmerged */
#define STREAM_MAX_BYTES (200 * 1024)
#define MERGE_NS         10000000ull
#define SCHED_MAX_SLICES 20000 /* per GET /sched answer */

typedef struct thr {
  int tid;
  uint64_t switches, preempted, wakes, wait_ns;
  tl_hist *wake; /* ns; NULL until a first wait */
} thr;

struct tl_sched {
  tl_server *srv;
  const struct tl_snapshot *snap; /* the steps for /sched/trace, or NULL */
  tl_sse *sse;
  int mode;
  int ncpu, pid;
  const char *source; /* "tracepoints" | "switches" | "sampled" */
  char reason[320];
  tl_sched_trace *trace; /* NULL: sampled */
  tl_sched_drain *drain; /* while tracing with tracepoints, else NULL */
  tl_sched_slices *builder;
  uv_timer_t timer;
  bool timer_on;
  thr *thr; /* sorted by tid: our threads now */
  size_t nthr;
  uint64_t tids_at, watch_until, last_stream;
  uint64_t trace_since;            /* when tracing (re)started, 0: never */
  tl_sched_slice *rec;             /* the flight recorder (ring) */
  uint64_t rec_total, stream_from; /* slices ever recorded / streamed */
  uint64_t rec_overwritten;
};

static int thr_cmp(const void *a, const void *b) {
  const thr *x = a, *y = b;
  return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static thr *thr_find(const tl_sched *s, int tid) {
  if (s->nthr == 0)
    return NULL; /* bsearch may not be given a null array */
  thr key = {.tid = tid};
  return bsearch(&key, s->thr, s->nthr, sizeof *s->thr, thr_cmp);
}

static bool is_ours(void *arg, int tid) { return thr_find(arg, tid) != NULL; }

/* Our threads from /proc/self/task; keeps the figures of those that stay.
 * True when the set changed. */
static bool refresh_tids(tl_sched *s) {
  DIR *d = opendir("/proc/self/task");
  if (!d)
    return false;
  size_t cap = s->nthr + 16, n = 0;
  thr *nt = tl_xcalloc(cap, sizeof *nt);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    if (n == cap) {
      cap *= 2;
      nt = tl_xrealloc(nt, cap * sizeof *nt);
    }
    memset(&nt[n], 0, sizeof nt[n]);
    nt[n++].tid = atoi(e->d_name);
  }
  closedir(d);
  qsort(nt, n, sizeof *nt, thr_cmp);
  bool changed = n != s->nthr;
  for (size_t i = 0; i < n; i++) {
    thr *old = thr_find(s, nt[i].tid);
    if (old) {
      nt[i] = *old;
      old->wake = NULL; /* moved */
    } else {
      changed = true;
    }
  }
  for (size_t i = 0; i < s->nthr; i++)
    free(s->thr[i].wake);
  free(s->thr);
  s->thr = nt;
  s->nthr = n;
  if (changed && s->trace) {
    int *tids = tl_xmalloc((n ? n : 1) * sizeof *tids);
    for (size_t i = 0; i < n; i++)
      tids[i] = nt[i].tid;
    tl_sched_trace_set_threads(s->trace, tids, (int) n);
    free(tids);
  }
  return changed;
}

static void on_slice(void *arg, const tl_sched_slice *sl) {
  tl_sched *s = arg;
  thr *t = thr_find(s, sl->tid);
  if (t) {
    t->switches++;
    t->preempted += sl->end == TL_SEND_PREEMPTED;
    if (sl->wake_ns && sl->start_ns >= sl->wake_ns) {
      if (!t->wake)
        t->wake = tl_xcalloc(1, sizeof *t->wake);
      tl_hist_record(t->wake, sl->start_ns - sl->wake_ns);
      t->wait_ns += sl->start_ns - sl->wake_ns;
      t->wakes++;
    }
  }
  tl_sched_slice *slot = &s->rec[s->rec_total % RECORD_CAP];
  *slot = *sl;
  if (slot->in_tid >= 0)
    slot->in_pid = s->pid; /* ours: our process */
  if (s->rec_total >= RECORD_CAP)
    s->rec_overwritten++;
  s->rec_total++;
}

static void on_rec(void *arg, const tl_sched_rec *r) {
  tl_sched *s = arg;
  tl_sched_slices_push(s->builder, r);
}

/* Index of the oldest recorded slice still held. */
static uint64_t rec_first(const tl_sched *s) {
  return s->rec_total > RECORD_CAP ? s->rec_total - RECORD_CAP : 0;
}

/* Marks the blocked slices that were waits for one of our locks, from
 * the lock, hold and deadlock steps of the snapshot's timeline (the last
 * 5 s of finished steps: a wait in a step not finished yet is not
 * marked). */
static void mark_lock_waits(const tl_sched *s, tl_sched_slice *sl, size_t n) {
  const tl_snapshot *snap = s->snap;
  if (!snap || snap->ntimeline <= 0 || n == 0)
    return;
  tl_sched_lockstep *st = tl_xmalloc((size_t) snap->ntimeline * sizeof *st);
  size_t k = 0;
  for (int i = 0; i < snap->ntimeline; i++) {
    const tl_timeline_ev *e = &snap->timeline[i];
    if (e->ev.kind == TL_STEP_LOCK || e->ev.kind == TL_STEP_HOLD ||
        e->ev.kind == TL_STEP_DEADLOCK)
      st[k++] = (tl_sched_lockstep){
          .tid = e->tid, .start_ns = e->ev.start_ns, .end_ns = e->ev.end_ns};
  }
  tl_sched_lockwait_mark(sl, n, st, k);
  free(st);
}

static void stream_event(tl_sched *s, uint64_t now) {
  if (!tl_sse_any(s->sse)) {
    s->stream_from = s->rec_total;
    return;
  }
  if (now - s->last_stream < STREAM_EVERY_NS)
    return;
  s->last_stream = now;
  uint64_t from = s->stream_from < rec_first(s) ? rec_first(s) : s->stream_from;
  size_t n = (size_t) (s->rec_total - from);
  s->stream_from = s->rec_total;
  tl_sched_slice *tmp = tl_xmalloc((n ? n : 1) * sizeof *tmp);
  for (size_t i = 0; i < n; i++)
    tmp[i] = s->rec[(from + i) % RECORD_CAP];
  mark_lock_waits(s, tmp, n);
  tl_buf b;
  tl_buf_init(&b, NULL, 0);
  tl_sched_counts c;
  tl_sched_slices_counts(s->builder, &c);
  tl_buf_printf(&b,
                "{\"source\":\"%s\",\"lost\":%llu,\"merged_ms\":", s->source,
                (unsigned long long) c.lost);
  bool merge = n > STREAM_RAW_MAX;
  if (merge)
    tl_buf_printf(&b,
                  "%llu,\"reason\":\"%zu slices in %llu ms, beyond the "
                  "budget of %d an event: merged per CPU and thread\"",
                  (unsigned long long) (MERGE_NS / 1000000), n,
                  (unsigned long long) (STREAM_EVERY_NS / 1000000),
                  STREAM_RAW_MAX);
  else
    tl_buf_puts(&b, "null");
  tl_buf_puts(&b, ",\"slices\":[");
  size_t shown = 0;
  if (merge) {
    shown = tl_sched_render_merged(&b, tmp, n, MERGE_NS);
  } else {
    for (; shown < n && b.len < STREAM_MAX_BYTES - 512; shown++) {
      if (shown)
        tl_buf_putc(&b, ',');
      tl_sched_render_slice(&b, &tmp[shown]);
    }
  }
  tl_buf_printf(
      &b, "],\"truncated\":%s}",
      b.len > STREAM_MAX_BYTES - 512 && !merge && shown < n ? "true" : "false");
  free(tmp);
  if (b.len <= STREAM_MAX_BYTES)
    tl_sse_broadcast_event(s->sse, "sched", b.data, b.len);
  tl_buf_close(&b);
}

/* The rings' records (and those the drain thread queued) into the
 * builder. */
static void drain(tl_sched *s) {
  if (s->drain)
    tl_sched_drain_take(s->drain, on_rec, s);
  else
    tl_sched_trace_drain(s->trace, on_rec, s);
}

static bool watched(const tl_sched *s, uint64_t now) {
  return s->mode == TL_SCHED_TRACE_ON || tl_sse_any(s->sse) ||
         now < s->watch_until;
}

static void on_tick(uv_timer_t *h) {
  tl_sched *s = TL_CONTAINER_OF(h, tl_sched, timer);
  uint64_t now = tl_now_ns();
  bool want = watched(s, now);
  bool on = tl_sched_trace_enabled(s->trace);
  if (want && !on) {
    refresh_tids(s);
    s->tids_at = now;
    if (!s->rec)
      s->rec = tl_xcalloc(RECORD_CAP, sizeof *s->rec);
    tl_sched_slices_reset(s->builder);
    tl_sched_trace_enable(s->trace, true);
    s->drain = tl_sched_drain_start(s->trace);
    s->trace_since = now;
  } else if (!want && on) {
    /* Everything recorded until now becomes slices; then nothing spans
     * the pause. */
    tl_sched_trace_enable(s->trace, false);
    drain(s);
    tl_sched_drain_stop(s->drain);
    s->drain = tl_sched_drain_start(s->trace);
    tl_sched_slices_flush(s->builder, UINT64_MAX, on_slice, s);
    tl_sched_slices_reset(s->builder);
  }
  if (!want && !on)
    return;
  if (now - s->tids_at >= TIDS_EVERY_NS) {
    refresh_tids(s);
    s->tids_at = now;
  }
  drain(s);
  tl_sched_slices_flush(s->builder, now - WINDOW_NS, on_slice, s);
  stream_event(s, now);
}

/* Data pages a CPU: the budget shared out, a power of two within the
 * bounds (4 MiB a CPU on 2 CPUs with 4 KiB pages). */
static size_t ring_pages(int ncpu) {
  long pg = sysconf(_SC_PAGESIZE);
  size_t want = RING_BUDGET / (size_t) ncpu / (size_t) (pg > 0 ? pg : 4096);
  size_t pages = RING_MIN_PAGES;
  while (pages * 2 <= want && pages * 2 <= RING_MAX_PAGES)
    pages *= 2;
  return pages;
}

static int ncpu_conf(void) {
  long n = sysconf(_SC_NPROCESSORS_CONF);
  return n > 0 && n < 4096 ? (int) n : 1;
}

tl_sched *tl_sched_init(uv_loop_t *loop, tl_server *srv, tl_sse *sse) {
  tl_sched *s = tl_xcalloc(1, sizeof *s);
  s->srv = srv;
  s->sse = sse;
  s->mode = srv->cfg.sched_trace;
  s->ncpu = ncpu_conf();
  s->pid = (int) getpid();
  s->source = "sampled";
  if (s->mode == TL_SCHED_TRACE_OFF) {
    snprintf(s->reason, sizeof s->reason, "--sched-trace off");
    return s;
  }
  const char *why1 = NULL, *why2 = NULL;
  s->trace =
      tl_sched_trace_open_tracepoints(s->ncpu, ring_pages(s->ncpu), &why1);
  if (s->trace) {
    s->source = "tracepoints";
    snprintf(s->reason, sizeof s->reason,
             "perf_event_open on sched:sched_switch, sched_wakeup, "
             "sched_wakeup_new, sched_migrate_task, a ring per CPU");
  } else {
    s->trace = tl_sched_trace_open_switches(s->ncpu, &why2);
    if (s->trace) {
      s->source = "switches";
      snprintf(s->reason, sizeof s->reason,
               "tracepoints unavailable: %s; PERF_RECORD_SWITCH on our own "
               "threads instead (no wakeups, the thread that came in is "
               "\"other\")",
               why1);
    } else {
      snprintf(s->reason, sizeof s->reason,
               "tracepoints unavailable: %s; %s; the /proc samples instead",
               why1, why2);
    }
  }
  if (s->trace) {
    s->builder = tl_sched_slices_new(s->ncpu, is_ours, s);
    uv_timer_init(loop, &s->timer);
    uv_timer_start(&s->timer, on_tick, TICK_MS, TICK_MS);
    s->timer_on = true;
  }
  return s;
}

void tl_sched_set_snapshot(tl_sched *s, const struct tl_snapshot *snap) {
  s->snap = snap;
}

void tl_sched_close_handles(tl_sched *s) {
  if (s->timer_on && !uv_is_closing((uv_handle_t *) &s->timer))
    uv_close((uv_handle_t *) &s->timer, NULL);
}

void tl_sched_free(tl_sched *s) {
  if (!s)
    return;
  tl_sched_drain_stop(s->drain); /* before the rings it reads go */
  if (s->trace)
    tl_sched_trace_close(s->trace);
  tl_sched_slices_free(s->builder);
  for (size_t i = 0; i < s->nthr; i++)
    free(s->thr[i].wake);
  free(s->thr);
  free(s->rec);
  free(s);
}

void tl_sched_kernel_json(const tl_sched *s, tl_buf *b) {
  tl_buf_printf(b,
                "\"sched_source\":\"%s\",\"sched_source_reason\":", s->source);
  tl_buf_put_json_str(b, s->reason, strlen(s->reason));
  tl_buf_printf(b, ",\"sched_tracing\":%s,",
                s->trace && tl_sched_trace_enabled(s->trace) ? "true"
                                                             : "false");
}

void tl_sched_thread_figures(const tl_sched *s, int tid,
                             tl_sched_thread_figs *out) {
  memset(out, 0, sizeof *out);
  const thr *t = s ? thr_find(s, tid) : NULL;
  if (!t || !s->trace_since)
    return;
  out->have = true;
  out->switches = t->switches;
  out->preempted = t->preempted;
  out->wakes = t->wakes;
  out->wait_ns = t->wait_ns;
  if (t->wake) {
    tl_hist_snap snap;
    tl_hist_summary sum;
    tl_hist_read(t->wake, &snap);
    tl_hist_summarize(&snap, &sum);
    out->wake_p50_us = sum.p50 / 1000.0;
    out->wake_p99_us = sum.p99 / 1000.0;
    out->wake_max_us = sum.max / 1000.0;
  }
}

static void figs_json(tl_buf *b, const tl_sched_thread_figs *f) {
  tl_buf_printf(b, "\"switches\":%llu,\"preempted\":%llu,\"wake_latency_us\":",
                (unsigned long long) f->switches,
                (unsigned long long) f->preempted);
  if (f->wakes)
    tl_buf_printf(b,
                  "{\"count\":%llu,\"sum\":%.3f,\"p50\":%.3f,\"p99\":%.3f,"
                  "\"max\":%.3f}",
                  (unsigned long long) f->wakes, (double) f->wait_ns / 1000.0,
                  f->wake_p50_us, f->wake_p99_us, f->wake_max_us);
  else
    tl_buf_puts(b, "null");
}

void tl_sched_thread_json(tl_buf *b, const tl_sched_thread_figs *f) {
  tl_buf_puts(b, "\"sched\":");
  if (!f->have) {
    tl_buf_puts(b, "null,");
    return;
  }
  tl_buf_putc(b, '{');
  figs_json(b, f);
  tl_buf_puts(b, "},");
}

/* Copies the recorded slices ending after since_ns (and within the last
 * 10 s) into a new array; *n their count. Beyond cap: the oldest cap of
 * them, or with newest the latest cap (a live view wants the present:
 * walking forward from the oldest it fell ever further behind once the
 * slices came faster than it fetched them). */
static tl_sched_slice *recorded(const tl_sched *s, uint64_t since_ns,
                                size_t cap, bool newest, size_t *n,
                                bool *truncated) {
  uint64_t now = tl_now_ns();
  uint64_t floor = now > RECORD_NS ? now - RECORD_NS : 0;
  if (since_ns < floor)
    since_ns = floor;
  *n = 0;
  *truncated = false;
  if (!s->rec)
    return NULL;
  uint64_t from = rec_first(s);
  if (newest) {
    /* From the newest back: the first cap that end after since_ns. */
    size_t seen = 0;
    for (uint64_t i = s->rec_total; i > from; i--) {
      if (s->rec[(i - 1) % RECORD_CAP].end_ns <= since_ns)
        continue;
      if (seen == cap) {
        *truncated = true;
        from = i;
        break;
      }
      seen++;
    }
  }
  size_t k = 0;
  tl_sched_slice *out = NULL;
  for (uint64_t i = from; i < s->rec_total; i++) {
    const tl_sched_slice *x = &s->rec[i % RECORD_CAP];
    if (x->end_ns <= since_ns)
      continue;
    if (k == cap) {
      *truncated = true;
      break;
    }
    if (!out)
      out = tl_xmalloc(
          (size_t) (s->rec_total - i < cap ? s->rec_total - i : cap) *
          sizeof *out);
    out[k++] = *x;
  }
  *n = k;
  return out;
}

static void sched_json(tl_sched *s, tl_admin_conn *c, uint64_t since,
                       bool newest) {
  tl_buf b;
  tl_buf_init(&b, NULL, 0);
  tl_sched_counts cnt = {0};
  if (s->builder)
    tl_sched_slices_counts(s->builder, &cnt);
  tl_buf_printf(&b, "{\"source\":\"%s\",\"source_reason\":", s->source);
  tl_buf_put_json_str(&b, s->reason, strlen(s->reason));
  tl_buf_printf(&b,
                ",\"tracing\":%s,\"filtered\":%s,\"now_ns\":%llu,"
                "\"tracing_since_ns\":",
                s->trace && tl_sched_trace_enabled(s->trace) ? "true" : "false",
                s->trace && tl_sched_trace_filtered(s->trace) ? "true"
                                                              : "false",
                (unsigned long long) tl_now_ns());
  if (s->trace_since)
    tl_buf_printf(&b, "%llu", (unsigned long long) s->trace_since);
  else
    tl_buf_puts(&b, "null");
  tl_buf_printf(
      &b,
      ",\"filter_updates\":%llu,\"ring_kib\":%zu,\"ncpu\":%d,\"pid\":%d,"
      "\"lost\":%llu,\"lost_per_cpu\":[",
      (unsigned long long) (s->trace ? tl_sched_trace_filter_updates(s->trace)
                                     : 0),
      s->trace ? tl_sched_trace_ring_bytes(s->trace) / 1024 : 0, s->ncpu,
      s->pid, (unsigned long long) cnt.lost);
  const uint64_t *lpc =
      s->builder ? tl_sched_slices_lost_per_cpu(s->builder) : NULL;
  for (int i = 0; i < s->ncpu; i++)
    tl_buf_printf(&b, "%s%llu", i ? "," : "",
                  (unsigned long long) (lpc ? lpc[i] : 0));
  size_t n;
  bool trunc;
  tl_sched_slice *sl = recorded(s, since, SCHED_MAX_SLICES, newest, &n, &trunc);
  mark_lock_waits(s, sl, n);
  tl_buf_printf(&b,
                "],\"records\":%llu,\"late\":%llu,\"truncated\":%s,"
                "\"slices\":[",
                (unsigned long long) cnt.records, (unsigned long long) cnt.late,
                trunc ? "true" : "false");
  for (size_t i = 0; i < n; i++) {
    if (i)
      tl_buf_putc(&b, ',');
    tl_sched_render_slice(&b, &sl[i]);
  }
  free(sl);
  tl_buf_puts(&b, "],\"threads\":[");
  for (size_t i = 0; i < s->nthr; i++) {
    tl_sched_thread_figs f;
    tl_sched_thread_figures(s, s->thr[i].tid, &f);
    tl_buf_printf(&b, "%s{\"tid\":%d,", i ? "," : "", s->thr[i].tid);
    figs_json(&b, &f);
    tl_buf_putc(&b, '}');
  }
  tl_buf_puts(&b, "]}");
  tl_admin_conn_respond(c, 200, "application/json",
                        "Cache-Control: no-store\r\n", b.data, b.len);
  tl_buf_close(&b);
}

static void thread_names(const tl_sched *s, tl_sched_named *out) {
  for (size_t i = 0; i < s->nthr; i++) {
    char path[64];
    out[i].tid = s->thr[i].tid;
    snprintf(out[i].name, sizeof out[i].name, "tid %d", s->thr[i].tid);
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", s->thr[i].tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      continue;
    ssize_t r = read(fd, out[i].name, sizeof out[i].name - 1);
    close(fd);
    if (r > 0) {
      out[i].name[r] = '\0';
      char *nl = strchr(out[i].name, '\n');
      if (nl)
        *nl = '\0';
    }
  }
}

/* The CPU steps of the snapshot's timeline (the last 5 s, thinned at high
 * rates: it says so) since from_ns: on one thread they never overlap, so
 * each thread's track nests. IO waits may overlap on the loop: left out. */
static tl_sched_step *cpu_steps(const tl_sched *s, uint64_t from_ns,
                                size_t *n) {
  *n = 0;
  const tl_snapshot *snap = s->snap;
  if (!snap || snap->ntimeline <= 0)
    return NULL;
  tl_sched_step *out = tl_xcalloc((size_t) snap->ntimeline, sizeof *out);
  for (int i = 0; i < snap->ntimeline; i++) {
    const tl_timeline_ev *e = &snap->timeline[i];
    if (e->ev.kind != TL_STEP_CPU || e->ev.end_ns < from_ns)
      continue;
    tl_sched_step *st = &out[(*n)++];
    st->tid = e->tid;
    st->start_ns = e->ev.start_ns;
    st->end_ns = e->ev.end_ns;
    st->task = e->ev.task;
    snprintf(st->name, sizeof st->name, "cpu step %d of task %llu", e->ev.step,
             (unsigned long long) e->ev.task);
  }
  return out;
}

static void trace_json(tl_sched *s, tl_admin_conn *c, uint64_t seconds) {
  uint64_t now = tl_now_ns();
  size_t n;
  bool trunc;
  tl_sched_slice *sl =
      recorded(s, now - seconds * 1000000000ull, RECORD_CAP, false, &n, &trunc);
  tl_sched_named *names = tl_xcalloc(s->nthr + 1, sizeof *names);
  thread_names(s, names);
  size_t nsteps = 0;
  tl_sched_step *steps = cpu_steps(s, now - seconds * 1000000000ull, &nsteps);
  tl_buf b;
  tl_buf_init(&b, NULL, 0);
  tl_sched_render_chrome(&b, s->ncpu, s->pid, sl, n, names, s->nthr, steps,
                         nsteps);
  free(sl);
  free(names);
  free(steps);
  tl_admin_conn_respond(
      c, 200, "application/json",
      "Cache-Control: no-store\r\n"
      "Content-Disposition: attachment; filename=\"threadlab-sched.json\"\r\n",
      b.data, b.len);
  tl_buf_close(&b);
}

void tl_sched_handle(tl_sched *s, tl_admin_conn *c, const char *p, size_t plen,
                     const char *q, size_t qlen) {
#define IS(lit) (plen == sizeof(lit) - 1 && memcmp(p, lit, plen) == 0)
  char v[32];
  unsigned long num = 0;
  s->watch_until = tl_now_ns() + WATCH_NS;
  if (IS("/sched")) {
    int l = tl_query_get(q, qlen, "since_ns", v, sizeof v);
    if (l == -2 ||
        (l >= 0 && tl_parse_uint(v, (size_t) l, 0, ~0ul, &num) != 0)) {
      tl_admin_conn_respond_error(
          c, 400, "since_ns: an unsigned integer (ns, CLOCK_MONOTONIC)", NULL);
      return;
    }
    uint64_t since = l >= 0 ? (uint64_t) num : 0;
    unsigned long newest = 0;
    l = tl_query_get(q, qlen, "newest", v, sizeof v);
    if (l == -2 ||
        (l >= 0 && tl_parse_uint(v, (size_t) l, 0, 1, &newest) != 0)) {
      tl_admin_conn_respond_error(c, 400, "newest: 0 or 1", NULL);
      return;
    }
    sched_json(s, c, since, newest == 1);
  } else if (IS("/sched/trace")) {
    int l = tl_query_get(q, qlen, "seconds", v, sizeof v);
    num = 10;
    if (l == -2 || (l >= 0 && tl_parse_uint(v, (size_t) l, 1, 10, &num) != 0)) {
      tl_admin_conn_respond_error(c, 400, "seconds: 1..10", NULL);
      return;
    }
    trace_json(s, c, num);
  } else {
    tl_admin_conn_respond_error(c, 404, "not found", NULL);
  }
#undef IS
}
