/* One event loop's state: its libuv loop, listener, connections, timers,
 * send queue and counters, apart from the process-wide server (core/).
 * The loop sees the process only through its tl_loop_ctx (config, pool,
 * live mode, docroot), which its tasks carry. Everything here runs on the
 * loop's own thread unless a function says otherwise; a process may run
 * several loops. */
#ifndef TL_HTTP_LOOP_H
#define TL_HTTP_LOOP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "base/hist.h"
#include "base/thread.h"
#include "runtime/hrtimer.h"
#include "runtime/loop_ctx.h"
#include "runtime/pool.h"

struct tl_conn_set;

typedef struct tl_loop {
  /* Immutable after tl_loop_init. */
  tl_loop_ctx ctx;       /* what this loop's code and tasks read */
  void *owner;           /* the caller's, for on_drained (the server) */
  tl_registry *registry; /* where the loop's thread is registered */
  uv_loop_t *uv;
  int index;
  int port;             /* the bound port */
  bool send_uring;      /* responses batched through io_uring */
  const char *send_why; /* why not, when !send_uring (static) */
  /* Called on this loop's thread once it has drained (after
   * tl_loop_drain: no connection, no task left). */
  void (*on_drained)(struct tl_loop *loop);

  /* Any thread sets bits (tl_loop_post); the loop thread takes them. */
  _Atomic int cmd;
  uv_async_t cmd_async;

  /* Loop thread only. */
  uv_tcp_t listener;
  uv_prepare_t flush_prep; /* also marks the thread idle: about to poll */
  uv_check_t poll_check;   /* marks it busy again: the poll returned */
  uv_timer_t sweep_timer;
  uv_timer_t lag_timer;
  uint64_t lag_expected_ns;  /* uv_hrtime when the lag timer should fire */
  tl_hrtimer *hrt;           /* IO steps waiting on this loop */
  struct tl_conn_set *conns; /* the connection module's own state */
  tl_pool_inbox inbox;       /* pool jobs of this loop's tasks come back here */
  uint64_t next_task_id;
  uint64_t tasks_inflight;
  bool draining;
  bool drained;
  tl_thread_ctx thread; /* this loop's thread, as the observer sees it */
  char read_buf[65536]; /* shared by all reads: consumed in read_cb */

  /* Loop thread writes, the observer reads. */
  tl_loop_counters stats;
} tl_loop;

/* What a process gives each of its loops (copied by tl_loop_init). */
typedef struct tl_loop_setup {
  tl_loop_ctx proc;      /* its process-wide fields (cfg ... docroot_fd) */
  tl_registry *registry; /* the loop's thread registers there */
  int listen_port;       /* 0: a free one (see loop->port) */
  bool reuseport;        /* SO_REUSEPORT: loops / processes share it */
  bool defer_listen;     /* bind only; tl_loop_listen starts accepting */
  void *owner;
} tl_loop_setup;

/* On the thread that will run uv: binds the listener (on
 * setup->listen_port, with SO_REUSEPORT when setup->reuseport), sets up
 * timers, the send path, the loop's tl_loop_ctx and the thread's
 * registration. Returns 0 or a negative errno/UV code with a message on
 * stderr (then everything is undone; run the loop once more to finish the
 * closes). */
int tl_loop_init(tl_loop *loop, const tl_loop_setup *setup, uv_loop_t *uv,
                 int index);
/* Commands another thread can give a loop. */
enum { TL_LOOP_DRAIN = 1, TL_LOOP_CLOSE_CONNS = 2, TL_LOOP_LISTEN = 4 };
/* Any thread: ask the loop to run tl_loop_drain / tl_loop_close_conns /
 * tl_loop_listen. */
void tl_loop_post(tl_loop *loop, int cmd);
/* Loop thread: a listener bound with setup->defer_listen starts
 * accepting (a promoted spare worker); 0 or a negative UV code. */
int tl_loop_listen(tl_loop *loop);
/* Loop thread: stop accepting and reading; close connections once their
 * pending responses are out; on_drained fires when nothing is left. */
void tl_loop_drain(tl_loop *loop);
/* Loop thread: close every connection now (shutdown timeout); a loop with
 * tasks still running on workers cannot wait for them: the process exits. */
void tl_loop_close_conns(tl_loop *loop);
/* Loop thread, after on_drained: close the loop's handles. */
void tl_loop_close_handles(tl_loop *loop);
/* After uv_run returned: release what is left. */
void tl_loop_close(tl_loop *loop);
/* Loop thread: connections open on this loop. */
size_t tl_loop_conn_count(const tl_loop *loop);

#endif
