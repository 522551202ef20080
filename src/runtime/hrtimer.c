#include "config.h"

#include "runtime/hrtimer.h"
#include "base/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

struct tl_hrtimer {
  uv_poll_t poll; /* first: the close callback frees us */
  int fd;
  uint64_t armed_ns;       /* deadline the timerfd is set to; 0: disarmed */
  tl_hrtimer_entry **heap; /* min-heap on due_ns */
  unsigned n, cap;
  _Atomic uint64_t *count_out; /* where n is published, or NULL */
};

/* The number armed is what a loop holds in flight on its timers. */
static void publish(tl_hrtimer *h) {
  if (h->count_out)
    atomic_store_explicit(h->count_out, h->n, memory_order_relaxed);
}

void tl_hrtimer_publish_count(tl_hrtimer *h, _Atomic uint64_t *out) {
  h->count_out = out;
  publish(h);
}

static bool before(const tl_hrtimer_entry *a, const tl_hrtimer_entry *b) {
  return a->due_ns < b->due_ns;
}

static void place(tl_hrtimer *h, unsigned i, tl_hrtimer_entry *e) {
  h->heap[i] = e;
  e->idx = i + 1;
}

static void sift_up(tl_hrtimer *h, unsigned i) {
  tl_hrtimer_entry *e = h->heap[i];
  while (i > 0) {
    unsigned parent = (i - 1) / 2;
    if (!before(e, h->heap[parent]))
      break;
    place(h, i, h->heap[parent]);
    i = parent;
  }
  place(h, i, e);
}

static void sift_down(tl_hrtimer *h, unsigned i) {
  tl_hrtimer_entry *e = h->heap[i];
  for (;;) {
    unsigned c = 2 * i + 1;
    if (c >= h->n)
      break;
    if (c + 1 < h->n && before(h->heap[c + 1], h->heap[c]))
      c++;
    if (!before(h->heap[c], e))
      break;
    place(h, i, h->heap[c]);
    i = c;
  }
  place(h, i, e);
}

static void heap_remove(tl_hrtimer *h, tl_hrtimer_entry *e) {
  unsigned i = e->idx - 1;
  e->idx = 0;
  tl_hrtimer_entry *last = h->heap[--h->n];
  publish(h);
  if (i == h->n)
    return;
  place(h, i, last);
  if (i > 0 && before(last, h->heap[(i - 1) / 2]))
    sift_up(h, i);
  else
    sift_down(h, i);
}

/* Points the timerfd at the earliest deadline, if that changed. */
static void rearm(tl_hrtimer *h) {
  uint64_t due = h->n ? h->heap[0]->due_ns : 0;
  if (due == h->armed_ns)
    return;
  struct itimerspec its;
  memset(&its, 0, sizeof(its));
  if (due) {
    its.it_value.tv_sec = (time_t) (due / 1000000000u);
    its.it_value.tv_nsec = (long) (due % 1000000000u);
  }
  /* Cannot fail for a valid fd and an in-range absolute time. */
  (void) timerfd_settime(h->fd, due ? TFD_TIMER_ABSTIME : 0, &its, NULL);
  h->armed_ns = due;
}

static void on_ready(uv_poll_t *p, int status, int events) {
  tl_hrtimer *h = (tl_hrtimer *) p;
  uint64_t ticks;
  (void) status;
  (void) events;
  /* Drain the expiry count; EAGAIN when re-armed after it fired. */
  if (read(h->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
    return;
  h->armed_ns = 0; /* a one-shot that fired (or was spurious) is disarmed */
  uint64_t now = tl_now_ns();
  while (h->n && h->heap[0]->due_ns <= now) {
    tl_hrtimer_entry *e = h->heap[0];
    heap_remove(h, e);
    e->cb(e); /* may start timers: they join the heap */
  }
  rearm(h);
}

int tl_hrtimer_init(tl_hrtimer **out, uv_loop_t *loop) {
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0)
    return -errno;
  tl_hrtimer *h = tl_xcalloc(1, sizeof(*h));
  h->fd = fd;
  uv_poll_init(loop, &h->poll, fd);
  uv_poll_start(&h->poll, UV_READABLE, on_ready);
  *out = h;
  return 0;
}

static void on_closed(uv_handle_t *handle) {
  tl_hrtimer *h = (tl_hrtimer *) handle;
  close(h->fd);
  free(h->heap);
  free(h);
}

void tl_hrtimer_close(tl_hrtimer *h) {
  if (!h)
    return;
  /* Disarm every entry now: their owners may be freed before on_closed. */
  for (unsigned i = 0; i < h->n; i++)
    h->heap[i]->idx = 0;
  h->n = 0;
  publish(h);
  uv_close((uv_handle_t *) &h->poll, on_closed);
}

void tl_hrtimer_start(tl_hrtimer *h, tl_hrtimer_entry *e, uint64_t due_ns,
                      void (*cb)(tl_hrtimer_entry *e)) {
  if (e->idx)
    heap_remove(h, e);
  if (h->n == h->cap) {
    h->cap = h->cap ? 2 * h->cap : 64;
    h->heap = tl_xrealloc(h->heap, h->cap * sizeof(*h->heap));
  }
  e->due_ns = due_ns ? due_ns : 1; /* 0 would mean "disarmed" to rearm() */
  e->cb = cb;
  h->heap[h->n] = e;
  sift_up(h, h->n++);
  publish(h);
  if (e->idx == 1)
    rearm(h);
}

void tl_hrtimer_stop(tl_hrtimer *h, tl_hrtimer_entry *e) {
  if (!e->idx)
    return;
  heap_remove(h, e);
  rearm(h);
}
