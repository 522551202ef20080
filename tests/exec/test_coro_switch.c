/* Unit tests: the fiber switch (asm and ucontext): ping-pong order, values
 * kept across switches (callee-saved registers, MXCSR, x87 control word),
 * a fiber resumed on another thread, the guard page faulting. */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tl_check.h"
#include "exec/coro_switch.h"

static int nkinds(tl_switch_kind *k) {
  int n = 0;
  if (tl_switch_have_asm())
    k[n++] = TL_SWITCH_ASM;
  k[n++] = TL_SWITCH_UCONTEXT;
  return n;
}

/* ---- ping-pong -------------------------------------------------------- */
typedef struct {
  int seen[8];
  int n;
} trace;

static void counter(tl_fiber *f, void *arg) {
  trace *tr = arg;
  int local = 1000; /* lives on the fiber's stack across suspensions */
  for (int i = 0; i < 4; i++) {
    tr->seen[tr->n++] = local + i;
    tl_coro_switch_suspend(f);
  }
}

START_TEST(ping_pong) {
  tl_switch_kind k[2];
  for (int j = 0, n = nkinds(k); j < n; j++) {
    tl_fiber f;
    trace tr = {.n = 0};
    ck_assert_int_eq(tl_coro_switch_init(&f, 64 * 1024, k[j], counter, &tr), 0);
    for (int i = 0; i < 4; i++) {
      tl_coro_switch_resume(&f);
      ck_assert_int_eq(tr.n, i + 1);
      ck_assert_int_eq(tr.seen[i], 1000 + i);
      ck_assert(!f.finished);
    }
    tl_coro_switch_resume(&f);
    ck_assert(f.finished);
    tl_coro_switch_close(&f);
  }
}
END_TEST

/* ---- callee-saved registers ------------------------------------------
 * around(fn, arg, marks): loads rbx, rbp, r12-r15 with marks[0..5], calls
 * fn(arg), then returns a bit per register that no longer holds its mark. */
#if defined(__x86_64__)
__asm__(".text\n"
        ".p2align 4\n"
        "around:\n"
        "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n"
        "  pushq %r13\n  pushq %r14\n  pushq %r15\n"
        "  pushq %rdx\n" /* marks; also aligns the stack for the call */
        "  movq %rdi, %rax\n"
        "  movq %rsi, %rdi\n"
        "  movq 0(%rdx), %rbx\n  movq 8(%rdx), %rbp\n"
        "  movq 16(%rdx), %r12\n  movq 24(%rdx), %r13\n"
        "  movq 32(%rdx), %r14\n  movq 40(%rdx), %r15\n"
        "  callq *%rax\n"
        "  movq (%rsp), %rdx\n"
        "  xorl %eax, %eax\n"
        "  cmpq 0(%rdx), %rbx\n  je 1f\n  orl $1, %eax\n1:\n"
        "  cmpq 8(%rdx), %rbp\n  je 2f\n  orl $2, %eax\n2:\n"
        "  cmpq 16(%rdx), %r12\n  je 3f\n  orl $4, %eax\n3:\n"
        "  cmpq 24(%rdx), %r13\n  je 4f\n  orl $8, %eax\n4:\n"
        "  cmpq 32(%rdx), %r14\n  je 5f\n  orl $16, %eax\n5:\n"
        "  cmpq 40(%rdx), %r15\n  je 6f\n  orl $32, %eax\n6:\n"
        "  addq $8, %rsp\n"
        "  popq %r15\n  popq %r14\n  popq %r13\n"
        "  popq %r12\n  popq %rbx\n  popq %rbp\n"
        "  ret\n");
int around(void (*fn)(void *), void *arg,
           const uint64_t *marks) __asm__("around");

static void do_suspend(void *f) { tl_coro_switch_suspend(f); }
static void do_resume(void *f) { tl_coro_switch_resume(f); }

static unsigned get_mxcsr(void) {
  unsigned v;
  __asm__ volatile("stmxcsr %0" : "=m"(v));
  return v;
}
static void set_mxcsr(unsigned v) { __asm__ volatile("ldmxcsr %0" : : "m"(v)); }
static unsigned short get_fpcw(void) {
  unsigned short v;
  __asm__ volatile("fnstcw %0" : "=m"(v));
  return v;
}
static void set_fpcw(unsigned short v) {
  __asm__ volatile("fldcw %0" : : "m"(v));
}

typedef struct {
  int bad_regs;
  unsigned mxcsr;
  unsigned short fpcw;
} reg_result;

static void reg_fiber(tl_fiber *f, void *arg) {
  reg_result *r = arg;
  static const uint64_t mine[6] = {
      0xf1f1f1f1f1f1f1f1ull, 0xf2f2f2f2f2f2f2f2ull, 0xf3f3f3f3f3f3f3f3ull,
      0xf4f4f4f4f4f4f4f4ull, 0xf5f5f5f5f5f5f5f5ull, 0xf6f6f6f6f6f6f6f6ull};
  /* Round toward zero in both units, on this fiber only. */
  set_mxcsr(get_mxcsr() | 0x6000);
  set_fpcw((unsigned short) (get_fpcw() | 0x0c00));
  r->bad_regs = around(do_suspend, f, mine);
  r->mxcsr = get_mxcsr();
  r->fpcw = get_fpcw();
}

START_TEST(registers_kept) {
  static const uint64_t ours[6] = {
      0x1111111111111111ull, 0x2222222222222222ull, 0x3333333333333333ull,
      0x4444444444444444ull, 0x5555555555555555ull, 0x6666666666666666ull};
  tl_switch_kind k[2];
  for (int j = 0, n = nkinds(k); j < n; j++) {
    tl_fiber f;
    reg_result r = {-1, 0, 0};
    unsigned mx0 = get_mxcsr();
    unsigned short cw0 = get_fpcw();
    ck_assert_int_eq(tl_coro_switch_init(&f, 64 * 1024, k[j], reg_fiber, &r),
                     0);
    /* The fiber changes its registers and rounding, then suspends: ours
     * must be as we left them. */
    ck_assert_int_eq(around(do_resume, &f, ours), 0);
    ck_assert_uint_eq(get_mxcsr(), mx0);
    ck_assert_uint_eq(get_fpcw(), cw0);
    /* And the fiber finds its own again. */
    ck_assert_int_eq(around(do_resume, &f, ours), 0);
    ck_assert(f.finished);
    ck_assert_int_eq(r.bad_regs, 0);
    ck_assert_uint_eq(r.mxcsr & 0x6000, 0x6000);
    ck_assert_uint_eq(r.fpcw & 0x0c00, 0x0c00);
    ck_assert_uint_eq(get_mxcsr(), mx0);
    tl_coro_switch_close(&f);
  }
}
END_TEST
#endif

/* ---- resumed on another thread --------------------------------------- */
typedef struct {
  pthread_t ran_on[3];
} hop;

/* pthread_self() is declared const, so GCC keeps its first value across
 * the suspension (GCC bug 26461's class): the fiber would claim to be on
 * the thread that started it. A call the compiler cannot see through (the
 * asm is opaque memory access) re-reads it. */
static pthread_t __attribute__((noinline)) current_thread(void) {
  __asm__ volatile("" ::: "memory");
  return pthread_self();
}

static void hopper(tl_fiber *f, void *arg) {
  hop *h = arg;
  for (int i = 0; i < 3; i++) {
    h->ran_on[i] = current_thread(); /* re-read after every resume */
    tl_coro_switch_suspend(f);
  }
}

static void *resume_once(void *f) {
  tl_coro_switch_resume(f);
  return NULL;
}

START_TEST(migrates) {
  tl_switch_kind k[2];
  for (int j = 0, n = nkinds(k); j < n; j++) {
    tl_fiber f;
    hop h;
    ck_assert_int_eq(tl_coro_switch_init(&f, 64 * 1024, k[j], hopper, &h), 0);
    tl_coro_switch_resume(&f);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, resume_once, &f), 0);
    pthread_join(th, NULL);
    ck_assert(pthread_equal(h.ran_on[0], pthread_self()));
    ck_assert(pthread_equal(h.ran_on[1], th));
    tl_coro_switch_resume(&f);
    tl_coro_switch_resume(&f);
    ck_assert(f.finished);
    tl_coro_switch_close(&f);
  }
}
END_TEST

/* ---- the guard page ---------------------------------------------------- */
static int __attribute__((noinline)) deep(int n) {
  volatile char buf[1024];
  buf[0] = (char) n;
  buf[1023] = 1;
  if (n == 0)
    return buf[0];
  return deep(n - 1) + buf[1023];
}

static void overflow(tl_fiber *f, void *arg) {
  (void) f;
  *(int *) arg = deep(1000); /* ~1 MiB on a 64 KiB stack */
}

START_TEST(guard_page_faults) {
  tl_switch_kind k[2];
  for (int j = 0, n = nkinds(k); j < n; j++) {
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
      tl_fiber f;
      int out = 0;
      if (tl_coro_switch_init(&f, 64 * 1024, k[j], overflow, &out) != 0)
        _exit(3);
      tl_coro_switch_resume(&f);
      _exit(42); /* not reached: the guard page faults */
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    /* A plain build dies of SIGSEGV; a sanitizer's handler reports the
     * overflow and exits non-zero. Either way it never got past. */
    ck_assert_msg(WIFSIGNALED(st) ||
                      (WIFEXITED(st) && WEXITSTATUS(st) != 42 &&
                       WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 3),
                  "overflow went unnoticed (status %d)", st);
    if (WIFSIGNALED(st))
      ck_assert(WTERMSIG(st) == SIGSEGV || WTERMSIG(st) == SIGBUS);
  }
}
END_TEST

START_TEST(bad_kind_names) {
  tl_switch_kind k;
  ck_assert_int_eq(tl_switch_parse("ucontext", &k), 0);
  ck_assert_int_eq(k, TL_SWITCH_UCONTEXT);
  ck_assert_int_eq(tl_switch_parse("asm", &k), tl_switch_have_asm() ? 0 : -1);
  ck_assert_int_eq(tl_switch_parse("fast", &k), -1);
  ck_assert_uint_gt(tl_switch_measure_ns(TL_SWITCH_UCONTEXT, 2000), 0);
}
END_TEST

#if defined(__x86_64__)
TL_CHECK_MAIN("coro_switch", ping_pong, registers_kept, migrates,
              guard_page_faults, bad_kind_names)
#else
TL_CHECK_MAIN("coro_switch", ping_pong, migrates, guard_page_faults,
              bad_kind_names)
#endif
