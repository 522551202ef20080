/* Slices from scheduler records. Per CPU: the thread of ours that holds
 * it (seen coming in) and the last finished slice, held back until the
 * next record on that CPU names the process of whoever took the core
 * (the tracepoint fires in the outgoing task, so a switch record's sampled
 * pid is its prev's process). Per thread: when it last became runnable
 * (a wakeup, or being preempted), so a slice's wait is start - wake_ns
 * and the sum over slices is the thread's run-queue wait.
 *
 * A yield cannot be told from a preemption in the tracepoint (both leave
 * the thread runnable, state R): such slices end "preempted". */
#include "config.h"

#include "observer/sched_slices.h"

#include "base/util.h"

#include <stdlib.h>
#include <string.h>

#define HOLD_MAX_NS   1000000000ull
#define TID_TABLE_MAX (1u << 16)

typedef struct cpu_state {
  bool have; /* one of ours is on this CPU since start */
  int tid;
  uint64_t start, wake;
  bool held;     /* a finished slice waiting for in_pid */
  int held_next; /* the raw tid that took the core */
  tl_sched_slice hs;
} cpu_state;

typedef struct tid_ent {
  int tid;           /* 0: empty */
  uint64_t runnable; /* 0: not known to be runnable */
} tid_ent;

struct tl_sched_slices {
  int ncpu;
  tl_sched_ours_fn ours;
  void *ours_arg;
  cpu_state *cpus;
  uint64_t *lost;
  tid_ent *tids;
  size_t tcap, tcount;
  tl_sched_rec *q; /* the reorder queue */
  size_t qn, qcap;
  uint64_t seq_done_t; /* time of the last processed record */
  tl_sched_counts counts;
};

const char *tl_sched_end_name(tl_sched_end e) {
  switch (e) {
  case TL_SEND_PREEMPTED: return "preempted";
  case TL_SEND_BLOCKED: return "blocked";
  case TL_SEND_YIELD: return "yield";
  case TL_SEND_EXIT: return "exit";
  }
  return "blocked";
}

tl_sched_end tl_sched_end_of_state(int64_t prev_state) {
  /* The low byte is the report state (0 = R); 0x100 is the "+" of an
   * in-kernel preemption. X (0x10) and Z (0x20): the final switch. */
  int64_t st = prev_state & 0xff;
  if (st == 0)
    return TL_SEND_PREEMPTED;
  if (st & 0x30)
    return TL_SEND_EXIT;
  return TL_SEND_BLOCKED;
}

tl_sched_slices *tl_sched_slices_new(int ncpu, tl_sched_ours_fn ours,
                                     void *ours_arg) {
  tl_sched_slices *b = tl_xcalloc(1, sizeof *b);
  b->ncpu = ncpu > 0 ? ncpu : 1;
  b->ours = ours;
  b->ours_arg = ours_arg;
  b->cpus = tl_xcalloc((size_t) b->ncpu, sizeof *b->cpus);
  b->lost = tl_xcalloc((size_t) b->ncpu, sizeof *b->lost);
  b->tcap = 256;
  b->tids = tl_xcalloc(b->tcap, sizeof *b->tids);
  return b;
}

void tl_sched_slices_free(tl_sched_slices *b) {
  if (!b)
    return;
  free(b->cpus);
  free(b->lost);
  free(b->tids);
  free(b->q);
  free(b);
}

static tid_ent *tid_find(tl_sched_slices *b, int tid, bool create) {
  size_t mask = b->tcap - 1;
  size_t i = ((size_t) (unsigned) tid * 2654435761u) & mask;
  while (b->tids[i].tid != 0) {
    if (b->tids[i].tid == tid)
      return &b->tids[i];
    i = (i + 1) & mask;
  }
  if (!create)
    return NULL;
  if ((b->tcount + 1) * 2 > b->tcap) {
    /* Grow; beyond the cap, forget every thread's runnable time (the
     * next slices of each then have wake_ns null: unknown, not guessed). */
    size_t ncap = b->tcap * 2;
    tid_ent *old = b->tids;
    size_t ocap = b->tcap;
    if (ncap > TID_TABLE_MAX) {
      memset(b->tids, 0, b->tcap * sizeof *b->tids);
      b->tcount = 0;
      return tid_find(b, tid, true);
    }
    b->tids = tl_xcalloc(ncap, sizeof *b->tids);
    b->tcap = ncap;
    b->tcount = 0;
    for (size_t k = 0; k < ocap; k++)
      if (old[k].tid != 0)
        *tid_find(b, old[k].tid, true) = old[k];
    free(old);
    return tid_find(b, tid, true);
  }
  b->tids[i].tid = tid;
  b->tids[i].runnable = 0;
  b->tcount++;
  return &b->tids[i];
}

void tl_sched_slices_push(tl_sched_slices *b, const tl_sched_rec *r) {
  if (r->cpu < 0 || r->cpu >= b->ncpu)
    return;
  if (b->qn == b->qcap) {
    b->qcap = b->qcap ? b->qcap * 2 : 1024;
    b->q = tl_xrealloc(b->q, b->qcap * sizeof *b->q);
  }
  if (r->t_ns < b->seq_done_t)
    b->counts.late++;
  b->q[b->qn++] = *r;
  b->counts.records++;
}

static int rec_cmp(const void *a, const void *c) {
  const tl_sched_rec *x = a, *y = c;
  if (x->t_ns != y->t_ns)
    return x->t_ns < y->t_ns ? -1 : 1;
  /* Same instant: a wakeup before the switch that runs its thread. */
  if (x->kind != y->kind)
    return x->kind == TL_SREC_WAKEUP ? -1 : y->kind == TL_SREC_WAKEUP ? 1 : 0;
  return 0;
}

static void emit_held(cpu_state *c, tl_sched_emit_fn emit, void *arg) {
  if (c->held) {
    emit(arg, &c->hs);
    c->held = false;
  }
}

static void on_switch(tl_sched_slices *b, const tl_sched_rec *r,
                      tl_sched_emit_fn emit, void *arg) {
  cpu_state *c = &b->cpus[r->cpu];
  if (c->held) {
    if (r->prev_tid > 0 && r->prev_tid == c->held_next)
      c->hs.in_pid = r->pid;
    emit_held(c, emit, arg);
  }
  if (c->have && c->tid == r->prev_tid) {
    tl_sched_slice *s = &c->hs;
    memset(s, 0, sizeof *s);
    s->cpu = r->cpu;
    s->tid = c->tid;
    s->start_ns = c->start;
    s->end_ns = r->t_ns;
    s->wake_ns = c->wake;
    s->end = tl_sched_end_of_state(r->prev_state);
    bool in_ours = r->next_tid != 0 && b->ours(b->ours_arg, r->next_tid);
    s->in_tid = in_ours ? r->next_tid : -1;
    s->in_pid = r->next_tid == 0 ? 0 : -1; /* 0: the idle task */
    memcpy(s->in_comm, r->next_comm, TL_SCHED_COMM);
    s->in_comm[TL_SCHED_COMM - 1] = '\0';
    c->held = true;
    c->held_next = r->next_tid;
  }
  if (r->prev_tid != 0 && b->ours(b->ours_arg, r->prev_tid)) {
    tid_ent *e = tid_find(b, r->prev_tid, true);
    e->runnable =
        tl_sched_end_of_state(r->prev_state) == TL_SEND_PREEMPTED ? r->t_ns : 0;
  }
  c->have = false;
  if (r->next_tid != 0 && b->ours(b->ours_arg, r->next_tid)) {
    tid_ent *e = tid_find(b, r->next_tid, true);
    c->have = true;
    c->tid = r->next_tid;
    c->start = r->t_ns;
    c->wake = e->runnable;
    e->runnable = 0;
  }
}

static void process(tl_sched_slices *b, const tl_sched_rec *r,
                    tl_sched_emit_fn emit, void *arg) {
  switch (r->kind) {
  case TL_SREC_SWITCH: on_switch(b, r, emit, arg); break;
  case TL_SREC_WAKEUP:
    if (r->tid != 0 && b->ours(b->ours_arg, r->tid)) {
      tid_ent *e = tid_find(b, r->tid, true);
      if (e->runnable == 0)
        e->runnable = r->t_ns;
    }
    break;
  case TL_SREC_MIGRATE: break;
  case TL_SREC_LOST: {
    cpu_state *c = &b->cpus[r->cpu];
    emit_held(c, emit, arg);
    c->have = false; /* a gap until the next switch-in */
    b->lost[r->cpu] += r->lost;
    b->counts.lost += r->lost;
    break;
  }
  }
  if (r->t_ns > b->seq_done_t)
    b->seq_done_t = r->t_ns;
}

void tl_sched_slices_flush(tl_sched_slices *b, uint64_t cutoff_ns,
                           tl_sched_emit_fn emit, void *arg) {
  if (b->qn > 1)
    qsort(b->q, b->qn, sizeof *b->q, rec_cmp);
  size_t k = 0;
  while (k < b->qn && b->q[k].t_ns <= cutoff_ns)
    process(b, &b->q[k++], emit, arg);
  if (k > 0 && k < b->qn) /* (q is NULL before the first record) */
    memmove(b->q, b->q + k, (b->qn - k) * sizeof *b->q);
  b->qn -= k;
  for (int i = 0; i < b->ncpu; i++) {
    cpu_state *c = &b->cpus[i];
    if (c->held && c->hs.end_ns + HOLD_MAX_NS < cutoff_ns)
      emit_held(c, emit, arg);
  }
}

void tl_sched_slices_reset(tl_sched_slices *b) {
  memset(b->cpus, 0, (size_t) b->ncpu * sizeof *b->cpus);
  memset(b->tids, 0, b->tcap * sizeof *b->tids);
  b->tcount = 0;
  b->qn = 0;
}

void tl_sched_slices_counts(const tl_sched_slices *b, tl_sched_counts *out) {
  *out = b->counts;
}

const uint64_t *tl_sched_slices_lost_per_cpu(const tl_sched_slices *b) {
  return b->lost;
}
