#include "config.h"

#include "exec/coro_switch.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "base/util.h"

/* ---- sanitizers: every switch and stack announced --------------------- */
#if defined(__SANITIZE_ADDRESS__)
#define TL_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define TL_TSAN 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TL_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define TL_TSAN 1
#endif
#endif

#ifdef TL_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define ASAN_START(save, bottom, size)                                         \
  __sanitizer_start_switch_fiber((save), (bottom), (size))
#define ASAN_FINISH(save, bottom, size)                                        \
  __sanitizer_finish_switch_fiber((save), (bottom), (size))
#else
#define ASAN_START(save, bottom, size)                                         \
  ((void) (save), (void) (bottom), (void) (size))
#define ASAN_FINISH(save, bottom, size)                                        \
  ((void) (save), (void) (bottom), (void) (size))
#endif

#ifdef TL_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/* ---- the x86-64 SysV routine ------------------------------------------
 * tl_coro_swap(save, to): pushes what a callee must preserve (rbp, rbx,
 * r12-r15), then MXCSR and the x87 control word (also callee-saved control
 * state in the ABI: a fiber that changes rounding keeps it to itself),
 * stores rsp in *save, loads `to` and pops the same in reverse; `ret`
 * continues the other side. Caller-saved registers need no saving: the
 * call itself tells the compiler they are clobbered. No signal mask, so no
 * system call. A new fiber's frame returns into tl_coro_start, which calls
 * r13(r12) = fiber_entry(f) on a 16-byte aligned stack. */
#if defined(__x86_64__)
#define TL_HAVE_ASM 1
__asm__(".text\n"
        ".p2align 4\n"
        ".type tl_coro_swap,@function\n"
        "tl_coro_swap:\n"
        "  pushq %rbp\n"
        "  pushq %rbx\n"
        "  pushq %r12\n"
        "  pushq %r13\n"
        "  pushq %r14\n"
        "  pushq %r15\n"
        "  subq $8, %rsp\n"
        "  stmxcsr (%rsp)\n"
        "  fnstcw 4(%rsp)\n"
        "  movq %rsp, (%rdi)\n"
        "  movq %rsi, %rsp\n"
        "  ldmxcsr (%rsp)\n"
        "  fldcw 4(%rsp)\n"
        "  addq $8, %rsp\n"
        "  popq %r15\n"
        "  popq %r14\n"
        "  popq %r13\n"
        "  popq %r12\n"
        "  popq %rbx\n"
        "  popq %rbp\n"
        "  ret\n"
        ".size tl_coro_swap, .-tl_coro_swap\n"
        ".p2align 4\n"
        ".type tl_coro_start,@function\n"
        "tl_coro_start:\n"
        "  .cfi_startproc\n"
        "  .cfi_undefined rip\n" /* backtraces end here */
        "  movq %r12, %rdi\n"
        "  callq *%r13\n"
        "  ud2\n"
        "  .cfi_endproc\n"
        ".size tl_coro_start, .-tl_coro_start\n");
void tl_coro_swap(void **save, void *to) __asm__("tl_coro_swap");
void tl_coro_start(void) __asm__("tl_coro_start");
#endif

bool tl_switch_have_asm(void) {
#ifdef TL_HAVE_ASM
  return true;
#else
  return false;
#endif
}

const char *tl_switch_name(tl_switch_kind k) {
  return k == TL_SWITCH_ASM ? "asm" : "ucontext";
}

int tl_switch_parse(const char *s, tl_switch_kind *out) {
  if (strcmp(s, "asm") == 0 && tl_switch_have_asm()) {
    *out = TL_SWITCH_ASM;
    return 0;
  }
  if (strcmp(s, "ucontext") == 0) {
    *out = TL_SWITCH_UCONTEXT;
    return 0;
  }
  return -1;
}

/* ---- the raw switch, both ways ---------------------------------------- */
static void raw_to_fiber(tl_fiber *f) {
#ifdef TL_HAVE_ASM
  if (f->kind == TL_SWITCH_ASM) {
    tl_coro_swap(&f->caller_sp, f->sp);
    return;
  }
#endif
  swapcontext(f->caller_uc, f->uc);
}

static void raw_to_caller(tl_fiber *f) {
#ifdef TL_HAVE_ASM
  if (f->kind == TL_SWITCH_ASM) {
    tl_coro_swap(&f->sp, f->caller_sp);
    return;
  }
#endif
  swapcontext(f->uc, f->caller_uc);
}

/* First code on the fiber's stack. */
static void fiber_entry(tl_fiber *f) {
  ASAN_FINISH(NULL, &f->caller_bottom, &f->caller_size);
  f->fn(f, f->arg);
  f->finished = true;
  /* NULL: the fiber's fake stack can go, it never comes back. */
  ASAN_START(NULL, f->caller_bottom, f->caller_size);
#ifdef TL_TSAN
  __tsan_switch_to_fiber(f->tsan_caller, 0);
#endif
  raw_to_caller(f);
  abort(); /* a finished fiber is never resumed */
}

static void uc_entry(unsigned hi, unsigned lo) {
  fiber_entry((tl_fiber *) (((uintptr_t) hi << 32) | (uintptr_t) lo));
}

/* Stacks of ended fibers, kept for the next ones: mmap + mprotect +
 * munmap per task would be three system calls, and munmap in a process
 * whose threads run on other cores costs TLB shoot-downs. Bounded, so idle
 * memory stays small (a kept stack holds the few pages it touched). Any
 * thread, under cache_mu. */
#define STACK_CACHE_MAX 1024
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
  char *map;
  size_t len;
} cache[STACK_CACHE_MAX];
static int ncache;

static void *stack_get(size_t len) {
  void *m = NULL;
  pthread_mutex_lock(&cache_mu);
  for (int i = ncache - 1; i >= 0; i--) {
    if (cache[i].len == len) {
      m = cache[i].map;
      cache[i] = cache[--ncache];
      break;
    }
  }
  pthread_mutex_unlock(&cache_mu);
  return m;
}

static bool stack_put(char *map, size_t len) {
  bool kept = false;
  pthread_mutex_lock(&cache_mu);
  if (ncache < STACK_CACHE_MAX) {
    cache[ncache].map = map;
    cache[ncache].len = len;
    ncache++;
    kept = true;
  }
  pthread_mutex_unlock(&cache_mu);
  return kept;
}

static void *stack_map(size_t len, size_t page) {
  void *m = stack_get(len);
  if (m) {
#ifdef TL_ASAN
    /* Frames of the fiber that ended here may have left poisoned shadow. */
    ASAN_UNPOISON_MEMORY_REGION((char *) m + page, len - page);
#endif
    return m;
  }
  m = mmap(NULL, len, PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (m == MAP_FAILED) {
    errno = errno ? errno : ENOMEM;
    return NULL;
  }
  /* The guard: a stack overflow faults instead of writing over whatever
   * lies below. */
  if (mprotect(m, page, PROT_NONE) != 0) {
    int e = errno;
    munmap(m, len);
    errno = e;
    return NULL;
  }
  return m;
}

int tl_coro_switch_init(tl_fiber *f, size_t stack_bytes, tl_switch_kind kind,
                        tl_fiber_fn fn, void *arg) {
  memset(f, 0, sizeof(*f));
  size_t page = (size_t) sysconf(_SC_PAGESIZE);
  size_t size = (stack_bytes + page - 1) / page * page;
  f->map_len = size + page;
  void *m = stack_map(f->map_len, page);
  if (m == NULL)
    return -errno;
  f->map = m;
  f->stack_lo = f->map + page;
  f->stack_size = size;
  f->fn = fn;
  f->arg = arg;
  f->kind = tl_switch_have_asm() ? kind : TL_SWITCH_UCONTEXT;
#ifdef TL_HAVE_ASM
  if (f->kind == TL_SWITCH_ASM) {
    uint64_t *sp = (uint64_t *) (f->stack_lo + size - 80);
    uint32_t mxcsr;
    uint16_t fpcw;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(fpcw));
    memcpy(&sp[0], &mxcsr, 4); /* what the creator uses */
    memcpy((char *) &sp[0] + 4, &fpcw, 2);
    sp[1] = sp[2] = 0;                          /* r15, r14 */
    sp[3] = (uint64_t) (uintptr_t) fiber_entry; /* r13 */
    sp[4] = (uint64_t) (uintptr_t) f;           /* r12 */
    sp[5] = sp[6] = 0;                          /* rbx, rbp */
    sp[7] = (uint64_t) (uintptr_t) tl_coro_start;
    f->sp = sp;
  }
#endif
  if (f->kind == TL_SWITCH_UCONTEXT) {
    ucontext_t *uc = tl_xcalloc(2, sizeof(ucontext_t));
    f->uc = &uc[0];
    f->caller_uc = &uc[1];
    getcontext(f->uc);
    uc[0].uc_stack.ss_sp = f->stack_lo;
    uc[0].uc_stack.ss_size = size;
    uc[0].uc_link = NULL;
    uintptr_t p = (uintptr_t) f;
    makecontext(f->uc, (void (*)(void)) uc_entry, 2, (unsigned) (p >> 32),
                (unsigned) (p & 0xffffffffu));
  }
#ifdef TL_TSAN
  f->tsan_fiber = __tsan_create_fiber(0);
#endif
  return 0;
}

void tl_coro_switch_close(tl_fiber *f) {
#ifdef TL_TSAN
  if (f->tsan_fiber)
    __tsan_destroy_fiber(f->tsan_fiber);
#endif
  if (f->map && !stack_put(f->map, f->map_len))
    munmap(f->map, f->map_len);
  free(f->uc); /* both contexts, one allocation */
  f->map = NULL;
  f->uc = f->caller_uc = NULL;
}

void tl_coro_switch_resume(tl_fiber *f) {
  void *fake = NULL;
  ASAN_START(&fake, f->stack_lo, f->stack_size);
#ifdef TL_TSAN
  f->tsan_caller = __tsan_get_current_fiber();
  __tsan_switch_to_fiber(f->tsan_fiber, 0);
#endif
  raw_to_fiber(f);
  ASAN_FINISH(fake, NULL, NULL);
}

void tl_coro_switch_suspend(tl_fiber *f) {
  ASAN_START(&f->asan_fake, f->caller_bottom, f->caller_size);
#ifdef TL_TSAN
  __tsan_switch_to_fiber(f->tsan_caller, 0);
#endif
  raw_to_caller(f);
  /* Possibly on another thread now: the resumer's stack is another one. */
  ASAN_FINISH(f->asan_fake, &f->caller_bottom, &f->caller_size);
}

/* ---- measuring a switch ----------------------------------------------- */
static void pingpong(tl_fiber *f, void *arg) {
  volatile bool *stop = arg;
  while (!*stop)
    tl_coro_switch_suspend(f);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
  return x < y ? -1 : x > y;
}

uint64_t tl_switch_measure_ns(tl_switch_kind kind, int rounds) {
  enum { BATCHES = 21 };
  tl_fiber f;
  volatile bool stop = false;
  if (tl_coro_switch_init(&f, 64 * 1024, kind, pingpong, (void *) &stop) != 0)
    return 0;
  int per = rounds / BATCHES > 0 ? rounds / BATCHES : 1;
  uint64_t ns[BATCHES];
  tl_coro_switch_resume(&f); /* warm up: the first entry */
  for (int b = 0; b < BATCHES; b++) {
    uint64_t t0 = tl_now_ns();
    for (int i = 0; i < per; i++)
      tl_coro_switch_resume(&f);
    ns[b] = (tl_now_ns() - t0) / (2u * (uint64_t) per);
  }
  stop = true;
  tl_coro_switch_resume(&f);
  tl_coro_switch_close(&f);
  qsort(ns, BATCHES, sizeof(ns[0]), cmp_u64);
  return ns[BATCHES / 2];
}
