#include "config.h"

#include "core/switch_cost.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/util.h"
#include "exec/coro.h"
#include "exec/coro_switch.h"

enum { BATCHES = 9 };

typedef struct {
  _Atomic int turn; /* whose move: 0 or 1 */
  int rounds;       /* round trips per batch */
  int cpu;
  uint64_t ns[BATCHES];
} pingpong;

static void futex_wait(_Atomic int *addr, int val) {
  syscall(SYS_futex, (int *) addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}
static void futex_wake(_Atomic int *addr) {
  syscall(SYS_futex, (int *) addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Waits for `me`'s turn, then gives the turn to the other side. */
static void play(pingpong *pp, int me) {
  int v;
  while ((v = atomic_load(&pp->turn)) != me)
    futex_wait(&pp->turn, v);
  atomic_store(&pp->turn, 1 - me);
  futex_wake(&pp->turn);
}

static void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *side_b(void *arg) {
  pingpong *pp = arg;
  pin(pp->cpu);
  for (int i = 0; i < BATCHES * pp->rounds; i++)
    play(pp, 1);
  return NULL;
}

static void *side_a(void *arg) {
  pingpong *pp = arg;
  pin(pp->cpu);
  for (int b = 0; b < BATCHES; b++) {
    uint64_t t0 = tl_now_ns();
    for (int i = 0; i < pp->rounds; i++)
      play(pp, 0);
    pp->ns[b] = (tl_now_ns() - t0) / (2u * (uint64_t) pp->rounds);
  }
  return NULL;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
  return x < y ? -1 : x > y;
}

static uint64_t measure_here(int rounds) {
  pingpong pp = {.turn = 0,
                 .rounds = rounds / BATCHES > 0 ? rounds / BATCHES : 1};
  int cpu = sched_getcpu();
  pp.cpu = cpu >= 0 ? cpu : 0;
  pthread_t a, b;
  /* Own threads, so the caller's affinity stays as it was. */
  if (pthread_create(&b, NULL, side_b, &pp) != 0)
    return 0;
  if (pthread_create(&a, NULL, side_a, &pp) != 0) {
    atomic_store(&pp.turn, 1);
    pthread_cancel(b);
    pthread_join(b, NULL);
    return 0;
  }
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  qsort(pp.ns, BATCHES, sizeof(pp.ns[0]), cmp_u64);
  return pp.ns[BATCHES / 2];
}

uint64_t tl_switch_cost_kernel_ns(int rounds) {
  int fd[2];
  if (pipe(fd) != 0)
    return 0;
  pid_t pid = fork();
  if (pid < 0) {
    close(fd[0]);
    close(fd[1]);
    return 0;
  }
  if (pid == 0) {
    uint64_t ns = measure_here(rounds);
    ssize_t w = write(fd[1], &ns, sizeof(ns));
    _exit(w == (ssize_t) sizeof(ns) ? 0 : 1);
  }
  close(fd[1]);
  uint64_t ns = 0;
  if (read(fd[0], &ns, sizeof(ns)) != (ssize_t) sizeof(ns))
    ns = 0;
  close(fd[0]);
  waitpid(pid, NULL, 0);
  return ns;
}

void tl_switch_cost_measure(void) {
  tl_coro_costs c = {0};
  if (tl_switch_have_asm())
    c.asm_ns = tl_switch_measure_ns(TL_SWITCH_ASM, 100000);
  c.ucontext_ns = tl_switch_measure_ns(TL_SWITCH_UCONTEXT, 6000);
  c.kernel_ns = tl_switch_cost_kernel_ns(4500);
  tl_coro_set_costs(&c);
}
