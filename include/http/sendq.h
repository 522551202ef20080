/* Batched sends over io_uring: while the loop flushes responses it queues
 * one sendmsg per connection, then submits them all with one system call.
 * Loop thread only. Without liburing at build time, or where the kernel
 * refuses io_uring, tl_sendq_init fails and callers write(2) as before. */
#ifndef TL_HTTP_SENDQ_H
#define TL_HTTP_SENDQ_H

#include <sys/uio.h>

typedef struct tl_sendq tl_sendq;

/* res: bytes the kernel took (possibly fewer than asked), or a negative
 * errno; -EAGAIN when the socket buffer was full. */
typedef void (*tl_sendq_done_cb)(void *tag, int res);

/* Sets up a ring for up to `cap` sends per submission (the caller keeps
 * count: at most cap tl_sendq_add between runs). Returns 0, or a
 * negative errno (-ENOSYS: built without liburing) with *why set to a
 * short static description. */
int tl_sendq_init(tl_sendq **out, unsigned cap, const char **why);
void tl_sendq_close(tl_sendq *q);
/* Queues a send of iov[0..n) on fd. iov must stay valid until
 * tl_sendq_run returns. */
void tl_sendq_add(tl_sendq *q, int fd, const struct iovec *iov, unsigned n,
                  void *tag);
/* Submits what is queued with one io_uring_enter and calls done() once per
 * send, in no particular order. Every send is MSG_DONTWAIT, so each has
 * completed when the submit returns: nothing is left in the kernel. */
void tl_sendq_run(tl_sendq *q, tl_sendq_done_cb done);

#endif
