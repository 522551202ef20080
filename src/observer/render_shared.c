/* server.shared and the deadlock insight (observer/render_shared.h). */
#include "config.h"

#include "observer/render_shared.h"

#include "base/mode.h"
#include "exec/shared_cow.h"

#include <stdio.h>
#include <string.h>

static void holds_json(tl_buf *b, unsigned holds) {
  tl_buf_putc(b, '[');
  int n = 0;
  for (int i = 0; i < TL_SHARED_LOCKS; i++)
    if (holds & (1u << i))
      tl_buf_printf(b, "%s%d", n++ ? "," : "", i);
  tl_buf_putc(b, ']');
}

static void opt_int(tl_buf *b, const char *k, bool has, long long v) {
  if (has)
    tl_buf_printf(b, "\"%s\":%lld", k, v);
  else
    tl_buf_printf(b, "\"%s\":null", k);
}

static void lock_fields(tl_buf *b, const tl_shared_lock_read *l) {
  tl_buf_printf(b, "\"acquisitions\":%llu,\"contended\":%llu,\"wait_ms\":%.3f,",
                (unsigned long long) l->acquisitions,
                (unsigned long long) l->contended, (double) l->wait_ns / 1e6);
  opt_int(b, "holder_tid", l->holder_tid != 0, l->holder_tid);
  tl_buf_printf(b, ",\"waiters\":%d", l->waiters);
}

static void deadlock_json(tl_buf *b, const tl_shared_deadlock *d,
                          uint64_t now_ns) {
  tl_buf_puts(b, "{\"threads\":[");
  for (int k = 0; k < d->len; k++) {
    tl_buf_printf(b, "%s{\"tid\":%d,\"holds\":", k ? "," : "", d->m[k].tid);
    holds_json(b, d->m[k].holds);
    tl_buf_printf(b, ",\"wants\":%d}", d->m[k].wants);
  }
  tl_buf_printf(b, "],\"stuck_ms\":%.1f,\"detect_ms\":%.1f}",
                (double) (now_ns - d->formed_ns) / 1e6,
                (double) (d->found_ns - d->formed_ns) / 1e6);
}

static void cow_page_json(tl_buf *b, const char *k, const tl_cow_page *p) {
  tl_buf_printf(b, "\"%s\":{\"present\":%s,\"exclusive\":%s,", k,
                p->present ? "true" : "false", p->exclusive ? "true" : "false");
  opt_int(b, "page", p->pfn != 0, (long long) p->pfn);
  tl_buf_putc(b, ',');
  opt_int(b, "mapcount", p->mapcount >= 0, (long long) p->mapcount);
  tl_buf_putc(b, '}');
}

/* The copy-on-write probe's pagemap entries (exec/shared_cow). */
static void cow_json(tl_buf *b, const tl_shared_cow *c) {
  if (!c->done) {
    tl_buf_puts(b, "null");
    return;
  }
  tl_buf_putc(b, '{');
  cow_page_json(b, "parent", &c->parent);
  tl_buf_putc(b, ',');
  cow_page_json(b, "child_before_write", &c->child_before);
  tl_buf_putc(b, ',');
  cow_page_json(b, "child_after_write", &c->child_after);
  tl_buf_printf(b, ",\"fork_ms\":%.3f}", c->fork_ms);
}

void tl_render_shared_json(tl_buf *b, const tl_snapshot *s) {
  const tl_shared_obs *o = &s->shared;
  const tl_shared_read *r = &o->r;
  if (!o->sampled) {
    tl_buf_puts(b, ",\"shared\":null");
    return;
  }
  int64_t lost = (int64_t) (r->increments - r->counter);
  tl_buf_printf(b,
                ",\"shared\":{\"counter\":%llu,\"increments\":%llu,"
                "\"lost\":%lld,\"running\":%llu,\"counter_addr\":\"0x%llx\","
                "\"counter_fixed\":%s,",
                (unsigned long long) r->counter,
                (unsigned long long) r->increments, (long long) lost,
                (unsigned long long) r->running,
                (unsigned long long) r->counter_addr,
                r->counter_fixed ? "true" : "false");
  opt_int(b, "counter_page", o->has_page, (long long) o->counter_page);
  tl_buf_puts(b, ",\"period\":");
  if (o->has_period)
    tl_buf_printf(b, "{\"increments\":%lld,\"lost\":%lld}",
                  (long long) o->increments_period, (long long) o->lost_period);
  else
    tl_buf_puts(b, "null");
  tl_buf_putc(b, ',');
  lock_fields(b, &r->locks[0]);
  tl_buf_puts(b, ",\"locks\":[");
  for (int i = 0; i < TL_SHARED_LOCKS; i++) {
    /* The futex a waiter sleeps on (its /proc/TID/syscall's first arg). */
    tl_buf_printf(b, "%s{\"id\":%d,\"addr\":\"0x%llx\",", i ? "," : "", i,
                  (unsigned long long) r->locks[i].addr);
    lock_fields(b, &r->locks[i]);
    tl_buf_putc(b, '}');
  }
  tl_buf_puts(b, "],\"threads\":[");
  for (int i = 0; i < r->nthreads; i++) {
    const tl_shared_thread_read *t = &r->threads[i];
    tl_buf_printf(b, "%s{\"tid\":%d,\"lock_wait_ms\":%.3f,", i ? "," : "",
                  t->tid, (double) t->lock_wait_ns / 1e6);
    if (o->lock_wait_pct[i] >= 0)
      tl_buf_printf(b, "\"lock_wait_pct\":%.1f,", o->lock_wait_pct[i]);
    else
      tl_buf_puts(b, "\"lock_wait_pct\":null,");
    opt_int(b, "wants", t->wants >= 0, t->wants);
    tl_buf_puts(b, ",\"holds\":");
    holds_json(b, t->holds);
    tl_buf_putc(b, '}');
  }
  tl_buf_puts(b, "],\"fork_cow\":");
  cow_json(b, tl_shared_cow_result());
  tl_buf_puts(b, ",\"deadlocks\":[");
  for (int i = 0; i < o->ndeadlocks; i++) {
    if (i)
      tl_buf_putc(b, ',');
    deadlock_json(b, &o->deadlocks[i], o->now_ns);
  }
  tl_buf_puts(b, "]}");
}

void tl_render_shared_process(tl_buf *b, const tl_process_snap *p) {
  if (!p->has_shared) {
    tl_buf_puts(b, "\"shared\":null,");
    return;
  }
  tl_buf_printf(b, "\"shared\":{\"counter\":%llu,\"counter_addr\":\"0x%llx\",",
                (unsigned long long) p->shared_counter,
                (unsigned long long) p->shared_addr);
  opt_int(b, "counter_page", p->has_page, (long long) p->shared_page);
  tl_buf_puts(b, "},");
}

static bool in_deadlock(const tl_shared_obs *o, int tid) {
  for (int i = 0; i < o->ndeadlocks; i++)
    for (int k = 0; k < o->deadlocks[i].len; k++)
      if (o->deadlocks[i].m[k].tid == tid)
        return true;
  return false;
}

void tl_render_shared_insights(tl_snapshot *s) {
  const tl_shared_obs *o = &s->shared;
  if (o->ndeadlocks == 0 || s->ninsights >= TL_SNAP_MAX_INSIGHTS)
    return;
  tl_insight *in = &s->insights[s->ninsights++];
  memset(in, 0, sizeof(*in));
  in->level = "warn";
  in->id = "deadlock";
  /* Who still serves: our workers and loops outside every cycle. */
  int free_workers = 0, free_loops = 0, stuck = 0;
  for (int i = 0; i < s->nthreads; i++) {
    const tl_thread_snap *t = &s->threads[i];
    bool dl = in_deadlock(o, t->tid);
    stuck += dl;
    if (!dl && t->role == TL_ROLE_WORKER)
      free_workers++;
    if (!dl && t->role == TL_ROLE_LOOP)
      free_loops++;
  }
  const tl_shared_deadlock *d = &o->deadlocks[0];
  char who[160] = "";
  size_t w = 0;
  for (int k = 0; k < d->len && w < sizeof(who); k++) {
    unsigned h = d->m[k].holds;
    int held = -1;
    for (int i = 0; i < TL_SHARED_LOCKS && held < 0; i++)
      if (h & (1u << i))
        held = i;
    w += (size_t) snprintf(who + w, sizeof(who) - w,
                           "%sthread %d holds lock %d and wants lock %d",
                           k ? ", " : "", d->m[k].tid, held, d->m[k].wants);
  }
  /* What is left to serve: a loop always; in async mode nothing else. */
  if (free_loops == 0)
    snprintf(in->text, sizeof(in->text),
             "deadlock: %s; they wait for each other for ever, and every loop "
             "thread is stuck: no request is served any more",
             who);
  else if (s->mode != TL_MODE_ASYNC && free_workers == 0)
    snprintf(in->text, sizeof(in->text),
             "deadlock: %s; they wait for each other for ever, and no worker "
             "is free: no request is served any more",
             who);
  else
    snprintf(in->text, sizeof(in->text),
             "deadlock: %s; they wait for each other for ever. The server "
             "still serves with its other threads (%d workers, %d loops free)",
             who, free_workers, free_loops);
  snprintf(in->evidence, sizeof(in->evidence),
           "{\"deadlocks\":%d,\"stuck_threads\":%d,\"free_workers\":%d,"
           "\"free_loops\":%d,\"stuck_ms\":%.0f}",
           o->ndeadlocks, stuck, free_workers, free_loops,
           (double) (o->now_ns - d->formed_ns) / 1e6);
}
