/* The lab's child server (SPEC "Lab 2"): a variant whose setup cannot be
 * applied to the running server (--processes, --allow-crash,
 * --allow-deadlock) runs in a second threadlab the lab starts itself —
 * the same binary (/proc/self/exe) on free loopback ports (port 0, read
 * from its banner), with the variant's flags — observed through its own
 * /stats (lab_child_http) and stopped by pid: SIGTERM, then SIGKILL after
 * TL_LAB_CHILD_KILL_MS. The child also arms PR_SET_PDEATHSIG itself
 * (core/lab_child_guard, from TL_LAB_PARENT_PID in its environment), so it
 * dies with the observer thread that started it. Observer thread only. */
#ifndef TL_OBSERVER_LAB_CHILD_H
#define TL_OBSERVER_LAB_CHILD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define TL_LAB_CHILD_START_MS 15000 /* no banner by then: killed */
#define TL_LAB_CHILD_KILL_MS  3000  /* SIGTERM not obeyed by then: SIGKILL */

struct tl_lab;

typedef struct tl_lab_child {
  struct tl_lab *lab;
  uv_process_t proc;
  uv_pipe_t out;    /* its stdout: the banner */
  uv_timer_t timer; /* the start's deadline, then the stop's bound */
  char line[512];   /* the banner line being read */
  size_t linelen;
  int pid, port, admin_port;
  bool active;   /* spawned and not every handle closed */
  bool ready;    /* both ports read */
  bool exited;   /* reaped (its exit status below) */
  bool stopping; /* the lab asked it to stop */
  bool killed;   /* the stop's bound passed: SIGKILL sent */
  int64_t exit_status;
  int term_signal;
  int handles_open;
  /* Called once the ports are known (ready) and once every handle has
   * closed (gone); set by lab_run. */
  void (*on_ready)(struct tl_lab *lab);
  void (*on_gone)(struct tl_lab *lab);
} tl_lab_child;

/* Starts a child server with the flags of setup ({"mode","threads",
 * "processes","allow_crash","allow_deadlock","pin","coro_slice_ms"}),
 * --sample-ms sample_ms. 0 or a UV error (nothing left open then). */
int tl_lab_child_start(tl_lab_child *ch, struct tl_lab *lab, uv_loop_t *uv,
                       json_t *setup, int sample_ms);
/* Stops it: SIGTERM now, SIGKILL after TL_LAB_CHILD_KILL_MS; on_gone
 * follows once it is reaped and its handles are closed. */
void tl_lab_child_stop(tl_lab_child *ch);
/* The parent stops: SIGKILL at once, handles closed, no callback. */
void tl_lab_child_kill_now(tl_lab_child *ch);
/* {"pid","port","admin_port","state","exit"} (state: starting, running,
 * stopping, exited). */
json_t *tl_lab_child_json(const tl_lab_child *ch);
/* "signal 11 (SIGSEGV)", "exit code 0", or "" while it runs. */
void tl_lab_child_exit_text(const tl_lab_child *ch, char *out, size_t cap);
/* The port after "NAME: http://HOST:" in a banner line, or 0 (pure). */
int tl_lab_child_banner_port(const char *line, const char *name);
/* Its command line as the kernel holds it (/proc/PID/cmdline): whether it
 * has `flag`. -1 when it cannot be read. */
int tl_lab_child_has_flag(int pid, const char *flag);

#endif
