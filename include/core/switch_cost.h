/* What a kernel context switch costs, measured the way one usually is: two
 * threads pinned to one core hand a token back and forth through a futex,
 * so every hand-over is a switch. Main thread at start-up, while the
 * process has no other thread: the pair runs in a forked child, so its
 * switches never show in the server's own counters. */
#ifndef TL_CORE_SWITCH_COST_H
#define TL_CORE_SWITCH_COST_H

#include <stdint.h>

/* Median ns per switch over batches of round trips; 0 if it could not be
 * measured (no thread, no affinity). */
uint64_t tl_switch_cost_kernel_ns(int rounds);

/* Measures user-level (asm, ucontext) and kernel switches and hands the
 * figures to the coro module's statistics. */
void tl_switch_cost_measure(void);

#endif
