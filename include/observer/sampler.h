/* The sampler: once per period, on the observer thread, it reads the
 * kernel's accounting (/proc) and our own lock-free counters and renders
 * one snapshot as JSON (doc/stats-json.md) and as Prometheus text. Every
 * reader is served that same snapshot; readers never cause /proc reads. */
#ifndef TL_OBSERVER_SAMPLER_H
#define TL_OBSERVER_SAMPLER_H

#include <stdint.h>

#include "base/buf.h"
#include "core/server.h"
#include "base/thread.h"

typedef struct tl_sampler tl_sampler;

tl_sampler *tl_sampler_init(tl_server *srv, tl_registry *reg);
void tl_sampler_close(tl_sampler *st);
/* Takes a sample and re-renders the snapshot. */
void tl_sampler_sample(tl_sampler *st);
uint64_t tl_sampler_seq(const tl_sampler *st);
const tl_buf *tl_sampler_json(const tl_sampler *st);
/* Gives the sampler the observer's history ring and event log: each
 * sample feeds the load detector, is pushed into the ring, and its JSON
 * carries the latest events. Either may be NULL. */
struct tl_history;
struct tl_events;
void tl_sampler_attach(tl_sampler *st, struct tl_history *h,
                       struct tl_events *ev);
/* Prometheus text of the current snapshot (rendered on first use). */
const tl_buf *tl_sampler_metrics(tl_sampler *st);
/* The stream's JSON of the current snapshot (observer/stream_view.h),
 * rendered on first use: only when somebody streams. */
const tl_buf *tl_sampler_stream_json(tl_sampler *st);
/* The snapshot the JSON was rendered from (valid until the next sample). */
struct tl_snapshot;
const struct tl_snapshot *tl_sampler_snapshot(const tl_sampler *st);
/* The scheduler lanes whose source and per-thread figures /stats shows
 * (observer/sched.h; may be NULL). */
struct tl_sched;
void tl_sampler_set_sched(tl_sampler *st, const struct tl_sched *s);
/* How many /proc descriptors the sampler may keep open: a quarter of the
 * soft RLIMIT_NOFILE as it is now (the rest is the connections'); beyond,
 * it opens, reads and closes each file per sample. Any thread. */
int tl_sampler_fd_budget(void);
/* Descriptors the sampler keeps open now (observer thread). */
int tl_sampler_fds_kept(const tl_sampler *st);

#endif
