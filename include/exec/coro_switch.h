/* A fiber: a stack of its own (mmap'ed, with a PROT_NONE guard page below
 * it) and a saved context, switched to and from in user space. Two ways to
 * switch, chosen per fiber at run time: our own x86-64 routine (saves only
 * what the SysV ABI says a callee must preserve: rbx, rbp, r12-r15, rsp,
 * MXCSR and the x87 control word; no system call) and glibc's ucontext
 * (portable; swapcontext also saves the signal mask, a system call per
 * switch). ASan and TSan builds are told about every switch and stack.
 *
 * A fiber is resumed by whichever thread holds it and runs on that thread
 * until it suspends; the next resume may come from another thread. So a
 * fiber never keeps a thread-local's address (errno, tl_thread_self())
 * across tl_coro_switch_suspend, which is not inlined, so that the compiler
 * cannot cache such an address across it (GCC bug 26461).
 *
 * Threads: init/destroy/resume on any thread that does not run a fiber;
 * tl_coro_switch_suspend only from inside the fiber itself. One thread at a time
 * owns a fiber (the hand-over between threads must synchronise, e.g. a
 * queue's mutex). */
#ifndef TL_EXEC_CORO_SWITCH_H
#define TL_EXEC_CORO_SWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum tl_switch_kind {
  TL_SWITCH_ASM = 0, /* our routine (x86-64 only) */
  TL_SWITCH_UCONTEXT /* glibc makecontext/swapcontext */
} tl_switch_kind;

#define TL_CORO_STACK_KIB_MIN 16
#define TL_CORO_STACK_KIB_MAX 8192

typedef struct tl_fiber tl_fiber;
typedef void (*tl_fiber_fn)(tl_fiber *f, void *arg);

struct tl_fiber {
  void *sp;        /* asm: the fiber's saved stack pointer */
  void *caller_sp; /* asm: the resumer's, while the fiber runs */
  void *uc;        /* ucontext: ucontext_t of the fiber */
  void *caller_uc; /* ucontext: of the resumer */
  char *map;       /* guard page + stack */
  size_t map_len;
  char *stack_lo; /* lowest usable byte (just above the guard) */
  size_t stack_size;
  tl_fiber_fn fn;
  void *arg;
  tl_switch_kind kind;
  bool finished; /* fn returned: resume no more, destroy */
  /* Sanitizer bookkeeping (unused in plain builds). */
  void *asan_fake; /* the fiber's fake stack while it is switched out */
  const void *caller_bottom;
  size_t caller_size;
  void *tsan_fiber, *tsan_caller;
};

/* True when this build has the asm routine. */
bool tl_switch_have_asm(void);
const char *tl_switch_name(tl_switch_kind k);
/* "asm" or "ucontext" (only those built); 0, or -1 if unknown. */
int tl_switch_parse(const char *s, tl_switch_kind *out);

/* Maps the stack (stack_bytes rounded up to pages, plus one guard page)
 * and prepares f to run fn(f, arg) at its first resume. 0 or -errno. */
int tl_coro_switch_init(tl_fiber *f, size_t stack_bytes, tl_switch_kind kind,
                        tl_fiber_fn fn, void *arg);
/* Gives the stack back (kept for reuse, up to a bound, else unmapped).
 * f must be finished or never resumed. */
void tl_coro_switch_close(tl_fiber *f);
/* Runs f on the calling thread until it suspends or finishes. */
void tl_coro_switch_resume(tl_fiber *f);
/* From inside f: back to the thread that resumed it. */
void tl_coro_switch_suspend(tl_fiber *f) __attribute__((noinline));

/* Median ns of one switch (resume or suspend) of a fiber ping-pong with
 * this kind, over `rounds` round trips. Any thread, no fiber running. */
uint64_t tl_switch_measure_ns(tl_switch_kind kind, int rounds);

#endif
