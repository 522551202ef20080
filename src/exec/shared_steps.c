/* The shared-memory steps and their process-wide state (owner: this file;
 * see exec/shared_steps.h for who writes what). */
#include "config.h"

#include "exec/shared_steps.h"

#include "base/thread.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Increments are counted ahead of doing them, a chunk at a time, so that
 * `lost` (increments - counter) is never negative while steps run and is
 * exact once they have ended. */
#define CHUNK 4096u

typedef struct shared_lock {
  pthread_mutex_t mu;
  _Atomic int holder_tid;
  _Atomic int waiters;
  _Atomic uint64_t acquisitions, contended, wait_ns;
} shared_lock;

/* Written only by the thread whose tid it holds: claimed by CAS from 0 on
 * its first lock, cleared by the same thread as it exits (a thread key's
 * destructor), so that slots of ended threads are reused. */
typedef struct thread_slot {
  _Alignas(64) _Atomic int tid;
  _Atomic int wants; /* lock id + 1; 0: none */
  _Atomic unsigned holds;
  _Atomic uint64_t wait_since_ns;
  _Atomic uint64_t wait_ns; /* finished waits */
} thread_slot;

static pthread_once_t once = PTHREAD_ONCE_INIT;
/* Set once (under `once`), then read-only: the counter's page. */
static uint64_t *counter;
static bool counter_fixed;
static _Atomic uint64_t increments;
static _Atomic uint64_t running;
static _Atomic uint64_t deadlock_turn; /* alternates the deadlock's order */
static _Atomic bool abandon;
static shared_lock locks[TL_SHARED_LOCKS] = {{.mu = PTHREAD_MUTEX_INITIALIZER},
                                             {.mu = PTHREAD_MUTEX_INITIALIZER},
                                             {.mu = PTHREAD_MUTEX_INITIALIZER}};
static thread_slot slots[TL_SHARED_MAX_THREADS];
/* Set once by a fleet worker's main loop (tl_shared_set_stuck_flag). */
static _Atomic(_Atomic uint64_t *) stuck_flag;
static _Thread_local thread_slot *my_slot;
/* Created once (under `once`): its destructor frees a thread's slot. */
static pthread_key_t slot_key;

static void map_counter(void) {
  long pg = sysconf(_SC_PAGESIZE);
  /* The system call, not libc's mmap: TSan's interceptor drops the address
   * of a mapping without MAP_FIXED (and MAP_FIXED would replace whatever is
   * there). The address is application memory for the sanitizers. */
  void *p = (void *) syscall(SYS_mmap, (uintptr_t) TL_SHARED_COUNTER_ADDR,
                             (size_t) pg, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                             -1, 0);
  counter_fixed =
      p != MAP_FAILED && (uintptr_t) p == (uintptr_t) TL_SHARED_COUNTER_ADDR;
  if (p != MAP_FAILED && !counter_fixed) /* an old kernel ignored the flag */
    munmap(p, (size_t) pg);
  if (!counter_fixed) {
    p = mmap(NULL, (size_t) pg, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      perror("threadlab: mmap of the shared counter");
      abort();
    }
  }
  counter = p;
  /* A write, so that the page is present (pagemap shows a frame). */
  __atomic_store_n(counter, 0, __ATOMIC_RELAXED);
}

/* The exiting thread itself (a thread key's destructor): its figures go
 * back to zero before its tid does, so whoever claims the slot next (CAS
 * on tid) starts clean and a reader never sees another thread's waits
 * under the new tid. Its locks are released: a thread that exits holds
 * none (lock_take/lock_give pair up in every step). */
static void slot_release(void *p) {
  thread_slot *sl = p;
  atomic_store_explicit(&sl->wants, 0, memory_order_relaxed);
  atomic_store_explicit(&sl->holds, 0, memory_order_relaxed);
  atomic_store_explicit(&sl->wait_since_ns, 0, memory_order_relaxed);
  atomic_store_explicit(&sl->wait_ns, 0, memory_order_relaxed);
  atomic_store_explicit(&sl->tid, 0, memory_order_release);
  my_slot = NULL;
}

static void init_once(void) {
  map_counter();
  if (pthread_key_create(&slot_key, slot_release) != 0) {
    perror("threadlab: pthread_key_create for the lock slots");
    abort();
  }
}

static void init(void) { pthread_once(&once, init_once); }

static int my_tid(void) {
  tl_thread_ctx *self = tl_thread_self();
  return self ? self->tid : (int) gettid();
}

/* The calling thread's slot (claimed on first use), NULL if all are taken:
 * its locks then still work, unseen by the deadlock finder. */
static thread_slot *slot_self(void) {
  int tid = my_tid();
  if (my_slot &&
      atomic_load_explicit(&my_slot->tid, memory_order_relaxed) == tid)
    return my_slot;
  for (int i = 0; i < TL_SHARED_MAX_THREADS; i++) /* a reused tid */
    if (atomic_load_explicit(&slots[i].tid, memory_order_relaxed) == tid)
      return my_slot = &slots[i];
  for (int i = 0; i < TL_SHARED_MAX_THREADS; i++) {
    int free_tid = 0;
    if (atomic_compare_exchange_strong(&slots[i].tid, &free_tid, tid)) {
      my_slot = &slots[i];
      pthread_setspecific(slot_key, my_slot); /* freed when it exits */
      return my_slot;
    }
  }
  return NULL;
}

static bool in_cycle(const tl_shared_read *r, const tl_deadlock_cycle *c,
                     int tid) {
  for (int k = 0; k < c->len; k++)
    if (r->threads[c->node[k]].tid == tid)
      return true;
  return false;
}

/* A fleet worker's waiting thread, on a timeout: is it in a deadlock? If
 * so (confirmed by a second read), say so once in the scoreboard. */
static void report_if_stuck(int tid) {
  _Atomic uint64_t *flag = atomic_load(&stuck_flag);
  if (!flag || atomic_load_explicit(flag, memory_order_relaxed) != 0)
    return;
  /* Off the stack: a coroutine's stack may be small. */
  tl_shared_read *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
  tl_wait_node *nodes = malloc(sizeof(*nodes) * TL_SHARED_MAX_THREADS);
  tl_deadlock_cycle cyc[4];
  if (a && b && nodes) {
    tl_shared_read_all(a, tl_now_ns());
    for (int i = 0; i < a->nthreads; i++)
      nodes[i] = (tl_wait_node){a->threads[i].tid, a->threads[i].holds,
                                a->threads[i].wants};
    int n = tl_deadlock_find(nodes, a->nthreads, cyc, 4);
    bool stuck = false;
    if (n > 0)
      tl_shared_read_all(b, tl_now_ns());
    for (int i = 0; i < n && i < 4 && !stuck; i++)
      stuck =
          in_cycle(a, &cyc[i], tid) && tl_shared_cycle_confirmed(a, b, &cyc[i]);
    uint64_t zero = 0;
    if (stuck)
      atomic_compare_exchange_strong(flag, &zero, tl_now_ns());
  }
  free(a);
  free(b);
  free(nodes);
}

/* The wrapper every lock goes through. Returns false only when the wait
 * was abandoned at shutdown. */
static bool lock_take(int id, thread_slot *me, int tid) {
  shared_lock *l = &locks[id];
  if (pthread_mutex_trylock(&l->mu) != 0) {
    uint64_t t0 = tl_now_ns();
    atomic_fetch_add_explicit(&l->contended, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&l->waiters, 1, memory_order_relaxed);
    if (me) {
      atomic_store_explicit(&me->wait_since_ns, t0, memory_order_release);
      atomic_store_explicit(&me->wants, id + 1, memory_order_release);
    }
    bool got = false;
    /* Sleeps in the kernel on the mutex; wakes twice a second only to see
     * whether the server is shutting down. */
    while (!got && !atomic_load_explicit(&abandon, memory_order_relaxed)) {
      struct timespec until;
      clock_gettime(CLOCK_REALTIME, &until);
      until.tv_nsec += 500000000L;
      if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
      }
      got = pthread_mutex_timedlock(&l->mu, &until) == 0;
      if (!got)
        report_if_stuck(tid);
    }
    uint64_t waited = tl_now_ns() - t0;
    atomic_fetch_sub_explicit(&l->waiters, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&l->wait_ns, waited, memory_order_relaxed);
    if (me) { /* in this order, a reader undercounts, never twice */
      atomic_store_explicit(&me->wants, 0, memory_order_release);
      atomic_fetch_add_explicit(&me->wait_ns, waited, memory_order_relaxed);
    }
    if (!got)
      return false;
  }
  atomic_store_explicit(&l->holder_tid, tid, memory_order_relaxed);
  atomic_fetch_add_explicit(&l->acquisitions, 1, memory_order_relaxed);
  if (me)
    atomic_fetch_or_explicit(&me->holds, 1u << id, memory_order_release);
  return true;
}

static void lock_give(int id, thread_slot *me) {
  shared_lock *l = &locks[id];
  if (me)
    atomic_fetch_and_explicit(&me->holds, ~(1u << id), memory_order_release);
  atomic_store_explicit(&l->holder_tid, 0, memory_order_relaxed);
  pthread_mutex_unlock(&l->mu);
}

/* THE RACE, on purpose. Two threads running this at once read the same
 * value and both write it plus one, so increments are lost: that loss is
 * what the step exists to show. The sanitizers are told not to instrument
 * this one function (and nothing else): TSan would report the intended
 * race and stop the server, and ASan has nothing to find in a plain load
 * and store of a page we mapped. Volatile keeps each increment a separate
 * load and store (no register-held loop, no single add of n). */
__attribute__((noinline, no_sanitize("thread", "address"))) static void
race_increments(volatile uint64_t *c, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    uint64_t v = *c;
    *c = v + 1;
  }
}

static void run_counted(int kind, uint32_t n, thread_slot *me, int tid,
                        bool *ok) {
  for (uint32_t done = 0; done < n && *ok;) {
    uint32_t k = n - done < CHUNK ? n - done : CHUNK;
    atomic_fetch_add_explicit(&increments, k, memory_order_relaxed);
    if (kind == TL_STEP_RACE) {
      race_increments(counter, k);
    } else if (kind == TL_STEP_ATOMIC) {
      for (uint32_t i = 0; i < k; i++)
        __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
    } else {
      /* The same read-modify-write as race, made safe by lock 0 (the
       * accesses are atomic only so that TSan can follow them). */
      for (uint32_t i = 0; i < k; i++) {
        if (!lock_take(0, me, tid)) {
          /* Counted ahead but never done: not lost, so uncount it. */
          atomic_fetch_sub_explicit(&increments, k - i, memory_order_relaxed);
          *ok = false;
          break;
        }
        uint64_t v = __atomic_load_n(counter, __ATOMIC_RELAXED);
        __atomic_store_n(counter, v + 1, __ATOMIC_RELAXED);
        lock_give(0, me);
      }
    }
    done += k;
  }
}

static void sleep_ms(uint32_t ms) {
  struct timespec ts = {.tv_sec = ms / 1000,
                        .tv_nsec = (long) (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

/* Lock 1 then 2, or 2 then 1 on alternate tasks, with a pause between: two
 * such steps at once on two threads wait for each other for ever. */
static bool deadlock_step(thread_slot *me, int tid) {
  bool odd =
      atomic_fetch_add_explicit(&deadlock_turn, 1, memory_order_relaxed) & 1;
  int first = odd ? 2 : 1, second = odd ? 1 : 2;
  if (!lock_take(first, me, tid))
    return false;
  sleep_ms(TL_SHARED_DEADLOCK_PAUSE_MS);
  if (!lock_take(second, me, tid)) {
    lock_give(first, me);
    return false;
  }
  lock_give(second, me);
  lock_give(first, me);
  return true;
}

bool tl_shared_run_step(const tl_step_spec *s, uint64_t (*burn)(uint32_t ms)) {
  init();
  thread_slot *me = slot_self();
  int tid = my_tid();
  bool ok = true;
  atomic_fetch_add_explicit(&running, 1, memory_order_relaxed);
  switch (s->kind) {
  case TL_STEP_RACE:
  case TL_STEP_ATOMIC:
  case TL_STEP_LOCK: run_counted(s->kind, s->ms, me, tid, &ok); break;
  case TL_STEP_HOLD:
    if ((ok = lock_take(0, me, tid))) {
      burn(s->ms);
      lock_give(0, me);
    }
    break;
  case TL_STEP_DEADLOCK: ok = deadlock_step(me, tid); break;
  default: break;
  }
  atomic_fetch_sub_explicit(&running, 1, memory_order_relaxed);
  return ok;
}

uint64_t tl_shared_counter_value(uintptr_t *addr) {
  init();
  *addr = (uintptr_t) counter;
  return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

void tl_shared_set_stuck_flag(_Atomic uint64_t *flag) {
  atomic_store(&stuck_flag, flag);
}

bool tl_shared_cycle_confirmed(const tl_shared_read *a, const tl_shared_read *b,
                               const tl_deadlock_cycle *c) {
  for (int k = 0; k < c->len; k++) {
    const tl_shared_thread_read *x = &a->threads[c->node[k]];
    bool same = false;
    for (int j = 0; j < b->nthreads && !same; j++) {
      const tl_shared_thread_read *y = &b->threads[j];
      same = y->tid == x->tid && y->wants == x->wants && y->holds == x->holds &&
             y->wait_since_ns == x->wait_since_ns;
    }
    if (!same)
      return false;
  }
  return true;
}

bool tl_shared_counter_page(uint64_t *pfn) {
  init();
  long pg = sysconf(_SC_PAGESIZE);
  int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  uint64_t e = 0;
  ssize_t n = pread(fd, &e, sizeof(e),
                    (off_t) ((uintptr_t) counter / (uintptr_t) pg) * 8);
  close(fd);
  /* Bit 63: present; bits 0-54: the frame, zeroed for the unprivileged. */
  uint64_t frame = e & ((1ull << 55) - 1);
  if (n != (ssize_t) sizeof(e) || !(e >> 63) || frame == 0)
    return false;
  *pfn = frame;
  return true;
}

void tl_shared_abandon(void) {
  atomic_store_explicit(&abandon, true, memory_order_relaxed);
}

/* The slot's wait figures as one consistent pair: its start read before
 * and after `wants` (the owner stores the start, then `wants` with
 * release), so a `wants` of a later wait shows as a changed start. */
static void slot_read(thread_slot *sl, int tid, uint64_t now_ns,
                      tl_shared_thread_read *t) {
  uint64_t s1, s2;
  int w;
  int tries = 0;
  do {
    s1 = atomic_load_explicit(&sl->wait_since_ns, memory_order_acquire);
    w = atomic_load_explicit(&sl->wants, memory_order_acquire);
    s2 = atomic_load_explicit(&sl->wait_since_ns, memory_order_acquire);
  } while (s1 != s2 && ++tries < 8);
  t->tid = tid;
  t->wants = s1 == s2 ? w - 1 : -1;
  t->holds = atomic_load_explicit(&sl->holds, memory_order_acquire);
  t->wait_since_ns = s2;
  t->lock_wait_ns = atomic_load_explicit(&sl->wait_ns, memory_order_relaxed);
  if (t->wants >= 0 && now_ns > t->wait_since_ns)
    t->lock_wait_ns += now_ns - t->wait_since_ns;
}

bool tl_shared_thread_lock_state(int tid, uint64_t now_ns,
                                 tl_shared_thread_read *out) {
  for (int i = 0; i < TL_SHARED_MAX_THREADS && tid > 0; i++)
    if (atomic_load_explicit(&slots[i].tid, memory_order_relaxed) == tid) {
      slot_read(&slots[i], tid, now_ns, out);
      return true;
    }
  return false;
}

void tl_shared_read_all(tl_shared_read *out, uint64_t now_ns) {
  init();
  memset(out, 0, sizeof(*out));
  out->counter = __atomic_load_n(counter, __ATOMIC_RELAXED);
  out->increments = atomic_load_explicit(&increments, memory_order_relaxed);
  out->running = atomic_load_explicit(&running, memory_order_relaxed);
  out->counter_addr = (uintptr_t) counter;
  out->counter_fixed = counter_fixed;
  for (int i = 0; i < TL_SHARED_LOCKS; i++) {
    shared_lock *l = &locks[i];
    tl_shared_lock_read *r = &out->locks[i];
    r->holder_tid = atomic_load_explicit(&l->holder_tid, memory_order_relaxed);
    r->waiters = atomic_load_explicit(&l->waiters, memory_order_relaxed);
    r->acquisitions =
        atomic_load_explicit(&l->acquisitions, memory_order_relaxed);
    r->contended = atomic_load_explicit(&l->contended, memory_order_relaxed);
    r->wait_ns = atomic_load_explicit(&l->wait_ns, memory_order_relaxed);
    r->addr = (uintptr_t) &l->mu;
  }
  for (int i = 0; i < TL_SHARED_MAX_THREADS; i++) {
    thread_slot *sl = &slots[i];
    int tid = atomic_load_explicit(&sl->tid, memory_order_relaxed);
    if (tid == 0)
      continue;
    slot_read(sl, tid, now_ns, &out->threads[out->nthreads++]);
  }
}
