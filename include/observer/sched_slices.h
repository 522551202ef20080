/* Scheduler records -> slices. Pure (no system calls): the tracer
 * (sched_trace) decodes perf records into tl_sched_rec, this module
 * merges the CPUs' records in time order behind a reorder window and
 * builds, per CPU, the slices during which one of our threads held the
 * core: when it came in, when and how it left, when it became runnable
 * before, and who took the core. Observer thread only.
 *
 * Slices are built only between a switch-in and a switch-out both seen:
 * a lost record (PERF_RECORD_LOST) closes nothing and opens a gap on its
 * CPU until the next switch-in, so no slice is ever invented. */
#ifndef TL_OBSERVER_SCHED_SLICES_H
#define TL_OBSERVER_SCHED_SLICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TL_SCHED_COMM 16

typedef enum tl_sched_kind {
  TL_SREC_SWITCH,  /* sched_switch: prev -> next on cpu */
  TL_SREC_WAKEUP,  /* sched_wakeup / sched_wakeup_new of tid */
  TL_SREC_MIGRATE, /* sched_migrate_task of tid to dest_cpu */
  TL_SREC_LOST,    /* `lost` records dropped on cpu before t_ns */
} tl_sched_kind;

typedef struct tl_sched_rec {
  uint64_t t_ns; /* CLOCK_MONOTONIC */
  int cpu;
  tl_sched_kind kind;
  int pid;                /* the sampled task's process (switch: prev's) */
  int prev_tid, next_tid; /* switch */
  int64_t prev_state;     /* switch: the kernel's report state */
  char next_comm[TL_SCHED_COMM];
  int tid;       /* wakeup, migrate */
  int dest_cpu;  /* migrate */
  uint64_t lost; /* lost */
} tl_sched_rec;

typedef enum tl_sched_end {
  TL_SEND_PREEMPTED, /* left still runnable (state R) */
  TL_SEND_BLOCKED,   /* left to sleep or wait (S, D, ...) */
  TL_SEND_YIELD,     /* never from tracepoints: see sched_slices.c */
  TL_SEND_EXIT,      /* its last switch (state X or Z) */
} tl_sched_end;

const char *tl_sched_end_name(tl_sched_end e);
/* The kernel's prev_state -> how the slice ended. */
tl_sched_end tl_sched_end_of_state(int64_t prev_state);

typedef struct tl_sched_slice {
  uint64_t start_ns, end_ns;
  uint64_t wake_ns; /* became runnable (0: unknown -> null) */
  int cpu, tid;
  tl_sched_end end;
  int in_tid; /* who took the core when it is ours, else -1 */
  int in_pid; /* its process, -1 when not known */
  char in_comm[TL_SCHED_COMM];
  bool on_lock; /* blocked on one of our locks (sched_lockwait), set when
                   rendered; the builder leaves it false */
} tl_sched_slice;

/* Is tid one of our threads? (the exact user-space check) */
typedef bool (*tl_sched_ours_fn)(void *arg, int tid);
typedef void (*tl_sched_emit_fn)(void *arg, const tl_sched_slice *s);

typedef struct tl_sched_slices tl_sched_slices;

tl_sched_slices *tl_sched_slices_new(int ncpu, tl_sched_ours_fn ours,
                                     void *ours_arg);
void tl_sched_slices_free(tl_sched_slices *b);

/* Queues one record (any CPU, any order within the window). */
void tl_sched_slices_push(tl_sched_slices *b, const tl_sched_rec *r);

/* Processes, in time order, every queued record at or before cutoff_ns
 * and emits the slices they complete. A slice is emitted once the next
 * record on its CPU is processed (which tells its successor's process) or
 * once it is older than cutoff by more than 1 s (in_pid then -1). */
void tl_sched_slices_flush(tl_sched_slices *b, uint64_t cutoff_ns,
                           tl_sched_emit_fn emit, void *emit_arg);

/* Forgets what each CPU and thread was doing (and any queued record), so
 * that tracing stopped and started again never joins a switch-in from
 * before the pause to a switch-out after it. Counts are kept. */
void tl_sched_slices_reset(tl_sched_slices *b);

typedef struct tl_sched_counts {
  uint64_t records, late; /* late: arrived behind the window */
  uint64_t lost;          /* sum of PERF_RECORD_LOST counts */
} tl_sched_counts;
void tl_sched_slices_counts(const tl_sched_slices *b, tl_sched_counts *out);
/* Per-CPU lost counts (ncpu entries). */
const uint64_t *tl_sched_slices_lost_per_cpu(const tl_sched_slices *b);

#endif
