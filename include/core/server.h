/* The process-wide server: the configuration (immutable), the process's
 * role, the worker pool, the loops, the thread registry and live control,
 * apart from the per-loop state (http/loop.h). Loops and their tasks never
 * see this struct: each reads the process through its tl_loop_ctx
 * (runtime/loop_ctx.h), which the server fills from here. The process runs
 * cfg.loops loops: loop 0 on the thread that calls tl_server_init and
 * uv_run (the main loop), the others on their own threads
 * (core/loop_threads.h), all listening on one port. A supervisor
 * (role TL_PROC_SUPERVISOR) has no loop and no pool. */
#ifndef TL_CORE_SERVER_H
#define TL_CORE_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "base/mode.h"
#include "base/thread.h"
#include "http/loop.h"
#include "runtime/config.h"
#include "runtime/loop_ctx.h"
#include "runtime/pool.h"

/* A live change from the observer: mode, pool size, pinning. Posted from
 * any thread, applied on the main loop's thread, which then calls done()
 * there. */
typedef struct tl_control {
  struct tl_control *next;
  int mode;            /* tl_mode, or -1 to keep */
  int threads;         /* pool size, or 0 to keep */
  int pin;             /* 0/1, or -1 to keep */
  int cpus_op;         /* workers' CPUs: -1 keep, 0 all inherited, 1 `cpus` */
  bool set_coro_slice; /* false: keep (so a zeroed control changes nothing) */
  int coro_slice_ms;   /* with set_coro_slice: 0..10000 */
  cpu_set_t cpus;
  int rc; /* 0, or a negative errno, set before done() */
  void (*done)(struct tl_control *ctl);
  void *data;
} tl_control;

typedef struct tl_server {
  /* Immutable after tl_server_init. */
  tl_config cfg;     /* the parsed command line */
  tl_proc_role role; /* single process, supervisor or worker */
  uv_loop_t *uv;     /* the main loop: control, signals, the pool */
  tl_registry *registry;
  int docroot_fd;
  tl_loop_setup loop_setup; /* what every loop is given (tl_loop_init) */
  uint64_t start_ns;        /* monotonic time the server started */
  int costs_fd, costs_pid;  /* the costs probe (core/costs.h); the observer
                              reads and closes costs_fd */
  int nloops;
  tl_loop *loops;  /* nloops; each one's insides belong to its thread */
  int listen_port; /* the port every loop binds (loop 0's) */
  bool reuseport;  /* loops / processes share the port */
  /* Set by tl_server_init before any other thread exists, cleared on the
   * main loop only after before_stop (the observer has stopped) and after
   * every loop drained: immutable for every other reader (the loops, the
   * observer). Its insides are the pool's (its mutex and atomics); only
   * the main loop resizes, pins or closes it. NULL in a supervisor. */
  tl_pool *pool;
  /* Atomic: the main thread sets it once the observer listens (loops 1..
   * already run); the loops' index page reads it. */
  _Atomic int admin_port; /* the observer's bound port */

  /* Set by the composition root (app/) before uv_run and before the
   * observer starts; immutable afterwards.
   * A supervisor (--processes N) has no loop and no pool: a control goes
   * to its workers through this, on its main loop. It returns how many
   * live workers it could not reach (0: every one has it). */
  int (*forward_control)(struct tl_server *srv, const tl_control *ctl);
  void *forward_arg;
  struct tl_proc_table *procs; /* supervisor: its workers (the table's
                                  own mutex); else NULL */
  /* Called on the main loop's thread when every loop has drained, before
   * the pool goes away: the owner stops whatever still reads the server
   * (the observer). */
  void (*before_stop)(void *arg);
  void *before_stop_arg;

  /* Main loop thread only. */
  struct tl_loop_threads *lthreads;
  uv_async_t loops_async; /* another loop finished */
  bool stopped;
  uv_timer_t shutdown_timer;
  uv_signal_t sig_int, sig_term;
  uv_async_t ctl_async;
  bool draining;

  pthread_mutex_t ctl_mu; /* guards ctl_head, ctl_closed, sup_cpus* */
  tl_control *ctl_head;
  bool ctl_closed;
  /* Supervisor: the workers' CPUs as last sent to them (from --cpus, then
   * /control); sup_cpus_op as tl_control's cpus_op, -1: never set. */
  int sup_cpus_op;
  cpu_set_t sup_cpus;

  /* Written on the main loop's thread (control), read by every loop at
   * dispatch and by the observer. */
  _Atomic int mode;    /* tl_mode for tasks admitted from now on */
  _Atomic int threads; /* pool size */
  _Atomic bool pinned;
  /* Loops 1.. that have drained and closed: each adds one on its thread. */
  _Atomic int loops_finished;
} tl_server;

/* Sets up the pool, the loops and their listeners (cfg->port 0 picks a
 * free port, see srv->loops[0].port). Returns 0 or a negative errno/UV
 * code with a message on stderr. */
int tl_server_init(tl_server *srv, uv_loop_t *uv, const tl_config *cfg,
                   tl_registry *registry);
/* The supervisor's server: configuration, control and the registry only
 * (no loop, no pool, no listener). */
void tl_server_init_supervisor(tl_server *srv, uv_loop_t *uv,
                               const tl_config *cfg, tl_registry *registry);
/* Main loop thread (supervisor): answer what is posted, then refuse. */
void tl_server_close_control(tl_server *srv);
/* Main loop thread: begin a graceful stop (what SIGINT/SIGTERM do). */
void tl_server_shutdown(tl_server *srv);
/* Main loop: a spare worker (cfg.worker_spare, listeners bound only)
 * starts accepting on every loop; 0 or loop 0's negative UV code. */
int tl_server_listen(tl_server *srv);
/* Main loop thread: switch mode / resize / pin for tasks admitted from
 * now on. */
int tl_server_set_mode(tl_server *srv, tl_mode mode);
int tl_server_set_threads(tl_server *srv, int n);
void tl_server_set_pin(tl_server *srv, bool pin);
/* Any thread: the CPUs workers may run on and the mask the process
 * inherited (a supervisor: its command line's). */
void tl_server_worker_cpus(tl_server *srv, cpu_set_t *cpus,
                           cpu_set_t *inherited);
/* Any thread: tasks waiting in the pool's queue (0 in a supervisor). */
size_t tl_server_queue_depth(const tl_server *srv);
/* Any thread: queue a control change. Returns -ESHUTDOWN once the server
 * is stopping (done() is then never called). */
int tl_server_post_control(tl_server *srv, tl_control *ctl);
/* After the loop has returned: release what is left. */
void tl_server_close(tl_server *srv);

/* Any thread: the mode new tasks are admitted under. */
static inline tl_mode tl_server_mode(tl_server *srv) {
  return (tl_mode) atomic_load_explicit(&srv->mode, memory_order_relaxed);
}

#endif
