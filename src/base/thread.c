#include "config.h"

#include "base/thread.h"
#include "base/util.h"

#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static __thread tl_thread_ctx *self;

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

void tl_thread_record_step(tl_thread_ctx *ctx, const tl_step_event *ev) {
  uint64_t h = atomic_load_explicit(&ctx->ring_head, memory_order_relaxed);
  tl_ring_slot *s = &ctx->ring[h % TL_RING_SIZE];
  uint64_t meta = ((uint64_t) (ev->core & 0xffff) << 24) |
                  ((uint64_t) (ev->kind & 0xff) << 16) |
                  ((uint64_t) (ev->step & 0xff) << 8) |
                  (uint64_t) (ev->route & 0xff);
  atomic_store_explicit(&s->task, ev->task, memory_order_relaxed);
  atomic_store_explicit(&s->start_ns, ev->start_ns, memory_order_relaxed);
  atomic_store_explicit(&s->end_ns, ev->end_ns, memory_order_relaxed);
  atomic_store_explicit(&s->meta, meta, memory_order_relaxed);
  atomic_store_explicit(&ctx->ring_head, h + 1, memory_order_release);
}

int tl_thread_drain_steps(tl_thread_ctx *ctx, tl_step_event *out, int cap,
                          uint64_t *dropped) {
  uint64_t head = atomic_load_explicit(&ctx->ring_head, memory_order_acquire);
  uint64_t tail = ctx->ring_tail;
  if (head - tail > TL_RING_SIZE) {
    *dropped += head - tail - TL_RING_SIZE;
    tail = head - TL_RING_SIZE;
  }
  /* Keep only the newest `cap` if the caller has less room. */
  if (head - tail > (uint64_t) cap) {
    *dropped += head - tail - (uint64_t) cap;
    tail = head - (uint64_t) cap;
  }
  int n = 0;
  for (uint64_t i = tail; i < head; i++) {
    tl_ring_slot *s = &ctx->ring[i % TL_RING_SIZE];
    tl_step_event *e = &out[n];
    e->task = atomic_load_explicit(&s->task, memory_order_relaxed);
    e->start_ns = atomic_load_explicit(&s->start_ns, memory_order_relaxed);
    e->end_ns = atomic_load_explicit(&s->end_ns, memory_order_relaxed);
    uint64_t meta = atomic_load_explicit(&s->meta, memory_order_relaxed);
    e->core = (int) ((meta >> 24) & 0xffff);
    e->kind = (int) ((meta >> 16) & 0xff);
    e->step = (int) ((meta >> 8) & 0xff);
    e->route = (int) (meta & 0xff);
    n++;
  }
  /* The producer may have lapped us while we copied: drop what it reused,
   * including the slot it may be writing right now (index head2). */
  uint64_t head2 = atomic_load_explicit(&ctx->ring_head, memory_order_acquire);
  if (head2 + 1 - tail > TL_RING_SIZE) {
    uint64_t lost = head2 + 1 - tail - TL_RING_SIZE;
    if (lost > (uint64_t) n)
      lost = (uint64_t) n;
    memmove(out, out + lost, (size_t) ((uint64_t) n - lost) * sizeof(*out));
    n -= (int) lost;
    *dropped += lost;
  }
  ctx->ring_tail = head;
  return n;
}

void tl_registry_init(tl_registry *r) {
  pthread_mutex_init(&r->mu, NULL);
  r->head = NULL;
}

void tl_registry_destroy(tl_registry *r) { pthread_mutex_destroy(&r->mu); }

void tl_registry_add(tl_registry *r, tl_thread_ctx *ctx) {
  pthread_mutex_lock(&r->mu);
  ctx->next = r->head;
  r->head = ctx;
  pthread_mutex_unlock(&r->mu);
}

void tl_registry_remove(tl_registry *r, tl_thread_ctx *ctx) {
  pthread_mutex_lock(&r->mu);
  for (tl_thread_ctx **pp = &r->head; *pp; pp = &(*pp)->next) {
    if (*pp == ctx) {
      *pp = ctx->next;
      break;
    }
  }
  pthread_mutex_unlock(&r->mu);
}
