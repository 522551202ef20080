/* threadlab: parse the command line, start the workload server on this
 * thread and the observer on its own thread, run until SIGINT/SIGTERM. */
#include "config.h"

#include "base/heap.h"
#include "base/util.h"
#include "core/options.h"
#include "observer/observer.h"
#include "observer/sampler.h"
#include "core/switch_cost.h"
#include "core/costs.h"
#include "exec/shared_cow.h"
#include "core/lab_child_guard.h"
#include "core/scoreboard.h"
#include "core/server.h"
#include "app/supervisor.h"
#include "core/worker_link.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

/* The soft descriptor limit before and after raise_fd_limit. */
static rlim_t fd_limit_was, fd_limit_now;

static void raise_fd_limit(void) {
  /* Thousands of connections need thousands of descriptors: the soft
   * limit goes up to the hard one, as nginx's worker_rlimit_nofile does. */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return;
  fd_limit_was = fd_limit_now = rl.rlim_cur;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
      fd_limit_now = rl.rlim_cur;
  }
}

/* A banner line when the limit is still below what --max-conns and the
 * threads could use: connections beyond it are refused (EMFILE). */
static void say_fd_limit(const tl_config *cfg) {
  uint64_t want = (uint64_t) cfg->max_conns + (uint64_t) cfg->threads + 64;
  if (fd_limit_now == 0 || fd_limit_now == RLIM_INFINITY ||
      fd_limit_now >= want)
    return;
  printf("  files:     descriptor limit %llu (the hard limit",
         (unsigned long long) fd_limit_now);
  if (fd_limit_was < fd_limit_now)
    printf("; raised from %llu", (unsigned long long) fd_limit_was);
  printf("), below the %llu that --max-conns %d and %d threads could use;"
         " statistics keep at most %d of them open\n",
         (unsigned long long) want, cfg->max_conns, cfg->threads,
         tl_sampler_fd_budget());
}

static tl_observer *obs;
static tl_worker_link *wlink;

/* The observer reads the server's pool and counters: it stops first. */
static void stop_observer(void *arg) {
  (void) arg;
  if (obs) {
    tl_observer_stop(obs);
    obs = NULL;
  }
  tl_worker_link_stop(wlink);
  wlink = NULL;
}

/* A start that failed (message already printed): let the loop finish the
 * closes the failed start made, release everything, exit 1. */
static int exit_failed(uv_loop_t *loop, tl_registry *registry) {
  uv_run(loop, UV_RUN_DEFAULT);
  (void) uv_loop_close(loop);
  tl_registry_close(registry);
  return 1;
}

int main(int argc, char **argv) {
  tl_thread_note_main_start(); /* the main thread's first run, as near as we get */
  tl_lab_child_guard_arm();    /* started by a lab: dies with it */
  static tl_config cfg;
  static tl_server srv;
  static tl_registry registry;
  tl_options_defaults(&cfg);
  int rc = tl_options_parse(&cfg, argc, argv, stdout, stderr);
  if (rc > 0)
    return 0;
  if (rc < 0)
    return 2;

  signal(SIGPIPE, SIG_IGN);
  tl_heap_tune(); /* a refusal leaves glibc's default: slower, not wrong */
  raise_fd_limit();
  /* --processes N: this process supervises; its workers run the rest. */
  tl_proc_role role = tl_config_role(&cfg);
  if (role == TL_PROC_SUPERVISOR)
    return tl_supervisor_main(&cfg, argc, argv);
  /* Before any thread exists: the kernel figure is measured in a child
   * process, which is only safe to fork while we are single-threaded. */
  tl_switch_cost_measure();
  tl_scoreboard *board = NULL;
  if (role == TL_PROC_WORKER) {
    if (tl_scoreboard_attach(&board, cfg.worker_shm_fd) != 0) {
      fprintf(stderr, "threadlab: worker: no scoreboard\n");
      return 1;
    }
    atomic_store(&board->slot[cfg.worker_index].pid, (int) getpid());
    cfg.admin_port = -1; /* the supervisor observes */
  }
  /* The costs probe forks while this process still has one thread; so
   * does the copy-on-write probe, for the process that shows it. */
  if (cfg.admin_port >= 0)
    tl_shared_cow_probe();
  int costs_pid = 0;
  int costs_fd = cfg.admin_port >= 0 ? tl_costs_start(&costs_pid) : -1;
  uv_loop_t loop;
  uv_loop_init(&loop);
  uv_loop_configure(&loop, UV_METRICS_IDLE_TIME);
  tl_registry_init(&registry);

  if (tl_server_init(&srv, &loop, &cfg, &registry) != 0)
    return exit_failed(&loop, &registry);
  if (board) {
    tl_worker_link_start(&wlink, &srv, &board->slot[cfg.worker_index],
                         cfg.worker_chan_fd);
    srv.before_stop = stop_observer;
  }
  srv.costs_fd = costs_fd;
  srv.costs_pid = costs_pid;
  if (cfg.admin_port >= 0) {
    if (tl_observer_start(&obs, &srv, &registry) != 0) {
      /* Stop the server the way SIGTERM does: nothing is in flight yet. */
      tl_server_shutdown(&srv);
      uv_run(&loop, UV_RUN_DEFAULT);
      tl_server_close(&srv);
      return exit_failed(&loop, &registry);
    }
    srv.admin_port = tl_observer_port(obs);
    srv.before_stop = stop_observer;
  }
  if (!cfg.quiet) {
    /* In async mode the loop runs every step: the pool exists (a live
     * switch to pool or hybrid uses it) but runs nothing. */
    printf("threadlab %s: pid %d, mode %s, %s%d worker thread%s%s%s\n",
           PACKAGE_VERSION, (int) getpid(), tl_mode_name(cfg.mode),
           cfg.mode == TL_MODE_ASYNC ? "the loop runs every step; pool of "
                                     : "",
           cfg.threads, cfg.threads == 1 ? "" : "s", cfg.pin ? ", pinned" : "",
           cfg.mode == TL_MODE_ASYNC ? " idle until a switch to pool or hybrid"
                                     : "");
    char uh[sizeof(cfg.host) + 2];
    tl_url_host(cfg.host, uh, sizeof(uh));
    printf("  workload:  http://%s:%d/", uh, srv.loops[0].port);
    if (srv.nloops > 1)
      printf(" (%d loops, SO_REUSEPORT)", srv.nloops);
    printf("\n");
    if (srv.loops[0].send_uring)
      printf(
          "  sends:     batched, one io_uring submission per loop iteration\n");
    else
      printf("  sends:     one write per connection (%s)\n",
             srv.loops[0].send_why);
    if (obs)
      printf("  dashboard: http://%s:%d/\n", uh, srv.admin_port);
    say_fd_limit(&cfg);
    fflush(stdout);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  stop_observer(NULL);
  tl_server_close(&srv);
  uv_run(&loop, UV_RUN_DEFAULT);
  rc = uv_loop_close(&loop);
  if (rc != 0)
    fprintf(stderr, "threadlab: loop closed with handles still open\n");
  tl_registry_close(&registry);
  return 0;
}
