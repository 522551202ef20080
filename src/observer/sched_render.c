/* Scheduler slices as JSON. Times stay integers in ns (slices) or
 * decimal microseconds with three places (the trace-event format's unit). */
#include "config.h"

#include "observer/sched_render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void opt_int(tl_buf *b, const char *key, bool have, long long v) {
  if (have)
    tl_buf_printf(b, ",\"%s\":%lld", key, v);
  else
    tl_buf_printf(b, ",\"%s\":null", key);
}

void tl_sched_render_slice(tl_buf *b, const tl_sched_slice *s) {
  tl_buf_printf(b,
                "{\"cpu\":%d,\"tid\":%d,\"start_ns\":%llu,\"end_ns\":%llu,"
                "\"end\":\"%s\"",
                s->cpu, s->tid, (unsigned long long) s->start_ns,
                (unsigned long long) s->end_ns, tl_sched_end_name(s->end));
  opt_int(b, "wake_ns", s->wake_ns != 0, (long long) s->wake_ns);
  opt_int(b, "in_tid", s->in_tid >= 0, s->in_tid);
  tl_buf_puts(b, ",\"in_comm\":");
  tl_buf_put_json_str(b, s->in_comm, strnlen(s->in_comm, TL_SCHED_COMM));
  opt_int(b, "in_pid", s->in_pid >= 0, s->in_pid);
  tl_buf_printf(b, ",\"on_lock\":%s}", s->on_lock ? "true" : "false");
}

typedef struct mkey {
  uint64_t bucket;
  int cpu, tid;
  size_t first; /* index of its first slice: output order */
} mkey;

static int mkey_cmp(const void *a, const void *c) {
  const mkey *x = a, *y = c;
  if (x->bucket != y->bucket)
    return x->bucket < y->bucket ? -1 : 1;
  if (x->cpu != y->cpu)
    return x->cpu < y->cpu ? -1 : 1;
  if (x->tid != y->tid)
    return x->tid < y->tid ? -1 : 1;
  return x->first < y->first ? -1 : x->first > y->first;
}

size_t tl_sched_render_merged(tl_buf *b, const tl_sched_slice *s, size_t n,
                              uint64_t bucket_ns) {
  if (n == 0)
    return 0;
  mkey *k = malloc(n * sizeof *k);
  if (!k)
    return 0;
  for (size_t i = 0; i < n; i++) {
    k[i].bucket = s[i].end_ns / bucket_ns;
    k[i].cpu = s[i].cpu;
    k[i].tid = s[i].tid;
    k[i].first = i;
  }
  qsort(k, n, sizeof *k, mkey_cmp);
  size_t out = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    uint64_t start = UINT64_MAX, end = 0, wait = 0, pre = 0;
    while (j < n && k[j].bucket == k[i].bucket && k[j].cpu == k[i].cpu &&
           k[j].tid == k[i].tid) {
      const tl_sched_slice *x = &s[k[j].first];
      if (x->start_ns < start)
        start = x->start_ns;
      if (x->end_ns > end)
        end = x->end_ns;
      if (x->wake_ns && x->start_ns >= x->wake_ns)
        wait += x->start_ns - x->wake_ns;
      pre += x->end == TL_SEND_PREEMPTED;
      j++;
    }
    tl_buf_printf(b,
                  "%s{\"cpu\":%d,\"tid\":%d,\"start_ns\":%llu,\"end_ns\":%llu,"
                  "\"slices\":%zu,\"preempted\":%llu,\"wait_ns\":%llu}",
                  out ? "," : "", k[i].cpu, k[i].tid,
                  (unsigned long long) start, (unsigned long long) end, j - i,
                  (unsigned long long) pre, (unsigned long long) wait);
    out++;
    i = j;
  }
  free(k);
  return out;
}

static void put_us(tl_buf *b, uint64_t ns) {
  tl_buf_printf(b, "%llu.%03llu", (unsigned long long) (ns / 1000),
                (unsigned long long) (ns % 1000));
}

static const char *name_of(const tl_sched_named *names, size_t n, int tid) {
  for (size_t i = 0; i < n; i++)
    if (names[i].tid == tid)
      return names[i].name;
  return NULL;
}

static void meta(tl_buf *b, bool *first, const char *what, int pid, int tid,
                 const char *name) {
  tl_buf_printf(b,
                "%s{\"ph\":\"M\",\"name\":\"%s\",\"pid\":%d,\"tid\":%d,"
                "\"args\":{\"name\":",
                *first ? "" : ",", what, pid, tid);
  tl_buf_put_json_str(b, name, strlen(name));
  tl_buf_puts(b, "}}");
  *first = false;
}

static void span(tl_buf *b, const char *cat, int pid, int tid, uint64_t start,
                 uint64_t end) {
  tl_buf_printf(
      b, ",{\"ph\":\"X\",\"cat\":\"%s\",\"pid\":%d,\"tid\":%d,\"ts\":", cat,
      pid, tid);
  put_us(b, start);
  tl_buf_puts(b, ",\"dur\":");
  put_us(b, end > start ? end - start : 0);
}

void tl_sched_render_chrome(tl_buf *b, int ncpu, int pid,
                            const tl_sched_slice *s, size_t n,
                            const tl_sched_named *names, size_t nnames,
                            const tl_sched_step *steps, size_t nsteps) {
  /* pid 1 is init's, never ours: the CPUs' process in the trace. */
  const int cpus_pid = pid == 1 ? 0 : 1;
  bool first = true;
  tl_buf_puts(b, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[");
  meta(b, &first, "process_name", cpus_pid, 0, "CPUs");
  for (int c = 0; c < ncpu; c++) {
    char nm[32];
    snprintf(nm, sizeof nm, "CPU %d", c);
    meta(b, &first, "thread_name", cpus_pid, c, nm);
  }
  meta(b, &first, "process_name", pid, 0, "threadlab");
  for (size_t i = 0; i < nnames; i++)
    meta(b, &first, "thread_name", pid, names[i].tid, names[i].name);
  for (size_t i = 0; i < n; i++) {
    const tl_sched_slice *x = &s[i];
    const char *nm = name_of(names, nnames, x->tid);
    char label[64];
    if (nm)
      snprintf(label, sizeof label, "%s (%d)", nm, x->tid);
    else
      snprintf(label, sizeof label, "tid %d", x->tid);
    span(b, "sched", cpus_pid, x->cpu, x->start_ns, x->end_ns);
    tl_buf_puts(b, ",\"name\":");
    tl_buf_put_json_str(b, label, strlen(label));
    tl_buf_printf(b, ",\"args\":{\"tid\":%d,\"end\":\"%s\",\"in\":", x->tid,
                  tl_sched_end_name(x->end));
    tl_buf_put_json_str(b, x->in_comm, strnlen(x->in_comm, TL_SCHED_COMM));
    if (x->wake_ns && x->start_ns >= x->wake_ns) {
      tl_buf_puts(b, ",\"wait_us\":");
      put_us(b, x->start_ns - x->wake_ns);
    }
    tl_buf_puts(b, "}}");
  }
  for (size_t i = 0; i < nsteps; i++) {
    const tl_sched_step *st = &steps[i];
    span(b, "step", pid, st->tid, st->start_ns, st->end_ns);
    tl_buf_puts(b, ",\"name\":");
    tl_buf_put_json_str(b, st->name, strnlen(st->name, sizeof st->name));
    tl_buf_printf(b, ",\"args\":{\"task\":%llu}}",
                  (unsigned long long) st->task);
  }
  tl_buf_puts(b, "]}");
}
