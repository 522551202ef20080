/* The timeline's keep-ring and window (observer/sampler_timeline.h). */
#include "config.h"

#include "observer/sampler_timeline.h"

#include "base/util.h"

#include <stdlib.h>

#define TIMELINE_KEEP 8192
#define DRAIN_MAX     TL_RING_SIZE

struct tl_sampler_timeline {
  /* recent steps, oldest first, a ring */
  tl_timeline_ev *keep;
  uint64_t keep_head;
  uint64_t dropped;
  uint64_t core_steps[TL_SNAP_MAX_CORES];
  tl_step_event drain_buf[DRAIN_MAX];
};

tl_sampler_timeline *tl_sampler_timeline_init(void) {
  tl_sampler_timeline *tl = tl_xcalloc(1, sizeof(*tl));
  tl->keep = tl_xcalloc(TIMELINE_KEEP, sizeof(*tl->keep));
  return tl;
}

void tl_sampler_timeline_close(tl_sampler_timeline *tl) {
  if (!tl)
    return;
  free(tl->keep);
  free(tl);
}

const uint64_t *tl_sampler_timeline_core_steps(const tl_sampler_timeline *tl) {
  return tl->core_steps;
}

/* The snapshot's entry for tid among the first n (sorted by tid), or
 * NULL: where a lane's left-out steps are counted. */
static tl_thread_snap *thread_at(tl_snapshot *s, int n, int tid) {
  int lo = 0, hi = n - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    if (s->threads[mid].tid == tid)
      return &s->threads[mid];
    if (s->threads[mid].tid < tid)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return NULL;
}

/* Steps of this update that the timeline does not carry: lost from a
 * ring since the last sample, or thinned out of the window. */
static void left_out(tl_snapshot *s, int n, int tid, uint64_t k) {
  tl_thread_snap *t = thread_at(s, n, tid);
  if (t)
    t->steps_left_out += k;
  s->timeline_left_out += k;
}

void tl_sampler_timeline_drain(tl_sampler_timeline *st, tl_registry *reg,
                               tl_snapshot *s, int nthreads) {
  s->timeline_left_out = 0;
  for (tl_thread_ctx *c = reg->head; c; c = c->next) {
    uint64_t lost = st->dropped;
    int n = tl_thread_drain_steps(c, st->drain_buf, DRAIN_MAX, &st->dropped);
    if (st->dropped > lost)
      left_out(s, nthreads, c->tid, st->dropped - lost);
    for (int i = 0; i < n; i++) {
      tl_timeline_ev *k = &st->keep[st->keep_head++ % TIMELINE_KEEP];
      k->tid = c->tid;
      k->ev = st->drain_buf[i];
      if (k->ev.core >= 0 && k->ev.core < TL_SNAP_MAX_CORES)
        st->core_steps[k->ev.core]++;
    }
  }
}

void tl_sampler_timeline_pick(tl_sampler_timeline *st, tl_snapshot *s,
                              uint64_t start, uint64_t now_ns) {
  uint64_t from = now_ns > (uint64_t) TL_TIMELINE_WINDOW_MS * 1000000u
                      ? now_ns - (uint64_t) TL_TIMELINE_WINDOW_MS * 1000000u
                      : 0;
  uint64_t avail =
      st->keep_head < TIMELINE_KEEP ? st->keep_head : TIMELINE_KEEP;
  /* Count what falls in the window, then keep every k-th to fit. */
  uint64_t in = 0;
  for (uint64_t i = st->keep_head - avail; i < st->keep_head; i++)
    if (st->keep[i % TIMELINE_KEEP].ev.end_ns >= from)
      in++;
  uint64_t stride = in > TL_TIMELINE_OUT_MAX
                        ? (in + TL_TIMELINE_OUT_MAX - 1) / TL_TIMELINE_OUT_MAX
                        : 1;
  s->timeline_sampled = stride > 1 || st->dropped > 0;
  s->timeline_dropped = st->dropped;
  s->ntimeline = 0;
  uint64_t k = 0;
  for (uint64_t i = st->keep_head - avail; i < st->keep_head; i++) {
    tl_timeline_ev *e = &st->keep[i % TIMELINE_KEEP];
    if (e->ev.end_ns < from)
      continue;
    if (k++ % stride != 0 || s->ntimeline >= TL_TIMELINE_OUT_MAX) {
      left_out(s, s->nthreads, e->tid, 1);
      continue;
    }
    s->timeline[s->ntimeline++] = *e;
  }
  s->timeline_from_ms = (double) (from > start ? from - start : 0) / 1e6;
  s->timeline_to_ms = (double) (now_ns - start) / 1e6;
}
