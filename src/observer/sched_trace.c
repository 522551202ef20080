/* perf_event_open for the scheduler: rings, filters and record decoding.
 * Each ring is read from data_tail to data_head (acquire), records copied
 * out across the wrap, then data_tail published (release) so the kernel
 * may reuse the space. */
#include "config.h"

#include "observer/sched_trace.h"

#include "base/util.h"
#include "observer/sched_format.h"
#include "observer/sched_tracefs.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NEV               4
#define SWITCH_RING_PAGES 4    /* per thread: ~500 records per drain */
#define FILTER_CAP        4000 /* the kernel copies at most a page */
#define REC_MAX           4096

enum { EV_SWITCH, EV_WAKEUP, EV_WAKEUP_NEW, EV_MIGRATE };
static const char *const ev_names[NEV] = {
    "sched_switch", "sched_wakeup", "sched_wakeup_new", "sched_migrate_task"};

typedef struct ring {
  int fd;     /* the event whose buffer this is */
  void *base; /* header page + data */
  size_t data_size;
  int cpu; /* tracepoints: its CPU */
  int tid; /* switches: its thread */
} ring;

typedef struct layout { /* the fields we read, from the format files */
  int id[NEV];
  const tl_sched_field *prev_pid, *prev_state, *next_pid, *next_comm;
  const tl_sched_field *wk_pid[2], *mg_pid, *mg_dest;
} layout;

struct tl_sched_trace {
  tl_sched_trace_kind kind;
  int ncpu;
  bool enabled, filtered;
  uint64_t filter_updates; /* event sets swapped for a new filter */
  size_t page;
  /* tracepoints */
  tl_sched_format fmt[NEV];
  layout lay;
  int (*fds)[NEV]; /* [cpu][event], -1 where not opened */
  ring *rings;     /* one a CPU (tracepoints) or a thread */
  int nrings, rcap;
};

static long perf_open(struct perf_event_attr *a, int pid, int cpu, int group) {
  return syscall(SYS_perf_event_open, a, pid, cpu, group, PERF_FLAG_FD_CLOEXEC);
}

/* Tracepoint rings are per CPU, so their records need not carry the CPU
 * (8 bytes of ~100 a record: more records fit between two drains). */
static void base_attr(struct perf_event_attr *a, bool with_cpu) {
  memset(a, 0, sizeof *a);
  a->size = sizeof *a;
  a->sample_period = 1;
  a->sample_type =
      PERF_SAMPLE_TID | PERF_SAMPLE_TIME | (with_cpu ? PERF_SAMPLE_CPU : 0);
  a->sample_id_all = 1;
  a->use_clockid = 1;
  a->clockid = CLOCK_MONOTONIC;
  a->disabled = 1;
}

static int ring_map(tl_sched_trace *t, ring *r, size_t pages) {
  size_t len = (pages + 1) * t->page;
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
  if (p == MAP_FAILED)
    return -1;
  r->base = p;
  r->data_size = pages * t->page;
  return 0;
}

static void ring_unmap(tl_sched_trace *t, ring *r) {
  if (r->base)
    munmap(r->base, r->data_size + t->page);
  r->base = NULL;
}

static ring *ring_add(tl_sched_trace *t) {
  if (t->nrings == t->rcap) {
    t->rcap = t->rcap ? t->rcap * 2 : 16;
    t->rings = tl_xrealloc(t->rings, (size_t) t->rcap * sizeof *t->rings);
  }
  ring *r = &t->rings[t->nrings++];
  memset(r, 0, sizeof *r);
  r->fd = -1;
  return r;
}

static int layout_fill(tl_sched_trace *t) {
  layout *l = &t->lay;
  for (int i = 0; i < NEV; i++)
    l->id[i] = t->fmt[i].id;
  l->prev_pid = tl_sched_format_field(&t->fmt[EV_SWITCH], "prev_pid");
  l->prev_state = tl_sched_format_field(&t->fmt[EV_SWITCH], "prev_state");
  l->next_pid = tl_sched_format_field(&t->fmt[EV_SWITCH], "next_pid");
  l->next_comm = tl_sched_format_field(&t->fmt[EV_SWITCH], "next_comm");
  l->wk_pid[0] = tl_sched_format_field(&t->fmt[EV_WAKEUP], "pid");
  l->wk_pid[1] = tl_sched_format_field(&t->fmt[EV_WAKEUP_NEW], "pid");
  l->mg_pid = tl_sched_format_field(&t->fmt[EV_MIGRATE], "pid");
  l->mg_dest = tl_sched_format_field(&t->fmt[EV_MIGRATE], "dest_cpu");
  return l->prev_pid && l->prev_state && l->next_pid && l->next_comm &&
                 l->wk_pid[0] && l->wk_pid[1] && l->mg_pid && l->mg_dest
             ? 0
             : -1;
}

/* The four tracepoint events of CPU c, disabled, with the filters given
 * (NULL: none), writing into the ring of owner. 0, or -1 (errno set) with
 * nothing left open. */
static int open_cpu_events(tl_sched_trace *t, int c, int owner, int *fds,
                           const char *sw_filter, const char *pid_filter) {
  for (int e = 0; e < NEV; e++)
    fds[e] = -1;
  for (int e = 0; e < NEV; e++) {
    struct perf_event_attr a;
    base_attr(&a, false);
    a.type = PERF_TYPE_TRACEPOINT;
    a.config = (uint64_t) t->fmt[e].id;
    a.sample_type |= PERF_SAMPLE_RAW;
    long fd = perf_open(&a, -1, c, -1);
    const char *f = e == EV_SWITCH ? sw_filter : pid_filter;
    if (fd < 0 || ioctl((int) fd, PERF_EVENT_IOC_SET_OUTPUT, owner) != 0 ||
        (f && ioctl((int) fd, PERF_EVENT_IOC_SET_FILTER, f) != 0)) {
      int saved = errno;
      if (fd >= 0)
        close((int) fd);
      for (int k = 0; k < e; k++)
        close(fds[k]);
      for (int k = 0; k < NEV; k++)
        fds[k] = -1;
      errno = saved;
      return -1;
    }
    fds[e] = (int) fd;
  }
  return 0;
}

tl_sched_trace *tl_sched_trace_open_tracepoints(int ncpu, size_t ring_pages,
                                                const char **why) {
  tl_sched_trace *t = tl_xcalloc(1, sizeof *t);
  t->kind = TL_STRACE_TRACEPOINTS;
  t->ncpu = ncpu;
  t->page = (size_t) sysconf(_SC_PAGESIZE);
  if (tl_sched_tracefs_read(ev_names, NEV, t->fmt, why) != 0 ||
      layout_fill(t) != 0) {
    if (!*why)
      *why = "the sched tracepoints' formats lack a field we read";
    free(t);
    return NULL;
  }
  t->fds = tl_xcalloc((size_t) ncpu, sizeof *t->fds);
  /* Per CPU a dummy event owns the ring and the four tracepoints write
   * into it (PERF_EVENT_IOC_SET_OUTPUT): a tracepoint event takes a
   * filter once (a second SET_FILTER is EEXIST on 6.18), so new threads
   * mean new events, and the ring must outlive them. */
  int opened = 0, err = 0;
  for (int c = 0; c < ncpu; c++) {
    for (int e = 0; e < NEV; e++)
      t->fds[c][e] = -1;
    struct perf_event_attr a;
    base_attr(&a, false);
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_DUMMY;
    /* poll() on the ring wakes the drain thread once a quarter is full. */
    a.watermark = 1;
    a.wakeup_watermark = (uint32_t) (ring_pages * t->page / 4);
    long owner = perf_open(&a, -1, c, -1);
    if (owner < 0) {
      err = errno;
      if (err == EACCES || err == EPERM)
        break;
      continue; /* an offline CPU */
    }
    ring *r = ring_add(t);
    r->fd = (int) owner;
    r->cpu = c;
    /* Locked memory beyond the limit (perf_event_mlock_kb, without
     * CAP_IPC_LOCK) is refused: then a smaller ring, down to 8 pages. */
    while (ring_map(t, r, ring_pages) != 0 && ring_pages > 8 &&
           (errno == EPERM || errno == ENOMEM))
      ring_pages /= 2;
    if (!r->base) {
      err = errno;
      close(r->fd);
      t->nrings--;
      break;
    }
    if (open_cpu_events(t, c, r->fd, t->fds[c], NULL, NULL) != 0) {
      err = errno;
      ring_unmap(t, r);
      close(r->fd);
      t->nrings--;
      if (err == EACCES || err == EPERM)
        break;
      continue;
    }
    opened++;
  }
  if (opened == 0 || err == EACCES || err == EPERM) {
    *why = err == EACCES || err == EPERM
               ? "perf_event_open on sched tracepoints was refused (needs root "
                 "or CAP_PERFMON; kernel.perf_event_paranoid)"
               : "perf_event_open on sched tracepoints failed";
    tl_sched_trace_close(t);
    return NULL;
  }
  return t;
}

tl_sched_trace *tl_sched_trace_open_switches(int ncpu, const char **why) {
  tl_sched_trace *t = tl_xcalloc(1, sizeof *t);
  t->kind = TL_STRACE_SWITCHES;
  t->ncpu = ncpu;
  t->page = (size_t) sysconf(_SC_PAGESIZE);
  struct perf_event_attr a;
  base_attr(&a, true);
  a.type = PERF_TYPE_SOFTWARE;
  a.config = PERF_COUNT_SW_DUMMY;
  a.context_switch = 1;
  a.exclude_kernel = 1; /* else refused at perf_event_paranoid >= 2 */
  a.exclude_hv = 1;
  long fd = perf_open(&a, 0, -1, -1);
  if (fd < 0) {
    *why = "PERF_RECORD_SWITCH on our own threads was refused "
           "(kernel.perf_event_paranoid > 2?)";
    free(t);
    return NULL;
  }
  close((int) fd);
  return t;
}

tl_sched_trace_kind tl_sched_trace_kind_of(const tl_sched_trace *t) {
  return t->kind;
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *) a, y = *(const int *) b;
  return x < y ? -1 : x > y;
}

int tl_sched_trace_filter_text(const char *f1, const char *f2, const int *tids,
                               int n, char *out, size_t cap) {
  int *s = tl_xmalloc((size_t) (n > 0 ? n : 1) * sizeof *s);
  memcpy(s, tids, (size_t) n * sizeof *s);
  qsort(s, (size_t) n, sizeof *s, cmp_int);
  size_t len = 0;
  int rc = 0;
  if (cap)
    out[0] = '\0';
  const char *fs[2] = {f1, f2};
  for (int i = 0; i < n && rc == 0;) {
    int j = i;
    while (j + 1 < n && s[j + 1] <= s[j] + 1)
      j++;
    for (int f = 0; f < 2 && rc == 0; f++) {
      if (!fs[f])
        continue;
      int w = s[i] == s[j]
                  ? snprintf(out + len, cap - len, "%s%s==%d", len ? "||" : "",
                             fs[f], s[i])
                  : snprintf(out + len, cap - len, "%s(%s>=%d&&%s<=%d)",
                             len ? "||" : "", fs[f], s[i], fs[f], s[j]);
      if (w < 0 || (size_t) w >= cap - len)
        rc = -1;
      else
        len += (size_t) w;
    }
    i = j + 1;
  }
  free(s);
  return rc == 0 ? (int) len : -1;
}

static int set_tp_filter(tl_sched_trace *t, const int *tids, int n) {
  char sw[FILTER_CAP], pid[FILTER_CAP];
  /* Without a filter that fits, none: the user-space check then does all
   * the work. */
  bool ok =
      n > 0 &&
      tl_sched_trace_filter_text("prev_pid", "next_pid", tids, n, sw,
                                 sizeof sw) > 0 &&
      tl_sched_trace_filter_text("pid", NULL, tids, n, pid, sizeof pid) > 0;
  int rc = 0;
  for (int i = 0; i < t->nrings; i++) {
    const ring *r = &t->rings[i];
    int *old = t->fds[r->cpu];
    int fresh[NEV];
    if (open_cpu_events(t, r->cpu, r->fd, fresh, ok ? sw : NULL,
                        ok ? pid : NULL) != 0) {
      rc = -1; /* keep the old events and their filter */
      continue;
    }
    /* Old off before new on: a gap of microseconds, never a record twice. */
    for (int e = 0; e < NEV; e++) {
      if (t->enabled)
        ioctl(old[e], PERF_EVENT_IOC_DISABLE, 0);
      close(old[e]);
    }
    for (int e = 0; e < NEV; e++) {
      old[e] = fresh[e];
      if (t->enabled)
        ioctl(old[e], PERF_EVENT_IOC_ENABLE, 0);
    }
    t->filter_updates++;
  }
  t->filtered = ok && rc == 0;
  return rc;
}

static bool has_tid(const int *tids, int n, int tid) {
  for (int i = 0; i < n; i++)
    if (tids[i] == tid)
      return true;
  return false;
}

static int set_switch_threads(tl_sched_trace *t, const int *tids, int n) {
  int rc = 0;
  for (int i = 0; i < t->nrings;) {
    if (has_tid(tids, n, t->rings[i].tid)) {
      i++;
      continue;
    }
    ring_unmap(t, &t->rings[i]);
    close(t->rings[i].fd);
    t->rings[i] = t->rings[--t->nrings];
  }
  for (int k = 0; k < n; k++) {
    bool have = false;
    for (int i = 0; i < t->nrings && !have; i++)
      have = t->rings[i].tid == tids[k];
    if (have)
      continue;
    struct perf_event_attr a;
    base_attr(&a, true);
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_DUMMY;
    a.context_switch = 1;
    a.exclude_kernel = 1; /* else refused at perf_event_paranoid >= 2 */
    a.exclude_hv = 1;
    a.disabled = t->enabled ? 0 : 1;
    long fd = perf_open(&a, tids[k], -1, -1);
    if (fd < 0) {
      rc = -1;
      continue;
    }
    ring *r = ring_add(t);
    r->fd = (int) fd;
    r->tid = tids[k];
    if (ring_map(t, r, SWITCH_RING_PAGES) != 0) {
      close(r->fd);
      t->nrings--;
      rc = -1;
    }
  }
  return rc;
}

int tl_sched_trace_set_threads(tl_sched_trace *t, const int *tids, int n) {
  return t->kind == TL_STRACE_TRACEPOINTS ? set_tp_filter(t, tids, n)
                                          : set_switch_threads(t, tids, n);
}

bool tl_sched_trace_filtered(const tl_sched_trace *t) { return t->filtered; }

int tl_sched_trace_ring_fds(const tl_sched_trace *t, int *fds, int cap) {
  if (t->kind != TL_STRACE_TRACEPOINTS)
    return 0;
  int n = 0;
  for (int i = 0; i < t->nrings && n < cap; i++)
    fds[n++] = t->rings[i].fd;
  return n;
}

size_t tl_sched_trace_ring_bytes(const tl_sched_trace *t) {
  size_t sum = 0;
  for (int i = 0; i < t->nrings; i++)
    sum += t->rings[i].data_size;
  return sum;
}

uint64_t tl_sched_trace_filter_updates(const tl_sched_trace *t) {
  return t->filter_updates;
}

void tl_sched_trace_enable(tl_sched_trace *t, bool on) {
  unsigned long req = on ? PERF_EVENT_IOC_ENABLE : PERF_EVENT_IOC_DISABLE;
  if (t->kind == TL_STRACE_TRACEPOINTS) {
    for (int c = 0; c < t->ncpu; c++)
      for (int e = 0; e < NEV; e++)
        if (t->fds[c][e] >= 0)
          ioctl(t->fds[c][e], req, 0);
  } else {
    for (int i = 0; i < t->nrings; i++)
      ioctl(t->rings[i].fd, req, 0);
  }
  t->enabled = on;
}

bool tl_sched_trace_enabled(const tl_sched_trace *t) { return t->enabled; }

/* The sample_id trailer (TID, TIME, and CPU but for the per-CPU rings of
 * tracepoints, whose CPU the caller sets) at the end of a non-sample
 * record of len bytes. */
static bool sample_id(const uint8_t *p, size_t len, bool with_cpu,
                      tl_sched_rec *r) {
  size_t tl = with_cpu ? 24 : 16;
  if (len < sizeof(struct perf_event_header) + tl)
    return false;
  const uint8_t *s = p + len - tl;
  uint32_t pid, tid, cpu;
  memcpy(&pid, s, 4);
  memcpy(&tid, s + 4, 4);
  memcpy(&r->t_ns, s + 8, 8);
  r->pid = (int) pid;
  r->tid = (int) tid;
  if (with_cpu) {
    memcpy(&cpu, s + 16, 4);
    r->cpu = (int) cpu;
  }
  return true;
}

/* A tracepoint sample: TID, TIME, RAW (no CPU: the ring's, set by the
 * caller). */
static bool decode_sample(const tl_sched_trace *t, const uint8_t *p, size_t len,
                          tl_sched_rec *r) {
  const size_t h = sizeof(struct perf_event_header);
  if (len < h + 20)
    return false;
  uint32_t pid, tid, rawsz;
  memcpy(&pid, p + h, 4);
  memcpy(&tid, p + h + 4, 4);
  memcpy(&r->t_ns, p + h + 8, 8);
  memcpy(&rawsz, p + h + 16, 4);
  const uint8_t *raw = p + h + 20;
  if (h + 20 + rawsz > len || rawsz < 2)
    return false;
  r->pid = (int) pid;
  uint16_t type;
  memcpy(&type, raw, 2);
  const layout *l = &t->lay;
  int64_t v;
  if (type == l->id[EV_SWITCH]) {
    r->kind = TL_SREC_SWITCH;
    if (!tl_sched_field_int(l->prev_pid, raw, rawsz, &v))
      return false;
    r->prev_tid = (int) v;
    if (!tl_sched_field_int(l->next_pid, raw, rawsz, &v))
      return false;
    r->next_tid = (int) v;
    if (!tl_sched_field_int(l->prev_state, raw, rawsz, &r->prev_state))
      return false;
    tl_sched_field_str(l->next_comm, raw, rawsz, r->next_comm,
                       sizeof r->next_comm);
    return true;
  }
  for (int w = 0; w < 2; w++)
    if (type == l->id[EV_WAKEUP + w]) {
      r->kind = TL_SREC_WAKEUP;
      if (!tl_sched_field_int(l->wk_pid[w], raw, rawsz, &v))
        return false;
      r->tid = (int) v;
      return true;
    }
  if (type == l->id[EV_MIGRATE]) {
    r->kind = TL_SREC_MIGRATE;
    if (!tl_sched_field_int(l->mg_pid, raw, rawsz, &v))
      return false;
    r->tid = (int) v;
    if (!tl_sched_field_int(l->mg_dest, raw, rawsz, &v))
      return false;
    r->dest_cpu = (int) v;
    return true;
  }
  return false;
}

/* One record -> *r; false when it is not one we use. */
static bool decode(const tl_sched_trace *t, const ring *rg, const uint8_t *p,
                   size_t len, tl_sched_rec *r) {
  struct perf_event_header hd;
  memcpy(&hd, p, sizeof hd);
  memset(r, 0, sizeof *r);
  switch (hd.type) {
  case PERF_RECORD_SAMPLE:
    if (t->kind != TL_STRACE_TRACEPOINTS || !decode_sample(t, p, len, r))
      return false;
    r->cpu = rg->cpu;
    return true;
  case PERF_RECORD_LOST: {
    bool tp = t->kind == TL_STRACE_TRACEPOINTS;
    if (len < sizeof hd + 16)
      return false;
    memcpy(&r->lost, p + sizeof hd + 8, 8);
    if (!sample_id(p, len, !tp, r))
      return false;
    r->kind = TL_SREC_LOST;
    if (tp)
      r->cpu = rg->cpu;
    return true;
  }
  case PERF_RECORD_SWITCH: {
    if (!sample_id(p, len, true, r))
      return false;
    r->kind = TL_SREC_SWITCH;
    if (hd.misc & PERF_RECORD_MISC_SWITCH_OUT) {
      r->prev_tid = rg->tid;
      r->next_tid = -1; /* not known to this source */
      memcpy(r->next_comm, "other", 6);
      r->prev_state = (hd.misc & PERF_RECORD_MISC_SWITCH_OUT_PREEMPT) ? 0 : 1;
    } else {
      r->prev_tid = -1;
      r->next_tid = rg->tid;
    }
    return true;
  }
  default: return false;
  }
}

static size_t ring_drain(tl_sched_trace *t, ring *rg, tl_sched_rec_fn cb,
                         void *arg) {
  struct perf_event_mmap_page *mp = rg->base;
  _Atomic uint64_t *headp = (_Atomic uint64_t *) &mp->data_head;
  _Atomic uint64_t *tailp = (_Atomic uint64_t *) &mp->data_tail;
  uint64_t head = atomic_load_explicit(headp, memory_order_acquire);
  uint64_t tail = atomic_load_explicit(tailp, memory_order_relaxed);
  const uint8_t *data = (const uint8_t *) rg->base + t->page;
  uint8_t rec[REC_MAX]; /* a record across the wrap, copied out: on the
                           caller's stack (two threads may drain) */
  size_t n = 0;
  while (tail + sizeof(struct perf_event_header) <= head) {
    size_t off = (size_t) (tail % rg->data_size);
    struct perf_event_header hd;
    if (off + sizeof hd <= rg->data_size)
      memcpy(&hd, data + off, sizeof hd);
    else
      for (size_t k = 0; k < sizeof hd; k++)
        ((uint8_t *) &hd)[k] = data[(off + k) % rg->data_size];
    if (hd.size < sizeof hd || tail + hd.size > head)
      break;
    size_t len = hd.size < REC_MAX ? hd.size : REC_MAX;
    const uint8_t *p = data + off;
    if (off + len > rg->data_size) { /* across the wrap: copied out */
      size_t first = rg->data_size - off;
      memcpy(rec, data + off, first);
      memcpy(rec + first, data, len - first);
      p = rec;
    }
    tl_sched_rec r;
    if (hd.size <= REC_MAX && decode(t, rg, p, len, &r)) {
      cb(arg, &r);
      n++;
    }
    tail += hd.size;
  }
  atomic_store_explicit(tailp, tail, memory_order_release);
  return n;
}

size_t tl_sched_trace_drain(tl_sched_trace *t, tl_sched_rec_fn cb, void *arg) {
  size_t n = 0;
  for (int i = 0; i < t->nrings; i++)
    n += ring_drain(t, &t->rings[i], cb, arg);
  return n;
}

void tl_sched_trace_close(tl_sched_trace *t) {
  if (!t)
    return;
  if (t->fds)
    for (int c = 0; c < t->ncpu; c++)
      for (int e = 0; e < NEV; e++)
        if (t->fds[c][e] >= 0)
          ioctl(t->fds[c][e], PERF_EVENT_IOC_DISABLE, 0);
  for (int i = 0; i < t->nrings; i++) {
    ring_unmap(t, &t->rings[i]);
    close(t->rings[i].fd); /* the ring's owner */
  }
  if (t->fds)
    for (int c = 0; c < t->ncpu; c++)
      for (int e = 0; e < NEV; e++)
        if (t->fds[c][e] >= 0)
          close(t->fds[c][e]);
  free(t->fds);
  free(t->rings);
  free(t);
}
