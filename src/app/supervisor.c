#include "config.h"

#include "app/supervisor.h"

#include "base/util.h"
#include "core/costs.h"
#include "core/libuv_threads.h"
#include "exec/shared_cow.h"
#include "core/proc_table.h"
#include "core/scoreboard.h"
#include "core/server.h"
#include "core/worker_link.h"
#include "observer/observer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define BACKOFF_FIRST_MS 100 /* after two deaths in a row within 1 s */
#define BACKOFF_MAX_MS   5000
#define YOUNG_NS         1000000000ull /* died within 1 s of its start */
/* After a promotion the next spare starts this much later, so that its
 * start-up (exec, the switch-cost probe) does not take the CPU from the
 * promoted worker's first requests. */
#define SPARE_DELAY_MS   100

typedef struct sup {
  tl_config cfg;
  int argc;
  char **argv;
  char exe[4096]; /* this binary, for the workers' execv */
  uv_loop_t uv;
  tl_server srv; /* control and the observer's view */
  tl_registry registry;
  tl_observer *obs;
  tl_proc_table table;
  tl_scoreboard *board;
  int board_fd;
  int port_fd; /* holds the port (bound, never listening) */
  int port;
  int chan[TL_SCORE_SLOTS]; /* our end of each worker's socketpair */
  uint64_t backoff_ms[TL_SCORE_SLOTS];
  uv_timer_t restart[TL_SCORE_SLOTS];
  uv_signal_t sig_chld, sig_int, sig_term;
  uv_timer_t kill_timer;
  uv_timer_t stuck_timer;           /* looks for deadlocked workers */
  int stuck_killed[TL_SCORE_SLOTS]; /* the pid killed for it, per slot */
  bool loop_ready;                  /* handles exist */
  bool stopping;
  int live;
} sup;

static sup S;

/* Workers and spares: the entries of the table in use. */
static int nproc(const sup *s) {
  return s->cfg.processes + s->cfg.spare_workers;
}

/* Reserve the port for every worker: bound with SO_REUSEPORT, never
 * listening, so that the kernel gives it no connection. */
static int reserve_port(sup *s) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof(ss));
  socklen_t len;
  int fam = strchr(s->cfg.host, ':') ? AF_INET6 : AF_INET;
  if (fam == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *) &ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t) s->cfg.port);
    if (inet_pton(AF_INET6, s->cfg.host, &a->sin6_addr) != 1)
      return -EINVAL;
    len = sizeof(*a);
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *) &ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t) s->cfg.port);
    if (inet_pton(AF_INET, s->cfg.host, &a->sin_addr) != 1)
      return -EINVAL;
    len = sizeof(*a);
  }
  int fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0)
    return -errno;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
      bind(fd, (struct sockaddr *) &ss, len) != 0 ||
      getsockname(fd, (struct sockaddr *) &ss, &len) != 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  s->port_fd = fd;
  s->port = ntohs(fam == AF_INET6 ? ((struct sockaddr_in6 *) &ss)->sin6_port
                                  : ((struct sockaddr_in *) &ss)->sin_port);
  return 0;
}

/* Starts worker i: fork, then in the child only async-signal-safe calls
 * (the supervisor may already run threads) up to execve of this binary. */
static int spawn(sup *s, int i) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return -errno;
  char port[16], of[48];
  snprintf(port, sizeof(port), "%d", s->port);
  bool spare = i >= s->cfg.processes;
  int si = s->table.e[i].slot;
  snprintf(of, sizeof(of), "%d,%d,%d%s", si, s->board_fd, sv[1],
           spare ? ",1" : "");
  char **av = tl_xcalloc((size_t) s->argc + 8, sizeof(char *));
  int n = 0;
  for (int k = 0; k < s->argc; k++)
    av[n++] = s->argv[k];
  av[n++] = (char *) "--port";
  av[n++] = port;
  av[n++] = (char *) "--worker-of";
  av[n++] = of;
  av[n++] = (char *) "--quiet";
  av[n] = NULL;
  tl_score_slot *slot = &s->board->slot[si];
  /* The slot has no owner now: clear it for the next one. */
  atomic_store(&slot->state, TL_SLOT_STARTING);
  atomic_store(&slot->ready_ns, 0);
  atomic_store(&slot->accepted, 0);
  atomic_store(&slot->requests, 0);
  atomic_store(&slot->open, 0);
  atomic_store(&slot->inflight, 0);
  atomic_store(&slot->stuck_ns, 0);
  pid_t parent = getpid();
  uint64_t t0 = tl_now_ns();
  pid_t pid = fork();
  if (pid == 0) {
    /* Die with the supervisor; it may already be gone. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
      _exit(1);
    fcntl(s->board_fd, F_SETFD, 0);
    fcntl(sv[1], F_SETFD, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execv(s->exe, av);
    _exit(127);
  }
  int err = errno;
  free(av);
  close(sv[1]);
  if (pid < 0) {
    close(sv[0]);
    return -err;
  }
  atomic_store(&slot->pid, (int) pid);
  s->chan[i] = sv[0];
  pthread_mutex_lock(&s->table.mu);
  tl_proc_entry *e = &s->table.e[i];
  e->index = i;
  e->pid = pid;
  e->state = TL_SLOT_STARTING;
  e->started_ns = t0;
  e->ready_ns = 0;
  pthread_mutex_unlock(&s->table.mu);
  s->live++;
  if (s->loop_ready) {
    /* A replacement runs the settings of now, not of the command line. */
    tl_ctl_msg m = {atomic_load(&s->srv.mode),
                    atomic_load(&s->srv.threads),
                    atomic_load(&s->srv.pinned),
                    -1,
                    {{0}},
                    0};
    pthread_mutex_lock(&s->srv.ctl_mu);
    m.cpus_op = s->srv.sup_cpus_op;
    m.cpus = s->srv.sup_cpus;
    pthread_mutex_unlock(&s->srv.ctl_mu);
    send(sv[0], &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  return 0;
}

static int forward_control(tl_server *srv, const tl_control *ctl) {
  sup *s = srv->forward_arg;
  tl_ctl_msg m = {ctl->mode,    ctl->threads, ctl->pin,
                  ctl->cpus_op, ctl->cpus,    0};
  int missed = 0;
  for (int i = 0; i < nproc(s); i++)
    if (s->chan[i] >= 0 &&
        send(s->chan[i], &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL) !=
            (ssize_t) sizeof(m))
      missed++;
  return missed;
}

static void finish(sup *s) {
  if (s->obs) {
    tl_observer_stop(s->obs);
    s->obs = NULL;
  }
  tl_server_close_control(&s->srv);
  uv_close((uv_handle_t *) &s->sig_chld, NULL);
  uv_close((uv_handle_t *) &s->sig_int, NULL);
  uv_close((uv_handle_t *) &s->sig_term, NULL);
  uv_close((uv_handle_t *) &s->kill_timer, NULL);
  uv_close((uv_handle_t *) &s->stuck_timer, NULL);
  for (int i = 0; i < nproc(s); i++)
    uv_close((uv_handle_t *) &s->restart[i], NULL);
}

static void on_restart(uv_timer_t *h) {
  sup *s = h->data;
  int i = (int) (h - s->restart);
  if (s->stopping)
    return;
  int rc = spawn(s, i);
  pthread_mutex_lock(&s->table.mu);
  s->table.e[i].restarts++;
  pthread_mutex_unlock(&s->table.mu);
  if (rc != 0) {
    fprintf(stderr, "threadlab: cannot start worker process %d: %s\n", i,
            strerror(-rc));
    uv_timer_start(h, on_restart, BACKOFF_MAX_MS, 0);
  }
}

static void describe(int status, char *how, size_t cap) {
  if (WIFSIGNALED(status))
    snprintf(how, cap, "signal %d (SIG%s)", WTERMSIG(status),
             sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status))
                                            : "?");
  else
    snprintf(how, cap, "exit code %d", WEXITSTATUS(status));
}

/* Worker i just died (its entry and slot are cleared): a spare that is
 * up takes its place at once: entry i gets the spare's process, slot and
 * channel, and the message that makes it listen; the spare's entry gets
 * the dead slot and a new spare, started in the background after
 * `backoff` ms (at least SPARE_DELAY_MS). False: no spare is up. */
static bool promote_spare(sup *s, int i, uint64_t backoff) {
  int k = s->cfg.processes;
  for (; k < nproc(s); k++)
    if (s->table.e[k].pid > 0 && s->chan[k] >= 0 &&
        atomic_load(&s->board->slot[s->table.e[k].slot].state) == TL_SLOT_SPARE)
      break;
  if (k == nproc(s))
    return false;
  tl_ctl_msg m;
  memset(&m, 0, sizeof(m));
  m.mode = -1;
  m.pin = -1;
  m.cpus_op = -1;
  m.promote = 1;
  if (send(s->chan[k], &m, sizeof(m), MSG_DONTWAIT | MSG_NOSIGNAL) !=
      (ssize_t) sizeof(m))
    return false; /* it is dying: its SIGCHLD follows */
  pthread_mutex_lock(&s->table.mu);
  tl_proc_entry *w = &s->table.e[i], *sp = &s->table.e[k];
  int dead_slot = w->slot;
  w->pid = sp->pid;
  w->slot = sp->slot;
  w->started_ns = sp->started_ns;
  w->state = TL_SLOT_READY;
  w->ready_ns = 0;
  w->restarts++;
  w->last_exit.by_spare = true;
  sp->pid = 0;
  sp->slot = dead_slot;
  sp->state = TL_SLOT_EMPTY;
  pthread_mutex_unlock(&s->table.mu);
  s->chan[i] = s->chan[k];
  s->chan[k] = -1;
  uv_timer_start(&s->restart[k], on_restart,
                 backoff > SPARE_DELAY_MS ? backoff : SPARE_DELAY_MS, 0);
  return true;
}

/* A worker is gone: log it the way nginx does, record the death, fold its
 * totals into history, and restart it unless we are stopping. */
static void reaped(sup *s, pid_t pid, int status) {
  int i = -1;
  for (int k = 0; k < nproc(s); k++)
    if (s->table.e[k].pid == pid)
      i = k;
  if (i < 0)
    return;
  uint64_t now = tl_now_ns();
  tl_score_slot *slot = &s->board->slot[s->table.e[i].slot];
  if (WIFSIGNALED(status))
    fprintf(stderr, "threadlab: worker process %d exited on signal %d\n",
            (int) pid, WTERMSIG(status));
  else if (!s->stopping || WEXITSTATUS(status) != 0)
    fprintf(stderr, "threadlab: worker process %d exited with code %d\n",
            (int) pid, WEXITSTATUS(status));
  pthread_mutex_lock(&s->table.mu);
  tl_proc_entry *e = &s->table.e[i];
  e->has_exit = true;
  e->last_exit.pid = pid;
  describe(status, e->last_exit.how, sizeof(e->last_exit.how));
  if (s->stuck_killed[i] == (int) pid)
    snprintf(e->last_exit.how, sizeof(e->last_exit.how), "deadlocked: SIGKILL");
  e->last_exit.at_ns = now;
  e->last_exit.conns_lost = atomic_load(&slot->open);
  e->last_exit.tasks_lost = atomic_load(&slot->inflight);
  e->last_exit.by_spare = false;
  s->table.hist_accepted += atomic_load(&slot->accepted);
  s->table.hist_requests += atomic_load(&slot->requests);
  s->table.deaths++;
  atomic_store(&slot->accepted, 0);
  atomic_store(&slot->requests, 0);
  atomic_store(&slot->open, 0);
  atomic_store(&slot->inflight, 0);
  atomic_store(&slot->state, TL_SLOT_EMPTY);
  atomic_store(&slot->pid, 0);
  uint64_t lived = now - e->started_ns;
  e->pid = 0;
  e->state = TL_SLOT_EMPTY;
  pthread_mutex_unlock(&s->table.mu);
  close(s->chan[i]);
  s->chan[i] = -1;
  s->live--;
  if (s->stopping) {
    if (s->live == 0)
      finish(s);
    return;
  }
  /* A worker is replaced at once; one whose predecessor also died young
   * waits longer each time (100 ms, doubling to 5 s), so that a worker
   * that cannot start does not make the supervisor spin. */
  uint64_t delay = lived >= YOUNG_NS ? 0 : s->backoff_ms[i];
  if (lived >= YOUNG_NS)
    s->backoff_ms[i] = BACKOFF_FIRST_MS;
  else if (s->backoff_ms[i] == 0)
    s->backoff_ms[i] = BACKOFF_FIRST_MS;
  else if (s->backoff_ms[i] < BACKOFF_MAX_MS)
    s->backoff_ms[i] *= 2;
  if (s->backoff_ms[i] > BACKOFF_MAX_MS)
    s->backoff_ms[i] = BACKOFF_MAX_MS;
  if (i < s->cfg.processes && promote_spare(s, i, delay))
    return;
  uv_timer_start(&s->restart[i], on_restart, delay, 0);
}

/* A worker whose threads are deadlocked says so in its slot (stuck_ns,
 * exec/shared_steps): it cannot recover by itself, so it is killed and
 * replaced like a crashed one (reaped() restarts it). */
static void on_stuck_check(uv_timer_t *h) {
  sup *s = h->data;
  for (int i = 0; i < s->cfg.processes && !s->stopping; i++) {
    int pid = s->table.e[i].pid;
    uint64_t since = atomic_load(&s->board->slot[s->table.e[i].slot].stuck_ns);
    if (pid <= 0 || since == 0 || s->stuck_killed[i] == pid)
      continue;
    fprintf(stderr,
            "threadlab: worker process %d: its threads are "
            "deadlocked (found %.0f ms ago): SIGKILL, to be replaced\n",
            pid, (double) (tl_now_ns() - since) / 1e6);
    s->stuck_killed[i] = pid;
    kill(pid, SIGKILL);
  }
}

static void on_sigchld(uv_signal_t *h, int signum) {
  sup *s = h->data;
  (void) signum;
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
    reaped(s, pid, status);
}

static void on_kill_timer(uv_timer_t *h) {
  sup *s = h->data;
  for (int i = 0; i < nproc(s); i++)
    if (s->table.e[i].pid > 0) {
      fprintf(stderr, "threadlab: worker process %d did not drain: SIGKILL\n",
              s->table.e[i].pid);
      kill(s->table.e[i].pid, SIGKILL);
    }
}

static void on_stop_signal(uv_signal_t *h, int signum) {
  sup *s = h->data;
  (void) signum;
  if (s->stopping)
    return;
  s->stopping = true;
  for (int i = 0; i < nproc(s); i++) {
    uv_timer_stop(&s->restart[i]);
    if (s->table.e[i].pid > 0)
      kill(s->table.e[i].pid, SIGTERM);
  }
  if (s->live == 0) {
    finish(s);
    return;
  }
  uv_timer_start(&s->kill_timer, on_kill_timer,
                 (uint64_t) s->cfg.shutdown_timeout_ms + 2000, 0);
}

/* Before any thread exists: every worker up and listening and every
 * spare up, or none. */
static int wait_ready(sup *s) {
  uint64_t deadline = tl_now_ns() + 10000000000ull;
  for (;;) {
    int ready = 0;
    for (int i = 0; i < nproc(s); i++)
      ready += atomic_load(&s->board->slot[i].state) ==
               (i < s->cfg.processes ? TL_SLOT_READY : TL_SLOT_SPARE);
    if (ready == nproc(s))
      return 0;
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0 || tl_now_ns() > deadline) {
      fprintf(stderr, "threadlab: a worker process %s before it served\n",
              pid > 0 ? "exited" : "took more than 10 s");
      return -1;
    }
    usleep(2000);
  }
}

static void kill_all_now(sup *s) {
  for (int i = 0; i < nproc(s); i++)
    if (s->table.e[i].pid > 0)
      kill(s->table.e[i].pid, SIGKILL);
  while (waitpid(-1, NULL, 0) > 0)
    ;
}

int tl_supervisor_main(const tl_config *cfg, int argc, char **argv) {
  sup *s = &S;
  s->cfg = *cfg;
  s->argc = argc;
  s->argv = argv;
  s->port_fd = s->board_fd = -1;
  /* The path, not /proc/self/exe: a worker's name is then "threadlab". */
  ssize_t len = readlink("/proc/self/exe", s->exe, sizeof(s->exe) - 1);
  if (len <= 0)
    snprintf(s->exe, sizeof(s->exe), "/proc/self/exe");
  else
    s->exe[len] = '\0';
  for (int i = 0; i < TL_SCORE_SLOTS; i++)
    s->chan[i] = -1;
  pthread_mutex_init(&s->table.mu, NULL);
  s->table.supervisor_pid = (int) getpid();
  s->table.n = cfg->processes;
  s->table.nspare = cfg->spare_workers;
  for (int i = 0; i < TL_SCORE_SLOTS; i++)
    s->table.e[i].slot = i;
  int rc = reserve_port(s);
  if (rc != 0) {
    fprintf(stderr, "threadlab: cannot bind %s:%d: %s\n", cfg->host, cfg->port,
            strerror(-rc));
    return 1;
  }
  rc = tl_scoreboard_init(&s->board, &s->board_fd);
  if (rc != 0) {
    fprintf(stderr, "threadlab: scoreboard: %s\n", strerror(-rc));
    return 1;
  }
  s->table.board = s->board;
  /* Fork before any thread exists (none does yet). */
  for (int i = 0; i < nproc(s) && rc == 0; i++)
    rc = spawn(s, i);
  if (rc != 0 || wait_ready(s) != 0) {
    if (rc != 0)
      fprintf(stderr, "threadlab: cannot start worker processes: %s\n",
              strerror(-rc));
    kill_all_now(s);
    return 1;
  }

  uv_loop_init(&s->uv);
  tl_registry_init(&s->registry);
  tl_server_init_supervisor(&s->srv, &s->uv, cfg, &s->registry);
  s->srv.procs = &s->table;
  /* Still one thread: the costs and copy-on-write probes may fork now. */
  if (cfg->admin_port >= 0) {
    tl_shared_cow_probe();
    s->srv.costs_fd = tl_costs_start(&s->srv.costs_pid);
  }
  s->srv.forward_control = forward_control;
  s->srv.forward_arg = s;
  uv_signal_init(&s->uv, &s->sig_chld);
  uv_signal_init(&s->uv, &s->sig_int);
  uv_signal_init(&s->uv, &s->sig_term);
  uv_timer_init(&s->uv, &s->kill_timer);
  uv_timer_init(&s->uv, &s->stuck_timer);
  s->stuck_timer.data = s;
  uv_timer_start(&s->stuck_timer, on_stuck_check, 100, 100);
  s->sig_chld.data = s->sig_int.data = s->sig_term.data = s;
  s->kill_timer.data = s;
  for (int i = 0; i < nproc(s); i++) {
    uv_timer_init(&s->uv, &s->restart[i]);
    s->restart[i].data = s;
  }
  uv_signal_start(&s->sig_chld, on_sigchld, SIGCHLD);
  uv_signal_start(&s->sig_int, on_stop_signal, SIGINT);
  uv_signal_start(&s->sig_term, on_stop_signal, SIGTERM);
  s->loop_ready = true;
  on_sigchld(&s->sig_chld, SIGCHLD); /* a death before the handler */
  if (cfg->admin_port >= 0) {
    /* The observer reads the dashboard's files on libuv's pool: its
     * threads, named and registered, are then not taken for more
     * observers (a thread inherits its creator's name). */
    tl_libuv_threads_register(&s->uv, &s->registry);
    if (tl_observer_start(&s->obs, &s->srv, &s->registry) != 0) {
      kill_all_now(s);
      return 1;
    }
    s->srv.admin_port = tl_observer_port(s->obs);
  }
  if (!cfg->quiet) {
    printf("threadlab %s: supervisor pid %d, %d worker processes "
           "and %d spare (mode %s, %d worker thread%s, %d loop%s each)\n",
           PACKAGE_VERSION, (int) getpid(), cfg->processes, cfg->spare_workers,
           tl_mode_name(cfg->mode), cfg->threads, cfg->threads == 1 ? "" : "s",
           cfg->loops, cfg->loops == 1 ? "" : "s");
    char uh[sizeof(cfg->host) + 2];
    tl_url_host(cfg->host, uh, sizeof(uh));
    printf("  workload:  http://%s:%d/ (%d processes, SO_REUSEPORT)\n", uh,
           s->port, cfg->processes);
    if (s->obs)
      printf("  dashboard: http://%s:%d/\n", uh, s->srv.admin_port);
    fflush(stdout);
  }
  uv_run(&s->uv, UV_RUN_DEFAULT);
  tl_server_close(&s->srv);
  uv_run(&s->uv, UV_RUN_DEFAULT);
  if (uv_loop_close(&s->uv) != 0)
    fprintf(stderr, "threadlab: loop closed with handles still open\n");
  tl_registry_close(&s->registry);
  munmap(s->board, sizeof(*s->board));
  close(s->board_fd);
  close(s->port_fd);
  return 0;
}
