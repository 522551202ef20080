#include "config.h"

#include "base/thread.h"
#include "base/util.h"

#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static __thread tl_thread_ctx *self;
/* Written once by main() before any thread exists; read-only afterwards. */
static uint64_t main_start_ns;

void tl_thread_note_main_start(void) { main_start_ns = tl_now_ns(); }

uint64_t tl_thread_main_start_ns(void) { return main_start_ns; }

void tl_thread_ctx_set_birth(tl_thread_ctx *ctx, uint64_t created_ns,
                             uint64_t first_run_ns) {
  atomic_store_explicit(&ctx->created_ns, created_ns, memory_order_relaxed);
  atomic_store_explicit(&ctx->first_run_ns, first_run_ns, memory_order_relaxed);
}

const char *tl_role_name(tl_role r) {
  static const char *const n[] = {"loop", "worker", "observer", "libuv",
                                  "other"};
  return (unsigned) r <= TL_ROLE_OTHER ? n[r] : "other";
}

const char *tl_doing_name(tl_doing d) {
  static const char *const n[] = {"idle", "cpu", "io", "wait", "loop"};
  return (unsigned) d <= TL_DOING_LOOP ? n[d] : "idle";
}

void tl_thread_ctx_init(tl_thread_ctx *ctx, tl_role role, int index,
                        const char *label, const char *kernel_name) {
  memset(ctx, 0, sizeof(*ctx));
  ctx->tid = (int) syscall(SYS_gettid);
  ctx->role = role;
  ctx->index = index;
  snprintf(ctx->label, sizeof(ctx->label), "%s", label);
  /* The main thread: its creator is the exec'ing parent, which we cannot
   * ask (the sampler takes the kernel's start time); its first run is
   * main()'s. */
  if (ctx->tid == (int) getpid())
    atomic_store_explicit(&ctx->first_run_ns, main_start_ns,
                          memory_order_relaxed);
  if (kernel_name)
    pthread_setname_np(pthread_self(), kernel_name);
  self = ctx;
}

tl_thread_ctx *tl_thread_self(void) { return self; }

void tl_thread_set_doing(tl_thread_ctx *ctx, tl_doing what, uint64_t task,
                         int step) {
  uint64_t v = ((uint64_t) what << 56) | ((uint64_t) (step & 0xff) << 48) |
               (task & 0xffffffffffffull);
  atomic_store_explicit(&ctx->doing, v, memory_order_relaxed);
  atomic_store_explicit(&ctx->doing_since_ns, tl_now_ns(),
                        memory_order_relaxed);
}

/* A seqlock per slot rather than one re-check of the head after copying:
 * the slot's seq says which event it holds and whether it is complete, so
 * each event is validated on its own and none is dropped by lap
 * arithmetic. No standalone fences: TSan cannot model them (GCC rejects
 * them under -fsanitize=thread), so the fields themselves are stored with
 * release and loaded with acquire. On x86 all of it is plain moves.
 *
 * Why it is enough: if the consumer's (acquire) load of a field reads a
 * value from a later rewrite, that (release) store comes after the
 * rewrite's odd seq, so the consumer's re-read of seq sees it, or later,
 * and drops the event. Reading the even seq first (acquire) makes all
 * fields of that event visible, so an accepted event is whole. */
void tl_thread_record_step(tl_thread_ctx *ctx, const tl_step_event *ev) {
  uint64_t h = atomic_load_explicit(&ctx->ring_head, memory_order_relaxed);
  tl_ring_slot *s = &ctx->ring[h % TL_RING_SIZE];
  uint64_t meta = ((uint64_t) (ev->core & 0xffff) << 24) |
                  ((uint64_t) (ev->kind & 0xff) << 16) |
                  ((uint64_t) (ev->step & 0xff) << 8) |
                  (uint64_t) (ev->route & 0xff);
  atomic_store_explicit(&s->seq, 2 * h + 1, memory_order_relaxed);
  atomic_store_explicit(&s->task, ev->task, memory_order_release);
  atomic_store_explicit(&s->start_ns, ev->start_ns, memory_order_release);
  atomic_store_explicit(&s->end_ns, ev->end_ns, memory_order_release);
  atomic_store_explicit(&s->meta, meta, memory_order_release);
  atomic_store_explicit(&s->cpu_ns, ev->cpu_ns, memory_order_release);
  atomic_store_explicit(&s->coro, ev->coro, memory_order_release);
  atomic_store_explicit(&s->stack, ev->stack, memory_order_release);
  atomic_store_explicit(&s->seq, 2 * h + 2, memory_order_release);
  /* Seeing head > h implies seeing seq 2h+2 (release after it). */
  atomic_store_explicit(&ctx->ring_head, h + 1, memory_order_release);
}

/* Copies the event with ring index i out of its slot; false if the slot
 * does not hold that complete event (overwritten, or being rewritten). */
static bool read_slot(tl_thread_ctx *ctx, uint64_t i, tl_step_event *e) {
  tl_ring_slot *s = &ctx->ring[i % TL_RING_SIZE];
  uint64_t want = 2 * i + 2;
  if (atomic_load_explicit(&s->seq, memory_order_acquire) != want)
    return false;
  e->task = atomic_load_explicit(&s->task, memory_order_acquire);
  e->start_ns = atomic_load_explicit(&s->start_ns, memory_order_acquire);
  e->end_ns = atomic_load_explicit(&s->end_ns, memory_order_acquire);
  uint64_t meta = atomic_load_explicit(&s->meta, memory_order_acquire);
  e->cpu_ns = atomic_load_explicit(&s->cpu_ns, memory_order_acquire);
  e->coro = atomic_load_explicit(&s->coro, memory_order_acquire);
  e->stack = atomic_load_explicit(&s->stack, memory_order_acquire);
  if (atomic_load_explicit(&s->seq, memory_order_relaxed) != want)
    return false;
  e->core = (int) ((meta >> 24) & 0xffff);
  e->kind = (int) ((meta >> 16) & 0xff);
  e->step = (int) ((meta >> 8) & 0xff);
  e->route = (int) (meta & 0xff);
  return true;
}

int tl_thread_drain_steps(tl_thread_ctx *ctx, tl_step_event *out, int cap,
                          uint64_t *dropped) {
  uint64_t head = atomic_load_explicit(&ctx->ring_head, memory_order_acquire);
  uint64_t tail = ctx->ring_tail;
  /* Older than the newest TL_RING_SIZE are overwritten for sure; older
   * than the newest cap have no room. Neither is worth reading. */
  uint64_t keep = cap <= 0 ? 0 : (uint64_t) cap;
  if (keep > TL_RING_SIZE)
    keep = TL_RING_SIZE;
  if (head - tail > keep) {
    *dropped += head - tail - keep;
    tail = head - keep;
  }
  int n = 0;
  for (uint64_t i = tail; i < head; i++) {
    if (read_slot(ctx, i, &out[n]))
      n++;
    else
      (*dropped)++;
  }
  ctx->ring_tail = head;
  return n;
}

void tl_registry_init(tl_registry *r) {
  pthread_mutex_init(&r->mu, NULL);
  r->head = NULL;
  r->gen = 0;
}

void tl_registry_close(tl_registry *r) { pthread_mutex_destroy(&r->mu); }

void tl_registry_add(tl_registry *r, tl_thread_ctx *ctx) {
  pthread_mutex_lock(&r->mu);
  ctx->next = r->head;
  r->head = ctx;
  r->gen++;
  pthread_mutex_unlock(&r->mu);
}

void tl_registry_remove(tl_registry *r, tl_thread_ctx *ctx) {
  pthread_mutex_lock(&r->mu);
  for (tl_thread_ctx **pp = &r->head; *pp; pp = &(*pp)->next) {
    if (*pp == ctx) {
      *pp = ctx->next;
      r->gen++;
      break;
    }
  }
  pthread_mutex_unlock(&r->mu);
}
