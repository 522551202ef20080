/* The scheduler tracer: perf events whose records become tl_sched_rec.
 * Two kinds, chosen by the caller (sched.c):
 *  - tracepoints: sched:sched_switch, sched_wakeup, sched_wakeup_new and
 *    sched_migrate_task on every CPU, the four sharing one mmap ring per
 *    CPU; ids and layouts from the format files (sched_tracefs); a
 *    kernel-side filter on our tids (PERF_EVENT_IOC_SET_FILTER). Needs
 *    root or CAP_PERFMON.
 *  - switches: PERF_RECORD_SWITCH on each of our threads (one small ring
 *    a thread): in/out and preempted-or-not, no wakeups, and not who came
 *    in. Allowed unprivileged on our own process.
 * Timestamps are CLOCK_MONOTONIC (use_clockid), the clock of steps and
 * samples. Observer thread only. */
#ifndef TL_OBSERVER_SCHED_TRACE_H
#define TL_OBSERVER_SCHED_TRACE_H

#include "observer/sched_slices.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct tl_sched_trace tl_sched_trace;

typedef enum tl_sched_trace_kind {
  TL_STRACE_TRACEPOINTS,
  TL_STRACE_SWITCHES,
} tl_sched_trace_kind;

/* Opens the tracepoints on ncpu CPUs, disabled, ring_pages data pages a
 * CPU (a power of two; halved while the locked-memory limit refuses it).
 * NULL with a static reason in *why. */
tl_sched_trace *tl_sched_trace_open_tracepoints(int ncpu, size_t ring_pages,
                                                const char **why);
/* Prepares the per-thread switch records (threads are added by
 * tl_sched_trace_set_threads); probes one event on the calling thread,
 * NULL with a static reason in *why when it is refused. */
tl_sched_trace *tl_sched_trace_open_switches(int ncpu, const char **why);

tl_sched_trace_kind tl_sched_trace_kind_of(const tl_sched_trace *t);

/* Our threads now (sorted or not). Tracepoints: the kernel filter is
 * rewritten (ranges of consecutive tids; when it would not fit, no kernel
 * filter and the user-space check alone): new events per CPU with the new
 * filter replace the old ones, writing into the same ring. Switches: an event is opened for
 * each new tid and closed for each gone one. Returns 0, or -1 when part of
 * it failed (kept what worked). */
int tl_sched_trace_set_threads(tl_sched_trace *t, const int *tids, int n);
/* True when the kernel filter is in place (tracepoints). */
bool tl_sched_trace_filtered(const tl_sched_trace *t);
/* The rings' data bytes, summed. */
size_t tl_sched_trace_ring_bytes(const tl_sched_trace *t);
/* How often the tracepoint events were replaced for a new filter (the
 * kernel takes one filter per event: EEXIST on a second). */
uint64_t tl_sched_trace_filter_updates(const tl_sched_trace *t);

void tl_sched_trace_enable(tl_sched_trace *t, bool on);
bool tl_sched_trace_enabled(const tl_sched_trace *t);

/* Reads every ring and hands each decoded record to cb; returns how many.
 * Tracepoints: the rings never change after the open and the drain
 * touches nothing else the other calls write, so another thread may drain
 * (one at a time: sched_drain's mutex) while the observer sets threads or
 * enables. Switches: observer thread only. */
typedef void (*tl_sched_rec_fn)(void *arg, const tl_sched_rec *r);
size_t tl_sched_trace_drain(tl_sched_trace *t, tl_sched_rec_fn cb, void *arg);
/* Tracepoints: the rings' descriptors (poll() says POLLIN once a quarter
 * of a ring is full), at most cap; 0 for switches. */
int tl_sched_trace_ring_fds(const tl_sched_trace *t, int *fds, int cap);

void tl_sched_trace_close(tl_sched_trace *t);

/* The filter text for one field over tids (exposed for tests): "f==A||
 * (f>=B&&f<=C)"... for two fields joined; returns the length written, or
 * -1 when it does not fit in cap. */
int tl_sched_trace_filter_text(const char *f1, const char *f2, const int *tids,
                               int n, char *out, size_t cap);

#endif
