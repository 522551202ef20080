/* The stream's view of a snapshot (observer/stream_view.h). */
#include "config.h"

#include "observer/stream_view.h"

#include "base/util.h"
#include "observer/json_num.h"
#include "observer/render_json.h"

#include <stdlib.h>
#include <string.h>

struct tl_stream_view {
  tl_snapshot view;         /* the snapshot with fewer threads and steps */
  tl_thread_snap *threads;  /* [TL_STREAM_THREADS] */
  tl_timeline_ev *timeline; /* [TL_STREAM_TIMELINE] */
  int *order;               /* snapshot indices, busiest first */
  int order_cap;
};

tl_stream_view *tl_stream_view_init(void) {
  tl_stream_view *v = tl_xcalloc(1, sizeof(*v));
  v->threads = tl_xcalloc(TL_STREAM_THREADS, sizeof(tl_thread_snap));
  v->timeline = tl_xcalloc(TL_STREAM_TIMELINE, sizeof(tl_timeline_ev));
  return v;
}

void tl_stream_view_close(tl_stream_view *v) {
  if (!v)
    return;
  free(v->threads);
  free(v->timeline);
  free(v->order);
  free(v);
}

/* What "busy" means for choosing whom to list: on a core, waiting for one
 * (oversubscription is what a crowd of threads shows), or holding a task. */
static double activity(const tl_thread_snap *t) {
  return t->cpu_pct + (t->has_runq && t->has_period ? t->runq_pct : 0) +
         (t->own ? t->busy_pct : 0);
}

static const tl_thread_snap *sort_base;

/* Non-workers first (the loops, the observer: few, and every panel names
 * them), then by activity, then by tid for a stable order. */
static int by_activity(const void *a, const void *b) {
  const tl_thread_snap *x = &sort_base[*(const int *) a];
  const tl_thread_snap *y = &sort_base[*(const int *) b];
  int wx = x->role == TL_ROLE_WORKER, wy = y->role == TL_ROLE_WORKER;
  if (wx != wy)
    return wx - wy;
  double ax = activity(x), ay = activity(y);
  if (ax != ay)
    return ax < ay ? 1 : -1;
  return (x->tid > y->tid) - (x->tid < y->tid);
}

static int by_index(const void *a, const void *b) {
  int x = *(const int *) a, y = *(const int *) b;
  return (x > y) - (x < y);
}

/* Adds one folded thread's figures to the aggregate. */
typedef struct folded {
  int threads, workers, running, runnable_waiting;
  double cpu_pct, on_cpu_pct, runq_pct, busy_pct;
  double tasks_rate, steps_rate, ctx_vol_rate, ctx_invol_rate;
  uint64_t tasks, steps;
} folded;

static void fold(folded *f, const tl_thread_snap *t) {
  f->threads++;
  f->workers += t->role == TL_ROLE_WORKER;
  f->running += t->state == 'R';
  f->cpu_pct += t->cpu_pct;
  if (t->has_period) {
    f->on_cpu_pct += t->on_cpu_pct;
    if (t->has_runq)
      f->runq_pct += t->runq_pct;
  }
  f->ctx_vol_rate += t->ctx_vol_rate;
  f->ctx_invol_rate += t->ctx_invol_rate;
  if (t->own) {
    f->busy_pct += t->busy_pct;
    f->tasks += t->tasks;
    f->steps += t->steps;
    f->tasks_rate += t->tasks_rate;
    f->steps_rate += t->steps_rate;
  }
}

static void put_num(tl_buf *b, const char *k, double v) {
  tl_buf_printf(b, "\"%s\":", k);
  tl_json_num_put(b, v);
  tl_buf_putc(b, ',');
}

/* ,"folded":{...} or ,"folded":null, spliced before the document's final
 * brace: render_json stays the one writer of the snapshot's fields. */
static void put_folded(tl_buf *b, const folded *f, int listed, bool any) {
  if (b->len && b->data[b->len - 1] == '}')
    b->len--;
  if (!any) {
    tl_buf_puts(b, ",\"folded\":null}");
    return;
  }
  tl_buf_printf(b,
                ",\"folded\":{\"threads\":%d,\"workers\":%d,\"listed\":%d,"
                "\"running\":%d,",
                f->threads, f->workers, listed, f->running);
  put_num(b, "cpu_pct", f->cpu_pct);
  put_num(b, "on_cpu_pct", f->on_cpu_pct);
  put_num(b, "runq_pct", f->runq_pct);
  put_num(b, "busy_pct", f->busy_pct);
  tl_buf_printf(b, "\"tasks\":%llu,\"steps\":%llu,",
                (unsigned long long) f->tasks, (unsigned long long) f->steps);
  put_num(b, "tasks_rate", f->tasks_rate);
  put_num(b, "steps_rate", f->steps_rate);
  put_num(b, "ctx_voluntary_rate", f->ctx_vol_rate);
  put_num(b, "ctx_involuntary_rate", f->ctx_invol_rate);
  b->len--; /* the last comma */
  tl_buf_puts(b, "}}");
}

/* A step this view thins out: counted on its lane (if listed) and in
 * the update's total, like the sampler's own thinning. */
static void add_left_out(tl_stream_view *v, int tid) {
  v->view.timeline_left_out++;
  for (int i = 0; i < TL_STREAM_THREADS; i++)
    if (v->threads[i].tid == tid) {
      v->threads[i].steps_left_out++;
      return;
    }
}

void tl_stream_view_render(tl_stream_view *v, const tl_snapshot *s,
                           tl_buf *out) {
  out->len = 0;
  if (s->nthreads <= TL_STREAM_THREADS) {
    tl_render_json(s, out);
    put_folded(out, NULL, s->nthreads, false);
    return;
  }
  if (v->order_cap < s->nthreads) {
    free(v->order);
    v->order_cap = s->nthreads;
    v->order = tl_xcalloc((size_t) v->order_cap, sizeof(int));
  }
  for (int i = 0; i < s->nthreads; i++)
    v->order[i] = i;
  sort_base = s->threads;
  qsort(v->order, (size_t) s->nthreads, sizeof(int), by_activity);
  /* The listed ones in the snapshot's (tid) order, the rest folded. */
  qsort(v->order, TL_STREAM_THREADS, sizeof(int), by_index);
  folded f;
  memset(&f, 0, sizeof(f));
  for (int i = TL_STREAM_THREADS; i < s->nthreads; i++)
    fold(&f, &s->threads[v->order[i]]);
  memcpy(&v->view, s, sizeof(v->view));
  for (int i = 0; i < TL_STREAM_THREADS; i++)
    v->threads[i] = s->threads[v->order[i]];
  v->view.threads = v->threads;
  v->view.nthreads = TL_STREAM_THREADS;
  /* Every k-th step, as pick_timeline thins a busy window. */
  if (s->ntimeline > TL_STREAM_TIMELINE) {
    int stride = (s->ntimeline + TL_STREAM_TIMELINE - 1) / TL_STREAM_TIMELINE;
    int n = 0;
    for (int i = 0; i < s->ntimeline; i++) {
      if (i % stride == 0 && n < TL_STREAM_TIMELINE)
        v->timeline[n++] = s->timeline[i];
      else
        add_left_out(v, s->timeline[i].tid);
    }
    v->view.timeline = v->timeline;
    v->view.ntimeline = n;
    v->view.timeline_sampled = true;
  }
  tl_render_json(&v->view, out);
  put_folded(out, &f, TL_STREAM_THREADS, true);
}
