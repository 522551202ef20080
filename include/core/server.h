/* The workload server: one libuv loop on the calling thread, the listener,
 * the connections, the worker pool and the executor of the current mode. */
#ifndef TL_SERVER_H
#define TL_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "core/options.h"
#include "base/hist.h"
#include "base/mode.h"
#include "core/pool.h"
#include "http/router.h"
#include "base/thread.h"

struct tl_conn;
struct tl_executor;
struct tl_out_batch;
struct tl_sendq;
struct tl_hrtimer;

/* Counters the loop thread writes and the observer reads lock-free. */
typedef struct tl_server_counters {
  _Alignas(64) _Atomic uint64_t accepted;
  _Atomic uint64_t refused;          /* over --max-conns */
  _Atomic uint64_t open;
  _Atomic uint64_t requests;
  _Atomic uint64_t by_class[6];      /* index status/100, 0 unused */
  _Atomic uint64_t by_route[TL_ROUTE_COUNT];
  _Atomic uint64_t rejected;         /* 503 because the queue was full */
  _Atomic uint64_t send_submits;     /* io_uring submissions of responses */
  _Atomic uint64_t send_writes;     /* connection writes in them */
  tl_hist latency_us;                /* request complete -> written */
  tl_hist route_latency_us[TL_ROUTE_COUNT];
  tl_hist queue_wait_us;             /* time tasks spent in the pool queue */
  tl_hist loop_lag_us;               /* timer drift of the loop */
  _Atomic uint64_t loop_idle_ns;     /* uv_metrics_idle_time */
  /* The longest recent CPU step that ran inline on the loop (async mode):
   * block_seq changes whenever a new one is recorded. */
  _Atomic uint64_t block_seq;
  _Atomic uint64_t block_task;
  _Atomic uint64_t block_us;
  _Atomic uint64_t block_route;
  _Atomic uint64_t mode;             /* tl_mode, for readers */
  _Atomic uint64_t threads;
  _Atomic uint64_t pinned;
} tl_server_counters;

/* A live change from the observer: mode, pool size, pinning. Posted from
 * any thread, applied on the workload loop, which then calls done() there. */
typedef struct tl_control {
  struct tl_control *next;
  int mode;      /* tl_mode, or -1 to keep */
  int threads;   /* pool size, or 0 to keep */
  int pin;       /* 0/1, or -1 to keep */
  int rc;        /* 0, or a negative errno, set before done() */
  void (*done)(struct tl_control *ctl);
  void *data;
} tl_control;

typedef struct tl_server {
  uv_loop_t *loop;
  tl_config cfg;
  uv_tcp_t listener;
  uv_prepare_t flush_prep;
  uv_timer_t sweep_timer;
  uv_timer_t lag_timer;
  uv_timer_t shutdown_timer;
  uv_signal_t sig_int, sig_term;
  uv_async_t ctl_async;
  pthread_mutex_t ctl_mu;  /* guards ctl_head and ctl_closed */
  tl_control *ctl_head;
  bool ctl_closed;
  uint64_t lag_expected_ns; /* uv_hrtime when the lag timer should fire */
  uint64_t start_ns;       /* monotonic time the server started */
  int port;                /* bound port (after listen) */
  int admin_port;          /* the observer's bound port, for the index page */
  tl_mode mode;            /* mode for new tasks (loop thread) */
  const struct tl_executor *exec;
  tl_pool *pool;
  tl_registry *registry;
  tl_thread_ctx loop_ctx;
  int docroot_fd;
  struct tl_conn *conns;   /* every open connection */
  struct tl_conn *dirty;   /* connections with responses to write */
  struct tl_hrtimer *hrt;  /* IO steps waiting on the loop */
  struct tl_sendq *sendq;  /* NULL: one write per connection */
  const char *sendq_why;   /* why sendq is NULL */
  struct tl_out_batch *out_batches; /* the writes in the next submission */
  unsigned out_batch_n;
  size_t nconns;
  uint64_t next_task_id;
  uint64_t tasks_inflight;
  bool draining;
  bool stopped;
  /* Called on the loop thread when the server has drained, before the pool
   * goes away: the owner stops whatever still reads the server (the
   * observer). */
  void (*before_stop)(void *arg);
  void *before_stop_arg;
  char read_buf[65536];    /* shared by all reads: consumed in read_cb */
  tl_server_counters stats;
} tl_server;

/* Sets up the loop handles, the pool and the listener (cfg->port 0 picks a
 * free port, see srv->port). Returns 0 or a negative errno/UV code with a
 * message on stderr. */
int tl_server_init(tl_server *srv, uv_loop_t *loop, const tl_config *cfg,
                   tl_registry *registry);
/* Loop thread: begin a graceful stop (what SIGINT/SIGTERM do). */
void tl_server_shutdown(tl_server *srv);
/* Loop thread: switch mode / resize / pin for tasks admitted from now on. */
int tl_server_set_mode(tl_server *srv, tl_mode mode);
int tl_server_set_threads(tl_server *srv, int n);
void tl_server_set_pin(tl_server *srv, bool pin);
/* Any thread: queue a control change. Returns -ESHUTDOWN once the server
 * is stopping (done() is then never called). */
int tl_server_post_control(tl_server *srv, tl_control *ctl);
/* After the loop has returned: release what is left. */
void tl_server_cleanup(tl_server *srv);

/* Single-writer counter bump for tl_server_counters. */
static inline void tl_count(_Atomic uint64_t *c, uint64_t n) {
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                        memory_order_relaxed);
}

#endif
